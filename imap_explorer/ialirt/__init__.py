"""I-ALiRT, IMAP's real-time space-weather stream, in pandas and xarray (``ie.ialirt``).

* :func:`space_weather` fetches any time span of any instruments from ``/space-weather`` (split into windows the
  server accepts, fetched in parallel, de-duplicated) into one typed DataFrame;
* :func:`get_data` gives one instrument over a time range as an xarray Dataset in the archive-CDF layout, from
  the daily archive CDFs where they exist and from ``/space-weather`` for the recent hours;
* :func:`archive_query`, :func:`log_query`, :func:`packet_query` list files; :func:`download` fetches them;
* :class:`Monitor` is a live ipywidgets monitor; :func:`quicklook` draws a summary of the stream.

The server is ``IALIRT_DATA_ACCESS_URL`` (default https://ialirt.imap-mission.com) or
``set_options(ialirt_url=...)``; with ``IMAP_API_KEY`` requests go to the ``/api-key`` routes.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Monitor", "archive_query", "download", "get_data", "log_query", "packet_query", "quicklook",
           "records_to_frame", "space_weather", "to_dataset"]

_LAZY = {
    "space_weather": "imap_explorer.ialirt.client",
    "get_data": "imap_explorer.ialirt.client",
    "archive_query": "imap_explorer.ialirt.client",
    "log_query": "imap_explorer.ialirt.client",
    "packet_query": "imap_explorer.ialirt.client",
    "download": "imap_explorer.ialirt.client",
    "records_to_frame": "imap_explorer.ialirt.frame",
    "to_dataset": "imap_explorer.ialirt.frame",
    "quicklook": "imap_explorer.ialirt.plot",
    "Monitor": "imap_explorer.ialirt.monitor",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'imap_explorer.ialirt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
