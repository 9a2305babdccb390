"""Synthetic SWAPI products: L2 ``sci`` count rates and L3a ``proton-sw``/``alpha-sw`` moments.

All follow the shared :class:`~imap_explorer.synthetic.physics.SolarWind`: the proton speed is the model's bulk
speed (the one SWE's moments carry), the density the model's electron density less the alphas, and the
temperature jumps at the shock, is hot in the sheath and cold in the magnetic cloud. The L2 rates are a
proton and an alpha peak over the 72-step energy sweep (steps 0-62 a coarse logarithmic sweep from high to low
energy, 63-71 a fine sweep around the proton peak), one averaged sweep a minute, with Poisson noise: the
layout and cadence of the real L2 file (``sci-1min``), under the SDC's current name ``sci``; twelve-second
sweeps would add ~30 MB a day to the archive.

Structures are those of the real files (specs ``swapi_l2_sci``, ``swapi_l3a_proton-sw``, ``swapi_l3a_alpha-sw``).
During the daily repointing the L3a fits fail: those records are fill (gaps), as in the flight files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product, ymd
from imap_explorer.synthetic.physics import DAY, SolarWind

__all__ = ["ENERGY", "proton_moments", "write_swapi_day"]

#: Energy per charge of the 72 sweep steps (eV/q): a coarse sweep 19 keV/q -> 100 eV/q, then a fine sweep.
_COARSE = 19000.0 * (100.0 / 19000.0) ** (np.arange(63) / 62.0)
CADENCE_S = 60.0
_M_P = 1.67262192e-27
_K_B = 1.380649e-23
_Q = 1.602176634e-19


def _energy_table(speed: float = 420.0) -> np.ndarray:
    peak = 0.5 * _M_P * (speed * 1e3) ** 2 / _Q
    fine = peak * np.linspace(1.25, 0.8, 9)
    return np.concatenate([_COARSE, fine])


ENERGY = _energy_table()


def _times(day: np.datetime64) -> np.ndarray:
    n = int(DAY / CADENCE_S)
    return day + (np.arange(n) * int(CADENCE_S * 1e9) + int(CADENCE_S * 5e8)).astype("timedelta64[ns]")


def proton_moments(model: SolarWind, times) -> dict[str, np.ndarray]:
    """Proton and alpha moments (no noise) at ``times``.

    Keys: ``speed`` (km/s), ``density`` (cm^-3), ``temperature`` (K), ``alpha_density``, ``alpha_speed``,
    ``alpha_temperature``.
    """
    s = model.seconds(times)
    p = model.plasma(times)
    r = model._regions(s)
    quiet = np.clip(1 - r["sheath"] - r["cloud"] - r["recovery"], 0, 1)
    ratio = 0.04 * quiet + 0.05 * r["sheath"] + 0.09 * r["cloud"] + 0.045 * r["recovery"]
    n_p = p["density"] / (1 + 2 * ratio)
    speed = p["speed"]
    t_p = (0.031 * speed - 5.1) ** 2 * 1e3 * (1 + 0.6 * r["sheath"]) * (1 - 0.75 * r["cloud"])
    return {"speed": speed, "density": n_p, "temperature": t_p, "alpha_density": ratio * n_p,
            "alpha_speed": speed + 15.0 * quiet + 5.0, "alpha_temperature": 4.0 * t_p}


def _fit_fails(model: SolarWind, times: np.ndarray) -> np.ndarray:
    s = model.seconds(times)
    day_no = int(np.floor(s[0] / DAY))
    a, b = model.repoint_seconds(day_no)
    return (s >= a - 30.0) & (s < b + 30.0)


def _rates(model: SolarWind, times: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    m = proton_moments(model, times)
    v = np.sqrt(2 * ENERGY * _Q / _M_P) / 1e3                     # km/s of a proton at each step
    v_a = np.sqrt(2 * ENERGY * 2 * _Q / (4 * _M_P)) / 1e3         # alpha (m/q = 2) at each step
    res = 0.045                                                   # ESA resolution (dv/v)
    w_p = np.sqrt(2 * _K_B * m["temperature"] / _M_P) / 1e3
    w_a = np.sqrt(2 * _K_B * m["alpha_temperature"] / (4 * _M_P)) / 1e3
    sig_p = np.hypot(w_p[:, None] / np.sqrt(2), res * m["speed"][:, None])
    sig_a = np.hypot(w_a[:, None] / np.sqrt(2), res * m["alpha_speed"][:, None])
    peak = 2.2e3 * m["density"][:, None] * (m["speed"][:, None] / 400.0) ** 2
    proton = peak * np.exp(-0.5 * ((v[None, :] - m["speed"][:, None]) / sig_p) ** 2)
    alpha = peak * 2 * (m["alpha_density"] / m["density"])[:, None] * np.exp(
        -0.5 * ((v_a[None, :] - m["alpha_speed"][:, None]) / sig_a) ** 2)
    dwell = 5 * 0.167                                             # five 12-s sweeps a minute, 0.167 s per step
    out = {}
    for name, eff, bg in (("pcem", 1.0, 3.0), ("scem", 0.85, 2.0), ("coin", 0.3, 0.2)):
        mean = (eff * (proton + alpha) + bg) * dwell
        counts = rng.poisson(mean)
        out[f"swp_{name}_rate"] = counts / dwell
        out[f"swp_{name}_unc"] = np.sqrt(np.maximum(counts, 1)) / dwell
        out[f"swp_{name}_flags"] = np.zeros(counts.shape, np.uint32)
    return out


def write_swapi_day(root: str | os.PathLike[str], day: np.datetime64, *, model: SolarWind) -> list[Path]:
    """Write SWAPI L2 ``sci`` and L3a ``proton-sw``/``alpha-sw`` for ``day`` under ``root``."""
    day = np.datetime64(day, "D").astype("datetime64[ns]")
    times = _times(day)
    n = times.size
    day_no = int(round(model.seconds(day[None])[0] / DAY))
    rng = np.random.default_rng([model.seed, 21, day_no + 100_000])
    date = ymd(day)
    epoch = tt2000(times)
    l2 = write_product(
        root, "swapi_l2_sci", instrument="swapi", data_level="l2", descriptor="sci", day=day, n_records=n,
        data={"epoch": epoch, "energy": np.arange(72), "energy_label": [str(i) for i in range(72)],
              **_rates(model, times, rng)},
        parents=[f"imap_swapi_l1_sci_{date}_v001.cdf"])
    m = proton_moments(model, times)
    bad = _fit_fails(model, times)

    def noisy(values: np.ndarray, rel: float) -> np.ndarray:
        out = values * (1 + rng.normal(0.0, rel, values.shape))
        out[bad] = np.nan
        return out

    speed = noisy(m["speed"], 0.004)
    v_t, v_n = rng.normal(-8.0, 6.0, n), rng.normal(0.0, 6.0, n)
    v_sc = np.stack([speed, v_t, v_n], axis=1)
    v_sun = v_sc + np.array([0.0, 30.0, 0.0])                    # the spacecraft's orbital motion removed
    cov = np.zeros((n, 3, 3))
    cov[:, [0, 1, 2], [0, 1, 2]] = np.array([9.0, 25.0, 25.0])
    cov[bad] = np.nan
    fill_flags = np.where(bad, 8, 0).astype(np.uint16)
    l3_parents = [f"imap_swapi_l2_sci_{date}_v001.cdf"]
    proton = write_product(
        root, "swapi_l3a_proton-sw", instrument="swapi", data_level="l3a", descriptor="proton-sw", day=day,
        n_records=n, parents=l3_parents,
        data={"epoch": epoch, "epoch_delta": np.full(n, 30_000_000_000, np.int64),
              "proton_sw_speed": speed, "proton_sw_speed_uncert": np.where(bad, np.nan, 3.0),
              "proton_sw_speed_sun": np.linalg.norm(v_sun, axis=1),
              "proton_sw_speed_sun_uncert": np.where(bad, np.nan, 3.0),
              "proton_sw_temperature": noisy(m["temperature"], 0.03),
              "proton_sw_temperature_uncert": np.where(bad, np.nan, 0.1 * m["temperature"]),
              "proton_sw_density": noisy(m["density"], 0.02),
              "proton_sw_density_uncert": np.where(bad, np.nan, 0.08 * m["density"]),
              "proton_sw_bulk_velocity_rtn_sun": v_sun, "proton_sw_bulk_velocity_rtn_sun_covariance": cov,
              "proton_sw_bulk_velocity_rtn_sc": v_sc, "proton_sw_bulk_velocity_rtn_sc_covariance": cov,
              "swp_flags": fill_flags})
    alpha = write_product(
        root, "swapi_l3a_alpha-sw", instrument="swapi", data_level="l3a", descriptor="alpha-sw", day=day,
        n_records=n, parents=l3_parents,
        data={"epoch": epoch, "epoch_delta": np.int64(30_000_000_000),
              "alpha_sw_speed": noisy(m["alpha_speed"], 0.006),
              "alpha_sw_temperature": noisy(m["alpha_temperature"], 0.05),
              "alpha_sw_density": noisy(m["alpha_density"], 0.05),
              "alpha_sw_density_uncert": np.where(bad, np.nan, 0.13 * m["alpha_density"]),
              "alpha_sw_speed_uncert": np.where(bad, np.nan, 2.7),
              "alpha_sw_temperature_uncert": np.where(bad, np.nan, 0.3 * m["alpha_temperature"]),
              "swp_flags": np.float64(0.0)})
    return [l2, proton, alpha]
