"""imap-explorer: query, download, load, plot and browse NASA IMAP data from Jupyter.

Importing the package touches neither the network nor the disk and reads no environment variable;
heavy parts are imported on first use.

Examples
--------
>>> import imap_explorer as ie
>>> sorted(ie.__all__)[:3]
['ApiError', 'DownloadError', 'Explorer']
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import TYPE_CHECKING, Any

from imap_explorer.config import set_options
from imap_explorer.exceptions import (
    ApiError,
    DownloadError,
    FileAlreadyExistsError,
    ImapExplorerError,
    InvalidFileError,
    UploadError,
)

if TYPE_CHECKING:  # pragma: no cover
    from imap_explorer import ialirt, server, synthetic
    from imap_explorer.cdf import InvalidFileWarning, get_data, load
    from imap_explorer.coverage import coverage
    from imap_explorer.local import local_files, prune, sync
    from imap_explorer.plot import quicklook
    from imap_explorer.query import query
    from imap_explorer.transfer import download, upload
    from imap_explorer.versions import compare, versions
    from imap_explorer.widgets import Explorer

__all__ = [
    "ApiError",
    "DownloadError",
    "Explorer",
    "FileAlreadyExistsError",
    "ImapExplorerError",
    "InvalidFileError",
    "InvalidFileWarning",
    "UploadError",
    "compare",
    "coverage",
    "download",
    "get_data",
    "ialirt",
    "load",
    "local_files",
    "prune",
    "query",
    "quicklook",
    "server",
    "set_options",
    "sync",
    "synthetic",
    "upload",
    "versions",
]

try:
    __version__ = _dist_version("imap-explorer")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
    __version__ = "0+unknown"

_LAZY = {
    "query": "imap_explorer.query",
    "download": "imap_explorer.transfer",
    "upload": "imap_explorer.transfer",
    "load": "imap_explorer.cdf",
    "InvalidFileWarning": "imap_explorer.cdf",
    "get_data": "imap_explorer.cdf",
    "quicklook": "imap_explorer.plot",
    "Explorer": "imap_explorer.widgets",
    "coverage": "imap_explorer.coverage",
    "local_files": "imap_explorer.local",
    "prune": "imap_explorer.local",
    "sync": "imap_explorer.local",
    "compare": "imap_explorer.versions",
    "versions": "imap_explorer.versions",
}
_SUBMODULES = {"ialirt", "server", "synthetic"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"imap_explorer.{name}")
    raise AttributeError(f"module 'imap_explorer' has no attribute {name!r}")


class _Package(types.ModuleType):
    """Module type of the package: ``ie.query`` stays the function.

    Importing the submodule ``imap_explorer.query`` makes Python bind it as the package attribute ``query``,
    which would hide the public function of the same name.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
