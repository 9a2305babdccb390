"""Built-in recipes: each IMAP product family's Dataset -> :class:`~imap_explorer.plot.plan.Plan` (pure).

What each draws follows what the product is (see the reference in ``instruments.md``): ENA sky maps as
Mollweide maps per energy; pointing sets as sky maps (HEALPix) or spin-angle x energy-step images; GLOWS
lightcurves and latitude profiles as profiles, its solar history against time; SWAPI, CoDICE, HIT spectra as
energy-time spectrograms; direct events as 2-D histograms; IDEX dust events as event markers (a waveform on
request). Products without a recipe fall back to :func:`by_istp_hints`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from imap_explorer.plot._istp import _attr, _text, plot_kind, product_of, scale_type
from imap_explorer.plot.plan import Plan, View
from imap_explorer.plot.registry import register_recipe
from imap_explorer.plot.timeseries import Panel, plan_panels

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

#: Reference directions on the sky (ecliptic longitude) that a map can be centred on.
NOSE_LONGITUDE = 259.2
#: At most this many energies are drawn as maps unless one is asked for.
MAX_MAP_PANELS = 6
_SENSORS = {"h45": "Hi45", "h90": "Hi90", "hic": "Hi combined", "u45": "Ultra45", "u90": "Ultra90",
            "ulc": "Ultra combined", "l090": "Lo90", "l90": "Lo90", "ilo90": "Lo90"}
_QUANTITIES = {"ena": "ENA", "enanbs": "ENA (no bootstrap/sputtering corr.)", "isn": "ISN",
               "isnnbkgnd": "ISN (no background sub.)", "enaraw": "ENA (raw)", "spx": "ENA spectral index",
               "int": "ENA intensity", "drt": "ENA"}
_FRAMES = {"sf": "spacecraft frame", "hf": "helio frame", "hk": "heliocentric-kinetic frame",
           "sc": "spacecraft frame"}
_SURVIVAL = {"sp": "survival corrected", "nsp": "no survival corr."}
_SPIN = {"ram": "ram", "anti": "anti-ram", "full": "full spin"}


# --------------------------------------------------------------------------- helpers (pure)
def map_title(descriptor: str | None) -> str:
    """A readable title from an ENA map descriptor (sensor-quantity-species-frame-surv-spin-coords-pixels-duration).

    Examples
    --------
    >>> map_title("h45-ena-h-hf-nsp-ram-hae-4deg-6mo")
    'Hi45 H ENA, helio frame, no survival corr., ram, HAE 4°, 6 mo'
    >>> map_title("u45-ena-h-sf-sp-full-hae-nside16-3mo")
    'Ultra45 H ENA, spacecraft frame, survival corrected, full spin, HAE HEALPix nside 16, 3 mo'
    """
    tokens = _text(descriptor).lower().split("-")
    if len(tokens) < 9:
        return _text(descriptor)
    sensor, quantity, species, frame, surv, spin, coords, pixels, duration = tokens[:9]
    pixels = f"HEALPix nside {pixels[5:]}" if pixels.startswith("nside") else pixels.replace("deg", "°")
    duration = re.sub(r"^(\d+)(mo|yr)$", r"\1 \2", duration)
    return (f"{_SENSORS.get(sensor, sensor)} {species.upper()} {_QUANTITIES.get(quantity, quantity)}, "
            f"{_FRAMES.get(frame, frame)}, {_SURVIVAL.get(surv, surv)}, {_SPIN.get(spin, spin)}, "
            f"{coords.upper()} {pixels}, {duration}")


def _center(center: Any) -> float:
    if center is None:
        return 0.0
    if isinstance(center, str) and center.strip().lower() == "nose":
        return NOSE_LONGITUDE
    try:
        return float(center)
    except (TypeError, ValueError):
        msg = f"center={center!r}: expected 'nose' or a longitude in degrees."
        raise ValueError(msg) from None


def _dims_without_records(var: xr.DataArray) -> list[str]:
    return [str(d) for d in var.dims if d != "epoch"]


def _record_select(var: xr.DataArray) -> tuple[tuple[str, int], ...]:
    """Pick the first record (and squeeze any other leading length-1 dimension)."""
    return tuple((str(d), 0) for d, n in zip(var.dims, var.shape) if d == "epoch" or (n == 1 and var.ndim > 1))


def _energy_indices(values: np.ndarray, energy: float | None, limit: int = MAX_MAP_PANELS) -> list[int]:
    """Indices of the energies to draw: the one nearest ``energy``, else up to ``limit`` spread over the band."""
    n = len(values)
    if energy is not None:
        finite = np.where(np.isfinite(values), values, np.inf)
        return [int(np.argmin(np.abs(finite - float(energy))))]
    if n <= limit:
        return list(range(n))
    return sorted({int(round(v)) for v in np.linspace(0, n - 1, limit)})


def _values(ds: xr.Dataset, name: str | None) -> np.ndarray:
    if name is None or name not in ds.variables:
        return np.empty(0)
    return np.asarray(ds[name].values, dtype=np.float64).ravel()


def _has_data(ds: xr.Dataset, name: str) -> bool:
    values = np.asarray(ds[name].values)
    if values.dtype.kind not in "iuf":
        return False
    return bool(np.isfinite(values.astype(np.float64, copy=False)).any()) if values.dtype.kind == "f" else True


def _energy_text(ds: xr.Dataset, coord: str | None, index: int) -> str:
    if coord is None or coord not in ds.variables:
        return f"step {index}"
    value = float(np.asarray(ds[coord].values, dtype=np.float64).ravel()[index])
    units = _text(_attr(ds[coord].attrs, "UNITS")) or ""
    return f"{value:.4g} {units}".strip()


def _dim_for(var: xr.DataArray, ds: xr.Dataset, coord: str) -> str | None:
    """The dimension of ``var`` along ``coord``: its name, else a dimension of the same length."""
    if coord in var.dims:
        return coord
    if coord in ds.variables:
        size = ds[coord].size
        same = [d for d in _dims_without_records(var) if var.sizes[d] == size]
        if len(same) == 1:
            return same[0]
    return None


def _requested(variables: Sequence[str] | None, default: Sequence[str]) -> list[str]:
    return list(variables) if variables else [v for v in default]


# --------------------------------------------------------------------------- time-axis recipes
def time_series(ds: xr.Dataset, *, variables: Sequence[str] | None = None, energy: float | None = None,
                **_: Any) -> Plan:
    """Panels on one time axis from the product rules and ISTP hints (MAG, SWE, generic)."""
    return Plan("time_series", plan_panels(ds, variables, energy=energy))


register_recipe(time_series, instrument="mag")
register_recipe(time_series, instrument="swe")


def _time_plan(name: str, ds: xr.Dataset, panels: list[Panel], variables: Sequence[str] | None,
               energy: float | None = None) -> Plan:
    if variables:
        return Plan(name, plan_panels(ds, variables, energy=energy))
    if not panels:
        return Plan(name, plan_panels(ds, None, energy=energy))
    return Plan(name, panels)


@register_recipe(instrument="swapi", data_level="l[12]*")
def swapi_rates(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """SWAPI L1/L2: PCEM, SCEM and coincidence rates (or counts) as energy-step x time spectrograms."""
    panels = []
    for channel in ("pcem", "scem", "coin"):
        name = next((f"swp_{channel}_{q}" for q in ("rate", "counts") if f"swp_{channel}_{q}" in ds.variables), None)
        if name is not None and ds[name].ndim == 2 and "epoch" in ds[name].dims:
            dim = str(ds[name].dims[1])
            # the file's `energy` is the step index 0-71 ("Energy step id in lookup table"), not eV
            y = "esa_energy" if "esa_energy" in ds.variables else dim
            panels.append(Panel("energy_spectrogram", name, dim=dim, y=y, log=True))
    return _time_plan("swapi_rates", ds, panels, variables)


@register_recipe(instrument="swapi", data_level="l3*")
def swapi_moments(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """SWAPI L3a: speed, density (log), temperature (log), velocity vectors; failed fits are gaps."""
    panels = []
    for suffix, title in (("speed", "Speed"), ("density", "Density"), ("temperature", "Temperature"),
                          ("clock_angle", "Clock angle"), ("deflection_angle", "Deflection angle")):
        members = tuple(str(n) for n, v in ds.data_vars.items()
                        if re.search(rf"_sw_{suffix}(_sun)?$", str(n)) and v.dims == ("epoch",))
        if members:
            log = suffix in ("density", "temperature")
            panels.append(Panel("time_series", members[0], members=members, labels=members, title=title,
                                log=log, floor=1e-3 if suffix in ("speed", "density", "temperature") else None))
    for name, var in ds.data_vars.items():
        if str(name).endswith(("rtn_sun", "rtn_sc")) and var.ndim == 2 and var.shape[1] == 3:
            labels = tuple(f"V_{c} ({str(name).rsplit('_', 1)[-1]})" for c in "RTN")
            panels.append(Panel("time_series", str(name), members=(str(name),), labels=labels,
                                title=f"V RTN {str(name).rsplit('_', 1)[-1]}"))
    return _time_plan("swapi_moments", ds, panels, variables)


_CODICE_SPECIES_ORDER = ("hplus", "heplusplus", "oplus6", "cplus5", "fe_loq", "heplus", "oplus7", "cplus6",
                         "cplus4", "oplus5", "oplus8", "ne", "mg", "si", "fe_hiq", "cnoplus")


@register_recipe(instrument="codice", descriptor="*-species")
def codice_species(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """CoDICE Lo species: one energy-per-charge x time spectrogram per species that holds data (up to 6)."""
    species = [s for s in _CODICE_SPECIES_ORDER if s in ds.variables and _has_data(ds, s)]
    y = "energy_per_charge" if "energy_per_charge" in ds.variables else None
    panels = [Panel("energy_spectrogram", s, dim="esa_step", y=y, log=True) for s in species[:6]]
    plan = _time_plan("codice_species", ds, panels, variables)
    if not variables and len(species) > 6:
        plan.notes.append(f"also holds {', '.join(species[6:])} (pass variables=[...] to draw them)")
    return plan


@register_recipe(instrument="codice", descriptor="*-priority")
def codice_priority(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """CoDICE L1A priority counts: ESA step x time spectrograms, averaged over spin sectors."""
    names = [str(n) for n, v in ds.data_vars.items() if re.match(r"p\d_", str(n)) and "esa_step" in v.dims]
    panels = [Panel("energy_spectrogram", n, dim="esa_step", log=True) for n in names[:6]]
    return _time_plan("codice_priority", ds, panels, variables)


@register_recipe(instrument="codice", descriptor="hi-sectored")
def codice_hi_sectored(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """CoDICE Hi sectored: omnidirectional (angle-averaged) energy x time spectrogram per species."""
    panels = []
    for species in ("h", "he3he4", "cno", "fe"):
        if species in ds.variables and ds[species].ndim >= 2:
            dim = str(ds[species].dims[1])
            y = f"energy_{species}" if f"energy_{species}" in ds.variables else None
            panels.append(Panel("energy_spectrogram", species, dim=dim, y=y, log=True, zero_below=1e-10))
    return _time_plan("codice_hi_sectored", ds, panels, variables)


@register_recipe(instrument="hit", descriptor="*intensity")
def hit_intensity(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """HIT L2: per species, energy x time spectrogram on the real energy-bin edges (angle-averaged).

    Each (species, energy) bin of a macropixel product is filled once per 10 records, so records are
    averaged in blocks of 10 (one 10-minute cycle): every bin then shows data instead of stripes of fill.
    """
    panels = []
    for name, var in ds.data_vars.items():
        match = re.match(r"(\w+?)_(macropixel|standard|summed)_intensity$", str(name))
        if not match or "epoch" not in var.dims or var.ndim < 2:
            continue
        species = match.group(1)
        dim = str(var.dims[1])
        edges = (f"{species}_energy_delta_minus", f"{species}_energy_delta_plus")
        block = 10 if match.group(2) == "macropixel" else 1
        panels.append(Panel("energy_spectrogram", str(name), dim=dim, y=dim if dim in ds.variables else None,
                            y_edges=edges if all(e in ds.variables for e in edges) else None, block=block,
                            log=True))
    return _time_plan("hit_intensity", ds, panels, variables)


@register_recipe(instrument="glows", data_level="l3d")
def glows_solar_history(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """GLOWS L3d: solar-wind speed and density against time and heliolatitude, and phion, Ly-alpha, n_e."""
    panels = []
    for name in ("plasma_speed", "proton_density"):
        if name in ds.variables and ds[name].ndim == 2:
            panels.append(Panel("spectrogram", name, dim=str(ds[name].dims[1]), floor=0.0))
    for name in ("phion", "lyman_alpha", "electron_density"):
        if name in ds.variables and ds[name].dims == ("epoch",):
            panels.append(Panel("time_series", name, members=(name,), floor=0.0))  # -1 and -1e30: no data
    return _time_plan("glows_solar_history", ds, panels, variables)


@register_recipe(instrument="lo", data_level="l1b", descriptor="histrates")
def lo_histrates(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """Lo L1B histogram rates: spin bin (6 degrees) x time of H and O rates, summed over ESA steps."""
    panels = []
    for name in ("h_rates", "o_rates"):
        if name in ds.variables and "epoch" in ds[name].dims and ds[name].ndim == 3:
            panels.append(Panel("spectrogram", name, dim=str(ds[name].dims[2]), log=True))
    return _time_plan("lo_histrates", ds, panels, variables)


# --------------------------------------------------------------------------- sky maps
def _map_views(ds: xr.Dataset, name: str, *, energy: float | None, center: float, log: bool,
               lon: str, lat: str, mask: str | None, label_prefix: str = "") -> list[View]:
    var = ds[name]
    energy_coord = next((c for c in ("energy", "energy_bin_geometric_mean", "energy_grid", "esa_energy_step")
                         if c in ds.variables and _dim_for(var, ds, c) is not None), None)
    select = list(_record_select(var))
    views = []
    if energy_coord is None:
        return [View("sky_map", name, lon=lon, lat=lat, select=tuple(select), log=log, center=center, mask=mask,
                     title=label_prefix + name, label=_text(_attr(var.attrs, "UNITS")))]
    dim = _dim_for(var, ds, energy_coord)
    for i in _energy_indices(_values(ds, energy_coord), energy):
        views.append(View("sky_map", name, lon=lon, lat=lat, select=(*select, (dim, i)), log=log, center=center,
                          mask=mask, title=f"{label_prefix}{name} at {_energy_text(ds, energy_coord, i)}",
                          label=_text(_attr(var.attrs, "UNITS"))))
    return views


def _companion(ds: xr.Dataset, name: str, companion: str | None) -> tuple[str | None, bool]:
    if companion is None:
        return None, False
    choice = companion.lower()
    if choice in ("uncertainty", "stat_uncert"):
        other = next((c for c in (f"{name}_stat_uncert", f"{name}_uncertainty", f"unc_{name}")
                      if c in ds.variables), None)
        return other, True
    if choice == "exposure":
        return next((c for c in ("exposure_factor", "exposure_time", "exposure_times") if c in ds.variables),
                    None), False
    if choice in ds.variables:
        return choice, scale_type(ds[choice]) == "log"
    msg = f"companion={companion!r}: expected 'uncertainty', 'exposure' or a variable name."
    raise ValueError(msg)


def _interleave(first: list[View], second: list[View]) -> list[View]:
    out = []
    for a, b in zip(first, second):
        out += [a, b]
    return out


def ena_map(ds: xr.Dataset, *, variables: Sequence[str] | None = None, energy: float | None = None,
            center: Any = None, companion: str | None = None, **_: Any) -> Plan:
    """ENA sky maps (Hi/Lo/Ultra L2/L3): a Mollweide map per energy, log colour, longitude increasing to the left.

    ``energy`` picks the nearest energy (keV); ``center="nose"`` (or a longitude) centres the map;
    ``companion="uncertainty"`` or ``"exposure"`` adds that map beside each intensity map.
    """
    name = _requested(variables, ["ena_intensity"])[0]
    if name not in ds.variables:
        name = next((str(n) for n, v in ds.data_vars.items()
                     if _text(_attr(v.attrs, "DISPLAY_TYPE")).lower().startswith("map")), name)
    lon = next((c for c in ("longitude", "pixel_longitude", "hae_longitude") if c in ds.variables), "longitude")
    lat = next((c for c in ("latitude", "pixel_latitude", "hae_latitude") if c in ds.variables), "latitude")
    mask = "exposure_factor" if "exposure_factor" in ds.variables and name != "exposure_factor" else None
    c = _center(center)
    log = not name.startswith(("exposure", "obs_date"))
    views = _map_views(ds, name, energy=energy, center=c, log=log, lon=lon, lat=lat, mask=mask)
    other, other_log = _companion(ds, name, companion)
    if other is not None:
        views = _interleave(views, _map_views(ds, other, energy=energy, center=c, log=other_log, lon=lon,
                                              lat=lat, mask=mask))
        views = views[: 2 * MAX_MAP_PANELS // 2 * 2]
    return Plan("ena_map", views, time_axis=False, title=map_title(product_of(ds).descriptor))


for _instrument in ("hi", "lo", "ultra"):
    register_recipe(ena_map, instrument=_instrument, data_level="l[23]*")


@register_recipe(instrument="ultra", data_level="l1c")
def ultra_pset(ds: xr.Dataset, *, variables: Sequence[str] | None = None, energy: float | None = None,
               center: Any = None, companion: str | None = None, **_: Any) -> Plan:
    """Ultra L1C pointing set (HEALPix): counts on the sky, summed over all energies and in three energy bands.

    With ``energy``, counts at that energy (and ``companion="exposure"`` the exposure beside it).
    """
    name = _requested(variables, ["counts"])[0]
    var = ds[name]
    c = _center(center)
    lon = "longitude" if "longitude" in ds.variables else None
    lat = "latitude" if "latitude" in ds.variables else None
    select = _record_select(var)
    coord = "energy_bin_geometric_mean"
    dim = _dim_for(var, ds, coord) if coord in ds.variables else None
    units = _text(_attr(var.attrs, "UNITS"))
    log = not name.startswith("exposure")
    if energy is not None or dim is None:
        views = _map_views(ds, name, energy=energy, center=c, log=log, lon=lon, lat=lat, mask=None)
    else:
        n = var.sizes[dim]
        e = _values(ds, coord)
        bands = [(0, n)] + [(int(a), int(b)) for a, b in zip(np.linspace(0, n, 4)[:-1], np.linspace(0, n, 4)[1:])]
        views = []
        for a, b in bands:
            views.append(View("sky_map", name, lon=lon, lat=lat, select=(*select, (dim, (a, b))), over=(dim,),
                              reduce="sum", log=log, center=c, label=units,
                              title=f"{name}, {e[a]:.3g}–{e[b - 1]:.3g} keV" if e.size == n else name))
    other, other_log = _companion(ds, name, companion)
    if other is not None:
        views = _interleave(views, _map_views(ds, other, energy=energy, center=c, log=other_log, lon=lon,
                                              lat=lat, mask=None) * len(views))
    return Plan("ultra_pset", views, time_axis=False, title="Ultra pointing set (HEALPix)")


def _spin_images(ds: xr.Dataset, names: Sequence[str], spin: str, step: str) -> list[View]:
    views = []
    for name in names:
        if name not in ds.variables:
            continue
        var = ds[name]
        x_dim = _dim_for(var, ds, spin)
        y_dim = _dim_for(var, ds, step)
        if x_dim is None or y_dim is None:
            continue
        select = _record_select(var)
        over = tuple(d for d in var.dims if d not in (x_dim, y_dim) and d not in dict(select))
        views.append(View("image", name, x=spin, y=step, select=select, over=over, reduce="sum",
                          log=not name.startswith("exposure"),
                          title=f"{name}" + (f" (sum over {', '.join(over)})" if over else ""),
                          label=_text(_attr(var.attrs, "UNITS"))))
    return views


@register_recipe(instrument="hi", data_level="l1c")
def hi_pset(ds: xr.Dataset, *, variables: Sequence[str] | None = None, center: Any = None, **_: Any) -> Plan:
    """Hi L1C pointing set: counts and exposure as spin angle x ESA step images, and the sky trace of counts."""
    names = _requested(variables, ["counts", "exposure_times"])
    views = _spin_images(ds, names, "spin_angle_bin", "esa_energy_step")
    if not variables and {"hae_longitude", "hae_latitude", "counts"} <= set(map(str, ds.variables)):
        var = ds["counts"]
        views.append(View("sky_map", "counts", lon="hae_longitude", lat="hae_latitude", select=_record_select(var),
                          over=tuple(d for d in var.dims if d not in ("epoch", "spin_angle_bin")), reduce="sum",
                          log=True, center=_center(center), title="counts along the scan (all ESA steps)",
                          label="counts"))
    return Plan("hi_pset", views, time_axis=False, title="Hi pointing set")


@register_recipe(instrument="lo", data_level="l1c")
def lo_pset(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """Lo L1C pointing set: H and O counts and exposure as spin angle x ESA step images (summed over off-angle)."""
    names = _requested(variables, ["h_counts", "o_counts", "exposure_time"])
    views = _spin_images(ds, names, "spin_angle", "esa_energy_step")
    return Plan("lo_pset", views, time_axis=False, title="Lo pointing set")


# --------------------------------------------------------------------------- GLOWS
@register_recipe(instrument="glows", data_level="l2")
@register_recipe(instrument="glows", data_level="l3a")
def glows_lightcurve(ds: xr.Dataset, *, variables: Sequence[str] | None = None, center: Any = None,
                     **_: Any) -> Plan:
    """GLOWS L2/L3a: photon flux against spin angle (with its uncertainty) and the scan circle on the sky."""
    name = _requested(variables, ["photon_flux"])[0]
    var = ds[name]
    select = _record_select(var)
    errors = next((e for e in (f"{name}_uncertainty", "flux_uncertainties") if e in ds.variables), None)
    x = "spin_angle" if "spin_angle" in ds.variables else None
    views = [View("profile", name, x=x, select=select, errors=errors, title=f"{name} against spin angle",
                  label=f"{name} [{_text(_attr(var.attrs, 'UNITS'))}]")]
    if {"ecliptic_lon", "ecliptic_lat"} <= set(map(str, ds.variables)):
        views.append(View("sky_map", name, lon="ecliptic_lon", lat="ecliptic_lat", select=select,
                          center=_center(center), title="scan circle (ecliptic), colour = photon flux",
                          label=_text(_attr(var.attrs, "UNITS"))))
    return Plan("glows_lightcurve", views, time_axis=False, title="GLOWS lightcurve")


@register_recipe(instrument="glows", data_level="l3b")
@register_recipe(instrument="glows", data_level="l3c")
def glows_profiles(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """GLOWS L3b/L3c: ionisation rates or solar-wind speed and density against heliolatitude."""
    views = []
    if variables:
        groups = [[v] for v in variables]
    elif "sum_rate" in ds.variables:
        groups = [[n for n in ("sum_rate", "ph_rate", "cx_rate") if n in ds.variables]]
    else:
        groups = [[n] for n in ("plasma_speed_profile", "proton_density_profile") if n in ds.variables]
    for group in groups:
        var = ds[group[0]]
        errors = group[0].replace("_rate", "_uncert")
        views.append(View("profile", group[0], x="lat_grid" if "lat_grid" in ds.variables else None,
                          select=_record_select(var), members=tuple(group[1:]),
                          errors=errors if errors in ds.variables and errors != group[0] else None,
                          title=", ".join(group) + " against heliolatitude",
                          label=f"{group[0] if len(group) == 1 else 'rate'} [{_text(_attr(var.attrs, 'UNITS'))}]"))
    return Plan("glows_profiles", views, time_axis=False, title="GLOWS latitude profile")


@register_recipe(instrument="glows", data_level="l3e")
def glows_survival(ds: xr.Dataset, *, variables: Sequence[str] | None = None, energy: float | None = None,
                   center: Any = None, **_: Any) -> Plan:
    """GLOWS L3e survival probability: spin angle x energy image (Hi/Lo), or HEALPix sky maps (Ultra)."""
    name = _requested(variables, ["surv_prob"])[0]
    var = ds[name]
    if "healpix_index" in var.dims or "pixel_index" in var.dims:
        lon = "pixel_longitude" if "pixel_longitude" in ds.variables else None
        lat = "pixel_latitude" if "pixel_latitude" in ds.variables else None
        views = _map_views(ds, name, energy=energy if energy is not None else None, center=_center(center),
                           log=False, lon=lon, lat=lat, mask=None)
        views = [View(v.kind, v.variable, lon=None, lat=None, select=v.select, log=False, center=v.center,
                      title=v.title, label="survival probability") for v in views[:4]]
        return Plan("glows_survival", views, time_axis=False, title="GLOWS survival probability (HEALPix)")
    views = [View("image", name, x="spin_angle", y="energy_grid", select=_record_select(var), log=False,
                  log_y=True, title=f"{name}", label="survival probability")]
    return Plan("glows_survival", views, time_axis=False, title="GLOWS survival probability")


# --------------------------------------------------------------------------- events
@register_recipe(instrument="codice", descriptor="*direct-events")
def codice_direct_events(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """CoDICE direct events: 2-D histograms of energy against time of flight (and mass against mass/charge)."""
    pairs = []
    if variables:
        pairs = [(variables[0], variables[1] if len(variables) > 1 else None)]
    else:
        for x, y in (("tof", "ssd_energy"), ("tof", "energy_per_charge"), ("tof", "apd_energy"),
                     ("mass_per_charge", "mass")):
            if x in ds.variables and y in ds.variables:
                pairs.append((x, y))
        if "ssd_energy" in ds.variables:  # most Hi events with a time of flight have no SSD energy: all of them
            pairs.append(("ssd_energy", None))
    views = []
    for x, y in pairs:
        if y is None:
            views.append(View("histogram", x, log_x=True, title=f"{x} of all events",
                              label=f"{x} [{_text(_attr(ds[x].attrs, 'UNITS'))}]"))
            continue
        views.append(View("histogram", y, x=x, y=y, log=True, log_x=True, log_y=True,
                          title=f"{y} against {x} (all records and priorities)", label="events"))
    return Plan("codice_direct_events", views, time_axis=False, title="CoDICE direct events")


@register_recipe(instrument="idex")
def idex_events(ds: xr.Dataset, *, variables: Sequence[str] | None = None, event: int | None = None,
                **_: Any) -> Plan:
    """IDEX dust events: when each event happened and its peak signal per channel; ``event=i``: its waveforms."""
    high = [n for n in ("TOF_Low", "TOF_Mid", "TOF_High") if n in ds.variables]
    low = [n for n in ("Target_Low", "Target_High", "Ion_Grid") if n in ds.variables]
    if event is not None:
        n = ds.sizes.get("epoch", 0)
        if not 0 <= int(event) < n:
            msg = f"event={event}: this product holds {n} events (0 to {n - 1})."
            raise ValueError(msg)
        views = []
        for group, x in ((high, "time_high_sample_rate"), (low, "time_low_sample_rate")):
            if group:
                views.append(View("profile", group[0], x=x if x in ds.variables else None,
                                  select=(("epoch", int(event)),), members=tuple(group[1:]),
                                  title=f"event {int(event)}: {', '.join(group)}", label="signal [dN]"))
        return Plan("idex_waveform", views, time_axis=False, title=f"IDEX dust event {int(event)}")
    members = tuple(variables or (high + low))
    panels = [Panel("events", members[0], members=members, labels=members, title="Peak above baseline")] \
        if members else []
    return _time_plan("idex_events", ds, panels, None)


# --------------------------------------------------------------------------- fall-back: ISTP hints
def _one_record_views(ds: xr.Dataset, names: Sequence[str]) -> list[View]:
    views = []
    for name in names:
        var = ds[name]
        select = _record_select(var)
        dims = [d for d in var.dims if d not in dict(select)]
        units = _text(_attr(var.attrs, "UNITS"))
        display = _text(_attr(var.attrs, "DISPLAY_TYPE")).lower()
        if {"longitude", "latitude"} <= set(dims) or display.startswith("map"):
            views += _map_views(ds, name, energy=None, center=0.0, log=True,
                                lon="longitude", lat="latitude", mask=None)[:2]
        elif len(dims) == 1:
            views.append(View("profile", name, x=dims[0] if dims[0] in ds.variables else None, select=select,
                              title=name, label=f"{name} [{units}]" if units else name))
        elif len(dims) >= 2:
            over = tuple(dims[2:])
            views.append(View("image", name, x=dims[1] if dims[1] in ds.variables else None,
                              y=dims[0] if dims[0] in ds.variables else None, select=select, over=over,
                              log=scale_type(var) == "log", title=name, label=units))
    return views


def _describe(ds: xr.Dataset) -> str:
    parts = [f"{n}{tuple(map(str, v.dims))}" for n, v in ds.data_vars.items()][:12]
    more = len(ds.data_vars) - len(parts)
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "") or "(no variables)"


def one_record(ds: xr.Dataset, *, variables: Sequence[str] | None = None, **_: Any) -> Plan:
    """A product of one record (or none on a time axis): each data variable as a profile, image or map."""
    if variables:
        names = list(variables)
    else:
        numeric = [str(n) for n, v in ds.data_vars.items() if v.dtype.kind in "iuf" and v.size > 1]
        names = [n for n in numeric if _text(_attr(ds[n].attrs, "VAR_TYPE", "data")).lower() == "data"
                 and not _text(_attr(ds[n].attrs, "DISPLAY_TYPE")).lower().startswith("no_plot")]
        names = names or [n for n in numeric if _text(_attr(ds[n].attrs, "VAR_TYPE")).lower() != "metadata"]
    views = _one_record_views(ds, names)[:6]
    if not views:
        source = product_of(ds).logical_source
        msg = (f"Nothing to plot in {source}: it holds one record and no numeric variable with more than one "
               f"value. It holds: {_describe(ds)}.")
        raise ValueError(msg)
    return Plan("one_record", views, time_axis=False)


def by_istp_hints(ds: xr.Dataset) -> Any:
    """The recipe for a product no registration names: from its dimensions and ``DISPLAY_TYPE``."""
    if any(_text(_attr(v.attrs, "DISPLAY_TYPE")).lower().startswith("map") for v in ds.data_vars.values()) \
            and "longitude" in ds.variables and "latitude" in ds.variables:
        return ena_map
    records = ds.sizes.get("epoch", 0)
    if records > 1 and any(plot_kind(v) != "none" for v in ds.data_vars.values()):
        return time_series
    return one_record
