"""Synthetic IMAP-Hi: L1C pointing sets (45 and 90 deg sensors, one per repointing) and L2 ENA maps.

A PSET holds, per ESA step and calibration product, the counts in 3 600 spin-angle bins of 0.1 deg over one
pointing, the exposure time per bin and the look direction of each bin (``hae_longitude``/``hae_latitude``), in
the layout of the real file (spec ``hi_l1c_45sensor-pset``). Counts are Poisson draws from the model sky of
:mod:`imap_explorer.synthetic.ena` along the sensor's scan circle (45 deg sensor: 135 deg from the sunward
spin axis; 90 deg sensor: a great circle). The maps (``h90-ena-h-hf-nsp-full-hae-{4,6}deg-6mo``) are written
once per period (dated by its first day), with a small unobserved patch (a data gap) left as fill.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product
from imap_explorer.synthetic.ena import ENERGIES, lonlat, look_directions, sky_intensity, spin_axis, write_map
from imap_explorer.synthetic.physics import SolarWind
from imap_explorer.synthetic.repoint import Pointing

__all__ = ["MAP_DESCRIPTORS", "write_hi_maps", "write_hi_pset"]

MAP_DESCRIPTORS = ("h90-ena-h-hf-nsp-full-hae-4deg-6mo", "h90-ena-h-hf-nsp-full-hae-6deg-6mo")
_SENSOR_ANGLE = {"45sensor": 135.0, "90sensor": 90.0}


def write_hi_pset(root: str | os.PathLike[str], pointing: Pointing, *, model: SolarWind,
                  sensor: str = "45sensor") -> Path:
    """Write the Hi L1C PSET of one ``pointing`` for ``sensor`` ('45sensor' or '90sensor')."""
    axis = spin_axis(model, pointing)
    spin = np.arange(3600) * 0.1 + 0.05
    look = look_directions(axis, _SENSOR_ANGLE[sensor], spin)
    lon, lat = lonlat(look)
    energy = ENERGIES["hi"][0]
    duration = (pointing.end - pointing.start).astype(np.int64) / 1e9
    exposure = np.full((9, 3600), duration / 3600.0 / 9.0, np.float32)
    rate = sky_intensity("hi", energy, lon, lat) * (2.5e-5 * energy[:, None])      # counts/s per bin
    rng = np.random.default_rng([model.seed, 31, pointing.repointing, 0 if sensor == "45sensor" else 1])
    counts = rng.poisson(rate[:, None, :] * exposure[:, None, :] * np.array([0.7, 0.3])[None, :, None])
    data = {
        "epoch": tt2000(pointing.start), "epoch_delta": [int(duration * 1e9)],
        "despun_z": axis[None].astype(np.float32), "hae_latitude": lat[None], "hae_longitude": lon[None],
        "counts": counts[None], "exposure_times": exposure[None],
        "background_rates": np.zeros((1, 9, 2, 3600)), "background_rates_uncertainty": np.zeros((1, 9, 2, 3600)),
        "esa_energy_step": np.arange(1, 10), "calibration_prod": np.arange(2), "spin_angle_bin": np.arange(3600),
        "esa_energy_step_label": [str(i) for i in range(1, 10)], "calibration_prod_label": ["0", "1"],
        "spin_bin_label": [f"{a:.2f}" for a in spin], "label_vector_HAE": ["x HAE", "y HAE", "z HAE"],
    }
    return write_product(root, "hi_l1c_45sensor-pset", instrument="hi", data_level="l1c",
                         descriptor=f"{sensor}-pset", day=pointing.day, data=data, n_records=1,
                         repointing=pointing.repointing,
                         parents=[f"imap_hi_l1b_{sensor}-de_{pointing.ymd}_v001.cdf"])


def _exposure(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Hi-90 over six months: great circles through the poles (exposure ~ 1/cos lat), one missed week."""
    expo = 350.0 / np.maximum(np.cos(np.deg2rad(lat)), 0.08)
    gap = (lon >= 84.0) & (lon < 96.0) & (np.abs(lat) < 40.0)
    return np.where(gap, 0.0, np.round(expo, 1))


def write_hi_maps(root: str | os.PathLike[str], start: np.datetime64, *, model: SolarWind,
                  parents: list[str] | None = None) -> list[Path]:
    """Write the Hi L2 maps of the period starting ``start`` (4 and 6 deg)."""
    return [write_map(root, instrument="hi", descriptor=d, spec_name="hi_l2_map", start=start, duration_days=182.5,
                      exposure=_exposure, seed=model.seed, parents=parents) for d in MAP_DESCRIPTORS]
