"""``coverage()``: which days (or repointings), levels and products exist, and which version is current.

One ``/query`` per instrument over the whole range (split in chunks as :func:`~imap_explorer.query` splits
every long range), asking for the newest version of each product-day (``version="latest"``). The answer becomes a
table: one row per day (or repointing), one column per product (``instrument/level/descriptor``), each cell the
newest version, or empty (NaN). ``cov.imap.files`` gives the file behind each cell, ``cov.imap.plot()`` a calendar
heat-map and ``cov.imap.table()`` the terminal form.

``with_inputs=True`` adds, next to each product, the products it is made from: read from the ``Parents``
global attribute of a file of that product in the local archive when there is one, else from
:data:`INPUTS`, the one table of product dependencies in the package.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from imap_explorer.filenames import VALID_INSTRUMENTS, parse_filename
from imap_explorer.local import product_key, version_rank

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["INPUTS", "Coverage", "CoverageAccessor", "coverage", "coverage_command", "format_coverage",
           "inputs_of", "plot_coverage"]

log = logging.getLogger("imap_explorer.coverage")

#: What each product is made from, when no downloaded file's ``Parents`` says so: ``(product pattern, inputs)``,
#: first match wins. Patterns are ``instrument/level/descriptor`` with ``*`` wildcards; ``{descriptor}`` in an input
#: stands for the product's own descriptor. Gathered from the ``Parents`` of real files
#: (``reference/instruments.md``) and the SDC's processing chains.
INPUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("swe/l3/*", ("swe/l2/sci", "swe/l1b/sci", "mag/l1d/norm-dsrf", "mag/l2/norm-dsrf", "swapi/l3a/proton-sw")),
    ("swe/l2/*", ("swe/l1b/{descriptor}",)),
    ("swe/l1b/*", ("swe/l1a/{descriptor}",)),
    ("swapi/l3a/*", ("swapi/l2/sci",)),
    ("swapi/l3b/*", ("swapi/l2/sci",)),
    ("swapi/l2/*", ("swapi/l1/sci",)),
    ("codice/l3a/lo-direct-events", ("codice/l1a/lo-sw-priority", "codice/l1a/lo-nsw-priority",
                                     "codice/l2/lo-direct-events")),
    ("codice/l3*/*", ("codice/l2/{descriptor}",)),
    ("codice/l2/*-direct-events", ("codice/l1a/{descriptor}",)),
    ("codice/l2/*", ("codice/l1b/{descriptor}",)),
    ("codice/l1b/*", ("codice/l1a/{descriptor}",)),
    ("glows/l3e/*", ("glows/l3d/solar-hist",)),
    ("glows/l3d/*", ("glows/l3b/ion-rate-profile", "glows/l3c/sw-profile")),
    ("glows/l3c/*", ("glows/l3b/ion-rate-profile",)),
    ("glows/l3b/*", ("glows/l3a/hist",)),
    ("glows/l3a/*", ("glows/l2/hist",)),
    ("glows/l2/*", ("glows/l1b/hist",)),
    ("hi/l3/*", ("hi/l2/*", "glows/l3e/survival-probability-hi*")),
    ("hi/l2/*", ("hi/l1c/*",)),
    ("hit/l3/*", ("hit/l2/*",)),
    ("hit/l2/*", ("hit/l1b/*",)),
    ("lo/l2/*", ("lo/l1c/pset",)),
    ("lo/l1c/*", ("lo/l1b/de",)),
    ("lo/l1b/histrates", ("lo/l1a/histogram", "lo/l1a/spin")),
    ("mag/l2/*", ("mag/l1c/norm-mago",)),
    ("mag/l1d/*", ("mag/l1c/norm-mago", "mag/l1c/norm-magi", "mag/l1b/burst-mago", "mag/l1b/burst-magi")),
    ("mag/l1c/*", ("mag/l1b/{descriptor}",)),
    ("mag/l1b/*", ("mag/l1a/{descriptor}",)),
    ("ultra/l3/*", ("ultra/l2/*", "glows/l3e/survival-probability-ul*")),
    ("ultra/l2/*", ("ultra/l1c/*",)),
    ("ultra/l1c/*", ("ultra/l1b/*",)),
    ("idex/l2*/*", ("idex/l1b/*",)),
    ("idex/l1b/*", ("idex/l1a/*",)),
)
_TABLES = ("science", "quicklook")


# --------------------------------------------------------------------------- inputs (pure)
def inputs_of(product: str) -> list[str]:
    """The input products of ``product`` (``instrument/level/descriptor``) from :data:`INPUTS`.

    Patterns (``*``) may remain, for products whose inputs are "any descriptor of that level".

    Examples
    --------
    >>> inputs_of("swapi/l3a/proton-sw")
    ['swapi/l2/sci']
    >>> inputs_of("mag/l1c/norm-mago")
    ['mag/l1b/norm-mago']
    >>> inputs_of("mag/l0/raw")
    []
    """
    descriptor = product.split("/")[-1]
    for pattern, inputs in INPUTS:
        if fnmatch.fnmatchcase(product, pattern):
            return [i.replace("{descriptor}", descriptor) for i in inputs]
    return []


def _parents_products(names: Sequence[str]) -> list[str]:
    """The science products named in a ``Parents`` attribute (SPICE kernels and ancillary files left out)."""
    out: dict[str, None] = {}
    for name in names:
        try:
            info = parse_filename(str(name))
        except ValueError:
            continue
        if info.kind == "science":
            out[product_key(info)] = None
    return list(out)


def _parents_of(path: Path) -> list[str] | None:
    """The products in one file's ``Parents``, or None when the file has no such attribute (or cannot be read)."""
    from imap_explorer.cdf import _read_file
    from imap_explorer.exceptions import InvalidFileError

    try:
        parents = _read_file(path, 0).global_attrs.get("Parents")
    except (InvalidFileError, OSError):
        return None
    if parents is None:
        return None
    return _parents_products([parents] if isinstance(parents, str) else list(parents))


