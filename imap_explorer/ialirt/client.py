"""The I-ALiRT client: ``/space-weather`` into a DataFrame, the file routes, downloads and ``get_data``.

HTTP goes through :class:`imap_explorer._http.Client` (timeouts, retries on 429/5xx and dropped connections,
credentials only to the API origin, redirects by hand). Rules of ``ialirt-api.md`` §6, §11:

* a span longer than an instrument's window is tiled into windows (MAG 3 h, SWAPI 12 h, ...: about 3/4 of the
  server's 1 MB); the windows of all instruments are fetched in parallel; a window the server refuses as too large
  (its size 400) is split in two and fetched again, and the instrument's later windows start at the accepted size;
  records repeated on the inclusive window edges are kept once, the later copy winning;
* ``IMAP_API_KEY`` sends ``/space-weather`` and ``/ialirt-download`` to the ``/api-key`` routes with ``x-api-key``;
  the file queries exist only on the public routes, so they never carry the key;
* a keyless query before the public cutoff fails at once with an error that names the cutoff and says an API key
  is needed; it is never retried.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from imap_explorer import config
from imap_explorer._http import Client
from imap_explorer.exceptions import ApiError, DownloadError
from imap_explorer.ialirt._schema import (
    ARCHIVE_EPOCHS,
    CHUNK_HOURS,
    DEFAULT_CHUNK_HOURS,
    FIELDS,
    INSTRUMENTS,
    SCIENCE,
)
from imap_explorer.ialirt.frame import assemble, dedupe, frame_parts, records_to_frame, to_dataset
from imap_explorer.transfer import completed

__all__ = ["FILETYPES", "archive_query", "download", "fetch_records", "get_data", "log_query", "packet_query",
           "space_weather"]

#: File types of ``/ialirt-download`` (§7.4).
FILETYPES = ("archive", "coverage", "logs", "packets", "realtime")
_SIZE_LIMIT = "more data than allowed in a single query"
_CUTOFF = re.compile(r"API key required for data prior to (\S+)")
_ONE_SECOND = dt.timedelta(seconds=1)
_ARCHIVE_NAME = re.compile(r"^imap_ialirt_l1_realtime_(\d{8})_(v\d{3})\.cdf$")


# ---------------------------------------------------------------------------------------------- settings
class _IalirtClient(Client):
    """The project's HTTP client bound to the I-ALiRT host; ``download/<key>`` is ``ialirt-download/<key>``."""

    def url_for(self, route: str) -> str:
        route = route.lstrip("/")
        if route.startswith("download/"):
            route = "ialirt-download/" + route[len("download/"):]
        return super().url_for(route)


def _settings(*, keyed: bool, data_dir: Any = None) -> config.Settings:
    s = config.resolve(data_dir=data_dir)
    url = config._check_url(s.ialirt_url, "I-ALiRT", config.DEFAULT_IALIRT_URL)
    for prefix in ("/api-key", "/authorized"):  # the official README's advice to put /api-key in the URL
        if url.endswith(prefix):
            url = url[: -len(prefix)]
    return s.with_(url=url, access_token=None, api_key=s.api_key if keyed else None)


def _client(*, keyed: bool, pool_size: int = 10) -> _IalirtClient:
    return _IalirtClient(_settings(keyed=keyed), pool_size=pool_size)


def _server_words(err: ApiError) -> str:
    """The server's words of an error: ``{"error": ...}`` bodies unwrapped like ``{"message": ...}``."""
    try:
        value = json.loads(err.body)
    except ValueError:
        return err.body
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        return value["error"]
    return err.body


def _refine(err: ApiError) -> ApiError:
    words = _server_words(err)
    match = _CUTOFF.search(words)
    if err.status == 400 and match:
        words = (f"{words}: the public I-ALiRT service serves data from {match.group(1)} UTC on; an API key is "
                 "needed for earlier data (set IMAP_API_KEY, or imap_explorer.set_options(api_key=...)).")
    if words == err.body:
        return err
    out = ApiError(err.status, err.url, words, err.reason)
    out.retryable = False
    return out


