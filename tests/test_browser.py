"""The Explorer app in a real browser: Voilà serves imap_explorer/app/explorer.ipynb, headless Chromium drives it.

The quick-look is an ipympl canvas there: the test zooms into it with the toolbar's zoom button and a mouse drag,
then checks (through a hidden probe widget that a cell appended to the app reports into, read back from the page)
that the drawn line has more points in the zoomed span than before, and that Load gives the zoomed span only.

The embedded SDC (LocalSDC over the synthetic archive) runs in the test process; Voilà runs as a subprocess with
``IMAP_DATA_ACCESS_URL``/``IMAP_DATA_DIR`` pointing at it and a private Jupyter path whose ``python3`` kernelspec
starts ``sys.executable`` (so the kernel is this virtualenv's Python). Playwright uses Debian's chromium
(``/usr/bin/chromium``) and never downloads a browser. A screenshot is kept in ``test-artifacts/explorer.png``
(the end), and the zoomed quick-look as the page's canvas holds it in ``test-artifacts/explorer-zoomed.png``
(headless Chromium's full-page screenshots can show a canvas's previous image).
"""

from __future__ import annotations

import base64
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


@contextlib.contextmanager
def chromium_page(url: str, ready: str, screenshot: Path, viewport: dict[str, int]):
    """Debian's headless Chromium on ``url``; yield ``(page, errors)`` once the ``ready`` selector shows.

    A notebook cell that failed instead (Voila shows its traceback) fails at once with the cell's words. ``errors``
    gathers the page's JavaScript errors. A full-page screenshot goes to ``screenshot`` at the end, pass or fail.
    """
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=viewport)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            try:
                page.goto(url, wait_until="commit", timeout=SLOW)
                expect(page.locator(f"{ready}, {CELL_ERROR}").first).to_be_visible(timeout=SLOW)
                if page.locator(CELL_ERROR).count():
                    raise AssertionError(f"the app notebook failed: {page.locator(CELL_ERROR).first.inner_text()}")
                yield page, errors
            finally:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()


@pytest.fixture
def sdc(synthetic_archive, tmp_path):
    from imap_explorer.server import LocalSDC

    with LocalSDC(synthetic_archive, db=tmp_path / "index.sqlite3") as server:
        yield server


#: Appended to the app notebook: a hidden Textarea (class ie-test-probe) that reports, as JSON, what the kernel
#: holds: after each draw of the quick-look, the top panel's view, its axes box in figure pixels, and how many
#: points of its first line that draw put in the view (and the figure's first draw had there); after each draw,
#: new dataset or time range, the Explorer's time range and the loaded dataset's time span.
PROBE = """\
import json

import ipywidgets
from imap_explorer._decimate import MinMaxLine

probe = ipywidgets.Textarea(layout=ipywidgets.Layout(display="none"))
probe.add_class("ie-test-probe")
first_draw = {}


def report(event=None):
    state = json.loads(probe.value or "{}")
    figure, dataset = explorer.figure, explorer.dataset
    state.update(time_range=[str(t) for t in explorer.time_range] if explorer.time_range else None,
                 epochs=None if dataset is None else [str(dataset["epoch"].values.min()),
                                                      str(dataset["epoch"].values.max())])
    if event is not None and figure is not None:  # a draw: what it drew, in the view it drew
        ax = figure.axes[0]
        x = next(line for line in ax.get_lines() if isinstance(line, MinMaxLine)).get_xdata()
        first = first_draw.setdefault(id(figure), x)
        lo, hi = ax.get_xlim()
        state.update(xlim=[lo, hi], axes=list(ax.bbox.extents), width=figure.bbox.width, height=figure.bbox.height,
                     points=int(((x >= lo) & (x <= hi)).sum()), first_points=int(((first >= lo) & (first <= hi)).sum()),
                     draws=state.get("draws", 0) + 1)
    probe.value = json.dumps(state)


def follow(change):
    if change["new"] is not None:
        change["new"].canvas.mpl_connect("draw_event", report)


explorer.observe(follow, names="figure")
explorer.observe(lambda change: report(), names=["dataset", "time_range"])
probe
"""


