"""The Explorer app in headless Chromium over a synthetic archive of Hi and SWAPI: a Hi ENA map and a SWAPI L3a
product are found, downloaded and plotted (see ``test_browser.py`` for how Voilà and Chromium are run)."""

from __future__ import annotations

import contextlib

import pytest

from tests.test_browser import (
    ARTIFACTS,
    CELL_ERROR,
    CHROMIUM,
    CHROMIUM_ARGS,
    SLOW,
    _settled_painting,
    _tail,
    _wait_for_status,
    voila_app,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

PRODUCTS = [("hi", "l2", "h90-ena-h-hf-nsp-full-hae-4deg-6mo"), ("swapi", "l3a", "proton-sw")]


@pytest.fixture
def sdc(tmp_path_factory):
    from imap_explorer.server import LocalSDC
    from imap_explorer.synthetic import make_archive

    root = tmp_path_factory.mktemp("hi-swapi")
    make_archive(root, start="2026-01-20", days=1, seed=2, instruments=("swapi", "hi"))
    with LocalSDC(root, db=":memory:") as server:
        yield server


def _plot_product(page, instrument: str, data_level: str, descriptor: str) -> dict:
    from playwright.sync_api import expect

    page.locator(".ie-instrument select").select_option(instrument)
    # the levels and descriptors come from the instrument's catalog: the level first, then its descriptors
    expect(page.locator(".ie-data-level select option", has_text=data_level)).to_have_count(1, timeout=SLOW)
    page.locator(".ie-data-level select").select_option(data_level)
    expect(page.locator(".ie-descriptor select option", has_text=descriptor)).to_have_count(1, timeout=SLOW)
    page.locator(".ie-descriptor select").select_option(descriptor)
    page.locator(".ie-start-date input").fill("2026-01-20")
    page.locator(".ie-end-date input").fill("2026-01-20")
    _wait_for_status(page, f"{instrument} {data_level} {descriptor}")
    page.locator(".ie-search").click()
    rows = page.locator(".ie-results select option")
    expect(rows).to_have_count(1, timeout=SLOW)
    _wait_for_status(page, "1 file found")
    page.locator(".ie-results select").select_option(index=0)
    page.locator(".ie-download").click()
    _wait_for_status(page, "Downloaded 1 file")
    page.locator(".ie-quicklook").click()
    _wait_for_status(page, "Quick-look ready")
    # the Explorer's quick-look is ipympl's canvas widget (interactive in Voila); read the pixels it paints
    figure = page.locator(".ie-output .jupyter-matplotlib-figure")
    expect(figure).to_have_count(1, timeout=SLOW)  # the previous product's canvas was replaced, not kept
    image = figure.locator(".jupyter-matplotlib-canvas-div canvas").first
    painting = _settled_painting(page, image)
    return {"row": rows.first.inner_text(), "size": image.evaluate("c => [c.width, c.height]"),
            "src": image.evaluate("c => c.toDataURL('image/png')"), "painting": painting,
            "error": page.locator(".ie-error").inner_text()}


def test_browser_explorer_plots_a_hi_map_and_a_swapi_l3a_product(sdc, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    screenshot = ARTIFACTS / "explorer-hi-swapi.png"
    with voila_app(sdc.url, tmp_path / "voila-data", tmp_path) as (url, log):
        seen = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 1400})
                    errors: list[str] = []
                    page.on("pageerror", lambda exc: errors.append(str(exc)))
                    try:
                        page.goto(url, wait_until="commit", timeout=SLOW)
                        expect(page.locator(f".ie-explorer, {CELL_ERROR}").first).to_be_visible(timeout=SLOW)
                        assert not page.locator(CELL_ERROR).count(), page.locator(CELL_ERROR).first.inner_text()
                        for product in PRODUCTS:
                            seen.append(_plot_product(page, *product))
                    finally:
                        screenshot.parent.mkdir(parents=True, exist_ok=True)
                        with contextlib.suppress(Exception):
                            page.screenshot(path=str(screenshot), full_page=True)
                finally:
                    browser.close()
        except Exception as err:
            raise AssertionError(f"{err}\n--- Voila log (tail) ---\n{_tail(log)}") from err
    hi, swapi = seen
    assert hi["row"].startswith("imap_hi_l2_h90-ena-h-hf-nsp-full-hae-4deg-6mo_20260120_v001.cdf")
    assert swapi["row"].startswith("imap_swapi_l3a_proton-sw_20260120_v001.cdf")
    for plot in seen:
        assert plot["error"].strip() == ""
        assert plot["size"][0] > 300
        assert plot["size"][1] > 200
    assert hi["src"] != swapi["src"]
    assert errors == []
