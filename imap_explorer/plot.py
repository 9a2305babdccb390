"""Quick-look plots of IMAP data: :func:`quicklook` and the ``imap-explorer quicklook`` command.

What is drawn is decided by small pure functions from the product (``Logical_source``) and the ISTP
attributes of each variable, and only then drawn:

* MAG (every level and frame): ``|B|`` and the three components of ``b_<frame>`` (or the first three
  columns of ``vectors`` in L1A-L1C) with labels from the frame named in the descriptor, in nT; fill is
  a gap; rows with ``quality_flags != 0`` are shaded.
* SWE L1B/L2: an energy-time spectrogram of ``flux`` (or ``phase_space_density``, ``science_data``)
  averaged over the look directions with ``nanmean``, log energy axis and log colour. Asking for
  ``"<variable>:<dimension>"`` (e.g. ``"flux:inst_el"``) draws it against that angle instead.
* SWE L3: a pitch-angle spectrogram at one energy, plus density, speed and temperature panels.
* Anything else ISTP: ``DISPLAY_TYPE`` ``time_series`` -> lines with ``LABL_PTR_1`` legends,
  ``spectrogram`` -> ``pcolormesh``, log colour/axes where ``SCALETYP`` (or ``SCALE_TYP``) says so; on a
  log axis, line values <= 0 are gaps.

Long series are drawn with min-max decimation to the pixel width (:mod:`imap_explorer._decimate`),
re-done on zoom, so a day of 128 Hz burst data plots in well under a second and looks the same as
plotting every point. Spectrograms show at most 4 000 time columns (multi-day SWE is averaged in time
bins) and are rebuilt from the full-resolution records in view on every zoom or pan, with the same
colour scale and with data gaps left empty.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from imap_explorer.exceptions import ImapExplorerError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MAG_FRAMES",
    "SWE_ENERGIES_EV",
    "Panel",
    "Product",
    "component_labels",
    "mag_frame",
    "mag_vector_variable",
    "plan_panels",
    "plot_kind",
    "product_of",
    "quicklook",
    "quicklook_command",
    "scale_type",
    "spectrogram_time_edges",
]

PlotKind = Literal["time_series", "spectrogram", "none"]
PanelKind = Literal["mag_magnitude", "mag_vector", "energy_spectrogram", "angle_spectrogram", "pitch_angle",
                    "time_series", "spectrogram"]

#: MAG reference frames that appear in L1D/L2 descriptors (``norm-gse``, ``burst-rtn`` ...).
MAG_FRAMES = ("srf", "dsrf", "gse", "gsm", "rtn")
#: Nominal SWE ESA step energies in eV (voltage x 4.75), used when a product has no energy coordinate.
SWE_ENERGIES_EV = (2.66, 3.705, 5.13, 7.1725, 9.975, 13.87, 19.285, 26.79, 37.2875, 51.87, 72.1525, 100.3675,
                   139.6025, 194.18, 270.1325, 375.725, 522.6425, 726.9875, 1011.2275, 1406.665, 1956.6675,
                   2721.7025, 3785.8925, 5266.135)
#: Default energy (eV) of the SWE L3 pitch-angle panel: the strahl is strongest between 100 eV and 1 keV.
DEFAULT_PITCH_ANGLE_ENERGY_EV = 270.0
#: At most this many panels are drawn from the generic (ISTP) rules; the rest are named in a warning.
MAX_GENERIC_PANELS = 6
#: CCSDS packet-header fields, never worth a quick-look panel.
_HEADER_FIELDS = frozenset({"version", "type", "sec_hdr_flg", "pkt_apid", "seq_flgs", "src_seq_ctr", "pkt_len",
                            "cksum", "shcoarse"})
_SWE_SPECTRA = ("flux", "phase_space_density", "science_data", "flux_spin_sector", "phase_space_density_spin_sector")
_SWE_PITCH_ANGLE = ("phase_space_density_by_pitch_angle", "intensity_by_pitch_angle")
_SWE_MOMENTS: tuple[tuple[str, str], ...] = (
    ("Density", r"density(?!.*phase_space)"),
    ("Speed", r"speed"),
    ("Temperature", r"(^|_)(t_parallel|t_perpendicular|temperature)(?!_(phi|theta))"),
)
_QUALITY_COLOR = "tab:red"
#: Up to this many runs of quality_flags != 0 are shaded exactly; more are merged at ~1/1000 of the span.
_MAX_FLAG_RUNS = 2000
_PANEL_HEIGHT = 2.0


# --------------------------------------------------------------------------- pure decisions
@dataclass(frozen=True)
class Product:
    """Instrument, data level and descriptor of a dataset (``None`` where unknown)."""

    instrument: str | None = None
    data_level: str | None = None
    descriptor: str | None = None

    @property
    def logical_source(self) -> str:
        """``imap_<instrument>_<data_level>_<descriptor>``, or ``"dataset"`` when unknown."""
        if self.instrument is None:
            return "dataset"
        return "_".join(["imap", self.instrument, self.data_level or "", self.descriptor or ""]).rstrip("_")


def _attr(attrs: dict, name: str, default: Any = None) -> Any:
    value = attrs.get(name, default)
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def product_of(ds: xr.Dataset) -> Product:
    """Read instrument, data level and descriptor from ``Logical_source`` (or ``Logical_file_id``).

    Examples
    --------
    >>> import xarray as xr
    >>> product_of(xr.Dataset(attrs={"Logical_source": "imap_mag_l2_norm-gse"}))
    Product(instrument='mag', data_level='l2', descriptor='norm-gse')
    >>> product_of(xr.Dataset()).logical_source
    'dataset'
    """
    sources = ds.encoding.get("source_files") or [ds.encoding.get("source")]
    candidates = [_text(_attr(ds.attrs, key)) for key in ("Logical_source", "Logical_file_id")]
    candidates += [Path(str(s)).name for s in sources if s]
    for text in candidates:
        parts = text.lower().split("_")
        if len(parts) >= 4 and parts[0] == "imap":
            return Product(parts[1], parts[2], parts[3])
    return Product()


def mag_frame(descriptor: str | None) -> str | None:
    """Return the frame (or sensor) named by a MAG descriptor, as printed on axes.

    Examples
    --------
    >>> mag_frame("norm-gse"), mag_frame("burst-rtn"), mag_frame("norm-mago"), mag_frame("norm-raw")
    ('GSE', 'RTN', 'MAGo', None)
    """
    for token in reversed(_text(descriptor).lower().split("-")):
        if token in MAG_FRAMES:
            return token.upper()
        if token in ("mago", "magi"):
            return "MAG" + token[-1]
    return None


def component_labels(frame: str | None) -> tuple[str, str, str]:
    """Labels of the three field components in ``frame`` (never taken from ``direction_label``).

    Examples
    --------
    >>> component_labels("GSE")
    ('B_x GSE', 'B_y GSE', 'B_z GSE')
    >>> component_labels("RTN")
    ('B_R', 'B_T', 'B_N')
    """
    if frame is not None and frame.upper() == "RTN":
        return ("B_R", "B_T", "B_N")
    suffix = f" {frame}" if frame else ""
    return (f"B_x{suffix}", f"B_y{suffix}", f"B_z{suffix}")


def mag_vector_variable(ds: xr.Dataset, descriptor: str | None = None) -> str | None:
    """Name of the MAG vector variable: ``b_<frame>`` from the descriptor, any ``b_<frame>``, or ``vectors``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"b_gse": (("epoch", "direction"), np.zeros((2, 3)))})
    >>> mag_vector_variable(ds, "norm-gse"), mag_vector_variable(ds)
    ('b_gse', 'b_gse')
    """
    frame = mag_frame(descriptor)
    names = []
    if frame and frame.lower() in MAG_FRAMES:
        names.append(f"b_{frame.lower()}")
    names += [f"b_{f}" for f in MAG_FRAMES] + ["vectors"]
    for name in names:
        if name in ds.variables and ds[name].ndim == 2 and ds[name].shape[1] >= 3 and "epoch" in ds[name].dims:
            return name
    return None


def scale_type(var: xr.DataArray) -> Literal["log", "linear"]:
    """``"log"`` when the ISTP ``SCALETYP`` (or the misspelt ``SCALE_TYP`` of SWE coordinates) says so.

    Examples
    --------
    >>> import xarray as xr
    >>> scale_type(xr.DataArray([1.0], attrs={"SCALE_TYP": "log"})), scale_type(xr.DataArray([1.0]))
    ('log', 'linear')
    """
    for key in ("SCALETYP", "SCALE_TYP"):
        if _text(_attr(var.attrs, key)).lower().startswith("log"):
            return "log"
    return "linear"


def plot_kind(var: xr.DataArray) -> PlotKind:
    """Choose how to draw a variable from its ISTP ``DISPLAY_TYPE`` and shape.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> plot_kind(xr.DataArray(np.zeros((4, 24, 30)), dims=("epoch", "energy", "inst_az"),
    ...                        attrs={"DISPLAY_TYPE": "spectrogram"}))
    'spectrogram'
    >>> plot_kind(xr.DataArray(np.zeros((4, 3)), dims=("epoch", "direction"), attrs={"DISPLAY_TYPE": "time_series"}))
    'time_series'
    >>> plot_kind(xr.DataArray(np.zeros(3), dims=("energy",)))  # not record varying
    'none'
    """
    if "epoch" not in var.dims or var.dtype.kind not in "iufb" or var.ndim > 4:
        return "none"
    display = _text(_attr(var.attrs, "DISPLAY_TYPE")).lower()
    if display.startswith("no_plot") or display.startswith("image"):
        return "none"
    if display.startswith("spectrogram"):
        return "spectrogram" if var.ndim >= 2 else "time_series"
    if display.startswith(("time_series", "stack_plot")):
        return "time_series" if var.ndim <= 2 else "spectrogram"
    if var.ndim == 1 or (var.ndim == 2 and var.shape[1] <= 4):
        return "time_series"
    return "spectrogram"


@dataclass(frozen=True)
class Panel:
    """One panel of a quick-look figure (what to draw, not how).

    ``variable`` is the source variable; ``dim`` the dimension kept on the y axis of a spectrogram;
    ``energy`` the energy (eV) of a pitch-angle panel; ``members`` the variables of a grouped
    time-series panel; ``labels`` the legend labels; ``title`` a short name for the y label.
    """

    kind: PanelKind
    variable: str
    dim: str | None = None
    energy: float | None = None
    members: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    title: str = ""


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


def spectrogram_time_edges(t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges for a spectrogram's time axis, with an empty cell in every data gap.

    Parameters
    ----------
    t_ns : numpy.ndarray of int64
        Record times (ns), ascending.

    Returns
    -------
    (edges, index) : tuple of numpy.ndarray
        ``edges`` (int64 ns, one more than ``index``) and, for each cell, the record drawn in it,
        or -1 for the empty cell that fills a gap (see :func:`imap_explorer._decimate.gap_mask`).

    Examples
    --------
    >>> e, i = spectrogram_time_edges(np.array([0, 10, 20, 30, 100, 110, 120]))
    >>> e.tolist(), i.tolist()
    ([-5, 5, 15, 25, 35, 95, 105, 115, 125], [0, 1, 2, 3, -1, 4, 5, 6])
    """
    from imap_explorer._decimate import cell_edges, record_cells

    return cell_edges(*record_cells(np.asarray(t_ns, dtype=np.int64)))


