"""The imap-explorer command line: query/download/upload in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from imap_explorer import _http
from imap_explorer.cli import main
from imap_explorer.filenames import sdc_key

RECORDS = [
    {"extension": "cdf", "file_path": "imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260121_v001.0001.cdf",
     "instrument": "mag", "data_level": "l2", "descriptor": "norm-gse", "start_date": "20260121",
     "repointing": None, "major_version": 1, "minor_version": 1, "ingestion_date": "20260122 01:02:03",
     "cr": None, "crid": None, "released": True, "version": "v001.0001"},
    {"extension": "cdf", "file_path": "imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v001.0002.cdf",
     "instrument": "mag", "data_level": "l2", "descriptor": "norm-gse", "start_date": "20260120",
     "repointing": None, "major_version": 1, "minor_version": 2, "ingestion_date": "20260121 01:02:03",
     "cr": None, "crid": None, "released": True, "version": "v001.0002"},
]
NAME = "imap_mag_l2_norm-gse_20260120_v001.0002.cdf"
CDF = bytes.fromhex("cdf30001 0000ffff") + b"\x00" * 64


@pytest.fixture
def url(httpserver, monkeypatch):
    monkeypatch.setattr(_http, "BACKOFF", 0.01)
    return httpserver.url_for("/").rstrip("/")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_query_prints_count_and_table(httpserver, url, capsys):
    httpserver.expect_request("/query", query_string="table=science&instrument=mag&data_level=l2&latest=true"
                              ).respond_with_json(RECORDS)
    code, out, err = run(capsys, "--url", url, "query", "--instrument", "mag", "--data-level", "l2",
                         "--version", "latest")
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "Found [2] matching files in science table"
    assert re.match(r"^\| Instrument \| Data Level \| Descriptor \| Start Date \| Ingestion Date +\| Version +"
                    r"\| Filename +\|$", lines[2])
    assert NAME in lines[4]  # sorted by file_path: the 20th comes first
    assert "20260121 01:02:03" in lines[4]
    assert len(lines) == 7


def test_cli_query_json_prints_the_records(httpserver, url, capsys):
    httpserver.expect_request("/query").respond_with_json(RECORDS)
    code, out, _ = run(capsys, "--url", url, "query", "--instrument", "mag", "--output-format", "json")
    assert code == 0
    assert len(out.splitlines()) == 1
    assert json.loads(out) == sorted(RECORDS, key=lambda r: r["file_path"])


def test_cli_query_empty(httpserver, url, capsys):
    httpserver.expect_request("/query").respond_with_json([])
    assert run(capsys, "--url", url, "query", "--instrument", "swe") == (0, "Found [0] matching files\n", "")


def test_cli_query_server_error_is_one_stderr_line(httpserver, url, capsys):
    httpserver.expect_request("/api-key/query", headers={"x-api-key": "SECRET-KEY-1"}).respond_with_json(
        "Invalid 'version' value. Use format 'vMMM.mmmm' or 'vXXX'.", status=400)
    code, out, err = run(capsys, "--url", url, "--api-key", "SECRET-KEY-1", "query", "--instrument", "mag")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("imap-explorer query: error: 400 BAD REQUEST from http://")
    assert "/api-key/query?table=science&instrument=mag: Invalid 'version' value." in err
    assert "SECRET-KEY-1" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "--instrument", "foo"], "error: Unknown instrument 'foo'. Expected one of: codice,"),
        (["query", "--instrument", "mag", "--start-date", "2026/01/20"], "error: Invalid start_date '2026/01/20'"),
        (["query", "--instrument", "mag", "--repointing", "r12"], "error: Invalid repointing 'r12'"),
        (["query", "--table", "ancillary"], "error: At least one query parameter must be provided"),
        (["download", "../../etc/passwd"], "error: Refusing file path '../../etc/passwd'"),
        (["upload", "missing.cdf"], "error: No file to upload at 'missing.cdf'"),
    ],
)
def test_cli_bad_input_is_one_stderr_line_and_no_request(httpserver, url, capsys, argv, message):
    code, out, err = run(capsys, "--url", url, *argv)
    assert code == 1
    assert err.count("\n") == 1
    assert message in err
    assert httpserver.log == []


def test_cli_download_prints_where_files_went(httpserver, url, capsys, tmp_path):
    httpserver.expect_request(f"/download/{sdc_key(NAME)}").respond_with_data(CDF)
    code, out, err = run(capsys, "--url", url, "--data-dir", str(tmp_path / "archive"), "download", NAME,
                         "--no-progress")
    target = tmp_path / "archive" / sdc_key(NAME)
    assert code == 0
    assert out == f"Downloaded to {target}\n"
    assert target.read_bytes() == CDF


def test_cli_download_failure_lists_files_and_exits_1(httpserver, url, capsys, tmp_path):
    other = "imap_mag_l2_norm-gse_20260121_v001.0001.cdf"
    httpserver.expect_request(f"/download/{sdc_key(NAME)}").respond_with_data(CDF)
    httpserver.expect_request(f"/download/{sdc_key(other)}").respond_with_data(
        "File not found, make sure you include the full path to the file in the request.", status=404)
    code, out, err = run(capsys, "--url", url, "--data-dir", str(tmp_path), "download", NAME, other,
                         "--no-progress")
    assert code == 1
    assert out == f"Downloaded to {tmp_path / sdc_key(NAME)}\n"
    assert err.count("\n") == 1
    assert f"1 file could not be downloaded: {other}: 404 NOT FOUND" in err


def test_cli_upload_without_key_exits_1(httpserver, url, capsys, tmp_path):
    path = tmp_path / NAME
    path.write_bytes(CDF)
    code, _, err = run(capsys, "--url", url, "upload", str(path))
    assert code == 1
    assert "error: Uploading to the SDC needs an API key" in err
    assert httpserver.log == []


def test_cli_upload_with_key_prints_the_key(httpserver, url, capsys, tmp_path):
    path = tmp_path / NAME
    path.write_bytes(CDF)
    httpserver.expect_request(f"/api-key/upload/{NAME}").respond_with_json(httpserver.url_for("/put/here"))
    httpserver.expect_request("/put/here", method="PUT").respond_with_data("")
    code, out, err = run(capsys, "--url", url, "--api-key", "SECRET-KEY-2", "upload", str(path))
    assert (code, err) == (0, "")
    assert out == f"Uploaded {NAME} as {sdc_key(NAME)}\n"



@pytest.mark.parametrize("argv", [
    ["coverage", "--start-date", "20260101", "--end-date", "20260102"],
    ["versions", "imap_mag_l2_norm-gse_20260120_v001.cdf"],
    ["compare", "a.cdf", "b.cdf"],
    ["sync", "--instrument", "mag"],
    ["local"],
    ["prune"],
])
def test_cli_sdc_flags_after_every_command_that_uses_them(argv):
    from imap_explorer.cli import build_parser

    args = build_parser().parse_args([*argv, "--url", "http://sdc.test", "--data-dir", "here", "--api-key=-K"])
    assert (args.url, args.data_dir, args.api_key) == ("http://sdc.test", "here", "-K")
    before = build_parser().parse_args(["--url", "http://sdc.test", *argv])  # given before, kept
    assert before.url == "http://sdc.test"


def test_cli_local_after_the_command_reads_that_data_dir(capsys, tmp_path):
    from imap_explorer.server.sample import write_sample_archive

    write_sample_archive(tmp_path / "mine", (NAME,))
    code, out, err = run(capsys, "local", "--data-dir", str(tmp_path / "mine"))
    assert (code, err) == (0, "")
    assert NAME in out
    assert str(tmp_path / "mine") in out

def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAP_")}
    env.update(extra)
    return env


def test_cli_runs_as_a_real_subprocess(httpserver, url, tmp_path):
    httpserver.expect_request("/query").respond_with_json(RECORDS)
    done = subprocess.run([sys.executable, "-m", "imap_explorer", "query", "--instrument", "mag"],
                          capture_output=True, text=True, timeout=60,
                          env=_subprocess_env(IMAP_DATA_ACCESS_URL=url, IMAP_DATA_DIR=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "Found [2] matching files in science table"
    failed = subprocess.run([sys.executable, "-m", "imap_explorer", "--url", url, "query", "--instrument", "nope"],
                            capture_output=True, text=True, timeout=60, env=_subprocess_env())
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.count("\n") == 1
    assert failed.stderr.startswith("imap-explorer query: error: Unknown instrument 'nope'")


def test_import_does_not_load_requests_or_pandas():
    code = ("import sys, imap_explorer as ie; ie.set_options; "
            "print(sorted(m for m in ('requests', 'pandas', 'urllib3', 'tqdm', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=_subprocess_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
