"""Pure request -> response functions of the emulated SDC API (sdc-api.md §2–§7, §10).

:func:`handle_api` plays API Gateway (routes, authorizers, gateway bodies) and the Lambda handlers
(``/query``, ``/download``, ``/upload``, ``/spice-query``, ``/repoint-table``). It reads the index and signs
storage URLs but does no socket I/O, so it is tested without a server. Behaviours the spec marks uncertain are module
constants.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from imap_explorer.filenames import VALID_DATALEVELS, VALID_INSTRUMENTS, VALID_TABLES, parse_filename
from imap_explorer.server._types import Request, Response, State
from imap_explorer.server.index import STORED_DATE_FORMAT, mask_key
from imap_explorer.server.storage import DOWNLOAD_EXPIRES, UPLOAD_EXPIRES, safe_path

__all__ = [
    "GATEWAY_FORBIDDEN",
    "GATEWAY_NOT_FOUND",
    "GATEWAY_SERVER_ERROR",
    "GATEWAY_UNAUTHORIZED",
    "VALID_PARAMETERS",
    "Request",
    "Response",
    "State",
    "handle_api",
]

log = logging.getLogger("imap_explorer.server")

# ---------------------------------------------------------------------------------------------- choices (§15)
#: Unknown ``table`` answers 400 (newest handler); older handlers crashed with 500 (§5.1.2).
UNKNOWN_TABLE_STATUS = 400
#: Accept the optional ``offset``/``limit`` pagination of the newest stored handler (§5.3).
SUPPORT_PAGINATION = True
#: Content-Type the gateway gives to handler responses that set no headers (§15.3).
HANDLER_DEFAULT_CONTENT_TYPE = "application/json"
#: Largest response payload before the gateway answers 500 (§1).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: Public download of quicklook/dependency files: they have no science row, so 403 (§6, §15.5).
PUBLIC_QUICKLOOK_DOWNLOAD = False
#: Keys under ``packets/`` or ``archive/`` count as released (§6, §15.5).
PACKETS_ARCHIVE_RELEASED = False
#: Format of ``ingestion_date`` in query records (§5.7).
RECORD_DATE_FORMAT = "%Y%m%d %H:%M:%S"
#: Where ``GET /`` redirects to.
LANDING_PAGE = "https://imap-mission.com"

# ---------------------------------------------------------------------------------------------- exact texts
GATEWAY_NOT_FOUND = b'{"message":"Not Found"}'
GATEWAY_UNAUTHORIZED = b'{"message":"Unauthorized"}'
GATEWAY_FORBIDDEN = b'{"message":"Forbidden"}'
GATEWAY_SERVER_ERROR = b'{"message":"Internal Server Error"}'

DOWNLOAD_NO_FILE = ("No file requested for download. Please provide a filename in the path. "
                    "Eg. /download/path/to/file/filename.pkts")
DOWNLOAD_NOT_FOUND = ("File not found, make sure you include the full path to the file in the request, "
                      "e.g. /download/path/to/file/filename.pkts.")
DOWNLOAD_NOT_RELEASED = "The file {key} is not a part of a public release yet."
UPLOAD_READ_ONLY_SCOPE = "Upload access denied. Your API key has read-only permissions."
UPLOAD_NO_FILE = ("No filename given for the upload. Please provide a filename in the path. "
                  "Eg. /upload/path/to/file/filename.pkts")
UPLOAD_BAD_NAME = "error: {name} does not match ancillary, science, cadence, or SPICE file naming convention."
UPLOAD_EXISTS_MESSAGE = "The file '{key}' already exists. Rename it or remove the existing file before uploading again."
UPLOAD_ARCHIVE_READ_ONLY = ("Upload access denied. This local SDC serves a read-only archive; "
                            "serve a writable copy to accept uploads.")
VERSION_INVALID = "Invalid 'version' value. Use format 'vMMM.mmmm' or 'vXXX'."

_SCIENCE_COLUMNS = ["extension", "file_path", "instrument", "data_level", "descriptor", "start_date", "repointing",
                    "major_version", "minor_version", "ingestion_date", "cr", "crid", "released"]
_ANCILLARY_COLUMNS = ["file_path", "instrument", "descriptor", "start_date", "end_date", "version", "extension",
                      "ingestion_date", "released"]
_SPICE_COLUMNS = ["file_path", "file_name", "ingestion_date", "file_root", "kernel_type", "min_date_j2000",
                  "max_date_j2000", "file_intervals_j2000", "min_date_datetime", "max_date_datetime",
                  "file_intervals_datetime", "min_date_sclk", "max_date_sclk", "file_intervals_sclk", "sclk_kernel",
                  "lsk_kernel", "version", "released"]
_EXTRA = ["end_date", "ingestion_start_date", "ingestion_end_date"]

#: Valid query parameters per table, in the order the 400 text lists them (§5.2).
VALID_PARAMETERS: dict[str, list[str]] = {
    "science": _SCIENCE_COLUMNS + _EXTRA,
    "quicklook": _SCIENCE_COLUMNS + _EXTRA,
    "ancillary": _ANCILLARY_COLUMNS + _EXTRA[1:],
    "spice": _SPICE_COLUMNS + _EXTRA[1:],
}
SPICE_QUERY_PARAMETERS = ["file_name", "start_time", "end_time", "type", "latest", "start_ingest_date",
                          "end_ingest_date"]
#: Parameters of the ``/repoint-table`` endpoint (sdc-api.md §9.3).
REPOINT_TABLE_PARAMETERS = ["file_path", "start_date", "end_date", "latest", "start_ingest_date", "end_ingest_date"]
_INT_COLUMNS = {"repointing", "major_version", "minor_version", "cr"}
_BOOLEAN_TEXT = {"true": 1, "t": 1, "1": 1, "yes": 1, "on": 1, "false": 0, "f": 0, "0": 0, "no": 0, "off": 0}
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


# ---------------------------------------------------------------------------------------------- types
class _HandlerError(Exception):
    """A handler's error answer: status and a JSON-encoded string body."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