def _axis_edges(values: np.ndarray, log: bool) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.size == 1:
        return np.array([v[0] / 1.5, v[0] * 1.5]) if log and v[0] > 0 else np.array([v[0] - 0.5, v[0] + 0.5])
    if log and np.all(v > 0):
        lv = np.log(v)
        mid = 0.5 * (lv[1:] + lv[:-1])
        return np.exp(np.concatenate([[2 * lv[0] - mid[0]], mid, [2 * lv[-1] - mid[-1]]]))
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def _units(var: xr.DataArray, default: str = "") -> str:
    units = _text(_attr(var.attrs, "UNITS")) or _text(_attr(var.attrs, "units"))
    return units or default


def _label(var: xr.DataArray, name: str, units: str | None = None) -> str:
    title = (_text(_attr(var.attrs, "FIELDNAM")) or _text(_attr(var.attrs, "LABLAXIS"))
             or _text(_attr(var.attrs, "CATDESC")) or _text(_attr(var.attrs, "long_name")) or name)
    units = _units(var) if units is None else units
    return f"{title} [{units}]" if units else title


# --------------------------------------------------------------------------- drawing
def _times(ds: xr.Dataset) -> np.ndarray:
    return np.asarray(ds["epoch"].values).astype("datetime64[ns]", copy=False)


