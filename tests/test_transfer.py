"""download() and upload() over real HTTP: an API server and a storage server on another origin."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import imap_explorer as ie
from imap_explorer import _http
from imap_explorer.config import resolve, set_options
from imap_explorer.exceptions import ConfigurationError
from imap_explorer.filenames import sdc_key
from imap_explorer.query import to_frame
from imap_explorer.server import LocalSDC
from imap_explorer.transfer import cdf_problem, download, download_action, file_paths, upload

KEY = "k3y-SECRET-abc123"
TOKEN = "t0ken-SECRET-xyz789"
SIGNATURE = "f00dfeedSIGNATURE"
NAME = "imap_mag_l2_norm-gse_20260120_v001.0001.cdf"


def cdf_bytes(seed: str, size: int = 3000) -> bytes:
    """Bytes that start like an uncompressed CDF v3 file; the rest derives from ``seed``."""
    body = (seed.encode() * (size // max(len(seed), 1) + 1))[:size]
    return bytes.fromhex("cdf30001 0000ffff") + body


def science_name(day: int, instrument: str = "mag") -> str:
    return f"imap_{instrument}_l2_norm-gse_202601{day:02d}_v001.0001.cdf"


@pytest.fixture(scope="module")
def storage_server():
    """A second HTTP server, on another host name and port: the presigned-URL storage."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def storage(storage_server):
    storage_server.clear()
    yield storage_server
    storage_server.clear()


