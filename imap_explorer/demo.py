"""The offline demo and the data source of the tutorials.

Two entry points share one idea: a synthetic IMAP archive (MAG + SWE, built once and cached per user) served by
the embedded :class:`~imap_explorer.server.LocalSDC`, so that everything works with no network.

* :func:`tutorial_source` is the first cell of every tutorial notebook. The environment variable
  ``IMAP_EXPLORER_SOURCE`` chooses where the data come from:

  ==========  ===========================================================================================
  ``local``   (default) a LocalSDC over the cached synthetic archive, started inside the notebook's kernel;
              downloads go to a private temporary folder, so the synthetic files never mix with real ones
  ``sdc``     the real IMAP Science Data Center (``IMAP_DATA_ACCESS_URL``, ``IMAP_DATA_DIR`` as usual);
              Binder sets this in ``binder/start``
  ==========  ===========================================================================================

* :func:`run_demo` is ``imap-explorer demo``: it builds (or reuses) the archive, starts the LocalSDC and runs the
  Explorer app (``imap_explorer/app/explorer.ipynb``) under Voilà, pointed at that server.

The archive lives in ``$IMAP_EXPLORER_ARCHIVE`` if set, else ``$XDG_CACHE_HOME/imap-explorer/archive``
(``~/.cache/imap-explorer/archive`` when ``XDG_CACHE_HOME`` is unset).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ARCHIVE_ENV",
    "DEMO_DAYS",
    "DEMO_SEED",
    "DEMO_START",
    "SOURCE_ENV",
    "VALID_SOURCES",
    "TutorialSource",
    "default_archive_dir",
    "ensure_archive",
    "run_demo",
    "tutorial_source",
]

#: Environment variable that chooses the tutorials' data source.
SOURCE_ENV = "IMAP_EXPLORER_SOURCE"
#: Environment variable that overrides where the synthetic archive is kept.
ARCHIVE_ENV = "IMAP_EXPLORER_ARCHIVE"
#: The data sources :func:`tutorial_source` knows.
VALID_SOURCES = ("local", "sdc")
#: The synthetic archive of the demo and the tutorials: two days, with an interplanetary shock on the first
#: (2026-01-20 around 12:00 UTC). Two days keep the build quick and the files small (CI, Binder).
DEMO_START = "2026-01-20"
DEMO_DAYS = 2
DEMO_SEED = 0

_MARKER = ".imap-explorer-archive.json"
_APP_READY_TIMEOUT = 120.0  # seconds for Voilà to start listening
_STOP_GRACE = 8.0  # seconds between SIGTERM and SIGKILL when stopping Voilà


# --------------------------------------------------------------------------- the cached synthetic archive
def default_archive_dir() -> Path:
    """Return where the synthetic archive is cached (resolved at call time, nothing is created).

    ``$IMAP_EXPLORER_ARCHIVE`` if set, else ``$XDG_CACHE_HOME/imap-explorer/archive``, else
    ``~/.cache/imap-explorer/archive``.

    Examples
    --------
    >>> default_archive_dir().parts[-2:]
    ('imap-explorer', 'archive')
    """
    explicit = os.environ.get(ARCHIVE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "imap-explorer" / "archive"


def _generator_fingerprint(start: str, days: int, seed: int) -> str:
    """Identify the archive a given generator would write: the recipe plus the generator's source code."""
    digest = hashlib.sha256(f"{start}|{days}|{seed}".encode())
    package = Path(__file__).resolve().parent / "synthetic"
    for source in sorted([*package.rglob("*.py"), *package.rglob("*.json")]):  # code and product specs
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def ensure_archive(
    root: str | os.PathLike | None = None,
    *,
    start: str = DEMO_START,
    days: int = DEMO_DAYS,
    seed: int = DEMO_SEED,
    verbose: bool = True,
) -> Path:
    """Return a synthetic archive root, building it first if needed.

    An archive this function built carries a small marker file that records the recipe and a fingerprint of the
    generator; it is rebuilt when either changes (e.g. after an upgrade). A folder that already holds an ``imap/``
    tree but no marker (one written by ``imap-explorer make-archive``, or a real archive) is used as it is and
    never modified. The build happens in a sibling temporary folder that is renamed into place, so an interrupted
    build never leaves a half-written archive behind, and two processes building at once both end up with a
    complete one.

    Parameters
    ----------
    root : path-like, optional
        Archive folder (default: :func:`default_archive_dir`).
    start, days, seed
        Passed to :func:`imap_explorer.synthetic.make_archive` (defaults: the demo's two days from 2026-01-20).
    verbose : bool, default True
        Print a line when a (slow) build starts and ends.

    Returns
    -------
    pathlib.Path
        The archive root, in the SDC layout (``imap/<instrument>/<level>/<YYYY>/<MM>/<file>``).

    Raises
    ------
    ValueError
        If ``root`` exists and is not a folder, or is a non-empty folder that is neither an archive of ours nor
        holds an ``imap/`` tree (it is never replaced).
    """
    root = Path(root).expanduser() if root is not None else default_archive_dir()
    if root.exists() and not root.is_dir():
        msg = f"Cannot use {str(root)!r} as a synthetic archive: it exists and is not a folder."
        raise ValueError(msg)
    fingerprint = _generator_fingerprint(start, days, seed)
    marker = root / _MARKER
    if marker.is_file():
        with contextlib.suppress(OSError, ValueError):
            if json.loads(marker.read_text()).get("fingerprint") == fingerprint:
                return root
    elif (root / "imap").is_dir():
        return root  # somebody else's archive (make-archive, real files): use it as it is
    elif root.is_dir() and any(root.iterdir()):  # never replace a folder that is not ours
        msg = (f"Cannot build the synthetic archive in {str(root)!r}: the folder is not empty and holds no IMAP "
               "archive (no imap/ folder inside). Choose a new or empty folder, e.g. --archive ./imap-demo-archive.")
        raise ValueError(msg)

    from imap_explorer.synthetic import make_archive

    root.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{root.name}.building-", dir=root.parent))
    if verbose:
        print(f"Building the synthetic IMAP archive ({days} days from {start}) in {root} ...", flush=True)
    began = time.monotonic()
    try:
        paths = make_archive(building, start=start, days=days, seed=seed, ialirt=True)
        recipe = {"start": start, "days": days, "seed": seed, "fingerprint": fingerprint, "files": len(paths)}
        (building / _MARKER).write_text(json.dumps(recipe, indent=1) + "\n")
        old = None
        if root.exists():  # an outdated build of ours (or an empty folder): move it aside, then swap
            old = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
            os.replace(root, old / "archive")
        try:
            os.replace(building, root)
        except OSError:  # another process won the race: its archive is as good as ours
            if not (root / _MARKER).is_file():
                raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    if verbose:
        print(f"Built {len(paths)} files in {time.monotonic() - began:.0f} s.", flush=True)
    return root