def _legend(ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small",
                  frameon=False, borderaxespad=0.0)


def _flag_runs(t: np.ndarray, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times (ns) of the runs of ``flags != 0``, merged when closer than ~1 px of the day."""
    flags = np.asarray(flags)
    bad = flags != 0
    if flags.dtype.kind == "f":
        bad &= ~np.isnan(flags)  # a NaN flag is fill, not a flag
    if not bad.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    change = np.flatnonzero(bad[1:] != bad[:-1]) + 1
    bounds = np.concatenate([[0], change, [bad.size]])
    runs = bounds[:-1][bad[bounds[:-1]]], bounds[1:][bad[bounds[:-1]]] - 1
    tn = t.view(np.int64)
    t0, t1 = tn[runs[0]], tn[runs[1]]
    if t0.size <= _MAX_FLAG_RUNS:
        return t0, t1  # exact, so they stay right when zoomed in
    # many runs: merge those closer than one pixel of the full view, so a day of flags is a few patches
    pixel = max((tn[-1] - tn[0]) / 1000, 1)
    keep = np.concatenate([[True], (t0[1:] - t1[:-1]) > pixel])
    return t0[keep], np.maximum.reduceat(t1, np.flatnonzero(keep))


def _shade_quality(ax: Axes, runs: tuple[np.ndarray, np.ndarray], label: str | None) -> None:
    from imap_explorer._decimate import ns_to_num

    if runs[0].size == 0:
        return
    x0, x1 = ns_to_num(runs[0]), ns_to_num(runs[1])
    # the edge keeps a single flagged sample visible (about 1 px wide) at any zoom
    ax.broken_barh(list(zip(x0, x1 - x0)), (0, 1), transform=ax.get_xaxis_transform(), facecolor=_QUALITY_COLOR,
                   edgecolor=_QUALITY_COLOR, alpha=0.3, lw=0.6, label=label, zorder=0)


def _mag_arrays(ds: xr.Dataset, variable: str, cache: dict) -> dict[str, Any]:
    """Components (one contiguous row each), |B|, times and flag runs of a MAG dataset, computed once."""
    key = (id(ds), variable)
    if key not in cache:
        # contiguous rows: decimating a strided column is ~10x slower
        values = np.ascontiguousarray(np.asarray(ds[variable].values)[:, :3].T)
        if values.dtype.kind != "f":
            fill = ds[variable].attrs.get("FILLVAL")
            raw, values = values, values.astype(np.float64)
            if np.ndim(fill) == 0 and fill is not None and raw.dtype.kind in "iu":
                # L1A counts are integers (the loader leaves them raw); a FILLVAL at the type's extreme
                # (int64 max in MAG L1A) is never a count: draw it as a gap, not a 9.2e18 spike
                info = np.iinfo(raw.dtype)
                try:
                    extreme = int(fill) in (info.min, info.max)
                except (TypeError, ValueError, OverflowError):
                    extreme = False
                if extreme:
                    values[raw == int(fill)] = np.nan
        t = _times(ds)
        magnitude = np.sqrt(np.einsum("ij,ij->j", values, values))
        runs = (_flag_runs(t, ds["quality_flags"].values)
                if "quality_flags" in ds.variables and ds["quality_flags"].dims == ("epoch",)
                else (np.empty(0, np.int64), np.empty(0, np.int64)))
        cache[key] = {"t": t, "components": values, "magnitude": magnitude, "runs": runs}
    return cache[key]


def _draw_mag(ax: Axes, ds: xr.Dataset, panel: Panel, product: Product, cache: dict) -> None:
    from imap_explorer._decimate import add_minmax_line

    arrays = _mag_arrays(ds, panel.variable, cache)
    t = arrays["t"]
    units = _units(ds[panel.variable]) or ("counts" if product.data_level == "l1a" else "nT")
    if panel.kind == "mag_magnitude":
        add_minmax_line(ax, t, arrays["magnitude"], color="k", lw=0.8, label="|B|")
        ax.set_ylabel(f"|B| [{units}]")
    else:
        for i, (label, color) in enumerate(zip(panel.labels, ("tab:blue", "tab:green", "tab:red"))):
            add_minmax_line(ax, t, arrays["components"][i], color=color, lw=0.8, label=label)
        ax.axhline(0.0, color="0.6", lw=0.5, zorder=0)
        ax.set_ylabel(f"{panel.title} [{units}]")
    _shade_quality(ax, arrays["runs"], "quality_flags ≠ 0" if panel.kind == "mag_vector" else None)
    ax.autoscale_view()


def _draw_lines(ax: Axes, ds: xr.Dataset, panel: Panel) -> None:
    from imap_explorer._decimate import add_minmax_line

    t = _times(ds)
    members = panel.members or (panel.variable,)
    first = ds[members[0]]
    log = scale_type(first) == "log"
    for name in members:
        var = ds[name]
        values = np.asarray(var.values)
        if values.dtype.kind != "f":
            values = values.astype(np.float64)
        if log:  # a log axis has no place for zero or less: a gap, not a drop to the bottom of the axes
            values = np.where(values > 0, values, np.nan)
        if values.ndim == 1:
            label = panel.labels[members.index(name)] if panel.labels else name
            add_minmax_line(ax, t, values, lw=0.8, label=label)
            continue
        values = np.ascontiguousarray(values.reshape(values.shape[0], -1).T)
        labels = _column_labels(ds, var, values.shape[0])
        for i in range(values.shape[0]):
            add_minmax_line(ax, t, values[i], lw=0.8, label=labels[i])
    if panel.title:
        units = _units(first)
        ax.set_ylabel(f"{panel.title} [{units}]" if units else panel.title)
    else:
        ax.set_ylabel(_wrap(_label(first, panel.variable), 30))
    if log:
        ax.set_yscale("log")
    ax.autoscale_view()


def _column_labels(ds: xr.Dataset, var: xr.DataArray, n: int) -> list[str]:
    pointer = _text(_attr(var.attrs, "LABL_PTR_1"))
    for source in (pointer, f"{var.dims[1]}_label", var.dims[1]):
        if source and source in ds.variables and ds[source].size == n:
            return [str(v).strip() for v in np.asarray(ds[source].values).ravel()]
    return [f"{var.name}[{i}]" for i in range(n)]


def _reduce_to(var: xr.DataArray, keep: str) -> xr.DataArray:
    other = [d for d in var.dims if d not in ("epoch", keep)]
    if not other:
        return var.transpose("epoch", keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN records are gaps
        data = np.nanmean(np.asarray(var.transpose("epoch", keep, *other).values, dtype=np.float64),
                          axis=tuple(range(2, var.ndim)))
    import xarray as xr

    return xr.DataArray(data, dims=("epoch", keep), coords={"epoch": var["epoch"]}, attrs=var.attrs)


def _all_finite(var: xr.DataArray) -> bool:
    return bool(np.all(np.isfinite(np.asarray(var.values, dtype=np.float64))))


def _y_axis(ds: xr.Dataset, var: xr.DataArray, dim: str, product: Product) -> tuple[np.ndarray, str, bool]:
    """Values, label and log flag of a spectrogram's y axis."""
    n = var.sizes[dim]
    # a coordinate with fill (NaN) cannot place the cells: fall back to the nominal energies or the index
    if dim == "energy" and "energy" in ds.variables and ds["energy"].ndim == 1 and _all_finite(ds["energy"]):
        return np.asarray(ds["energy"].values, dtype=np.float64), f"Energy [{_units(ds['energy'], 'eV')}]", True
    if dim in ("esa_step", "energy") and product.instrument == "swe":
        if dim == "esa_step" and "esa_energy" in ds.variables and "esa_step" in ds["esa_energy"].dims:
            e = ds["esa_energy"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=RuntimeWarning)
                values = np.nanmean(np.asarray(e.transpose("esa_step", ...).values, dtype=np.float64).reshape(n, -1),
                                    axis=1)
            if np.all(np.isfinite(values) & (values > 0)):
                return values, "Energy [eV]", True
        if n == len(SWE_ENERGIES_EV):
            return np.array(SWE_ENERGIES_EV), "Energy (nominal) [eV]", True
    coord = ds[dim] if dim in ds.variables else None
    if coord is not None and coord.dtype.kind in "iuf" and coord.ndim == 1 and _all_finite(coord):
        return (np.asarray(coord.values, dtype=np.float64), _label(coord, dim),
                scale_type(coord) == "log" and bool(np.all(coord.values > 0)))
    return np.arange(n, dtype=np.float64), dim, False


def _draw_spectrogram(ax: Axes, ds: xr.Dataset, panel: Panel, product: Product) -> None:
    from matplotlib.colors import LogNorm, Normalize

    from imap_explorer._decimate import add_binned_spectrogram

    var = ds[panel.variable]
    dim = panel.dim or str(var.dims[1])
    if panel.kind == "pitch_angle":
        energies = ds["energy"] if "energy" in ds.variables else None
        if energies is not None and "energy" in var.dims:
            chosen = int(np.nanargmin(np.abs(np.asarray(energies.values, dtype=np.float64) - panel.energy)))
            var = var.isel(energy=chosen)
            energy_text = f"{float(energies.values[chosen]):.4g} eV"
        else:
            energy_text = "all energies"
    reduced = _reduce_to(var, dim)
    z = np.asarray(reduced.values, dtype=np.float64)
    y, ylabel, log_y = _y_axis(ds, var, dim, product)
    if panel.kind == "energy_spectrogram" and np.all(y > 0):
        log_y = True  # SWE coordinates say SCALE_TYP linear, but energy steps are logarithmic
    if panel.kind == "pitch_angle":
        ylabel = f"Pitch angle [{_units(ds[dim], 'deg')}]" if dim in ds.variables else "Pitch angle [deg]"
    if z.shape[0] == 0:  # no records in the time range (stacked with other datasets): the y axis only
        edges = _axis_edges(y, log_y)
        ax.xaxis_date()
        ax.set_yscale("log" if log_y else "linear")
        ax.set_ylim(float(np.min(edges)), float(np.max(edges)))
        ax.set_ylabel(ylabel)
        return
    log_z = panel.kind in ("energy_spectrogram", "angle_spectrogram", "pitch_angle") or scale_type(var) == "log"
    order = np.argsort(y)
    y, z = y[order], z[:, order]
    # the colour scale spans the full-resolution values, so it holds at every zoom (the mesh is rebuilt
    # from them for the records in view, see _decimate.BinnedSpectrogram) and time averages never clip
    finite = z[np.isfinite(z)]
    positive = finite[finite > 0]
    cmap = _colormap("viridis")
    if log_z and positive.size:
        norm = LogNorm(vmin=float(positive.min()), vmax=float(max(positive.max(), positive.min() * 10)))
        cmap = cmap.with_extremes(under="0.85")  # zeros are valid (no counts): grey; fill stays transparent
    else:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    mesh = add_binned_spectrogram(ax, _times(ds), _axis_edges(y, log_y), z, norm=norm, cmap=cmap,
                                  under=log_z and positive.size > 0, rasterized=True).mesh
    if log_y:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    label = _label(ds[panel.variable], panel.variable)
    if panel.kind == "pitch_angle":
        label = f"{label}\nat {energy_text}"
    elif panel.kind == "energy_spectrogram" and var.ndim > 2:
        label = f"{label}\n(mean over {', '.join(d for d in var.dims if d not in ('epoch', dim))})"
    elif panel.kind == "angle_spectrogram":
        label = f"{label}\n(mean over {', '.join(d for d in var.dims if d not in ('epoch', dim))})"
    # an inset colorbar sits in the axes' right-hand decorations, like the line panels' legends, so
    # constrained layout gives every stacked panel the same width and the time axes stay aligned
    cax = ax.inset_axes((1.01, 0.0, 0.018, 1.0))
    cax.set_label("<colorbar>")
    colorbar = ax.figure.colorbar(mesh, cax=cax)
    colorbar.set_label(_wrap(label, 30), fontsize="small")


def _colormap(name: str):
    """A copy of a registered matplotlib colormap."""
    import matplotlib

    return matplotlib.colormaps[name]


def _wrap(text: str, width: int = 42) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def _draw_panel(ax: Axes, ds: xr.Dataset, panel: Panel, product: Product, cache: dict) -> None:
    if panel.kind in ("mag_magnitude", "mag_vector"):
        _draw_mag(ax, ds, panel, product, cache)
    elif panel.kind == "time_series":
        _draw_lines(ax, ds, panel)
    else:
        _draw_spectrogram(ax, ds, panel, product)
    if ds.sizes["epoch"] == 0:
        ax.text(0.5, 0.5, f"{product.logical_source}: no records in this time range", transform=ax.transAxes,
                ha="center", va="center", color="0.4")
    _legend(ax)
    ax.grid(True, lw=0.3, alpha=0.5)


# --------------------------------------------------------------------------- inputs
def _as_datetime64(value: Any) -> np.datetime64:
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        msg = f"Cannot read {value!r} as a time. Expected e.g. '2026-01-20T06:00', a datetime or numpy.datetime64."
        raise ValueError(msg) from err
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return np.datetime64(stamp.to_datetime64(), "ns")


def _time_bound(value: Any) -> np.datetime64 | None:
    """One end of a time range: None or NaT leave it open (as in :func:`imap_explorer.load`)."""
    if value is None:
        return None
    bound = _as_datetime64(value)
    return None if np.isnat(bound) else bound


def _time_range(time_range: Any) -> tuple[np.datetime64 | None, np.datetime64 | None] | None:
    from imap_explorer._time import time_pair

    pair = time_pair(time_range)  # the pairs ie.load accepts
    if pair is None:
        return None
    start, end = (_time_bound(v) for v in pair)
    if start is not None and end is not None and end <= start:
        msg = f"time_range end {end} is not after its start {start}."
        raise ValueError(msg)
    return start, end


def _product_of_name(name: str) -> tuple[str, ...]:
    from imap_explorer.filenames import parse_filename

    try:
        info = parse_filename(Path(str(name)).name)
    except (ValueError, ImapExplorerError):
        return ("",)
    return (info.instrument or "", info.data_level or "", info.descriptor or "")


def _load_groups(data: Any, time_range: tuple | None) -> list[xr.Dataset]:
    """Load a DataFrame from query() or a list of files, one Dataset per product."""
    import pandas as pd

    from imap_explorer.cdf import load

    if isinstance(data, pd.DataFrame):
        if data.empty:
            msg = "The file table is empty: nothing to plot. Check the query that produced it."
            raise ValueError(msg)
        column = "file_path" if "file_path" in data.columns else data.columns[0]
        files = [str(v) for v in data[column]]
    elif isinstance(data, (str, Path)):
        files = [str(data)]
    else:
        files = [str(v) for v in data]
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in files:
        groups.setdefault(_product_of_name(name), []).append(name)
    # load reads only the records in the time range (quicklook trims the datasets again, which is then a no-op)
    if isinstance(data, pd.DataFrame):
        from imap_explorer.transfer import download

        out = []
        for names in groups.values():
            rows = data[data[column].astype(str).isin(names)]
            out.append(load([str(p) for p in download(rows, progress=False)], time_range=time_range))
        return out
    return [load(names, time_range=time_range) for names in groups.values()]


def _as_datasets(data: Any, time_range: tuple | None) -> list[xr.Dataset]:
    import xarray as xr

    if isinstance(data, xr.Dataset):
        return [data]
    if isinstance(data, xr.DataArray):
        return [data.to_dataset(name=data.name or "data")]
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, (xr.Dataset, xr.DataArray)) for d in data):
        return [d if isinstance(d, xr.Dataset) else d.to_dataset(name=d.name or "data") for d in data]
    import pandas as pd

    if isinstance(data, (pd.DataFrame, str, Path)) or (isinstance(data, (list, tuple)) and data):
        return _load_groups(data, time_range)
    msg = (f"Cannot plot {type(data).__name__!s} {data!r:.80}. Expected an xarray.Dataset from ie.load, "
           "a list of Datasets, a DataFrame from ie.query, or CDF file paths.")
    raise TypeError(msg)


