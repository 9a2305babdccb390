"""The Explorer widget, driven from Python: real widgets, a real LocalSDC over the synthetic archive, files on disk.

Every test sets child-widget values and clicks the Explorer's buttons (``button.click()``), with
``background=False`` so that a click returns when the work is done (one test covers the worker-thread mode).
"""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import socket
from pathlib import Path

import pytest
import traitlets

ipywidgets = pytest.importorskip("ipywidgets")

from imap_explorer.filenames import local_path, parse_filename  # noqa: E402
from imap_explorer.server import LocalSDC  # noqa: E402
from imap_explorer.widgets import Explorer, ExplorerModel, column_widths, pick_choice, row_label  # noqa: E402

DAY = dt.date(2026, 1, 20)
PRODUCT = {"instrument": "mag", "data_level": "l2", "descriptor": "norm-gse"}


@pytest.fixture(scope="module")
def sdc(synthetic_archive, tmp_path_factory):
    """The embedded SDC over the shared synthetic archive (index kept outside the archive)."""
    db = tmp_path_factory.mktemp("explorer-sdc") / "index.sqlite3"
    with LocalSDC(synthetic_archive, db=db) as server:
        yield server


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pick_product(explorer: Explorer, day: dt.date = DAY) -> None:
    """Display the Explorer, then choose MAG / l2 / norm-gse on one day through the pickers, as a user would."""
    explorer._repr_mimebundle_()  # what displaying it does: the pickers get the archive's options
    explorer.wait(60)
    explorer._instrument.value = "mag"
    explorer._data_level.value = "l2"
    explorer._descriptor.value = "norm-gse"
    explorer._start_date.value = day
    explorer._end_date.value = day


def _option_values(dropdown) -> list[str]:
    return [option[1] if isinstance(option, tuple) else option for option in dropdown.options]


# --------------------------------------------------------------------------- pure parts
def test_pick_choice_keeps_prefers_then_falls_back():
    assert pick_choice("l2", ["l1b", "l2"]) == "l2"
    assert pick_choice("l3", ["l1a", "l2"], preferred=("l2",)) == "l2"
    assert pick_choice("l3", ["l1b", "l1a"]) == "l1b"
    assert pick_choice("l2", []) == ""


def test_row_label_shows_every_column_aligned():
    rows = [
        {"file_name": "imap_mag_l2_norm-gse_20260120_v001.0001.cdf", "data_level": "l2", "descriptor": "norm-gse",
         "start_date": dt.date(2026, 1, 20), "version": "v001.0001", "downloaded": False},
        {"file_name": "imap_swe_l1b_sci_20260121_v002.0010.cdf", "data_level": "l1b", "descriptor": "sci",
         "start_date": dt.date(2026, 1, 21), "version": "v002.0010", "downloaded": True},
    ]
    import pandas as pd

    widths = column_widths(pd.DataFrame(rows))
    labels = [row_label(row, widths) for row in rows]
    assert " " not in labels[0]  # no-break spaces only: HTML would collapse ordinary runs
    assert labels[0].replace("\u00a0", " ").split() == [rows[0]["file_name"], "l2", "norm-gse", "2026-01-20",
                                                        "v001.0001", "no"]
    assert labels[1].replace("\u00a0", " ").split()[-1] == "yes"
    assert labels[0].index("2026-01-20") == labels[1].index("2026-01-21")


