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
* Every other instrument has its recipe (:mod:`imap_explorer.plot.recipes`): ENA maps (Hi/Lo/Ultra L2/L3) and
  pointing sets as Mollweide sky maps, longitude increasing to the left; GLOWS lightcurves and latitude
  profiles as profiles, its solar history against time; SWAPI, CoDICE and HIT spectra as energy-time
  spectrograms; direct events as 2-D histograms; IDEX dust events (and a waveform with ``event=``).
* Anything else ISTP: ``DISPLAY_TYPE`` ``time_series`` -> lines with ``LABL_PTR_1`` legends,
  ``spectrogram`` -> ``pcolormesh``, log colour/axes where ``SCALETYP`` (or ``SCALE_TYP``) says so; on a
  log axis, line values <= 0 are gaps. A product of one record draws what the record is (a profile, an
  image, a map), never against time.

A recipe turns a Dataset into a :class:`Plan` (pure); the registry (:func:`register_recipe`,
:func:`choose_recipe`) picks it by product, and :func:`quicklook` draws it.

Long series are drawn with min-max decimation to the pixel width (:mod:`imap_explorer._decimate`),
re-done on zoom, so a day of 128 Hz burst data plots in well under a second and looks the same as
plotting every point. Spectrograms show at most 4 000 time columns (multi-day SWE is averaged in time
bins) and are rebuilt from the full-resolution records in view on every zoom or pan, with the same
colour scale and with data gaps left empty.
"""

from __future__ import annotations

import argparse
import datetime as dt
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from imap_explorer.exceptions import ImapExplorerError
from imap_explorer.plot._istp import (
    DEFAULT_PITCH_ANGLE_ENERGY_EV,
    MAG_FRAMES,
    MAX_GENERIC_PANELS,
    SWE_ENERGIES_EV,
    Product,
    component_labels,
    mag_frame,
    mag_vector_variable,
    plot_kind,
    product_of,
    scale_type,
)
from imap_explorer.plot.inputs import (
    _as_datasets,
    _as_datetime64,
    _no_records,
    _prepare,
    _time_range,
    _times,
    _title,
    _untimed_title,
)
from imap_explorer.plot.layout import normalise_layout, time_dim
from imap_explorer.plot.plan import Plan, View
from imap_explorer.plot.recipes import _describe, by_istp_hints, map_title
from imap_explorer.plot.registry import choose_recipe, make_plan, register_recipe, unregister_recipe
from imap_explorer.plot.render import (
    _PANEL_HEIGHT,
    _draw_panel,
    _new_figure,
    save_figure,
    spectrogram_time_edges,
)
from imap_explorer.plot.render import (
    _flag_runs as _flag_runs,  # re-exported: tests use it
)
from imap_explorer.plot.timeseries import Panel, _requested, _split_request, plan_panels
from imap_explorer.plot.views import draw_view

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_PITCH_ANGLE_ENERGY_EV",
    "MAG_FRAMES",
    "MAX_GENERIC_PANELS",
    "SWE_ENERGIES_EV",
    "Panel",
    "Plan",
    "Product",
    "View",
    "by_istp_hints",
    "choose_recipe",
    "component_labels",
    "mag_frame",
    "mag_vector_variable",
    "make_plan",
    "map_title",
    "normalise_layout",
    "plan_panels",
    "plot_kind",
    "product_of",
    "quicklook",
    "quicklook_command",
    "register_recipe",
    "scale_type",
    "spectrogram_time_edges",
    "time_dim",
    "unregister_recipe",
]

# --------------------------------------------------------------------------- public API
def quicklook(data: Any, *, variables: Sequence[str] | None = None, time_range: Any = None,
              ax: Axes | Sequence[Axes] | None = None, energy: float | None = None, pyplot: bool = True,
              center: Any = None, companion: str | None = None, event: int | None = None) -> Figure:
    """Draw a quick-look figure of IMAP data: panels chosen by the product's recipe.

    MAG products show ``|B|`` and the field components (labelled from the frame in the descriptor,
    e.g. ``B_x GSE`` or ``B_R``) in nT, with fill as gaps and ``quality_flags != 0`` shaded. SWE L1B/L2
    show an energy-time spectrogram of the flux averaged over look directions; SWE L3 a pitch-angle
    spectrogram and moments. ENA maps and pointing sets are sky maps, one-record products profiles or
    images (see the module's notes); other ISTP products follow ``DISPLAY_TYPE``. Several datasets are
    stacked on one time axis, titled with their logical sources, file versions and time span; products
    without a time axis are left out of a stack, with a warning naming them. Long
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
        Energy in eV of the SWE L3 pitch-angle panel (nearest bin; default 270 eV); for ENA maps, pointing
        sets and GLOWS L3e the energy (keV) to map, nearest bin (default: up to 6 energies across the band).
    pyplot : bool, default True
        Make the new figure with :mod:`matplotlib.pyplot` (shown by the notebook's backend; close it with
        ``plt.close``). ``False`` makes a plain Figure with an Agg canvas that pyplot never holds: safe to build
        in another thread than the notebook's (the Explorer's worker), shown only where you display or save it.
        Ignored with ``ax``.
    center : 'nose' or float, optional
        Sky maps: the longitude (degrees) at the centre of the map; ``"nose"`` is the heliospheric nose
        (259.2 deg). Default 0.
    companion : {'uncertainty', 'exposure'} or str, optional
        Sky maps: draw this map (the statistical uncertainty, the exposure, or a named variable) beside each.
    event : int, optional
        IDEX: draw the waveforms of this event (record index) instead of the event overview.

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
    options = {"energy": energy, "center": center, "companion": companion, "event": event}
    sources = [normalise_layout(ds) for ds in _as_datasets(data, span)]
    timed: list[tuple[xr.Dataset, Plan]] = []
    untimed: list[tuple[xr.Dataset, Plan]] = []
    for ds in sources:
        wanted = variables
        if variables is not None and len(sources) > 1:
            wanted = [v for v in variables if _split_request(v)[0] in ds.variables]
            if not wanted:
                continue
        plan = choose_recipe(ds)(ds, variables=wanted, **options)
        if plan.time_axis:
            timed.append((_prepare(ds, span, empty_ok=True), plan))
        else:
            untimed.append((ds, plan))
        for note in plan.notes:
            warnings.warn(f"{product_of(ds).logical_source}: {note}", stacklevel=2)
    if not timed and not untimed:
        msg = f"None of the datasets has the variables {', '.join(map(repr, variables or []))}."
        raise ValueError(msg)
    if not timed:
        if len(untimed) > 1:
            names = ", ".join(product_of(ds).logical_source for ds, _ in untimed)
            msg = (f"{names} have no time axis (maps, profiles or events), so they cannot share one figure: "
                   "plot each on its own.")
            raise ValueError(msg)
        return _draw_untimed(*untimed[0], ax=ax, pyplot=pyplot)
    if untimed:  # stacked on one time axis: products without one are left out, and said so
        names = ", ".join(f"{product_of(ds).logical_source} ({plan.recipe})" for ds, plan in untimed)
        warnings.warn(f"Skipped {names}: no time axis to stack on; plot each on its own.", stacklevel=2)
    empty = [ds for ds, _ in timed if ds.sizes["epoch"] == 0]
    if empty and len(empty) == len(timed):
        raise _no_records(empty, span)
    # stacked with others, a dataset without records in the time range is an empty panel saying so
    plans: list[tuple[xr.Dataset, Product, list[Panel]]] = [(ds, product_of(ds), plan.panels) for ds, plan in timed]
    n_panels = sum(len(p) for _, _, p in plans)

    if ax is None:
        height = 1.0 + _PANEL_HEIGHT * n_panels
        fig = _new_figure(pyplot, figsize=(10.0, height))
        # fixed margins in inches (y labels and ticks left; legends and colour bars right; title; dates):
        # constrained layout measured every tick label before drawing, about half the time of a MAG day
        fig.subplots_adjust(left=0.95 / 10.0, right=1 - 1.75 / 10.0, top=1 - 0.6 / height, bottom=0.55 / height,
                            hspace=0.22 / _PANEL_HEIGHT)
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



