"""The I-ALiRT summary figure: what a forecaster reads, on one time axis (``ie.quicklook`` and the Monitor).

Panels, top to bottom: |B| and B in GSM (Bz bold: southward field drives geomagnetic activity); SWAPI speed;
SWAPI density and temperature (log); the SWE normalised counts as an energy-time spectrogram (log energy, log
colour); HIT rates on a log axis (zero counts are gaps). Lines are min-max decimated to the pixel width and
re-decimated on zoom, spectrogram columns binned, as in the MAG and SWE quick-looks
(:mod:`imap_explorer._decimate`).

The input is a :func:`~imap_explorer.ialirt.space_weather` DataFrame or an I-ALiRT Dataset in the archive layout
(an archive CDF opened with ``ie.load``, or :func:`~imap_explorer.ialirt.get_data`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imap_explorer.ialirt._schema import ARCHIVE_EPOCHS, SWE_ENERGY

__all__ = ["Series", "draw", "is_ialirt", "quicklook", "series_of"]

#: HIT rates drawn, with their labels.
HIT_RATES = {"hit_h_omni_low_en": "H 6-8 MeV", "hit_h_omni_med_en": "H 12-15 MeV", "hit_he_omni_low_en": "He 6-8 MeV/n",
             "hit_e_a_side_med_en": "e < 1 MeV (A)"}
_SWAPI = ("swapi_pseudo_proton_speed", "swapi_pseudo_proton_density", "swapi_pseudo_proton_temperature")


@dataclass
class Series:
    """The arrays the summary draws: ``{instrument: (time ns int64, {quantity: values})}``."""

    data: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=dict)

    def get(self, instrument: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Times and quantities of one instrument (empty when absent)."""
        return self.data.get(instrument, (np.zeros(0, np.int64), {}))

    def span(self) -> tuple[int, int] | None:
        """First and last time (ns) over all instruments, or None."""
        times = [t for t, _ in self.data.values() if t.size]
        if not times:
            return None
        return min(int(t.min()) for t in times), max(int(t.max()) for t in times)


def is_ialirt(data: Any) -> bool:
    """Whether ``data`` is a space-weather DataFrame or an I-ALiRT Dataset (archive layout)."""
    import sys

    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(data, pd.DataFrame):
        return {"instrument", "time_utc", "epoch"} <= set(data.columns)
    xr = sys.modules.get("xarray")
    if xr is not None and isinstance(data, xr.Dataset):
        source = str(data.attrs.get("Logical_source", ""))
        return source.startswith("imap_ialirt") or any(d in data.dims for d in ARCHIVE_EPOCHS.values())
    return False


def _ns(values: Any) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[ns]").astype(np.int64)


def series_of(data: Any) -> Series:
    """Pull the summary's arrays out of a space-weather DataFrame or an archive-layout Dataset."""
    import pandas as pd

    out = Series()
    if isinstance(data, pd.DataFrame):
        for inst, rows in data.groupby("instrument", sort=False):
            rows = rows.sort_values("epoch", kind="stable")
            cols = {c: rows[c].to_numpy(np.float64) for c in rows.columns
                    if c.startswith(str(inst)) and rows[c].dtype.kind == "f"}
            if inst == "swe":
                names = [f"swe_normalized_counts_{e:.0f}eV" for e in SWE_ENERGY]
                if all(n in rows for n in names):
                    cols["swe_normalized_counts"] = rows[names].to_numpy(np.float64)
            out.data[str(inst)] = (_ns(rows["epoch"].to_numpy()), cols)
        return out
    for inst, dim in ARCHIVE_EPOCHS.items():
        if dim not in data.dims or data.sizes[dim] == 0:
            continue
        cols = {}
        for name, var in data.data_vars.items():
            if var.dims[:1] != (dim,):
                continue
            values = np.asarray(var.values, dtype=np.float64)
            if name in ("mag_B_GSE", "mag_B_GSM", "mag_B_RTN") and values.ndim == 2:
                for i, s in enumerate("rtn" if name.endswith("RTN") else "xyz"):
                    cols[f"{name}_{s}"] = values[:, i]
            else:
                cols[name] = values
        out.data[inst] = (_ns(data[dim].values), cols)
    return out


