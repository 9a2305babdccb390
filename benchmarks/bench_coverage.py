"""Benchmark: ``ie.coverage`` of a year of every instrument, over real sockets against the embedded SDC.

The server's index is filled directly with a year of file rows (no CDF is written: ``/query`` answers from the
index alone), about 70 products of the ten instruments with one or two versions each day (repointing products
with one repointing a day), then ``ie.coverage(start_date, end_date)`` asks it over loopback: one chunked
``/query`` per instrument (4 chunks of 92 days each), 4 instruments at a time. Target: under 2 s.

Run: ``python benchmarks/bench_coverage.py [--days 365] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time

import imap_explorer as ie
from imap_explorer.server import LocalSDC
from imap_explorer.server.index import COLUMNS, row_from_name

#: Products per instrument (descriptor per level); repointing products get ``-repointNNNNN``.
PRODUCTS = {
    "codice": [("l1a", d) for d in ("lo-sw-priority", "lo-nsw-priority", "hi-direct-events", "lo-counters-aggregated")]
    + [("l2", d) for d in ("lo-sw-species", "lo-nsw-species", "hi-sectored", "hi-omni", "lo-direct-events",
                           "hi-direct-events")] + [("l3a", "lo-direct-events")],
    "glows": [("l1a", "hist"), ("l1b", "hist"), ("l2", "hist"), ("l3a", "hist")],
    "hi": [("l1a", "45sensor-de"), ("l1b", "45sensor-de"), ("l1c", "45sensor-pset"), ("l1c", "90sensor-pset")],
    "hit": [("l1a", "sci"), ("l1b", "sectored-rates"), ("l1b", "standard-rates"), ("l2", "macropixel-intensity"),
            ("l2", "summed-intensity")],
    "idex": [("l1a", "sci-1week"), ("l1b", "sci"), ("l2a", "sci")],
    "lo": [("l1a", "histogram"), ("l1a", "spin"), ("l1b", "histrates"), ("l1b", "de"), ("l1c", "pset")],
    "mag": [(level, f"norm-{s}") for level in ("l1a", "l1b", "l1c") for s in ("mago", "magi")]
    + [(level, f"burst-{s}") for level in ("l1a", "l1b") for s in ("mago", "magi")]
    + [("l1d", f"norm-{f}") for f in ("srf", "dsrf", "gse", "gsm", "rtn")]
    + [("l2", f"norm-{f}") for f in ("srf", "dsrf", "gse", "gsm", "rtn")],
    "swapi": [("l1", "sci"), ("l1", "hk"), ("l2", "sci"), ("l3a", "proton-sw"), ("l3a", "alpha-sw"),
              ("l3b", "combined")],
    "swe": [("l1a", "sci"), ("l1b", "sci"), ("l2", "sci"), ("l3", "sci")],
    "ultra": [("l1a", "45sensor-de"), ("l1b", "45sensor-de"), ("l1c", "45sensor-spacecraftpset"),
              ("l1c", "90sensor-spacecraftpset")],
}
REPOINTING = {("glows", "l2"), ("glows", "l3a"), ("hi", "l1c"), ("lo", "l1a"), ("lo", "l1b"), ("lo", "l1c"),
              ("ultra", "l1c")}


def names_for(days: int) -> list[str]:
    names = []
    start = dt.date(2026, 1, 1)
    for k in range(days):
        day = start + dt.timedelta(days=k)
        for instrument, products in PRODUCTS.items():
            for level, descriptor in products:
                suffix = f"-repoint{100 + k:05d}" if (instrument, level) in REPOINTING else ""
                versions = ["v001.0001", "v001.0002"] if k % 3 == 0 else ["v001.0001"]
                names += [f"imap_{instrument}_{level}_{descriptor}_{day:%Y%m%d}{suffix}_{v}.cdf" for v in versions]
    return names


def fill_index(sdc: LocalSDC, names: list[str]) -> None:
    rows = [row_from_name(ie.filenames.sdc_key(n), ingestion_date="2026-06-01 00:00:00", size=64) for n in names]
    with sdc.index.transaction() as conn:
        conn.executemany(f"INSERT INTO files ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                         [[r[c] for c in COLUMNS] for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    names = names_for(args.days)
    with tempfile.TemporaryDirectory() as tmp, LocalSDC(tmp) as sdc:
        t0 = time.perf_counter()
        fill_index(sdc, names)
        print(f"index: {len(names)} file rows ({sum(len(p) for p in PRODUCTS.values())} products, {args.days} days) "
              f"in {time.perf_counter() - t0:.2f} s")
        end = dt.date(2026, 1, 1) + dt.timedelta(days=args.days - 1)
        times = []
        with ie.set_options(url=sdc.url):
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                cov = ie.coverage(start_date="2026-01-01", end_date=end)
                times.append(time.perf_counter() - t0)
        filled = int(cov.notna().to_numpy().sum())
        print(f"coverage: {cov.shape[0]} days x {cov.shape[1]} products, {filled} cells; "
              f"best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s over {args.repeat} runs "
              f"(target < 2 s)")


if __name__ == "__main__":
    main()
