"""Drawing the panels that are not against time (:class:`~imap_explorer.plot.plan.View`).

Sky maps in a Mollweide projection (longitude increasing to the left), profiles, images and 2-D histograms
of events.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from imap_explorer.plot._istp import _label, _units, _wrap
from imap_explorer.plot.healpix import ang2pix_ring, nside_of

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes

    from imap_explorer.plot.plan import View

#: Named directions drawn on sky maps (ecliptic longitude, latitude in degrees).
SKY_MARKS = {"Nose": (259.2, 5.1), "Tail": (79.2, -5.1)}
_BACKGROUND = "0.2"


def _dim_for(var: xr.DataArray, ds: xr.Dataset, name: str | None) -> str | None:
    if name is None:
        return None
    if name in var.dims:
        return name
    if name in ds.variables and ds[name].ndim == 1:
        same = [d for d in var.dims if var.sizes[d] == ds[name].size]
        return str(same[0]) if len(same) == 1 else None
    return None


def _pick(var: xr.DataArray, view: View) -> xr.DataArray:
    """``var`` with the view's selection applied (dimensions it lacks are ignored)."""
    index = {}
    for dim, i in view.select:
        if dim in var.dims:
            index[dim] = slice(int(i[0]), int(i[1])) if isinstance(i, tuple) else int(i)
    return var.isel(index) if index else var


def view_values(ds: xr.Dataset, view: View, name: str | None = None) -> xr.DataArray:
    """The array a view draws: selected, reduced over ``view.over``, fill and masked cells as NaN."""
    var = _pick(ds[name or view.variable], view)
    data = var.astype(np.float64) if var.dtype.kind != "f" else var
    over = [d for d in view.over if d in data.dims]
    if over:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            if view.reduce == "sum":
                finite = data.notnull().any(over)
                data = data.sum(over, skipna=True).where(finite)
            else:
                data = data.mean(over, skipna=True)
    if view.mask is not None and view.mask in ds.variables:
        mask = view_values(ds, type(view)(view.kind, view.mask, select=view.select, over=view.over,
                                          reduce="sum"))
        mask = mask.broadcast_like(data) if set(mask.dims) <= set(data.dims) else None
        if mask is not None:
            data = data.where(mask.fillna(0) != 0)
    return data


def _norm(values: np.ndarray, log: bool):
    from matplotlib.colors import LogNorm, Normalize

    finite = values[np.isfinite(values)]
    positive = finite[finite > 0]
    if log and positive.size:
        # from the 0.5th percentile: a few near-zero cells would otherwise stretch the scale over decades
        lo, hi = float(np.percentile(positive, 0.5)) if positive.size > 200 else float(positive.min()), \
            float(positive.max())
        return LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 10)
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)


def _colorbar(ax: Axes, mappable, label: str) -> None:
    bar = ax.figure.colorbar(mappable, ax=ax, shrink=0.8, pad=0.03, fraction=0.05)
    bar.set_label(_wrap(label, 30), fontsize="small")
    bar.ax.tick_params(labelsize="x-small")
    bar.ax.minorticks_off()  # a log bar's minor ticks cost more to draw than the map


def _cmap(log: bool):
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return cmap.with_extremes(bad=(0, 0, 0, 0), under="0.35" if log else None)


# --------------------------------------------------------------------------- sky maps
def _display_x(lon: np.ndarray, center: float) -> np.ndarray:
    """Map x (radians) of ecliptic longitudes: ``center`` in the middle, longitude increasing to the left."""
    shifted = np.mod(np.asarray(lon, dtype=np.float64) - center + 180.0, 360.0) - 180.0
    return np.radians(-shifted)


