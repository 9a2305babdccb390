"""The official client (imap-data-access 1.3.0, library and CLI) cannot tell LocalSDC from the real SDC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import imap_data_access  # a declared test dependency ([test] extra): missing it is an error, not a skip
import pytest
import requests
from imap_data_access.io import IMAPDataAccessError

from imap_explorer.filenames import sdc_key
from imap_explorer.server import TEST_READ_KEY, TEST_WRITE_KEY
from imap_explorer.server.sample import placeholder_bytes

OFFICIAL_CLI = str(Path(sys.executable).with_name("imap-data-access"))
NOT_FOUND = ("404 Not Found: File not found, make sure you include the full path to the file in the request, "
             "e.g. /download/path/to/file/filename.pkts.")
NEW_FILE = "imap_mag_l2_norm-gse_20260130_v001.0001.cdf"


@pytest.fixture
def sdc(sample_sdc):
    return sample_sdc


@pytest.fixture
def official(sdc, tmp_path, monkeypatch):
    """The official library, configured (its config dict is read at import) for this server."""
    data_dir = tmp_path / "official-data"
    data_dir.mkdir()
    monkeypatch.setitem(imap_data_access.config, "DATA_ACCESS_URL", sdc.url)
    monkeypatch.setitem(imap_data_access.config, "DATA_DIR", data_dir)
    monkeypatch.setitem(imap_data_access.config, "API_KEY", None)
    monkeypatch.setitem(imap_data_access.config, "ACCESS_TOKEN", None)
    return imap_data_access


def run_cli(sdc, tmp_path, *args, api_key=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAP_")}
    env.update(IMAP_DATA_ACCESS_URL=sdc.url, IMAP_DATA_DIR=str(tmp_path / "cli-data"))
    if api_key:
        env["IMAP_API_KEY"] = api_key
    (tmp_path / "cli-data").mkdir(exist_ok=True)
    return subprocess.run([OFFICIAL_CLI, *args], capture_output=True, text=True, env=env, timeout=60,
                          cwd=tmp_path)


# ------------------------------------------------------------------------------------------ library
def test_wire_official_query_matches_the_server_json(official, sdc):
    results = official.query(instrument="mag", data_level="l2", descriptor="norm-gse", start_date="20260120",
                             end_date="20260120")
    direct = requests.get(sdc.url + "/query?table=science&instrument=mag&data_level=l2&descriptor=norm-gse"
                          "&start_date=20260120&end_date=20260120", timeout=10).json()
    assert results == direct
    assert [r["version"] for r in results] == ["v002.0001", "v002.0003"]
    latest = official.query(instrument="mag", data_level="l2", descriptor="norm-gse", version="latest")
    assert [(r["start_date"], r["version"]) for r in latest] == [("20260120", "v002.0003"), ("20260121", "v001.0001")]
    pinned = official.query(instrument="mag", descriptor="norm-gse", major_version=1, minor_version=2)
    assert [r["version"] for r in pinned] == ["v001.0002"]
    ancillary = official.query(table="ancillary", instrument="mag", version="latest")
    assert [r["version"] for r in ancillary] == ["v002"]
    assert official.query(instrument="hi", repointing="repoint00123")[0]["repointing"] == 123


def test_wire_official_download_is_byte_identical_and_skips_existing(official, sdc):
    key = sdc_key("imap_mag_l2_norm-gse_20260120_v002.0003.cdf")
    path = official.download(key)
    assert path == Path(official.config["DATA_DIR"]) / key
    assert path.read_bytes() == (sdc.root / key).read_bytes()
    n_storage = len(sdc.storage_requests)
    assert official.download(path.name) == path  # already there: no request
    assert len(sdc.storage_requests) == n_storage


def test_wire_official_errors_show_status_reason_and_body(official, sdc):
    with pytest.raises(IMAPDataAccessError) as err:
        official.download("imap_mag_l2_norm-gse_20260120_v009.0001.cdf")
    assert str(err.value) == NOT_FOUND
    sdc.set_released("imap_mag_l2_norm-gse_20260120_v002.0001.cdf", False)
    key = sdc_key("imap_mag_l2_norm-gse_20260120_v002.0001.cdf")
    with pytest.raises(IMAPDataAccessError) as err:
        official.download(key)
    assert str(err.value) == f"403 Forbidden: The file {key} is not a part of a public release yet."
    with pytest.raises(IMAPDataAccessError) as err:
        official.upload(_local_file(sdc.root.parent, NEW_FILE))
    assert str(err.value).startswith("404 Not Found: ")  # prod: /upload exists only under /api-key


def test_wire_official_upload_then_query_and_conflict(official, sdc, monkeypatch):
    monkeypatch.setitem(official.config, "API_KEY", TEST_WRITE_KEY)
    local = _local_file(sdc.root.parent, NEW_FILE)
    official.upload(local)
    assert (sdc.root / sdc_key(NEW_FILE)).read_bytes() == local.read_bytes()
    found = official.query(instrument="mag", start_date="20260130")
    assert [(r["file_path"], r["released"]) for r in found] == [(sdc_key(NEW_FILE), False)]
    with pytest.raises(IMAPDataAccessError) as err:
        official.upload(local)
    assert str(err.value) == ('409 Conflict: {"error": "FileAlreadyExists", "message": "The file '
                              f"'{sdc_key(NEW_FILE)}' already exists. Rename it or remove the existing file before "
                              'uploading again."}')
    bad = _local_file(sdc.root.parent, "imap_foo_l1a_x_20250101_v001.0001.cdf")
    with pytest.raises(IMAPDataAccessError) as err:
        official.upload(bad)
    assert str(err.value) == ('400 Bad Request: "error: imap_foo_l1a_x_20250101_v001.0001.cdf does not match '
                              'ancillary, science, cadence, or SPICE file naming convention."')
    monkeypatch.setitem(official.config, "API_KEY", TEST_READ_KEY)
    with pytest.raises(IMAPDataAccessError) as err:
        official.upload(_local_file(sdc.root.parent, "imap_mag_l2_norm-gse_20260131_v001.0001.cdf"))
    assert str(err.value) == '403 Forbidden: "Upload access denied. Your API key has read-only permissions."'
    monkeypatch.setitem(official.config, "API_KEY", "not-a-key")
    with pytest.raises(IMAPDataAccessError) as err:
        official.query(instrument="mag")
    assert str(err.value) == '403 Forbidden: {"message":"Forbidden"}'


def test_wire_official_client_forwards_its_api_key_to_storage(official, sdc, monkeypatch):
    """The official client leaks x-api-key on the redirect (sdc-api.md §13); storage sees and ignores it."""
    monkeypatch.setitem(official.config, "API_KEY", TEST_READ_KEY)
    official.download(sdc_key("imap_mag_l1b_norm-mago_20251107_v001.0001.cdf"))
    assert sdc.storage_requests[-1]["method"] == "GET"
    assert sdc.storage_requests[-1]["credential_headers"] == ["x-api-key"]
    assert TEST_READ_KEY not in json.dumps(sdc.storage_requests)


def _local_file(folder: Path, name: str) -> Path:
    path = folder / "outbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(placeholder_bytes(name, 300))
    return path


# ------------------------------------------------------------------------------------------ CLI
def test_wire_official_cli_query_table_and_json(sdc, tmp_path):
    table = run_cli(sdc, tmp_path, "query", "--instrument", "mag", "--data-level", "l2", "--descriptor", "norm-gse")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "Found [3] matching files in science table"
    assert sum("imap_mag_l2_norm-gse_2026012" in line for line in lines) == 3
    as_json = run_cli(sdc, tmp_path, "query", "--instrument", "mag", "--data-level", "l2", "--descriptor",
                      "norm-gse", "--output-format", "json")
    assert as_json.returncode == 0, as_json.stderr
    direct = requests.get(sdc.url + "/query?table=science&instrument=mag&data_level=l2&descriptor=norm-gse",
                          timeout=10)
    assert as_json.stdout.strip() == direct.text
    empty = run_cli(sdc, tmp_path, "query", "--instrument", "codice")
    assert empty.stdout.strip() == "Found [0] matching files"


def test_wire_official_cli_download_upload_and_errors(sdc, tmp_path):
    key = sdc_key("imap_swe_l1b_sci_20260120_v001.0001.cdf")
    done = run_cli(sdc, tmp_path, "download", key)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "cli-data" / key
    assert done.stdout.strip() == f"Successfully downloaded the file to: {target}"
    assert target.read_bytes() == (sdc.root / key).read_bytes()
    missing = run_cli(sdc, tmp_path, "download", "imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v009.0001.cdf")
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"IMAPDataAccessError({NOT_FOUND!r})"
    local = _local_file(tmp_path, NEW_FILE)
    up = run_cli(sdc, tmp_path, "upload", str(local), api_key=TEST_WRITE_KEY)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip().endswith("Successfully uploaded the file to the IMAP SDC")
    again = run_cli(sdc, tmp_path, "upload", str(local), api_key=TEST_WRITE_KEY)
    assert again.returncode == 1
    assert again.stderr.strip().startswith("IMAPDataAccessError('409 Conflict: {\"error\": \"FileAlreadyExists\"")
    assert TEST_WRITE_KEY not in again.stderr


def test_wire_api_key_starting_with_a_dash_works_as_api_key_equals(sdc, tmp_path, capsys):
    """Keys made before keys were drawn to start with a letter may start with '-': --api-key=KEY takes them."""
    key = sdc.add_key("write", key="-4Y3Qp6dash-key-written-by-hand")
    split = run_cli(sdc, tmp_path, "--api-key", key, "upload", str(_local_file(tmp_path, NEW_FILE)))
    assert split.returncode == 2
    assert "expected one argument" in split.stderr  # what argparse does with the split form
    joined = run_cli(sdc, tmp_path, f"--api-key={key}", "upload", str(_local_file(tmp_path, NEW_FILE)))
    assert joined.returncode == 0, joined.stderr
    assert joined.stdout.strip().endswith("Successfully uploaded the file to the IMAP SDC")
    # ours, before and after the command
    from imap_explorer.cli import main

    for i, args in enumerate(([f"--api-key={key}", "upload"], ["upload", f"--api-key={key}"])):
        name = f"imap_mag_l2_norm-gse_2026012{i + 1}_v003.0001.cdf"
        assert main(["--url", sdc.url, *args, str(_local_file(tmp_path, name))]) == 0
        assert capsys.readouterr().out.strip() == f"Uploaded {name} as {sdc_key(name)}"
