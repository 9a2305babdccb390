"""What every spec-based synthetic product shares: its file name, SDC path, global attributes and epoch."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np

from imap_explorer._time import datetime64_to_tt2000
from imap_explorer.filenames import sdc_key
from imap_explorer.synthetic._spec import load_spec, write_spec

__all__ = ["VERSION", "tt2000", "write_product", "ymd"]

#: Version of every spec-based synthetic product (the legacy ``vNNN`` form most of these real products use).
VERSION = "v001"
SOFTWARE_SUFFIX = "+synthetic"


def ymd(day: np.datetime64) -> str:
    """``YYYYMMDD`` of a datetime64."""
    return str(np.datetime64(day, "D")).replace("-", "")


def tt2000(times) -> np.ndarray:
    """TT2000 nanoseconds of datetime64 values."""
    return datetime64_to_tt2000(np.atleast_1d(np.asarray(times, dtype="datetime64[ns]")))


def _target(root: str | os.PathLike[str], name: str) -> Path:
    p = Path(root)
    return p if p.suffix == ".cdf" else p / sdc_key(name)


def write_product(root: str | os.PathLike[str], spec_name: str, *, instrument: str, data_level: str,
                  descriptor: str, day: np.datetime64, data: dict[str, Any], n_records: int,
                  repointing: int | None = None, parents: list[str] | None = None,
                  spec: dict | None = None, extra_globals: dict[str, Any] | None = None) -> Path:
    """Write one product with the structure of the stored spec ``spec_name`` under its SDC name.

    The global attributes are the real product's, with the identity of this file: ``Logical_source``,
    ``Logical_file_id``, ``Data_version`` (with a ``v`` where the real file has one), ``Start_date``,
    ``Repointing``, ``Generation_date`` (the next day), ``Parents`` and the software version, where the
    real file has these attributes. The real descriptor is replaced by ``descriptor`` in ``Data_type``.
    """
    spec = spec if spec is not None else load_spec(spec_name)
    date = ymd(day)
    interval = f"-repoint{repointing:05d}" if repointing is not None else ""
    logical_source = f"imap_{instrument}_{data_level}_{descriptor}"
    name = f"{logical_source}_{date}{interval}_{VERSION}.cdf"
    g = spec["globals"]

    def has(key: str) -> bool:
        return key in g

    def first(key: str) -> str:
        return str(g[key][0][0]) if g.get(key) else ""

    real_source = first("Logical_source")
    real_descriptor = real_source.split("_", 3)[-1] if real_source.startswith("imap_") else real_source
    updates: dict[str, Any] = {
        "Logical_source": logical_source,
        "Logical_file_id": f"{logical_source}_{date}{interval}_{VERSION}",
        "Data_version": VERSION if first("Data_version").startswith("v") else VERSION[1:],
    }
    if has("Data_type") and real_descriptor:
        updates["Data_type"] = first("Data_type").replace(real_descriptor, descriptor)
    if has("Start_date"):
        updates["Start_date"] = date
    if has("Repointing") and repointing is not None:
        updates["Repointing"] = f"repoint{repointing:05d}"
    if has("Generation_date"):
        next_day = dt.datetime.strptime(date, "%Y%m%d").date() + dt.timedelta(days=1)
        updates["Generation_date"] = next_day.strftime("%Y%m%d")
    if has("Parents"):
        updates["Parents"] = list(parents or [f"imap_{instrument}_l1b_{descriptor}_{date}_{VERSION}.cdf"])
    if has("ground_software_version"):
        updates["ground_software_version"] = first("ground_software_version").split("+")[0] + SOFTWARE_SUFFIX
    updates.update(extra_globals or {})
    return write_spec(spec, _target(root, name), data, n_records=n_records, globals_=updates)
