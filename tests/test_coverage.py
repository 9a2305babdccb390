"""ie.coverage against the embedded SDC (real sockets) and the local archive; its plot and terminal table."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import imap_explorer as ie
from imap_explorer.coverage import INPUTS, format_coverage, inputs_of, plot_coverage
from imap_explorer.server import TEST_WRITE_KEY
from imap_explorer.server.sample import write_sample_archive

#: Days 01..05 of MAG L2 GSE with a gap on 03 and two versions on 02 and 04 (04's newer one unreleased); SWE L2 on
#: two days; Hi PSETs of repointings 10 and 12 (11 missing); one GLOWS Carrington-rotation file.
NAMES = (
    "imap_mag_l2_norm-gse_20260101_v001.0001.cdf",
    "imap_mag_l2_norm-gse_20260102_v001.0001.cdf",
    "imap_mag_l2_norm-gse_20260102_v001.0002.cdf",
    "imap_mag_l2_norm-gse_20260104_v001.0001.cdf",
    "imap_mag_l2_norm-gse_20260104_v002.0001.cdf",
    "imap_mag_l2_norm-gse_20260105_v003.cdf",
    "imap_mag_l1c_norm-mago_20260101_v001.0001.cdf",
    "imap_swe_l2_sci_20260101_v001.0001.cdf",
    "imap_swe_l2_sci_20260102_v002.cdf",
    "imap_hi_l1c_45sensor-pset_20260101-repoint00010_v001.0001.cdf",
    "imap_hi_l1c_45sensor-pset_20260103-repoint00012_v001.0001.cdf",
    "imap_glows_l3b_ion-rate-profile_20260102-cr02305_v001.0001.cdf",
)


@pytest.fixture
def sample_names():
    return NAMES


@pytest.fixture
def sdc(sample_sdc):
    sample_sdc.set_released("imap_mag_l2_norm-gse_20260104_v002.0001.cdf", False)
    with ie.set_options(url=sample_sdc.url):
        yield sample_sdc


def test_coverage_days_gaps_and_newest_versions(sdc):
    cov = ie.coverage(start_date="2026-01-01", end_date="20260106")
    assert cov.index.name == "start_date"
    assert list(cov.index) == list(pd.date_range("2026-01-01", "2026-01-06"))  # every day, gaps included
    assert list(cov.columns[:2]) == ["glows/l3b/ion-rate-profile", "hi/l1c/45sensor-pset"]
    gse = cov["mag/l2/norm-gse"]
    # public: 04's v002 is unreleased
    assert gse.fillna("-").tolist() == ["v001.0001", "v001.0002", "-", "v001.0001", "v003", "-"]
    assert cov.at[pd.Timestamp("2026-01-03"), "hi/l1c/45sensor-pset"] == "v001.0001"  # a PSET sits on its date
    assert cov.at[pd.Timestamp("2026-01-02"), "glows/l3b/ion-rate-profile"] == "v001.0001"  # a CR product too
    files = cov.imap.files
    assert files.shape == cov.shape
    assert files.at[pd.Timestamp("2026-01-02"), "mag/l2/norm-gse"] == (
        "imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260102_v001.0002.cdf")
    assert cov.imap.file("2026-01-05", "mag/l2/norm-gse").endswith("_v003.cdf")
    assert cov.imap.file("2026-01-03", "mag/l2/norm-gse") is None
    assert "NaN" not in cov._repr_html_()  # gaps are blank in a notebook
    assert "v001.0002" in cov._repr_html_()
    sub = cov.loc["2026-01-02":"2026-01-04", ["swe/l2/sci"]]  # the files follow a slice
    assert sub.imap.files.shape == (3, 1)
    assert sub.imap.files.iloc[0, 0].endswith("_v002.cdf")


def test_coverage_sees_unreleased_versions_with_an_api_key(sdc):
    with ie.set_options(api_key=TEST_WRITE_KEY):
        cov = ie.coverage(instrument="mag", data_level="l2", start_date="2026-01-01", end_date="2026-01-05")
    assert list(cov.columns) == ["mag/l2/norm-gse"]
    assert cov.at[pd.Timestamp("2026-01-04"), "mag/l2/norm-gse"] == "v002.0001"


def test_coverage_of_repointing_products_is_indexed_by_repointing(sdc):
    cov = ie.coverage(instrument="hi", start_date="2026-01-01", end_date="2026-01-31")
    assert cov.index.name == "repointing"
    assert cov.index.tolist() == [10, 11, 12]
    assert cov["hi/l1c/45sensor-pset"].tolist()[0] == "v001.0001"
    assert pd.isna(cov.iloc[1, 0])
    assert cov.imap.file(12, "hi/l1c/45sensor-pset").endswith("repoint00012_v001.0001.cdf")


def test_coverage_over_many_chunks_and_empty_answers(sdc):
    cov = ie.coverage(instrument="swe", start_date="2025-06-01", end_date="2026-06-01")  # 5 chunks of 92 days
    assert len(cov) == 366
    assert cov["swe/l2/sci"].notna().sum() == 2
    empty = ie.coverage(instrument="codice", start_date="2026-01-01", end_date="2026-01-03")
    assert empty.shape == (3, 0)
    assert format_coverage(empty) == "No files in this range."


def test_coverage_checks_arguments_before_asking():
    with pytest.raises(ValueError, match="Unknown instrument 'maggie'"):
        ie.coverage(instrument="maggie", start_date="2026-01-01", end_date="2026-01-02")
    with pytest.raises(ValueError, match="needs both start_date and end_date"):
        ie.coverage(start_date="2026-01-01", end_date=None)
    with pytest.raises(ValueError, match="is after end_date"):
        ie.coverage(start_date="2026-01-05", end_date="2026-01-01")
    with pytest.raises(ValueError, match="Unknown source 'web'"):
        ie.coverage(start_date="2026-01-01", end_date="2026-01-02", source="web")


def test_coverage_local_works_offline_and_ignores_superseded(tmp_path):
    data = tmp_path / "data"
    write_sample_archive(data, NAMES)
    with ie.set_options(url="http://127.0.0.1:9"):  # nothing listens there: local must not ask
        cov = ie.coverage(instrument="mag", start_date="2026-01-01", end_date="2026-01-05", source="local")
    assert cov.imap.source == "local"
    assert cov["mag/l2/norm-gse"].fillna("-").tolist() == ["v001.0001", "v001.0002", "-", "v002.0001", "v003"]
    assert cov.at[pd.Timestamp("2026-01-01"), "mag/l1c/norm-mago"] == "v001.0001"


def test_coverage_with_inputs_from_the_table_and_from_parents(sdc, tmp_path):
    import numpy as np

    from imap_explorer.synthetic.physics import SolarWind, day_start
    from imap_explorer.synthetic.swe import write_swe_day

    assert inputs_of("swe/l3/sci") == list(dict(INPUTS)["swe/l3/*"])
    cov = ie.coverage(instrument="swe", start_date="2026-01-01", end_date="2026-01-02", with_inputs=True)
    inputs = cov.imap.inputs["swe/l2/sci"]
    assert inputs == {"inputs": ["swe/l1b/sci"], "source": "table"}
    # a downloaded SWE L3 file names its parents: they win over the table, and their products are queried
    day = day_start("2026-01-01")
    write_swe_day(os.environ["IMAP_DATA_DIR"], day, model=SolarWind(day, 1), hours=(10.5, 10.6), levels=("l3",))
    write_sample_archive(sdc.root, ("imap_swe_l3_sci_20260101_v001.0001.cdf",))
    sdc.rescan()
    cov = ie.coverage(instrument="swe", data_level="l3", start_date="2026-01-01", end_date="2026-01-02",
                      with_inputs=True)
    info = cov.imap.inputs["swe/l3/sci"]
    assert info["source"] == "Parents of imap_swe_l3_sci_20260101_v001.0001.cdf"
    assert info["inputs"] == ["swe/l2/sci", "swe/l1b/sci", "mag/l2/norm-dsrf", "swapi/l3a/proton-sw"]
    # columns: the product, then its inputs that exist (MAG L2 norm-dsrf and SWAPI have no files here)
    assert list(cov.columns) == ["swe/l3/sci", "swe/l2/sci"]
    assert cov["swe/l2/sci"].tolist() == ["v001.0001", "v002"]
    assert np.array_equal(cov.imap.files.notna().to_numpy(), cov.notna().to_numpy())


def test_coverage_plot_and_table(sdc, tmp_path):
    cov = ie.coverage(start_date="2026-01-01", end_date="2026-01-06")
    fig = plot_coverage(cov, pyplot=False)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["l3b/ion-rate-profile", "l1c/45sensor-pset"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["v001.0001", "v002", "v001.0002", "v003", "no file"]
    groups = [t.get_text() for t in ax.texts if t.get_text().isupper()]
    assert groups == ["GLOWS", "HI", "MAG", "SWE"]
    out = tmp_path / "coverage.png"
    fig.savefig(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = format_coverage(cov)
    lines = text.splitlines()
    assert lines[0].strip() == "2026-01"
    row = next(line for line in lines if line.startswith("mag/l2/norm-gse"))
    assert row.split()[-1] == "ac.ad."  # v001.0001, v001.0002, gap, v001.0001, v003, gap
    assert lines[-1] == "a = v001.0001   b = v002   c = v001.0002   d = v003   . = no file"


def test_coverage_cli_prints_the_table_and_saves_the_png(sdc, tmp_path, capsys):
    from imap_explorer.cli import main

    out = tmp_path / "figs" / "cov"
    code = main(["--url", sdc.url, "coverage", "--instrument", "mag", "--start-date", "20260101",
                 "--end-date", "20260105", "-o", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert (tmp_path / "figs" / "cov.png").read_bytes()[:4] == b"\x89PNG"
    assert "mag/l2/norm-gse" in printed.out
    assert "Saved" in printed.out
    code = main(["coverage", "--instrument", "mag", "--start-date", "20260105", "--end-date", "20260101"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("imap-explorer coverage: error: start_date")
    assert "Traceback" not in err
