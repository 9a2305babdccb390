"""The energetic-neutral-atom sky shared by the synthetic Hi, Lo, Ultra and GLOWS products, and the map writer.

The sky (:func:`sky_intensity`, HAE ecliptic J2000 directions) has three parts, as IBEX and IMAP see it:

* the **globally distributed flux** (GDF), with each imager's own median spectrum (from the real maps), brighter
  toward the heliospheric nose (259.2 deg, 5.1 deg) than toward the tail, by ~4x;
* the **IBEX ribbon**: a ~8 deg wide circle of 74.5 deg radius about (221 deg, 39 deg), brightest at 1-3 keV, up
  to ~3x the GDF there;
* the **interstellar neutral flow** for Lo: a compact, very bright blob at (140 deg, 5 deg) at the lowest
  energies (the direction from which the neutral H and He reach IMAP in the spacecraft frame in the winter).

:func:`write_map` writes one L2 rectangular map (one record, ``(epoch, energy, longitude, latitude)``) with the
structure of the real maps of that imager; ``ena_intensity`` is positive and finite wherever
``exposure_factor`` is non-zero and fill where it is zero. Geometry helpers give the spin axis of a pointing (the
spacecraft points its spin axis ~4 deg off the Sun, :meth:`SolarWind.spin_axis_gse`) and the look directions of
a sensor at a given angle from it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product
from imap_explorer.synthetic._spec import load_spec
from imap_explorer.synthetic.physics import SolarWind
from imap_explorer.synthetic.repoint import Pointing

__all__ = ["ENERGIES", "healpix_centres", "look_directions", "sky_intensity", "spin_axis", "write_map"]

NOSE = (259.2, 5.1)
RIBBON_CENTRE = (221.0, 39.0)
RIBBON_RADIUS = 74.5
ISN_FLOW = (140.0, 5.0)
#: energies (keV) and median GDF intensities (cm^-2 s^-1 sr^-1 keV^-1) of the real maps of each imager
ENERGIES = {
    "hi": (np.array([0.5, 0.75, 1.1, 1.65, 2.5, 3.75, 5.7, 8.52, 12.8]),
           np.array([874, 447, 251, 128, 41, 13, 4.4, 1.7, 0.84])),
    "lo": (np.array([0.015, 0.029, 0.055, 0.11, 0.209, 0.439, 0.872]),
           np.array([3.3e4, 7.7e3, 2.8e3, 1.4e3, 336, 49, 16.5])),
    "ultra": (np.array([3.71, 5.66, 8.45, 12.7, 19.2, 28.6, 42.7, 63.8, 95.2, 142, 212, 286]),
              np.array([1.59, 0.43, 0.11, 0.028, 0.0076, 0.0022, 7.7e-4, 2.7e-4, 1.2e-4, 5.4e-5, 2.8e-5, 1.9e-5])),
}
#: Half widths of the energy bins as fractions of the energy (minus, plus).
_DELTA = {"hi": (0.23, 0.23), "lo": (0.3, 0.3), "ultra": (0.19, 0.235)}


def unit(lon, lat) -> np.ndarray:
    """Unit vectors (..., 3) of ecliptic longitudes and latitudes in degrees."""
    lon, lat = np.deg2rad(np.asarray(lon, float)), np.deg2rad(np.asarray(lat, float))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def lonlat(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude (0..360) and latitude (deg) of unit vectors (..., 3)."""
    lon = np.mod(np.rad2deg(np.arctan2(vec[..., 1], vec[..., 0])), 360.0)
    lat = np.rad2deg(np.arcsin(np.clip(vec[..., 2], -1, 1)))
    return lon, lat


def _angle(vec: np.ndarray, lon: float, lat: float) -> np.ndarray:
    return np.rad2deg(np.arccos(np.clip(vec @ unit(lon, lat), -1, 1)))


def gdf_spectrum(instrument: str, energy) -> np.ndarray:
    """Median GDF intensity of ``instrument`` ('hi', 'lo', 'ultra') at ``energy`` (keV), log-log interpolated."""
    e, med = ENERGIES[instrument]
    return np.exp(np.interp(np.log(energy), np.log(e), np.log(med)))


