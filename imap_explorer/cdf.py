"""Load IMAP CDF files into :class:`xarray.Dataset` objects, following the ISTP rules of the SDC products.

The rules (``reference/products.md`` §6) in one place:

**Time.**
Every ``CDF_TIME_TT2000`` variable becomes ``datetime64[ns]`` (UTC, naive), exactly as the CDF library and
``cdflib`` convert it in every era (leap seconds since 1972, the drift formula of 1960-1971, nothing before 1960:
:func:`imap_explorer._time.tt2000_to_datetime64`); the TT2000 fill and pad values become ``NaT``. Its attributes
(``UNITS ns``, ``FILLVAL``, ``VALIDMIN``... as raw TT2000 integers) are kept untouched. ``CDF_EPOCH`` and
``CDF_EPOCH16`` variables (older files) become ``datetime64[ns]`` too (they count no leap seconds); their fill
and pad values become ``NaT``.

**Fill.**
Float variables: a value equal to ``FILLVAL`` (compared in the variable's dtype) or ``<= -1e30`` becomes NaN
(flight MAG files store -1e31 under a wrong ``FILLVAL`` of 9.22e18). Masking happens in place, block by block.
Integer variables are left as they are (SWE writes wrapped ``FILLVAL`` 0 on counters that are legitimately 0;
MAG ``range`` is a code), with one exception: a ``VAR_TYPE = data`` integer variable whose ``FILLVAL`` is the
ISTP standard fill of its type (the type's minimum for signed types, e.g. -128 for INT1; its maximum for
unsigned types, e.g. 255 for UINT1) becomes float (float32 up to 16-bit integers, float64 above) with NaN at the
fill values. The decision depends only on the attributes, so the dtype is the same for every file of a product
and known before reading (needed for dask). ``VALIDMIN``/``VALIDMAX`` are never applied.

**Dimensions.**
The record dimension of a variable is what its ``DEPEND_0`` names (``epoch``, ``Epoch``, ``mag_epoch``...; a file
may have several, each variable keeps its own); a variable without ``DEPEND_0`` takes the file's record axis of its
length. A variable stored non-record-varying whose leading axis is that record axis (one dimension more than its
``DEPEND_i``/``LABL_PTR_i``, leading length equal to the time variable's: maps and PSETs ``[1, E, lon, lat]``, Lo
histogram rates ``[n_epoch, ...]`` with ``DEPEND_1 = epoch``, per-event arrays) gets that dimension and is read,
selected and concatenated like a record-varying one; so is a non-record-varying time variable (``epoch[1]``).
``DEPEND_i`` naming an existing variable of the right length names dimension *i* and becomes a coordinate. Where
only ``LABL_PTR_i`` exists, the dimension is named after the label variable without ``_label``; label variables are
coordinates on that dimension.
``DEPEND_i``/``LABL_PTR_i`` values that are not names of existing variables are ignored (old files carry
``epoch:DEPEND_0 = 0``). Anything left gets a name of its own, ``<variable>_dim<i>``, never a shared ``dim0``.

**Attributes.**
Raw ISTP attributes are kept on every variable (single values unwrapped to numpy scalars); ``units`` (from a
non-blank ``UNITS``, not on time variables) and ``long_name`` (``LABLAXIS``, else ``FIELDNAM``, else
``CATDESC``) are added for plot labels. Global attributes are unwrapped from one-element lists; real lists
(several entries, and ``Parents`` always) stay lists.

**Several files.**
Files are ordered by time and concatenated once. Where time spans overlap (the ±30 min buffers of MAG
L1A-L1C), the newer file wins on its whole span: newer means a later file date, then a higher version (from the
file name, which the SDC treats as authoritative). A file superseded by a higher version of the same product
and day gives no records at all. Non-record-varying variables come from the first file.
Global attributes come from the first file; ``ds.imap.files`` lists every file.

**Reading.**
``time_range`` bisects each file's epoch on disk and reads only records ``[startrec, endrec)``; ``variables``
reads only those and what they depend on. ``chunks`` returns dask arrays whose tasks carry a path and a record
range (picklable: they run unchanged on a ``dask.distributed`` cluster); the time coordinate is read eagerly
(8 bytes per record), as an index has to be.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import warnings
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

import imap_explorer.accessor  # noqa: F401 - registers the ds.imap accessor
from imap_explorer import _reader
from imap_explorer._time import LEAP_SECONDS_TT2000, TT2000_FILL, datetime64_to_tt2000, time_pair, tt2000_to_datetime64
from imap_explorer.exceptions import ImapExplorerError, InvalidFileError
from imap_explorer.filenames import FileInfo, local_path, parse_filename

__all__ = ["InvalidFileWarning", "get_data", "load"]

#: Values at or below this are fill in every float variable (flight MAG stores -1e31 under a wrong FILLVAL).
FILL_THRESHOLD = -1e30
#: Global attributes that are lists by nature, even with one entry.
LIST_ATTRS = frozenset({"Parents"})
#: Target size of one dask chunk when ``chunks={}`` or ``"auto"``.
CHUNK_BYTES = 128 * 2**20
_TIME_TYPES = frozenset({_reader.TT2000, _reader.EPOCH, _reader.EPOCH16})
_MASK_BLOCK = 1 << 22  # elements masked per step: bounds the temporary boolean array to 4 MB
_NAT = np.iinfo(np.int64).min

_POINTER = re.compile(r"(DEPEND|LABL_PTR)_(\d+)")

Rule = Literal["time", "float", "promote", "char", "raw"]
Chunks = int | str | Mapping[str, Any] | None


class InvalidFileWarning(UserWarning):
    """A file was skipped by ``load(..., on_error="skip")``; the message names it and says why."""


# ====================================================================================================================
# Metadata
# ====================================================================================================================
@dataclass
class _Var:
    name: str
    data_type: int
    dtype: np.dtype  # raw dtype on disk (little-endian); S<n> for strings
    shape: tuple[int, ...]  # dimensions after the record axis
    record_vary: bool
    n_records: int
    attrs: dict[str, Any]
    #: ``DEPEND_i``/``LABL_PTR_i`` as they apply to ``shape`` (the raw ones, renumbered for a stored-NRV variable)
    pointers: dict[str, Any] | None = None
    #: stored non-record-varying, but its leading axis is a record axis (``shape``/``n_records`` say so)
    stored_nrv: bool = False

    def __post_init__(self) -> None:
        if self.pointers is None:
            self.pointers = {k: v for k, v in self.attrs.items() if _POINTER.fullmatch(k)}

    @property
    def is_char(self) -> bool:
        return self.data_type in _reader.CHAR_TYPES


@dataclass
class _File:
    path: Path
    variables: dict[str, _Var]
    global_attrs: dict[str, Any]
    info: FileInfo | None
    index: int  # position in the caller's list
    first: dict[str, int] = field(default_factory=dict)  # first/last TT2000 of each time variable
    last: dict[str, int] = field(default_factory=dict)


def _attr_value(value: Any, data_type: int) -> Any:
    """One pycdfpp attribute entry -> a str, a numpy scalar, or a numpy array (several values)."""
    if isinstance(value, str):
        return value.rstrip("\x00")  # writers pad empty strings with NUL, as cdflib reads them
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").rstrip("\x00")
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if data_type == _reader.TT2000:
        arr = np.array([v.nseconds if hasattr(v, "nseconds") else v for v in values], dtype=np.int64)
    elif data_type == _reader.EPOCH:  # raw numbers, as cdflib reads them (pycdfpp gives epoch objects)
        arr = np.array([v.mseconds if hasattr(v, "mseconds") else v for v in values], dtype=np.float64)
    elif data_type == _reader.EPOCH16:
        arr = np.array([complex(v.seconds, v.picoseconds) if hasattr(v, "seconds") else v for v in values],
                       dtype=np.complex128)
    elif data_type in _reader.CHAR_TYPES:
        return "".join(str(v) for v in values)
    else:
        try:
            arr = np.asarray(values, dtype=_reader.numpy_dtype(data_type).newbyteorder("="))
        except (KeyError, TypeError, ValueError):
            arr = np.asarray([getattr(v, "value", v) for v in values])
    return arr[0] if arr.size == 1 else arr


def _read_file(path: Path, index: int) -> _File:
    cdf = _reader.open_pycdfpp(path)
    layout = _reader.read_layout(path)
    variables: dict[str, _Var] = {}
    try:
        for name in cdf.keys():
            var = cdf[name]
            data_type = var.type.value
            lay = layout.variables.get(name)
            if lay is not None and lay.data_type == data_type:
                dims, record_vary, n = lay.dims, lay.record_vary, lay.n_records
            else:  # from pycdfpp's shape: (records, *dims[, string length])
                shape = tuple(var.shape)
                if data_type in _reader.CHAR_TYPES:
                    shape = shape[:-1]
                dims, record_vary, n = shape[1:], not var.is_nrv, shape[0] if shape else 0
            if lay is not None:
                num_elems = lay.num_elems
            else:  # pycdfpp gives the string length as the last axis of a CHAR variable
                num_elems = int(var.shape[-1]) if data_type in _reader.CHAR_TYPES and len(var.shape) else 1
            attrs = {key: _attr_value(att.value, att.type().value) for key, att in var.attributes.items()}
            variables[name] = _Var(name, data_type, _reader.numpy_dtype(data_type, num_elems), tuple(dims),
                                   record_vary, max(int(n), 0), attrs)
        gattrs: dict[str, Any] = {}
        for key in cdf.attributes:
            att = cdf.attributes[key]
            entries = [_attr_value(att[i], att.type(i).value) for i in range(len(att))]
            gattrs[key] = entries if (len(entries) != 1 or key in LIST_ATTRS) else entries[0]
    except InvalidFileError:
        raise
    except Exception as err:
        raise InvalidFileError(path, f"has unreadable CDF metadata ({type(err).__name__}: {err})") from err
    try:
        info = parse_filename(path.name)
        info = info if info.kind == "science" else None
    except ValueError:
        info = None
    return _File(path, _align_records(variables), gattrs, info, index)


# ====================================================================================================================
# Dimensions and coordinates (pure: metadata in, names out)
# ====================================================================================================================
def _ref(var: _Var, key: str, variables: Mapping[str, _Var]) -> str | None:
    """The variable named by pointer ``key`` (``DEPEND_i``, ``LABL_PTR_i``...), if it names another existing one."""
    value = var.pointers.get(key) if _POINTER.fullmatch(key) else var.attrs.get(key)
    if isinstance(value, str) and value.strip() in variables and value.strip() != var.name:
        return value.strip()
    return None


def _is_time(var: _Var) -> bool:
    return var.data_type in _TIME_TYPES


def _length(var: _Var) -> int | None:
    """The number of values of a variable that can be a record axis (one scalar per record, or 1-D NRV), else None."""
    if var.record_vary and var.shape == ():
        return var.n_records
    if not var.record_vary and len(var.shape) == 1:
        return var.shape[0]
    return None


def _last_axis(pointers: Mapping[str, Any], own: str = "") -> int:
    """The highest ``i >= 1`` of the ``DEPEND_i``/``LABL_PTR_i`` given as text (not naming ``own``), 0 if none."""
    found = [int(m.group(2)) for k, v in pointers.items()
             if (m := _POINTER.fullmatch(k)) and isinstance(v, str) and v.strip() != own]
    return max([i for i in found if i >= 1], default=0)


def _align_records(variables: dict[str, _Var]) -> dict[str, _Var]:
    """Find the record axis of variables stored non-record-varying (maps, pointing sets, per-event arrays).

    A non-record-varying variable has its time (or event) axis first when

    * ``DEPEND_0`` names a time or event variable ``T``, the variable has one dimension more than its
      ``DEPEND_i``/``LABL_PTR_i`` describe, and its leading length is ``T``'s (Lo/Hi/Ultra maps ``[1, E, lon, lat]``,
      Hi L1B direct events ``[n_events]`` under an NRV ``epoch[n_events]``);
    * it has no ``DEPEND_0`` but ``DEPEND_1`` names a time variable of its leading length, the other pointers then
      being shifted by one (Lo L1B histogram rates ``[200, 7, 60]``, Lo L1C PSETs ``[1, 7, 3600, 40]``);
    * it has no ``DEPEND_0``, the file has one time axis of its leading length, and its ``DEPEND_i`` describe all
      its other dimensions (Hi L3 ``solid_angle [1, lon, lat]``; Lo L1A ``shcoarse [n_epoch]``, whose only pointer
      is ``DEPEND_1`` naming itself);
    * it has no pointer at all and the same shape as variables of the file aligned by one of the rules above, all
      with the same pointers (Lo L2 ``counts`` next to ``ena_intensity``): it takes theirs.

    Such a variable is given ``record_vary=True`` with ``n_records`` its leading length and ``stored_nrv=True``, and
    so is a one-dimensional non-record-varying ``T`` (an NRV ``epoch[1]``): from then on they are read, selected in
    time and concatenated like record-varying variables. Raw attributes stay as stored; ``pointers`` holds the
    pointers renumbered for the new shape.
    """
    def target(var: _Var, key: str) -> _Var | None:
        name = _ref(var, key, variables)
        return variables[name] if name is not None else None

    used = [t for v in variables.values() if (t := target(v, "DEPEND_0")) is not None and _length(t) is not None]
    times = {t.name for t in used if _is_time(t)}
    default = variables[next(iter(times))] if len(times) == 1 else None
    aligned: dict[str, _Var] = {}
    for var in variables.values():
        if var.record_vary or not var.shape:
            continue
        ptr, lead, n = var.pointers, None, var.shape[0]
        dep0, dep1 = target(var, "DEPEND_0"), target(var, "DEPEND_1")
        if dep0 is not None:
            if _length(dep0) == n and len(var.shape) == _last_axis(ptr) + 1:
                lead = dep0
        elif dep1 is not None and _is_time(dep1) and _length(dep1) == n:
            lead = dep1
            ptr = {f"{m.group(1)}_{int(m.group(2)) - 1}": v for k, v in ptr.items()
                   if (m := _POINTER.fullmatch(k)) and int(m.group(2)) >= 2}
        elif (default is not None and _length(default) == n and _last_axis(ptr) >= 1
              and len(var.shape) == _last_axis(ptr, var.name) + 1):
            lead = default  # (Lo shcoarse[n_epoch] NRV, whose only pointer is DEPEND_1 = itself, counts too)
        if lead is not None:
            aligned[var.name] = replace(var, record_vary=True, n_records=n, shape=var.shape[1:], stored_nrv=True,
                                        pointers={**ptr, "DEPEND_0": lead.name})
    groups: dict[tuple[int, ...], set[tuple]] = {}
    for var in aligned.values():
        groups.setdefault((var.n_records, *var.shape), set()).add(tuple(sorted(var.pointers.items())))
    for var in variables.values():
        full = groups.get(var.shape) if not var.record_vary and len(var.shape) > 1 and not var.pointers else None
        if full is not None and len(full) == 1:
            aligned[var.name] = replace(var, record_vary=True, n_records=var.shape[0], shape=var.shape[1:],
                                        stored_nrv=True, pointers=dict(next(iter(full))))
    leads = {v.pointers["DEPEND_0"] for v in aligned.values()}
    leads |= {t.name for t in used if not t.record_vary
              and any(v.record_vary and v.n_records == t.shape[0] and _ref(v, "DEPEND_0", variables) == t.name
                      for v in variables.values())}
    for name in leads:
        var = variables[name]
        if not var.record_vary and len(var.shape) == 1:
            aligned[name] = replace(var, record_vary=True, n_records=var.shape[0], shape=(), stored_nrv=True,
                                    pointers={})
    return {name: aligned.get(name, var) for name, var in variables.items()}


def _record_axes(variables: Mapping[str, _Var]) -> set[str]:
    """The record (time or event) axes of a file: what ``DEPEND_0`` names (``epoch``, ``Epoch``, ``mag_epoch``...).

    Only variables with one value per record count; a file without any such pointer has every time variable with one
    value per record.
    """
    named = {dep for v in variables.values() if v.record_vary and (dep := _ref(v, "DEPEND_0", variables)) is not None
             and variables[dep].record_vary and variables[dep].shape == ()
             and variables[dep].n_records == v.n_records}
    return named or {n for n, v in variables.items() if _is_time(v) and v.record_vary and v.shape == ()}


def _record_dim(var: _Var, variables: Mapping[str, _Var], axes: set[str] | None = None, events: bool = False) -> str:
    """The record dimension of a record-varying variable: its ``DEPEND_0``, else the record axis of its length."""
    axes = _record_axes(variables) if axes is None else axes
    dep = _ref(var, "DEPEND_0", variables)
    if dep is not None and variables[dep].record_vary and variables[dep].n_records == var.n_records:
        return dep
    if var.name in axes:
        return var.name
    same = sorted(a for a in axes if variables[a].n_records == var.n_records)
    if len(same) == 1:
        return same[0]
    if _is_time(var) and (dep is None or not _is_time(variables[dep])):
        return var.name
    if "epoch" in same:
        return "epoch"
    named = var.pointers.get("DEPEND_0")  # an axis the file names but does not store (Lo DE 'direct_events'):
    if isinstance(named, str) and named.strip().isidentifier() and named.strip() not in variables:
        return named.strip()  # the variables naming it share it
    if events:
        return "event"
    return f"{var.name}_record"


def resolve_dims(variables: Mapping[str, _Var], *, events: bool = False) -> tuple[dict[str, tuple[str, ...]], set[str]]:
    """Name the dimensions of every variable and list the coordinates (see the module docstring).

    ``events`` (a direct-event product, :func:`_direct_events`): an axis of events that no pointer names (the last
    axis of a variable, or records without a time axis of their count) is called ``event``, not ``<name>_dim<i>``.
    """
    depend_targets = {
        ref for v in variables.values() for i in range(1, len(v.shape) + 1)
        if (ref := _ref(v, f"DEPEND_{i}", variables)) is not None
    }
    label_targets = {
        ref for v in variables.values() for i in range(1, len(v.shape) + 1)
        if (ref := _ref(v, f"LABL_PTR_{i}", variables)) is not None
    }
    label_dim: dict[str, str] = {}
    dims: dict[str, tuple[str, ...]] = {}
    axes = _record_axes(variables)

    def axis_name(var: _Var, i: int, size: int, depth: int = 0) -> str:
        dep = _ref(var, f"DEPEND_{i}", variables)
        lab = _ref(var, f"LABL_PTR_{i}", variables)
        name = None
        if dep is not None and variables[dep].is_char and (inner := _ref(variables[dep], "DEPEND_1", variables)):
            if not variables[inner].record_vary and variables[inner].shape == (size,):  # a DEPEND_i naming a label
                dep = inner  # variable (CoDICE hi DE energy_per_nuc): the dimension the labels are on
        if dep is not None:
            target = variables[dep]
            if not target.record_vary and target.shape == (size,):
                name = dep
            elif target.record_vary and target.shape == (size,) and depth < 3:
                name = axis_name(target, 1, size, depth + 1)
        if name is None and lab is not None and variables[lab].is_char and variables[lab].shape == (size,):
            name = lab[: -len("_label")] if lab.endswith("_label") and len(lab) > 6 else lab
            other = variables.get(name)
            if other is not None and name != lab and (other.record_vary or other.shape != (size,)):
                name = lab
        if name is None:
            name = "event" if events and var.record_vary and i == len(var.shape) else f"{var.name}_dim{i}"
        if lab is not None:
            label_dim.setdefault(lab, name)
        return name

    def resolve(var: _Var) -> tuple[str, ...]:
        head = (_record_dim(var, variables, axes, events),) if var.record_vary else ()
        own = var.pointers.get("DEPEND_1")  # a 1-D table naming itself (CoDICE k_factor, Lo esa_step) is its axis
        if not var.record_vary and len(var.shape) == 1 and (
                var.name in depend_targets or (isinstance(own, str) and own.strip() == var.name)):
            return (var.name,)
        return head + tuple(axis_name(var, i + 1, n) for i, n in enumerate(var.shape))

    for var in variables.values():
        if var.name not in label_targets:
            dims[var.name] = resolve(var)
    for name in label_targets:
        var = variables[name]
        if not var.record_vary and len(var.shape) == 1 and name in label_dim:
            dims[name] = (label_dim[name],)
        else:
            dims[name] = resolve(var)
    # a dimension name used with two sizes: give the later ones a size suffix
    sizes: dict[str, int] = {}
    for name, var in variables.items():
        full = ((var.n_records,) if var.record_vary else ()) + var.shape
        fixed = []
        for d, n in zip(dims[name], full):
            if var.record_vary and d == dims[name][0] and len(fixed) == 0:
                fixed.append(d)
                continue
            if sizes.setdefault(d, n) != n:
                d = f"{d}_{n}"
                sizes.setdefault(d, n)
            fixed.append(d)
        dims[name] = tuple(fixed)
    coords = set(depend_targets) | set(label_targets)
    coords |= {n for n, v in variables.items() if _is_time(v) and v.record_vary and dims[n][:1] == (n,)}
    coords |= {n for n, v in variables.items()
               if v.is_char and not v.record_vary and str(v.attrs.get("VAR_TYPE", "")).strip() == "metadata"}
    return dims, coords


#: Descriptors of direct-event products: one row per detected particle or dust hit (CoDICE ``lo-direct-events``,
#: Hi/Lo ``45sensor-de``/``de``, HIT ``direct-events``, the HIT L1A ``pulse-height-events`` Logical_source).
_DIRECT_EVENTS = re.compile(r"(^|[-_])(direct-events?|de|pulse-height-events)($|[-_])")


def _direct_events(f: _File) -> bool:
    """Whether a file is a direct-event product, from its descriptor (file name, else ``Logical_source``)."""
    if f.info is not None and f.info.descriptor:
        return bool(_DIRECT_EVENTS.search(f.info.descriptor))
    source = f.global_attrs.get("Logical_source")
    return isinstance(source, str) and bool(_DIRECT_EVENTS.search(source.lower().split("_", 3)[-1]))


def _file_dims(f: _File) -> tuple[dict[str, tuple[str, ...]], set[str]]:
    """:func:`resolve_dims` of a file's variables, as loading it names them (``event`` in a direct-event product)."""
    return resolve_dims(f.variables, events=_direct_events(f))


