"""The Explorer under review: picker changes that fail, tasks that overlap, failures that must name their cause.

Real widgets against a real server over sockets (the LocalSDC, or pytest-httpserver where a test must hold an
answer back until it has done something in the meantime); nothing of imap_explorer is replaced.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

ipywidgets = pytest.importorskip("ipywidgets")

from werkzeug import Request, Response  # noqa: E402
from xarray.backends import BackendArray  # noqa: E402

from imap_explorer.exceptions import ApiError  # noqa: E402
from imap_explorer.filenames import local_path  # noqa: E402
from imap_explorer.server import LocalSDC  # noqa: E402
from imap_explorer.widgets import Explorer  # noqa: E402


def _record(instrument: str, data_level: str, descriptor: str, day: str = "20260120") -> dict:
    """One row of the SDC's /query answer."""
    name = f"imap_{instrument}_{data_level}_{descriptor}_{day}_v001.0001.cdf"
    return {"extension": "cdf", "file_path": f"imap/{instrument}/{data_level}/{day[:4]}/{day[4:6]}/{name}",
            "instrument": instrument, "data_level": data_level, "descriptor": descriptor, "start_date": day,
            "repointing": None, "major_version": 1, "minor_version": 1, "ingestion_date": "20260121 01:02:03",
            "cr": None, "crid": None, "released": True, "version": "v001.0001"}


APP = Path(__file__).resolve().parents[1] / "imap_explorer" / "app" / "explorer.ipynb"


#: What the held-back server answers to /query?instrument=...
CATALOGS = {"mag": [_record("mag", "l2", "norm-gse")],
            "swe": [_record("swe", "l1b", "sci"), _record("swe", "l3", "sci")]}


class HeldAnswers:
    """A /query handler that holds the answers for one instrument back until the test releases them."""

    def __init__(self, held: str) -> None:
        self.held = held
        self.arrived = threading.Event()  # a held request reached the server
        self.release = threading.Event()

    def __call__(self, request: Request) -> Response:
        instrument = request.args.get("instrument", "")
        if instrument == self.held:
            self.arrived.set()
            self.release.wait(60)
        return Response(json.dumps(CATALOGS.get(instrument, [])), content_type="application/json")


def _option_values(dropdown) -> list[str]:
    return [option[1] if isinstance(option, tuple) else option for option in dropdown.options]


def test_explorer_picker_change_error_shows_in_the_widget(monkeypatch):
    # A change made in the browser runs in ipywidgets' message handler: an exception raised there would only
    # reach the kernel log. Here the environment names an SDC URL without its scheme.
    monkeypatch.setenv("IMAP_DATA_ACCESS_URL", "api.imap-mission.com")
    explorer = Explorer(background=False)
    explorer._instrument.value = "swe"  # the user picks another instrument
    assert explorer.instrument == "swe"
    assert explorer.error.startswith("Changing the instrument to 'swe' failed: ValueError: Invalid SDC URL")
    assert "api.imap-mission.com" in explorer._error.value
    assert explorer._error.layout.display is None


def test_explorer_instrument_picked_during_a_task_gets_its_catalog(httpserver):
    answers = HeldAnswers("mag")
    httpserver.expect_request("/query").respond_with_handler(answers)
    explorer = Explorer(url=httpserver.url_for("/"))  # background=True, as in a notebook or on Voila
    explorer._repr_mimebundle_()  # displayed: the MAG catalog is asked for in the worker thread
    assert answers.arrived.wait(60)
    explorer._instrument.value = "swe"  # the user picks SWE while the MAG answer is on its way
    answers.release.set()
    assert explorer.wait(60)
    assert explorer.error == ""
    assert explorer.instrument == "swe"
    assert _option_values(explorer._data_level) == ["l1b", "l3"]  # SWE's levels, not a lone unknown 'l2'
    assert (explorer.data_level, explorer.descriptor) == ("l1b", "sci")
    assert "swe l1b sci" in explorer._status.value
    assert not explorer.busy


