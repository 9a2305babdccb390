"""Every real file of all ten instruments (../shared/data/real) through ie.load, checked against cdflib.

Every variable equals cdflib's reading (times through ``cdflib.cdfepoch.to_datetime``, exactly; floats with the fill
rules), and the record dimension is the one ``DEPEND_0`` names, whether the file stores it record-varying or not.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pytest

from imap_explorer.cdf import load
from tests.conftest import REAL, requires_real

FILES = sorted(REAL.glob("imap/*/*/*/*/*.cdf")) if REAL.is_dir() else []
POINTER = re.compile(r"(DEPEND|LABL_PTR)_(\d+)")

#: the dimensions of a few variables per product: maps and PSETs stored non-record-varying, direct events,
#: the Lo histogram rates whose time axis is DEPEND_1, the 1947 GLOWS history
EXPECTED = {
    "imap_codice_l2_hi-direct-events_20260301_v003.cdf": {
        "ssd_energy": ("epoch", "priority", "event_num"), "energy_per_nuc": ("epoch", "priority", "event_num")},
    "imap_codice_l3a_lo-direct-events_20260504_v003.cdf": {"tof": ("epoch", "priority_index", "event_index")},
    "imap_idex_l1a_sci-1week_20251017_v001.cdf": {"TOF_High": ("epoch", "time_high_sample_rate_index")},
    "imap_glows_l3b_ion-rate-profile_20251102-cr02304_v001.cdf": {"mean_time": ("epoch",)},
    "imap_glows_l3d_solar-hist_19470303-cr02297_v001.cdf": {"epoch": ("epoch",)},
    "imap_glows_l3e_survival-probability-ul-hf_20251102-repoint00036_v001.0000.cdf": {
        "surv_prob": ("epoch", "energy_grid", "healpix_index")},
    "imap_hi_l2_h45-ena-h-hf-nsp-ram-hae-4deg-6mo_20251015_v000.cdf": {
        "ena_intensity": ("epoch", "energy", "longitude", "latitude")},
    "imap_hi_l3_h45-ena-h-hf-sp-full-hae-4deg-6mo_20251015_v001.cdf": {
        "ena_intensity": ("epoch", "energy", "longitude", "latitude"),
        "solid_angle": ("epoch", "longitude", "latitude")},
    "imap_lo_l1b_histrates_20260207-repoint00150_v004.cdf": {
        "h_rates": ("epoch", "esa_step", "spin_bin_6"), "spin_cycle": ("epoch", "esa_step")},
    "imap_lo_l1c_pset_20250415_v002.cdf": {
        "h_counts": ("epoch", "esa_energy_step", "spin_angle", "off_angle"),
        "h_background_rates": ("esa_energy_step", "spin_angle", "off_angle")},  # NRV without the extra axis
    "imap_lo_l2_l090-isnnbkgnd-h-sf-nsp-ram-hae-6deg-3mo_20260219_v000.cdf": {
        "ena_intensity": ("epoch", "energy", "longitude", "latitude"),
        "counts": ("epoch", "energy", "longitude", "latitude"), "epoch": ("epoch",)},
    "imap_ultra_l1c_45sensor-heliopset_20251017-repoint00184_v000.cdf": {
        "counts": ("epoch", "energy_bin_geometric_mean", "pixel_index")},
    "imap_ultra_l2_u45-ena-h-hf-nsp-full-hae-6deg-3mo_20250416_v001.cdf": {
        "ena_intensity": ("epoch", "energy", "longitude", "latitude")},
    "imap_mag_l2_norm-dsrf_20260120_v003.cdf": {"b_dsrf": ("epoch", "direction")},
}


def test_the_real_folder_holds_every_instrument():
    if not FILES:
        pytest.skip("real IMAP CDFs not available (../shared/data/real)")
    assert len(FILES) >= 36
    assert {p.parts[-5] for p in FILES} >= {"codice", "glows", "hi", "hit", "idex", "lo", "mag", "swapi", "swe",
                                            "ultra"}
    assert set(EXPECTED) <= {p.name for p in FILES}


@requires_real
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_file_loads_exactly_as_cdflib_reads_it(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # IDEX: epoch not increasing (said, and loaded as stored)
        ds = load(path)
    raw = cdflib.CDF(str(path))
    info = raw.cdf_info()
    assert set(ds.variables) == set(info.zVariables)
    for name, var in ds.variables.items():
        expected = raw.varget(name)
        if var.dtype.kind == "M":  # every time variable, exactly as cdflib converts it (fill and pad -> NaT)
            expected = np.asarray(cdflib.cdfepoch.to_datetime(np.asarray(expected).reshape(-1)))
            np.testing.assert_array_equal(var.values.reshape(-1), expected.astype("datetime64[ns]"), err_msg=name)
            continue
        expected = np.asarray(expected)
        if var.dtype.kind == "f" and expected.dtype.kind == "f":  # FILLVAL (in the dtype) or <= -1e30 -> NaN
            fill = raw.varattsget(name).get("FILLVAL")
            with warnings.catch_warnings(), np.errstate(invalid="ignore", over="ignore"):
                warnings.simplefilter("ignore")
                try:
                    fill = np.asarray(fill).astype(expected.dtype) if np.ndim(fill) == 0 else np.nan
                except (TypeError, ValueError):  # a string FILLVAL (Lo maps): only the -1e30 rule
                    fill = np.nan
            expected = np.where((expected <= -1e30) | (expected == fill), np.nan, expected)
        if var.dtype.kind == "f" and expected.dtype.kind in "iu":  # integers with the standard fill promote
            expected = expected.astype(var.dtype)
            var_values = np.where(np.isnan(var.values), expected.reshape(var.shape), var.values)
            np.testing.assert_array_equal(var_values, expected.reshape(var.shape), err_msg=name)
            continue
        if var.dtype.kind == "U":  # cdflib drops what is not ASCII ('-90°' reads '-90'); we decode UTF-8
            values = np.vectorize(lambda x: x.encode("ascii", "ignore").decode(), otypes=["U"])(var.values)
            np.testing.assert_array_equal(values, expected.reshape(var.shape), err_msg=name)
            continue
        np.testing.assert_array_equal(var.values, expected.reshape(var.shape), err_msg=name)
    assert_record_dimensions(ds, raw)
    for name, dims in EXPECTED.get(path.name, {}).items():
        assert ds[name].dims == dims, name


def assert_record_dimensions(ds, raw) -> None:
    """What DEPEND_0 names is the leading dimension: record-varying, or stored NRV with one axis more than pointers."""
    times = {n for n, v in ds.variables.items() if v.dims == (n,)}
    for name in ds.variables:
        attrs = raw.varattsget(name)
        dep = attrs.get("DEPEND_0")
        if not isinstance(dep, str) or dep not in times or dep == name:
            continue
        pointers = [int(m.group(2)) for k, v in attrs.items() if (m := POINTER.fullmatch(k)) and isinstance(v, str)]
        stored_nrv = not raw.varinq(name).Rec_Vary
        if not stored_nrv or (ds[name].ndim == max(pointers) + 1 and ds[name].shape[0] == ds.sizes[dep]):
            assert ds[name].dims[0] == dep, name
    short = {d: n for d, n in ds.sizes.items() if n == 1 and str(d).endswith(tuple(f"_dim{i}" for i in range(1, 9)))}
    assert not [d for d in ds.dims if str(d).endswith("_record")]
    assert not {d: n for d, n in short.items()  # no "<name>_dim1" of length 1 where a time axis was meant
                if any(ds[v].dims[:1] == (d,) and isinstance(ds[v].attrs.get("DEPEND_0"), str) for v in ds.data_vars)}


@requires_real
def test_time_range_before_1972_selects_what_cdflib_times_say():
    """GLOWS L3d solar history from 1947: time_range bounds go through the same conversion, in reverse."""
    path = REAL / "imap/glows/l3d/1947/03/imap_glows_l3d_solar-hist_19470303-cr02297_v001.cdf"
    times = np.asarray(cdflib.cdfepoch.to_datetime(cdflib.CDF(str(path)).varget("epoch"))).astype("datetime64[ns]")
    lo, hi = np.datetime64("1950-01-01", "ns"), np.datetime64("1960-05-21T01:04:00.484", "ns")  # hi: a record
    ds = load(path, time_range=(lo, hi))
    np.testing.assert_array_equal(ds.epoch.values, times[(times >= lo) & (times < hi)])
    assert str(ds.epoch.values[0]) == "1950-01-02T18:39:57.600000000"
    assert load(path, time_range=(hi, None)).epoch.values[0] == hi  # the start is inclusive, to the nanosecond
