"""Benchmark: the embedded SDC (LocalSDC) on loopback.

Measures

* index scan time for an archive of N placeholder files, and a rescan with nothing changed;
* /query latency on that index (a one-day query, and a whole-instrument query with version ranking);
* mixed-request throughput (query, download redirect, storage GET, errors) with 1, 8 and 32 keep-alive clients;
* storage streaming throughput for one large file (GET of the presigned URL, bytes discarded).

Clients and server share one Python process (and its GIL), so throughput figures are a lower bound.
Run: ``python benchmarks/bench_server.py [--files 20000] [--big-mib 256]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from imap_explorer.filenames import sdc_key
from imap_explorer.server import TEST_WRITE_KEY, LocalSDC
from imap_explorer.server.sample import CDF_MAGIC

DESCRIPTORS = ("norm-gse", "norm-rtn", "norm-srf", "norm-dsrf", "burst-gse")


def write_archive(root: Path, n: int) -> list[str]:
    names = []
    day0 = 20250101
    for i in range(n):
        descriptor = DESCRIPTORS[i % len(DESCRIPTORS)]
        k = i // len(DESCRIPTORS)
        year, rest = divmod(k // 2, 336)
        month, day = divmod(rest, 28)
        version = "v001.0001" if k % 2 == 0 else "v002.0001"
        date = day0 + year * 10000 + month * 100 + day
        name = f"imap_mag_l2_{descriptor}_{date}_{version}.cdf"
        path = root / sdc_key(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(CDF_MAGIC)
        names.append(name)
    return names


def timed(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def get(url: str, path: str) -> bytes:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return body


def load(sdc: LocalSDC, key: str, clients: int, per_client: int) -> float:
    mix = [("/query?instrument=mag&data_level=l2&descriptor=norm-gse&start_date=20250110&end_date=20250110", 200),
           (f"/download/{key}", 302), ("/download/imap/none.cdf", 404), ("/query?foo=1", 400),
           ("/api-key/query?instrument=mag&start_date=20250105&end_date=20250105", 200)]
    errors = []

    def client(worker: int) -> None:
        api = http.client.HTTPConnection(*_hp(sdc.url), timeout=60)
        storage = http.client.HTTPConnection(*_hp(sdc.storage_url), timeout=60)
        for i in range(per_client):
            path, expected = mix[(i + worker) % len(mix)]
            api.request("GET", path, headers={"x-api-key": TEST_WRITE_KEY})
            resp = api.getresponse()
            resp.read()
            if resp.status != expected:
                errors.append((path, resp.status))
            if resp.status == 302:
                target = urlsplit(resp.getheader("Location"))
                storage.request("GET", f"{target.path}?{target.query}")
                r2 = storage.getresponse()
                r2.read()
                if r2.status != 200:
                    errors.append(("storage", r2.status))
        api.close()
        storage.close()

    threads = [threading.Thread(target=client, args=(w,)) for w in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"errors: {errors[:5]}")
    return clients * per_client / elapsed


def _hp(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--big-mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "archive"
        t0 = time.perf_counter()
        names = write_archive(root, args.files)
        print(f"wrote {len(names)} placeholder files in {time.perf_counter() - t0:.1f} s")
        big = "imap_swe_l2_sci_20260120_v001.0001.cdf"
        big_path = root / sdc_key(big)
        big_path.parent.mkdir(parents=True, exist_ok=True)
        with open(big_path, "wb") as fh:
            fh.write(CDF_MAGIC)
            block = os.urandom(1 << 20)
            for _ in range(args.big_mib):
                fh.write(block)
        sdc = LocalSDC(root, db=Path(tmp) / "index.sqlite3")
        scan = timed(sdc.index.scan)
        rescan = timed(sdc.index.scan)
        print(f"index scan: {len(names) + 1} files in {scan:.2f} s; rescan (no change) {rescan:.2f} s")
        with sdc:
            one_day = timed(lambda: get(sdc.url, "/query?instrument=mag&data_level=l2&start_date=20250110"
                                                  "&end_date=20250110"), repeat=20)
            body = get(sdc.url, "/query?instrument=mag&descriptor=norm-gse")
            everything = timed(lambda: get(sdc.url, "/query?instrument=mag&descriptor=norm-gse"), repeat=3)
            print(f"query one day: {one_day * 1000:.1f} ms; one descriptor, all days with version ranking "
                  f"({body.count(b'file_path')} records, {len(body) / 1e6:.1f} MB): {everything * 1000:.0f} ms")
            key = sdc_key(names[0])
            for clients in (1, 8, 32):
                rate = load(sdc, key, clients, 200)
                print(f"mixed requests, {clients:2d} keep-alive clients x 200: {rate:,.0f} req/s, 0 errors")
            location = urlsplit(http_location(sdc.url, f"/download/{sdc_key(big)}"))
            conn = http.client.HTTPConnection(*_hp(sdc.storage_url), timeout=60)
            start = time.perf_counter()
            conn.request("GET", f"{location.path}?{location.query}")
            resp = conn.getresponse()
            n = 0
            while chunk := resp.read(1 << 20):
                n += len(chunk)
            elapsed = time.perf_counter() - start
            conn.close()
            print(f"storage GET {n / 2**20:.0f} MiB streamed in {elapsed:.2f} s = {n / 2**20 / elapsed:,.0f} MiB/s")


def http_location(url: str, path: str) -> str:
    conn = http.client.HTTPConnection(*_hp(url), timeout=60)
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.getheader("Location")


if __name__ == "__main__":
    main()