@pytest.fixture
def api(httpserver, monkeypatch, tmp_path):
    """The pytest-httpserver as the SDC API (http://localhost:<p>); files go to tmp_path/data."""
    monkeypatch.setenv("IMAP_DATA_ACCESS_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setattr(_http, "BACKOFF", 0.01)
    return httpserver


def presigned(storage: HTTPServer, key: str) -> str:
    return storage.url_for(f"/sds-data-123/{key}") + f"?X-Amz-Expires=86400&X-Amz-Signature={SIGNATURE}"


def serve_files(api: HTTPServer, storage: HTTPServer, files: dict[str, bytes], *, prefix: str = "") -> None:
    """API: /download/<key> -> 302 to storage; storage: the bytes (any key in ``files``)."""
    by_key = {sdc_key(name): data for name, data in files.items()}

    def redirect(request: Request) -> Response:
        key = request.path.split("/download/", 1)[1]
        if key not in by_key:
            return Response("File not found, make sure you include the full path to the file in the request, "
                            "e.g. /download/path/to/file/filename.pkts.", status=404, content_type="text/html")
        url = presigned(storage, key)
        return Response(json.dumps({"download_url": url}), status=302, headers={"Location": url},
                        content_type="text/html")

    def blob(request: Request) -> Response:
        key = request.path.split("/sds-data-123/", 1)[1]
        return Response(by_key[key], status=200, content_type="binary/octet-stream")

    api.expect_request(re.compile(f"^{prefix}/download/.*")).respond_with_handler(redirect)
    storage.expect_request(re.compile("^/sds-data-123/.*")).respond_with_handler(blob)


def requests_of(server: HTTPServer) -> list[Request]:
    return [request for request, _ in server.log]


def parts_left(root) -> list:
    return list(root.rglob("*.part"))


# --------------------------------------------------------------------------- pure helpers
def test_cdf_problem_accepts_both_magic_forms_and_refuses_html():
    assert cdf_problem(bytes.fromhex("cdf30001 0000ffff")) is None
    assert cdf_problem(bytes.fromhex("cdf30001 cccc0001")) is None
    assert "not a CDF" in cdf_problem(b"<html><body>Service Unavailable</body></html>")
    assert "bytes 5-8" in cdf_problem(bytes.fromhex("cdf30001 12345678"))
    assert "only 3 bytes" in cdf_problem(b"\xcd\xf3\x00")


def test_download_action_decides_skip_fetch_refetch(tmp_path):
    path = tmp_path / NAME
    assert download_action(path) == "fetch"
    path.write_bytes(cdf_bytes("x"))
    assert download_action(path) == "skip"
    assert download_action(path, overwrite=True) == "refetch"
    path.write_bytes(b"<!DOCTYPE html><html>error</html>")
    assert download_action(path) == "refetch"
    other = tmp_path / "imap_mag_l1b-cal_20250101_20251231_v002.csv"
    other.write_text("a,b\n")
    assert download_action(other) == "skip"


def test_file_paths_accepts_names_keys_lists_frames_and_rows():
    key = sdc_key(NAME)
    frame = to_frame([{"file_path": key}, {"file_path": sdc_key(science_name(21))}])
    assert file_paths(NAME) == [key]
    assert file_paths(key) == [key]
    assert file_paths([NAME, key, science_name(21)]) == [key, sdc_key(science_name(21))]  # duplicates once
    assert file_paths(frame) == [key, sdc_key(science_name(21))]
    assert file_paths(frame.iloc[1]) == [sdc_key(science_name(21))]
    with pytest.raises(ValueError, match="'file_path' column"):
        file_paths(frame.rename(columns={"file_path": "path"}))
    with pytest.raises(TypeError, match="expected a file name"):
        file_paths(42)


# --------------------------------------------------------------------------- download
def test_download_follows_redirect_without_forwarding_credentials(api, storage, monkeypatch, tmp_path):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    data = cdf_bytes("mag")
    serve_files(api, storage, {NAME: data}, prefix="/api-key")
    paths = download(NAME, progress=False)
    target = tmp_path / "data" / "imap" / "mag" / "l2" / "2026" / "01" / NAME
    assert paths == [target]
    assert target.read_bytes() == data
    assert parts_left(tmp_path) == []
    (api_request,) = requests_of(api)
    assert api_request.path == f"/api-key/download/{sdc_key(NAME)}"
    assert api_request.headers["x-api-key"] == KEY
    (storage_request,) = requests_of(storage)
    assert storage_request.path == f"/sds-data-123/{sdc_key(NAME)}"
    assert storage_request.args["X-Amz-Signature"] == SIGNATURE
    assert "x-api-key" not in storage_request.headers
    assert "Authorization" not in storage_request.headers
    assert KEY not in str(dict(storage_request.headers))


def test_download_with_token_does_not_forward_the_bearer(api, storage, monkeypatch):
    monkeypatch.setenv("IMAP_ACCESS_TOKEN", TOKEN)
    serve_files(api, storage, {NAME: cdf_bytes("tok")}, prefix="/authorized")
    download([sdc_key(NAME)], progress=False)
    assert requests_of(api)[0].headers["Authorization"] == f"Bearer {TOKEN}"
    (storage_request,) = requests_of(storage)
    assert "Authorization" not in storage_request.headers
    assert "x-api-key" not in storage_request.headers


def test_download_skips_present_files_without_any_request(api, storage, tmp_path):
    serve_files(api, storage, {NAME: cdf_bytes("new")})
    target = tmp_path / "data" / sdc_key(NAME)
    target.parent.mkdir(parents=True)
    target.write_bytes(cdf_bytes("old"))
    assert download(NAME, progress=False) == [target]
    assert requests_of(api) == []
    assert requests_of(storage) == []
    assert target.read_bytes() == cdf_bytes("old")
    download(NAME, overwrite=True, progress=False)
    assert target.read_bytes() == cdf_bytes("new")
    assert len(requests_of(api)) == 1


def test_download_repairs_a_present_html_page(api, storage, tmp_path):
    serve_files(api, storage, {NAME: cdf_bytes("good")})
    target = tmp_path / "data" / sdc_key(NAME)
    target.parent.mkdir(parents=True)
    target.write_text("<html>Service Unavailable</html>")
    download(NAME, progress=False)
    assert target.read_bytes() == cdf_bytes("good")


def test_download_uses_data_dir_argument_over_settings(api, storage, tmp_path):
    serve_files(api, storage, {NAME: cdf_bytes("dd")})
    with set_options(data_dir=tmp_path / "ignored"):
        (path,) = download(NAME, data_dir=tmp_path / "chosen", progress=False)
    assert path == tmp_path / "chosen" / sdc_key(NAME)
    assert path.is_file()
    assert not (tmp_path / "ignored").exists()


def test_download_forty_files_in_parallel_from_a_query_frame(api, storage, tmp_path):
    names = [science_name(day % 28 + 1, "mag" if day < 28 else "swe") for day in range(40)]
    files = {name: cdf_bytes(name, size=20_000 + i) for i, name in enumerate(names)}
    serve_files(api, storage, files)
    frame = to_frame([{"file_path": sdc_key(n)} for n in names])
    paths = download(frame, max_workers=8, progress=False)
    assert len(paths) == 40
    assert sorted(p.name for p in paths) == sorted(names)
    for path in paths:
        assert path.read_bytes() == files[path.name]
    assert len(requests_of(api)) == 40
    assert len(requests_of(storage)) == 40
    assert parts_left(tmp_path) == []


def test_download_retries_503_then_succeeds(api, storage, tmp_path):
    api.expect_oneshot_request(re.compile("^/download/.*")).respond_with_data(
        '{"message":"Service Unavailable"}', status=503, content_type="application/json")
    serve_files(api, storage, {NAME: cdf_bytes("retry")})
    (path,) = download(NAME, progress=False)
    assert path.read_bytes() == cdf_bytes("retry")
    assert [r.path for r in requests_of(api)] == [f"/download/{sdc_key(NAME)}"] * 2


S3_INTERNAL_ERROR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We '
                     'encountered an internal error. Please try again.</Message><RequestId>4442587FB7D0A2F9'
                     '</RequestId></Error>')


