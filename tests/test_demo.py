"""imap_explorer.demo: the tutorials' data-source switch, the cached synthetic archive and ``imap-explorer demo``."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import imap_explorer as ie
from imap_explorer import demo

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def reset_source():
    """tutorial_source() keeps one source per process: stop it and forget it after the test.

    The autouse ``_clean_env`` fixture has already recorded the four IMAP_* variables, so monkeypatch puts back
    whatever tutorial_source() changed in os.environ.
    """
    yield
    if demo._active is not None:
        demo._active.close()
    demo._active = None


# --------------------------------------------------------------------------- archive location and build
def test_default_archive_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(demo.ARCHIVE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert demo.default_archive_dir() == tmp_path / "xdg" / "imap-explorer" / "archive"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert demo.default_archive_dir() == tmp_path / "home" / ".cache" / "imap-explorer" / "archive"
    monkeypatch.setenv(demo.ARCHIVE_ENV, str(tmp_path / "mine"))
    assert demo.default_archive_dir() == tmp_path / "mine"


def test_ensure_archive_builds_once_then_rebuilds_only_for_a_new_generator(monkeypatch, tmp_path):
    # A stand-in generator keeps this test short; the real one runs when the tutorials build the cached archive.
    calls = []

    def small_archive(target, *, start, days, seed, **kwargs):
        calls.append((start, days, seed))
        path = Path(target) / "imap" / "mag" / "l2" / "2026" / "01" / "imap_mag_l2_norm-gse_20260120_v001.0001.cdf"
        path.parent.mkdir(parents=True)
        path.write_bytes(f"build {len(calls)}".encode())
        return [path]

    monkeypatch.setattr("imap_explorer.synthetic.make_archive", small_archive)
    root = tmp_path / "archive"
    cdf = root / "imap" / "mag" / "l2" / "2026" / "01" / "imap_mag_l2_norm-gse_20260120_v001.0001.cdf"
    assert demo.ensure_archive(root, days=1, seed=3, verbose=False) == root
    assert calls == [(demo.DEMO_START, 1, 3)]
    assert cdf.read_bytes() == b"build 1"
    marker = json.loads((root / demo._MARKER).read_text())
    assert marker == {"start": demo.DEMO_START, "days": 1, "seed": 3, "fingerprint": marker["fingerprint"],
                      "files": 1}

    assert demo.ensure_archive(root, days=1, seed=3, verbose=False) == root
    assert len(calls) == 1  # reused
    demo.ensure_archive(root, days=1, seed=4, verbose=False)
    assert len(calls) == 2  # another recipe: rebuilt and swapped in
    assert cdf.read_bytes() == b"build 2"

    # A marker from an older generator (the generator's source is part of the fingerprint): rebuilt.
    (root / demo._MARKER).write_text(json.dumps({**marker, "fingerprint": "from-an-older-generator"}))
    demo.ensure_archive(root, days=1, seed=3, verbose=False)
    assert len(calls) == 3
    assert cdf.read_bytes() == b"build 3"
    assert json.loads((root / demo._MARKER).read_text())["fingerprint"] == marker["fingerprint"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]  # no building/old folders left behind


def test_ensure_archive_leaves_nothing_behind_when_the_build_fails(monkeypatch, tmp_path):
    def broken(target, **kwargs):
        (Path(target) / "half-written").write_text("")
        raise OSError("disk full")

    monkeypatch.setattr("imap_explorer.synthetic.make_archive", broken)
    with pytest.raises(OSError, match="disk full"):
        demo.ensure_archive(tmp_path / "archive", verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_ensure_archive_uses_a_foreign_archive_as_it_is(tmp_path):
    day = tmp_path / "imap" / "mag" / "l2" / "2026" / "01"
    day.mkdir(parents=True)
    (day / "imap_mag_l2_norm-gse_20260120_v001.0001.cdf").write_bytes(b"not ours")
    assert demo.ensure_archive(tmp_path, verbose=False) == tmp_path
    assert not (tmp_path / demo._MARKER).exists()
    assert (day / "imap_mag_l2_norm-gse_20260120_v001.0001.cdf").read_bytes() == b"not ours"


def test_ensure_archive_never_replaces_a_folder_that_is_not_an_archive(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match=r"not empty and holds no IMAP archive.*--archive"):
        demo.ensure_archive(tmp_path, verbose=False)
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_ensure_archive_rejects_a_file(tmp_path):
    target = tmp_path / "archive"
    target.write_text("")
    with pytest.raises(ValueError, match=r"archive.*not a folder"):
        demo.ensure_archive(target, verbose=False)


# --------------------------------------------------------------------------- tutorial_source
def test_tutorial_source_rejects_an_unknown_source(monkeypatch, reset_source):
    with pytest.raises(ValueError, match=r"'cloud'.*Expected one of: local, sdc"):
        demo.tutorial_source("cloud")
    monkeypatch.setenv(demo.SOURCE_ENV, "remote")
    with pytest.raises(ValueError, match=r"'remote'.*IMAP_EXPLORER_SOURCE"):
        demo.tutorial_source()


def test_tutorial_source_sdc_changes_no_setting(monkeypatch, reset_source):
    monkeypatch.setenv(demo.SOURCE_ENV, "SDC")
    before = dict(os.environ)
    src = demo.tutorial_source()
    assert src.name == "sdc"
    assert not src.is_local
    assert src.url == "https://api.imap-mission.com"
    assert src.data_dir == Path(os.environ["IMAP_DATA_DIR"])
    assert src.archive is None
    assert dict(os.environ) == before
    assert "IMAP Science Data Center" in str(src)


def test_tutorial_source_local_serves_the_synthetic_archive(monkeypatch, synthetic_archive, reset_source):
    monkeypatch.setenv(demo.ARCHIVE_ENV, str(synthetic_archive))  # a foreign archive: used as it is
    monkeypatch.setenv("IMAP_API_KEY", "a-real-key-the-local-server-must-not-see")
    monkeypatch.delenv(demo.SOURCE_ENV, raising=False)  # default: local
    src = demo.tutorial_source()
    assert src.is_local
    assert src.archive == synthetic_archive
    assert os.environ["IMAP_DATA_ACCESS_URL"] == src.url
    assert os.environ["IMAP_DATA_DIR"] == str(src.data_dir)
    assert "IMAP_API_KEY" not in os.environ
    assert src.url in str(src)
    assert demo.tutorial_source("local") is src  # re-running the first cell reuses the running server

    files = ie.query(instrument="mag", data_level="l2", descriptor="norm-gse", start_date="20260120",
                     end_date="20260120")
    assert len(files) >= 1
    paths = ie.download(files.iloc[:1], progress=False)
    assert paths[0].is_file()
    assert src.data_dir in paths[0].parents

    port = int(src.url.rsplit(":", 1)[1])
    src.close()
    assert not src.data_dir.exists()
    assert "IMAP_DATA_ACCESS_URL" not in os.environ  # the environment is as before
    assert os.environ["IMAP_API_KEY"] == "a-real-key-the-local-server-must-not-see"
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # the server is gone

    # Switching source in the same process: the local server is stopped, the real SDC's settings apply.
    again = demo.tutorial_source("local")
    assert again is not src
    assert demo.tutorial_source("sdc").url == "https://api.imap-mission.com"
    assert again._stack is None


# --------------------------------------------------------------------------- imap-explorer demo (subprocess)
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """True if a server could listen on the port now (connections in TIME_WAIT don't count, as for any server)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_demo_prints_the_explorer_address_last_and_the_sdc_as_an_api(tmp_path):
    """What a user reads: the SDC line is an API for programs (its root redirects to the real SDC's site)."""
    api = demo._api_line("http://127.0.0.1:40123", tmp_path)
    assert api.splitlines()[0] == "Embedded SDC API (for programs, not a page to open): http://127.0.0.1:40123"
    assert "IMAP_DATA_ACCESS_URL=http://127.0.0.1:40123 imap-explorer query" in api
    url = "http://127.0.0.1:8866/"
    for opened, hint in ((None, "Open this address in a web browser."), (True, "It opened in your web browser."),
                         (False, "Could not start a browser: open this address yourself.")):
        lines = demo._explorer_banner(url, opened=opened).splitlines()
        assert lines[-1] == "Press Ctrl-C to stop."
        assert lines[-5:-1] == ["=" * 64, f"  The IMAP Explorer is running at {url}", f"  {hint}", "=" * 64]
        assert [line for line in lines if "http" in line] == [lines[-4]]


class _Demo:
    """``python -m imap_explorer demo`` in a subprocess, its output read by a thread."""

    def __init__(self, archive: Path, port: int, *, sigint_ignored: bool = False,
                 browser_log: Path | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "imap_explorer", "demo", "--archive", str(archive), "--port", str(port)]
        if browser_log is None:
            cmd.append("--no-browser")
        else:  # a desktop session whose "browser" (webbrowser honours $BROWSER) writes down the URL it is given
            env["DISPLAY"] = ":0"
            recorder = f"import sys; open({str(browser_log)!r}, 'w').write(sys.argv[1])"
            env["BROWSER"] = f"{shlex.quote(sys.executable)} -c {shlex.quote(recorder)} %s"
        # A non-interactive shell starts background jobs with SIGINT ignored: the demo must stop on it anyway.
        ignore_sigint = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, preexec_fn=ignore_sigint)
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 180) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.kill()
        pytest.fail(f"the demo never printed {pattern!r}; its output:\n{self.output}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(10)
        self.proc.stdout.close()


@pytest.mark.slow
# Ctrl-C is SIGINT; started with SIGINT ignored (as a shell's background job is) is the harder case of it.
# The SIGINT run has no display (--no-browser: print the URL); the SIGTERM run has one (open a browser tab).
@pytest.mark.parametrize(("signum", "sigint_ignored"), [(signal.SIGINT, True), (signal.SIGTERM, False)],
                         ids=["SIGINT", "SIGTERM"])
def test_demo_serves_the_explorer_and_stops_cleanly(synthetic_archive, tmp_path, signum, sigint_ignored):
    psutil = pytest.importorskip("psutil")  # ipykernel depends on it
    port = _free_port()
    browser_log = tmp_path / "browser.log" if signum == signal.SIGTERM else None
    run = _Demo(synthetic_archive, port, sigint_ignored=sigint_ignored, browser_log=browser_log)
    try:
        api_url = run.wait_for(r"Embedded SDC API \(for programs, not a page to open\): (http://127\.0\.0\.1:\d+)"
                               ).group(1)
        url = run.wait_for(r"The IMAP Explorer is running at (http://\S+)").group(1)
        assert url == f"http://127.0.0.1:{port}/"
        run.wait_for(r"Press Ctrl-C to stop")
        if browser_log is None:
            assert "Open this address in a web browser." in run.output
        else:
            assert browser_log.read_text() == url
            assert "It opened in your web browser." in run.output
        # the Explorer's address comes last, framed; the SDC's (a redirect to the real SDC's site) is the API's
        assert re.findall(r"http://\S+", run.output)[-1] == url
        lines = run.output.splitlines()
        at = next(i for i, line in enumerate(lines) if url in line and "IMAP Explorer" in line)
        assert lines[at - 1] == lines[at + 2] == "=" * 64

        # The page Voila renders: the app notebook, executed, with the Explorer widget displayed in it.
        with urllib.request.urlopen(url, timeout=180) as resp:
            assert resp.status == 200
            page = resp.read().decode()
        assert "IMAP Explorer" in page
        assert "application/vnd.jupyter.widget-view+json" in page
        # ... and the embedded SDC it points at answers queries.
        with urllib.request.urlopen(f"{api_url}/query?instrument=mag&data_level=l2", timeout=30) as resp:
            assert json.loads(resp.read())

        family = psutil.Process(run.proc.pid).children(recursive=True)  # Voila and the page's kernel
        assert family, "Voila should run as a child process"

        run.proc.send_signal(signum)
        assert run.proc.wait(timeout=60) == 0, run.output
    finally:
        run.kill()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                                              for p in family):
        time.sleep(0.2)
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"orphans left behind: {[p.cmdline() for p in alive]}"
    assert _port_is_free(port)
    assert _port_is_free(int(api_url.rsplit(":", 1)[1]))
    assert "Stopped." in run.output


def test_demo_refuses_a_busy_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "imap_explorer", "demo", "--no-browser", "--archive", str(tmp_path / "a"),
             "--port", str(port)],
            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"Port {port}" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "a").exists()  # nothing built before the port check