# ---------------------------------------------------------------------------------------------- arguments
def _instruments(instrument: str | Sequence[str] | None) -> list[str]:
    if instrument is None:
        return list(SCIENCE)
    names = [instrument] if isinstance(instrument, str) else list(instrument)
    if not names:
        raise ValueError("instrument=[] names no I-ALiRT instrument; pass None for the six science instruments.")
    for name in names:
        if not isinstance(name, str) or (name not in INSTRUMENTS and not name.endswith("_hk")):
            msg = (f"Unknown I-ALiRT instrument {name!r}. Expected one of: {', '.join(sorted(INSTRUMENTS))} "
                   "(or <instrument>_hk); names are lower case.")
            raise ValueError(msg)
    return list(dict.fromkeys(names))


def _time(value: Any, what: str) -> dt.datetime | None:
    """A UTC time as a naive datetime floored to the second; time zones are converted (the server drops them)."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        msg = (f"Invalid {what} {value!r}. Expected a UTC time such as '2026-02-10T08:00:00', a datetime or a "
               "pandas Timestamp.")
        raise ValueError(msg) from err
    if stamp is pd.NaT:
        raise ValueError(f"Invalid {what} {value!r}: not a time.")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.floor("s").to_pydatetime()


def _chunk(chunk: Any, instrument: str) -> dt.timedelta:
    if chunk is None:
        return dt.timedelta(hours=CHUNK_HOURS.get(instrument, DEFAULT_CHUNK_HOURS))
    try:
        value = pd.Timedelta(hours=chunk) if isinstance(chunk, (int, float)) else pd.Timedelta(chunk)
    except (ValueError, TypeError) as err:
        raise ValueError(f"Invalid chunk {chunk!r}. Expected a duration such as '1h', a timedelta, or hours.") from err
    if value < pd.Timedelta(seconds=1):
        raise ValueError(f"Invalid chunk {chunk!r}. Expected at least one second.")
    return value.to_pytimedelta()


class _Plan:
    """The windows of one fetch, handed out one at a time, in turn over the instruments.

    Each instrument's span is tiled into inclusive windows [t, t + chunk] (neighbours share their edge second).
    When the server refuses a window as too large, the window is bisected (:func:`_fetch_window`) and the
    instrument's later windows start at the length that was accepted: the client learns the largest window it may
    ask for instead of halving every window again.

    Examples
    --------
    >>> plan = _Plan(["mag", "hit"], dt.datetime(2026, 2, 10), dt.datetime(2026, 2, 10, 5), "2h")
    >>> [(w[0], w[2].hour, w[3].hour) for w in iter(plan.next, None)]
    [('mag', 0, 2), ('hit', 0, 2), ('mag', 2, 4), ('hit', 2, 4), ('mag', 4, 5), ('hit', 4, 5)]
    """

    def __init__(self, names: Sequence[str], start: dt.datetime | None, end: dt.datetime | None,
                 chunk: Any) -> None:
        self.start, self.end = start, end
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._chunks = {name: _chunk(chunk, name) for name in names}
        self._cursors: dict[str, dt.datetime | None] = dict.fromkeys(names, start)
        self._count = dict.fromkeys(names, 0)
        self._turns = deque(names)

    def size(self) -> int:
        """How many windows the plan holds if none is refused."""
        if self.start is None or self.end is None:
            return len(self._chunks)
        span = self.end - self.start
        return sum(max(1, -(-span // chunk)) for chunk in self._chunks.values())

    def next(self) -> tuple[str, int, dt.datetime | None, dt.datetime | None] | None:
        """``(instrument, sequence number, start, end)`` of the next window, or None when all are handed out."""
        with self._lock:
            if self.cancel.is_set() or not self._turns:
                return None
            name = self._turns.popleft()
            t = self._cursors[name]
            seq = self._count[name]
            self._count[name] += 1
            if t is None or self.end is None:  # no span: the server's last hour, one request
                return name, seq, None, None
            stop = min(t + self._chunks[name], self.end)
            if stop < self.end:
                self._cursors[name] = stop
                self._turns.append(name)
            return name, seq, t, stop

    def refused(self, name: str, length: dt.timedelta) -> None:
        """The server found a window of ``length`` too large: later windows of ``name`` get half of it."""
        half = max(_ONE_SECOND, dt.timedelta(seconds=int(length.total_seconds() // 2)))
        with self._lock:
            self._chunks[name] = min(self._chunks[name], half)


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


# ---------------------------------------------------------------------------------------------- /space-weather
def _records(body: Any) -> list[dict]:
    if isinstance(body, dict):
        data = body.get("data", [])
    else:  # the historic /ialirt-db-query answered a plain list
        data = body
    if not isinstance(data, list):
        raise ApiError(200, "", f"unexpected /space-weather answer: {str(body)[:200]!r}", "OK")
    return [r for r in data if isinstance(r, dict)]


def _fetch_window(client: Client, instrument: str, start: dt.datetime | None, end: dt.datetime | None,
                  plan: _Plan) -> list[dict]:
    """One window; a window over the size limit is split in two (down to one second), and the plan told."""
    if plan.cancel.is_set():
        return []
    params = [("instrument", instrument)]
    if start is not None:
        params.append(("time_utc_start", _fmt(start)))
    if end is not None:
        params.append(("time_utc_end", _fmt(end)))
    try:
        return _records(client.get_json("space-weather", params))
    except ApiError as err:
        if err.status == 400 and _SIZE_LIMIT in err.body and start is not None and end is not None \
                and end - start > _ONE_SECOND:
            plan.refused(instrument, end - start)
            middle = start + (end - start) / 2
            middle = middle.replace(microsecond=0)
            return (_fetch_window(client, instrument, start, middle, plan)
                    + _fetch_window(client, instrument, middle, end, plan))
        raise _refine(err) from err


_gc_pause_lock = threading.Lock()
_gc_pauses = [0, False]  # fetches pausing the collector now, and whether it was enabled before the first


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while a large answer is decoded and kept.

    Decoding builds millions of small objects that all stay alive; each automatic collection would walk them all
    again (half of the decoding time for a week of records). Nothing collectable is made meanwhile. Fetches in
    several threads share the pause: the collector is enabled again when the last one ends, and only if it was
    enabled before the first began.
    """
    with _gc_pause_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_pause_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def _fetch(*, instrument: Any, time_utc_start: Any, time_utc_end: Any, chunk: Any, max_workers: int,
           convert: Callable[[list[dict]], Any]) -> list[Any]:
    """``convert(records)`` of every window, instrument by instrument, windows in time order.

    ``max_workers`` threads take windows from a :class:`_Plan` until none is left; each answer is converted in
    the thread that fetched it, so that its records are freed while they are fresh in memory.
    """
    names = _instruments(instrument)
    start, end = _time(time_utc_start, "time_utc_start"), _time(time_utc_end, "time_utc_end")
    if start is not None and end is not None and end < start:
        msg = f"time_utc_end {_fmt(end)} is before time_utc_start {_fmt(start)}; expected start <= end."
        raise ValueError(msg)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ValueError(f"Invalid max_workers {max_workers!r}. Expected a whole number >= 1.")
    if start is not None and end is None:
        end = start + dt.timedelta(hours=1)
    elif end is not None and start is None:
        start = end - dt.timedelta(hours=1)
    plan = _Plan(names, start, end, chunk)
    results: dict[tuple[str, int], Any] = {}

    def work() -> None:
        try:
            while (task := plan.next()) is not None:
                name, seq, a, b = task
                results[name, seq] = convert(_fetch_window(client, name, a, b, plan))
        except BaseException:
            plan.cancel.set()  # the other threads stop after their current window
            raise

    workers = min(max_workers, plan.size())
    with _client(keyed=True, pool_size=workers) as client:
        if workers == 1:
            work()
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ialirt") as pool:
                futures = [pool.submit(work) for _ in range(workers)]
                try:
                    for future in completed(futures):  # wakes up to notice a Ctrl-C (see transfer.completed)
                        future.result()
                except BaseException:  # also a KeyboardInterrupt while waiting
                    plan.cancel.set()
                    raise
    order = {name: i for i, name in enumerate(names)}
    return [results[key] for key in sorted(results, key=lambda k: (order[k[0]], k[1]))]


