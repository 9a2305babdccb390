"""Version history of one product-day, and what changed between two versions of it.

* :func:`versions` lists every version the SDC holds of one product-day (or repointing), newest first, with its
  ingestion date and release state. The SDC's ``/query`` returns only the newest major version unless a major
  is named (``sdc-api.md`` §5.5), so the older majors are asked one by one.
* :func:`compare` reads two files (metadata first, then each common data variable, through :func:`ie.load
  <imap_explorer.load>` with dask chunks, so memory stays bounded) and returns a :class:`Comparison`: time span
  and record count, variables added or removed, dimensions, global attributes that changed (``Parents``,
  ``Software_version``, ...), and per common data variable how many values differ, the largest difference and
  the fill count. It shows as HTML in a notebook, as text in a terminal (``imap-explorer compare A B``), and
  gives ``.to_dict()``.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imap_explorer import config
from imap_explorer.filenames import VALID_DATALEVELS, VALID_INSTRUMENTS, FileInfo, local_path, parse_filename
from imap_explorer.local import version_rank

__all__ = ["Comparison", "VariableDiff", "compare", "compare_command", "versions", "versions_command"]

#: At most this many older major versions are asked for one by one (a guard; real majors are small numbers).
MAX_MAJORS = 50


# --------------------------------------------------------------------------- versions
def _target(item: Any, start_date: Any, repointing: Any) -> tuple[str, str, str, dt.date | None, int | None]:
    """(instrument, level, descriptor, day, repointing) from a file name/path or an ``instrument/level/descriptor``."""
    from imap_explorer.query import _as_date, _as_repointing

    text = os.fspath(item) if isinstance(item, os.PathLike) else item
    if not isinstance(text, str):
        raise TypeError(f"Expected a file name or a product 'instrument/level/descriptor', got {item!r}.")
    try:
        info = parse_filename(text)
    except ValueError:
        info = None
    if info is not None and info.kind == "science":
        return info.instrument, info.data_level, info.descriptor, info.start_date, info.repointing
    parts = text.strip().split("/")
    if len(parts) != 3 or parts[0] not in VALID_INSTRUMENTS or parts[1] not in VALID_DATALEVELS or not parts[2]:
        msg = (f"Cannot tell which product {item!r} is. Expected an IMAP science file name (e.g. "
               "'imap_mag_l2_norm-gse_20260120_v002.0001.cdf') or a product 'instrument/level/descriptor' "
               "(e.g. 'mag/l2/norm-gse') with start_date= or repointing=.")
        raise ValueError(msg)
    day = _as_date(start_date, "start_date")
    number = _as_repointing(repointing)
    if day is None and number is None:
        raise ValueError(f"Which day of {text!r}? Pass start_date= (e.g. '2026-01-20') or repointing=.")
    return parts[0], parts[1], parts[2], day, number


def versions(
    filename_or_product: str | os.PathLike,
    *,
    start_date: Any = None,
    repointing: int | str | None = None,
) -> pd.DataFrame:
    """Every version the SDC holds of one product-day (or repointing), newest first.

    Parameters
    ----------
    filename_or_product : str or path-like
        A file name (or SDC ``file_path``, or local path) of any version, e.g.
        ``"imap_swapi_l3a_proton-sw_20260120_v003.cdf"``; or a product ``"instrument/level/descriptor"``
        together with ``start_date`` or ``repointing``.
    start_date : str or date, optional
        The day, when a product is given.
    repointing : int or str, optional
        The repointing, when a product is given (``12`` or ``"repoint00012"``).

    Returns
    -------
    pandas.DataFrame
        The query's columns (``ingestion_date``, ``released``, ``version``, ...) plus ``file_name``, ``current``
        (True for the newest version) and ``local_path``/``downloaded`` (where it lives in the local archive and
        whether it is there), newest first. A public caller sees released versions only; with an API key the
        unreleased ones are listed too (``released`` False).

    Raises
    ------
    ValueError
        The argument names no product-day.
    imap_explorer.ApiError
        The SDC answered with an error.

    See Also
    --------
    compare : what changed between two of these versions.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> ie.versions("imap_swapi_l3a_proton-sw_20260120_v004.cdf")  # doctest: +SKIP
    >>> ie.versions("mag/l2/norm-gse", start_date="2026-01-20")    # doctest: +SKIP
    """
    from imap_explorer._http import Client
    from imap_explorer.query import query_params, to_frame

    instrument, data_level, descriptor, day, number = _target(filename_or_product, start_date, repointing)
    params, _ = query_params(instrument=instrument, data_level=data_level, descriptor=descriptor, start_date=day,
                             end_date=day, repointing=number)
    settings = config.resolve()
    records: dict[str, dict[str, Any]] = {}
    with Client(settings) as client:
        newest = client.get_json("query", params)  # every minor version of the newest major (§5.5)
        for r in newest:
            records[str(r.get("file_path"))] = r
        top = max((int(r.get("major_version") or 1) for r in newest), default=0)
        for major in range(max(1, top - MAX_MAJORS), top):  # older majors, one request each
            for r in client.get_json("query", [*params, ("major_version", str(major))]):
                records[str(r.get("file_path"))] = r
    frame = pd.DataFrame(to_frame(list(records.values())), copy=False)
    infos = [parse_filename(fp) for fp in frame["file_path"]]
    order = sorted(range(len(infos)), key=lambda i: version_rank(infos[i]), reverse=True)
    frame = frame.iloc[order].reset_index(drop=True)
    infos = [infos[i] for i in order]
    frame.insert(0, "file_name", [i.filename for i in infos])
    frame["current"] = [i == 0 for i in range(len(frame))]
    frame["local_path"] = [local_path(settings.data_dir, i.filename) for i in infos]
    frame["downloaded"] = [p.is_file() for p in frame["local_path"]]
    return frame


def versions_command(args: Any) -> int:
    """``imap-explorer versions NAME``: the versions of one product-day as a table."""
    frame = versions(args.product, start_date=args.start_date, repointing=args.repointing)
    if not len(frame):
        print("No version found.")
        return 0
    shown = frame[["file_name", "ingestion_date", "released", "current", "downloaded"]]
    print(shown.to_string(index=False))
    return 0


# --------------------------------------------------------------------------- compare
@dataclass
class VariableDiff:
    """How one data variable common to both files differs (over the records both files have)."""

    name: str
    dims: str
    compared: int  #: values compared (records in both files times the values per record)
    differ: int  #: values that differ (NaN in both counts as equal)
    max_abs_diff: float | None  #: largest |b - a| over finite pairs (None for text, or when nothing is finite)
    fill_a: int  #: fill/NaN values in A (over every record of A)
    fill_b: int  #: fill/NaN values in B
    attrs_changed: list[str] = field(default_factory=list)  #: variable attributes whose value changed


@dataclass
class Comparison:
    """What differs between two files (normally two versions of one product-day). See :func:`compare`."""

    file_a: str
    file_b: str
    records_a: int
    records_b: int
    span_a: tuple[str | None, str | None]
    span_b: tuple[str | None, str | None]
    records_only_a: int
    records_only_b: int
    variables_added: list[str]
    variables_removed: list[str]
    dims_changed: dict[str, tuple[str, str]]
    attrs_changed: dict[str, tuple[Any, Any]]
    variables: list[VariableDiff]

    @property
    def identical(self) -> bool:
        """True when nothing listed here differs (same records, variables, attributes and values)."""
        return not (self.records_a != self.records_b or self.records_only_a or self.records_only_b
                    or self.variables_added or self.variables_removed or self.dims_changed or self.attrs_changed
                    or any(v.differ or v.attrs_changed or v.fill_a != v.fill_b for v in self.variables))

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types only (JSON-serialisable)."""
        out = asdict(self)
        out["attrs_changed"] = {k: [_plain(a), _plain(b)] for k, (a, b) in self.attrs_changed.items()}
        out["dims_changed"] = {k: list(v) for k, v in self.dims_changed.items()}
        out["span_a"], out["span_b"] = list(self.span_a), list(self.span_b)
        out["identical"] = self.identical
        return out

    # ---- text
    def __str__(self) -> str:
        lines = [f"A: {self.file_a}", f"B: {self.file_b}"]
        lines.append(f"records: A {self.records_a} ({_span(self.span_a)}), B {self.records_b} ({_span(self.span_b)})")
        if self.records_only_a or self.records_only_b:
            lines.append(f"  times only in A: {self.records_only_a}, only in B: {self.records_only_b}")
        if self.variables_added:
            lines.append(f"variables added in B: {', '.join(self.variables_added)}")
        if self.variables_removed:
            lines.append(f"variables removed in B: {', '.join(self.variables_removed)}")
        for name, (a, b) in self.dims_changed.items():
            lines.append(f"dims of {name}: A ({a}) -> B ({b})")
        for name, (a, b) in self.attrs_changed.items():
            lines.append(f"attribute {name}: {_attr_text(a, b)}")
        if self.variables:
            lines.append("data variables (over the times both files have):")
            width = max(len(v.name) for v in self.variables)
            lines.append(f"  {'name':<{width}}  {'differ':>9}  {'of':>9}  {'max |B-A|':>11}  {'fill A':>8}  "
                         f"{'fill B':>8}")
            for v in self.variables:
                diff = "" if v.max_abs_diff is None else f"{v.max_abs_diff:.4g}"
                lines.append(f"  {v.name:<{width}}  {v.differ:>9}  {v.compared:>9}  {diff:>11}  {v.fill_a:>8}  "
                             f"{v.fill_b:>8}" + (f"  attrs: {', '.join(v.attrs_changed)}" if v.attrs_changed else ""))
        if self.identical:
            lines.append("no differences")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Comparison {self.file_a} vs {self.file_b}: {'identical' if self.identical else 'differ'}>"

    # ---- HTML
    def _repr_html_(self) -> str:
        e = html.escape
        parts = [f"<div><b>A</b> {e(self.file_a)}<br><b>B</b> {e(self.file_b)}</div>", "<table>",
                 "<tr><th></th><th>A</th><th>B</th></tr>",
                 f"<tr><td>records</td><td>{self.records_a}</td><td>{self.records_b}</td></tr>",
                 f"<tr><td>time span</td><td>{e(_span(self.span_a))}</td><td>{e(_span(self.span_b))}</td></tr>",
                 f"<tr><td>times in one file only</td><td>{self.records_only_a}</td><td>{self.records_only_b}</td>"
                 "</tr></table>"]
        if self.variables_added or self.variables_removed:
            parts.append(f"<p>variables added in B: {e(', '.join(self.variables_added) or '-')}; removed in B: "
                         f"{e(', '.join(self.variables_removed) or '-')}</p>")
        if self.dims_changed:
            parts.append("<p>dimensions changed: " + "; ".join(
                f"{e(n)}: ({e(a)}) &rarr; ({e(b)})" for n, (a, b) in self.dims_changed.items()) + "</p>")
        if self.attrs_changed:
            parts.append("<table><tr><th>global attribute</th><th>change</th></tr>")
            parts.extend(f"<tr><td>{e(n)}</td><td>{e(_attr_text(a, b))}</td></tr>"
                         for n, (a, b) in self.attrs_changed.items())
            parts.append("</table>")
        if self.variables:
            parts.append("<table><tr><th>data variable</th><th>dims</th><th>values differing</th><th>max |B&minus;A|"
                         "</th><th>fill A</th><th>fill B</th><th>attributes changed</th></tr>")
            for v in self.variables:
                style = ' style="color:#b00"' if v.differ else ""
                diff = "" if v.max_abs_diff is None else f"{v.max_abs_diff:.4g}"
                parts.append(f"<tr><td>{e(v.name)}</td><td>{e(v.dims)}</td><td{style}>{v.differ} / {v.compared}"
                             f"</td><td>{diff}</td><td>{v.fill_a}</td><td>{v.fill_b}</td>"
                             f"<td>{e(', '.join(v.attrs_changed))}</td></tr>")
            parts.append("</table>")
        if self.identical:
            parts.append("<p>No differences.</p>")
        return "\n".join(parts)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _span(span: tuple[str | None, str | None]) -> str:
    return "no records" if span[0] is None else f"{span[0]} .. {span[1]}"


