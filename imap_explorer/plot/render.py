"""Drawing the panels of a plan with matplotlib (time-axis panels: lines, min-max decimated, and spectrograms)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from imap_explorer.plot._istp import SWE_ENERGIES_EV, Product, _attr, _label, _text, _units, _wrap, scale_type
from imap_explorer.plot.inputs import _times
from imap_explorer.plot.timeseries import Panel

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_QUALITY_COLOR = "tab:red"
#: Up to this many runs of quality_flags != 0 are shaded exactly; more are merged at ~1/1000 of the span.
_MAX_FLAG_RUNS = 2000
_PANEL_HEIGHT = 2.0


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



def save_figure(fig: Figure, out, *, dpi: float = 120) -> Path:
    """Save ``fig`` to ``out`` (the image type from its suffix) without a partial file ever under that name.

    The image is written beside ``out`` and moved into place (:func:`imap_explorer.local.atomic_target`); a
    failed save leaves whatever ``out`` held before.
    """
    from pathlib import Path

    from imap_explorer.local import atomic_target

    out = Path(out)
    with atomic_target(out) as tmp:
        fig.savefig(tmp, dpi=dpi)
    return out


# --------------------------------------------------------------------------- drawing
def _legend(ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small",
                  frameon=False, borderaxespad=0.0)


def _flag_runs(t: np.ndarray, flags: np.ndarray, step: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times (ns) of the runs of ``flags != 0``, merged when closer than ~1 px of the day.

    The flags are scanned in cache-sized chunks: full-size boolean temporaries of a burst day cost more in
    fresh memory than the comparison itself.
    """
    flags = np.asarray(flags).ravel()

    def flagged(values: np.ndarray) -> np.ndarray:
        bad = values != 0
        if values.dtype.kind == "f":
            bad &= ~np.isnan(values)  # a NaN flag is fill, not a flag
        return bad

    n = flags.size
    changes = []
    for a in range(0, max(n - 1, 0), step):
        bad = flagged(flags[a:a + step + 1])  # one sample of overlap: a change at the chunks' seam is seen
        hit = np.flatnonzero(bad[1:] != bad[:-1])
        if hit.size:
            changes.append(hit + (a + 1))
    bounds = np.concatenate([[0], *changes, [n]]).astype(np.intp) if n else np.zeros(1, np.intp)
    starts = bounds[:-1]
    is_run = flagged(flags[starts]) if starts.size else np.zeros(0, bool)
    if not is_run.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    runs = starts[is_run], bounds[1:][is_run] - 1
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
    """Components, |B|, times and flag runs of a MAG dataset, computed once (floats: lines of a VectorColumns)."""
    from imap_explorer._decimate import VectorColumns, nonfinite

    key = (id(ds), variable)
    if key not in cache:
        vectors = np.asarray(ds[variable].values)
        if vectors.dtype.kind == "f":
            # the lines read the vectors where they lie, all four reduced in one chunked pass per view: a day of
            # burst data copied into contiguous rows would be 176 MB of fresh memory per plot (see VectorColumns)
            columns = VectorColumns(vectors)
            extremes, breaks = columns.scan()
            values = [columns.view(i) for i in range(3)]
            magnitude = columns.view(3)
        else:
            fill = ds[variable].attrs.get("FILLVAL")
            raw = vectors[:, :3].T
            values = raw.astype(np.float64, order="C")  # one contiguous row per component
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
            magnitude = np.sqrt(np.einsum("ij,ij->j", values, values))  # the norm of the floats, fill as NaN
            # a component is non-finite only where |B| is: one search of |B| finds the breaks of all four lines
            extremes, breaks = [None] * 4, nonfinite(magnitude)
        t = _times(ds)
        runs = (_flag_runs(t, ds["quality_flags"].values)
                if "quality_flags" in ds.variables and ds["quality_flags"].dims == ("epoch",)
                else (np.empty(0, np.int64), np.empty(0, np.int64)))
        cache[key] = {"t": t, "components": values, "magnitude": magnitude, "runs": runs, "extremes": extremes,
                      "breaks": breaks}
    return cache[key]