def _rule(var: _Var) -> Rule:
    if _is_time(var):
        return "time"
    if var.is_char:
        return "char"
    if var.data_type in _reader.FLOAT_TYPES:
        return "float"
    if var.data_type in _reader.INT_TYPES and _promotes(var):
        return "promote"
    return "raw"


def _standard_int_fill(dtype: np.dtype) -> int:
    info = np.iinfo(dtype)
    return int(info.max) if dtype.kind == "u" else int(info.min)


def _promotes(var: _Var) -> bool:
    """True for a data integer variable whose FILLVAL is the ISTP standard fill of its type (e.g. 255 for UINT1)."""
    if str(var.attrs.get("VAR_TYPE", "")).strip() != "data":
        return False
    fill = var.attrs.get("FILLVAL")
    if fill is None or np.ndim(fill) != 0:
        return False
    try:
        return int(fill) == _standard_int_fill(var.dtype)
    except (TypeError, ValueError, OverflowError):
        return False


def _out_dtype(var: _Var, rule: Rule) -> np.dtype:
    if rule == "time":
        return np.dtype("datetime64[ns]")
    if rule == "promote":
        return np.dtype("float32") if var.dtype.itemsize <= 2 else np.dtype("float64")
    if rule == "char":
        return np.dtype(f"U{var.dtype.itemsize}")
    return var.dtype.newbyteorder("=")


