"""Benchmark: quick-look of one day of 128 Hz MAG burst data (11 059 200 vectors) vs plotting every point.

Usage::

    /work/venv/bin/python benchmarks/bench_plot.py [--repeat 3] [--rate 128] [--hours 24] [--out DIR]

The day is built in memory as a Dataset that follows the ``ie.load`` contract (``epoch`` datetime64[ns],
``b_gse (epoch, direction)`` float32 with a NaN repointing gap, ``quality_flags``), so no file is needed.

Timed, each from data in memory to a PNG on disk (1200 x ~620 px at 120 dpi, the CLI's figure):

* ``quicklook``: ``ie.quicklook(ds)`` then ``savefig`` (min-max decimation to the pixel width).
* ``naive``: the same two panels drawn with ``ax.plot`` of every point, matplotlib defaults (Agg path
  simplification on), then ``savefig``.

It also renders both figures to arrays and compares, per pixel column of each panel, the rows that carry
ink: the envelope test of ``tests/test_plot.py`` (2 px vertical tolerance, 1 column of horizontal slack).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from imap_explorer import plot as ql  # noqa: E402


def burst_day(rate: int = 128, hours: float = 24.0, seed: int = 0) -> xr.Dataset:
    """A MAG L2 burst-gse day in memory: random-walk field, Alfvénic noise, a repointing gap, flags."""
    n = int(rate * 3600 * hours)
    rng = np.random.default_rng(seed)
    t = np.datetime64("2026-01-20T00:00:00", "ns") + (np.arange(n, dtype=np.int64) * (10**9 // rate))
    walk = np.cumsum(rng.standard_normal((3, n), dtype=np.float32), axis=1) * np.float32(0.003)
    b = (walk + np.array([[4.0], [-4.0], [0.5]], np.float32)).T + rng.standard_normal((n, 3), dtype=np.float32) * 0.3
    gap = slice(int(n * 10 / 24), int(n * 10.06 / 24))  # ~3.5 min of fill near 10:00
    b[gap] = np.nan
    flags = np.zeros(n, np.uint8)
    flags[int(n * 15 / 24): int(n * 15.01 / 24)] = 1
    return xr.Dataset(
        {
            "b_gse": (("epoch", "direction"), b, {"UNITS": "nT", "FIELDNAM": "Magnetic Field GSE",
                                                  "DISPLAY_TYPE": "time_series", "VAR_TYPE": "data",
                                                  "LABL_PTR_1": "direction_label"}),
            "quality_flags": ("epoch", flags, {"VAR_TYPE": "data"}),
        },
        coords={"epoch": t, "direction": ("direction", np.arange(3)),
                "direction_label": ("direction", ["Bx", "By", "Bz"])},
        attrs={"Logical_source": "imap_mag_l2_burst-gse",
               "Logical_file_id": "imap_mag_l2_burst-gse_20260120_v001.0001"},
    )


def naive(ds: xr.Dataset, axes=None):
    """Every point, plain ``ax.plot`` (what a user would write without decimation)."""
    t = ds["epoch"].values
    b = ds["b_gse"].values
    if axes is None:
        fig, axes = plt.subplots(2, 1, sharex=True, squeeze=True, layout="constrained", figsize=(10.0, 5.0))
    fig = axes[0].figure
    axes[0].plot(t, np.sqrt((b.astype(np.float64) ** 2).sum(axis=1)), color="k", lw=0.8, label="|B|")
    for i, (label, color) in enumerate(zip(("B_x GSE", "B_y GSE", "B_z GSE"), ("tab:blue", "tab:green", "tab:red"))):
        axes[1].plot(t, b[:, i], color=color, lw=0.8, label=label)
    for ax in axes:
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small", frameon=False)
        ax.set_xlim(t[0], t[-1])
    axes[1].axhline(0.0, color="0.6", lw=0.5, zorder=0)
    axes[0].set_ylabel("|B| [nT]")
    axes[1].set_ylabel("B GSE [nT]")
    return fig


def timed(make, path: Path) -> float:
    start = time.perf_counter()
    fig = make()
    fig.savefig(path, dpi=120)
    elapsed = time.perf_counter() - start
    plt.close(fig)
    return elapsed


def ink_envelopes(fig, threshold: int = 160) -> list[list[tuple[int, int] | None]]:
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    height = image.shape[0]
    out = []
    for ax in fig.axes[:2]:
        x0, y0, x1, y1 = ax.get_window_extent().extents
        patch = image[int(height - y1) + 2: int(height - y0) - 2, int(x0) + 2: int(x1) - 2].min(axis=2) < threshold
        cols = []
        for column in patch.T:
            hit = np.flatnonzero(column)
            cols.append((int(hit[0]), int(hit[-1])) if hit.size else None)
        out.append(cols)
    return out


def mismatches(full, fast, tol: int = 2) -> int:
    bad = 0
    for i in range(len(full)):
        lo = max(i - 1, 0)
        if (full[i] is None) != (fast[i] is None):
            near = [v for v in (full[lo:i + 2] if full[i] is None else fast[lo:i + 2]) if v is not None]
            bad += not near
            continue
        if full[i] is None:
            continue
        for mine, other in ((fast[i], full[lo:i + 2]), (full[i], fast[lo:i + 2])):
            other = [v for v in other if v is not None]
            if not (min(v[0] for v in other) - tol <= mine[0] and mine[1] <= max(v[1] for v in other) + tol):
                bad += 1
                break
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="quicklook runs (median reported; default 3)")
    parser.add_argument("--rate", type=int, default=128, help="vectors per second (default 128)")
    parser.add_argument("--hours", type=float, default=24.0, help="hours of data (default 24)")
    parser.add_argument("--no-naive", action="store_true", help="skip the slow every-point plot")
    parser.add_argument("--out", help="directory for the PNGs (default: a temporary one)")
    args = parser.parse_args(argv)

    out = Path(args.out or tempfile.mkdtemp(prefix="bench_plot_"))
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    ds = burst_day(args.rate, args.hours)
    n = ds.sizes["epoch"]
    print(f"data: {n:,} vectors ({args.rate} Hz x {args.hours:g} h), built in {time.perf_counter() - start:.2f} s")

    # warm-up: imports, fonts, first-figure costs are not what we measure
    timed(lambda: ql.quicklook(burst_day(args.rate, 0.1)), out / "warmup.png")
    runs = [timed(lambda: ql.quicklook(ds), out / "quicklook.png") for _ in range(max(args.repeat, 1))]
    ours = statistics.median(runs)
    print(f"quicklook + savefig: median {ours:.3f} s over {len(runs)} runs "
          f"({', '.join(f'{r:.3f}' for r in runs)}) -> {out / 'quicklook.png'}")
    if args.no_naive:
        return 0
    slow = timed(lambda: naive(ds), out / "naive.png")
    print(f"naive ax.plot of every point + savefig: {slow:.3f} s -> {out / 'naive.png'}")
    print(f"speed-up: {slow / ours:.1f}x")

    # same look? render both into identical axes (fixed layout) and compare ink envelopes per panel
    def frame():
        fig, axes = plt.subplots(2, 1, sharex=True, figsize=(10.0, 5.0), dpi=120)
        fig.subplots_adjust(left=0.08, right=0.84, top=0.95, bottom=0.08)
        return axes

    plain = ds.drop_vars("quality_flags")  # the every-point reference does not shade flags
    fast = ink_envelopes(ql.quicklook(plain, ax=list(frame())))
    full = ink_envelopes(naive(plain, frame()))
    for name, a, b in zip(("|B|", "B GSE"), full, fast):
        print(f"panel {name}: {len(a)} pixel columns, {mismatches(a, b)} differ by more than 2 px "
              f"(1-column slack)")
    plt.close("all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