class _Crash(Exception):
    """An unhandled exception in the real handler: the gateway answers 500."""


def _gateway(status: int, body: bytes) -> Response:
    return Response(status, {"Content-Type": "application/json"}, body)


def _handler_error(status: int, text: str | dict) -> Response:
    return Response(status, {"Content-Type": HANDLER_DEFAULT_CONTENT_TYPE}, json.dumps(text).encode("ascii"))


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"Content-Type": "text/html", **(headers or {})}, text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------- routing
_PREFIXES = ("/api-key", "/authorized", "")


def _route(path: str) -> tuple[str, str, str | None] | None:
    """Split a raw path into (prefix, base, proxy) or None when no route matches."""
    for prefix in _PREFIXES:
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            continue
        rest = path[len(prefix):]
        for base in ("/query", "/download", "/upload", "/spice-query", "/repoint-table"):
            if rest == base:
                return prefix, base, None
            if rest.startswith(base + "/"):
                proxy = rest[len(base) + 1:]
                if base in ("/query", "/spice-query", "/repoint-table"):
                    return prefix, base, proxy
                return prefix, base, proxy or None
        if not prefix and rest == "/":
            return prefix, "/", None
        return None
    return None


def _authorize(prefix: str, headers: Mapping[str, str], state: State) -> Response | str | None:
    """Run the gateway authorizer; return an error response, or the caller's scope (None for public)."""
    if prefix == "/api-key":
        key = headers.get("x-api-key", "")
        if not key:
            return _gateway(401, GATEWAY_UNAUTHORIZED)
        scope = state.key_scope(key)
        if scope is None:
            return _gateway(403, GATEWAY_FORBIDDEN)
        return scope
    if prefix == "/authorized":
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _gateway(401, GATEWAY_UNAUTHORIZED)
        if state.access_tokens is not None and token not in state.access_tokens:
            return _gateway(401, GATEWAY_UNAUTHORIZED)
        return "token"
    return None


