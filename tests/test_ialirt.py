"""I-ALiRT: the synthetic stream, the embedded server (judged by the official client and CLI), and ie.ialirt."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import cdflib
import numpy as np
import pandas as pd
import pytest

import imap_explorer as ie
from imap_explorer import _http
from imap_explorer.server import TEST_READ_KEY, TEST_WRITE_KEY, LocalSDC

START = "2026-02-10"  # after the public cutoff (2026-02-01), so keyless queries are served
DAY0 = "20260210"
ARCHIVE = "imap_ialirt_l1_realtime_20260210_v001.cdf"


@pytest.fixture(scope="session")
def ialirt_archive(tmp_path_factory) -> Path:
    """Two days of the synthetic I-ALiRT stream (shock at 12:00 on the first day), read-only by convention."""
    from imap_explorer.synthetic.ialirt import write_ialirt_day
    from imap_explorer.synthetic.physics import SolarWind

    root = tmp_path_factory.mktemp("ialirt-archive")
    model = SolarWind(START, 3)
    for day in ("2026-02-10", "2026-02-11"):
        write_ialirt_day(root, day, model=model)
    return root


@pytest.fixture(scope="session")
def server(ialirt_archive, tmp_path_factory):
    db = tmp_path_factory.mktemp("ialirt-db") / "index.sqlite3"
    with LocalSDC(ialirt_archive, db=db) as sdc:
        yield sdc


@pytest.fixture
def ialirt_url(server, monkeypatch):
    monkeypatch.setenv("IALIRT_DATA_ACCESS_URL", server.url)
    monkeypatch.setattr(_http, "BACKOFF", 0.01)
    return server.url


def get(server, path, **headers):
    import requests

    return requests.get(server.url + path, headers=headers, timeout=30)


# ---------------------------------------------------------------------------------------------- the server
def test_server_space_weather_matches_the_reference_shapes(server):
    r = get(server, "/space-weather?instrument=mag&time_utc_start=2026-02-10T08%3A00%3A00"
                    "&time_utc_end=2026-02-10T08%3A00%3A08")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["meta"] == {"count": 2, "type": "science", "instrument": "mag"}
    rec = body["data"][0]
    assert list(rec) == ["instrument", "time_utc", "ttj2000ns", "mag_epoch", "mag_B_GSE", "mag_B_GSM", "mag_B_RTN",
                         "mag_B_magnitude", "mag_phi_B_GSE", "mag_theta_B_GSE", "mag_phi_B_GSM", "mag_theta_B_GSM",
                         "kernel_set_key"]
    assert rec["time_utc"] == "2026-02-10T08:00:03"
    # time_utc is the floor of ttj2000ns; the measurement is ~2.9 s earlier; the kernels of the next ingest run
    assert str(ie._time.tt2000_to_datetime64([rec["ttj2000ns"]])[0])[:19] == rec["time_utc"]
    assert 2.5e9 < rec["ttj2000ns"] - rec["mag_epoch"] < 3.5e9
    assert rec["kernel_set_key"] == "2026-02-10T08:01:05"
    assert all(len(str(x).split(".")[-1]) <= 3 for x in rec["mag_B_GSE"])
    # everything, public: HIT before MAG (server order), restricted HIT fields dropped, null SWAPI fits
    r = get(server, "/space-weather?time_utc_start=2026-02-10T11:50:00&time_utc_end=2026-02-10T12:10:00").json()
    assert r["meta"]["instrument"] == "all"
    order = list(dict.fromkeys(d["instrument"] for d in r["data"]))
    assert order == ["hit", "mag", "codice_hi", "swapi", "swe"]
    hit = [d for d in r["data"] if d["instrument"] == "hit"]
    assert "hit_e_a_side_high_en" not in hit[0]
    assert isinstance(hit[0]["hit_e_a_side_med_en"], int)
    keyed = get(server, "/api-key/space-weather?instrument=hit&time_utc_start=2026-02-10T11:50:00"
                        "&time_utc_end=2026-02-10T12:10:00", **{"x-api-key": TEST_READ_KEY}).json()
    assert "hit_e_a_side_high_en" in keyed["data"][0]


@pytest.mark.parametrize(
    ("path", "headers", "status", "body"),
    [
        ("/space-weather?foo=1&bar=2", {}, 400, {"message": "Unexpected parameters: bar, foo"}),
        ("/space-weather?time_utc_start=10/02/2026", {}, 400, {"message": "Invalid time format"}),
        ("/space-weather?time_utc_start=2026-01-31T23:59:59", {}, 400,
         {"message": "API key required for data prior to 2026-02-01T00:00:00"}),
        ("/space-weather?instrument=mag_hk&time_utc_start=2026-02-10", {}, 403,
         {"message": "Unauthorized for HK access."}),
        ("/space-weather?instrument=spacecraft_status&time_utc_start=2026-02-10", {}, 403,
         {"message": "Unauthorized for spacecraft_status access."}),
        ("/space-weather?instrument=MAG&time_utc_start=2026-02-10", {}, 200,
         {"meta": {"count": 0, "type": "science", "instrument": "MAG"}, "data": []}),
        ("/space-weather?instrument=mag&time_utc_start=2026-02-10T00:00:00&time_utc_end=2026-02-10T08:00:00", {},
         400, {"message": "Your request for 'mag' returned more data than allowed in a single query. Please reduce "
                          "the time window or filter further."}),
        ("/space-weather?time_utc_start=2026-02-10T02:00:00&time_utc_end=2026-02-10T01:00:00", {}, 500,
         {"message": "Internal Server Error"}),
        ("/api-key/space-weather", {}, 401, {"message": "Unauthorized"}),
        ("/api-key/space-weather", {"x-api-key": "nope"}, 403, {"message": "Forbidden"}),
        ("/api-key/ialirt-archive-query", {"x-api-key": TEST_READ_KEY}, 404, {"message": "Not Found"}),
        ("/ialirt-archive-query?since=20260210&year=2026", {}, 400,
         {"error": "since cannot be combined with year, month, or day."}),
        ("/ialirt-archive-query?day=10", {}, 400,
         {"error": "Date parts must be specified in order: year, month, day."}),
        ("/ialirt-archive-query?version=x", {}, 400, {"error": "Invalid version format. Must be an integer."}),
        ("/ialirt-log-query?year=2026&doy=400&instance=1", {}, 400,
         {"error": "Invalid year or day format. Use YYYY and DOY."}),
        ("/ialirt-packet-query?hh=01", {}, 400, {"error": "At minimum, 'year' and 'doy' must be provided."}),
    ],
)
def test_server_errors_are_the_reference_texts(server, path, headers, status, body):
    r = get(server, path, **headers)
    assert (r.status_code, r.json()) == (status, body)


def test_server_windows_are_inclusive_and_drop_offsets(server):
    one = get(server, "/space-weather?instrument=swapi&time_utc_start=2026-02-10T08:00:05"
                      "&time_utc_end=2026-02-10T08:00:05").json()
    assert [d["time_utc"] for d in one["data"]] == ["2026-02-10T08:00:05"]
    zoned = get(server, "/space-weather?instrument=swapi&time_utc_start=2026-02-10T08%3A00%3A05.9%2B05%3A00"
                        "&time_utc_end=2026-02-10T08:00:05Z").json()
    assert zoned == one                                               # offset dropped, fraction truncated
    start_only = get(server, "/space-weather?instrument=hit&met_in_utc_start=2026-02-10T08:00:00").json()
    assert len(start_only["data"]) == 60                              # [start, start + 1 h]


def test_server_file_routes_and_download(server, tmp_path):
    assert get(server, "/ialirt-archive-query?year=2026&month=2&day=10").json() == {"files": [ARCHIVE]}
    assert get(server, "/ialirt-archive-query?since=20260211").json()["files"] == [
        "imap_ialirt_l1_realtime_20260211_v001.cdf"]
    assert get(server, "/ialirt-archive-query?year=2026&version=0").json() == {"files": []}
    r = get(server, f"/ialirt-download/archive/{ARCHIVE}")
    assert r.status_code == 200
    assert r.content[:4] == b"\xcd\xf3\x00\x01"
    log = get(server, "/ialirt-log-query?year=2026&doy=041&instance=2").json()["files"]
    assert log == ["flight_iois_2.log.2026-041T00_00_05.123458"]
    assert get(server, f"/ialirt-download/logs/{log[0]}").text == (
        f"The file logs/{log[0]} is not a part of a public release yet.")
    assert get(server, f"/api-key/ialirt-download/logs/{log[0]}", **{"x-api-key": TEST_WRITE_KEY}).status_code == 200
    assert get(server, "/ialirt-download/archive/imap_ialirt_l1_realtime_20250101_v001.cdf").status_code == 404
    import requests

    head = requests.head(f"{server.url}/ialirt-download/archive/{ARCHIVE}", timeout=30)
    assert head.status_code == 302
    assert head.headers["Location"].startswith(server.storage_url)
    assert head.content == b""
    assert requests.head(f"{server.url}/space-weather", timeout=30).status_code == 404
    proxied = get(server, "/space-weather/anything?instrument=hit&time_utc_start=2026-02-10T08:00:00").json()
    assert proxied["meta"]["count"] == 60
    utc = get(server, "/ialirt-packet-query?time_utc_start=2026-02-10T22:30:00&time_utc_end=2026-02-11T00:30:00")
    assert utc.json() == {"files": ["iois_1_packets_2026_041_23_00_05", "iois_1_packets_2026_042_00_00_05"]}


def test_synthetic_stream_tells_the_shock_story(server):
    """The same 12:00 shock as MAG L2 and SWE: |B|, speed, density jump; HIT protons peak there."""
    r = get(server, "/space-weather?time_utc_start=2026-02-10T11:30:00&time_utc_end=2026-02-10T12:30:00").json()
    df = ie.ialirt.records_to_frame(r["data"]).set_index("epoch")
    before, after = slice("2026-02-10T11:35", "2026-02-10T11:55"), slice("2026-02-10T12:05", "2026-02-10T12:25")
    b = df[df.instrument == "mag"]["mag_B_magnitude"]
    v = df[df.instrument == "swapi"]["swapi_pseudo_proton_speed"]
    assert b[after].median() > 2 * b[before].median()
    assert v[after].median() - v[before].median() > 100
    quiet = get(server, "/space-weather?instrument=hit&time_utc_start=2026-02-11T06:00:00").json()["data"]
    peak = df[df.instrument == "hit"]["hit_h_omni_low_en"].max()
    assert peak > 20 * max(d["hit_h_omni_low_en"] for d in quiet) + 20


# ---------------------------------------------------------------------------------------------- the archive CDF
def test_archive_cdf_loads_and_equals_the_json_of_its_day(server, ialirt_archive):
    path = next(ialirt_archive.rglob(ARCHIVE))
    cdf = cdflib.CDF(path)
    assert len(cdf.cdf_info().zVariables) == 53
    g = cdf.globalattsget()
    assert g["Logical_source"] == ["imap_ialirt_l1_realtime"]
    assert g["Data_type"] == ["L1_REALTIME>Level-1 Realtime"]
    ds = ie.load(path)
    epochs = {"mag_B_GSM": "mag_epoch", "swapi_pseudo_proton_density": "swapi_epoch",
              "swe_normalized_counts": "swe_epoch", "hit_h_omni_low_en": "hit_epoch", "codice_hi_h": "codice_hi_epoch",
              "sc_position_GSE": "ephemeris_epoch", "codice_lo_c_over_o_abundance": "codice_lo_epoch"}
    for name, dim in epochs.items():
        assert ds[name].dims[0] == dim, name
    assert ds.sizes["codice_lo_epoch"] == 0
    assert ds.sizes["mag_epoch"] > 20000
    assert ds.codice_hi_h.dims == ("codice_hi_epoch", "codice_hi_energy_center", "codice_hi_spin_sector",
                                   "codice_hi_polar")
    data = get(server, "/space-weather?time_utc_start=2026-02-10T12:00:00&time_utc_end=2026-02-10T12:20:00")
    data = data.json()["data"] + get(server, "/space-weather?instrument=spacecraft&time_utc_start=2026-02-10T12:00:00"
                                             "&time_utc_end=2026-02-10T12:20:00").json()["data"]
    df = ie.ialirt.records_to_frame(data)
    for inst, name, cols in [("mag", "mag_B_GSM", ["mag_B_GSM_x", "mag_B_GSM_y", "mag_B_GSM_z"]),
                             ("swapi", "swapi_pseudo_proton_density", ["swapi_pseudo_proton_density"]),
                             ("swe", "swe_normalized_counts", [c for c in df if c.startswith("swe_normalized")]),
                             ("hit", "hit_h_omni_low_en", ["hit_h_omni_low_en"]),
                             ("spacecraft", "sc_position_GSE", ["sc_position_GSE_x", "sc_position_GSE_y",
                                                               "sc_position_GSE_z"])]:
        rows = df[df.instrument == inst]
        assert len(rows) > 3, inst
        dim = ds[name].dims[0]
        picked = ds[name].sel({dim: rows["epoch"].to_numpy()})
        np.testing.assert_allclose(picked.to_numpy().reshape(len(rows), -1).astype(float),
                                   rows[cols].to_numpy(), rtol=1e-6, equal_nan=True, err_msg=inst)
    hi = df[df.instrument == "codice_hi"]
    np.testing.assert_allclose(ds.codice_hi_h.sel(codice_hi_epoch=hi["epoch"].to_numpy()).to_numpy(),
                               np.stack(hi["codice_hi_h"].to_list()), rtol=1e-6, atol=5e-4)  # served with 3 dp
    raw = cdflib.CDF(path).varget("swapi_pseudo_proton_density")
    assert (raw < -1e30).any()                                  # the failed fits are fill in the CDF, null in JSON


# ---------------------------------------------------------------------------------------------- the official client
def test_official_client_library_works_against_the_embedded_server(server, tmp_path, monkeypatch, capsys):
    import ialirt_data_access as ida
    from ialirt_data_access.io import IALIRTDataAccessError

    monkeypatch.setitem(ida.config, "DATA_ACCESS_URL", server.url)
    monkeypatch.delitem(ida.config, "API_KEY", raising=False)
    res = ida.data_product_query(instrument="swe", time_utc_start="2026-02-10T08:00:00",
                                 time_utc_end="2026-02-10T08:10:00")
    assert res["meta"]["count"] == len(res["data"]) == 21
    assert ida.archive_query(year="2026", month="02", day="10") == {"files": [ARCHIVE]}
    assert ida.log_query(year="2026", doy="041", instance="1") == {
        "files": ["flight_iois_1.log.2026-041T00_00_05.123457"]}
    assert ida.packet_query(year="2026", doy="041", hh="05") == {"files": ["iois_1_packets_2026_041_05_00_05"]}
    assert len(ida.packet_query(time_utc_start="2026-02-11T20:00:00")["files"]) == 4
    path = ida.download(ARCHIVE, "archive", downloads_dir=tmp_path)
    assert path.read_bytes()[:4] == b"\xcd\xf3\x00\x01"
    with pytest.raises(IALIRTDataAccessError, match="403 - Forbidden"):
        ida.data_product_query(instrument="mag_hk", time_utc_start="2026-02-10T08:00:00")
    monkeypatch.setitem(ida.config, "API_KEY", TEST_READ_KEY)
    log = ida.download("flight_iois_1.log.2026-041T00_00_05.123457", "logs", downloads_dir=tmp_path)
    assert "link up" in log.read_text()
    assert "Successfully downloaded" in capsys.readouterr().out


def _official(*args, cwd):
    exe = Path(sys.executable).with_name("ialirt-data-access")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={**os.environ, "HOME": str(cwd)})


def test_official_cli_every_command_against_the_embedded_server(server, tmp_path):
    url = ["--url", server.url]
    r = _official(*url, "space-weather", "--instrument", "hit", "--time_utc_start", "2026-02-10T08:00:00",
                  "--time_utc_end", "2026-02-10T09:00:00", "--downloads_dir", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Saved query results to:" in r.stdout, r.stdout + r.stderr
    saved = json.loads(Path(r.stdout.split("Saved query results to:")[1].strip()).read_text())
    assert saved["meta"] == {"count": 60, "type": "science", "instrument": "hit"}
    r = _official(*url, "ialirt-archive-query", "--year", "2026", "--month", "02", cwd=tmp_path)
    assert f"'{ARCHIVE}'" in r.stdout, r.stdout + r.stderr
    r = _official(*url, "ialirt-log-query", "--year", "2026", "--doy", "042", "--instance", "2", cwd=tmp_path)
    assert "flight_iois_2.log.2026-042T00_00_05.123458" in r.stdout, r.stdout + r.stderr
    r = _official(*url, "ialirt-packet-query", "--year", "2026", "--doy", "042", "--hh", "07", cwd=tmp_path)
    assert "'iois_1_packets_2026_042_07_00_05'" in r.stdout, r.stdout + r.stderr
    r = _official(*url, "ialirt-download", "--filetype", "archive", "--filename", ARCHIVE, "--downloads_dir",
                  str(tmp_path / "dl"), cwd=tmp_path)
    assert "Successfully downloaded the file to:" in r.stdout, r.stdout + r.stderr
    assert (tmp_path / "dl" / ARCHIVE).read_bytes()[:4] == b"\xcd\xf3\x00\x01"
    r = _official(*url, "--api-key", TEST_READ_KEY, "ialirt-download", "--filetype", "packets", "--filename",
                  "iois_1_packets_2026_042_07_00_05", "--downloads_dir", str(tmp_path / "dl"), cwd=tmp_path)
    assert (tmp_path / "dl" / "iois_1_packets_2026_042_07_00_05").stat().st_size == 960, r.stdout + r.stderr
    r = _official(*url, "space-weather", "--instrument", "mag_hk", "--downloads_dir", str(tmp_path), cwd=tmp_path)
    assert "HTTP Error: 403 - Forbidden" in r.stdout
    assert "Unauthorized for HK access." in r.stdout


# ---------------------------------------------------------------------------------------------- our client
def test_space_weather_splits_fetches_and_deduplicates(ialirt_url, server):
    whole = get(server, "/space-weather?instrument=swapi&time_utc_start=2026-02-10T08:00:00"
                        "&time_utc_end=2026-02-10T09:00:00").json()["data"]
    df = ie.ialirt.space_weather(instrument="swapi", time_utc_start="2026-02-10T08:00",
                                 time_utc_end=dt.datetime(2026, 2, 10, 9), chunk="7min")  # 9 windows, shared edges
    assert len(df) == len(whole) == 300
    assert not df.duplicated(["instrument", "time_utc"]).any()
    assert df["epoch"].is_monotonic_increasing
    assert df.attrs["units"]["swapi_pseudo_proton_speed"] == "km/sec"
    # an edge record: 08:07:05 is the end of one window and the start of the next
    assert (df["time_utc"] == pd.Timestamp("2026-02-10T08:07:05")).sum() == 1
    expected = np.array([np.nan if d["swapi_pseudo_proton_density"] is None else d["swapi_pseudo_proton_density"]
                         for d in whole])
    np.testing.assert_array_equal(df["swapi_pseudo_proton_density"].to_numpy(), expected)
    assert df["swapi_pseudo_proton_density"].isna().any()


def test_space_weather_all_science_over_a_day_is_a_typed_frame(ialirt_url):
    df = ie.ialirt.space_weather(time_utc_start="2026-02-10T10:00:00+02:00", time_utc_end="2026-02-10T10:30:00Z")
    assert df["time_utc"].min() >= pd.Timestamp("2026-02-10T08:00:00")    # +02:00 converted, not dropped
    assert set(df.instrument) == {"mag", "swapi", "swe", "hit", "codice_hi"}
    assert df["epoch"].dtype == "datetime64[ns]"
    assert df["time_utc"].dtype == "datetime64[ns]"
    assert df["mag_epoch"].dtype == "Int64"
    assert {"mag_B_RTN_r", "mag_B_RTN_t", "mag_B_RTN_n", "mag_B_GSM_z", "swe_normalized_counts_1011eV"} <= set(df)
    hi = df[df.instrument == "codice_hi"]
    assert len(hi) % 4 == 0
    assert hi.iloc[0]["codice_hi_h"].shape == (15, 4, 4)
    assert hi.groupby("time_utc").size().eq(4).all()
    ds = ie.ialirt.to_dataset(df, "codice_hi")
    assert ds.codice_hi_h.shape == (len(hi), 15, 4, 4)


def test_space_weather_is_the_same_without_orjson(ialirt_url, monkeypatch):
    """orjson decodes the answers when installed; the json fallback gives the same frame."""
    kwargs = {"instrument": ["codice_hi", "swapi"], "time_utc_start": "2026-02-10T11:50",
              "time_utc_end": "2026-02-10T12:10"}
    fast = ie.ialirt.space_weather(**kwargs)
    monkeypatch.setattr(_http, "_orjson", lambda: None)
    slow = ie.ialirt.space_weather(**kwargs)
    assert len(fast) == len(slow) > 100
    pd.testing.assert_frame_equal(fast.drop(columns="codice_hi_h"), slow.drop(columns="codice_hi_h"))
    hi = fast["instrument"] == "codice_hi"
    np.testing.assert_array_equal(np.stack(fast.loc[hi, "codice_hi_h"]), np.stack(slow.loc[hi, "codice_hi_h"]))


def test_space_weather_bisects_a_window_the_server_refuses(ialirt_url):
    df = ie.ialirt.space_weather(instrument="mag", time_utc_start="2026-02-10T00:00", time_utc_end="2026-02-10T06:00",
                                 chunk="6h")                         # > 1 MB: the 400 is split until it fits
    assert len(df) == 6 * 900
    assert not df.duplicated("time_utc").any()


def test_space_weather_public_cutoff_and_hk_errors(ialirt_url, monkeypatch):
    with pytest.raises(ie.ApiError) as info:
        ie.ialirt.space_weather(instrument="mag", time_utc_start="2026-01-31T23:00")
    assert info.value.status == 400
    assert "2026-02-01T00:00:00" in str(info.value)
    assert "API key" in str(info.value)
    assert "IMAP_API_KEY" in str(info.value)
    with pytest.raises(ie.ApiError, match="Unauthorized for HK access"):
        ie.ialirt.space_weather(instrument="mag_hk", time_utc_start="2026-02-10T08:00")
    monkeypatch.setenv("IMAP_API_KEY", TEST_READ_KEY)                 # the key goes to /api-key routes
    hk = ie.ialirt.space_weather(instrument="mag_hk", time_utc_start="2026-02-10T08:00",
                                 time_utc_end="2026-02-10T08:01")
    assert len(hk) == 15
    assert hk["mag_hk_icu_temp"].notna().all()
    early = ie.ialirt.space_weather(instrument="hit", time_utc_start="2026-01-31T23:00")
    assert len(early) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"instrument": "MAG"}, "Unknown I-ALiRT instrument 'MAG'"),
        ({"instrument": ["mag", "sweep"]}, "Unknown I-ALiRT instrument 'sweep'"),
        ({"time_utc_start": "10/02/2026x"}, "Invalid time_utc_start"),
        ({"time_utc_start": "2026-02-10T09:00", "time_utc_end": "2026-02-10T08:00"}, "is before time_utc_start"),
        ({"time_utc_start": "2026-02-10", "chunk": "soon"}, "Invalid chunk"),
    ],
)
def test_space_weather_rejects_bad_arguments_before_any_request(kwargs, match, monkeypatch):
    monkeypatch.setenv("IALIRT_DATA_ACCESS_URL", "http://127.0.0.1:9")
    with pytest.raises(ValueError, match=match):
        ie.ialirt.space_weather(**kwargs)


def test_queries_download_and_get_data_merge_archive_and_stream(ialirt_url, server, tmp_path):
    files = ie.ialirt.archive_query(year=2026, month=2)
    assert files["file_name"].tolist() == [ARCHIVE, "imap_ialirt_l1_realtime_20260211_v001.cdf"]
    assert files["date"].dtype == "datetime64[ns]"
    assert files["version"].tolist() == ["v001", "v001"]
    assert ie.ialirt.log_query(year=2026, doy=41)["file_name"].tolist() == [
        "flight_iois_1.log.2026-041T00_00_05.123457"]
    assert len(ie.ialirt.packet_query(year="2026", doy="041")) == 24
    paths = ie.ialirt.download(files.iloc[:1], progress=False)
    assert paths[0] == ie.config.resolve().data_dir / "imap/ialirt/l1/2026/02" / ARCHIVE
    with pytest.raises(ie.DownloadError, match="not a part of a public release"):
        ie.ialirt.download("flight_iois_1.log.2026-041T00_00_05.123457", filetype="logs", progress=False)
    # the clock says 2026-02-17 12:00: the 10th is archived, the 11th only in the stream
    service = server.state.ialirt
    before = service.clock
    service.clock = lambda: dt.datetime(2026, 2, 17, 12, tzinfo=dt.timezone.utc).timestamp()
    try:
        ds = ie.ialirt.get_data(instrument="mag", start="2026-02-10T23:00", end="2026-02-11T01:00")
    finally:
        service.clock = before
    t = ds.mag_epoch.to_numpy()
    assert np.all(np.diff(t).astype(np.int64) > 0)                       # merged, sorted, no duplicate
    assert abs(len(t) - 1800) <= 2
    assert np.median(np.diff(t).astype(np.int64)) == 4_000_000_000
    assert ds.mag_B_GSE.dims == ("mag_epoch", "B_GSE_labels")
    late = ds.sel(mag_epoch=slice("2026-02-11T00:30", None)).mag_B_magnitude
    assert late.notnull().all()
    assert len(late) > 400


# ---------------------------------------------------------------------------------------------- faults
@pytest.fixture
def fake(httpserver, monkeypatch):
    monkeypatch.setenv("IALIRT_DATA_ACCESS_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setattr(_http, "BACKOFF", 0.01)
    return httpserver


def _record(t: str) -> dict:
    return {"instrument": "hit", "time_utc": t, "ttj2000ns": 823982480784000000, "hit_epoch": 823982450184000000,
            "hit_h_omni_low_en": "7", "hit_e_a_side_med_en": None}


def test_client_retries_gateway_errors_and_reads_old_string_numbers(fake):
    from werkzeug import Response

    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            return Response('{"message":"Bad Gateway"}', 502)
        if len(calls) == 2:
            return Response('{"message":"Service Unavailable"}', 503)
        return Response(json.dumps({"meta": {"count": 1}, "data": [_record("2026-02-10T08:00:11")]}),
                        content_type="application/json")

    fake.expect_request("/space-weather").respond_with_handler(handler)
    df = ie.ialirt.space_weather(instrument="hit", time_utc_start="2026-02-10T08:00")
    assert len(calls) == 3
    assert df["hit_h_omni_low_en"].tolist() == [7.0]
    assert np.isnan(df["hit_e_a_side_med_en"][0])


def _refusing_over_15_min(seen: list):
    """A /space-weather handler: windows over 15 min get the size 400, others a HIT record every 5 min."""
    from werkzeug import Response

    def handler(request):
        a, b = request.args["time_utc_start"], request.args["time_utc_end"]
        seen.append((a[11:16], b[11:16]))
        if pd.Timestamp(b) - pd.Timestamp(a) > pd.Timedelta("15min"):
            msg = ("Your request for 'hit' returned more data than allowed in a single query. Please reduce the "
                   "time window or filter further.")
            return Response(json.dumps({"message": msg}), 400, content_type="application/json")
        times = pd.date_range(a, b, freq="5min")
        return Response(json.dumps({"meta": {}, "data": [_record(f"{x:%Y-%m-%dT%H:%M:%S}") for x in times]}),
                        content_type="application/json")

    return handler


def test_client_bisects_on_the_size_limit_and_deduplicates_edges(fake):
    seen = []
    fake.expect_request("/space-weather").respond_with_handler(_refusing_over_15_min(seen))
    df = ie.ialirt.space_weather(instrument="hit", time_utc_start="2026-02-10T08:00", time_utc_end="2026-02-10T09:00",
                                 chunk="1h")
    assert len(df) == 13
    assert not df.duplicated("time_utc").any()
    assert len(seen) == 1 + 2 + 4


def test_client_learns_the_window_the_server_accepts(fake):
    """After one size 400 the later windows start at the accepted length: they are not refused again."""
    seen = []
    fake.expect_request("/space-weather").respond_with_handler(_refusing_over_15_min(seen))
    df = ie.ialirt.space_weather(instrument="hit", time_utc_start="2026-02-10T08:00", time_utc_end="2026-02-10T09:30",
                                 chunk="30min", max_workers=1)
    assert seen == [("08:00", "08:30"), ("08:00", "08:15"), ("08:15", "08:30"),   # refused, then bisected
                    ("08:30", "08:45"), ("08:45", "09:00"), ("09:00", "09:15"), ("09:15", "09:30")]
    assert len(df) == 19
    assert not df.duplicated("time_utc").any()


def test_client_reports_hk_403_and_slow_answers(fake, monkeypatch):
    from werkzeug import Response

    fake.expect_request("/space-weather").respond_with_json({"message": "Unauthorized for HK access."}, status=403)
    with pytest.raises(ie.ApiError) as info:
        ie.ialirt.space_weather(instrument="mag_hk")
    assert info.value.status == 403
    assert "Unauthorized for HK access." in str(info.value)
    assert len(fake.log) == 1                                        # never retried
    fake.clear()

    def slow(request):
        time.sleep(0.6)
        return Response('{"meta": {}, "data": []}', content_type="application/json")

    fake.expect_request("/space-weather").respond_with_handler(slow)
    with ie.set_options(timeout=(2.0, 0.2)), pytest.raises(ie.ApiError, match="no answer within the read timeout"):
        ie.ialirt.space_weather(instrument="hit")
    with ie.set_options(timeout=(2.0, 5.0)):
        assert len(ie.ialirt.space_weather(instrument="hit")) == 0     # slow but in time


def test_client_retries_a_dropped_connection(monkeypatch):
    """A server that closes the first connection mid-answer, then answers: one retry, one result."""
    monkeypatch.setattr(_http, "BACKOFF", 0.01)
    body = json.dumps({"meta": {}, "data": [_record("2026-02-10T08:00:11")]}).encode()
    listener = socket.create_server(("127.0.0.1", 0))
    count = []

    def serve():
        for _ in range(2):
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                count.append(1)
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                if len(count) == 1:
                    conn.sendall(head.encode() + b"Connection: close\r\n\r\n" + body[:10])
                else:
                    conn.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setenv("IALIRT_DATA_ACCESS_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        df = ie.ialirt.space_weather(instrument="hit")
    finally:
        thread.join(5)
        listener.close()
    assert len(count) == 2
    assert len(df) == 1


# ---------------------------------------------------------------------------------------------- live mode
def test_live_mode_shows_new_records_as_time_passes(ialirt_archive, tmp_path):
    clock = [dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc).timestamp()]
    with LocalSDC(ialirt_archive, db=tmp_path / "db.sqlite3", ialirt_live=True) as sdc:
        sdc.state.ialirt.clock = lambda: clock[0]
        first = get(sdc, "/space-weather?instrument=mag").json()["data"]
        assert first
        assert all(d["time_utc"] <= "2026-12-03T12:00:00" for d in first)
        newest = max(d["time_utc"] for d in first)
        assert "2026-12-03T11:56" <= newest                   # 1-3 min behind now
        clock[0] += 300
        cursor = (dt.datetime.fromisoformat(newest) - dt.timedelta(minutes=10)).isoformat()  # trailing overlap
        later = get(sdc, f"/space-weather?instrument=mag&time_utc_start={cursor}").json()["data"]
        assert max(d["time_utc"] for d in later) > newest
        times = [d["time_utc"] for d in later]
        assert any(t not in {d["time_utc"] for d in first} and t < newest for t in times)  # a late arrival


# ---------------------------------------------------------------------------------------------- our CLI
def test_cli_ialirt_commands(ialirt_url, capsys, tmp_path):
    from imap_explorer.cli import main

    assert main(["ialirt", "space-weather", "--instrument", "swapi", "--time_utc_start", "2026-02-10T08:00",
                 "--time-utc-end", "2026-02-10T08:01"]) == 0
    out = capsys.readouterr().out
    assert "swapi_pseudo_proton_speed" in out
    assert "5 rows" in out
    csv = tmp_path / "sw.csv"
    assert main(["ialirt", "space-weather", "--instrument", "swe,hit", "--met-in-utc-start", "2026-02-10T08:00",
                 "--time_utc_end", "2026-02-10T08:10", "--output-format", "csv", "-o", str(csv)]) == 0
    table = pd.read_csv(csv)
    assert set(table["instrument"]) == {"swe", "hit"}
    assert "swe_normalized_counts_100eV" in table
    assert main(["ialirt", "space-weather", "--instrument", "codice_hi", "--time_utc_start", "2026-02-10T08:00",
                 "--time_utc_end", "2026-02-10T08:05", "--output_format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["instrument"] == "codice_hi"
    assert not list(tmp_path.glob("*.json"))                          # nothing written unless asked
    assert main(["ialirt", "ialirt-archive-query", "--year", "2026", "--month", "02"]) == 0
    assert ARCHIVE in capsys.readouterr().out
    assert main(["ialirt", "log-query", "--year", "2026", "--doy", "041", "--instance", "2"]) == 0
    assert "flight_iois_2.log.2026-041" in capsys.readouterr().out
    assert main(["ialirt", "packet-query", "--time-utc-start", "2026-02-11T23:30", "--output-format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"files": []}
    assert main(["ialirt", "download", "--filetype", "packets", "--filename", "iois_1_packets_2026_041_05_00_05",
                 "--downloads_dir", str(tmp_path / "d"), "--no-progress"]) == 0
    assert (tmp_path / "d/ialirt/packets/iois_1_packets_2026_041_05_00_05").is_file()
    # the official global options, given after `ialirt`: --url and --api-key (logs need the key)
    assert main(["ialirt", "--url", ialirt_url, "--api-key", TEST_READ_KEY, "download", "--filetype", "logs",
                 "flight_iois_2.log.2026-042T00_00_05.123458", "--downloads_dir", str(tmp_path / "d"),
                 "--no-progress"]) == 0
    assert "link up" in (tmp_path / "d/ialirt/logs/flight_iois_2.log.2026-042T00_00_05.123458").read_text()
    capsys.readouterr()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["space-weather", "--instrument", "mag", "--time_utc_start", "2026-01-20"],
         "API key required for data prior to 2026-02-01T00:00:00"),
        (["space-weather", "--instrument", "MAG"], "Unknown I-ALiRT instrument 'MAG'"),
        (["space-weather", "--time_utc_start", "yesterday-ish"], "Invalid time_utc_start"),
        (["space-weather", "--instrument", "mag_hk"], "Unauthorized for HK access."),
        (["archive-query", "--since", "20260210", "--year", "2026"], "since cannot be combined"),
        (["download", "--filetype", "logs", "--filename", "flight_iois_1.log.2026-041T00_00_05.123457",
          "--no-progress"], "is not a part of a public release yet"),
    ],
)
def test_cli_ialirt_errors_are_one_line_and_exit_1(ialirt_url, capsys, argv, words):
    from imap_explorer.cli import main

    assert main(["ialirt", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("imap-explorer ialirt: error:")
    assert words in err
    assert "\n" not in err
    assert "Traceback" not in err


def test_records_to_frame_reads_historic_and_side_records():
    """Old servers: met_in_utc rows, numbers as strings; spice maps and HK flags become columns."""
    rows = [
        {"met_in_utc": "2025-10-17T08:00:03", "ttj2000ns": "813960073030000000", "mag_epoch": 813960070172000000,
         "mag_B_GSE": ["1.5", None, "-2"], "swapi_pseudo_proton_speed": "412.4", "apid": 478},
        {"instrument": "spice", "time_utc": "2026-02-10T08:01:05", "ttj2000ns": 823982534184000000,
         "spice_kernels": {"leapseconds": "naif0012.tls"}},
        {"instrument": "mag_hk", "time_utc": "2026-02-10T08:00:03", "kernel_set_key": "2026-02-10T08:01:05",
         "mag_hk_status": {"hk1v5_warn": False, "icu_temp": 2413}},
    ]
    df = ie.ialirt.records_to_frame(rows)
    old = df[df.instrument == ""].iloc[0]
    assert old["time_utc"] == pd.Timestamp("2025-10-17T08:00:03")
    assert old["epoch"] == pd.Timestamp("2025-10-17T08:00:03.846")      # a merged row: its ttj2000ns (a string)
    assert [old["mag_B_GSE_x"], old["mag_B_GSE_z"], old["swapi_pseudo_proton_speed"]] == [1.5, -2.0, 412.4]
    assert np.isnan(old["mag_B_GSE_y"])
    spice = df[df.instrument == "spice"].iloc[0]
    assert spice["spice_kernels_leapseconds"] == "naif0012.tls"
    hk = df[df.instrument == "mag_hk"].iloc[0]
    assert (hk["mag_hk_icu_temp"], hk["mag_hk_hk1v5_warn"]) == (2413.0, 0.0)
    assert hk["epoch"] == pd.Timestamp("2026-02-10T08:00:03")               # no epoch: the key time
    empty = ie.ialirt.records_to_frame([])
    assert list(empty.columns) == ["instrument", "time_utc", "epoch"]


def test_answers_of_different_shapes_join_and_the_later_copy_wins():
    """Windows converted one by one: a field that appears in a later answer is NaN before it; edge copies kept once."""
    from imap_explorer.ialirt.frame import assemble, frame_parts

    first = frame_parts([_record("2026-02-10T08:00:11"), {**_record("2026-02-10T08:01:11"), "hit_h_omni_low_en": 1}])
    later = frame_parts([{**_record("2026-02-10T08:01:11"), "hit_h_omni_low_en": 2, "hit_he_omni_low_en": 5},
                         {**_record("2026-02-10T08:02:11"), "hit_he_omni_low_en": None}])
    df = assemble([*first, *later], deduplicate=True)
    assert df["time_utc"].dt.strftime("%M:%S").tolist() == ["00:11", "01:11", "02:11"]
    assert df["hit_h_omni_low_en"].tolist()[:2] == [7.0, 2.0]                      # the later 08:01:11 won
    assert np.isnan(df["hit_he_omni_low_en"][0])
    assert df["hit_he_omni_low_en"][1] == 5.0
    assert df["ttj2000ns"].dtype == "Int64"
    assert len(assemble([*first, *later])) == 4                                     # kept when not asked


def test_gc_pause_is_shared_by_fetches_in_several_threads():
    """The collector comes back when the last overlapping fetch ends, and only if it was on before the first."""
    import gc

    from imap_explorer.ialirt.client import _gc_paused

    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with _gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with _gc_paused():
            second_in.set()
            first_out.wait(5)
            seen["after the first ended"] = gc.isenabled()
        seen["after both"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"after the first ended": False, "after both": True}
    gc.disable()  # a caller that turned the collector off keeps it off
    try:
        with _gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