# --------------------------------------------------------------------------- construction and traits
def test_explorer_construction_does_not_query(httpserver):
    explorer = Explorer(url=httpserver.url_for("/"), background=False)
    assert httpserver.log == []
    assert explorer.results is None
    assert explorer.dataset is None
    assert explorer.figure is None
    assert _option_values(explorer._instrument) == sorted(
        ["codice", "glows", "hi", "hit", "ialirt", "idex", "l1const", "lo", "mag", "spacecraft", "swapi", "swe",
         "ultra"])
    # Displaying it (the last line of a cell, or Voila) asks the archive once for the instrument's catalog.
    httpserver.expect_request("/query").respond_with_json([])
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert len(httpserver.log) == 1
    request = httpserver.log[0][0]
    assert request.args.get("instrument") == "mag"
    assert "data_level" not in request.args
    assert "holds no files for instrument" in explorer._status.value
    explorer._repr_mimebundle_()  # cached: no second query
    assert len(httpserver.log) == 1

    # Refresh asks again, and the pickers follow the new answer.
    record = {"extension": "cdf", "file_path": "imap/mag/l1b/2026/01/imap_mag_l1b_norm-mago_20260120_v001.0001.cdf",
              "instrument": "mag", "data_level": "l1b", "descriptor": "norm-mago", "start_date": "20260120",
              "repointing": None, "major_version": 1, "minor_version": 1, "ingestion_date": "20260121 01:02:03",
              "cr": None, "crid": None, "released": True, "version": "v001.0001"}
    httpserver.clear_all_handlers()
    httpserver.expect_request("/query").respond_with_json([record])
    explorer._refresh.click()
    assert explorer.error == ""
    assert len(httpserver.log) == 2
    assert _option_values(explorer._data_level) == ["l1b"]
    assert (explorer.data_level, explorer.descriptor) == ("l1b", "norm-mago")
    assert "from 2026-01-20 to 2026-01-20" in explorer._status.value


def test_explorer_traits_link_both_ways():
    explorer = Explorer(url="http://127.0.0.1:9", background=False, start_date="20260120")
    assert explorer.start_date == DAY
    assert explorer._start_date.value == DAY
    picker = ipywidgets.DatePicker()
    text = ipywidgets.Text()
    traitlets.link((picker, "value"), (explorer, "end_date"))
    traitlets.link((text, "value"), (explorer, "descriptor"))
    picker.value = dt.date(2026, 1, 21)
    assert explorer.end_date == dt.date(2026, 1, 21)
    assert explorer._end_date.value == dt.date(2026, 1, 21)
    explorer._end_date.value = dt.date(2026, 1, 22)
    assert picker.value == dt.date(2026, 1, 22)
    text.value = "norm-rtn"
    assert explorer._descriptor.value == "norm-rtn"
    explorer._version_mode.value = "all"
    assert explorer.version_mode == "all"
    seen = []
    explorer.observe(lambda change: seen.append(change["new"]), names="data_level")
    explorer.data_level = "l1b"
    assert seen == ["l1b"]
    assert explorer._data_level.value == "l1b"


def test_explorer_rejects_bad_trait_values_with_choices():
    explorer = Explorer(url="http://127.0.0.1:9", background=False)
    with pytest.raises(traitlets.TraitError, match=r"Unknown instrument 'MAG'\. Expected one of: codice, glows"):
        explorer.instrument = "MAG"
    with pytest.raises(traitlets.TraitError, match="Unknown data level 'L2'"):
        explorer.data_level = "L2"
    with pytest.raises(traitlets.TraitError, match="Invalid date '2026-13-01'"):
        explorer.start_date = "2026-13-01"
    with pytest.raises(traitlets.TraitError, match="not in the results table"):
        explorer.selection = ("imap_mag_l2_norm-gse_20260120_v001.0001.cdf",)
    assert explorer.instrument == "mag"
    assert explorer.data_level == "l2"


# --------------------------------------------------------------------------- against the embedded SDC
def test_explorer_offers_levels_and_descriptors_from_the_archive(sdc, synthetic_archive):
    explorer = Explorer(url=sdc.url, background=False)
    explorer._refresh.click()
    assert explorer.error == ""
    held = [parse_filename(p.name) for p in synthetic_archive.rglob("imap_*.cdf")]
    mag_levels = sorted({i.data_level for i in held if i.instrument == "mag"})
    assert _option_values(explorer._data_level) == mag_levels
    explorer._data_level.value = "l2"
    mag_l2 = sorted({i.descriptor for i in held if i.instrument == "mag" and i.data_level == "l2"})
    assert _option_values(explorer._descriptor) == mag_l2
    assert "norm-gse" in mag_l2
    assert explorer.descriptor == "norm-gse"  # a normal-rate product first, not the alphabetically first burst-*
    explorer._descriptor.value = "norm-gse"
    assert "from 2026-01-20 to 2026-01-21" in explorer._status.value

    explorer._instrument.value = "swe"  # one query for the new instrument; the options follow
    swe_levels = sorted({i.data_level for i in held if i.instrument == "swe"})
    assert explorer.instrument == "swe"
    assert _option_values(explorer._data_level) == swe_levels
    assert explorer.data_level in swe_levels
    assert explorer.descriptor == "sci"

    explorer._instrument.value = "hi"
    assert "holds no files for instrument <b>hi</b>" in explorer._status.value


