"""The emulator's index: an archive tree scanned into SQLite rows, and the API-key table.

One table, ``files``, holds every object below the archive root (its storage key is its path relative to
the root) with the columns of all SDC tables; ``kind`` says which table a row belongs to
(``science``, ``quicklook``, ``dependency``, ``ancillary``, ``release``, ``spice`` or ``other`` for names
that follow no IMAP convention). A second table, ``api_keys``, holds ``{api_key: scope}``.

The database lives beside the archive, in ``<root>/.imap-sdc.sqlite3``. When the archive is read-only it
falls back to a per-user cache file named after the archive's real path, and to memory when even that
cannot be written. Nothing is ever written into a read-only archive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imap_explorer.filenames import FileInfo, parse_filename

__all__ = [
    "DB_NAME",
    "SCAN_RELEASED",
    "UPLOAD_RELEASED",
    "VALID_SCOPES",
    "Index",
    "ScanReport",
    "archive_is_writable",
    "default_db_path",
    "mask_key",
    "new_api_key",
    "row_from_name",
]

log = logging.getLogger("imap_explorer.server")

#: File name of the index database inside a writable archive root (hidden, so scans skip it).
DB_NAME = ".imap-sdc.sqlite3"
#: Files found on disk by a scan are released, so demos work without credentials (sdc-api.md §4).
SCAN_RELEASED = True
#: Release flag given to uploaded files, per kind: the SDC's ingestion defaults (sdc-api.md §4).
UPLOAD_RELEASED = {"science": False, "quicklook": False, "dependency": False, "ancillary": True,
                   "release": True, "spice": True, "other": False}
#: File at the archive root listing file names that a scan indexes as unreleased: ``{"unreleased": [names]}``.
#: Written by :func:`imap_explorer.synthetic.make_archive` (same name as its ``UNRELEASED_MANIFEST``).
UNRELEASED_MANIFEST = ".imap-explorer-unreleased.json"
#: API-key scopes the CLI accepts. Only ``read`` changes behaviour (no uploads); see sdc-api.md §15.8.
VALID_SCOPES = ("admin", "read", "write")
#: Stored ingestion-date format (UTC, whole seconds); it sorts as text.
STORED_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

COLUMNS = (
    "file_path", "kind", "file_name", "instrument", "data_level", "descriptor", "start_date", "end_date",
    "repointing", "cr", "crid", "major_version", "minor_version", "version", "extension", "kernel_type",
    "file_root", "spice_version", "ingestion_date", "released", "size", "mtime_ns", "etag",
)
#: The columns derived from the file name alone (:func:`row_from_name`).
NAME_COLUMNS = tuple(c for c in COLUMNS if c not in ("file_path", "ingestion_date", "released", "size", "mtime_ns",
                                                     "etag"))
#: Version of the file-name rules the stored name columns were derived with (SQLite ``user_version``). Raise it
#: whenever :mod:`imap_explorer.filenames` classifies names differently: an index made by an older release then
#: re-derives its name columns on open, keeping ingestion dates and release flags.
NAME_RULES_VERSION = 2

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS files (
    {', '.join(f'{c} TEXT PRIMARY KEY' if c == 'file_path' else c for c in COLUMNS)}
);
CREATE INDEX IF NOT EXISTS files_kind ON files (kind, instrument, data_level, descriptor, start_date);
CREATE INDEX IF NOT EXISTS files_name ON files (file_name);
CREATE TABLE IF NOT EXISTS api_keys (
    api_key TEXT PRIMARY KEY, scope TEXT NOT NULL, owner TEXT NOT NULL DEFAULT '', created TEXT NOT NULL
);
"""


def new_api_key() -> str:
    """A new random API key (32 URL-safe characters) that starts with a letter or a digit.

    ``secrets.token_urlsafe`` may start with ``-``, and a command line then reads the key as an option
    (``imap-data-access --api-key -4Y3Q... upload`` fails with "expected one argument").

    Examples
    --------
    >>> key = new_api_key()
    >>> len(key), key[0].isalnum()
    (32, True)
    """
    while True:
        key = secrets.token_urlsafe(24)
        if key[0].isascii() and key[0].isalnum():
            return key


