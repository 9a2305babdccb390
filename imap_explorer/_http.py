"""The only module that speaks HTTP: one session, timeouts, bounded retries, credentials and redirects.

Policy (``sdc-api.md`` §3, §6, §13):

* Every request carries the connect/read timeout of :class:`~imap_explorer.config.Settings`.
* Transient failures are retried :data:`RETRIES` times with exponential backoff (:data:`BACKOFF` seconds,
  doubled each time, ``Retry-After`` honoured up to :data:`MAX_WAIT`): connection errors (including a body
  cut short) and the statuses in :data:`RETRY_STATUSES`. The API's ``500`` is *not* retried: on the SDC it
  means an unhandled exception or a response over 6 MB, which a retry only repeats. The storage hop's ``500``
  (the presigned GET or PUT answering ``InternalError``) *is* (:data:`STORAGE_RETRY_STATUSES`): object stores
  document it as transient ("please try again"), and every AWS SDK retries it. Other 4xx are never retried.
  A plain read timeout is not retried either: a server that stayed silent for the whole read timeout
  will not answer faster the second time.
* Credentials (``x-api-key`` / ``Authorization``) go to the API origin only. Redirects are followed by
  hand, and a hop to another scheme, host or port (the presigned storage URL) is made without them.
* Errors become :class:`~imap_explorer.exceptions.ApiError` with the status, a URL whose signing
  parameters are redacted, and the server's message (JSON-encoded string bodies unwrapped).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from imap_explorer.config import Settings
from imap_explorer.exceptions import ApiError

__all__ = [
    "BACKOFF",
    "CHUNK_SIZE",
    "MAX_REDIRECTS",
    "RETRIES",
    "RETRY_STATUSES",
    "STORAGE_RETRY_STATUSES",
    "Client",
    "Download",
    "is_transient",
    "loads",
    "retrying",
    "safe_url",
    "same_origin",
]

log = logging.getLogger("imap_explorer.http")

#: Statuses worth a retry: rate limiting and gateway/storage hiccups (sdc-api §1, §10, §13).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Also worth a retry when the storage (the presigned URL, another origin than the API) answers them: S3's
#: ``500 InternalError`` is transient, unlike the API's own 500.
STORAGE_RETRY_STATUSES = RETRY_STATUSES | {500}
#: Retries after the first attempt.
RETRIES = 3
#: First backoff in seconds; doubled after every failed attempt.
BACKOFF = 0.5
#: Longest wait between two attempts, whatever ``Retry-After`` says.
MAX_WAIT = 30.0
#: Redirect hops followed by hand.
MAX_REDIRECTS = 5
#: Bytes per streamed chunk.
CHUNK_SIZE = 1 << 20
#: How much of an error body is kept.
MAX_ERROR_BODY = 4000

_REDIRECTS = (301, 302, 303, 307, 308)
_SECRET_PARAMS = ("signature", "credential", "token", "key", "password", "secret")

T = TypeVar("T")


# --------------------------------------------------------------------------- pure helpers
def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(a: str, b: str) -> bool:
    """Return whether two URLs share scheme, host and port.

    Examples
    --------
    >>> same_origin("https://api.imap-mission.com/download/x", "https://API.imap-mission.com:443/y")
    True
    >>> same_origin("http://127.0.0.1:8000/a", "http://localhost:8000/a")
    False
    """
    return _origin(a) == _origin(b)


def safe_url(url: str) -> str:
    """Return ``url`` with the values of signing/credential query parameters redacted.

    Presigned storage URLs are bearer credentials for one object; they never go into an error or a log.

    Examples
    --------
    >>> safe_url("http://localhost:9/b/k.cdf?X-Amz-Expires=86400&X-Amz-Signature=abc")
    'http://localhost:9/b/k.cdf?X-Amz-Expires=86400&X-Amz-Signature=REDACTED'
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, "REDACTED" if any(s in k.lower() for s in _SECRET_PARAMS) else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="/")))


