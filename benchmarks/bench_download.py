"""Benchmark: bulk download through a LocalSDC, imap-explorer vs the official imap-data-access 1.3.0.

Measures, on loopback against a LocalSDC in another process (network latency ~0, so the figures show client
overhead, not the network; with real round trips to the SDC and S3, parallel workers matter far more):

* N files of S MiB: ``ie.download`` with 1 and 8 workers, and ``imap_data_access.download`` (serial);
* a second ``ie.download`` of the same files (everything present: no request);
* peak Python heap (tracemalloc) while fetching one large file: streamed to disk vs held in memory.

Run: ``python benchmarks/bench_download.py [--files 40] [--size-mib 2] [--big-mib 100]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import imap_explorer as ie
from imap_explorer.filenames import sdc_key

CDF_HEAD = bytes.fromhex("cdf30001 0000ffff")


def write_archive(root: Path, n: int, size: int) -> list[str]:
    names = []
    for i in range(n):
        day = i % 28 + 1
        month = i // 28 + 1
        name = f"imap_mag_l2_norm-gse_2026{month:02d}{day:02d}_v001.0001.cdf"
        path = root / sdc_key(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(CDF_HEAD + os.urandom(size - len(CDF_HEAD)))
        names.append(name)
    return names


class _Served:
    def __init__(self, url: str) -> None:
        self.url = url


@contextlib.contextmanager
def served(root: Path):
    """Run a LocalSDC in a separate process, so the server does not share the client's GIL."""
    code = ("import sys, time; from imap_explorer.server import LocalSDC\n"
            "with LocalSDC(sys.argv[1]) as sdc:\n    print(sdc.url, flush=True)\n    time.sleep(3600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        yield _Served(proc.stdout.readline().strip())
    finally:
        proc.terminate()
        proc.wait(10)


def timed(label: str, func, repeat: int = 1) -> float:
    """Best wall time of ``repeat`` runs (``func(i)`` gets the run number, for fresh destinations)."""
    best = float("inf")
    for i in range(repeat):
        start = time.perf_counter()
        func(i)
        best = min(best, time.perf_counter() - start)
    print(f"{label:<52s} {best:7.2f} s")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--size-mib", type=float, default=2.0)
    parser.add_argument("--big-mib", type=int, default=100)
    args = parser.parse_args()
    size = int(args.size_mib * 2**20)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        names = write_archive(tmp / "archive", args.files, size)
        big = "imap_swe_l2_sci_20260301_v001.0001.cdf"
        big_path = tmp / "archive" / sdc_key(big)
        big_path.parent.mkdir(parents=True, exist_ok=True)
        with open(big_path, "wb") as fh:
            fh.write(CDF_HEAD)
            for _ in range(args.big_mib):
                fh.write(os.urandom(2**20))
        total_mib = args.files * size / 2**20
        print(f"{args.files} files x {args.size_mib} MiB = {total_mib:.0f} MiB over loopback; big file "
              f"{args.big_mib} MiB")

        with served(tmp / "archive") as sdc:
            import imap_data_access

            imap_data_access.config["DATA_ACCESS_URL"] = sdc.url

            def official(i: int) -> None:
                imap_data_access.config["DATA_DIR"] = tmp / f"official{i}"
                for name in names:
                    imap_data_access.download(name)

            with ie.set_options(url=sdc.url):
                ie.download(names, data_dir=tmp / "warm-up", progress=False)  # server index and page cache warm
                for workers in (1, 8):
                    t = timed(f"imap-explorer download, max_workers={workers} (best of 3)",
                              lambda i, w=workers: ie.download(names, data_dir=tmp / f"ie{w}-{i}", max_workers=w,
                                                               progress=False), repeat=3)
                    print(f"{'':<52s} {total_mib / t:7.1f} MiB/s")
                timed("imap-explorer download again (all present)",
                      lambda i: ie.download(names, data_dir=tmp / "ie8-0", progress=False))
            t = timed("imap-data-access 1.3.0 download, serial (best of 3)", official, repeat=3)
            print(f"{'':<52s} {total_mib / t:7.1f} MiB/s")

            tracemalloc.start()
            with ie.set_options(url=sdc.url):
                ie.download(big, data_dir=tmp / "big-ie", progress=False)
            peak_ie = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            tracemalloc.start()
            imap_data_access.config["DATA_DIR"] = tmp / "big-official"
            imap_data_access.download(big)
            peak_official = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"peak Python heap fetching {args.big_mib} MiB: imap-explorer {peak_ie / 2**20:.1f} MiB, "
                  f"imap-data-access {peak_official / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