def test_download_retries_a_storage_500_then_succeeds(api, storage, tmp_path):
    storage.expect_oneshot_request(re.compile("^/sds-data-123/.*")).respond_with_data(
        S3_INTERNAL_ERROR, status=500, content_type="application/xml")
    serve_files(api, storage, {NAME: cdf_bytes("storage-500")})
    (path,) = download(NAME, progress=False)
    assert path.read_bytes() == cdf_bytes("storage-500")
    assert len(requests_of(storage)) == 2
    assert parts_left(tmp_path) == []


def test_download_persistent_storage_500_names_the_file_url_and_words(api, storage, tmp_path):
    api.expect_request(re.compile("^/download/.*")).respond_with_handler(
        lambda request: Response("", status=302, headers={"Location": presigned(storage, sdc_key(NAME))}))
    storage.expect_request(re.compile("^/sds-data-123/.*")).respond_with_data(
        S3_INTERNAL_ERROR, status=500, content_type="application/xml")
    with pytest.raises(ie.DownloadError) as info:
        download(NAME, progress=False)
    reason = info.value.failures[NAME]
    assert NAME in str(info.value)
    assert reason.startswith(f"500 INTERNAL SERVER ERROR from {storage.url_for('/sds-data-123/' + sdc_key(NAME))}")
    assert "We encountered an internal error. Please try again." in reason
    assert SIGNATURE not in str(info.value)
    assert len(requests_of(storage)) == _http.RETRIES + 1  # retried like a 503, with the same bounded backoff
    assert parts_left(tmp_path) == []
    assert not (tmp_path / "data" / sdc_key(NAME)).exists()


def test_download_api_500_is_not_retried(api, storage, tmp_path):
    api.expect_request(re.compile("^/download/.*")).respond_with_data(
        '{"message":"Internal Server Error"}', status=500, content_type="application/json")
    with pytest.raises(ie.DownloadError) as info:
        download(NAME, progress=False)
    assert "Internal Server Error" in info.value.failures[NAME]
    assert len(requests_of(api)) == 1  # the SDC's own 500 (an unhandled exception) only repeats
    assert requests_of(storage) == []


def test_download_404_is_reported_and_the_others_complete(api, storage, tmp_path):
    good = [science_name(21), science_name(22)]
    missing = science_name(23)
    serve_files(api, storage, {name: cdf_bytes(name) for name in good})
    with pytest.raises(ie.DownloadError) as info:
        download([good[0], missing, good[1]], progress=False)
    err = info.value
    assert list(err.failures) == [missing]
    reason = err.failures[missing]
    assert reason.startswith(f"404 NOT FOUND from {api.url_for('/download/' + sdc_key(missing))}")
    assert "File not found, make sure you include the full path" in reason
    assert err.errors[missing].status == 404
    assert sorted(p.name for p in err.paths) == sorted(good)
    for name in good:
        assert (tmp_path / "data" / sdc_key(name)).read_bytes() == cdf_bytes(name)
    assert not (tmp_path / "data" / sdc_key(missing)).exists()
    assert missing in str(err)
    assert len(requests_of(api)) == 3  # a 404 is not retried


