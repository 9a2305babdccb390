"""The emulated I-ALiRT API (``ialirt-api.md`` §2-§8), answered on the same port as the SDC emulator.

Routes: ``/space-weather`` (public, ``/api-key``, ``/authorized``), ``/ialirt-archive-query``, ``/ialirt-log-query``,
``/ialirt-packet-query`` (public only) and ``GET|HEAD /ialirt-download/{filetype}/{filename}`` (all prefixes).

The records come from the archive's daily I-ALiRT CDFs (``imap/ialirt/l1/YYYY/MM/imap_ialirt_l1_realtime_*.cdf``):
each row becomes the JSON item the real ingest stores (``time_utc`` and ``ttj2000ns`` from the epoch and the fixed
offsets of :mod:`imap_explorer.synthetic.ialirt`, ``kernel_set_key`` of the ingest run a minute later), encoded as
the server's ``DecimalEncoder`` does. ``spice`` and ``ancillary`` items (one per ingest run, every minute) and
``mag_hk`` (one per MAG record) are derived. A day's records are built on first use and kept.

Live mode (``imap-explorer serve --live``) shifts the whole stream by whole seconds so that
:data:`LIVE_LEAD_HOURS` after its first midnight is the moment the server started, and each record becomes visible
only 1-3 minutes after its ``ttj2000ns`` (now and then 7 minutes: a batch's first MAG vector comes with the next
ingest run), so records appear as time passes, late and sometimes out of order.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from imap_explorer._time import datetime64_to_tt2000, tt2000_to_datetime64
from imap_explorer.ialirt._schema import FIELDS, HIT_RESTRICTED, PUBLIC_CUTOFF, SCIENCE, SIZE_LIMIT
from imap_explorer.server._types import Request, Response

__all__ = ["LIVE_LEAD_HOURS", "IalirtService", "decimal_value", "item_size"]

#: In live mode, the wall clock at start maps to this many hours after the stream's first midnight (just before
#: the synthetic shock at 12:00).
LIVE_LEAD_HOURS = 11.5
#: Days after its data day that an archive CDF is published (§8).
ARCHIVE_DELAY_DAYS = 7
#: Scopes that see HK, ``spacecraft_status`` and the restricted HIT fields (§4.4).
PRIVILEGED_SCOPES = frozenset({"read", "full"})
#: The one-hour default window (§4.2).
DEFAULT_WINDOW = dt.timedelta(hours=1)

_PARAMETERS = {"instrument", "time_utc_start", "time_utc_end", "met_in_utc_start", "met_in_utc_end"}
_JSON = {"Content-Type": "application/json"}
_NS = 1_000_000_000
_FMT = "%Y-%m-%dT%H:%M:%S"
_FILETYPES = ("logs", "packets", "archive", "coverage", "realtime")
SIZE_LIMIT_TEXT = ("Your request for '{instrument}' returned more data than allowed in a single query. "
                   "Please reduce the time window or filter further.")
_GATEWAY_ERROR = b'{"message":"Internal Server Error"}'
_KERNELS = {"leapseconds": "naif0012.tls", "spacecraft_clock": "imap_sclk_0162.tsc",
            "planetary_ephemeris": "de440.bsp", "planetary_constants": "pck00011.tpc",
            "imap_frames": "imap_130.tf", "science_frames": "imap_science_120.tf",
            "ephemeris_predicted": "imap_pred_od004_20251002_20251113_v01.bsp",
            "ephemeris_90days": "imap_90days_20260101_20260401_v01.bsp"}
_ANCILLARY = {"mag_ialirt-calibration": "imap_mag_ialirt-calibration_20260101_v001.cdf",
              "mag_l1b-calibration": "imap_mag_l1b-calibration_20260101_v002.cdf",
              "swe_l1b-in-flight-cal": "imap_swe_l1b-in-flight-cal_20260101_v001.csv",
              "codice_l1a-sci-lut": "imap_codice_l1a-sci-lut_20260101_v001.json",
              "codice_l2-hi-ialirt-efficiency": "imap_codice_l2-hi-ialirt-efficiency_20260101_v001.csv",
              "swapi_esa-unit-conversion": "imap_swapi_esa-unit-conversion_20260101_v001.csv"}


# ---------------------------------------------------------------------------------------------- encoding (§4.7)
def decimal_value(x: float) -> int | float | None:
    """What ``DecimalEncoder`` sends for a stored number: integral -> int, else rounded to 3 decimals; NaN -> None.

    Examples
    --------
    >>> decimal_value(59.0), decimal_value(1248545.6723456), decimal_value(float("nan"))
    (59, 1248545.672, None)
    """
    if x != x:
        return None
    if float(x).is_integer():
        return int(x)
    return round(float(x), 3)


def item_size(item: Any, name: str = "") -> int:
    """DynamoDB's size of a stored item (§4.5): names + values (numbers ~1 B per 2 digits + 1).

    Examples
    --------
    >>> item_size({"a": 1, "bb": [1.5, 2]})
    14
    """
    if isinstance(item, dict):
        return len(name) + (3 if name else 0) + sum(item_size(v, k) + (0 if name == "" else 1)
                                                    for k, v in item.items())
    if isinstance(item, list):
        return len(name) + 3 + sum(item_size(v) + 1 for v in item)
    if isinstance(item, str):
        return len(name) + len(item.encode())
    if item is None or isinstance(item, bool):
        return len(name) + 1
    digits = len(repr(item).replace("-", "").replace(".", "").lstrip("0")) or 1
    return len(name) + (digits + 1) // 2 + 1


_INTEGRAL = re.compile(rb"(?<=[\[ :-])(\d+)\.0(?=[,\]}])")


def _encode(item: dict[str, Any]) -> bytes:
    """``json.dumps`` as ``DecimalEncoder`` would: NaN -> null, integral floats -> ints (values pre-rounded)."""
    return _INTEGRAL.sub(rb"\1", json.dumps(item).replace("NaN", "null").encode())


def _py(values: np.ndarray, digits: int = 3) -> list[Any]:
    """Python values of a stored field, rounded as stored (floats) or as they are (ints)."""
    if values.dtype.kind == "f":
        return np.round(values, digits).tolist()
    return values.tolist()


def _fmt(ns: np.ndarray) -> np.ndarray:
    """UTC nanoseconds (datetime64) floored to the second, as ``YYYY-MM-DDTHH:MM:SS`` strings."""
    return np.datetime_as_string(np.asarray(ns, dtype="datetime64[ns]").astype("datetime64[s]"), unit="s")


# ---------------------------------------------------------------------------------------------- one day's table
@dataclass
class _Table:
    """One partition's records of one archive day, ready to answer windows."""

    time_utc: np.ndarray        # sorted strings
    ttj: np.ndarray             # int64 (shifted in live mode)
    public: list[bytes]         # encoded items as a public caller gets them
    keyed: list[bytes]          # encoded items as a read/full caller gets them
    sizes: np.ndarray           # stored item size of each record
    delay: np.ndarray           # ns between ttj2000ns and the moment the record becomes visible (live mode)