def _panels(series: Series) -> list[str]:
    have = series.data
    panels = []
    if "mag" in have:
        panels.append("mag")
    if "swapi" in have:
        panels += ["speed", "density", "temperature"]
    if "swe" in have and "swe_normalized_counts" in have["swe"][1]:
        panels.append("swe")
    if "hit" in have:
        panels.append("hit")
    return panels


_LABELS = {"mag": "B GSM [nT]", "speed": "V [km/s]", "density": "n [cm$^{-3}$]", "temperature": "T [K]",
           "swe": "SWE e$^-$ [eV]", "hit": "HIT [counts/min]"}


def draw(fig, series: Series, *, time_range: tuple[Any, Any] | None = None, title: str | None = None) -> list:
    """Draw the summary of ``series`` into ``fig``; return the axes, one per panel.

    A figure that already shows the same panels keeps its axes (only the lines, meshes and legends are replaced):
    a Monitor refresh then costs a fraction of a new figure.
    """
    from matplotlib import dates as mdates
    from matplotlib.colors import LogNorm

    from imap_explorer._decimate import add_binned_spectrogram, add_minmax_line, ns_to_num

    panels = _panels(series)
    if not panels:
        raise ValueError("Nothing to draw: the data holds no MAG, SWAPI, SWE or HIT records.")
    kept = getattr(fig, "_ialirt_axes", None)
    if kept is not None and kept[0] == panels and all(ax.figure is fig for ax in kept[1]):
        axes = kept[1]  # the same panels as last time (a Monitor refresh): keep the axes, replace what they show
        for cax in getattr(fig, "_ialirt_colorbar_axes", []):  # before its mesh goes
            cax.remove()
        for ax in axes:
            for artist in [*ax.lines, *ax.collections, *ax.texts]:
                artist.remove()
            if ax.get_legend() is not None:
                ax.get_legend().remove()
    else:
        fig.clear()
        fixed = {"left": 0.1, "right": 0.9, "top": 0.95, "bottom": 0.06, "hspace": 0.12}
        axes = list(fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                                 gridspec_kw=fixed if fig.get_layout_engine() is None else None)[:, 0])
        fig._ialirt_axes = (panels, axes)
    fig._ialirt_colorbar_axes = []
    for ax, panel in zip(axes, panels, strict=True):
        ax.set_ylabel(_LABELS[panel])
        if panel == "mag":
            t, c = series.get("mag")
            if "mag_B_magnitude" in c:
                add_minmax_line(ax, t, c["mag_B_magnitude"], color="black", lw=1.0, label="|B|")
            for comp, color, width in (("x", "tab:blue", 0.6), ("y", "tab:green", 0.6), ("z", "tab:red", 1.4)):
                name = f"mag_B_GSM_{comp}"
                if name in c:
                    add_minmax_line(ax, t, c[name], color=color, lw=width, label=f"B{comp} GSM")
            ax.axhline(0.0, color="0.6", lw=0.5)
            ax.legend(loc="upper left", fontsize="x-small", ncol=4, frameon=False)
        elif panel in ("speed", "density", "temperature"):
            t, c = series.get("swapi")
            name = {"speed": _SWAPI[0], "density": _SWAPI[1], "temperature": _SWAPI[2]}[panel]
            y = c.get(name, np.full(t.size, np.nan))
            if panel != "speed":
                from matplotlib.ticker import LogFormatter

                y = np.where(y > 0, y, np.nan)
                ax.set_yscale("log")
                # plain numbers (6, 7, 2e+05), minor ticks labelled only when the axis spans less than a decade
                ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
                ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.5)))
            add_minmax_line(ax, t, y, color={"speed": "tab:purple", "density": "tab:orange",
                                             "temperature": "tab:brown"}[panel], lw=1.0)
        elif panel == "swe":
            t, c = series.get("swe")
            counts = np.where(c["swe_normalized_counts"] > 0, c["swe_normalized_counts"], np.nan)
            energy = np.asarray(SWE_ENERGY)
            edges = np.concatenate([[energy[0] ** 1.5 / energy[1] ** 0.5], np.sqrt(energy[1:] * energy[:-1]),
                                    [energy[-1] ** 1.5 / energy[-2] ** 0.5]])
            finite = counts[np.isfinite(counts)]
            norm = LogNorm(*(np.nanpercentile(finite, [1, 99.5]) if finite.size else (1, 10)))
            if t.size:
                mesh = add_binned_spectrogram(ax, t, edges, counts, norm=norm, cmap="viridis").mesh
                if fig.get_layout_engine() is None:  # a fixed layout (the Monitor): the colour bar beside the axes
                    box = ax.get_position()
                    cax = fig.add_axes((box.x1 + 0.01, box.y0, 0.012, box.height))
                    fig.colorbar(mesh, cax=cax, label="counts")
                    fig._ialirt_colorbar_axes.append(cax)
                else:
                    fig.colorbar(mesh, ax=ax, pad=0.01, fraction=0.03, label="counts")
            ax.set_yscale("log")
        elif panel == "hit":
            t, c = series.get("hit")
            for name, label in HIT_RATES.items():
                if name in c:
                    y = np.where(c[name] > 0, c[name], np.nan)
                    add_minmax_line(ax, t, y, lw=0.9, label=label)
            ax.set_yscale("log")
            ax.legend(loc="upper left", fontsize="x-small", ncol=4, frameon=False)
    span = series.span()
    lo = np.datetime64(time_range[0], "ns").astype(np.int64) if time_range and time_range[0] is not None else None
    hi = np.datetime64(time_range[1], "ns").astype(np.int64) if time_range and time_range[1] is not None else None
    if span is not None or (lo is not None and hi is not None):
        lo = lo if lo is not None else span[0]
        hi = hi if hi is not None else span[1]
        if hi <= lo:
            hi = lo + 60_000_000_000
        axes[-1].set_xlim(ns_to_num(np.array([lo, hi])))
    axes[-1].xaxis.set_major_formatter(mdates.ConciseDateFormatter(axes[-1].xaxis.get_major_locator()))
    axes[-1].set_xlabel("UTC")
    if title is None and span is not None:
        a, b = (np.datetime64(x, "ns") for x in span)
        title = f"I-ALiRT real-time: {str(a)[:16].replace('T', ' ')} to {str(b)[:16].replace('T', ' ')} UTC"
    if title:
        fig.suptitle(title, fontsize="medium")
    for ax, panel in zip(axes, panels, strict=True):
        ax.grid(True, color="0.9", lw=0.5)
        if panel != "swe":
            ax.relim()
            ax.autoscale_view(scalex=False)
    return list(axes)