def test_download_truncated_body_leaves_nothing_behind(api, storage, tmp_path):
    key = sdc_key(NAME)
    api.expect_request(f"/download/{key}").respond_with_data(status=302, headers={"Location": presigned(storage, key)})

    def truncated(request: Request) -> Response:
        response = Response(cdf_bytes("cut", 100), status=200)
        response.headers["Content-Length"] = "5000"
        return response

    storage.expect_request(f"/sds-data-123/{key}").respond_with_handler(truncated)
    with pytest.raises(ie.DownloadError, match="IncompleteRead") as info:
        download(NAME, progress=False)
    assert NAME in info.value.failures
    assert SIGNATURE not in str(info.value)  # the presigned URL is redacted
    assert "X-Amz-Signature=REDACTED" in info.value.failures[NAME]
    assert not (tmp_path / "data" / key).exists()
    assert parts_left(tmp_path) == []
    assert len(requests_of(storage)) == _http.RETRIES + 1  # a broken transfer is retried, boundedly


def test_download_unreachable_storage_keeps_the_signature_out_of_the_whole_traceback(api, tmp_path):
    import socket
    import traceback

    with socket.socket() as sock:  # a storage port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = sdc_key(NAME)
    location = f"http://localhost:{port}/sds-data-123/{key}?X-Amz-Expires=86400&X-Amz-Signature={SIGNATURE}"
    api.expect_request(f"/download/{key}").respond_with_data(status=302, headers={"Location": location})
    with pytest.raises(ie.DownloadError, match="connection failed") as info:
        download(NAME, progress=False)
    err = info.value.errors[NAME]
    assert err.status is None
    assert err.__cause__ is not None  # the transport error stays chained, for the traceback
    shown = "".join(traceback.format_exception(err))  # what a notebook prints, causes included
    assert f"localhost:{port}" in shown
    assert SIGNATURE not in shown
    assert parts_left(tmp_path) == []


def test_download_refuses_an_html_page_saved_as_cdf(api, storage, tmp_path):
    key = sdc_key(NAME)
    api.expect_request(f"/download/{key}").respond_with_data(status=302, headers={"Location": presigned(storage, key)})
    storage.expect_request(f"/sds-data-123/{key}").respond_with_data(
        "<!DOCTYPE html><html><body>Please log in</body></html>", content_type="text/html")
    with pytest.raises(ie.DownloadError, match="not a CDF file") as info:
        download(NAME, progress=False)
    assert isinstance(info.value.errors[NAME], ie.InvalidFileError)
    assert not (tmp_path / "data" / key).exists()
    assert parts_left(tmp_path) == []
    assert len(requests_of(storage)) == 1  # a wrong file is not retried


def test_download_accepts_a_direct_200_from_the_api(api, tmp_path):
    api.expect_request(f"/download/{sdc_key(NAME)}").respond_with_data(cdf_bytes("direct"))
    (path,) = download(NAME, progress=False)
    assert path.read_bytes() == cdf_bytes("direct")


@pytest.mark.parametrize(
    "bad",
    ["../../etc/passwd", "/etc/passwd", "imap/mag/l2/2026/01/../../../../" + NAME, "/imap/mag/l2/2026/01/" + NAME,
     "imap/swe/l2/2026/01/" + NAME, "C:\\temp\\" + NAME, "imap_foo_l1a_x_20250101_v001.cdf"],
)
def test_download_refuses_bad_paths_before_any_request(api, storage, tmp_path, bad):
    serve_files(api, storage, {NAME: cdf_bytes("x")})
    with pytest.raises(ValueError, match=r"Refusing file path|is not an IMAP file name"):
        download([NAME, bad], progress=False)
    assert requests_of(api) == []
    assert not (tmp_path / "data").exists()