# --------------------------------------------------------------------------- the result type
class Coverage(pd.DataFrame):
    """The table :func:`coverage` returns: a plain DataFrame of version strings, plus ``.imap``.

    Rows are days (``start_date``) or repointings (``repointing``), columns products
    (``instrument/level/descriptor``), cells the newest version (``"v002.0001"``, ``"v003"``) or NaN.
    """

    _metadata = ["_imap_files", "_imap_inputs", "_imap_source"]

    @property
    def _constructor(self) -> type[Coverage]:
        return Coverage

    @property
    def imap(self) -> CoverageAccessor:
        """Files behind the cells, product inputs, plot and terminal table."""
        return CoverageAccessor(self)

    def _repr_html_(self) -> str | None:
        # in a notebook, an empty cell reads better blank than NaN
        return pd.DataFrame(self, copy=False).astype(object).where(self.notna(), "")._repr_html_()


class CoverageAccessor:
    """``cov.imap``: what is behind a :class:`Coverage` table."""

    def __init__(self, cov: Coverage) -> None:
        self._cov = cov

    @property
    def files(self) -> pd.DataFrame:
        """The SDC ``file_path`` behind each cell (same index and columns; NaN where there is no file)."""
        files = getattr(self._cov, "_imap_files", None)
        if files is None:
            return pd.DataFrame(None, index=self._cov.index, columns=self._cov.columns, dtype=object)
        return files.reindex(index=self._cov.index, columns=self._cov.columns)

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        """``{product: {"inputs": [products], "source": "Parents of <file>" | "table"}}`` (``with_inputs=True``)."""
        return dict(getattr(self._cov, "_imap_inputs", None) or {})

    @property
    def source(self) -> str:
        """``"sdc"`` or ``"local"``."""
        return getattr(self._cov, "_imap_source", None) or "sdc"

    def file(self, row: Any, product: str) -> str | None:
        """The ``file_path`` of one cell (a day as a date or string, or a repointing number)."""
        files = self.files
        if files.index.name == "start_date":
            row = pd.Timestamp(row)
        value = files.at[row, product]
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)

    def plot(self, **kwargs: Any) -> Figure:
        """Calendar heat-map of the table (:func:`plot_coverage`)."""
        return plot_coverage(self._cov, **kwargs)

    def table(self, **kwargs: Any) -> str:
        """The table as text for a terminal (:func:`format_coverage`)."""
        return format_coverage(self._cov, **kwargs)


