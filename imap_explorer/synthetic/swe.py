"""Synthetic SWE products: L1B ``sci`` (count rates), L2 ``sci`` (PSD and flux) and L3 ``sci`` (pitch angles, moments).

One record is one full 4-spin cycle (61.548 s). For every measurement (24 energies x 30 spin sectors x 7 CEMs)
the particle direction is computed from the spin phase and CEM elevation, its pitch angle from the SAME
:class:`~imap_explorer.synthetic.physics.SolarWind` field that the MAG products carry (averaged over the
record), the phase-space density from :func:`~imap_explorer.synthetic.physics.electron_psd`, and Poisson counts
from ``rate = PSD G 1.237e31 E^2 / 2`` over an 82.15 ms acquisition (``products.md`` §4.1, §8).

The re-binned ``phase_space_density``/``flux`` average the measurements that fall in each 12 deg ``inst_az`` bin.
The measured spin angles carry a per-measurement timing jitter, so about a quarter of the bins receive no
measurement and are fill, as in flight. One record per written day is entirely fill (``data_quality`` 255).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from imap_explorer._time import datetime64_to_tt2000
from imap_explorer.filenames import sdc_key
from imap_explorer.synthetic import attrs as A
from imap_explorer.synthetic._cdf import write_dataset
from imap_explorer.synthetic.physics import DayLike, SolarWind, day_start, electron_psd

__all__ = [
    "CYCLE_SECONDS",
    "ENERGY",
    "SweRecords",
    "simulate",
    "write_swe_day",
    "write_swe_l2",
]

VOLTAGES = ["0.56", "0.78", "1.08", "1.51", "2.1", "2.92", "4.06", "5.64", "7.85", "10.92", "15.19", "21.13", "29.39",
            "40.88", "56.87", "79.1", "110.03", "153.05", "212.89", "296.14", "411.93", "572.99", "797.03", "1108.66"]
#: Energy of each ESA step (eV) = voltage x 4.75.
ENERGY = np.array([float(v) for v in VOLTAGES]) * 4.75
INST_EL = np.array([-63, -42, -21, 0, 21, 42, 63], dtype=np.int64)
INST_AZ = np.arange(6.0, 360.0, 12.0, dtype=np.float32)
GEOMETRIC_FACTORS = np.array([424.4e-6, 564.5e-6, 763.8e-6, 916.9e-6, 792.0e-6, 667.7e-6, 425.2e-6])
#: One full cycle (4 spins) = one L1B/L2/L3 record.
CYCLE_SECONDS = 61.547866
ACQ_DURATION_US = 82150
SETTLE_US = 3333
#: ``epoch / 1e9 - acquisition_time`` (MET seconds) as in the flight L2.
MET_OFFSET = 315576052.3
#: Default SWE coverage per archive day (UTC hours): short, to keep archives small; contains the 12:00 shock.
DEFAULT_SWE_HOURS = (10.5, 13.5)
_N_E, _N_S, _N_C = 24, 30, 7


@dataclass
class SweRecords:
    """Simulated SWE records (arrays over ``epoch`` first)."""

    times: np.ndarray               # datetime64[ns], record time (start of the 3rd quarter cycle)
    counts: np.ndarray              # (R, 24, 30, 7) float, NaN on fill records
    acq_duration: np.ndarray        # (R, 24, 30) uint32, microseconds (0 on fill records)
    acquisition_time: np.ndarray    # (R, 24, 30) MET seconds
    spin_angle: np.ndarray          # (R, 24, 30) degrees [0, 360)
    b_dsrf: np.ndarray              # (R, 3) record-mean field in DSRF (nT)
    b_gse: np.ndarray               # (R, 3) record-mean field in GSE (nT)
    plasma: dict                    # SolarWind.plasma at the record times
    fill: np.ndarray                # (R,) bool, all-fill records
    quarter_start: np.ndarray       # (R, 4) datetime64[ns], start of each quarter cycle
    polarity: np.ndarray | None = None  # (R,) +1 away sector (strahl along B), -1 toward sector

    @property
    def rate(self) -> np.ndarray:
        """Count rate (counts/s), (R, 24, 30, 7); NaN on fill records."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.counts / (self.acq_duration[..., None] * 1e-6)

    @property
    def psd(self) -> np.ndarray:
        """Phase-space density per measurement (s^3/cm^6)."""
        return 2.0 * self.rate / (GEOMETRIC_FACTORS * 1.237e31 * ENERGY[:, None, None] ** 2)

    @property
    def flux(self) -> np.ndarray:
        """Number flux per measurement (1 / (eV cm^2 s sr))."""
        return 6.187e30 * ENERGY[:, None, None] * self.psd

    def look_velocity(self) -> np.ndarray:
        """Unit particle velocity of each measurement in DSRF, (R, 24, 30, 7, 3) (opposite to the look direction)."""
        az = np.deg2rad(self.spin_angle)[..., None]
        el = np.deg2rad(INST_EL.astype(float))
        look = np.stack(np.broadcast_arrays(np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)), axis=-1)
        return -look

    def pitch_cosine(self) -> np.ndarray:
        """Cosine of the pitch angle of each measurement relative to the record-mean MAG field, (R, 24, 30, 7)."""
        b = self.b_dsrf / np.linalg.norm(self.b_dsrf, axis=1)[:, None]
        return np.einsum("resck,rk->resc", self.look_velocity(), b)