def fetch_records(*, instrument: str | Sequence[str] | None = None, time_utc_start: Any = None,
                  time_utc_end: Any = None, chunk: Any = None, max_workers: int = 8) -> list[dict]:
    """The raw JSON records of :func:`space_weather`, de-duplicated on (``instrument``, ``time_utc``)."""
    with _gc_paused():  # from the first decoded answer until de-duplication is done (see _gc_paused)
        parts = _fetch(instrument=instrument, time_utc_start=time_utc_start, time_utc_end=time_utc_end,
                       chunk=chunk, max_workers=max_workers, convert=lambda records: records)
        return dedupe(chain.from_iterable(parts))


def space_weather(*, instrument: str | Sequence[str] | None = None, time_utc_start: Any = None,
                  time_utc_end: Any = None, chunk: Any = None, max_workers: int = 8) -> pd.DataFrame:
    """Fetch I-ALiRT records of any instruments over any time span into one typed DataFrame.

    Parameters
    ----------
    instrument : str or list of str, optional
        ``mag``, ``swapi``, ``swe``, ``hit``, ``codice_lo``, ``codice_hi``, ``spacecraft``, ``spice``,
        ``ancillary`` or ``<instrument>_hk`` (HK needs an API key with scope read or full), or a list of them.
        None: the six science instruments.
    time_utc_start, time_utc_end : str, datetime or pandas.Timestamp, optional
        The span (inclusive, UTC; an aware time is converted to UTC). With one end only the span is one hour; with
        neither it is the server's last hour.
    chunk : str, timedelta or float (hours), optional
        Window of one request; default per instrument (MAG 3 h, CoDICE-Hi 6 h, SWAPI 12 h, SWE and HIT 24 h,
        spacecraft 48 h, CoDICE-Lo 96 h, others 24 h: about 3/4 of what fits in the server's 1 MB). A window the
        server finds too large is halved until it fits, and the instrument's later windows start at that size.
    max_workers : int, default 8
        Requests in flight at once.

    Returns
    -------
    pandas.DataFrame
        One row per record (CoDICE-Hi: per sub-epoch), sorted by ``epoch``: ``instrument``, ``time_utc``,
        ``epoch`` (datetime64), the fields as numeric columns (vectors split into components), units in
        ``df.attrs["units"]``. See :mod:`imap_explorer.ialirt.frame`.

    Raises
    ------
    ValueError
        Unknown instrument, unreadable time, end before start.
    imap_explorer.ApiError
        The server refused (status, URL and its words), e.g. the public cutoff (an API key is needed for older
        data) or HK without a key.

    See Also
    --------
    get_data : one instrument as an xarray Dataset, from the archive and the live stream.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> df = ie.ialirt.space_weather(instrument="mag", time_utc_start="2026-02-10",
    ...                              time_utc_end="2026-02-11")  # doctest: +SKIP
    >>> df.set_index("epoch")["mag_B_GSM_z"].plot()  # doctest: +SKIP
    """
    with _gc_paused():  # while answers are decoded and converted (see _gc_paused)
        parts = _fetch(instrument=instrument, time_utc_start=time_utc_start, time_utc_end=time_utc_end,
                       chunk=chunk, max_workers=max_workers, convert=frame_parts)
        return assemble(chain.from_iterable(parts), deduplicate=True)