# ====================================================================================================================
# Value post-processing (in place where the dtype allows)
# ====================================================================================================================
def _mask_float(values: np.ndarray, fillval: Any) -> np.ndarray:
    """Set fill to NaN in place, block by block (no second copy of the data)."""
    fv = None
    if fillval is not None and np.ndim(fillval) == 0:
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                fv = np.asarray(fillval).astype(values.dtype)
        except (TypeError, ValueError):  # a non-numeric FILLVAL (e.g. a string): only the -1e30 rule applies
            fv = None
        fv = None if (fv is None or np.isnan(fv) or fv <= FILL_THRESHOLD) else fv
    if not values.flags.c_contiguous:  # reshape would copy: mask the array as a whole
        mask = values <= FILL_THRESHOLD
        if fv is not None:
            mask |= values == fv
        values[mask] = np.nan
        return values
    flat = values.reshape(-1)
    for lo in range(0, flat.size, _MASK_BLOCK):
        block = flat[lo:lo + _MASK_BLOCK]
        mask = block <= FILL_THRESHOLD
        if fv is not None:
            mask |= block == fv
        np.copyto(block, np.nan, where=mask)
    return values


#: CDF_EPOCH (ms) and CDF_EPOCH16 (s) of 1970-01-01T00:00:00, counted from 0000-01-01.
_EPOCH_1970_MS = 62167219200000
_EPOCH16_1970_S = 62167219200


