"""I-ALiRT speed: a 7-day multi-instrument fetch, JSON -> DataFrame parsing, and one Monitor refresh.

Run: ``python benchmarks/bench_ialirt.py [--days 7] [--latency 0.05]``

1. **Fetch**: all six science instruments over ``--days`` days from the embedded server, with ``--latency``
   seconds added to every I-ALiRT request (a network round trip). ``ie.ialirt.space_weather`` (parallel windows,
   DataFrame included) against the official ``ialirt-data-access`` client called window by window in a loop, the
   way its users must (1 h MAG windows; the same safe windows as ours for the others; records only, no
   DataFrame). Target: >= 5x. The server's day tables are built before either is timed.
2. **Parse**: ``records_to_frame`` on the fetched records (already decoded), and ``json.loads`` + frame on the
   encoded answer. Target: >= 200 000 records/s.
3. **Monitor refresh**: one ``Monitor.update()`` (poll for what is new, merge, latest values, alerts, redraw,
   PNG) over 6 h against a live server. Target: <= 0.5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _archive(root: Path, days: int) -> None:
    from imap_explorer.synthetic.ialirt import write_ialirt_day
    from imap_explorer.synthetic.physics import SolarWind

    model = SolarWind("2026-02-10", 0)
    for k in range(days):
        write_ialirt_day(root, (dt.date(2026, 2, 10) + dt.timedelta(days=k)).isoformat(), model=model)


_SERVER = """
import sys, time
from imap_explorer.server import LocalSDC
root, latency = sys.argv[1], float(sys.argv[2])
with LocalSDC(root, db=root + "/.bench.sqlite3") as sdc:
    service = sdc.state.ialirt
    real = service.handle
    def slow(req, authorize):
        resp = real(req, authorize)
        if resp is not None and service.latency:
            time.sleep(service.latency)
        return resp
    service.handle, service.latency = slow, 0.0
    print(sdc.url, flush=True)
    for line in sys.stdin:  # "latency" turns the delay on; EOF stops the server
        service.latency = latency
        print("ok", flush=True)