def test_explorer_second_click_while_busy_leaves_no_error_after_success(httpserver):
    answers = HeldAnswers("mag")
    httpserver.expect_request("/query").respond_with_handler(answers)
    explorer = Explorer(url=httpserver.url_for("/"), descriptor="norm-gse")
    explorer.search()
    assert answers.arrived.wait(60)
    explorer.search()  # pressed again (or called from code) while the first search runs: refused, and said so
    assert explorer.error.startswith("Busy: please wait for the current task to finish before searching")
    assert "Busy" in explorer._error.value
    answers.release.set()
    assert explorer.wait(60)
    assert len(explorer.results) == 1  # the first search succeeded ...
    assert "1 file found" in explorer._status.value
    assert explorer.error == ""  # ... so no red box is left behind saying otherwise
    assert explorer._error.layout.display == "none"


@pytest.fixture(scope="module")
def sdc_full(synthetic_archive, tmp_path_factory):
    """The embedded SDC over the whole shared synthetic archive (read only)."""
    with LocalSDC(synthetic_archive, db=tmp_path_factory.mktemp("review-sdc") / "index.sqlite3") as server:
        yield server


@pytest.fixture
def small_sdc(synthetic_archive, tmp_path):
    """A private copy of MAG L2 norm-gse (both days, newest versions) served by a LocalSDC: files may be removed."""
    root = tmp_path / "archive"
    for day in ("20260120", "20260121"):
        source = sorted(synthetic_archive.rglob(f"imap_mag_l2_norm-gse_{day}_*.cdf"))[-1]
        target = local_path(root, source.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    with LocalSDC(root, db=tmp_path / "index.sqlite3") as server:
        yield server, root


def test_explorer_download_failure_keeps_each_files_error(small_sdc):
    server, root = small_sdc
    explorer = Explorer(url=server.url, background=False, descriptor="norm-gse")
    explorer.search()
    explorer._select_all.click()
    lost = explorer.results["file_name"][1]
    local_path(root, lost).unlink()  # the server lost it after answering the query
    explorer._download.click()
    assert lost in explorer.error
    assert "404" in explorer.error
    failure = explorer.last_exception
    assert set(failure.failures) == {lost}
    assert [p.name for p in failure.paths] == [explorer.results["file_name"][0]]
    # The per-file error (DownloadError.errors) is kept, so code can read the status, URL and server's words.
    assert set(failure.errors) == {lost}
    (cause,) = failure.errors.values()
    assert isinstance(cause, ApiError)
    assert cause.status == 404
    assert lost in cause.url
    assert cause.body


def test_explorer_any_data_level_is_kept_when_the_catalog_arrives(sdc_full):
    # data_level="" means any level (as documented); the catalog's arrival must not turn it into 'l2'.
    explorer = Explorer(url=sdc_full.url, background=False, data_level="", descriptor="norm-mago",
                        start_date="2026-01-20", end_date="2026-01-20")
    explorer.search()  # the first interaction: the catalog query, then the search
    assert explorer.error == ""
    assert (explorer.data_level, explorer.descriptor) == ("", "norm-mago")
    assert sorted(zip(explorer.results["data_level"], explorer.results["descriptor"])) == [
        ("l1b", "norm-mago"), ("l1c", "norm-mago")]
    assert "norm-gse" in _option_values(explorer._descriptor)  # any level: every MAG descriptor is offered
    explorer.data_level = "l1b"
    assert explorer.descriptor == "norm-mago"
    explorer.data_level = ""  # back to any level: the descriptor is kept, not cleared
    assert explorer.descriptor == "norm-mago"

    everything = Explorer(url=sdc_full.url, background=False, data_level="", descriptor="",
                          start_date="2026-01-20", end_date="2026-01-20")
    everything.search()
    assert (everything.data_level, everything.descriptor) == ("", "")
    assert set(everything.results["data_level"]) == {"l1b", "l1c", "l2"}


def _run_app_cell() -> Explorer:
    """Run the Voila app notebook's code cell here, as its kernel would; return the Explorer it shows."""
    (code,) = ["".join(c["source"]) for c in json.loads(APP.read_text())["cells"] if c["cell_type"] == "code"]
    namespace: dict = {}
    exec(compile(code, str(APP), "exec"), namespace)  # noqa: S102 - the app's own cell
    return namespace["explorer"]


@pytest.mark.parametrize(("source", "expected"), [(None, "https://api.imap-mission.com"),
                                                   ("sdc", "https://api.imap-mission.com"), ("local", "local")])
def test_app_notebook_follows_imap_explorer_source(synthetic_archive, monkeypatch, source, expected):
    from imap_explorer.demo import tutorial_source

    if source is None:
        monkeypatch.delenv("IMAP_EXPLORER_SOURCE", raising=False)
    else:
        monkeypatch.setenv("IMAP_EXPLORER_SOURCE", source)
    monkeypatch.setenv("IMAP_EXPLORER_ARCHIVE", str(synthetic_archive))  # the archive 'local' serves
    try:
        explorer = _run_app_cell()
        url = explorer.model.settings().url
        if expected == "local":  # the embedded server over the synthetic archive, started in this kernel
            assert url.startswith("http://127.0.0.1:")
            explorer.search()
            assert explorer.wait(60)
            assert explorer.error == ""
            assert len(explorer.results) > 0
        else:
            assert url == expected
    finally:
        if source == "local":
            tutorial_source("local").close()


def test_app_notebook_keeps_an_explicit_sdc_url(small_sdc, monkeypatch):
    # `imap-explorer demo` (and the browser test) name their server in IMAP_DATA_ACCESS_URL: it wins.
    server, _ = small_sdc
    monkeypatch.setenv("IMAP_EXPLORER_SOURCE", "local")
    monkeypatch.setenv("IMAP_DATA_ACCESS_URL", server.url)
    assert _run_app_cell().model.settings().url == server.url


class HeldValues(BackendArray):
    """Array values that a worker thread can read only once the test releases them (an xarray backend array)."""

    def __init__(self, values) -> None:
        self.values, self.shape, self.dtype = values, values.shape, values.dtype
        self.arrived = threading.Event()  # a worker thread started reading
        self.release = threading.Event()

    def __getitem__(self, key):
        from xarray.core import indexing

        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key):
        if threading.current_thread() is not threading.main_thread():
            self.arrived.set()
            self.release.wait(60)
        return self.values[key]


