"""Synthetic IMAP-Lo: L1C pointing sets per repointing and an L2 ENA map with the interstellar neutral flow.

IMAP-Lo is a single-pixel imager on a pivot platform; at pivot 90 deg it scans a great circle perpendicular to
the spin axis. The PSET (spec ``lo_l1c_pset``: non-record-varying ``(1, esa_energy_step=7, spin_angle=3600,
off_angle=40)`` arrays) holds H, O, triple and double coincidence counts drawn from the model sky of
:mod:`imap_explorer.synthetic.ena` along that circle, mostly zeros, with the interstellar neutral flow where the
circle crosses it. The map ``l090-ena-h-sf-nsp-ram-hae-6deg-1yr`` is written once per period; a few weeks with
no Lo data leave a band of fill.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product
from imap_explorer.synthetic.ena import ENERGIES, lonlat, look_directions, sky_intensity, spin_axis, write_map
from imap_explorer.synthetic.physics import SolarWind
from imap_explorer.synthetic.repoint import MET_OFFSET, Pointing

__all__ = ["MAP_DESCRIPTOR", "write_lo_map", "write_lo_pset"]

MAP_DESCRIPTOR = "l090-ena-h-sf-nsp-ram-hae-6deg-1yr"


def write_lo_pset(root: str | os.PathLike[str], pointing: Pointing, *, model: SolarWind) -> Path:
    """Write the Lo L1C PSET of one ``pointing``."""
    axis = spin_axis(model, pointing)
    spin = np.arange(3600) * 0.1 + 0.05
    lon, lat = lonlat(look_directions(axis, 90.0, spin))
    energy = ENERGIES["lo"][0]
    duration = (pointing.end - pointing.start).astype(np.int64) / 1e9
    exposure = np.float32(duration / 7 / 3600 / 40)
    rate = sky_intensity("lo", energy, lon, lat) * 2e-4 * (energy / energy[0])[:, None] ** 0.5   # per cell
    rng = np.random.default_rng([model.seed, 32, pointing.repointing])
    h = rng.poisson(np.broadcast_to((rate * exposure)[:, :, None], (7, 3600, 40))).astype(np.int16)
    o = rng.poisson(np.broadcast_to((0.01 * rate * exposure)[:, :, None], (7, 3600, 40))).astype(np.int16)
    met = lambda t: int(tt2000(t)[0]) / 1e9 - MET_OFFSET  # noqa: E731
    bg = np.full((7, 3600, 40), 0.0105, np.float32)
    data = {
        "epoch": tt2000(pointing.start), "esa_mode": [0], "pointing_start_met": [met(pointing.start)],
        "pointing_end_met": [met(pointing.end)], "start_spin_number": [int(met(pointing.start) // 15)],
        "end_spin_number": [int(met(pointing.end) // 15)],
        "h_counts": h[None], "o_counts": o[None], "triples_counts": (h // 2)[None],
        "doubles_counts": (h - h // 2)[None],
        "exposure_time": np.full((1, 7, 3600, 40), exposure), "exposure_times": np.full((1, 7, 3600, 40), exposure),
        "h_background_rates": bg, "h_background_rates_stat_uncert": 0.1 * bg, "h_background_rates_sys_err": 0.05 * bg,
        "o_background_rates": 0.1 * bg, "o_background_rates_stat_uncert": 0.01 * bg,
        "o_background_rates_sys_err": 0.005 * bg,
        "esa_energy_step": np.arange(1, 8), "spin_angle": spin, "off_angle": np.linspace(-1.95, 1.95, 40),
    }
    return write_product(root, "lo_l1c_pset", instrument="lo", data_level="l1c", descriptor="pset",
                         day=pointing.day, data=data, n_records=1, repointing=pointing.repointing,
                         parents=[f"imap_lo_l1b_de_{pointing.ymd}-repoint{pointing.repointing:05d}_v001.cdf"])


def _exposure(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    expo = 900.0 / np.maximum(np.cos(np.deg2rad(lat)), 0.1) + 0.0 * lon
    gap = (lon >= 300.0) & (lon < 318.0)
    return np.where(gap, 0.0, np.round(expo, 1))


def write_lo_map(root: str | os.PathLike[str], start: np.datetime64, *, model: SolarWind,
                 parents: list[str] | None = None) -> Path:
    """Write the Lo L2 map of the period starting ``start``."""
    return write_map(root, instrument="lo", descriptor=MAP_DESCRIPTOR, spec_name="lo_l2_map", start=start,
                     duration_days=365.0, exposure=_exposure, seed=model.seed, parents=parents)