# --------------------------------------------------------------------------- building the table
def _rows_sdc(table: str, instruments: Sequence[str], filters: dict[str, Any], first: dt.date, last: dt.date,
              max_workers: int) -> pd.DataFrame:
    """The newest version of each product-day of each instrument: one (chunked) query per instrument, in parallel."""
    from imap_explorer.query import query

    def one(instrument: str) -> pd.DataFrame:
        return query(table=table, instrument=instrument, start_date=first, end_date=last, version="latest",
                     **filters)

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(instruments)))) as pool:
        frames = list(pool.map(one, instruments))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["file_path", "start_date", "repointing"])
    return pd.concat([pd.DataFrame(f, copy=False) for f in frames], ignore_index=True)


def _rows_local(table: str, instruments: Sequence[str], filters: dict[str, Any], first: dt.date, last: dt.date,
                data_dir: Any) -> pd.DataFrame:
    from imap_explorer.local import local_files

    frames = []
    for instrument in instruments:
        f = local_files(table=table, instrument=instrument, start_date=first, end_date=last, data_dir=data_dir,
                        **filters)
        frames.append(f[~f["superseded"]])
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["file_path", "start_date", "repointing"])
    return pd.concat([pd.DataFrame(f, copy=False) for f in frames], ignore_index=True)


def _products(rows: pd.DataFrame) -> pd.Series:
    """``instrument/level/descriptor`` of each row (from the query's columns, which the SDC derived from the name)."""
    if not len(rows):
        return pd.Series([], dtype=object)
    return rows["instrument"].astype(str) + "/" + rows["data_level"].astype(str) + "/" + rows["descriptor"].astype(str)


def _cells(rows: pd.DataFrame) -> pd.DataFrame:
    """The newest file of each cell: columns ``row`` (day or repointing), ``product``, ``version``, ``file_path``.

    Versions are ranked as the SDC ranks them (:func:`~imap_explorer.local.version_rank`): major, minor, and a
    ``vMMM.mmmm`` name before a legacy ``vNNN`` of equal rank. The version shown is the file name's.
    """
    if not len(rows):
        return pd.DataFrame(columns=["row", "product", "version", "file_path"])
    names = rows["file_path"].astype(str)
    version = names.str.extract(r"_(v\d{3}(?:\.\d{4})?)\.[^._]+$", expand=False)
    cells = pd.DataFrame({
        "row": (rows["repointing"].astype("Int64") if _by_repointing(rows) else rows["start_date"]).to_numpy(),
        "product": _products(rows).to_numpy(),
        "version": version.to_numpy(),
        "file_path": names.to_numpy(),
        "major": rows["major_version"].to_numpy(),
        "minor": rows["minor_version"].to_numpy(),
        "modern": version.str.contains(".", regex=False).to_numpy(),
    })
    cells = cells.sort_values(["major", "minor", "modern"], kind="stable")
    return cells.drop_duplicates(["row", "product"], keep="last")


def _by_repointing(rows: pd.DataFrame) -> bool:
    return len(rows) > 0 and bool(rows["repointing"].notna().all())


def _product_order(products: Sequence[str]) -> list[str]:
    """Instrument, then level, then descriptor (the levels in processing order: l0 < l1a < ... < l3e)."""
    return sorted(products, key=lambda p: tuple(p.split("/")))