# --------------------------------------------------------------------------- the tutorials' data source
@dataclass
class TutorialSource:
    """Where the tutorials get their data: the answer of :func:`tutorial_source`.

    Attributes
    ----------
    name : {'local', 'sdc'}
        The source chosen.
    url : str
        The SDC API base URL every later call uses.
    data_dir : pathlib.Path
        Where downloads go.
    archive : pathlib.Path or None
        The synthetic archive served (local source only).
    """

    name: Literal["local", "sdc"]
    url: str
    data_dir: Path
    archive: Path | None = None
    _stack: contextlib.ExitStack | None = field(default=None, repr=False, compare=False)

    @property
    def is_local(self) -> bool:
        """True when the data come from the embedded server and the synthetic archive."""
        return self.name == "local"

    def close(self) -> None:
        """Stop the embedded server (if any) and restore the environment. Called automatically at exit."""
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def describe(self) -> str:
        """A few lines saying where the data come from and where downloads go."""
        if self.is_local:
            return (f"Data source: local (synthetic IMAP archive served by the embedded SDC)\n"
                    f"  API URL : {self.url}\n  archive : {self.archive}\n  downloads go to: {self.data_dir}\n"
                    f"  (set {SOURCE_ENV}=sdc before starting Jupyter to use the real IMAP SDC)")
        return (f"Data source: sdc (the IMAP Science Data Center)\n  API URL : {self.url}\n"
                f"  downloads go to: {self.data_dir}\n"
                f"  (set {SOURCE_ENV}=local to work offline on the synthetic archive)")

    def __str__(self) -> str:
        return self.describe()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython display
        printer.text(self.describe())


