"""ie.load: the record (time or event) dimension is what DEPEND_0 names, stored record-varying or not.

Small hand-written CDFs pin down each layout; the real files of every instrument are in test_load_real.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from imap_explorer._time import tt2000_to_datetime64
from imap_explorer.cdf import load
from tests.test_cdf import tt, write_cdf

TT2000 = 33
DOUBLE = 45
FILL = np.int64(-9223372036854775808)


def time_var(name: str, times: np.ndarray, *, record_vary: bool = True) -> tuple[dict, dict, object]:
    spec = {"Variable": name, "Data_Type": TT2000, "Rec_Vary": record_vary,
            "Dim_Sizes": [] if record_vary else [len(times)]}
    attrs = {"FILLVAL": [FILL, "CDF_TIME_TT2000"], "UNITS": "ns", "VAR_TYPE": "support_data"}
    return spec, attrs, np.asarray(times, np.int64)


def nrv(name: str, values: np.ndarray, attrs: dict | None = None, data_type: int = DOUBLE):
    return ({"Variable": name, "Data_Type": data_type, "Rec_Vary": False, "Dim_Sizes": list(values.shape)},
            {"VAR_TYPE": "data"} | (attrs or {}), values)


def axes(n_energy: int = 2, n_lon: int = 3) -> list:
    return [nrv("energy", np.arange(1.0, n_energy + 1), {"VAR_TYPE": "support_data"}),
            nrv("longitude", np.arange(float(n_lon)), {"VAR_TYPE": "support_data"})]


def write_map(path, when: str, value: float, *, epoch_nrv: bool):
    """An ENA-map-like file: one record of intensity[1, energy, longitude] stored non-record-varying."""
    intensity = np.full((1, 2, 3), value)
    pointers = {"DEPEND_0": "epoch", "DEPEND_1": "energy", "DEPEND_2": "longitude",
                "LABL_PTR_1": "energy_label", "LABL_PTR_2": "longitude_label"}  # labels absent, as in Lo maps
    return write_cdf(path, [
        time_var("epoch", tt(when), record_vary=not epoch_nrv),
        *axes(),
        nrv("ena_intensity", intensity, pointers),
        nrv("counts", intensity * 10),  # no attribute at all: same shape as ena_intensity, so the same dimensions
        nrv("solid_angle", np.ones((1, 3)), {"DEPEND_1": "longitude"}),  # no DEPEND_0, one more dim than pointers
    ])


@pytest.mark.parametrize("epoch_nrv", [False, True], ids=["rv-epoch", "nrv-epoch"])
def test_load_map_stored_non_record_varying_has_the_time_dimension(tmp_path, epoch_nrv):
    a = write_map(tmp_path / "imap_lo_l2_l090-ena-h-sf-nsp-ram-hae-6deg-3mo_20260101_v001.cdf",
                  "2026-01-01T12:00", 1.0, epoch_nrv=epoch_nrv)
    ds = load(a)
    assert ds.ena_intensity.dims == ("epoch", "energy", "longitude")
    assert ds.counts.dims == ("epoch", "energy", "longitude")
    assert ds.solid_angle.dims == ("epoch", "longitude")
    assert ds.epoch.dims == ("epoch",)
    assert "epoch" in ds.indexes
    assert str(ds.epoch.values[0]) == "2026-01-01T12:00:00.000000000"
    assert not [d for d in ds.dims if "_dim" in str(d)]

    b = write_map(tmp_path / "imap_lo_l2_l090-ena-h-sf-nsp-ram-hae-6deg-3mo_20260401_v001.cdf",
                  "2026-04-01T12:00", 2.0, epoch_nrv=epoch_nrv)
    for both in (load([b, a]), load([a, b], chunks={})):  # two maps: one record each, in time order
        assert both.ena_intensity.shape == (2, 2, 3)
        assert both.ena_intensity[:, 0, 0].values.tolist() == [1.0, 2.0]
        assert both.counts[:, 0, 0].values.tolist() == [10.0, 20.0]
        assert both.epoch.dt.month.values.tolist() == [1, 4]
        assert both.energy.values.tolist() == [1.0, 2.0]
    lazy = xr.open_dataset(a, engine="imap_cdf")  # the xarray engine reads the map through the same record axis
    assert lazy.counts.dims == ("epoch", "energy", "longitude")
    assert lazy.counts.values[0, 1, 2] == 10.0
    one = load([a, b], time_range=("2026-03-01", None))
    assert one.ena_intensity.shape == (1, 2, 3)
    assert float(one.ena_intensity[0, 0, 0]) == 2.0


def test_load_time_axis_named_by_a_shifted_depend_1(tmp_path):
    """Lo L1B histrates / early Lo PSETs: rates[n_epoch, esa_step] stored NRV, with DEPEND_1 = 'epoch'."""
    rates = np.arange(6.0).reshape(3, 2)
    path = write_cdf(tmp_path / "imap_lo_l1b_histrates_20260207-repoint00150_v004.cdf", [
        time_var("epoch", tt("2026-02-07T00:00", "2026-02-07T00:01", "2026-02-07T00:02")),
        nrv("esa_step", np.array([1.0, 2.0]), {"VAR_TYPE": "support_data"}),
        nrv("h_rates", rates, {"DEPEND_1": "epoch", "DEPEND_2": "esa_step"}),
        ({"Variable": "esa_mode", "Data_Type": 8}, {"DEPEND_0": "epoch", "VAR_TYPE": "data"}, np.arange(3)),
    ])
    ds = load(path)
    assert ds.h_rates.dims == ("epoch", "esa_step")
    np.testing.assert_array_equal(ds.h_rates.values, rates)
    part = load(path, time_range=("2026-02-07T00:01", None))
    np.testing.assert_array_equal(part.h_rates.values, rates[1:])
    assert part.esa_mode.values.tolist() == [1, 2]


@pytest.mark.parametrize("record_vary", [True, False], ids=["rv", "nrv"])
def test_load_several_time_variables_each_keep_their_own_dimension(tmp_path, record_vary):
    """The I-ALiRT archive CDF: mag_epoch, swapi_epoch... each with its own number of values."""
    mag_t = tt("2026-02-10T08:00:00", "2026-02-10T08:00:04", "2026-02-10T08:00:08")
    swapi_t = tt("2026-02-10T08:00:05", "2026-02-10T08:01:05")

    def data(name, depend, values):
        attrs = {"DEPEND_0": depend, "VAR_TYPE": "data", "FILLVAL": -1e31}
        if record_vary:
            return {"Variable": name, "Data_Type": 21}, attrs, values.astype(np.float32)
        return nrv(name, values.astype(np.float32), attrs, data_type=21)

    path = write_cdf(tmp_path / "imap_ialirt_l1_realtime_20260210_v001.cdf", [
        time_var("mag_epoch", mag_t, record_vary=record_vary),
        time_var("swapi_epoch", swapi_t, record_vary=record_vary),
        time_var("hit_epoch", np.array([], np.int64)) if record_vary else time_var("hit_epoch", tt("2026-02-10")),
        data("mag_B_magnitude", "mag_epoch", np.array([5.0, 6.0, 7.0])),
        data("swapi_pseudo_proton_speed", "swapi_epoch", np.array([400.0, 410.0])),
    ])
    ds = load(path)
    assert ds.mag_B_magnitude.dims == ("mag_epoch",)
    assert ds.swapi_pseudo_proton_speed.dims == ("swapi_epoch",)
    assert ds.sizes["mag_epoch"] == 3
    assert ds.sizes["swapi_epoch"] == 2
    np.testing.assert_array_equal(ds.mag_epoch.values, tt2000_to_datetime64(mag_t))
    assert str(ds.swapi_epoch.values[1]) == "2026-02-10T08:01:05.000000000"
    assert ds.swapi_pseudo_proton_speed.values.tolist() == [400.0, 410.0]
    assert {"mag_epoch", "swapi_epoch"} <= set(ds.indexes)


def test_load_capitalised_epoch_is_the_time_dimension(tmp_path):
    path = write_cdf(tmp_path / "imap_codice_l1a_hi-ialirt_20240523_v000.cdf", [
        time_var("Epoch", tt("2024-05-23T00:00", "2024-05-23T00:01")),
        ({"Variable": "Counts", "Data_Type": DOUBLE}, {"DEPEND_0": "Epoch", "VAR_TYPE": "data"}, np.array([1.0, 2.0])),
        ({"Variable": "SpinPeriod", "Data_Type": DOUBLE}, {"VAR_TYPE": "support_data"}, np.array([15.0, 15.1])),
        ({"Variable": "mean_time", "Data_Type": TT2000}, {"VAR_TYPE": "support_data"},
         tt("2024-05-23T00:00:30", "2024-05-23T00:01:30")),
    ])
    ds = load(path)
    assert ds.Counts.dims == ds.SpinPeriod.dims == ds.mean_time.dims == ("Epoch",)  # no DEPEND_0: the file's time
    assert ds.mean_time.dtype == np.dtype("datetime64[ns]")
    assert list(ds.indexes) == ["Epoch"]


def test_load_per_event_arrays_under_a_non_record_varying_event_axis(tmp_path):
    """Hi L1B direct events: NRV epoch[n_events] and per-event NRV arrays; Hi L1A: DEPEND_0 an INT8 event time."""
    path = write_cdf(tmp_path / "imap_hi_l1b_45sensor-de_20250415_v999.cdf", [
        time_var("epoch", tt("2025-04-15T00:00:00", "2025-04-15T00:00:01", "2025-04-15T00:00:03"), record_vary=False),
        nrv("delta_t_ab", np.array([1.0, -2.0, 3.0]), {"DEPEND_0": "epoch"}),
        nrv("event_met", np.array([10, 11, 12, 13], np.int64), {"VAR_TYPE": "support_data"}, data_type=8),
        nrv("tof_1", np.array([5.0, 6.0, 7.0, 8.0]), {"DEPEND_0": "event_met"}),
    ])
    ds = load(path)
    assert ds.delta_t_ab.dims == ("epoch",)
    assert ds.tof_1.dims == ("event_met",)
    assert ds.event_met.values.tolist() == [10, 11, 12, 13]
    assert ds.sizes == {"epoch": 3, "event_met": 4}
    part = load(path, time_range=("2025-04-15T00:00:01", None))
    assert part.delta_t_ab.values.tolist() == [-2.0, 3.0]


def test_load_direct_events_without_pointers_get_a_named_event_dimension(tmp_path):
    """CoDICE 2024 team-format DE: p0_tof (Epoch, events) with no DEPEND_1; Lo L1A DE: DEPEND_0 an absent axis."""
    def events(name, n_rec, n_ev, attrs):
        data = np.arange(float(n_rec * n_ev)).reshape(n_rec, n_ev) if n_ev else np.arange(float(n_rec))
        return {"Variable": name, "Data_Type": DOUBLE, "Dim_Sizes": [n_ev] if n_ev else []}, attrs, data

    team = write_cdf(tmp_path / "imap_codice_l2_lo-direct-events_20240523_v000.cdf", [
        time_var("Epoch", tt("2024-05-23T00:00", "2024-05-23T00:04")),
        events("p0_tof", 2, 5, {"DEPEND_0": "Epoch", "VAR_TYPE": "data"}),
        events("p1_tof", 2, 5, {"DEPEND_0": "Epoch", "VAR_TYPE": "data"}),
    ])
    ds = load(team)
    assert ds.p0_tof.dims == ds.p1_tof.dims == ("Epoch", "event")
    assert ds.p1_tof.values[1].tolist() == [5.0, 6.0, 7.0, 8.0, 9.0]

    lo = write_cdf(tmp_path / "imap_lo_l1a_de_20241022_v002.cdf", [
        time_var("epoch", tt("2024-10-22T00:00")),
        events("de_time", 4, 0, {"DEPEND_0": "direct_events", "VAR_TYPE": "data"}),
        events("tof0", 4, 0, {"DEPEND_0": "direct_events", "VAR_TYPE": "data"}),
    ])
    ds = load(lo)
    assert ds.de_time.dims == ds.tof0.dims == ("direct_events",)
    assert ds.sizes["direct_events"] == 4
    assert not [d for d in ds.dims if "_dim" in str(d) or str(d).endswith("_record")]


def test_load_time_variable_named_only_by_itself_is_on_the_time_axis(tmp_path):
    """Lo L1A histogram: shcoarse[n_epoch] NRV, DEPEND_0 = 0 and DEPEND_1 = 'shcoarse'."""
    path = write_cdf(tmp_path / "imap_lo_l1a_histogram_20260120-repoint00132_v001.cdf", [
        time_var("epoch", tt("2026-01-20T00:00", "2026-01-20T00:07", "2026-01-20T00:14")),
        ({"Variable": "hydrogen", "Data_Type": 14}, {"DEPEND_0": "epoch", "VAR_TYPE": "data"},
         np.array([1, 2, 3], np.uint32)),
        nrv("shcoarse", np.array([7, 8, 9], np.uint32), {"DEPEND_0": "0", "DEPEND_1": "shcoarse"}, data_type=14),
    ])
    ds = load(path)
    assert ds.shcoarse.dims == ("epoch",)
    assert load(path, time_range=("2026-01-20T00:05", None)).shcoarse.values.tolist() == [8, 9]