def mask_key(key: str | None) -> str:
    """Return a form of an API key that is safe to log or print.

    Examples
    --------
    >>> mask_key("imap-explorer-test-write")
    'imap…(24 chars)'
    >>> mask_key(None)
    '-'
    """
    if not key:
        return "-"
    return f"{key[:4]}…({len(key)} chars)"


def _utc_text(seconds: float) -> str:
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.timezone.utc).strftime(STORED_DATE_FORMAT)


def _spice_root_version(name: str) -> tuple[str, int | None]:
    stem = name.split(".", 1)[0]
    m = re.match(r"^(?P<root>.*?)_?v?(?P<version>\d+)$", stem)
    if m and m.group("root"):
        return m.group("root"), int(m.group("version"))
    return stem, None


def row_from_name(file_path: str, *, ingestion_date: str, released: bool | None = None, size: int = 0,
                  mtime_ns: int = 0, etag: str | None = None) -> dict[str, Any]:
    """Build the index row of one object from its storage key.

    Parameters
    ----------
    file_path : str
        Storage key, relative to the archive root, with ``/`` separators.
    ingestion_date : str
        UTC ingestion time as ``YYYY-MM-DD HH:MM:SS``.
    released : bool, optional
        Release flag; default :data:`SCAN_RELEASED` for IMAP names, ``False`` for other names.

    Returns
    -------
    dict
        Column name -> value.
    """
    name = file_path.rsplit("/", 1)[-1]
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(file_path=file_path, file_name=name, ingestion_date=ingestion_date, size=size, mtime_ns=mtime_ns,
               etag=etag, kind="other")
    try:
        info: FileInfo | None = parse_filename(name)
    except ValueError:
        info = None
    if info is not None:
        row.update(
            kind=info.kind, instrument=info.instrument, data_level=info.data_level, descriptor=info.descriptor,
            start_date=f"{info.start_date:%Y%m%d}" if info.start_date else None,
            end_date=f"{info.end_date:%Y%m%d}" if info.end_date else None,
            repointing=info.repointing, cr=info.cr, extension=info.extension, kernel_type=info.kernel_type,
        )
        if info.kind in ("science", "quicklook", "dependency"):
            # Legacy vNNN science versions are stored with the column default major_version=1 (§5.5).
            row.update(major_version=info.major_version if info.major_version is not None else 1,
                       minor_version=info.minor_version)
        elif info.kind in ("ancillary", "release"):
            row.update(version=info.version)
        elif info.kind == "spice":
            row["file_root"], row["spice_version"] = _spice_root_version(name)
    if released is None:
        released = SCAN_RELEASED if info is not None else False
    row["released"] = 1 if released else 0
    return row


def archive_is_writable(root: Path) -> bool:
    """Return whether the archive may be written: the directory grants write permission to someone and to us.

    Permission bits are checked as well as ``os.access``, so a directory made read-only with ``chmod a-w``
    stays read-only even for root (who would bypass the bits). Nothing is created to find out.
    """
    try:
        mode = os.stat(root).st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(root, os.W_OK | os.X_OK)