def _no_records(datasets: list[xr.Dataset], span: tuple | None) -> ValueError:
    sources = sorted({product_of(ds).logical_source for ds in datasets})
    where = "" if span is None else f" between {span[0]} and {span[1]}"
    verb = "has" if len(sources) == 1 else "have"
    return ValueError(f"{', '.join(sources)} {verb} no records{where}: nothing to plot.")


def _prepare(ds: xr.Dataset, span: tuple | None, *, empty_ok: bool = False) -> xr.Dataset:
    """Sort ``ds`` by time, drop NaT and repeated records and keep those in ``span``.

    A time that occurs more than once (``xr.concat`` of overlapping loads; :func:`imap_explorer.load` never
    returns one) keeps its first record: a repeat would give a spectrogram cell of zero width, which masks
    the column, and a line segment that goes nowhere. Without any record left, raise unless ``empty_ok``.
    """
    if "epoch" not in ds.dims:
        source = product_of(ds).logical_source
        msg = (f"{source} has no 'epoch' dimension; quicklook plots time series. "
               f"Dimensions: {', '.join(map(str, ds.dims)) or '(none)'}.")
        raise ValueError(msg)
    if ds["epoch"].dtype.kind != "M":
        msg = (f"{product_of(ds).logical_source}: 'epoch' holds {ds['epoch'].dtype}, expected datetime64 times. "
               "Load CDF files with ie.load (it converts TT2000), or convert with "
               "imap_explorer._time.tt2000_to_datetime64.")
        raise ValueError(msg)
    t = _times(ds)
    tn = t.view(np.int64)
    if tn.size > 1 and bool((tn[1:] < tn[:-1]).any()):
        order = np.argsort(tn, kind="stable")  # NaT (int64 min) sorts first
        ds, t = ds.isel(epoch=order), t[order]
        tn = t.view(np.int64)
    if tn.size > 1 and bool((tn[1:] == tn[:-1]).any()):  # a stable sort keeps a repeated time's first record first
        keep = np.concatenate([[True], tn[1:] != tn[:-1]])
        ds, t = ds.isel(epoch=np.flatnonzero(keep)), t[keep]
        tn = t.view(np.int64)
    # sorted now: NaT records lead, and the time range is a slice (no copy of the data)
    lo = int(np.searchsorted(tn, np.iinfo(np.int64).min, side="right"))
    hi = tn.size
    if span is not None and span[0] is not None:
        lo = max(lo, int(np.searchsorted(tn, span[0].astype(np.int64), side="left")))
    if span is not None and span[1] is not None:
        hi = int(np.searchsorted(tn, span[1].astype(np.int64), side="left"))
    if (lo, hi) != (0, tn.size):
        ds = ds.isel(epoch=slice(lo, max(hi, lo)))
    if ds.sizes["epoch"] == 0 and not empty_ok:
        raise _no_records([ds], span)
    return ds