def test_download_same_file_concurrently_is_never_corrupt(api, storage, tmp_path):
    data = cdf_bytes("race", size=200_000)
    serve_files(api, storage, {NAME: data})
    errors = []

    def worker():
        try:
            download(NAME, overwrite=True, progress=False)
        except Exception as err:  # pragma: no cover - reported by the assert below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (tmp_path / "data" / sdc_key(NAME)).read_bytes() == data
    assert parts_left(tmp_path) == []


def test_download_shows_progress_bars(api, storage, capsys):
    serve_files(api, storage, {NAME: cdf_bytes("bar")})
    download(NAME, progress=True)
    err = capsys.readouterr().err
    assert "files" in err
    assert "bytes" in err


def test_download_nothing_is_no_request(api):
    assert download([], progress=False) == []
    assert requests_of(api) == []


def test_download_secrets_absent_from_logs_errors_and_reprs(api, storage, monkeypatch, caplog):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    serve_files(api, storage, {NAME: cdf_bytes("log")}, prefix="/api-key")
    caplog.set_level(logging.DEBUG)
    download(NAME, progress=False)
    with pytest.raises(ie.DownloadError) as info:
        download(science_name(25), progress=False)
    messages = [record.getMessage() for record in caplog.records]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("imap_explorer")]
    assert any("/api-key/download/" in m for m in ours)
    assert not [m for m in messages if KEY in m]  # no logger at all sees the key
    assert not [m for m in ours if SIGNATURE in m]  # our logs redact presigned URLs (urllib3's DEBUG does not)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)
    assert KEY not in repr(resolve())
    client = _http.Client(resolve())
    try:
        assert KEY not in repr(client)
    finally:
        client.close()


# --------------------------------------------------------------------------- upload
@pytest.fixture
def local_file(tmp_path):
    path = tmp_path / "outbox" / "imap_mag_l1b_norm-mago_20251221_v001.0001.cdf"
    path.parent.mkdir()
    path.write_bytes(cdf_bytes("upload", size=50_000))
    return path


def test_upload_gets_a_url_then_puts_the_bytes(api, storage, monkeypatch, local_file):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    put_url = storage.url_for(f"/sds-data-123/{sdc_key(local_file.name)}") + f"?X-Amz-Signature={SIGNATURE}"
    api.expect_request(f"/api-key/upload/{local_file.name}").respond_with_json(put_url)
    storage.expect_request(f"/sds-data-123/{sdc_key(local_file.name)}", method="PUT").respond_with_data(
        "", headers={"ETag": '"abc"'})
    assert upload(local_file) == "imap/mag/l1b/2025/12/imap_mag_l1b_norm-mago_20251221_v001.0001.cdf"
    (get,) = requests_of(api)
    assert get.method == "GET"
    assert get.headers["x-api-key"] == KEY
    (put,) = requests_of(storage)
    assert put.method == "PUT"
    assert put.get_data() == local_file.read_bytes()
    assert put.headers.get("Content-Type") == ""
    assert put.headers["Content-Length"] == str(local_file.stat().st_size)
    assert "x-api-key" not in put.headers
    assert "Authorization" not in put.headers


def test_upload_409_is_file_already_exists(api, storage, monkeypatch, local_file):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    key = sdc_key(local_file.name)
    body = {"error": "FileAlreadyExists",
            "message": f"The file '{key}' already exists. Rename it or remove the existing file before "
                       "uploading again."}
    api.expect_request(f"/api-key/upload/{local_file.name}").respond_with_json(body, status=409)
    with pytest.raises(ie.FileAlreadyExistsError, match="already exists") as info:
        upload(local_file)
    assert info.value.status == 409
    assert info.value.url == api.url_for(f"/api-key/upload/{local_file.name}")
    assert KEY not in str(info.value)
    assert requests_of(storage) == []


def test_upload_read_only_key_is_an_upload_error(api, monkeypatch, local_file):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    api.expect_request(f"/api-key/upload/{local_file.name}").respond_with_json(
        "Upload access denied. Your API key has read-only permissions.", status=403)
    with pytest.raises(ie.UploadError, match="read-only permissions") as info:
        upload(local_file)
    assert not isinstance(info.value, ie.FileAlreadyExistsError)
    assert info.value.status == 403