def _sky_axes(ax: Axes, center: float) -> None:
    ticks = np.arange(-120, 121, 60)  # few ticks: making and measuring tick labels is most of a map's cost
    ax.set_xticks(np.radians(ticks))
    ax.set_xticklabels([f"{(center - t) % 360:.0f}°" for t in ticks], fontsize="x-small")
    lat = np.arange(-60, 61, 30)
    ax.set_yticks(np.radians(lat))
    ax.set_yticklabels([f"{v}°" for v in lat], fontsize="x-small")
    ax.grid(True, color="0.7", lw=0.4, alpha=0.6)
    ax.set_facecolor(_BACKGROUND)
    for name, (lon, lat) in SKY_MARKS.items():
        x = _display_x(np.array([lon]), center)[0]
        ax.plot([x], [np.radians(lat)], marker="+", color="w", ms=7, mew=1.2)
        ax.annotate(name, (x, np.radians(lat)), xytext=(3, 3), textcoords="offset points", color="w",
                    fontsize="x-small")


def _grid_edges(centres: np.ndarray, delta: np.ndarray | None) -> np.ndarray:
    if delta is not None and delta.size == centres.size and np.all(np.isfinite(delta)) and np.all(delta > 0):
        return np.concatenate([centres - delta, [centres[-1] + delta[-1]]])
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def draw_sky_map(ax: Axes, ds: xr.Dataset, view: View) -> None:
    """A sky map on Mollweide axes: a longitude x latitude grid, a HEALPix map, or points along a scan."""
    data = view_values(ds, view)
    values = np.asarray(data.values, dtype=np.float64)
    norm = _norm(values, view.log)
    cmap = _cmap(view.log)
    lon_dim = _dim_for(data, ds, view.lon) if data.ndim == 2 else None
    lat_dim = _dim_for(data, ds, view.lat) if data.ndim == 2 else None
    if lon_dim is not None and lat_dim is not None and lon_dim != lat_dim:
        # a rectangular grid: cells from the centres (and half-widths), rolled so the centre is in the middle
        lon = np.asarray(ds[view.lon].values, dtype=np.float64).ravel()
        lat = np.asarray(ds[view.lat].values, dtype=np.float64).ravel()
        delta = ds[f"{view.lon}_delta"].values if f"{view.lon}_delta" in ds.variables else None
        lat_delta = ds[f"{view.lat}_delta"].values if f"{view.lat}_delta" in ds.variables else None
        grid = data.transpose(lat_dim, lon_dim).values
        shifted = np.mod(lon - view.center + 180.0, 360.0) - 180.0
        order = np.argsort(shifted)
        x_edges = np.radians(-_grid_edges(shifted[order], None if delta is None else
                                          np.asarray(delta, dtype=np.float64)[order]))
        y_edges = np.radians(np.clip(_grid_edges(lat, None if lat_delta is None else
                                                 np.asarray(lat_delta, dtype=np.float64)), -90, 90))
        mesh = ax.pcolormesh(x_edges, y_edges, grid[:, order], norm=norm, cmap=cmap, rasterized=True)
    elif data.ndim == 1 and nside_of(data.size) is not None and (
            view.lon is None or view.lon not in ds.variables or data.size > 3000):
        # HEALPix (RING): which pixel holds each cell of a fine grid, in map coordinates
        nside = nside_of(data.size)
        step = 1.0 if nside >= 32 else 2.0
        x_deg = np.arange(-180.0, 180.0 + step / 2, step)
        y_deg = np.arange(-90.0, 90.0 + step / 2, step)
        xc, yc = 0.5 * (x_deg[1:] + x_deg[:-1]), 0.5 * (y_deg[1:] + y_deg[:-1])
        index = ang2pix_ring(nside, view.center - xc[None, :], yc[:, None])
        mesh = ax.pcolormesh(np.radians(x_deg), np.radians(y_deg), values[index], norm=norm, cmap=cmap,
                             rasterized=True)
    else:
        # points along a scan (GLOWS, a Hi PSET): coloured by value
        lon = view_values(ds, view, view.lon).values.ravel()
        lat = view_values(ds, view, view.lat).values.ravel()
        v = values.ravel()
        ok = np.isfinite(lon) & np.isfinite(lat)
        mesh = ax.scatter(_display_x(lon[ok], view.center), np.radians(lat[ok]), c=v[ok], s=4, norm=norm,
                          cmap=cmap, rasterized=True)
    _sky_axes(ax, view.center)
    ax.set_title(_wrap(view.title, 60), fontsize="small")
    _colorbar(ax, mesh, view.label or _units(ds[view.variable]))