# ---------------------------------------------------------------------------------------------- file queries
def _files(route: str, params: list[tuple[str, str]]) -> list[str]:
    with _client(keyed=False, pool_size=1) as client:  # these routes exist only without a prefix (§3)
        try:
            body = client.get_json(route, params)
        except ApiError as err:
            raise _refine(err) from err
    files = body.get("files", []) if isinstance(body, dict) else body
    if not isinstance(files, list):
        raise ApiError(200, client.url_for(route), f"unexpected answer: {str(body)[:200]!r}", "OK")
    return [str(f) for f in files]


def _text(value: Any, what: str, width: int | None = None) -> str | None:
    if value is None or value == "":
        return None
    text = str(int(value)) if isinstance(value, int) and not isinstance(value, bool) else str(value)
    if not text.isdigit():
        raise ValueError(f"Invalid {what} {value!r}. Expected digits, e.g. {'2026' if what == 'year' else '02'}.")
    return text.zfill(width) if width else text


def archive_query(*, year: Any = None, month: Any = None, day: Any = None, version: Any = "1",
                  since: Any = None) -> pd.DataFrame:
    """List the daily I-ALiRT archive CDFs (``/ialirt-archive-query``).

    Parameters
    ----------
    year, month, day : str or int, optional
        Narrow the listing (in that order: a month needs a year, a day a month).
    version : str or int, default "1"
    since : str, date or Timestamp, optional
        Files for this day and later (not combined with year/month/day).

    Returns
    -------
    pandas.DataFrame
        ``file_name``, ``date`` (datetime64 day) and ``version`` (``v001``), sorted by date.
    """
    y, m, d = _text(year, "year", 4), _text(month, "month", 2), _text(day, "day", 2)
    if since is not None and (y or m or d):
        raise ValueError("since cannot be combined with year, month, or day.")
    if (d and not m) or (m and not y):
        raise ValueError("Date parts must be specified in order: year, month, day.")
    params: list[tuple[str, str]] = []
    if since is not None:
        params.append(("since", pd.Timestamp(since).strftime("%Y%m%d") if not (isinstance(since, str)
                                                                             and since.isdigit()) else since))
    params += [(k, v) for k, v in (("year", y), ("month", m), ("day", d)) if v]
    params.append(("version", str(version)))
    names = _files("ialirt-archive-query", params)
    rows = []
    for name in names:
        match = _ARCHIVE_NAME.match(name)
        rows.append({"file_name": name, "date": pd.Timestamp(match.group(1)) if match else pd.NaT,
                     "version": match.group(2) if match else None})
    df = pd.DataFrame(rows, columns=["file_name", "date", "version"])
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    return df.sort_values(["date", "file_name"], ignore_index=True)