_VERSION_RE = re.compile(r"_(v\d{3}(?:\.\d{4})?)(?:\.cdf)?$", re.IGNORECASE)


def _versions(ds: xr.Dataset) -> list[str]:
    """File versions behind a dataset: from its source file names, else Logical_file_id/Data_version."""
    names: list[str] = []
    for key in ("source_files", "Source_files", "files"):
        value = ds.attrs.get(key)
        if value is not None:
            names += [str(v) for v in (value if isinstance(value, (list, tuple, np.ndarray)) else [value])]
    sources = ds.encoding.get("source_files") or ([ds.encoding["source"]] if ds.encoding.get("source") else [])
    superseded = {str(v) for v in ds.encoding.get("superseded_files", ())}  # they supplied no records
    names += [str(v) for v in sources if str(v) not in superseded]
    versions = [m.group(1) for n in names if (m := _VERSION_RE.search(Path(n).name))]
    if not versions:
        file_id = ds.attrs.get("Logical_file_id")
        for n in (file_id if isinstance(file_id, (list, tuple)) else [file_id]):
            if n and (m := _VERSION_RE.search(str(n))):
                versions.append(m.group(1))
    if not versions:
        version = _text(_attr(ds.attrs, "Data_version"))
        if version:
            versions.append(version if version.lower().startswith("v") else f"v{version}")
    return sorted(set(versions))


