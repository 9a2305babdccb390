"""What quicklook accepts: Datasets, query tables or file paths, a time range; sorting and trimming records."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from imap_explorer.exceptions import ImapExplorerError
from imap_explorer.plot._istp import _attr, _text, product_of

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr


def _times(ds: xr.Dataset) -> np.ndarray:
    return np.asarray(ds["epoch"].values).astype("datetime64[ns]", copy=False)


def _as_datetime64(value: Any) -> np.datetime64:
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        msg = f"Cannot read {value!r} as a time. Expected e.g. '2026-01-20T06:00', a datetime or numpy.datetime64."
        raise ValueError(msg) from err
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return np.datetime64(stamp.to_datetime64(), "ns")


def _time_bound(value: Any) -> np.datetime64 | None:
    """One end of a time range: None or NaT leave it open (as in :func:`imap_explorer.load`)."""
    if value is None:
        return None
    bound = _as_datetime64(value)
    return None if np.isnat(bound) else bound


def _time_range(time_range: Any) -> tuple[np.datetime64 | None, np.datetime64 | None] | None:
    from imap_explorer._time import time_pair

    pair = time_pair(time_range)  # the pairs ie.load accepts
    if pair is None:
        return None
    start, end = (_time_bound(v) for v in pair)
    if start is not None and end is not None and end <= start:
        msg = f"time_range end {end} is not after its start {start}."
        raise ValueError(msg)
    return start, end


def _product_of_name(name: str) -> tuple[str, ...]:
    from imap_explorer.filenames import parse_filename

    try:
        info = parse_filename(Path(str(name)).name)
    except (ValueError, ImapExplorerError):
        return ("",)
    return (info.instrument or "", info.data_level or "", info.descriptor or "")


def _load_groups(data: Any, time_range: tuple | None) -> list[xr.Dataset]:
    """Load a DataFrame from query() or a list of files, one Dataset per product."""
    import pandas as pd

    from imap_explorer.cdf import load

    if isinstance(data, pd.DataFrame):
        if data.empty:
            msg = "The file table is empty: nothing to plot. Check the query that produced it."
            raise ValueError(msg)
        column = "file_path" if "file_path" in data.columns else data.columns[0]
        files = [str(v) for v in data[column]]
    elif isinstance(data, (str, Path)):
        files = [str(data)]
    else:
        files = [str(v) for v in data]
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in files:
        groups.setdefault(_product_of_name(name), []).append(name)
    # load reads only the records in the time range (quicklook trims the datasets again, which is then a no-op)
    if isinstance(data, pd.DataFrame):
        from imap_explorer.transfer import download

        out = []
        for names in groups.values():
            rows = data[data[column].astype(str).isin(names)]
            out.append(load([str(p) for p in download(rows, progress=False)], time_range=time_range))
        return out
    return [load(names, time_range=time_range) for names in groups.values()]


def _as_datasets(data: Any, time_range: tuple | None) -> list[xr.Dataset]:
    import xarray as xr

    if isinstance(data, xr.Dataset):
        return [data]
    if isinstance(data, xr.DataArray):
        return [data.to_dataset(name=data.name or "data")]
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, (xr.Dataset, xr.DataArray)) for d in data):
        return [d if isinstance(d, xr.Dataset) else d.to_dataset(name=d.name or "data") for d in data]
    import pandas as pd

    if isinstance(data, (pd.DataFrame, str, Path)) or (isinstance(data, (list, tuple)) and data):
        return _load_groups(data, time_range)
    msg = (f"Cannot plot {type(data).__name__!s} {data!r:.80}. Expected an xarray.Dataset from ie.load, "
           "a list of Datasets, a DataFrame from ie.query, or CDF file paths.")
    raise TypeError(msg)


def _no_records(datasets: list[xr.Dataset], span: tuple | None) -> ValueError:
    sources = sorted({product_of(ds).logical_source for ds in datasets})
    where = "" if span is None else f" between {span[0]} and {span[1]}"
    verb = "has" if len(sources) == 1 else "have"
    return ValueError(f"{', '.join(sources)} {verb} no records{where}: nothing to plot.")


def _increasing(tn: np.ndarray, step: int = 1 << 20) -> bool:
    """Whether ``tn`` strictly increases, checked in cache-sized chunks (no full-size boolean temporary)."""
    for a in range(0, tn.size - 1, step):
        chunk = tn[a:a + step + 1]
        if bool((chunk[1:] <= chunk[:-1]).any()):
            return False
    return True


def _prepare(ds: xr.Dataset, span: tuple | None, *, empty_ok: bool = False) -> xr.Dataset:
    """Sort ``ds`` by time, drop NaT and repeated records and keep those in ``span``.

    A time that occurs more than once (``xr.concat`` of overlapping loads; :func:`imap_explorer.load` never
    returns one) keeps its first record: a repeat would give a spectrogram cell of zero width, which masks
    the column, and a line segment that goes nowhere. Without any record left, raise unless ``empty_ok``.
    """
    if "epoch" not in ds.dims:
        source = product_of(ds).logical_source
        msg = (f"{source} has no 'epoch' dimension; quicklook plots time series. "
               f"Dimensions: {', '.join(map(str, ds.dims)) or '(none)'}.")
        raise ValueError(msg)
    if ds["epoch"].dtype.kind != "M":
        msg = (f"{product_of(ds).logical_source}: 'epoch' holds {ds['epoch'].dtype}, expected datetime64 times. "
               "Load CDF files with ie.load (it converts TT2000), or convert with "
               "imap_explorer._time.tt2000_to_datetime64.")
        raise ValueError(msg)
    t = _times(ds)
    tn = t.view(np.int64)
    ordered = _increasing(tn)  # one pass for the usual, increasing case
    if not ordered and bool((tn[1:] < tn[:-1]).any()):
        order = np.argsort(tn, kind="stable")  # NaT (int64 min) sorts first
        ds, t = ds.isel(epoch=order), t[order]
        tn = t.view(np.int64)
    if not ordered and bool((tn[1:] == tn[:-1]).any()):  # a stable sort keeps a repeated time's first record first
        keep = np.concatenate([[True], tn[1:] != tn[:-1]])
        ds, t = ds.isel(epoch=np.flatnonzero(keep)), t[keep]
        tn = t.view(np.int64)
    # sorted now: NaT records lead, and the time range is a slice (no copy of the data)
    lo = int(np.searchsorted(tn, np.iinfo(np.int64).min, side="right"))
    hi = tn.size
    if span is not None and span[0] is not None:
        lo = max(lo, int(np.searchsorted(tn, span[0].astype(np.int64), side="left")))
    if span is not None and span[1] is not None:
        hi = int(np.searchsorted(tn, span[1].astype(np.int64), side="left"))
    if (lo, hi) != (0, tn.size):
        ds = ds.isel(epoch=slice(lo, max(hi, lo)))
    if ds.sizes["epoch"] == 0 and not empty_ok:
        raise _no_records([ds], span)
    return ds


_VERSION_RE = re.compile(r"_(v\d{3}(?:\.\d{4})?)(?:\.cdf)?$", re.IGNORECASE)


def _versions(ds: xr.Dataset) -> list[str]:
    """File versions behind a dataset: from its source file names, else Logical_file_id/Data_version."""
    names: list[str] = []
    for key in ("source_files", "Source_files", "files"):
        value = ds.attrs.get(key)
        if value is not None:
            names += [str(v) for v in (value if isinstance(value, (list, tuple, np.ndarray)) else [value])]
    sources = ds.encoding.get("source_files") or ([ds.encoding["source"]] if ds.encoding.get("source") else [])
    superseded = {str(v) for v in ds.encoding.get("superseded_files", ())}  # they supplied no records
    names += [str(v) for v in sources if str(v) not in superseded]
    versions = [m.group(1) for n in names if (m := _VERSION_RE.search(Path(n).name))]
    if not versions:
        file_id = ds.attrs.get("Logical_file_id")
        for n in (file_id if isinstance(file_id, (list, tuple)) else [file_id]):
            if n and (m := _VERSION_RE.search(str(n))):
                versions.append(m.group(1))
    if not versions:
        version = _text(_attr(ds.attrs, "Data_version"))
        if version:
            versions.append(version if version.lower().startswith("v") else f"v{version}")
    return sorted(set(versions))


def _title(datasets: list[xr.Dataset], start: np.datetime64, end: np.datetime64) -> str:
    parts = []
    for ds in datasets:
        versions = _versions(ds)
        parts.append(f"{product_of(ds).logical_source} {', '.join(versions)}".strip())
    fmt = "%Y-%m-%d %H:%M:%S"
    first = dt.datetime.fromtimestamp(0, dt.timezone.utc).replace(tzinfo=None)
    t0 = first + dt.timedelta(microseconds=int(start.astype("datetime64[us]").astype(np.int64)))
    t1 = first + dt.timedelta(microseconds=int(end.astype("datetime64[us]").astype(np.int64)))
    return f"{' | '.join(parts)}\n{t0.strftime(fmt)} to {t1.strftime(fmt)} UTC"



def _untimed_title(ds: xr.Dataset, plan: Any) -> str:
    """Title of a figure without a time axis: product and versions, the plan's own title, the record's date."""
    head = f"{product_of(ds).logical_source} {', '.join(_versions(ds))}".strip()
    when = ""
    if "epoch" in ds.variables and ds["epoch"].dtype.kind == "M" and ds["epoch"].size:
        t = np.asarray(ds["epoch"].values).ravel().astype("datetime64[s]")
        picked = {dim: i for view in plan.panels for dim, i in getattr(view, "select", ()) if dim == "epoch"}
        if isinstance(picked.get("epoch"), int) and ds["epoch"].ndim == 1:  # one record of many: its own time
            t = t[[picked["epoch"]]]
        t = t[~np.isnat(t)]
        if t.size:
            when = str(t.min()).replace("T", " ") + " UTC" if t.size == 1 else \
                f"{str(t.min()).replace('T', ' ')} to {str(t.max()).replace('T', ' ')} UTC"
    return "\n".join(p for p in (head, " | ".join(x for x in (plan.title, when) if x)) if p)
