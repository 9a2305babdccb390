"""Atomic CDF writing for the synthetic archive: cdflib ``xarray_to_cdf`` (as the SDC) and a raw writer.

Both write into a hidden temporary folder next to the target and ``os.replace`` the file into place
(:func:`imap_explorer.local.atomic_target`), so a scanner never sees a half-written ``.cdf``. cdflib's ISTP
messages are silenced during the write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imap_explorer.local import atomic_target

__all__ = ["RawVariable", "write_dataset", "write_raw"]


@contextlib.contextmanager
def _quiet_cdflib() -> Iterator[None]:
    logger = logging.getLogger("cdflib")
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old_level)
        logger.propagate = old_propagate



def _fill_nans(dataset):
    """NaN -> -1e31 in float variables: what ``xarray_to_cdf(nan_to_fillval=True)`` writes, without its slow pass."""
    dataset = dataset.copy()
    for name, var in {**dataset.data_vars, **dataset.coords}.items():
        if var.dtype.kind == "f":
            values = var.values
            nan = np.isnan(values)
            if nan.any():
                dataset[name] = var.copy(data=np.where(nan, values.dtype.type(-1e31), values))
    return dataset


def write_dataset(dataset, path: str | os.PathLike[str], *, compression: int = 6) -> Path:
    """Write an ``xarray.Dataset`` with ``cdflib.xarray.xarray_to_cdf`` the way the SDC does (``products.md`` §9).

    An existing file at ``path`` is replaced.
    """
    from cdflib.xarray import xarray_to_cdf

    path = Path(path)
    dataset = _fill_nans(dataset)
    with atomic_target(path) as tmp, _quiet_cdflib():
        xarray_to_cdf(dataset, str(tmp), istp=True, terminate_on_warning=False, compression=compression,
                      nan_to_fillval=False)
        if not tmp.is_file():  # cdflib logs (silenced) instead of raising on some failures
            msg = f"cdflib did not write {path.name}"
            raise OSError(msg)
    return path


@dataclass
class RawVariable:
    """One zVariable for :func:`write_raw`."""

    name: str
    data: np.ndarray
    cdf_type: str
    attrs: dict = field(default_factory=dict)
    record_varying: bool = True
    compress: int = 6
    num_elements: int = 1


_TYPED_ATTRS = ("FILLVAL", "VALIDMIN", "VALIDMAX", "SCALEMIN", "SCALEMAX")


def write_raw(path: str | os.PathLike[str], global_attrs: dict, variables: list[RawVariable], *,
              majority: str = "row_major") -> Path:
    """Write a CDF with ``cdflib.cdfwrite`` directly (per-variable compression of every variable, column-major).

    Used for the layouts ``xarray_to_cdf`` cannot produce: the flight-era MAG L2 (compressed ``epoch``) and the
    SWE L3 product (spacepy-style column-major, GZIP 7).
    """
    from cdflib.cdfwrite import CDF

    path = Path(path)
    with atomic_target(path) as tmp, _quiet_cdflib():
        cdf = CDF(str(tmp), cdf_spec={"Majority": majority, "Encoding": 6})
        try:
            cdf.write_globalattrs({k: ({i: v for i, v in enumerate(val)} if isinstance(val, list) else {0: val})
                                   for k, val in global_attrs.items()})
            for var in variables:
                shape = var.data.shape
                dims = list(shape[1:]) if var.record_varying else list(shape)
                spec = {
                    "Variable": var.name,
                    "Data_Type": CDF._datatype_token(var.cdf_type),
                    "Num_Elements": var.num_elements,
                    "Rec_Vary": var.record_varying,
                    "Dim_Sizes": dims,
                    "Compress": var.compress,
                }
                attrs = {}
                for key, value in var.attrs.items():
                    if key in _TYPED_ATTRS and not isinstance(value, str):
                        attrs[key] = [value, var.cdf_type]
                    else:
                        attrs[key] = value
                data = var.data
                first = 1 if var.record_varying else 0
                if majority == "column_major" and data.ndim - first > 1:
                    # cdflib writes the bytes as given: hand it each record in Fortran order
                    order = list(range(first)) + list(range(data.ndim - 1, first - 1, -1))
                    data = np.ascontiguousarray(data.transpose(order))
                if var.cdf_type == "CDF_CHAR":
                    data = np.asarray(data).astype(f"S{var.num_elements}")
                    data = [x.decode() for x in data]
                cdf.write_var(spec, var_attrs=attrs, var_data=data)
        finally:
            cdf.close()
    return path