def default_db_path(root: Path) -> str:
    """Where the index of ``root`` lives: beside it if writable, else in the per-user cache, else memory."""
    root = Path(root).resolve()
    if archive_is_writable(root):
        return str(root / DB_NAME)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "imap-explorer" / "sdc-index"
    digest = hashlib.sha1(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    try:
        cache.mkdir(parents=True, exist_ok=True)
        if archive_is_writable(cache):
            return str(cache / f"{root.name or 'root'}-{digest}.sqlite3")
    except OSError:
        pass
    return ":memory:"


@dataclass(frozen=True)
class ScanReport:
    """What a (re)scan changed."""

    added: int
    updated: int
    removed: int
    total: int


class Index:
    """The SQLite index of one archive root, safe to use from many threads (one lock, one connection).

    Parameters
    ----------
    root : path-like
        Archive root in the SDC layout.
    db : str, optional
        Database file, or ``":memory:"``; default :func:`default_db_path`.
    """

    def __init__(self, root: str | os.PathLike, *, db: str | os.PathLike | None = None) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            msg = f"Archive root {str(root)!r} is not a directory. Expected a folder in the SDC layout (imap/...)."
            raise ValueError(msg)
        self.db_path = str(db) if db is not None else default_db_path(self.root)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.executescript(_SCHEMA)
        if self.execute("PRAGMA user_version")[0][0] != NAME_RULES_VERSION:
            self._rederive_names()

    def _rederive_names(self) -> None:
        """Derive the name columns of every row again with the current file-name rules (see NAME_RULES_VERSION)."""
        with self.transaction() as conn:
            for r in conn.execute("SELECT file_path, ingestion_date FROM files").fetchall():
                row = row_from_name(r["file_path"], ingestion_date=r["ingestion_date"])
                conn.execute(f"UPDATE files SET {', '.join(f'{c}=?' for c in NAME_COLUMNS)} WHERE file_path=?",
                             [row[c] for c in NAME_COLUMNS] + [r["file_path"]])
            conn.execute(f"PRAGMA user_version = {int(NAME_RULES_VERSION)}")

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run one statement under the lock and return all rows."""
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ files
    def _walk(self) -> Iterator[tuple[str, os.stat_result]]:
        """Yield (storage key, stat) of every regular file below the root, hidden names excepted.

        Directory symlinks are not followed; a file symlink is kept only if it resolves inside the root.
        """
        root_real = str(self.root)
        stack = [(root_real, "")]
        while stack:
            folder, prefix = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                if name.startswith(".") or name.endswith(".part"):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, f"{prefix}{name}/"))
                        continue
                    if entry.is_symlink():
                        real = os.path.realpath(entry.path)
                        if not real.startswith(root_real + os.sep) or not os.path.isfile(real):
                            continue  # a symlink leading out of the archive, or to a directory
                        st = os.stat(real)
                    elif entry.is_file(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                    else:
                        continue
                except OSError:
                    continue
                yield f"{prefix}{name}", st

    def _unreleased_names(self) -> set[str]:
        path = self.root / UNRELEASED_MANIFEST
        try:
            names = json.loads(path.read_text(encoding="utf-8")).get("unreleased", [])
        except FileNotFoundError:
            return set()
        except (OSError, ValueError, AttributeError) as err:
            log.warning("ignoring unreadable %s: %s", path, err)
            return set()
        return {str(n) for n in names}

    def scan(self) -> ScanReport:
        """Bring the index in line with the files on disk.

        New files are added (released per :data:`SCAN_RELEASED`, except names listed in the archive's
        :data:`UNRELEASED_MANIFEST`), changed files get a new ingestion date (their release flag is kept),
        vanished files are removed.
        """
        seen: dict[str, os.stat_result] = dict(self._walk())
        unreleased = self._unreleased_names()
        added = updated = 0
        with self.transaction() as conn:
            known = {r["file_path"]: (r["size"], r["mtime_ns"])
                     for r in conn.execute("SELECT file_path, size, mtime_ns FROM files")}
            for rel, st in seen.items():
                old = known.get(rel)
                if old is None:
                    row = row_from_name(rel, ingestion_date=_utc_text(st.st_mtime), size=st.st_size,
                                        mtime_ns=st.st_mtime_ns,
                                        released=False if rel.rsplit("/", 1)[-1] in unreleased else None)
                    conn.execute(f"INSERT INTO files ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                                 [row[c] for c in COLUMNS])
                    added += 1
                elif old != (st.st_size, st.st_mtime_ns):
                    conn.execute("UPDATE files SET size=?, mtime_ns=?, ingestion_date=?, etag=NULL WHERE file_path=?",
                                 (st.st_size, st.st_mtime_ns, _utc_text(st.st_mtime), rel))
                    updated += 1
            # A row missing from the walk may belong to an upload that landed after the walk listed its
            # folder: drop only what is really gone from disk, so an upload keeps its row and release flag.
            gone = [k for k in known if k not in seen and not os.path.lexists(self.root.joinpath(*k.split("/")))]
            conn.executemany("DELETE FROM files WHERE file_path=?", [(k,) for k in gone])
            total = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        report = ScanReport(added=added, updated=updated, removed=len(gone), total=total)
        log.info("indexed %s: %s", self.root, report)
        return report

    def add_file(self, file_path: str, *, released: bool, size: int, mtime_ns: int, etag: str | None,
                 ingestion_date: dt.datetime | None = None) -> dict[str, Any]:
        """Insert or replace the row of one (uploaded) object and return it."""
        when = ingestion_date or dt.datetime.now(dt.timezone.utc)
        row = row_from_name(file_path, ingestion_date=when.strftime(STORED_DATE_FORMAT), released=released,
                            size=size, mtime_ns=mtime_ns, etag=etag)
        with self.transaction() as conn:
            conn.execute(f"INSERT OR REPLACE INTO files ({', '.join(COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(COLUMNS))})", [row[c] for c in COLUMNS])
        return row

    def set_etag(self, file_path: str, etag: str, size: int, mtime_ns: int) -> None:
        """Remember the ETag of an object (only if it has not changed since it was computed)."""
        with self.transaction() as conn:
            conn.execute("UPDATE files SET etag=? WHERE file_path=? AND size=? AND mtime_ns=?",
                         (etag, file_path, size, mtime_ns))

    def get(self, file_path: str) -> dict[str, Any] | None:
        """Return the row of one storage key, or None."""
        rows = self.execute("SELECT * FROM files WHERE file_path=?", (file_path,))
        return dict(rows[0]) if rows else None

    def set_released(self, file_name: str, released: bool) -> list[str]:
        """Set the release flag of a file given by name or storage key; return the keys changed.

        Raises
        ------
        KeyError
            If no indexed file has that name or key.
        """
        name = str(file_name)
        with self.transaction() as conn:
            keys = [r[0] for r in conn.execute("SELECT file_path FROM files WHERE file_path=? OR file_name=?",
                                               (name, name))]
            if not keys:
                msg = f"No indexed file is named {name!r}; give a file name or storage key present in the archive."
                raise KeyError(msg)
            conn.executemany("UPDATE files SET released=? WHERE file_path=?", [(1 if released else 0, k) for k in keys])
        return keys

    def count(self) -> int:
        """Number of indexed objects."""
        return int(self.execute("SELECT COUNT(*) FROM files")[0][0])

    # ------------------------------------------------------------------ keys
    def add_key(self, scope: str = "write", owner: str = "", key: str | None = None) -> str:
        """Store an API key (a new random one unless given) with its scope and return it."""
        if scope not in VALID_SCOPES:
            msg = f"Unknown API-key scope {scope!r}. Expected one of: {', '.join(sorted(VALID_SCOPES))}."
            raise ValueError(msg)
        key = key or new_api_key()
        created = dt.datetime.now(dt.timezone.utc).strftime(STORED_DATE_FORMAT)
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO api_keys (api_key, scope, owner, created) VALUES (?, ?, ?, ?)",
                         (key, scope, owner, created))
        return key

    def remove_key(self, key: str) -> bool:
        """Delete an API key; return whether it existed."""
        with self.transaction() as conn:
            return conn.execute("DELETE FROM api_keys WHERE api_key=?", (key,)).rowcount > 0

    def key_scope(self, key: str) -> str | None:
        """The scope of a stored key, or None if unknown."""
        rows = self.execute("SELECT scope FROM api_keys WHERE api_key=?", (key,))
        return rows[0][0] if rows else None

    def list_keys(self) -> list[dict[str, str]]:
        """All stored keys, as dicts with ``api_key`` (full), ``scope``, ``owner``, ``created``."""
        return [dict(r) for r in self.execute("SELECT api_key, scope, owner, created FROM api_keys ORDER BY created")]