# --------------------------------------------------------------------------- profiles, images, histograms
def _x_of(ds: xr.Dataset, view: View, data: xr.DataArray) -> tuple[np.ndarray, str]:
    if view.x is not None and view.x in ds.variables:
        x = ds[view.x]
        xs = view_values(ds, view, view.x) if x.ndim > 1 else x
        if xs.size == data.size:
            return np.asarray(xs.values, dtype=np.float64).ravel(), _label(x, view.x)
    dim = str(data.dims[0]) if data.ndim else ""
    return np.arange(data.size, dtype=np.float64), dim


def _with_gaps(x: np.ndarray, *ys: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort by x and break the line where a step is more than 1.5 x the usual one (excluded bins)."""
    order = np.argsort(x)
    x = x[order]
    ys = tuple(y[order] for y in ys)
    if x.size < 3:
        return (x, *ys)
    step = np.diff(x)
    usual = np.median(step[step > 0]) if np.any(step > 0) else 0
    gaps = np.flatnonzero(step > 1.5 * usual) + 1 if usual else np.empty(0, int)
    if gaps.size:
        x = np.insert(x, gaps, np.nan)
        ys = tuple(np.insert(y, gaps, np.nan) for y in ys)
    return (x, *ys)


def draw_profile(ax: Axes, ds: xr.Dataset, view: View) -> None:
    """One or more variables against a coordinate (spin angle, latitude, sample time), with an error band."""
    for name in (view.variable, *view.members):
        data = view_values(ds, view, name)
        y = np.asarray(data.values, dtype=np.float64).ravel()
        x, xlabel = _x_of(ds, view, data)
        err = None
        if view.errors is not None and name == view.variable and view.errors in ds.variables:
            err = np.asarray(view_values(ds, view, view.errors).values, dtype=np.float64).ravel()
            err = err if err.size == y.size else None
        if err is not None:
            xs, ys, es = _with_gaps(x, y, err)
            ax.fill_between(xs, ys - es, ys + es, alpha=0.3, lw=0)
        else:
            xs, ys = _with_gaps(x, y)
        ax.plot(xs, ys, marker="." if y.size <= 400 else None, ms=3, lw=0.9, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_wrap(view.label or _label(ds[view.variable], view.variable), 30))
    if view.log:
        ax.set_yscale("log")
    if view.members:
        ax.legend(fontsize="small", frameon=False)
    ax.set_title(_wrap(view.title, 60), fontsize="small")
    ax.grid(True, lw=0.3, alpha=0.5)


def draw_image(ax: Axes, ds: xr.Dataset, view: View) -> None:
    """A 2-D array (spin angle x energy step, ...) as cells, log or linear colour, with a colour bar."""
    from imap_explorer.plot.render import _axis_edges

    data = view_values(ds, view)
    if data.ndim != 2:
        data = data.squeeze()
    if data.ndim == 1:
        return draw_profile(ax, ds, view)
    x_dim = _dim_for(data, ds, view.x) or str(data.dims[-1])
    y_dim = next(d for d in data.dims if d != x_dim)
    grid = np.asarray(data.transpose(y_dim, x_dim).values, dtype=np.float64)
    x = (np.asarray(ds[view.x].values, dtype=np.float64).ravel() if view.x in ds.variables
         and ds[view.x].size == grid.shape[1] else np.arange(grid.shape[1], dtype=np.float64))
    y = (np.asarray(ds[view.y].values, dtype=np.float64).ravel() if view.y in ds.variables
         and ds[view.y].size == grid.shape[0] else np.arange(grid.shape[0], dtype=np.float64))
    log_y = view.log_y and bool(np.all(y > 0))
    xo, yo = np.argsort(x), np.argsort(y)
    mesh = ax.pcolormesh(_axis_edges(x[xo], False), _axis_edges(y[yo], log_y), grid[np.ix_(yo, xo)],
                         norm=_norm(grid, view.log), cmap=_cmap(view.log), rasterized=True)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(_label(ds[view.x], view.x) if view.x in ds.variables else x_dim)
    ax.set_ylabel(_label(ds[view.y], view.y) if view.y in ds.variables else y_dim)
    ax.set_title(_wrap(view.title, 60), fontsize="small")
    _colorbar(ax, mesh, view.label or _units(ds[view.variable]))
    return None


def draw_histogram(ax: Axes, ds: xr.Dataset, view: View) -> None:
    """Events: a 2-D histogram of ``y`` against ``x`` (log bins on log axes), or a 1-D histogram of ``x``."""
    from matplotlib.colors import LogNorm

    x_name = view.x or view.variable
    x = np.asarray(ds[x_name].values, dtype=np.float64).ravel()
    y = np.asarray(ds[view.y].values, dtype=np.float64).ravel() if view.y else None
    ok = np.isfinite(x) & (x > 0 if view.log_x else True)
    if x_name == "tof":
        ok &= x > 0.1  # 0.08 ns is CoDICE's "no time of flight"
    if y is not None:
        ok &= np.isfinite(y) & (y > 0 if view.log_y else True)
    x = x[ok]
    y = y[ok] if y is not None else None

    def bins(v: np.ndarray, log: bool) -> np.ndarray:
        if not v.size:
            return np.linspace(0, 1, 2)
        lo, hi = np.percentile(v, [0.1, 99.9])
        if log:
            return np.geomspace(max(lo, 1e-6), max(hi, lo * 10, 1e-5), 81)
        return np.linspace(lo, hi if hi > lo else lo + 1, 81)

    if y is None:
        ax.hist(x, bins=bins(x, view.log_x))
        ax.set_ylabel("events")
    else:
        counts, xe, ye = np.histogram2d(x, y, bins=(bins(x, view.log_x), bins(y, view.log_y)))
        counts[counts == 0] = np.nan
        mesh = ax.pcolormesh(xe, ye, counts.T, norm=LogNorm(vmin=1, vmax=max(np.nanmax(counts), 2) if x.size else 2),
                             cmap=_cmap(False), rasterized=True)
        ax.set_ylabel(_label(ds[view.y], view.y))
        _colorbar(ax, mesh, f"events ({x.size:,} in all)")
        if view.log_y:
            ax.set_yscale("log")
    if view.log_x:
        ax.set_xscale("log")
    ax.set_xlabel(_label(ds[x_name], x_name))
    ax.set_title(_wrap(view.title, 60), fontsize="small")
    if not x.size:
        ax.text(0.5, 0.5, "no events", transform=ax.transAxes, ha="center", va="center", color="0.4")


def draw_view(ax: Axes, ds: xr.Dataset, view: View) -> None:
    """Draw one View into ``ax`` (Mollweide axes for a sky map)."""
    if view.kind == "sky_map":
        if getattr(ax, "name", "") != "mollweide":
            msg = f"A sky map ({view.variable}) needs axes made with projection='mollweide'."
            raise ValueError(msg)
        draw_sky_map(ax, ds, view)
    elif view.kind in ("profile", "lines"):
        draw_profile(ax, ds, view)
    elif view.kind == "image":
        draw_image(ax, ds, view)
    elif view.kind in ("histogram", "scatter"):
        draw_histogram(ax, ds, view)
    else:
        msg = f"Unknown view kind {view.kind!r}: expected sky_map, profile, image, histogram or scatter."
        raise ValueError(msg)
