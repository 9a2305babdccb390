"""ie.load / ie.get_data on real flight files, synthetic products and small hand-written CDFs."""

from __future__ import annotations

import pickle
import shutil
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from cdflib.cdfwrite import CDF as CDFWriter

from imap_explorer import _reader, cdf
from imap_explorer._time import datetime64_to_tt2000
from imap_explorer.cdf import InvalidFileWarning, get_data, load
from imap_explorer.exceptions import InvalidFileError
from tests.conftest import REAL, SDC_WRITER_NAMES, requires_real

MAG_L1B = REAL / "imap/mag/l1b/2025/10/imap_mag_l1b_norm-mago_20251017_v001.0001.cdf"
MAG_L1D = REAL / "imap/mag/l1d/2026/02/imap_mag_l1d_norm-dsrf_20260228_v005.cdf"
MAG_L2_0120 = REAL / "imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf"
MAG_L2_0228 = REAL / "imap/mag/l2/2026/02/imap_mag_l2_norm-dsrf_20260228_v002.cdf"
SWE_L1A = REAL / "imap/swe/l1a/2026/03/imap_swe_l1a_cem-raw_20260309_v001.cdf"
SWE_L1B = REAL / "imap/swe/l1b/2024/05/imap_swe_l1b_sci_20240510_v002.cdf"
SWE_L2 = REAL / "imap/swe/l2/2026/05/imap_swe_l2_sci_20260512_v001.cdf"
REAL_FILES = [MAG_L1B, MAG_L1D, MAG_L2_0120, MAG_L2_0228, SWE_L1A, SWE_L1B, SWE_L2]
EPOCH_FILL = np.int64(-9223372036854775808)


def cdflib_epoch(path: Path) -> np.ndarray:
    return np.array(cdflib.cdfepoch.to_datetime(cdflib.CDF(str(path)).varget("epoch")))


