"""ie.load edge cases found in a review of the loader, each on small CDF files written in tmp_path."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pytest
import xarray as xr

from imap_explorer.cdf import load
from tests.test_cdf import epoch_var, tt, write_cdf


def test_load_non_record_varying_variable_without_a_record_reads_as_fill(tmp_path):
    path = write_cdf(tmp_path / "imap_mag_l2_norm-gse_20260120_v001.cdf", [
        epoch_var(tt("2026-01-20T00:00", "2026-01-20T00:01")),
        ({"Variable": "cal", "Data_Type": 45, "Rec_Vary": False, "Dim_Sizes": [3]}, {"VAR_TYPE": "support_data"},
         None),
        ({"Variable": "offset", "Data_Type": 45, "Rec_Vary": False}, {"VAR_TYPE": "support_data"}, None),
        ({"Variable": "mode", "Data_Type": 2, "Rec_Vary": False},
         {"VAR_TYPE": "support_data", "FILLVAL": np.int16(-32768)}, None),
    ])
    for ds in (load(path), load([path, path]), load(path, chunks={})):
        assert ds.cal.shape == (3,)
        assert bool(ds.cal.isnull().all())
        assert ds.offset.shape == ()
        assert bool(ds.offset.isnull())
        assert ds.mode.dtype == np.int16
        assert int(ds.mode) == -32768
        assert ds.sizes["epoch"] == 2


def test_load_file_without_records_keeps_its_place_in_time(tmp_path):
    def day(date: str, times: list[str]):
        data = np.arange(float(len(times))) if times else None
        return write_cdf(tmp_path / f"imap_mag_l2_norm-gse_{date.replace('-', '')}_v001.cdf", [
            epoch_var(tt(*times) if times else np.array([], np.int64)),
            ({"Variable": "x", "Data_Type": 45}, {"DEPEND_0": "epoch", "VAR_TYPE": "data"}, data),
        ], {"Logical_file_id": f"day {date}"})

    full = day("2026-01-21", ["2026-01-21T00:00", "2026-01-21T00:01"])
    empty_after = day("2026-01-22", [])  # an empty burst day after the data: it was sorted first, as 2000-01-01
    for files in ([full, empty_after], [empty_after, full]):
        ds = load(files)
        assert ds.imap.files == [full, empty_after]
        assert ds.attrs["Logical_file_id"] == "day 2026-01-21"
        assert ds.x.values.tolist() == [0.0, 1.0]
    empty_before = day("2026-01-20", [])
    assert load([full, empty_before]).imap.files == [empty_before, full]


def test_load_record_varying_strings_in_chunks_keep_their_full_width(tmp_path):
    path = write_cdf(tmp_path / "imap_swe_l1b_sci_20260120_v001.cdf", [
        epoch_var(tt("2026-01-20T00:00", "2026-01-20T00:01", "2026-01-20T00:02")),
        ({"Variable": "mode", "Data_Type": 51, "Num_Elements": 4},
         {"DEPEND_0": "epoch", "VAR_TYPE": "support_data"}, np.array(["a", "ccc", "dddd"])),
    ])
    assert load(path).mode.values.tolist() == ["a", "ccc", "dddd"]
    for ds in (load(path, chunks=1), xr.open_dataset(path, engine="imap_cdf", chunks=1),
               xr.open_dataset(path, engine="imap_cdf")):
        assert ds.mode.dtype == np.dtype("U4")
        assert ds.mode.values.tolist() == ["a", "ccc", "dddd"]  # dask joined 'a', 'c', 'd'
        assert ds.mode.isel(epoch=slice(1, None)).values.tolist() == ["ccc", "dddd"]


def test_load_several_files_whose_strings_have_different_lengths(tmp_path):
    paths = []
    for day, words in (("2026-01-20", ["a", "bb"]), ("2026-01-21", ["ccc", "dddd"])):
        paths.append(write_cdf(tmp_path / f"imap_swe_l1b_sci_{day.replace('-', '')}_v001.cdf", [
            epoch_var(tt(f"{day}T00:00", f"{day}T00:01")),
            ({"Variable": "mode", "Data_Type": 51, "Num_Elements": max(map(len, words))},  # as cdflib sizes it
             {"DEPEND_0": "epoch", "VAR_TYPE": "support_data"}, np.array(words)),
        ]))
    for files in (paths, paths[::-1]):
        for chunks in (None, 1, {}):
            ds = load(files, chunks=chunks)  # was: "variable 'mode' is |S4[] here but |S2[]"
            assert ds.mode.values.tolist() == ["a", "bb", "ccc", "dddd"]
        assert load(files, time_range=("2026-01-20T00:01", "2026-01-21T00:01")).mode.values.tolist() == ["bb", "ccc"]


def write_old_epoch_cdf(path: Path, times: list[str], data_type: str, *, fill_last: bool = False) -> Path:
    """A CDF whose epoch is CDF_EPOCH or CDF_EPOCH16 (older missions' files), written with pycdfpp."""
    pycdfpp = pytest.importorskip("pycdfpp")
    cdf = pycdfpp.CDF()
    cdf.add_attribute("Logical_source", ["imap_mag_l2_norm-gse"])
    kind = getattr(pycdfpp.DataType, data_type)
    stamps = np.array(times, dtype="datetime64[us]").astype(dt.datetime).tolist()
    values = pycdfpp.to_epoch(stamps) if data_type == "CDF_EPOCH" else pycdfpp.to_epoch16(stamps)  # structured
    fill = pycdfpp.epoch(-1e31) if data_type == "CDF_EPOCH" else pycdfpp.epoch16(-1e31, -1e31)
    if fill_last:
        values[-1] = (-1e31,) * len(values.dtype.names)
    cdf.add_variable("epoch", values=values, data_type=kind)
    cdf["epoch"].add_attribute("FILLVAL", [fill])
    cdf["epoch"].add_attribute("VAR_TYPE", "support_data")
    cdf.add_variable("x", values=np.arange(float(len(times))), data_type=pycdfpp.DataType.CDF_DOUBLE)
    cdf["x"].add_attribute("DEPEND_0", "epoch")
    cdf["x"].add_attribute("VAR_TYPE", "data")
    pycdfpp.save(cdf, str(path))
    return path


@pytest.mark.parametrize("data_type", ["CDF_EPOCH", "CDF_EPOCH16"])
def test_load_cdf_epoch_and_epoch16_times(tmp_path, data_type):
    day1 = write_old_epoch_cdf(tmp_path / "imap_mag_l2_norm-gse_20260120_v001.cdf",
                               ["2026-01-20T23:59:58", "2026-01-20T23:59:59.123", "2026-01-21T00:00:00.5"],
                               data_type)
    day2 = write_old_epoch_cdf(tmp_path / "imap_mag_l2_norm-gse_20260121_v001.cdf",
                               ["2026-01-21T00:00:00.5", "2026-01-21T00:00:01", "2026-01-21T00:00:02"], data_type,
                               fill_last=True)
    raw = cdflib.CDF(str(day2))
    with pytest.warns(UserWarning, match="not increasing"):  # the fill record at the end
        ds = load(day2)  # was: the raw float ms / complex values, and time_range silently ignored
    assert ds.epoch.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(ds.epoch.values, cdflib.cdfepoch.to_datetime(raw.varget("epoch")))
    assert np.isnat(ds.epoch.values[-1])
    np.testing.assert_array_equal(ds.epoch.attrs["FILLVAL"], raw.varattsget("epoch")["FILLVAL"])  # raw, as cdflib
    assert str(load(day1).epoch.values[1]) == "2026-01-20T23:59:59.123000000"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the fill at the end of day 2 is "not increasing"
        both = load([day2, day1])
        assert both.x.values.tolist() == [0.0, 1.0, 0.0, 1.0, 2.0]  # the shared record from the newer day
        for chunks in (None, 1):
            sub = load([day1, day2], time_range=("2026-01-20T23:59:59.123", "2026-01-21T00:00:01"), chunks=chunks)
            assert sub.epoch.values.astype(str).tolist() == ["2026-01-20T23:59:59.123000000",
                                                             "2026-01-21T00:00:00.500000000"]
            assert sub.x.values.tolist() == [1.0, 0.0]


def test_backend_accepts_xarray_decoding_options(tmp_path):
    times = tt("2026-01-20T00:00", "2026-01-20T00:01")
    path = write_cdf(tmp_path / "imap_mag_l2_norm-gse_20260120_v001.cdf", [
        epoch_var(times),
        ({"Variable": "x", "Data_Type": 45}, {"DEPEND_0": "epoch", "VAR_TYPE": "data", "FILLVAL": -1e31},
         np.array([1.0, -1e31])),
        ({"Variable": "flag", "Data_Type": 11}, {"DEPEND_0": "epoch", "VAR_TYPE": "data", "FILLVAL": np.uint8(255)},
         np.array([255, 1], np.uint8)),
    ])
    decoded = xr.open_dataset(path, engine="imap_cdf", decode_timedelta=False, use_cftime=False,
                              concat_characters=True, decode_coords=True)  # was: TypeError, unexpected keyword
    xr.testing.assert_identical(decoded, load(path))
    for raw in (xr.open_dataset(path, engine="imap_cdf", mask_and_scale=False, decode_times=False),
                xr.open_dataset(path, engine="imap_cdf", decode_cf=False)):
        assert raw.epoch.values.tolist() == times.tolist()
        assert raw.x.values.tolist() == [1.0, -1e31]
        assert raw.flag.dtype == np.uint8
        assert raw.flag.values.tolist() == [255, 1]
    masked_only = xr.open_dataset(path, engine="imap_cdf", decode_times=False, chunks={})
    assert masked_only.epoch.dtype == np.int64
    np.testing.assert_array_equal(masked_only.x.values, [1.0, np.nan])


def test_load_older_version_of_a_day_adds_no_records_outside_the_newer_span(tmp_path):
    def day(name: str, times: list[str], value: float) -> Path:
        return write_cdf(tmp_path / name, [
            epoch_var(tt(*times)),
            ({"Variable": "x", "Data_Type": 45}, {"DEPEND_0": "epoch", "VAR_TYPE": "data"},
             np.full(len(times), value)),
        ])

    before = day("imap_mag_l1b_norm-mago_20260119_v001.cdf", ["2026-01-19T23:00", "2026-01-20T00:00"], 19.0)
    v1 = day("imap_mag_l1b_norm-mago_20260120_v001.cdf",
             ["2026-01-20T00:00", "2026-01-20T01:00", "2026-01-20T02:00"], 1.0)
    v2 = day("imap_mag_l1b_norm-mago_20260120_v002.cdf", ["2026-01-20T00:00", "2026-01-20T01:00"], 2.0)  # cut
    for chunks in (None, 1):
        ds = load([v1, before, v2], chunks=chunks)
        assert ds.x.values.tolist() == [19.0, 2.0, 2.0]  # was [19, 2, 2, 1]: v001's 02:00 record came back
        sub = load([v1, before, v2], chunks=chunks, time_range=("2026-01-20T00:30", None))
        assert sub.x.values.tolist() == [2.0]
    assert load([v1, before]).x.values.tolist() == [19.0, 1.0, 1.0, 1.0]


def test_load_legacy_and_modern_version_of_equal_rank_the_modern_one_wins(tmp_path):
    """v002 is stored as major 1, minor 2 by the SDC, like v001.0002; the legacy name sorts first (sdc-api §8.3)."""
    def day(version: str, value: float) -> Path:
        return write_cdf(tmp_path / f"imap_mag_l1b_norm-mago_20260120_{version}.cdf", [
            epoch_var(tt("2026-01-20T00:00", "2026-01-20T01:00")),
            ({"Variable": "x", "Data_Type": 45}, {"DEPEND_0": "epoch", "VAR_TYPE": "data"}, np.full(2, value)),
        ], gattrs={"Data_version": version})

    legacy = day("v002", 1.0)
    modern = day("v001.0002", 2.0)
    for files in ([legacy, modern], [modern, legacy]):
        ds = load(files)
        assert ds.x.values.tolist() == [2.0, 2.0]
        assert ds.attrs["Data_version"] == "v001.0002"
