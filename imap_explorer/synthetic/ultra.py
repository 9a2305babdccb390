"""Synthetic IMAP-Ultra: L1C ``45sensor-heliopset`` per repointing (HEALPix nside 32) and an L2 ENA map.

The PSET (spec ``ultra_l1c_45sensor-heliopset``) holds counts, exposure and background per energy bin (46,
3.2-301 keV) and HEALPix pixel (RING, 12 288 pixels, centres in ``longitude``/``latitude``); the exposure is
non-zero on the half of the sky the wide field of view sweeps around the anti-sunward spin axis. The map
(``u45-ena-h-hf-nsp-full-hae-6deg-3mo``, the real map's layout) is written once per period; the polar caps the
45 deg sensor never sees in three months are fill.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product
from imap_explorer.synthetic.ena import healpix_centres, sky_intensity, spin_axis, unit, write_map
from imap_explorer.synthetic.physics import SolarWind
from imap_explorer.synthetic.repoint import Pointing

__all__ = ["MAP_DESCRIPTOR", "PSET_ENERGY", "write_ultra_map", "write_ultra_pset"]

MAP_DESCRIPTOR = "u45-ena-h-hf-nsp-full-hae-6deg-3mo"
PSET_ENERGY = 3.19 * (300.9 / 3.19) ** (np.arange(46) / 45.0)
NSIDE = 32


def write_ultra_pset(root: str | os.PathLike[str], pointing: Pointing, *, model: SolarWind) -> Path:
    """Write the Ultra-45 L1C helio PSET of one ``pointing``."""
    lon, lat = healpix_centres(NSIDE)
    axis = spin_axis(model, pointing)
    away = np.rad2deg(np.arccos(np.clip(unit(lon, lat) @ -axis, -1, 1)))       # angle from the anti-sun axis
    duration = (pointing.end - pointing.start).astype(np.int64) / 1e9
    profile = np.where(away < 95.0, np.sqrt(np.clip(np.cos(np.deg2rad(away * 0.9)), 0, None)), 0.0)
    exposure = np.round(np.broadcast_to(profile * duration * 0.8, (46, lon.size)), 0)
    rng = np.random.default_rng([model.seed, 33, pointing.repointing])
    rate = sky_intensity("ultra", PSET_ENERGY, lon, lat) * 2e-3 * (PSET_ENERGY / 3.19)[:, None] * 0.1
    counts = rng.poisson(rate * exposure).astype(float)
    bg = 8.6e-5 * (2.0e-3 / 8.6e-5) ** (np.arange(46) / 45.0)
    edges = np.sqrt(PSET_ENERGY[:-1] * PSET_ENERGY[1:])
    lo_edge = np.concatenate([[PSET_ENERGY[0] ** 2 / edges[0]], edges])
    hi_edge = np.concatenate([edges, [PSET_ENERGY[-1] ** 2 / edges[-1]]])
    data = {
        "epoch": tt2000(pointing.start), "epoch_delta": [int(duration * 1e9)],
        "counts": counts[None], "exposure_factor": exposure[None],
        "background_rates": np.broadcast_to(bg[:, None], (46, lon.size))[None],
        "latitude": lat[None], "longitude": lon[None], "pixel_index": np.arange(lon.size),
        "energy_bin_geometric_mean": PSET_ENERGY, "energy_bin_delta": (hi_edge - lo_edge)[None],
        "energy_delta_minus": PSET_ENERGY - lo_edge, "energy_delta_plus": hi_edge - PSET_ENERGY,
        "sensitivity": np.zeros((46, lon.size)), "efficiency": np.zeros((46, lon.size)),
        "geometric_function": np.zeros((46, lon.size)),
        "dead_time_ratio": 0.76 + 0.06 * np.sin(np.linspace(0, 2 * np.pi, 15000)),
        "spin_phase_step": np.arange(15000), "quality_flags": np.zeros((1, lon.size)),
        "scatter_theta": np.zeros((46, lon.size)), "scatter_phi": np.zeros((46, lon.size)),
        "scatter_threshold": np.linspace(4.0, 12.0, 46),
    }
    return write_product(root, "ultra_l1c_45sensor-heliopset", instrument="ultra", data_level="l1c",
                         descriptor="45sensor-heliopset", day=pointing.day, data=data, n_records=1,
                         repointing=pointing.repointing,
                         parents=[f"imap_ultra_l1b_45sensor-de_{pointing.ymd}_v001.cdf"])


def _exposure(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    expo = 1.2e5 * (1 + 0.5 * np.cos(np.deg2rad(lat)) ** 2) + 0.0 * lon
    return np.where(np.abs(lat) > 66.0, 0.0, np.round(expo, 0))


def write_ultra_map(root: str | os.PathLike[str], start: np.datetime64, *, model: SolarWind,
                    parents: list[str] | None = None) -> Path:
    """Write the Ultra L2 map of the period starting ``start``."""
    return write_map(root, instrument="ultra", descriptor=MAP_DESCRIPTOR, spec_name="ultra_l2_map", start=start,
                     duration_days=92.0, exposure=_exposure, seed=model.seed, parents=parents)
