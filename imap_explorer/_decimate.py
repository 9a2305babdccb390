"""Pixel-exact min-max decimation of long time series for matplotlib, re-done on zoom.

A day of 128 Hz MAG burst data holds 11 million samples per component; a screen column shows a few
thousand of them. :func:`minmax_decimate` keeps, for every bin, the first, minimum, maximum and last
sample (the "M4" aggregation): the line then covers the rows the full line covers in each bin, joins
neighbouring bins through the true adjacent samples, and breaks wherever the full line breaks (a NaN
between two bins, an all-NaN or empty bin). :class:`MinMaxLine` is a :class:`~matplotlib.lines.Line2D`
that keeps the full data and, whenever it is drawn after its axes' ``xlim`` or size changed (zoom and pan
in ipympl, saving at another dpi), decimates it again into :data:`OVERSAMPLE` bins per output pixel
column of the visible range, aligned with the pixel grid. Rendered, it matches the every-point line to
within 2 px per column (see ``tests/test_plot.py`` and ``benchmarks/bench_plot.py``).

Times are handled as int64 nanoseconds (``datetime64[ns]`` viewed as int64); only the decimated points
are converted to matplotlib date numbers. Pass contiguous ``y`` arrays: reducing a strided column is
about ten times slower.
"""

from __future__ import annotations

import numpy as np
from matplotlib import dates as mdates
from matplotlib.lines import Line2D

__all__ = ["GAP_FACTOR", "MinMaxLine", "add_minmax_line", "gap_mask", "insert_gaps", "minmax_decimate",
           "ns_to_num", "num_to_ns"]

#: An interval longer than GAP_FACTOR times both neighbouring intervals is drawn as a gap.
GAP_FACTOR = 3.0
#: Bins per output pixel column. A line ~1.4 px wide (1 pt at 100 dpi) also inks the neighbouring columns
#: with the samples near their shared edge, so sub-pixel bins reproduce that spill as the full line has it.
OVERSAMPLE = 8
#: Decimate only when there are more than this many samples per pixel column.
MIN_SAMPLES_PER_PIXEL = 4
_NS_PER_DAY = 86_400 * 10**9


def _epoch_offset_days() -> float:
    return float(mdates.date2num(np.datetime64(0, "ns")))


def ns_to_num(t_ns: np.ndarray) -> np.ndarray:
    """Convert int64 nanoseconds since 1970 to matplotlib date numbers (float days)."""
    return np.asarray(t_ns, dtype=np.float64) / _NS_PER_DAY + _epoch_offset_days()


def num_to_ns(num: float) -> float:
    """Convert a matplotlib date number to nanoseconds since 1970 (float)."""
    return (float(num) - _epoch_offset_days()) * _NS_PER_DAY


def gap_mask(t: np.ndarray, factor: float = GAP_FACTOR) -> np.ndarray:
    """Return, for each interval ``t[i] -> t[i + 1]``, whether it is a data gap.

    An interval is a gap when it is longer than ``factor`` times both its neighbouring intervals
    (a local rule, so that a change of cadence, e.g. burst 8 Hz -> 2 Hz, is not mistaken for a gap).

    Examples
    --------
    >>> gap_mask(np.array([0, 1, 2, 3, 10, 11, 12])).tolist()
    [False, False, False, True, False, False]
    """
    t = np.asarray(t).astype(np.int64) if np.asarray(t).dtype.kind == "M" else np.asarray(t, dtype=np.float64)
    dt = np.diff(t).astype(np.float64)
    if dt.size < 2:
        return np.zeros(dt.shape, dtype=bool)
    prev = np.concatenate([[dt[1]], dt[:-1]])
    nxt = np.concatenate([dt[1:], [dt[-2]]])
    return dt > factor * np.maximum(prev, nxt)