def server_message(text: str) -> str:
    """Return the server's words from an error body.

    JSON-encoded strings are unwrapped; a JSON object with a ``message`` key gives that message;
    anything else is returned as it came (stripped).

    Examples
    --------
    >>> server_message('"foo is not a valid query parameter"')
    'foo is not a valid query parameter'
    >>> server_message('{"message":"Forbidden"}')
    'Forbidden'
    >>> server_message('File not found.')
    'File not found.'
    """
    stripped = text.strip()
    try:
        value = json.loads(stripped)
    except ValueError:
        return stripped
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return value["message"]
    return stripped


def loads(body: bytes) -> Any:
    """Decode a JSON body with ``orjson`` (3x faster than ``json`` on a week of I-ALiRT, 100 MB), else ``json``.

    What orjson refuses and ``json`` accepts (``NaN``, integers beyond 64 bits, UTF-16 bodies) is decoded by
    ``json``, as it is when orjson is not installed (a platform without its wheel): the result is the same.

    Examples
    --------
    >>> loads(b'{"a": [1, 2.5, null]}'), loads(b'[NaN, 18446744073709551616]')
    ({'a': [1, 2.5, None]}, [nan, 18446744073709551616])
    """
    fast = _orjson()
    if fast is not None:
        try:
            return fast.loads(body)
        except ValueError:
            pass
    return json.loads(body)


@functools.cache
def _orjson() -> Any:
    try:
        import orjson
    except ImportError:
        return None
    return orjson


def is_transient(err: ApiError) -> bool:
    """Return whether a failed request is worth another attempt (no answer, or a retry status)."""
    if getattr(err, "retryable", None) is not None:
        return bool(err.retryable)
    return err.status is None or err.status in RETRY_STATUSES


def _wait(attempt: int, err: ApiError) -> float:
    wait = BACKOFF * 2**attempt
    retry_after = getattr(err, "retry_after", None)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return min(wait, MAX_WAIT)


def retrying(call: Callable[[], T], *, retries: int | None = None) -> T:
    """Run ``call`` and retry it with backoff while it raises a transient :class:`ApiError`.

    The last error is raised unchanged when the attempts are used up or the error is not transient.
    """
    retries = RETRIES if retries is None else retries
    for attempt in range(retries + 1):
        try:
            return call()
        except ApiError as err:
            if attempt >= retries or not is_transient(err):
                raise
            wait = _wait(attempt, err)
            log.info("retrying in %.2f s after: %s", wait, err)
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_from(resp: requests.Response, url: str, cls: type[ApiError] = ApiError) -> ApiError:
    try:  # at most MAX_ERROR_BODY bytes, even from a streamed response
        raw = next(resp.iter_content(MAX_ERROR_BODY), b"")
        text = raw.decode(resp.encoding or "utf-8", errors="replace")
    except requests.RequestException:
        text = ""
    finally:
        resp.close()
    err = cls(resp.status_code, safe_url(url), server_message(text), resp.reason or "")
    err.retry_after = _retry_after(resp)
    return err


def _storage_error(resp: requests.Response, url: str) -> ApiError:
    """The error of a presigned storage request: as :func:`_error_from`, and its 500 is worth a retry."""
    err = _error_from(resp, url)
    if resp.status_code in STORAGE_RETRY_STATUSES:
        err.retryable = True
    return err


_QUERY_IN_TEXT = re.compile(r"\?[^\s'\"()]*")