def coverage(
    *,
    instrument: str | None = None,
    data_level: str | None = None,
    descriptor: str | None = None,
    start_date: Any,
    end_date: Any,
    table: str = "science",
    source: str = "sdc",
    with_inputs: bool = False,
    data_dir: str | os.PathLike | None = None,
    max_workers: int = 4,
) -> Coverage:
    """Tabulate which products exist on which days (or repointings), with the newest version of each.

    The SDC is asked once per instrument over the whole range (``version="latest"``, in chunks of
    :data:`~imap_explorer.query.CHUNK_DAYS` days as :func:`~imap_explorer.query` does), in parallel;
    ``source="local"`` reads the local archive instead (:func:`~imap_explorer.local_files`), offline.
    A public caller sees released files only; with an API key, unreleased versions count too.

    Parameters
    ----------
    instrument : str, optional
        One instrument; default every instrument (one query each).
    data_level, descriptor : str, optional
        Narrow to one level or descriptor.
    start_date, end_date : str or date
        First and last day (inclusive), as ``"YYYYMMDD"``, ``"YYYY-MM-DD"`` or a date.
    table : {"science", "quicklook"}, default "science"
    source : {"sdc", "local"}, default "sdc"
    with_inputs : bool, default False
        Add, next to each product, the products it is made from (see :attr:`CoverageAccessor.inputs`): from the
        ``Parents`` of a file of that product in the local archive when one is there, else from :data:`INPUTS`.
        Their instruments are queried too (one query each).
    data_dir : path-like, optional
        Local archive (for ``source="local"`` and the ``Parents`` of ``with_inputs``); default ``IMAP_DATA_DIR``.
    max_workers : int, default 4
        Instruments queried at the same time.

    Returns
    -------
    Coverage
        A DataFrame: index ``start_date`` (every day of the range, so gaps are empty rows) or, when every file
        found belongs to a repointing, ``repointing`` (every number from the first to the last found); columns
        ``instrument/level/descriptor`` grouped by instrument; cells the newest version as in the file name, or
        NaN. A repointing or Carrington-rotation product in a day table sits on its start date.
        ``cov.imap.files`` holds the ``file_path`` of each cell; ``cov.imap.plot()`` draws it.

    Raises
    ------
    ValueError
        A bad instrument, level, date, table or source (checked before any request).
    imap_explorer.ApiError
        The SDC answered with an error.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> cov = ie.coverage(instrument="mag", start_date="2026-01-01", end_date="2026-01-31")  # doctest: +SKIP
    >>> cov["mag/l2/norm-gse"].isna().sum()         # days without MAG L2 GSE  # doctest: +SKIP
    >>> cov.imap.files.at["2026-01-20", "mag/l2/norm-gse"]  # doctest: +SKIP
    >>> fig = cov.imap.plot()                        # doctest: +SKIP
    """
    from imap_explorer.query import _as_date, query_params

    if table not in _TABLES:
        raise ValueError(f"Unknown table {table!r} for coverage. Expected one of: {', '.join(_TABLES)}.")
    if source not in ("sdc", "local"):
        raise ValueError(f"Unknown source {source!r}. Expected 'sdc' (ask the SDC) or 'local' (the local archive).")
    if start_date is None or end_date is None:
        raise ValueError("coverage needs both start_date and end_date (e.g. '2026-01-01' and '2026-01-31').")
    query_params(table=table, instrument=instrument, data_level=data_level, descriptor=descriptor,
                 start_date=start_date, end_date=end_date)  # every argument checked before any request
    first, last = _as_date(start_date, "start_date"), _as_date(end_date, "end_date")
    if last < first:
        raise ValueError(f"end_date {last} is before start_date {first}.")
    if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
        raise ValueError(f"Invalid max_workers {max_workers!r}. Expected a whole number >= 1.")
    instruments = [instrument] if instrument else sorted(VALID_INSTRUMENTS)
    filters = {k: v for k, v in (("data_level", data_level), ("descriptor", descriptor)) if v is not None}

    def fetch(names: Sequence[str], narrow: dict[str, Any]) -> pd.DataFrame:
        if source == "local":
            return _rows_local(table, names, narrow, first, last, data_dir)
        return _rows_sdc(table, names, narrow, first, last, max_workers)

    rows = fetch(instruments, filters)
    products = _product_order(set(_products(rows)))
    inputs: dict[str, dict[str, Any]] = {}
    if with_inputs:
        rows, products, inputs = _add_inputs(rows, products, fetch, instruments, filters, data_dir)
    return _build(rows, products, first, last, inputs, source)