def test_upload_storage_failure_is_reported(api, storage, monkeypatch, local_file):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    put_url = storage.url_for("/sds-data-123/x") + f"?X-Amz-Signature={SIGNATURE}"
    api.expect_request(f"/api-key/upload/{local_file.name}").respond_with_json(put_url)
    storage.expect_request("/sds-data-123/x", method="PUT").respond_with_data(
        "<Error><Code>AccessDenied</Code></Error>", status=403)
    with pytest.raises(ie.UploadError, match="AccessDenied") as info:
        upload(local_file)
    assert SIGNATURE not in str(info.value)


def test_upload_without_key_fails_before_any_request(api, local_file):
    api.expect_request(re.compile(".*")).respond_with_json("nope")
    with pytest.raises(ConfigurationError, match="IMAP_API_KEY"):
        upload(local_file)
    assert requests_of(api) == []


def test_upload_checks_the_file_before_any_request(api, monkeypatch, tmp_path):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    api.expect_request(re.compile(".*")).respond_with_json("nope")
    with pytest.raises(FileNotFoundError, match="No file to upload"):
        upload(tmp_path / "imap_mag_l1b_norm-mago_20251221_v001.0001.cdf")
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    with pytest.raises(ValueError, match="'notes.txt' is not an IMAP file name"):
        upload(bad)
    assert requests_of(api) == []


def test_download_failed_overwrite_keeps_the_old_file(api, storage, tmp_path):
    key = sdc_key(NAME)
    target = tmp_path / "data" / key
    target.parent.mkdir(parents=True)
    target.write_bytes(cdf_bytes("old"))
    api.expect_request(f"/download/{key}").respond_with_data(status=302, headers={"Location": presigned(storage, key)})
    storage.expect_request(f"/sds-data-123/{key}").respond_with_data("<html>maintenance</html>")
    with pytest.raises(ie.DownloadError, match="not a CDF file"):
        download(NAME, overwrite=True, progress=False)
    assert target.read_bytes() == cdf_bytes("old")
    assert parts_left(tmp_path) == []


@pytest.mark.parametrize("receiver", ["process", "another thread"])
def test_download_interrupted_leaves_no_partial_file(api, storage, tmp_path, receiver):
    """Ctrl-C while bytes flow. The kernel hands a process's SIGINT to any of its threads: when one other than
    the main thread takes it, the main thread must still notice it while it waits for the transfers."""
    import os
    import signal
    import time

    key = sdc_key(NAME)
    api.expect_request(f"/download/{key}").respond_with_data(status=302, headers={"Location": presigned(storage, key)})
    started = threading.Event()

    def slow(request: Request) -> Response:
        def body():
            yield bytes.fromhex("cdf30001 0000ffff")
            started.set()
            for _ in range(100):  # ~4 s of trickling bytes unless the client goes away
                time.sleep(0.04)
                yield b"x" * 1024

        return Response(body(), status=200)

    storage.expect_request(f"/sds-data-123/{key}").respond_with_handler(slow)
    # a real SIGINT (Ctrl-C, or a Jupyter kernel interrupt) while the bytes are flowing
    def interrupt():
        if started.wait(10):
            if receiver == "process":
                os.kill(os.getpid(), signal.SIGINT)
            else:  # this thread takes it, as the kernel may choose
                signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    # Ctrl-C raises KeyboardInterrupt, as in an interactive Python, even when pytest itself was started with
    # SIGINT ignored (a background job of a non-interactive shell, as CI may be)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Thread(target=interrupt)
    timer.start()
    begun = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            download(NAME, progress=False)
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - begun < 3.5  # interrupted, not left to finish its ~4 s of bytes
    assert not (tmp_path / "data" / key).exists()
    assert parts_left(tmp_path) == []


@pytest.mark.parametrize(("status", "words"), [(503, "Slow Down"), (500, S3_INTERNAL_ERROR)])
def test_upload_put_is_retried_on_503_and_storage_500(api, storage, monkeypatch, local_file, status, words):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    path = f"/sds-data-123/{sdc_key(local_file.name)}"
    api.expect_request(f"/api-key/upload/{local_file.name}").respond_with_json(storage.url_for(path))
    storage.expect_oneshot_request(path, method="PUT").respond_with_data(words, status=status)
    storage.expect_request(path, method="PUT").respond_with_data("")
    upload(local_file)
    puts = requests_of(storage)
    assert len(puts) == 2
    assert puts[1].get_data() == local_file.read_bytes()