def test_explorer_quicklook_in_its_worker_thread_leaves_pyplot_alone(small_sdc):
    # The inline backend shows (and closes) every figure pyplot holds at the end of each cell: a figure the
    # Explorer's worker thread registered there while the user ran another cell would appear, half drawn, in
    # that cell. The Explorer's figure must never be in pyplot, not even while it is being drawn.
    import matplotlib.pyplot as plt
    import xarray as xr
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from xarray.core import indexing

    server, _ = small_sdc
    explorer = Explorer(url=server.url, descriptor="norm-gse", start_date="2026-01-20", end_date="2026-01-20")
    explorer.search()
    assert explorer.wait(60)
    explorer._select_all.click()
    explorer.load()
    assert explorer.wait(60)
    assert explorer.error == ""
    loaded = explorer.dataset
    held = HeldValues(np.asarray(loaded["b_gse"].values))
    lazy = xr.Variable(loaded["b_gse"].dims, indexing.LazilyIndexedArray(held), loaded["b_gse"].attrs)
    explorer.dataset = loaded.assign(b_gse=lazy)  # the same data, read by the plot only when released

    before = plt.get_fignums()
    explorer.quicklook()  # in the Explorer's worker thread
    try:
        assert held.arrived.wait(60)  # the worker is drawing the panels now
        assert plt.get_fignums() == before  # pyplot (the notebook's main thread) sees no figure of the Explorer
    finally:
        held.release.set()
    assert explorer.wait(60)
    assert explorer.error == ""
    assert plt.get_fignums() == before
    figure = explorer.figure
    assert isinstance(figure.canvas, FigureCanvasAgg)
    assert [a.get_ylabel() for a in figure.axes if a.get_label() != "<colorbar>"] == ["|B| [nT]", "B GSE [nT]"]
    (shown,) = explorer._output.outputs
    assert base64.b64decode(shown["data"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
