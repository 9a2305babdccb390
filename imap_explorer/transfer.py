"""``download()`` and ``upload()``: move files between the SDC and a local archive in the SDC layout.

Downloads are atomic, idempotent and bounded (``sdc-api.md`` §6, §13):

* the local path is computed from the validated file name (:func:`~imap_explorer.filenames.local_path`),
  never from anything the server says; ``..`` or absolute paths are refused before any request;
* a file already present is not requested again (a ``.cdf`` must also start with the CDF magic bytes,
  otherwise it is fetched again), unless ``overwrite=True``;
* bytes are streamed in 1 MiB chunks into a uniquely named ``<name>.<random>.part`` beside the target,
  checked (length against ``Content-Length``; for ``.cdf`` the magic bytes, so an HTML error page is never
  saved as data), then moved into place with :func:`os.replace`. An interrupted or failed transfer leaves
  nothing under the final name, and two processes fetching the same file never corrupt it;
* a transfer broken midway is resumed on the next attempt from the byte where it stopped (``Range`` with
  ``If-Range``, which S3 storage honours), so a dropped connection late in a large file does not start it over;
  the part file is removed once the attempts are used up;
* files are fetched in parallel over one pooled session; when some fail, the others still complete and
  one :class:`~imap_explorer.exceptions.DownloadError` lists every failure.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from imap_explorer import config
from imap_explorer.exceptions import (
    ApiError,
    ConfigurationError,
    DownloadError,
    FileAlreadyExistsError,
    ImapExplorerError,
    InvalidFileError,
    UploadError,
)
from imap_explorer.filenames import check_file_path, local_path, parse_filename

__all__ = ["cdf_problem", "download", "download_action", "fetch_files", "file_paths", "upload"]

log = logging.getLogger("imap_explorer.transfer")

#: First four bytes of every CDF version 3 file.
CDF_MAGIC = b"\xcd\xf3\x00\x01"
#: Second four bytes: uncompressed, or whole-file compressed.
CDF_MAGIC_UNCOMPRESSED = b"\x00\x00\xff\xff"
CDF_MAGIC_COMPRESSED = b"\xcc\xcc\x00\x01"

Action = Literal["skip", "fetch", "refetch"]


# --------------------------------------------------------------------------- pure decisions
def cdf_problem(head: bytes) -> str | None:
    """Return why ``head`` (the first 8 bytes of a file) is not a CDF, or ``None`` if it is one.

    Examples
    --------
    >>> cdf_problem(bytes.fromhex("cdf30001 0000ffff")) is None
    True
    >>> cdf_problem(bytes.fromhex("cdf30001 cccc0001")) is None
    True
    >>> cdf_problem(b"<!DOCTYPE html>")
    "not a CDF file: it starts with b'<!DOCTYPE' instead of the CDF magic bytes cd f3 00 01"
    """
    if len(head) < 8:
        return f"not a CDF file: only {len(head)} bytes"
    if head[:4] != CDF_MAGIC:
        return f"not a CDF file: it starts with {head[:9]!r} instead of the CDF magic bytes cd f3 00 01"
    if head[4:8] not in (CDF_MAGIC_UNCOMPRESSED, CDF_MAGIC_COMPRESSED):
        return f"not a CDF file: bytes 5-8 are {head[4:8].hex(' ')}, expected 00 00 ff ff or cc cc 00 01"
    return None


def _is_cdf(path: Path | str) -> bool:
    return str(path).lower().endswith(".cdf")


def download_action(path: Path, overwrite: bool = False) -> Action:
    """Decide what to do for one target path: ``"skip"``, ``"fetch"`` or ``"refetch"`` (present but broken).

    A present ``.cdf`` counts as complete only if it starts with the CDF magic bytes, so a truncated
    or HTML file left by another tool is repaired. Other present files are trusted.
    """
    if not path.is_file():
        return "fetch"
    if overwrite:
        return "refetch"
    if _is_cdf(path):
        with open(path, "rb") as fh:
            if cdf_problem(fh.read(8)) is not None:
                return "refetch"
    return "skip"


def file_paths(files: Any) -> list[str]:
    """Return the validated SDC storage keys of ``files``, duplicates removed, order kept.

    ``files`` is a file name, an SDC ``file_path``, a path-like, a list of those, a DataFrame from
    :func:`~imap_explorer.query.query` (its ``file_path`` column, every row) or one of its rows.

    Examples
    --------
    >>> file_paths(["imap_mag_l2_norm-gse_20260120_v001.0001.cdf"])
    ['imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v001.0001.cdf']
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(files, pd.DataFrame):
        if "file_path" not in files.columns:
            msg = ("Expected a DataFrame from imap_explorer.query() with a 'file_path' column; "
                   f"got columns: {', '.join(map(str, files.columns))}.")
            raise ValueError(msg)
        items: Iterable[Any] = files["file_path"].tolist()
    elif pd is not None and isinstance(files, pd.Series) and "file_path" in files.index:
        items = [files["file_path"]]
    elif isinstance(files, (str, os.PathLike)):
        items = [files]
    elif isinstance(files, Iterable):
        items = list(files)
    else:
        msg = (f"Cannot download {files!r}: expected a file name, an SDC file_path, a list of them, "
               "or a DataFrame from imap_explorer.query().")
        raise TypeError(msg)
    keys: dict[str, None] = {}
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"Cannot download {item!r}: expected a file name or an SDC file_path (str).")
        keys[check_file_path(os.fspath(item))] = None
    return list(keys)


