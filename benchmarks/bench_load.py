"""Benchmark ie.load against cdflib and pycdfpp on a 128 vectors/s MAG L2 burst day and a full SWE L2 day.

Run: ``python benchmarks/bench_load.py`` (about 2-4 minutes; needs ~3 GB of RAM for the cdflib reference).

The files are written into a temporary directory with ``imap_explorer.synthetic`` (``write_mag_l2`` at 128 Hz, which
is the real MAG L2 layout written with cdflib ``xarray_to_cdf(compression=6)``; ``write_swe_l2``); a small
built-in writer in the same layout is the fallback. Each method runs in a fresh subprocess, files warm in the page
cache. Time is the best of ``--repeat`` runs (imports excluded); peak MB is the largest rise of the resident set (VmHWM,
reset through /proc/self/clear_refs before each run) over the RSS before the run, compared with ``ds.nbytes`` of
what the method returns. Linux only.

Targets (issue 4): ie.load >= 8x faster than ``cdflib.xarray.cdf_to_xarray(path, to_datetime=True,
fillval_to_nan=True)`` with peak memory <= 2x the returned arrays, and a one-hour ``time_range`` >= 10x faster
than the whole day. The targets are checked against "cdflib", which runs in this environment and so inflates with
libdeflate (imap-explorer depends on ``deflate``, and cdflib uses it when present). "cdflib zlib" is cdflib as a
plain ``pip install cdflib`` runs it (zlib); it is shown for information only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOUR = ("2026-01-20T10:00", "2026-01-20T11:00")


# ----------------------------------------------------------------------------------------------- one method, in-process
def _status_mb(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def _reset_peak() -> float:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process and return the current RSS (MB)."""
    import gc

    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:  # "5" resets VmHWM to the current RSS (Linux >= 4.0)
        fh.write("5")
    return _status_mb("VmRSS")


def _run_method(method: str, path: str, repeat: int) -> dict:
    if method == "cdflib zlib":  # cdflib as installed on its own: without the optional libdeflate it uses zlib
        sys.modules["deflate"] = None  # type: ignore[assignment]
    import numpy as np
    import pycdfpp
    import xarray as xr  # noqa: F401
    from cdflib.xarray import cdf_to_xarray

    import imap_explorer as ie

    def cdflib_ref():
        return cdf_to_xarray(path, to_datetime=True, fillval_to_nan=True)

    def pycdfpp_ref():  # the speed reference: raw arrays + datetime64 epoch, no Dataset, no fill handling
        cdf = pycdfpp.load(path)
        out = {name: cdf[name].values for name in cdf.keys() if name != "epoch"}
        out["epoch"] = pycdfpp.to_datetime64(cdf["epoch"])
        return out

    funcs = {
        "cdflib": cdflib_ref,
        "cdflib zlib": cdflib_ref,
        "pycdfpp": pycdfpp_ref,
        "ie.load": lambda: ie.load(path),
        "ie.load 1 h": lambda: ie.load(path, time_range=HOUR),
        "ie.load chunks": lambda: ie.load(path, chunks={}).compute(),
    }
    func = funcs[method]
    times = []
    peaks = []
    nbytes = 0
    for _ in range(repeat):
        base = _reset_peak()
        t0 = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t0)
        peaks.append(_status_mb("VmHWM") - base)
        nbytes = result.nbytes if hasattr(result, "nbytes") else sum(np.asarray(v).nbytes for v in result.values())
        del result
    peak = max(peaks)
    return {"method": method, "seconds": min(times), "peak_mb": peak, "nbytes_mb": nbytes / 2**20}


# ----------------------------------------------------------------------------------------------- files
def _write_files(tmp: Path, own: bool) -> dict[str, Path]:
    files = {}
    if not own:
        try:
            from imap_explorer.synthetic import write_mag_l2

            t0 = time.perf_counter()
            files["MAG L2 burst 128 Hz"] = write_mag_l2(tmp / "mag.cdf", "2026-01-20", "burst-dsrf", rate=128)
            print(f"wrote {files['MAG L2 burst 128 Hz'].name} with imap_explorer.synthetic "
                  f"in {time.perf_counter() - t0:.0f} s", flush=True)
        except Exception as err:  # noqa: BLE001 - report and fall back to the built-in writer
            print(f"imap_explorer.synthetic.write_mag_l2 failed ({err!r}); using the built-in writer", flush=True)
        try:
            from imap_explorer.synthetic import write_swe_l2

            t0 = time.perf_counter()
            files["SWE L2 day"] = write_swe_l2(tmp / "swe.cdf", "2026-01-20")
            print(f"wrote {files['SWE L2 day'].name} with imap_explorer.synthetic "
                  f"in {time.perf_counter() - t0:.0f} s", flush=True)
        except Exception as err:  # noqa: BLE001
            print(f"imap_explorer.synthetic.write_swe_l2 failed ({err!r}); using the built-in writer", flush=True)
    if "MAG L2 burst 128 Hz" not in files:
        files["MAG L2 burst 128 Hz"] = _write_mag_burst(tmp / "imap_mag_l2_burst-dsrf_20260120_v001.0001.cdf")
    if "SWE L2 day" not in files:
        files["SWE L2 day"] = _write_swe_day(tmp / "imap_swe_l2_sci_20260120_v001.0001.cdf")
    return files


