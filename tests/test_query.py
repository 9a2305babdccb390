"""query(): parameter encoding, validation, typed columns, routing, errors, chunking -- over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import logging

import numpy as np
import pandas as pd
import pytest

import imap_explorer as ie
from imap_explorer import _http
from imap_explorer.config import set_options
from imap_explorer.query import COLUMNS, QueryResult, format_table, query, to_frame, to_json

KEY = "k3y-SECRET-abc123"
TOKEN = "t0ken-SECRET-xyz789"

SCIENCE = [
    {"extension": "cdf", "file_path": "imap/mag/l1b/2025/11/imap_mag_l1b_norm-mago_20251108_v002.0001.cdf",
     "instrument": "mag", "data_level": "l1b", "descriptor": "norm-mago", "start_date": "20251108",
     "repointing": None, "major_version": 2, "minor_version": 1, "ingestion_date": "2025-11-09 01:02:03",
     "cr": None, "crid": None, "released": True, "version": "v002.0001"},
    {"extension": "cdf", "file_path": "imap/mag/l1b/2025/11/imap_mag_l1b_norm-mago_20251107_v002.0001.cdf",
     "instrument": "mag", "data_level": "l1b", "descriptor": "norm-mago", "start_date": "20251107",
     "repointing": None, "major_version": 2, "minor_version": 1, "ingestion_date": "20251108 01:02:03",
     "cr": None, "crid": None, "released": True, "version": "v002.0001"},
    {"extension": "cdf",
     "file_path": "imap/hi/l1c/2025/11/imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf",
     "instrument": "hi", "data_level": "l1c", "descriptor": "45sensor-pset", "start_date": "20251107",
     "repointing": 123, "major_version": 2, "minor_version": 3, "ingestion_date": "2025-11-10, 04:05:06",
     "cr": 2290, "crid": "abc", "released": False, "version": "v002.0003"},
]
ANCILLARY = [
    {"file_path": "imap/ancillary/mag/imap_mag_l1b-cal_20250101_v001.cdf", "instrument": "mag",
     "descriptor": "l1b-cal", "start_date": "20250101", "end_date": None, "version": "v001", "extension": "cdf",
     "ingestion_date": "20250102 03:04:05", "released": True},
    {"file_path": "imap/ancillary/mag/imap_mag_l1b-cal_20250101_20251231_v002.cdf", "instrument": "mag",
     "descriptor": "l1b-cal", "start_date": "20250101", "end_date": "20251231", "version": "v002",
     "extension": "cdf", "ingestion_date": "20250202 03:04:05", "released": True},
    {"file_path": "imap/ancillary/mag/imap_mag_other_20250301_v003.cdf", "instrument": "mag",
     "descriptor": "other", "start_date": "20250301", "end_date": None, "version": "v003", "extension": "cdf",
     "ingestion_date": "20250302 03:04:05", "released": True},
]


@pytest.fixture
def sdc(httpserver, monkeypatch):
    """The pytest-httpserver as the SDC: IMAP_DATA_ACCESS_URL points at it; retries are fast."""
    monkeypatch.setenv("IMAP_DATA_ACCESS_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setattr(_http, "BACKOFF", 0.01)
    return httpserver


def received(server) -> list:
    return [request for request, _ in server.log]


def query_strings(server) -> list[str]:
    return [request.query_string.decode() for request in received(server)]


# --------------------------------------------------------------------------- encoding
def test_query_encodes_every_parameter(sdc):
    sdc.expect_request("/query").respond_with_json([])
    query(table="science", instrument="mag", data_level="l1b", descriptor="norm-mago", start_date="2025-12-01",
          end_date=dt.date(2025, 12, 31), ingestion_start_date=dt.datetime(2026, 1, 2, 13, 0),
          ingestion_end_date=pd.Timestamp("2026-01-05"), repointing="repoint00002", version="v001.0002",
          extension="cdf")
    assert query_strings(sdc) == [
        "table=science&instrument=mag&data_level=l1b&descriptor=norm-mago&start_date=20251201&end_date=20251231"
        "&ingestion_start_date=20260102&ingestion_end_date=20260105&repointing=2&major_version=1&minor_version=2"
        "&extension=cdf"
    ]


def test_query_latest_is_sent_as_latest_true_like_the_official_client(sdc):
    sdc.expect_request("/query").respond_with_json([])
    query(instrument="mag", data_level="l1b", start_date="20251201", end_date="20251231", repointing=2,
          version="latest")
    # the capture of imap-data-access 1.3.0 in sdc-api.md section 11
    assert query_strings(sdc) == [
        "table=science&instrument=mag&data_level=l1b&start_date=20251201&end_date=20251231&repointing=2&latest=true"
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"version": "v003"}, "table=science&instrument=mag&minor_version=3"),
        ({"version": "v001.0002"}, "table=science&instrument=mag&major_version=1&minor_version=2"),
        ({"version": "LATEST"}, "table=science&instrument=mag&latest=true"),
        ({"version": "v002", "table": "ancillary"}, "table=ancillary&instrument=mag&version=v002"),
        ({"version": "latest", "table": "ancillary"}, "table=ancillary&instrument=mag"),
        ({"version": "v001.0002", "table": "quicklook"},
         "table=quicklook&instrument=mag&major_version=1&minor_version=2"),
        ({"repointing": 12}, "table=science&instrument=mag&repointing=12"),
        ({"repointing": "repoint00012"}, "table=science&instrument=mag&repointing=12"),
        ({"repointing": "12"}, "table=science&instrument=mag&repointing=12"),
    ],
)
def test_query_encodes_version_and_repointing_forms(sdc, kwargs, expected):
    sdc.expect_request("/query").respond_with_json([])
    query(instrument="mag", **kwargs)
    assert query_strings(sdc) == [expected]


@pytest.mark.parametrize(
    "value",
    ["20260120", "2026-01-20", dt.date(2026, 1, 20), dt.datetime(2026, 1, 20, 23, 59),
     pd.Timestamp("2026-01-20T06:00"), np.datetime64("2026-01-20"),
     pd.Timestamp("2026-01-19T23:30-05:00"),  # aware: the UTC day counts (2026-01-20 04:30 UTC)
     dt.datetime(2026, 1, 21, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))],
)
def test_query_accepts_every_date_form(sdc, value):
    sdc.expect_request("/query").respond_with_json([])
    query(instrument="swe", start_date=value, end_date=value)
    assert query_strings(sdc) == ["table=science&instrument=swe&start_date=20260120&end_date=20260120"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"table": "sciense", "instrument": "mag"}, r"Unknown table 'sciense'. Expected one of: ancillary, quick"),
        ({"instrument": "MAG"}, r"Unknown instrument 'MAG'. Expected one of: codice, glows, hi, "),
        ({"instrument": "mag", "data_level": "L2"}, r"Unknown data level 'L2'. Expected one of: l0, l1, l1a"),
        ({"instrument": "mag", "start_date": "2026/01/20"}, r"Invalid start_date '2026/01/20'. Expected a date"),
        ({"instrument": "mag", "end_date": "20260230"}, r"Invalid end_date '20260230'"),
        ({"instrument": "mag", "ingestion_start_date": 20260120}, r"Invalid ingestion_start_date 20260120"),
        ({"instrument": "mag", "ingestion_end_date": pd.NaT}, r"Invalid ingestion_end_date NaT"),
        ({"instrument": "mag", "start_date": "20260121", "end_date": "20260120"}, r"start_date '20260121' is after"),
        ({"instrument": "mag", "version": "1.2"}, r"Invalid version '1.2'. Expected 'latest', 'vNNN'"),
        ({"instrument": "mag", "version": "v1.2"}, r"Invalid version 'v1.2'"),
        ({"instrument": "mag", "version": "v001.0002", "table": "ancillary"}, r"for the ancillary table"),
        ({"instrument": "mag", "repointing": "repoint12"}, r"Invalid repointing 'repoint12'. Expected an integer"),
        ({"instrument": "mag", "repointing": -1}, r"Invalid repointing -1"),
        ({"instrument": "mag", "repointing": True}, r"Invalid repointing True"),
        ({"instrument": "mag", "extension": "png"}, r"Unknown extension 'png' for the science table. .*cdf, pkts"),
        ({"instrument": "mag", "descriptor": "norm_gse"}, r"Invalid descriptor 'norm_gse'"),
        ({"table": "ancillary", "data_level": "l2"}, r"data_level='l2' cannot be used with the ancillary table"),
        ({"table": "science"}, r"At least one query parameter must be provided"),
        ({"instrument": "mag", "chunk_days": 0}, r"Invalid chunk_days 0"),
    ],
)
def test_query_rejects_bad_values_before_any_request(sdc, kwargs, match):
    sdc.expect_request("/query").respond_with_json([])
    with pytest.raises(ValueError, match=match):
        query(**kwargs)
    assert received(sdc) == []


# --------------------------------------------------------------------------- typed answers
def test_query_types_columns_and_orders_rows(sdc):
    sdc.expect_request("/query").respond_with_json(SCIENCE)
    frame = query(instrument="mag")
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(COLUMNS["science"])
    assert list(frame["file_path"]) == sorted(r["file_path"] for r in SCIENCE)
    assert frame["start_date"].dtype == "datetime64[ns]"
    assert frame["ingestion_date"].dtype == "datetime64[ns]"
    assert str(frame["repointing"].dtype) == "Int64"
    assert str(frame["cr"].dtype) == "Int64"
    assert frame["major_version"].dtype == "int64"
    assert frame["minor_version"].dtype == "int64"
    assert frame["released"].dtype == bool
    first = frame.iloc[0]  # the hi file sorts first
    assert first["instrument"] == "hi"
    assert first["start_date"] == pd.Timestamp("2025-11-07")
    assert first["repointing"] == 123
    assert first["cr"] == 2290
    assert first["ingestion_date"] == pd.Timestamp("2025-11-10 04:05:06")  # "%Y-%m-%d, %H:%M:%S"
    assert frame.iloc[1]["ingestion_date"] == pd.Timestamp("2025-11-08 01:02:03")  # "%Y%m%d %H:%M:%S"
    assert frame.iloc[2]["ingestion_date"] == pd.Timestamp("2025-11-09 01:02:03")  # "%Y-%m-%d %H:%M:%S"
    assert pd.isna(frame.iloc[1]["repointing"])
    assert pd.isna(frame.iloc[1]["cr"])
    assert not first["released"]
    assert frame["version"].tolist() == ["v002.0003", "v002.0001", "v002.0001"]


def test_query_empty_answer_is_an_empty_frame_with_the_same_columns(sdc):
    sdc.expect_request("/query").respond_with_json([])
    frame = query(instrument="mag", data_level="l2")
    full = to_frame(SCIENCE)
    assert frame.empty
    assert list(frame.columns) == list(full.columns)
    assert frame.dtypes.astype(str).tolist() == full.dtypes.astype(str).tolist()


def test_query_ancillary_types_end_date_and_resolves_latest_client_side(sdc):
    sdc.expect_request("/query").respond_with_json(ANCILLARY)
    frame = query(table="ancillary", instrument="mag", version="latest")
    assert list(frame.columns) == list(COLUMNS["ancillary"])
    assert frame["end_date"].dtype == "datetime64[ns]"
    # per (instrument, descriptor, start_date): v002 beats v001 for l1b-cal; 'other' stays
    assert frame["file_path"].tolist() == [
        "imap/ancillary/mag/imap_mag_l1b-cal_20250101_20251231_v002.cdf",
        "imap/ancillary/mag/imap_mag_other_20250301_v003.cdf",
    ]
    assert frame.iloc[0]["end_date"] == pd.Timestamp("2025-12-31")
    assert pd.isna(frame.iloc[1]["end_date"])


def test_query_ancillary_latest_keeps_each_repointing(sdc):
    # an ancillary record has no repointing key; files of different repointings are different series
    def anc(repoint: int, version: int) -> dict:
        name = f"imap_hi_esa-energies_20250101-repoint{repoint:05d}_v{version:03d}.csv"
        return {"file_path": f"imap/ancillary/hi/{name}", "instrument": "hi", "descriptor": "esa-energies",
                "start_date": "20250101", "end_date": None, "version": f"v{version:03d}", "extension": "csv",
                "ingestion_date": "20250102 03:04:05", "released": True}

    sdc.expect_request("/query").respond_with_json([anc(10, 1), anc(10, 2), anc(11, 1)])
    frame = query(table="ancillary", instrument="hi", version="latest")
    assert [p.rsplit("/", 1)[-1] for p in frame["file_path"]] == [
        "imap_hi_esa-energies_20250101-repoint00010_v002.csv", "imap_hi_esa-energies_20250101-repoint00011_v001.csv"]


def spice_kernel(root: str, version: int) -> dict:
    """A ``/spice-query`` record (sdc-api.md §9.1): no ``file_path``, ``file_name`` is ``<subdir>/<name>``."""
    return {"file_name": f"ck/{root}_2025_302_2025_303_{version:03d}.ah.bc", "file_root": root,
            "kernel_type": "attitude_history", "version": version, "ingestion_date": "2026-01-02, 03:04:05"}


def test_query_spice_asks_spice_query_and_derives_file_path(sdc):
    # /query?table=spice answers 500 on the SDC as soon as one kernel matches (§5.7): never ask it
    sdc.expect_request("/spice-query").respond_with_json([spice_kernel("imap_a", 10), spice_kernel("imap_b", 2)])
    frame = query(table="spice", version="latest", ingestion_start_date="20260101")
    assert query_strings(sdc) == ["latest=true&start_ingest_date=20260101"]
    assert frame["file_path"].tolist() == ["imap/spice/ck/imap_a_2025_302_2025_303_010.ah.bc",
                                           "imap/spice/ck/imap_b_2025_302_2025_303_002.ah.bc"]
    assert frame["ingestion_date"].tolist() == [pd.Timestamp("2026-01-02 03:04:05")] * 2
    sdc.clear_log()
    frame = query(table="spice", version="v002", ingestion_end_date="20260301")
    assert query_strings(sdc) == ["end_ingest_date=20260301"]  # the SDC refuses `version` there: matched here
    assert frame["file_root"].tolist() == ["imap_b"]


def test_query_spice_against_localsdc_lists_kernels(tmp_path):
    from imap_explorer.server import LocalSDC
    from imap_explorer.server.sample import write_sample_archive

    write_sample_archive(tmp_path / "archive")
    with LocalSDC(tmp_path / "archive") as server, set_options(url=server.url):
        frame = query(table="spice", version="latest")
        assert frame["file_path"].tolist() == ["imap/spice/lsk/naif0012.tls"]
        assert frame["kernel_type"].tolist() == ["leapseconds"]
        assert ie.download(frame)[0].name == "naif0012.tls"


def test_query_keeps_unknown_keys_and_refuses_unparseable_dates(sdc):
    rows = [dict(SCIENCE[0], new_key="kept")]
    sdc.expect_oneshot_request("/query").respond_with_json(rows)
    frame = query(instrument="mag")
    assert frame.columns[-1] == "new_key"
    assert frame.iloc[0]["new_key"] == "kept"
    sdc.expect_oneshot_request("/query").respond_with_json([dict(SCIENCE[0], ingestion_date="yesterday")])
    with pytest.raises(ValueError, match=r"Unexpected ingestion_date value 'yesterday'"):
        query(instrument="mag")


def test_query_result_displays_file_name_first_without_touching_api_keys(sdc):
    sdc.expect_request("/query").respond_with_json(SCIENCE)
    frame = query(instrument="mag")
    assert isinstance(frame, QueryResult)
    assert isinstance(frame, pd.DataFrame)
    html = frame._repr_html_()
    headers = [h.split("</th>")[0] for h in html.split("<th>")[1:]]
    assert headers[1:8] == ["file_name", "instrument", "data_level", "descriptor", "start_date", "version",
                           "file_path"]
    assert "imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf</td>" in html
    assert "file_name" not in frame.columns  # display only
    assert list(frame.columns) == list(COLUMNS["science"])
    # still a DataFrame through ordinary operations
    subset = frame[frame["instrument"] == "mag"]
    assert isinstance(subset, pd.DataFrame)
    assert len(subset) == 2
    assert "file_name" in subset._repr_html_()


def test_query_to_json_gives_back_the_api_records(sdc):
    sdc.expect_request("/query").respond_with_json(SCIENCE[1:2])
    frame = query(instrument="mag")
    assert json.loads(to_json(frame)) == [SCIENCE[1]]


def test_query_format_table_mirrors_the_official_cli(sdc):
    sdc.expect_request("/query").respond_with_json(SCIENCE)
    lines = format_table(query(instrument="mag"), "science").splitlines()
    assert lines[0] == "Found [3] matching files in science table"
    assert lines[1] == lines[3] == lines[-1]
    assert set(lines[1][1:-1]) == {"-"}
    assert [c.strip() for c in lines[2].strip("|").split("|")] == [
        "Instrument", "Data Level", "Descriptor", "Start Date", "Ingestion Date", "Version", "CR", "Repointing",
        "Filename"]
    assert [c.strip() for c in lines[4].strip("|").split("|")] == [
        "hi", "l1c", "45sensor-pset", "20251107", "20251110 04:05:06", "v002.0003", "2290", "123",
        "imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf"]
    assert len({len(line) for line in lines[1:]}) == 1  # every row as wide as the border
    assert format_table(to_frame([]), "science") == "Found [0] matching files"


# --------------------------------------------------------------------------- routing and credentials
@pytest.mark.parametrize(
    ("env", "path", "header", "value"),
    [
        ({}, "/query", None, None),
        ({"IMAP_API_KEY": KEY}, "/api-key/query", "x-api-key", KEY),
        ({"IMAP_ACCESS_TOKEN": TOKEN}, "/authorized/query", "Authorization", f"Bearer {TOKEN}"),
        ({"IMAP_API_KEY": KEY, "IMAP_ACCESS_TOKEN": TOKEN}, "/api-key/query", "x-api-key", KEY),
    ],
)
def test_query_routes_by_credential(sdc, monkeypatch, env, path, header, value):
    for name, val in env.items():
        monkeypatch.setenv(name, val)
    sdc.expect_request(path).respond_with_json([])
    query(instrument="mag")
    (request,) = received(sdc)
    assert request.path == path
    if header is None:
        assert "x-api-key" not in request.headers
        assert "Authorization" not in request.headers
    else:
        assert request.headers[header] == value
        other = "Authorization" if header == "x-api-key" else "x-api-key"
        assert other not in request.headers


def test_query_url_already_ending_with_prefix_is_not_doubled(sdc):
    sdc.expect_request("/api-key/query").respond_with_json([])
    with set_options(url=sdc.url_for("/api-key"), api_key=KEY):
        query(instrument="mag")
    assert received(sdc)[0].path == "/api-key/query"


def test_query_error_carries_status_url_and_unwrapped_message(sdc, monkeypatch, caplog):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    body = ("foo is not a valid query parameter for science table. Valid query parameters are: "
            "['extension', 'file_path']")
    sdc.expect_request("/api-key/query").respond_with_data(json.dumps(body), status=400,
                                                           content_type="application/json")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ie.ApiError) as info:
        query(instrument="mag")
    err = info.value
    assert err.status == 400
    assert err.reason == "BAD REQUEST"
    assert err.url == sdc.url_for("/api-key/query") + "?table=science&instrument=mag"
    assert err.body == body
    assert str(err).startswith("400 BAD REQUEST from http://")
    assert body in str(err)
    assert len(received(sdc)) == 1  # a 400 is not retried
    assert KEY not in str(err)
    assert KEY not in repr(err)
    assert caplog.records
    assert not [r for r in caplog.records if KEY in r.getMessage()]


def test_query_gateway_json_body_is_unwrapped(sdc, monkeypatch):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    sdc.expect_request("/api-key/query").respond_with_data('{"message":"Forbidden"}', status=403,
                                                           content_type="application/json")
    with pytest.raises(ie.ApiError, match=r"^403 FORBIDDEN from .*: Forbidden$") as info:
        query(instrument="mag")
    assert info.value.body == "Forbidden"


def test_query_retries_503_and_429_then_succeeds(sdc):
    sdc.expect_oneshot_request("/query").respond_with_data('{"message":"Service Unavailable"}', status=503)
    sdc.expect_oneshot_request("/query").respond_with_data("slow down", status=429, headers={"Retry-After": "0"})
    sdc.expect_request("/query").respond_with_json(SCIENCE[:1])
    frame = query(instrument="mag")
    assert len(frame) == 1
    assert len(received(sdc)) == 3


def test_query_retries_are_bounded(sdc):
    sdc.expect_request("/query").respond_with_data("bad gateway", status=502)
    with pytest.raises(ie.ApiError, match="502") as info:
        query(instrument="mag")
    assert info.value.status == 502
    assert len(received(sdc)) == _http.RETRIES + 1


def test_query_500_is_not_retried(sdc):
    sdc.expect_request("/query").respond_with_data('{"message":"Internal Server Error"}', status=500)
    with pytest.raises(ie.ApiError, match="Internal Server Error"):
        query(instrument="mag")
    assert len(received(sdc)) == 1


def test_query_unreachable_server_is_an_api_error_without_status(monkeypatch):
    import socket

    monkeypatch.setattr(_http, "BACKOFF", 0.0)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with set_options(url=f"http://127.0.0.1:{port}"), pytest.raises(ie.ApiError, match="cannot reach") as info:
        query(instrument="mag")
    assert info.value.status is None
    assert info.value.url.startswith(f"http://127.0.0.1:{port}/query?table=science")


def test_query_silent_server_hits_the_read_timeout_once(monkeypatch):
    """A server that accepts and never answers ends in an ApiError, not a hung notebook (sdc-api.md §13)."""
    import socket
    import threading

    monkeypatch.setattr(_http, "BACKOFF", 0.0)
    accepted = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(10)

        def accept_and_stay_silent():
            try:
                while True:
                    conn, _ = listener.accept()
                    accepted.append(conn)
                    hang_up = threading.Timer(10, conn.close)  # without a read timeout: fail, do not hang
                    hang_up.daemon = True
                    hang_up.start()
            except OSError:
                pass

        thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        try:
            with set_options(url=url, timeout=(5, 0.3)), pytest.raises(ie.ApiError) as info:
                query(instrument="mag")
        finally:
            for conn in accepted:
                conn.close()
    assert info.value.status is None
    assert "no answer within the read timeout" in str(info.value)
    assert info.value.url.startswith(f"{url}/query?table=science")
    assert len(accepted) == 1  # a silent server is not asked again


def test_query_non_json_answer_is_an_api_error(sdc):
    sdc.expect_request("/query").respond_with_data("<html>oops</html>", content_type="text/html")
    with pytest.raises(ie.ApiError, match="not JSON"):
        query(instrument="mag")


# --------------------------------------------------------------------------- chunking
def test_query_splits_long_ranges_and_dedupes(sdc):
    sdc.expect_request("/query").respond_with_json(SCIENCE)  # every chunk answers the same rows
    frame = query(instrument="mag", start_date="20250101", end_date="20250125", chunk_days=10)
    assert query_strings(sdc) == [
        "table=science&instrument=mag&start_date=20250101&end_date=20250110",
        "table=science&instrument=mag&start_date=20250111&end_date=20250120",
        "table=science&instrument=mag&start_date=20250121&end_date=20250125",
    ]
    assert len(frame) == len(SCIENCE)
    assert frame["file_path"].is_unique
    assert frame["file_path"].is_monotonic_increasing


def test_query_short_range_or_no_chunking_sends_one_request(sdc):
    sdc.expect_request("/query").respond_with_json([])
    query(instrument="mag", start_date="20250101", end_date="20250110", chunk_days=10)
    query(instrument="mag", start_date="20250101", end_date="20251231", chunk_days=None)
    assert query_strings(sdc) == [
        "table=science&instrument=mag&start_date=20250101&end_date=20250110",
        "table=science&instrument=mag&start_date=20250101&end_date=20251231",
    ]


def test_query_reads_textual_booleans_without_inverting_them(sdc):
    sdc.expect_request("/query").respond_with_json([dict(SCIENCE[0], released="false"),
                                                    dict(SCIENCE[1], released="true")])
    frame = query(instrument="mag")
    assert frame["released"].dtype == bool
    assert frame["released"].tolist() == [True, False]  # sorted by file_path: the 20251107 file first


def test_query_ancillary_json_and_table(sdc):
    sdc.expect_request("/query").respond_with_json(ANCILLARY)
    frame = query(table="ancillary", instrument="mag")
    assert json.loads(to_json(frame)) == sorted(ANCILLARY, key=lambda r: r["file_path"])
    lines = format_table(frame, "ancillary").splitlines()
    assert lines[0] == "Found [3] matching files in ancillary table"
    assert [c.strip() for c in lines[2].strip("|").split("|")] == [
        "Instrument", "Descriptor", "Start Date", "End Date", "Ingestion Date", "Version", "Filename"]
    assert [c.strip() for c in lines[4].strip("|").split("|")] == [
        "mag", "l1b-cal", "20250101", "20251231", "20250202 03:04:05", "v002",
        "imap_mag_l1b-cal_20250101_20251231_v002.cdf"]
    assert [c.strip() for c in lines[5].strip("|").split("|")][3] == ""  # a null end date prints empty