def _attr_text(a: Any, b: Any) -> str:
    """A change of one attribute; for lists (``Parents``) the entries removed and added."""
    if isinstance(a, list) and isinstance(b, list):
        removed = list(dict.fromkeys(x for x in a if x not in b))
        added = list(dict.fromkeys(x for x in b if x not in a))
        return f"removed {removed}, added {added}" if (removed or added) else "same entries, another order"
    if a is None:
        return f"added in B: {b!r}"
    if b is None:
        return f"removed in B (A: {a!r})"
    return f"{a!r} -> {b!r}"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
    except Exception:  # noqa: BLE001 - values numpy cannot compare are compared as text
        return repr(a) == repr(b)


def _resolve(item: Any) -> Path:
    """A path, or an IMAP file name / ``file_path``: in the local archive, downloaded first if missing."""
    if not isinstance(item, (str, os.PathLike)):
        raise TypeError(f"Cannot compare {item!r}: expected a path or an IMAP file name.")
    path = Path(item).expanduser()
    if path.is_file():
        return path
    try:
        info: FileInfo | None = parse_filename(path.name)
    except ValueError:
        info = None
    if info is None or len(path.parts) > 6:
        raise FileNotFoundError(f"No file at {str(path)!r} (and it is not an IMAP file name to look up).")
    target = local_path(config.resolve().data_dir, info.filename)
    if not target.is_file():
        from imap_explorer.transfer import download

        download(info.filename, progress=False)
    return target