def handle_api(state: State, req: Request) -> Response:
    """Answer one request to the API origin, as API Gateway plus the SDC Lambdas would.

    Parameters
    ----------
    state : State
    req : Request

    Returns
    -------
    Response
    """
    if req.method == "OPTIONS":  # gateway-level CORS preflight: every origin, header and method
        return Response(204, {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "*",
                              "Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": "86400"})
    if state.ialirt is not None:  # the I-ALiRT routes share the port (server/ialirt.py)
        resp = state.ialirt.handle(req, lambda prefix: _authorize(prefix, req.headers, state))
        if resp is not None:
            resp.principal = mask_key(req.headers.get("x-api-key")) if req.path.startswith("/api-key/") else "-"
            resp.headers.setdefault("apigw-requestid", uuid.uuid4().hex[:16])
            return resp
    route = _route(req.path)
    if route is None or not _TOKEN.match(req.method):
        return _gateway(404, GATEWAY_NOT_FOUND)
    prefix, base, proxy = route
    allowed = {"/download": ("GET", "HEAD")}.get(base, ("GET",))
    if req.method not in allowed:
        return _gateway(404, GATEWAY_NOT_FOUND)
    if base == "/":
        return Response(302, {"Location": LANDING_PAGE, "Content-Type": "application/json"}, b"")
    if base == "/upload" and prefix != "/api-key" and not state.upload_public:
        return _gateway(404, GATEWAY_NOT_FOUND)
    auth = _authorize(prefix, req.headers, state)
    if isinstance(auth, Response):
        return auth
    principal = mask_key(req.headers.get("x-api-key")) if prefix == "/api-key" else ("token" if auth else "-")
    authenticated = prefix in ("/api-key", "/authorized")
    try:
        if base == "/query":
            resp = _query(state, req.query, authenticated)
        elif base == "/download":
            resp = _download(state, proxy, authenticated)
        elif base == "/upload":
            resp = _upload(state, proxy, auth)
        elif base == "/repoint-table":
            resp = _repoint_table(state, req.query)
        else:
            resp = _spice_query(state, req.query)
    except _HandlerError as err:
        resp = _handler_error(err.status, err.text)
    except _Crash as err:
        log.info("handler crash (answered 500): %s", err)
        resp = _gateway(500, GATEWAY_SERVER_ERROR)
    if len(resp.body) > MAX_PAYLOAD_BYTES:
        resp = _gateway(500, GATEWAY_SERVER_ERROR)
    if req.method == "HEAD":
        resp.headers.setdefault("Content-Length", str(len(resp.body)))
        resp.body = b""
    resp.principal = principal
    resp.headers.setdefault("apigw-requestid", uuid.uuid4().hex[:16])
    return resp


