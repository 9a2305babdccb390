"""Fidelity of the synthetic products against real SDC files, attribute by attribute and value by value.

References: the flight files in ``../shared/data/real`` (skipped when absent) and the files written by
imap-processing 1.0.40 itself in ``tests/sdc_writer`` (the current layout, ``products.md`` §3.6, §4.5).
Each test pins one difference that was found and fixed; ``test_synthetic.py`` holds the broader structure checks.
"""

from __future__ import annotations

import re
from pathlib import Path

import cdflib
import numpy as np
import pytest

from tests.conftest import REAL, SDC_WRITER, requires_real

SDC_MAG_L2 = SDC_WRITER / "sdc-writer_mag_l2_norm-gse_20260120_v001.0002.cdf"
SDC_SWE_L2 = SDC_WRITER / "sdc-writer_swe_l2_sci_20260120_v001.0001.cdf"
FLIGHT_SWE_L2 = REAL / "imap/swe/l2/2026/05/imap_swe_l2_sci_20260512_v001.cdf"
FLIGHT_SWE_L1B = REAL / "imap/swe/l1b/2024/05/imap_swe_l1b_sci_20240510_v002.cdf"


def _find(root: Path, pattern: str) -> Path:
    matches = [p for p in root.rglob("*.cdf") if re.fullmatch(pattern, p.name)]
    assert len(matches) == 1, f"{pattern}: {[p.name for p in matches]}"
    return matches[0]


def _same(a, b) -> bool:
    """Attribute values equal, including their numpy type (a FILLVAL's CDF type matters)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) or isinstance(a, np.generic):
        return type(a) is type(b) and np.array_equal(a, b)
    return a == b


# ---------------------------------------------------------------------------------------------- MAG L2
@pytest.mark.parametrize("frame", ["gse", "rtn"])
def test_mag_l2_attributes_match_imap_processing_1_0_40(synthetic_archive, frame):
    """b_<frame>, magnitude, quality_flags, range, epoch, direction: same attribute names and values as 1.0.40."""
    synth = cdflib.CDF(_find(synthetic_archive, rf"imap_mag_l2_norm-{frame}_20260120_v001\.0001\.cdf"))
    ref = cdflib.CDF(SDC_MAG_L2)
    for name in ref.cdf_info().zVariables:
        want = ref.varattsget(name)
        got = synth.varattsget(name.replace("b_gse", f"b_{frame}"))
        if name == "direction_label":
            got.pop("DEPEND_1")        # the reference puts the labels on their own dimension (products.md §1.5)
        assert set(got) == set(want), name
        for key, value in want.items():
            if frame != "gse" and isinstance(value, str):
                value = value.replace("GSE", frame.upper())
            assert _same(got[key], value), (name, key, got[key], value)


# ---------------------------------------------------------------------------------------------- SWE L2
def _uncert_in_empty_bins(path: Path) -> dict[str, np.ndarray]:
    """The stat-uncertainty values where ``flux`` is fill in a normal record, and on the all-fill records."""
    cdf = cdflib.CDF(path)
    bad = np.asarray(cdf.varget("data_quality")) == 255
    empty = np.asarray(cdf.varget("flux")) <= -1e30
    empty[bad] = False
    out = {}
    for name in ("psd_stat_uncert", "flux_stat_uncert"):
        values = np.asarray(cdf.varget(name))
        out[name] = values[empty]
        out[f"{name}@fill"] = values[bad]
    return out


def _check_uncert_in_empty_bins(path: Path) -> None:
    found = _uncert_in_empty_bins(path)
    for name in ("psd_stat_uncert", "flux_stat_uncert"):
        assert found[name].size > 0, f"{path.name}: no empty angle bin"
        assert np.all(found[name] == 0.0), (path.name, name, np.unique(found[name])[:5])
        assert np.all(found[f"{name}@fill"] <= -1e30), (path.name, name)


def test_swe_l2_uncertainty_is_zero_in_empty_angle_bins(synthetic_archive):
    """Empty inst_az bins: flux/PSD are fill, their uncertainties 0 (fill only on the all-fill record)."""
    _check_uncert_in_empty_bins(_find(synthetic_archive, r"imap_swe_l2_sci_20260120_v001\.0001\.cdf"))


def test_swe_l2_uncertainty_rule_holds_in_the_sdc_1_0_40_file():
    _check_uncert_in_empty_bins(SDC_SWE_L2)


@requires_real
def test_swe_l2_uncertainty_rule_holds_in_the_flight_file():
    _check_uncert_in_empty_bins(FLIGHT_SWE_L2)


# ---------------------------------------------------------------------------------------------- SWE L1B
def test_swe_l1b_science_data_fillval_is_the_1_0_40_int64_min(synthetic_archive):
    """products.md 4.4: 1.0.40 science_data FILLVAL = int64 min as a double; the fill record still holds -1e31."""
    import imap_explorer as ie

    path = _find(synthetic_archive, r"imap_swe_l1b_sci_20260120_v001\.0001\.cdf")
    cdf = cdflib.CDF(path)
    assert _same(cdf.varattsget("science_data")["FILLVAL"], np.float64(-9.223372036854775808e18))
    assert cdf.varattsget("counts_stat_uncert")["FILLVAL"] == -1e31
    bad = np.asarray(cdf.varget("data_quality")) == 255
    assert bad.sum() == 1
    assert np.all(np.asarray(cdf.varget("science_data"))[bad] == -1e31)
    rate = ie.load(path)["science_data"].values
    assert np.isnan(rate[bad]).all()
    assert not np.isnan(rate[~bad]).any()


# ---------------------------------------------------------------------------------------------- SWE texts
@requires_real
@pytest.mark.parametrize(("level", "reference"), [("l2", FLIGHT_SWE_L2), ("l2", SDC_SWE_L2), ("l1b", FLIGHT_SWE_L1B)])
def test_swe_acquisition_time_texts_match_the_real_files(synthetic_archive, level, reference):
    synth = cdflib.CDF(_find(synthetic_archive, rf"imap_swe_{level}_sci_20260120_v001\.0001\.cdf"))
    want = cdflib.CDF(reference).varattsget("acquisition_time")
    got = synth.varattsget("acquisition_time")
    for key in ("CATDESC", "FIELDNAM", "VAR_NOTES", "UNITS", "DEPEND_1", "DEPEND_2"):
        assert got[key] == want[key], (key, got[key], want[key])