def write_cdf(path: Path, variables: list[tuple[dict, dict, object]], gattrs: dict | None = None) -> Path:
    """Write a CDF with cdflib's low-level writer: (spec, attrs, data) per variable."""
    writer = CDFWriter(str(path), cdf_spec={"Majority": "row_major", "Encoding": 6}, delete=True)
    attrs = {"Logical_source": "imap_mag_l2_burst-gse", "Parents": ["a.cdf"]} | (gattrs or {})
    writer.write_globalattrs({k: dict(enumerate(v if isinstance(v, list) else [v])) for k, v in attrs.items()})
    for spec, var_attrs, data in variables:
        full = {"Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []} | spec
        if data is None:
            writer.write_var(full, var_attrs=var_attrs)
        else:
            writer.write_var(full, var_attrs=var_attrs, var_data=data)
    writer.close()
    return path


def epoch_var(tt2000: np.ndarray) -> tuple[dict, dict, object]:
    attrs = {"FILLVAL": [EPOCH_FILL, "CDF_TIME_TT2000"], "UNITS": "ns", "VAR_TYPE": "support_data",
             "FIELDNAM": "epoch"}
    return {"Variable": "epoch", "Data_Type": 33}, attrs, (np.asarray(tt2000, np.int64) if len(tt2000) else None)


def tt(*times: str) -> np.ndarray:
    return datetime64_to_tt2000(np.array(times, dtype="datetime64[ns]"))


# ---------------------------------------------------------------------------------------------------- real files
@requires_real
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_load_real_file_matches_cdflib(path):
    assert_matches_cdflib(path)


def assert_matches_cdflib(path: Path) -> None:
    """Every variable value by value, and every attribute, against cdflib's reading plus our fill rules."""
    ds = load(path)
    assert ds.epoch.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(ds.epoch.values, cdflib_epoch(path))
    assert not [d for d in ds.dims if str(d).startswith("dim")]
    raw = cdflib.CDF(str(path))
    for name, var in ds.variables.items():
        for key, value in raw.varattsget(name).items():  # raw ISTP attributes (epoch's too), typed as cdflib reads
            np.testing.assert_array_equal(var.attrs[key], value, err_msg=f"{name}:{key}")
        if name == "epoch":
            continue
        expected = raw.varget(name)
        if var.dtype.kind == "f":  # float rules: FILLVAL (in the dtype) or <= -1e30 -> NaN, nothing else
            fill = np.asarray(raw.varattsget(name).get("FILLVAL", np.nan)).astype(expected.dtype)
            expected = np.where((expected <= -1e30) | (expected == fill), np.nan, expected)
            np.testing.assert_array_equal(var.values, expected.reshape(var.shape), err_msg=name)
        else:
            np.testing.assert_array_equal(var.values, np.asarray(expected).reshape(var.shape), err_msg=name)
    for key, value in raw.globalattsget().items():  # unwrapped, except real lists
        assert ds.attrs[key] == (value[0] if len(value) == 1 and key != "Parents" else value), key


@requires_real
def test_load_mag_l2_repointing_fill_and_valid_magnitude():
    ds = load(MAG_L2_0120)
    fill_rows = ds.b_dsrf.isnull().all("direction")
    assert int(fill_rows.sum()) == 436
    assert int(ds.b_dsrf.isnull().any("direction").sum()) == 436
    assert str(ds.epoch[fill_rows.values].values[0]) == "2026-01-20T10:00:06.000000000"
    assert int(ds.magnitude.isnull().sum()) == 0
    assert ds.direction_label.values.tolist() == ["0", "1", "2"]
    assert "direction_label" in ds.coords
    assert ds.b_dsrf.dims == ("epoch", "direction")
    assert ds.range.dtype == np.uint8
    assert (ds.range.values == 2).all()
    assert ds.quality_flags.dtype == np.int64
    assert set(np.unique(ds.quality_flags.values)) == {0, 1}
    assert ds.sizes["epoch"] == 172_800
    assert int(datetime64_to_tt2000(ds.epoch.values[:1])[0]) == 822139269184000000


@requires_real
def test_load_mag_l1d_fill_in_vectors_and_magnitude():
    ds = load(MAG_L1D)
    assert int(ds.b_dsrf.isnull().all("direction").sum()) == 402
    assert int(ds.magnitude.isnull().sum()) == 402
    assert (ds.magnitude.isnull().values == ds.b_dsrf.isnull().all("direction").values).all()


@requires_real
def test_load_swe_l2_flight_facts():
    ds = load(SWE_L2)
    assert ds.sizes["epoch"] == 6
    assert str(ds.epoch.values[0]).startswith("2026-05-11T23:59:45.714250")
    assert bool(ds.flux.isel(epoch=1).isnull().all())
    assert not bool(ds.flux.isel(epoch=0).isnull().all())
    assert ds.flux.dims == ("epoch", "energy", "inst_az", "inst_el")
    np.testing.assert_allclose(ds.energy.values[[0, -1]], [2.66, 5266.135])
    assert ds.energy_label.dims == ("energy",)
    assert ds.energy_label.values[0] == "0.56"
    assert ds.flux.attrs["units"] == "1 / (2 * eV * cm^2 * s * ster)"
    assert ds.data_quality.values.tolist() == [4, 255, 4, 4, 4, 4]  # support_data integer: untouched
    assert ds.cem_id.values.tolist() == list(range(7))  # wrapped FILLVAL 0: not masked


@requires_real
@pytest.mark.parametrize("path", [MAG_L1B, SWE_L1B], ids=lambda p: p.name)
def test_load_old_files_with_numeric_depend0(path):
    ds = load(path)
    assert int(ds.epoch.attrs["DEPEND_0"]) == 0  # kept raw, ignored as a dimension
    assert ds.epoch.dims == ("epoch",)
    first = {MAG_L1B: 813939180705309184, SWE_L1B: 315576066184000000}[path]
    assert int(datetime64_to_tt2000(ds.epoch.values[:1])[0]) == first


@requires_real
def test_load_old_swe_l1b_epoch_outside_name_day():
    ds = load(SWE_L1B)
    assert str(ds.epoch.values[0]) == "2010-01-01T00:00:00.000000000"
    assert ds.science_data.dims == ("epoch", "esa_step", "spin_sector", "cem_id")
    assert ds.cem_id_label.values[0] == "0.0"
    assert ds.shcoarse.dims == ("epoch", "cycle")


@requires_real
def test_load_swe_l1a_integer_counts_not_masked():
    ds = load(SWE_L1A)
    raw = cdflib.CDF(str(SWE_L1A))
    for i in range(1, 8):
        for kind in ("latched", "live"):
            name = f"cem{i}_counts_{kind}"
            assert ds[name].dtype == raw.varget(name).dtype
            np.testing.assert_array_equal(ds[name].values, raw.varget(name))
    assert (ds.cem4_counts_live.values == 0).any()
    assert (ds.pkt_apid.values == 1334).all()


@requires_real
def test_load_attributes_raw_plus_display():
    ds = load(MAG_L2_0120)
    assert ds.epoch.attrs["UNITS"] == "ns"
    assert "units" not in ds.epoch.attrs
    assert ds.epoch.attrs["FILLVAL"] == EPOCH_FILL
    assert ds.b_dsrf.attrs["FILLVAL"].dtype == np.float32
    assert ds.b_dsrf.attrs["UNITS"] == " "
    assert "units" not in ds.b_dsrf.attrs
    assert ds.b_dsrf.attrs["long_name"] == "Magnetic Field Vector"
    assert ds.quality_flags.attrs["long_name"] == "QF"  # LABLAXIS first
    assert ds.attrs["Data_version"] == "003"
    assert ds.attrs["Logical_source"] == "imap_mag_l2_norm-dsrf"
    assert isinstance(ds.attrs["Parents"], list)
    assert "naif0012.tls" in ds.attrs["Parents"]
    assert ds.imap.version == "v003"


@requires_real
def test_load_time_range_reads_only_needed_records(record_reads):
    ds = load(MAG_L2_0120, time_range=("2026-01-20T10:00", "2026-01-20T11:00"))
    assert ds.sizes["epoch"] == 7200
    assert str(ds.epoch.values[0]) == "2026-01-20T10:00:00.000000000"
    assert str(ds.epoch.values[-1]) == "2026-01-20T10:59:59.500000000"
    assert max(n for _, n in record_reads) == 7200  # never the whole day
    full = load(MAG_L2_0120)
    xr.testing.assert_identical(ds.drop_attrs(), full.sel(epoch=slice("2026-01-20T10:00", "2026-01-20T10:59:59.9"))
                                .drop_attrs())


@requires_real
def test_load_time_range_outside_data_gives_zero_records():
    ds = load(MAG_L2_0120, time_range=("2030-01-01", None))
    assert ds.sizes["epoch"] == 0
    assert ds.b_dsrf.shape == (0, 3)
    assert ds.direction.size == 3


@requires_real
def test_load_time_range_rejects_bad_input():
    with pytest.raises(ValueError, match="time_range"):
        load(MAG_L2_0120, time_range="2026-01-20")
    with pytest.raises(ValueError, match="before its start"):
        load(MAG_L2_0120, time_range=("2026-01-21", "2026-01-20"))


@requires_real
def test_load_variables_reads_dependencies_only():
    ds = load(SWE_L2, variables="flux")
    assert set(ds.variables) == {"flux", "epoch", "energy", "energy_label", "inst_az", "inst_az_label", "inst_el",
                                 "inst_el_label"}  # DEPEND_1..3 and LABL_PTR_1..3 of flux
    with pytest.raises(ValueError, match=r"Unknown variable\(s\) 'nope'.*Available: acq_duration"):
        load(SWE_L2, variables=["flux", "nope"])


@requires_real
def test_load_several_files_ordered_and_concatenated_once():
    ds = load([MAG_L2_0228, MAG_L2_0120])
    assert ds.sizes["epoch"] == 2 * 172_800
    assert ds.indexes["epoch"].is_monotonic_increasing
    assert int(ds.b_dsrf.isnull().all("direction").sum()) == 436 + 402
    assert [p.name for p in ds.imap.files] == [MAG_L2_0120.name, MAG_L2_0228.name]
    assert ds.imap.version == ("v003", "v002")


# ---------------------------------------------------------------------------------------------------- bad input
def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "imap_mag_l2_norm-gse_20260120_v001.0001.cdf"
    empty.write_bytes(b"")
    html = tmp_path / "imap_mag_l2_norm-gse_20260121_v001.0001.cdf"
    html.write_text("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>")
    return {"empty": (empty, "empty"), "html": (html, "HTML"),
            "missing": (tmp_path / "imap_mag_l2_norm-gse_20260122_v001.0001.cdf", "not found")}


@pytest.mark.parametrize("kind", ["empty", "html", "missing"])
def test_load_bad_file_raises_invalid_file_error(tmp_path, kind):
    path, words = _bad_files(tmp_path)[kind]
    with pytest.raises(InvalidFileError, match=words) as info:
        load(path)
    assert path.name in str(info.value)


@requires_real
@pytest.mark.parametrize("fraction", [0.001, 0.5, 0.999])
def test_load_truncated_file_raises_invalid_file_error(tmp_path, fraction):
    data = MAG_L2_0120.read_bytes()
    path = tmp_path / MAG_L2_0120.name
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(InvalidFileError, match="truncated") as info:
        load(path)
    assert MAG_L2_0120.name in str(info.value)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.5, 0.999, 1.0])
