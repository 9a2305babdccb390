"""Settings, resolved every time they are needed.

Precedence: explicit argument > :func:`set_options` context > environment variable > default.
The four environment variables are the official client's, so a user's setup carries over:

=======================  ==============================================================
``IMAP_DATA_ACCESS_URL``  base URL of the SDC API (default https://api.imap-mission.com)
``IMAP_DATA_DIR``         local archive root (default ``./data``)
``IMAP_API_KEY``          API key, sent as ``x-api-key`` to routes under ``/api-key``
``IMAP_ACCESS_TOKEN``     bearer token, sent as ``Authorization`` to ``/authorized``
=======================  ==============================================================

The I-ALiRT client (:mod:`imap_explorer.ialirt`) also reads ``IALIRT_DATA_ACCESS_URL`` (the official
``ialirt-data-access`` client's variable; default https://ialirt.imap-mission.com) and sends ``IMAP_API_KEY`` to
the I-ALiRT ``/api-key`` routes.

Nothing is read at import time.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DEFAULT_IALIRT_URL", "DEFAULT_URL", "ENV_VARS", "Settings", "resolve", "set_options"]

DEFAULT_URL = "https://api.imap-mission.com"
#: Base URL of the I-ALiRT real-time API (``ialirt-api.md`` §1).
DEFAULT_IALIRT_URL = "https://ialirt.imap-mission.com"

#: The one table of environment variables: setting name -> variable.
ENV_VARS = {
    "url": "IMAP_DATA_ACCESS_URL",
    "data_dir": "IMAP_DATA_DIR",
    "api_key": "IMAP_API_KEY",
    "access_token": "IMAP_ACCESS_TOKEN",
    "ialirt_url": "IALIRT_DATA_ACCESS_URL",
}

#: Connect and read timeouts (seconds) used on every request.
DEFAULT_TIMEOUT = (10.0, 60.0)

_lock = threading.Lock()
_overrides: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one operation. Secrets never appear in the ``repr``.

    Examples
    --------
    >>> s = Settings(url="http://127.0.0.1:8000", data_dir=Path("data"), api_key="secret")
    >>> "secret" in repr(s)
    False
    >>> s.api_base
    'http://127.0.0.1:8000/api-key'
    """

    url: str
    data_dir: Path
    api_key: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    ialirt_url: str = DEFAULT_IALIRT_URL

    @property
    def api_base(self) -> str:
        """The base URL with the route prefix the credentials call for.

        An API key wins over a token (as in the official client); without either the public routes are used.
        """
        url = self.url.rstrip("/")
        for prefix in ("/api-key", "/authorized"):
            if url.endswith(prefix):
                url = url[: -len(prefix)]
        if self.api_key:
            return url + "/api-key"
        if self.access_token:
            return url + "/authorized"
        return url

    @property
    def auth_headers(self) -> dict[str, str]:
        """Headers that carry the credential; sent to the API origin only."""
        if self.api_key:
            return {"x-api-key": self.api_key}
        if self.access_token:
            return {"Authorization": f"Bearer {self.access_token}"}
        return {}

    def with_(self, **changes: Any) -> Settings:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)


def _check_url(url: str, what: str = "SDC", example: str = DEFAULT_URL) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = f"Invalid {what} URL {url!r}. Expected an http(s) URL such as {example!r}."
        raise ValueError(msg)
    return url.rstrip("/")


def resolve(
    *,
    url: str | None = None,
    data_dir: str | os.PathLike | None = None,
    api_key: str | None = None,
    access_token: str | None = None,
    timeout: tuple[float, float] | float | None = None,
    ialirt_url: str | None = None,
) -> Settings:
    """Resolve the settings for one call.

    Each value comes from the first of: the argument, the innermost :func:`set_options`
    context that sets it, the environment variable, the default.

    Examples
    --------
    >>> with set_options(url="http://127.0.0.1:9"):
    ...     resolve().url
    'http://127.0.0.1:9'
    >>> resolve(url="http://localhost:1/").url
    'http://localhost:1'
    """
    explicit = {"url": url, "data_dir": data_dir, "api_key": api_key, "access_token": access_token,
                "timeout": timeout, "ialirt_url": ialirt_url}
    with _lock:
        stack = list(_overrides)

    def pick(name: str) -> Any:
        if explicit.get(name) is not None:
            return explicit[name]
        for layer in reversed(stack):
            if layer.get(name) is not None:
                return layer[name]
        env = ENV_VARS.get(name)
        return (os.environ.get(env) or None) if env else None

    chosen_timeout = pick("timeout")
    if chosen_timeout is None:
        chosen_timeout = DEFAULT_TIMEOUT
    elif isinstance(chosen_timeout, (int, float)):
        chosen_timeout = (float(chosen_timeout), float(chosen_timeout))
    return Settings(
        url=_check_url(pick("url") or DEFAULT_URL),
        data_dir=Path(pick("data_dir") or Path.cwd() / "data").expanduser(),
        api_key=pick("api_key"),
        access_token=pick("access_token"),
        timeout=tuple(chosen_timeout),
        ialirt_url=str(pick("ialirt_url") or DEFAULT_IALIRT_URL),  # checked where it is used (ie.ialirt)
    )


@contextlib.contextmanager
def set_options(
    *,
    url: str | None = None,
    data_dir: str | os.PathLike | None = None,
    api_key: str | None = None,
    access_token: str | None = None,
    timeout: tuple[float, float] | float | None = None,
    ialirt_url: str | None = None,
) -> Iterator[None]:
    """Temporarily set options for every call made inside the ``with`` block.

    Parameters
    ----------
    url : str, optional
        SDC base URL (default: ``IMAP_DATA_ACCESS_URL`` or https://api.imap-mission.com).
    data_dir : path-like, optional
        Local archive root (default: ``IMAP_DATA_DIR`` or ``./data``).
    api_key, access_token : str, optional
        Credentials (default: ``IMAP_API_KEY`` / ``IMAP_ACCESS_TOKEN``).
    timeout : float or (float, float), optional
        Connect and read timeouts in seconds (default (10, 60)).
    ialirt_url : str, optional
        I-ALiRT base URL (default: ``IALIRT_DATA_ACCESS_URL`` or https://ialirt.imap-mission.com).

    Examples
    --------
    >>> with set_options(data_dir="/tmp/imap"):
    ...     str(resolve().data_dir)
    '/tmp/imap'
    """
    layer = {"url": url, "data_dir": data_dir, "api_key": api_key, "access_token": access_token,
             "timeout": timeout, "ialirt_url": ialirt_url}
    with _lock:
        _overrides.append(layer)
    try:
        yield
    finally:
        with _lock:
            for i in range(len(_overrides) - 1, -1, -1):
                if _overrides[i] is layer:
                    del _overrides[i]
                    break
