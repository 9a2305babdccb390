"""The local archive: what is on disk under ``IMAP_DATA_DIR``, which versions are superseded, and keeping it in sync.

* :func:`local_files` lists the science (or quicklook) files on disk as the same kind of DataFrame as
  :func:`~imap_explorer.query` (the API's columns, read from the file names), plus ``local_path``, ``size`` and
  ``superseded`` (a higher version of the same product-day or repointing is also on disk);
* :func:`prune` removes superseded files (a dry run unless asked);
* :func:`sync` downloads every file ingested by the SDC since a date, or since the last sync recorded in the
  archive, and says what each new file replaced. It is safe to run from cron: one sync at a time per archive (a
  lock file), the state written atomically and only after every file arrived, so an interrupted sync resumes.

Nothing here reads a CDF: the file names are the SDC's authority on product, day and version.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from imap_explorer import config
from imap_explorer.exceptions import ImapExplorerError
from imap_explorer.filenames import VALID_DATALEVELS, VALID_INSTRUMENTS, FileInfo, parse_filename

__all__ = [
    "LOCK_NAME",
    "STATE_NAME",
    "SyncLockedError",
    "local_files",
    "product_key",
    "prune",
    "read_sync_state",
    "series_key",
    "sync",
    "version_rank",
]

log = logging.getLogger("imap_explorer.local")

#: File (under the archive root) that records the last sync of each product selection.
STATE_NAME = ".imap-explorer-sync.json"
#: Lock file (under the archive root) held while a sync runs.
LOCK_NAME = ".imap-explorer-sync.lock"
_TABLE_KINDS = {"science": "science", "quicklook": "quicklook"}


class SyncLockedError(ImapExplorerError):
    """Another sync of the same local archive is running (its lock file is held)."""


# --------------------------------------------------------------------------- pure helpers
def version_rank(info: FileInfo) -> tuple[int, int, bool]:
    """Order of versions of one product-day, as the SDC ranks them (``sdc-api.md`` §5.5).

    A legacy ``vNNN`` is major 1, minor NNN, and sorts just before a ``vMMM.mmmm`` of equal rank.

    Examples
    --------
    >>> v = lambda name: version_rank(parse_filename(name))
    >>> v("imap_mag_l2_norm-gse_20260120_v002.0001.cdf") > v("imap_mag_l2_norm-gse_20260120_v003.cdf")
    True
    >>> v("imap_mag_l2_norm-gse_20260120_v001.0003.cdf") > v("imap_mag_l2_norm-gse_20260120_v003.cdf")
    True
    """
    major = info.major_version if info.major_version is not None else 1
    return (major, info.minor_version or 0, info.major_version is not None)


def product_key(info: FileInfo) -> str:
    """``instrument/data_level/descriptor`` of a science file name.

    Examples
    --------
    >>> product_key(parse_filename("imap_swapi_l3a_proton-sw_20260120_v004.cdf"))
    'swapi/l3a/proton-sw'
    """
    return f"{info.instrument}/{info.data_level}/{info.descriptor}"


def series_key(info: FileInfo) -> tuple:
    """What identifies one product-day (or repointing, or Carrington rotation): the versions of it compete."""
    return (info.instrument, info.data_level, info.descriptor, info.start_date, info.repointing, info.cr)


def _record(info: FileInfo, path: Path, st: os.stat_result) -> dict[str, Any]:
    """An API-like record (the query's keys) for one local file, from its name."""
    major = info.major_version if info.major_version is not None else 1
    return {
        "file_path": info.key, "instrument": info.instrument, "data_level": info.data_level,
        "descriptor": info.descriptor, "start_date": f"{info.start_date:%Y%m%d}", "repointing": info.repointing,
        "major_version": major, "minor_version": info.minor_version, "ingestion_date": None, "cr": info.cr,
        "crid": None, "released": None, "extension": info.extension,
        "version": f"v{major:03d}.{info.minor_version:04d}",
        "local_path": path, "size": st.st_size, "modified": pd.Timestamp(st.st_mtime_ns, unit="ns"),
    }


def _walk(data_dir: Path, prefix: str, instrument: str | None, data_level: str | None) -> Iterator[Path]:
    """Files below ``data_dir/<prefix>/<instrument>/<level>`` (hidden and ``.part`` names skipped)."""
    base = data_dir.joinpath(*prefix.split("/"))
    instruments = [instrument] if instrument else sorted(VALID_INSTRUMENTS)
    for inst in instruments:
        levels = [data_level] if data_level else sorted(VALID_DATALEVELS)
        for level in levels:
            top = base / inst / level
            if not top.is_dir():
                continue
            for folder, dirs, names in os.walk(top):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if not name.startswith(".") and not name.endswith(".part"):
                        yield Path(folder, name)


# --------------------------------------------------------------------------- listing and pruning
def local_files(
    *,
    instrument: str | None = None,
    data_level: str | None = None,
    descriptor: str | None = None,
    start_date: Any = None,
    end_date: Any = None,
    table: str = "science",
    data_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """List the files on disk in the local archive, as :func:`~imap_explorer.query` lists the SDC's.

    Files are found under ``<data_dir>/imap/<instrument>/<level>/`` (quicklook: ``imap/quicklook/...``); their
    file names are parsed with :func:`~imap_explorer.filenames.parse_filename` (names that are not IMAP
    science names are left out, as are files in the wrong folder for their name). Nothing is read from the files
    and nothing goes over the network.

    Parameters
    ----------
    instrument, data_level, descriptor : str, optional
        Exact matches, as in :func:`~imap_explorer.query`.
    start_date, end_date : str or date, optional
        First and last file date (inclusive).
    table : {"science", "quicklook"}, default "science"
    data_dir : path-like, optional
        Archive root (default: ``IMAP_DATA_DIR`` or ``./data``).

    Returns
    -------
    pandas.DataFrame
        The query's columns (``ingestion_date``, ``cr``-less ``crid`` and ``released`` are unknown locally and left
        empty), plus ``local_path``, ``size`` (bytes), ``modified`` (the file's mtime, UTC) and ``superseded``
        (True when a higher version of the same product-day or repointing is on disk too). Ordered by
        ``file_path``.

    See Also
    --------
    prune : remove the superseded files.
    imap_explorer.coverage : ``source="local"`` tabulates these files by day and product.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> files = ie.local_files(instrument="mag", data_level="l2")  # doctest: +SKIP
    >>> files[files.superseded].local_path.tolist()  # doctest: +SKIP
    """
    from imap_explorer.query import _as_date, query_params, to_frame

    if table not in _TABLE_KINDS:
        raise ValueError(f"Unknown table {table!r} for local files. Expected one of: {', '.join(_TABLE_KINDS)}.")
    if any(v is not None for v in (instrument, data_level, descriptor, start_date, end_date)):
        query_params(table=table, instrument=instrument, data_level=data_level, descriptor=descriptor,
                     start_date=start_date, end_date=end_date)  # the same checks and messages as query()
    first, last = _as_date(start_date, "start_date"), _as_date(end_date, "end_date")
    root = Path(data_dir) if data_dir is not None else config.resolve().data_dir
    prefix = "imap" if table == "science" else "imap/quicklook"
    records, infos = [], []
    for path in _walk(root, prefix, instrument, data_level):
        try:
            info = parse_filename(path.name)
        except ValueError:
            continue
        if info.kind != _TABLE_KINDS[table] or root.joinpath(*info.key.split("/")) != path:
            continue
        if descriptor is not None and info.descriptor != descriptor:
            continue
        if (first and info.start_date < first) or (last and info.start_date > last):
            continue
        try:
            st = path.stat()
        except OSError:
            continue
        records.append(_record(info, path, st))
        infos.append(info)
    frame = to_frame(records, table)
    if not records:
        for name, dtype in (("local_path", object), ("size", "int64"), ("modified", "datetime64[ns]"),
                            ("superseded", bool)):
            frame[name] = pd.Series([], dtype=dtype)
        frame.attrs["table"] = table
        return frame
    best: dict[tuple, tuple] = {}
    for info in infos:
        k = series_key(info)
        best[k] = max(best.get(k, ()), version_rank(info))
    superseded = {info.key: version_rank(info) < best[series_key(info)] for info in infos}
    frame["superseded"] = frame["file_path"].map(superseded).astype(bool)
    frame.attrs["table"] = table
    return frame


def prune(
    *,
    instrument: str | None = None,
    data_level: str | None = None,
    descriptor: str | None = None,
    start_date: Any = None,
    end_date: Any = None,
    dry_run: bool = True,
    data_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Remove the superseded versions from the local archive (only say which, by default).

    A file is superseded when a higher version of the same product-day (or repointing) is on disk too
    (:func:`local_files`). The newest version of each is never touched.

    Parameters
    ----------
    instrument, data_level, descriptor, start_date, end_date
        Which files to consider, as in :func:`local_files`.
    dry_run : bool, default True
        Only list what would be removed. Pass ``dry_run=False`` to delete.
    data_dir : path-like, optional
        Archive root (default: ``IMAP_DATA_DIR``).

    Returns
    -------
    pandas.DataFrame
        The superseded rows of :func:`local_files`, with ``removed`` (True when deleted by this call).

    Examples
    --------
    >>> import imap_explorer as ie
    >>> ie.prune(instrument="mag")                 # doctest: +SKIP
    >>> ie.prune(instrument="mag", dry_run=False)  # doctest: +SKIP
    """
    if not isinstance(dry_run, bool):
        raise TypeError(f"dry_run must be True or False, got {dry_run!r}.")
    files = local_files(instrument=instrument, data_level=data_level, descriptor=descriptor, start_date=start_date,
                        end_date=end_date, data_dir=data_dir)
    old = files[files["superseded"]].reset_index(drop=True)
    removed = []
    for path in old["local_path"]:
        if dry_run:
            removed.append(False)
            continue
        Path(path).unlink(missing_ok=True)
        log.info("removed superseded %s", path)
        removed.append(True)
    old["removed"] = pd.Series(removed, dtype=bool)
    return old


# --------------------------------------------------------------------------- sync
def _state_key(instrument: str, data_level: str | None, descriptor: str | None) -> str:
    return f"{instrument}/{data_level or '*'}/{descriptor or '*'}"


def read_sync_state(data_dir: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """The sync state of a local archive: ``{"<instrument>/<level|*>/<descriptor|*>": {"last_sync": ...}}``."""
    root = Path(data_dir) if data_dir is not None else config.resolve().data_dir
    path = root / STATE_NAME
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise ImapExplorerError(f"Cannot read the sync state {path}: {err}. Remove the file, or pass since= "
                                "to say from which ingestion date to sync.") from err
    return state if isinstance(state, dict) else {}


@contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """A path to write ``path``'s new content to, moved into place when the block ends without an error.

    It has ``path``'s own name (a writer that reads the format from the suffix sees the real one), in a hidden
    ``.<name>.<random>.part`` folder beside ``path``, which archive scans skip. ``os.replace`` then moves it:
    ``path`` holds the old content or the new, never part of either. The folder is removed in every case.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        tmp = folder / path.name
        yield tmp
        os.replace(tmp, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_state(root: Path, state: dict[str, Any]) -> None:
    """Write the state file atomically (a complete new file replaces the old one, or nothing changes)."""
    with atomic_target(root / STATE_NAME) as tmp:
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")


@contextmanager
def _sync_lock(root: Path) -> Iterator[None]:
    """Hold the archive's sync lock (an OS lock on a file, released even if the process dies)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_NAME
    with open(path, "a+b") as fh:
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            msg = (f"Another sync of {root} is running (lock {path} is held). Wait for it to finish; "
                   "the lock is released when that process ends.")
            raise SyncLockedError(msg) from err
        yield


def sync(
    *,
    instrument: str,
    data_level: str | None = None,
    descriptor: str | None = None,
    since: Any = None,
    start_date: Any = None,
    end_date: Any = None,
    data_dir: str | os.PathLike | None = None,
    max_workers: int = 8,
    progress: bool = False,
) -> pd.DataFrame:
    """Download every file the SDC ingested since a date, or since this archive's last sync.

    A query asks for the newest version of each product-day ingested on or after ``since`` (the SDC's
    ``ingestion_start_date``, a UTC day; a span longer than :data:`~imap_explorer.query.CHUNK_DAYS` days is asked
    in windows, see :func:`~imap_explorer.query`), and :func:`~imap_explorer.download` fetches what is not on
    disk yet.
    When every file has arrived, the day the sync started is recorded in ``<data_dir>/.imap-explorer-sync.json``
    for this selection (instrument, level, descriptor); the next call without ``since`` starts from that day.
    The day is inclusive, so nothing ingested later that day is missed, and files already present are not
    requested again.

    Safe to run from cron: a second sync of the same archive while one runs fails at once with
    :class:`SyncLockedError`; downloads are atomic (no partial file under a final name); the state is written
    atomically and only after a complete sync, so an interrupted one (Ctrl-C, a network failure) simply resumes
    the next time.

    Parameters
    ----------
    instrument : str
        Required: the SDC asks clients never to query by ingestion date alone.
    data_level, descriptor : str, optional
        Narrow the selection.
    since : str or date, optional
        First ingestion day (UTC, inclusive). Default: the last sync of this selection recorded in the archive.
    start_date, end_date : str or date, optional
        Only files whose date lies in this range.
    data_dir : path-like, optional
        Archive root (default: ``IMAP_DATA_DIR``).
    max_workers : int, default 8
        Parallel downloads.
    progress : bool, default False
        Show tqdm progress bars.

    Returns
    -------
    pandas.DataFrame
        The query's rows of the new files, plus ``local_path``, ``downloaded`` (fetched by this call; False when
        it was already on disk) and ``replaces`` (names of older versions of the same product-day on disk, which
        :func:`prune` would now remove). ``attrs["since"]`` and ``attrs["until"]`` give the ingestion days covered.

    Raises
    ------
    ValueError
        No ``since`` and no earlier sync of this selection.
    SyncLockedError
        Another sync of this archive is running.
    imap_explorer.DownloadError
        Some files failed (the others are in place); the state is not advanced.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> new = ie.sync(instrument="mag", data_level="l2", since="2026-01-01")  # doctest: +SKIP
    >>> new = ie.sync(instrument="mag", data_level="l2")  # later, e.g. from cron  # doctest: +SKIP
    """
    from imap_explorer.filenames import local_path
    from imap_explorer.query import _as_date, query
    from imap_explorer.transfer import download

    if not instrument:
        raise ValueError("sync needs an instrument (e.g. instrument='mag'): the SDC asks clients not to query by "
                         "ingestion date alone.")
    root = Path(data_dir) if data_dir is not None else config.resolve().data_dir
    key = _state_key(instrument, data_level, descriptor)
    started = dt.datetime.now(dt.timezone.utc).date()
    with _sync_lock(root):
        state = read_sync_state(root)
        first = _as_date(since, "since")
        if first is None:
            last = state.get(key, {}).get("last_sync")
            if last is None:
                msg = (f"No earlier sync of {key} is recorded in {root}. Pass since= (an ingestion date, "
                       "e.g. '2026-01-01') for the first sync.")
                raise ValueError(msg)
            first = _as_date(last, "last_sync")
        new = query(instrument=instrument, data_level=data_level, descriptor=descriptor, start_date=start_date,
                    end_date=end_date, ingestion_start_date=first, version="latest")
        on_disk = local_files(instrument=instrument, data_level=data_level, descriptor=descriptor, data_dir=root)
        older: dict[tuple, list[tuple[tuple, str]]] = {}
        for file_path in on_disk["file_path"]:
            info = parse_filename(file_path)
            older.setdefault(series_key(info), []).append((version_rank(info), info.filename))
        paths = [local_path(root, fp) for fp in new["file_path"]]
        present = [p.is_file() for p in paths]
        replaces = []
        for file_path in new["file_path"]:
            info = parse_filename(file_path)
            rank = version_rank(info)
            replaces.append(sorted(name for r, name in older.get(series_key(info), []) if r < rank))
        if len(new):
            download(new, data_dir=root, max_workers=max_workers, progress=progress)
        state[key] = {"last_sync": f"{started:%Y%m%d}", "since": f"{first:%Y%m%d}", "files": len(new)}
        _write_state(root, state)
    out = new.copy()
    out["local_path"] = pd.Series(paths, dtype=object)
    out["downloaded"] = pd.Series([not p for p in present], dtype=bool)
    out["replaces"] = pd.Series(replaces, dtype=object)
    out.attrs.update(since=f"{first:%Y%m%d}", until=f"{started:%Y%m%d}")
    log.info("sync %s since %s: %d new, %d downloaded", key, first, len(out), int(out["downloaded"].sum()))
    return out


# --------------------------------------------------------------------------- CLI
def _selection(args: Any) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in ("instrument", "data_level", "descriptor", "start_date",
                                                          "end_date")}


def local_command(args: Any) -> int:
    """``imap-explorer local``: the files on disk, as ``imap-explorer query`` prints the SDC's."""
    from imap_explorer.query import format_table

    frame = local_files(**_selection(args))
    text = format_table(frame.drop(columns=["local_path", "size", "modified", "superseded"]), "science")
    marks = dict(zip(frame["file_path"].map(lambda p: p.rsplit("/", 1)[-1]), frame["superseded"]))
    lines = []
    for line in text.splitlines():  # mark superseded versions at the end of their row
        name = line.rstrip(" |").rsplit(" ", 1)[-1]
        lines.append(f"{line} superseded" if marks.get(name) else line)
    print("\n".join(lines).replace("matching files in science table", f"files in {config.resolve().data_dir}"))
    return 0


def prune_command(args: Any) -> int:
    """``imap-explorer prune [--delete]``: list (or delete) superseded versions."""
    removed = prune(**_selection(args), dry_run=not args.delete)
    verb = "Removed" if args.delete else "Would remove"
    for path in removed["local_path"]:
        print(f"{verb} {path}")
    if not args.delete and len(removed):
        print(f"{len(removed)} superseded files; run again with --delete to remove them.")
    if not len(removed):
        print("No superseded files.")
    return 0


def sync_command(args: Any) -> int:
    """``imap-explorer sync``: one line per new file, then a summary."""
    new = sync(instrument=args.instrument, data_level=args.data_level, descriptor=args.descriptor, since=args.since,
               start_date=args.start_date, end_date=args.end_date)
    for row in new.itertuples():
        name = str(row.file_path).rsplit("/", 1)[-1]
        action = "downloaded" if row.downloaded else "present"
        replaced = f" (replaces {', '.join(row.replaces)})" if row.replaces else ""
        print(f"{action:<10} {name}{replaced}")
    fetched = int(new["downloaded"].sum())
    print(f"{len(new)} files ingested since {new.attrs['since']}, {fetched} downloaded; next sync starts from "
          f"{new.attrs['until']}.")
    return 0
