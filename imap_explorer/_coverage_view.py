"""The Explorer's Coverage view: the chosen instrument's products against the days of the chosen range.

Pressing **Coverage** asks :func:`imap_explorer.coverage` (one chunked query) for every product of the
Explorer's instrument between its From and To dates, and draws a grid: one row per product, one button per day
(or repointing), labelled and coloured by the newest version, grey and disabled where there is no file. Clicking
a cell makes the Explorer show that product over the range in its results table (a search, unless the table
already shows it) and selects the cell's file there, ready for Download, Load or Quick-look.

Ranges longer than :data:`MAX_CELLS_ACROSS` days show the calendar heat-map as an image instead of buttons.
Everything runs through the Explorer's task runner, so errors land in its error box.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from imap_explorer.widgets import Explorer

__all__ = ["MAX_CELLS_ACROSS", "CoverageView"]

#: Longest range (days or repointings) drawn as clickable cells; longer ones are shown as the heat-map image.
MAX_CELLS_ACROSS = 62
_COLOURS = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4")
_EMPTY = "#eeeeee"


class CoverageView(widgets.VBox):
    """The Coverage panel of an :class:`~imap_explorer.Explorer` (its ``coverage_view`` attribute).

    Attributes
    ----------
    coverage : imap_explorer.coverage.Coverage or None
        The last table shown.
    cells : dict
        ``{(row, product): Button}`` of the clickable grid (row: a ``pandas.Timestamp`` day or a repointing).
    """

    def __init__(self, explorer: Explorer) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        self._explorer = explorer
        self.coverage: pd.DataFrame | None = None
        self.cells: dict[tuple[Any, str], widgets.Button] = {}
        self._button = widgets.Button(description="Coverage", icon="th", layout=widgets.Layout(width="120px"),
                                      tooltip="Which products of this instrument exist on which days of the range")
        self._status = widgets.HTML()
        self._grid = widgets.VBox(layout=widgets.Layout(width="100%", overflow="auto"))
        self._button.add_class("ie-coverage")
        self._grid.add_class("ie-coverage-grid")
        self._button.on_click(self._on_button_click)
        explorer.observe(self._on_busy_change, names="busy")
        self.children = [widgets.HBox([self._button, self._status]), self._grid]

    def _on_busy_change(self, change: dict) -> None:
        self._button.disabled = bool(change["new"])
        for cell in self.cells.values():
            if cell.tooltip != "no file":
                cell.disabled = bool(change["new"])

    # ------------------------------------------------------------------ showing the table
    def show(self) -> None:
        """Query and draw the coverage of the Explorer's instrument and dates (the Coverage button)."""
        self._explorer._run("computing the coverage", self._show_work)

    def _on_button_click(self, button: widgets.Button) -> None:
        self.show()

    def _show_work(self) -> None:
        from imap_explorer.coverage import coverage

        ex = self._explorer
        if ex.start_date is None or ex.end_date is None:
            raise ValueError("Pick both dates (From and To) to see the coverage of that range.")
        self._status.value = f"Asking which <b>{html.escape(ex.instrument)}</b> products exist…"
        with ex.model.options():
            cov = coverage(instrument=ex.instrument, start_date=ex.start_date, end_date=ex.end_date)
        self._draw(cov)

    def _draw(self, cov: pd.DataFrame) -> None:
        import pandas as pd

        self.coverage = cov
        self.cells = {}
        n_files = int(cov.notna().to_numpy().sum())
        what = f"{cov.shape[1]} products, {n_files} files"
        if cov.shape[1] == 0:
            self._grid.children = []
            self._status.value = "No files of this instrument in this range."
            return
        if len(cov.index) > MAX_CELLS_ACROSS:
            self._grid.children = [self._image(cov)]
            self._status.value = (f"{what}. Over {MAX_CELLS_ACROSS} days the coverage is shown as an image; "
                                  "narrow the dates to click on files.")
            return
        from imap_explorer.coverage import _short_version, _version_order

        versions = _version_order(cov)
        colour = {v: _COLOURS[i % len(_COLOURS)] for i, v in enumerate(versions)}
        is_days = isinstance(cov.index, pd.DatetimeIndex)
        label_width = "190px"
        head = [widgets.Label("", layout=widgets.Layout(width=label_width))]
        for row in cov.index:
            text = f"{row:%d}" if is_days else str(row)[-3:]
            head.append(widgets.Label(text, layout=widgets.Layout(width="34px")))
        lines = [widgets.HBox(head)]
        files = cov.imap.files
        for product in cov.columns:
            boxes: list[widgets.Widget] = [widgets.Label(str(product), layout=widgets.Layout(width=label_width))]
            for row in cov.index:
                version = cov.at[row, product]
                file_path = files.at[row, product]
                cell = widgets.Button(layout=widgets.Layout(width="34px", height="24px", padding="0", margin="1px"))
                if isinstance(version, str):
                    cell.description = _short_version(version)
                    cell.tooltip = str(file_path).rsplit("/", 1)[-1]
                    cell.style.button_color = colour[version]
                    cell.on_click(lambda _b, fp=str(file_path): self.select(fp))
                else:
                    cell.disabled = True
                    cell.tooltip = "no file"
                    cell.style.button_color = _EMPTY
                self.cells[(row, str(product))] = cell
                boxes.append(cell)
            lines.append(widgets.HBox(boxes))
        legend = "  ".join(f"<span style='background:{colour[v]};color:white;padding:0 4px'>{html.escape(v)}</span>"
                           for v in versions)
        lines.append(widgets.HTML(f"<small>versions: {legend}; grey: no file. Click a file to select it.</small>"))
        self._grid.children = lines
        first, last = cov.index[0], cov.index[-1]
        span = f"{first:%Y-%m-%d} to {last:%Y-%m-%d}" if is_days else f"repointings {first} to {last}"
        self._status.value = f"{what}, {span}."

    @staticmethod
    def _image(cov: pd.DataFrame) -> widgets.Image:
        import io

        from imap_explorer.coverage import plot_coverage

        fig = plot_coverage(cov, pyplot=False)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        return widgets.Image(value=buf.getvalue(), format="png", layout=widgets.Layout(max_width="100%"))

    # ------------------------------------------------------------------ a click on a cell
    def select(self, file_path: str) -> None:
        """Show the cell's product in the Explorer's results table and select ``file_path`` there."""
        self._explorer._run("selecting a file", lambda: self._select_work(file_path))

    def _select_work(self, file_path: str) -> None:
        from imap_explorer.filenames import parse_filename

        ex = self._explorer
        info = parse_filename(file_path)
        name = info.filename
        shown = ex.results is not None and name in set(ex.results["file_name"])
        if not shown:  # search the cell's product over the range, as the pickers would
            cov = self.coverage
            with ex.hold_trait_notifications():
                ex.data_level, ex.descriptor = info.data_level, info.descriptor
            if cov is not None and hasattr(cov.index, "date") and len(cov.index):
                ex.start_date, ex.end_date = cov.index[0].date(), cov.index[-1].date()
            ex.version_mode = "newest"
            ex._search_work()
        if ex.results is None or name not in set(ex.results["file_name"]):
            raise ValueError(f"{name} is not in the results of {info.instrument} {info.data_level} "
                             f"{info.descriptor}: the archive changed since the coverage was drawn; press Coverage.")
        ex.selection = (name,)
        self._status.value = f"Selected <b>{html.escape(name)}</b> in the results table."
