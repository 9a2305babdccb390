"""Synthetic SWE L3 ``sci``: pitch-angle distributions and moments, written like imap_L3_processing (spacepy).

The file is column-major, record-varying variables are GZIP 7, non-record-varying variables and ``epoch``
are uncompressed (``products.md`` §1.1, §4.6). Pitch-angle distributions bin the SAME per-measurement L2 PSD
by the pitch angles computed from the SAME MAG model field, so L3 is consistent with L2 and MAG. RTN vectors
have ``LABL_PTR_1 = rtn_label`` but no ``DEPEND_1``, as in the L3 product.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from imap_explorer._time import datetime64_to_tt2000
from imap_explorer.synthetic import attrs as A
from imap_explorer.synthetic._cdf import RawVariable, write_raw
from imap_explorer.synthetic.physics import EV, M_E
from imap_explorer.synthetic.swe import ENERGY, INST_EL, SweRecords

__all__ = ["GYROPHASE", "PITCH_ANGLE", "l3_values", "write_l3"]

#: Pitch-angle bin centres (deg): 20 bins of 9 deg.
PITCH_ANGLE = np.arange(4.5, 180.0, 9.0)
#: Gyrophase bin centres (deg): 24 bins of 15 deg.
GYROPHASE = np.arange(7.5, 360.0, 15.0)
_K_PER_EV = 11604.518
_FILL = np.float32(-1e31)


def _bin_stats(values: np.ndarray, index: np.ndarray, nbins: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum and number of ``values`` (R, E, N) over N by ``index`` (R, E, N) into ``nbins`` bins."""
    r, e, _ = values.shape
    flat = ((np.arange(r)[:, None, None] * e + np.arange(e)[None, :, None]) * nbins + index).ravel()
    total = np.bincount(flat, weights=values.ravel(), minlength=r * e * nbins).reshape(r, e, nbins)
    count = np.bincount(flat, minlength=r * e * nbins).reshape(r, e, nbins)
    return total, count