def _time_name(ds: Any) -> str | None:
    for name in ("epoch", *ds.dims):
        if name in ds.coords and ds[name].ndim == 1 and ds[name].dtype.kind == "M":
            return name
    return None


def _fill_count(values: np.ndarray, attrs: dict[str, Any]) -> int:
    if values.dtype.kind in "fc":
        return int(np.isnan(values).sum())
    if values.dtype.kind == "M":
        return int(np.isnat(values).sum())
    fill = attrs.get("FILLVAL")
    if fill is None or values.dtype.kind not in "iub":
        return 0
    try:
        return int((values == np.asarray(fill).astype(values.dtype)).sum())
    except (TypeError, ValueError, OverflowError):
        return 0


def _diff_values(a: np.ndarray, b: np.ndarray) -> tuple[int, float | None]:
    """(number of differing values, largest |b - a| over pairs finite in both)."""
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        a, b = a.astype(np.float64), b.astype(np.float64)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        both = np.isfinite(a) & np.isfinite(b)
        delta = np.abs(b[both] - a[both])
        return int((~same).sum()), (float(delta.max()) if delta.size else None)
    if a.dtype.kind == "M" and b.dtype.kind == "M":
        same = (a == b) | (np.isnat(a) & np.isnat(b))
        both = ~np.isnat(a) & ~np.isnat(b)
        delta = np.abs((b[both] - a[both]).astype("timedelta64[ns]").astype(np.int64))
        return int((~same).sum()), (float(delta.max()) if delta.size else None)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        delta = np.abs(b.astype(np.float64) - a.astype(np.float64))
        return int((a != b).sum()), (float(delta.max()) if delta.size else None)
    return int((a != b).sum()), None