def _add_inputs(rows: pd.DataFrame, products: list[str], fetch, instruments: Sequence[str],
                filters: dict[str, Any], data_dir: Any) -> tuple[pd.DataFrame, list[str], dict[str, dict[str, Any]]]:
    """Find each product's inputs, fetch the rows of the instruments not yet asked in full, order the columns."""
    from imap_explorer import config
    from imap_explorer.local import local_files

    root = Path(data_dir) if data_dir is not None else config.resolve().data_dir
    inputs: dict[str, dict[str, Any]] = {}
    for product in products:
        inst, level, desc = product.split("/")
        found = None
        local = local_files(instrument=inst, data_level=level, descriptor=desc, data_dir=root)
        for path in reversed(local.sort_values("start_date")["local_path"].tolist()):
            found = _parents_of(Path(path))
            if found is not None:
                inputs[product] = {"inputs": found, "source": f"Parents of {Path(path).name}"}
                break
        if found is None:
            inputs[product] = {"inputs": inputs_of(product), "source": "table"}
    wanted = {i for v in inputs.values() for i in v["inputs"]}
    asked_in_full = set() if filters else set(instruments)
    extra = sorted({w.split("/")[0] for w in wanted} - asked_in_full)
    extra = [e for e in extra if e in VALID_INSTRUMENTS]
    if extra:
        more = fetch(extra, {})
        more = more[[any(fnmatch.fnmatchcase(p, w) for w in wanted) for p in _products(more)]]
        rows = pd.concat([rows, more], ignore_index=True) if len(more) else rows
    present = _product_order(set(_products(rows)))
    order: list[str] = []
    for product in products:
        if product not in order:
            order.append(product)
        for pattern in inputs[product]["inputs"]:
            for match in present:
                if fnmatch.fnmatchcase(match, pattern) and match not in order:
                    order.append(match)
    for inp in inputs.values():  # patterns resolved to the products found
        inp["inputs"] = [m for p in inp["inputs"] for m in ([x for x in present if fnmatch.fnmatchcase(x, p)]
                                                           or [p])]
    return rows, order, inputs


def _build(rows: pd.DataFrame, products: list[str], first: dt.date, last: dt.date,
           inputs: dict[str, dict[str, Any]], source: str) -> Coverage:
    cells = _cells(rows)
    if _by_repointing(rows):
        numbers = [int(r) for r in rows["repointing"]]
        index = pd.Index(range(min(numbers), max(numbers) + 1), name="repointing")
    else:
        index = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D", name="start_date")
    position = {value: i for i, value in enumerate(index)}
    column = {p: j for j, p in enumerate(products)}
    versions = np.full((len(index), len(products)), None, dtype=object)
    files = np.full((len(index), len(products)), None, dtype=object)
    for row, product, version, file_path in zip(cells["row"], cells["product"], cells["version"],
                                                cells["file_path"]):
        i, j = position.get(row), column.get(product)
        if i is not None and j is not None:
            versions[i, j], files[i, j] = version, file_path
    columns = pd.Index(products, name="product")
    cov = Coverage(versions, index=index, columns=columns)
    cov._imap_files = pd.DataFrame(files, index=index, columns=columns)
    cov._imap_inputs = inputs
    cov._imap_source = source
    return cov


# --------------------------------------------------------------------------- showing it
def _version_order(cov: pd.DataFrame) -> list[str]:
    """The distinct versions in the table, oldest first (by SDC rank)."""
    values = {v for v in pd.unique(cov.to_numpy().ravel()) if isinstance(v, str)}

    def rank(v: str) -> tuple:
        return version_rank(parse_filename(f"imap_mag_l2_x_20000101_{v}.cdf"))

    return sorted(values, key=rank)


def _short_version(version: str) -> str:
    """A version as the cell label: ``v002.0001`` -> ``2.1``, legacy ``v003`` -> ``3``.

    Examples
    --------
    >>> _short_version("v002.0001"), _short_version("v003")
    ('2.1', '3')
    """
    parts = version.lstrip("v").split(".")
    return ".".join(str(int(p)) for p in parts)


