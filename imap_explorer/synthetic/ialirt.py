"""Synthetic I-ALiRT stream: the real-time subset of the same solar wind as the MAG and SWE products.

For each day the generator computes, from the shared :class:`~imap_explorer.synthetic.physics.SolarWind` (so the
12:00 shock, the sheath and the magnetic cloud appear here as in MAG L2 and SWE), the records the I-ALiRT ingest
would store (``ialirt-api.md`` §5, §6, §9) at the real cadences:

* ``mag`` every 4 s (GSE/GSM/RTN vectors, |B|, angles), epoch 2.858 s before ``ttj2000ns``;
* ``swapi`` every 12 s (speed, density, temperature; about 2 % of records have null density and temperature);
* ``swe`` every 30 s (8 normalised counts from the SWE electron model; counter-streaming inside the cloud);
* ``hit`` every 60 s (electron rates ~58/56 counts; protons and He rising to the shock, an energetic storm
  particle event, then decaying);
* ``codice_hi`` every 240 s with 4 sub-epochs 60 s apart ([15, 4, 4] H+ intensities, up with the HIT protons);
* ``spacecraft`` about once a minute (position near (1.3e6, -2e5, 1e5) km GSE).

``codice_lo`` is disabled upstream, so it has no records. From the second day on, each day has a one-hour coverage
gap (no instrument), as the ground-station schedule leaves.

The stream is stored once, as the daily archive CDF ``imap/ialirt/l1/<YYYY>/<MM>/imap_ialirt_l1_realtime_<YYYYMMDD>
_v001.cdf`` with the reference's 53 variables (§8.2, uncompressed like the SDC's), ~3 MB a day. The embedded server
rebuilds the JSON records from it (``time_utc``/``ttj2000ns`` from the epoch and the fixed offsets of
:data:`EPOCH_OFFSET_S`). A few small raw files (one packet file per hour, two ground-system logs per day) go to
``ialirt/packets/`` and ``ialirt/logs/`` under the archive root for the file routes.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np

from imap_explorer._time import datetime64_to_tt2000
from imap_explorer.ialirt._schema import CODICE_HI_ENERGY, CODICE_HI_POLAR, SWE_ENERGY
from imap_explorer.local import atomic_target
from imap_explorer.synthetic._cdf import RawVariable, write_raw
from imap_explorer.synthetic.physics import DayLike, SolarWind, day_start, electron_psd

__all__ = ["CADENCE_S", "CODICE_HI_SUBEPOCH_S", "EPOCH_OFFSET_S", "archive_name", "simulate_day", "write_ialirt_day"]

#: Seconds between records, per partition.
CADENCE_S = {"mag": 4.0, "swapi": 12.0, "swe": 30.0, "hit": 60.0, "codice_hi": 240.0, "spacecraft": 60.0}
#: ``<inst>_epoch - ttj2000ns`` in seconds (§6): the measurement time against the packet group's centre.
EPOCH_OFFSET_S = {"mag": -2.858, "swapi": -24.0, "swe": 14.5, "hit": -30.6, "spacecraft": 0.0}
#: CoDICE-Hi sub-epochs against the group's ``ttj2000ns`` (s).
CODICE_HI_SUBEPOCH_S = (-90.0, -30.0, 30.0, 90.0)
#: First record of a day (s after midnight), per partition: the groups are not aligned with each other.
_PHASE_S = {"mag": 3.846, "swapi": 5.0, "swe": 0.5, "hit": 11.6, "codice_hi": 100.0, "spacecraft": 3.0}
#: Fraction of SWAPI records whose fit fails (null density and temperature).
SWAPI_NULL_FRACTION = 0.02
#: Length of the daily coverage gap (s), from the second day on.
GAP_SECONDS = 3600.0
_TAG = 31  # random-stream tag of this module
_NS = 1_000_000_000
_FLOAT_FILL = np.float32(-1e31)
_INT_FILL = np.iinfo(np.int64).min


def archive_name(day: DayLike) -> str:
    """File name of a day's archive CDF.

    Examples
    --------
    >>> archive_name("2026-02-10")
    'imap_ialirt_l1_realtime_20260210_v001.cdf'
    """
    return f"imap_ialirt_l1_realtime_{str(day_start(day))[:10].replace('-', '')}_v001.cdf"


def _gap(model: SolarWind, day: np.datetime64) -> tuple[float, float] | None:
    """Coverage gap of a day (seconds after midnight), None on the first day (which holds the shock)."""
    k = int((day - model.start) // np.timedelta64(1, "D"))
    if k < 1:
        return None
    rng = np.random.default_rng([model.seed, _TAG, 1, k])
    begin = float(rng.integers(1, 20)) * 3600.0 + 900.0
    return begin, begin + GAP_SECONDS


def _ttj(model: SolarWind, day: np.datetime64, inst: str) -> np.ndarray:
    """``ttj2000ns`` of the day's packet groups of one partition, outside the coverage gap."""
    cadence, phase = CADENCE_S[inst], _PHASE_S[inst]
    s = phase + cadence * np.arange(int((86400.0 - phase) // cadence) + 1)
    if inst == "spacecraft":  # one item per ingest batch: irregular, about once a minute
        rng = np.random.default_rng([model.seed, _TAG, 2, int(day.astype(np.int64) // (86400 * _NS))])
        s = s + rng.uniform(-5.0, 5.0, s.size)
    s = s[(s >= 0) & (s < 86400.0)]
    gap = _gap(model, day)
    if gap is not None:
        s = s[(s < gap[0]) | (s >= gap[1])]
    utc = day + np.round(s * 1000).astype(np.int64).astype("timedelta64[ms]").astype("timedelta64[ns]")
    return datetime64_to_tt2000(utc)


def _utc(tt2000: np.ndarray) -> np.ndarray:
    from imap_explorer._time import tt2000_to_datetime64

    return tt2000_to_datetime64(tt2000)


def _sep(model: SolarWind, times) -> np.ndarray:
    """Energetic-particle enhancement factor: rises (e-fold 3 h) to the shock, decays (e-fold 6 h) after it."""
    h = (model.seconds(times) - model.shock_hours * 3600.0) / 3600.0
    return np.where(h < 0, np.exp(np.clip(h, -50, 0) / 3.0), np.exp(-np.clip(h, 0, None) / 6.0))


def simulate_day(model: SolarWind, day: DayLike) -> dict[str, dict[str, np.ndarray]]:
    """The day's records of every partition, as arrays: ``{instrument: {"epoch": int64 TT2000, field: values}}``.

    Values are rounded as the ingest stores them (3 decimals; CoDICE-Hi 4). ``codice_hi`` has one row per
    sub-epoch (4 per record), as in the archive CDF; ``spacecraft``'s ``epoch`` is its ``ttj2000ns``.
    """
    day = day_start(day)
    k = int((day - model.start) // np.timedelta64(1, "D"))
    rng = np.random.default_rng([model.seed, _TAG, 3, k + 100_000])
    out: dict[str, dict[str, np.ndarray]] = {}

    def epochs(inst: str) -> tuple[np.ndarray, np.ndarray]:
        ttj = _ttj(model, day, inst)
        ep = ttj + np.int64(round(EPOCH_OFFSET_S[inst] * _NS))
        return ep, _utc(ep)

    ep, t = epochs("mag")
    b = model.b_gse(t)
    gsm, rtn = model.rotate(b, t, "gsm"), model.rotate(b, t, "rtn")
    mag = np.linalg.norm(b, axis=1)
    out["mag"] = {
        "epoch": ep, "mag_B_GSE": b, "mag_B_GSM": gsm, "mag_B_RTN": rtn, "mag_B_magnitude": mag,
        "mag_phi_B_GSE": np.degrees(np.arctan2(b[:, 1], b[:, 0])) % 360.0,
        "mag_theta_B_GSE": np.degrees(np.arcsin(b[:, 2] / mag)),
        "mag_phi_B_GSM": np.degrees(np.arctan2(gsm[:, 1], gsm[:, 0])) % 360.0,
        "mag_theta_B_GSM": np.degrees(np.arcsin(gsm[:, 2] / mag)),
    }

    ep, t = epochs("swapi")
    p = model.plasma(t)
    speed = p["speed"] * (1.0 + 0.01 * rng.standard_normal(ep.size))
    density = p["density"] * 0.95
    temperature = 1.2e5 * (speed / 500.0) ** 3 * np.exp(0.1 * rng.standard_normal(ep.size))
    failed = rng.random(ep.size) < SWAPI_NULL_FRACTION
    out["swapi"] = {"epoch": ep, "swapi_pseudo_proton_speed": speed,
                    "swapi_pseudo_proton_density": np.where(failed, np.nan, density),
                    "swapi_pseudo_proton_temperature": np.where(failed, np.nan, temperature)}

    ep, t = epochs("swe")
    p = model.plasma(t)
    energy = np.asarray(SWE_ENERGY)
    psd = electron_psd({name: v[:, None] for name, v in p.items()}, energy, 0.5, 0.7)
    counts = np.rint(psd * energy**2 * 3.7e28 * np.exp(0.05 * rng.standard_normal(psd.shape))).astype(np.int64)
    out["swe"] = {"epoch": ep, "swe_normalized_counts": counts,
                  "swe_counterstreaming_electrons": (p["bidirectional"] > 0.5).astype(np.uint8)}

    ep, t = epochs("hit")
    sep = _sep(model, t)
    n = ep.size
    pois = rng.poisson
    out["hit"] = {
        "epoch": ep,
        "hit_e_a_side_low_en": pois(75 + 300 * sep), "hit_e_a_side_med_en": pois(58 + 200 * sep),
        "hit_e_a_side_high_en": pois(2 + 20 * sep),
        "hit_e_b_side_low_en": pois(72 + 300 * sep), "hit_e_b_side_med_en": pois(56 + 200 * sep),
        "hit_e_b_side_high_en": pois(2 + 20 * sep),
        "hit_h_omni_low_en": pois(1500 * sep**2), "hit_h_omni_med_en": pois(300 * sep**2),
        "hit_h_a_side_high_en": pois(3 * sep**2, n), "hit_h_b_side_high_en": pois(3 * sep**2, n),
        "hit_he_omni_low_en": pois(60 * sep**2), "hit_he_omni_high_en": pois(10 * sep**2),
    }

    ttj = _ttj(model, day, "codice_hi")
    sub = (ttj[:, None] + (np.asarray(CODICE_HI_SUBEPOCH_S) * _NS).astype(np.int64)[None, :]).ravel()
    t = _utc(sub)
    e = np.asarray(CODICE_HI_ENERGY)
    base = 2.0e3 * (e / e[0]) ** -2.5 * (1.0 + 300.0 * _sep(model, t)[:, None] ** 2 * (e / e[0]) ** 1.2)
    sector = 1.0 + 0.3 * np.cos(np.arange(4) * np.pi / 2)[None, None, :, None]
    polar = np.array([1.0, 0.8, 0.7, 0.9])[None, None, None, :]
    h = base[:, :, None, None] * sector * polar * rng.lognormal(0.0, 0.2, (sub.size, e.size, 4, 4))
    out["codice_hi"] = {"epoch": sub, "codice_hi_h": np.round(h, 4)}
    out["codice_lo"] = {"epoch": np.zeros(0, np.int64)}

    ttj = _ttj(model, day, "spacecraft")
    t = _utc(ttj)
    s = model.seconds(t)
    w = 2 * np.pi / (180.0 * 86400.0)  # a slow Lissajous orbit about L1
    pos = np.stack([1.3e6 + 4.0e4 * np.sin(w * s), -2.0e5 + 2.0e5 * np.cos(w * s), 1.0e5 + 5.0e4 * np.sin(2 * w * s)],
                   axis=1)
    vel = np.stack([4.0e4 * w * np.cos(w * s), -2.0e5 * w * np.sin(w * s), 1.0e5 * w * np.cos(2 * w * s)], axis=1)
    out["spacecraft"] = {"epoch": ttj, "sc_position_GSE": pos, "sc_position_GSM": model.rotate(pos, t, "gsm"),
                         "sc_velocity_GSE": vel, "sc_velocity_GSM": model.rotate(vel, t, "gsm")}
    for inst, fields in out.items():
        for name, values in fields.items():
            if name != "epoch" and values.dtype.kind == "f" and inst != "codice_hi":
                fields[name] = np.round(values, 3)
    return out


# ---------------------------------------------------------------------------------------------- the archive CDF
_GLOBAL_ATTRS = {
    "Project": "STP>Solar Terrestrial Probes",
    "Source_name": "IMAP>Interstellar Mapping and Acceleration Probe",
    "Discipline": "Solar Physics>Heliospheric Physics",
    "Mission_group": "IMAP",
    "PI_name": "Prof. David J. McComas",
    "PI_affiliation": "Princeton University",
    "Instrument_type": ["Particles (space)", "Magnetic Fields (space)", "Plasma and Solar Wind (space)",
                        "Ephemeris/Attitude/Ancillary"],
    "Data_type": "L1_REALTIME>Level-1 Realtime",
    "Descriptor": "IALiRT>IMAP I-ALiRT (IMAP Active Link in Real Time)",
    "Logical_source": "imap_ialirt_l1_realtime",
    "Logical_source_description": "IMAP Mission IMAP Active Link for Real-Time (I-ALiRT) Level-1 Data",
    "Data_version": "001",
    "Generated_by": "IMAP Science Data Center",
    "ground_software_version": "1.0.40",
    "TEXT": "I-ALiRT (IMAP Active Link for Real-Time) real-time space-weather data. Synthetic: written by "
            "imap-explorer from its solar-wind model, in the layout of the SDC's daily I-ALiRT archive.",
    "Acknowledgement": "Please acknowledge the IMAP Science Data Center.",
    "Rules_of_use": "Real-time data are preliminary; do not use them for science without the L1/L2 products.",
    "HTTP_LINK": "https://imap.princeton.edu/",
    "LINK_TITLE": "IMAP The Interstellar Mapping and Acceleration Probe",
}

_EPOCH_ATTRS = {"VAR_TYPE": "support_data", "UNITS": "ns", "FILLVAL": _INT_FILL, "MONOTON": "INCREASE",
                "VALIDMIN": 315576066184000000, "VALIDMAX": 3155716869184000000, "FORMAT": " ",
                "SCALETYP": "linear", "TIME_BASE": "J2000", "TIME_SCALE": "Terrestrial Time",
                "REFERENCE_POSITION": "Rotating Earth Geoid", "RESOLUTION": " "}

_LABELS = {
    "B_GSE_labels": ["Bx (GSE)", "By (GSE)", "Bz (GSE)"],
    "B_GSM_labels": ["Bx (GSM)", "By (GSM)", "Bz (GSM)"],
    "B_RTN_labels": ["B radial (RTN)", "B tangential (RTN)", "B normal (RTN)"],
    "sc_GSE_position_labels": ["sc X (GSE)", "sc Y (GSE)", "sc Z (GSE)"],
    "sc_GSM_position_labels": ["sc X (GSM)", "sc Y (GSM)", "sc Z (GSM)"],
    "sc_GSE_velocity_labels": ["sc Vx (GSE)", "sc Vy (GSE)", "sc Vz (GSE)"],
    "sc_GSM_velocity_labels": ["sc Vx (GSM)", "sc Vy (GSM)", "sc Vz (GSM)"],
    "codice_hi_polar_labels": [f"{p}deg" for p in CODICE_HI_POLAR],
    "codice_hi_spin_sector_labels": ["sector 0", "sector 1", "sector 2", "sector 3"],
}
_VECTOR_LABELS = {"mag_B_GSE": "B_GSE_labels", "mag_B_GSM": "B_GSM_labels", "mag_B_RTN": "B_RTN_labels",
                  "sc_position_GSE": "sc_GSE_position_labels", "sc_position_GSM": "sc_GSM_position_labels",
                  "sc_velocity_GSE": "sc_GSE_velocity_labels", "sc_velocity_GSM": "sc_GSM_velocity_labels"}
_CATDESC = {
    "mag_B_GSE": "Magnetic field vector in GSE coordinates", "mag_B_GSM": "Magnetic field vector in GSM coordinates",
    "mag_B_RTN": "Magnetic field vector in RTN coordinates", "mag_B_magnitude": "Magnetic field magnitude",
    "mag_phi_B_GSE": "Azimuth angle of the magnetic field in GSE", "mag_theta_B_GSE": "Elevation angle in GSE",
    "mag_phi_B_GSM": "Azimuth angle of the magnetic field in GSM", "mag_theta_B_GSM": "Elevation angle in GSM",
    "swapi_pseudo_proton_density": "Pseudo proton density", "swapi_pseudo_proton_speed": "Pseudo proton speed",
    "swapi_pseudo_proton_temperature": "Pseudo proton temperature",
    "swe_normalized_counts": "Normalized electron counts at 8 energies (100-1011 eV)",
    "swe_counterstreaming_electrons": "Counterstreaming electron flag",
    "hit_e_a_side_med_en": "Electrons < 1 MeV, A side", "hit_e_b_side_med_en": "Electrons < 1 MeV, B side",
    "hit_h_omni_low_en": "Protons 6-8 MeV, omnidirectional", "hit_h_omni_med_en": "Protons 12-15 MeV, omnidirectional",
    "hit_he_omni_low_en": "He-4 6-8 MeV/nuc, omnidirectional",
    "hit_he_omni_high_en": "He-4 15-70 MeV/nuc, omnidirectional",
    "codice_hi_h": "CoDICE-Hi H+ intensity",
    "sc_position_GSE": "Spacecraft position in GSE", "sc_position_GSM": "Spacecraft position in GSM",
    "sc_velocity_GSE": "Spacecraft velocity in GSE", "sc_velocity_GSM": "Spacecraft velocity in GSM",
}
_CODICE_LO = ("codice_lo_c_over_o_abundance", "codice_lo_mg_over_o_abundance", "codice_lo_fe_over_o_abundance",
              "codice_lo_c_plus_6_over_c_plus_5", "codice_lo_o_plus_7_over_o_plus_6", "codice_lo_fe_low_over_fe_high")
_HIT_PUBLIC = ("hit_e_a_side_med_en", "hit_e_b_side_med_en", "hit_h_omni_low_en", "hit_h_omni_med_en",
               "hit_he_omni_low_en", "hit_he_omni_high_en")


def _data_attrs(name: str, depend_0: str, units: str, **extra) -> dict:
    attrs = {"CATDESC": _CATDESC.get(name, name.replace("_", " ")), "FIELDNAM": name.replace("_", " ")[:30],
             "DEPEND_0": depend_0, "VAR_TYPE": "data", "UNITS": units, "FILLVAL": _FLOAT_FILL, "FORMAT": "F12.3",
             "DISPLAY_TYPE": "time_series", "LABLAXIS": name[:30], "SCALETYP": "linear", "VALIDMIN": -1e30,
             "VALIDMAX": 1e30}
    attrs.update(extra)
    return attrs


def _float_var(name: str, values: np.ndarray, depend_0: str, units: str, **extra) -> RawVariable:
    data = np.where(np.isnan(values), _FLOAT_FILL, values).astype(np.float32)
    return RawVariable(name, data, "CDF_FLOAT", _data_attrs(name, depend_0, units, **extra), compress=0)


def _cdf_variables(rec: dict[str, dict[str, np.ndarray]]) -> list[RawVariable]:
    epoch_names = {"mag": "mag_epoch", "swapi": "swapi_epoch", "swe": "swe_epoch", "hit": "hit_epoch",
                   "codice_lo": "codice_lo_epoch", "codice_hi": "codice_hi_epoch", "spacecraft": "ephemeris_epoch"}
    out = []
    for inst, name in epoch_names.items():
        attrs = dict(_EPOCH_ATTRS, CATDESC=f"Time of the {inst} measurement" if inst != "spacecraft"
                     else "Time of the spacecraft ephemeris", FIELDNAM=name.replace("_", " "), LABLAXIS=name)
        out.append(RawVariable(name, rec[inst]["epoch"].astype(np.int64), "CDF_TIME_TT2000", attrs, compress=0))
    m = rec["mag"]
    for name in ("mag_B_GSE", "mag_B_GSM", "mag_B_RTN"):
        out.append(_float_var(name, m[name], "mag_epoch", "nT", LABL_PTR_1=_VECTOR_LABELS[name],
                              DISPLAY_TYPE="time_series"))
    out.append(_float_var("mag_B_magnitude", m["mag_B_magnitude"], "mag_epoch", "nT"))
    for name in ("mag_theta_B_GSE", "mag_theta_B_GSM"):
        out.append(_float_var(name, m[name], "mag_epoch", "degrees", VALIDMIN=-90.0, VALIDMAX=90.0))
    for name in ("mag_phi_B_GSE", "mag_phi_B_GSM"):
        out.append(_float_var(name, m[name], "mag_epoch", "degrees", VALIDMIN=0.0, VALIDMAX=360.0))
    s = rec["swapi"]
    out.append(_float_var("swapi_pseudo_proton_density", s["swapi_pseudo_proton_density"], "swapi_epoch", "1/cm^3"))
    out.append(_float_var("swapi_pseudo_proton_speed", s["swapi_pseudo_proton_speed"], "swapi_epoch", "km/sec"))
    out.append(_float_var("swapi_pseudo_proton_temperature", s["swapi_pseudo_proton_temperature"], "swapi_epoch",
                          "Kelvin", VALIDMIN=0.0, VALIDMAX=5e7, SCALETYP="log"))
    w = rec["swe"]
    out.append(RawVariable("swe_normalized_counts", w["swe_normalized_counts"].astype(np.int64), "CDF_INT8",
                           {**_data_attrs("swe_normalized_counts", "swe_epoch", "normalized counts"),
                            "DEPEND_1": "swe_electron_energy", "FILLVAL": _INT_FILL, "VALIDMIN": 0,
                            "VALIDMAX": 5_000_000_000_000, "SCALETYP": "log", "DISPLAY_TYPE": "spectrogram",
                            "FORMAT": "I20"}, compress=0))
    out.append(RawVariable("swe_counterstreaming_electrons", w["swe_counterstreaming_electrons"].astype(np.uint8),
                           "CDF_UINT1", {**_data_attrs("swe_counterstreaming_electrons", "swe_epoch",
                                                       "1=counterstreaming"),
                                         "FILLVAL": 255, "VALIDMIN": 0, "VALIDMAX": 1, "FORMAT": "I1"}, compress=0))
    h = rec["hit"]
    for name in _HIT_PUBLIC:  # the restricted fields are not archived
        out.append(_float_var(name, h[name].astype(float), "hit_epoch", "counts", VALIDMIN=0.0))
    n_lo = rec["codice_lo"]["epoch"].size
    for name in _CODICE_LO:
        values = rec["codice_lo"].get(name, np.zeros(n_lo))
        out.append(_float_var(name, values, "codice_lo_epoch", " "))
    out.append(_float_var("codice_hi_h", rec["codice_hi"]["codice_hi_h"], "codice_hi_epoch",
                          "counts / cm2-sr-s-MeV", DEPEND_1="codice_hi_energy_center", DEPEND_2="codice_hi_spin_sector",
                          DEPEND_3="codice_hi_polar", DISPLAY_TYPE="spectrogram", SCALETYP="log", VALIDMIN=0.0,
                          VALIDMAX=1e8, FORMAT="F12.4"))
    sc = rec["spacecraft"]
    for name in ("sc_position_GSE", "sc_position_GSM", "sc_velocity_GSE", "sc_velocity_GSM"):
        out.append(_float_var(name, sc[name], "ephemeris_epoch", "km" if "position" in name else "km/s",
                              LABL_PTR_1=_VECTOR_LABELS[name]))
    # support data (non-record-varying)
    e = np.asarray(CODICE_HI_ENERGY, dtype=np.float32)
    edges = np.geomspace(0.02, 3.62, 16).astype(np.float32)

    def support(name: str, values: np.ndarray, cdf_type: str, units: str, **extra) -> RawVariable:
        attrs = {"CATDESC": name.replace("_", " "), "FIELDNAM": name.replace("_", " ")[:30], "VAR_TYPE": "support_data",
                 "UNITS": units, "FORMAT": "F10.4", "LABLAXIS": name[:30], **extra}
        return RawVariable(name, values, cdf_type, attrs, record_varying=False, compress=0)

    out.append(support("swe_electron_energy", np.asarray(SWE_ENERGY, dtype=np.float32), "CDF_FLOAT", "eV",
                       SCALETYP="log"))
    out.append(support("codice_hi_energy_center", e, "CDF_FLOAT", "MeV", SCALETYP="log"))
    out.append(support("codice_hi_energy_minus", (e - edges[:-1]).astype(np.float32), "CDF_FLOAT", "MeV"))
    out.append(support("codice_hi_energy_plus", (edges[1:] - e).astype(np.float32), "CDF_FLOAT", "MeV"))
    out.append(support("codice_hi_polar", np.asarray(CODICE_HI_POLAR, dtype=np.float32), "CDF_FLOAT", "degrees",
                       LABL_PTR_1="codice_hi_polar_labels"))
    out.append(support("codice_hi_spin_sector", np.arange(4, dtype=np.uint8), "CDF_UINT1", " ", FORMAT="I1",
                       LABL_PTR_1="codice_hi_spin_sector_labels"))
    ref = np.array([196.85, 174.55, 253.16, 275.44])
    angle = ((ref[None, :] + 90.0 * np.arange(4)[:, None]) % 360.0).astype(np.float32)
    out.append(support("codice_hi_spin_angle", angle, "CDF_FLOAT", "degrees", DEPEND_1="codice_hi_spin_sector",
                       DEPEND_2="codice_hi_polar"))
    for name, labels in _LABELS.items():
        width = max(len(x) for x in labels)
        out.append(RawVariable(name, np.array(labels), "CDF_CHAR",
                               {"CATDESC": name.replace("_", " "), "FIELDNAM": name.replace("_", " ")[:30],
                                "VAR_TYPE": "metadata", "FORMAT": f"A{width}"},
                               record_varying=False, compress=0, num_elements=width))
    return out


def write_ialirt_day(root: str | os.PathLike[str], day: DayLike, *, model: SolarWind) -> list[Path]:
    """Write one day of the I-ALiRT stream under an archive ``root``: the archive CDF plus raw packets and logs.

    Returns
    -------
    list of pathlib.Path
        The archive CDF first, then the packet and log files.
    """
    day = day_start(day)
    rec = simulate_day(model, day)
    ymd = str(day)[:10]
    path = Path(root, "imap", "ialirt", "l1", ymd[:4], ymd[5:7], archive_name(day))
    attrs = dict(_GLOBAL_ATTRS, Logical_file_id=path.stem, Start_date=ymd.replace("-", ""),
                 Generation_date=(dt.date.fromisoformat(ymd) + dt.timedelta(days=7)).strftime("%Y%m%d"))
    written = [write_raw(path, attrs, _cdf_variables(rec))]
    written.extend(_write_raw_files(Path(root), day, model))
    return written


def _write_raw_files(root: Path, day: np.datetime64, model: SolarWind) -> list[Path]:
    """One packet file per hour (60 CCSDS packets, APID 478) and two ground-system logs for the day."""
    date = dt.date.fromisoformat(str(day)[:10])
    doy = date.timetuple().tm_yday
    out = []
    for hour in range(24):
        name = f"iois_1_packets_{date.year}_{doy:03d}_{hour:02d}_00_05"
        body = bytearray()
        for seq in range(60):
            # CCSDS primary header: version 0, telemetry, no secondary header, APID 478; then 10 bytes of data
            body += (478).to_bytes(2, "big") + ((0xC000 | (hour * 60 + seq)) & 0xFFFF).to_bytes(2, "big")
            body += (9).to_bytes(2, "big") + bytes((hour + seq + i) % 256 for i in range(10))
        out.append(_write_small(root / "ialirt" / "packets" / name, bytes(body)))
    for instance in (1, 2):
        name = f"flight_iois_{instance}.log.{date.year}-{doy:03d}T00_00_05.{123456 + instance:06d}"
        text = "".join(f"{date.isoformat()}T{h:02d}:00:05 iois_{instance} INFO link up, {58 + h % 3} packets/min\n"
                       for h in range(24))
        out.append(_write_small(root / "ialirt" / "logs" / name, text.encode()))
    return out


def _write_small(path: Path, data: bytes) -> Path:
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)
    return path