# ---------------------------------------------------------------------------------------------- /query
def _parameters(query: str | None) -> dict[str, str]:
    """API Gateway's ``queryStringParameters``: decoded, duplicate keys joined by commas, in order."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(query or "", keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def _parse_date(value: str) -> str:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").strftime("%Y-%m-%d")
    except (ValueError, TypeError) as err:
        raise _Crash(f"time data {value!r} does not match format '%Y%m%d'") from err


def _cast_int(name: str, value: str) -> int:
    text = value.strip()
    if not re.fullmatch(r"[+-]?\d{1,10}", text) or not -(2**31) <= int(text) < 2**31:
        raise _Crash(f'invalid input syntax for type integer: "{value}" ({name})')
    return int(text)


def _cast_timestamp(value: str) -> str:
    for fmt in ("%Y%m%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).strftime(STORED_DATE_FORMAT)
        except ValueError:
            continue
    raise _Crash(f'invalid input syntax for type timestamp: "{value}"')


def _version_params(params: dict[str, str]) -> str:
    """Pop ``version``/``latest`` (science only) and return the version mode (§5.5)."""
    latest = str(params.pop("latest", "")).lower() == "true"
    if "version" in params:
        text = params.pop("version").lstrip("vV")
        try:
            if "." in text:
                major, minor = text.split(".")
                params["major_version"], params["minor_version"] = str(int(major)), str(int(minor))
            else:
                params["minor_version"] = str(int(text))
        except ValueError as err:
            raise _HandlerError(400, VERSION_INVALID) from err
    if "major_version" in params:
        return "plain"
    return "newest" if latest else "latest_major"


def _filters(table: str, params: dict[str, str], authenticated: bool) -> tuple[list[str], list[Any]]:
    """Validate parameters in query-string order (§5.1.5) and build the WHERE clause."""
    valid = VALID_PARAMETERS[table]
    where = ["kind = ?"]
    args: list[Any] = [table]
    casts: list[tuple[str, str]] = []
    for name, value in params.items():
        if name not in valid:
            raise _HandlerError(400, f"{name} is not a valid query parameter for {table} table. "
                                     f"Valid query parameters are: {valid}")
        if name in ("start_date", "end_date"):
            where.append(f"start_date {'>=' if name == 'start_date' else '<='} ?")
            args.append(_parse_date(value).replace("-", ""))
        elif name in ("ingestion_start_date", "ingestion_end_date"):
            where.append(f"substr(ingestion_date, 1, 10) {'>=' if name == 'ingestion_start_date' else '<='} ?")
            args.append(_parse_date(value))
        else:
            casts.append((name, value))
    # Values the database cannot cast fail only when the query runs (§5.1.8): after the whole walk.
    for name, value in casts:
        column = {"version": "spice_version"}.get(name, name) if table == "spice" else name
        if name in ("instrument", "data_level") and table != "spice":
            labels = VALID_INSTRUMENTS if name == "instrument" else VALID_DATALEVELS
            if value not in labels:
                raise _Crash(f'invalid input value for enum {name}: "{value}"')
            arg: Any = value
        elif name == "extension" and table == "science":
            if value not in ("cdf", "pkts"):
                raise _Crash(f'invalid input value for enum extension: "{value}"')
            arg = value
        elif name in _INT_COLUMNS or (table == "spice" and name == "version"):
            arg = _cast_int(name, value)
        elif name == "released":
            if value.strip().lower() not in _BOOLEAN_TEXT:
                raise _Crash(f'invalid input syntax for type boolean: "{value}"')
            arg = _BOOLEAN_TEXT[value.strip().lower()]
        elif name == "ingestion_date":
            arg = _cast_timestamp(value)
        elif table == "spice" and name not in ("file_path", "file_name", "file_root", "kernel_type"):
            where.append("0")  # coverage columns are not known to the emulator: nothing matches
            continue
        else:
            arg = value
        where.append(f"{column} = ?")
        args.append(arg)
    if not authenticated:
        where.append("released = 1")
    return where, args


def _record(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    ingested = dt.datetime.strptime(row["ingestion_date"], STORED_DATE_FORMAT).strftime(RECORD_DATE_FORMAT)
    if table == "ancillary":
        rec = {c: row[c] for c in _ANCILLARY_COLUMNS}
    else:
        rec = {c: row[c] for c in _SCIENCE_COLUMNS}
        rec["version"] = f"v{row['major_version']:03d}.{row['minor_version']:04d}"
    rec["ingestion_date"] = ingested
    rec["released"] = bool(row["released"])
    return rec


def _query(state: State, query: str | None, authenticated: bool) -> Response:
    if not query:  # no query string: queryStringParameters is absent and the handler crashes (§5.1.1)
        raise _Crash("'NoneType' object has no attribute 'pop'")
    params = _parameters(query)
    table = params.pop("table", "science")
    if table not in VALID_TABLES:
        if UNKNOWN_TABLE_STATUS == 500:
            raise _Crash(f"KeyError: {table!r}")
        raise _HandlerError(400, f"{table} is not a valid table. Valid tables are: {list(VALID_TABLES)}")
    offset, limit = 0, None
    if SUPPORT_PAGINATION and ("offset" in params or "limit" in params):
        try:
            offset = int(params.pop("offset", "0"))
            limit = int(params.pop("limit")) if "limit" in params else None
        except ValueError as err:
            raise _HandlerError(400, "'offset' and 'limit' must be integers.") from err
        if offset < 0:
            raise _HandlerError(400, "'offset' must be greater than or equal to 0.")
        if limit is not None and limit <= 0:
            raise _HandlerError(400, "'limit' must be greater than 0.")
    mode = _version_params(params) if table == "science" else "plain"
    where, args = _filters(table, params, authenticated)
    sql = f"SELECT * FROM files WHERE {' AND '.join(where)}"
    if mode != "plain":
        order = "major_version DESC" + (", minor_version DESC" if mode == "newest" else "")
        sql = (f"SELECT * FROM (SELECT *, RANK() OVER (PARTITION BY instrument, data_level, descriptor, start_date, "
               f"repointing ORDER BY {order}) AS rank_ FROM ({sql})) WHERE rank_ = 1")
    rows = sorted(state.index.execute(sql, args), key=lambda r: r["file_path"])
    rows = rows[offset:offset + limit if limit is not None else None]
    if table == "spice" and rows:  # formatting a SPICE row crashes on the real server (§5.7)
        raise _Crash("KeyError: 'start_date'")
    body = json.dumps([_record(table, r) for r in rows]).encode("ascii")
    return Response(200, {"Content-Type": "application/json"}, body)


# ---------------------------------------------------------------------------------------------- /download
def _public_released(key: str, row: Mapping[str, Any]) -> bool:
    if "test_data" in key or row["kind"] == "spice":
        return True
    if row["kind"] in ("science", "ancillary", "release"):
        return bool(row["released"])
    if row["kind"] in ("quicklook", "dependency"):
        return PUBLIC_QUICKLOOK_DOWNLOAD and bool(row["released"])
    return PACKETS_ARCHIVE_RELEASED and key.startswith(("packets/", "archive/"))


def download_key(proxy: str | None) -> str | Response:
    """The key a ``/download``-style path names, or the SDC's answer to one that names none (400, 404)."""
    if not proxy:
        return _text(400, DOWNLOAD_NO_FILE)
    try:
        return unquote(proxy, errors="strict")
    except UnicodeDecodeError:
        return _text(404, DOWNLOAD_NOT_FOUND)


