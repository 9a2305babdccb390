"""Synthetic HIT L2 ``macropixel-intensity``: an energetic-particle event peaking at the shock.

Energetic ions accelerated at the approaching interplanetary shock rise ahead of it (e-folding
:data:`RISE_HOURS`), peak at the shock passage and decay behind it (:data:`DECAY_HOURS`): the classic
energetic storm particle (ESP) event. Spectra are power laws in energy per nucleon; heavier species follow with
smaller abundances. The angular distribution streams along the Parker spiral (azimuth ~45 deg).

The layout is the flight file's (spec ``hit_l2_macropixel-intensity``): 1 440 one-minute records, each
(species, energy) bin filled once per 10-record cycle (H E0-E2 in records 0-2, He4 3-4, CNO 5-6, NeMgSi 7-8,
Fe 9) and fill otherwise; intensities are counts over a geometric factor, so quiet bins are exactly 0.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product, ymd
from imap_explorer.synthetic.physics import DAY, SolarWind

__all__ = ["DECAY_HOURS", "RISE_HOURS", "esp_profile", "write_hit_day"]

RISE_HOURS = 2.5
DECAY_HOURS = 4.0
#: species -> (energy means MeV/nuc, delta minus, delta plus, abundance relative to H at the same MeV/nuc)
SPECIES = {
    "h": ([2.7, 5.0, 8.0], [0.9, 1.0, 2.0], [0.9, 1.0, 2.0], 1.0),
    "he4": ([5.0, 9.0], [1.0, 3.0], [1.0, 3.0], 0.03),
    "cno": ([5.0, 9.0], [1.0, 3.0], [1.0, 3.0], 0.004),
    "nemgsi": ([5.0, 9.0], [1.0, 3.0], [1.0, 3.0], 0.0009),
    "fe": ([8.0], [4.0], [4.0], 0.0004),
}
#: record-in-cycle -> (species, energy index)
_CYCLE = [("h", 0), ("h", 1), ("h", 2), ("he4", 0), ("he4", 1), ("cno", 0), ("cno", 1), ("nemgsi", 0),
          ("nemgsi", 1), ("fe", 0)]
AZIMUTH = np.arange(12.0, 360.0, 24.0)
ZENITH = np.arange(11.25, 180.0, 22.5)


def esp_profile(model: SolarWind, times) -> np.ndarray:
    """Relative intensity (peak 1 at the shock) of the energetic-particle event at ``times``."""
    dt_h = model.seconds(times) / 3600.0 - model.shock_hours
    return np.where(dt_h < 0, np.exp(dt_h / RISE_HOURS), np.exp(-dt_h / DECAY_HOURS))


def _intensity_h(energy: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Proton intensity (1/(cm^2 s sr MeV/nuc)) at ``energy`` (MeV/nuc) for a relative ``profile``."""
    peak = 40.0 * (np.asarray(energy) / 2.7) ** -3.0
    return profile[:, None] * peak[None, :] + 1e-6 * (np.asarray(energy) / 2.7) ** -1.0


def write_hit_day(root: str | os.PathLike[str], day: np.datetime64, *, model: SolarWind) -> Path:
    """Write HIT L2 ``macropixel-intensity`` for ``day`` under ``root``."""
    day = np.datetime64(day, "D").astype("datetime64[ns]")
    n = 1440
    times = day + (np.arange(n) * 60_000_000_000 + 30_000_000_000).astype("timedelta64[ns]")
    day_no = int(round(model.seconds(day[None])[0] / DAY))
    rng = np.random.default_rng([model.seed, 22, day_no + 100_000])
    profile = esp_profile(model, times)
    az = np.deg2rad(AZIMUTH)[:, None]
    ze = np.deg2rad(ZENITH)[None, :]
    # streaming along the Parker field, sunward hemisphere brighter
    angular = (1 + 0.35 * np.cos(az - np.deg2rad(45.0)) * np.sin(ze)) / 1.0
    data: dict[str, object] = {"epoch": tt2000(times), "dynamic_threshold_state": np.zeros(n, np.uint8),
                               "zenith": ZENITH, "azimuth": AZIMUTH,
                               "zenith_label": [f"{z:g}" for z in ZENITH],
                               "azimuth_label": [f"{a:g}" for a in AZIMUTH]}
    slot = np.arange(n) % 10
    for sp, (mean, dm, dp, abundance) in SPECIES.items():
        e = np.array(mean)
        intensity = _intensity_h(e, profile) * abundance                    # (n, E)
        # counts per unit intensity of one macropixel (cm^2 sr s MeV/nuc): quiet bins count 0
        conv = (5e4 * (np.array(dm) + np.array(dp)) / 3.6)[None, :, None, None]
        counts = rng.poisson(intensity[:, :, None, None] * angular[None, None] * conv)
        value = counts / conv
        stat = np.sqrt(counts + 1.0) / conv
        keep = np.zeros(value.shape, dtype=bool)
        for k, (name, idx) in enumerate(_CYCLE):
            if name == sp:
                keep[slot == k, idx] = True
        value = np.where(keep, value, np.nan)
        stat = np.where(keep, stat, np.nan)
        sys = 0.1 * value
        data[f"{sp}_macropixel_intensity"] = value
        data[f"{sp}_stat_uncert_plus"] = stat
        data[f"{sp}_stat_uncert_minus"] = np.minimum(stat, value)
        data[f"{sp}_sys_err_plus"] = sys
        data[f"{sp}_sys_err_minus"] = sys
        data[f"{sp}_total_uncert_plus"] = np.hypot(stat, sys)
        data[f"{sp}_total_uncert_minus"] = np.hypot(np.minimum(stat, value), sys)
        data[f"{sp}_energy_mean"] = e
        data[f"{sp}_energy_delta_minus"] = dm
        data[f"{sp}_energy_delta_plus"] = dp
        data[f"{sp}_energy_mean_label"] = [f"{x:g}" for x in mean]
    return write_product(root, "hit_l2_macropixel-intensity", instrument="hit", data_level="l2",
                         descriptor="macropixel-intensity", day=day, n_records=n, data=data,
                         parents=[f"imap_hit_l1b_sectored-rates_{ymd(day)}_v001.cdf"])