def quicklook(data: Any, *, time_range: Any = None, ax: Any = None, pyplot: bool = True):
    """Draw the I-ALiRT summary of a space-weather DataFrame or an I-ALiRT Dataset; return the Figure.

    Parameters
    ----------
    data : pandas.DataFrame or xarray.Dataset
        From :func:`~imap_explorer.ialirt.space_weather`, :func:`~imap_explorer.ialirt.get_data`, or an archive CDF
        opened with ``ie.load``.
    time_range : (start, end), optional
        The time axis span (UTC); either end may be None.
    ax : matplotlib Axes, optional
        Draw into the figure of this axes (it is cleared).
    pyplot : bool, default True
        Make the figure with pyplot; ``False`` builds a plain Figure on an Agg canvas (for worker threads).
    """
    from imap_explorer._time import time_pair

    pair = time_pair(time_range)
    if ax is not None:
        fig = (ax[0] if isinstance(ax, (list, tuple)) else ax).figure
    elif pyplot:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(10, 9), layout="constrained")
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 9), layout="constrained")
        FigureCanvasAgg(fig)
    series = series_of(data)
    if pair is not None:
        lo = np.datetime64(pair[0], "ns").astype(np.int64) if pair[0] is not None else None
        hi = np.datetime64(pair[1], "ns").astype(np.int64) if pair[1] is not None else None
        for inst, (t, cols) in list(series.data.items()):
            keep = np.ones(t.size, bool)
            if lo is not None:
                keep &= t >= lo
            if hi is not None:
                keep &= t < hi
            series.data[inst] = (t[keep], {k: v[keep] for k, v in cols.items()})
    draw(fig, series, time_range=pair)
    return fig