def format_coverage(cov: pd.DataFrame, *, width: int | None = None) -> str:
    """The coverage as text: one line per product, one character per day (or repointing).

    Each version gets a letter (``a`` the oldest in the table; the legend follows), ``.`` is a gap. Instruments
    are separated by a blank line; a header marks the first of each month (or every tenth repointing). With
    ``width`` (characters, e.g. the terminal's), a long range is cut into blocks of days stacked one under the
    other, each with its own header, so that no line is longer than ``width``.

    Examples
    --------
    >>> import pandas as pd
    >>> cov = pd.DataFrame({"mag/l2/norm-gse": ["v001", None, "v002"]},
    ...                    index=pd.date_range("2026-01-30", periods=3, name="start_date"))
    >>> print(format_coverage(cov))
                    2026-01 2026-02
    mag/l2/norm-gse a.b
    <BLANKLINE>
    a = v001   b = v002   . = no file
    >>> twelve = pd.DataFrame({"mag/l2/norm-gse": ["v001"] * 5 + [None] + ["v002"] * 6},
    ...                       index=pd.date_range("2026-01-25", periods=12, name="start_date"))
    >>> print(format_coverage(twelve, width=26))
                    2026-01
    mag/l2/norm-gse aaaaa.bbbb
    <BLANKLINE>
                    2026-02
    mag/l2/norm-gse bb
    <BLANKLINE>
    a = v001   b = v002   . = no file
    """
    if cov.shape[1] == 0:
        return "No files in this range."
    versions = _version_order(cov)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    code = {v: letters[i] if i < len(letters) else "#" for i, v in enumerate(versions)}
    name_width = max(len(str(c)) for c in cov.columns) + 1
    across = len(cov.index) if width is None else max(10, width - name_width)
    rows = {str(p): "".join(code[v] if isinstance(v, str) else "." for v in cov[p]) for p in cov.columns}
    lines: list[str] = []
    for lo in range(0, len(cov.index), across):
        index = cov.index[lo:lo + across]
        if lo:
            lines.append("")
        lines.append(" " * name_width + _header(index, limit=None if width is None else across))
        previous = None
        for product in cov.columns:
            instrument = str(product).split("/")[0]
            if previous is not None and instrument != previous:
                lines.append("")
            previous = instrument
            lines.append(f"{str(product):<{name_width}}{rows[str(product)][lo:lo + across]}")
    lines.append("")
    lines.append("   ".join([f"{code[v]} = {v}" for v in versions] + [". = no file"]))
    return "\n".join(lines)


def _header(index: pd.Index, limit: int | None) -> str:
    """Month labels (``2026-01``) at the first day of each month, or every tenth repointing, without overlaps."""
    labels: list[tuple[int, str]] = []
    for i, value in enumerate(index):
        if isinstance(index, pd.DatetimeIndex):
            if i == 0 or value.day == 1:
                labels.append((i, f"{value:%Y-%m}"))
        elif i == 0 or int(value) % 10 == 0:
            labels.append((i, str(value)))
    header = list(" " * (len(index) + 12))
    end = -1
    for i, text in labels:
        start = max(i, end + 1)
        if limit is not None and start + len(text) > limit:
            break
        for k, ch in enumerate(text):
            if start + k < len(header):
                header[start + k] = ch
        end = start + len(text)
    return "".join(header).rstrip()


