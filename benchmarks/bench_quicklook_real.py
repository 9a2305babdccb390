"""Benchmark: the quick-look of every real IMAP file (../shared/data/real), plot and save, slowest first.

Usage::

    python benchmarks/bench_quicklook_real.py [--repeat 3] [--real DIR] [--out DIR] [--match TEXT]

Each file is loaded once (not timed), then ``ie.quicklook(ds, pyplot=False)`` and ``savefig`` (120 dpi, the
CLI's) are timed ``--repeat`` times after one warm-up figure; the median is reported with the recipe chosen
and the kinds of its panels. The target is under 2 s per file on the project's machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import imap_explorer as ie  # noqa: E402
from imap_explorer import plot as ql  # noqa: E402

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per file (median; default 3)")
    parser.add_argument("--real", default=str(REAL), help=f"folder of real files (default {REAL})")
    parser.add_argument("--out", help="directory for the PNGs (default: a temporary one)")
    parser.add_argument("--match", default="", help="only files whose name contains this text")
    args = parser.parse_args(argv)
    files = sorted(p for p in Path(args.real).rglob("*.cdf") if args.match in p.name)
    if not files:
        print(f"no CDF file under {args.real}", file=sys.stderr)
        return 1
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_quicklook_real_"))
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    warnings.simplefilter("ignore")
    for path in files:
        ds = ie.load(path)
        plan = ql.make_plan(ql.normalise_layout(ds))
        png = out / (path.stem + ".png")
        runs = []
        for i in range(args.repeat + 1):
            start = time.perf_counter()
            fig = ql.quicklook(ds, pyplot=False)
            fig.savefig(png, dpi=120)
            if i:  # the first is a warm-up
                runs.append(time.perf_counter() - start)
        rows.append((statistics.median(runs), path.name, plan.recipe, sorted(set(plan.kinds))))
    rows.sort(reverse=True)
    for seconds, name, recipe, kinds in rows:
        flag = "  OVER 2 s" if seconds >= 2.0 else ""
        print(f"{seconds:6.3f} s  {recipe:22s} {','.join(kinds):28s} {name}{flag}")
    print(f"\n{len(rows)} files; slowest {rows[0][1]} at {rows[0][0]:.3f} s (median of {args.repeat}); "
          f"{sum(r[0] >= 2.0 for r in rows)} over 2 s; PNGs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
