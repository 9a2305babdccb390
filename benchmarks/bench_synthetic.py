"""Benchmark: build time and size of the synthetic archive and of the single-day writers.

Usage::

    /work/venv/bin/python benchmarks/bench_synthetic.py [--days 2 7] [--full-days]

Timed (wall clock and process CPU time, one run each, into a temporary directory):

* ``make_archive(days=N, seed=0)`` (all ten instruments) for each ``--days`` value: number of files, bytes on disk,
  then the bytes of each instrument; with ``--instruments`` only those instruments are written;
* with ``--full-days``: ``write_mag_l2`` of a full day of 128 Hz burst (11 059 200 vectors) and ``write_swe_l2``
  of a full SWE day (~1 404 records), the files the load/plot benchmarks use.

The machine is shared, so read wall-clock numbers with the CPU time next to them.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from imap_explorer.synthetic import make_archive, write_mag_l2, write_swe_l2


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.cdf"))


def _timed(label: str, func):
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return label, result, wall, cpu


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[2, 7])
    parser.add_argument("--full-days", action="store_true", help="also time the full-day benchmark writers")
    parser.add_argument("--instruments", nargs="+", default=None, help="write only these instruments")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for days in args.days:
            root = tmp / f"archive-{days}"
            label, paths, wall, cpu = _timed(f"make_archive(days={days})", lambda r=root, d=days: make_archive(
                r, days=d, seed=0, instruments=args.instruments))
            print(f"{label:38s} {wall:7.1f} s wall {cpu:7.1f} s CPU  {len(paths):4d} files "
                  f"{_size(root) / 1e6:8.1f} MB")
            for folder in sorted((root / "imap").iterdir()):
                n = sum(1 for _ in folder.rglob("*.cdf"))
                if n:
                    print(f"    {folder.name:10s} {n:4d} files {_size(folder) / 1e6:8.1f} MB")
        if args.full_days:
            for label, func in (
                ("write_mag_l2(burst-gse, 128 Hz, 24 h)",
                 lambda: write_mag_l2(tmp / "mag.cdf", "2026-01-20", "burst-gse", rate=128)),
                ("write_swe_l2(full day)", lambda: write_swe_l2(tmp / "swe.cdf", "2026-01-20")),
            ):
                label, path, wall, cpu = _timed(label, func)
                print(f"{label:38s} {wall:7.1f} s wall {cpu:7.1f} s CPU  {path.stat().st_size / 1e6:8.1f} MB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