def log_query(*, year: Any, doy: Any, instance: Any = 1) -> pd.DataFrame:
    """List the ground-system log files of one day (``/ialirt-log-query``); ``file_name`` column."""
    y, j = _text(year, "year", 4), _text(doy, "doy", 3)
    if not y or len(y) != 4:
        raise ValueError(f"Invalid year {year!r}. Expected a 4-digit year such as '2026'.")
    if not j or not 1 <= int(j) <= 366:
        raise ValueError(f"Invalid doy {doy!r}. Expected a day of year between '001' and '366'.")
    if str(instance) not in ("1", "2"):
        raise ValueError(f"Invalid instance {instance!r}. Expected 1 or 2.")
    names = _files("ialirt-log-query", [("year", y), ("doy", j), ("instance", str(instance))])
    return pd.DataFrame({"file_name": names})


def packet_query(*, year: Any = None, doy: Any = None, hh: Any = None, mm: Any = None, ss: Any = None,
                 time_utc_start: Any = None, time_utc_end: Any = None) -> pd.DataFrame:
    """List raw packet files (``/ialirt-packet-query``): by ``year``/``doy`` (+ ``hh``/``mm``/``ss``) or UTC range."""
    if time_utc_start is not None or time_utc_end is not None:
        if any(v is not None for v in (year, doy, hh, mm, ss)):
            raise ValueError("Cannot mix time_utc_start/time_utc_end with year/doy/hh/mm/ss.")
        start = _time(time_utc_start, "time_utc_start")
        if start is None:
            raise ValueError("time_utc_start is required with time_utc_end.")
        params = [("time_utc_start", _fmt(start))]
        end = _time(time_utc_end, "time_utc_end")
        if end is not None:
            params.append(("time_utc_end", _fmt(end)))
    else:
        y, j = _text(year, "year", 4), _text(doy, "doy", 3)
        if not y or not j:
            raise ValueError("Give year and doy (optionally hh, mm, ss), or time_utc_start (and time_utc_end).")
        params = [("year", y), ("doy", j)]
        for name, value, top in (("hh", hh, 23), ("mm", mm, 59), ("ss", ss, 59)):
            text = _text(value, name, 2)
            if text is None:
                break
            if int(text) > top:
                raise ValueError(f"Invalid {name} {value!r}. Expected 00 to {top}.")
            params.append((name, text))
    return pd.DataFrame({"file_name": _files("ialirt-packet-query", params)})


