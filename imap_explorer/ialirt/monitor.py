"""``ie.ialirt.Monitor``: a live I-ALiRT monitor in Jupyter (ipywidgets), and ``imap-explorer monitor`` (Voilà).

A pure :class:`MonitorModel` keeps the records of the last ``hours`` and knows what to ask next: the first poll asks
for the whole span, later polls only for what is new since the newest record, from ``overlap`` minutes before it
(late arrivals), merging on (``instrument``, ``time_utc``) with later copies winning. It derives the latest value of
each quantity with its age, stale instruments, and the threshold alerts (pure functions of the records).

:class:`Monitor` is the thin ipywidgets view: pause/resume, a time-span picker, "refresh now", the latest values,
alerts, a red box for errors, and the summary figure (:mod:`imap_explorer.ialirt.plot`) as a PNG. It polls in a
background thread every ``refresh`` seconds, so the notebook stays responsive.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import traitlets
from ipywidgets import widgets

__all__ = ["Monitor", "MonitorModel", "alerts", "latest_values", "run_monitor"]

#: Instruments the monitor follows.
MONITORED = ("mag", "swapi", "swe", "hit")
#: The quantities shown in the "latest" table: (instrument, column, label, unit, format).
LATEST = (
    ("mag", "mag_B_magnitude", "|B|", "nT", "{:.1f}"),
    ("mag", "mag_B_GSM_z", "Bz GSM", "nT", "{:+.1f}"),
    ("swapi", "swapi_pseudo_proton_speed", "speed", "km/s", "{:.0f}"),
    ("swapi", "swapi_pseudo_proton_density", "density", "cm⁻³", "{:.1f}"),
    ("swapi", "swapi_pseudo_proton_temperature", "temperature", "K", "{:.3g}"),
    ("swe", "swe_normalized_counts_270eV", "SWE 270 eV", "counts", "{:.3g}"),
    ("hit", "hit_h_omni_low_en", "HIT H 6-8 MeV", "counts/min", "{:.0f}"),
)
_NS = 1_000_000_000


def _age(seconds: float) -> str:
    """A short age.

    Examples
    --------
    >>> _age(12.4), _age(125), _age(7300)
    ('12 s ago', '2 min ago', '2.0 h ago')
    """
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def latest_values(df, now_ns: int) -> list[dict[str, Any]]:
    """Latest finite value of each :data:`LATEST` quantity: ``label, value, unit, epoch, age_s`` (None if none)."""
    out = []
    # on the columns' arrays: selecting rows of the whole frame per quantity cost a tenth of a Monitor refresh
    instruments = df["instrument"].to_numpy() if len(df) else None
    epochs = df["epoch"].to_numpy("datetime64[ns]") if len(df) else None
    for inst, col, label, unit, fmt in LATEST:
        item = {"label": label, "unit": unit, "value": None, "text": "–", "epoch": None, "age_s": None}
        if instruments is not None and col in df:
            rows = (instruments == inst) & df[col].notna().to_numpy()
            if rows.any():
                where = np.flatnonzero(rows)
                last = where[int(np.argmax(epochs[where]))]
                epoch = epochs[last]
                value = float(df[col].iloc[last])
                item.update(value=value, text=fmt.format(value), epoch=epoch,
                            age_s=(now_ns - int(epoch.astype(np.int64))) / 1e9)
        out.append(item)
    return out


def alerts(df, *, bz_threshold: float, bz_minutes: float, speed_threshold: float, hit_jump_factor: float,
           stale_minutes: float, now_ns: int) -> list[str]:
    """The alerts a forecaster would set, as messages (empty when all is quiet).

    * southward Bz: every GSM Bz below ``bz_threshold`` for the last ``bz_minutes`` (with data covering them);
    * high speed: the latest SWAPI speed above ``speed_threshold``;
    * HIT proton jump: the mean 6-8 MeV rate of the last 10 minutes over ``hit_jump_factor`` times the hour before;
    * stale: an instrument silent for ``stale_minutes`` (or never heard from).
    """
    messages = []
    if not len(df):
        return [f"no data from {', '.join(MONITORED)}"]
    t = df["epoch"].to_numpy("datetime64[ns]").astype(np.int64)
    mag = (df["instrument"] == "mag").to_numpy()
    if mag.any() and "mag_B_GSM_z" in df:
        window = mag & (t >= now_ns - int(bz_minutes * 60 * _NS))
        bz = df["mag_B_GSM_z"].to_numpy()[window]
        covered = window.any() and t[window].min() <= now_ns - int(0.8 * bz_minutes * 60 * _NS)
        if covered and bz.size and np.all(bz[np.isfinite(bz)] < bz_threshold) and np.isfinite(bz).any():
            messages.append(f"southward Bz: below {bz_threshold:g} nT for the last {bz_minutes:g} min "
                            f"(now {bz[np.isfinite(bz)][-1]:+.1f} nT)")
    swapi = (df["instrument"] == "swapi").to_numpy()
    if swapi.any() and "swapi_pseudo_proton_speed" in df:
        v = df["swapi_pseudo_proton_speed"].to_numpy()[swapi]
        ok = np.isfinite(v)
        if ok.any() and v[ok][np.argmax(t[swapi][ok])] > speed_threshold:
            messages.append(f"high-speed wind: {v[ok][np.argmax(t[swapi][ok])]:.0f} km/s > {speed_threshold:g} km/s")
    hit = (df["instrument"] == "hit").to_numpy()
    if hit.any() and "hit_h_omni_low_en" in df:
        h, th = df["hit_h_omni_low_en"].to_numpy()[hit], t[hit]
        last_t = th.max()
        recent = h[th > last_t - 10 * 60 * _NS]
        before = h[(th <= last_t - 10 * 60 * _NS) & (th > last_t - 70 * 60 * _NS)]
        if recent.size and before.size and np.nanmean(recent) > hit_jump_factor * max(np.nanmean(before), 1.0):
            messages.append(f"HIT protons 6-8 MeV jumped: {np.nanmean(recent):.0f} vs {np.nanmean(before):.0f} "
                            "counts/min in the hour before")
    for inst in MONITORED:
        rows = (df["instrument"] == inst).to_numpy()
        if not rows.any():
            messages.append(f"stale: no {inst} data in the span")
        elif now_ns - t[rows].max() > stale_minutes * 60 * _NS:
            messages.append(f"stale: {inst} silent for {_age((now_ns - t[rows].max()) / 1e9)[:-4]}")
    return messages


class MonitorModel:
    """What the monitor knows and asks for; no widgets (tests drive it directly).

    Parameters
    ----------
    hours : float
        Span kept and shown.
    overlap : float, default 10
        Minutes re-asked before the newest record on each poll (late arrivals).
    fetch : callable, optional
        ``fetch(instrument=..., time_utc_start=..., time_utc_end=...) -> list of records``; default
        :func:`imap_explorer.ialirt.client.fetch_records`.
    clock : callable, default time.time
    """

    def __init__(self, hours: float = 6.0, *, overlap: float = 10.0, fetch: Callable[..., list] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.hours, self.overlap, self.clock = float(hours), float(overlap), clock
        if fetch is None:
            from imap_explorer.ialirt.client import fetch_records as fetch
        self._fetch = fetch
        self.records: dict[tuple[str, str], dict] = {}
        self.cursor: str | None = None  # newest time_utc seen
        self.last_query: tuple[str, str] | None = None

    def now(self) -> dt.datetime:
        """The clock's UTC time, whole seconds, naive."""
        return dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).replace(tzinfo=None, microsecond=0)

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The span the next poll asks for: the whole span first, then from ``overlap`` before the newest record."""
        now = self.now()
        start = now - dt.timedelta(hours=self.hours)
        if self.cursor is not None:
            start = max(start, dt.datetime.fromisoformat(self.cursor) - dt.timedelta(minutes=self.overlap))
        return start, now + dt.timedelta(minutes=1)

    def poll(self) -> int:
        """Ask for what is new; merge; forget records older than the span. Return the number of new records."""
        start, end = self.window()
        self.last_query = (start.isoformat(), end.isoformat())
        fresh = self._fetch(instrument=list(MONITORED), time_utc_start=start, time_utc_end=end)
        new = 0
        for r in fresh:
            key = (r.get("instrument"), r.get("time_utc"))
            new += key not in self.records
            self.records[key] = r
        if self.records:
            self.cursor = max(t for _, t in self.records)
        oldest = (self.now() - dt.timedelta(hours=self.hours)).isoformat()
        for key in [k for k in self.records if k[1] < oldest]:
            del self.records[key]
        return new

    def frame(self):
        """The records held, as a :func:`~imap_explorer.ialirt.records_to_frame` DataFrame."""
        from imap_explorer.ialirt.frame import records_to_frame

        return records_to_frame(list(self.records.values()))


class Monitor(widgets.VBox):
    """A live I-ALiRT monitor: stacked panels, latest values with their age, alerts, stale warnings.

    Parameters
    ----------
    hours : float, default 6
        Time span shown (also a picker in the widget).
    refresh : float, default 60
        Seconds between background polls.
    start : bool, default True
        Poll at once and keep polling in the background.

    Examples
    --------
    >>> import imap_explorer as ie
    >>> monitor = ie.ialirt.Monitor(hours=6, refresh=60)  # doctest: +SKIP
    >>> monitor.speed_threshold = 550                       # doctest: +SKIP
    """

    hours = traitlets.Float(6.0)
    refresh = traitlets.Float(60.0)
    paused = traitlets.Bool(False)
    #: Alert thresholds (a forecaster's choices).
    bz_threshold = traitlets.Float(-10.0)
    bz_minutes = traitlets.Float(15.0)
    speed_threshold = traitlets.Float(600.0)
    hit_jump_factor = traitlets.Float(10.0)
    stale_minutes = traitlets.Float(15.0)
    #: Current alert messages and the last error ('' when none).
    alerts = traitlets.List(traitlets.Unicode())
    error = traitlets.Unicode("")
    #: Number of records held and the newest record's time_utc.
    n_records = traitlets.Int(0)
    newest = traitlets.Unicode("")

    def __init__(self, hours: float = 6.0, refresh: float = 60.0, *, start: bool = True,
                 fetch: Callable[..., list] | None = None, clock: Callable[[], float] = time.time,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hours, self.refresh = float(hours), float(refresh)
        self.model = MonitorModel(hours, fetch=fetch, clock=clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._figure = None
        self._pause = widgets.ToggleButton(value=False, description="Pause", icon="pause",
                                           tooltip="stop polling (resume to catch up)")
        spans = [1.0, 3.0, 6.0, 12.0, 24.0]
        self._span = widgets.Dropdown(options=[(f"{h:g} h", h) for h in sorted({*spans, self.hours})],
                                      value=self.hours, description="span", layout={"width": "150px"})
        self._refresh_now = widgets.Button(description="Refresh now", icon="refresh")
        self._status = widgets.Label("starting ...")
        self._latest = widgets.HTML()
        self._alerts = widgets.HTML()
        self._error = widgets.HTML(layout={"border": "0px"})
        self._image = widgets.Image(format="png", layout={"width": "100%", "max_width": "1000px"})
        for w, name in ((self, "ie-monitor"), (self._status, "ie-monitor-status"), (self._latest, "ie-monitor-latest"),
                        (self._alerts, "ie-monitor-alerts"), (self._error, "ie-monitor-error"),
                        (self._image, "ie-monitor-figure"), (self._pause, "ie-monitor-pause"),
                        (self._refresh_now, "ie-monitor-refresh")):
            w.add_class(name)
        self._pause.observe(self._on_pause_change, names="value")
        self._span.observe(self._on_span_change, names="value")
        self._refresh_now.on_click(lambda _: self._wake.set())
        bar = widgets.HBox([self._pause, self._span, self._refresh_now, self._status])
        self.children = [widgets.HTML("<b>I-ALiRT live monitor</b>"), bar, self._error, self._latest, self._alerts,
                         self._image]
        if start:
            self.start()

    # ------------------------------------------------------------------ the loop
    def start(self) -> None:
        """Poll now and then every ``refresh`` seconds in a background thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="ialirt-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background polling (the figure stays)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def close(self) -> None:
        """Stop polling and close the widget."""
        self.stop()
        super().close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.paused:
                self.update()
            self._wake.wait(self.refresh)
            self._wake.clear()

    def update(self) -> int:
        """One refresh: poll for new records, recompute the latest values and alerts, redraw. Return new records."""
        with self._lock:
            try:
                self._status.value = "polling ..."
                new = self.model.poll()
                self.redraw()
                self.error = ""
                self._error.value = ""
                self._error.layout.border = "0px"
                return new
            except Exception as err:  # shown in the red box; the next poll tries again
                self.error = f"{type(err).__name__}: {err}"
                self._error.value = (f"<div style='color:#a00;padding:4px'>{html.escape(self.error)}</div>")
                self._error.layout.border = "2px solid #d00"
                self._status.value = f"error at {self.model.now():%H:%M:%S} UTC; retrying in {self.refresh:g} s"
                return 0

    def redraw(self) -> None:
        """Rebuild the table, alerts and figure from the records held."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from imap_explorer.ialirt.plot import draw, series_of

        df = self.model.frame()
        now = self.model.now()
        now_ns = int(np.datetime64(now, "ns").astype(np.int64))
        self.n_records = len(self.model.records)
        self.newest = self.model.cursor or ""
        rows = []
        for item in latest_values(df, now_ns):
            age = _age(item["age_s"]) if item["age_s"] is not None else "no data"
            rows.append(f"<tr><td>{item['label']}</td><td style='text-align:right'><b>{item['text']}</b></td>"
                        f"<td>{item['unit']}</td><td style='color:#666'>{age}</td></tr>")
        self._latest.value = "<table style='font-size:90%'>" + "".join(rows) + "</table>"
        self.alerts = alerts(df, bz_threshold=self.bz_threshold, bz_minutes=self.bz_minutes,
                             speed_threshold=self.speed_threshold, hit_jump_factor=self.hit_jump_factor,
                             stale_minutes=self.stale_minutes, now_ns=now_ns)
        self._alerts.value = "".join(f"<div style='color:#b35900'>⚠ {html.escape(a)}</div>" for a in self.alerts)
        if self._figure is None:
            # a fixed layout: constrained layout would re-measure every tick label on each refresh (~1 s)
            self._figure = Figure(figsize=(10, 8.5))
            FigureCanvasAgg(self._figure)
        lo = now - dt.timedelta(hours=self.model.hours)
        series = series_of(df)
        if series.data:
            draw(self._figure, series, time_range=(np.datetime64(lo), np.datetime64(now)),
                 title=f"I-ALiRT, last {self.model.hours:g} h to {now:%Y-%m-%d %H:%M:%S} UTC")
            buf = io.BytesIO()
            self._figure.savefig(buf, format="png", dpi=80)
            self._image.value = buf.getvalue()
        self._status.value = (f"{self.n_records} records, newest {self.newest or '–'}; "
                              f"updated {now:%H:%M:%S} UTC")

    # ------------------------------------------------------------------ handlers
    def _on_pause_change(self, change: dict) -> None:
        self.paused = bool(change["new"])
        self._pause.description = "Resume" if self.paused else "Pause"
        self._pause.icon = "play" if self.paused else "pause"
        if not self.paused:
            self._wake.set()

    def _on_span_change(self, change: dict) -> None:
        self.hours = float(change["new"])
        self.model.hours = self.hours
        self.model.cursor = None  # ask for the whole new span
        self._wake.set()


def run_monitor(args: Any) -> int:
    """``imap-explorer monitor``: serve ``app/monitor.ipynb`` with Voilà (blocking)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    try:
        import voila  # noqa: F401
    except ImportError as err:
        from imap_explorer.exceptions import ConfigurationError

        raise ConfigurationError("The monitor runs with Voilà, which is not installed: pip install voila ipykernel") \
            from err
    notebook = Path(__file__).resolve().parents[1] / "app" / "monitor.ipynb"
    env = dict(os.environ, IMAP_EXPLORER_MONITOR_HOURS=str(args.hours),
               IMAP_EXPLORER_MONITOR_REFRESH=str(args.refresh))
    if getattr(args, "ialirt_url", None):
        env["IALIRT_DATA_ACCESS_URL"] = args.ialirt_url
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--port={args.port}", "--Voila.ip=127.0.0.1"]
    if args.no_browser:
        cmd.append("--no-browser")
    print(f"I-ALiRT monitor at http://127.0.0.1:{args.port}/ (Ctrl-C to stop)", flush=True)
    import signal
    import threading

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM stop the app (also when started in the background, where SIGINT comes ignored)
    stops = (signal.SIGINT, signal.SIGTERM) if threading.current_thread() is threading.main_thread() else ()
    previous = {signum: signal.signal(signum, interrupt) for signum in stops}
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Voila would ask for a confirmation on Ctrl-C: stop it (and its kernel) instead
        for signum in stops:
            signal.signal(signum, signal.SIG_IGN)
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