def _scrub_chain(err: BaseException) -> None:
    """Drop query strings from the messages of ``err`` and the exceptions it chains (in place).

    requests and urllib3 repeat the URL, presigned signature included, in their messages; they stay
    attached to our error as its cause, and a notebook traceback would print them.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(_QUERY_IN_TEXT.sub("?...", a) if isinstance(a, str) else a for a in current.args)
        current = current.__cause__ or current.__context__


def _transport_error(err: Exception, url: str) -> ApiError:
    _scrub_chain(err)
    if isinstance(err, requests.Timeout) and not isinstance(err, requests.ConnectionError):
        reason = "no answer within the read timeout"
        retryable = False
    else:
        reason = "connection failed"
        retryable = True
    # requests repeats the URL (query string included) in its messages: keep the words, drop the query.
    detail = _QUERY_IN_TEXT.sub("?...", str(err)) or type(err).__name__
    out = ApiError(None, safe_url(url), f"{reason} ({type(err).__name__}: {detail})")
    out.retryable = retryable
    return out


# --------------------------------------------------------------------------- streamed body
@dataclass
class Download:
    """An open, successful response whose body is read in chunks.

    Attributes
    ----------
    url : str
        Where the bytes come from (signing parameters redacted).
    length : int or None
        ``Content-Length`` when the body is not content-encoded, else ``None``.
    """

    url: str
    length: int | None
    _response: requests.Response
    #: Where this body starts in the file (non-zero for a 206 answer to a ``Range`` request).
    offset: int = 0
    #: Size of the whole file when known (``Content-Range``, or ``Content-Length`` of a 200).
    total: int | None = None
    #: ``ETag`` (or ``Last-Modified``) of the file, for an ``If-Range`` on a later resume.
    validator: str | None = None
    #: Whether the server said it accepts byte ranges.
    ranges: bool = False

    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the body; a broken transfer raises a transient :class:`ApiError`."""
        try:
            for chunk in self._response.iter_content(size):
                if chunk:
                    yield chunk
        except requests.RequestException as err:
            raise _transport_error(err, self.url) from err


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def _content_range(value: str, length: int | None) -> tuple[int | None, int | None]:
    """``(first byte, total size)`` of a ``Content-Range: bytes a-b/n`` header, or ``(None, None)``.

    Examples
    --------
    >>> _content_range("bytes 100-999/1000", 900), _content_range("bytes 0-9/*", 10), _content_range("x", 1)
    ((100, 1000), (0, None), (None, None))
    """
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None, None
    first, last = int(match[1]), int(match[2])
    total = None if match[3] == "*" else int(match[3])
    if last < first or (length is not None and length != last - first + 1) or (total is not None and last >= total):
        return None, None
    return first, total


