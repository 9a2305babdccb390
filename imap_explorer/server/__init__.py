"""An embedded IMAP Science Data Center: the SDC HTTP API served from a local archive.

:class:`LocalSDC` answers ``/query``, ``/download`` and ``/upload`` (public, ``/api-key`` and
``/authorized`` routes) the way the real SDC does (``sdc-api.md``), so the official ``imap-data-access``
client and ours work against it unchanged, offline. Downloads redirect to a presigned-style URL served from
a second origin (``http://localhost:<p2>``), like S3.

Examples
--------
>>> import imap_explorer as ie
>>> with ie.server.LocalSDC(archive_root) as sdc:              # doctest: +SKIP
...     with ie.set_options(url=sdc.url):
...         files = ie.query(instrument="mag", data_level="l2")

From a shell: ``imap-explorer serve --archive DIR`` and ``imap-explorer keys --archive DIR add``.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from imap_explorer.server.app import HTTPService
from imap_explorer.server.handlers import Request, Response, State, handle_api
from imap_explorer.server.index import VALID_SCOPES, Index, ScanReport, archive_is_writable, mask_key, new_api_key
from imap_explorer.server.storage import Signer, handle_storage

__all__ = ["TEST_API_KEYS", "TEST_READ_KEY", "TEST_WRITE_KEY", "LocalSDC", "keys_command", "serve"]

log = logging.getLogger("imap_explorer.server")

#: Fixed API key with scope ``write`` that every :class:`LocalSDC` accepts unless ``api_keys`` is given.
TEST_WRITE_KEY = "imap-explorer-test-write"
#: Fixed API key with scope ``read`` (uploads are refused with 403).
TEST_READ_KEY = "imap-explorer-test-read"
#: The default ``{api_key: scope}`` of a :class:`LocalSDC`.
TEST_API_KEYS = {TEST_WRITE_KEY: "write", TEST_READ_KEY: "read"}
#: How often ``imap-explorer serve`` rescans the archive for files added or removed on disk (seconds).
SERVE_RESCAN_SECONDS = 30.0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int, app, role: str, option: str) -> HTTPService:
    try:
        return HTTPService(host, port, app, role)
    except OSError as err:
        msg = (f"Cannot serve the {role} on {host}:{port}: {err.strerror or err}. Choose another {option} "
               "(0 picks a free one).")
        raise OSError(err.errno, msg) from err


class LocalSDC:
    """A local SDC API over an archive root, running in background threads.

    Parameters
    ----------
    root : path-like
        Archive root in the SDC layout (``imap/<instrument>/<level>/<YYYY>/<MM>/<file>``, ancillary,
        SPICE and quicklook trees per sdc-api.md §8.6). It may be read-only; uploads are then refused.
    host : str, default "127.0.0.1"
        Address the API binds to.
    port : int, default 0
        API port; 0 picks a free one.
    storage_port : int, default 0
        Storage port (download/upload URLs); 0 picks a free one. Storage is reached as ``localhost``, a
        different origin from the API's ``127.0.0.1``, so forwarded credentials can be detected.
    api_keys : mapping, optional
        ``{api_key: scope}`` accepted on ``/api-key`` routes, besides keys stored with ``keys add``.
        Default :data:`TEST_API_KEYS`.
    upload_public : bool, default False
        Dev-deployment behaviour: ``/upload`` under every prefix (prod: only ``/api-key/upload``).
    access_tokens : collection of str, optional
        Bearer tokens accepted on ``/authorized``; default any non-empty token.
    db : str or path-like, optional
        Index database; default ``<root>/.imap-sdc.sqlite3``, or a per-user cache file (or memory) when
        the archive is read-only.
    ialirt_live : bool, default False
        Map the archive's I-ALiRT stream onto the wall clock (``imap-explorer serve --live``; see
        :mod:`imap_explorer.server.ialirt`).
    ialirt_cutoff : str, optional
        Keyless ``/space-weather`` queries starting before it answer 400 (default ``2026-02-01T00:00:00``).

    Attributes
    ----------
    url : str
        API base URL, ``http://127.0.0.1:<port>``: use it as ``IMAP_DATA_ACCESS_URL``.
    storage_url : str
        Storage origin, ``http://localhost:<storage_port>``.

    Examples
    --------
    >>> with LocalSDC(archive_root) as sdc:                   # doctest: +SKIP
    ...     key = sdc.add_key("write")
    ...     sdc.set_released("imap_mag_l2_norm-gse_20260120_v001.0001.cdf", False)
    """

    def __init__(self, root: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 0, storage_port: int = 0,
                 api_keys: Mapping[str, str] | None = None, upload_public: bool = False,
                 access_tokens: set[str] | None = None, db: str | os.PathLike | None = None,
                 ialirt_live: bool = False, ialirt_cutoff: str | None = None) -> None:
        self.root = Path(root).resolve()
        self.host = host
        self._ports = (int(port), int(storage_port))
        self.index = Index(self.root, db=db)
        self.writable = archive_is_writable(self.root)
        keys = dict(TEST_API_KEYS if api_keys is None else api_keys)
        for key, scope in keys.items():
            if not key or not scope:
                msg = f"API keys need a non-empty key and scope; got scope {scope!r} for key {mask_key(key)}."
                raise ValueError(msg)
        self._keys = keys
        self._upload_public = upload_public
        self._tokens = set(access_tokens) if access_tokens is not None else None
        self._ialirt = {"live": bool(ialirt_live), **({"cutoff": ialirt_cutoff} if ialirt_cutoff else {})}
        self._api: HTTPService | None = None
        self._storage: HTTPService | None = None
        self.state: State | None = None
        self.url = ""
        self.storage_url = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalSDC:
        """Scan the archive and start both servers; return self."""
        if self._api is not None:
            return self
        self.index.scan()
        storage_host = "127.0.0.1" if _is_loopback(self.host) else self.host
        storage = _bind(storage_host, self._ports[1], self._storage_app, "storage", "storage_port")
        try:
            api = _bind(self.host, self._ports[0], self._api_app, "api", "port")
        except OSError:
            storage.stop()
            raise
        if _is_loopback(self.host):
            origin_host = "localhost"
        elif self.host in ("0.0.0.0", "::", ""):
            origin_host = socket.gethostname()
        else:
            origin_host = self.host
        api_host = self.host if ":" not in self.host else f"[{self.host}]"
        self.url = f"http://{api_host}:{api.port}"
        self.storage_url = f"http://{origin_host}:{storage.port}"
        self.state = State(self.index, Signer(self.storage_url), api_keys=self._keys,
                           access_tokens=self._tokens, upload_public=self._upload_public, writable=self.writable)
        from imap_explorer.server.ialirt import IalirtService
        from imap_explorer.server.storage import DOWNLOAD_EXPIRES

        self.state.ialirt = IalirtService(self.index, **self._ialirt)
        self.state.ialirt.signer, self.state.ialirt.expires = self.state.signer, DOWNLOAD_EXPIRES
        self._api, self._storage = api, storage
        storage.start()
        api.start()
        log.info("LocalSDC serving %s at %s (storage %s)", self.root, self.url, self.storage_url)
        return self

    def stop(self) -> None:
        """Stop both servers and close the index."""
        for service in (self._api, self._storage):
            if service is not None:
                service.stop()
        self._api = self._storage = None

    def close(self) -> None:
        """Stop the servers and close the database."""
        self.stop()
        self.index.close()

    def __enter__(self) -> LocalSDC:
        try:
            return self.start()
        except BaseException:  # __exit__ will not run: do not leave the index open
            self.close()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"url={self.url!r}, storage_url={self.storage_url!r}" if self._api else "stopped"
        return f"LocalSDC({str(self.root)!r}, {state})"

    def _api_app(self, req: Request) -> Response:
        assert self.state is not None
        return handle_api(self.state, req)

    def _storage_app(self, req: Request) -> Response:
        assert self.state is not None
        return handle_storage(self.state, req)

    # ------------------------------------------------------------------ management
    @property
    def api_keys(self) -> dict[str, str]:
        """The keys given to the constructor or added with :meth:`add_key`, ``{api_key: scope}`` (a copy)."""
        return dict(self._keys)

    def add_key(self, scope: str = "write", *, key: str | None = None) -> str:
        """Accept a new API key (random unless given) with ``scope`` for the life of this server; return it."""
        if scope not in VALID_SCOPES:
            msg = f"Unknown API-key scope {scope!r}. Expected one of: {', '.join(sorted(VALID_SCOPES))}."
            raise ValueError(msg)
        key = key or new_api_key()
        self._keys[key] = scope
        if self.state is not None:
            self.state.api_keys[key] = scope
        return key

    def remove_key(self, key: str) -> None:
        """Stop accepting an API key given to this server."""
        self._keys.pop(key, None)
        if self.state is not None:
            self.state.api_keys.pop(key, None)

    @property
    def storage_requests(self) -> list[dict]:
        """Recent requests to the storage origin: ``method``, ``path`` and ``credential_headers``.

        ``credential_headers`` lists the names of ``Authorization``/``x-api-key`` headers a client sent
        to storage (never their values), so tests can prove that credentials are not forwarded.
        """
        return list(self.state.storage_requests) if self.state is not None else []

    def set_released(self, file_name: str, released: bool = True) -> list[str]:
        """Mark a file (bare name or storage key) released or not; return the storage keys changed."""
        return self.index.set_released(file_name, released)

    def rescan(self) -> ScanReport:
        """Index files added to (or removed from) the archive since the last scan."""
        return self.index.scan()


def serve(archive: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000, storage_port: int = 0,
          *, stop_event: threading.Event | None = None, live: bool = False) -> None:
    """Serve an archive until Ctrl-C or SIGTERM (blocking); used by ``imap-explorer serve``.

    Parameters
    ----------
    archive : path-like
        Archive root in the SDC layout.
    host : str, default "127.0.0.1"
    port : int, default 8000
        API port (0 picks a free one).
    storage_port : int, default 0
        Storage port (0 picks a free one).
    stop_event : threading.Event, optional
        Stop when this event is set (for embedding); default: run until interrupted.
    live : bool, default False
        Map the I-ALiRT stream onto the wall clock (new records appear as time passes).

    Notes
    -----
    The archive is rescanned every :data:`SERVE_RESCAN_SECONDS`, so files copied into it appear in
    queries without a restart.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    sdc = LocalSDC(archive, host=host, port=port, storage_port=storage_port, ialirt_live=live)
    stop = stop_event or threading.Event()
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        # SIGTERM stops as cleanly as Ctrl-C. SIGINT is handled explicitly too: a background job started by a
        # non-interactive shell inherits SIGINT as ignored, so `kill -INT` would otherwise do nothing.
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        sdc.start()
        print(f"LocalSDC: serving {sdc.root} ({sdc.index.count()} files)", flush=True)
        print(f"  API:     {sdc.url}", flush=True)
        print(f"  storage: {sdc.storage_url}", flush=True)
        print(f"  use it:  export IMAP_DATA_ACCESS_URL={sdc.url}", flush=True)
        print(f"  I-ALiRT: export IALIRT_DATA_ACCESS_URL={sdc.url}{' (live)' if live else ''}", flush=True)
        print(f"  test API keys (see imap_explorer.server.TEST_API_KEYS): scopes "
              f"{', '.join(sorted(set(TEST_API_KEYS.values())))}", flush=True)
        if not sdc.writable:
            print("  archive is read-only: uploads are refused", flush=True)
        if not _is_loopback(host):
            print(f"  warning: bound to {host}, reachable from other machines; the test keys are public",
                  flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        last = time.monotonic()
        while not stop.wait(0.5):
            if time.monotonic() - last >= SERVE_RESCAN_SECONDS:
                report = sdc.rescan()
                last = time.monotonic()
                if report.added or report.removed or report.updated:
                    print(f"LocalSDC: rescan: {report.added} added, {report.updated} changed, "
                          f"{report.removed} removed", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sdc.close()
        print("LocalSDC: stopped", flush=True)


def keys_command(args: argparse.Namespace) -> int:
    """Run ``imap-explorer keys --archive DIR add|list|remove``; return the exit code.

    Keys are stored in the archive's index database (beside the archive, or in the per-user cache
    when the archive is read-only). ``list`` shows keys masked; ``add`` prints the new key once.
    """
    index = Index(args.archive)
    try:
        action = args.keys_command
        if action == "add":
            key = index.add_key(scope=args.scope, owner=getattr(args, "owner", "") or "")
            print(key)
            print(f"added a {args.scope!r} key (stored in {index.db_path})", file=sys.stderr)
            return 0
        if action == "list":
            rows = index.list_keys()
            if not rows:
                print(f"no keys stored in {index.db_path}")
            for row in rows:
                print(f"{mask_key(row['api_key'])}  {row['scope']:<5}  {row['created']}  {row['owner']}".rstrip())
            return 0
        if action == "remove":
            if index.remove_key(args.key):
                print(f"removed key {mask_key(args.key)}")
                return 0
            print(f"imap-explorer keys: error: no such key {mask_key(args.key)} in {index.db_path}", file=sys.stderr)
            return 1
        msg = f"Unknown keys action {action!r}. Expected one of: add, list, remove."
        raise ValueError(msg)
    finally:
        index.close()