def app_with_probe(folder: Path) -> Path:
    """The app notebook with the PROBE cell appended, written into ``folder``."""
    notebook = json.loads(APP.read_text())
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "ie-test-probe", "metadata": {},
                              "outputs": [], "source": PROBE})
    path = folder / "explorer_probe.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def _probe(page) -> dict:
    return json.loads(page.locator(".ie-test-probe textarea").input_value() or "{}")


def _wait_for_probe(page, condition: str) -> dict:
    """Wait until the probe's JSON (``state`` in the JavaScript ``condition``) satisfies it; return it."""
    page.wait_for_function(
        f"""() => {{
            const area = document.querySelector('.ie-test-probe textarea');
            if (!area || !area.value) return false;
            const state = JSON.parse(area.value);
            return {condition};
        }}""", timeout=SLOW)
    return _probe(page)


#: JavaScript: a canvas's dark pixels (sampled) and a checksum of them, or null while it has no size.
PIXELS = """canvas => {
    if (!canvas.width || !canvas.height) return null;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let dark = 0, sum = 0;
    for (let i = 0; i < data.length; i += 4 * 7) {
        if (data[i + 3] > 0 && data[i] < 128) { dark++; sum = (sum * 31 + i) % 1000000007; }
    }
    return {dark: dark, sum: sum};
}"""


def _wait_for_painting(page, canvas, unlike: dict | None = None) -> dict:
    """Wait until the figure's image canvas shows a drawing (dark pixels), other than ``unlike``; return it."""
    page.wait_for_function(
        f"""([canvas, unlike]) => {{
            const pixels = ({PIXELS})(canvas);
            return pixels !== null && pixels.dark > 500 && !(unlike && pixels.sum === unlike.sum);
        }}""", arg=[canvas.element_handle(), unlike], timeout=SLOW)
    return canvas.evaluate(PIXELS)


def _settled_painting(page, canvas) -> dict:
    """The canvas's drawing once it stops changing (the first image replaced the placeholder PNG)."""
    last = _wait_for_painting(page, canvas)
    deadline = time.monotonic() + SLOW / 1000
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        now = canvas.evaluate(PIXELS)
        if now == last:
            return now
        last = now
    raise AssertionError("the quick-look's canvas kept changing")


def search_and_download(page, instrument: str, data_level: str, descriptor: str, day: str):
    """Pick a product and one day in the pickers, search, select the one file found and download it.

    The levels and descriptors come from the instrument's catalog (a query the kernel runs): each is waited for
    before it is picked. Returns the results table's rows.
    """
    from playwright.sync_api import expect

    page.locator(".ie-instrument select").select_option(instrument)
    expect(page.locator(".ie-data-level select option", has_text=data_level)).to_have_count(1, timeout=SLOW)
    page.locator(".ie-data-level select").select_option(data_level)
    expect(page.locator(".ie-descriptor select option", has_text=descriptor)).to_have_count(1, timeout=SLOW)
    page.locator(".ie-descriptor select").select_option(descriptor)
    page.locator(".ie-start-date input").fill(day)
    page.locator(".ie-end-date input").fill(day)
    _wait_for_status(page, f"{instrument} {data_level} {descriptor}")
    page.locator(".ie-search").click()
    rows = page.locator(".ie-results select option")
    expect(rows).to_have_count(1, timeout=SLOW)
    _wait_for_status(page, "1 file found")
    page.locator(".ie-results select").select_option(index=0)
    page.locator(".ie-download").click()
    _wait_for_status(page, "Downloaded 1 file")
    return rows


