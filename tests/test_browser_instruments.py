"""The Explorer app in headless Chromium over a synthetic archive of Hi and SWAPI: a Hi ENA map and a SWAPI L3a
product are found, downloaded and plotted (see ``test_browser.py`` for how Voilà and Chromium are run)."""

from __future__ import annotations

import pytest

from tests.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    SLOW,
    _tail,
    _wait_for_painting,
    _wait_for_status,
    chromium_page,
    search_and_download,
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


def _plot_product(page, instrument: str, data_level: str, descriptor: str, unlike: dict | None = None) -> dict:
    """Find, download and quick-look one product; return its row, and the size and drawing of its figure.

    In Voila the quick-look is an ipympl canvas (the kernel has ipympl): its pixels are waited for, other than
    ``unlike`` (the previous product's drawing).
    """
    from playwright.sync_api import expect

    rows = search_and_download(page, instrument, data_level, descriptor, "2026-01-20")
    page.locator(".ie-quicklook").click()
    _wait_for_status(page, "Quick-look ready")
    figure = page.locator(".ie-output .jupyter-matplotlib-figure").last  # ipympl's canvas widget
    expect(figure).to_be_visible(timeout=SLOW)
    image = figure.locator(".jupyter-matplotlib-canvas-div canvas").first  # the figure's pixels
    drawing = _wait_for_painting(page, image, unlike=unlike)
    box = image.bounding_box()
    return {"row": rows.first.inner_text(), "size": [box["width"], box["height"]], "drawing": drawing,
            "error": page.locator(".ie-error").inner_text()}


def test_browser_explorer_plots_a_hi_map_and_a_swapi_l3a_product(sdc, tmp_path):
    screenshot = ARTIFACTS / "explorer-hi-swapi.png"
    seen = []
    with voila_app(sdc.url, tmp_path / "voila-data", tmp_path) as (url, log):
        try:
            with chromium_page(url, ".ie-explorer", screenshot, viewport={"width": 1280, "height": 1400}) as (
                    page, errors):
                for product in PRODUCTS:
                    seen.append(_plot_product(page, *product, unlike=seen[-1]["drawing"] if seen else None))
        except Exception as err:
            raise AssertionError(f"{err}\n--- Voila log (tail) ---\n{_tail(log)}") from err
    hi, swapi = seen
    assert hi["row"].startswith("imap_hi_l2_h90-ena-h-hf-nsp-full-hae-4deg-6mo_20260120_v001.cdf")
    assert swapi["row"].startswith("imap_swapi_l3a_proton-sw_20260120_v001.cdf")
    for plot in seen:
        assert plot["error"].strip() == ""
        assert plot["size"][0] > 300
        assert plot["size"][1] > 200
    assert hi["drawing"]["sum"] != swapi["drawing"]["sum"]  # the SWAPI plot replaced the Hi map
    assert errors == []