def _draw_untimed(ds: xr.Dataset, plan: Plan, *, ax: Any, pyplot: bool) -> Figure:
    """Draw a plan of views (maps, profiles, images, events), each in its own axes; title from the product."""
    views = plan.panels
    if not views:
        msg = f"Nothing to plot in {product_of(ds).logical_source} ({plan.recipe}). It holds: {_describe(ds)}."
        raise ValueError(msg)
    if ax is None:
        ncols = 1 if len(views) == 1 else 2
        nrows = -(-len(views) // ncols)
        maps = any(v.kind == "sky_map" for v in views)
        height = (2.9 if maps else 3.2) * nrows + 0.8
        # fixed margins, not constrained layout: measuring every tick label of map and colour-bar axes took
        # longer than drawing them (1.2 s of a 6-map figure)
        fig = _new_figure(pyplot, figsize=(6.2 * ncols if ncols > 1 else 8.0, height))
        fig.subplots_adjust(left=0.9 / (6.2 * ncols if ncols > 1 else 8.0) * (1 if maps else 1.2),
                            right=0.97, top=1 - 0.75 / height, bottom=0.55 / height, wspace=0.3,
                            hspace=0.55 if not maps else 0.3)
        axes = [fig.add_subplot(nrows, ncols, i + 1, projection=v.projection) for i, v in enumerate(views)]
    else:
        axes = [ax] if not isinstance(ax, (list, tuple, np.ndarray)) else list(np.ravel(ax))
        if len(axes) != len(views):
            msg = (f"Got {len(axes)} axes for {len(views)} panels "
                   f"({', '.join(v.kind + ':' + v.variable for v in views)}). Pass one Axes per panel.")
            raise ValueError(msg)
        fig = axes[0].figure
    try:
        for a, view in zip(axes, views):
            draw_view(a, ds, view)
    except BaseException:
        if ax is None and pyplot:
            import matplotlib.pyplot as plt

            plt.close(fig)
        raise
    if ax is None:
        fig.suptitle(_untimed_title(ds, plan), fontsize="medium")
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
    # several instruments on one time axis: --instrument mag,swapi (one query each)
    instruments = [i.strip() for i in str(given.get("instrument", "")).split(",") if i.strip()] or [None]
    frames = [query(table="science", **{**given, **({"instrument": i} if i else {})}) for i in instruments]
    import pandas as pd

    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
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
    # (a product of one record, a map or a pointing set, is what it is: its epoch may precede the file's date)
    datasets = [normalise_layout(ds) for ds in datasets]
    datasets = [_prepare(ds, span, empty_ok=True) if ds.sizes.get("epoch", 0) > 1 else ds for ds in datasets]
    if not any(ds.sizes.get("epoch", 1) for ds in datasets):
        raise _no_records(datasets, span)
    options = {name: getattr(args, name, None) for name in ("energy", "center", "companion", "event")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = quicklook(datasets, variables=args.variables, **options)
    for warning in caught:  # said plainly on stderr: what was skipped or left out
        print(f"note: {warning.message}", file=sys.stderr)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, out, dpi=120)
    finally:
        plt.close(fig)
    print(f"Saved quick-look plot to {out.resolve()}")
    return 0