def drive_explorer(url: str, screenshot: Path) -> dict:
    """Pick MAG / l2 / norm-gse on 2026-01-20, search, select, download, quick-look, zoom, load.

    Return what the page shows, and what the probe read from the kernel before and after the zoom and the load.
    """
    from playwright.sync_api import expect

    with chromium_page(url, ".ie-explorer", screenshot, viewport={"width": 1280, "height": 1100}) as (page, errors):
        rows = search_and_download(page, "mag", "l2", "norm-gse", "2026-01-20")
        expect(rows.first).to_have_text(_ends_with("yes"), timeout=SLOW)

        page.locator(".ie-quicklook").click()
        _wait_for_status(page, "Quick-look ready")
        figure = page.locator(".ie-output .jupyter-matplotlib-figure")  # ipympl's canvas widget
        expect(figure).to_be_visible(timeout=SLOW)
        before = _wait_for_probe(page, "state.draws >= 1")  # the front end has had it drawn
        image = figure.locator(".jupyter-matplotlib-canvas-div canvas").first  # the figure's pixels
        top = figure.locator(".jupyter-matplotlib-canvas-div canvas").last  # takes the mouse events
        first_image = _settled_painting(page, image)
        box = top.bounding_box()
        size = [box["width"], box["height"]]

        # The toolbar's zoom mode, then a box dragged over 40 % to 45 % of the top panel's width.
        figure.locator(".jupyter-matplotlib-button[title^='Zoom to rectangle']").click()
        x0, y0, x1, y1 = before["axes"]  # figure pixels, from the bottom
        scale = box["width"] / before["width"]  # CSS pixels per figure pixel
        left, right = x0 + 0.40 * (x1 - x0), x0 + 0.45 * (x1 - x0)
        upper, lower = before["height"] - y1 + 5, before["height"] - y0 - 5
        page.mouse.move(box["x"] + left * scale, box["y"] + upper * scale)
        page.mouse.down()
        page.mouse.move(box["x"] + right * scale, box["y"] + lower * scale, steps=8)
        page.mouse.up()
        after = _wait_for_probe(page, f"state.time_range && state.xlim[0] > {before['xlim'][0]} "
                                      f"&& state.draws > {before['draws']}")
        _wait_for_status(page, "now take just this")
        _wait_for_painting(page, image, unlike=first_image)  # the zoomed view is shown
        zoomed = image.evaluate("canvas => canvas.toDataURL('image/png')")  # what the page shows
        range_label = page.locator(".ie-time-range").inner_text()
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.with_name(f"{screenshot.stem}-zoomed.png").write_bytes(
            base64.b64decode(zoomed.split(",", 1)[1]))

        page.locator(".ie-load").click()
        _wait_for_status(page, "Loaded 1 file")
        loaded = _wait_for_probe(page, f"state.epochs && state.epochs[0] !== {json.dumps(after['epochs'][0])}")
        seen = {
            "rows": rows.all_inner_texts(),
            "status": page.locator(".ie-status").inner_text(),
            "error": page.locator(".ie-error").inner_text(),
            "progress": page.locator(".ie-explorer .widget-label", has_text="files").all_inner_texts(),
            "canvas_size": size,
            "page_errors": errors,
            "before": before,
            "after": after,
            "loaded": loaded,
            "range_label": range_label,
            "load_status": page.locator(".ie-status").inner_text(),
        }
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


def test_browser_explorer_search_download_quicklook_zoom_load(sdc, tmp_path):
    import numpy as np

    data_dir = tmp_path / "voila-data"
    screenshot = ARTIFACTS / "explorer.png"
    with voila_app(sdc.url, data_dir, tmp_path, notebook=app_with_probe(tmp_path)) as (url, log):
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
    width, height = seen["canvas_size"]
    assert width > 300
    assert height > 200
    assert seen["page_errors"] == []

    # The zoom: the top panel's view is the dragged span, and its line is drawn again from the full data there.
    before, after = seen["before"], seen["after"]
    assert before["time_range"] is None
    x0, x1 = before["xlim"]
    lo, hi = after["xlim"]
    assert lo == pytest.approx(x0 + 0.40 * (x1 - x0), abs=(x1 - x0) / 200)
    assert hi == pytest.approx(x0 + 0.45 * (x1 - x0), abs=(x1 - x0) / 200)
    assert after["first_points"] > 0
    assert after["points"] > 4 * after["first_points"]  # more points in the zoomed span than the first draw had
    start, end = (np.datetime64(t) for t in after["time_range"])
    assert str(start)[:10] == "2026-01-20"
    assert str(start)[11:19] in seen["range_label"]
    # Load takes just the zoomed span.
    first, last = (np.datetime64(t) for t in seen["loaded"]["epochs"])
    assert start <= first
    assert last < end
    assert last - first > (end - start) * 0.9
    assert "2026-01-20 " in seen["load_status"]
    downloaded = list(data_dir.rglob("imap_mag_l2_norm-gse_20260120_*.cdf"))  # the kernel wrote into IMAP_DATA_DIR
    assert [p.name for p in downloaded] == [row[0]]
    assert screenshot.stat().st_size > 10_000
    assert screenshot.with_name("explorer-zoomed.png").stat().st_size > 10_000


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