# ---------------------------------------------------------------------------------------------- download
def _names(files: Any) -> list[str]:
    if isinstance(files, pd.DataFrame):
        if "file_name" not in files.columns:
            raise ValueError("Expected a DataFrame with a 'file_name' column (from archive_query/log_query/"
                             f"packet_query); got columns: {', '.join(map(str, files.columns))}.")
        items: Iterable[Any] = files["file_name"].tolist()
    elif isinstance(files, (str, os.PathLike)):
        items = [files]
    else:
        items = list(files)
    out: dict[str, None] = {}
    for item in items:
        name = PurePosixPath(os.fspath(item)).name if isinstance(item, (str, os.PathLike)) else None
        if not name or name in (".", "..") or name != os.fspath(item).rsplit("/", 1)[-1]:
            raise ValueError(f"Cannot download {item!r}: expected an I-ALiRT file name.")
        out[name] = None
    return list(out)


def local_path(data_dir: Path, filetype: str, name: str) -> Path:
    """Where a downloaded I-ALiRT file goes: archive CDFs in the SDC layout, others in ``ialirt/<filetype>/``.

    Examples
    --------
    >>> local_path(Path("data"), "archive", "imap_ialirt_l1_realtime_20260210_v001.cdf").as_posix()
    'data/imap/ialirt/l1/2026/02/imap_ialirt_l1_realtime_20260210_v001.cdf'
    >>> local_path(Path("data"), "logs", "flight_iois_1.log.2026-041T00_00_05.123457").as_posix()
    'data/ialirt/logs/flight_iois_1.log.2026-041T00_00_05.123457'
    """
    if filetype == "archive":
        match = _ARCHIVE_NAME.match(name)
        if not match:
            msg = f"Invalid archive file name {name!r}. Expected imap_ialirt_l1_realtime_<YYYYMMDD>_v<NNN>.cdf."
            raise ValueError(msg)
        ymd = match.group(1)
        return data_dir / "imap" / "ialirt" / "l1" / ymd[:4] / ymd[4:6] / name
    return data_dir / "ialirt" / filetype / name


def download(files: Any, *, filetype: str = "archive", data_dir: str | os.PathLike | None = None,
             overwrite: bool = False, max_workers: int = 8, progress: bool = True) -> list[Path]:
    """Download I-ALiRT files (``/ialirt-download``) into the local archive; atomic, parallel, skipping what is there.

    Parameters
    ----------
    files : str, list of str, or pandas.DataFrame
        File names, or a DataFrame from :func:`archive_query`, :func:`log_query` or :func:`packet_query`.
    filetype : {"archive", "logs", "packets", "coverage", "realtime"}, default "archive"
        ``logs`` need an API key (the server's ``/api-key`` route).
    data_dir : path-like, optional
        Archive root (default ``IMAP_DATA_DIR`` or ``./data``). Archive CDFs go to
        ``imap/ialirt/l1/<YYYY>/<MM>/``, other files to ``ialirt/<filetype>/``.
    overwrite, max_workers, progress
        As for :func:`imap_explorer.download`.

    Returns
    -------
    list of pathlib.Path
    """
    from imap_explorer.transfer import download_action, fetch_files

    if filetype not in FILETYPES:
        raise ValueError(f"Invalid filetype {filetype!r}. Expected one of: {', '.join(FILETYPES)}.")
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ValueError(f"Invalid max_workers {max_workers!r}. Expected a whole number >= 1.")
    names = _names(files)
    settings = _settings(keyed=True, data_dir=data_dir)
    targets = {name: local_path(settings.data_dir, filetype, name) for name in names}
    jobs = {n: (f"{filetype}/{n}", targets[n]) for n in names if download_action(targets[n], overwrite) != "skip"}
    failures, errors = fetch_files(jobs, lambda pool_size: _IalirtClient(settings, pool_size=pool_size),
                                   max_workers=max_workers, progress=progress, thread_name_prefix="ialirt-download")
    if failures:
        raise DownloadError(failures, [targets[n] for n in names if n not in failures], errors)
    return [targets[n] for n in names]


