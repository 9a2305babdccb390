"""The local archive: ie.local_files, ie.prune, and ie.sync against the embedded SDC (real sockets)."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os

import pytest

import imap_explorer as ie
from imap_explorer.exceptions import DownloadError
from imap_explorer.filenames import local_path, sdc_key
from imap_explorer.local import LOCK_NAME, STATE_NAME, SyncLockedError, read_sync_state
from imap_explorer.server import LocalSDC
from imap_explorer.server.sample import write_sample_archive

OLD_DAY = dt.datetime(2026, 1, 2, 12, tzinfo=dt.timezone.utc).timestamp()
NEW_DAY = dt.datetime(2026, 2, 1, 12, tzinfo=dt.timezone.utc).timestamp()
#: In the SDC: v001.0001 of two days ingested on 2026-01-02, then a reprocessing (v001.0002 of both days and a
#: new day) ingested on 2026-02-01; SWE (another instrument) on 2026-02-01 too.
OLD = ("imap_mag_l2_norm-gse_20260110_v001.0001.cdf", "imap_mag_l2_norm-gse_20260111_v001.0001.cdf")
NEW = ("imap_mag_l2_norm-gse_20260110_v001.0002.cdf", "imap_mag_l2_norm-gse_20260111_v001.0002.cdf",
       "imap_mag_l2_norm-gse_20260112_v001.0001.cdf", "imap_swe_l2_sci_20260110_v001.0001.cdf")


def _ingest(root, names, when):
    for path in write_sample_archive(root, names):
        os.utime(path, (when, when))


@pytest.fixture
def sdc(tmp_path):
    root = tmp_path / "archive"
    _ingest(root, OLD, OLD_DAY)
    _ingest(root, NEW, NEW_DAY)
    with LocalSDC(root) as server, ie.set_options(url=server.url):
        yield server


def _data_dir():
    return ie.config.resolve().data_dir


def _all_files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_local_files_marks_superseded_and_prune_removes_them(tmp_path):
    data = _data_dir()
    write_sample_archive(data, OLD + NEW + ("imap_mag_l2_norm-gse_20260111_v002.cdf",))
    (data / "imap" / "mag" / "l2" / "2026" / "01" / "notes.txt").write_text("not an IMAP file")
    files = ie.local_files(instrument="mag")
    assert files["file_path"].tolist() == [sdc_key(n) for n in sorted(
        OLD[:1] + NEW[:1] + OLD[1:] + NEW[1:2] + ("imap_mag_l2_norm-gse_20260111_v002.cdf",) + NEW[2:3])]
    superseded = files.loc[files["superseded"], "file_path"].map(lambda p: p.rsplit("/", 1)[-1]).tolist()
    # v002 (legacy: major 1, minor 2) ties with v001.0002 and loses to it, as on the SDC
    assert superseded == [OLD[0], OLD[1], "imap_mag_l2_norm-gse_20260111_v002.cdf"]
    assert files["local_path"].map(lambda p: p.is_file()).all()
    assert files["start_date"].dt.day.tolist() == [10, 10, 11, 11, 11, 12]
    assert ie.local_files(instrument="mag", start_date="2026-01-12")["file_path"].tolist() == [sdc_key(NEW[2])]
    assert len(ie.local_files(instrument="swe", data_level="l2")) == 1
    dry = ie.prune(instrument="mag")
    assert len(dry) == 3
    assert not dry["removed"].any()
    assert all(p.is_file() for p in dry["local_path"])
    done = ie.prune(instrument="mag", dry_run=False)
    assert done["removed"].all()
    assert not any(p.exists() for p in done["local_path"])
    assert not ie.local_files(instrument="mag")["superseded"].any()
    assert len(ie.local_files()) == 4


def test_local_and_prune_cli(capsys):
    from imap_explorer.cli import main

    write_sample_archive(_data_dir(), OLD[:1] + NEW[:1])
    assert main(["local", "--instrument", "mag"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Found [2] files in ")
    old_line = next(line for line in out.splitlines() if OLD[0] in line)
    assert old_line.endswith("superseded")
    assert not next(line for line in out.splitlines() if NEW[0] in line).endswith("superseded")
    assert main(["prune"]) == 0
    assert "--delete" in capsys.readouterr().out
    assert main(["prune", "--delete"]) == 0
    assert capsys.readouterr().out.startswith("Removed ")
    assert _all_files(_data_dir()) == [NEW[0]]


def test_sync_downloads_what_is_new_and_says_what_it_replaced(sdc):
    data = _data_dir()
    write_sample_archive(data, OLD[:1])  # an earlier download of day 10
    new = ie.sync(instrument="mag", data_level="l2", since="2026-01-15")
    names = new["file_path"].map(lambda p: p.rsplit("/", 1)[-1]).tolist()
    assert names == list(NEW[:3])  # only what was ingested since; no SWE
    assert new["downloaded"].tolist() == [True, True, True]
    assert new["replaces"].tolist() == [[OLD[0]], [], []]
    assert all(p.is_file() for p in new["local_path"])
    state = read_sync_state(data)
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")
    assert state["mag/l2/*"] == {"last_sync": today, "since": "20260115", "files": 3}
    requests = len(sdc.storage_requests)
    again = ie.sync(instrument="mag", data_level="l2", since="2026-01-15")  # the same window: all present
    assert not again["downloaded"].any()
    assert len(sdc.storage_requests) == requests  # nothing was requested
    later = ie.sync(instrument="mag", data_level="l2")  # from the recorded state: nothing new since today
    assert len(later) == 0
    assert later.attrs["since"] == today
    # a file ingested now is picked up by the next sync from the state
    write_sample_archive(sdc.root, ("imap_mag_l2_norm-gse_20260112_v001.0002.cdf",))
    sdc.rescan()
    newest = ie.sync(instrument="mag", data_level="l2")
    assert newest["file_path"].tolist() == [sdc_key("imap_mag_l2_norm-gse_20260112_v001.0002.cdf")]
    assert newest["replaces"].tolist() == [[NEW[2]]]


def test_sync_interrupted_leaves_no_partial_file_and_resumes(sdc):
    data = _data_dir()
    gone = local_path(sdc.root, NEW[1])
    content = gone.read_bytes()
    gone.unlink()  # still indexed: its download fails midway through the sync (404 from storage)
    with pytest.raises(DownloadError, match=NEW[1]):
        ie.sync(instrument="mag", since="2026-01-15")
    assert _all_files(data) == sorted([NEW[0], NEW[2], LOCK_NAME])  # complete files only, no .part
    assert read_sync_state(data) == {}  # not advanced
    with pytest.raises(ValueError, match="No earlier sync of mag"):
        ie.sync(instrument="mag")
    gone.write_bytes(content)
    resumed = ie.sync(instrument="mag", since="2026-01-15")
    assert resumed["downloaded"].tolist() == [False, True, False]
    assert _all_files(data) == sorted([*NEW[:3], LOCK_NAME, STATE_NAME])
    assert json.loads((data / STATE_NAME).read_text())["mag/*/*"]["files"] == 3


def test_sync_refuses_while_another_runs_and_needs_an_instrument(sdc):
    data = _data_dir()
    data.mkdir(parents=True)
    with open(data / LOCK_NAME, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process's sync
        with pytest.raises(SyncLockedError, match="Another sync"):
            ie.sync(instrument="mag", since="2026-01-15")
    assert not any(data.glob("imap"))
    with pytest.raises(ValueError, match="needs an instrument"):
        ie.sync(instrument="", since="2026-01-15")


def test_sync_cli(sdc, capsys):
    from imap_explorer.cli import main

    assert main(["--url", sdc.url, "sync", "--instrument", "swe", "--since", "20260115"]) == 0
    out = capsys.readouterr().out
    assert f"downloaded {NEW[3]}" in out
    assert "1 files ingested since 20260115, 1 downloaded" in out
    assert main(["--url", sdc.url, "sync", "--instrument", "hi"]) == 1
    assert "No earlier sync of hi/*/*" in capsys.readouterr().err


def test_query_by_ingestion_date_alone_is_chunked_and_ranked_like_one_request(tmp_path, caplog):
    """sync's query (ingestion dates, no file dates) goes in windows; versions of a day spread over several
    windows are ranked again, so the answer is that of one request."""
    import logging

    root = tmp_path / "archive"
    _ingest(root, OLD, OLD_DAY)
    _ingest(root, NEW, NEW_DAY)
    _ingest(root, ("imap_mag_l2_norm-gse_20260110_v002.0001.cdf",),  # a new major version, months later
            dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc).timestamp())
    with LocalSDC(root) as server, ie.set_options(url=server.url):
        for version in ("latest", None, "v001"):  # v001: minor version 1 of the newest major
            whole = ie.query(instrument="mag", ingestion_start_date="2025-12-01", version=version, chunk_days=None)
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="imap_explorer.server"):
                chunked = ie.query(instrument="mag", ingestion_start_date="2025-12-01", version=version,
                                   chunk_days=30)
            windows = [r for r in caplog.records if "/query?" in r.getMessage()]
            assert len(windows) >= 10  # 2025-12-01 to today in 30-day windows
            assert chunked["file_path"].tolist() == whole["file_path"].tolist()
            names = [p.rsplit("/", 1)[-1] for p in chunked["file_path"]]
            if version == "latest":
                assert names == ["imap_mag_l2_norm-gse_20260110_v002.0001.cdf", NEW[1], NEW[2]]
            elif version is None:  # every minor version of the newest major
                assert names == ["imap_mag_l2_norm-gse_20260110_v002.0001.cdf", OLD[1], NEW[1], NEW[2]]
            else:
                assert names == ["imap_mag_l2_norm-gse_20260110_v002.0001.cdf", OLD[1], NEW[2]]
        # a closed range keeps its end in the last window
        closed = ie.query(instrument="mag", ingestion_start_date="2025-12-01", ingestion_end_date="2026-03-01",
                          version="latest", chunk_days=30)
        assert [p.rsplit("/", 1)[-1] for p in closed["file_path"]] == list(NEW[:3])


def test_atomic_target_keeps_the_old_file_on_failure_and_leaves_nothing_behind(tmp_path):
    from imap_explorer.local import atomic_target

    path = tmp_path / "deep" / "state.json"
    with atomic_target(path) as tmp:
        assert tmp.name == "state.json"  # the same name (and suffix), written elsewhere
        assert tmp.parent != path.parent
        tmp.write_text("old")
    assert path.read_text() == "old"

    def cut_short():
        with atomic_target(path) as tmp:
            tmp.write_text("new, cut")
            raise RuntimeError("failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        cut_short()
    assert path.read_text() == "old"
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]