def sky_intensity(instrument: str, energy, lon, lat) -> np.ndarray:
    """ENA intensity (cm^-2 s^-1 sr^-1 keV^-1) of the model sky, shape ``energy.shape + lon.shape``.

    ``lon``/``lat`` (deg, HAE) broadcast together; ``energy`` (keV) is a 1-D array.
    """
    energy = np.atleast_1d(np.asarray(energy, float))
    vec = unit(*np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float)))
    extra = (None,) * vec[..., 0].ndim
    e = energy[(slice(None), *extra)]
    nose = np.cos(np.deg2rad(_angle(vec, *NOSE)))
    gdf = gdf_spectrum(instrument, energy)[(slice(None), *extra)] * (0.4 + 0.6 * (1 + nose) ** 1.5 / 2 ** 1.5) * 1.6
    ring = np.exp(-0.5 * ((_angle(vec, *RIBBON_CENTRE) - RIBBON_RADIUS) / 5.0) ** 2)
    ribbon_gain = 3.0 * np.exp(-0.5 * (np.log(e / 1.8) / 0.9) ** 2)
    out = gdf * (1 + ribbon_gain * ring)
    if instrument == "lo":
        d_lon = (np.mod(lonlat(vec)[0] - ISN_FLOW[0] + 180.0, 360.0) - 180.0)
        blob = np.exp(-0.5 * ((d_lon / 9.0) ** 2 + ((lonlat(vec)[1] - ISN_FLOW[1]) / 6.0) ** 2))
        isn = 3e7 * np.exp(-e / 0.03)
        out = out + isn * blob
    return out


# ---------------------------------------------------------------------------------------------- geometry
def sun_longitude(time: np.datetime64) -> float:
    """Geocentric ecliptic longitude of the Sun (deg) at ``time`` (low-precision solar formula)."""
    d = (np.datetime64(time, "s") - np.datetime64("2000-01-01T12:00:00", "s")).astype(np.int64) / 86400.0
    g = np.deg2rad(357.529 + 0.98560028 * d)
    return float(np.mod(280.459 + 0.98564736 * d + 1.915 * np.sin(g) + 0.020 * np.sin(2 * g), 360.0))


def spin_axis(model: SolarWind, pointing: Pointing) -> np.ndarray:
    """Unit spin axis (HAE) during ``pointing``: the model's GSE spin axis turned to ecliptic longitudes."""
    gse = model.spin_axis_gse(np.array([pointing.midpoint]))[0]
    lon = sun_longitude(pointing.midpoint) + np.rad2deg(np.arctan2(gse[1], gse[0]))
    return unit(lon, np.rad2deg(np.arcsin(gse[2])))


def look_directions(axis: np.ndarray, angle_from_axis: float, spin_angle) -> np.ndarray:
    """Look directions (..., 3) of a sensor ``angle_from_axis`` deg from ``axis``, at spin angles from north."""
    north = np.array([0.0, 0.0, 1.0])
    e1 = north - (north @ axis) * axis
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    psi = np.deg2rad(np.asarray(spin_angle, float))[..., None]
    a = np.deg2rad(angle_from_axis)
    return np.cos(a) * axis + np.sin(a) * (np.cos(psi) * e1 + np.sin(psi) * e2)