def _epoch_to_datetime(raw: np.ndarray, data_type: int) -> np.ndarray:
    """CDF_EPOCH (float ms) or CDF_EPOCH16 (complex: s + i ps) since year 0 -> datetime64[ns] (no leap seconds).

    Fill (-1e31), pad (0) and anything outside the datetime64[ns] range become NaT.
    """
    if data_type == _reader.EPOCH16:
        whole, frac = raw.real, raw.imag / 1e3  # s, ns
        offset, scale = _EPOCH16_1970_S, 1_000_000_000
    else:
        whole = np.floor(raw)
        frac = (raw - whole) * 1e6  # ms fraction in ns
        offset, scale = _EPOCH_1970_MS, 1_000_000
    with np.errstate(invalid="ignore", over="ignore"):
        units = whole - offset
        valid = np.isfinite(units) & np.isfinite(frac) & (whole > 0) & (np.abs(units) < 9.2e18 / scale / 1.01)
        ns = np.where(valid, units, 0).astype(np.int64) * scale + np.round(np.where(valid, frac, 0)).astype(np.int64)
    return np.where(valid, ns, _NAT).view("datetime64[ns]")


def _tt2000_of(raw: np.ndarray, data_type: int) -> np.ndarray:
    """The times of a time variable as TT2000 int64 (the scale used to plan record ranges); fill stays fill."""
    if data_type == _reader.TT2000:
        return raw.reshape(-1).view(np.int64)
    return datetime64_to_tt2000(_epoch_to_datetime(raw.reshape(-1), data_type))


def _to_datetime(raw: np.ndarray, data_type: int = _reader.TT2000) -> np.ndarray:
    """TT2000 int64 -> datetime64[ns] in place: one offset when no leap second is crossed, else block by block.

    CDF_EPOCH and CDF_EPOCH16 values give a new array.
    """
    if data_type != _reader.TT2000:
        return _epoch_to_datetime(raw, data_type)
    flat = raw.reshape(-1).view(np.int64)
    if flat.size:
        lo, hi = int(flat.min()), int(flat.max())  # the TT2000 fill is int64 min, so it shows up as lo
        # one offset for all needs both ends after 1972 (before, TAI-UTC drifts day by day)
        offset_lo = int(tt2000_to_datetime64([lo]).view(np.int64)[0]) - lo if lo >= LEAP_SECONDS_TT2000[0] else None
        offset_hi = int(tt2000_to_datetime64([hi]).view(np.int64)[0]) - hi
        if offset_lo == offset_hi:
            flat += offset_lo
        else:
            for start in range(0, flat.size, _MASK_BLOCK):
                block = flat[start:start + _MASK_BLOCK]
                block[...] = tt2000_to_datetime64(block).view(np.int64)
    return raw.view("datetime64[ns]")


def _finish(values: np.ndarray, var: _Var, rule: Rule) -> np.ndarray:
    """Raw values -> loaded values (the array is modified in place when the dtype does not change)."""
    if rule == "time":
        return _to_datetime(values, var.data_type)
    if rule == "float":
        if not values.flags.writeable:
            values = values.copy()
        return _mask_float(values, var.attrs.get("FILLVAL"))
    if rule == "promote":
        out = values.astype(_out_dtype(var, rule))
        np.copyto(out, np.nan, where=values == _standard_int_fill(var.dtype))
        return out
    if rule == "char":  # (np.char.decode narrows to the longest value: keep the declared width, same in every chunk)
        return np.char.decode(values, "utf-8", "replace").astype(_out_dtype(var, rule), copy=False)
    return values


def _display_attrs(var: _Var) -> dict[str, Any]:
    attrs = dict(var.attrs)
    units = attrs.get("UNITS")
    if isinstance(units, str) and units.strip() and not _is_time(var):
        attrs["units"] = units.strip()
    for key in ("LABLAXIS", "FIELDNAM", "CATDESC"):
        text = attrs.get(key)
        if isinstance(text, str) and text.strip():
            attrs["long_name"] = text.strip()
            break
    return attrs


# ====================================================================================================================
# Inputs
# ====================================================================================================================
def _as_paths(files: Any) -> list[Path]:
    """A path, a list of paths, or a DataFrame/row from ``ie.query`` -> local paths (downloading what is missing)."""
    import pandas as pd

    if isinstance(files, pd.DataFrame) or (isinstance(files, pd.Series) and "file_path" in files.index):
        frame = files.to_frame().T if isinstance(files, pd.Series) else files
        if "file_path" not in frame.columns:
            msg = ("Expected a DataFrame from imap_explorer.query() with a 'file_path' column; got columns: "
                   f"{', '.join(map(str, frame.columns))}.")
            raise ValueError(msg)
        from imap_explorer.config import resolve

        data_dir = resolve().data_dir
        keys = [str(k) for k in frame["file_path"].tolist()]
        if not keys:
            raise ValueError("No files to load: the DataFrame is empty (the query matched nothing).")
        paths = [local_path(data_dir, k) for k in keys]
        missing = [k for k, p in zip(keys, paths) if not p.is_file()]
        if missing:
            from imap_explorer.transfer import download

            download(missing, data_dir=data_dir)
        return paths
    if isinstance(files, (str, os.PathLike)):
        return [_as_path(files)]
    if isinstance(files, Iterable):
        out = [_as_path(f) for f in files]
        if not out:
            raise ValueError("No files to load: the list is empty.")
        return out
    msg = f"Cannot load {files!r}: expected a path, a list of paths, or a DataFrame from imap_explorer.query()."
    raise TypeError(msg)


def _as_path(item: Any) -> Path:
    if not isinstance(item, (str, os.PathLike)):
        raise TypeError(f"Cannot load {item!r}: expected a path (str or os.PathLike).")
    path = Path(item).expanduser()
    if not path.exists() and len(path.parts) <= 6:  # a bare IMAP name or SDC key: look in the local archive
        try:
            from imap_explorer.config import resolve

            candidate = local_path(resolve().data_dir, path.as_posix())
        except (ValueError, ImapExplorerError):
            candidate = None
        if candidate is not None and candidate.is_file():
            return candidate
    return path


