"""ie.versions (every version of a product-day, over real sockets) and ie.compare (real CDF files)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import imap_explorer as ie
from imap_explorer.server import TEST_WRITE_KEY, LocalSDC
from imap_explorer.synthetic.mag import write_mag_l2
from tests.conftest import REAL, requires_real

SWAPI = REAL / "imap" / "swapi" / "l3a" / "2026" / "01"


@pytest.fixture
def sample(sample_sdc):
    with ie.set_options(url=sample_sdc.url):
        yield sample_sdc


def test_versions_lists_every_major_newest_first(sample):
    frame = ie.versions("imap_mag_l2_norm-gse_20260120_v001.0001.cdf")
    assert frame["file_name"].tolist() == [
        "imap_mag_l2_norm-gse_20260120_v002.0003.cdf", "imap_mag_l2_norm-gse_20260120_v002.0001.cdf",
        "imap_mag_l2_norm-gse_20260120_v001.0002.cdf", "imap_mag_l2_norm-gse_20260120_v001.0001.cdf"]
    assert frame["current"].tolist() == [True, False, False, False]
    assert frame["released"].all()
    assert frame["ingestion_date"].notna().all()
    assert not frame["downloaded"].any()
    same = ie.versions("mag/l2/norm-gse", start_date="2026-01-20")
    assert same["file_name"].tolist() == frame["file_name"].tolist()
    other_day = ie.versions("mag/l2/norm-gse", start_date="20260121")
    assert other_day["file_name"].tolist() == ["imap_mag_l2_norm-gse_20260121_v001.0001.cdf"]
    pset = ie.versions("hi/l1c/45sensor-pset", repointing=123)
    assert pset["file_name"].tolist() == ["imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf"]


def test_versions_unreleased_are_seen_with_a_key(sample):
    sample.set_released("imap_mag_l2_norm-gse_20260120_v002.0003.cdf", False)
    public = ie.versions("imap_mag_l2_norm-gse_20260120_v001.0001.cdf")
    assert public["file_name"].iloc[0] == "imap_mag_l2_norm-gse_20260120_v002.0001.cdf"
    with ie.set_options(api_key=TEST_WRITE_KEY):
        authed = ie.versions("imap_mag_l2_norm-gse_20260120_v001.0001.cdf")
    assert authed["file_name"].iloc[0] == "imap_mag_l2_norm-gse_20260120_v002.0003.cdf"
    assert authed["released"].tolist() == [False, True, True, True]


def test_versions_refuses_what_names_no_product_day():
    with pytest.raises(ValueError, match="Cannot tell which product 'mag/l9/x'"):
        ie.versions("mag/l9/x", start_date="2026-01-20")
    with pytest.raises(ValueError, match="Pass start_date="):
        ie.versions("mag/l2/norm-gse")


@pytest.fixture
def two_versions(tmp_path):
    """MAG L2 GSE of one day: v001.0001 for 00:00-00:30 with a calibration offset, v001.0002 for 00:00-00:45 without."""
    old = write_mag_l2(tmp_path / "imap_mag_l2_norm-gse_20260120_v001.0001.cdf", "2026-01-20", "norm-gse",
                       hours=(0, 0.5), version="v001.0001", offset=(0.6, -0.4, 0.3), generation_date="20260121")
    new = write_mag_l2(tmp_path / "imap_mag_l2_norm-gse_20260120_v001.0002.cdf", "2026-01-20", "norm-gse",
                       hours=(0, 0.75), version="v001.0002", generation_date="20260125")
    return old, new


def test_compare_two_synthetic_versions(two_versions):
    old, new = two_versions
    report = ie.compare(old, new)
    assert (report.records_a, report.records_b) == (3600, 5400)  # 2 vectors/s: 30 min, then 45 min
    assert (report.records_only_a, report.records_only_b) == (0, 1800)
    assert report.span_a[0] == report.span_b[0] == "2026-01-20T00:00:00.000000000"
    assert report.span_b[1] == "2026-01-20T00:44:59.500000000"
    assert report.variables_added == report.variables_removed == []
    assert report.dims_changed == {}
    assert report.attrs_changed["Generation_date"] == ("20260121", "20260125")
    assert report.attrs_changed["Data_version"][1].endswith("001.0002")
    by_name = {v.name: v for v in report.variables}
    b = by_name["b_gse"]
    assert b.compared == 3600 * 3
    assert b.differ == 3600 * 3  # every component of every common vector moved by the offset
    assert b.max_abs_diff == pytest.approx(0.6, abs=1e-4)
    assert b.fill_a == b.fill_b == 0
    assert not report.identical
    assert ie.compare(new, new).identical
    text = str(report)
    assert "times only in A: 0, only in B: 1800" in text
    assert "b_gse" in text
    html = report._repr_html_()
    assert "<table>" in html
    assert "b_gse" in html
    assert json.loads(json.dumps(report.to_dict()))["records_b"] == 5400


def test_compare_reads_each_data_variable_once_and_nothing_else(two_versions, record_reads):
    old, new = two_versions
    ie.compare(old, new)
    b_reads = [n for name, n in record_reads if name == "b_gse"]
    assert sorted(b_reads) == [3600, 5400]  # each file's data read once, whole


@requires_real
def test_compare_real_swapi_v003_v004():
    report = ie.compare(SWAPI / "imap_swapi_l3a_proton-sw_20260120_v003.cdf",
                        SWAPI / "imap_swapi_l3a_proton-sw_20260120_v004.cdf")
    assert (report.records_a, report.records_b) == (617, 616)
    assert report.records_only_a == 1  # v003 ended 00:00:33 the next day
    assert report.span_a[1].startswith("2026-01-21T00:00:33")
    assert "proton_sw_bulk_velocity_rtn_sun" in report.variables_added
    assert "proton_sw_clock_angle" in report.variables_removed
    parents_a, parents_b = report.attrs_changed["Parents"]
    assert "imap_swapi_azimuthal-transmission_20250924_v001.csv" in set(parents_b) - set(parents_a)
    assert report.attrs_changed["Data_version"] == ("003", "004")
    speed = next(v for v in report.variables if v.name == "proton_sw_speed")
    assert speed.compared == 616
    assert 0 < speed.max_abs_diff < 100
    density = next(v for v in report.variables if v.name == "proton_sw_density")
    assert density.fill_a > density.fill_b  # v004 fills far fewer densities
    assert np.isfinite(density.max_abs_diff)


def test_compare_cli_downloads_names_and_prints(tmp_path, capsys):
    from imap_explorer.cli import main

    root = tmp_path / "archive"
    root.mkdir()
    write_mag_l2(root, "2026-01-20", "norm-gse", hours=(0, 0.25), version="v001.0001", offset=(1, 0, 0))
    write_mag_l2(root, "2026-01-20", "norm-gse", hours=(0, 0.25), version="v001.0002")
    with LocalSDC(root) as sdc:
        code = main(["--url", sdc.url, "compare", "imap_mag_l2_norm-gse_20260120_v001.0001.cdf",
                     "imap_mag_l2_norm-gse_20260120_v001.0002.cdf"])
        out = capsys.readouterr().out
        assert code == 0
        assert "b_gse" in out
        assert "1800" in out
        code = main(["--url", sdc.url, "versions", "mag/l2/norm-gse", "--start-date", "20260120"])
        out = capsys.readouterr().out
        assert code == 0
        assert out.index("v001.0002.cdf") < out.index("v001.0001.cdf")
    code = main(["compare", str(tmp_path / "nope_a.cdf"), str(tmp_path / "nope_b.cdf")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("imap-explorer compare: error: No file at")


def test_compare_names_the_event_axis_of_direct_events_as_load_does(tmp_path):
    """A direct-event product's unnamed axis is 'event' in the loaded Dataset, and so in what compare reports."""
    from tests.test_cdf import tt, write_cdf
    from tests.test_load_dims import DOUBLE, time_var

    def version(name: str, n_events: int):
        data = np.arange(2.0 * n_events).reshape(2, n_events)
        return write_cdf(tmp_path / name, [
            time_var("Epoch", tt("2024-05-23T00:00", "2024-05-23T00:04")),
            ({"Variable": "p0_tof", "Data_Type": DOUBLE, "Dim_Sizes": [n_events]},
             {"DEPEND_0": "Epoch", "VAR_TYPE": "data"}, data),
        ])

    old = version("imap_codice_l2_lo-direct-events_20240523_v001.cdf", 5)
    new = version("imap_codice_l2_lo-direct-events_20240523_v002.cdf", 6)
    assert ie.load(new).p0_tof.dims == ("Epoch", "event")
    report = ie.compare(old, new)
    assert report.dims_changed == {"p0_tof": ("Epoch:2, event:5", "Epoch:2, event:6")}