def _bin_mean(values: np.ndarray, index: np.ndarray, nbins: int) -> np.ndarray:
    """Mean of ``values`` (R, E, N) over N by ``index`` into ``nbins`` bins; empty bins are NaN."""
    total, count = _bin_stats(values, index, nbins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def l3_values(rec: SweRecords) -> dict[str, np.ndarray]:
    """Compute the L3 arrays (float64, NaN = fill) from simulated SWE records."""
    r = rec.times.size
    psd = rec.psd                                                     # (R, 24, 30, 7)
    v = rec.look_velocity()                                           # (R, 24, 30, 7, 3) DSRF
    b = rec.b_dsrf / np.linalg.norm(rec.b_dsrf, axis=1)[:, None]
    mu = np.clip(np.einsum("resck,rk->resc", v, b), -1, 1)
    pitch = np.rad2deg(np.arccos(mu))
    # gyrophase around B, measured from the projection of the spin axis (DSRF z, roughly sunward)
    e1 = np.cross(np.array([0.0, 0.0, 1.0])[None, :], b)
    e1 /= np.linalg.norm(e1, axis=1)[:, None]
    e2 = np.cross(b, e1)
    gyro = np.mod(np.rad2deg(np.arctan2(np.einsum("resck,rk->resc", v, e2), np.einsum("resck,rk->resc", v, e1))),
                  360.0)
    pa_idx = np.clip((pitch // 9.0).astype(np.int64), 0, 19)
    gp_idx = np.clip((gyro // 15.0).astype(np.int64), 0, 23)
    flat_psd = psd.reshape(r, 24, -1)
    by_pa = _bin_mean(flat_psd, pa_idx.reshape(r, 24, -1), 20)
    by_pa_gp = _bin_mean(flat_psd, (pa_idx * 24 + gp_idx).reshape(r, 24, -1), 20 * 24).reshape(r, 24, 20, 24)
    n_pa, _ = _bin_stats(rec.counts.reshape(r, 24, -1), pa_idx.reshape(r, 24, -1), 20)   # counts per bin
    intensity = 6.187e30 * ENERGY[None, :, None] * by_pa
    with np.errstate(invalid="ignore", divide="ignore"):
        intensity_unc = np.where(n_pa > 0, intensity / np.sqrt(n_pa), np.nan)
    outward = (mu * rec.polarity[:, None, None, None]) > 0          # moving anti-sunward along the field line
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)           # all-NaN fill records
        psd_1d = np.nanmean(flat_psd, axis=2)
        psd_out = np.nanmean(np.where(outward, psd, np.nan).reshape(r, 24, -1), axis=2)
        psd_in = np.nanmean(np.where(~outward, psd, np.nan).reshape(r, 24, -1), axis=2)
    # moments: numerical integration of the measured PSD above the photo-electron range, plus the low-energy
    # plateau below it (f(E_min) * 4/3 pi v_min^3), as an L3 integrator would do
    p = rec.plasma
    pot = 4.0 + 2.0 * np.exp(-p["density"] / 8.0)
    breakpoint = np.clip(5.0 * p["t_core"], 35.0, 120.0)
    speed_cm = np.sqrt(2 * ENERGY * EV / M_E)
    edges = np.sqrt(ENERGY[:-1] * ENERGY[1:])
    e_lo = np.concatenate([[ENERGY[0] ** 2 / edges[0]], edges])
    e_hi = np.concatenate([edges, [ENERGY[-1] ** 2 / edges[-1]]])
    dv = np.sqrt(2 * e_hi * EV / M_E) - np.sqrt(2 * e_lo * EV / M_E)
    w_el = np.cos(np.deg2rad(INST_EL.astype(float)))
    d_omega = 4 * np.pi * w_el / (30 * w_el.sum())
    shell = np.einsum("resc,c->re", psd, d_omega) * speed_cm**2 * dv        # (R, 24) density per energy step
    use = ENERGY > 8.0
    i0 = int(np.argmax(use))
    low = psd_1d[:, i0] * 4.0 / 3.0 * np.pi * np.sqrt(2 * e_lo[i0] * EV / M_E) ** 3
    total = np.nansum(np.where(use, shell, 0.0), axis=1) + low
    halo_int = np.nansum(np.where(ENERGY[None, :] > breakpoint[:, None], shell, 0.0), axis=1)
    rng = np.random.default_rng([int(datetime64_to_tt2000(rec.times[:1])[0] % (2**31)) if r else 0, 12])
    noise = lambda scale: 1 + rng.normal(0, scale, r)  # noqa: E731
    n_h = p["halo_fraction"] * p["density"]
    n_c = p["density"] - n_h - p["strahl_fraction"] * p["density"]
    t_perp = p["t_core"] * 3.0 / (2.0 + p["anisotropy"])
    t_par = p["anisotropy"] * t_perp
    b_rtn = np.stack([-rec.b_gse[:, 0], -rec.b_gse[:, 1], rec.b_gse[:, 2]], axis=1)
    b_rtn /= np.linalg.norm(b_rtn, axis=1)[:, None]
    t_tensor = (t_perp[:, None, None] * np.eye(3)[None] + (t_par - t_perp)[:, None, None]
                * b_rtn[:, :, None] * b_rtn[:, None, :]) * _K_PER_EV / 1e4
    tensor6 = np.stack([t_tensor[:, 0, 0], t_tensor[:, 1, 1], t_tensor[:, 2, 2], t_tensor[:, 0, 1],
                        t_tensor[:, 0, 2], t_tensor[:, 1, 2]], axis=1)
    vel = np.stack([p["speed"] * noise(0.01), rng.normal(-8.0, 6.0, r), rng.normal(0.0, 6.0, r)], axis=1)
    out = {
        "phase_space_density_by_pitch_angle": by_pa,
        "phase_space_density_by_pitch_angle_and_gyrophase": by_pa_gp,
        "intensity_by_pitch_angle": intensity,
        "intensity_uncertainty_by_pitch_angle": intensity_unc,
        "phase_space_density_1d": psd_1d,
        "phase_space_density_inward": psd_in,
        "phase_space_density_outward": psd_out,
        "spacecraft_potential": pot,
        "core_halo_breakpoint": breakpoint,
        "core_density_fit": n_c * noise(0.03),
        "halo_density_fit": n_h * noise(0.06),
        "core_t_parallel_fit": t_par * _K_PER_EV * noise(0.03),
        "core_t_perpendicular_fit": t_perp * _K_PER_EV * noise(0.03),
        "halo_t_parallel_fit": p["t_halo"] * _K_PER_EV * noise(0.05),
        "halo_t_perpendicular_fit": p["t_halo"] * _K_PER_EV * noise(0.05),
        "core_speed_fit": np.linalg.norm(vel, axis=1),
        "core_velocity_vector_rtn_fit": vel,
        "total_density_integrated": total,
        "halo_density_integrated": halo_int,
        "core_density_integrated": total - halo_int,
        "total_velocity_vector_rtn_integrated": vel + rng.normal(0.0, 10.0, (r, 3)),
        "core_temperature_tensor_integrated": tensor6,
    }
    for value in out.values():
        value[rec.fill] = np.nan
    out["swe_flags"] = np.where(rec.fill, 1, 0).astype(np.uint16)
    return out


def _data_attrs(catdesc: str, fieldnam: str, units: str, depends: list[str], labels: list[str | None],
                validmax: float, display: str, lablaxis: str, scaletyp: str = "linear", validmin: float = 0.0,
                fmt: str = "F15.3") -> dict[str, object]:
    attrs: dict[str, object] = {"CATDESC": catdesc, "DEPEND_0": "epoch"}
    for i, dep in enumerate(depends, start=1):
        attrs[f"DEPEND_{i}"] = dep
    attrs.update({"VAR_TYPE": "data", "DISPLAY_TYPE": display, "VARIABLE_PURPOSE": "PRIMARY_VAR,SUMMARY",
                  "FIELDNAM": fieldnam, "FORMAT": fmt, "LABLAXIS": lablaxis, "UNITS": units,
                  "VALIDMIN": np.float32(validmin), "VALIDMAX": np.float32(validmax), "FILLVAL": _FILL})
    for i, lab in enumerate(labels, start=1):
        if lab:
            attrs[f"LABL_PTR_{i}"] = lab
    attrs["SCALETYP"] = scaletyp
    return attrs


_PSD_UNITS = "s^3 cm^-6"
_INT_UNITS = "cm^-2 sr^-1 s^-1 eV^-1"
#: name -> (CATDESC, FIELDNAM, UNITS, DEPEND_1.., LABL_PTR_1.., VALIDMAX, DISPLAY_TYPE, LABLAXIS, SCALETYP)
_L3_VARS = {
    "phase_space_density_by_pitch_angle": (
        "Phase space density by pitch angle", "Electron Phase Space Density", _PSD_UNITS, ["energy", "pitch_angle"],
        ["energy_label", "pitch_angle_label"], 1e-15, "spectrogram", "e- PSD", "log"),
    "phase_space_density_by_pitch_angle_and_gyrophase": (
        "Phase space density by pitch angle and gyrophase", "Electron Phase Space Density", _PSD_UNITS,
        ["energy", "pitch_angle", "gyrophase"], ["energy_label", "pitch_angle_label", "gyrophase_label"], 1e-15,
        "spectrogram", "e- PSD", "log"),
    "intensity_by_pitch_angle": (
        "Intensity by pitch angle", "Electron Intensity", _INT_UNITS, ["energy", "pitch_angle"],
        ["energy_label", "pitch_angle_label"], 1e10, "spectrogram", "e- intensity", "linear"),
    "intensity_uncertainty_by_pitch_angle": (
        "Uncertainty of intensity by pitch angle", "Electron Intensity Uncertainty", _INT_UNITS,
        ["energy", "pitch_angle"], ["energy_label", "pitch_angle_label"], 1e10, "spectrogram", "e- intensity unc.",
        "linear"),
    "phase_space_density_1d": ("Electron phase space density (1d)", "Electron Phase Space Density", _PSD_UNITS,
                               ["energy"], ["energy_label"], 1e-15, "spectrogram", "e- PSD", "log"),
    "phase_space_density_inward": ("Electron phase space density (inward)", "Electron Phase Space Density",
                                   _PSD_UNITS, ["energy"], ["energy_label"], 1e-15, "spectrogram", "e- PSD", "log"),
    "phase_space_density_outward": ("Electron phase space density (outward)", "Electron Phase Space Density",
                                    _PSD_UNITS, ["energy"], ["energy_label"], 1e-15, "spectrogram", "e- PSD", "log"),
    "spacecraft_potential": ("IMAP spacecraft potential", "Spacecraft Potential", "V", [], [], 100,
                             "time_series", "Potential"),
    "core_halo_breakpoint": ("SW electron core/halo breakpoint", "Core/Halo Breakpoint", "eV", [], [], 200,
                             "time_series", "Core/halo break"),
    "core_density_fit": ("Density of core electrons found through Maxwellian fitting", "Core Density Fit", "#/cm^3",
                         [], [], 500, "time_series", "Core density fit"),
    "halo_density_fit": ("Density of halo electrons found through Maxwellian fitting", "Halo Density Fit", "#/cm^3",
                         [], [], 100, "time_series", "Halo density fit"),
    "core_t_parallel_fit": ("Core t_parallel fit", "Core T Parallel Fit", "K", [], [], 1e7, "time_series",
                            "Core t parallel fit"),
    "core_t_perpendicular_fit": ("Core t_perpendicular fit", "Core T Perpendicular Fit", "K", [], [], 1e7,
                                 "time_series", "Core t perpendicular fit"),
    "halo_t_parallel_fit": ("Halo t_parallel fit", "Halo T Parallel Fit", "K", [], [], 1e7, "time_series",
                            "Halo t parallel fit"),
    "halo_t_perpendicular_fit": ("Halo t_perpendicular fit", "Halo T Perpendicular Fit", "K", [], [], 1e7,
                                 "time_series", "Halo t perpendicular fit"),
    "core_speed_fit": ("Core speed fit", "Core Speed Fit", "km/s", [], [], 5000, "time_series", "Core speed fit"),
    "core_velocity_vector_rtn_fit": ("Core velocity vector RTN fit", "Core Velocity Vector RTN Fit", "km/s", [],
                                     ["rtn_label"], 5000, "time_series", "Core v vec rtn fit"),
    "total_density_integrated": ("Total density integrated", "Total Density Integrated", "#/cm^3", [], [], 1e10,
                                 "time_series", "Total density integrated"),
    "halo_density_integrated": ("Halo density integrated", "Halo Density Integrated", "#/cm^3", [], [], 100,
                                "time_series", "Halo density integrated"),
    "core_density_integrated": ("Core density integrated", "Core Density Integrated", "#/cm^3", [], [], 500,
                                "time_series", "Core density integrated"),
    "total_velocity_vector_rtn_integrated": ("Total velocity vector RTN integrated",
                                             "Total Velocity Vector RTN Integrated", "km/s", [], ["rtn_label"], 5000,
                                             "time_series", "Total v vec rtn int."),
    "core_temperature_tensor_integrated": ("Core temperature tensor integrated", "Core Temperature Tensor Integrated",
                                           "10^4 K", ["tensor_id"], ["temperature_tensor_label"], 1000,
                                           "time_series", "Core t tensor integrated"),
}
_VALIDMIN = {"core_velocity_vector_rtn_fit": -5000.0, "total_velocity_vector_rtn_integrated": -5000.0,
             "core_temperature_tensor_integrated": -1000.0, "core_halo_breakpoint": 15.0}


def _support(name: str, catdesc: str, fieldnam: str, units: str, values: np.ndarray, cdf_type: str,
             validmax: float, lablaxis: str, scaletyp: str = "linear", delta: str | None = None) -> RawVariable:
    attrs: dict[str, object] = {"CATDESC": catdesc, "VAR_TYPE": "support_data", "FIELDNAM": fieldnam,
                                "FORMAT": "F9.3" if cdf_type == "CDF_REAL4" else "I3", "LABLAXIS": lablaxis,
                                "UNITS": units}
    if cdf_type == "CDF_REAL4":
        attrs.update({"VALIDMIN": np.float32(0.0), "VALIDMAX": np.float32(validmax), "FILLVAL": _FILL})
    else:
        attrs.update({"VALIDMIN": values.dtype.type(1), "VALIDMAX": values.dtype.type(validmax),
                      "FILLVAL": values.dtype.type(255)})
    attrs["SCALETYP"] = scaletyp
    if delta:
        attrs["DELTA_PLUS_VAR"] = f"{delta}_plus" if name == "energy" else delta
        attrs["DELTA_MINUS_VAR"] = f"{delta}_minus" if name == "energy" else delta
    return RawVariable(name, values, cdf_type, attrs, record_varying=False, compress=0)


def _label(name: str, catdesc: str, values: list[str]) -> RawVariable:
    width = max(len(v) for v in values)
    return RawVariable(name, np.array(values), "CDF_CHAR", {"CATDESC": catdesc, "VAR_TYPE": "metadata",
                                                            "FIELDNAM": catdesc, "FORMAT": f"A{width}"},
                       record_varying=False, compress=0, num_elements=width)


def write_l3(rec: SweRecords, day: np.datetime64, version: str, target: Path) -> Path:
    """Write the ``imap_swe_l3_sci`` file of ``rec`` to ``target``."""
    values = l3_values(rec)
    r = rec.times.size
    epoch_attrs = {"CATDESC": "Time since J2000", "VAR_TYPE": "support_data", "FIELDNAM": "Epoch", "FORMAT": " ",
                   "LABLAXIS": "Epoch", "UNITS": "ns", "VALIDMIN": np.int64(315576066184000000),
                   "VALIDMAX": np.int64(3155630469184000000), "FILLVAL": A.INT64_MIN, "SCALETYP": "linear",
                   "TIME_BASE": "J2000", "TIME_SCALE": "TT", "DELTA_PLUS_VAR": "epoch_delta",
                   "DELTA_MINUS_VAR": "epoch_delta", "MONOTON": "INCREASE",
                   "REFERENCE_POSITION": "Rotating Earth Geoid", "SI_CONVERSION": "1e-9>seconds"}
    edges = np.sqrt(ENERGY[:-1] * ENERGY[1:])
    e_lo = np.concatenate([[ENERGY[0] ** 2 / edges[0]], edges])
    e_hi = np.concatenate([edges, [ENERGY[-1] ** 2 / edges[-1]]])
    variables = [
        RawVariable("epoch", datetime64_to_tt2000(rec.times), "CDF_TIME_TT2000", epoch_attrs, compress=0),
        RawVariable("epoch_delta", np.full(r, int(30.774e9), np.int64), "CDF_INT8", {
            "CATDESC": "Time bin half-width in nanoseconds", "DEPEND_0": "epoch", "VAR_TYPE": "support_data",
            "FIELDNAM": "Epoch Delta", "FORMAT": "I19", "LABLAXIS": "Epoch delta", "UNITS": "ns",
            "VALIDMIN": np.int64(0), "VALIDMAX": np.int64(600000000000), "FILLVAL": A.INT64_MIN,
            "SCALETYP": "linear"}, compress=7),
        _support("energy", "Bin center energy", "Energy", "eV", ENERGY.astype(np.float32), "CDF_REAL4", 10000,
                 "Energy", "log", delta="energy_delta"),
        _support("energy_delta_plus", "Energy bin half-width to max energy", "Energy", "eV",
                 (e_hi - ENERGY).astype(np.float32), "CDF_REAL4", 10000, "Energy delta plus", "log"),
        _support("energy_delta_minus", "Energy bin half-width to min energy", "Energy", "eV",
                 (ENERGY - e_lo).astype(np.float32), "CDF_REAL4", 10000, "Energy delta minus", "log"),
        _support("pitch_angle", "Pitch angle", "Pitch Angle", "degrees", PITCH_ANGLE.astype(np.float32), "CDF_REAL4",
                 180, "Pitch angle", delta="pitch_angle_delta"),
        _support("pitch_angle_delta", "Pitch angle bin half-width", "Pitch Angle", "degrees",
                 np.full(20, 4.5, np.float32), "CDF_REAL4", 180, "Pitch angle delta"),
        _support("gyrophase", "Gyrophase", "Gyrophase", "degrees", GYROPHASE.astype(np.float32), "CDF_REAL4", 360,
                 "Gyrophase", delta="gyrophase_delta"),
        _support("gyrophase_delta", "Gyrophase bin half-width", "Gyrophase", "degrees", np.full(24, 7.5, np.float32),
                 "CDF_REAL4", 360, "Gyrophase delta"),
        _support("tensor_id", "Temperature tensor element", "Tensor ID", " ", np.arange(1, 7, dtype=np.uint8),
                 "CDF_UINT1", 6, "Tensor ID"),
        _label("energy_label", "Energy label", [f"{e:.1f} eV" for e in ENERGY]),
        _label("pitch_angle_label", "Pitch angle label", [f"PA {p:.0f}" for p in PITCH_ANGLE]),
        _label("gyrophase_label", "Gyrophase label", [f"GP {g:.0f}" for g in GYROPHASE]),
        _label("rtn_label", "RTN label", ["R", "T", "N"]),
        _label("temperature_tensor_label", "Temperature tensor label", ["Txx", "Tyy", "Tzz", "Txy", "Txz", "Tyz"]),
    ]
    for name, spec in _L3_VARS.items():
        catdesc, fieldnam, units, depends, labels, vmax, display, lablaxis, *scale = spec
        attrs = _data_attrs(catdesc, fieldnam, units, depends, labels, vmax, display, lablaxis,
                            *(scale or ["linear"]), validmin=_VALIDMIN.get(name, 0.0))
        data = values[name].astype(np.float32)
        data[~np.isfinite(data)] = _FILL
        variables.append(RawVariable(name, data, "CDF_REAL4", attrs, compress=7))
    variables.append(RawVariable("swe_flags", values["swe_flags"], "CDF_UINT2", {
        "CATDESC": "SWE L3 quality flags", "DEPEND_0": "epoch", "VAR_TYPE": "support_data", "FIELDNAM": "SWE Flags",
        "FORMAT": "I5", "LABLAXIS": "Flags", "UNITS": " ", "VALIDMIN": np.uint16(0), "VALIDMAX": np.uint16(65535),
        "FILLVAL": np.uint16(65535), "VAR_NOTES": "Bit 0: the L2 record was fill.\n"}, compress=7))
    ymd = str(np.datetime64(day, "D")).replace("-", "")
    parents = [f"imap_swe_l2_sci_{ymd}_{version}.cdf", f"imap_swe_l1b_sci_{ymd}_{version}.cdf",
               f"imap_mag_l2_norm-dsrf_{ymd}_v001.0001.cdf", f"imap_swapi_l3a_proton-sw_{ymd}_v001.cdf"]
    gattrs = A.global_attrs("swe", "l3", "sci", ymd, version, parents)
    gattrs["ground_software_version"] = "imap_l3_processing+synthetic"
    return write_raw(target, gattrs, variables, majority="column_major")
