"""``query()``: ask the SDC which files exist, and get a typed :class:`pandas.DataFrame` back.

Every argument is validated before anything is sent, the request is encoded the way the official client
encodes it (``sdc-api.md`` §11), and the answer keeps the API's JSON keys as columns, typed
(§5.7): dates become ``datetime64[ns]`` (UTC, naive), ``repointing``/``cr`` nullable ``Int64``, versions
``int64``, ``released`` ``bool``. Rows are ordered by ``file_path``.

The SDC has no pagination, and a big answer fails on the server (30 s / 6 MB limits, §1). Long date
ranges are therefore split into chunks of :data:`CHUNK_DAYS` days, queried one after the other, then
concatenated and de-duplicated. Version ranking on the server is per ``(instrument, data_level,
descriptor, start_date, repointing)`` series, and every series lies in exactly one chunk, so chunking
never changes the result. A query by ingestion date without a file-date range (what :func:`imap_explorer.sync`
sends) is split by ingestion date instead; the versions of one series may then lie in several chunks, and
the server's ranking is applied again to the union (newest file, or every minor version of the newest
major), which gives what one request would.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from imap_explorer import config
from imap_explorer.exceptions import ApiError
from imap_explorer.filenames import (
    ANCILLARY_EXTENSIONS,
    QUICKLOOK_EXTENSIONS,
    SCIENCE_EXTENSIONS,
    VALID_DATALEVELS,
    VALID_INSTRUMENTS,
    VALID_TABLES,
    parse_filename,
)

__all__ = [
    "CHUNK_DAYS",
    "COLUMNS",
    "QueryResult",
    "api_records",
    "date_chunks",
    "format_table",
    "query",
    "query_params",
    "to_frame",
    "to_json",
]

log = logging.getLogger("imap_explorer.query")

#: Longest date range (days, both ends included) sent in one request; longer ranges are split.
CHUNK_DAYS = 92

#: Columns of each table, in the contract's order, with their dtype kind.
COLUMNS: dict[str, dict[str, str]] = {
    "science": {
        "file_path": "str", "instrument": "str", "data_level": "str", "descriptor": "str", "start_date": "date",
        "repointing": "Int64", "major_version": "int", "minor_version": "int", "ingestion_date": "datetime",
        "cr": "Int64", "crid": "str", "released": "bool", "extension": "str", "version": "str",
    },
    "ancillary": {
        "file_path": "str", "instrument": "str", "descriptor": "str", "start_date": "date", "end_date": "date",
        "version": "str", "extension": "str", "ingestion_date": "datetime", "released": "bool",
    },
    "spice": {
        "file_path": "str", "file_name": "str", "ingestion_date": "datetime", "file_root": "str",
        "kernel_type": "str", "min_date_j2000": "float", "max_date_j2000": "float", "file_intervals_j2000": "str",
        "min_date_datetime": "str", "max_date_datetime": "str", "file_intervals_datetime": "str",
        "min_date_sclk": "str", "max_date_sclk": "str", "file_intervals_sclk": "str", "sclk_kernel": "str",
        "lsk_kernel": "str", "version": "Int64", "released": "bool",
    },
}
COLUMNS["quicklook"] = dict(COLUMNS["science"])

#: Every format the SDC has used for ``ingestion_date`` (§5.7); dates are ``YYYYMMDD``.
DATETIME_FORMATS = ("%Y%m%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d, %H:%M:%S")
DATE_FORMATS = ("%Y%m%d", "%Y-%m-%d")
#: How typed dates go back to the API's strings (``to_json``, ``format_table``).
_API_DATE = "%Y%m%d"
_API_DATETIME = "%Y%m%d %H:%M:%S"

#: Query parameters each table accepts (sdc-api §5.2), by our argument names.
_TABLE_PARAMS = {
    "science": ("instrument", "data_level", "descriptor", "start_date", "end_date", "ingestion_start_date",
                "ingestion_end_date", "repointing", "version", "extension"),
    "ancillary": ("instrument", "descriptor", "start_date", "end_date", "ingestion_start_date",
                  "ingestion_end_date", "version", "extension"),
    "spice": ("ingestion_start_date", "ingestion_end_date", "version"),
}
_TABLE_PARAMS["quicklook"] = _TABLE_PARAMS["science"]
_EXTENSIONS = {"science": SCIENCE_EXTENSIONS, "quicklook": QUICKLOOK_EXTENSIONS, "ancillary": ANCILLARY_EXTENSIONS}
_VERSION_RE = re.compile(r"^v(\d{3})(?:\.(\d{4}))?$")
_REPOINT_RE = re.compile(r"^repoint(\d{5})$")
#: Columns shown first in a notebook (``file_name`` is derived from ``file_path`` for display only).
_DISPLAY_FIRST = ("file_name", "instrument", "data_level", "descriptor", "start_date", "end_date", "version")


# --------------------------------------------------------------------------- the result type
class QueryResult(pd.DataFrame):
    """A plain :class:`pandas.DataFrame` of query results whose notebook display reads well.

    The columns are the API's keys, unchanged. Only the HTML display differs: it shows a derived
    ``file_name`` column first, then instrument, level, descriptor, date and version, then every other
    column (``file_path`` included). Nothing is renamed or hidden.
    """

    @property
    def _constructor(self) -> type[QueryResult]:
        return QueryResult

    def display_frame(self) -> pd.DataFrame:
        """Return the frame as shown in a notebook: ``file_name`` first, then the key columns."""
        view = pd.DataFrame(self, copy=False)
        if "file_path" in view.columns and "file_name" not in view.columns:
            names = view["file_path"].map(lambda p: p.rsplit("/", 1)[-1] if isinstance(p, str) else p)
            view = view.assign(file_name=names)
        first = [c for c in _DISPLAY_FIRST if c in view.columns]
        return view[first + [c for c in view.columns if c not in first]]

    def _repr_html_(self) -> str | None:
        # file names are ~60 characters: do not cut them at pandas' default 50
        width = pd.get_option("display.max_colwidth")
        with pd.option_context("display.max_colwidth", None if width is None else max(100, width)):
            return self.display_frame()._repr_html_()


# --------------------------------------------------------------------------- validation (pure)
def _choices(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def _as_date(value: Any, name: str) -> dt.date | None:
    """Return a :class:`datetime.date` for any accepted date form (``None`` passes through)."""
    if value is None:
        return None
    expected = ("Expected a date as 'YYYYMMDD' or 'YYYY-MM-DD', a datetime.date, a datetime.datetime "
                "or a pandas.Timestamp.")
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        if pd.isna(value):
            raise ValueError(f"Invalid {name} {value!r}. {expected}")
        if value.tzinfo is not None:  # SDC dates are UTC days
            value = value.astimezone(dt.timezone.utc)
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for pattern, fmt in ((r"\d{8}", "%Y%m%d"), (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d")):
            if re.fullmatch(pattern, text):
                try:
                    return dt.datetime.strptime(text, fmt).date()
                except ValueError:
                    break
    raise ValueError(f"Invalid {name} {value!r}. {expected}")


def _as_repointing(value: Any) -> int | None:
    if value is None:
        return None
    number: int | None = None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        m = _REPOINT_RE.match(text)
        if m:
            number = int(m.group(1))
        elif text.isdigit():
            number = int(text)
    if number is None or not 0 <= number <= 99999:
        msg = (f"Invalid repointing {value!r}. Expected an integer from 0 to 99999 (e.g. 12) "
               "or a string 'repoint<NNNNN>' with 5 digits (e.g. 'repoint00012').")
        raise ValueError(msg)
    return number


def _version_params(version: Any, table: str) -> tuple[list[tuple[str, str]], bool]:
    """Return the query parameters for ``version`` and whether "latest" must be resolved client-side."""
    if version is None:
        return [], False
    forms = "'latest', 'vNNN' (e.g. 'v001') or 'vNNN.NNNN' (e.g. 'v001.0002')"
    if not isinstance(version, str):
        raise ValueError(f"Invalid version {version!r}. Expected {forms}.")
    if version.strip().lower() == "latest":
        return ([("latest", "true")], False) if table == "science" else ([], True)
    m = _VERSION_RE.match(version.strip())
    if not m:
        raise ValueError(f"Invalid version {version!r}. Expected {forms}.")
    major, minor = m.group(1), m.group(2)
    if table in ("science", "quicklook"):
        # The server turns version=vMMM.mmmm into major/minor itself (§5.5); sending them explicitly
        # also works for quicklook, whose valid parameters do not include `version`.
        if minor is None:
            return [("minor_version", str(int(major)))], False
        return [("major_version", str(int(major))), ("minor_version", str(int(minor)))], False
    if minor is not None:
        msg = f"Invalid version {version!r} for the {table} table. Expected 'latest' or 'vNNN' (e.g. 'v002')."
        raise ValueError(msg)
    if table == "spice":
        return [("version", str(int(major)))], False
    return [("version", f"v{major}")], False


def query_params(
    *,
    table: str = "science",
    instrument: str | None = None,
    data_level: str | None = None,
    descriptor: str | None = None,
    start_date: Any = None,
    end_date: Any = None,
    ingestion_start_date: Any = None,
    ingestion_end_date: Any = None,
    repointing: int | str | None = None,
    version: str | None = None,
    extension: str | None = None,
) -> tuple[list[tuple[str, str]], bool]:
    """Validate the arguments of :func:`query` and return ``(params, latest_client_side)``.

    ``params`` is the query string as ``(name, value)`` pairs in the official client's order
    (``table`` first, ``latest=true`` last). Nothing is sent.

    Raises
    ------
    ValueError
        Naming the bad value and listing what is valid.

    Examples
    --------
    >>> query_params(instrument="mag", start_date="2025-12-01", repointing="repoint00002", version="latest")
    ([('table', 'science'), ('instrument', 'mag'), ('start_date', '20251201'), ('repointing', '2'), ('latest', 'true')], False)
    """  # noqa: E501
    if table not in VALID_TABLES:
        raise ValueError(f"Unknown table {table!r}. Expected one of: {_choices(VALID_TABLES)}.")
    given = {
        "instrument": instrument, "data_level": data_level, "descriptor": descriptor, "start_date": start_date,
        "end_date": end_date, "ingestion_start_date": ingestion_start_date, "ingestion_end_date": ingestion_end_date,
        "repointing": repointing, "version": version, "extension": extension,
    }
    allowed = _TABLE_PARAMS[table]
    for name, value in given.items():
        if value is not None and name not in allowed:
            msg = (f"{name}={value!r} cannot be used with the {table} table. "
                   f"Parameters of the {table} table: {_choices(allowed)}.")
            raise ValueError(msg)
    if all(value is None for value in given.values()):
        raise ValueError("At least one query parameter must be provided besides the table "
                         f"(one of: {_choices(allowed)}).")
    if instrument is not None and instrument not in VALID_INSTRUMENTS:
        raise ValueError(f"Unknown instrument {instrument!r}. Expected one of: {_choices(VALID_INSTRUMENTS)}. "
                         "IMAP instruments are lower case, e.g. 'mag'.")
    if data_level is not None and data_level not in VALID_DATALEVELS:
        raise ValueError(f"Unknown data level {data_level!r}. Expected one of: {_choices(VALID_DATALEVELS)}. "
                         "IMAP levels are lower case, e.g. 'l1b' or 'l2'.")
    if descriptor is not None and (not isinstance(descriptor, str) or not descriptor or "_" in descriptor
                                   or "/" in descriptor):
        raise ValueError(f"Invalid descriptor {descriptor!r}. Expected the descriptor part of a file name, "
                         "without '_' or '/', e.g. 'norm-gse' or 'sci'.")
    if extension is not None and extension not in _EXTENSIONS[table]:
        raise ValueError(f"Unknown extension {extension!r} for the {table} table. "
                         f"Expected one of: {_choices(_EXTENSIONS[table])}.")
    dates = {name: _as_date(given[name], name)
             for name in ("start_date", "end_date", "ingestion_start_date", "ingestion_end_date")}
    for first, last in (("start_date", "end_date"), ("ingestion_start_date", "ingestion_end_date")):
        if dates[first] and dates[last] and dates[first] > dates[last]:
            raise ValueError(f"{first} {given[first]!r} is after {last} {given[last]!r}; "
                             "both ends are inclusive, so the range is empty.")
    repoint = _as_repointing(repointing)
    version_pairs, latest_client_side = _version_params(version, table)

    params: list[tuple[str, str]] = [("table", table)]
    for name in ("instrument", "data_level", "descriptor"):
        if given[name] is not None:
            params.append((name, given[name]))
    for name, day in dates.items():
        if day is not None:
            params.append((name, day.strftime(_API_DATE)))
    if repoint is not None:
        params.append(("repointing", str(repoint)))
    latest = [p for p in version_pairs if p[0] == "latest"]
    params.extend(p for p in version_pairs if p[0] != "latest")
    if extension is not None:
        params.append(("extension", extension))
    params.extend(latest)
    return params, latest_client_side


def date_chunks(start: dt.date, end: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """Split the inclusive range ``[start, end]`` into consecutive inclusive chunks of ``days`` days.

    Examples
    --------
    >>> [(a.isoformat(), b.isoformat()) for a, b in date_chunks(dt.date(2026, 1, 1), dt.date(2026, 1, 7), 3)]
    [('2026-01-01', '2026-01-03'), ('2026-01-04', '2026-01-06'), ('2026-01-07', '2026-01-07')]
    """
    if days < 1:
        raise ValueError(f"Invalid chunk size {days!r}. Expected a number of days >= 1.")
    chunks = []
    step = dt.timedelta(days=days)
    while start <= end:
        stop = min(start + step - dt.timedelta(days=1), end)
        chunks.append((start, stop))
        start = stop + dt.timedelta(days=1)
    return chunks


# --------------------------------------------------------------------------- records -> typed frame
def _parse_times(values: pd.Series, formats: Sequence[str], column: str) -> pd.Series:
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    text = values.where(values.notna(), None)
    for fmt in formats:
        missing = out.isna() & text.notna()
        if not missing.any():
            break
        out[missing] = pd.to_datetime(text[missing], format=fmt, errors="coerce")
    bad = out.isna() & text.notna()
    if bad.any():
        sample = text[bad].iloc[0]
        msg = (f"Unexpected {column} value {sample!r} in the SDC answer. "
               f"Expected one of the formats: {', '.join(repr(f) for f in formats)}.")
        raise ValueError(msg)
    return out.astype("datetime64[ns]")


def _typed_column(values: pd.Series, kind: str, column: str) -> pd.Series:
    if kind == "date":
        return _parse_times(values, DATE_FORMATS, column)
    if kind == "datetime":
        return _parse_times(values, DATETIME_FORMATS, column)
    if kind == "Int64":
        return pd.to_numeric(values, errors="raise").astype("Int64")
    if kind == "int":
        numbers = pd.to_numeric(values, errors="raise")
        return numbers.astype("Int64") if numbers.isna().any() else numbers.astype("int64")
    if kind == "float":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "bool":
        if values.map(lambda v: isinstance(v, str)).any():  # "true"/"false" text, never bool("false")
            values = values.map(lambda v: v.strip().lower() in ("true", "t", "1") if isinstance(v, str) else v)
        if values.isna().any():
            return values.astype("boolean")
        return values.astype(bool)
    return values.astype(object)


def _empty_column(kind: str) -> pd.Series:
    dtype = {"date": "datetime64[ns]", "datetime": "datetime64[ns]", "Int64": "Int64", "int": "int64",
             "float": "float64", "bool": "bool"}.get(kind, object)
    return pd.Series([], dtype=dtype)


def to_frame(records: list[dict[str, Any]], table: str = "science") -> QueryResult:
    """Turn the SDC's JSON records into a typed :class:`QueryResult` ordered by ``file_path``.

    Contract columns come first, in the contract's order (missing keys become all-null columns so the
    schema is stable); any other key the server sent follows, unchanged.
    """
    schema = COLUMNS[table]
    if not records:
        return QueryResult({name: _empty_column(kind) for name, kind in schema.items()})
    raw = pd.DataFrame.from_records(records)
    extra = [c for c in raw.columns if c not in schema]
    data: dict[str, pd.Series] = {}
    for name, kind in schema.items():
        values = raw[name] if name in raw.columns else pd.Series([None] * len(raw), dtype=object)
        data[name] = _typed_column(values, kind, name)
    for name in extra:
        data[name] = raw[name]
    frame = QueryResult(data)
    if "file_path" in frame.columns:
        frame = frame.sort_values("file_path", kind="stable", ignore_index=True)
    return frame


def _ingestion_chunks(params: list[tuple[str, str]], ingestion_start_date: Any, ingestion_end_date: Any,
                      chunk_days: int) -> tuple[list[list[tuple[str, str]]], bool]:
    """The requests of a query by ingestion date split into ``chunk_days`` windows, and whether it was split.

    An open end runs to today (UTC); the last window then stays open, so that nothing ingested later is missed.
    """
    first = _as_date(ingestion_start_date, "ingestion_start_date")
    last = _as_date(ingestion_end_date, "ingestion_end_date")
    end = last or dt.datetime.now(dt.timezone.utc).date()
    if first is None or (end - first).days + 1 <= chunk_days:
        return [params], False
    names = ("ingestion_start_date", "ingestion_end_date")
    rest = [(k, v) for k, v in params if k not in names]
    requests = []
    windows = date_chunks(first, end, chunk_days)
    for i, (lo, hi) in enumerate(windows):
        bounds = [("ingestion_start_date", lo.strftime(_API_DATE))]
        if last is not None or i < len(windows) - 1:
            bounds.append(("ingestion_end_date", hi.strftime(_API_DATE)))
        requests.append(rest + bounds)
    return requests, True


def _series_key(item: dict[str, Any]) -> tuple:
    """(instrument, descriptor, data_level, start_date, repointing, file_root): what the SDC ranks versions in."""
    if "repointing" in item:
        repointing = item["repointing"]
    else:
        try:  # ancillary records carry no repointing key: the file name has it (…_20250101-repoint00010_v001.csv)
            repointing = parse_filename(str(item.get("file_path"))).repointing
        except ValueError:
            repointing = None
    return (item.get("instrument"), item.get("descriptor"), item.get("data_level"), item.get("start_date"),
            repointing, item.get("file_root"))


def _newest_major_per_series(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep every minor version of the newest major version per series: the SDC's default ranking (§5.5)."""
    newest: dict[tuple, int] = {}
    for item in records:
        key = _series_key(item)
        newest[key] = max(newest.get(key, -1), int(item.get("major_version") or 0))
    return [item for item in records if int(item.get("major_version") or 0) == newest[_series_key(item)]]