def _as_ns(value: Any, what: str) -> int | None:
    """A time bound (str, date, datetime, numpy or pandas time) -> TT2000, or None."""
    if value is None:
        return None
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"Cannot read {what} {value!r} as a time: expected e.g. '2026-01-20T06:00'.") from err
    if ts is pd.NaT:
        return None
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(datetime64_to_tt2000(np.datetime64(ts.as_unit("ns").value, "ns")))


def _time_bounds(time_range: Any) -> tuple[int | None, int | None]:
    pair = time_pair(time_range)
    if pair is None:
        return None, None
    lo, hi = _as_ns(pair[0], "time_range start"), _as_ns(pair[1], "time_range end")
    if lo is not None and hi is not None and hi < lo:
        raise ValueError(f"time_range end {pair[1]!r} is before its start {pair[0]!r}.")
    return lo, hi


# ====================================================================================================================
# Planning: which records of which file, in which order
# ====================================================================================================================
@dataclass(frozen=True)
class _Piece:
    path: str
    start: int
    stop: int

    @property
    def n(self) -> int:
        return self.stop - self.start


class _EpochProbe:
    """Random access to one record of a file's time variable, reading one block at a time."""

    def __init__(self, path: Path, name: str, n: int, data_type: int = _reader.TT2000) -> None:
        self.path, self.name, self.n, self.data_type = path, name, n, data_type
        self._cache: dict[int, int] = {}
        self._all: np.ndarray | None = None

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        if i not in self._cache:
            if self._all is None:
                lay = _reader.read_layout(self.path).variables.get(self.name)
                # read it all at once: the fallback reader reads the whole variable on every call, and a time
                # axis stored non-record-varying (NRV epoch[n]) is one record
                if lay is None or not lay.fast or not lay.record_vary:
                    self._all = _tt2000_of(_reader.read_records(self.path, self.name), self.data_type)
            if self._all is not None:
                return int(self._all[i])
            self._cache[i] = int(_tt2000_of(_reader.read_records(self.path, self.name, i, i + 1), self.data_type)[0])
        return self._cache[i]

    def bisect(self, t: int) -> int:
        """Number of records with time < t."""
        return bisect_left(self, t)


def _priority(f: _File) -> tuple:
    info = f.info
    date = info.start_date if info and info.start_date else None
    if date is None:
        first = min(f.first.values(), default=None)
        date = (tt2000_to_datetime64([first])[0].astype("datetime64[D]").astype(dt.date)
                if first is not None else dt.date.min)
    # legacy vNNN is major 1, minor NNN on the SDC (sdc-api.md §5.5), and sorts before a vMMM.mmmm of equal rank
    major = (info.major_version if info.major_version is not None else 1) if info else 0
    minor = (info.minor_version or 0) if info else 0
    modern = info is not None and info.major_version is not None
    return (date, major, minor, modern, f.index)


def _start(f: _File) -> int:
    """Sort key in time: the first record, or for a file without records the midnight of its date (else last)."""
    if f.first:
        return min(f.first.values())
    if f.info is not None and f.info.start_date is not None:
        return int(datetime64_to_tt2000(np.datetime64(f.info.start_date, "ns")))
    return int(np.iinfo(np.int64).max)


def _subtract(span: tuple[int, int], covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open interval ``span`` minus the union of half-open ``covered`` intervals."""
    parts = [span]
    for c_lo, c_hi in covered:
        nxt = []
        for lo, hi in parts:
            if c_hi <= lo or c_lo >= hi:
                nxt.append((lo, hi))
                continue
            if lo < c_lo:
                nxt.append((lo, c_lo))
            if c_hi < hi:
                nxt.append((c_hi, hi))
        parts = nxt
    return [(lo, hi) for lo, hi in parts if hi > lo]


def _drop_superseded(files: list[_File]) -> list[_File]:
    """The files that are the newest version of their product and day (files without an SDC name are kept)."""
    def key(f: _File) -> tuple | None:
        i = f.info
        return None if i is None else (i.instrument, i.data_level, i.descriptor, i.start_date, i.repointing, i.cr)

    newest: dict[tuple, tuple] = {}
    for f in files:
        if (k := key(f)) is not None:
            newest[k] = max(newest.get(k, ()), _priority(f)[1:4])
    return [f for f in files if (k := key(f)) is None or _priority(f)[1:4] == newest[k]]


def _plan(files: list[_File], time_var: str | None, count_var: str,
          bounds: tuple[int | None, int | None]) -> list[_Piece]:
    """Record ranges, in time order, for one record dimension across all files (newer files win overlaps).

    ``files`` are the current ones (:func:`_drop_superseded`): a file replaced by a higher version of the same
    product and day contributes nothing, not even the records outside the newer version's span (a reprocessing
    may drop them on purpose).
    """
    if time_var is None or (len(files) == 1 and bounds == (None, None)):  # every record, files in time order
        return [_Piece(str(f.path), 0, f.variables[count_var].n_records) for f in files
                if count_var in f.variables and f.variables[count_var].n_records]
    lo_b = bounds[0] if bounds[0] is not None else _NAT
    hi_b = bounds[1] if bounds[1] is not None else np.iinfo(np.int64).max
    covered: list[tuple[int, int]] = []
    pieces: list[tuple[int, _Piece]] = []
    for f in sorted(files, key=_priority, reverse=True):
        var = f.variables.get(time_var)
        if var is None or var.n_records == 0:
            continue
        first, last = f.first[time_var], f.last[time_var]
        span = (max(first, lo_b), min(last + 1, hi_b))
        keep = _subtract(span, covered) if span[1] > span[0] else []
        probe = _EpochProbe(f.path, time_var, var.n_records, var.data_type)
        for lo, hi in keep:
            a = 0 if lo <= first else probe.bisect(lo)
            b = var.n_records if hi > last else probe.bisect(hi)
            if b > a:
                pieces.append((lo, _Piece(str(f.path), a, b)))
        covered.append((first, last + 1))
    pieces.sort(key=lambda item: item[0])
    return [p for _, p in pieces]


# ====================================================================================================================
# Lazy arrays for dask (picklable: paths and record ranges only)
# ====================================================================================================================
class _RecordArray:
    """An array-like over record ranges of several files; ``__getitem__`` reads only the records it needs."""

    def __init__(self, var: _Var, rule: Rule, pieces: Sequence[_Piece]) -> None:
        self.name = var.name
        self.var = var
        self.rule = rule
        self.pieces = tuple(pieces)
        self.shape = (sum(p.n for p in self.pieces), *var.shape)
        self.dtype = _out_dtype(var, rule)
        self.ndim = len(self.shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        rec = key[0]
        squeeze = isinstance(rec, (int, np.integer))
        if squeeze:
            i = int(rec) + (self.shape[0] if rec < 0 else 0)
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"record {int(rec)} is out of range for {self.shape[0]} records of {self.name!r}")
            rec = slice(i, i + 1)
        start, stop, step = rec.indices(self.shape[0])
        if step < 0:  # rare: read everything, then index
            return self[(slice(None),) * self.ndim][key]
        stop = max(start, stop)
        raw = np.empty((stop - start, *self.var.shape), self.var.dtype)
        pos = 0
        offset = 0
        for piece in self.pieces:
            lo, hi = max(start, offset), min(stop, offset + piece.n)
            if hi > lo:
                _read_into(piece.path, self.var, piece.start + lo - offset, piece.start + hi - offset,
                           raw[pos:pos + hi - lo])
                pos += hi - lo
            offset += piece.n
        values = _finish(raw, self.var, self.rule)[::step]
        values = values[(slice(None), *key[1:])]
        return values[0] if squeeze else values


class _BackendRecordArray(BackendArray):
    """A :class:`_RecordArray` as an xarray backend array (module level, so datasets and graphs pickle)."""

    def __init__(self, source: _RecordArray) -> None:
        self.source, self.shape, self.dtype = source, source.shape, source.dtype

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC,
                                                  self.source.__getitem__)


def _backend_array(arr: _RecordArray):
    """Wrap a record array for xarray's lazy indexing (what ``xr.open_dataset`` backends return)."""
    return indexing.LazilyIndexedArray(_BackendRecordArray(arr))


