"""The I-ALiRT quick-look and live Monitor, driven against the embedded server in live mode with a test clock."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import imap_explorer as ie
from imap_explorer import _http
from imap_explorer.server import LocalSDC

pytest.importorskip("ipywidgets")

#: The wall clock of the live server in these tests (it maps to 11:30 on the stream's first day).
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc).timestamp()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A live LocalSDC over one synthetic I-ALiRT day; its clock (and the Monitors') is ``clock[0]``."""
    from imap_explorer.synthetic.ialirt import write_ialirt_day
    from imap_explorer.synthetic.physics import SolarWind

    root = tmp_path_factory.mktemp("ialirt-live")
    write_ialirt_day(root / "archive", "2026-02-10", model=SolarWind("2026-02-10", 5))
    clock = [NOON]
    with LocalSDC(root / "archive", db=root / "db.sqlite3", ialirt_live=True) as sdc:
        sdc.state.ialirt.clock = lambda: clock[0]
        yield sdc, clock


@pytest.fixture
def live(live_server, monkeypatch):
    sdc, clock = live_server
    clock[0] = NOON
    monkeypatch.setenv("IALIRT_DATA_ACCESS_URL", sdc.url)
    monkeypatch.setattr(_http, "BACKOFF", 0.01)
    return sdc, clock


def test_monitor_polls_only_what_is_new_and_shows_it(live):
    sdc, clock = live
    monitor = ie.ialirt.Monitor(hours=1, refresh=3600, start=False, clock=lambda: clock[0])
    assert monitor.update() > 1000
    assert monitor.error == ""
    first_newest, first_count = monitor.newest, monitor.n_records
    assert "2026-12-03T11:5" in first_newest                        # a minute or three behind "now"
    assert monitor._image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert " ago<" in monitor._latest.value
    assert "|B|" in monitor._latest.value
    assert monitor.model.last_query[0] == "2026-12-03T11:00:00"
    clock[0] += 300
    new = monitor.update()
    assert new > 50
    assert monitor.newest > first_newest
    start = dt.datetime.fromisoformat(monitor.model.last_query[0])
    assert start == dt.datetime.fromisoformat(first_newest) - dt.timedelta(minutes=10)   # cursor - overlap
    assert monitor.n_records <= first_count + new
    # the span picker asks for the whole new span; thresholds are traits
    monitor._span.value = 3.0
    assert monitor.hours == 3.0
    assert monitor.model.cursor is None
    monitor.speed_threshold = 300.0
    monitor.update()
    assert any(a.startswith("high-speed wind") for a in monitor.alerts)
    assert monitor.n_records > first_count * 2


def test_monitor_alerts_stale_data_and_errors(live, monkeypatch):
    sdc, clock = live
    monitor = ie.ialirt.Monitor(hours=1, refresh=3600, start=False, clock=lambda: clock[0])
    monitor.bz_threshold = 50.0                                     # every Bz is "below": the alert must fire
    monitor.update()
    assert any(a.startswith("southward Bz") for a in monitor.alerts)
    assert not any(a.startswith("stale") for a in monitor.alerts)
    monkeypatch.setenv("IALIRT_DATA_ACCESS_URL", "http://127.0.0.1:9")  # nothing listens there
    monitor.update()
    assert "cannot reach" in monitor.error
    assert monitor._error.layout.border == "2px solid #d00"                 # the red box
    assert "cannot reach" in monitor._error.value
    monkeypatch.setenv("IALIRT_DATA_ACCESS_URL", sdc.url)
    clock[0] += 40 * 60                                             # the stream says nothing for 40 min? no: it moves
    monitor.stale_minutes = 0.5
    monitor.update()
    assert monitor.error == ""
    assert monitor._error.value == ""
    assert any(a.startswith("stale: ") for a in monitor.alerts)     # records are 1-3 min late: > 30 s is stale


def test_monitor_background_loop_pause_and_resume(live):
    import time

    sdc, clock = live
    monitor = ie.ialirt.Monitor(hours=1, refresh=0.2, clock=lambda: clock[0])
    try:
        deadline = time.monotonic() + 60
        while monitor.n_records == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert monitor.n_records > 0
        monitor._pause.value = True
        assert monitor.paused
        assert monitor._pause.description == "Resume"
        time.sleep(0.5)                                            # let a running update finish
        seen = monitor.model.last_query
        clock[0] += 120
        time.sleep(0.6)
        assert monitor.model.last_query == seen                    # paused: no poll
        monitor._pause.value = False
        deadline = time.monotonic() + 60
        while monitor.model.last_query == seen and time.monotonic() < deadline:
            time.sleep(0.1)
        assert monitor.model.last_query != seen
    finally:
        monitor.close()


def test_quicklook_of_a_space_weather_frame_and_an_archive_dataset(live, tmp_path):
    sdc, clock = live
    df = ie.ialirt.space_weather(time_utc_start="2026-12-03T11:00", time_utc_end="2026-12-03T11:55")
    fig = ie.quicklook(df)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel() and ax.get_ylabel() != "counts"]
    assert labels == ["B GSM [nT]", "V [km/s]", "n [cm$^{-3}$]", "T [K]", "SWE e$^-$ [eV]", "HIT [counts/min]"]
    assert fig.axes[3].get_yscale() == "log"
    bz = [line for line in fig.axes[0].lines if line.get_label() == "Bz GSM"][0]
    assert bz.full_t.size == (df.instrument == "mag").sum()             # all records kept, decimated for drawing
    path = next(sdc.root.rglob("*.cdf"))
    ds = ie.load(path)
    fig2 = ie.quicklook(ds, time_range=("2026-02-10T11:00", "2026-02-10T13:00"))
    speed = fig2.axes[1].lines[0]
    t = np.asarray(speed.full_t)
    assert t.min() >= np.datetime64("2026-02-10T11:00", "ns").astype(np.int64)
    assert np.nanmax(speed.full_y) - np.nanmin(speed.full_y) > 100       # the shock at 12:00
    fig2.savefig(tmp_path / "ql.png")