def test_load_whole_file_compressed_cdf_and_its_truncations(tmp_path, fraction):
    times = tt("2026-01-20T00:00", "2026-01-20T00:01", "2026-01-20T00:02")
    writer = CDFWriter(str(tmp_path / "full.cdf"), cdf_spec={"Compressed": 6}, delete=True)
    writer.write_globalattrs({"Logical_source": {0: "imap_mag_l2_norm-gse"}})
    writer.write_var({"Variable": "epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []},
                     var_attrs={"VAR_TYPE": "support_data"}, var_data=times)
    writer.write_var({"Variable": "x", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []},
                     var_attrs={"DEPEND_0": "epoch", "VAR_TYPE": "data"}, var_data=np.array([1.0, -1e31, 3.0]))
    writer.close()
    data = (tmp_path / "full.cdf").read_bytes()
    assert data[4:8] == b"\xcc\xcc\x00\x01"  # the whole file is compressed
    path = tmp_path / "imap_mag_l2_norm-gse_20260120_v001.0001.cdf"
    path.write_bytes(data[: 24 + int((len(data) - 24) * fraction)])
    if fraction == 1.0:
        np.testing.assert_array_equal(load(path).x.values, [1.0, np.nan, 3.0])
        return
    with pytest.raises(InvalidFileError, match="truncated") as info:  # pycdfpp alone crashes the interpreter
        load(path)
    assert path.name in str(info.value)


def test_load_not_a_cdf_names_the_bytes(tmp_path):
    path = tmp_path / "x.cdf"
    path.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(InvalidFileError, match="not a CDF file: starts with bytes '50 4b 03 04"):
        load(path)


@requires_real
def test_load_on_error_skip_warns_and_loads_the_good_files(tmp_path):
    bad = _bad_files(tmp_path)
    with pytest.warns(InvalidFileWarning) as record:
        ds = load([bad["html"][0], MAG_L2_0120, bad["empty"][0]], on_error="skip")
    assert ds.sizes["epoch"] == 172_800
    messages = " ".join(str(w.message) for w in record)
    assert bad["html"][0].name in messages
    assert bad["empty"][0].name in messages
    assert issubclass(InvalidFileWarning, Warning)
    assert InvalidFileWarning.__name__.endswith("Warning")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InvalidFileError, match="no readable CDF file"):
            load([bad["html"][0], bad["empty"][0]], on_error="skip")
    with pytest.raises(ValueError, match="on_error"):
        load(MAG_L2_0120, on_error="ignore")


