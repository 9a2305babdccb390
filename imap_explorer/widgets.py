"""The Explorer: pick an IMAP product, search the SDC, download, load and quick-look it, in a notebook or on Voilà.

The module has two layers:

* :class:`ExplorerModel` holds the logic (the per-instrument catalog query and its cache, the search, the
  "already downloaded?" check, download with a per-file callback, load, quick-look). It knows nothing of widgets,
  so it is tested without a browser.
* :class:`Explorer` is a thin ipywidgets view over the model. Its public state lives in traitlets
  (``instrument``, ``data_level``, ``descriptor``, ``start_date``, ``end_date``, ``version_mode``, ``selection``,
  plus the results ``dataset`` and ``figure``), so it can be observed and linked with :func:`traitlets.link`.

When the network is used
    Constructing an :class:`Explorer` never queries. The first query (``query(instrument=...)``, one per
    instrument, cached; the level and descriptor pickers are derived from its rows) happens when the Explorer
    is displayed (its ``_repr_mimebundle_``: the last line of a cell, ``display(explorer)`` or a Voilà page),
    or on the first interaction (changing the instrument, Refresh, Search), whichever comes first. Refresh
    re-runs it.

Threads
    With ``background=True`` (the default) the catalog query, search, download, load and quick-look run in a
    worker thread, one task at a time, so the page stays responsive; widgets are updated from that thread
    (ipywidgets supports this) and the buttons are disabled meanwhile. :meth:`Explorer.wait` joins the running
    task. ``background=False`` runs everything synchronously in the caller (the test suite uses it): a button
    ``click()`` returns when the work is done. The quick-look figure is drawn without pyplot (a plain Figure
    on an Agg canvas, shown as an image), so the notebook's main thread never finds it among pyplot's figures.

Errors
    Every error raised by a task is shown in the widget's error box (its message, and the traceback in a
    collapsible section), and is kept in :attr:`Explorer.error` / :attr:`Explorer.last_exception`. Nothing is
    swallowed or only logged.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html
import io
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ipywidgets as widgets
import traitlets

from imap_explorer.config import resolve, set_options
from imap_explorer.exceptions import DownloadError
from imap_explorer.filenames import VALID_DATALEVELS, VALID_INSTRUMENTS, local_path

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

    from imap_explorer.config import Settings

__all__ = ["VERSION_MODES", "Explorer", "ExplorerModel", "check_date_range", "pick_choice", "row_label"]

VersionMode = Literal["newest", "all"]

#: Version modes: the Explorer's label for each, and the ``version`` argument it passes to ``query``.
#: ``"all"`` is the SDC's default answer: every minor version of the newest major version of each file.
VERSION_MODES: dict[str, tuple[str, str | None]] = {
    "newest": ("newest only", "latest"),
    "all": ("all versions (newest major)", None),
}

#: Data levels tried first when the current one is not in the archive (the first one present wins).
PREFERRED_DATALEVELS = ("l2", "l1d", "l1c", "l1b", "l3", "l1a")
#: Descriptors offered first when the current one is not available: normal-rate products before burst ones.
PREFERRED_DESCRIPTORS = ("norm-gse", "sci", "norm-rtn", "norm-dsrf", "norm-mago", "norm-srf", "norm-gsm")

#: Columns the Explorer adds to a search result (new names, never API keys).
RESULT_COLUMNS = ("file_name", "local_path", "downloaded")

#: Parallel downloads of the Download button.
DOWNLOAD_WORKERS = 4


# --------------------------------------------------------------------------- small pure decisions
def pick_choice(current: str, choices: Sequence[str], preferred: Sequence[str] = ()) -> str:
    """Return the value a picker should show after its choices changed.

    Keep ``current`` when it is still a choice; otherwise take the first of ``preferred`` that is a choice,
    otherwise the first choice, otherwise ``""`` (nothing to choose from).

    Examples
    --------
    >>> pick_choice("l2", ["l1b", "l2"])
    'l2'
    >>> pick_choice("l3", ["l1a", "l1b", "l2"], preferred=("l2",))
    'l2'
    >>> pick_choice("x", ["b", "a"])
    'b'
    >>> pick_choice("x", [])
    ''
    """
    if current in choices:
        return current
    for value in preferred:
        if value in choices:
            return value
    return choices[0] if choices else ""


def check_date_range(start_date: dt.date | None, end_date: dt.date | None) -> None:
    """Raise ``ValueError`` when ``end_date`` is before ``start_date`` (both ends are inclusive).

    Examples
    --------
    >>> check_date_range(dt.date(2026, 1, 20), dt.date(2026, 1, 20))
    >>> check_date_range(dt.date(2026, 1, 21), dt.date(2026, 1, 20))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The end date 2026-01-20 is before the start date 2026-01-21. Both ends are inclusive: ...
    """
    if start_date is not None and end_date is not None and end_date < start_date:
        msg = (f"The end date {end_date.isoformat()} is before the start date {start_date.isoformat()}. "
               "Both ends are inclusive: pick an end date on or after the start date.")
        raise ValueError(msg)


def _as_date(value: Any) -> dt.date | None:
    """Coerce a date-like value (date, datetime, ISO or YYYYMMDD string, numpy/pandas time) to a date."""
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%Y%m%d"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                pass
        msg = f"Invalid date {value!r}. Expected YYYY-MM-DD or YYYYMMDD, e.g. '2026-01-20'."
        raise ValueError(msg)
    to_pydatetime = getattr(value, "to_pydatetime", None)  # pandas.Timestamp
    if to_pydatetime is not None:
        return to_pydatetime().date()
    if type(value).__name__ == "datetime64":
        import numpy as np

        return dt.date.fromisoformat(str(np.datetime_as_string(value, unit="D")))
    msg = f"Invalid date {value!r} of type {type(value).__name__}. Expected a datetime.date or 'YYYY-MM-DD'."
    raise TypeError(msg)


def _yyyymmdd(value: dt.date | None) -> str | None:
    return None if value is None else value.strftime("%Y%m%d")


def row_label(row: Any, widths: Sequence[int] | None = None) -> str:
    r"""Return the text of one results-table row: file, level, descriptor, date, repointing, version, local or not.

    Columns are padded to ``widths`` (default :data:`COLUMN_WIDTHS`) with no-break spaces, so they line up in
    a monospace ``<select>`` (HTML collapses ordinary runs of spaces).

    Examples
    --------
    >>> row = {"file_name": "imap_mag_l2_norm-gse_20260120_v001.0001.cdf", "data_level": "l2",
    ...        "descriptor": "norm-gse", "start_date": dt.date(2026, 1, 20), "version": "v001.0001",
    ...        "downloaded": True}
    >>> row_label(row).replace("\u00a0", " ").split()
    ['imap_mag_l2_norm-gse_20260120_v001.0001.cdf', 'l2', 'norm-gse', '2026-01-20', 'v001.0001', 'yes']
    """
    start = row["start_date"]
    date = start.strftime("%Y-%m-%d") if hasattr(start, "strftime") else str(start)[:10]
    cells = (str(row["file_name"]), str(row["data_level"]), str(row["descriptor"]), date,
             _repointing_text(row.get("repointing") if hasattr(row, "get") else None), str(row["version"]),
             "yes" if row["downloaded"] else "no")
    return _pad(cells, widths or COLUMN_WIDTHS)


def _repointing_text(value: Any) -> str:
    """The repointing number of a repointing-based product (Hi, Lo, Ultra, GLOWS), blank for the others."""
    try:
        return "" if value is None or value != value or str(value) in ("", "<NA>") else str(int(value))
    except (TypeError, ValueError):
        return ""


#: Titles and default widths (characters) of the results-table columns ("repoint" is shown when a result has one).
COLUMN_TITLES = ("file", "level", "descriptor", "date", "repoint", "version", "local")
COLUMN_WIDTHS = (44, 5, 10, 10, 0, 9, 5)


def column_widths(frame: pd.DataFrame) -> tuple[int, ...]:
    """Column widths that fit every row of a search result (and the titles); 0 hides an empty column."""
    widths = list(COLUMN_WIDTHS)
    for i, column in ((0, "file_name"), (1, "data_level"), (2, "descriptor"), (5, "version")):
        if len(frame):
            widths[i] = max(len(COLUMN_TITLES[i]), *(len(str(v)) for v in frame[column]))
    if len(frame) and "repointing" in frame.columns:
        texts = [_repointing_text(v) for v in frame["repointing"]]
        if any(texts):
            widths[4] = max(len(COLUMN_TITLES[4]), *(len(t) for t in texts))
    return tuple(widths)


def _pad(cells: Sequence[str], widths: Sequence[int]) -> str:
    parts = [cell.ljust(width) for cell, width in zip(cells, widths) if width > 0]
    return "\u00a0\u00a0".join(parts).rstrip().replace(" ", "\u00a0")


# --------------------------------------------------------------------------- the model
class ExplorerModel:
    """The Explorer's logic, without widgets: catalog, search, download, load, quick-look.

    Every call resolves the settings at call time (:func:`imap_explorer.config.resolve`), inside
    :func:`imap_explorer.config.set_options` with this model's ``url`` and ``data_dir`` when they are given,
    so the same code serves the real SDC and the embedded :class:`~imap_explorer.server.LocalSDC`.

    Parameters
    ----------
    url : str, optional
        SDC base URL (default: ``IMAP_DATA_ACCESS_URL`` or the real SDC).
    data_dir : path-like, optional
        Local archive root (default: ``IMAP_DATA_DIR`` or ``./data``).

    Examples
    --------
    >>> model = ExplorerModel(url="http://127.0.0.1:9", data_dir="/tmp/imap")
    >>> model.settings().url, model.settings().data_dir.as_posix()
    ('http://127.0.0.1:9', '/tmp/imap')
    """

    def __init__(self, *, url: str | None = None, data_dir: str | Path | None = None) -> None:
        self.url = url
        self.data_dir = data_dir
        self._catalogs: dict[tuple[str, str], pd.DataFrame] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ExplorerModel(url={self.url!r}, data_dir={self.data_dir!r})"

    @contextlib.contextmanager
    def options(self) -> Iterator[None]:
        """Context in which every client call uses this model's ``url`` and ``data_dir``."""
        with set_options(url=self.url, data_dir=self.data_dir):
            yield

    def settings(self) -> Settings:
        """The settings the next call will use."""
        with self.options():
            return resolve()

    # ---- catalog: what the archive holds for one instrument
    def catalog(self, instrument: str, *, refresh: bool = False) -> pd.DataFrame:
        """Return the newest version of every file the archive holds for ``instrument``.

        One query (``version="latest"``, which keeps the answer small on the real SDC), cached per URL and
        instrument.

        Parameters
        ----------
        instrument : str
            One of ``VALID_INSTRUMENTS``.
        refresh : bool, default False
            Query again even when a cached answer exists.
        """
        from imap_explorer.query import query

        _check_instrument(instrument)
        key = (self.settings().url, instrument)
        with self._lock:
            cached = None if refresh else self._catalogs.get(key)
        if cached is not None:
            return cached
        with self.options():
            frame = query(instrument=instrument, version="latest")
        with self._lock:
            self._catalogs[key] = frame
        return frame

    def cached_catalog(self, instrument: str) -> pd.DataFrame | None:
        """The cached catalog of ``instrument``, or ``None`` when it was not queried yet (no network)."""
        with self._lock:
            return self._catalogs.get((self.settings().url, instrument))

    @staticmethod
    def data_levels(catalog: pd.DataFrame) -> list[str]:
        """The data levels present in a catalog, sorted."""
        if catalog is None or len(catalog) == 0:
            return []
        return sorted({str(v) for v in catalog["data_level"].dropna()})

    @staticmethod
    def descriptors(catalog: pd.DataFrame, data_level: str) -> list[str]:
        """The descriptors present in a catalog for one data level (``""``: any level), sorted."""
        if catalog is None or len(catalog) == 0:
            return []
        rows = catalog[catalog["data_level"] == data_level] if data_level else catalog
        return sorted({str(v) for v in rows["descriptor"].dropna()})

    @staticmethod
    def date_span(catalog: pd.DataFrame, data_level: str, descriptor: str) -> tuple[dt.date, dt.date, int] | None:
        """First and last ``start_date`` and the file count of one product in a catalog, or ``None``.

        An empty ``data_level`` or ``descriptor`` matches any.
        """
        if catalog is None or len(catalog) == 0:
            return None
        rows = catalog
        if data_level:
            rows = rows[rows["data_level"] == data_level]
        if descriptor:
            rows = rows[rows["descriptor"] == descriptor]
        if len(rows) == 0:
            return None
        return _as_date(rows["start_date"].min()), _as_date(rows["start_date"].max()), len(rows)

    # ---- search
    def search(
        self,
        *,
        instrument: str,
        data_level: str | None = None,
        descriptor: str | None = None,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
        version_mode: VersionMode = "newest",
    ) -> pd.DataFrame:
        """Query the science table and say which files are already in the local archive.

        Returns the query's DataFrame (API columns unchanged) sorted by ``start_date`` and ``file_path``, plus
        ``file_name``, ``local_path`` (where the file lives under the data directory) and ``downloaded``.
        Empty strings mean "any". ``start_date`` and ``end_date`` are inclusive.
        """
        from imap_explorer.query import query

        _check_instrument(instrument)
        if version_mode not in VERSION_MODES:
            msg = f"Unknown version mode {version_mode!r}. Expected one of: {', '.join(sorted(VERSION_MODES))}."
            raise ValueError(msg)
        check_date_range(start_date, end_date)
        with self.options():
            frame = query(instrument=instrument, data_level=data_level or None, descriptor=descriptor or None,
                          start_date=_yyyymmdd(start_date), end_date=_yyyymmdd(end_date),
                          version=VERSION_MODES[version_mode][1])
        return self.mark_local(frame)

    def mark_local(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return a sorted copy of a query result with ``file_name``, ``local_path`` and ``downloaded`` added."""
        data_dir = self.settings().data_dir
        out = frame.copy()
        if len(out):
            out = out.sort_values(["start_date", "file_path"], kind="stable").reset_index(drop=True)
        paths = [local_path(data_dir, fp) for fp in out["file_path"]] if "file_path" in out else []
        out["file_name"] = [p.name for p in paths]
        out["local_path"] = paths
        out["downloaded"] = [p.is_file() for p in paths]
        return out

    # ---- download, load, quick-look
    def download(
        self,
        file_paths: Sequence[str],
        *,
        on_file: Callable[[str, Path | None, str | None], None] | None = None,
        max_workers: int = DOWNLOAD_WORKERS,
    ) -> list[Path]:
        """Download files (skipping those already present), calling ``on_file`` as each one finishes.

        Parameters
        ----------
        file_paths : sequence of str
            ``file_path`` values (storage keys) or file names.
        on_file : callable, optional
            ``on_file(file_path, path_or_None, error_or_None)``, called once per file from a worker thread.
        max_workers : int, default 4
            Parallel downloads.

        Returns
        -------
        list of pathlib.Path
            Local paths, in the order of ``file_paths``.

        Raises
        ------
        DownloadError
            When any file failed; ``.failures`` names each one with the reason, ``.errors`` gives its
            exception (an :class:`~imap_explorer.exceptions.ApiError` carries status, URL and the server's
            words), ``.paths`` lists the files that did arrive.
        """
        from imap_explorer.transfer import download

        settings = self.settings()
        results: dict[str, Path] = {}
        failures: dict[str, str] = {}
        errors: dict[str, BaseException] = {}

        def one(file_path: str) -> Path:
            with self.options():
                return download(file_path, data_dir=settings.data_dir, progress=False)[0]

        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(file_paths) or 1))) as pool:
            futures = {pool.submit(one, fp): fp for fp in file_paths}
            for future in as_completed(futures):
                fp = futures[future]
                try:
                    results[fp] = future.result()
                except DownloadError as err:
                    failures.update(err.failures or {Path(fp).name: str(err)})
                    errors.update(err.errors or {Path(fp).name: err})
                except Exception as err:  # noqa: BLE001 - collected and raised below with every file named
                    failures[Path(fp).name] = f"{type(err).__name__}: {err}"
                    errors[Path(fp).name] = err
                if on_file is not None:
                    on_file(fp, results.get(fp), failures.get(Path(fp).name))
        paths = [results[fp] for fp in file_paths if fp in results]
        if failures:
            raise DownloadError(failures, paths, errors)
        return paths

    def load(self, paths: Sequence[str | Path]) -> xr.Dataset:
        """Load local CDF files into one Dataset (:func:`imap_explorer.cdf.load`)."""
        from imap_explorer.cdf import load

        if not paths:
            raise ValueError("Nothing to load: no file is selected.")
        return load(list(paths))

    @staticmethod
    def quicklook(dataset: xr.Dataset) -> Figure:
        """Plot a Dataset (:func:`imap_explorer.plot.quicklook`) into a Figure that pyplot does not hold.

        The Explorer plots in a worker thread while the notebook may run other cells: a figure made through
        pyplot would sit in pyplot's global list meanwhile, and the inline backend shows every figure there at
        the end of any cell (half drawn, under an unrelated cell). This one has an Agg canvas of its own.
        """
        from imap_explorer.plot import quicklook

        return quicklook(dataset, pyplot=False)


def _check_instrument(instrument: str) -> None:
    if instrument not in VALID_INSTRUMENTS:
        msg = f"Unknown instrument {instrument!r}. Expected one of: {', '.join(sorted(VALID_INSTRUMENTS))}."
        raise ValueError(msg)


def figure_png(figure: Figure, *, dpi: int = 100) -> bytes:
    """Render a matplotlib Figure to PNG bytes (works with any backend, in any thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.BytesIO()
    if figure.canvas is None or not hasattr(figure.canvas, "print_figure"):  # pragma: no cover - defensive
        FigureCanvasAgg(figure)
    figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


# --------------------------------------------------------------------------- the widget
class _Date(traitlets.TraitType):
    """A ``datetime.date`` or ``None``; accepts datetimes, ISO / YYYYMMDD strings and numpy/pandas times."""

    default_value = None
    info_text = "a datetime.date, 'YYYY-MM-DD' or None"

    def validate(self, obj: Any, value: Any) -> dt.date | None:
        try:
            return _as_date(value)
        except (TypeError, ValueError) as err:
            raise traitlets.TraitError(f"The {self.name!r} trait of an Explorer: {err}") from err


_CSS = """
<style>
.ie-explorer .ie-results select { font-family: monospace; font-size: 12px; }
.ie-explorer .ie-header { font-family: monospace; font-size: 12px; white-space: pre; margin: 0 0 -4px 4px; }
.ie-explorer .ie-error-box { color: #a40000; background: #fde8e8; border: 1px solid #e0a0a0; padding: 4px 8px;
  border-radius: 3px; }
.ie-explorer .ie-error-box pre { white-space: pre-wrap; font-size: 11px; }
</style>
"""


class Explorer(widgets.VBox):
    """Pick an IMAP product, search the SDC, then download, load and quick-look the files you select.

    Pickers: instrument (every SDC instrument), data level and descriptor (what the archive holds for that
    instrument: one cached query, refreshed with Refresh), a date range (both ends inclusive; empty means open)
    and a version mode (newest only, or every version the SDC returns by default). Search fills a table whose
    rows can be selected; Download fetches the selection into the local archive (a progress bar counts files);
    Load reads it into :attr:`dataset`; Quick-look plots it into :attr:`figure` and shows the image.

    The public state is traitlets: observe or :func:`traitlets.link` ``instrument``, ``data_level``,
    ``descriptor``, ``start_date``, ``end_date``, ``version_mode`` and ``selection`` (file names of the
    selected rows). Setting them from code updates the pickers, and the other way round.

    Construction does no network request. The instrument's catalog is queried when the Explorer is displayed
    or on the first interaction (see the module docstring). Errors appear in the widget's error box and in
    :attr:`error`. The buttons have method twins for scripts: :meth:`refresh`, :meth:`search`,
    :meth:`download`, :meth:`load`, :meth:`quicklook`; :meth:`wait` joins the background task.

    Parameters
    ----------
    instrument : str, default "mag"
        Initial instrument, one of ``VALID_INSTRUMENTS``.
    data_level : str, default "l2"
        Initial data level ("" for any).
    descriptor : str, default ""
        Initial descriptor ("" for any). With a data level, "" becomes the archive's first normal-rate
        descriptor of that level when the catalog arrives; with ``data_level=""`` it stays "any".
    start_date, end_date : datetime.date or str, optional
        Initial date range (inclusive; ``None`` leaves that end open).
    version_mode : {"newest", "all"}, default "newest"
        ``"newest"`` asks the SDC for the newest version of each file; ``"all"`` for every minor version of
        the newest major version (the SDC's default answer).
    url : str, optional
        SDC base URL used by every call of this Explorer (default: ``IMAP_DATA_ACCESS_URL`` or the real SDC).
        Applied with :func:`~imap_explorer.set_options` around each call; those options are process-wide, so
        other code running while a background task runs sees them too.
    data_dir : path-like, optional
        Local archive root (default: ``IMAP_DATA_DIR`` or ``./data``).
    background : bool, default True
        Run the work in a worker thread so the page stays responsive; ``False`` runs it in the caller.
    **kwargs
        Passed to :class:`ipywidgets.VBox` (``layout=...``).

    Attributes
    ----------
    results : pandas.DataFrame or None
        The last search: the query's columns plus ``file_name``, ``local_path`` and ``downloaded``.
    dataset : xarray.Dataset or None
        The last loaded Dataset.
    figure : matplotlib.figure.Figure or None
        The last quick-look figure.
    paths : list of pathlib.Path
        Local files of the last download/load.
    error : str
        The last error message ("" when the last task succeeded).
    last_exception : BaseException or None
        The last error itself, with its traceback.

    See Also
    --------
    imap_explorer.query, imap_explorer.download, imap_explorer.load, imap_explorer.quicklook

    Examples
    --------
    In a notebook cell (the last line displays the widget)::

        import imap_explorer as ie

        explorer = ie.Explorer(instrument="mag", data_level="l2", descriptor="norm-gse",
                               start_date="2026-01-20", end_date="2026-01-20")
        explorer

    Pick, Search, select rows, Download, Load, Quick-look; then carry on in code::

        ds = explorer.dataset          # xarray.Dataset of the selected files
        fig = explorer.figure          # the quick-look matplotlib Figure
        explorer.observe(lambda change: print(change["new"]), names="selection")

    The same against the embedded server, driven from code without a browser:

    >>> import imap_explorer as ie
    >>> explorer = ie.Explorer(url="http://127.0.0.1:9", background=False)   # no request yet
    >>> explorer.instrument, explorer.data_level, explorer.results is None
    ('mag', 'l2', True)
    """

    instrument = traitlets.Unicode("mag", help="Instrument, one of VALID_INSTRUMENTS.")
    data_level = traitlets.Unicode("l2", help="Data level ('' for any).")
    descriptor = traitlets.Unicode("", help="Descriptor ('' for any).")
    start_date = _Date(help="First file date (inclusive), or None.")
    end_date = _Date(help="Last file date (inclusive), or None.")
    version_mode = traitlets.Enum(tuple(VERSION_MODES), default_value="newest", help="'newest' or 'all'.")
    selection = traitlets.Tuple(help="File names of the selected rows of the results table.")
    dataset = traitlets.Instance("xarray.Dataset", allow_none=True, help="The last loaded Dataset.")
    figure = traitlets.Instance("matplotlib.figure.Figure", allow_none=True, help="The last quick-look figure.")
    busy = traitlets.Bool(False, help="True while a task runs.")
    error = traitlets.Unicode("", help="The last error message ('' after a success).")

    def __init__(
        self,
        *,
        instrument: str = "mag",
        data_level: str = "l2",
        descriptor: str = "",
        start_date: dt.date | str | None = None,
        end_date: dt.date | str | None = None,
        version_mode: VersionMode = "newest",
        url: str | None = None,
        data_dir: str | Path | None = None,
        background: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = ExplorerModel(url=url, data_dir=data_dir)
        self.background = background
        self.results: pd.DataFrame | None = None
        self.paths: list[Path] = []
        self.last_exception: BaseException | None = None
        self._loaded_selection: tuple[str, ...] | None = None
        self._catalog_instrument: str | None = None
        self._catalog_pending = False  # the instrument's catalog is wanted, and no task has started on it yet
        self._thread: threading.Thread | None = None
        self._task_lock = threading.Lock()
        self._pause = 0
        # Initial state first (validated), before any observer exists: construction never queries.
        self.instrument, self.data_level, self.descriptor = instrument, data_level, descriptor
        self.start_date, self.end_date, self.version_mode = start_date, end_date, version_mode
        self._build()
        self.observe(self._on_instrument_change, names="instrument")
        self.observe(self._on_data_level_change, names="data_level")
        self.observe(self._on_descriptor_change, names="descriptor")
        self.observe(self._on_dates_change, names=["start_date", "end_date"])
        self.observe(self._on_version_mode_change, names="version_mode")
        self.observe(self._on_selection_change, names="selection")
        self.observe(self._on_busy_change, names="busy")

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        wide = widgets.Layout(width="auto")
        self._instrument = widgets.Dropdown(options=sorted(VALID_INSTRUMENTS), value=self.instrument,
                                            description="Instrument", layout=widgets.Layout(width="200px"))
        self._data_level = widgets.Dropdown(description="Level", layout=widgets.Layout(width="170px"))
        self._descriptor = widgets.Dropdown(description="Descriptor", layout=widgets.Layout(width="280px"))
        self._refresh = widgets.Button(description="Refresh", icon="refresh", layout=widgets.Layout(width="100px"),
                                       tooltip="Query the archive again for this instrument's levels and descriptors")
        self._start_date = widgets.DatePicker(description="From", value=self.start_date,
                                              layout=widgets.Layout(width="230px"))
        self._end_date = widgets.DatePicker(description="To", value=self.end_date,
                                            layout=widgets.Layout(width="230px"))
        self._version_mode = widgets.Dropdown(options=[(label, mode) for mode, (label, _) in VERSION_MODES.items()],
                                              value=self.version_mode, description="Versions",
                                              layout=widgets.Layout(width="290px"))
        self._search = widgets.Button(description="Search", icon="search", button_style="primary",
                                      layout=widgets.Layout(width="100px"))
        self._status = widgets.HTML(layout=wide)
        self._error = widgets.HTML(layout=widgets.Layout(width="auto", display="none"))
        self._header = widgets.HTML(self._header_html(COLUMN_WIDTHS))
        self._results = widgets.SelectMultiple(options=[], rows=8, layout=widgets.Layout(width="auto"))
        self._select_all = widgets.Button(description="All", layout=widgets.Layout(width="60px"),
                                          tooltip="Select every row")
        self._select_none = widgets.Button(description="None", layout=widgets.Layout(width="60px"),
                                           tooltip="Clear the selection")
        self._download = widgets.Button(description="Download", icon="download", layout=widgets.Layout(width="120px"))
        self._load = widgets.Button(description="Load", icon="folder-open", layout=widgets.Layout(width="100px"))
        self._quicklook = widgets.Button(description="Quick-look", icon="line-chart",
                                         layout=widgets.Layout(width="120px"))
        self._progress = widgets.IntProgress(value=0, min=0, max=1, description="", bar_style="",
                                             layout=widgets.Layout(width="200px", visibility="hidden"))
        self._progress_label = widgets.Label("")
        self._output = widgets.Output(layout=widgets.Layout(width="100%"))

        for child, role in ((self._instrument, "instrument"), (self._data_level, "data-level"),
                            (self._descriptor, "descriptor"), (self._refresh, "refresh"),
                            (self._start_date, "start-date"), (self._end_date, "end-date"),
                            (self._version_mode, "version-mode"), (self._search, "search"),
                            (self._status, "status"), (self._error, "error"), (self._results, "results"),
                            (self._select_all, "select-all"), (self._select_none, "select-none"),
                            (self._download, "download"), (self._load, "load"), (self._quicklook, "quicklook"),
                            (self._progress, "progress"), (self._output, "output")):
            child.add_class(f"ie-{role}")
        self.add_class("ie-explorer")
        self._buttons = (self._refresh, self._search, self._select_all, self._select_none, self._download,
                         self._load, self._quicklook)

        self._sync_pickers()
        self._instrument.observe(self._on_instrument_pick, names="value")
        self._data_level.observe(self._on_data_level_pick, names="value")
        self._descriptor.observe(self._on_descriptor_pick, names="value")
        self._start_date.observe(self._on_start_date_pick, names="value")
        self._end_date.observe(self._on_end_date_pick, names="value")
        self._version_mode.observe(self._on_version_mode_pick, names="value")
        self._results.observe(self._on_results_pick, names="value")
        self._refresh.on_click(self._on_refresh_click)
        self._search.on_click(self._on_search_click)
        self._select_all.on_click(self._on_select_all_click)
        self._select_none.on_click(self._on_select_none_click)
        self._download.on_click(self._on_download_click)
        self._load.on_click(self._on_load_click)
        self._quicklook.on_click(self._on_quicklook_click)
        self._set_status("Pick a product and press <b>Search</b>.")

        self.children = [
            widgets.HTML(_CSS, layout=widgets.Layout(display="none")),
            widgets.HBox([self._instrument, self._data_level, self._descriptor, self._refresh]),
            widgets.HBox([self._start_date, self._end_date, self._version_mode, self._search]),
            self._status,
            self._error,
            self._header,
            self._results,
            widgets.HBox([self._select_all, self._select_none, self._download, self._load, self._quicklook,
                          self._progress, self._progress_label]),
            self._output,
        ]

    # ------------------------------------------------------------------ display: first query
    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if self._catalog_instrument != self.instrument:
            self._want_catalog()
        return bundle

    # ------------------------------------------------------------------ task runner
    def _run(self, what: str, work: Callable[[], None], *, quiet: bool = False) -> bool:
        """Run ``work`` now or in a worker thread; refuse (and say so, unless ``quiet``) when a task is running."""
        if not self._task_lock.acquire(blocking=False):
            if not quiet:
                self._show_error(f"Busy: please wait for the current task to finish before {what}.")
            return False
        self.busy = True
        if self.background:
            self._thread = threading.Thread(target=self._guarded, args=(what, work), daemon=True,
                                            name=f"imap-explorer-{what}")
            self._thread.start()
        else:
            self._guarded(what, work)
        return True

    def _guarded(self, what: str, work: Callable[[], None]) -> None:
        try:
            self._clear_error()
            work()
            self._clear_error()  # a "Busy" refusal shown while it ran: the task it waited for has succeeded
        except Exception as err:  # noqa: BLE001 - the widget is the boundary: every error is shown, with traceback
            self._show_error(f"{what.capitalize()} failed: {type(err).__name__}: {err}", err)
            self._set_status(f"{html.escape(what.capitalize())} failed: see the error below.")
        finally:
            self.busy = False
            self._task_lock.release()
            self._start_pending_catalog()  # an instrument picked while this task ran

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running task (if any) to finish; return ``True`` when none is running any more.

        A task that the finished one started (the catalog of an instrument picked meanwhile) is waited for too.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            thread = self._thread
            if thread is None:
                return True
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
            if self._thread is thread:
                return True

    def _on_busy_change(self, change: dict) -> None:
        for button in self._buttons:
            button.disabled = bool(change["new"])

    # ------------------------------------------------------------------ messages
    def _set_status(self, text_html: str) -> None:
        self._status.value = f"<span class='ie-status-text'>{text_html}</span>"

    def _clear_error(self) -> None:
        self.error = ""
        self.last_exception = None
        self._error.value = ""
        self._error.layout.display = "none"

    @contextlib.contextmanager
    def _errors_shown(self, what: str) -> Iterator[None]:
        """Show an error raised while reacting to a picker or trait change in the error box.

        Such reactions run in ipywidgets' message handler (a change made in the browser), which would send the
        exception to the kernel log only, where a Voila user never sees it.
        """
        try:
            yield
        except Exception as err:  # noqa: BLE001 - the widget is the boundary: every error is shown, with traceback
            self._show_error(f"{what.capitalize()} failed: {type(err).__name__}: {err}", err)

    def _show_error(self, message: str, err: BaseException | None = None) -> None:
        self.error = message
        self.last_exception = err
        details = ""
        if err is not None:
            tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))
            details = f"<details><summary>Traceback</summary><pre>{html.escape(tb)}</pre></details>"
        body = html.escape(message).replace("\n", "<br>")
        self._error.value = f"<div class='ie-error-box'><b>Error:</b> {body}{details}</div>"
        self._error.layout.display = None

    # ------------------------------------------------------------------ traits -> pickers
    @contextlib.contextmanager
    def _paused(self) -> Iterator[None]:
        """Pause the picker observers while the pickers are updated from code."""
        self._pause += 1
        try:
            yield
        finally:
            self._pause -= 1

    def _sync_pickers(self) -> None:
        with self._paused():
            catalog = self.model.cached_catalog(self.instrument) if self._catalog_instrument else None
            self._instrument.value = self.instrument
            levels = self.model.data_levels(catalog) if catalog is not None else []
            _set_dropdown(self._data_level, self.data_level, levels, catalog is not None)
            descriptors = self.model.descriptors(catalog, self.data_level) if catalog is not None else []
            _set_dropdown(self._descriptor, self.descriptor, descriptors, catalog is not None)
            self._start_date.value = self.start_date
            self._end_date.value = self.end_date
            self._version_mode.value = self.version_mode

    def _on_instrument_change(self, change: dict) -> None:
        self._catalog_instrument = None
        with self._errors_shown(f"changing the instrument to {self.instrument!r}"):
            self._sync_pickers()
            if self.model.cached_catalog(self.instrument) is not None:
                self._apply_catalog(self.model.cached_catalog(self.instrument))
            else:
                self._want_catalog()

    def _on_data_level_change(self, change: dict) -> None:
        with self._errors_shown(f"changing the data level to {self.data_level!r}"):
            catalog = self.model.cached_catalog(self.instrument) if self._catalog_instrument else None
            if catalog is not None:
                self.descriptor = self._descriptor_choice(catalog, self.data_level)
            self._sync_pickers()
            self._show_span()

    def _on_descriptor_change(self, change: dict) -> None:
        with self._errors_shown(f"changing the descriptor to {self.descriptor!r}"):
            self._sync_pickers()
            self._show_span()

    def _on_dates_change(self, change: dict) -> None:
        with self._errors_shown("changing the dates"):
            self._sync_pickers()

    def _on_version_mode_change(self, change: dict) -> None:
        with self._errors_shown("changing the version mode"):
            self._sync_pickers()

    @traitlets.validate("instrument")
    def _validate_instrument(self, proposal: dict) -> str:
        value = proposal["value"]
        if value not in VALID_INSTRUMENTS:
            msg = f"Unknown instrument {value!r}. Expected one of: {', '.join(sorted(VALID_INSTRUMENTS))}."
            raise traitlets.TraitError(msg)
        return value

    @traitlets.validate("data_level")
    def _validate_data_level(self, proposal: dict) -> str:
        value = proposal["value"]
        if value and value not in VALID_DATALEVELS:
            msg = (f"Unknown data level {value!r}. Expected '' (any) or one of: "
                   f"{', '.join(sorted(VALID_DATALEVELS))}.")
            raise traitlets.TraitError(msg)
        return value

    @traitlets.validate("descriptor")
    def _validate_descriptor(self, proposal: dict) -> str:
        value = proposal["value"]
        if "_" in value or "/" in value:
            msg = f"Invalid descriptor {value!r}: descriptors contain no '_' or '/', e.g. 'norm-gse'."
            raise traitlets.TraitError(msg)
        return value

    @traitlets.validate("selection")
    def _validate_selection(self, proposal: dict) -> tuple[str, ...]:
        names = tuple(str(v) for v in proposal["value"])
        known = set(self.results["file_name"]) if self.results is not None else set()
        unknown = sorted(set(names) - known)
        if unknown:
            msg = (f"Cannot select {', '.join(map(repr, unknown))}: not in the results table. "
                   "Search first, then select file names from explorer.results['file_name'].")
            raise traitlets.TraitError(msg)
        return names

    def _on_selection_change(self, change: dict) -> None:
        with self._paused():
            self._results.value = tuple(name for name in self.selection if name in self._row_values())

    def _row_values(self) -> set[str]:
        return {value for _, value in self._results.options}

    # ------------------------------------------------------------------ pickers -> traits
    def _on_instrument_pick(self, change: dict) -> None:
        if not self._pause:
            self.instrument = change["new"]

    def _on_data_level_pick(self, change: dict) -> None:
        if not self._pause and change["new"] is not None:
            self.data_level = change["new"]

    def _on_descriptor_pick(self, change: dict) -> None:
        if not self._pause and change["new"] is not None:
            self.descriptor = change["new"]

    def _on_start_date_pick(self, change: dict) -> None:
        if not self._pause:
            self.start_date = change["new"]

    def _on_end_date_pick(self, change: dict) -> None:
        if not self._pause:
            self.end_date = change["new"]

    def _on_version_mode_pick(self, change: dict) -> None:
        if not self._pause:
            self.version_mode = change["new"]

    def _on_results_pick(self, change: dict) -> None:
        if not self._pause:
            self.selection = tuple(change["new"])

    # ------------------------------------------------------------------ catalog
    def _want_catalog(self) -> None:
        """Load the instrument's catalog now, or as soon as the running task ends."""
        self._catalog_pending = True
        self._start_pending_catalog()

    def _start_pending_catalog(self) -> None:
        if self._catalog_pending and self._catalog_instrument != self.instrument:
            self._run("loading the catalog", self._load_catalog, quiet=True)  # busy: the running task starts it

    def _load_catalog(self, refresh: bool = False) -> None:
        self._catalog_pending = False
        instrument = self.instrument
        self._set_status(f"Asking the archive what it holds for <b>{html.escape(instrument)}</b>…")
        catalog = self.model.catalog(instrument, refresh=refresh)
        if instrument == self.instrument:  # the user may have picked another instrument meanwhile
            self._apply_catalog(catalog)

    def _apply_catalog(self, catalog: pd.DataFrame) -> None:
        self._catalog_instrument = self.instrument
        levels = self.model.data_levels(catalog)
        if not levels:
            self._set_status(f"The archive at {html.escape(self.model.settings().url)} holds no files for "
                             f"instrument <b>{html.escape(self.instrument)}</b>.")
        if levels and self.data_level:
            level = pick_choice(self.data_level, levels, PREFERRED_DATALEVELS)
        else:
            level = self.data_level  # "" (any level) stays any level
        descriptor = self._descriptor_choice(catalog, level) if levels else self.descriptor
        with self.hold_trait_notifications():
            self.data_level, self.descriptor = level, descriptor
        self._sync_pickers()
        if levels:
            self._show_span()

    def _descriptor_choice(self, catalog: pd.DataFrame, data_level: str) -> str:
        """The descriptor to show for ``data_level``: kept when the archive has it; "" (any) kept for any level."""
        if not data_level and not self.descriptor:
            return ""  # any level, any descriptor: everything the instrument has
        return pick_choice(self.descriptor, self.model.descriptors(catalog, data_level), PREFERRED_DESCRIPTORS)

    def _show_span(self) -> None:
        catalog = self.model.cached_catalog(self.instrument) if self._catalog_instrument else None
        span = self.model.date_span(catalog, self.data_level, self.descriptor) if catalog is not None else None
        if span is None:
            return
        first, last, count = span
        product = html.escape(" ".join((self.instrument, self.data_level or "(any level)",
                                         self.descriptor or "(any descriptor)")))
        self._set_status(f"The archive holds {count} file{'s' if count != 1 else ''} of <b>{product}</b>, "
                         f"from {first.isoformat()} to {last.isoformat()}. Pick dates and press <b>Search</b>.")

    def _ensure_catalog(self) -> None:
        if self._catalog_instrument != self.instrument:
            self._load_catalog()

    def refresh(self) -> None:
        """Query the archive again for the instrument's data levels and descriptors (the Refresh button)."""
        self._run("refreshing the catalog", lambda: self._load_catalog(refresh=True))

    def _on_refresh_click(self, button: widgets.Button) -> None:
        self.refresh()

    # ------------------------------------------------------------------ search
    def search(self) -> None:
        """Search the archive for the picked product and dates (the Search button)."""
        self._run("searching", self._search_work)

    def _on_search_click(self, button: widgets.Button) -> None:
        self.search()

    def _search_work(self) -> None:
        check_date_range(self.start_date, self.end_date)
        self._ensure_catalog()
        params = {"instrument": self.instrument, "data_level": self.data_level, "descriptor": self.descriptor,
                  "start_date": self.start_date, "end_date": self.end_date}
        self._set_status("Searching…")
        frame = self.model.search(**params, version_mode=self.version_mode)
        self._show_results(frame)
        if len(frame) == 0:
            described = ", ".join(f"{k}={_describe(v)}" for k, v in params.items())
            self._set_status(f"<b>No files for this selection</b> ({html.escape(described)}).")
        else:
            local = int(frame["downloaded"].sum())
            self._set_status(f"{len(frame)} file{'s' if len(frame) != 1 else ''} found, {local} already "
                             f"downloaded. Select rows, then <b>Download</b>, <b>Load</b> or <b>Quick-look</b>.")

    @staticmethod
    def _header_html(widths: Sequence[int]) -> str:
        return f"<div class='ie-header'>{html.escape(_pad(COLUMN_TITLES, widths))}</div>"

    def _show_results(self, frame: pd.DataFrame) -> None:
        self.results = frame
        widths = column_widths(frame)
        options = [(row_label(row, widths), row["file_name"]) for _, row in frame.iterrows()]
        self._header.value = self._header_html(widths)
        with self._paused():
            keep = tuple(name for name in self.selection if name in set(frame["file_name"]))
            self._results.options = options
            self._results.value = keep
        self.selection = keep

    def _update_local_marks(self) -> None:
        if self.results is not None:
            self._show_results(self.model.mark_local(self.results.drop(columns=list(RESULT_COLUMNS))))

    def _on_select_all_click(self, button: widgets.Button) -> None:
        self.selection = tuple(self.results["file_name"]) if self.results is not None else ()

    def _on_select_none_click(self, button: widgets.Button) -> None:
        self.selection = ()

    # ------------------------------------------------------------------ download, load, quick-look
    def _selected_rows(self) -> pd.DataFrame:
        if self.results is None or len(self.results) == 0:
            raise ValueError("No results yet: press Search first.")
        if not self.selection:
            raise ValueError("No file is selected: select one or more rows of the table (or press All).")
        rows = self.results[self.results["file_name"].isin(self.selection)]
        return rows

    def download(self) -> None:
        """Download the selected files into the local archive (the Download button)."""
        self._run("downloading", self._download_work)

    def _on_download_click(self, button: widgets.Button) -> None:
        self.download()

    def _download_work(self) -> list[Path]:
        rows = self._selected_rows()
        file_paths = list(rows["file_path"])
        total = len(file_paths)
        done = [0]
        lock = threading.Lock()
        self._progress.max = total
        self._progress.value = 0
        self._progress.bar_style = ""
        self._progress.layout.visibility = "visible"
        self._progress_label.value = f"0/{total} files"

        def on_file(file_path: str, path: Path | None, failure: str | None) -> None:
            with lock:
                done[0] += 1
                self._progress.value = done[0]
                self._progress_label.value = f"{done[0]}/{total} files"
                if failure:
                    self._progress.bar_style = "danger"

        self._set_status(f"Downloading {total} file{'s' if total != 1 else ''}…")
        try:
            self.paths = self.model.download(file_paths, on_file=on_file)
        finally:
            self._update_local_marks()
        self._progress.bar_style = "success"
        self._set_status(f"Downloaded {total} file{'s' if total != 1 else ''} to "
                         f"{html.escape(str(self.model.settings().data_dir))}.")
        return self.paths

    def load(self) -> None:
        """Download (if needed) and load the selected files into :attr:`dataset` (the Load button)."""
        self._run("loading", self._load_work)

    def _on_load_click(self, button: widgets.Button) -> None:
        self.load()

    def _load_work(self) -> xr.Dataset:
        rows = self._selected_rows()
        selection = tuple(self.selection)
        if not rows["downloaded"].all():
            self._download_work()
        paths = [Path(p) for p in self._selected_rows()["local_path"]]
        self._set_status(f"Loading {len(paths)} file{'s' if len(paths) != 1 else ''}…")
        dataset = self.model.load(paths)
        self.paths = paths
        self.dataset = dataset
        self._loaded_selection = selection
        self._show_dataset(dataset)
        sizes = ", ".join(f"{k}: {v}" for k, v in dataset.sizes.items())
        superseded = [Path(p).name for p in dataset.encoding.get("superseded_files", ())]
        note = (f" {len(superseded)} older version{'s' if len(superseded) != 1 else ''} of the same day "
                f"supplied no records: {html.escape(', '.join(superseded))}." if superseded else "")
        self._set_status(f"Loaded {len(paths)} file{'s' if len(paths) != 1 else ''} ({html.escape(sizes)}) into "
                         f"<code>explorer.dataset</code>.{note}")
        return dataset

    def quicklook(self) -> None:
        """Load the selection if needed and plot it into :attr:`figure` (the Quick-look button)."""
        self._run("making the quick-look", self._quicklook_work)

    def _on_quicklook_click(self, button: widgets.Button) -> None:
        self.quicklook()

    def _quicklook_work(self) -> Figure:
        self._selected_rows()
        if self.dataset is None or self._loaded_selection != tuple(self.selection):
            self._load_work()
        self._set_status("Plotting…")
        figure = self.model.quicklook(self.dataset)
        png = figure_png(figure)
        self.figure = figure
        self._show_figure(figure, png)
        self._set_status("Quick-look ready: the figure is <code>explorer.figure</code>, the data "
                         "<code>explorer.dataset</code>.")
        return figure

    # ------------------------------------------------------------------ output area
    def _show_dataset(self, dataset: xr.Dataset) -> None:
        data: dict[str, str] = {"text/plain": repr(dataset)}
        try:
            data["text/html"] = dataset._repr_html_()
        except Exception:  # noqa: BLE001 - the plain-text repr is shown instead
            pass
        self._output.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)

    def _show_figure(self, figure: Figure, png: bytes) -> None:
        image = {"output_type": "display_data", "metadata": {},
                 "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": repr(figure)}}
        self._output.outputs = (image,)


def _set_dropdown(dropdown: widgets.Dropdown, value: str, choices: list[str], known: bool) -> None:
    """Show ``choices`` in a dropdown with ``value`` selected; a value not among them is shown as such."""
    options = [(choice, choice) for choice in choices]
    if value not in choices:
        if value == "":
            label = "(any)"
        else:
            label = f"{value} (not in archive)" if known else value
        options.insert(0, (label, value))
    if tuple(dropdown.options) != tuple(options):
        dropdown.options = options  # resets the value to the first option: the caller pauses its observers
    if dropdown.value != value:
        dropdown.value = value


def _describe(value: Any) -> str:
    if value is None or value == "":
        return "any"
    return value.isoformat() if isinstance(value, dt.date) else str(value)

