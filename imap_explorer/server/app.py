"""``http.server`` glue: two threaded servers (API and storage) that hand requests to the pure handlers.

The glue parses the request line and headers, enforces size limits, streams bodies in chunks, masks API
keys in the access log, and turns any unexpected exception into a 500 without stopping the server.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO

from imap_explorer.server.handlers import GATEWAY_SERVER_ERROR, Request, Response
from imap_explorer.server.storage import CHUNK

__all__ = ["MAX_REQUEST_LINE", "SOCKET_TIMEOUT", "HTTPService"]

log = logging.getLogger("imap_explorer.server")

#: Longest accepted request line (method, target, version); longer ones get 414 URI Too Long.
MAX_REQUEST_LINE = 8192
#: Seconds an idle or stalled connection is kept open.
SOCKET_TIMEOUT = 30.0
#: Largest request body read (and discarded) on API routes; larger ones close the connection.
MAX_DISCARD_BODY = 1024 * 1024

Handler = Callable[[Request], Response]


_SIGNATURE = re.compile(r"(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s]+", re.IGNORECASE)


def _loggable(request_line: str) -> str:
    """The request line for the access log: ASCII, at most 300 characters, URL signatures redacted.

    Examples
    --------
    >>> _loggable("GET /b/k.cdf?X-Amz-Expires=60&X-Amz-Signature=abc123 HTTP/1.1")
    'GET /b/k.cdf?X-Amz-Expires=60&X-Amz-Signature=REDACTED HTTP/1.1'
    """
    text = _SIGNATURE.sub(r"\1REDACTED", request_line)
    return text[:300].encode("ascii", "backslashreplace").decode("ascii")


class _LimitedReader:
    """Read exactly ``length`` bytes of a request body; a short body is an error."""

    def __init__(self, raw: BinaryIO, length: int) -> None:
        self._raw, self._left = raw, length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data = self._raw.read(size)
        if not data:
            raise ValueError("request body shorter than its Content-Length")
        self._left -= len(data)
        return data


class _ChunkedReader:
    """Decode a ``Transfer-Encoding: chunked`` request body."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw, self._left, self._done = raw, 0, False

    def read(self, size: int = -1) -> bytes:
        if self._done:
            return b""
        if self._left == 0:
            line = self._raw.readline(1024)
            try:
                self._left = int(line.split(b";")[0].strip(), 16)
            except ValueError as err:
                raise ValueError("malformed chunked body") from err
            if self._left == 0:
                while self._raw.readline(1024).strip():  # trailers
                    pass
                self._done = True
                return b""
        data = self._raw.read(self._left if size < 0 else min(size, self._left))
        if not data:
            raise ValueError("chunked body ended early")
        self._left -= len(data)
        if self._left == 0:
            self._raw.readline(8)  # CRLF after the chunk
        return data


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # malformed request lines still get a status line
    server_version = "LocalSDC"
    sys_version = ""
    timeout = SOCKET_TIMEOUT
    disable_nagle_algorithm = True  # small answers must not wait for a delayed ACK
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def handle_one_request(self) -> None:  # stdlib logic, with a smaller line cap and every method routed
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                self.close_connection = True
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._dispatch()
            self.wfile.flush()
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    def _dispatch(self) -> None:
        target = self.path
        if not target.startswith("/"):
            self.close_connection = True
            self._send(Response(400, {"Content-Type": "text/plain"}, b"Bad Request"), "-")
            return
        path, sep, query = target.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        body, length = self._body(headers)
        if body is False:
            return
        req = Request(self.command, path, query if sep else None, headers, body, length)
        try:
            resp = self.server.app(req)
        except Exception:  # a bug must not take the server down: answer as the gateway would
            log.exception("unhandled error for %s %s", self.command, path[:200])
            resp = Response(500, {"Content-Type": "application/json"}, GATEWAY_SERVER_ERROR)
        if body is not None and not isinstance(body, _Drained):
            if resp.status >= 400 and (length is None or length > MAX_DISCARD_BODY):
                self.close_connection = True  # refused: do not read a large body just to discard it
            else:
                self._drain(body)
        self._send(resp, resp.principal)

    def _drain(self, body: Any) -> None:
        try:  # leave the connection clean for the next request
            while body.read(CHUNK):
                pass
        except (ValueError, OSError):
            self.close_connection = True

    def _body(self, headers: dict[str, str]) -> tuple[Any, int | None]:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return _ChunkedReader(self.rfile), None
        raw = headers.get("content-length")
        if raw is None:
            return None, None
        try:
            length = int(raw)
            if length < 0:
                raise ValueError(raw)
        except ValueError:
            self.close_connection = True
            self._send(Response(400, {"Content-Type": "text/plain"}, b"Bad Content-Length"), "-")
            return False, None
        if self.server.role == "api":
            if length > MAX_DISCARD_BODY:
                self.close_connection = True
                return _Drained(), length
        return _LimitedReader(self.rfile, length), length

    def _send(self, resp: Response, principal: str) -> None:
        self.send_response(resp.status)
        headers = dict(resp.headers)
        if resp.file is None:
            headers.setdefault("Content-Length", str(len(resp.body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self._access_log(resp, principal)
        if self.command == "HEAD":
            return
        try:
            if resp.file is not None:  # the resolved real path; refuse a symlink swapped in since
                fd = os.open(resp.file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                with os.fdopen(fd, "rb") as fh:
                    size = resp.file_size if resp.file_size is not None else resp.length
                    if size is not None and os.fstat(fd).st_size != size:
                        # replaced or rewritten since Content-Length was sent: never mix two versions or
                        # overrun the announced length; closing makes the client see a short body and retry
                        raise OSError(f"size changed from {size} bytes")
                    fh.seek(resp.offset)
                    _copy_exactly(fh, self.wfile, resp.length)
            elif resp.body:
                self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except OSError as err:  # the file vanished or changed after the answer was decided
            log.info("%s: cannot stream %s: %s", self.server.role, resp.file, err)
            self.close_connection = True

    def _access_log(self, resp: Response, principal: str) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        line = _loggable(self.requestline)
        log.info('%s %s "%s" %d key=%s', self.server.role, self.client_address[0], line, resp.status, principal)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:  # replaced by _access_log
        pass

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.info("%s %s", self.server.role, format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.close_connection = True
        try:
            short = HTTPStatus(code).phrase
        except ValueError:
            short = "Error"
        body = f"{code} {short}\n".encode()
        self.send_response(code, short)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
            self.wfile.write(body)
        log.info('%s %s "%s" %d', self.server.role, self.client_address[0],
                 _loggable(getattr(self, "requestline", "") or ""), code)


def _copy_exactly(src: BinaryIO, dst: BinaryIO, length: int | None) -> None:
    """Copy ``length`` bytes (everything when None); a file that shrank meanwhile raises OSError."""
    if length is None:
        shutil.copyfileobj(src, dst, CHUNK)
        return
    left = length
    while left > 0:
        chunk = src.read(min(CHUNK, left))
        if not chunk:
            raise OSError(f"file ended {left} bytes early")
        dst.write(chunk)
        left -= len(chunk)


class _Drained:
    """Marker: a body too large to drain; the connection is closed after the answer."""

    def read(self, size: int = -1) -> bytes:
        return b""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Handler, role: str) -> None:
        self.app, self.role = app, role
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class HTTPService:
    """One threaded HTTP server running in a background thread.

    Parameters
    ----------
    host, port : str, int
        Address to bind; port 0 picks a free port.
    app : callable
        ``Request -> Response``.
    role : str
        ``"api"`` or ``"storage"`` (for logs and body limits).
    """

    def __init__(self, host: str, port: int, app: Handler, role: str) -> None:
        self._server = _Server((host, port), app, role)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"localsdc-{self._server.role}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close open connections, release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.close_connections()
        self._server.server_close()