# ---------------------------------------------------------------------------------------------------- small files
def test_load_zero_record_variables(tmp_path):
    path = write_cdf(tmp_path / "imap_mag_l2_burst-gse_20260120_v001.0001.cdf", [
        epoch_var(np.array([], np.int64)),
        ({"Variable": "b_gse", "Data_Type": 21, "Dim_Sizes": [3], "Compress": 6},
         {"DEPEND_0": "epoch", "FILLVAL": np.float32(-1e31), "VAR_TYPE": "data", "UNITS": "nT"}, None),
    ])
    ds = load(path)
    assert ds.sizes["epoch"] == 0
    assert ds.b_gse.shape == (0, 3)
    assert ds.b_gse.dtype == np.float32
    assert ds.epoch.dtype == np.dtype("datetime64[ns]")
    assert ds.b_gse.dims == ("epoch", "b_gse_dim1")
    assert load(path, chunks={}).b_gse.shape == (0, 3)


def test_load_label_pointer_without_depend_names_the_dimension(tmp_path):
    times = tt("2026-01-20T00:00", "2026-01-20T00:01")
    path = write_cdf(tmp_path / "l3.cdf", [
        epoch_var(times),
        ({"Variable": "rtn_label", "Data_Type": 51, "Num_Elements": 3, "Rec_Vary": False, "Dim_Sizes": [3]},
         {"VAR_TYPE": "metadata"}, np.array(["B_R", "B_T", "B_N"])),
        ({"Variable": "b_rtn", "Data_Type": 44, "Dim_Sizes": [3]},
         {"DEPEND_0": "epoch", "LABL_PTR_1": "rtn_label", "FILLVAL": np.float32(-1e31), "VAR_TYPE": "data"},
         np.ones((2, 3), np.float32)),
        ({"Variable": "v_rtn", "Data_Type": 44, "Dim_Sizes": [3]},
         {"DEPEND_0": "epoch", "LABL_PTR_1": "rtn_label", "FILLVAL": np.float32(-1e31), "VAR_TYPE": "data"},
         np.full((2, 3), -1e31, np.float32)),
        ({"Variable": "temps", "Data_Type": 45, "Dim_Sizes": [3]},
         {"DEPEND_0": "epoch", "VAR_TYPE": "data"}, np.zeros((2, 3))),
    ])
    ds = load(path)
    assert ds.b_rtn.dims == ("epoch", "rtn")
    assert ds.v_rtn.dims == ("epoch", "rtn")
    assert ds.rtn_label.dims == ("rtn",)
    assert "rtn_label" in ds.coords
    assert ds.rtn_label.values.tolist() == ["B_R", "B_T", "B_N"]
    assert ds.temps.dims == ("epoch", "temps_dim1")  # unrelated 3-vector: its own dimension, not a shared dim0
    assert bool(ds.v_rtn.isnull().all())


def test_load_four_dimensions_after_the_record_use_depend_4_and_labl_ptr_4(tmp_path):
    times = tt("2026-01-20T00:00", "2026-01-20T00:01")
    axes = [("energy", 2), ("az", 3), ("el", 4), ("species", 5)]
    variables = [epoch_var(times)]
    for name, n in axes:
        variables.append(({"Variable": name, "Data_Type": 45, "Rec_Vary": False, "Dim_Sizes": [n]},
                          {"VAR_TYPE": "support_data"}, np.arange(n, dtype=np.float64)))
    variables.append(({"Variable": "species_label", "Data_Type": 51, "Num_Elements": 2, "Rec_Vary": False,
                       "Dim_Sizes": [5]}, {"VAR_TYPE": "metadata"}, np.array(["H", "He", "O", "C", "Fe"])))
    attrs = {"DEPEND_0": "epoch", "VAR_TYPE": "data", "FILLVAL": -1e31, "LABL_PTR_4": "species_label"}
    attrs |= {f"DEPEND_{i}": name for i, (name, _) in enumerate(axes, 1)}
    variables.append(({"Variable": "counts", "Data_Type": 45, "Dim_Sizes": [2, 3, 4, 5]}, attrs,
                      np.zeros((2, 2, 3, 4, 5))))
    path = write_cdf(tmp_path / "4d.cdf", variables)
    for ds in (load(path), load(path, variables="counts")):
        assert ds.counts.dims == ("epoch", "energy", "az", "el", "species")
        assert ds.species.dims == ("species",)
        assert ds.species_label.dims == ("species",)
        assert {"energy", "az", "el", "species", "species_label"} <= set(ds.coords)