def test_download_credentials_follow_same_origin_hops_only(api, storage, monkeypatch, tmp_path):
    monkeypatch.setenv("IMAP_API_KEY", KEY)
    key = sdc_key(NAME)
    # hop 1: a relative redirect on the API origin (keeps the key); hop 2: same host name, other port (drops it)
    other_port = f"http://localhost:{storage.port}/sds-data-123/{key}?X-Amz-Signature={SIGNATURE}"
    api.expect_request(f"/api-key/download/{key}").respond_with_data(status=302, headers={"Location": "/moved/x"})
    api.expect_request("/moved/x").respond_with_data(status=307, headers={"Location": other_port})
    storage.expect_request(f"/sds-data-123/{key}").respond_with_data(cdf_bytes("hops"))
    (path,) = download(NAME, progress=False)
    assert path.read_bytes() == cdf_bytes("hops")
    first, second = requests_of(api)
    assert first.headers["x-api-key"] == KEY
    assert second.path == "/moved/x"
    assert second.headers["x-api-key"] == KEY
    (stored,) = requests_of(storage)
    assert "x-api-key" not in stored.headers


def test_download_redirect_loop_is_an_error(api):
    key = sdc_key(NAME)
    api.expect_request(f"/download/{key}").respond_with_data(status=302, headers={"Location": f"/download/{key}"})
    with pytest.raises(ie.DownloadError, match="more than 5 redirects"):
        download(NAME, progress=False)
    assert len(requests_of(api)) == _http.MAX_REDIRECTS + 1  # not retried


# --------------------------------------------------------------------------- resuming a broken transfer
# A download broken midway resumes from the byte where it stopped (Range + If-Range); the emulator's storage
# answers byte ranges the way S3 does.
RESUME_KEY = sdc_key(NAME)


