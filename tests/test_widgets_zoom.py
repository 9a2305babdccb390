"""The Explorer's interactive quick-look: an ipympl canvas, zoomed through its toolbar, sets the time range that
Load and Download honour. Real widgets, a real LocalSDC over the synthetic archive, files on disk.

There is no browser here: the test sends the canvas the messages ipympl's front end sends (toolbar button, mouse
press, motion, release), which run the same kernel-side code as a user's drag (tests/test_browser.py drives a
real one).
"""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

pytest.importorskip("ipympl")

from imap_explorer._decimate import MinMaxLine  # noqa: E402
from imap_explorer.filenames import local_path  # noqa: E402
from imap_explorer.server import LocalSDC  # noqa: E402
from imap_explorer.widgets import Explorer, front_end_can_interact  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def sdc(synthetic_archive, tmp_path_factory):
    with LocalSDC(synthetic_archive, db=tmp_path_factory.mktemp("zoom-sdc") / "index.sqlite3") as server:
        yield server


def _explorer(sdc, data_dir, **kwargs) -> Explorer:
    explorer = Explorer(url=sdc.url, data_dir=data_dir, background=False, descriptor="norm-gse",
                        start_date="2026-01-20", end_date="2026-01-21", **kwargs)
    explorer.search()
    assert len(explorer.results) == 2  # one file per day
    return explorer


def drag_zoom(canvas, ax, x_from: float, x_to: float) -> None:
    """Press the toolbar's zoom button, then drag a box from ``x_from`` to ``x_to`` (data units) over ``ax``.

    The messages are those of ipympl's front end: pixel positions from the canvas's top-left corner.
    """
    canvas._handle_message(canvas, {"type": "toolbar_button", "name": "zoom"}, [])
    height = canvas.figure.bbox.height
    (px0, _), (px1, _) = ax.transData.transform([(x_from, 0), (x_to, 0)])
    top, bottom = height - (ax.bbox.y1 - 5), height - (ax.bbox.y0 + 5)
    for kind, x, y, buttons in (("button_press", px0, top, 1), ("motion_notify", px1, bottom, 1),
                                ("button_release", px1, bottom, 0)):
        canvas._handle_message(canvas, {"type": kind, "x": x, "y": y, "button": 0, "buttons": buttons,
                                        "modifiers": [], "guiEvent": {}}, [])


def points_in(ax, lo: float, hi: float) -> int:
    """Points of the panel's first decimated line drawn between ``lo`` and ``hi`` (date numbers)."""
    line = next(line for line in ax.get_lines() if isinstance(line, MinMaxLine))
    x = np.asarray(line.get_xdata())
    return int(((x >= lo) & (x <= hi)).sum())


def test_explorer_zoom_sets_the_time_range_that_load_and_download_take(sdc, tmp_path):
    from ipympl.backend_nbagg import Canvas

    assert not front_end_can_interact()  # no kernel here: by default the Explorer shows a PNG ...
    assert Explorer(url=sdc.url, background=False).interactive is False
    explorer = _explorer(sdc, tmp_path / "data", interactive=True)  # ... and the canvas when asked
    explorer.selection = (explorer.results["file_name"][0],)  # 2026-01-20
    explorer.quicklook()
    assert explorer.error == ""
    canvas = explorer.figure.canvas
    assert isinstance(canvas, Canvas)
    (shown,) = explorer._output.outputs
    assert shown["data"][WIDGET_VIEW]["model_id"] == canvas.model_id  # the canvas widget, with a PNG fallback
    assert shown["data"]["image/png"]
    assert "Zoom or pan it" in explorer._status.value
    assert explorer.time_range is None

    ax = explorer.figure.axes[0]
    canvas.draw()
    x0, x1 = ax.get_xlim()
    lo, hi = x0 + 0.40 * (x1 - x0), x0 + 0.45 * (x1 - x0)  # 72 minutes from about 09:36
    before = points_in(ax, lo, hi)
    drag_zoom(canvas, ax, lo, hi)
    assert ax.get_xlim() == pytest.approx((lo, hi), abs=(x1 - x0) / 500)
    canvas.draw()  # what the front end asks for after a zoom
    assert points_in(ax, lo, hi) > 4 * before  # redrawn from the full data for the new view
    start, end = explorer.time_range
    assert (start.dtype, end.dtype) == (np.dtype("datetime64[ms]"),) * 2
    assert str(start)[:13] == "2026-01-20T09"
    assert abs(end - start - np.timedelta64(72, "m")) < np.timedelta64(1, "m")
    assert "Load</b> and <b>Download</b> now take just this" in explorer._status.value
    assert str(start)[11:19] in explorer._time_range_label.value
    assert explorer._clear_range.layout.display is None  # Whole files is offered

    loaded = []
    explorer.observe(lambda change: loaded.append(change["new"]), names="dataset")
    explorer.load()
    assert explorer.error == ""
    assert loaded == [explorer.dataset]  # observers hear of each new Dataset (traitlets compared them with ==)
    epochs = explorer.dataset["epoch"].values
    assert start <= epochs.min()
    assert epochs.max() < end
    assert 0 < epochs.size < 0.1 * 86_400 * 2  # about 72 min of 2 vectors/s, not the day
    assert "09:" in explorer._status.value
    assert "into <code>explorer.dataset</code>" in explorer._status.value

    explorer.figure.axes[0].set_xlim(x0, x1)  # Home (the first view): the figure's own data, whole files
    assert explorer.time_range is None
    drag_zoom(canvas, ax, lo, hi)
    explorer._clear_range.click()  # Whole files
    assert explorer.time_range is None
    assert ax.get_xlim() == (x0, x1)  # the figure of whole files is back to its first view
    assert "Time range cleared" in explorer._status.value
    assert explorer._clear_range.layout.display == "none"
    explorer.load()
    assert explorer.dataset.sizes["epoch"] > 100_000  # the whole day again
    explorer.quicklook()  # a new figure: the old canvas widget is closed, not left open
    assert explorer.figure.canvas is not canvas
    assert canvas.comm is None


def test_explorer_time_range_picks_the_files_to_download(sdc, tmp_path):
    explorer = _explorer(sdc, tmp_path / "data")
    explorer.selection = tuple(explorer.results["file_name"])  # both days
    explorer.time_range = ("2026-01-21T03:00", "2026-01-21T04:00")  # set from code, as a zoom would
    explorer.download()
    assert explorer.error == ""
    on_disk = [local_path(tmp_path / "data", fp).is_file() for fp in explorer.results["file_path"]]
    assert on_disk == [False, True]  # only the file of the 21st
    assert "1 selected file outside 2026-01-21 03:00:00 to 04:00:00 UTC left out" in explorer._status.value
    explorer.quicklook()  # loads just the range too, and plots it
    assert explorer.error == ""
    epochs = explorer.dataset["epoch"].values
    assert str(epochs.min())[:13] == "2026-01-21T03"
    assert str(epochs.max())[:13] == "2026-01-21T03"

    explorer.time_range = ("2026-01-25T00:00", "2026-01-25T01:00")
    explorer.download()
    assert explorer.error.startswith("Downloading failed: ValueError: None of the 2 selected files covers the time "
                                     "range 2026-01-25 00:00:00 to 01:00:00 UTC")
    with pytest.raises(traitlets.TraitError, match=r"ends \(2026-01-20T01:00:00.000\) before it starts"):
        explorer.time_range = ("2026-01-20T02:00", "2026-01-20T01:00")
    with pytest.raises(traitlets.TraitError, match="needs both ends"):
        explorer.time_range = ("2026-01-20T02:00", None)
