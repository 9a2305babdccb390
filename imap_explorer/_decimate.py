"""Pixel-exact min-max decimation of long time series for matplotlib, re-done on zoom.

A day of 128 Hz MAG burst data holds 11 million samples per component; a screen column shows a few thousand of
them. :func:`minmax_decimate` keeps, for every bin, the minimum and maximum sample, and the first and last where
the line breaks next to them (the "M4" aggregation, thinned): the line then covers the rows the full line covers in
each bin, joins neighbouring bins a fraction of a pixel apart, and breaks wherever the full line breaks (a NaN
between two bins, an all-NaN or empty bin). :class:`MinMaxLine` is a :class:`~matplotlib.lines.Line2D` that keeps
the full data and, whenever it is drawn after its axes' ``xlim`` or size changed (zoom and pan in ipympl, saving at
another dpi), decimates it again into :data:`OVERSAMPLE` bins per output pixel column of the visible range, aligned
with the pixel grid. Rendered, it matches the every-point line to within 2 px per column (see
``tests/test_plot.py`` and ``benchmarks/bench_plot.py``). A finite sample between two fill values draws no line,
decimated or not: :func:`add_minmax_line` gives such samples a marker-only companion line (:func:`lone_samples`),
re-decimated with it.

Spectrograms get the same treatment in time: :class:`BinnedSpectrogram` keeps the full-resolution ``(time, y)``
array and shows at most :data:`MAX_SPECTROGRAM_COLUMNS` time columns of it, averaging records in time bins when
more are in view. When its axes' ``xlim`` changes, the columns of the new view are rebuilt from the full data (each
record its own column once few enough are in view), with the same norm and colormap; the previous
:class:`~matplotlib.collections.QuadMesh` is replaced. Bins lie on a grid fixed by the data (halving the first
draw's bin width per zoom level), so panning shifts columns without changing their values, and a column never
reaches across a data gap (see :func:`record_cells`).

Times are handled as int64 nanoseconds (``datetime64[ns]`` viewed as int64); only the decimated points are
converted to matplotlib date numbers. Pass contiguous ``y`` arrays: reducing a strided column is about ten times
slower. The components of long vectors need no contiguous copy: :class:`VectorColumns` reduces all of them, and
their norm, in one chunked pass (see :class:`ColumnView`).
"""

from __future__ import annotations

import numpy as np
from matplotlib import dates as mdates
from matplotlib.lines import Line2D

__all__ = ["GAP_FACTOR", "MAX_SPECTROGRAM_COLUMNS", "SNAP_BLOCKS", "BinnedSpectrogram", "ColumnView", "MinMaxLine",
           "VectorColumns", "add_binned_spectrogram", "add_minmax_line", "cell_edges", "column_means", "gap_mask",
           "insert_gaps", "lone_samples", "minmax_decimate", "nonfinite", "ns_to_num", "num_to_ns", "record_cells",
           "time_bins"]

#: An interval longer than GAP_FACTOR times both neighbouring intervals is drawn as a gap.
GAP_FACTOR = 3.0
#: Bins per output pixel column. A line ~1.4 px wide (1 pt at 100 dpi) also inks the neighbouring columns
#: with the samples near their shared edge, so sub-pixel bins reproduce that spill as the full line has it.
OVERSAMPLE = 4
#: Decimate only when there are more than this many samples per pixel column.
MIN_SAMPLES_PER_PIXEL = 4
#: Bins of a :class:`ColumnView` this many blocks wide or more start on block boundaries (see VectorColumns).
SNAP_BLOCKS = 4
#: A spectrogram shows at most about this many time columns (more than the pixel columns of a 10 in figure
#: saved at 300 dpi); more records in view are averaged in time bins.
MAX_SPECTROGRAM_COLUMNS = 4000
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


