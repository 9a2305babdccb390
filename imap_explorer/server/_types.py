"""The plain objects the emulator's pure handlers exchange: a request, a response and the server state."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from imap_explorer.filenames import parse_filename
from imap_explorer.server.index import UPLOAD_RELEASED, Index

if TYPE_CHECKING:  # pragma: no cover
    from imap_explorer.server.storage import Signer

__all__ = ["STORAGE_LOG_SIZE", "Request", "Response", "State"]

log = logging.getLogger("imap_explorer.server")

#: How many storage requests :attr:`State.storage_requests` remembers.
STORAGE_LOG_SIZE = 1000


@dataclass
class Request:
    """One HTTP request as the handlers see it.

    ``path`` is the raw path (percent-encoded, no query); ``query`` the raw query string or None when the
    request line had no ``?``; ``headers`` have lower-case names.
    """

    method: str
    path: str
    query: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: BinaryIO | None = None
    length: int | None = None


@dataclass
class Response:
    """Status, headers and body; ``file`` is streamed instead of ``body``: ``length`` bytes from ``offset``.

    ``file_size`` is the size the answer was decided on (default ``length``): a file that changed since is not sent.
    """

    status: int
    headers: dict[str, str]
    body: bytes = b""
    file: Path | None = None
    length: int | None = None
    principal: str = "-"
    offset: int = 0
    file_size: int | None = None


class State:
    """What the handlers need: the index, credentials, the storage signer and the switches.

    Parameters
    ----------
    index : Index
    signer : Signer
    api_keys : mapping, optional
        ``{api_key: scope}`` accepted besides the keys stored in the index.
    access_tokens : collection of str, optional
        Accepted bearer tokens; None accepts any non-empty token.
    upload_public : bool
        Dev behaviour: ``/upload`` exists under every prefix (prod: ``/api-key`` only).
    writable : bool
        Whether uploads can be stored.
    """

    def __init__(self, index: Index, signer: Signer, *, api_keys: Mapping[str, str] | None = None,
                 access_tokens: set[str] | None = None, upload_public: bool = False, writable: bool = True) -> None:
        self.index = index
        self.signer = signer
        self.api_keys = dict(api_keys or {})
        self.access_tokens = access_tokens
        self.upload_public = upload_public
        self.writable = writable
        self.on_upload: Callable[[str, dict[str, Any]], None] | None = None
        #: The I-ALiRT routes (:class:`imap_explorer.server.ialirt.IalirtService`), or None.
        self.ialirt: Any = None
        #: Recent storage requests: method, path, and the NAMES of credential headers sent (never values).
        self.storage_requests: deque[dict[str, Any]] = deque(maxlen=STORAGE_LOG_SIZE)

    def key_scope(self, key: str) -> str | None:
        """Scope of an API key (constructor keys first, then stored keys), or None if unknown."""
        if key in self.api_keys:
            return self.api_keys[key]
        return self.index.key_scope(key)

    def upload_released(self, key: str) -> bool:
        """Release flag an uploaded object gets (SDC ingestion defaults)."""
        try:
            kind = parse_filename(key).kind
        except ValueError:
            kind = "other"
        return UPLOAD_RELEASED[kind]

    def log_upload(self, key: str, row: dict[str, Any]) -> None:
        """Note an upload (and tell a listener, if any)."""
        log.info("uploaded %s (%d bytes, released=%s)", key, row["size"], bool(row["released"]))
        if self.on_upload is not None:
            self.on_upload(key, row)
