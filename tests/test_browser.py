"""The Explorer app in a real browser: Voilà serves imap_explorer/app/explorer.ipynb, headless Chromium drives it.

The embedded SDC (LocalSDC over the synthetic archive) runs in the test process; Voilà runs as a subprocess with
``IMAP_DATA_ACCESS_URL``/``IMAP_DATA_DIR`` pointing at it and a private Jupyter path whose ``python3`` kernelspec
starts ``sys.executable`` (so the kernel is this virtualenv's Python). Playwright uses Debian's chromium
(``/usr/bin/chromium``) and never downloads a browser. A screenshot is kept in ``test-artifacts/explorer.png``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[1]
APP = REPO / "imap_explorer" / "app" / "explorer.ipynb"
ARTIFACTS = REPO / "test-artifacts"
#: Generous: a kernel can be slow to start on a loaded 2-core machine. A broken app still fails (it never shows).
SLOW = 120_000  # ms
#: How Voila's page shows a cell's error output.
CELL_ERROR = "[data-mime-type='application/vnd.jupyter.stderr']"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _private_jupyter(root: Path) -> dict[str, str]:
    """A Jupyter path of our own: its python3 kernelspec runs this interpreter; no user config is read."""
    spec = root / "data" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (imap-explorer tests)",
        "language": "python",
    }))
    for name in ("config", "runtime", "user-data"):
        (root / name).mkdir()
    return {"JUPYTER_PATH": str(root / "data"), "JUPYTER_CONFIG_DIR": str(root / "config"),
            "JUPYTER_DATA_DIR": str(root / "user-data"), "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
            "JUPYTER_PLATFORM_DIRS": "1"}


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def voila_app(api_url: str, data_dir: Path, scratch: Path, notebook: Path = APP):
    """Run Voilà on the app notebook; yield ``(url, log_path)``; stop it (and its kernel) afterwards."""
    port = _free_port()
    log = scratch / "voila.log"
    env = {k: v for k, v in os.environ.items() if k not in ("IMAP_API_KEY", "IMAP_ACCESS_TOKEN")}
    env.update(_private_jupyter(scratch / "jupyter"))
    env.update(IMAP_DATA_ACCESS_URL=api_url, IMAP_DATA_DIR=str(data_dir),
               MPLBACKEND="module://matplotlib_inline.backend_inline", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           "--Voila.port_retries=0", "--show_tracebacks=True"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=scratch, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SLOW / 1000
        while True:  # wait for the server; not for the page, which would start a kernel of its own
            if proc.poll() is not None:
                pytest.fail(f"Voila exited with code {proc.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(url + "imap-explorer-probe", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # any HTTP answer (here 404) means the server is up
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Voila did not answer at {url} within {SLOW / 1000:.0f} s:\n{_tail(log)}")
                time.sleep(0.3)
        yield url, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # Voila shuts its kernels down on SIGTERM
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group of the process we started
                proc.wait()


@pytest.fixture
def sdc(synthetic_archive, tmp_path):
    from imap_explorer.server import LocalSDC

    with LocalSDC(synthetic_archive, db=tmp_path / "index.sqlite3") as server:
        yield server


def drive_explorer(url: str, screenshot: Path) -> dict:
    """Pick MAG / l2 / norm-gse on 2026-01-20, search, select, download, quick-look; return what the page shows."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            try:
                page.goto(url, wait_until="commit", timeout=SLOW)
                # The Explorer, or the error output of a cell that failed (Voila shows tracebacks).
                first = page.locator(f".ie-explorer, {CELL_ERROR}").first
                expect(first).to_be_visible(timeout=SLOW)
                if page.locator(CELL_ERROR).count():
                    raise AssertionError(f"the app notebook failed: {page.locator(CELL_ERROR).first.inner_text()}")
                # The catalog query runs when the Explorer is displayed: wait for the archive's descriptors.
                expect(page.locator(".ie-descriptor select option", has_text="norm-gse")).to_have_count(1,
                                                                                                     timeout=SLOW)
                page.locator(".ie-instrument select").select_option("mag")
                page.locator(".ie-data-level select").select_option("l2")
                page.locator(".ie-descriptor select").select_option("norm-gse")
                page.locator(".ie-start-date input").fill("2026-01-20")
                page.locator(".ie-end-date input").fill("2026-01-20")
                _wait_for_status(page, "mag l2 norm-gse")
                page.locator(".ie-search").click()

                rows = page.locator(".ie-results select option")
                expect(rows).to_have_count(1, timeout=SLOW)
                _wait_for_status(page, "1 file found")
                page.locator(".ie-results select").select_option(index=0)
                page.locator(".ie-download").click()
                _wait_for_status(page, "Downloaded 1 file")
                expect(rows.first).to_have_text(_ends_with("yes"), timeout=SLOW)

                page.locator(".ie-quicklook").click()
                _wait_for_status(page, "Quick-look ready")
                image = page.locator(".ie-output img")
                expect(image).to_be_visible(timeout=SLOW)
                size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
                seen = {
                    "rows": rows.all_inner_texts(),
                    "status": page.locator(".ie-status").inner_text(),
                    "error": page.locator(".ie-error").inner_text(),
                    "progress": page.locator(".ie-explorer .widget-label", has_text="files").all_inner_texts(),
                    "image_size": size,
                    "page_errors": errors,
                }
            finally:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen


def _wait_for_status(page, text: str) -> None:
    """Wait until the status line contains ``text``; fail at once (with its message) if the error box shows."""
    page.wait_for_function(
        """text => {
            const status = document.querySelector('.ie-status');
            const error = document.querySelector('.ie-error');
            return (error && error.innerText.trim() !== '') || (status && status.innerText.includes(text));
        }""",
        arg=text, timeout=SLOW)
    error = page.locator(".ie-error").inner_text().strip()
    if error:
        raise AssertionError(f"the Explorer shows an error while waiting for {text!r}: {error}")


def _ends_with(text: str):
    import re

    return re.compile(rf"{re.escape(text)}\s*$")


def test_browser_explorer_search_download_quicklook(sdc, tmp_path):
    data_dir = tmp_path / "voila-data"
    screenshot = ARTIFACTS / "explorer.png"
    with voila_app(sdc.url, data_dir, tmp_path) as (url, log):
        try:
            seen = drive_explorer(url, screenshot)
        except Exception as err:
            raise AssertionError(f"{err}\n--- Voila log (tail) ---\n{_tail(log)}") from err
    row = seen["rows"][0].replace("\u00a0", " ").split()
    assert row[0].startswith("imap_mag_l2_norm-gse_20260120_v")
    assert row[1:4] == ["l2", "norm-gse", "2026-01-20"]
    assert row[-1] == "yes"
    assert seen["error"].strip() == ""
    assert seen["progress"] == ["1/1 files"]
    width, height = seen["image_size"]
    assert width > 300
    assert height > 200
    assert seen["page_errors"] == []
    downloaded = list(data_dir.rglob("imap_mag_l2_norm-gse_20260120_*.cdf"))  # the kernel wrote into IMAP_DATA_DIR
    assert [p.name for p in downloaded] == [row[0]]
    assert screenshot.stat().st_size > 10_000


MONITOR_APP = REPO / "imap_explorer" / "app" / "monitor.ipynb"


def test_browser_ialirt_monitor_shows_new_records_without_reload(tmp_path, monkeypatch):
    """The Voila monitor app over a live embedded server: a newer record appears while the page stays open."""
    from playwright.sync_api import expect, sync_playwright

    from imap_explorer.server import LocalSDC
    from imap_explorer.synthetic.ialirt import write_ialirt_day
    from imap_explorer.synthetic.physics import SolarWind

    write_ialirt_day(tmp_path / "archive", "2026-02-10", model=SolarWind("2026-02-10", 7))
    with LocalSDC(tmp_path / "archive", db=tmp_path / "index.sqlite3", ialirt_live=True) as server:
        monkeypatch.setenv("IALIRT_DATA_ACCESS_URL", server.url)
        monkeypatch.setenv("IMAP_EXPLORER_MONITOR_HOURS", "1")
        monkeypatch.setenv("IMAP_EXPLORER_MONITOR_REFRESH", "2")
        with voila_app(server.url, tmp_path / "data", tmp_path, notebook=MONITOR_APP) as (url, log), \
                sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 1000})
                page.goto(url, wait_until="commit", timeout=SLOW)
                expect(page.locator(f".ie-monitor, {CELL_ERROR}").first).to_be_visible(timeout=SLOW)
                assert not page.locator(CELL_ERROR).count(), page.locator(CELL_ERROR).first.inner_text()
                status = page.locator(".ie-monitor-status")
                expect(status).to_contain_text("records, newest 20", timeout=SLOW)
                first = status.inner_text()
                newest = first.split("newest ")[1].split(";")[0]
                # MAG records arrive every 4 s (each 1-3 min late): within a few refreshes a newer one shows
                page.wait_for_function(
                    """old => {
                        const s = document.querySelector('.ie-monitor-status');
                        const m = s && s.innerText.match(/newest (\\S+);/);
                        return m && m[1] > old;
                    }""", arg=newest, timeout=SLOW)
                expect(page.locator(".ie-monitor-figure")).to_be_visible()
                assert page.locator(".ie-monitor-error").inner_text().strip() == ""
                assert "ago" in page.locator(".ie-monitor-latest").inner_text()
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "ialirt-monitor.png"), full_page=True)
            finally:
                browser.close()