class VectorColumns:
    """The components of a long ``(n, k)`` array of vectors and their norm, as the data of four lines, not copied.

    Transposing a day of 128 Hz burst vectors into one contiguous row per component writes 132 MB (and its norm
    44 MB more) of fresh memory, which on a virtual machine that hands freed memory back to its host can cost
    several times the arithmetic. Instead, each line reads the array where it is: :meth:`view` gives line ``i``
    (components ``0, 1, 2``, the norm of the first three ``3``) as a :class:`ColumnView`, and the min-max
    reduction of all four lines over the same bins is done in one pass of cache-sized chunks, each transposed into
    a small buffer (a strided column reduces about ten times slower than a contiguous one). The reduction of the
    last set of bins is kept, so the four lines of one view cost one pass.

    :meth:`scan`, the pass that finds each line's extremes and breaks, also keeps the extremes of every ``block``
    rows. Bins that start on block boundaries are then reduced from those, without reading the vectors again:
    :func:`minmax_decimate` moves the edges of wide bins (all :data:`SNAP_BLOCKS` blocks or more) to the nearest
    boundary.

    Parameters
    ----------
    vectors : numpy.ndarray
        Floats, shape ``(n, k)`` with ``k >= 3``.
    step : int
        Rows per chunk.
    block : int
        Rows per block whose extremes :meth:`scan` keeps; 0, or one that does not divide ``step``, keeps none.

    Examples
    --------
    >>> v = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 1.0], [np.nan, 1.0, 1.0], [1.0, 2.0, 2.0]])
    >>> columns = VectorColumns(v, step=2)
    >>> extremes, breaks = columns.scan()
    >>> extremes[3], breaks.tolist()
    ((1.0, 5.0), [2])
    >>> columns.view(3)[[0, 3]].tolist()
    [5.0, 3.0]
    >>> low, high = columns.view(1).extrema(np.array([0, 2]), 4)
    >>> low.tolist(), high.tolist()
    ([0.0, 1.0], [4.0, 2.0])
    """

    def __init__(self, vectors: np.ndarray, step: int = 1 << 16, block: int = 512) -> None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[1] < 3 or vectors.dtype.kind != "f":
            raise ValueError(f"VectorColumns expects floats of shape (n, 3 or more), got {vectors.dtype} "
                             f"{vectors.shape}")
        self.vectors = vectors
        self.step = max(int(step), 1)
        self.block = int(block) if block and self.step % int(block) == 0 else 0
        self._blocks: tuple[np.ndarray, np.ndarray] | None = None
        self._norm: np.ndarray | None = None
        self._last: tuple[tuple, tuple[np.ndarray, np.ndarray]] | None = None

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def view(self, i: int) -> ColumnView:
        """Line ``i``: component ``0``, ``1`` or ``2``, or ``3`` for the norm of the three."""
        if i not in (0, 1, 2, 3):
            raise ValueError(f"a line of VectorColumns is 0, 1, 2 (components) or 3 (norm), got {i!r}")
        return ColumnView(self, i)

    def norm_of(self, rows: np.ndarray) -> np.ndarray:
        """The norm of the first three columns of ``rows`` (rows of ``vectors``), in their dtype."""
        rows = np.asarray(rows)[..., :3]
        return np.sqrt(np.einsum("...i,...i->...", rows, rows))

    def norm(self) -> np.ndarray:
        """The norm of every vector, computed on first use and kept (a new full-size array)."""
        if self._norm is None:
            self._norm = np.empty(len(self), self.vectors.dtype)
            for a, block in self._chunks(0, len(self)):
                self._norm[a:a + block.shape[1]] = block[3]
        return self._norm

    def _chunks(self, start: int, stop: int):
        """``(a, block)`` for each chunk of rows from ``start`` to ``stop``.

        ``block``, ``(4, m)``, holds the three components and their norm of rows ``a .. a + m - 1``. The buffer
        is reused: use it before the next.
        """
        buffer = np.empty((4, min(self.step, max(stop - start, 1))), self.vectors.dtype)
        for a in range(start, stop, self.step):
            m = min(self.step, stop - a)
            block = buffer[:, :m]
            np.copyto(block[:3], self.vectors[a:a + m, :3].T)
            np.einsum("ij,ij->j", block[:3], block[:3], out=block[3])
            np.sqrt(block[3], out=block[3])
            yield a, block

    def scan(self) -> tuple[list[tuple[float, float]], np.ndarray]:
        """One pass over the vectors: the ``extremes`` and ``breaks`` of :func:`add_minmax_line`.

        ``extremes`` lists each line's ``(min, max)`` ignoring NaN (NaN when all are); ``breaks`` are the rows where
        the norm is not finite (a component is non-finite only there). The extremes of every ``block`` rows are
        kept for :meth:`extrema`.
        """
        n = len(self)
        size = self.block or self.step  # the extremes of each block (of each chunk when no blocks are kept)
        count = -(-n // size)
        low, high = np.full((4, count), np.nan, self.vectors.dtype), np.full((4, count), np.nan, self.vectors.dtype)
        finite = np.empty(min(self.step, n), bool)
        breaks = []
        for a, block in self._chunks(0, n):
            cuts = np.arange(0, block.shape[1], size)
            k = a // size
            np.fmin.reduceat(block, cuts, axis=1, out=low[:, k:k + cuts.size])
            np.fmax.reduceat(block, cuts, axis=1, out=high[:, k:k + cuts.size])
            mask = finite[:block.shape[1]]
            np.isfinite(block[3], out=mask)
            if not mask.all():
                breaks.append(np.flatnonzero(~mask) + a)
        if self.block:
            self._blocks = (low, high)
        with np.errstate(invalid="ignore"):
            extremes = [(float(lo), float(hi)) for lo, hi in zip(np.fmin.reduce(low, axis=1),
                                                                 np.fmax.reduce(high, axis=1))]
        return extremes, (np.concatenate(breaks) if breaks else np.empty(0, np.intp))

    def extrema(self, i: int, starts: np.ndarray, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``np.fmin.reduceat`` and ``np.fmax.reduceat`` of line ``i`` cut at ``stop``, at ``starts``.

        ``starts`` are ascending row indices below ``stop`` (a repeated one gives an undefined value, as an
        empty bin's does in :func:`minmax_decimate`). All four lines are reduced in one pass and kept for the
        next call with the same bins.
        """
        starts = np.asarray(starts, dtype=np.intp)
        key = (int(stop), starts.tobytes())
        if self._last is None or self._last[0] != key:
            self._last = (key, self._from_blocks(starts, int(stop)) or self._reduce(starts, int(stop)))
        low, high = self._last[1]
        return low[i], high[i]

    def _from_blocks(self, starts: np.ndarray, stop: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The reduction from the blocks' extremes, when every bin starts on a block boundary (else None).

        ``stop - 1`` may stand for the empty bins at the end, as in :func:`minmax_decimate`.
        """
        size = self.block
        if self._blocks is None or not starts.size or not (stop % size == 0 or stop == len(self)):
            return None
        if not np.all((starts % size == 0) | (starts == stop - 1)):
            return None
        low, high = self._blocks
        end = -(-stop // size)
        segments = starts // size
        return np.fmin.reduceat(low[:, :end], segments, axis=1), np.fmax.reduceat(high[:, :end], segments, axis=1)

    def _reduce(self, starts: np.ndarray, stop: int) -> tuple[np.ndarray, np.ndarray]:
        if starts.size == 0:
            return np.empty((4, 0), self.vectors.dtype), np.empty((4, 0), self.vectors.dtype)
        first = int(starts[0])
        # segments: cut at every bin start and every chunk start, so that no segment spans two chunks; each chunk
        # reduces its segments, and the segments of a bin are then reduced into it
        chunk_starts = np.arange(first, stop, self.step)
        cuts = np.union1d(starts, chunk_starts)
        where = np.append(np.searchsorted(cuts, chunk_starts), cuts.size)
        low = np.empty((4, cuts.size), self.vectors.dtype)
        high = np.empty((4, cuts.size), self.vectors.dtype)
        for k, (a, block) in enumerate(self._chunks(first, stop)):
            s0, s1 = where[k], where[k + 1]
            local = cuts[s0:s1] - a
            low[:, s0:s1] = np.fmin.reduceat(block, local, axis=1)
            high[:, s0:s1] = np.fmax.reduceat(block, local, axis=1)
        segments = np.searchsorted(cuts, starts)
        return np.fmin.reduceat(low, segments, axis=1), np.fmax.reduceat(high, segments, axis=1)


class ColumnView:
    """One line of a :class:`VectorColumns`: indexable like a 1-D array (int, slice, index array), without a copy.

    ``np.asarray(view)`` gives the whole line: a strided view for a component, the norm computed once for line 3.
    :func:`minmax_decimate` reduces it through :meth:`extrema`, a pass shared by the four lines.
    """

    ndim = 1

    def __init__(self, columns: VectorColumns, i: int) -> None:
        self.columns = columns
        self.i = i

    @property
    def dtype(self) -> np.dtype:
        return self.columns.vectors.dtype

    @property
    def size(self) -> int:
        return len(self.columns)

    @property
    def shape(self) -> tuple[int]:
        return (len(self.columns),)

    def __len__(self) -> int:
        return len(self.columns)

    def __getitem__(self, key):
        rows = self.columns.vectors[key]
        return rows[..., self.i] if self.i < 3 else self.columns.norm_of(rows)

    def __array__(self, dtype=None, copy=None):
        values = self.columns.vectors[:, self.i] if self.i < 3 else self.columns.norm()
        return values if dtype is None else values.astype(dtype, copy=False)

    @property
    def block(self) -> int:
        """Rows per block whose extremes are known (after :meth:`VectorColumns.scan`), else 0."""
        return self.columns.block if self.columns._blocks is not None else 0

    def extrema(self, starts: np.ndarray, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """See :meth:`VectorColumns.extrema`."""
        return self.columns.extrema(self.i, starts, stop)

    def __repr__(self) -> str:
        name = "norm" if self.i == 3 else f"component {self.i}"
        return f"<ColumnView {name} of {len(self.columns):,} vectors>"


def nonfinite(y: np.ndarray, candidates: np.ndarray | None = None, step: int = 1 << 20) -> np.ndarray:
    """Indices of the non-finite samples of ``y`` (NaN, inf), ascending.

    ``candidates``, when given, are indices that include every non-finite sample (e.g. those where the norm
    of a vector is non-finite, for one of its components): only they are looked at. Otherwise ``y`` is
    searched in cache-sized chunks: a full-size boolean temporary costs more in fresh memory than the search.

    Examples
    --------
    >>> nonfinite(np.array([1.0, np.nan, 2.0, np.inf])).tolist()
    [1, 3]
    >>> nonfinite(np.array([1.0, np.nan, 2.0, np.inf]), candidates=np.array([0, 1])).tolist()
    [1]
    """
    if not isinstance(y, ColumnView):
        y = np.asarray(y)
    if y.dtype.kind not in "fc":
        return np.empty(0, np.intp)
    if candidates is not None:
        candidates = np.asarray(candidates, dtype=np.intp)
        return candidates[~np.isfinite(y[candidates])]
    if isinstance(y, np.ndarray):
        y = y.ravel()
    found = []
    mask = np.empty(min(step, y.size), bool)
    for a in range(0, y.size, step):
        chunk = y[a:a + step]
        m = mask[:chunk.size]
        np.isfinite(chunk, out=m)
        if not m.all():
            found.append(np.flatnonzero(~m) + a)
    return np.concatenate(found) if found else np.empty(0, np.intp)


def lone_samples(y: np.ndarray, breaks: np.ndarray | None = None) -> np.ndarray:
    """Indices of the finite samples whose neighbours are both non-finite (or missing, at the ends).

    A line needs two neighbouring finite points, so these samples draw no pixel on their own, decimated or not:
    :func:`add_minmax_line` marks them. ``breaks`` may give indices that include every non-finite sample (see
    :func:`nonfinite`); only the non-finite positions are listed, without full-size temporaries.

    Examples
    --------
    >>> lone_samples(np.array([1.0, np.nan, 2.0, np.nan, np.nan, 3.0, 4.0, np.nan, 5.0])).tolist()
    [0, 2, 8]
    >>> lone_samples(np.array([7.0])).tolist(), lone_samples(np.array([1.0, 2.0])).tolist()
    ([0], [])
    """
    if not isinstance(y, ColumnView):
        y = np.asarray(y)
    if y.dtype.kind not in "fc":
        return np.arange(y.size) if y.size == 1 else np.empty(0, np.intp)
    breaks = nonfinite(y, breaks)
    # with a virtual break before the first and after the last sample, a lone sample sits between two
    # breaks two positions apart
    bounds = np.concatenate([[-1], breaks, [y.size]])
    return bounds[:-1][np.diff(bounds) == 2] + 1


def minmax_decimate(
    t: np.ndarray, y: np.ndarray, n_bins: int, t_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a sorted time series to first/min/max/last per pixel column.

    Parameters
    ----------
    t : numpy.ndarray of int64 or float
        Sample times, ascending (int64 nanoseconds for ``datetime64[ns]`` data).
    y : numpy.ndarray of float, or ColumnView
        Values; NaN marks fill and breaks the line. A :class:`ColumnView` is reduced by its own
        :meth:`~ColumnView.extrema` (one pass for all the lines of its vectors) and read only where needed.
    n_bins : int
        Number of pixel columns across ``t_range``.
    t_range : (float, float), optional
        The visible interval; default the whole of ``t``. One sample on each side of it is kept so
        that the line runs to the axes' edges.

    Returns
    -------
    (t_out, y_out) : tuple of numpy.ndarray (float64)
        At most ``4 * n_bins + 2`` points: per column its first sample, its extremes (max first in even
        columns, min first in odd ones) and its last sample. A column with no sample, or only NaN, becomes NaN
        (a break).
        When there are fewer than ``MIN_SAMPLES_PER_PIXEL`` samples per column the visible samples
        are returned as they are, with NaN inserted in time gaps (see :func:`insert_gaps`).

    Examples
    --------
    >>> t = np.arange(12)
    >>> y = np.array([0, 5, 1, 2, 9, 3, np.nan, np.nan, np.nan, 4, 0, 1], dtype=float)
    >>> _, yd = minmax_decimate(t, y, n_bins=2, t_range=(0, 12))
    >>> yd.tolist()[:4]  # first, max, min, last of column 0 (samples 0-5; min first in odd columns)
    [0.0, 9.0, 0.0, 3.0]
    >>> bool(np.isnan(yd[4]))  # column 1 starts with NaN: the line breaks between the columns
    True
    """
    t = np.asarray(t)
    if not isinstance(y, ColumnView):
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
    block = y.block if isinstance(y, ColumnView) else 0
    inner = idx[(idx > 0) & (idx < n)] if block else idx[:0]
    if inner.size > 1 and np.diff(inner).min() >= SNAP_BLOCKS * block:
        # wide bins of a line whose block extremes are known: each edge moves to the nearest block boundary, by at
        # most half a block (an eighth of the narrowest bin, a 32nd of a pixel column), and the bins reduce from
        # the blocks. Only the bins at the ends of the data, partly outside the view, may be narrower. An empty
        # bin inside the data (a time gap) keeps every edge exact: a moved edge would carry samples across it.
        idx = np.minimum((idx + block // 2) // block * block, n)
    starts, ends = idx[:-1], idx[1:]
    filled = ends > starts
    # reduceat reduces y[start_k:start_k+1] and, for the last index, y[start:] to the END of its input:
    # cut the input at the last bin's end. Empty bins give garbage that `filled` masks below.
    stop = max(int(idx[-1]), 1)
    safe = np.minimum(starts, stop - 1)
    if isinstance(y, ColumnView):
        ymin, ymax = y.extrema(safe, stop)
    else:
        ymin = np.fmin.reduceat(y[:stop], safe)
        ymax = np.fmax.reduceat(y[:stop], safe)
    last = np.maximum(ends - 1, 0)
    tf = t[safe].astype(np.float64)
    tl = t[last].astype(np.float64)
    tm = 0.5 * (tf + tl)  # with OVERSAMPLE bins per pixel this is within 1/8 px of the extremes' true times
    # a bin that starts or ends in fill: its min and max go at the middle of its finite samples, or the line
    # would reach into the gap (there are few such bins, at the edges of gaps)
    edge = filled & (np.isnan(y[safe]) | np.isnan(y[last]))
    if edge.any():
        tm = tm.copy()
        for k in np.flatnonzero(edge)[:100_000]:
            finite = np.flatnonzero(~np.isnan(y[starts[k]:ends[k]]))
            if finite.size:
                tm[k] = 0.5 * (float(t[starts[k] + finite[0]]) + float(t[starts[k] + finite[-1]]))
    out_t = np.stack([tf, tm, tm, tl], axis=1)
    # min and max share the bin's time, so their order draws the same vertical stroke; alternating it (max
    # first in every other bin) joins a bin to the next by its nearer extreme, max to max and min to min, not
    # max down to the next min: the columns ink the same rows with about half the stroke for Agg to rasterise
    # (a burst day's four lines: 55 -> 32 ms). Over 12 random walks the envelope test of tests/test_plot.py
    # then fails in 1 edge column at its faintest threshold, where min-first everywhere failed in 2.
    max_first = np.arange(ymin.size) % 2 == 0
    lo_first, hi_first = np.where(max_first, ymax, ymin), np.where(max_first, ymin, ymax)
    out_y = np.stack([y[safe], lo_first, hi_first, y[last]], axis=1).astype(np.float64)
    out_y[~filled] = np.nan
    out_t[~filled] = (0.5 * (edges[:-1] + edges[1:]))[~filled, None]
    # where the line runs on from one bin into the next (the last sample of one and the first of the next both
    # finite, a fraction of a pixel apart), it can go straight from one bin's max to the next one's min: each
    # column still covers the rows of its samples, with half the points to stroke. First and last are kept
    # where the line breaks (fill), so it breaks where the full line does.
    keep = np.ones(out_y.shape, bool)
    joined = np.isfinite(out_y[:-1, 3]) & np.isfinite(out_y[1:, 0])
    keep[1:, 0] = ~joined
    keep[:-1, 3] = ~joined
    out_t, out_y = out_t[keep], out_y[keep]
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
    y : numpy.ndarray or ColumnView
        Values (NaN = fill). A :class:`ColumnView` (a line of :class:`VectorColumns`) is read where it lies;
        ``full_y`` is then the whole line as an array, computed when first asked for (the norm) or a view.
    **kwargs
        Passed to :class:`~matplotlib.lines.Line2D` (``color``, ``label``, ``lw`` ...).
    """

    def __init__(self, t_ns: np.ndarray, y: np.ndarray, **kwargs) -> None:
        t_ns = np.asarray(t_ns)
        if t_ns.dtype.kind == "M":  # no copy when already datetime64[ns]
            t_ns = t_ns.astype("datetime64[ns]", copy=False).view(np.int64)
        self.full_t = t_ns
        self.full_y = y
        #: Marker-only MinMaxLine of the samples no segment reaches (see :func:`add_minmax_line`), or None.
        self.lone_markers: MinMaxLine | None = None
        self._cache_key: tuple | None = None
        self.oversample = OVERSAMPLE
        super().__init__([], [], **kwargs)

    @property
    def full_y(self) -> np.ndarray:
        """The full values drawn (decimated) by this line."""
        return np.asarray(self._full_y)

    @full_y.setter
    def full_y(self, y) -> None:
        self._full_y = y if isinstance(y, ColumnView) else np.asarray(y)

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
        td, yd = minmax_decimate(self.full_t, self._full_y, width * self.oversample, t_range)
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

    def _current(self) -> None:
        # the data is decimated when first drawn or read (add_minmax_line leaves only the extremes until then)
        if self._cache_key is None and self.axes is not None:
            self.redecimate(quiet=True)

    def get_xdata(self, orig: bool = True):  # noqa: D102 - Line2D.get_xdata
        self._current()
        return super().get_xdata(orig)

    def get_ydata(self, orig: bool = True):  # noqa: D102 - Line2D.get_ydata
        self._current()
        return super().get_ydata(orig)

    def get_xydata(self):  # noqa: D102 - Line2D.get_xydata
        self._current()
        return super().get_xydata()

    def get_path(self):  # noqa: D102 - Line2D.get_path
        self._current()
        return super().get_path()


def add_minmax_line(ax, t, y, *, breaks: np.ndarray | None = None, extremes: tuple[float, float] | None = None,
                    **kwargs) -> MinMaxLine:
    """Add a :class:`MinMaxLine` of ``y`` against datetime64 ``t`` to ``ax`` and return it.

    The axes gets a date x axis and an ``xlim_changed`` callback that re-decimates its lines. Finite samples
    whose neighbours are both fill (see :func:`lone_samples`) draw no line; unless the line has markers they
    get a marker-only :class:`MinMaxLine` of their own (``line.lone_markers``, same colour, kept out of the
    legend), which is re-decimated with the line on every zoom. ``breaks``, optional, are indices that include
    every non-finite sample of ``y`` (see :func:`lone_samples`), and ``extremes`` its ``(min, max)`` ignoring NaN,
    to spare passes over a long line when they are already known.
    """
    if "color" not in kwargs and "c" not in kwargs:
        kwargs["color"] = ax._get_lines.get_next_color()
    line = MinMaxLine(t, y, **kwargs)
    ax.xaxis_date()
    n = line.full_t.size
    if n == 1 and kwargs.get("marker") is None:  # a line through one sample draws nothing: mark the sample
        line.set_marker("o")
        line.set_markersize(3.0)
    width = max(int(np.ceil(ax.bbox.width)), 1)
    full = (float(line.full_t[0]), float(line.full_t[-1])) if n else None
    if n > MIN_SAMPLES_PER_PIXEL * line.oversample * width and line._full_y.dtype.kind in "fiu":
        # decimated only when first drawn or read, for the view then (quicklook sets the time axis and the dpi
        # of a save later): until then the line holds its extremes at its ends, which give the axes the same
        # data limits for a quarter of the time a decimation takes
        if extremes is None:
            extremes = (np.fmin.reduce(line.full_y), np.fmax.reduce(line.full_y))
        line.set_data(ns_to_num(np.array(full)), list(extremes))
        line._cache_key = ("extremes",)
    else:
        line.redecimate(full, width)
    ax.add_line(line)
    line._cache_key = None  # the real view is known only once the axes are laid out
    lone = lone_samples(line._full_y, breaks) if line.get_marker() in (None, "None", "none", "", " ") else ()
    if len(lone):
        markers = MinMaxLine(line.full_t[lone], line._full_y[lone], color=line.get_color(), alpha=line.get_alpha(),
                             zorder=line.get_zorder(), linestyle="none", marker="o", markersize=3.0,
                             label=f"_lone samples of {line.get_label()}")
        markers.redecimate(full, width)
        markers._cache_key = None
        ax.add_line(markers)
        line.lone_markers = markers
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


# --------------------------------------------------------------------------- spectrograms
def record_cells(t_ns: np.ndarray, factor: float = GAP_FACTOR) -> tuple[np.ndarray, np.ndarray]:
    """Left and right edges (int64 ns) of each record's cell on a spectrogram's time axis.

    A cell reaches halfway to each neighbouring record. Next to a data gap (see :func:`gap_mask`) it reaches
    half the typical interval instead, so the gap stays empty; a lone record gets one minute.

    Examples
    --------
    >>> left, right = record_cells(np.array([0, 10, 20, 30, 100, 110, 120]))
    >>> left.tolist(), right.tolist()
    ([-5, 5, 15, 25, 95, 105, 115], [5, 15, 25, 35, 105, 115, 125])
    """
    t = np.asarray(t_ns)
    t = t.astype("datetime64[ns]", copy=False).view(np.int64) if t.dtype.kind == "M" else t.astype(np.int64)
    if t.size <= 1:
        half = np.int64(30 * 10**9)
        return t - half, t + half
    dt = np.diff(t)
    gaps = gap_mask(t, factor)
    typical = np.int64(np.median(dt[~gaps])) if (~gaps).any() else np.int64(np.median(dt))
    half_right = np.where(gaps, typical, dt) // 2
    half_left = np.where(gaps, typical - typical // 2, dt - dt // 2)
    return t - np.concatenate([half_left[:1], half_left]), t + np.concatenate([half_right, half_right[-1:]])


def cell_edges(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Join consecutive cells into the edges of a mesh, with an empty cell wherever two are apart.

    Returns
    -------
    (edges, index) : tuple of numpy.ndarray
        ``edges`` (int64, one more than ``index``) and, for each mesh cell, the position in ``left`` /
        ``right`` of the cell drawn there, or -1 for an empty cell filling a hole.

    Examples
    --------
    >>> edges, index = cell_edges(np.array([0, 10, 40]), np.array([10, 20, 50]))
    >>> edges.tolist(), index.tolist()
    ([0, 10, 20, 40, 50], [0, 1, -1, 2])
    """
    left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    k = left.size
    if k == 0:
        return np.empty(0, np.int64), np.empty(0, np.intp)
    hole = left[1:] > right[:-1]
    position = np.arange(k) + np.concatenate([[0], np.cumsum(hole)])
    index = np.full(k + int(hole.sum()), -1, dtype=np.intp)
    index[position] = np.arange(k)
    edges = np.empty(index.size + 1, dtype=np.int64)
    edges[position] = left
    edges[position + 1] = right  # overlapping neighbours (never from record_cells) meet at the earlier one's edge
    return edges, index


def time_bins(t_ns: np.ndarray, max_columns: int = MAX_SPECTROGRAM_COLUMNS,
              t_range: tuple[float, float] | None = None) -> tuple[tuple, int, int, np.ndarray | None]:
    """Choose which records of a spectrogram to draw for a view, and how to group them into columns.

    Up to ``max_columns`` records in view (plus one on each side) are drawn one per column. With more,
    records are grouped by time bins of width ``w / 2**level``, where ``w`` divides the whole series into
    ``max_columns`` bins (the first draw) and ``level`` is the deepest zoom level that keeps at most
    ``max_columns`` bins across the view; one more bin is kept on each side. The bins sit on a grid fixed by
    the data, so a pan only adds and drops columns at the edges.

    Parameters
    ----------
    t_ns : numpy.ndarray of int64
        Record times (ns), ascending.
    max_columns : int
        Most time columns across the view.
    t_range : (float, float), optional
        The visible interval in ns; default the whole series.

    Returns
    -------
    (key, start, stop, groups)
        Records ``start`` to ``stop - 1`` are drawn. ``groups`` is None for one column per record, else the
        offsets (from ``start``) where each column's records begin. Equal keys mean equal columns.

    Examples
    --------
    >>> t = np.arange(100) * 10
    >>> time_bins(t, 10)[0]  # the whole series: 10 bins of 99.1 ns
    ('bins', 0, 0, 100)
    >>> key, start, stop, groups = time_bins(t, 10, (200.0, 400.0))  # level 2: bins of 24.8 ns
    >>> key, groups.tolist()
    (('bins', 2, 18, 45), [0, 2, 5, 7, 10, 12, 15, 17, 20, 22, 25])
    >>> time_bins(t, 10, (200.0, 250.0))[:3]  # 6 records in view, drawn one per column with a neighbour each side
    (('records', 19, 27), 19, 27)
    """
    t = np.asarray(t_ns)
    n = t.size
    if n <= max_columns:
        return ("all",), 0, n, None
    lo, hi = (float(t[0]), float(t[-1])) if t_range is None else (min(t_range), max(t_range))
    j0 = int(np.searchsorted(t, np.ceil(lo), side="left"))
    j1 = int(np.searchsorted(t, np.floor(hi), side="right"))
    if j1 - j0 + 2 <= max_columns:
        start, stop = max(j0 - 1, 0), min(j1 + 1, n)
        return ("records", start, stop), start, stop, None
    t0 = int(t[0])
    full = float(t[-1] - t0 + 1)
    level = max(int(np.floor(np.log2(full / max(hi - lo, 1.0)))), 0)
    width = full / max_columns / 2.0**level
    first = max(int(np.floor((lo - t0) / width)) - 1, 0)
    last = int(np.floor((hi - t0) / width)) + 1
    # a bin's records, by the same float arithmetic at every call: search a slightly wider slice, then trim
    s = max(int(np.searchsorted(t, t0 + first * width - 1, side="left")) - 1, 0)
    e = min(int(np.searchsorted(t, t0 + (last + 1) * width + 1, side="left")) + 1, n)
    ids = np.floor((t[s:e] - t0) / width).astype(np.int64)
    start = s + int(np.searchsorted(ids, first, side="left"))
    stop = s + int(np.searchsorted(ids, last, side="right"))
    ids = ids[start - s:stop - s]
    groups = np.concatenate([[0], np.flatnonzero(np.diff(ids)) + 1]) if ids.size else np.empty(0, np.intp)
    return ("bins", level, start, stop), start, stop, groups


def column_means(z: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Average the rows of ``z`` in groups starting at ``groups``, ignoring NaN (all-NaN gives NaN).

    Examples
    --------
    >>> column_means(np.array([[1.0], [np.nan], [3.0], [np.nan]]), np.array([0, 2, 3])).ravel().tolist()
    [1.0, 3.0, nan]
    """
    valid = np.isfinite(z)
    sums = np.add.reduceat(np.where(valid, z, 0.0), groups, axis=0)
    counts = np.add.reduceat(valid, groups, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


class BinnedSpectrogram:
    """A spectrogram that shows the records in view at full resolution, or time-averaged when too many.

    It keeps the full ``(time, y)`` array and draws it through one
    :class:`~matplotlib.collections.QuadMesh` (:attr:`mesh`). Whenever its axes' ``xlim`` changes (zoom and
    pan in ipympl, ``set_xlim``), :meth:`update` rebuilds the columns of the new view (see :func:`time_bins`)
    and replaces the mesh with one of the same norm, colormap and style, and moves the colorbar to it. The
    norm is shared, so colours mean the same at every zoom. Time cells come from :func:`record_cells`: a
    column covers exactly its records' cells, so no column reaches across a data gap.

    Parameters
    ----------
    t_ns : numpy.ndarray
        Record times as ``datetime64[ns]`` or int64 ns, ascending.
    y_edges : numpy.ndarray
        Edges of the y cells (one more than ``z`` has columns).
    z : numpy.ndarray
        Values ``(time, y)``; NaN is fill (transparent).
    max_columns : int, default MAX_SPECTROGRAM_COLUMNS
        Most time columns drawn.
    under : bool, default False
        Draw finite values <= 0 as half the norm's ``vmin``: in the colormap's "under" colour with a log norm.
    """

    def __init__(self, t_ns: np.ndarray, y_edges: np.ndarray, z: np.ndarray, *,
                 max_columns: int = MAX_SPECTROGRAM_COLUMNS, under: bool = False) -> None:
        t = np.asarray(t_ns)
        self.full_t = t.astype("datetime64[ns]", copy=False).view(np.int64) if t.dtype.kind == "M" else t
        self.full_z = np.asarray(z, dtype=np.float64)
        self.y_edges = np.asarray(y_edges, dtype=np.float64)
        self.max_columns = int(max_columns)
        self.under = under
        self.left, self.right = record_cells(self.full_t)
        self.mesh = None
        self._key: tuple | None = None

    def columns(self, bins: tuple, norm=None) -> tuple[np.ndarray, np.ndarray]:
        """Time edges (int64 ns) and cells ``(time, y)`` for a :func:`time_bins` result; NaN cells are empty."""
        _, start, stop, groups = bins
        if groups is None:
            values, left, right = self.full_z[start:stop], self.left[start:stop], self.right[start:stop]
        else:
            values = column_means(self.full_z[start:stop], groups)
            ends = np.append(groups[1:], stop - start) - 1
            left, right = self.left[start + groups], self.right[start + ends]
        edges, index = cell_edges(left, right)
        cells = np.full((index.size, self.full_z.shape[1]), np.nan)
        cells[index >= 0] = values[index[index >= 0]]
        if self.under and norm is not None and norm.vmin is not None:
            cells = np.where(np.isnan(cells) | (cells > 0), cells, 0.5 * norm.vmin)
        return edges, cells

    def _coordinates(self, edges: np.ndarray) -> np.ndarray:
        x, y = np.meshgrid(ns_to_num(edges), self.y_edges)
        return np.stack([x, y], axis=-1)

    def update(self, t_range: tuple[float, float] | None = None) -> bool:
        """Show the records of ``t_range`` (ns; default the axes' view); return True when the mesh was replaced."""
        old = self.mesh
        ax = None if old is None else old.axes
        if ax is None:  # not drawn, or removed from its axes
            return False
        if t_range is None:
            x0, x1 = ax.get_xlim()
            t_range = (num_to_ns(min(x0, x1)), num_to_ns(max(x0, x1)))
        bins = time_bins(self.full_t, self.max_columns, t_range)
        if bins[0] == self._key:
            return False
        from matplotlib.collections import QuadMesh

        edges, cells = self.columns(bins, old.norm)
        new = QuadMesh(self._coordinates(edges), antialiased=False, shading="flat", edgecolors="none",
                       snap=old.get_snap(), norm=old.norm, cmap=old.cmap, alpha=old.get_alpha(),
                       zorder=old.get_zorder(), rasterized=old.get_rasterized(), visible=old.get_visible(),
                       label=old.get_label())
        new.set_array(np.ma.masked_invalid(cells).T)
        ax.add_collection(new, autolim=False)
        colorbar = getattr(old, "colorbar", None)
        if colorbar is not None:  # what Figure.colorbar sets up, moved to the new mesh
            old.callbacks.disconnect(old.colorbar_cid)
            old.colorbar = None
            colorbar.mappable = new
            new.colorbar = colorbar
            new.colorbar_cid = new.callbacks.connect("changed", colorbar.update_normal)
        old.remove()
        self.mesh, self._key = new, bins[0]
        return True


def add_binned_spectrogram(ax, t, y_edges, z, *, norm, cmap=None, max_columns: int = MAX_SPECTROGRAM_COLUMNS,
                           under: bool = False, **kwargs) -> BinnedSpectrogram:
    """Draw a :class:`BinnedSpectrogram` of ``z (time, y)`` against datetime64 ``t`` on ``ax`` and return it.

    The first mesh (``ax.pcolormesh`` with ``kwargs``) shows the whole series; the axes gets a date x axis and
    an ``xlim_changed`` callback that rebuilds its spectrograms for the new view.
    """
    spectrogram = BinnedSpectrogram(t, y_edges, z, max_columns=max_columns, under=under)
    bins = time_bins(spectrogram.full_t, spectrogram.max_columns)
    edges, cells = spectrogram.columns(bins, norm)
    spectrogram.mesh = ax.pcolormesh(ns_to_num(edges), spectrogram.y_edges, np.ma.masked_invalid(cells).T,
                                     norm=norm, cmap=cmap, shading="flat", **kwargs)
    spectrogram._key = bins[0]
    ax.xaxis_date()
    # meshes removed from the axes (by ax.clear() or by hand) drop out, with their full data
    live = [s for s in getattr(ax, "_imap_spectrograms", []) if s.mesh is not None and s.mesh.axes is ax]
    ax._imap_spectrograms = [*live, spectrogram]
    # ax.clear() replaces the callback registry: connect again to the current one
    if getattr(ax, "_imap_spectrogram_callbacks", None) is not ax.callbacks:
        ax.callbacks.connect("xlim_changed", _on_xlim_changed_spectrograms)
        ax._imap_spectrogram_callbacks = ax.callbacks
    return spectrogram


def _on_xlim_changed_spectrograms(ax) -> None:
    # Matplotlib >= 3.8 emits xlim_changed on every axes of a shared group, so each axes updates its own.
    for spectrogram in getattr(ax, "_imap_spectrograms", ()):
        spectrogram.update()
