"""Product structures (specs) of real SDC files, and a writer that fills a spec with synthetic values.

A *spec* is plain JSON data describing one product's CDF structure, read from a real SDC file by
:func:`extract_spec`: the majority, the global attributes (typed entries), and for every zVariable, in file
order, its CDF type, number of elements, dimensions, record variance, GZIP level and typed attributes.
No data values are kept. The specs of the products that :mod:`imap_explorer.synthetic` writes live in
``synthetic/specs/<product>.json``; refresh one with::

    python -m imap_explorer.synthetic._spec <real.cdf> <product-name>

:func:`write_spec` writes a CDF with exactly that structure from a dict of arrays; variables not given get
their fill value (numeric) or their index as text (labels). The fidelity tests compare
``extract_spec(synthetic)`` with ``extract_spec(real)``.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from imap_explorer.local import atomic_target
from imap_explorer.synthetic._cdf import _quiet_cdflib

__all__ = ["CDF_DTYPES", "extract_spec", "load_spec", "write_spec"]

SPEC_DIR = Path(__file__).with_name("specs")

#: numpy dtype of each CDF data type (CHAR is handled apart).
CDF_DTYPES = {
    "CDF_INT1": np.int8, "CDF_INT2": np.int16, "CDF_INT4": np.int32, "CDF_INT8": np.int64,
    "CDF_UINT1": np.uint8, "CDF_UINT2": np.uint16, "CDF_UINT4": np.uint32, "CDF_BYTE": np.int8,
    "CDF_REAL4": np.float32, "CDF_FLOAT": np.float32, "CDF_REAL8": np.float64, "CDF_DOUBLE": np.float64,
    "CDF_EPOCH": np.float64, "CDF_TIME_TT2000": np.int64,
}


def _plain(value: Any) -> Any:
    """A JSON-able copy of an attribute value (numpy scalars and arrays to Python numbers and lists)."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()] if value.ndim else _plain(value.item())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def extract_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the structure of a CDF file (no data values) as a JSON-able dict.

    Parameters
    ----------
    path : str or path-like
        A CDF file.

    Returns
    -------
    dict
        ``{"majority", "globals": {name: [[value, type], ...]}, "variables": [{"name", "cdf_type",
        "num_elements", "dims", "record_varying", "compress", "attrs": {name: [value, type]}}, ...]}``.
    """
    import cdflib

    cdf = cdflib.CDF(str(path))
    info = cdf.cdf_info()
    globals_: dict[str, list] = {}
    for name, entries in cdf.globalattsget().items():
        typed = []
        for i in range(len(entries)):
            try:
                att = cdf.attget(name, i)
            except (ValueError, KeyError, IndexError):
                continue
            typed.append([_plain(att.Data), att.Data_Type])
        globals_[name] = typed
    variables = []
    for name in info.zVariables:
        vi = cdf.varinq(name)
        attrs = {}
        for key in cdf.varattsget(name):
            att = cdf.attget(key, name)
            attrs[key] = [_plain(att.Data), att.Data_Type]
        variables.append({
            "name": name, "cdf_type": vi.Data_Type_Description, "num_elements": int(vi.Num_Elements),
            "dims": [int(d) for d in vi.Dim_Sizes], "record_varying": bool(vi.Rec_Vary),
            "compress": int(vi.Compress or 0), "attrs": attrs,
        })
    return {"majority": info.Majority.lower(), "globals": globals_, "variables": variables}


@cache
def _load(product: str) -> str:
    path = SPEC_DIR / f"{product}.json"
    return path.read_text(encoding="utf-8")


def load_spec(product: str) -> dict[str, Any]:
    """Return (a fresh copy of) the stored spec named ``product`` (``synthetic/specs/<product>.json``)."""
    try:
        return json.loads(_load(product))
    except FileNotFoundError as err:
        names = sorted(p.stem for p in SPEC_DIR.glob("*.json"))
        msg = f"Unknown product spec {product!r}. Expected one of: {', '.join(names)}."
        raise ValueError(msg) from err


def fill_value(var: dict[str, Any]) -> Any:
    """The FILLVAL of a spec variable (numeric), or a type-appropriate default."""
    fill = var["attrs"].get("FILLVAL", [None])[0]
    dtype = CDF_DTYPES.get(var["cdf_type"])
    if isinstance(fill, (int, float)) and dtype is not None:
        try:
            return np.array(fill).astype(dtype)[()]
        except (OverflowError, ValueError):
            pass
    if dtype is not None and np.dtype(dtype).kind == "f":
        return dtype(-1e31)
    return 0


def _default(var: dict[str, Any], n_records: int) -> np.ndarray:
    shape = ([n_records] if var["record_varying"] else []) + var["dims"]
    if var["cdf_type"] == "CDF_CHAR":
        size = int(np.prod(shape)) if shape else 1
        return np.array([str(i) for i in range(size)]).reshape(shape)
    return np.full(shape, fill_value(var), dtype=CDF_DTYPES[var["cdf_type"]])


def write_spec(spec: dict[str, Any], target: str | os.PathLike[str], data: dict[str, Any], *, n_records: int,
               globals_: dict[str, Any] | None = None) -> Path:
    """Write a CDF with the structure of ``spec`` and the values of ``data``.

    Parameters
    ----------
    spec : dict
        From :func:`load_spec` or :func:`extract_spec`.
    target : path-like
        The file to write (atomically; an existing file is replaced).
    data : dict of array_like
        Values per variable name. Record-varying arrays have ``n_records`` first; values are cast to the
        variable's CDF type. Missing variables get their FILLVAL (labels: their index as text).
    n_records : int
        Number of records of the record-varying variables.
    globals_ : dict, optional
        Global attribute values replacing the spec's (a list for several entries, ``None`` to drop one).

    Returns
    -------
    pathlib.Path
    """
    from cdflib.cdfwrite import CDF

    target = Path(target)
    unknown = set(data) - {v["name"] for v in spec["variables"]}
    if unknown:
        msg = f"Values given for variables the product does not have: {', '.join(sorted(unknown))}."
        raise ValueError(msg)
    gattrs: dict[str, dict[int, Any]] = {}
    for name, entries in spec["globals"].items():
        gattrs[name] = {i: (value if t == "CDF_CHAR" else [value, t]) for i, (value, t) in enumerate(entries)}
    for name, value in (globals_ or {}).items():
        if value is None:
            gattrs.pop(name, None)
        else:
            gattrs[name] = {i: v for i, v in enumerate(value if isinstance(value, list) else [value])}
    with atomic_target(target) as tmp, _quiet_cdflib():
        cdf = CDF(str(tmp), cdf_spec={"Majority": spec["majority"], "Encoding": 6})
        try:
            cdf.write_globalattrs(gattrs)
            for var in spec["variables"]:
                _write_variable(cdf, var, data.get(var["name"]), n_records, spec["majority"])
        finally:
            cdf.close()
    return target


def _write_variable(cdf, var: dict[str, Any], values: Any, n_records: int, majority: str) -> None:
    from cdflib.cdfwrite import CDF

    rv = var["record_varying"]
    shape = ([n_records] if rv else []) + var["dims"]
    if values is None:
        values = _default(var, n_records)
    if var["cdf_type"] == "CDF_CHAR":
        arr = np.asarray(values).astype(str)
    else:
        arr = np.asarray(values)
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            arr = np.where(np.isnan(arr), fill_value(var), arr)
        arr = arr.astype(CDF_DTYPES[var["cdf_type"]], copy=False)
    if arr.shape != tuple(shape):
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError as err:
            msg = f"{var['name']}: values of shape {arr.shape}, expected {tuple(shape)}."
            raise ValueError(msg) from err
    spec = {
        "Variable": var["name"], "Data_Type": CDF._datatype_token(var["cdf_type"]),
        "Num_Elements": var["num_elements"], "Rec_Vary": rv, "Dim_Sizes": list(var["dims"]),
        "Compress": var["compress"],
    }
    attrs = {k: (v if t == "CDF_CHAR" else [v, t]) for k, (v, t) in var["attrs"].items()}
    first = 1 if rv else 0
    if var["cdf_type"] == "CDF_CHAR":
        width = var["num_elements"]
        out = [s[:width] for s in arr.ravel().tolist()]
        if not rv and arr.ndim == 0:
            out = out[0]
        cdf.write_var(spec, var_attrs=attrs, var_data=out)
        return
    if majority == "column_major" and arr.ndim - first > 1:
        order = list(range(first)) + list(range(arr.ndim - 1, first - 1, -1))
        arr = arr.transpose(order)
    cdf.write_var(spec, var_attrs=attrs, var_data=np.ascontiguousarray(arr))


def _main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m imap_explorer.synthetic._spec <real.cdf> <product-name>", file=sys.stderr)
        return 1
    SPEC_DIR.mkdir(exist_ok=True)
    out = SPEC_DIR / f"{argv[1]}.json"
    out.write_text(json.dumps(extract_spec(argv[0]), indent=0, sort_keys=False) + "\n", encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