def test_explorer_search_download_load_quicklook(sdc, tmp_path):
    from matplotlib.figure import Figure

    explorer = Explorer(url=sdc.url, background=False)
    _pick_product(explorer)
    assert (explorer.instrument, explorer.data_level, explorer.descriptor) == ("mag", "l2", "norm-gse")
    assert explorer.start_date == explorer.end_date == DAY

    explorer._search.click()
    assert explorer.error == ""
    results = explorer.results
    assert list(results["file_name"]) == [n for n in results["file_name"] if "_norm-gse_20260120_" in n]
    assert len(results) == 1
    assert not results["downloaded"].any()
    name = results["file_name"][0]
    (label, value), = explorer._results.options
    assert value == name
    assert label.replace("\u00a0", " ").split()[1:] == ["l2", "norm-gse", "2026-01-20",
                                                                        results["version"][0], "no"]
    assert "1 file found, 0 already downloaded" in explorer._status.value

    explorer._results.value = (name,)  # the user selects the row
    assert explorer.selection == (name,)
    explorer._download.click()
    assert explorer.error == ""
    target = local_path(tmp_path / "data", results["file_path"][0])  # IMAP_DATA_DIR from the autouse fixture
    assert target.is_file()
    assert target.read_bytes()[:4] == b"\xcd\xf3\x00\x01"
    assert (explorer._progress.value, explorer._progress.max) == (1, 1)
    assert explorer._progress_label.value == "1/1 files"
    assert explorer.results["downloaded"].all()
    assert explorer._results.options[0][0].endswith("yes")
    assert explorer.selection == (name,)
    assert explorer.paths == [target]

    explorer._load.click()
    assert explorer.error == ""
    ds = explorer.dataset
    assert "epoch" in ds.coords
    assert ds.sizes["epoch"] > 0
    assert str(ds["epoch"].values[0])[:10] == "2026-01-20"
    assert any("text/html" in o["data"] or "text/plain" in o["data"] for o in explorer._output.outputs)

    explorer._quicklook.click()
    assert explorer.error == ""
    assert isinstance(explorer.figure, Figure)
    assert explorer.figure.axes
    (shown,) = explorer._output.outputs
    png = base64.b64decode(shown["data"]["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 5_000
    assert "explorer.figure" in explorer._status.value


def test_explorer_quicklook_alone_downloads_and_loads(sdc, tmp_path):
    explorer = Explorer(instrument="mag", data_level="l2", descriptor="norm-gse", start_date="2026-01-20",
                        end_date="2026-01-21", url=sdc.url, data_dir=tmp_path / "elsewhere", background=False)
    explorer._search.click()
    assert len(explorer.results) == 2
    explorer._select_all.click()
    assert explorer.selection == tuple(explorer.results["file_name"])
    explorer._quicklook.click()
    assert explorer.error == ""
    assert all(local_path(tmp_path / "elsewhere", fp).is_file() for fp in explorer.results["file_path"])
    assert not (tmp_path / "data").exists()  # the data_dir argument wins over IMAP_DATA_DIR
    days = {str(t)[:10] for t in explorer.dataset["epoch"].values[[0, -1]]}
    assert days == {"2026-01-20", "2026-01-21"}
    assert explorer.figure is not None
    explorer._select_none.click()
    assert explorer.selection == ()
    assert explorer._results.value == ()


def test_explorer_uses_the_environment_at_call_time(sdc, monkeypatch):
    explorer = Explorer(background=False)  # built before the variable is set: settings are not frozen
    monkeypatch.setenv("IMAP_DATA_ACCESS_URL", sdc.url)
    _pick_product(explorer)
    explorer._search.click()
    assert explorer.error == ""
    assert len(explorer.results) == 1


def test_explorer_says_plainly_when_nothing_matches(sdc):
    explorer = Explorer(url=sdc.url, background=False)
    _pick_product(explorer, day=dt.date(2025, 6, 1))
    explorer._search.click()
    assert explorer.error == ""
    assert "No files for this selection" in explorer._status.value
    assert "start_date=2025-06-01" in explorer._status.value
    assert explorer._results.options == ()
    assert len(explorer.results) == 0
    explorer._download.click()
    assert "No results yet" in explorer.error or "No file is selected" in explorer.error
    assert "Error:" in explorer._error.value
    assert explorer._error.layout.display is None


def test_explorer_shows_server_down_in_the_widget():
    url = f"http://127.0.0.1:{_unused_port()}"
    explorer = Explorer(url=url, background=False, descriptor="norm-gse", start_date=DAY, end_date=DAY)
    assert _option_values(explorer._descriptor) == ["norm-gse"]  # no catalog yet: the pickers show the traits
    explorer._search.click()  # asks for the catalog first, which fails (one request: the client retries)
    assert explorer.error.startswith("Searching failed: ApiError: cannot reach ")
    assert url in explorer.error
    assert url in explorer._error.value
    assert "Traceback" in explorer._error.value
    assert explorer.last_exception is not None
    assert explorer.last_exception.url.startswith(url)
    assert "failed: see the error below" in explorer._status.value
    assert not any(button.disabled for button in explorer._buttons)  # usable again


def test_explorer_shows_end_before_start(sdc):
    explorer = Explorer(url=sdc.url, background=False, start_date="2026-01-21", end_date="2026-01-20")
    explorer._search.click()
    assert "The end date 2026-01-20 is before the start date 2026-01-21" in explorer.error
    assert explorer.results is None


@pytest.fixture
def versioned_sdc(synthetic_archive, tmp_path):
    """A small private archive: MAG L2 norm-gse of 2026-01-21 in two minor versions of the same major."""
    root = tmp_path / "archive"
    (source,) = sorted(synthetic_archive.rglob("imap_mag_l2_norm-gse_20260121_*.cdf"))
    info = parse_filename(source.name)
    newer = f"imap_mag_l2_norm-gse_20260121_v{info.major_version:03d}.{info.minor_version + 1:04d}.cdf"
    for name in (source.name, newer):
        target = local_path(root, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    with LocalSDC(root, db=tmp_path / "index.sqlite3") as server:
        yield server, root, source.name, newer


def test_explorer_version_mode_newest_or_all(versioned_sdc):
    server, _, older, newer = versioned_sdc
    explorer = Explorer(url=server.url, background=False, descriptor="norm-gse", start_date="2026-01-21",
                        end_date="2026-01-21")
    explorer._search.click()
    assert list(explorer.results["file_name"]) == [newer]
    explorer._version_mode.value = "all"
    explorer._search.click()
    assert list(explorer.results["file_name"]) == [older, newer]


def test_explorer_load_of_two_versions_says_the_older_supplied_nothing(versioned_sdc):
    server, _, older, newer = versioned_sdc
    explorer = Explorer(url=server.url, background=False, descriptor="norm-gse", start_date="2026-01-21",
                        end_date="2026-01-21", version_mode="all")
    explorer._search.click()
    explorer.selection = (older, newer)
    explorer._load.click()
    assert explorer.error == ""
    assert "Loaded 2 files" in explorer._status.value
    assert f"1 older version of the same day supplied no records: {older}" in explorer._status.value


def test_explorer_download_failure_names_the_file(versioned_sdc):
    server, root, older, newer = versioned_sdc
    explorer = Explorer(url=server.url, background=False, descriptor="norm-gse", version_mode="all")
    explorer._search.click()
    assert len(explorer.results) == 2
    explorer._select_all.click()
    local_path(root, newer).unlink()  # the server lost the file after answering the query
    explorer._download.click()
    assert explorer.error.startswith("Downloading failed: DownloadError: 1 file could not be downloaded")
    assert newer in explorer.error
    assert newer in explorer._error.value
    assert explorer._progress.bar_style == "danger"
    assert explorer._progress.value == 2
    got = explorer.results.set_index("file_name")["downloaded"]
    assert not got[newer]
    assert got[older]  # the other file did arrive, and the table says so


def test_explorer_background_mode_runs_in_a_thread(sdc):
    explorer = Explorer(url=sdc.url)  # background=True is the default
    _pick_product(explorer)
    explorer.wait(60)  # the instrument's catalog, started by the first interaction
    explorer._search.click()
    assert explorer.wait(60)
    assert explorer.error == ""
    assert len(explorer.results) == 1
    assert not explorer.busy
    assert not any(button.disabled for button in explorer._buttons)


def test_explorer_model_search_marks_local_files(sdc, tmp_path):
    model = ExplorerModel(url=sdc.url, data_dir=tmp_path / "d")
    frame = model.search(**PRODUCT, start_date=DAY, end_date=DAY)
    assert list(frame.columns[-3:]) == ["file_name", "local_path", "downloaded"]
    assert not frame["downloaded"].any()
    calls = []
    paths = model.download(list(frame["file_path"]), on_file=lambda *args: calls.append(args))
    assert paths == list(frame["local_path"])
    assert len(calls) == 1
    assert calls[0][2] is None
    assert model.mark_local(frame.drop(columns=["file_name", "local_path", "downloaded"]))["downloaded"].all()
    assert isinstance(paths[0], Path)


# --------------------------------------------------------------------------- a request the archive cannot meet
def _label_of(dropdown) -> str:
    return next(label for label, value in dropdown.options if value == dropdown.value)


def test_explorer_keeps_a_descriptor_the_archive_lacks_and_says_so(sdc):
    explorer = Explorer(url=sdc.url, background=False, descriptor="norm-gsee", start_date=DAY, end_date=DAY)
    explorer._repr_mimebundle_()  # displayed: the catalog arrives
    assert explorer.error == ""
    assert (explorer.data_level, explorer.descriptor) == ("l2", "norm-gsee")  # not swapped for norm-gse
    assert explorer._descriptor.value == "norm-gsee"
    assert _label_of(explorer._descriptor) == "norm-gsee (not in archive)"
    status = explorer._status.value
    assert "The archive has no <b>mag l2 norm-gsee</b>" in status
    assert "For mag l2 it has: burst-gse, burst-rtn, norm-dsrf, norm-gse, norm-gsm, norm-rtn, norm-srf." in status
    explorer.search()  # Search looks for what was asked, and finds nothing
    assert explorer.error == ""
    assert len(explorer.results) == 0
    assert "descriptor=norm-gsee" in explorer._status.value

    explorer.descriptor = "norm-mago"  # set from code: a MAG descriptor, but not at l2
    assert (explorer.data_level, explorer.descriptor) == ("l2", "norm-mago")
    assert "The archive has no <b>mag l2 norm-mago</b>" in explorer._status.value
    assert "norm-mago is at levels l1b, l1c." in explorer._status.value
    explorer._data_level.value = "l1b"  # the user picks a level that has it: kept, and its files are counted
    assert (explorer.data_level, explorer.descriptor) == ("l1b", "norm-mago")
    assert "holds 2 files of <b>mag l1b norm-mago</b>" in explorer._status.value


def test_explorer_keeps_a_data_level_the_archive_lacks_and_says_so(sdc):
    explorer = Explorer(url=sdc.url, background=False, data_level="l3", descriptor="norm-gse")
    explorer._repr_mimebundle_()
    assert explorer.error == ""
    assert (explorer.data_level, explorer.descriptor) == ("l3", "norm-gse")  # was l2 norm-gse
    assert _label_of(explorer._data_level) == "l3 (not in archive)"
    assert "The archive has no <b>mag l3</b> files" in explorer._status.value
    assert "Its mag levels: l1b, l1c, l2." in explorer._status.value

    explorer.data_level = "l1a"  # set from code: kept too
    assert explorer.data_level == "l1a"
    assert "The archive has no <b>mag l1a</b> files" in explorer._status.value
    explorer._data_level.value = "l2"
    assert (explorer.data_level, explorer.descriptor) == ("l2", "norm-gse")
    assert "holds 2 files of <b>mag l2 norm-gse</b>" in explorer._status.value

    # After an instrument change, a level or descriptor the new instrument lacks is replaced, and named.
    explorer.instrument = "swe"
    assert (explorer.data_level, explorer.descriptor) == ("l2", "sci")
    assert "swe l2 sci" in explorer._status.value
