"""Time-axis recipes: MAG, SWE and the generic ISTP rules turn a Dataset into panels (pure, no drawing)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from imap_explorer.plot._istp import (
    _HEADER_FIELDS,
    _SWE_MOMENTS,
    _SWE_PITCH_ANGLE,
    _SWE_SPECTRA,
    DEFAULT_PITCH_ANGLE_ENERGY_EV,
    MAX_GENERIC_PANELS,
    Product,
    _attr,
    _text,
    component_labels,
    mag_frame,
    mag_vector_variable,
    plot_kind,
    product_of,
)

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

PanelKind = Literal["mag_magnitude", "mag_vector", "energy_spectrogram", "angle_spectrogram", "pitch_angle",
                    "time_series", "spectrogram", "events"]


@dataclass(frozen=True)
class Panel:
    """One panel of a quick-look figure (what to draw, not how).

    ``variable`` is the source variable; ``dim`` the dimension kept on the y axis of a spectrogram;
    ``energy`` the energy (eV) of a pitch-angle panel; ``members`` the variables of a grouped
    time-series panel; ``labels`` the legend labels; ``title`` a short name for the y label.
    ``y`` names the variable that places a spectrogram's rows (default: the coordinate of ``dim``) and
    ``y_edges`` the ``(delta_minus, delta_plus)`` variables that give each row's edges; ``block`` averages
    that many records into one column (products that fill each bin once per cycle); ``log`` forces a log
    colour (spectrogram) or y axis (lines); ``floor`` makes values below ``floor`` x the median gaps (failed
    fits reported as 1e-6); ``zero_below`` counts smaller magnitudes as 0 (numerical residues such as CoDICE's
    1e-21, which would stretch a log colour scale over 20 decades).
    """

    kind: PanelKind
    variable: str
    dim: str | None = None
    energy: float | None = None
    members: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    title: str = ""
    y: str | None = None
    y_edges: tuple[str, str] | None = None
    block: int = 1
    log: bool | None = None
    floor: float | None = None
    zero_below: float | None = None


def _split_request(name: str) -> tuple[str, str | None]:
    var, _, dim = name.partition(":")
    return var.strip(), (dim.strip() or None)


def _requested(variables: str | Sequence[str]) -> list[str]:
    """The ``variables=`` argument as a list; an empty one is refused (None means the default panels)."""
    requested = [variables] if isinstance(variables, str) else list(variables)
    if not requested:
        msg = ("variables=[] names no variable to plot. Pass variables=None for the panels chosen from the "
               "product, or name at least one variable, e.g. variables=['flux'].")
        raise ValueError(msg)
    return requested


def _check_variables(ds: xr.Dataset, variables: Sequence[str], source: str) -> None:
    missing = [v for v in variables if _split_request(v)[0] not in ds.variables]
    if missing:
        plottable = sorted(str(n) for n, v in ds.data_vars.items() if plot_kind(v) != "none")
        msg = (f"Variable(s) {', '.join(repr(m) for m in missing)} not in {source}. "
               f"Plottable variables: {', '.join(plottable) or '(none)'}.")
        raise ValueError(msg)
    for request in variables:
        var, dim = _split_request(request)
        if dim is not None and dim not in ds[var].dims[1:]:
            msg = (f"{var!r} has no dimension {dim!r} to plot against. "
                   f"Expected one of: {', '.join(sorted(map(str, ds[var].dims[1:]))) or '(none)'}.")
            raise ValueError(msg)


def _mag_panels(ds: xr.Dataset, product: Product, vector: str) -> list[Panel]:
    frame = mag_frame(product.descriptor)
    if frame is None and vector.startswith("b_"):
        frame = vector[2:].upper()
    labels = component_labels(frame)
    return [Panel("mag_magnitude", vector, labels=("|B|",), title="|B|"),
            Panel("mag_vector", vector, labels=labels, title=f"B {frame}" if frame else "B")]


def _swe_energy_dim(var: xr.DataArray) -> str | None:
    for dim in ("energy", "esa_step"):
        if dim in var.dims:
            return dim
    return None


def _swe_moment_panels(ds: xr.Dataset) -> list[Panel]:
    panels = []
    for title, pattern in _SWE_MOMENTS:
        members = tuple(
            str(name) for name, var in ds.data_vars.items()
            if var.dims == ("epoch",) and var.dtype.kind == "f" and re.search(pattern, str(name))
        )
        if members:
            panels.append(Panel("time_series", members[0], members=members, labels=members, title=title))
    return panels


def _generic_panel(ds: xr.Dataset, name: str, dim: str | None = None) -> Panel | None:
    var = ds[name]
    kind = plot_kind(var)
    if kind == "none":
        return None
    if dim is not None or kind == "spectrogram":
        return Panel("spectrogram", name, dim=dim or str(var.dims[1]))
    return Panel("time_series", name, members=(name,))


def _generic_candidates(ds: xr.Dataset) -> list[str]:
    data = [str(n) for n, v in ds.data_vars.items()
            if _text(_attr(v.attrs, "VAR_TYPE", "data")).lower() == "data" and plot_kind(v) != "none"]
    if data:
        return data
    # no VAR_TYPE=data variable (e.g. SWE L1A cem-raw): the record-varying support data, minus packet headers
    return [str(n) for n, v in ds.data_vars.items()
            if plot_kind(v) != "none" and str(n) not in _HEADER_FIELDS
            and _text(_attr(v.attrs, "VAR_TYPE")).lower() != "metadata"]


def plan_panels(ds: xr.Dataset, variables: Sequence[str] | None = None, *,
                energy: float | None = None) -> list[Panel]:
    """Decide the panels of a dataset's quick look (pure: nothing is drawn).

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset as returned by :func:`imap_explorer.load`.
    variables : sequence of str, optional
        Variables to draw, default chosen from the product. ``"<variable>:<dimension>"`` draws a
        spectrogram against that dimension, averaging over the others (e.g. ``"flux:inst_el"``).
    energy : float, optional
        Energy in eV of the SWE L3 pitch-angle panel (default 270 eV, nearest bin).

    Returns
    -------
    list of Panel

    Raises
    ------
    ValueError
        A requested variable or dimension does not exist, or nothing in ``ds`` can be plotted.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"b_rtn": (("epoch", "direction"), np.zeros((2, 3)))},
    ...                 attrs={"Logical_source": "imap_mag_l2_norm-rtn"})
    >>> [(p.kind, p.labels) for p in plan_panels(ds)]
    [('mag_magnitude', ('|B|',)), ('mag_vector', ('B_R', 'B_T', 'B_N'))]
    """
    product = product_of(ds)
    source = product.logical_source
    panels: list[Panel] = []
    if variables is not None:
        variables = _requested(variables)
        _check_variables(ds, variables, source)
    vector = mag_vector_variable(ds, product.descriptor) if product.instrument in ("mag", None) else None
    is_swe = product.instrument == "swe"
    level = product.data_level or ""

    if variables is None:
        if vector is not None:
            panels = _mag_panels(ds, product, vector)
            variables = []
        elif is_swe and level.startswith("l3"):
            pa = next((n for n in _SWE_PITCH_ANGLE if n in ds.variables and "pitch_angle" in ds[n].dims), None)
            if pa is not None:
                panels.append(Panel("pitch_angle", pa, dim="pitch_angle",
                                    energy=DEFAULT_PITCH_ANGLE_ENERGY_EV if energy is None else float(energy)))
            panels += _swe_moment_panels(ds)
            variables = [] if panels else None  # neither: the generic ISTP rules below
        elif is_swe and level in ("l1b", "l2"):
            spectrum = next((n for n in _SWE_SPECTRA if n in ds.variables and ds[n].ndim >= 2), None)
            variables = [spectrum] if spectrum else None
        if variables is None:
            variables = _generic_candidates(ds)
            if not variables:
                msg = (f"Nothing to plot in {source}: no record-varying numeric variable. "
                       f"Variables: {', '.join(sorted(map(str, ds.variables))) or '(none)'}.")
                raise ValueError(msg)
            if len(variables) > MAX_GENERIC_PANELS:
                warnings.warn(
                    f"{source}: plotting the first {MAX_GENERIC_PANELS} of {len(variables)} variables; "
                    f"pass variables=[...] to choose. Not plotted: {', '.join(variables[MAX_GENERIC_PANELS:])}.",
                    stacklevel=3,
                )
                variables = variables[:MAX_GENERIC_PANELS]

    for request in variables:
        name, dim = _split_request(request)
        if name == vector and dim is None:
            panels += _mag_panels(ds, product, vector)
        elif is_swe and name in _SWE_PITCH_ANGLE and dim is None and "pitch_angle" in ds[name].dims:
            panels.append(Panel("pitch_angle", name, dim="pitch_angle",
                                energy=DEFAULT_PITCH_ANGLE_ENERGY_EV if energy is None else float(energy)))
        elif is_swe and ds[name].ndim >= 2 and (dim or _swe_energy_dim(ds[name])) is not None:
            energy_dim = _swe_energy_dim(ds[name])
            if dim is None or dim == energy_dim:
                panels.append(Panel("energy_spectrogram", name, dim=energy_dim))
            else:
                panels.append(Panel("angle_spectrogram", name, dim=dim))
        else:
            panel = _generic_panel(ds, name, dim)
            if panel is None:
                msg = (f"Cannot plot {name!r} of {source}: it is not a record-varying numeric variable "
                       f"(dims {tuple(map(str, ds[name].dims))}, dtype {ds[name].dtype}, "
                       f"DISPLAY_TYPE {_attr(ds[name].attrs, 'DISPLAY_TYPE')!r}).")
                raise ValueError(msg)
            panels.append(panel)
    return panels