def test_load_files_whose_records_do_not_line_up_name_the_file(tmp_path):
    paths = []
    for day, n in (("2026-01-20", 4), ("2026-01-21", 2)):  # day 2: 'x' has fewer records than its epoch
        times = tt(*[f"{day}T00:00:0{i}" for i in range(4)])
        paths.append(write_cdf(tmp_path / f"imap_mag_l2_norm-gse_{day.replace('-', '')}_v001.cdf", [
            epoch_var(times),
            ({"Variable": "x", "Data_Type": 45}, {"DEPEND_0": "epoch", "VAR_TYPE": "data"}, np.arange(float(n))),
        ]))
    for chunks in (None, {}):
        with pytest.raises(InvalidFileError, match="'x' does not line up with its time axis") as info:
            load(paths, chunks=chunks)
        assert paths[1].name in str(info.value)
    assert load(paths[1]).x.dims == ("x_record",)  # alone, it loads on a record axis of its own


def test_load_integer_fill_rule(tmp_path):
    times = tt("2026-01-20T00:00", "2026-01-20T00:01", "2026-01-20T00:02")
    u1 = {"Data_Type": 11}
    path = write_cdf(tmp_path / "ints.cdf", [
        epoch_var(times),
        ({"Variable": "quality_flags", **u1}, {"DEPEND_0": "epoch", "VAR_TYPE": "data", "FILLVAL": np.uint8(255)},
         np.array([0, 255, 1], np.uint8)),
        ({"Variable": "range", **u1}, {"DEPEND_0": "epoch", "VAR_TYPE": "support_data", "FILLVAL": np.uint8(255)},
         np.array([2, 255, 2], np.uint8)),
        ({"Variable": "counts", "Data_Type": 14}, {"DEPEND_0": "epoch", "VAR_TYPE": "data", "FILLVAL": np.uint32(0)},
         np.array([0, 5, 4294967295], np.uint32)),
        ({"Variable": "temperature", "Data_Type": 2},
         {"DEPEND_0": "epoch", "VAR_TYPE": "data", "FILLVAL": np.int16(-32768)}, np.array([-32768, 7, 0], np.int16)),
    ])
    ds = load(path)
    assert ds.quality_flags.dtype == np.float32
    np.testing.assert_array_equal(ds.quality_flags.values, [0, np.nan, 1])
    assert ds.range.dtype == np.uint8
    assert ds.range.values.tolist() == [2, 255, 2]
    assert ds.counts.dtype == np.uint32
    assert ds.counts.values.tolist() == [0, 5, 4294967295]
    assert ds.temperature.dtype == np.float32
    np.testing.assert_array_equal(ds.temperature.values, [np.nan, 7, 0])
    lazy = load(path, chunks={})
    assert lazy.quality_flags.dtype == np.float32
    np.testing.assert_array_equal(lazy.quality_flags.values, [0, np.nan, 1])


def test_load_float_with_string_fillval_still_loads(tmp_path):
    times = tt("2026-01-20T00:00", "2026-01-20T00:01", "2026-01-20T00:02")
    path = write_cdf(tmp_path / "strfill.cdf", [
        epoch_var(times),
        ({"Variable": "x", "Data_Type": 45}, {"DEPEND_0": "epoch", "VAR_TYPE": "data", "FILLVAL": "N/A"},
         np.array([1.0, -1e31, 3.0])),
    ])
    ds = load(path)
    np.testing.assert_array_equal(ds.x.values, [1.0, np.nan, 3.0])  # the -1e30 rule still applies
    assert ds.x.attrs["FILLVAL"] == "N/A"  # kept raw


def test_load_epoch_exact_through_a_leap_second(tmp_path):
    # 2016-12-31T23:59:59 .. 2017-01-01T00:00:01 in TT2000, including the leap second 23:59:60 and a fill
    start = 536500869184000000 - 2_000_000_000
    times = np.append(start + np.arange(0, 5_000_000_000, 250_000_000, dtype=np.int64), EPOCH_FILL)
    path = write_cdf(tmp_path / "leap.cdf", [epoch_var(times)])
    with pytest.warns(UserWarning, match="'epoch' is not increasing"):
        ds = load(path)
    expected = np.array(cdflib.cdfepoch.to_datetime(times[:-1]))
    np.testing.assert_array_equal(ds.epoch.values[:-1], expected)
    assert np.isnat(ds.epoch.values[-1])
    assert str(ds.epoch.values[0]) == "2016-12-31T23:59:59.000000000"


def test_load_time_range_accepts_numpy_and_pandas_pairs(tmp_path):
    times = tt(*(f"2026-01-20T00:0{i}" for i in range(6)))
    path = write_cdf(tmp_path / "pairs.cdf", [epoch_var(times)])
    pair = np.array(["2026-01-20T00:01", "2026-01-20T00:03"], dtype="datetime64[ns]")
    for time_range in (pair, pd.DatetimeIndex(pair), pd.Series(pair), pair.astype(str).tolist()):
        ds = load(path, time_range=time_range)
        np.testing.assert_array_equal(ds.epoch.values, pair[:1] + np.array([0, 60], "timedelta64[s]"),
                                      err_msg=type(time_range).__name__)
    with pytest.raises(ValueError, match=r"time_range must be a \(start, end\) pair"):
        load(path, time_range=np.array(["2026-01-20", "2026-01-21", "2026-01-22"], dtype="datetime64[ns]"))