def _offsets() -> tuple[dict[str, float], tuple[float, ...]]:
    from imap_explorer.synthetic.ialirt import CODICE_HI_SUBEPOCH_S, EPOCH_OFFSET_S

    return EPOCH_OFFSET_S, CODICE_HI_SUBEPOCH_S


def _read_day(path: Path) -> dict[str, dict[str, np.ndarray]]:
    import cdflib

    cdf = cdflib.CDF(str(path))
    names = set(cdf.cdf_info().zVariables)
    epochs = {"mag": "mag_epoch", "swapi": "swapi_epoch", "swe": "swe_epoch", "hit": "hit_epoch",
              "codice_lo": "codice_lo_epoch", "codice_hi": "codice_hi_epoch", "spacecraft": "ephemeris_epoch"}
    out: dict[str, dict[str, np.ndarray]] = {}
    for inst, epoch in epochs.items():
        n = cdf.varinq(epoch).Last_Rec + 1 if epoch in names else 0
        fields: dict[str, np.ndarray] = {"epoch": np.asarray(cdf.varget(epoch), dtype=np.int64) if n > 0
                                         else np.zeros(0, np.int64)}
        for name in FIELDS[inst]:
            if name in names and n > 0:
                values = np.asarray(cdf.varget(name))
                if values.dtype.kind == "f":
                    values = np.where(values < -1e30, np.nan, values.astype(np.float64))
                fields[name] = values
        out[inst] = fields
    return out