def record_times(anchor: np.datetime64, lo: np.datetime64, hi: np.datetime64) -> np.ndarray:
    """Record times of the cycle grid anchored at ``anchor`` that fall in ``[lo, hi)``."""
    step = int(round(CYCLE_SECONDS * 1e9))
    k0 = int(np.ceil((lo - anchor).astype(np.int64) / step))
    k1 = int(np.ceil((hi - anchor).astype(np.int64) / step))
    return anchor + (np.arange(k0, k1, dtype=np.int64) * step).astype("timedelta64[ns]")


def simulate(model: SolarWind, times: np.ndarray, *, fill_records=(), seed_tag: int = 0) -> SweRecords:
    """Simulate SWE records at ``times`` (datetime64 record times) from ``model``."""
    times = np.asarray(times, dtype="datetime64[ns]")
    r = times.size
    s = model.seconds(times)
    rng = np.random.default_rng([model.seed, 6, seed_tag, int(np.floor(s[0])) % 2**32 if r else 0])
    quarter = CYCLE_SECONDS / 4
    q_start_s = s[:, None] + (np.arange(4) - 2) * quarter                     # (R, 4)
    # measurement m (0..179) of quarter q: energy = 6 q + m % 6, spin sector = m // 6
    esa = np.arange(_N_E)
    sector = np.arange(_N_S)
    q_of = esa // 6
    m_of = sector[None, :] * 6 + (esa % 6)[:, None]                           # (24, 30)
    dt_meas = (ACQ_DURATION_US + SETTLE_US) * 1e-6
    t_meas = q_start_s[:, q_of][:, :, None] + m_of[None] * dt_meas + (SETTLE_US + ACQ_DURATION_US / 2) * 1e-6
    # spin angle of each measurement, with a timing jitter that leaves ~25 % of the re-binned bins empty
    start_ns = (model.start.astype(np.int64) + (t_meas * 1e9).astype(np.int64)).astype("datetime64[ns]")
    phase = np.rad2deg(model.spin_phase(start_ns.ravel())).reshape(t_meas.shape)
    jitter = rng.uniform(-8.5, 8.5, size=phase.shape)
    spin_angle = np.mod(phase + jitter, 360.0)
    # record-mean field from the MAG model (2 Hz samples over the cycle)
    offsets = np.arange(-2 * quarter, 2 * quarter, 0.5)
    sample_s = (s[:, None] + offsets[None, :]).ravel()
    sample_t = (model.start.astype(np.int64) + np.round(sample_s * 1e9).astype(np.int64)).astype("datetime64[ns]")
    b_samples = model._b_gse_seconds(sample_s)
    b_dsrf = model.rotate(b_samples, sample_t, "dsrf").reshape(r, offsets.size, 3).mean(axis=1)
    b_gse = b_samples.reshape(r, offsets.size, 3).mean(axis=1)
    plasma = model.plasma(times)
    rec = SweRecords(times=times, counts=np.zeros((r, _N_E, _N_S, _N_C)),
                     acq_duration=np.full((r, _N_E, _N_S), ACQ_DURATION_US, dtype=np.uint32),
                     acquisition_time=t_meas + int(datetime64_to_tt2000(model.start)) / 1e9 - MET_OFFSET,
                     spin_angle=spin_angle, b_dsrf=b_dsrf, b_gse=b_gse, plasma=plasma,
                     fill=np.zeros(r, dtype=bool), quarter_start=None)
    rec.quarter_start = (model.start.astype(np.int64) + np.round(q_start_s * 1e9).astype(np.int64)).astype(
        "datetime64[ns]")
    # PSD of the model at each measurement
    v = rec.look_velocity()
    b_unit = b_dsrf / np.linalg.norm(b_dsrf, axis=1)[:, None]
    cos_pitch = np.einsum("resck,rk->resc", v, b_unit)
    # the strahl runs anti-sunward along the field line: along B in an away (B_R > 0) sector, against it in a
    # toward sector, whatever the local fluctuation does (large-scale polarity, not the local Bx sign)
    rec.polarity = np.sign(model.sector(s))
    cos_strahl = cos_pitch * rec.polarity[:, None, None, None]
    p = {k: val[:, None, None, None] for k, val in plasma.items()}
    psd = electron_psd(p, ENERGY[None, :, None, None], cos_pitch, cos_strahl)
    mean_rate = psd * GEOMETRIC_FACTORS * 1.237e31 * ENERGY[None, :, None, None] ** 2 / 2.0
    rec.counts = rng.poisson(mean_rate * ACQ_DURATION_US * 1e-6).astype(float)
    fill = np.zeros(r, dtype=bool)
    fill[list(fill_records)] = True
    rec.fill = fill
    rec.counts[fill] = np.nan
    rec.acq_duration[fill] = 0
    return rec


def _bin_index(spin_angle: np.ndarray) -> np.ndarray:
    edges = np.arange(0.0, 360.0, 12.0)
    return np.searchsorted(edges, spin_angle, side="right") - 1