# --------------------------------------------------------------------------- the client
class Client:
    """One ``requests.Session`` bound to resolved settings, with a connection pool sized for the workers.

    Parameters
    ----------
    settings : Settings
        URL, credentials and timeouts.
    pool_size : int, default 10
        Connections kept per host (use at least the number of threads sharing the client).

    Notes
    -----
    Credentials are never set on the session; each request to the API origin adds them explicitly.
    """

    def __init__(self, settings: Settings, *, pool_size: int = 10) -> None:
        from imap_explorer import __version__

        self.settings = settings
        self.api_base = settings.api_base
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 1), max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = f"imap-explorer/{__version__} {requests.utils.default_user_agent()}"

    def __repr__(self) -> str:
        return f"Client(api_base={self.api_base!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ one attempt
    def _headers_for(self, url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if same_origin(url, self.api_base):
            headers.update(self.settings.auth_headers)
        return headers

    def _send(self, method: str, url: str, *, headers: dict[str, str] | None = None, stream: bool = False,
              **kwargs: Any) -> requests.Response:
        log.debug("%s %s", method, safe_url(url))
        try:
            return self._session.request(method, url, headers=self._headers_for(url, headers), stream=stream,
                                         allow_redirects=False, timeout=self.settings.timeout, **kwargs)
        except requests.RequestException as err:
            raise _transport_error(err, url) from err

    def _follow(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                stream: bool = False) -> requests.Response:
        """Send and follow redirects by hand; credentials only while on the API origin."""
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._send(method, url, headers=headers, stream=stream)
            if resp.status_code not in _REDIRECTS:
                return resp
            location = resp.headers.get("Location")
            length = resp.headers.get("Content-Length", "")
            if length.isdigit() and int(length) <= MAX_ERROR_BODY:
                _ = resp.content  # read the small body so the connection goes back to the pool
            resp.close()
            if not location:
                raise ApiError(resp.status_code, safe_url(url), "redirect without a Location header",
                               resp.reason or "")
            url = urljoin(url, location)
        err = ApiError(None, safe_url(url), f"more than {MAX_REDIRECTS} redirects")
        err.retryable = False  # a loop stays a loop
        raise err

    # ------------------------------------------------------------------ API calls
    def url_for(self, route: str) -> str:
        """Return the API URL of a route such as ``query`` or ``download/imap/mag/...``."""
        return f"{self.api_base}/{quote(route.lstrip('/'), safe='/')}"

    def get_json(self, route: str, params: list[tuple[str, str]] | None = None) -> Any:
        """GET an API route (with retries) and return the decoded JSON body."""
        url = self.url_for(route)
        if params:
            url = f"{url}?{urlencode(params)}"

        def attempt() -> Any:
            resp = self._follow("GET", url, stream=True)
            if resp.status_code >= 400:
                raise _error_from(resp, url)
            try:
                try:  # in CHUNK_SIZE reads: requests' own .content reads 10 kB at a time (10 000 reads for 100 MB)
                    body = b"".join(resp.iter_content(CHUNK_SIZE))
                except requests.RequestException as err:
                    raise _transport_error(err, url) from err
                try:
                    return loads(body)
                except ValueError as err:
                    snippet = body[:200].decode("utf-8", errors="replace")
                    raise ApiError(resp.status_code, safe_url(url), f"the answer is not JSON: {snippet!r}",
                                   resp.reason or "") from err
            finally:
                resp.close()

        return retrying(attempt)

    @contextlib.contextmanager
    def open_download(self, file_path: str, *, offset: int = 0, validator: str | None = None) -> Iterator[Download]:
        """Open ``/download/<file_path>`` (one attempt) and yield the streamed body.

        The 302 to the presigned URL is followed by hand; the storage request carries no credential
        and asks for the bytes as stored (``Accept-Encoding: identity``). With ``offset``, the bytes from there
        on are asked for (``Range``, and ``If-Range: validator`` so that a file changed since comes whole): the
        answer's :attr:`Download.offset` says where its body really starts (0 when the server sent everything).
        """
        url = self.url_for(f"download/{file_path}")
        headers = {"Accept-Encoding": "identity"}
        if offset > 0:
            headers["Range"] = f"bytes={offset}-"
            if validator:
                headers["If-Range"] = validator
        resp = self._follow("GET", url, headers=headers, stream=True)
        final = resp.url or url
        try:
            if resp.status_code >= 400:
                raise _storage_error(resp, final) if not same_origin(final, url) else _error_from(resp, final)
            if resp.status_code not in (200, 206) or (resp.status_code == 206 and offset <= 0):
                msg = f"unexpected status {resp.status_code} for a download"
                raise ApiError(resp.status_code, safe_url(final), msg, resp.reason or "")
            encoding = resp.headers.get("Content-Encoding", "identity").lower()
            length = resp.headers.get("Content-Length")
            size = int(length) if length and length.isdigit() and encoding == "identity" else None
            start, total = 0, size
            if resp.status_code == 206:
                start, total = _content_range(resp.headers.get("Content-Range", ""), size)
                if start is None:
                    err = ApiError(206, safe_url(final), "a partial answer without a usable Content-Range header "
                                   f"({resp.headers.get('Content-Range')!r})", resp.reason or "")
                    err.retryable = False
                    raise err
            validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
            ranges = resp.status_code == 206 or resp.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
            yield Download(url=safe_url(final), length=size, _response=resp, offset=start, total=total,
                           validator=validator if ranges else None, ranges=ranges and encoding == "identity")
        finally:
            resp.close()

    def upload_url(self, file_name: str) -> str:
        """Ask ``/upload/<file_name>`` for a presigned PUT URL (with retries)."""
        url = self.get_json(f"upload/{file_name}")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            msg = f"expected a JSON string holding the upload URL, got {str(url)[:200]!r}"
            raise ApiError(200, safe_url(self.url_for(f"upload/{file_name}")), msg, "OK")
        return url

    def put_file(self, url: str, path: str | os.PathLike) -> None:
        """PUT a file's bytes, streamed from its handle, with an empty ``Content-Type`` (with retries).

        The presigned URL is used as given and no credential is sent with it.
        """

        def attempt() -> None:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                log.debug("PUT %s", safe_url(url))
                try:
                    resp = self._session.put(url, data=fh, headers={"Content-Type": "", "Content-Length": str(size)},
                                             allow_redirects=False, timeout=self.settings.timeout)
                except requests.RequestException as err:
                    raise _transport_error(err, url) from err
            if resp.status_code >= 300:
                raise _storage_error(resp, url)
            resp.close()

        retrying(attempt)