def insert_gaps(t: np.ndarray, y: np.ndarray, factor: float = GAP_FACTOR) -> tuple[np.ndarray, np.ndarray]:
    """Insert a NaN sample in every gap of ``t`` (see :func:`gap_mask`) so that lines break there."""
    gaps = np.flatnonzero(gap_mask(t, factor))
    if gaps.size == 0:
        return t, y
    t_new = np.insert(t, gaps + 1, t[gaps] + (t[gaps + 1] - t[gaps]) // 2)
    y_new = np.insert(np.asarray(y, dtype=np.float64), gaps + 1, np.nan, axis=0)
    return t_new, y_new


def minmax_decimate(
    t: np.ndarray, y: np.ndarray, n_bins: int, t_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a sorted time series to first/min/max/last per pixel column.

    Parameters
    ----------
    t : numpy.ndarray of int64 or float
        Sample times, ascending (int64 nanoseconds for ``datetime64[ns]`` data).
    y : numpy.ndarray of float
        Values; NaN marks fill and breaks the line.
    n_bins : int
        Number of pixel columns across ``t_range``.
    t_range : (float, float), optional
        The visible interval; default the whole of ``t``. One sample on each side of it is kept so
        that the line runs to the axes' edges.

    Returns
    -------
    (t_out, y_out) : tuple of numpy.ndarray (float64)
        At most ``4 * n_bins + 2`` points. A column with no sample, or only NaN, becomes NaN (a break).
        When there are fewer than ``MIN_SAMPLES_PER_PIXEL`` samples per column the visible samples
        are returned as they are, with NaN inserted in time gaps (see :func:`insert_gaps`).

    Examples
    --------
    >>> t = np.arange(12)
    >>> y = np.array([0, 5, 1, 2, 9, 3, np.nan, np.nan, np.nan, 4, 0, 1], dtype=float)
    >>> _, yd = minmax_decimate(t, y, n_bins=2, t_range=(0, 12))
    >>> yd.tolist()[:4]  # first, min, max, last of column 0 (samples 0-5)
    [0.0, 0.0, 9.0, 3.0]
    >>> bool(np.isnan(yd[4]))  # column 1 starts with NaN: the line breaks between the columns
    True
    """
    t = np.asarray(t)
    y = np.asarray(y)
    n = t.size
    if n == 0:
        return np.empty(0), np.empty(0)
    n_bins = max(int(n_bins), 1)
    lo, hi = (float(t[0]), float(t[-1])) if t_range is None else (float(t_range[0]), float(t_range[1]))
    if hi <= lo:
        hi = lo + 1.0
    edges = lo + (hi - lo) * np.arange(n_bins + 1, dtype=np.float64) / n_bins
    # search in t's own dtype: a float key would make numpy cast all of an int64 t to float
    keys = np.ceil(edges).astype(t.dtype) if t.dtype.kind in "iu" else edges.astype(t.dtype)
    idx = np.searchsorted(t, keys, side="left")  # bin k holds samples idx[k] .. idx[k+1]-1
    # the visible samples, plus one neighbour on each side
    i0 = max(int(idx[0]) - 1, 0)
    i1 = min(int(np.searchsorted(t, keys[-1:], side="right")[0]) + 1, n)
    if i1 - i0 <= MIN_SAMPLES_PER_PIXEL * n_bins:
        tv, yv = insert_gaps(t[i0:i1], y[i0:i1])
        return tv.astype(np.float64), np.asarray(yv, dtype=np.float64)
    starts, ends = idx[:-1], idx[1:]
    filled = ends > starts
    # reduceat reduces y[start_k:start_k+1] and, for the last index, y[start:] to the END of its input:
    # cut the input at the last bin's end. Empty bins give garbage that `filled` masks below.
    stop = max(int(idx[-1]), 1)
    safe = np.minimum(starts, stop - 1)
    ymin = np.fmin.reduceat(y[:stop], safe)
    ymax = np.fmax.reduceat(y[:stop], safe)
    last = np.maximum(ends - 1, 0)
    tf = t[safe].astype(np.float64)
    tl = t[last].astype(np.float64)
    tm = 0.5 * (tf + tl)  # with OVERSAMPLE bins per pixel this is within 1/16 px of the extremes' true times
    out_t = np.stack([tf, tm, tm, tl], axis=1)
    out_y = np.stack([y[safe], ymin, ymax, y[last]], axis=1).astype(np.float64)
    out_y[~filled] = np.nan
    out_t[~filled] = (0.5 * (edges[:-1] + edges[1:]))[~filled, None]
    head_t, head_y, tail_t, tail_y = [], [], [], []
    if idx[0] > 0:  # the sample left of the view joins the first column
        head_t, head_y = [float(t[idx[0] - 1])], [float(y[idx[0] - 1])]
    if idx[-1] < n:
        tail_t, tail_y = [float(t[idx[-1]])], [float(y[idx[-1]])]
    return (np.concatenate([head_t, out_t.ravel(), tail_t]), np.concatenate([head_y, out_y.ravel(), tail_y]))


class MinMaxLine(Line2D):
    """A time-series line that draws a min-max decimated copy of its full data.

    The full ``(t, y)`` arrays are kept on the artist. An ``xlim_changed`` of its axes (zoom, pan in
    ipympl) marks it stale, and each draw decimates them again for the visible x range and the axes'
    width in output pixels, so zooming in or saving at another dpi shows full detail.

    Parameters
    ----------
    t_ns : numpy.ndarray
        Times as ``datetime64[ns]`` or int64 nanoseconds since 1970, ascending.
    y : numpy.ndarray
        Values (NaN = fill).
    **kwargs
        Passed to :class:`~matplotlib.lines.Line2D` (``color``, ``label``, ``lw`` ...).
    """

    def __init__(self, t_ns: np.ndarray, y: np.ndarray, **kwargs) -> None:
        t_ns = np.asarray(t_ns)
        if t_ns.dtype.kind == "M":  # no copy when already datetime64[ns]
            t_ns = t_ns.astype("datetime64[ns]", copy=False).view(np.int64)
        self.full_t = t_ns
        self.full_y = np.asarray(y)
        self._cache_key: tuple | None = None
        self.oversample = OVERSAMPLE
        super().__init__([], [], **kwargs)

    def _view(self) -> tuple[tuple[float, float] | None, int]:
        """The visible time range widened to whole output pixels, and the number of pixel columns.

        Bins then coincide with the pixel columns the renderer fills, which is what makes the
        decimated line cover the same pixels as the full one.
        """
        ax = self.axes
        if ax is None:
            return None, 1000
        d0, d1 = ax.bbox.x0, ax.bbox.x1
        x0, x1 = ax.get_xlim()
        if d1 - d0 < 1 or x0 == x1:
            return (num_to_ns(min(x0, x1)), num_to_ns(max(x0, x1))), 1000
        p0, p1 = np.floor(d0), np.ceil(d1)
        scale = (x1 - x0) / (d1 - d0)
        lo, hi = sorted((x0 + (p0 - d0) * scale, x0 + (p1 - d0) * scale))
        return (num_to_ns(lo), num_to_ns(hi)), int(p1 - p0)

    def redecimate(self, t_range: tuple[float, float] | None = None, width: int | None = None,
                   *, quiet: bool = False) -> bool:
        """Decimate the full data again for ``t_range`` (ns) and ``width`` pixels (default: the axes').

        Returns True when the drawn data changed. With ``quiet`` the artist is not marked stale (used
        from inside :meth:`draw`, which is already drawing it).
        """
        view_range, view_width = self._view()
        if t_range is None and self.axes is not None:
            t_range = view_range
        width = width or view_width
        key = (None if t_range is None else (round(t_range[0], -3), round(t_range[1], -3)), width)
        if key == self._cache_key:
            return False
        self._cache_key = key
        td, yd = minmax_decimate(self.full_t, self.full_y, width * self.oversample, t_range)
        x = ns_to_num(td) if td.size else td
        if quiet:
            callback, self.stale_callback = self.stale_callback, None
            try:
                self.set_data(x, yd)
            finally:
                self.stale_callback = callback
        else:
            self.set_data(x, yd)
        return True

    def draw(self, renderer) -> None:  # noqa: D102 - Line2D.draw
        self.redecimate(quiet=True)
        super().draw(renderer)


def add_minmax_line(ax, t, y, **kwargs) -> MinMaxLine:
    """Add a :class:`MinMaxLine` of ``y`` against datetime64 ``t`` to ``ax`` and return it.

    The axes gets a date x axis and an ``xlim_changed`` callback that re-decimates its lines.
    """
    if "color" not in kwargs and "c" not in kwargs:
        kwargs["color"] = ax._get_lines.get_next_color()
    line = MinMaxLine(t, y, **kwargs)
    ax.xaxis_date()
    n = line.full_t.size
    full = (float(line.full_t[0]), float(line.full_t[-1])) if n else None
    line.redecimate(full, max(int(np.ceil(ax.bbox.width)), 1))
    line._cache_key = None  # the real view is known only once the axes are laid out
    ax.add_line(line)
    if not getattr(ax, "_imap_minmax_connected", False):
        ax.callbacks.connect("xlim_changed", _on_xlim_changed)
        ax._imap_minmax_connected = True
    return line


def _on_xlim_changed(ax) -> None:
    # Shared axes get no callback of their own, so invalidate every MinMaxLine of the x-sharing group.
    # The decimation itself happens in MinMaxLine.draw, once per new view (not once per event).
    for other in ax.get_shared_x_axes().get_siblings(ax):
        for line in other.get_lines():
            if isinstance(line, MinMaxLine):
                line._cache_key = None
                line.stale = True