def rebin(values: np.ndarray, spin_angle: np.ndarray) -> np.ndarray:
    """Average per-sector values (R, 24, 30, 7) into the 30 ``inst_az`` bins; empty bins are NaN."""
    r = values.shape[0]
    idx = _bin_index(spin_angle)                                                # (R, 24, 30)
    flat = (np.arange(r)[:, None, None] * _N_E + np.arange(_N_E)[None, :, None]) * _N_S + idx
    total = np.zeros((r * _N_E * _N_S, _N_C))
    count = np.zeros((r * _N_E * _N_S, 1))
    np.add.at(total, flat.ravel(), values.reshape(-1, _N_C))
    np.add.at(count, flat.ravel(), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / count
    out[count[:, 0] == 0] = np.nan
    return out.reshape(r, _N_E, _N_S, _N_C)


# ---------------------------------------------------------------------------------------------- datasets
def _coords_l1b_l2(kind: str) -> dict[str, xr.DataArray]:
    step_attrs = {"CATDESC": "Energy step id in lookup table", "FIELDNAM": "Energy Step",
                  "FILLVAL": np.int64(-9223370000000000000), "FORMAT": "I2", "UNITS": " ", "VALIDMIN": np.int64(0),
                  "VALIDMAX": np.int64(23), "VAR_TYPE": "support_data", "LABLAXIS": "Energy Step",
                  "SCALE_TYP": "linear"}
    sector_attrs = {"CATDESC": "Spin sector. 30 measurements nominally", "FIELDNAM": "Spin Sector",
                    "FILLVAL": np.int64(-9223370000000000000), "FORMAT": "I2", "UNITS": " ",
                    "VALIDMIN": np.int64(0), "VALIDMAX": np.int64(29), "VAR_TYPE": "support_data",
                    "LABLAXIS": "Spin Sector", "SCALE_TYP": "linear"}
    cem_attrs = {"CATDESC": "CEM detector number", "FIELDNAM": "CEM Number", "FILLVAL": np.int8(0), "FORMAT": "I2",
                 "UNITS": " ", "VALIDMIN": np.int8(0), "VALIDMAX": np.int8(6), "VAR_TYPE": "support_data",
                 "LABLAXIS": "CEM Number", "SCALE_TYP": "linear"}
    coords = {
        "esa_step": xr.DataArray(np.arange(_N_E, dtype=np.int64), dims="esa_step", attrs=step_attrs),
        "esa_step_label": xr.DataArray(np.array([str(i) for i in range(_N_E)]), dims="esa_step",
                                       attrs={**A.label_attrs("Energy step id in lookup table", "Energy Step ID", 2)}),
        "spin_sector": xr.DataArray(np.arange(_N_S, dtype=np.int64), dims="spin_sector", attrs=sector_attrs),
        "spin_sector_label": xr.DataArray(np.array([str(i) for i in range(_N_S)]), dims="spin_sector",
                                          attrs=A.label_attrs("Spin sector. 30 measurements nominally",
                                                              "Measurement", 2)),
        "cem_id": xr.DataArray(np.arange(_N_C, dtype=np.int8), dims="cem_id", attrs=cem_attrs),
        "cem_id_label": xr.DataArray(np.array([str(i) for i in range(_N_C)]), dims="cem_id",
                                     attrs=A.label_attrs("Data rates of each CEM detector", "CEM Rates", 1)),
    }
    if kind == "l1b":
        coords["cycle"] = xr.DataArray(np.arange(4, dtype=np.int64), dims="cycle", attrs={
            "CATDESC": "Full cycle data takes 4 spins' data", "FIELDNAM": "quarter cycle",
            "FILLVAL": np.int64(-9223370000000000000), "FORMAT": "I2", "UNITS": " ", "VALIDMIN": np.int64(0),
            "VALIDMAX": np.int64(3), "VAR_TYPE": "support_data", "LABLAXIS": "Cycle", "SCALE_TYP": "linear"})
    if kind == "l2":
        coords["energy"] = xr.DataArray(ENERGY.copy(), dims="energy", attrs={
            "CATDESC": "Energy of the particle in eV", "FIELDNAM": "Energy (eV)", "FILLVAL": np.float64(-9.22337e18),
            "FORMAT": "E10.4", "UNITS": "eV", "VALIDMIN": np.float64(0.0), "VALIDMAX": np.float64(6000.0),
            "VAR_TYPE": "support_data", "LABLAXIS": "Energy", "SCALE_TYP": "linear"})
        coords["inst_az"] = xr.DataArray(INST_AZ.copy(), dims="inst_az", attrs={
            "CATDESC": "Spin angle in instrument frame. Angle resolution is 12 degree nominally",
            "FIELDNAM": "Spin Angle", "FILLVAL": np.float32(-9.22337e18), "FORMAT": "E10.4", "UNITS": "Degree",
            "VALIDMIN": np.float32(0.0), "VALIDMAX": np.float32(359.999), "VAR_TYPE": "support_data",
            "VAR_NOTES": "Bin CENTERS  - Assuming 0.5 sec measurements and a spin starting at Angle=0, these are the "
            "angles at the middle of each measurement bin.\n", "LABLAXIS": "Degree", "SCALE_TYP": "linear"})
        coords["inst_el"] = xr.DataArray(INST_EL.copy(), dims="inst_el", attrs={
            "CATDESC": "Angle of each CEM detector", "FIELDNAM": "Polar Angle",
            "FILLVAL": np.int64(-9223370000000000000), "FORMAT": "I4", "UNITS": "Degree", "VALIDMIN": np.int64(-65),
            "VALIDMAX": np.int64(65), "VAR_TYPE": "support_data", "LABLAXIS": "Degree", "SCALE_TYP": "linear"})
        coords["energy_label"] = xr.DataArray(np.array(VOLTAGES), dims="energy", attrs=A.label_attrs(
            "Energy of the particle in eV", "Energy", 5))
        coords["inst_az_label"] = xr.DataArray(np.array([f"{a:.1f}" for a in INST_AZ]), dims="inst_az",
                                               attrs=A.label_attrs("Spin angle bins in instrument frame. Angle "
                                                                   "resolution is 12 degree nominally",
                                                                   "Spin Angle", 3))
        coords["inst_el_label"] = xr.DataArray(np.array([str(e) for e in INST_EL]), dims="inst_el",
                                               attrs=A.label_attrs("Angle of each CEM detector", "CEM Angle", 3))
    return coords


def _sector_attrs(catdesc: str, fieldnam: str, units: str, validmax: float, dict_key: str,
                  var_type: str = "data", fmt: str = "E14.7") -> dict[str, object]:
    return {
        "CATDESC": catdesc, "DEPEND_0": "epoch", "DEPEND_1": "esa_step", "DEPEND_2": "spin_sector",
        "DEPEND_3": "cem_id", "DICT_KEY": dict_key, "DISPLAY_TYPE": "spectrogram", "FIELDNAM": fieldnam,
        "FILLVAL": np.float64(-1e31), "FORMAT": fmt, "LABL_PTR_1": "esa_step_label",
        "LABL_PTR_2": "spin_sector_label", "LABL_PTR_3": "cem_id_label", "UNITS": units,
        "VALIDMIN": np.float64(0.0), "VALIDMAX": np.float64(validmax), "VAR_TYPE": var_type,
    }


def _step_sector_attrs(catdesc: str, fieldnam: str, units: str, fmt: str, dict_key: str, var_type: str,
                       dtype=np.float64, fill=-1e31, validmax=9.223372036854776e18) -> dict[str, object]:
    return {
        "CATDESC": catdesc, "DEPEND_0": "epoch", "DEPEND_1": "esa_step", "DEPEND_2": "spin_sector",
        "DICT_KEY": dict_key, "DISPLAY_TYPE": "spectrogram", "FIELDNAM": fieldnam, "FILLVAL": dtype(fill),
        "FORMAT": fmt, "LABL_PTR_1": "esa_step_label", "LABL_PTR_2": "spin_sector_label", "UNITS": units,
        "VALIDMIN": dtype(0), "VALIDMAX": dtype(validmax), "VAR_TYPE": var_type,
    }


_PSD_KEY = "SPASE>Particle>ParticleType:Electron,ParticleQuantity:PhaseSpaceDensity,Qualifier:Array"
_FLUX_KEY = "SPASE>Particle>ParticleType:Electron,ParticleQuantity:NumberFlux,Qualifier:Array"
_UNC_KEY = "SPASE>Particle>ParticleType:Electron,ParticleQuantity:Counts,Qualifier:Uncertainty"
_TIME_KEY = "SPASE>Support>SupportQuantity:Temporal,Qualifier:Array"
FLUX_UNITS = "1 / (eV * cm^2 * s * ster)"


def _f32(values: np.ndarray) -> np.ndarray:
    """Round float64 values to float32 precision (7 digits, as FORMAT E14.7 prints) so gzip can shrink them."""
    return values.astype(np.float32).astype(np.float64)


def _binned_uncert(binned: np.ndarray, rel_binned: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Angle-binned statistical uncertainty: 0 (not fill) in empty bins, fill only on all-fill records.

    The flight L2 and imap-processing 1.0.40 both write 0 where no measurement fell into an ``inst_az`` bin,
    while ``flux``/``phase_space_density`` are fill there.
    """
    unc = binned * rel_binned
    unc[np.isnan(unc)] = 0.0
    unc[fill] = np.nan
    return _f32(unc)


def _data_quality(rec: SweRecords) -> xr.DataArray:
    q = np.where(rec.fill, 255, 4).astype(np.uint8)
    return xr.DataArray(q, dims="epoch", attrs={
        "CATDESC": "In-flight calibration quality flags. Bit 2 (LAST_CAL_INTERVAL): set if any acquisition time in "
        "this cycle was extrapolated using the last two entries in the calibration table.\n",
        "DEPEND_0": "epoch", "DICT_KEY": "SPASE>Support>SupportQuantity:DataQuality", "DISPLAY_TYPE": "time_series",
        "FIELDNAM": "SWE data quality flags", "FILLVAL": np.uint8(255), "FORMAT": "I3", "UNITS": " ",
        "VALIDMIN": np.uint8(0), "VALIDMAX": np.uint8(255), "VAR_TYPE": "support_data",
        "VAR_NOTES": "There is 1 flag currently in use. Stored as a bitwise flag. Bit 2 (LAST_CAL_INTERVAL, value 4): "
        "counter values were extrapolated using the last two calibration table entries. All other bits are "
        "reserved.\n", "SCALETYP": "linear"})


def _acq_common(rec: SweRecords, level: str) -> dict[str, xr.DataArray]:
    """``acquisition_time`` and ``acq_duration``; the texts of ``acquisition_time`` differ between L1B and L2."""
    acq_time = rec.acquisition_time.copy()
    acq_time[rec.fill] = np.nan
    dims3 = ("epoch", "esa_step", "spin_sector")
    notes = ("This stores the acquisition times of each measurement. This time is calculated by combining "
             "ACQ_START_COARSE, ACQ_START_FINE, acquisition duration and settle duration. ")
    if level == "l1b":      # as the L1B file (and the pipeline's L1B attribute table) word it
        words, notes = "voltage step", notes + "It is time of each energy step and each science measurement.\n"
        fieldnam = "Acquisition time by volt step and spin sector"
    else:                   # flight L2 (1.0.30) and 1.0.40 L2
        words = "ESA step"
        notes += "It is center time of each science measurement (each energy and angle step).\n"
        fieldnam = "Acquisition time by ESA step and spin sector"
    return {
        "acquisition_time": xr.DataArray(acq_time, dims=dims3, attrs={
            **_step_sector_attrs(f"Acquisition time organized by {words} and spin sector", fieldnam, "sec", "E20.4",
                                 _TIME_KEY, "support_data"),
            "VAR_NOTES": notes}),
        "acq_duration": xr.DataArray(rec.acq_duration, dims=dims3, attrs={
            **_step_sector_attrs("Acquisition duration", "Acquisition Duration", "microseconds", "I10", _TIME_KEY,
                                 "support_data", dtype=np.uint32, fill=4294967295, validmax=4290000000)}),
    }


def l2_dataset(rec: SweRecords, day: np.datetime64, version: str) -> xr.Dataset:
    """The ``imap_swe_l2_sci`` dataset of ``rec`` (``products.md`` §4.5)."""
    psd = _f32(rec.psd)
    flux = _f32(rec.flux)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(rec.counts > 0, 1.0 / np.sqrt(rec.counts), 0.0)
    rel[rec.fill] = np.nan
    spin_angle = rec.spin_angle.copy()
    psd_binned = _f32(rebin(psd, rec.spin_angle))
    flux_binned = _f32(rebin(flux, rec.spin_angle))
    rel_binned = rebin(rel, rec.spin_angle)
    spin_angle[rec.fill] = np.nan
    psd_binned[rec.fill] = np.nan
    flux_binned[rec.fill] = np.nan
    dims4 = ("epoch", "esa_step", "spin_sector", "cem_id")
    dims4b = ("epoch", "energy", "inst_az", "inst_el")
    binned = {"DEPEND_1": "energy", "DEPEND_2": "inst_az", "DEPEND_3": "inst_el", "LABL_PTR_1": "energy_label",
              "LABL_PTR_2": "inst_az_label", "LABL_PTR_3": "inst_el_label"}
    data = {
        "phase_space_density_spin_sector": xr.DataArray(psd, dims=dims4, attrs=_sector_attrs(
            "Phase space density organized by ESA step and spin sector and CEM", "Phase Space Density",
            "s^3 / cm^6", 1e-15, _PSD_KEY)),
        "flux_spin_sector": xr.DataArray(flux, dims=dims4, attrs=_sector_attrs(
            "Number flux organized by ESA step and spin sector and CEM", "Flux", FLUX_UNITS, 1e9, _FLUX_KEY)),
        **_acq_common(rec, "l2"),
        "data_quality": _data_quality(rec),
        "inst_az_spin_sector": xr.DataArray(spin_angle, dims=("epoch", "esa_step", "spin_sector"), attrs=(
            _step_sector_attrs("Spin angle organized by ESA step and spin sector", "Spin Angle", "Degree", "E10.5",
                               "SPASE>Support>SupportQuantity:SpinPhase,Qualifier:Array,CoordinateSystemName:SC,"
                               "CoordinateRepresentation:Spherical", "data", validmax=359.99))),
        "flux": xr.DataArray(flux_binned, dims=dims4b, attrs={**_sector_attrs(
            "Number flux organized by energy (eV), spin angle, CEM angle", "Flux", FLUX_UNITS, 1e9, _FLUX_KEY),
            **binned}),
        "phase_space_density": xr.DataArray(psd_binned, dims=dims4b, attrs={**_sector_attrs(
            "Phase space density organized by energy (eV), spin angle, CEM angle", "Phase Space Density",
            "s^3 / cm^6", 1e-15, _PSD_KEY), **binned}),
        "psd_stat_uncert": xr.DataArray(_binned_uncert(psd_binned, rel_binned, rec.fill), dims=dims4, attrs={
            **_sector_attrs("Phase space density statistical uncertainty", "Phase Space Density Stats Uncertainty",
                            "counts", 1.7976931348623157e308, _UNC_KEY, fmt="E19.5"), "SCALETYP": "linear"}),
        "flux_stat_uncert": xr.DataArray(_binned_uncert(flux_binned, rel_binned, rec.fill), dims=dims4, attrs={
            **_sector_attrs("Flux statistical uncertainty", "Flux Stats Uncertainty", "counts",
                            1.7976931348623157e308, _UNC_KEY, fmt="E19.5"), "SCALETYP": "linear"}),
    }
    ds = xr.Dataset(data, coords={"epoch": ("epoch", datetime64_to_tt2000(rec.times), A.epoch_attrs()),
                                  **_coords_l1b_l2("l2")})
    ymd = _ymd(day)
    parents = [_spin_file(day - np.timedelta64(1, "D")), _spin_file(day), f"imap_swe_l1b_sci_{ymd}_{version}.cdf"]
    ds.attrs = A.global_attrs("swe", "l2", "sci", ymd, version, parents)
    return ds


_CYCLE_META = [
    # name, CATDESC, FIELDNAM, numpy dtype, FORMAT, VALIDMAX
    ("shcoarse", "Mission elapsed time", "SHCOARSE", np.uint32, "I19", 4294961152),
    ("acq_start_coarse", "Acquisition start time coarse in seconds", "Acquisition Time Coarse", np.uint32, "I19",
     4294961152),
    ("acq_start_fine", "Acquisition start time fine in microseconds", "Acquisition Time Fine", np.uint32, "I10",
     4290000000),
    ("cem_nominal_only", "CEM Nominal status bit. '1' -- nominal, '0' -- not nominal", "CEM Nominal Status", np.uint8,
     "I1", 1),
    ("spin_period_validity", "Spin period valid bit. '1' -- valid, '0' -- invalid", "Spin Period Validity", np.uint8,
     "I1", 1),
    ("spin_phase_validity", "Spin phase valid bit. '1' -- valid, '0' -- invalid", "Spin Phase Validity", np.uint8,
     "I1", 1),
    ("spin_period_source", "Spin period source bit. '1' -- sun sensor (safing), '0' -- star tracker (nominal)\n",
     "Spin Period Source", np.uint8, "I1", 1),
    ("settle_duration", "HVPS settling duration", "HVPS Setting Duration", np.uint16, "I5", 65535),
    ("spin_phase", "Spin phase", "Spin Phase", np.float64, "E14.7", 65535.0),
    ("spin_period", "Spin period", "Spin Period", np.float64, "E14.7", 65535.0),
    ("repoint_warning", "Thruster fired during this quarter cycle. '1' -- yes, warning received, '0' -- no, warning "
     "not received\n", "Repointing Warning", np.uint8, "I1", 1),
    ("high_count", "High CEM count observed for at least one CEM during this quarter cycle. '1' -- yes, high count "
     "occurred, '0' -- no, no high count occurred\n", "High Count", np.uint8, "I1", 1),
    ("stim_enabled", "Stim state. '1' -- enabled, '0' -- disabled", "Stim State", np.uint8, "I1", 1),
    ("quarter_cycle", "Quarter cycle number", "Quarter Cycle Number", np.uint8, "I3", 255),
    ("esa_table_num", "ESA table identifier", "ESA table Identifier", np.uint8, "I3", 255),
    ("esa_acq_cfg", "ESA acquisition configuration", "ESA Acquisition Configuration", np.uint8, "I3", 255),
    ("threshold_dac", "Threshold DAC value", "Threshold DAC Value", np.float64, "E14.7", 65535.0),
    ("stim_cfg_reg", "Stim pulse configuration register. Bits 0-3, period, 4-7, duration, 8-9 mode\n",
     "Stim Pulse Configuration", np.uint16, "I5", 65535),
    ("cksum", "Checksum", "Checksum", np.uint16, "I5", 65535),
]
_CDF_INT = {np.uint8: "CDF_UINT1", np.uint16: "CDF_UINT2", np.uint32: "CDF_UINT4"}


def _cycle_values(rec: SweRecords, model: SolarWind) -> dict[str, np.ndarray]:
    r = rec.times.size
    met = (datetime64_to_tt2000(rec.quarter_start.ravel()).reshape(r, 4) / 1e9) - MET_OFFSET
    phase = np.rad2deg(model.spin_phase(rec.quarter_start.ravel())).reshape(r, 4)
    rng = np.random.default_rng([model.seed, 9, r])
    return {
        "shcoarse": np.floor(met).astype(np.uint32),
        "acq_start_coarse": np.floor(met).astype(np.uint32),
        "acq_start_fine": np.round((met - np.floor(met)) * 1e6).astype(np.uint32),
        "cem_nominal_only": np.ones((r, 4), np.uint8),
        "spin_period_validity": np.ones((r, 4), np.uint8),
        "spin_phase_validity": np.ones((r, 4), np.uint8),
        "spin_period_source": np.zeros((r, 4), np.uint8),
        "settle_duration": np.full((r, 4), SETTLE_US, np.uint16),
        "spin_phase": phase,
        "spin_period": np.full((r, 4), 15.0),
        "repoint_warning": np.zeros((r, 4), np.uint8),
        "high_count": np.zeros((r, 4), np.uint8),
        "stim_enabled": np.zeros((r, 4), np.uint8),
        "quarter_cycle": np.tile(np.arange(4, dtype=np.uint8), (r, 1)),
        "esa_table_num": np.zeros((r, 4), np.uint8),
        "esa_acq_cfg": np.zeros((r, 4), np.uint8),
        "threshold_dac": np.full((r, 4), 3500.0),
        "stim_cfg_reg": np.full((r, 4), 79, np.uint16),
        "cksum": rng.integers(0, 65535, (r, 4)).astype(np.uint16),
    }


def l1b_dataset(rec: SweRecords, model: SolarWind, day: np.datetime64, version: str) -> xr.Dataset:
    """The ``imap_swe_l1b_sci`` dataset of ``rec`` (``products.md`` §4.4)."""
    rate = _f32(rec.rate)
    with np.errstate(invalid="ignore"):
        unc = _f32(np.sqrt(rec.counts) / (rec.acq_duration[..., None] * 1e-6))
    esa_energy = np.broadcast_to(ENERGY[None, :, None], rec.acq_duration.shape).copy()
    esa_energy[rec.fill] = np.nan
    dims4 = ("epoch", "esa_step", "spin_sector", "cem_id")
    data = {
        "science_data": xr.DataArray(rate, dims=dims4, attrs={**_sector_attrs(
            "Electron count rates organized by voltage step and spin sector and CEM",
            "Counts rate by volt step and spin sector and CEM", "counts/sec", 1.5514e-05,
            "SPASE>Particle>ParticleType:Electron,ParticleQuantity:CountRate,Qualifier:Array"),
            "VAR_NOTES": "Metadata field acq_duration is 17 uint. Max value of uint17 is 131071. Dividing max counts "
            "by acq_duration gave validmax\n",
            # 1.0.40: the YAML's int64-min FILLVAL cast to a double (the 2024 file said -1e31); the values written
            # for NaN are still cdflib's -1e31 (products.md 4.4: treat both as fill)
            "FILLVAL": np.float64(A.INT64_MIN)}),
        "counts_stat_uncert": xr.DataArray(unc, dims=dims4, attrs=_sector_attrs(
            "Counts rate statistical uncertainty", "Count Rate Stats Uncertainty", "counts/sec",
            1.7976931348623157e308, _UNC_KEY, fmt="E19.5")),
        **_acq_common(rec, "l1b"),
        "esa_energy": xr.DataArray(esa_energy, dims=("epoch", "esa_step", "spin_sector"), attrs=_step_sector_attrs(
            "ESA energy organized by ESA step and spin sector", "ESA Energy", "eV", "E10.4",
            "SPASE>Support>SupportQuantity:Other,Qualifier:Array", "support_data", validmax=6000.0)),
        "data_quality": _data_quality(rec),
    }
    values = _cycle_values(rec, model)
    for name, catdesc, fieldnam, dtype, fmt, vmax in _CYCLE_META:
        fill = np.float64(-1e31) if dtype is np.float64 else dtype(0)
        attrs = {"CATDESC": catdesc, "DEPEND_0": "epoch", "DEPEND_1": "cycle", "DISPLAY_TYPE": "no_plot",
                 "FIELDNAM": fieldnam, "FILLVAL": fill, "FORMAT": fmt, "UNITS": " ",
                 "VALIDMIN": dtype(0), "VALIDMAX": dtype(vmax), "VAR_TYPE": "support_data", "LABLAXIS": " ",
                 "SCALETYP": "linear"}
        if dtype in _CDF_INT:
            attrs["CDF_DATA_TYPE"] = _CDF_INT[dtype]
        data[name] = xr.DataArray(values[name].astype(dtype), dims=("epoch", "cycle"), attrs=attrs)
    ds = xr.Dataset(data, coords={"epoch": ("epoch", datetime64_to_tt2000(rec.times), A.epoch_attrs()),
                                  **_coords_l1b_l2("l1b")})
    ymd = _ymd(day)
    ds.attrs = A.global_attrs("swe", "l1b", "sci", ymd, version, [f"imap_swe_l1a_sci_{ymd}_{version}.cdf"])
    return ds


def _spin_file(day: np.datetime64) -> str:
    d0 = np.datetime64(day, "D").astype(object)
    d1 = d0 + dt.timedelta(days=1)
    return f"imap_{d0:%Y_%j}_{d1:%Y_%j}_01.spin"


def _ymd(day: np.datetime64) -> str:
    return str(np.datetime64(day, "D")).replace("-", "")


def _target(path_or_root, name: str) -> Path:
    p = Path(path_or_root)
    return p if p.suffix == ".cdf" else p / sdc_key(name)


def day_records(model: SolarWind, day: np.datetime64, hours=None) -> np.ndarray:
    """Record times written for ``day``: the model's cycle grid within ``hours`` (default: the whole day).

    The grid is anchored 14.3 s before the model's first midnight, so a full day starts just before 00:00 (as
    the flight files do: the file date is the processing day).
    """
    anchor = model.start - np.timedelta64(14_285_750_000, "ns")
    lo_h, hi_h = (0.0, 24.0) if hours is None else hours
    lo = day + np.timedelta64(int(lo_h * 3600e9), "ns") - np.timedelta64(int(CYCLE_SECONDS * 0.5e9), "ns")
    hi = day + np.timedelta64(int(hi_h * 3600e9), "ns") - np.timedelta64(int(CYCLE_SECONDS * 0.5e9), "ns")
    return record_times(anchor, lo, hi)


def write_swe_day(root: str | os.PathLike[str], day: DayLike, *, model: SolarWind,
                  hours: tuple[float, float] | None = DEFAULT_SWE_HOURS, version: str = "v001.0001",
                  levels: tuple[str, ...] = ("l1b", "l2", "l3")) -> list[Path]:
    """Write the SWE ``sci`` products of one day under an archive ``root`` from one simulation.

    Parameters
    ----------
    root : str or path-like
        Archive root (SDC layout below it).
    day : date-like
        The processing day.
    model : SolarWind
        The shared solar-wind model (the same field as the MAG products).
    hours : (float, float) or None, default :data:`DEFAULT_SWE_HOURS`
        UTC hours of records to write; ``None`` for the whole day (~1 404 records, ~130 MB per L2 file).
    version : str, default "v001.0001"
    levels : tuple of str, default ("l1b", "l2", "l3")

    Returns
    -------
    list of pathlib.Path
        The written files, in ``levels`` order. Record 3 of the day is an all-fill record.
    """
    day = day_start(day)
    times = day_records(model, day, hours)
    day_no = int((day - model.start).astype("timedelta64[D]").astype(np.int64))
    fill_at = [min(3, times.size - 1)] if times.size > 4 else []
    rec = simulate(model, times, fill_records=fill_at, seed_tag=day_no + 1000)
    out = []
    if "l1b" in levels:
        name = f"imap_swe_l1b_sci_{_ymd(day)}_{version}.cdf"
        out.append(write_dataset(l1b_dataset(rec, model, day, version), _target(root, name)))
    if "l2" in levels:
        name = f"imap_swe_l2_sci_{_ymd(day)}_{version}.cdf"
        out.append(write_dataset(l2_dataset(rec, day, version), _target(root, name)))
    if "l3" in levels:
        from imap_explorer.synthetic.swe_l3 import write_l3

        name = f"imap_swe_l3_sci_{_ymd(day)}_{version}.cdf"
        out.append(write_l3(rec, day, version, _target(root, name)))
    return out


def write_swe_l2(path_or_root: str | os.PathLike[str], day: DayLike, *, hours: tuple[float, float] | None = None,
                 seed: int = 0, version: str = "v001.0001", model: SolarWind | None = None) -> Path:
    """Write one SWE L2 ``sci`` day (default: the full day, ~1 404 records, ~340 MB before compression).

    Parameters
    ----------
    path_or_root : str or path-like
        A target ``.cdf`` path, or an archive root (the file goes to its SDC key below it).
    day : date-like
        The processing day.
    hours : (float, float), optional
        Only records within these UTC hours. Default: the whole day.
    seed : int, default 0
        Random seed (ignored when ``model`` is given).
    version : str, default "v001.0001"
    model : SolarWind, optional
        Default ``SolarWind(day, seed)``: a shock at 12:00 UTC that day.

    Returns
    -------
    pathlib.Path
        The written file; record 1 is an all-fill record (``data_quality`` 255), as in the flight file.

    See Also
    --------
    write_mag_l2 : one MAG L2 day.

    Examples
    --------
    >>> write_swe_l2(tmp / "swe.cdf", "2026-01-20")  # doctest: +SKIP
    PosixPath('.../swe.cdf')
    """
    day = day_start(day)
    model = model if model is not None else SolarWind(day, seed)
    times = day_records(model, day, hours)
    name = f"imap_swe_l2_sci_{_ymd(day)}_{version}.cdf"
    target = _target(path_or_root, name)
    # simulate in chunks to bound memory (one record is ~40 kB per float array)
    chunks = [simulate(model, times[i:i + 200], fill_records=[1] if i == 0 and times.size > 2 else [],
                       seed_tag=i) for i in range(0, times.size, 200)]
    rec = _concat(chunks)
    return write_dataset(l2_dataset(rec, day, version), target)


def _concat(chunks: list[SweRecords]) -> SweRecords:
    if len(chunks) == 1:
        return chunks[0]
    return SweRecords(
        times=np.concatenate([c.times for c in chunks]),
        counts=np.concatenate([c.counts for c in chunks]),
        acq_duration=np.concatenate([c.acq_duration for c in chunks]),
        acquisition_time=np.concatenate([c.acquisition_time for c in chunks]),
        spin_angle=np.concatenate([c.spin_angle for c in chunks]),
        b_dsrf=np.concatenate([c.b_dsrf for c in chunks]),
        b_gse=np.concatenate([c.b_gse for c in chunks]),
        plasma={k: np.concatenate([c.plasma[k] for c in chunks]) for k in chunks[0].plasma},
        fill=np.concatenate([c.fill for c in chunks]),
        quarter_start=np.concatenate([c.quarter_start for c in chunks]),
        polarity=np.concatenate([c.polarity for c in chunks]),
    )