def _epoch(n: int, step_ns: int):
    import numpy as np

    from imap_explorer._time import datetime64_to_tt2000

    t0 = int(datetime64_to_tt2000(np.datetime64("2026-01-20T00:00:00", "ns")))
    return t0 + np.arange(n, dtype=np.int64) * step_ns


def _write_mag_burst(path: Path) -> Path:
    """A MAG L2 burst day at 128 Hz in the real layout (fill rows of -1e31, flags, range)."""
    import numpy as np
    import xarray as xr
    from cdflib.xarray import xarray_to_cdf

    n = 128 * 86_400
    rng = np.random.default_rng(0)
    b = np.cumsum(rng.normal(0, 0.02, (n, 3)).astype(np.float32), axis=0) + np.float32(5)
    b[36_000 * 128:36_200 * 128] = -1e31
    mag = np.linalg.norm(b, axis=1).astype(np.float32)
    fattrs = {"FILLVAL": np.float32(-1e31), "VALIDMIN": np.float32(-1e5), "VALIDMAX": np.float32(1e5),
              "FORMAT": "F13.5", "UNITS": "nT", "VAR_TYPE": "data", "DISPLAY_TYPE": "time_series",
              "CDF_DATA_TYPE": "CDF_FLOAT", "DEPEND_0": "epoch"}
    uattrs = {"FILLVAL": np.uint8(255), "VALIDMIN": np.uint8(0), "FORMAT": "I3", "UNITS": " ", "DEPEND_0": "epoch",
              "CDF_DATA_TYPE": "CDF_UINT1"}
    ds = xr.Dataset(
        {
            "b_dsrf": (("epoch", "direction"), b, fattrs | {"CATDESC": "B DSRF", "FIELDNAM": "B",
                                                             "DEPEND_1": "direction", "LABL_PTR_1": "direction_label"}),
            "magnitude": ("epoch", mag, fattrs | {"CATDESC": "|B|", "FIELDNAM": "|B|", "LABLAXIS": "|B|"}),
            "quality_flags": ("epoch", np.zeros(n, np.uint8), uattrs | {"CATDESC": "q", "FIELDNAM": "q",
                                                                         "VAR_TYPE": "data", "LABLAXIS": "q"}),
            "quality_bitmask": ("epoch", np.zeros(n, np.uint8), uattrs | {"CATDESC": "m", "FIELDNAM": "m",
                                                                           "VAR_TYPE": "support_data"}),
            "range": ("epoch", np.full(n, 2, np.uint8), uattrs | {"CATDESC": "r", "FIELDNAM": "r",
                                                                   "VAR_TYPE": "support_data"}),
            "direction_label": ("direction", np.array(["Bx", "By", "Bz"]),
                                {"CATDESC": "l", "FIELDNAM": "l", "FORMAT": "A2", "VAR_TYPE": "metadata"}),
        },
        coords={
            "epoch": ("epoch", _epoch(n, 1_000_000_000 // 128),
                      {"CATDESC": "Time", "FIELDNAM": "epoch", "UNITS": "ns", "VAR_TYPE": "support_data",
                       "FILLVAL": np.int64(-9223372036854775808), "FORMAT": " ", "LABLAXIS": "epoch"}),
            "direction": ("direction", np.arange(3), {"CATDESC": "d", "FIELDNAM": "d", "FORMAT": "I1",
                                                      "VAR_TYPE": "support_data", "UNITS": " "}),
        },
        attrs={"Logical_source": "imap_mag_l2_burst-dsrf", "Data_version": "001.0001", "Parents": ["x.cdf"]},
    )
    xarray_to_cdf(ds, str(path), compression=6, istp=True, terminate_on_warning=False)
    return path


def _write_swe_day(path: Path) -> Path:
    """A SWE L2 day: ~1404 records of six 24x30x7 arrays, with the flight file's layout and fill fraction."""
    import numpy as np
    import xarray as xr
    from cdflib.xarray import xarray_to_cdf

    n = 1404
    rng = np.random.default_rng(1)
    shape = (n, 24, 30, 7)
    energy = np.array([2.66 * 1.39**i for i in range(24)])
    base = np.exp(-energy / 20.0)[None, :, None, None]
    dattrs = {"FILLVAL": -1e31, "VAR_TYPE": "data", "DISPLAY_TYPE": "spectrogram", "DEPEND_0": "epoch",
              "FORMAT": "E14.7"}
    data_vars = {}
    for name, scale, d1, d2, d3 in [("flux", 1e7, "energy", "inst_az", "inst_el"),
                                    ("phase_space_density", 1e-24, "energy", "inst_az", "inst_el"),
                                    ("flux_spin_sector", 1e7, "esa_step", "spin_sector", "cem_id"),
                                    ("phase_space_density_spin_sector", 1e-24, "esa_step", "spin_sector", "cem_id"),
                                    ("psd_stat_uncert", 1e-25, "esa_step", "spin_sector", "cem_id"),
                                    ("flux_stat_uncert", 1e6, "esa_step", "spin_sector", "cem_id")]:
        values = scale * base * rng.gamma(2.0, 0.5, shape)
        if d1 == "energy":
            values[rng.random(shape) < 0.3] = -1e31
        values[1] = -1e31
        data_vars[name] = (("epoch", d1, d2, d3), values,
                           dattrs | {"CATDESC": name, "FIELDNAM": name, "UNITS": "x", "DEPEND_1": d1,
                                     "DEPEND_2": d2, "DEPEND_3": d3})
    coords = {
        "epoch": ("epoch", _epoch(n, 61_547_865_000), {"CATDESC": "Time", "FIELDNAM": "epoch", "UNITS": "ns",
                                                        "VAR_TYPE": "support_data", "FORMAT": " "}),
        "energy": ("energy", energy, {"CATDESC": "E", "FIELDNAM": "E", "UNITS": "eV", "VAR_TYPE": "support_data"}),
        "inst_az": ("inst_az", np.arange(6, 360, 12, dtype=np.float32), {"VAR_TYPE": "support_data"}),
        "inst_el": ("inst_el", np.arange(-63, 64, 21), {"VAR_TYPE": "support_data"}),
        "esa_step": ("esa_step", np.arange(24), {"VAR_TYPE": "support_data"}),
        "spin_sector": ("spin_sector", np.arange(30), {"VAR_TYPE": "support_data"}),
        "cem_id": ("cem_id", np.arange(7, dtype=np.int8), {"VAR_TYPE": "support_data"}),
    }
    ds = xr.Dataset(data_vars, coords=coords, attrs={"Logical_source": "imap_swe_l2_sci"})
    xarray_to_cdf(ds, str(path), compression=6, istp=False, terminate_on_warning=False)
    return path


# ----------------------------------------------------------------------------------------------- driver
def _in_subprocess(method: str, path: Path, repeat: int) -> dict:
    cmd = [sys.executable, __file__, "--run", method, str(path), "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"method": method, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help="runs per fast method (default 3)")
    parser.add_argument("--own-writers", action="store_true", help="skip imap_explorer.synthetic writers")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    if args.run:
        print(json.dumps(_run_method(args.run[0], args.run[1], args.repeat)))
        return 0

    import cdflib
    import numpy as np
    import pycdfpp
    import xarray as xr

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, xarray {xr.__version__}, cdflib "
          f"{cdflib.__version__}, pycdfpp {getattr(pycdfpp, '__version__', '?')}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmpdir:
        tmp = args.keep or Path(tmpdir)
        tmp.mkdir(parents=True, exist_ok=True)
        files = _write_files(tmp, args.own_writers)
        ok = True
        for label, path in files.items():
            print(f"\n{label}: {path.name}, {path.stat().st_size / 2**20:.0f} MiB on disk", flush=True)
            methods = ["cdflib", "cdflib zlib", "pycdfpp", "ie.load", "ie.load chunks"]
            if label.startswith("MAG"):
                methods.append("ie.load 1 h")
            rows = {m: _in_subprocess(m, path, 1 if m.startswith("cdflib") else args.repeat) for m in methods}
            ref = rows["cdflib"].get("seconds")
            print(f"{'method':<16}{'seconds':>9}{'peak MB':>10}{'arrays MB':>11}{'peak/arrays':>13}{'vs cdflib':>11}")
            for m, row in rows.items():
                if "error" in row:
                    print(f"{m:<16} failed: {row['error']}")
                    continue
                ratio = row["peak_mb"] / row["nbytes_mb"] if row["nbytes_mb"] else float("nan")
                speed = ref / row["seconds"] if ref else float("nan")
                print(f"{m:<16}{row['seconds']:>9.3f}{row['peak_mb']:>10.0f}{row['nbytes_mb']:>11.0f}"
                      f"{ratio:>13.2f}{speed:>10.1f}x")
            load_row = rows["ie.load"]
            if "error" in load_row or not ref:
                ok = False
                continue
            checks = [
                (f"ie.load >= 8x faster than cdf_to_xarray: {ref / load_row['seconds']:.1f}x",
                 ref / load_row["seconds"] >= 8),
                (f"ie.load peak <= 2x arrays: {load_row['peak_mb'] / load_row['nbytes_mb']:.2f}x",
                 load_row["peak_mb"] <= 2 * load_row["nbytes_mb"]),
            ]
            if "ie.load 1 h" in rows and "error" not in rows["ie.load 1 h"]:
                hour = rows["ie.load 1 h"]["seconds"]
                checks.append((f"one-hour time_range >= 10x faster than the whole day: "
                               f"{load_row['seconds'] / hour:.1f}x", load_row["seconds"] / hour >= 10))
            for text, passed in checks:
                ok &= passed
                print(f"  {'PASS' if passed else 'FAIL'}  {text}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