# --------------------------------------------------------------------------- one file
class _Progress:
    """Two tqdm.auto bars (files, bytes) shared by the workers; silent when disabled."""

    def __init__(self, n_files: int, enabled: bool) -> None:
        self._lock = threading.Lock()
        self._files = self._bytes = None
        if enabled and n_files:
            from tqdm.auto import tqdm

            self._files = tqdm(total=n_files, unit="file", desc="files")
            self._bytes = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, desc="bytes")

    def expect(self, nbytes: int | None) -> None:
        if self._bytes is not None and nbytes:
            with self._lock:
                self._bytes.total += nbytes
                self._bytes.refresh()

    def add_bytes(self, nbytes: int) -> None:
        if self._bytes is not None:
            with self._lock:
                self._bytes.update(nbytes)

    def file_done(self) -> None:
        if self._files is not None:
            with self._lock:
                self._files.update(1)

    def close(self) -> None:
        for bar in (self._files, self._bytes):
            if bar is not None:
                bar.close()


def completed(futures: Iterable[Future], poll: float = 0.25) -> Iterable[Future]:
    """The futures as they complete, like :func:`concurrent.futures.as_completed`, but waking every ``poll`` seconds.

    A Ctrl-C (or a Jupyter interrupt, ``kill -INT``) goes to the process, and the kernel may hand it to any thread:
    Python then raises KeyboardInterrupt in the main thread only when that thread next runs, and a main thread
    blocked in ``as_completed`` would not run until a transfer ended. Waking every ``poll`` seconds notices it.
    """
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=poll, return_when=FIRST_COMPLETED)
        yield from done


class _Cancelled(ImapExplorerError):
    """The download was interrupted (KeyboardInterrupt in the caller)."""