def _record_chunks(pieces: Sequence[_Piece], row_bytes: int, spec: Any) -> tuple[int, ...]:
    total = sum(p.n for p in pieces)
    if total == 0:
        return (0,)
    if isinstance(spec, (int, np.integer)) and spec == -1:
        return (total,)
    if isinstance(spec, (int, np.integer)) and spec > 0:
        n = int(spec)
        return tuple(min(n, total - i) for i in range(0, total, n))
    per = max(1, CHUNK_BYTES // max(row_bytes, 1))
    chunks: list[int] = []
    for p in pieces:  # one chunk per file piece, split to ~CHUNK_BYTES
        k = max(1, math.ceil(p.n / per))
        size = math.ceil(p.n / k)
        chunks += [min(size, p.n - i) for i in range(0, p.n, size)]
    return tuple(c for c in chunks if c)


def _chunk_spec(chunks: Chunks, dims: tuple[str, ...], record_dim: str | None) -> list[Any]:
    spec: list[Any] = []
    for i, d in enumerate(dims):
        if isinstance(chunks, Mapping):
            value = chunks.get(d, "auto" if (i == 0 and d == record_dim) else -1)
        elif isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
            value = int(chunks) if i == 0 and d == record_dim else -1
        else:
            value = "auto" if (i == 0 and d == record_dim) else -1
        spec.append(value)
    return spec


def _lazy(var: _Var, rule: Rule, pieces: Sequence[_Piece], dims: tuple[str, ...], chunks: Chunks):
    try:
        import dask.array as da
        from dask.base import tokenize
    except ImportError as err:  # pragma: no cover - depends on the environment
        msg = "chunks= needs dask: pip install 'imap-explorer[dask]' (or dask[array])."
        raise ImportError(msg) from err
    arr = _RecordArray(var, rule, pieces)
    spec = _chunk_spec(chunks, dims, dims[0])
    row_bytes = arr.dtype.itemsize * int(np.prod(var.shape, dtype=np.int64))
    norm: list[Any] = [_record_chunks(pieces, row_bytes, spec[0])]
    for s, n in zip(spec[1:], var.shape):
        norm.append(n if not isinstance(s, (int, np.integer)) or s <= 0 else int(s))
    stamps = [(os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in sorted({piece.path for piece in pieces})]
    name = f"imap-{var.name}-{tokenize(arr.pieces, stamps, var.name, rule, str(arr.dtype), arr.shape)}"
    return da.from_array(arr, chunks=tuple(norm), name=name, lock=False, asarray=False,
                         meta=np.empty((0,) * arr.ndim, arr.dtype))


# ====================================================================================================================
# load
# ====================================================================================================================
def _open_all(paths: list[Path], on_error: str) -> list[_File]:
    files: list[_File] = []
    problems: list[str] = []
    for i, path in enumerate(paths):
        try:
            files.append(_read_file(path, i))
        except InvalidFileError as err:
            if on_error == "raise":
                raise
            problems.append(str(err))
            warnings.warn(f"Skipped {err}", InvalidFileWarning, stacklevel=3)
    if not files:
        detail = "\n  ".join(problems)
        raise InvalidFileError(paths[0] if len(paths) == 1 else f"{len(paths)} files",
                               f"no readable CDF file to load:\n  {detail}")
    return files


def _needed(ref: _File, variables: Sequence[str] | str | None, drop: Iterable[str]) -> list[str]:
    names = list(ref.variables)
    if variables is None:
        chosen = [n for n in names if n not in set(drop)]
    else:
        wanted = [variables] if isinstance(variables, str) else list(variables)
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            msg = (f"Unknown variable(s) {', '.join(map(repr, unknown))} in {ref.path.name}. "
                   f"Available: {', '.join(sorted(names))}.")
            raise ValueError(msg)
        chosen_set: set[str] = set()
        todo = list(wanted)
        while todo:
            name = todo.pop()
            if name in chosen_set:
                continue
            chosen_set.add(name)
            var = ref.variables[name]
            keys = ["DEPEND_0"] + [f"{k}_{i}" for i in range(1, len(var.shape) + 1) for k in ("DEPEND", "LABL_PTR")]
            for key in keys:
                dep = _ref(var, key, ref.variables)
                if dep is not None:
                    todo.append(dep)
        chosen = [n for n in names if n in chosen_set]
    return chosen


def _check_same(var: _Var, other: _File, ref: _File) -> None:
    got = other.variables.get(var.name)
    if got is None:
        raise InvalidFileError(other.path, f"has no variable {var.name!r}, which {ref.path.name} has; "
                                           "load files of one product together")
    same_type = (got.is_char and var.is_char) or (got.data_type == var.data_type and got.dtype == var.dtype)
    if not same_type or got.shape != var.shape:
        raise InvalidFileError(other.path, f"variable {var.name!r} is {got.dtype}{list(got.shape)} here but "
                                           f"{var.dtype}{list(var.shape)} in {ref.path.name}")
    if var.record_vary and got.record_vary:  # the records must line up with the same time axis in every file
        mine, theirs = _record_dim(var, ref.variables), _record_dim(got, other.variables)
        if mine != theirs:
            def counts(f: _File, dim: str) -> str:
                axis = f.variables.get(dim)
                return f"{f.variables[var.name].n_records} records, {dim!r} {axis.n_records if axis else 'none'}"

            raise InvalidFileError(other.path, f"variable {var.name!r} does not line up with its time axis as in "
                                               f"{ref.path.name} (here {counts(other, mine)}; there "
                                               f"{counts(ref, mine)}); it cannot be concatenated")


def load(
    files: Any,
    *,
    variables: Sequence[str] | str | None = None,
    time_range: Any = None,
    chunks: Chunks = None,
    on_error: Literal["raise", "skip"] = "raise",
    drop_variables: Iterable[str] | str | None = None,
) -> xr.Dataset:
    """Load IMAP CDF files into one :class:`xarray.Dataset`.

    Each file is read with the ISTP rules of the SDC products (see the module docstring): ``epoch`` becomes an
    exact UTC ``datetime64[ns]`` coordinate, fill becomes NaN, ``DEPEND_i``/``LABL_PTR_i`` name the dimensions,
    and the raw ISTP attributes are kept. Several files are ordered by time and concatenated once; where they
    overlap, the newer file (later date, then higher version) wins.

    Parameters
    ----------
    files : path, list of paths, or pandas.DataFrame
        CDF files. A DataFrame (or one row) from :func:`imap_explorer.query` is resolved to the local archive
        (``IMAP_DATA_DIR``) and what is missing is downloaded first. A bare IMAP file name is looked up in the
        local archive.
    variables : str or list of str, optional
        Read only these variables and what they depend on (``DEPEND_i``, ``LABL_PTR_i``). Default: all.
    time_range : (start, end), optional
        Keep records with ``start <= epoch < end`` (str, datetime, numpy or pandas times; either may be None).
        Only those records are read from disk.
    chunks : int, dict, "auto" or {}, optional
        Return dask arrays instead of numpy: an int is the number of records per chunk, a dict maps dimension
        names to chunk sizes, ``{}``/``"auto"`` gives one chunk per file (split to about 128 MiB). The time
        coordinate and non-record-varying variables are read eagerly. Needs dask.
    on_error : {"raise", "skip"}, default "raise"
        What to do with a file that is missing, empty, truncated or not a CDF: raise :class:`InvalidFileError`,
        or skip it with an :class:`InvalidFileWarning` and load the others.
    drop_variables : str or list of str, optional
        Variables not to read (the xarray backend keyword).

    Returns
    -------
    xarray.Dataset
        With ``ds.imap`` (instrument, data level, descriptor, files, quick-look).

    Raises
    ------
    InvalidFileError
        A file cannot be read (it names the file and the problem), or no file is readable with ``on_error="skip"``.
    ValueError
        Unknown variable names, or a malformed ``time_range``.

    See Also
    --------
    get_data : query, download and load a product over a time range in one call.

    Examples
    --------
    >>> ds = load("imap_mag_l2_norm-dsrf_20260120_v003.cdf", time_range=("2026-01-20T06:00", "2026-01-20T07:00"))
    ... # doctest: +SKIP
    >>> ds.b_dsrf.sizes["epoch"]  # doctest: +SKIP
    7200
    """
    return _load(files, variables=variables, time_range=time_range, chunks=chunks, on_error=on_error,
                 drop_variables=drop_variables, mode="eager" if chunks is None else "dask")


def _load(files: Any, *, variables: Any, time_range: Any, chunks: Chunks, on_error: str, drop_variables: Any,
          mode: Literal["eager", "dask", "backend"], mask_and_scale: bool = True,
          decode_times: bool = True) -> xr.Dataset:
    """:func:`load`, with record-varying data read now (eager), as dask arrays, or as xarray lazy backend arrays.

    ``mask_and_scale=False`` keeps fill values as stored (no NaN, no integer promotion); ``decode_times=False``
    keeps times as stored (TT2000 int64 ns). These are the xarray engine's decoding switches.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
    drop = {drop_variables} if isinstance(drop_variables, str) else set(drop_variables or ())
    bounds = _time_bounds(time_range)
    paths = _as_paths(files)
    opened = _open_all(paths, on_error)

    ref = opened[0]
    dims, coords = _file_dims(ref)
    time_vars = sorted({d[0] for n, d in dims.items() if ref.variables[n].record_vary})
    # first/last time of each file, for ordering and overlaps (two single-record reads per file)
    for f in opened:
        for tv in time_vars:
            var = f.variables.get(tv)
            if var is not None and _is_time(var) and var.n_records:
                probe = _EpochProbe(f.path, tv, var.n_records, var.data_type)
                f.first[tv], f.last[tv] = probe[0], probe[var.n_records - 1]
                if TT2000_FILL in (f.first[tv], f.last[tv]):  # fill at an end: take the valid extremes
                    times = _tt2000_of(_reader.read_records(f.path, tv), var.data_type)
                    valid = times[times != TT2000_FILL]
                    f.first[tv], f.last[tv] = (int(valid.min()), int(valid.max())) if valid.size else (0, -1)
    # time order; among files starting together (versions of one day) the newest first: it wins the records,
    # so its global attributes and non-record-varying variables are the ones to keep
    opened.sort(key=_priority, reverse=True)
    opened.sort(key=_start)
    ref = opened[0]
    dims, coords = _file_dims(ref)
    chosen = _needed(ref, variables, drop)
    for other in opened[1:]:
        for name in chosen:
            _check_same(ref.variables[name], other, ref)
    for name in chosen:  # strings: the CDF_CHAR length is each file's longest value; keep the widest
        var = ref.variables[name]
        if var.is_char and var.record_vary and len(opened) > 1:
            width = max(f.variables[name].dtype.itemsize for f in opened)
            ref.variables[name] = replace(var, dtype=np.dtype(f"S{width}"))

    current = _drop_superseded(opened)
    plans: dict[str, list[_Piece]] = {}
    for name in chosen:
        var = ref.variables[name]
        if var.record_vary and dims[name][0] not in plans:
            d = dims[name][0]
            tv = d if d in ref.variables and _is_time(ref.variables[d]) else None
            plans[d] = _plan(current, tv, name, bounds)

    out: dict[str, xr.Variable] = {}
    futures = {}
    workers = min(4, os.cpu_count() or 1)
    # variables are read in parallel, and the compressed blocks of each variable too (a separate pool, so that no
    # task waits on a task of its own pool); zlib, libdeflate and numpy release the GIL
    with ThreadPoolExecutor(max_workers=workers) as var_pool, ThreadPoolExecutor(max_workers=workers) as block_pool:
        for name in chosen:
            var = ref.variables[name]
            rule = _rule(var)
            if (rule == "time" and not decode_times) or (rule in ("float", "promote") and not mask_and_scale):
                rule = "raw"
            vdims = dims[name]
            if not var.record_vary:
                values = _read_nrv(ref.path, var, rule)
                if len(opened) > 1:
                    _warn_if_nrv_differs(name, values, var, rule, opened)
                out[name] = xr.Variable(vdims, values, _display_attrs(var))
            elif mode == "dask" and not _is_time(var):
                out[name] = xr.Variable(vdims, _lazy(var, rule, plans[vdims[0]], vdims, chunks), _display_attrs(var))
            elif mode == "backend" and not _is_time(var):
                values = _backend_array(_RecordArray(var, rule, plans[vdims[0]]))
                out[name] = xr.Variable(vdims, values, _display_attrs(var))
            else:
                futures[name] = var_pool.submit(_read_eager, var, rule, plans[vdims[0]], block_pool)
        for name, future in futures.items():
            values = future.result()
            if dims[name] == (name,) and values.dtype.kind == "M":  # the time index: hand pandas our array
                _warn_if_not_increasing(values, name, opened)
                values = pd.DatetimeIndex(values, copy=False, name=name)  # (pd.Index would copy it, twice)
            out[name] = xr.Variable(dims[name], values, _display_attrs(ref.variables[name]))
    out = {name: out[name] for name in chosen}

    coord_vars = {n: v for n, v in out.items() if n in coords or (v.ndim == 1 and v.dims == (n,))}
    data_vars = {n: v for n, v in out.items() if n not in coord_vars}
    ds = xr.Dataset(data_vars, coords=coord_vars, attrs=dict(ref.global_attrs))
    ds.encoding["source"] = str(ref.path)
    ds.encoding["source_files"] = [str(f.path) for f in opened]
    # files replaced by a higher version of their product-day: listed, but they supplied no records
    ds.encoding["superseded_files"] = [str(f.path) for f in opened if not any(f is c for c in current)]
    return ds


def _read_eager(var: _Var, rule: Rule, pieces: Sequence[_Piece], executor: ThreadPoolExecutor) -> np.ndarray:
    """Read every piece of one record-varying variable into one array, then finish it in place.

    Float fill is masked block by block while each block is read (in the worker threads, in cache).
    """
    raw = np.empty((sum(p.n for p in pieces), *var.shape), var.dtype)
    transform = None
    if rule == "float":
        fillval = var.attrs.get("FILLVAL")

        def transform(block: np.ndarray) -> None:
            _mask_float(block, fillval)

    pos = 0
    for piece in pieces:
        _read_into(piece.path, var, piece.start, piece.stop, raw[pos:pos + piece.n], executor=executor,
                   transform=transform)
        pos += piece.n
    return raw if rule == "float" else _finish(raw, var, rule)


def _read_into(path: str, var: _Var, start: int, stop: int, out: np.ndarray, **kwargs: Any) -> None:
    """Read records ``[start, stop)`` into ``out``; strings may be narrower in this file than in ``out``.

    A variable stored non-record-varying with a record axis first (:func:`_align_records`) is read whole (it is
    one map, PSET or event list) and its leading axis sliced.
    """
    if var.stored_nrv:
        whole = _reader.read_records(path, var.name)
        values = whole[0] if whole.shape[:1] == (1,) else np.zeros((0, *var.shape), var.dtype)
        out[...] = values[start:stop]
        transform = kwargs.get("transform")
        if transform is not None and out.size:
            transform(out.reshape(-1))
    elif var.is_char and _reader.read_layout(path).variables.get(var.name, var).dtype != out.dtype:
        out[...] = _reader.read_records(path, var.name, start, stop)
    else:
        _reader.read_records(path, var.name, start, stop, out=out, **kwargs)


def _read_nrv(path: Path, var: _Var, rule: Rule) -> np.ndarray:
    """The value of a non-record-varying variable, shaped ``var.shape``.

    A variable written without its record reads as fill (NaN, NaT, "", else its FILLVAL or 0), as the CDF library
    pads records never written, so that its dimensions still agree with the variables that use them.
    """
    raw = _reader.read_records(path, var.name)
    if raw.shape[:1] == (1,):
        return _finish(raw, var, rule)[0]
    dtype = _out_dtype(var, rule)
    if dtype.kind in "fM":
        return np.full(var.shape, np.nan if dtype.kind == "f" else np.datetime64("NaT"), dtype)
    fill = var.attrs.get("FILLVAL")
    try:
        value = np.asarray(fill).astype(dtype) if dtype.kind not in "US" and np.ndim(fill) == 0 else None
    except (TypeError, ValueError, OverflowError):
        value = None
    return np.full(var.shape, value if value is not None else np.zeros((), dtype), dtype)


def _warn_if_not_increasing(times: np.ndarray, name: str, opened: list[_File]) -> None:
    """Overlap handling and ``time_range`` bisect the time axis: say so when it is not increasing."""
    t = times.view(np.int64)
    for lo in range(0, max(t.size - 1, 0), _MASK_BLOCK):
        block = t[lo:lo + _MASK_BLOCK + 1]
        if (block[1:] < block[:-1]).any():
            files = ", ".join(f.path.name for f in opened)
            warnings.warn(f"{name!r} is not increasing (or holds fill) in {files}; record selection by time "
                          f"(time_range, overlapping files) assumes it is. Sort with ds.sortby({name!r}).",
                          UserWarning, stacklevel=4)
            return


def _warn_if_nrv_differs(name: str, values: np.ndarray, var: _Var, rule: Rule, opened: list[_File]) -> None:
    for other in opened[1:]:
        if name not in other.variables:
            continue
        try:
            theirs = _read_nrv(other.path, var, rule)
        except InvalidFileError:
            continue
        same = (theirs.shape == values.shape
                and np.array_equal(theirs, values, equal_nan=values.dtype.kind in "fc"))
        if not same:
            warnings.warn(f"Non-record-varying variable {name!r} differs between {opened[0].path.name} and "
                          f"{other.path.name}; using the values of {opened[0].path.name}.", UserWarning, stacklevel=3)
            return


# ====================================================================================================================
# get_data
# ====================================================================================================================
def get_data(
    *,
    instrument: str,
    data_level: str,
    descriptor: str,
    start_date: Any,
    end_date: Any,
    variables: Sequence[str] | str | None = None,
    chunks: Chunks = None,
) -> xr.Dataset:
    """Query, download and load one product over ``[start_date, end_date)``, trimmed to that range.

    The newest version of each day is queried (``version="latest"``), files missing from the local archive are
    downloaded, and the data are loaded and trimmed to ``start_date <= epoch < end_date``. The files dated
    within the range are used, and, except for MAG, the next day's file too when the range ends after their last
    record: a file's date is its processing day, and its first record may precede midnight (SWE).

    Parameters
    ----------
    instrument, data_level, descriptor : str
        The product, e.g. ``"mag"``, ``"l2"``, ``"norm-gse"``.
    start_date, end_date : str, date or datetime
        Start (inclusive) and end (exclusive); they may carry a time, e.g. ``"2026-01-20T06:00"``.
        ``"20260120"`` is read as a date.
    variables : str or list of str, optional
        Read only these variables (and what they depend on).
    chunks : optional
        As in :func:`load`: return dask arrays.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    ImapExplorerError
        No file matches (the message repeats the query).
    ApiError, DownloadError, InvalidFileError
        From the query, the download and the load.

    See Also
    --------
    load : load files you already have.

    Examples
    --------
    >>> ds = get_data(instrument="mag", data_level="l2", descriptor="norm-gse",
    ...               start_date="2026-01-20T06:00", end_date="2026-01-20T12:00")  # doctest: +SKIP
    """
    import pandas as pd

    from imap_explorer.query import query

    start, end = _as_timestamp(start_date, "start_date"), _as_timestamp(end_date, "end_date")
    if end <= start:
        raise ValueError(f"end_date {end_date!r} must be after start_date {start_date!r}.")
    last_day = (end - pd.Timedelta(1, "ns")).normalize()
    # The file date is the processing day: a day's file may start just before midnight (the flight SWE L2 of
    # 20260512 starts at 2026-05-11T23:59:45.7), so the next day's file is queried too, and used when the range
    # ends after the last record of its own files. MAG files cover their whole day (L1D/L2 exactly, L1A-L1C with
    # +-30 min buffers), so MAG never needs it.
    spill = str(instrument).strip().lower() != "mag"
    query_end = last_day + pd.Timedelta(1, "D") if spill else last_day
    frame = query(instrument=instrument, data_level=data_level, descriptor=descriptor,
                  start_date=start.strftime("%Y%m%d"), end_date=query_end.strftime("%Y%m%d"), version="latest")
    if frame is None or len(frame) == 0:
        msg = (f"No IMAP files match instrument={instrument!r}, data_level={data_level!r}, descriptor={descriptor!r} "
               f"from {start.strftime('%Y%m%d')} to {last_day.strftime('%Y%m%d')}. Check the product with "
               f"imap_explorer.query(instrument={instrument!r}, data_level={data_level!r}).")
        raise ImapExplorerError(msg)
    frame = _newest_per_day(frame)
    after = [_file_day(key) > last_day.date() for key in frame["file_path"]]
    own, extra = frame[[not a for a in after]], frame[after]
    if len(own) and len(extra):
        last = [t for t in map(_last_time, _as_paths(own)) if t is not None]  # (downloads the own files)
        if last and max(last) >= _as_ns(end, "end_date"):  # the own files reach the end of the range
            frame = own
    return load(frame, variables=variables, chunks=chunks, time_range=(start, end))


def _file_day(file_path: Any) -> dt.date:
    """The date in an SDC file name (``dt.date.min`` when the name is not one)."""
    try:
        day = parse_filename(str(file_path).rsplit("/", 1)[-1]).start_date
    except ValueError:
        return dt.date.min
    return day or dt.date.min


def _last_time(path: Path) -> int | None:
    """The last valid time (TT2000) of a file's record axis, read from its last record; None if it has none."""
    f = _read_file(path, 0)
    dims, _ = _file_dims(f)
    last = None
    for name in {d[0] for n, d in dims.items() if f.variables[n].record_vary}:
        var = f.variables.get(name)
        if var is not None and _is_time(var) and var.n_records:
            t = _EpochProbe(path, name, var.n_records, var.data_type)[var.n_records - 1]
            if t != TT2000_FILL:
                last = t if last is None else max(last, t)
    return last


def _as_timestamp(value: Any, what: str):
    import pandas as pd

    text = value.strip() if isinstance(value, str) else value
    try:
        if isinstance(text, str) and len(text) == 8 and text.isdigit():
            ts = pd.Timestamp(dt.datetime.strptime(text, "%Y%m%d"))
        else:
            ts = pd.Timestamp(text)
    except (ValueError, TypeError) as err:
        raise ValueError(f"Cannot read {what} {value!r} as a date: expected e.g. '20260120' or "
                         "'2026-01-20T06:00'.") from err
    if ts is pd.NaT:
        raise ValueError(f"{what} is required, got {value!r}.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _newest_per_day(frame):
    """Keep the highest version of each (start_date, repointing) in a query result (the server should already)."""
    if "file_path" not in frame.columns:
        return frame
    best: dict[tuple, tuple] = {}
    for i, file_path in enumerate(frame["file_path"]):
        try:
            info = parse_filename(str(file_path).rsplit("/", 1)[-1])
        except ValueError:
            best[("unparsed", i)] = ((0, 0), i)
            continue
        key = (info.instrument, info.data_level, info.descriptor, info.start_date, info.repointing, info.cr)
        rank = (info.major_version if info.major_version is not None else 1, info.minor_version or 0)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, i)
    keep = sorted(i for _, i in best.values())
    return frame.iloc[keep]
