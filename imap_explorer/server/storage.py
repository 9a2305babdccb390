"""The emulator's object storage: presigned-style URLs, their HMAC signature, streamed GET, atomic PUT.

Storage answers on its own origin (``http://localhost:<p2>`` while the API is ``http://127.0.0.1:<p1>``),
so tests can prove that a client does not forward credentials on the download redirect. URLs have the S3
shape ``<origin>/<bucket>/<key>?X-Amz-Algorithm=...&X-Amz-Signature=<hex>``; the signature is an HMAC of
the method, the key and the query parameters, keyed by a secret made per server instance. Errors are S3-style
XML documents. Storage ignores ``x-api-key`` and ``Authorization``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, quote, unquote, urlencode

from imap_explorer.filenames import check_file_path
from imap_explorer.server._types import Request, Response, State

__all__ = ["BUCKET", "CHUNK", "DOWNLOAD_EXPIRES", "MAX_UPLOAD_BYTES", "UPLOAD_EXPIRES", "Signer", "handle_storage",
           "parse_range", "safe_path"]

#: Bucket name in storage URLs (the real one is ``sds-data-<account-id>``).
BUCKET = "sds-data-000000000000"
#: Lifetime of a download URL in seconds (the SDC's ``URL_EXPIRE`` default).
DOWNLOAD_EXPIRES = 86400
#: Lifetime of an upload URL in seconds.
UPLOAD_EXPIRES = 3600
#: Region in the credential scope of the URLs.
REGION = "us-west-2"
#: Streaming chunk size.
CHUNK = 1024 * 1024
#: Files up to this size get the MD5 of their content as ETag (computed once, kept in the index); larger
#: ones get a multipart-style ``<hash>-1`` tag, which clients know is not a content MD5.
ETAG_MD5_MAX_BYTES = 64 * 1024**2
#: Largest accepted PUT body (S3's single-PUT limit).
MAX_UPLOAD_BYTES = 5 * 1024**3

_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_SIGNED_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders")


class Signer:
    """Make and check presigned-style URLs for one storage origin.

    Parameters
    ----------
    origin : str
        Storage origin, e.g. ``http://localhost:8001``.
    secret : bytes, optional
        HMAC key; a fresh random one by default.
    """

    def __init__(self, origin: str, secret: bytes | None = None) -> None:
        self.origin = origin.rstrip("/")
        self._secret = secret or secrets.token_bytes(32)

    def _signature(self, method: str, key: str, params: Mapping[str, str]) -> str:
        canonical = "\n".join([method, key, *(f"{p}={params.get(p, '')}" for p in _SIGNED_PARAMS)])
        return hmac.new(self._secret, canonical.encode("utf-8"), hashlib.sha256).hexdigest()

    def presign(self, method: str, key: str, expires: int, *, now: dt.datetime | None = None) -> str:
        """Return a URL that allows ``method`` (GET also allows HEAD) on ``key`` for ``expires`` seconds."""
        now = now or dt.datetime.now(dt.timezone.utc)
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"LOCALSDCEMULATOR/{now:%Y%m%d}/{REGION}/s3/aws4_request",
            "X-Amz-Date": now.strftime(_AMZ_DATE),
            "X-Amz-Expires": str(int(expires)),
            "X-Amz-SignedHeaders": "host",
        }
        params["X-Amz-Signature"] = self._signature(method, key, params)
        return f"{self.origin}/{BUCKET}/{quote(key)}?{urlencode(params)}"

    def check(self, method: str, key: str, params: Mapping[str, str], *, now: dt.datetime | None = None) -> str | None:
        """Return None if the URL is valid for ``method`` now, else the reason it is not."""
        method = "GET" if method == "HEAD" else method
        given = params.get("X-Amz-Signature", "")
        if not hmac.compare_digest(given.encode("ascii", "replace"),
                                   self._signature(method, key, params).encode("ascii")):
            return "The request signature we calculated does not match the signature you provided."
        try:
            start = dt.datetime.strptime(params["X-Amz-Date"], _AMZ_DATE).replace(tzinfo=dt.timezone.utc)
            expires = int(params["X-Amz-Expires"])
        except (KeyError, ValueError):
            return "Query-string authentication requires the X-Amz-Date and X-Amz-Expires parameters."
        if (now or dt.datetime.now(dt.timezone.utc)) > start + dt.timedelta(seconds=expires):
            return "Request has expired"
        return None


def _xml_error(status: int, code: str, message: str, resource: str) -> Response:
    esc = (message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    res = resource.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{esc}</Message>'
            f"<Resource>{res}</Resource><RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>")
    return Response(status, {"Content-Type": "application/xml"}, body.encode("utf-8"))


def safe_path(root: Path, key: str) -> Path | None:
    """Return the file of ``key`` below ``root``, or None if its real path leaves the root or is not a file."""
    if not key or "\x00" in key:
        return None
    root_real = os.path.realpath(root)
    real = os.path.realpath(os.path.join(root_real, *key.split("/")))
    if not real.startswith(root_real + os.sep) or not os.path.isfile(real):
        return None
    return Path(real)


@dataclass
class _Target:
    key: str
    params: dict[str, str]


def _parse_target(req: Request) -> _Target | Response:
    raw = req.path
    if not raw.startswith(f"/{BUCKET}/") or len(raw) <= len(BUCKET) + 2:
        return _xml_error(404, "NoSuchBucket", "The specified bucket does not exist", raw)
    try:
        key = unquote(raw[len(BUCKET) + 2:], errors="strict")
    except UnicodeDecodeError:
        return _xml_error(404, "NoSuchKey", "The specified key does not exist.", raw)
    params = dict(parse_qsl(req.query or "", keep_blank_values=True))
    return _Target(key, params)


def handle_storage(state: State, req: Request) -> Response:
    """Answer one request to the storage origin (GET, HEAD, PUT of presigned URLs)."""
    sent = sorted(h for h in ("authorization", "x-api-key") if h in req.headers)
    state.storage_requests.append({"method": req.method, "path": req.path, "credential_headers": sent})
    if req.method not in ("GET", "HEAD", "PUT"):
        return _xml_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                          req.path)
    target = _parse_target(req)
    if isinstance(target, Response):
        return target
    if "X-Amz-Signature" not in target.params:
        return _xml_error(403, "AccessDenied", "Access Denied", req.path)
    problem = state.signer.check(req.method, target.key, target.params)
    if problem is not None:
        code = "AccessDenied" if "expired" in problem or "requires" in problem else "SignatureDoesNotMatch"
        return _xml_error(403, code, problem, req.path)
    if req.method == "PUT":
        return _put(state, req, target.key)
    row = state.index.get(target.key)
    path = safe_path(state.index.root, target.key) if row else None
    if row is None or path is None:
        return _xml_error(404, "NoSuchKey", "The specified key does not exist.", req.path)
    st = path.stat()
    etag = row.get("etag") if (row.get("size"), row.get("mtime_ns")) == (st.st_size, st.st_mtime_ns) else None
    if not etag:
        etag = _etag_of(path, st)
        state.index.set_etag(target.key, etag, st.st_size, st.st_mtime_ns)
    last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
    headers = {
        "Content-Type": "binary/octet-stream",
        "Content-Length": str(st.st_size),
        "ETag": f'"{etag}"',
        "Last-Modified": last_modified,
        "Accept-Ranges": "bytes",
    }
    wanted = parse_range(req.headers.get("range"), st.st_size)
    if_range = req.headers.get("if-range")
    if wanted is None or (if_range is not None and if_range.strip() not in (f'"{etag}"', last_modified)):
        return Response(200, headers, b"", file=path, length=st.st_size)
    if wanted == "unsatisfiable":
        error = _xml_error(416, "InvalidRange", "The requested range is not satisfiable", req.path)
        error.headers["Content-Range"] = f"bytes */{st.st_size}"
        return error
    first, last = wanted
    headers["Content-Length"] = str(last - first + 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{st.st_size}"
    return Response(206, headers, b"", file=path, length=last - first + 1, offset=first, file_size=st.st_size)


def parse_range(value: str | None, size: int) -> tuple[int, int] | str | None:
    """The byte range of a ``Range`` header as S3 reads it.

    Returns ``(first, last)`` (inclusive), ``"unsatisfiable"``, or None to send the whole object (no header, a
    malformed one, or several ranges, which S3 ignores).

    Examples
    --------
    >>> parse_range("bytes=100-", 1000), parse_range("bytes=0-9", 1000), parse_range("bytes=-10", 1000)
    ((100, 999), (0, 9), (990, 999))
    >>> parse_range("bytes=990-5000", 1000), parse_range("bytes=1000-", 1000), parse_range("bytes=0-1,5-6", 1000)
    ((990, 999), 'unsatisfiable', None)
    """
    if not value:
        return None
    unit, _, spec = value.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = (part.strip() for part in spec.partition("-"))
    if not dash or not (first_text or last_text) or not all(t.isdigit() for t in (first_text, last_text) if t):
        return None
    if not first_text:  # a suffix: the last N bytes
        n = int(last_text)
        return (max(size - n, 0), size - 1) if n and size else "unsatisfiable"
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if last_text and int(last_text) < first:
        return None
    return (first, last) if first < size else "unsatisfiable"


def _etag_of(path: Path, st: os.stat_result) -> str:
    """S3-style ETag: the MD5 of the content, or for large files a multipart-style ``<md5>-1`` of the stat."""
    if st.st_size > ETAG_MD5_MAX_BYTES:
        stamp = f"{path}:{st.st_size}:{st.st_mtime_ns}".encode()
        return hashlib.md5(stamp, usedforsecurity=False).hexdigest() + "-1"
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _put(state: State, req: Request, key: str) -> Response:
    if not state.writable:
        return _xml_error(403, "AccessDenied", f"This archive is read-only ({state.index.root}); uploads are "
                          "disabled. Serve a writable copy to accept uploads.", req.path)
    try:
        if check_file_path(key) != key:
            raise ValueError(key)
    except ValueError:
        return _xml_error(400, "InvalidArgument", "The key is not the storage key of an IMAP file name.", req.path)
    if req.body is None:
        return _xml_error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.", req.path)
    if req.length is not None and req.length > MAX_UPLOAD_BYTES:
        return _xml_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.",
                          req.path)
    dest = state.index.root.joinpath(*key.split("/"))
    part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    digest = hashlib.md5(usedforsecurity=False)
    parent = os.path.join(os.path.realpath(state.index.root), *key.split("/")[:-1])
    try:
        # A symlinked directory on the way would lead out of the archive: refuse before creating anything
        # (realpath resolves the part that exists), and again after, in case one was swapped in meanwhile.
        if os.path.realpath(dest.parent) != parent:
            return _xml_error(403, "AccessDenied", "Access Denied", req.path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if os.path.realpath(dest.parent) != parent:
            return _xml_error(403, "AccessDenied", "Access Denied", req.path)
        with open(part, "xb") as fh:
            size = _copy_body(req.body, fh, digest)
        os.replace(part, dest)
    except PermissionError:
        part.unlink(missing_ok=True)
        return _xml_error(403, "AccessDenied", f"Cannot write {key} into the archive (permission denied).", req.path)
    except _BodyTooLarge:
        part.unlink(missing_ok=True)
        return _xml_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.",
                          req.path)
    except (OSError, ValueError):
        part.unlink(missing_ok=True)
        return _xml_error(400, "IncompleteBody", "You did not provide the number of bytes specified by the "
                          "Content-Length HTTP header.", req.path)
    st = dest.stat()
    row = state.index.add_file(key, released=state.upload_released(key), size=size, mtime_ns=st.st_mtime_ns,
                               etag=digest.hexdigest())
    state.log_upload(key, row)
    return Response(200, {"ETag": f'"{digest.hexdigest()}"'}, b"")


class _BodyTooLarge(Exception):
    pass


def _copy_body(src: BinaryIO, dst: BinaryIO, digest: Any) -> int:
    size = 0
    while True:
        chunk = src.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise _BodyTooLarge
        digest.update(chunk)
        dst.write(chunk)
    return size
