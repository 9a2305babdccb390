"""Benchmark: ``ie.compare`` of two whole MAG L2 burst days (two versions differing by a calibration offset).

Writes two synthetic ``burst-gse`` days (``--rate`` vectors/s for 24 h, v001.0001 with an offset and v001.0002
without) into a temporary folder, then times ``ie.compare(old, new)``: metadata, the time axes, and each data
variable read once per file (through ``ie.load`` with dask chunks).

Run: ``python benchmarks/bench_compare.py [--rate 64] [--hours 24]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import imap_explorer as ie
from imap_explorer.synthetic.mag import write_mag_l2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=64)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        old = write_mag_l2(Path(tmp) / "imap_mag_l2_burst-gse_20260120_v001.0001.cdf", "2026-01-20", "burst-gse",
                           rate=args.rate, hours=args.hours, version="v001.0001", offset=(0.6, -0.4, 0.3))
        new = write_mag_l2(Path(tmp) / "imap_mag_l2_burst-gse_20260120_v001.0002.cdf", "2026-01-20", "burst-gse",
                           rate=args.rate, hours=args.hours, version="v001.0002")
        size = (old.stat().st_size + new.stat().st_size) / 2**20
        print(f"wrote two burst days ({args.rate} vectors/s, {args.hours:g} h, {size:.0f} MiB) in "
              f"{time.perf_counter() - t0:.1f} s")
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            report = ie.compare(old, new)
            times.append(time.perf_counter() - t0)
        b = next(v for v in report.variables if v.name == "b_gse")
        print(f"compare: {report.records_a} records each, b_gse {b.differ} values differ (max {b.max_abs_diff:.3g}); "
              f"best {min(times):.2f} s, median {sorted(times)[1]:.2f} s over 3 runs")


if __name__ == "__main__":
    main()
