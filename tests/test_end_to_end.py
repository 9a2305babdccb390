"""imap-explorer's own client (query, download, upload, load, CLI) end to end against LocalSDC."""

from __future__ import annotations

from pathlib import Path

import pytest

import imap_explorer as ie
from imap_explorer import cli
from imap_explorer.filenames import sdc_key
from imap_explorer.server import TEST_READ_KEY, TEST_WRITE_KEY, LocalSDC
from imap_explorer.server.sample import placeholder_bytes

from .conftest import ARCHIVE_START, REAL, requires_real

CONTRACT_COLUMNS = ["file_path", "instrument", "data_level", "descriptor", "start_date", "repointing",
                    "major_version", "minor_version", "ingestion_date", "cr", "crid", "released", "extension",
                    "version"]
GSE = "imap_mag_l2_norm-gse_20260120_v{}.cdf"


@pytest.fixture
def sdc(sample_sdc):
    return sample_sdc


def test_end_to_end_query_returns_the_contract_frame(sdc):
    with ie.set_options(url=sdc.url):
        frame = ie.query(instrument="mag", data_level="l2", descriptor="norm-gse", start_date="2026-01-20",
                         end_date="20260120")
        latest = ie.query(instrument="mag", data_level="l2", descriptor="norm-gse", version="latest")
        pinned = ie.query(instrument="mag", descriptor="norm-gse", version="v001.0002")
        ancillary = ie.query(table="ancillary", instrument="mag", version="latest")
        empty = ie.query(instrument="codice")
    assert list(frame.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert list(frame["version"]) == ["v002.0001", "v002.0003"]
    assert str(frame["start_date"].dtype).startswith("datetime64")
    assert frame["released"].tolist() == [True, True]
    assert sorted(zip(latest["start_date"].dt.strftime("%Y%m%d"), latest["version"])) == [
        ("20260120", "v002.0003"), ("20260121", "v001.0001")]
    assert list(pinned["version"]) == ["v001.0002"]
    assert list(ancillary["version"]) == ["v002"]
    assert len(empty) == 0
    assert list(empty.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS


def test_end_to_end_download_is_byte_identical_and_keeps_credentials_home(sdc, tmp_path):
    data = tmp_path / "local"
    with ie.set_options(url=sdc.url, api_key=TEST_READ_KEY, data_dir=data):
        frame = ie.query(instrument="mag", data_level="l2", start_date="20260120", end_date="20260121")
        paths = ie.download(frame, progress=False)
        assert len(paths) == len(frame) == 4
        for path, key in zip(paths, frame["file_path"]):
            assert path == data / key
            assert path.read_bytes() == (sdc.root / key).read_bytes()
        assert len(sdc.storage_requests) == 4
        assert all(r["credential_headers"] == [] for r in sdc.storage_requests)
        assert ie.download(frame, progress=False) == paths  # present: no request at all
        assert len(sdc.storage_requests) == 4
    assert not list(data.rglob("*.part"))


def test_end_to_end_download_errors_carry_the_server_words(sdc, tmp_path):
    sdc.set_released(GSE.format("002.0001"), False)
    with ie.set_options(url=sdc.url, data_dir=tmp_path / "local"):
        with pytest.raises(ie.DownloadError) as err:
            ie.download([GSE.format("009.0001"), GSE.format("002.0001"), GSE.format("001.0001")], progress=False)
    failures = err.value.failures
    assert set(failures) == {GSE.format("009.0001"), GSE.format("002.0001")}
    assert "404" in failures[GSE.format("009.0001")]
    assert "File not found, make sure you include the full path" in failures[GSE.format("009.0001")]
    assert "403" in failures[GSE.format("002.0001")]
    assert f"The file {sdc_key(GSE.format('002.0001'))} is not a part of a public release yet." in \
        failures[GSE.format("002.0001")]
    assert [p.name for p in err.value.paths] == [GSE.format("001.0001")]


def test_end_to_end_upload_query_conflict_and_refusals(sdc, tmp_path):
    name = "imap_mag_l1b_norm-mago_20251221_v001.0001.cdf"
    local = tmp_path / name
    local.write_bytes(placeholder_bytes(name, 4096))
    with ie.set_options(url=sdc.url, api_key=TEST_WRITE_KEY):
        assert ie.upload(local) == sdc_key(name)
        found = ie.query(instrument="mag", start_date="20251221", end_date="20251221")
        assert list(found["file_path"]) == [sdc_key(name)]
        assert found["released"].tolist() == [False]
        with pytest.raises(ie.FileAlreadyExistsError) as err:
            ie.upload(local)
        assert err.value.status == 409
        assert "already exists" in str(err.value)
    assert (sdc.root / sdc_key(name)).read_bytes() == local.read_bytes()
    with ie.set_options(url=sdc.url):
        assert len(ie.query(instrument="mag", start_date="20251221", end_date="20251221")) == 0  # public
    other = tmp_path / "imap_mag_l1b_norm-mago_20251222_v001.0001.cdf"
    other.write_bytes(placeholder_bytes(other.name))
    with ie.set_options(url=sdc.url, api_key=TEST_READ_KEY), pytest.raises(ie.UploadError) as err:
        ie.upload(other)
    assert err.value.status == 403
    assert "read-only permissions" in str(err.value)
    assert TEST_READ_KEY not in str(err.value)
    with ie.set_options(url=sdc.url), pytest.raises(ie.ImapExplorerError, match="API key"):
        ie.upload(other)


def test_end_to_end_cli_query_and_download(sdc, tmp_path, capsys):
    assert cli.main(["--url", sdc.url, "query", "--instrument", "mag", "--data-level", "l2", "--descriptor",
                     "norm-gse", "--version", "latest"]) == 0
    out = capsys.readouterr().out
    assert GSE.format("002.0003") in out
    assert GSE.format("002.0001") not in out
    data = tmp_path / "cli-data"
    key = sdc_key(GSE.format("002.0003"))
    assert cli.main(["--url", sdc.url, "--data-dir", str(data), "download", key, "--no-progress"]) == 0
    assert (data / key).read_bytes() == (sdc.root / key).read_bytes()
    assert cli.main(["--url", sdc.url, "--data-dir", str(data), "download", GSE.format("009.0001"),
                     "--no-progress"]) == 1
    assert "File not found" in capsys.readouterr().err


def test_end_to_end_synthetic_archive_query_download_load(synthetic_archive, tmp_path):
    from imap_explorer.synthetic import read_unreleased

    unreleased = read_unreleased(synthetic_archive)
    with LocalSDC(synthetic_archive, db=":memory:") as server:  # the shared archive stays untouched
        with ie.set_options(url=server.url, data_dir=tmp_path / "local"):
            public = ie.query(instrument="mag", data_level="l2", descriptor="norm-gse", start_date=ARCHIVE_START,
                              end_date=ARCHIVE_START, version="latest")
            assert len(public) == 1
            paths = ie.download(public, progress=False)
            ds = ie.load(paths)
        assert paths[0].read_bytes() == (synthetic_archive / public["file_path"].iloc[0]).read_bytes()
        assert "epoch" in ds.coords
        assert ds.sizes["epoch"] > 0
        assert unreleased, "the synthetic archive lists unreleased files: the released filter is checked on them"
        with ie.set_options(url=server.url):
            names = set(ie.query(instrument="mag", data_level="l2")["file_path"].str.rsplit("/", n=1).str[-1])
        with ie.set_options(url=server.url, api_key=TEST_READ_KEY):
            authed = set(ie.query(instrument="mag", data_level="l2")["file_path"].str.rsplit("/", n=1).str[-1])
        assert not names & unreleased
        assert unreleased <= authed
    assert not (synthetic_archive / ".imap-sdc.sqlite3").exists()


@requires_real
def test_end_to_end_real_flight_files(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with LocalSDC(REAL) as server, ie.set_options(url=server.url, data_dir=tmp_path / "local"):
        frame = ie.query(instrument="mag", data_level="l2")
        assert sorted(Path(p).name for p in frame["file_path"]) == [
            "imap_mag_l2_norm-dsrf_20260120_v003.cdf", "imap_mag_l2_norm-dsrf_20260228_v002.cdf"]
        assert frame["major_version"].tolist() == [1, 1]
        assert sorted(frame["minor_version"].tolist()) == [2, 3]
        swe = ie.query(instrument="swe", data_level="l2")
        paths = ie.download(swe, progress=False)
        assert [p.read_bytes() == (REAL / k).read_bytes() for p, k in zip(paths, swe["file_path"])] == [True]
