"""The layout a recipe expects: the time dimension named ``epoch`` and named (not ``<var>_dimN``) dimensions.

:func:`imap_explorer.load` names the time dimension after the data variables' ``DEPEND_0`` (``epoch``,
``Epoch``, ``mag_epoch`` ...). Plotting calls it ``epoch``. Where a file's pointers could not be followed
(a variable without attributes whose leading dimension is the records, a non-record-varying time variable),
anonymous ``<var>_dimN`` dimensions are matched to the time dimension or to a ``DEPEND_i`` by their length.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from imap_explorer.plot._istp import _attr, _text

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

_ANONYMOUS = re.compile(r"_dim\d+$")


def time_dim(ds: xr.Dataset) -> str | None:
    """The dataset's time dimension: ``epoch``, else its data variables' ``DEPEND_0``, else a datetime dimension.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"b": ("Epoch", np.zeros(2), {"DEPEND_0": "Epoch"})},
    ...                 coords={"Epoch": np.array(["2026-01-01", "2026-01-02"], "datetime64[ns]")})
    >>> time_dim(ds), time_dim(xr.Dataset({"x": ("energy", np.zeros(3))}))
    ('Epoch', None)
    """
    if "epoch" in ds.dims:
        return "epoch"
    for var in ds.data_vars.values():
        depend = _text(_attr(var.attrs, "DEPEND_0"))
        if depend in ds.dims and depend in ds.variables and ds[depend].dtype.kind == "M":
            return depend
    for name in ds.dims:
        if name in ds.variables and ds[name].ndim == 1 and ds[name].dtype.kind == "M":
            return str(name)
    return None


def normalise_layout(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with its time dimension called ``epoch`` and anonymous dimensions named where their length tells.

    Nothing is copied when the layout is already right. A leading anonymous dimension as long as the time
    dimension becomes ``epoch``; with a time variable that is not record-varying (``epoch`` on its own
    anonymous dimension of length 1), leading length-1 dimensions become ``epoch``; other anonymous
    dimensions take the name of the variable's ``DEPEND_i`` (or of a coordinate of the same length named
    by no other dimension of that variable).
    """
    import xarray as xr

    t = time_dim(ds)
    if t is not None and t != "epoch" and "epoch" not in ds.variables:
        ds = ds.rename({t: "epoch"})
        t = "epoch"
    nrv_epoch = t is None and "epoch" in ds.variables and ds["epoch"].ndim == 1 and ds["epoch"].size == 1 \
        and ds["epoch"].dtype.kind == "M"
    if not any(_ANONYMOUS.search(str(d)) for d in ds.dims):
        return ds
    n_records = ds.sizes["epoch"] if t is not None else (1 if nrv_epoch else None)
    coords_1d = {str(n): ds[n].size for n in ds.variables if ds[n].ndim == 1 and not _ANONYMOUS.search(str(n))
                 and not _ANONYMOUS.search(str(ds[n].dims[0]))}
    variables = {}
    changed = False
    for name, var in ds.variables.items():
        dims = list(var.dims)
        for i, dim in enumerate(var.dims):
            if not _ANONYMOUS.search(str(dim)):
                continue
            size = var.shape[i]
            target = None
            if i == 0 and n_records is not None and size == n_records and var.ndim > 1 or (
                    name == "epoch" and nrv_epoch):
                target = "epoch"
            else:
                pointers = [_text(_attr(var.attrs, f"DEPEND_{k}")) for k in (i, i + 1, i - 1)]
                pointers += [c for c, n in coords_1d.items() if n == size and c != "epoch"]
                target = next((p for p in pointers if p and p in coords_1d and coords_1d[p] == size
                               and p not in dims), None)
            if target is not None and target not in dims:
                dims[i] = target
        if dims != list(var.dims):
            changed = True
            var = xr.Variable(dims, var.data, var.attrs, var.encoding)
        variables[name] = var
    if not changed:
        return ds
    try:
        out = xr.Dataset({n: v for n, v in variables.items() if n not in ds.coords},
                         coords={n: v for n, v in variables.items() if n in ds.coords}, attrs=ds.attrs)
    except ValueError:  # lengths that disagree after all: keep the dataset as loaded
        return ds
    out.encoding = dict(ds.encoding)
    return out