class _Partial:
    """What one file's transfer has so far, kept across the attempts of one :func:`download` call."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.part: Path | None = None
        self.received = 0
        self.head = b""
        self.validator: str | None = None
        self.counted = False  # the file's size was added to the progress bar

    def resumable(self) -> bool:
        return self.part is not None and self.received > 0 and self.validator is not None

    def discard(self, progress: _Progress) -> None:
        progress.add_bytes(-self.received)
        if self.part is not None:
            self.part.unlink(missing_ok=True)
        self.part, self.received, self.head, self.validator = None, 0, b"", None


def _fetch_once(client: Any, key: str, state: _Partial, progress: _Progress, cancel: threading.Event) -> Path:
    """One attempt: stream into the part file (resuming what an earlier attempt received), check, move into place.

    A broken transfer keeps its part file when the server accepts byte ranges, so that the next attempt asks only
    for the rest (``Range`` + ``If-Range``); a server that answers with the whole file restarts it cleanly.
    """
    from imap_explorer._http import is_transient

    dest = state.dest
    offset = state.received if state.resumable() else 0  # (a part kept by a failed attempt is always resumable)
    with client.open_download(key, offset=offset, validator=state.validator) as body:
        if body.offset != offset:  # the whole file came back (changed since, or no range support): start again
            state.discard(progress)
        total = body.total if body.total is not None else body.length
        if not state.counted:
            progress.expect(total)
            state.counted = True
        state.validator = body.validator if body.ranges else None
        dest.parent.mkdir(parents=True, exist_ok=True)
        mode = "ab" if state.part is not None else "xb"
        state.part = state.part or dest.with_name(f"{dest.name}.{uuid.uuid4().hex[:12]}.part")
        received_before = state.received
        try:
            with open(state.part, mode) as fh:
                for chunk in body.chunks():
                    if cancel.is_set():
                        raise _Cancelled(f"download of {dest.name} interrupted")
                    if len(state.head) < 8:
                        state.head += chunk[: 8 - len(state.head)]
                    fh.write(chunk)
                    state.received += len(chunk)
                    progress.add_bytes(len(chunk))
            if body.length is not None and state.received - received_before != body.length:
                err = ApiError(200, body.url, f"truncated transfer: received {state.received} of {total} bytes", "OK")
                err.retryable = True
                raise err
            if body.total is not None and state.received != body.total:
                raise ApiError(206 if body.offset else 200, body.url, f"received {state.received} bytes of a "
                               f"{body.total}-byte file", "OK")
            if _is_cdf(dest):
                problem = cdf_problem(state.head)
                if problem is not None:
                    raise InvalidFileError(body.url, f"{problem} (the server did not send a CDF file)")
            os.replace(state.part, dest)
            state.part = None
        except ApiError as err:
            if not (state.resumable() and is_transient(err)):
                state.discard(progress)
            raise
        except BaseException:
            state.discard(progress)
            raise
    log.info("downloaded %s", dest)
    return dest


def _fetch(client: Any, key: str, dest: Path, progress: _Progress, cancel: threading.Event) -> Path:
    from imap_explorer._http import retrying

    state = _Partial(dest)
    try:
        return retrying(lambda: _fetch_once(client, key, state, progress, cancel))
    finally:  # attempts used up, or a failure that cannot be retried: leave nothing behind
        if state.part is not None:
            state.discard(progress)


# --------------------------------------------------------------------------- public calls
def download(
    files: Any,
    *,
    data_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    max_workers: int = 8,
    progress: bool = True,
) -> list[Path]:
    """Download files from the SDC into a local archive in the SDC layout.

    Every name is validated before any request. Files already present are not fetched again (no
    request at all) unless ``overwrite=True``. The others are fetched in parallel, each streamed into a
    temporary file beside its target, checked, and moved into place only when complete.

    Parameters
    ----------
    files : str, path-like, list, or pandas.DataFrame
        A file name, an SDC ``file_path``, a list of them, or a DataFrame from
        :func:`~imap_explorer.query` (every row is downloaded).
    data_dir : path-like, optional
        Archive root (default: ``set_options(data_dir=...)``, ``IMAP_DATA_DIR`` or ``./data``).
    overwrite : bool, default False
        Download again even when the file is present.
    max_workers : int, default 8
        Parallel transfers.
    progress : bool, default True
        Show tqdm progress bars (files and bytes).

    Returns
    -------
    list of pathlib.Path
        The local path of each file, in the order given (duplicates once).

    Raises
    ------
    ValueError
        A name is not an IMAP file name, or a path points outside the archive (``..``, absolute).
    imap_explorer.DownloadError
        One or more files failed; the others completed. ``.failures`` maps each failed file name to
        the reason (status, URL and the server's message), ``.paths`` lists the completed files.

    See Also
    --------
    imap_explorer.query : find files to download.
    imap_explorer.load : open the downloaded files.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> paths = ie.download("imap_mag_l2_norm-gse_20260120_v001.0001.cdf")  # doctest: +SKIP
    >>> paths[0].relative_to(ie.config.resolve().data_dir).as_posix()  # doctest: +SKIP
    'imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v001.0001.cdf'
    """
    keys = file_paths(files)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ValueError(f"Invalid max_workers {max_workers!r}. Expected a whole number >= 1.")
    settings = config.resolve(data_dir=data_dir)
    targets = {key: local_path(settings.data_dir, key) for key in keys}
    todo = []
    for key in keys:
        action = download_action(targets[key], overwrite)
        if action == "refetch" and not overwrite:
            log.warning("%s is present but not a complete CDF; downloading it again", targets[key])
        if action != "skip":
            todo.append(key)
    if not todo:
        return [targets[key] for key in keys]

    from imap_explorer._http import Client

    jobs = {PurePosixPath(key).name: (key, targets[key]) for key in todo}
    failures, errors = fetch_files(jobs, lambda pool_size: Client(settings, pool_size=pool_size),
                                   max_workers=max_workers, progress=progress)
    if failures:
        done = [targets[k] for k in keys if PurePosixPath(k).name not in failures]
        raise DownloadError(failures, done, errors)
    return [targets[key] for key in keys]


def fetch_files(jobs: Mapping[str, tuple[str, Path]], client_for: Callable[[int], Any], *, max_workers: int = 8,
                progress: bool = True, thread_name_prefix: str = "imap-download",
                ) -> tuple[dict[str, str], dict[str, BaseException]]:
    """Fetch files in parallel, each streamed into a temporary file and moved into place when complete.

    ``jobs`` maps a file name to its ``download/<key>`` key and its destination; ``client_for(n)`` makes the
    HTTP client for ``n`` threads. Every file is attempted; Ctrl-C cancels those not started and stops the
    others at their next chunk. Used by :func:`download` and :func:`imap_explorer.ialirt.download`.

    Returns
    -------
    failures, errors : dict, dict
        The reason (status, URL and the server's words) and the exception of each file that failed.
    """
    failures: dict[str, str] = {}
    errors: dict[str, BaseException] = {}
    if not jobs:
        return failures, errors
    cancel = threading.Event()
    bars = _Progress(len(jobs), progress)
    workers = min(max_workers, len(jobs))
    try:
        with client_for(workers) as client:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name_prefix)
            try:
                futures = {pool.submit(_fetch, client, key, dest, bars, cancel): name
                           for name, (key, dest) in jobs.items()}
                for future in completed(futures):
                    name = futures[future]
                    try:
                        future.result()
                    except Exception as err:  # every failure is reported below, after the others finish
                        reason = str(err) if isinstance(err, ImapExplorerError) else f"{type(err).__name__}: {err}"
                        failures[name], errors[name] = reason, err
                    bars.file_done()
            except BaseException:
                cancel.set()
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bars.close()
    return failures, errors


def upload(path: str | os.PathLike) -> str:
    """Upload a file to the SDC and return its storage key.

    The SDC hands out a presigned URL (``GET <api>/upload/<file name>``); the bytes are then PUT to it,
    streamed from the file handle, with an empty ``Content-Type``. Uploading needs an API key.

    Parameters
    ----------
    path : path-like
        The file to upload; its name must follow an IMAP naming convention.

    Returns
    -------
    str
        The storage key, e.g. ``'imap/mag/l1b/2025/12/imap_mag_l1b_norm-mago_20251221_v001.0001.cdf'``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The name is not an IMAP file name.
    imap_explorer.ConfigurationError
        No API key is configured (``IMAP_API_KEY``, ``--api-key`` or ``set_options(api_key=...)``).
    imap_explorer.FileAlreadyExistsError
        The SDC already holds a file with this name (HTTP 409).
    imap_explorer.UploadError
        Any other refusal or failure (status, URL and the server's message are attached).

    Examples
    --------
    >>> import imap_explorer as ie
    >>> with ie.set_options(api_key="..."):  # doctest: +SKIP
    ...     ie.upload("imap_mag_l1b_norm-mago_20251221_v001.0001.cdf")
    'imap/mag/l1b/2025/12/imap_mag_l1b_norm-mago_20251221_v001.0001.cdf'
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No file to upload at {str(path)!r}.")
    key = parse_filename(path.name).key
    settings = config.resolve()
    if not settings.api_key:
        msg = ("Uploading to the SDC needs an API key: set the IMAP_API_KEY environment variable, pass "
               "--api-key on the command line, or use imap_explorer.set_options(api_key=...).")
        raise ConfigurationError(msg)

    from imap_explorer._http import Client

    with Client(settings, pool_size=2) as client:
        try:
            url = client.upload_url(path.name)
            client.put_file(url, path)
        except ApiError as err:
            cls = FileAlreadyExistsError if err.status == 409 else UploadError
            raise cls(err.status, err.url, err.body, err.reason) from err
    log.info("uploaded %s as %s", path.name, key)
    return key