def storage_redirect(signer: Any, key: str, expires: int) -> Response:
    """The SDC's 302 to a presigned storage URL of ``key``, the URL also in the JSON body."""
    url = signer.presign("GET", key, expires)
    return _text(302, json.dumps({"download_url": url}), {"Location": url})


def _download(state: State, proxy: str | None, authenticated: bool) -> Response:
    key = download_key(proxy)
    if isinstance(key, Response):
        return key
    row = state.index.get(key) if "\x00" not in key else None
    if row is None or safe_path(state.index.root, key) is None:
        return _text(404, DOWNLOAD_NOT_FOUND)
    if not authenticated and not _public_released(key, row):
        return _text(403, DOWNLOAD_NOT_RELEASED.format(key=key))
    return storage_redirect(state.signer, key, DOWNLOAD_EXPIRES)


# ---------------------------------------------------------------------------------------------- /upload
def _upload(state: State, proxy: str | None, scope: str | None) -> Response:
    if scope == "read":
        raise _HandlerError(403, UPLOAD_READ_ONLY_SCOPE)
    if not proxy:
        raise _HandlerError(400, UPLOAD_NO_FILE)
    try:
        name = unquote(proxy, errors="strict").rsplit("/", 1)[-1]
    except UnicodeDecodeError:
        name = proxy.rsplit("/", 1)[-1]
    try:
        key = parse_filename(name).key
    except ValueError as err:
        log.info("upload refused: %s", err)
        raise _HandlerError(400, UPLOAD_BAD_NAME.format(name=name)) from err
    if not state.writable:
        raise _HandlerError(403, UPLOAD_ARCHIVE_READ_ONLY)
    if state.index.root.joinpath(*key.split("/")).exists():
        return _handler_error(409, {"error": "FileAlreadyExists", "message": UPLOAD_EXISTS_MESSAGE.format(key=key)})
    url = state.signer.presign("PUT", key, UPLOAD_EXPIRES)
    return _handler_error(200, url)