def _draw_mag(ax: Axes, ds: xr.Dataset, panel: Panel, product: Product, cache: dict) -> None:
    from imap_explorer._decimate import add_minmax_line

    arrays = _mag_arrays(ds, panel.variable, cache)
    t = arrays["t"]
    units = _units(ds[panel.variable]) or ("counts" if product.data_level == "l1a" else "nT")
    if panel.kind == "mag_magnitude":
        add_minmax_line(ax, t, arrays["magnitude"], color="k", lw=0.8, label="|B|", breaks=arrays["breaks"],
                        extremes=arrays["extremes"][3])
        ax.set_ylabel(f"|B| [{units}]")
    else:
        for i, (label, color) in enumerate(zip(panel.labels, ("tab:blue", "tab:green", "tab:red"))):
            add_minmax_line(ax, t, arrays["components"][i], color=color, lw=0.8, label=label,
                            breaks=arrays["breaks"], extremes=arrays["extremes"][i])
        ax.axhline(0.0, color="0.6", lw=0.5, zorder=0)
        ax.set_ylabel(f"{panel.title} [{units}]")
    _shade_quality(ax, arrays["runs"], "quality_flags ≠ 0" if panel.kind == "mag_vector" else None)
    ax.autoscale_view()


def _draw_lines(ax: Axes, ds: xr.Dataset, panel: Panel) -> None:
    from imap_explorer._decimate import add_minmax_line

    t = _times(ds)
    members = panel.members or (panel.variable,)
    first = ds[members[0]]
    log = scale_type(first) == "log" if panel.log is None else panel.log
    for name in members:
        var = ds[name]
        values = np.asarray(var.values)
        if values.dtype.kind != "f":
            values = values.astype(np.float64)
        if panel.floor is not None:
            values = _below_floor_as_gaps(values, panel.floor)
        if log:  # a log axis has no place for zero or less: a gap, not a drop to the bottom of the axes
            values = np.where(values > 0, values, np.nan)
        if values.ndim == 1:
            label = panel.labels[members.index(name)] if panel.labels else name
            add_minmax_line(ax, t, values, lw=0.8, label=label)
            continue
        values = np.ascontiguousarray(values.reshape(values.shape[0], -1).T)
        labels = (list(panel.labels) if len(members) == 1 and len(panel.labels) == values.shape[0]
                  else _column_labels(ds, var, values.shape[0]))
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


def _below_floor_as_gaps(values: np.ndarray, floor: float) -> np.ndarray:
    """Values below ``floor`` x the median magnitude as NaN (a fit that failed, reported as 1e-6 or 0)."""
    finite = np.abs(values[np.isfinite(values)])
    if not finite.size:
        return values
    limit = floor * float(np.median(finite))
    return np.where(np.abs(values) < limit, np.nan, values) if limit > 0 else np.where(values < 0, np.nan, values)


def _draw_events(ax: Axes, ds: xr.Dataset, panel: Panel) -> None:
    """One marker per event and channel: the peak of its waveform above the median (its baseline)."""
    t = _times(ds)
    for name in panel.members or (panel.variable,):
        values = np.asarray(ds[name].values, dtype=np.float64).reshape(t.size, -1)
        if not values.size:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            peak = np.nanmax(values, axis=1) - np.nanmedian(values, axis=1)
        ax.plot(t, peak, marker="o", ls="none", ms=4, label=name)
    for x in t:
        ax.axvline(x, color="0.85", lw=0.6, zorder=0)
    ax.set_ylabel(f"{panel.title} [{_units(ds[panel.variable]) or 'dN'}]")


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


