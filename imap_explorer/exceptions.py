"""The one exception family of imap-explorer.

Every error the package raises on purpose is an :class:`ImapExplorerError`, or a built-in
``ValueError``/``TypeError`` for bad arguments. HTTP failures carry the status, the URL and the
server's own words, and never a credential.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ApiError",
    "ConfigurationError",
    "DownloadError",
    "FileAlreadyExistsError",
    "ImapExplorerError",
    "InvalidFileError",
    "UploadError",
]


class ImapExplorerError(Exception):
    """Base class of every error raised by imap-explorer."""


class ConfigurationError(ImapExplorerError):
    """A required setting (API key, URL, data directory) is missing or unusable."""


class ApiError(ImapExplorerError):
    """The SDC (or the storage behind it) answered with an error, or could not be reached.

    Attributes
    ----------
    status : int or None
        HTTP status code; ``None`` when no answer came (connection refused, timeout).
    url : str
        The URL that was requested (never carries a credential).
    body : str
        The server's message, decoded (JSON-encoded strings are unwrapped).
    """

    def __init__(self, status: int | None, url: str, body: str = "", reason: str = "") -> None:
        self.status, self.url, self.body, self.reason = status, url, body, reason
        words = " ".join(body.split())  # one line, even for an HTML or XML error page
        if status is None:
            msg = f"cannot reach {url}: {words}"
        else:
            head = f"{status} {reason}".strip()
            msg = f"{head} from {url}: {words[:500]}"
        super().__init__(msg)


class UploadError(ApiError):
    """An upload was refused or failed."""


class FileAlreadyExistsError(UploadError):
    """The SDC already holds a file with this name (HTTP 409)."""


class DownloadError(ImapExplorerError):
    """One or more files could not be downloaded.

    Attributes
    ----------
    failures : dict
        ``{file_name: reason}`` for every file that failed; the others completed.
    paths : list of pathlib.Path
        The files that did complete.
    errors : dict
        ``{file_name: exception}``: the underlying error of each failure (e.g. an :class:`ApiError`
        with ``status``, ``url`` and ``body``).
    """

    def __init__(self, failures: Mapping[str, str], paths: list | None = None,
                 errors: Mapping[str, BaseException] | None = None) -> None:
        self.failures = dict(failures)
        self.paths = list(paths or [])
        self.errors = dict(errors or {})
        lines = "\n".join(f"  {name}: {reason}" for name, reason in sorted(self.failures.items()))
        n = len(self.failures)
        super().__init__(f"{n} file{'s' if n != 1 else ''} could not be downloaded:\n{lines}")


class InvalidFileError(ImapExplorerError):
    """A file is not a readable IMAP CDF (truncated, empty, an HTML page saved as .cdf, ...)."""

    def __init__(self, path, problem: str) -> None:
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")