# ---------------------------------------------------------------------------------------------- /spice-query
def _spice_query(state: State, query: str | None) -> Response:
    params = _parameters(query)
    where, args = ["kind = 'spice'"], []
    for name in params:
        if name not in SPICE_QUERY_PARAMETERS:
            raise _HandlerError(400, f"{name} is not a valid query parameter. "
                                     f"Valid query parameters are: {SPICE_QUERY_PARAMETERS}")
    latest = str(params.get("latest", "")).lower() == "true"
    for name, value in params.items():
        if name == "file_name":
            where.append("file_name = ?")
            args.append(value.rsplit("/", 1)[-1])
        elif name in ("start_time", "end_time"):
            try:
                float(value)
            except ValueError as err:
                raise _HandlerError(400, f"Invalid value for {name}: {value}") from err
            where.append("0")  # kernel coverage is not known to the emulator
        elif name == "type":
            if value != "kernels":
                where.append("kernel_type = ?")
                args.append(value)
        elif name in ("start_ingest_date", "end_ingest_date"):
            try:
                day = dt.datetime.strptime(value, "%Y%m%d").strftime(STORED_DATE_FORMAT)
            except ValueError as err:
                raise _HandlerError(400, f"Invalid value for {name}: {value}") from err
            where.append(f"ingestion_date {'>=' if name == 'start_ingest_date' else '<'} ?")
            args.append(day)
    rows = state.index.execute(f"SELECT * FROM files WHERE {' AND '.join(where)}", args)
    if latest:
        best: dict[str, Mapping[str, Any]] = {}
        for r in rows:
            old = best.get(r["file_root"])
            if old is None or (r["spice_version"] or 0) > (old["spice_version"] or 0):
                best[r["file_root"]] = r
        rows = list(best.values())
    records = []
    for r in rows:
        ingested = dt.datetime.strptime(r["ingestion_date"], STORED_DATE_FORMAT)
        records.append({
            "file_name": f"{r['file_path'].rsplit('/', 2)[-2]}/{r['file_name']}", "file_root": r["file_root"],
            "kernel_type": r["kernel_type"], "version": r["spice_version"], "min_date_j2000": None,
            "max_date_j2000": None, "file_intervals_j2000": None, "min_date_datetime": None,
            "max_date_datetime": None, "file_intervals_datetime": None, "min_date_sclk": None,
            "max_date_sclk": None, "file_intervals_sclk": None, "sclk_kernel": None, "lsk_kernel": None,
            "ingestion_date": f"{ingested:%Y-%m-%d, %H:%M:%S}", "timestamp": f"{ingested:%Y-%m-%d, %H:%M:%S}",
        })
    return Response(200, {"Content-Type": "application/json"}, json.dumps(records).encode("ascii"))


# ---------------------------------------------------------------------------------------------- /repoint-table
def _repoint_table(state: State, query: str | None) -> Response:
    """The archive's repoint tables (SPICE ``repoint`` files), as imap-data-access's ``get_repoint_file`` reads them.

    Each record names the table's storage key (``file_path``, to download) and its ``ingestion_date``
    (``"%Y-%m-%d, %H:%M:%S"``, §9.3); ``start_ingest_date``/``end_ingest_date`` (``YYYYMMDD``) filter on it,
    ``file_path`` on the name, ``latest=true`` keeps the newest version. Coverage dates are not known to the
    emulator, so ``start_date``/``end_date`` are checked and otherwise ignored.
    """
    params = _parameters(query)
    for name in params:
        if name not in REPOINT_TABLE_PARAMETERS:
            raise _HandlerError(400, f"{name} is not a valid query parameter. "
                                     f"Valid query parameters are: {REPOINT_TABLE_PARAMETERS}")
    where, args = ["kind = 'spice'", "kernel_type = 'repoint'"], []
    for name, value in params.items():
        if name == "file_path":
            where.append("file_name = ?")
            args.append(value.rsplit("/", 1)[-1])
        elif name in ("start_date", "end_date", "start_ingest_date", "end_ingest_date"):
            try:
                day = dt.datetime.strptime(value, "%Y%m%d").strftime(STORED_DATE_FORMAT)
            except ValueError as err:
                raise _HandlerError(400, f"Invalid value for {name}: {value}") from err
            if name == "start_ingest_date":
                where.append("ingestion_date >= ?")
                args.append(day)
            elif name == "end_ingest_date":
                where.append("ingestion_date < ?")
                args.append(day)
    rows = state.index.execute(f"SELECT * FROM files WHERE {' AND '.join(where)} ORDER BY file_name", args)
    if str(params.get("latest", "")).lower() == "true" and rows:
        rows = [max(rows, key=lambda r: (r["file_name"], r["spice_version"] or 0))]
    records = []
    for r in rows:
        ingested = dt.datetime.strptime(r["ingestion_date"], STORED_DATE_FORMAT)
        records.append({"file_path": r["file_path"], "file_name": r["file_name"], "version": r["spice_version"],
                        "ingestion_date": f"{ingested:%Y-%m-%d, %H:%M:%S}"})
    return Response(200, {"Content-Type": "application/json"}, json.dumps(records).encode("ascii"))