def _title(datasets: list[xr.Dataset], start: np.datetime64, end: np.datetime64) -> str:
    parts = []
    for ds in datasets:
        versions = _versions(ds)
        parts.append(f"{product_of(ds).logical_source} {', '.join(versions)}".strip())
    fmt = "%Y-%m-%d %H:%M:%S"
    first = dt.datetime.fromtimestamp(0, dt.timezone.utc).replace(tzinfo=None)
    t0 = first + dt.timedelta(microseconds=int(start.astype("datetime64[us]").astype(np.int64)))
    t1 = first + dt.timedelta(microseconds=int(end.astype("datetime64[us]").astype(np.int64)))
    return f"{' | '.join(parts)}\n{t0.strftime(fmt)} to {t1.strftime(fmt)} UTC"


# --------------------------------------------------------------------------- public API
def quicklook(data: Any, *, variables: Sequence[str] | None = None, time_range: Any = None,
              ax: Axes | Sequence[Axes] | None = None, energy: float | None = None, pyplot: bool = True) -> Figure:
    """Draw a quick-look figure of IMAP data: panels chosen from the product, one shared time axis.

    MAG products show ``|B|`` and the field components (labelled from the frame in the descriptor,
    e.g. ``B_x GSE`` or ``B_R``) in nT, with fill as gaps and ``quality_flags != 0`` shaded. SWE L1B/L2
    show an energy-time spectrogram of the flux averaged over look directions; SWE L3 a pitch-angle
    spectrogram and moments. Other ISTP products follow ``DISPLAY_TYPE``. Several datasets are
    stacked on one time axis, titled with their logical sources, file versions and time span. Long
    series are min-max decimated to the pixel width and re-decimated on zoom (ipympl); spectrograms
    average records beyond 4 000 time columns and show the records in view again after a zoom or pan.

    Parameters
    ----------
    data : xarray.Dataset, list of xarray.Dataset, pandas.DataFrame, path or list of paths
        A dataset from :func:`imap_explorer.load`; several datasets (stacked panels); or a
        :func:`imap_explorer.query` table / CDF file paths, downloaded and loaded first (one dataset
        per product).
    variables : sequence of str, optional
        Variables to draw, default chosen from the product. ``"<variable>:<dimension>"`` draws a
        spectrogram against that dimension, averaged over the others (``"flux:inst_el"``).
        With several datasets, each draws the requested variables it has.
    time_range : (start, end), optional
        Only records in ``[start, end)`` are drawn and the time axis spans exactly that; either end
        may be None. Strings, datetimes and ``numpy.datetime64`` are accepted (UTC). A stacked
        dataset without records in it keeps its panels, empty and saying so.
    ax : matplotlib Axes or sequence of Axes, optional
        Draw into these axes (one per panel) instead of a new figure.
    energy : float, optional
        Energy in eV of the SWE L3 pitch-angle panel (nearest bin; default 270 eV).
    pyplot : bool, default True
        Make the new figure with :mod:`matplotlib.pyplot` (shown by the notebook's backend; close it with
        ``plt.close``). ``False`` makes a plain Figure with an Agg canvas that pyplot never holds: safe to build
        in another thread than the notebook's (the Explorer's worker), shown only where you display or save it.
        Ignored with ``ax``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        Unknown variable or dimension, nothing to plot, no dataset with records in ``time_range``, or ``ax`` does
        not match the number of panels.
    TypeError
        ``data`` is of an unsupported type.

    See Also
    --------
    imap_explorer.load : read CDF files into an xarray.Dataset.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> t = pd.date_range("2026-01-20", periods=100, freq="500ms").values
    >>> ds = xr.Dataset({"b_gse": (("epoch", "direction"), np.ones((100, 3)))}, coords={"epoch": t},
    ...                 attrs={"Logical_source": "imap_mag_l2_norm-gse", "Logical_file_id":
    ...                        "imap_mag_l2_norm-gse_20260120_v001"})
    >>> fig = quicklook(ds)
    >>> [a.get_ylabel() for a in fig.axes]
    ['|B| [nT]', 'B GSE [nT]']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    from matplotlib import dates as mdates

    from imap_explorer.ialirt import plot as ialirt_plot  # I-ALiRT stream: its own summary (ie.ialirt.quicklook)

    if ialirt_plot.is_ialirt(data):
        return ialirt_plot.quicklook(data, time_range=time_range, ax=ax, pyplot=pyplot)
    span = _time_range(time_range)
    if variables is not None:
        variables = _requested(variables)
    datasets = [_prepare(ds, span, empty_ok=True) for ds in _as_datasets(data, span)]
    empty = [ds for ds in datasets if ds.sizes["epoch"] == 0]
    if empty and len(empty) == len(datasets):
        raise _no_records(empty, span)
    # stacked with others, a dataset without records in the time range is an empty panel saying so
    plans: list[tuple[xr.Dataset, Product, list[Panel]]] = []
    for ds in datasets:
        wanted = variables
        if variables is not None and len(datasets) > 1:
            wanted = [v for v in variables if _split_request(v)[0] in ds.variables]
            if not wanted:
                continue
        plans.append((ds, product_of(ds), plan_panels(ds, wanted, energy=energy)))
    if not plans:
        msg = f"None of the datasets has the variables {', '.join(map(repr, variables or []))}."
        raise ValueError(msg)
    if not any(ds.sizes["epoch"] for ds, _, _ in plans):
        raise _no_records([ds for ds, _, _ in plans], span)
    n_panels = sum(len(p) for _, _, p in plans)

    if ax is None:
        fig = _new_figure(pyplot, figsize=(10.0, 1.0 + _PANEL_HEIGHT * n_panels), layout="constrained")
        axes = list(fig.subplots(n_panels, 1, sharex=True, squeeze=False)[:, 0])
    else:
        axes = [ax] if not isinstance(ax, (list, tuple, np.ndarray)) else list(np.ravel(ax))
        if len(axes) != n_panels:
            names = [p.kind + ":" + p.variable for _, _, panels in plans for p in panels]
            msg = (f"Got {len(axes)} axes for {n_panels} panels ({', '.join(names)}). Pass one Axes per panel, "
                   "or choose panels with variables=[...].")
            raise ValueError(msg)
        fig = axes[0].figure

    i, cache = 0, {}
    try:
        for ds, product, panels in plans:
            for panel in panels:
                _draw_panel(axes[i], ds, panel, product, cache)
                i += 1
    except BaseException:
        if ax is None and pyplot:  # no half-drawn figure left behind in pyplot
            import matplotlib.pyplot as plt

            plt.close(fig)
        raise
    del cache

    drawn = [ds for ds, _, _ in plans if ds.sizes["epoch"]]
    starts = [_times(ds)[0] for ds in drawn]
    ends = [_times(ds)[-1] for ds in drawn]
    start = span[0] if span is not None and span[0] is not None else min(starts)
    end = span[1] if span is not None and span[1] is not None else max(ends)
    lo, hi = start, end
    if hi <= lo:  # a single record: centre it in a minute (a lone spectrogram record's cell), as far as the span allows
        half = np.timedelta64(30, "s")
        lo = lo if span is not None and span[0] is not None else lo - half
        hi = hi if span is not None and span[1] is not None else hi + half
    for a in axes:
        a.set_xlim(lo, hi)
    bottom = axes[-1]
    locator = mdates.AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    bottom.set_xlabel("Time (UTC)")
    if ax is None:
        fig.suptitle(_title([ds for ds, _, _ in plans], start, end), fontsize="medium")
    return fig


def _new_figure(pyplot: bool, **kwargs: Any) -> Figure:
    """A new empty figure: pyplot's, or a plain Figure on an Agg canvas that no global registry knows."""
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(**kwargs)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _newest_per_day(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the newest version of each (instrument, data_level, descriptor, start_date, repointing) file."""
    keys = [c for c in ("instrument", "data_level", "descriptor", "start_date", "repointing") if c in frame.columns]
    order = [c for c in ("major_version", "minor_version") if c in frame.columns]
    if not keys or not order:
        return frame
    ranked = frame.sort_values(order, kind="stable")
    return ranked.drop_duplicates(subset=keys, keep="last").sort_values("file_path", kind="stable")


def _output_path(output: str | Path) -> Path:
    """The image file ``-o`` names: ``quicklook.png`` inside a directory, ``.png`` added to a bare name.

    Matplotlib would write ``<name>.png`` for a name without a suffix (and ``<dir>.png`` for a directory),
    so the file is named here, and the command reports the file it really wrote.
    """
    from matplotlib.backend_bases import FigureCanvasBase

    out = Path(output).expanduser()
    if out.is_dir():
        out = out / "quicklook.png"
    elif not out.suffix:
        out = out.with_name(out.name.rstrip(".") + ".png")
    formats = FigureCanvasBase.get_supported_filetypes()
    if out.suffix[1:].lower() not in formats:
        msg = (f"Cannot write a {out.suffix[1:]!r} image to {str(out)!r}. "
               f"Expected an image file name ending in one of: {', '.join(sorted(formats))} (e.g. plot.png).")
        raise ValueError(msg)
    return out


def quicklook_command(args: argparse.Namespace) -> int:
    """Run ``imap-explorer quicklook``: query, download, load, plot, save; print where the image went.

    Only the newest version of each day's file is plotted, and only records within the requested dates
    (``--start-date`` 00:00 to the day after ``--end-date``); the time axis spans those records.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``quicklook`` flags (query flags, ``variables``, ``output``).

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    ImapExplorerError
        No file matches the query (or the query/download failed).
    ValueError
        A flag has a bad value.
    """
    import sys

    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:  # a command line draws to a file: no GUI backend needed
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from imap_explorer.query import query
    from imap_explorer.transfer import download

    out = _output_path(args.output)  # before any download: a bad -o fails fast
    params = {name: getattr(args, name, None)
              for name in ("instrument", "data_level", "descriptor", "start_date", "end_date",
                           "ingestion_start_date", "ingestion_end_date", "repointing", "version", "extension")}
    given = {k: v for k, v in params.items() if v is not None}
    if not given:
        msg = "quicklook needs at least one query flag, e.g. --instrument mag --data-level l2 --start-date 20260120."
        raise ValueError(msg)
    frame = query(table="science", **given)
    if "extension" in frame.columns:
        frame = frame[frame["extension"].astype(str).str.lower() == "cdf"]
    if frame.empty:
        described = ", ".join(f"{k}={v!r}" for k, v in sorted(given.items()))
        msg = f"No science CDF file matches {described}; nothing to plot."
        raise ImapExplorerError(msg)
    frame = _newest_per_day(frame)
    start = _as_datetime64(dt.datetime.strptime(str(args.start_date), "%Y%m%d")) if args.start_date else None
    end = (_as_datetime64(dt.datetime.strptime(str(args.end_date), "%Y%m%d") + dt.timedelta(days=1))
           if args.end_date else None)
    span = None if start is None and end is None else (start, end)

    from imap_explorer.cdf import load

    datasets = []
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(frame["instrument"], frame["data_level"], frame["descriptor"])):
        groups.setdefault(key, []).append(i)
    for rows in groups.values():
        paths = download(frame.iloc[rows], progress=False)
        datasets.append(load([str(p) for p in paths]))
    # trim to the requested days (MAG L1A-L1C carry +-30 min of the neighbouring days), but let the time
    # axis follow the data: a burst hour or a few SWE hours should not sit in an empty day
    datasets = [_prepare(ds, span, empty_ok=True) for ds in datasets]
    if not any(ds.sizes["epoch"] for ds in datasets):
        raise _no_records(datasets, span)
    fig = quicklook(datasets, variables=args.variables)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=120)
    finally:
        plt.close(fig)
    print(f"Saved quick-look plot to {out.resolve()}")
    return 0