"""


@contextlib.contextmanager
def _server(root: Path, latency: float):
    """The embedded server in its own process (as a remote service would be), ``latency`` s added per request."""
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, str(root), str(latency)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()

        def add_latency() -> None:
            proc.stdin.write("latency\n")
            proc.stdin.flush()
            proc.stdout.readline()

        yield url, add_latency
    finally:
        proc.stdin.close()
        proc.wait(30)


def bench_fetch(root: Path, days: int, latency: float, repeats: int) -> list[dict]:
    import ialirt_data_access as ida

    import imap_explorer as ie
    from imap_explorer.ialirt._schema import SAFE_CHUNK_HOURS, SCIENCE
    from imap_explorer.ialirt.client import _windows, fetch_records

    start = dt.datetime(2026, 2, 10)
    end = start + dt.timedelta(days=days) - dt.timedelta(seconds=1)
    with _server(root, latency) as (url, add_latency), ie.set_options(ialirt_url=url):
        t0 = time.perf_counter()
        records = fetch_records(time_utc_start=start, time_utc_end=end)  # warm the server
        print(f"server warm-up (builds {days} days of tables): {time.perf_counter() - t0:.1f} s, "
              f"{len(records)} records")
        add_latency()

        ours, official = [], []
        for _ in range(repeats):  # alternate, so that both see the same machine load
            t0 = time.perf_counter()
            df = ie.ialirt.space_weather(time_utc_start=start, time_utc_end=end)
            ours.append(time.perf_counter() - t0)

            ida.config["DATA_ACCESS_URL"] = url
            official_records: list[dict] = []  # what a user of the official client keeps
            requests = 0
            t0 = time.perf_counter()
            for inst in SCIENCE:
                for a, b in _windows(start, end, dt.timedelta(hours=SAFE_CHUNK_HOURS.get(inst, 24))):
                    b = min(b, end) if b == end else b - dt.timedelta(seconds=1)  # tile without overlaps
                    res = ida.data_product_query(instrument=inst, time_utc_start=a.isoformat(),
                                                 time_utc_end=b.isoformat())
                    official_records.extend(res["data"])
                    requests += 1
            official.append(time.perf_counter() - t0)
    print(f"fetch {days} days x 6 instruments, {latency * 1000:.0f} ms latency per request (server in its own "
          "process):")
    print(f"  imap-explorer space_weather (DataFrame included): best {min(ours):.2f} s, median "
          f"{statistics.median(ours):.2f} s; {len(df)} rows ({df['time_utc'].nunique()} keys)")
    print(f"  official client, {requests} windows in a loop: best {min(official):.2f} s, median "
          f"{statistics.median(official):.2f} s; {len(official_records)} records (raw dicts, no DataFrame)")
    ratio = statistics.median(official) / statistics.median(ours)
    print(f"  speed-up: {min(official) / min(ours):.1f}x best/best, {ratio:.1f}x median/median (target >= 5x)")
    return records


def bench_parse(records: list[dict]) -> None:
    from imap_explorer.ialirt.client import _gc_paused
    from imap_explorer.ialirt.frame import records_to_frame

    n = len(records)
    times, cpu = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        with _gc_paused():  # as space_weather does
            records_to_frame(records)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    body = json.dumps({"meta": {"count": n}, "data": records}).encode()
    t0 = time.perf_counter()
    with _gc_paused():
        records_to_frame(json.loads(body)["data"])
    with_json = time.perf_counter() - t0
    hi = sum(r["instrument"] == "codice_hi" for r in records)
    print(f"parse {n} records ({hi} CoDICE-Hi with 960 numbers each):")
    print(f"  records_to_frame: best of 5 {min(times):.3f} s = {n / min(times):,.0f} records/s, median "
          f"{statistics.median(times):.3f} s; CPU {min(cpu):.3f} s = {n / min(cpu):,.0f} records/s "
          "(target >= 200 000)")
    print(f"  json.loads + records_to_frame ({len(body) / 1e6:.0f} MB): {with_json:.3f} s = {n / with_json:,.0f} "
          "records/s")
    scalar = [r for r in records if r["instrument"] != "codice_hi"]
    t0 = time.perf_counter()
    with _gc_paused():
        records_to_frame(scalar)
    dt_s = time.perf_counter() - t0
    print(f"  without CoDICE-Hi: {len(scalar)} records in {dt_s:.3f} s = {len(scalar) / dt_s:,.0f} records/s")


def bench_monitor(root: Path) -> None:
    import imap_explorer as ie
    from imap_explorer.server import LocalSDC

    with LocalSDC(root, db=root / ".bench-live.sqlite3", ialirt_live=True) as sdc, \
            ie.set_options(ialirt_url=sdc.url):
        monitor = ie.ialirt.Monitor(hours=6, refresh=3600, start=False)
        t0 = time.perf_counter()
        monitor.update()
        first = time.perf_counter() - t0
        times = []
        for _ in range(5):
            time.sleep(1.0)
            t0 = time.perf_counter()
            monitor.update()
            times.append(time.perf_counter() - t0)
        print(f"monitor (6 h, {monitor.n_records} records): first load {first:.2f} s (server builds its tables); "
              f"refresh poll -> redrawn PNG: median {statistics.median(times):.3f} s, max {max(times):.3f} s "
              "(target <= 0.5 s)")
        monitor.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--repeats", type=int, default=3, help="fetch runs of each client (default 3)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ialirt-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        _archive(root, args.days)
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        print(f"synthetic I-ALiRT archive: {args.days} days in {time.perf_counter() - t0:.1f} s, {size / 1e6:.1f} MB")
        records = bench_fetch(root, args.days, args.latency, args.repeats)
        bench_parse(records)
        bench_monitor(root)


if __name__ == "__main__":
    main()