def test_load_column_major_and_big_values(tmp_path):
    times = tt("2026-01-20T00:00", "2026-01-20T00:01")
    writer = CDFWriter(str(tmp_path / "col.cdf"), cdf_spec={"Majority": "column_major"}, delete=True)
    writer.write_globalattrs({"Logical_source": {0: "imap_swe_l3_sci"}})
    writer.write_var({"Variable": "epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []},
                     var_attrs={"VAR_TYPE": "support_data"}, var_data=times)
    data = np.arange(2 * 2 * 3, dtype=np.float64).reshape(2, 2, 3)
    writer.write_var({"Variable": "m", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [2, 3]},
                     var_attrs={"DEPEND_0": "epoch", "VAR_TYPE": "data"}, var_data=data)
    writer.close()
    ds = load(tmp_path / "col.cdf")
    np.testing.assert_array_equal(ds.m.values, cdflib.CDF(str(tmp_path / "col.cdf")).varget("m"))


def test_load_time_range_on_a_big_endian_file_reads_the_epoch_whole_once_per_pass(tmp_path, monkeypatch):
    n = 20_000  # big-endian: the pycdfpp fallback, which reads a whole variable per call
    times = datetime64_to_tt2000(np.datetime64("2026-01-20", "ns") + np.arange(n) * np.timedelta64(500, "ms"))
    writer = CDFWriter(str(tmp_path / "be.cdf"), cdf_spec={"Encoding": 1}, delete=True)
    writer.write_globalattrs({"Logical_source": {0: "imap_mag_l2_norm-gse"}})
    writer.write_var({"Variable": "epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []},
                     var_attrs={"VAR_TYPE": "support_data"}, var_data=times)
    writer.write_var({"Variable": "x", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []},
                     var_attrs={"DEPEND_0": "epoch", "VAR_TYPE": "data"}, var_data=np.arange(n, dtype=">f8"))
    writer.close()
    calls = []
    real = _reader._read_fallback

    def spy(path, name, *args):
        calls.append(name)
        return real(path, name, *args)

    monkeypatch.setattr(_reader, "_read_fallback", spy)
    ds = load(tmp_path / "be.cdf", time_range=("2026-01-20T01:00", "2026-01-20T01:30"))
    assert ds.sizes["epoch"] == 3600
    assert str(ds.epoch.values[0]) == "2026-01-20T01:00:00.000000000"
    np.testing.assert_array_equal(ds.x.values, np.arange(7200, 10_800))
    assert calls.count("epoch") <= 3  # ends of the file, bisection, the records: not once per bisection step


# ---------------------------------------------------------------------------------------------------- dask
@requires_real
def test_load_chunks_gives_dask_equal_to_eager():
    eager = load(SWE_L2)
    lazy = load(SWE_L2, chunks={"epoch": 4})
    assert lazy.flux.chunks == ((4, 2), (24,), (30,), (7,))
    assert lazy.epoch.dtype == np.dtype("datetime64[ns]")
    assert not hasattr(lazy.epoch.data, "dask")
    graph = pickle.loads(pickle.dumps(lazy.flux.data))  # tasks carry paths and record ranges, not file handles
    np.testing.assert_array_equal(graph.compute(), eager.flux.values)
    xr.testing.assert_identical(lazy.compute(), eager)


@requires_real
def test_load_chunks_runs_on_a_distributed_cluster():
    distributed = pytest.importorskip("distributed")
    ds = load([MAG_L2_0120, MAG_L2_0228], chunks=100_000, time_range=("2026-01-20T09:00", None))
    assert len(ds.b_dsrf.chunks[0]) > 2
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl):
        nan_rows = int(ds.b_dsrf.isnull().all("direction").sum().compute())
        mean = float(ds.magnitude.mean().compute())
    assert nan_rows == 436 + 402
    assert mean == pytest.approx(float(load([MAG_L2_0120, MAG_L2_0228], time_range=("2026-01-20T09:00", None))
                                       .magnitude.mean()), rel=1e-6)


# ---------------------------------------------------------------------------------------------------- synthetic
def test_load_every_synthetic_product(synthetic_archive):
    files = sorted(synthetic_archive.rglob("*.cdf"))
    assert len(files) > 10
    for path in files:
        ds = load(path)
        np.testing.assert_array_equal(ds.epoch.values, cdflib_epoch(path), err_msg=path.name)
        assert ds.imap.instrument in ("mag", "swe"), path.name
        assert not [d for d in ds.dims if str(d).startswith("dim")], path.name


def test_load_overlapping_buffers_newer_day_wins(synthetic_archive):
    day1, day2 = sorted(synthetic_archive.glob("imap/mag/l1b/2026/01/imap_mag_l1b_norm-mago_*.cdf"))
    both = load([day2, day1])
    second = load(day2)
    first = load(day1)
    assert both.indexes["epoch"].is_unique
    assert both.indexes["epoch"].is_monotonic_increasing
    overlap = int((first.epoch.values >= second.epoch.values[0]).sum())
    assert overlap > 0
    assert both.sizes["epoch"] == first.sizes["epoch"] + second.sizes["epoch"] - overlap
    tail = both.sel(epoch=slice(second.epoch.values[0], None))
    np.testing.assert_array_equal(tail.vectors.values, second.vectors.values)


def test_load_time_range_across_overlapping_files_is_half_open(synthetic_archive):
    day1, day2 = sorted(synthetic_archive.glob("imap/mag/l1b/2026/01/imap_mag_l1b_norm-mago_*.cdf"))
    both = load([day1, day2])
    t = both.epoch.values
    first2 = load(day2, variables="epoch").epoch.values[0]
    i = int(np.searchsorted(t, first2))  # the overlap starts here: boundaries on records inside and around it
    for lo, hi in [(t[i], t[i + 7]), (t[i - 3], t[i + 3]), (t[i - 1] + np.timedelta64(1, "ns"), t[i + 1]),
                   (None, t[i]), (t[i], None)]:
        for chunks in (None, 50_000):
            sub = load([day2, day1], time_range=(lo, hi), chunks=chunks)
            keep = (t >= (lo if lo is not None else t[0])) & (t < (hi if hi is not None else t[-1] + 1))
            np.testing.assert_array_equal(sub.epoch.values, t[keep], err_msg=f"{lo} {hi}")
            np.testing.assert_array_equal(sub.vectors.values, both.vectors.values[keep], err_msg=f"{lo} {hi}")


def test_load_same_day_higher_version_wins(synthetic_archive):
    files = sorted(synthetic_archive.glob("imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v*.cdf"))
    assert len(files) >= 2
    newest = max(files, key=lambda p: p.name)
    ds = load(files[::-1])
    xr.testing.assert_identical(ds, load(newest))  # data, coordinates and attributes of the newest version
    assert ds.attrs["Logical_file_id"] == newest.stem
    assert ds.imap.files[0] == newest
    assert ds.imap.version != load(newest).imap.version  # all files are listed, all versions reported
    assert sorted(ds.encoding["superseded_files"]) == sorted(str(f) for f in files if f != newest)
    assert load(newest).encoding["superseded_files"] == []
    from imap_explorer.plot import quicklook

    title = quicklook(ds, pyplot=False).get_suptitle()
    assert newest.stem.rsplit("_", 1)[1] in title
    assert all(f.stem.rsplit("_", 1)[1] not in title for f in files if f != newest)  # no record came from them


# ---------------------------------------------------------------------------------------------------- query input
@requires_real
def test_load_dataframe_resolves_local_archive(tmp_path, monkeypatch):
    data_dir = tmp_path / "archive"
    key = "imap/swe/l2/2026/05/" + SWE_L2.name
    (data_dir / key).parent.mkdir(parents=True)
    shutil.copy(SWE_L2, data_dir / key)
    monkeypatch.setenv("IMAP_DATA_DIR", str(data_dir))
    ds = load(pd.DataFrame({"file_path": [key], "version": ["v001"]}))
    assert ds.sizes["epoch"] == 6
    assert ds.imap.files == [data_dir / key]
    assert load(SWE_L2.name).sizes["epoch"] == 6  # a bare name is found in the local archive
    with pytest.raises(ValueError, match="file_path"):
        load(pd.DataFrame({"name": [key]}))
    with pytest.raises(ValueError, match="DataFrame is empty"):
        load(pd.DataFrame({"file_path": []}))
    with pytest.raises(ValueError, match="list is empty"):
        load([])
    with pytest.raises(TypeError, match="expected a path"):
        load(42)


@requires_real
def test_load_files_of_different_products_name_the_mismatch():
    with pytest.raises(InvalidFileError, match="has no variable 'b_dsrf'") as info:
        load([MAG_L2_0120, SWE_L2])
    assert SWE_L2.name in str(info.value)


@requires_real
def test_get_data_queries_downloads_loads_and_trims(tmp_path, monkeypatch):
    from imap_explorer.server import LocalSDC

    monkeypatch.setenv("IMAP_DATA_DIR", str(tmp_path / "data"))
    with LocalSDC(REAL, db=tmp_path / "index.sqlite3") as sdc:
        monkeypatch.setenv("IMAP_DATA_ACCESS_URL", sdc.url)
        ds = get_data(instrument="mag", data_level="l2", descriptor="norm-dsrf",
                      start_date="2026-01-20T09:30", end_date="2026-01-20T10:30")
        assert (tmp_path / "data/imap/mag/l2/2026/01" / MAG_L2_0120.name).is_file()
        assert ds.sizes["epoch"] == 7200
        assert str(ds.epoch.values[0]) == "2026-01-20T09:30:00.000000000"
        assert int(ds.b_dsrf.isnull().all("direction").sum()) == 436
        with pytest.raises(cdf.ImapExplorerError, match="No IMAP files match"):
            get_data(instrument="mag", data_level="l2", descriptor="norm-gse",
                     start_date="20260120", end_date="20260121")
    with pytest.raises(ValueError, match="must be after"):
        get_data(instrument="mag", data_level="l2", descriptor="norm-dsrf", start_date="20260121",
                 end_date="20260120")


def test_get_data_takes_the_record_before_midnight_from_the_next_days_file(tmp_path, monkeypatch):
    """The file date is the processing day: SWE's first record of 20260121 is stamped 2026-01-20T23:59:45.7."""
    from imap_explorer.server import LocalSDC
    from imap_explorer.synthetic.physics import SolarWind
    from imap_explorer.synthetic.swe import write_swe_day

    archive = tmp_path / "archive"
    model = SolarWind("2026-01-20")
    day20 = write_swe_day(archive, "2026-01-20", model=model, hours=(23.5, 24.0), levels=("l2",))[0]
    day21 = write_swe_day(archive, "2026-01-21", model=model, hours=(0.0, 0.5), levels=("l2",))[0]
    day22 = write_swe_day(archive, "2026-01-22", model=model, hours=(0.0, 0.5), levels=("l2",))[0]
    first_of_day21 = load(day21, variables="data_quality").epoch.values[0]
    assert first_of_day21 < np.datetime64("2026-01-21T00:00")  # the layout this test is about
    data = tmp_path / "data"
    monkeypatch.setenv("IMAP_DATA_DIR", str(data))

    def downloaded() -> list[str]:
        return sorted(p.name for p in data.rglob("*.cdf"))

    with LocalSDC(archive, db=tmp_path / "index.sqlite3") as sdc:
        monkeypatch.setenv("IMAP_DATA_ACCESS_URL", sdc.url)
        ds = get_data(instrument="swe", data_level="l2", descriptor="sci", variables="data_quality",
                      start_date="2026-01-20T23:00", end_date="2026-01-21")
        assert ds.epoch.values[-1] == first_of_day21
        assert ds.sizes["epoch"] == load(day20).sizes["epoch"] + 1
        assert downloaded() == [day20.name, day21.name]
        # a range whose own files reach past its end does not fetch the next day's file, even when an earlier
        # own file ends before the range does
        for f in data.rglob("*.cdf"):
            f.unlink()
        ds = get_data(instrument="swe", data_level="l2", descriptor="sci", variables="data_quality",
                      start_date="2026-01-20T23:40", end_date="2026-01-21T00:10")
        assert ds.sizes["epoch"] > 0
        assert ds.epoch.values[-1] < np.datetime64("2026-01-21T00:10")
        assert day22.name not in downloaded()
        assert downloaded() == [day20.name, day21.name]


# ---------------------------------------------------------------------------------------------------- SDC writer
@pytest.mark.parametrize("name", SDC_WRITER_NAMES)
def test_load_file_written_by_the_sdc_pipeline_matches_cdflib(sdc_writer, name):
    """Files written by imap-processing 1.0.40 itself (tests/sdc_writer/make_files.py says how)."""
    assert_matches_cdflib(sdc_writer[name])


def test_load_mag_l2_written_by_the_sdc_pipeline(sdc_writer):
    ds = load(sdc_writer["imap_mag_l2_norm-gse_20260120_v001.0002.cdf"])
    assert int(ds.b_gse.isnull().all("direction").sum()) == 10  # NaN written as FILLVAL by write_cdf
    assert int(ds.b_gse.isnull().any("direction").sum()) == 10
    assert ds.b_gse.dims == ("epoch", "direction")
    assert ds.direction_label.dims == ("direction",)
    assert ds.direction_label.values.tolist() == ["Bx", "By", "Bz"]
    assert ds.quality_flags.dtype == np.float32  # UINT1 data with the standard fill 255
    assert ds.range.dtype == np.uint8
    assert ds.imap.version == "v001.0002"
    assert ds.imap.descriptor == "norm-gse"
    assert str(ds.epoch.values[0]) == "2026-01-20T00:00:00.000000000"


def test_load_swe_l2_written_by_the_sdc_pipeline_has_the_flight_layout(sdc_writer):
    ds = load(sdc_writer["imap_swe_l2_sci_20260120_v001.0001.cdf"])
    assert ds.flux.dims == ("epoch", "energy", "inst_az", "inst_el")
    assert ds.phase_space_density_spin_sector.dims == ("epoch", "esa_step", "spin_sector", "cem_id")
    assert ds.sizes == {"epoch": 3, "energy": 24, "inst_az": 30, "inst_el": 7, "esa_step": 24, "spin_sector": 30,
                        "cem_id": 7}
    assert ds.energy_label.dims == ("energy",)
    assert ds.energy.attrs["UNITS"] == "eV"
    assert ds.flux.isnull().any()  # empty angle bins are FILLVAL in the pipeline's output
    assert float(ds.flux.min()) >= 0
    assert ds.imap.instrument == "swe"
    assert ds.imap.descriptor == "sci"
    # and the same variables, types and shapes as the flight SWE L2 (when the real files are here)
    if REAL.is_dir():
        flight = load(SWE_L2)
        assert {n: (v.dims, v.dtype) for n, v in ds.variables.items()} == \
            {n: (v.dims, v.dtype) for n, v in flight.variables.items()}
