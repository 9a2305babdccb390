"""The Explorer's Coverage view, driven through its real widgets against the embedded SDC (real sockets)."""

from __future__ import annotations

import datetime as dt

import ipywidgets as widgets
import pandas as pd
import pytest

from imap_explorer import Explorer
from imap_explorer._coverage_view import MAX_CELLS_ACROSS

NAMES = (
    "imap_mag_l2_norm-gse_20260101_v001.0001.cdf",
    "imap_mag_l2_norm-gse_20260102_v001.0001.cdf",
    "imap_mag_l2_norm-gse_20260102_v001.0002.cdf",
    "imap_mag_l2_norm-gse_20260104_v001.0001.cdf",
    "imap_mag_l1c_norm-mago_20260103_v002.cdf",
    "imap_swe_l2_sci_20260101_v001.0001.cdf",
)


@pytest.fixture
def sample_names():
    return NAMES


@pytest.fixture
def sdc(sample_sdc):
    return sample_sdc


def _explorer(sdc, **kwargs):
    return Explorer(url=sdc.url, background=False, instrument="mag", data_level="l2", descriptor="norm-gse",
                    start_date="2026-01-01", end_date="2026-01-04", **kwargs)


def test_coverage_button_draws_products_against_days(sdc):
    explorer = _explorer(sdc)
    view = explorer._coverage_view
    assert view in explorer.children
    view._button.click()
    assert explorer.error == ""
    assert list(view.coverage.columns) == ["mag/l1c/norm-mago", "mag/l2/norm-gse"]  # every level, MAG only
    day = pd.Timestamp
    cell = view.cells[(day("2026-01-02"), "mag/l2/norm-gse")]
    assert cell.description == "1.2"
    assert cell.tooltip == "imap_mag_l2_norm-gse_20260102_v001.0002.cdf"
    assert not cell.disabled
    gap = view.cells[(day("2026-01-03"), "mag/l2/norm-gse")]
    assert gap.disabled
    assert gap.tooltip == "no file"
    assert view.cells[(day("2026-01-03"), "mag/l1c/norm-mago")].description == "2"
    assert "2 products, 4 files" in view._status.value


def test_clicking_a_cell_selects_its_file_in_the_results(sdc):
    explorer = _explorer(sdc)
    explorer.coverage()
    view = explorer._coverage_view
    # a product not in the table yet: the Explorer searches it over the range, then selects the file
    view.cells[(pd.Timestamp("2026-01-03"), "mag/l1c/norm-mago")].click()
    assert explorer.error == ""
    assert (explorer.data_level, explorer.descriptor) == ("l1c", "norm-mago")
    assert explorer.results["file_name"].tolist() == ["imap_mag_l1c_norm-mago_20260103_v002.cdf"]
    assert explorer.selection == ("imap_mag_l1c_norm-mago_20260103_v002.cdf",)
    assert explorer._results.value == ("imap_mag_l1c_norm-mago_20260103_v002.cdf",)
    # another product: searched, and the newest version of that day selected in the table widget
    view.cells[(pd.Timestamp("2026-01-02"), "mag/l2/norm-gse")].click()
    assert explorer.descriptor == "norm-gse"
    assert len(explorer.results) == 3
    assert explorer._results.value == ("imap_mag_l2_norm-gse_20260102_v001.0002.cdf",)
    # a cell of the product already shown: selected without searching again
    shown = explorer.results
    view.cells[(pd.Timestamp("2026-01-04"), "mag/l2/norm-gse")].click()
    assert explorer.results is shown
    assert explorer.selection == ("imap_mag_l2_norm-gse_20260104_v001.0001.cdf",)
    assert explorer.start_date == dt.date(2026, 1, 1)


def test_coverage_needs_dates_and_long_ranges_become_an_image(sdc):
    explorer = Explorer(url=sdc.url, background=False, instrument="swe")
    explorer.coverage()
    assert "Pick both dates" in explorer.error
    explorer.start_date, explorer.end_date = dt.date(2025, 11, 1), dt.date(2026, 1, 31)
    explorer.coverage()
    assert explorer.error == ""
    view = explorer._coverage_view
    assert len(view.coverage.index) > MAX_CELLS_ACROSS
    assert view.cells == {}
    image = view._grid.children[0]
    assert isinstance(image, widgets.Image)
    assert image.value[:4] == b"\x89PNG"
    explorer.instrument = "codice"
    explorer.coverage()
    assert view._status.value == "No files of this instrument in this range."
