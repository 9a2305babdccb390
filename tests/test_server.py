"""LocalSDC over real sockets: every route's status, headers and exact bodies (sdc-api.md §2–§7, §10)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from imap_explorer import cli
from imap_explorer.filenames import sdc_key
from imap_explorer.server import TEST_READ_KEY, TEST_WRITE_KEY, LocalSDC
from imap_explorer.server.handlers import VALID_PARAMETERS, Request, handle_api
from imap_explorer.server.index import DB_NAME, Index, row_from_name
from imap_explorer.server.sample import placeholder_bytes, write_sample_archive
from imap_explorer.server.storage import Signer

from .conftest import REAL, requires_real

WRITE = {"x-api-key": TEST_WRITE_KEY}
READ = {"x-api-key": TEST_READ_KEY}
GSE = "imap_mag_l2_norm-gse_20260120_v{}.cdf"
NOT_FOUND_TEXT = ("File not found, make sure you include the full path to the file in the request, "
                  "e.g. /download/path/to/file/filename.pkts.")
SCIENCE_KEYS = ["extension", "file_path", "instrument", "data_level", "descriptor", "start_date", "repointing",
                "major_version", "minor_version", "ingestion_date", "cr", "crid", "released", "version"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample-archive")
    write_sample_archive(root)
    (root / "README.md").write_text("not an IMAP file\n")
    stamp = dt.datetime(2026, 1, 22, 3, 4, 5, tzinfo=dt.timezone.utc).timestamp()
    os.utime(root / sdc_key(GSE.format("001.0001")), (stamp, stamp))
    return root


@pytest.fixture(scope="module")
def sdc(archive):
    with LocalSDC(archive) as server:
        yield server


@pytest.fixture
def fresh(sample_sdc):
    """A private writable archive and server (for tests that change state)."""
    return sample_sdc


def get(sdc, path, **kw):
    kw.setdefault("allow_redirects", False)
    return requests.get(sdc.url + path, timeout=10, **kw)


def versions(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [r["version"] for r in resp.json()]


# ------------------------------------------------------------------------------------------ index
def test_index_row_from_name_legacy_repoint_cr_and_kinds():
    row = row_from_name("imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf", ingestion_date="x")
    assert (row["kind"], row["major_version"], row["minor_version"], row["released"]) == ("science", 1, 3, 1)
    row = row_from_name("a/imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf", ingestion_date="x")
    assert (row["repointing"], row["cr"], row["start_date"]) == (123, None, "20251107")
    row = row_from_name("a/imap_glows_l3b_ion-rate-profile_20250101-cr02290_v001.0001.cdf", ingestion_date="x")
    assert (row["repointing"], row["cr"]) == (None, 2290)
    row = row_from_name("a/imap_mag_l1b-cal_20250101_20251231_v002.cdf", ingestion_date="x")
    assert (row["kind"], row["end_date"], row["version"], row["data_level"]) == ("ancillary", "20251231", "v002", None)
    assert row_from_name("imap/spice/lsk/naif0012.tls", ingestion_date="x")["kind"] == "spice"
    other = row_from_name("README.md", ingestion_date="x")
    assert (other["kind"], other["released"]) == ("other", 0)


def test_index_rescan_adds_updates_removes_and_keeps_release_flags(fresh):
    root = fresh.root
    fresh.set_released(GSE.format("001.0001"), False)
    new = root / sdc_key("imap_swe_l2_sci_20260125_v001.0001.cdf")
    new.parent.mkdir(parents=True, exist_ok=True)
    new.write_bytes(placeholder_bytes(new.name))
    (root / sdc_key("naif0012.tls")).unlink()
    report = fresh.rescan()
    assert (report.added, report.removed) == (1, 1)
    public = get(fresh, "/query?instrument=swe&data_level=l2").json()
    assert [r["file_path"] for r in public] == [sdc_key(new.name)]
    assert fresh.index.get(sdc_key(GSE.format("001.0001")))["released"] == 0
    assert fresh.index.get(sdc_key("naif0012.tls")) is None


def test_index_rescan_racing_an_upload_keeps_the_uploaded_row(fresh, monkeypatch):
    from imap_explorer.server.index import Index

    name = "imap_mag_l2_norm-gse_20260130_v001.0001.cdf"
    walk = Index._walk

    def walk_then_upload(self):
        listed = list(walk(self))  # the scan has listed the tree when an upload lands
        url = get(fresh, f"/api-key/upload/{name}", headers=WRITE).json()
        assert requests.put(url, data=b"abc", timeout=10).status_code == 200
        yield from listed

    monkeypatch.setattr(Index, "_walk", walk_then_upload)
    assert fresh.rescan().removed == 0
    monkeypatch.undo()
    row = fresh.index.get(sdc_key(name))
    assert row is not None
    assert row["released"] == 0  # still the upload's row, not re-added later as a released scan find
    later = fresh.rescan()  # and later scans leave it alone
    assert (later.added, later.updated, later.removed) == (0, 0, 0)


def test_index_database_lives_beside_the_archive_hidden_from_scans(sdc, archive):
    assert Path(sdc.index.db_path) == archive / DB_NAME
    assert sdc.index.get(DB_NAME) is None
    assert get(sdc, f"/api-key/download/{DB_NAME}", headers=WRITE).status_code == 404


# ------------------------------------------------------------------------------------------ /query
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("", ["v002.0001", "v002.0003"]),
        ("&latest=true", ["v002.0003"]),
        ("&latest=TRUE", ["v002.0003"]),
        ("&latest=yes", ["v002.0001", "v002.0003"]),
        ("&major_version=1", ["v001.0001", "v001.0002"]),
        ("&version=v001", ["v002.0001"]),
        ("&version=v001.0002", ["v001.0002"]),
        ("&version=V1.2", ["v001.0002"]),
        ("&major_version=1&latest=true", ["v001.0001", "v001.0002"]),
    ],
)
def test_query_version_resolution_worked_example(sdc, params, expected):
    resp = get(sdc, f"/query?instrument=mag&descriptor=norm-gse&start_date=20260120&end_date=20260120{params}")
    assert versions(resp) == expected


def test_query_record_keys_order_types_and_formats(sdc, archive):
    resp = get(sdc, "/query?instrument=mag&descriptor=norm-gse&major_version=1&minor_version=1&end_date=20260120")
    assert resp.status_code == 200
    assert resp.reason == "OK"
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.text
    records = json.loads(body)
    assert body == json.dumps(records)  # default separators, ASCII escaping
    assert len(records) == 1
    rec = records[0]
    assert list(rec) == SCIENCE_KEYS
    assert rec == {
        "extension": "cdf", "file_path": "imap/mag/l2/2026/01/" + GSE.format("001.0001"), "instrument": "mag",
        "data_level": "l2", "descriptor": "norm-gse", "start_date": "20260120", "repointing": None,
        "major_version": 1, "minor_version": 1, "ingestion_date": "20260122 03:04:05", "cr": None, "crid": None,
        "released": True, "version": "v001.0001",
    }


def test_query_repointing_cr_legacy_and_exact_filters(sdc):
    rec = get(sdc, "/query?instrument=hi&repointing=123").json()
    assert [(r["repointing"], r["major_version"], r["minor_version"]) for r in rec] == [(123, 2, 3)]
    assert [r["cr"] for r in get(sdc, "/query?instrument=glows&cr=2290").json()] == [2290]
    legacy = get(sdc, "/query?descriptor=norm-dsrf").json()
    assert [(r["major_version"], r["minor_version"], r["version"]) for r in legacy] == [(1, 3, "v001.0003")]
    assert get(sdc, "/query?descriptor=norm").json() == []  # exact match, no wildcard
    assert [r["extension"] for r in get(sdc, "/query?instrument=mag&extension=pkts").json()] == ["pkts"]
    path = "imap/mag/l2/2026/01/" + GSE.format("002.0003")
    assert [r["file_path"] for r in get(sdc, f"/query?file_path={path}").json()] == [path]


def test_query_dates_are_inclusive_and_compare_start_date(sdc):
    days = sorted({r["start_date"] for r in get(sdc, "/query?instrument=mag&start_date=20260120").json()})
    assert days == ["20260120", "20260121"]
    days = {r["start_date"] for r in get(sdc, "/query?instrument=mag&start_date=20260121&end_date=20260121").json()}
    assert days == {"20260121"}
    assert get(sdc, "/query?instrument=mag&start_date=20260122").json() == []
    early = get(sdc, "/query?instrument=mag&ingestion_start_date=20260122&ingestion_end_date=20260122").json()
    assert [r["version"] for r in early] == ["v001.0001"]


def test_query_without_query_string_is_a_gateway_500(sdc):
    for path in ("/query", "/query?", "/api-key/query"):
        resp = get(sdc, path, headers=WRITE)
        assert (resp.status_code, resp.reason, resp.text) == (500, "Internal Server Error",
                                                              '{"message":"Internal Server Error"}')
        assert resp.headers["Content-Type"] == "application/json"


def test_query_unknown_table_is_400_with_exact_text(sdc):
    resp = get(sdc, "/query?table=foo&instrument=mag")
    assert (resp.status_code, resp.reason) == (400, "Bad Request")
    assert resp.text == ('"foo is not a valid table. Valid tables are: '
                         "['science', 'ancillary', 'spice', 'quicklook']\"")


@pytest.mark.parametrize("table", ["science", "ancillary", "spice", "quicklook"])
def test_query_unknown_parameter_names_only_the_first(sdc, table):
    resp = get(sdc, f"/query?table={table}&foo=1&bar=2")
    assert resp.status_code == 400
    assert resp.text == json.dumps(f"foo is not a valid query parameter for {table} table. "
                                   f"Valid query parameters are: {VALID_PARAMETERS[table]}")


def test_query_valid_parameter_lists_match_the_spec():
    assert str(VALID_PARAMETERS["science"]) == (
        "['extension', 'file_path', 'instrument', 'data_level', 'descriptor', 'start_date', 'repointing', "
        "'major_version', 'minor_version', 'ingestion_date', 'cr', 'crid', 'released', 'end_date', "
        "'ingestion_start_date', 'ingestion_end_date']")
    assert VALID_PARAMETERS["quicklook"] == VALID_PARAMETERS["science"]
    assert str(VALID_PARAMETERS["ancillary"]) == (
        "['file_path', 'instrument', 'descriptor', 'start_date', 'end_date', 'version', 'extension', "
        "'ingestion_date', 'released', 'ingestion_start_date', 'ingestion_end_date']")
    assert str(VALID_PARAMETERS["spice"]) == (
        "['file_path', 'file_name', 'ingestion_date', 'file_root', 'kernel_type', 'min_date_j2000', "
        "'max_date_j2000', 'file_intervals_j2000', 'min_date_datetime', 'max_date_datetime', "
        "'file_intervals_datetime', 'min_date_sclk', 'max_date_sclk', 'file_intervals_sclk', 'sclk_kernel', "
        "'lsk_kernel', 'version', 'released', 'ingestion_start_date', 'ingestion_end_date']")


def test_query_processing_order_date_parsed_during_the_walk(sdc):
    assert get(sdc, "/query?start_date=2025-01-01&foo=1").status_code == 500
    assert get(sdc, "/query?foo=1&start_date=2025-01-01").status_code == 400
    # an enum cast fails only when the query runs, after every name has been checked
    assert get(sdc, "/query?instrument=foo&bar=1").status_code == 400
    assert get(sdc, "/query?table=bad&version=x").status_code == 400
    assert "table" in get(sdc, "/query?table=bad&version=x").text


@pytest.mark.parametrize("version", ["latest", "vabc", "v1.2.3", "v001.x", ""])
def test_query_bad_version_is_400(sdc, version):
    resp = get(sdc, f"/query?instrument=mag&version={version}")
    assert (resp.status_code, resp.text) == (400, "\"Invalid 'version' value. Use format 'vMMM.mmmm' or 'vXXX'.\"")


@pytest.mark.parametrize(
    "query",
    ["instrument=foo", "data_level=l9", "extension=png", "repointing=abc", "major_version=1.5", "cr=x",
     "released=maybe", "instrument=mag&instrument=swe", "ingestion_date=yesterday", "start_date=20261340",
     "instrument=", "table=ancillary&instrument=xyz"],
)
def test_query_values_the_database_cannot_cast_are_500(sdc, query):
    resp = get(sdc, f"/query?{query}")
    assert (resp.status_code, resp.text) == (500, '{"message":"Internal Server Error"}')


def test_query_released_parameter_and_quicklook_plain_extension(sdc):
    assert len(get(sdc, "/query?instrument=mag&released=TRUE&major_version=1").json()) == 6
    assert get(sdc, "/query?instrument=mag&released=f").json() == []
    assert get(sdc, "/query?table=quicklook&extension=xyz").json() == []


def test_query_ancillary_records_and_versions(sdc):
    resp = get(sdc, "/query?table=ancillary&instrument=mag")
    records = resp.json()
    assert [list(r) for r in records] == [["file_path", "instrument", "descriptor", "start_date", "end_date",
                                           "version", "extension", "ingestion_date", "released"]]
    rec = records[0]
    assert rec["file_path"] == "imap/ancillary/mag/imap_mag_l1b-cal_20250101_20251231_v002.cdf"
    assert (rec["end_date"], rec["version"], rec["released"]) == ("20251231", "v002", True)
    hi = get(sdc, "/query?table=ancillary&instrument=hi&version=v001").json()
    assert [(r["end_date"], r["extension"]) for r in hi] == [(None, "csv")]
    for bad in ("latest=true", "repointing=10", "data_level=l1b"):
        assert get(sdc, f"/query?table=ancillary&{bad}").status_code == 400


def test_query_quicklook_table_has_no_server_side_versions(sdc):
    records = get(sdc, "/query?table=quicklook&instrument=mag").json()
    assert [(r["extension"], r["version"], list(r)) for r in records] == [("png", "v001.0001", SCIENCE_KEYS)]
    assert get(sdc, "/query?table=quicklook&version=v001").status_code == 400
    assert get(sdc, "/query?table=quicklook&latest=true").status_code == 400


def test_query_spice_table_crashes_on_any_row_like_the_real_server(sdc):
    assert get(sdc, "/query?table=spice&kernel_type=nothing").json() == []
    resp = get(sdc, "/query?table=spice&file_name=naif0012.tls")
    assert (resp.status_code, resp.text) == (500, '{"message":"Internal Server Error"}')


def test_query_pagination_offset_limit(sdc):
    everything = get(sdc, "/query?instrument=mag&major_version=1").json()
    paths = [r["file_path"] for r in everything]
    assert paths == sorted(paths)
    page = get(sdc, "/query?instrument=mag&major_version=1&offset=1&limit=2").json()
    assert [r["file_path"] for r in page] == paths[1:3]
    for query, text in [("offset=x", "'offset' and 'limit' must be integers."),
                        ("offset=-1", "'offset' must be greater than or equal to 0."),
                        ("limit=0", "'limit' must be greater than 0.")]:
        resp = get(sdc, f"/query?instrument=mag&{query}")
        assert (resp.status_code, resp.text) == (400, json.dumps(text))


def test_query_released_filter_applies_before_version_ranking(fresh):
    fresh.set_released(GSE.format("002.0003"), False)
    q = "/query?instrument=mag&descriptor=norm-gse&end_date=20260120&latest=true"
    assert versions(get(fresh, q)) == ["v002.0001"]
    assert versions(get(fresh, "/api-key" + q, headers=READ)) == ["v002.0003"]
    assert versions(get(fresh, "/authorized" + q, headers={"Authorization": "Bearer anything"})) == ["v002.0003"]
    rec = get(fresh, "/api-key" + q, headers=READ).json()[0]
    assert rec["released"] is False
    # a stray credential on a public route is ignored
    assert versions(get(fresh, q, headers=WRITE)) == ["v002.0001"]


# ------------------------------------------------------------------------------------------ gateway and auth
@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "body"),
    [
        ("GET", "/api-key/query?instrument=mag", {}, 401, '{"message":"Unauthorized"}'),
        ("GET", "/api-key/query?instrument=mag", {"x-api-key": ""}, 401, '{"message":"Unauthorized"}'),
        ("GET", "/api-key/query?instrument=mag", {"x-api-key": "nope"}, 403, '{"message":"Forbidden"}'),
        ("GET", "/authorized/query?instrument=mag", {}, 401, '{"message":"Unauthorized"}'),
        ("GET", "/authorized/query?instrument=mag", {"Authorization": "Basic abc"}, 401,
         '{"message":"Unauthorized"}'),
        ("GET", "/authorized/query?instrument=mag", {"Authorization": "Bearer "}, 401, '{"message":"Unauthorized"}'),
        ("POST", "/query?instrument=mag", {}, 404, '{"message":"Not Found"}'),
        ("HEAD", "/query?instrument=mag", {}, 404, ""),
        ("DELETE", "/download/x", {}, 404, '{"message":"Not Found"}'),
        ("GET", "/nothing", {}, 404, '{"message":"Not Found"}'),
        ("GET", "/api-key", WRITE, 404, '{"message":"Not Found"}'),
        ("GET", "/api-key/nothing", {}, 404, '{"message":"Not Found"}'),
        ("GET", "/queryx?instrument=mag", {}, 404, '{"message":"Not Found"}'),
        ("GET", "/upload/imap_mag_l2_norm-gse_20260130_v001.0001.cdf", {}, 404, '{"message":"Not Found"}'),
        ("GET", "/authorized/upload/imap_mag_l2_norm-gse_20260130_v001.0001.cdf",
         {"Authorization": "Bearer t"}, 404, '{"message":"Not Found"}'),
    ],
)
def test_gateway_routes_and_authorizers(sdc, method, path, headers, status, body):
    resp = requests.request(method, sdc.url + path, headers=headers, timeout=10, allow_redirects=False)
    assert (resp.status_code, resp.text) == (status, body)
    assert resp.headers["Content-Type"] == "application/json"


def test_gateway_access_tokens_and_custom_keys(tmp_path):
    write_sample_archive(tmp_path)
    with LocalSDC(tmp_path, api_keys={"k1": "read"}, access_tokens={"tok"}) as server:
        assert get(server, "/api-key/query?instrument=mag", headers={"x-api-key": "k1"}).status_code == 200
        assert get(server, "/api-key/query?instrument=mag", headers=WRITE).status_code == 403
        assert get(server, "/authorized/query?instrument=mag",
                   headers={"Authorization": "Bearer tok"}).status_code == 200
        assert get(server, "/authorized/query?instrument=mag",
                   headers={"Authorization": "Bearer other"}).status_code == 401
        key = server.add_key("write")
        assert get(server, "/api-key/query?instrument=mag", headers={"x-api-key": key}).status_code == 200
        server.remove_key(key)
        assert get(server, "/api-key/query?instrument=mag", headers={"x-api-key": key}).status_code == 403
    with pytest.raises(ValueError, match="scope"):
        LocalSDC(tmp_path, api_keys={"k": ""})


def test_gateway_cors_preflight_and_root_redirect(sdc):
    resp = requests.options(sdc.url + "/query", headers={"Origin": "http://x", "Access-Control-Request-Method": "GET"},
                            timeout=10)
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert get(sdc, "/").status_code == 302


def test_handlers_are_pure_functions_of_the_request(sdc):
    resp = handle_api(sdc.state, Request("GET", "/query", "instrument=mag&latest=true&descriptor=norm-gse&"
                                                          "end_date=20260120"))
    assert resp.status == 200
    assert [r["version"] for r in json.loads(resp.body)] == ["v002.0003"]
    assert handle_api(sdc.state, Request("GET", "/download/")).status == 400


# ------------------------------------------------------------------------------------------ /download
def test_download_errors_are_bare_text_html(sdc):
    for path in ("/download", "/download/", "/api-key/download"):
        resp = get(sdc, path, headers=WRITE)
        assert (resp.status_code, resp.reason) == (400, "Bad Request")
        assert resp.text == ("No file requested for download. Please provide a filename in the path. "
                             "Eg. /download/path/to/file/filename.pkts")
        assert resp.headers["Content-Type"] == "text/html"
    for path in ("/download/imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v009.0001.cdf",
                 "/download/" + GSE.format("001.0001"),  # a bare file name is not a key
                 "/api-key/download/imap/nothing"):
        resp = get(sdc, path, headers=WRITE)
        assert (resp.status_code, resp.reason, resp.text) == (404, "Not Found", NOT_FOUND_TEXT)
        assert resp.headers["Content-Type"] == "text/html"


def test_download_public_release_rules(fresh):
    fresh.set_released(GSE.format("001.0002"), False)
    key = sdc_key(GSE.format("001.0002"))
    resp = get(fresh, f"/download/{key}")
    assert (resp.status_code, resp.reason) == (403, "Forbidden")
    assert resp.text == f"The file {key} is not a part of a public release yet."
    assert resp.headers["Content-Type"] == "text/html"
    assert get(fresh, f"/api-key/download/{key}", headers=READ).status_code == 302
    assert get(fresh, f"/authorized/download/{key}", headers={"Authorization": "Bearer t"}).status_code == 302
    quicklook = sdc_key("imap_mag_l1b_norm-mago_20251107_v001.0001.png")
    assert get(fresh, f"/download/{quicklook}").status_code == 403
    assert get(fresh, f"/download/{sdc_key('naif0012.tls')}").status_code == 302
    fresh.set_released("imap_mag_l1b-cal_20250101_20251231_v002.cdf", False)
    assert get(fresh, f"/download/{sdc_key('imap_mag_l1b-cal_20250101_20251231_v002.cdf')}").status_code == 403
    (fresh.root / "README.md").write_text("x")
    fresh.rescan()
    assert get(fresh, "/download/README.md").status_code == 403
    assert get(fresh, "/api-key/download/README.md", headers=WRITE).status_code == 302


def test_download_redirects_to_a_signed_url_on_another_origin(sdc, archive):
    key = sdc_key(GSE.format("002.0001"))
    resp = get(sdc, f"/download/{key}")
    assert (resp.status_code, resp.reason) == (302, "Found")
    assert resp.headers["Content-Type"] == "text/html"
    location = resp.headers["Location"]
    assert resp.text == json.dumps({"download_url": location})
    api, storage = urlsplit(sdc.url), urlsplit(location)
    assert (api.hostname, storage.hostname) == ("127.0.0.1", "localhost")
    assert f"{storage.scheme}://{storage.netloc}" == sdc.storage_url != sdc.url
    assert storage.path == f"/sds-data-000000000000/{key}"
    params = parse_qs(storage.query)
    assert params["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert params["X-Amz-Expires"] == ["86400"]
    assert params["X-Amz-SignedHeaders"] == ["host"]
    assert len(params["X-Amz-Signature"][0]) == 64
    data = requests.get(location, timeout=10)
    assert data.status_code == 200
    assert data.content == (archive / key).read_bytes()
    assert data.headers["Content-Length"] == str(len(data.content))
    assert data.headers["ETag"] == f'"{hashlib.md5(data.content).hexdigest()}"'  # S3: the content MD5
    assert "GMT" in data.headers["Last-Modified"]
    head = requests.head(location, timeout=10)
    assert (head.status_code, head.content, head.headers["Content-Length"]) == (200, b"", str(len(data.content)))
    head = requests.head(sdc.url + f"/download/{key}", timeout=10)
    assert head.status_code == 302
    assert head.content == b""
    assert urlsplit(head.headers["Location"]).path == storage.path


def test_download_url_encoded_key_is_decoded(sdc):
    key = sdc_key(GSE.format("002.0001"))
    assert get(sdc, "/download/" + key.replace("/", "%2F")).status_code == 302


@pytest.mark.parametrize("tamper", ["signature", "key", "expires", "method", "missing", "bucket"])
def test_storage_rejects_tampered_urls_with_xml(sdc, tamper):
    key = sdc_key(GSE.format("002.0001"))
    url = get(sdc, f"/download/{key}").headers["Location"]
    method = "GET"
    if tamper == "signature":
        url = url[:-1] + ("0" if url[-1] != "0" else "1")
    elif tamper == "key":
        url = url.replace("v002.0001", "v002.0003")
    elif tamper == "expires":
        url = url.replace("X-Amz-Expires=86400", "X-Amz-Expires=86401")
    elif tamper == "method":
        method = "PUT"
    elif tamper == "missing":
        url = url.split("?")[0]
    elif tamper == "bucket":
        url = url.replace("sds-data-000000000000", "other-bucket")
    resp = requests.request(method, url, data=b"x" if method == "PUT" else None, timeout=10)
    assert resp.status_code == (404 if tamper == "bucket" else 403)
    assert resp.headers["Content-Type"] == "application/xml"
    assert resp.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>')
    if tamper != "bucket":
        assert "<Code>AccessDenied</Code>" in resp.text or "<Code>SignatureDoesNotMatch</Code>" in resp.text


def test_storage_expired_url_is_access_denied(sdc):
    key = sdc_key(GSE.format("002.0001"))
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    url = sdc.state.signer.presign("GET", key, 86400, now=old)
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 403
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in resp.text
    assert Signer("http://x").check("GET", key, {}) is not None


def test_storage_never_mixes_a_file_replaced_while_it_is_served(fresh, monkeypatch):
    import imap_explorer.server as server_module

    key = sdc_key(GSE.format("002.0001"))
    path = fresh.root / key
    old, new = path.read_bytes(), b"N" * 10_000
    decide = server_module.handle_storage

    def replaced_after_the_headers_are_decided(state, req):
        resp = decide(state, req)
        if req.method == "GET" and resp.file is not None and path.read_bytes() == old:
            part = path.with_name(path.name + ".swap")
            part.write_bytes(new)
            os.replace(part, path)  # e.g. an upload overwriting the key while the GET is under way
        return resp

    monkeypatch.setattr(server_module, "handle_storage", replaced_after_the_headers_are_decided)
    location = get(fresh, f"/download/{key}").headers["Location"]
    with pytest.raises(requests.RequestException):  # a short body the client can see, never old+new bytes
        requests.get(location, timeout=10)
    again = requests.get(location, timeout=10)
    assert (again.status_code, again.content) == (200, new)


# ------------------------------------------------------------------------------------------ /upload
def test_upload_flow_indexes_at_once_unreleased(fresh):
    name = "imap_mag_l2_norm-gse_20260130_v001.0001.cdf"
    resp = get(fresh, f"/api-key/upload/some/dir/{name}", headers=WRITE)
    assert (resp.status_code, resp.headers["Content-Type"]) == (200, "application/json")
    url = resp.json()
    assert resp.text == json.dumps(url)
    assert urlsplit(url).path == f"/sds-data-000000000000/{sdc_key(name)}"
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["3600"]
    payload = placeholder_bytes(name, 5000)
    put = requests.put(url, data=payload, headers={"Content-Type": ""}, timeout=10)
    assert (put.status_code, put.content) == (200, b"")
    assert put.headers["ETag"] == f'"{hashlib.md5(payload).hexdigest()}"'
    assert (fresh.root / sdc_key(name)).read_bytes() == payload
    assert not list((fresh.root / sdc_key(name)).parent.glob("*.part"))
    assert get(fresh, "/query?start_date=20260130").json() == []  # science uploads are not released
    rec = get(fresh, "/api-key/query?start_date=20260130", headers=READ).json()
    assert [(r["file_path"], r["released"]) for r in rec] == [(sdc_key(name), False)]
    ingested = dt.datetime.strptime(rec[0]["ingestion_date"], "%Y%m%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
    assert abs((dt.datetime.now(dt.timezone.utc) - ingested).total_seconds()) < 120
    again = get(fresh, f"/api-key/upload/{name}", headers=WRITE)
    assert (again.status_code, again.reason) == (409, "Conflict")
    assert again.text == json.dumps({"error": "FileAlreadyExists", "message": (
        f"The file '{sdc_key(name)}' already exists. Rename it or remove the existing file before uploading again.")})
    # the 409 check happens only when a URL is issued: a second PUT silently overwrites
    assert requests.put(url, data=b"new", timeout=10).status_code == 200
    assert (fresh.root / sdc_key(name)).read_bytes() == b"new"


def test_upload_refusals_have_exact_texts(fresh):
    resp = get(fresh, "/api-key/upload/imap_mag_l2_norm-gse_20260130_v001.0001.cdf", headers=READ)
    assert (resp.status_code, resp.reason, resp.text) == (
        403, "Forbidden", '"Upload access denied. Your API key has read-only permissions."')
    for path in ("/api-key/upload", "/api-key/upload/"):
        resp = get(fresh, path, headers=WRITE)
        assert (resp.status_code, resp.text) == (400, json.dumps(
            "No filename given for the upload. Please provide a filename in the path. "
            "Eg. /upload/path/to/file/filename.pkts"))
    resp = get(fresh, "/api-key/upload/imap_foo_l1a_x_20250101_v001.cdf", headers=WRITE)
    assert (resp.status_code, resp.text) == (400, json.dumps(
        "error: imap_foo_l1a_x_20250101_v001.cdf does not match ancillary, science, cadence, or SPICE file "
        "naming convention."))
    assert get(fresh, "/api-key/upload/x", headers={"x-api-key": "bad"}).status_code == 403


def test_upload_legacy_ancillary_and_spice_follow_sdc_defaults(fresh):
    for name, released in [("imap_swe_l1a_raw_20260130_v002.cdf", False),
                           ("imap_swe_cal_20260101_v001.csv", True), ("pck00011.tpc", True)]:
        url = get(fresh, f"/api-key/upload/{name}", headers=WRITE).json()
        assert requests.put(url, data=b"abc", headers={"Content-Type": ""}, timeout=10).status_code == 200
        row = fresh.index.get(sdc_key(name))
        assert bool(row["released"]) is released
    legacy = get(fresh, "/api-key/query?start_date=20260130&instrument=swe", headers=WRITE).json()
    assert [(r["major_version"], r["minor_version"]) for r in legacy] == [(1, 2)]


def test_upload_dev_deployment_allows_every_prefix(tmp_path):
    with LocalSDC(tmp_path, upload_public=True) as server:
        name = "imap_mag_l2_norm-gse_20260130_v001.0001.cdf"
        url = get(server, f"/upload/{name}").json()
        assert requests.put(url, data=b"abc", timeout=10).status_code == 200
        assert get(server, f"/authorized/upload/{name}", headers={"Authorization": "Bearer t"}).status_code == 409


def test_upload_read_only_archive_is_refused_and_never_written(tmp_path, monkeypatch):
    root = tmp_path / "ro"
    write_sample_archive(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for d in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        d.chmod(0o555)
    try:
        before = sorted(p.relative_to(root) for p in root.rglob("*"))
        with LocalSDC(root) as server:
            assert server.writable is False
            assert str(tmp_path / "cache") in server.index.db_path
            name = "imap_mag_l2_norm-gse_20260130_v001.0001.cdf"
            resp = get(server, f"/api-key/upload/{name}", headers=WRITE)
            assert resp.status_code == 403
            assert "read-only archive" in resp.json()
            url = server.state.signer.presign("PUT", sdc_key(name), 60)
            put = requests.put(url, data=b"abc", timeout=10)
            assert put.status_code == 403
            assert "read-only" in put.text
            assert get(server, f"/download/{sdc_key(GSE.format('002.0001'))}").status_code == 302
        assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    finally:
        for d in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
            d.chmod(0o755)


# ------------------------------------------------------------------------------------------ keys, logs, serve
def test_keys_command_add_list_remove(tmp_path, capsys):
    write_sample_archive(tmp_path)
    assert cli.main(["keys", "--archive", str(tmp_path), "add", "--scope", "read", "--owner", "ana"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) > 20
    assert cli.main(["keys", "--archive", str(tmp_path), "list"]) == 0
    listing = capsys.readouterr().out
    assert key not in listing
    assert key[:4] in listing
    assert "read" in listing
    assert "ana" in listing
    with LocalSDC(tmp_path, api_keys={}) as server:
        assert get(server, "/api-key/query?instrument=mag", headers={"x-api-key": key}).status_code == 200
        resp = get(server, "/api-key/upload/imap_mag_l2_norm-gse_20260130_v001.0001.cdf", headers={"x-api-key": key})
        assert resp.status_code == 403
        assert get(server, "/api-key/query?instrument=mag", headers=WRITE).status_code == 403  # no test keys
        assert cli.main(["keys", "--archive", str(tmp_path), "remove", key]) == 0
        assert get(server, "/api-key/query?instrument=mag", headers={"x-api-key": key}).status_code == 403
    assert cli.main(["keys", "--archive", str(tmp_path), "remove", key]) == 1
    assert key not in capsys.readouterr().err
    assert cli.main(["keys", "--archive", str(tmp_path), "add", "--scope", "root"]) == 1
    assert "admin, read, write" in capsys.readouterr().err


def test_generated_api_keys_never_start_with_a_dash(tmp_path, capsys):
    """A key starting with '-' is read as an option by argparse (imap-data-access --api-key -4Y3Q... upload)."""
    write_sample_archive(tmp_path)
    with LocalSDC(tmp_path, api_keys={}) as server:
        served = [server.add_key("write") for _ in range(3000)]  # 1 in 64 started with '-' before
    index = Index(tmp_path)
    try:
        stored = [index.add_key("read") for _ in range(500)]
    finally:
        index.close()
    for _ in range(3):
        assert cli.main(["keys", "--archive", str(tmp_path), "add"]) == 0
    printed = capsys.readouterr().out.split()
    keys = served + stored + printed
    assert len(set(keys)) == len(keys) == 3503
    assert [k for k in keys if not (k[0].isascii() and k[0].isalnum())] == []
    assert all(len(k) == 32 and k.replace("-", "").replace("_", "").isalnum() for k in keys)


def test_access_log_masks_api_keys(sdc, caplog):
    with caplog.at_level(logging.INFO, logger="imap_explorer.server"):
        get(sdc, "/api-key/query?instrument=mag", headers=WRITE)
        get(sdc, "/api-key/query?instrument=mag", headers={"x-api-key": "some-unknown-secret-key"})
        deadline = time.monotonic() + 5
        while len([r for r in caplog.records if "/api-key/query" in r.getMessage()]) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    text = caplog.text
    assert "/api-key/query" in text
    assert TEST_WRITE_KEY not in text
    assert "some-unknown-secret-key" not in text
    assert "imap…(24 chars)" in text


@pytest.mark.parametrize(("stop_signal", "sigint_ignored"),
                         [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)])
def test_serve_cli_prints_urls_and_stops_on_ctrl_c(tmp_path, stop_signal, sigint_ignored):
    # sigint_ignored: started like a background job of a script, which inherits SIGINT as ignored
    write_sample_archive(tmp_path)
    preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    proc = subprocess.Popen([sys.executable, "-m", "imap_explorer", "serve", "--archive", str(tmp_path),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec)
    try:
        lines = []
        while not any("Press Ctrl-C" in line for line in lines):  # read every line before communicate()
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        url = next(line for line in lines if "API:" in line).split("API:")[1].strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/query?instrument=mag", timeout=10).status_code == 200
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "storage: http://localhost:" in "".join(lines) + out
    assert "LocalSDC: stopped" in out
    assert TEST_WRITE_KEY not in out + err


def test_serve_function_stops_on_event(tmp_path, capsys):
    from imap_explorer.server import serve

    write_sample_archive(tmp_path)
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(tmp_path,), kwargs={"port": 0, "stop_event": stop})
    thread.start()
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert "LocalSDC: stopped" in capsys.readouterr().out


def test_localsdc_stop_releases_ports_and_closes_keepalive_connections(tmp_path):
    write_sample_archive(tmp_path)
    server = LocalSDC(tmp_path).start()
    session = requests.Session()
    assert session.get(server.url + "/query?instrument=mag", timeout=10).status_code == 200
    url = server.url
    server.close()
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/query?instrument=mag", timeout=5)
    assert "stopped" in repr(server)


# ------------------------------------------------------------------------------------------ real flight files
@requires_real
def test_real_archive_is_served_read_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = sorted((p.relative_to(REAL), p.stat().st_mtime_ns) for p in REAL.rglob("*"))
    with LocalSDC(REAL) as server:
        assert server.writable is False
        assert not server.index.db_path.startswith(str(REAL))
        mag = get(server, "/query?instrument=mag&data_level=l2").json()
        names = sorted(r["file_path"].rsplit("/", 1)[1] for r in mag)
        assert names == ["imap_mag_l2_norm-dsrf_20260120_v003.cdf", "imap_mag_l2_norm-dsrf_20260228_v002.cdf"]
        assert {(r["major_version"], r["version"]) for r in mag} == {(1, "v001.0003"), (1, "v001.0002")}
        swe = get(server, "/query?instrument=swe").json()
        assert len(swe) == len(list((REAL / "imap" / "swe").rglob("*.cdf")))  # (four since the 28 files came)
        key = "imap/mag/l1b/2025/10/imap_mag_l1b_norm-mago_20251017_v001.0001.cdf"
        location = get(server, f"/download/{key}").headers["Location"]
        assert requests.get(location, timeout=30).content == (REAL / key).read_bytes()
        resp = get(server, "/api-key/upload/imap_mag_l2_norm-gse_20260130_v001.0001.cdf", headers=WRITE)
        assert resp.status_code == 403
    assert sorted((p.relative_to(REAL), p.stat().st_mtime_ns) for p in REAL.rglob("*")) == before
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)


# ------------------------------------------------------------------------------------------ the rest
def test_spice_query_validates_names_and_lists_kernels(sdc):
    resp = get(sdc, "/spice-query?start_date=20250101")
    assert (resp.status_code, resp.text) == (400, json.dumps(
        "start_date is not a valid query parameter. Valid query parameters are: ['file_name', 'start_time', "
        "'end_time', 'type', 'latest', 'start_ingest_date', 'end_ingest_date']"))
    assert get(sdc, "/spice-query?start_time=abc").text == json.dumps("Invalid value for start_time: abc")
    records = get(sdc, "/spice-query?type=leapseconds&latest=true").json()
    assert [(r["file_name"], r["kernel_type"], r["version"]) for r in records] == [("lsk/naif0012.tls",
                                                                                    "leapseconds", 12)]
    assert get(sdc, "/spice-query?type=kernels&end_ingest_date=19990101").json() == []


def test_payload_over_the_gateway_limit_is_500(sdc, monkeypatch):
    from imap_explorer.server import handlers

    monkeypatch.setattr(handlers, "MAX_PAYLOAD_BYTES", 100)
    resp = get(sdc, "/query?instrument=mag")
    assert (resp.status_code, resp.text) == (500, '{"message":"Internal Server Error"}')
    assert get(sdc, "/query?instrument=codice").text == "[]"


def test_access_log_redacts_storage_signatures(sdc, caplog):
    location = get(sdc, f"/download/{sdc_key(GSE.format('002.0001'))}").headers["Location"]
    signature = parse_qs(urlsplit(location).query)["X-Amz-Signature"][0]
    with caplog.at_level(logging.INFO, logger="imap_explorer.server"):
        assert requests.get(location, timeout=10).status_code == 200
        deadline = time.monotonic() + 5
        while "storage" not in caplog.text:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert "X-Amz-Signature=REDACTED" in caplog.text
    assert signature not in caplog.text


def test_localsdc_busy_port_error_names_the_option(tmp_path, sdc):
    port = int(urlsplit(sdc.url).port)
    busy = LocalSDC(tmp_path, port=port)
    with pytest.raises(OSError, match=r"Cannot serve the api on 127\.0\.0\.1:\d+: .*Choose another port"):
        with busy:
            pass  # pragma: no cover - never reached
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):  # a failed start leaves no index open
        busy.index.count()


def test_spice_query_type_is_the_official_kernel_type(tmp_path):
    # the official client sends type=ephemeris_predicted (sdc-api.md §11): ephemerides are typed per source
    root = tmp_path / "archive"
    write_sample_archive(root, ("imap_pred_od004_20251002_20251113_v01.bsp", "imap_recon_20250925_20260420_v01.bsp",
                                "imap_2025_230_1.repoint.csv"))
    with LocalSDC(root) as server:
        records = get(server, "/spice-query?type=ephemeris_predicted&latest=true").json()
        assert [(r["file_name"], r["kernel_type"]) for r in records] == [
            ("spk/imap_pred_od004_20251002_20251113_v01.bsp", "ephemeris_predicted")]
        assert [r["file_name"] for r in get(server, "/spice-query?type=repoint").json()] == [
            "repoint/imap_2025_230_1.repoint.csv"]


def test_an_index_made_with_older_name_rules_is_rederived_on_open(tmp_path):
    """Kernel types (and every name column) follow the current rules; ingestion dates and release flags stay."""
    import sqlite3 as sql

    from imap_explorer.server.index import NAME_RULES_VERSION, Index

    root = tmp_path / "archive"
    write_sample_archive(root, ("imap_pred_od004_20251002_20251113_v01.bsp",))
    db = tmp_path / "index.sqlite3"
    index = Index(root, db=db)
    index.scan()
    index.close()
    with sql.connect(db) as conn:  # what an older release stored
        conn.execute("UPDATE files SET kernel_type='ephemeris', ingestion_date='2020-01-01 00:00:00', released=0")
        conn.execute("PRAGMA user_version = 1")
    index = Index(root, db=db)
    rows = index.execute("SELECT kernel_type, ingestion_date, released FROM files WHERE kind='spice'")
    assert [tuple(r) for r in rows] == [("ephemeris_predicted", "2020-01-01 00:00:00", 0)]
    assert index.execute("PRAGMA user_version")[0][0] == NAME_RULES_VERSION
    index.close()