def healpix_centres(nside: int) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (deg) of the RING-ordered HEALPix pixel centres.

    Examples
    --------
    >>> lon, lat = healpix_centres(32)
    >>> lon.size, round(float(lat[0]), 2), float(lon[0])
    (12288, 88.54, 45.0)
    """
    npix = 12 * nside * nside
    ncap = 2 * nside * (nside - 1)
    p = np.arange(npix)
    z = np.empty(npix)
    phi = np.empty(npix)
    north = p < ncap
    i = np.floor((1 + np.sqrt(1 + 2 * p[north])) / 2).astype(np.int64)
    j = p[north] - 2 * i * (i - 1) + 1
    z[north] = 1 - i**2 / (3.0 * nside**2)
    phi[north] = np.pi / (2 * i) * (j - 0.5)
    belt = (p >= ncap) & (p < npix - ncap)
    q = p[belt] - ncap
    i = q // (4 * nside) + nside
    j = q % (4 * nside) + 1
    fodd = np.where((i + nside) % 2 == 1, 1.0, 0.5)
    z[belt] = (2 * nside - i) * 2.0 / (3.0 * nside)
    phi[belt] = (j - fodd) * np.pi / (2 * nside)
    south = p >= npix - ncap
    q = npix - p[south]
    i = np.floor((1 + np.sqrt(2 * q - 1)) / 2).astype(np.int64)
    j = 4 * i + 1 - (q - 2 * i * (i - 1))
    z[south] = -1 + i**2 / (3.0 * nside**2)
    phi[south] = (j - 0.5) * np.pi / (2 * i)
    return np.rad2deg(phi), np.rad2deg(np.arcsin(z))


# ---------------------------------------------------------------------------------------------- maps
def _regrid(spec: dict, n_lon: int, n_lat: int) -> dict:
    """The spec of a map on another rectangular grid (dimension sizes of the longitude/latitude axes)."""
    old = next(v for v in spec["variables"] if v["name"] == "longitude")["dims"][0]
    old_lat = next(v for v in spec["variables"] if v["name"] == "latitude")["dims"][0]
    for var in spec["variables"]:
        deps = [var["attrs"].get(f"DEPEND_{k}", [None])[0] for k in range(1, 5)]
        deps = [d for d in deps if d is not None]
        dims = list(var["dims"])
        offset = len(dims) - len(deps) if var["record_varying"] else 0
        for k, dep in enumerate(deps):
            idx = k + offset if var["record_varying"] else k
            if 0 <= idx < len(dims):
                if dep == "longitude" and dims[idx] == old:
                    dims[idx] = n_lon
                elif dep == "latitude" and dims[idx] == old_lat:
                    dims[idx] = n_lat
        if var["name"] in ("longitude", "longitude_label", "longitude_delta"):
            dims = [n_lon]
        if var["name"] in ("latitude", "latitude_label", "latitude_delta"):
            dims = [n_lat]
        var["dims"] = dims
    return spec


def write_map(root: str | os.PathLike[str], *, instrument: str, descriptor: str, spec_name: str,
              start: np.datetime64, duration_days: float, exposure, seed: int = 0,
              parents: list[str] | None = None) -> Path:
    """Write one L2 rectangular ENA map of ``instrument`` with the structure of ``spec_name``.

    ``exposure(lon, lat)`` gives the exposure (s) of each pixel centre (2-D arrays, lon first); zero means
    unobserved. The grid spacing is read from the descriptor (``4deg``/``6deg``).
    """
    spacing = float(next(t for t in descriptor.split("-") if t.endswith("deg"))[:-3])
    lon = np.arange(spacing / 2, 360.0, spacing)
    lat = np.arange(-90.0 + spacing / 2, 90.0, spacing)
    spec = load_spec(spec_name)
    real_lon = next(v for v in spec["variables"] if v["name"] == "longitude")["dims"][0]
    if real_lon != lon.size:
        spec = _regrid(spec, lon.size, lat.size)
    energy, _ = ENERGIES[instrument]
    n_e = energy.size
    rng = np.random.default_rng([seed, 30, lon.size, n_e])
    lon2, lat2 = np.meshgrid(lon, lat, indexing="ij")
    expo = np.broadcast_to(np.asarray(exposure(lon2, lat2), float), lon2.shape)
    expo_e = np.broadcast_to(expo, (n_e, *expo.shape))
    truth = sky_intensity(instrument, energy, lon2, lat2)
    gf = 1e-3 * energy[:, None, None] / energy[0]                    # counts per (intensity * s)
    counts = rng.poisson(truth * expo_e * gf * 50.0) + 1.0            # at least one count where observed
    seen = expo_e > 0
    intensity = np.where(seen, counts / (expo_e * gf * 50.0 + ~seen), np.nan)
    stat = np.where(seen, intensity / np.sqrt(counts), np.nan)
    d_minus, d_plus = _DELTA[instrument]
    solid = np.deg2rad(spacing) * (np.sin(np.deg2rad(lat + spacing / 2)) - np.sin(np.deg2rad(lat - spacing / 2)))
    coverage = int(duration_days * 86400e9)
    obs = np.where(seen, tt2000(start)[0] + coverage // 2, np.iinfo(np.int64).min)
    data: dict[str, object] = {
        "epoch": tt2000(start), "epoch_delta": np.array([coverage]),
        "energy": energy, "energy_delta_minus": d_minus * energy, "energy_delta_plus": d_plus * energy,
        "energy_label": [f"{e:g}" for e in energy], "longitude": lon, "latitude": lat,
        "longitude_delta": np.full(lon.size, spacing / 2), "latitude_delta": np.full(lat.size, spacing / 2),
        "longitude_label": [f"{x:g}" for x in lon], "latitude_label": [f"{x:g}" for x in lat],
        "ena_intensity": intensity[None], "ena_intensity_stat_uncert": stat[None],
        "ena_intensity_sys_err": 0.1 * intensity[None], "exposure_factor": np.array(expo_e)[None],
        "solid_angle": np.broadcast_to(solid[None, :], lon2.shape)[None],
    }
    names = {v["name"] for v in spec["variables"]}
    if "obs_date" in names:
        data["obs_date"] = obs[None]
        data["obs_date_range"] = np.where(seen, 0, np.iinfo(np.int64).min)[None]
    rate = np.where(seen, counts / np.maximum(expo_e, 1e-9), np.nan)
    bg = np.where(seen, 0.01 * np.ones_like(expo_e), np.nan)
    for name, value in (("counts", np.where(seen, counts, np.nan)), ("bg_rate", bg),
                        ("bg_rate_stat_uncert", 0.1 * bg), ("bg_rate_sys_err", 0.05 * bg),
                        ("ena_count_rate", rate), ("ena_count_rate_stat_uncert", rate / np.sqrt(counts)),
                        ("bg_intensity", bg / (gf * 50.0)), ("bg_intensity_stat_uncert", 0.1 * bg / (gf * 50.0)),
                        ("bg_intensity_sys_err", 0.05 * bg / (gf * 50.0))):
        if name in names:
            data[name] = value[None]
    for name in ("sensitivity", "efficiency", "geometric_function"):
        if name in names:
            data[name] = np.broadcast_to(gf, expo_e.shape)
    for name in ("positional_uncert_theta", "positional_uncert_phi"):
        if name in names:
            data[name] = np.broadcast_to(spacing / 2, expo_e.shape)
    level_globals = {"Spacing_degrees": f"{spacing:.1f}"} if "Spacing_degrees" in spec["globals"] else {}
    sensor = descriptor.split("-", 1)[0]                       # h90, u45, l090: name the sensor of this map
    names = {"hi": ("Hi45", f"Hi{sensor[1:]}"), "ultra": ("Ultra45", f"Ultra{sensor[1:]}")}.get(instrument)
    if names:
        real_type = str(spec["globals"]["Data_type"][0][0])            # L2_<descriptor>>Level-2 ... for Hi45
        level_globals["Data_type"] = f"L2_{descriptor}>{real_type.split('>', 1)[1].replace(*names)}"
        text = str(spec["globals"]["Logical_source_description"][0][0])
        level_globals["Logical_source_description"] = text.replace(*names)
    if "Mapper_tool_configuration" in spec["globals"]:
        level_globals["Mapper_tool_configuration"] = (
            f"canonical_map_period:\n  map_period: {duration_days / 30.4:.0f}\n  number_of_maps: 1\n"
            f"instrument: {instrument}\nmap_data_type: ENA Intensity\npixel_parameter: {spacing:g}\n")
    return write_product(root, spec_name, instrument=instrument, data_level="l2", descriptor=descriptor,
                         day=start, data=data, n_records=1, spec=spec, parents=parents, extra_globals=level_globals)