def plot_coverage(cov: pd.DataFrame, *, ax: Any = None, pyplot: bool = True, title: str | None = None) -> Figure:
    """Draw a coverage table as a calendar heat-map: products down, days (or repointings) across.

    Each cell is coloured by its version (legend: oldest to newest in the table); gaps are white on a faint grid,
    so missing days stand out. Instruments are separated by a line and labelled on the right. With up to 45 days
    the version is written in each cell.

    Parameters
    ----------
    cov : Coverage or DataFrame
        From :func:`coverage`.
    ax : matplotlib Axes, optional
        Draw into this Axes; default a new figure sized to the table.
    pyplot : bool, default True
        Make the figure through pyplot (shown by notebooks); False gives a plain Figure with an Agg canvas.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.colors as mcolors
    import matplotlib.dates as mdates

    n_rows, n_products = cov.shape
    if ax is None:
        size = (min(16.0, 4.0 + 0.06 * max(n_rows, 30)), min(30.0, 1.2 + 0.28 * max(n_products, 3)))
        if pyplot:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=size, layout="constrained")
        else:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            fig = Figure(figsize=size, layout="constrained")
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
    else:
        fig = ax.figure
    versions = _version_order(cov)
    code = {v: i for i, v in enumerate(versions)}
    grid = np.full((n_products, n_rows), np.nan)
    for j, product in enumerate(cov.columns):
        for i, v in enumerate(cov[product].tolist()):
            if isinstance(v, str):
                grid[j, i] = code[v]
    # Dark2 for the first eight versions, then tab20 (dark shades, then light): 28 distinct colours
    import matplotlib as mpl

    base = [mcolors.to_hex(c) for c in mpl.colormaps["Dark2"].colors]
    tab20 = mpl.colormaps["tab20"].colors
    base += [mcolors.to_hex(c) for c in (*tab20[0::2], *tab20[1::2])]
    colours = [base[i % len(base)] for i in range(max(1, len(versions)))]
    cmap = mcolors.ListedColormap(colours).with_extremes(bad="white")
    is_days = isinstance(cov.index, pd.DatetimeIndex)
    if is_days and n_rows:
        x0 = mdates.date2num(cov.index[0].to_pydatetime())
        edges = x0 + np.arange(n_rows + 1)
    else:
        start = int(cov.index[0]) if n_rows else 0
        edges = start - 0.5 + np.arange(n_rows + 1)
    y_edges = np.arange(n_products + 1)
    ax.pcolormesh(edges, y_edges, np.ma.masked_invalid(grid), cmap=cmap, vmin=-0.5,
                  vmax=max(1, len(versions)) - 0.5, edgecolors="#dddddd", linewidth=0.3 if n_rows <= 120 else 0)
    ax.set_ylim(n_products, 0)
    ax.set_yticks(np.arange(n_products) + 0.5)
    ax.set_yticklabels(["/".join(str(p).split("/")[1:]) for p in cov.columns], fontsize=8)
    if n_rows and n_rows <= 45:
        for j in range(n_products):
            for i in range(n_rows):
                if not np.isnan(grid[j, i]):
                    ax.text((edges[i] + edges[i + 1]) / 2, j + 0.5, _short_version(versions[int(grid[j, i])]),
                            ha="center", va="center", fontsize=6.5 if n_rows <= 20 else 5, color="white")
    # instrument groups: a rule between them and the name on the right
    instruments = [str(p).split("/")[0] for p in cov.columns]
    starts = [j for j in range(n_products) if j == 0 or instruments[j] != instruments[j - 1]]
    for k, j in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else n_products
        if j:
            ax.axhline(j, color="black", linewidth=1.2)
        ax.text(1.005, 1 - (j + stop) / 2 / max(n_products, 1), instruments[j].upper(), transform=ax.transAxes,
                ha="left", va="center", fontsize=9, fontweight="bold")
    if is_days:
        ax.xaxis_date()
        locator = mdates.AutoDateLocator(minticks=3, maxticks=12)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_xlabel("file date (UTC day)")
    else:
        ax.set_xlabel("repointing")
    ax.set_xlim(edges[0], edges[-1]) if n_rows else None
    if versions:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=colours[i], label=v) for i, v in enumerate(versions)]
        handles.append(Patch(facecolor="white", edgecolor="#999999", label="no file"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(len(handles), 4),
                  fontsize=8, title="version (cells: major.minor)", title_fontsize=8, frameon=False)
    n_files = int(np.isfinite(grid).sum())
    ax.set_title(title or f"IMAP coverage: {n_products} products, {n_files} files", fontsize=10)
    return fig


# --------------------------------------------------------------------------- CLI
def coverage_command(args: Any) -> int:
    """``imap-explorer coverage``: print the table, and save the heat-map with ``-o``."""
    cov = coverage(instrument=args.instrument, data_level=args.data_level, descriptor=args.descriptor,
                   start_date=args.start_date, end_date=args.end_date, source=args.source,
                   with_inputs=args.with_inputs)
    if args.output:
        out = Path(args.output)
        if out.is_dir():
            out = out / "coverage.png"
        elif not out.suffix:
            out = out.with_name(out.name + ".png")
        from imap_explorer.plot.render import save_figure

        fig = plot_coverage(cov, pyplot=False)
        out.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, out, dpi=120)
        print(f"Saved {out}")
    print(format_coverage(cov, width=shutil.get_terminal_size((120, 24)).columns))
    for product, info in cov.imap.inputs.items():
        if info["inputs"]:
            print(f"{product} <- {', '.join(info['inputs'])} ({info['source']})")
    return 0
