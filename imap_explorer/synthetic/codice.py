"""Synthetic CoDICE L2 ``lo-sw-species`` and ``hi-sectored``.

CoDICE-Lo sees each solar-wind ion species as a peak in energy per charge at ``E/q = m v^2 / 2q`` for the bulk
speed ``v`` of the shared :class:`~imap_explorer.synthetic.physics.SolarWind`, so every peak moves up in energy
at the shock. The heavy-ion charge states change with the plasma: in the sheath behind the shock and, much more,
in the magnetic cloud the wind carries hotter-corona material (O7+/O6+, C6+/C5+, high-charge Fe and Fe/O up).
CoDICE-Hi sees the energetic-particle event of :func:`imap_explorer.synthetic.hit.esp_profile`.

Intensities are Poisson counts over a conversion factor, so empty bins are exact zeros (most of them, as in the
flight files). Layouts are the flight files' (specs ``codice_l2_lo-sw-species``, ``codice_l2_hi-sectored``):
energy steps 101-127 (below 1.45 keV/e) are always fill and ``cnoplus`` is all fill, as in flight.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product, ymd
from imap_explorer.synthetic.hit import esp_profile
from imap_explorer.synthetic.physics import DAY, SolarWind
from imap_explorer.synthetic.swapi import proton_moments

__all__ = ["ENERGY_PER_CHARGE", "LO_SPECIES", "charge_state_weights", "write_codice_day"]

#: keV/e of the 128 ESA steps, descending as in the flight files.
ENERGY_PER_CHARGE = 81.216 * (0.5073570769536 / 81.216) ** (np.arange(128) / 127.0)
LO_CADENCE_NS = 238_180_000_000
HI_CADENCE_NS = 242_070_000_000
#: species -> (mass amu, charge, quiet peak intensity, sheath factor, cloud factor)
LO_SPECIES = {
    "hplus": (1, 1, 1.7e5, 1.0, 1.0), "heplusplus": (4, 2, 6.0e5, 1.2, 2.0), "heplus": (4, 1, 3.6e3, 1.0, 3.0),
    "cplus4": (12, 4, 8.0e3, 0.8, 0.4), "cplus5": (12, 5, 2.7e4, 0.9, 0.7), "cplus6": (12, 6, 2.7e4, 1.4, 2.2),
    "oplus5": (16, 5, 4.0e3, 0.8, 0.5), "oplus6": (16, 6, 3.8e4, 1.0, 1.0), "oplus7": (16, 7, 7.6e3, 1.8, 5.0),
    "oplus8": (16, 8, 1.2e3, 2.0, 6.0), "ne": (20, 8, 5.0e3, 1.2, 2.0), "mg": (24, 10, 6.0e3, 1.3, 2.5),
    "si": (28, 10, 5.5e3, 1.3, 2.5), "fe_loq": (56, 9, 1.4e4, 1.1, 1.5), "fe_hiq": (56, 14, 3.0e3, 2.0, 6.0),
}
_HI_SPECIES = {"h": 1.0, "he3he4": 0.05, "cno": 0.01, "fe": 0.002}
HI_ENERGY = 0.0283 * 2.0 ** np.arange(8)
ELEVATION = np.array([150, 138.6, 115.7, 90, 64.3, 41.4, 30, 41.4, 64.3, 90, 115.7, 138.6])
_AMU = 1.66053907e-27
_Q = 1.602176634e-19


def charge_state_weights(model: SolarWind, times) -> dict[str, np.ndarray]:
    """Per-species factor on the quiet intensity at ``times`` (1 in the quiet wind)."""
    r = model._regions(model.seconds(times))
    return {sp: 1 + (fs - 1) * r["sheath"] + (fc - 1) * r["cloud"] for sp, (_, _, _, fs, fc) in LO_SPECIES.items()}


def _records(day: np.datetime64, cadence_ns: int, offset_ns: int) -> np.ndarray:
    n = int((86_400_000_000_000 - offset_ns) // cadence_ns) + 1
    return day + (offset_ns + np.arange(n, dtype=np.int64) * cadence_ns).astype("timedelta64[ns]")


def _lo(root, day: np.datetime64, model: SolarWind, rng: np.random.Generator) -> Path:
    times = _records(day, LO_CADENCE_NS, 44_860_948_864)
    n = times.size
    m = proton_moments(model, times)
    weights = charge_state_weights(model, times)
    e_j = ENERGY_PER_CHARGE * 1e3 * _Q                                   # J per unit charge
    data: dict[str, object] = {
        "epoch": tt2000(times), "data_quality": np.zeros(n, np.uint8),
        "nso_spin_sector": np.full(n, 255, np.uint8), "nso_esa_step": np.full(n, 255, np.uint8),
        "epoch_delta_minus": np.full(n, LO_CADENCE_NS / 2), "epoch_delta_plus": np.full(n, LO_CADENCE_NS / 2),
        "energy_per_charge": ENERGY_PER_CHARGE, "esa_step": np.arange(128), "spin_sector": np.zeros(1),
        "esa_step_label": [str(i) for i in range(128)], "spin_sector_label": ["0"],
    }
    w_th = np.sqrt(2 * 1.380649e-23 * m["temperature"] / 1.67262192e-27) / 1e3       # km/s, equal for all ions
    for sp, (mass, charge, peak, _, _) in LO_SPECIES.items():
        v = np.sqrt(2 * e_j * charge / (mass * _AMU)) / 1e3                          # km/s at each step
        sigma = np.hypot(w_th[:, None] / np.sqrt(2), 0.035 * m["speed"][:, None])
        shape = np.exp(-0.5 * ((v[None, :] - m["speed"][:, None]) / sigma) ** 2)
        intensity = peak * weights[sp][:, None] * (m["density"][:, None] / 6.0) * shape
        conv = 150.0 / peak                                                          # counts per unit intensity
        counts = rng.poisson(intensity * conv)
        value = counts / conv
        unc = np.sqrt(counts) / conv
        value[:, 101:] = np.nan
        unc[:, 101:] = np.nan
        data[sp] = value[:, :, None]
        data[f"unc_{sp}"] = unc[:, :, None]
    return write_product(root, "codice_l2_lo-sw-species", instrument="codice", data_level="l2",
                         descriptor="lo-sw-species", day=day, n_records=n, data=data,
                         parents=[f"imap_codice_l1a_lo-sw-species_{ymd(day)}_v001.cdf"])


def _hi(root, day: np.datetime64, model: SolarWind, rng: np.random.Generator) -> Path:
    times = _records(day, HI_CADENCE_NS, 20_000_000_000)
    n = times.size
    profile = esp_profile(model, times)
    spin_angle = (30.0 * np.arange(12)[:, None] + 15.0 + 10.89 * (np.arange(12)[None, :] - 5.5) / 5.5) % 360.0
    data: dict[str, object] = {
        "epoch": tt2000(times), "data_quality": np.zeros(n, np.uint8),
        "epoch_delta_minus": np.full(n, HI_CADENCE_NS / 2), "epoch_delta_plus": np.full(n, HI_CADENCE_NS / 2),
        "spin_angle": spin_angle, "spin_sector": np.arange(12), "spin_sector_label": [str(i) for i in range(12)],
        "elevation_angle": ELEVATION, "elevation_angle_label": [f"{e:g}" for e in ELEVATION],
    }
    # beamed along the Parker field (spin angle ~45 deg from the sunward sector), near the ecliptic
    beam = (1 + 2.0 * np.exp(-0.5 * ((spin_angle - 45.0) / 40.0) ** 2)) * np.sin(np.deg2rad(ELEVATION))[None, :]
    for sp, abundance in _HI_SPECIES.items():
        intensity = (3e3 * abundance * profile[:, None] * (HI_ENERGY / 0.0283)[None, :] ** -2.2
                     + 1e-4)[:, :, None, None] * beam[None, None]
        conv = 0.02
        counts = rng.poisson(intensity * conv)
        data[sp] = counts / conv
        data[f"unc_{sp}"] = np.sqrt(counts) / conv
        data[f"energy_{sp}"] = HI_ENERGY
        data[f"energy_{sp}_minus"] = 0.293 * HI_ENERGY
        data[f"energy_{sp}_plus"] = 0.414 * HI_ENERGY
        data[f"energy_{sp}_label"] = [f"{e:.4f}" for e in HI_ENERGY]
    return write_product(root, "codice_l2_hi-sectored", instrument="codice", data_level="l2",
                         descriptor="hi-sectored", day=day, n_records=n, data=data,
                         parents=[f"imap_codice_l1b_hi-sectored_{ymd(day)}_v001.cdf"])


def write_codice_day(root: str | os.PathLike[str], day: np.datetime64, *, model: SolarWind) -> list[Path]:
    """Write CoDICE L2 ``lo-sw-species`` and ``hi-sectored`` for ``day`` under ``root``."""
    day = np.datetime64(day, "D").astype("datetime64[ns]")
    day_no = int(round(model.seconds(day[None])[0] / DAY))
    rng = np.random.default_rng([model.seed, 23, day_no + 100_000])
    return [_lo(root, day, model, rng), _hi(root, day, model, rng)]