def _edges_with_gaps(centres: np.ndarray, minus: np.ndarray, plus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row edges from each bin's own extent, and the row each cell draws (-1: an empty row between bins).

    Examples
    --------
    >>> e, rows = _edges_with_gaps(np.array([2.7, 5.0, 8.0]), np.array([0.9, 1.0, 2.0]), np.array([0.9, 1.0, 2.0]))
    >>> e.round(1).tolist(), rows.tolist()
    ([1.8, 3.6, 4.0, 6.0, 10.0], [0, -1, 1, 2])
    """
    lo, hi = centres - np.abs(minus), centres + np.abs(plus)
    order = np.argsort(centres)
    edges, rows = [float(lo[order[0]])], []
    for k, i in enumerate(order):
        if k and not np.isclose(lo[i], edges[-1]):
            if lo[i] > edges[-1]:
                rows.append(-1)  # a gap between bins: an empty row
                edges.append(float(lo[i]))
        rows.append(int(i))
        edges.append(float(max(hi[i], edges[-1] * (1 + 1e-9) if edges[-1] > 0 else edges[-1] + 1e-9)))
    return np.array(edges), np.array(rows)


def _y_axis(ds: xr.Dataset, var: xr.DataArray, dim: str, product: Product,
            y: str | None = None) -> tuple[np.ndarray, str, bool]:
    """Values, label and log flag of a spectrogram's y axis."""
    n = var.sizes[dim]
    if y is not None and y in ds.variables and ds[y].size == n and _all_finite(ds[y]):
        values = np.asarray(ds[y].values, dtype=np.float64).ravel()
        return values, _label(ds[y], y), bool(np.all(values > 0))
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
    t = _times(ds)
    if panel.block > 1 and z.shape[0] >= panel.block:  # one column per cycle of `block` records
        n = z.shape[0] // panel.block * panel.block
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            z = np.nanmean(z[:n].reshape(-1, panel.block, z.shape[1]), axis=1)
        t = t[:n:panel.block]
    if panel.floor is not None:
        z = np.where(z < panel.floor, np.nan, z)  # sentinels such as -1 ("no data") are gaps
    if panel.zero_below is not None:
        z = np.where(np.abs(z) < panel.zero_below, 0.0, z)
    y, ylabel, log_y = _y_axis(ds, var, dim, product, panel.y)
    y_edges = None
    if panel.y_edges is not None and _all_finite(ds[panel.y_edges[0]]) and _all_finite(ds[panel.y_edges[1]]):
        y_edges, rows = _edges_with_gaps(y, np.asarray(ds[panel.y_edges[0]].values, dtype=np.float64).ravel(),
                                         np.asarray(ds[panel.y_edges[1]].values, dtype=np.float64).ravel())
        z = np.where(rows[None, :] >= 0, z[:, np.maximum(rows, 0)], np.nan)
        log_y = bool(np.all(y_edges > 0))
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
    if panel.log is not None:
        log_z = panel.log
    if y_edges is None:
        order = np.argsort(y)
        y, z = y[order], z[:, order]
        y_edges = _axis_edges(y, log_y)
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
    if finite.size and not positive.size and not finite.any():
        ax.text(0.5, 0.5, "every value is 0", transform=ax.transAxes, ha="center", va="center", color="w")
    mesh = add_binned_spectrogram(ax, t, y_edges, z, norm=norm, cmap=cmap,
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
    cax.minorticks_off()  # a log colour bar's minor ticks (made, measured and drawn) cost more than the mesh


def _colormap(name: str):
    """A copy of a registered matplotlib colormap."""
    import matplotlib

    return matplotlib.colormaps[name]



def _draw_panel(ax: Axes, ds: xr.Dataset, panel: Panel, product: Product, cache: dict) -> None:
    if panel.kind in ("mag_magnitude", "mag_vector"):
        _draw_mag(ax, ds, panel, product, cache)
    elif panel.kind == "time_series":
        _draw_lines(ax, ds, panel)
    elif panel.kind == "events":
        _draw_events(ax, ds, panel)
    else:
        _draw_spectrogram(ax, ds, panel, product)
    if ds.sizes["epoch"] == 0:
        ax.text(0.5, 0.5, f"{product.logical_source}: no records in this time range", transform=ax.transAxes,
                ha="center", va="center", color="0.4")
    _legend(ax)
    ax.grid(True, lw=0.3, alpha=0.5)



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