# ---------------------------------------------------------------------------------------------- get_data
def get_data(*, instrument: str, start: Any, end: Any, max_workers: int = 8):
    """One instrument over a time range as an xarray Dataset in the archive-CDF layout.

    Days that have an archive CDF (published about 7 days after the data day) are read from it (downloaded into
    the local archive first); the rest of the range comes from ``/space-weather``. The two are merged on the
    epoch without duplicates.

    Parameters
    ----------
    instrument : str
        ``mag``, ``swapi``, ``swe``, ``hit``, ``codice_lo``, ``codice_hi`` or ``spacecraft``.
    start, end : str, datetime or pandas.Timestamp
        UTC range (inclusive).

    Returns
    -------
    xarray.Dataset
        E.g. for ``mag``: dimension ``mag_epoch``, ``mag_B_GSE (mag_epoch, B_GSE_labels)``, ...
    """
    import numpy as np
    import xarray as xr

    from imap_explorer.cdf import load

    if instrument not in ARCHIVE_EPOCHS:
        msg = f"Unknown I-ALiRT instrument {instrument!r}. Expected one of: {', '.join(sorted(ARCHIVE_EPOCHS))}."
        raise ValueError(msg)
    t0, t1 = _time(start, "start"), _time(end, "end")
    if t0 is None or t1 is None:
        raise ValueError("get_data needs both start and end.")
    if t1 < t0:
        raise ValueError(f"end {_fmt(t1)} is before start {_fmt(t0)}.")
    dim = ARCHIVE_EPOCHS[instrument]
    listed = archive_query(since=t0.strftime("%Y%m%d"))
    listed = listed[listed["date"] <= pd.Timestamp(t1.date())]
    parts = []
    covered: set[dt.date] = set()
    if len(listed):
        paths = download(listed, filetype="archive", max_workers=max_workers, progress=False)
        ds = load(paths)
        keep = [n for n in FIELDS[instrument] if n in ds.data_vars]
        archived = ds[keep].sel({dim: slice(np.datetime64(t0), np.datetime64(t1))})
        archived = archived.drop_vars([c for c in archived.coords if dim not in archived[c].dims
                                       and c not in archived.dims], errors="ignore")
        parts.append(archived)
        covered = {d.date() for d in listed["date"]}
    # the rest of the range, a little wider so that records whose epoch and time_utc straddle a midnight are kept
    gaps, day = [], t0.date()
    while day <= t1.date():
        if day not in covered:
            lo = max(t0, dt.datetime.combine(day, dt.time()) - dt.timedelta(minutes=10))
            hi = min(t1, dt.datetime.combine(day, dt.time()) + dt.timedelta(days=1, minutes=10))
            if gaps and lo <= gaps[-1][1]:
                gaps[-1] = (gaps[-1][0], hi)
            else:
                gaps.append((lo, hi))
        day += dt.timedelta(days=1)
    for lo, hi in gaps:
        df = space_weather(instrument=instrument, time_utc_start=lo, time_utc_end=hi, max_workers=max_workers)
        live = to_dataset(df, instrument)
        live = live.sel({dim: slice(np.datetime64(t0), np.datetime64(t1))})
        parts.append(live)
    if not parts:
        return to_dataset(records_to_frame([]), instrument)
    if len(parts) == 1:
        merged = parts[0]
    else:
        merged = xr.concat(parts, dim=dim, data_vars="minimal", coords="minimal", compat="override",
                           join="outer")
    merged = merged.sortby(dim)
    _, first = np.unique(merged[dim].values, return_index=True)
    merged = merged.isel({dim: np.sort(first)})
    merged.attrs.update({"Logical_source": "imap_ialirt_l1_realtime", "instrument": instrument})
    return merged