def _latest_per_series(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the newest version per (instrument, descriptor, data_level, start_date, repointing) (§12.2).

    SPICE records have none of those keys: their series is the ``file_root``, and their ``version`` an integer.
    """

    def rank(item: dict[str, Any]) -> tuple:
        if item.get("minor_version") is not None:
            return (1, item.get("major_version") or 0, item["minor_version"], "")
        version = item.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            return (0, version, 0, "")
        return (0, 0, 0, str(version or ""))

    best: dict[tuple, dict[str, Any]] = {}
    for item in records:
        key = _series_key(item)
        if key not in best or rank(item) > rank(best[key]):
            best[key] = item
    return list(best.values())


def _spice_query_params(params: list[tuple[str, str]], latest: bool) -> list[tuple[str, str]]:
    """The ``/spice-query`` parameters for the ``/query`` parameters of a spice query (§9.1, §11).

    ``table`` is dropped, ``latest=true`` comes first and the ingestion dates take their ``/spice-query``
    names, as the official client sends them. A version number is not sent: the SDC refuses ``version``
    there, so it is matched here (see :func:`_spice_version`).
    """
    names = {"ingestion_start_date": "start_ingest_date", "ingestion_end_date": "end_ingest_date"}
    out = [("latest", "true")] if latest else []
    out.extend((names[k], v) for k, v in params if k in names)
    return out


def _spice_version(params: list[tuple[str, str]]) -> int | None:
    """The kernel version asked for (``version="vNNN"``), matched client-side; None for any version."""
    return next((int(v) for k, v in params if k == "version"), None)


def _spice_record(record: dict[str, Any]) -> dict[str, Any]:
    """Add the storage key ``file_path`` to a ``/spice-query`` record.

    The record names the kernel by ``file_name`` (``<subdir>/<name>``) only; the storage key is what
    :func:`~imap_explorer.download` needs.
    """
    if record.get("file_path") is not None or not isinstance(record.get("file_name"), str):
        return record
    name = record["file_name"].rsplit("/", 1)[-1]
    try:
        key: str | None = parse_filename(name).key
    except ValueError:
        key = f"imap/spice/{record['file_name']}" if "/" in record["file_name"] else None
    return {"file_path": key, **record}


# --------------------------------------------------------------------------- the public call
def query(
    *,
    table: str = "science",
    instrument: str | None = None,
    data_level: str | None = None,
    descriptor: str | None = None,
    start_date: Any = None,
    end_date: Any = None,
    ingestion_start_date: Any = None,
    ingestion_end_date: Any = None,
    repointing: int | str | None = None,
    version: str | None = None,
    extension: str | None = None,
    chunk_days: int | None = CHUNK_DAYS,
) -> pd.DataFrame:
    """Find files in the IMAP Science Data Center.

    Every argument is checked before any request. A file matches a date range when its ``start_date``
    lies in ``[start_date, end_date]`` (both ends included, as on the SDC). Without ``version`` the SDC
    returns every minor version of the newest major version; ``version="latest"`` keeps only the newest
    file of each series.

    Parameters
    ----------
    table : {"science", "ancillary", "quicklook", "spice"}, default "science"
        The SDC table. SPICE kernels are asked of ``/spice-query`` (``/query?table=spice`` fails on the
        SDC as soon as a kernel matches); their ``file_path`` is derived from ``file_name``.
    instrument : str, optional
        Instrument, e.g. ``"mag"``; one of :data:`~imap_explorer.filenames.VALID_INSTRUMENTS`.
    data_level : str, optional
        Data level, e.g. ``"l2"``; one of :data:`~imap_explorer.filenames.VALID_DATALEVELS`.
    descriptor : str, optional
        Descriptor, exact match, e.g. ``"norm-gse"``.
    start_date, end_date : str, datetime.date, datetime.datetime or pandas.Timestamp, optional
        First and last file date (inclusive), as ``"YYYYMMDD"``, ``"YYYY-MM-DD"`` or a date object
        (a timezone-aware datetime counts by its UTC day).
    ingestion_start_date, ingestion_end_date : same as start_date, optional
        First and last ingestion day (UTC, inclusive).
    repointing : int or str, optional
        Repointing number, ``12`` or ``"repoint00012"``.
    version : str, optional
        ``"latest"`` (sent as ``latest=true`` for science, resolved here for other tables), ``"vNNN"``
        (minor version; ancillary version) or ``"vNNN.NNNN"`` (major and minor version).
    extension : str, optional
        File extension, e.g. ``"cdf"`` or ``"pkts"``.
    chunk_days : int or None, default :data:`CHUNK_DAYS`
        When both ``start_date`` and ``end_date`` are given and the range is longer than this many days,
        it is queried in chunks of this size and the results are concatenated. Without them, a range of
        ingestion dates longer than this (to today when open-ended) is split the same way. ``None`` sends one
        request.

    Returns
    -------
    pandas.DataFrame
        A :class:`QueryResult` (a DataFrame subclass) with the API's keys as columns: for science
        ``file_path, instrument, data_level, descriptor, start_date, repointing, major_version,
        minor_version, ingestion_date, cr, crid, released, extension, version``. ``start_date``
        (ancillary ``end_date`` too) and ``ingestion_date`` are ``datetime64[ns]`` (UTC),
        ``repointing``/``cr`` ``Int64``, versions ``int64``, ``released`` ``bool``. Rows are ordered by
        ``file_path``. No match gives an empty frame with the same columns.

    Raises
    ------
    ValueError
        An unknown table, instrument, level or extension, or a malformed date, version or repointing.
    imap_explorer.ApiError
        The SDC answered with an error (status, URL and the server's message are attached) or could not
        be reached.

    See Also
    --------
    imap_explorer.download : fetch the files of the result.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> files = ie.query(instrument="mag", data_level="l2", start_date="2026-01-20",
    ...                  end_date="2026-01-21", version="latest")  # doctest: +SKIP
    >>> paths = ie.download(files)  # doctest: +SKIP
    """
    params, latest_client_side = query_params(
        table=table, instrument=instrument, data_level=data_level, descriptor=descriptor, start_date=start_date,
        end_date=end_date, ingestion_start_date=ingestion_start_date, ingestion_end_date=ingestion_end_date,
        repointing=repointing, version=version, extension=extension,
    )
    if chunk_days is not None and (not isinstance(chunk_days, int) or chunk_days < 1):
        raise ValueError(f"Invalid chunk_days {chunk_days!r}. Expected a whole number of days >= 1, or None.")
    requests_params = [params]
    first, last = _as_date(start_date, "start_date"), _as_date(end_date, "end_date")
    by_ingestion = False
    if chunk_days and first and last and (last - first).days + 1 > chunk_days:
        requests_params = []
        for lo, hi in date_chunks(first, last, chunk_days):
            bounds = {"start_date": lo.strftime(_API_DATE), "end_date": hi.strftime(_API_DATE)}
            requests_params.append([(k, bounds.get(k, v)) for k, v in params])
    elif chunk_days and not (first and last) and table != "spice":
        requests_params, by_ingestion = _ingestion_chunks(params, ingestion_start_date, ingestion_end_date,
                                                          chunk_days)

    from imap_explorer._http import Client

    route, wanted_version = "query", None
    if table == "spice":  # /query?table=spice fails on the SDC as soon as a kernel matches (§5.7)
        route = "spice-query"
        requests_params, wanted_version = [_spice_query_params(params, latest_client_side)], _spice_version(params)
        latest_client_side = False
    settings = config.resolve()
    seen: dict[str, dict[str, Any]] = {}
    with Client(settings) as client:
        for chunk in requests_params:
            log.info("%s %s", route, chunk)
            answer = client.get_json(route, chunk)
            if not isinstance(answer, list) or not all(isinstance(r, dict) for r in answer):
                raise ApiError(200, client.url_for(route), f"expected a JSON list of records, got "
                               f"{json.dumps(answer)[:200]}", "OK")
            for record in answer:
                if route == "spice-query":
                    record = _spice_record(record)
                seen.setdefault(str(record.get("file_path")), record)
    records = list(seen.values())
    if wanted_version is not None:
        records = [r for r in records if r.get("version") == wanted_version]
    sent = {k for k, _ in params}
    if latest_client_side or (by_ingestion and table == "science" and "latest" in sent):
        records = _latest_per_series(records)
    elif by_ingestion and table == "science" and "major_version" not in sent:
        records = _newest_major_per_series(records)  # the SDC's default ranking, also under a minor_version filter
    frame = to_frame(records, table)
    frame.attrs["table"] = table
    return frame


# --------------------------------------------------------------------------- output for humans and tools
def _api_value(value: Any) -> Any:
    """One cell of an object column as a JSON value (NA -> None, numpy scalars -> Python)."""
    if isinstance(value, (str, list, dict, bool, int)) or value is None:
        return value
    if pd.isna(value):
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        return pd.Timestamp(value).strftime(_API_DATETIME)
    return value.item() if isinstance(value, np.generic) else value


def _api_column(values: pd.Series, column: str) -> list[Any]:
    """A column as JSON values: dates back to the API's strings, NA to None (vectorized where possible)."""
    missing = values.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        text = values.dt.strftime(_API_DATE if column in ("start_date", "end_date") else _API_DATETIME)
        out = text.astype(object).tolist()
    elif isinstance(values.dtype, pd.api.extensions.ExtensionDtype) or values.dtype.kind in "biuf":
        out = values.astype(object).tolist()  # numpy/extension scalars -> Python int/bool/float
    else:
        return [v if type(v) is str else _api_value(v) for v in values.tolist()]
    return [None if m else v for v, m in zip(out, missing)]


def api_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the frame's rows as the API's JSON records (dates back to the API's strings)."""
    columns = [str(c) for c in frame.columns]
    data = [_api_column(frame.iloc[:, i], c) for i, c in enumerate(columns)]
    return [dict(zip(columns, row)) for row in zip(*data)]


def to_json(frame: pd.DataFrame) -> str:
    """Return the rows as a one-line JSON list of records, keyed and formatted like the SDC's answer.

    Examples
    --------
    >>> to_json(to_frame([]))
    '[]'
    """
    return json.dumps(api_records(frame))


_TABLE_HEADERS = {
    "science": [("Instrument", "instrument"), ("Data Level", "data_level"), ("Descriptor", "descriptor"),
                ("Start Date", "start_date"), ("Ingestion Date", "ingestion_date"), ("Version", "version")],
    "ancillary": [("Instrument", "instrument"), ("Descriptor", "descriptor"), ("Start Date", "start_date"),
                  ("End Date", "end_date"), ("Ingestion Date", "ingestion_date"), ("Version", "version")],
    "spice": [("Kernel Type", "kernel_type"), ("Min Date", "min_date_datetime"), ("Max Date", "max_date_datetime"),
              ("Ingestion Date", "ingestion_date"), ("Version", "version")],
}
_TABLE_HEADERS["quicklook"] = _TABLE_HEADERS["science"]


def format_table(frame: pd.DataFrame, table: str = "science") -> str:
    """Return the bordered text table the CLI prints, like the official client's.

    The first line is ``Found [N] matching files in <table> table`` (``Found [0] matching files`` when
    empty). Columns for science: Instrument | Data Level | Descriptor | Start Date | Ingestion Date |
    Version | Filename, with CR and Repointing added before Filename when any row has one. Values are
    the API's strings; column widths fit the data.

    Examples
    --------
    >>> print(format_table(to_frame([]), "science"))
    Found [0] matching files
    """
    records = api_records(frame)
    if not records:
        return "Found [0] matching files"
    headers = list(_TABLE_HEADERS.get(table, _TABLE_HEADERS["science"]))
    if table in ("science", "quicklook"):
        for title, key in (("CR", "cr"), ("Repointing", "repointing")):
            if any(r.get(key) is not None for r in records):
                headers.append((title, key))
    file_key = "file_name" if table == "spice" else "file_path"
    rows = []
    for r in records:
        cells = ["" if r.get(key) is None else str(r.get(key)) for _, key in headers]
        name = r.get(file_key) or ""
        cells.append(str(name).rsplit("/", 1)[-1])
        rows.append(cells)
    titles = [title for title, _ in headers] + ["Filename"]
    widths = [max(len(t), *(len(row[i]) for row in rows)) for i, t in enumerate(titles)]
    line = "|" + "-" * (sum(widths) + 3 * len(widths) - 1) + "|"

    def fmt(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    out = [f"Found [{len(records)}] matching files in {table} table", line, fmt(titles), line]
    out.extend(fmt(row) for row in rows)
    out.append(line)
    return "\n".join(out)