_active: TutorialSource | None = None
_active_lock = threading.Lock()
#: The environment variables a local source sets or removes (and puts back when it is closed).
_LOCAL_ENV = ("IMAP_DATA_ACCESS_URL", "IMAP_DATA_DIR", "IMAP_API_KEY", "IMAP_ACCESS_TOKEN")


def _restore_environment(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _chosen_source(source: str | None) -> str:
    chosen = (source or os.environ.get(SOURCE_ENV) or "local").strip().lower()
    if chosen not in VALID_SOURCES:
        where = "argument" if source else f"environment variable {SOURCE_ENV}"
        msg = (f"Unknown data source {chosen!r} (from the {where}). Expected one of: {', '.join(sorted(VALID_SOURCES))}"
               ". Use 'local' for the offline synthetic archive, 'sdc' for the real IMAP Science Data Center.")
        raise ValueError(msg)
    return chosen


def tutorial_source(source: str | None = None) -> TutorialSource:
    """Choose and prepare the tutorials' data source; call it once, in the first cell.

    With ``local`` it builds (first time only) or reuses the cached synthetic archive, starts a
    :class:`~imap_explorer.server.LocalSDC` over it in the background of this process, and points
    ``IMAP_DATA_ACCESS_URL`` at it and ``IMAP_DATA_DIR`` at a new temporary folder (credentials in
    ``IMAP_API_KEY``/``IMAP_ACCESS_TOKEN`` are dropped: the local server needs none). Every later
    ``ie.query``/``ie.download``/``ie.load`` call, and any ``!imap-explorer`` shell command, then uses it. With
    ``sdc`` nothing is changed: the usual settings (default https://api.imap-mission.com) apply. Calling it again
    in the same process returns the source already prepared.

    Parameters
    ----------
    source : {'local', 'sdc'}, optional
        Default: ``$IMAP_EXPLORER_SOURCE``, else ``'local'``.

    Returns
    -------
    TutorialSource
        Its ``repr`` says where the data come from.

    Raises
    ------
    ValueError
        If the source is not one of 'local', 'sdc'.

    Examples
    --------
    >>> src = tutorial_source("sdc")       # doctest: +SKIP
    >>> src.url                            # doctest: +SKIP
    'https://api.imap-mission.com'
    """
    global _active
    chosen = _chosen_source(source)
    with _active_lock:
        closed = _active is not None and _active.is_local and _active._stack is None
        if _active is not None and _active.name == chosen and not closed:
            return _active
        if _active is not None:
            _active.close()
            _active = None
        if chosen == "sdc":
            from imap_explorer.config import resolve

            settings = resolve()
            _active = TutorialSource(name="sdc", url=settings.url, data_dir=settings.data_dir)
            return _active

        from imap_explorer.server import LocalSDC

        archive = ensure_archive()
        stack = contextlib.ExitStack()
        stack.callback(_restore_environment, {name: os.environ.get(name) for name in _LOCAL_ENV})
        scratch = Path(tempfile.mkdtemp(prefix="imap-explorer-tutorial-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        data_dir = scratch / "data"
        data_dir.mkdir()
        # A private index per process: several notebooks may serve the same archive at once.
        server = stack.enter_context(LocalSDC(archive, db=scratch / "index.sqlite3"))
        os.environ["IMAP_DATA_ACCESS_URL"] = server.url
        os.environ["IMAP_DATA_DIR"] = str(data_dir)
        for secret in ("IMAP_API_KEY", "IMAP_ACCESS_TOKEN"):
            os.environ.pop(secret, None)
        _active = TutorialSource(name="local", url=server.url, data_dir=data_dir, archive=archive, _stack=stack)
        atexit.register(_active.close)
        return _active


# --------------------------------------------------------------------------- imap-explorer demo
class _Stop(Exception):
    """Raised by the SIGINT/SIGTERM handler so that the demo unwinds and stops what it started."""


def _app_notebook() -> Path:
    path = Path(__file__).resolve().parent / "app" / "explorer.ipynb"
    if not path.is_file():
        msg = f"The Explorer app notebook is missing: {path}. Reinstall imap-explorer."
        raise FileNotFoundError(msg)
    return path


def _can_open_browser() -> bool:
    """True when a web browser can plausibly be shown (a desktop session, or macOS/Windows)."""
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Voila (tornado) will
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_for_port(host: str, port: int, proc: subprocess.Popen, timeout: float) -> None:
    """Wait until the app listens on ``host:port``; fail early if its process dies.

    A plain TCP connection, not a page request: with Voilà every page request starts a kernel and runs the app.
    """
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Explorer app (Voila) exited with code {proc.returncode} before listening on "
                               f"{host}:{port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the Explorer app did not listen on {host}:{port} within {timeout:.0f} s")


def _stop_process(proc: subprocess.Popen) -> None:
    """Stop Voilà (it shuts its kernels down on SIGTERM), then make sure nothing of its group survives."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(_STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the app's own process group


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _api_line(api_url: str, archive: Path) -> str:
    """The embedded SDC's line: an API for programs (its root answers a redirect to the real SDC's website)."""
    return (f"Embedded SDC API (for programs, not a page to open): {api_url}\n"
            f"  serving {archive}; e.g. IMAP_DATA_ACCESS_URL={api_url} imap-explorer query --instrument mag")


def _explorer_banner(url: str, *, opened: bool | None) -> str:
    """What the demo prints once the Explorer answers: its address last and framed, then how to stop.

    ``opened`` says whether a browser tab was opened (True), could not be (False), or was not tried (None).

    Examples
    --------
    >>> print(_explorer_banner("http://127.0.0.1:8866/", opened=None))
    <BLANKLINE>
    ================================================================
      The IMAP Explorer is running at http://127.0.0.1:8866/
      Open this address in a web browser.
    ================================================================
    Press Ctrl-C to stop.
    """
    if opened is None:
        hint = "Open this address in a web browser."
    elif opened:
        hint = "It opened in your web browser."
    else:
        hint = "Could not start a browser: open this address yourself."
    rule = "=" * 64
    return "\n".join(["", rule, f"  The IMAP Explorer is running at {url}", f"  {hint}", rule,
                      "Press Ctrl-C to stop."])


def run_demo(args: argparse.Namespace) -> int:
    """Run ``imap-explorer demo``: synthetic archive + embedded SDC + the Explorer app in Voilà.

    Builds the synthetic archive on first use (``--archive`` or the per-user cache), serves it with a
    :class:`~imap_explorer.server.LocalSDC` on free local ports, and starts Voilà on
    ``http://127.0.0.1:<--port>/`` with ``IMAP_DATA_ACCESS_URL``/``IMAP_DATA_DIR`` pointing at that server and a
    temporary download folder. Opens a browser tab when a display is available and ``--no-browser`` is not given;
    always prints the URL. Runs until Ctrl-C or SIGTERM, then stops Voilà, its kernels and the server.

    Parameters
    ----------
    args : argparse.Namespace
        ``archive`` (str or None), ``port`` (int), ``no_browser`` (bool).

    Returns
    -------
    int
        0 after a clean stop; 1 if the app could not start or died (its log's last lines are printed).

    Raises
    ------
    FileNotFoundError
        Voilà or the app notebook is not installed.
    OSError
        The port is already in use (checked before anything is built or started).
    ValueError
        ``--archive`` names a file, or a non-empty folder that is not an archive.
    """
    from imap_explorer.server import LocalSDC

    port = int(args.port)
    host = "127.0.0.1"
    try:
        import voila  # noqa: F401
    except ImportError as err:
        msg = "The demo runs the Explorer app with Voilà, which is not installed: pip install voila ipykernel"
        raise FileNotFoundError(msg) from err
    notebook = _app_notebook()
    if not _port_free(host, port):
        msg = f"Port {port} on {host} is already in use. Choose another with --port, e.g. --port {port + 1}."
        raise OSError(msg)

    # SIGINT (Ctrl-C) and SIGTERM both stop the demo cleanly. SIGINT is handled explicitly because a process
    # started in the background by a non-interactive shell inherits it ignored.
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {signum: signal.getsignal(signum) for signum in stop_signals} if in_main_thread else {}

    def _on_stop_signal(signum: int, frame: Any) -> None:
        raise _Stop

    for signum in previous:
        signal.signal(signum, _on_stop_signal)
    try:
        archive = ensure_archive(args.archive)
        with tempfile.TemporaryDirectory(prefix="imap-explorer-demo-") as scratch, \
                LocalSDC(archive, db=Path(scratch) / "index.sqlite3", ialirt_live=True) as server:
            return _serve_app(notebook, server.url, archive, Path(scratch), host, port, args.no_browser)
    except (KeyboardInterrupt, _Stop):
        print("Stopped.", flush=True)
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve_app(notebook: Path, api_url: str, archive: Path, scratch: Path, host: str, port: int,
               no_browser: bool) -> int:
    """Run Voilà on ``notebook`` until it dies (-> 1) or we are interrupted (the exception propagates)."""
    data_dir = scratch / "data"
    data_dir.mkdir()
    log = scratch / "voila.log"
    env = {k: v for k, v in os.environ.items() if k not in ("IMAP_API_KEY", "IMAP_ACCESS_TOKEN")}
    env.update(IMAP_DATA_ACCESS_URL=api_url, IMAP_DATA_DIR=str(data_dir), IALIRT_DATA_ACCESS_URL=api_url,
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", f"--Voila.ip={host}",
           "--no-browser", "--Voila.port_retries=0", "--show_tracebacks=True"]
    url = f"http://{host}:{port}/"
    print(_api_line(api_url, archive), flush=True)
    print("Starting the Explorer app (Voila) ...", flush=True)
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            try:
                _wait_for_port(host, port, proc, _APP_READY_TIMEOUT)
            except RuntimeError as err:
                print(f"imap-explorer demo: error: {err}\n{_tail(log)}", file=sys.stderr)
                return 1
            print(f"The I-ALiRT live monitor (the synthetic stream on the wall clock, shock in 30 min): "
                  f"IALIRT_DATA_ACCESS_URL={api_url} imap-explorer monitor --port {port + 1}", flush=True)
            opened: bool | None = None  # no browser tried
            if not no_browser and _can_open_browser():
                import webbrowser

                opened = bool(webbrowser.open(url))
            print(_explorer_banner(url, opened=opened), flush=True)
            code = proc.wait()
            print(f"imap-explorer demo: error: the Explorer app stopped (exit code {code})\n{_tail(log)}",
                  file=sys.stderr)
            return 1
        finally:
            print("Stopping the Explorer app ...", flush=True)
            if threading.current_thread() is threading.main_thread():
                for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the (bounded) stop
                    signal.signal(signum, signal.SIG_IGN)
            _stop_process(proc)