def _restricted_hit(fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The six keyed HIT rates (not archived): derived from the public ones, 0 when quiet."""
    a, b, h = fields["hit_e_a_side_med_en"], fields["hit_e_b_side_med_en"], fields["hit_h_omni_med_en"]
    return {"hit_e_a_side_low_en": np.rint(a * 1.3), "hit_e_b_side_low_en": np.rint(b * 1.3),
            "hit_e_a_side_high_en": np.floor(np.maximum(a - 58, 0) * 0.1),
            "hit_e_b_side_high_en": np.floor(np.maximum(b - 56, 0) * 0.1),
            "hit_h_a_side_high_en": np.floor(h * 0.01), "hit_h_b_side_high_en": np.floor(h * 0.01)}


def _kernel_keys(ttj: np.ndarray) -> np.ndarray:
    """``kernel_set_key`` of the ingest run that stored a record: the next minute, 5 s past."""
    utc = tt2000_to_datetime64(ttj).astype("datetime64[m]") + np.timedelta64(1, "m")
    return _fmt(utc.astype("datetime64[ns]") + np.timedelta64(5, "s"))


def _delays(ttj: np.ndarray, inst: str) -> np.ndarray:
    """Ingest latency of each record (ns): 60-180 s, a tenth of MAG records 7 min (filled by the next run)."""
    h = (ttj // _NS * 2654435761 + len(inst) * 97) % 1_000_003
    delay = 60 + (h % 121)
    if inst == "mag":
        delay = np.where(h % 10 == 0, 420, delay)
    return delay.astype(np.int64) * _NS


def _build(day: dict[str, dict[str, np.ndarray]], inst: str, shift: int) -> _Table:
    offsets, sub = _offsets()
    f = day["mag" if inst == "mag_hk" else inst]
    if inst == "codice_hi":
        epoch = f["epoch"].reshape(-1, 4)
        ttj = epoch[:, 1] - int(sub[1] * _NS)
    elif inst == "mag_hk":
        epoch = f["epoch"]
        ttj = epoch - int(offsets["mag"] * _NS)
    else:
        epoch = f["epoch"]
        ttj = epoch - int(offsets.get(inst, 0.0) * _NS)
    ttj = ttj + shift
    epoch = epoch + shift
    time_utc = _fmt(tt2000_to_datetime64(ttj))
    keys = _kernel_keys(ttj)
    n = ttj.size
    extra = _restricted_hit(f) if inst == "hit" and n else {}
    public, keyed, sizes = [], [], np.zeros(n, dtype=np.int64)
    columns = {}
    if inst not in ("mag_hk", "codice_hi"):
        for name in FIELDS[inst]:
            values = extra[name] if name in extra else f.get(name)
            columns[name] = [None] * n if values is None else _py(values)
    if inst == "codice_hi":
        h = _py(f["codice_hi_h"].reshape(n, 4, 15, 4, 4)) if n else []
    ttj_py, epoch_py, time_py, keys_py = ttj.tolist(), epoch.tolist(), time_utc.tolist(), keys.tolist()
    for i in range(n):
        item: dict[str, Any] = {"instrument": inst, "time_utc": time_py[i]}
        if inst == "mag_hk":
            temp = 2400 + int(ttj_py[i] // (600 * _NS)) % 30
            item["kernel_set_key"] = keys_py[i]
            item["mag_hk_status"] = {**dict.fromkeys(_HK_BOOLS, False), "pri_isvalid": True, "sec_isvalid": True,
                                     "mode": 2, "icu_temp": temp, "hk3v3": 2835, "hk3v3_current": 120,
                                     "hkn8v5": 3050, "hkn8v5_current": 95, "fob_temp": temp - 10,
                                     "fib_temp": temp - 1, "fob_range": 3, "fib_range": 3}
        else:
            item["ttj2000ns"] = ttj_py[i]
            if inst == "codice_hi":
                item["codice_hi_epoch"] = epoch_py[i]
                item["codice_hi_h"] = h[i]
            elif inst != "spacecraft":
                item[f"{inst}_epoch"] = epoch_py[i]
            for name, values in columns.items():
                item[name] = values[i]
            if inst != "spacecraft":
                item["kernel_set_key"] = keys_py[i]
        full = _encode(item)
        sizes[i] = item_size(item)  # counted before the HIT filter, as DynamoDB reads the whole item
        keyed.append(full)
        if inst == "hit":
            for name in HIT_RESTRICTED:
                item.pop(name, None)
            full = _encode(item)
        public.append(full)
    order = np.argsort(time_utc, kind="stable")
    if not np.all(order == np.arange(n)):
        time_utc, ttj, sizes = time_utc[order], ttj[order], sizes[order]
        public, keyed = [public[i] for i in order], [keyed[i] for i in order]
    return _Table(time_utc, ttj, public, keyed, sizes, _delays(ttj, inst))


_HK_BOOLS = ("hk1v5_warn", "hk1v5_danger", "hk1v5c_warn", "hk1v5c_danger", "hk1v8_warn", "hk1v8_danger",
             "hk1v8c_warn", "hk1v8c_danger", "fob_saturated", "fib_saturated", "hk2v5_warn", "hk2v5_danger",
             "hk2v5c_warn", "hk2v5c_danger", "pri_isvalid", "hkp8v5_warn", "hkp8v5_danger", "hkp8v5c_warn",
             "hkp8v5c_danger", "multbit_errs", "sec_isvalid")


class _TooBig(Exception):
    def __init__(self, instrument: str) -> None:
        super().__init__(instrument)
        self.instrument = instrument


class _Reply(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _json(status: int, body: Any) -> Response:
    return Response(status, dict(_JSON), json.dumps(body).encode())


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"Content-Type": "text/html", **(headers or {})}, text.encode())


# ---------------------------------------------------------------------------------------------- the service
class IalirtService:
    """The I-ALiRT routes over an archive's index (one per :class:`~imap_explorer.server.LocalSDC`).

    Parameters
    ----------
    index : imap_explorer.server.index.Index
    cutoff : str, default :data:`~imap_explorer.ialirt._schema.PUBLIC_CUTOFF`
        Keyless queries whose window starts before it answer 400.
    live : bool, default False
        Map the stream onto the wall clock (see the module docstring).
    clock : callable, default time.time
        Wall clock in POSIX seconds (tests pass their own).
    """

    def __init__(self, index: Any, *, cutoff: str = PUBLIC_CUTOFF, live: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.index = index
        self.cutoff = cutoff
        self.live = live
        self.clock = clock
        self._lock = threading.Lock()
        self._tables: dict[tuple[str, str], _Table] = {}
        self._building: dict[tuple[str, str], threading.Lock] = {}
        self._days: dict[str, dict] = {}
        self._shift: int | None = 0 if not live else None

    # ------------------------------------------------------------------ archive days
    def _archive_rows(self) -> dict[str, dict]:
        """``{YYYYMMDD: row}`` of the newest archive CDF of each day."""
        rows = self.index.execute("SELECT file_path, file_name, start_date, minor_version FROM files WHERE "
                                  "instrument='ialirt' AND data_level='l1' AND descriptor='realtime' AND "
                                  "extension='cdf'")
        best: dict[str, dict] = {}
        for r in rows:
            day = str(r["start_date"]).replace("-", "")
            if day not in best or (r["minor_version"] or 0) > (best[day]["minor_version"] or 0):
                best[day] = dict(r)
        return best

    def shift_ns(self) -> int:
        """Nanoseconds added to every time of the stream (0 unless live)."""
        if self._shift is None:
            days = sorted(self._archive_rows())
            if not days:
                self._shift = 0
            else:
                first = np.datetime64(f"{days[0][:4]}-{days[0][4:6]}-{days[0][6:]}", "s").astype(np.int64)
                lead = first + int(LIVE_LEAD_HOURS * 3600)
                self._shift = (int(self.clock()) - int(lead)) * _NS
        return self._shift

    def _table(self, day: str, row: dict, inst: str) -> _Table:
        key = (row["file_path"], inst)
        with self._lock:
            table = self._tables.get(key)
            building = self._building.setdefault(key, threading.Lock())
        if table is not None:
            return table
        with building:  # one thread builds a table; the others wait for it
            with self._lock:
                table = self._tables.get(key)
            if table is not None:
                return table
            with self._lock:
                data = self._days.get(row["file_path"])
            if data is None:
                data = _read_day(Path(self.index.root, *row["file_path"].split("/")))
                with self._lock:
                    self._days[row["file_path"]] = data
            table = _build(data, inst, self.shift_ns())
            with self._lock:
                self._tables[key] = table
        return table

    def _window(self, inst: str, start: str, end: str, keyed: bool) -> list[bytes]:
        """Encoded items of one partition with start <= time_utc <= end; 1 MB rule; live visibility."""
        rows = self._archive_rows()
        shift = self.shift_ns()
        if inst in ("spice", "ancillary"):
            return self._runs(inst, start, end, rows, shift)
        if inst == "spacecraft_status" or (inst.endswith("hk") and inst != "mag_hk"):
            return []
        if inst not in FIELDS and inst != "mag_hk":
            return []
        lo = np.datetime64(start) - np.timedelta64(shift, "ns") - np.timedelta64(1, "D")
        hi = np.datetime64(end) - np.timedelta64(shift, "ns") + np.timedelta64(1, "D")
        lo_day, hi_day = str(lo)[:10].replace("-", ""), str(hi)[:10].replace("-", "")
        now = int(datetime64_to_tt2000(np.datetime64(int(self.clock() * 1e9), "ns"))) if self.live else None
        out: list[bytes] = []
        total = 0
        for day in sorted(d for d in rows if lo_day <= d <= hi_day):
            table = self._table(day, rows[day], inst)
            a = int(np.searchsorted(table.time_utc, start, side="left"))
            b = int(np.searchsorted(table.time_utc, end, side="right"))
            if b <= a:
                continue
            total += int(table.sizes[a:b].sum())
            if total > SIZE_LIMIT:
                raise _TooBig(inst)
            items = table.keyed if keyed else table.public
            if now is None:
                out.extend(items[a:b])
            else:
                visible = table.ttj[a:b] + table.delay[a:b] <= now
                out.extend(item for item, ok in zip(items[a:b], visible, strict=True) if ok)
        return out

    def _runs(self, inst: str, start: str, end: str, rows: dict[str, dict], shift: int) -> list[bytes]:
        """``spice``/``ancillary`` items: one per ingest run (each minute, 5 s past) over the archive's days."""
        if not rows:
            return []
        days = sorted(rows)
        first = np.datetime64(f"{days[0][:4]}-{days[0][4:6]}-{days[0][6:]}", "ns") + np.timedelta64(shift, "ns")
        last = np.datetime64(f"{days[-1][:4]}-{days[-1][4:6]}-{days[-1][6:]}", "ns") + np.timedelta64(shift, "ns")
        last += np.timedelta64(1, "D")
        lo = max(np.datetime64(start, "ns"), first)
        hi = min(np.datetime64(end, "ns"), last)
        if self.live:
            hi = min(hi, np.datetime64(int(self.clock() * 1e9) - 60 * _NS, "ns"))
        if hi < lo:
            return []
        t0 = (lo - np.timedelta64(5, "s")).astype("datetime64[m]") + np.timedelta64(5, "s")
        if t0 < lo:
            t0 += np.timedelta64(1, "m")
        n = int((hi - t0.astype("datetime64[ns]")) // np.timedelta64(1, "m")) + 1
        if n <= 0:
            return []
        if n * 420 > SIZE_LIMIT:
            raise _TooBig(inst)
        times = t0.astype("datetime64[ns]") + np.arange(n) * np.timedelta64(1, "m")
        ttj = datetime64_to_tt2000(times)
        field = {"spice": ("spice_kernels", _KERNELS), "ancillary": ("ancillary_files", _ANCILLARY)}[inst]
        return [json.dumps({"instrument": inst, "time_utc": str(t), "ttj2000ns": int(j), field[0]: field[1]}).encode()
                for t, j in zip(_fmt(times), ttj, strict=True)]

    # ------------------------------------------------------------------ routing
    def handle(self, req: Request, authorize: Callable[[str], Response | str | None]) -> Response | None:
        """Answer an I-ALiRT route, or return None when the path is not one (the SDC routes then decide).

        ``authorize(prefix)`` runs the gateway's authorizer: an error response, or the caller's scope.
        """
        route = _route(req.path)
        if route is None:
            return None
        prefix, base, proxy = route
        not_found = Response(404, dict(_JSON), b'{"message":"Not Found"}')
        methods = ("GET", "HEAD") if base == "/ialirt-download" else ("GET",)
        if req.method not in methods:
            return not_found
        if base not in ("/space-weather", "/ialirt-download") and prefix:
            return not_found
        if base not in ("/ialirt-download", "/space-weather") and proxy:
            return not_found  # /space-weather/{proxy+} answers as the bare route
        auth = authorize(prefix)
        if isinstance(auth, Response):
            return auth
        keyed = bool(prefix)
        try:
            if base == "/space-weather":
                resp = self.space_weather(req.query, keyed=keyed, scope=auth if prefix == "/api-key" else None)
            elif base == "/ialirt-archive-query":
                resp = self.archive_query(req.query)
            elif base == "/ialirt-log-query":
                resp = self.log_query(req.query)
            elif base == "/ialirt-packet-query":
                resp = self.packet_query(req.query)
            else:
                resp = self.download(req, proxy, keyed)
        except _Reply as reply:
            resp = reply.response
        if req.method == "HEAD":
            resp.headers.setdefault("Content-Length", str(len(resp.body)))
            resp.body = b""
        return resp

    # ------------------------------------------------------------------ /space-weather (§4)
    def space_weather(self, query: str | None, *, keyed: bool, scope: str | None) -> Response:
        """``GET /space-weather`` (§4): parameters, window, cutoff, scopes, size limit, envelope."""
        params: dict[str, str] = {}
        for name, value in parse_qsl(query or "", keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        unexpected = sorted(set(params) - _PARAMETERS)
        if unexpected:
            return _json(400, {"message": f"Unexpected parameters: {', '.join(unexpected)}"})
        start = params.get("time_utc_start") or params.get("met_in_utc_start") or None
        end = params.get("time_utc_end") or params.get("met_in_utc_end") or None
        try:
            t0 = dt.datetime.fromisoformat(start).replace(tzinfo=None, microsecond=0) if start else None
            t1 = dt.datetime.fromisoformat(end).replace(tzinfo=None, microsecond=0) if end else None
        except ValueError:
            return _json(400, {"message": "Invalid time format"})
        if t0 is None and t1 is None:
            t1 = dt.datetime.fromtimestamp(int(self.clock()), dt.timezone.utc).replace(tzinfo=None)
            t0 = t1 - DEFAULT_WINDOW
        elif t1 is None:
            t1 = t0 + DEFAULT_WINDOW
        elif t0 is None:
            t0 = t1 - DEFAULT_WINDOW
        start_s, end_s = t0.strftime(_FMT), t1.strftime(_FMT)
        if not keyed and start_s < self.cutoff:
            return _json(400, {"message": f"API key required for data prior to {self.cutoff}"})
        instrument = params.get("instrument") or ""
        privileged = scope in PRIVILEGED_SCOPES
        if not instrument:
            parts, kind, label = list(SCIENCE), "science", "all"
        elif instrument == "spice":
            parts, kind, label = ["spice"], "spice", "spice"
        elif instrument.endswith("hk"):
            if not privileged:
                return _json(403, {"message": "Unauthorized for HK access."})
            parts, kind, label = [instrument], "hk", instrument
        elif instrument == "spacecraft_status":
            if not privileged:
                return _json(403, {"message": "Unauthorized for spacecraft_status access."})
            parts, kind, label = [instrument], "spacecraft_status", instrument
        elif instrument == "spacecraft":
            parts, kind, label = ["spacecraft"], "spacecraft", "spacecraft"
        else:
            parts, kind, label = [instrument], "science", instrument
        if end_s < start_s:  # DynamoDB ValidationException, not caught: the gateway's 500
            return Response(500, dict(_JSON), _GATEWAY_ERROR)
        items: list[bytes] = []
        try:
            for part in parts:
                items.extend(self._window(part, start_s, end_s, keyed=privileged))
        except _TooBig as err:
            return _json(400, {"message": SIZE_LIMIT_TEXT.format(instrument=err.instrument)})
        meta = json.dumps({"count": len(items), "type": kind, "instrument": label}).encode()
        body = b'{"meta": ' + meta + b', "data": [' + b", ".join(items) + b"]}"
        return Response(200, dict(_JSON), body)

    # ------------------------------------------------------------------ file queries (§7)
    def archive_query(self, query: str | None) -> Response:
        """``GET /ialirt-archive-query`` (§7.1); archives are listed 7 days after their day."""
        p = dict(parse_qsl(query or "", keep_blank_values=True))
        year, month, day, since = p.get("year"), p.get("month"), p.get("day"), p.get("since")
        version = p.get("version", "1")
        if since and (year or month or day):
            return _json(400, {"error": "since cannot be combined with year, month, or day."})
        if (day and not month) or (month and not year):
            return _json(400, {"error": "Date parts must be specified in order: year, month, day."})
        try:
            wanted = f"v{int(version):03d}"
        except ValueError:
            return _json(400, {"error": "Invalid version format. Must be an integer."})
        if since:
            try:
                dt.datetime.strptime(since, "%Y%m%d")
            except ValueError:
                return _json(400, {"error": "Invalid since format. Must be YYYYMMDD (e.g. 20240521)."})
        prefix = "imap_ialirt_l1_realtime_" + ("" if since else (year or "").zfill(4 if year else 0)
                                               + (month or "").zfill(2 if month else 0)
                                               + (day or "").zfill(2 if day else 0))
        published = self._published_before()
        names = sorted(r["file_name"] for r in self._all_archive_rows()
                       if r["file_name"].startswith(prefix) and wanted in r["file_name"]
                       and (not since or r["file_name"][24:32] >= since) and r["file_name"][24:32] <= published)
        return _json(200, {"files": names})

    def _all_archive_rows(self) -> list:
        return self.index.execute("SELECT file_path, file_name FROM files WHERE instrument='ialirt' AND "
                                  "data_level='l1' AND descriptor='realtime'")

    def _published_before(self) -> str:
        """Newest data day (YYYYMMDD) whose archive is published: 7 days ago (in the stream's time when live)."""
        now = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc) - dt.timedelta(seconds=self.shift_ns() / _NS)
        return (now - dt.timedelta(days=ARCHIVE_DELAY_DAYS)).strftime("%Y%m%d")

    def _listing(self, folder: str, prefix: str) -> list[str]:
        rows = self.index.execute("SELECT file_name FROM files WHERE file_path LIKE ?", (f"ialirt/{folder}/%",))
        return sorted(r["file_name"] for r in rows if r["file_name"].startswith(prefix))

    def log_query(self, query: str | None) -> Response:
        """``GET /ialirt-log-query`` (§7.2)."""
        if query is None:
            return Response(500, dict(_JSON), _GATEWAY_ERROR)
        p = dict(parse_qsl(query, keep_blank_values=True))
        try:
            day = dt.datetime.strptime(f"{p.get('year')}{p.get('doy')}", "%Y%j")
        except ValueError:
            return _json(400, {"error": "Invalid year or day format. Use YYYY and DOY."})
        return _json(200, {"files": self._listing("logs", f"flight_iois_{p.get('instance')}.log."
                                                          f"{day.strftime('%Y-%j')}")})

    def packet_query(self, query: str | None) -> Response:
        """``GET /ialirt-packet-query`` (§7.3): year/doy[/hh/mm/ss] or a UTC range."""
        p = dict(parse_qsl(query or "", keep_blank_values=True))
        utc = "time_utc_start" in p or "time_utc_end" in p
        if utc:
            if any(k in p for k in ("year", "doy", "hh", "mm", "ss")):
                return _json(400, {"error": "Cannot mix time_utc_* with year/doy/hh/mm/ss."})
            try:
                t0 = dt.datetime.fromisoformat(p["time_utc_start"])
                t1 = dt.datetime.fromisoformat(p["time_utc_end"]) if p.get("time_utc_end") else None
            except (KeyError, ValueError):
                return _json(400, {"error": "Invalid time format; use isoformat YYYY-MM-DDTHH:MM:SS."})
            if t1 is not None and t1 <= t0:
                return _json(400, {"error": "time_utc_end must be after time_utc_start."})
            files = []
            for name in self._listing("packets", "iois_1_packets_"):
                stamp = _packet_time(name)
                if stamp is not None and stamp >= t0.replace(tzinfo=None) and (
                        t1 is None or stamp <= t1.replace(tzinfo=None)):
                    files.append(name)
            return _json(200, {"files": files})
        if not p.get("year") or not p.get("doy"):
            return _json(400, {"error": "At minimum, 'year' and 'doy' must be provided."})
        try:
            dt.datetime.strptime(f"{p['year']}{p['doy']}", "%Y%j")
        except ValueError:
            return _json(400, {"error": "Invalid year or day format. Use YYYY and DOY."})
        prefix = f"iois_1_packets_{p['year']}_{p['doy']}"
        for part in ("hh", "mm", "ss"):
            if not p.get(part):
                break
            prefix += f"_{p[part].zfill(2)}"
        return _json(200, {"files": self._listing("packets", prefix)})

    # ------------------------------------------------------------------ /ialirt-download (§7.4)
    def download(self, req: Request, proxy: str | None, keyed: bool) -> Response:
        """``GET|HEAD /ialirt-download/{filetype}/{filename}`` (§7.4): 400, 404, 403 or 302 to storage."""
        from imap_explorer.server.handlers import (
            DOWNLOAD_NOT_FOUND,
            DOWNLOAD_NOT_RELEASED,
            download_key,
            storage_redirect,
        )

        key = download_key(proxy)
        if isinstance(key, Response):
            return key
        filetype, _, name = key.partition("/")
        stored = _stored_key(filetype, name)
        row = self.index.get(stored) if stored and "\x00" not in stored else None
        if row is None:
            return _text(404, DOWNLOAD_NOT_FOUND)
        if not keyed and not key.startswith(("packets/", "archive/")) and "test_data" not in key:
            return _text(403, DOWNLOAD_NOT_RELEASED.format(key=key))
        return storage_redirect(self.signer, stored, self.expires)

    #: Set by the server: the storage signer and the presigned URL lifetime.
    signer: Any = None
    expires: int = 86400


def _packet_time(name: str) -> dt.datetime | None:
    parts = name.split(".")[0].split("_")[3:]
    try:
        year, doy, hh, mm, ss = (int(x) for x in parts[:5])
        return dt.datetime.strptime(f"{year}{doy:03d}", "%Y%j") + dt.timedelta(hours=hh, minutes=mm, seconds=ss)
    except (ValueError, TypeError):
        return None


def _stored_key(filetype: str, name: str) -> str | None:
    """Where a file of the I-ALiRT bucket lives in the local archive."""
    if not name or "/" in name or name in (".", ".."):
        return None
    if filetype == "archive":
        if not (name.startswith("imap_ialirt_l1_realtime_") and len(name) >= 32 and name[24:32].isdigit()):
            return None
        return f"imap/ialirt/l1/{name[24:28]}/{name[28:30]}/{name}"
    if filetype in _FILETYPES:
        return f"ialirt/{filetype}/{name}"
    return None


_BASES = ("/space-weather", "/ialirt-archive-query", "/ialirt-log-query", "/ialirt-packet-query", "/ialirt-download")


def _route(path: str) -> tuple[str, str, str | None] | None:
    """(prefix, base, proxy) of an I-ALiRT path, or None.

    Examples
    --------
    >>> _route("/api-key/ialirt-download/logs/x.log"), _route("/space-weather"), _route("/query")
    (('/api-key', '/ialirt-download', 'logs/x.log'), ('', '/space-weather', None), None)
    """
    for prefix in ("/api-key", "/authorized", ""):
        if prefix and not path.startswith(prefix + "/"):
            continue
        rest = path[len(prefix):]
        for base in _BASES:
            if rest == base:
                return prefix, base, None
            if rest.startswith(base + "/"):
                return prefix, base, rest[len(base) + 1:] or None
        return None
    return None