def compare(file_a: Any, file_b: Any) -> Comparison:
    """Say what differs between two files, normally two versions of one product-day (A old, B new).

    Metadata is compared first (variables, dimensions, global and variable attributes). Then the files are
    opened with :func:`~imap_explorer.load` with dask chunks: the time axis is read, the records both files have
    are matched by time, and each common data variable (``VAR_TYPE`` data) is read once from each file and
    compared; nothing else is read.

    Parameters
    ----------
    file_a, file_b : path or str
        Local paths, or IMAP file names (looked up in the local archive and downloaded when missing).

    Returns
    -------
    Comparison
        ``records_a``/``records_b``, ``span_a``/``span_b`` (first and last time), ``records_only_a``/``_b``
        (times found in one file only), ``variables_added``/``_removed`` (in B relative to A), ``dims_changed``,
        ``attrs_changed`` (global attributes: ``{name: (a, b)}``), and ``variables``: one :class:`VariableDiff`
        per common data variable (values differing, largest difference, fill counts, attributes changed).
        ``str(report)`` is the text the CLI prints; notebooks show ``_repr_html_``; ``to_dict()`` for tools.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> report = ie.compare("imap_swapi_l3a_proton-sw_20260120_v003.cdf",
    ...                     "imap_swapi_l3a_proton-sw_20260120_v004.cdf")  # doctest: +SKIP
    >>> report.variables_added  # doctest: +SKIP
    """
    from imap_explorer.cdf import _file_dims, _read_file, load

    path_a, path_b = _resolve(file_a), _resolve(file_b)
    meta_a, meta_b = _read_file(path_a, 0), _read_file(path_b, 1)
    names_a, names_b = set(meta_a.variables), set(meta_b.variables)
    (dims_a, _), (dims_b, _) = _file_dims(meta_a), _file_dims(meta_b)  # as load() names them

    def shape_text(meta: Any, dims: dict[str, tuple[str, ...]], name: str) -> str:
        var = meta.variables[name]
        sizes = ((var.n_records,) if var.record_vary else ()) + tuple(var.shape)
        return ", ".join(f"{d}:{n}" for d, n in zip(dims[name], sizes))

    dims_changed = {}
    for name in sorted(names_a & names_b):
        if dims_a[name] != dims_b[name] or tuple(meta_a.variables[name].shape) != tuple(meta_b.variables[name].shape):
            dims_changed[name] = (shape_text(meta_a, dims_a, name), shape_text(meta_b, dims_b, name))
    attrs_changed = {}
    for key in sorted(set(meta_a.global_attrs) | set(meta_b.global_attrs)):
        a, b = meta_a.global_attrs.get(key), meta_b.global_attrs.get(key)
        if not _same(a, b):
            attrs_changed[key] = (_plain(a), _plain(b))

    ds_a, ds_b = load(path_a, chunks={}), load(path_b, chunks={})
    time_a, time_b = _time_name(ds_a), _time_name(ds_b)
    t_a = ds_a[time_a].values if time_a else np.array([], "datetime64[ns]")
    t_b = ds_b[time_b].values if time_b else np.array([], "datetime64[ns]")

    def span(t: np.ndarray) -> tuple[str | None, str | None]:
        valid = t[~np.isnat(t)] if t.size else t
        return (str(valid.min()), str(valid.max())) if valid.size else (None, None)

    common, idx_a, idx_b = np.intersect1d(t_a, t_b, assume_unique=False, return_indices=True)
    identical_times = t_a.shape == t_b.shape and bool(np.array_equal(t_a, t_b))
    variables = []
    for name in sorted(names_a & names_b):
        var_a, var_b = meta_a.variables[name], meta_b.variables[name]
        is_data = "data" in (var_a.attrs.get("VAR_TYPE"), var_b.attrs.get("VAR_TYPE"))
        if not is_data or name not in ds_a.variables or name not in ds_b.variables or name in dims_changed:
            continue
        da, db = ds_a[name], ds_b[name]
        changed = sorted(k for k in set(var_a.attrs) | set(var_b.attrs)
                         if not _same(var_a.attrs.get(k), var_b.attrs.get(k)))
        a, b = np.asarray(da.values), np.asarray(db.values)
        fill_a, fill_b = _fill_count(a, var_a.attrs), _fill_count(b, var_b.attrs)
        record_dim = time_a if (time_a and da.dims[:1] == (time_a,) and db.dims[:1] == (time_b,)) else None
        if record_dim is not None and not identical_times:
            a, b = a[idx_a], b[idx_b]
        if a.shape != b.shape:
            continue
        differ, biggest = _diff_values(a, b)
        variables.append(VariableDiff(name=name, dims=", ".join(da.dims), compared=int(a.size), differ=differ,
                                      max_abs_diff=biggest, fill_a=fill_a, fill_b=fill_b, attrs_changed=changed))
    return Comparison(
        file_a=path_a.name, file_b=path_b.name, records_a=int(t_a.size), records_b=int(t_b.size),
        span_a=span(t_a), span_b=span(t_b), records_only_a=int(t_a.size - common.size),
        records_only_b=int(t_b.size - common.size), variables_added=sorted(names_b - names_a),
        variables_removed=sorted(names_a - names_b), dims_changed=dims_changed, attrs_changed=attrs_changed,
        variables=variables,
    )


def compare_command(args: Any) -> int:
    """``imap-explorer compare A B``: print the comparison (``--json`` for :meth:`Comparison.to_dict`)."""
    report = compare(args.file_a, args.file_b)
    if args.json:
        import json

        print(json.dumps(report.to_dict(), default=str))
    else:
        print(report)
    return 0