def etag_of(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def serve_breaking(api, storage, versions: list[bytes], *, cut: float = 0.5, ranges: bool = True,
                   break_every: bool = False) -> None:
    """Storage that sends ``versions[i]`` on request i (the last one afterwards), cutting the first answer
    (or every answer) after ``cut`` of its body; with ``ranges``, it honours Range + If-Range as S3 does."""
    location = presigned(storage, RESUME_KEY)
    api.expect_request(f"/download/{RESUME_KEY}").respond_with_data(status=302, headers={"Location": location})
    calls = []

    def handler(request: Request) -> Response:
        data = versions[min(len(calls), len(versions) - 1)]
        first_call = not calls
        calls.append(request)
        headers = {"ETag": etag_of(data), "Content-Type": "binary/octet-stream"}
        status, body, start = 200, data, 0
        if ranges:
            headers["Accept-Ranges"] = "bytes"
            wanted = request.headers.get("Range", "")
            if_range = request.headers.get("If-Range")
            if wanted.startswith("bytes=") and (if_range is None or if_range == etag_of(data)):
                start = int(wanted[len("bytes="):].rstrip("-"))
                status, body = 206, data[start:]
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        length = len(body)
        if first_call or break_every:
            body = body[: max(1, int(len(body) * cut))]
        response = Response(body, status=status, headers=headers)
        response.headers["Content-Length"] = str(length)
        return response

    storage.expect_request(f"/sds-data-123/{RESUME_KEY}").respond_with_handler(handler)


def test_download_resumes_a_broken_transfer_from_where_it_stopped(api, storage, tmp_path):
    data = cdf_bytes("resume", 3 * 2**20)
    serve_breaking(api, storage, [data], cut=0.6)
    (path,) = download(NAME, progress=False)
    assert path.read_bytes() == data
    first, second = requests_of(storage)
    assert "Range" not in first.headers
    # what arrived before the break was kept (in whole chunks), and only the rest was asked for
    offset = int(second.headers["Range"].removeprefix("bytes=").removesuffix("-"))
    assert 0 < offset <= int(len(data) * 0.6)
    assert second.headers["If-Range"] == etag_of(data)
    assert parts_left(tmp_path) == []


def test_download_restarts_when_the_file_changed_between_attempts(api, storage, tmp_path):
    old, new = cdf_bytes("version one", 3 * 2**20), cdf_bytes("version two", 2 * 2**20 + 5)
    serve_breaking(api, storage, [old, new], cut=0.5)
    (path,) = download(NAME, progress=False)
    assert path.read_bytes() == new  # never half of one version and half of the other
    assert requests_of(storage)[1].headers["If-Range"] == etag_of(old)
    assert parts_left(tmp_path) == []


def test_download_without_range_support_restarts_cleanly(api, storage, tmp_path):
    data = cdf_bytes("no ranges", 3 * 2**20)
    serve_breaking(api, storage, [data], ranges=False)
    (path,) = download(NAME, progress=False)
    assert path.read_bytes() == data
    assert all("Range" not in r.headers for r in requests_of(storage))
    assert parts_left(tmp_path) == []


def test_download_keeps_resuming_then_gives_up_leaving_nothing(api, storage, tmp_path):
    data = cdf_bytes("always broken", 8 * 2**20)
    serve_breaking(api, storage, [data], cut=0.25, break_every=True)
    with pytest.raises(ie.DownloadError, match="IncompleteRead") as info:
        download(NAME, progress=False)
    assert NAME in info.value.failures
    offsets = [int(r.headers.get("Range", "bytes=0-")[6:].rstrip("-")) for r in requests_of(storage)]
    assert len(offsets) == _http.RETRIES + 1
    assert offsets == sorted(set(offsets))  # every attempt went further than the one before
    assert offsets[0] == 0
    assert not (tmp_path / "data" / RESUME_KEY).exists()
    assert parts_left(tmp_path) == []


# ---------------------------------------------------------------------------------------------- the emulator
def storage_url(sdc: LocalSDC) -> tuple[str, bytes]:
    key = next(p for p in sdc.root.rglob("*.cdf")).relative_to(sdc.root).as_posix()
    resp = requests.get(f"{sdc.url}/download/{key}", allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    return resp.headers["Location"], (sdc.root / key).read_bytes()


def test_emulator_storage_answers_byte_ranges_like_s3(sample_sdc):
    url, data = storage_url(sample_sdc)
    size = len(data)
    assert size > 20
    whole = requests.get(url, timeout=10)
    assert whole.status_code == 200
    assert whole.headers["Accept-Ranges"] == "bytes"
    etag = whole.headers["ETag"]
    half = size // 2
    part = requests.get(url, headers={"Range": f"bytes={half}-"}, timeout=10)
    assert part.status_code == 206
    assert part.content == data[half:]
    assert part.headers["Content-Range"] == f"bytes {half}-{size - 1}/{size}"
    assert int(part.headers["Content-Length"]) == size - half
    middle = requests.get(url, headers={"Range": "bytes=3-9", "If-Range": etag}, timeout=10)
    assert (middle.status_code, middle.content) == (206, data[3:10])
    suffix = requests.get(url, headers={"Range": "bytes=-7"}, timeout=10)
    assert (suffix.status_code, suffix.content) == (206, data[-7:])
    stale = requests.get(url, headers={"Range": f"bytes={half}-", "If-Range": '"0123456789abcdef"'}, timeout=10)
    assert (stale.status_code, stale.content) == (200, data)  # changed since: the whole object
    several = requests.get(url, headers={"Range": "bytes=0-1,5-6"}, timeout=10)
    assert (several.status_code, several.content) == (200, data)  # S3 ignores multi-range requests
    beyond = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=10)
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"
    assert b"<Code>InvalidRange</Code>" in beyond.content
    head = requests.head(url, headers={"Range": f"bytes={half}-"}, timeout=10)
    assert head.status_code == 206
    assert head.content == b""


def test_download_from_the_emulator_still_byte_identical(sample_sdc, tmp_path, monkeypatch):
    monkeypatch.setenv("IMAP_DATA_ACCESS_URL", sample_sdc.url)
    url, data = storage_url(sample_sdc)
    key = url.split("/sds-data-000000000000/", 1)[1].split("?", 1)[0]
    (path,) = download(key, data_dir=tmp_path, progress=False)
    assert path.read_bytes() == data
