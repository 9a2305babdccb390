"""Synthetic GLOWS: L3a Lyman-alpha lightcurves per repointing and an L3e survival-probability product.

GLOWS scans a circle 75 deg from the spin axis; the L3a lightcurve (spec ``glows_l3a_hist``) is the photon flux
(Rayleigh) in 4 deg spin-angle bins with the six bins around the bright excluded regions removed (84 kept, as
in the flight file), with the ecliptic coordinates of each bin. The interplanetary Lyman-alpha glow is brightest
toward the upwind direction of the interstellar hydrogen (ecliptic longitude ~252 deg) and faintest downwind.

The L3e ``survival-probability-hi-45`` product (spec of the flight file) gives, per energy and spin angle, the
probability that an H ENA reaches the Hi-45 sensor without being ionised: lower at low energies and toward the
Sun-facing spin angles. The SDC writes one per repointing; the synthetic archive writes it once per period.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product
from imap_explorer.synthetic.ena import lonlat, look_directions, spin_axis, unit
from imap_explorer.synthetic.physics import SolarWind
from imap_explorer.synthetic.repoint import Pointing

__all__ = ["write_glows_l3a", "write_glows_l3e"]

UPWIND = (252.0, 8.0)
_KEPT = np.delete(np.arange(90), [20, 21, 22, 66, 67, 68])                # 84 of the 90 bins of 4 deg
L3E_ENERGY = 0.375 * 1.3 ** np.arange(16)


def _iso(t: np.datetime64) -> str:
    return str(np.datetime64(t, "s")).replace("T", " ")


def write_glows_l3a(root: str | os.PathLike[str], pointing: Pointing, *, model: SolarWind) -> Path:
    """Write the GLOWS L3a lightcurve of one ``pointing``."""
    axis = spin_axis(model, pointing)
    spin = 4.0 * _KEPT + 2.0
    look = look_directions(axis, 75.0, spin)
    lon, lat = lonlat(look)
    cos_up = look @ unit(*UPWIND)
    rng = np.random.default_rng([model.seed, 34, pointing.repointing])
    flux = 700.0 + 650.0 * (1 + cos_up) + 60.0 * np.sin(np.deg2rad(lat)) ** 2
    duration = (pointing.end - pointing.start).astype(np.int64) / 1e9
    exposure = np.full(spin.size, duration * 0.7 / 90.0)
    raw = rng.poisson(flux * exposure * 1.2)
    flux = raw / (exposure * 1.2)
    axis_lon, axis_lat = lonlat(axis)
    mid = pointing.midpoint
    data = {
        "epoch": tt2000(mid), "epoch_delta": [int(duration * 0.35e9)], "identifier": [pointing.repointing],
        "photon_flux": flux[None], "photon_flux_uncertainty": (np.sqrt(raw) / (exposure * 1.2))[None],
        "raw_histogram": raw[None], "exposure_times": exposure[None], "number_of_bins": [spin.size],
        "start_time": [_iso(pointing.start)], "end_time": [_iso(pointing.end)],
        "ecliptic_lat": lat[None], "ecliptic_lon": lon[None],
        "extra_heliospheric_bckgrd": np.zeros((1, spin.size)), "time_dependent_bckgrd": np.zeros((1, spin.size)),
        "filter_temperature_average": [-0.4], "filter_temperature_std_dev": [0.05],
        "hv_voltage_average": [1449.0], "hv_voltage_std_dev": [0.5], "spin_period_average": [15.116],
        "spin_period_std_dev": [0.001], "spin_period_ground_average": [15.116], "spin_period_ground_std_dev": [0.001],
        "pulse_length_average": [4.0], "pulse_length_std_dev": [0.1],
        "position_angle_offset_average": [143.9], "position_angle_offset_std_dev": [0.01],
        "spin_axis_orientation_average": [[float(axis_lon), float(axis_lat)]],
        "spin_axis_orientation_std_dev": [[0.01, 0.01]],
        "spacecraft_location_average": [[9.1e7, 1.15e8, 3e4]], "spacecraft_location_std_dev": [[1e3, 1e3, 1e2]],
        "spacecraft_velocity_average": [[-23.7, 18.3, 0.0]], "spacecraft_velocity_std_dev": [[0.01, 0.01, 0.01]],
        "lon_lat": [0, 1], "lon_lat_labels": ["lon", "lat"], "x_y_z": [0, 1, 2], "x_y_z_labels": ["X", "Y", "Z"],
        "spin_angle": spin[None], "spin_angle_delta": np.full((1, spin.size), 2.0),
    }
    return write_product(root, "glows_l3a_hist", instrument="glows", data_level="l3a", descriptor="hist",
                         day=pointing.day, data=data, n_records=1, repointing=pointing.repointing,
                         parents=[f"imap_glows_l2_hist_{pointing.suffix}_v001.cdf"])


def write_glows_l3e(root: str | os.PathLike[str], pointing: Pointing, *, model: SolarWind) -> Path:
    """Write the GLOWS L3e Hi-45 survival probabilities for ``pointing`` (the archive writes one per period)."""
    spin = np.arange(1.0, 361.0)
    sunward = np.cos(np.deg2rad(spin))[None, :]
    prob = np.exp(-0.23 * (1 + 0.25 * sunward) / np.sqrt(L3E_ENERGY[:, None]))
    axis_lon, axis_lat = lonlat(spin_axis(model, pointing))
    data = {
        "epoch": tt2000(pointing.midpoint), "energy_grid": L3E_ENERGY, "spin_angle": spin,
        "surv_prob": prob[None], "energy_label": [f"Energy Label {i + 1}" for i in range(16)],
        "spin_angle_label": [f"Spin Angle Label {i + 1}" for i in range(360)],
        "spin_axis_latitude": [float(axis_lat)], "spin_axis_longitude": [float(axis_lon)],
        "program_version": ["Hi.v00.01"], "spacecraft_radius": [0.98], "spacecraft_latitude": [0.0],
        "spacecraft_longitude": [float(axis_lon) - 180.0], "spacecraft_velocity_x": [-23.7],
        "spacecraft_velocity_y": [18.3], "spacecraft_velocity_z": [0.0], "elongation": [135],
    }
    return write_product(root, "glows_l3e_survival-probability-hi-45", instrument="glows", data_level="l3e",
                         descriptor="survival-probability-hi-45", day=pointing.day, data=data, n_records=1,
                         repointing=pointing.repointing,
                         parents=[f"imap_glows_l3d_solar-hist_19470303-cr{2307:05d}_v001.cdf"])
