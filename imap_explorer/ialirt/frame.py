"""I-ALiRT JSON records -> a typed pandas DataFrame, and a DataFrame -> an xarray Dataset in the archive layout.

Pure functions (no I/O). Column rules (``ialirt-api.md`` §5, §11):

* ``instrument``, ``time_utc`` (datetime64, the record's key), ``epoch`` (datetime64 of ``<instrument>_epoch``,
  exact TT2000 -> UTC through the leap seconds; ``ttj2000ns`` for ``spacecraft``, ``time_utc`` where a record has
  neither); ``ttj2000ns`` and ``<instrument>_epoch`` stay as TT2000 integers (nullable ``Int64``);
* every number as a float column (null and unparseable strings -> NaN, numeric strings -> numbers);
* 3-vectors split into ``_x/_y/_z`` (GSE, GSM) or ``_r/_t/_n`` (RTN); SWE's 8 counts one column per energy
  (``swe_normalized_counts_100eV`` ...); ``mag_hk_status`` and the ``spice``/``ancillary`` maps one column per key;
* CoDICE-Hi: one row per sub-epoch (4 per record), ``codice_hi_h`` holding that sub-epoch's [15, 4, 4] array.

Rows are sorted by ``epoch``; ``df.attrs["units"]`` maps columns to units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, groupby
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from imap_explorer._time import tt2000_to_datetime64
from imap_explorer.ialirt._schema import (
    ARCHIVE_EPOCHS,
    CODICE_HI_ENERGY,
    CODICE_HI_POLAR,
    FIELDS,
    SWE_ENERGY,
    UNITS,
    component_names,
)

__all__ = ["FramePart", "assemble", "dedupe", "frame_parts", "records_to_frame", "to_dataset"]

_NAN3 = [np.nan, np.nan, np.nan]
_STRING_KEYS = {"instrument", "time_utc", "kernel_set_key", "met_in_utc", "last_modified"}


def dedupe(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Keep one record per (``instrument``, ``time_utc``), the later copy winning (§6); order of first sight.

    Examples
    --------
    >>> dedupe([{"instrument": "mag", "time_utc": "t", "v": 1}, {"instrument": "mag", "time_utc": "t", "v": 2}])
    [{'instrument': 'mag', 'time_utc': 't', 'v': 2}]
    """
    unique: dict[tuple[Any, Any], Mapping[str, Any]] = {}
    for r in records:
        unique[(r.get("instrument"), r.get("time_utc") or r.get("met_in_utc"))] = r
    return list(unique.values())


def _numbers(values: list[Any]) -> np.ndarray:
    try:  # numbers and nulls (-> NaN): one pass in C, a third faster than np.array
        return np.fromiter(values, np.float64, len(values))
    except (ValueError, TypeError):
        pass
    try:
        return np.array(values, dtype=np.float64)
    except (ValueError, TypeError):
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(np.float64)


def _vectors(values: Sequence[Any], n: int) -> np.ndarray:
    if sum(map(len, values)) == n * len(values) if None not in values else False:
        try:  # the common case, numbers only: one pass in C
            return np.fromiter(chain.from_iterable(values), np.float64, n * len(values)).reshape(len(values), n)
        except (TypeError, ValueError):
            pass
    blank = [np.nan] * n
    try:
        out = np.array([v if v is not None else blank for v in values], dtype=np.float64)
        if out.ndim == 2 and out.shape[1] == n:
            return out
    except (ValueError, TypeError):
        pass
    rows = []
    for v in values:
        row = list(v)[:n] if isinstance(v, (list, tuple)) else []
        rows.append(_numbers(row + [None] * (n - len(row))))
    return np.array(rows, dtype=np.float64).reshape(len(values), n)


def _nested(values: Sequence[Any], shape: tuple[int, ...]) -> np.ndarray | None:
    """Nested lists of numbers as a float array of shape ``(len(values), *shape)``, or None.

    One pass in C, twice as fast as ``np.array`` on CoDICE-Hi's 960 numbers per record; a null value becomes NaN.
    None (the caller then takes the slow path) when a list is null or has another length, or a value is not a
    number.

    Examples
    --------
    >>> _nested([[[1, 2], [3, 4.5]]], (2, 2)).tolist(), _nested([[[1, 2], [3]]], (2, 2)), _nested([None], (2, 2))
    ([[[1.0, 2.0], [3.0, 4.5]]], None, None)
    """
    level: Sequence[Any] = values
    try:
        for depth, size in enumerate(shape, 1):
            if len(level) and set(map(len, level)) != {size}:
                return None
            if depth < len(shape):
                level = list(chain.from_iterable(level))
        count = len(values) * int(np.prod(shape))  # the numbers go straight from the lists to the array
        return np.fromiter(chain.from_iterable(level), np.float64, count).reshape(len(values), *shape)
    except (TypeError, ValueError):
        return None


def _tt2000(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(int64 TT2000 with 0 for missing, mask of missing) from JSON ints (or numeric strings)."""
    if None not in values:  # the common case: no Python pass over the values
        try:
            return np.array(values, dtype=np.int64), np.zeros(len(values), dtype=bool)
        except (ValueError, TypeError, OverflowError):
            pass
    missing = np.array([v is None for v in values], dtype=bool)
    try:
        raw = np.array([0 if v is None else v for v in values], dtype=np.int64)
    except (ValueError, TypeError, OverflowError):
        raw = np.array([int(float(v)) if _is_number(v) else 0 for v in values], dtype=np.int64)
        missing |= np.array([not _is_number(v) for v in values])
    return raw, missing


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _utc(raw: np.ndarray, missing: np.ndarray) -> np.ndarray:
    out = tt2000_to_datetime64(raw)
    if missing.any():
        out = out.copy()
        out[missing] = np.datetime64("NaT")
    return out


def _times(values: list[Any]) -> np.ndarray:
    try:
        return np.array(values, dtype="datetime64[s]").astype("datetime64[ns]")
    except (ValueError, TypeError):
        return pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", utc=True).dt.tz_localize(
            None).to_numpy("datetime64[ns]")


def _nullable_int(raw: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(raw, missing)


def _columns(recs: list[Mapping[str, Any]]) -> dict[str, Sequence[Any]]:
    """``{key: values}`` of a list of records; C-level passes when every record has the first one's keys."""
    first = list(recs[0])
    if set(map(len, recs)) == {len(first)}:
        try:
            return {key: list(map(itemgetter(key), recs)) for key in first}
        except KeyError:
            pass
    keys = dict.fromkeys(first)
    for key in set().union(*(r.keys() for r in recs)) - set(keys):
        keys[key] = None
    return {key: [r.get(key) for r in recs] for key in keys}


def _one_instrument(inst: str, recs: list[Mapping[str, Any]]) -> FramePart:
    n = len(recs)
    cols: dict[str, Any] = {}
    units: dict[str, str] = {}
    time_key = "time_utc" if "time_utc" in recs[0] or "met_in_utc" not in recs[0] else "met_in_utc"
    columns = _columns(recs)
    time_utc = _times(columns.get(time_key) or [None] * n)
    keys = dict.fromkeys(columns)
    epoch_key = f"{inst}_epoch"
    epoch: np.ndarray | None = None
    repeat = 4 if inst == "codice_hi" else 1
    for key in keys:
        if key in ("instrument", "time_utc", "met_in_utc"):
            continue
        values = columns[key]
        if key == "codice_hi_epoch":
            sub = _vectors(values, 4)
            missing = ~np.isfinite(sub).ravel()
            raw = np.array([[0] * 4 if v is None else list(v)[:4] for v in values], dtype=np.int64).ravel()
            epoch = _utc(raw, missing)
            cols[key] = _nullable_int(raw, missing)
            continue
        if key == "ttj2000ns" or key.endswith("_epoch"):
            raw, missing = _tt2000(values)
            if key == epoch_key or (key == "ttj2000ns" and epoch is None and f"{inst}_epoch" not in keys):
                epoch = _utc(raw, missing)
            cols[key] = _nullable_int(np.repeat(raw, repeat), np.repeat(missing, repeat))
            continue
        if key == "codice_hi_h":
            h = _nested(values, (4, 15, 4, 4))
            if h is None:
                try:
                    h = np.array([v if v is not None else np.full((4, 15, 4, 4), np.nan) for v in values],
                                 dtype=np.float64)
                except (ValueError, TypeError):
                    h = np.full((n, 4, 15, 4, 4), np.nan)
            h = h.reshape(n * 4, 15, 4, 4)
            cols[key] = list(h)
            units[key] = UNITS[key]
            continue
        first = next((v for v in values if v is not None), None)
        if isinstance(first, dict):
            sub_keys = list(dict.fromkeys(k for v in values if isinstance(v, dict) for k in v))
            prefix = "mag_hk" if key == "mag_hk_status" else key
            for k in sub_keys:
                column = [v.get(k) if isinstance(v, dict) else None for v in values]
                if all(isinstance(x, str) or x is None for x in column):
                    cols[f"{prefix}_{k}"] = np.repeat(np.array(column, dtype=object), repeat)
                else:
                    cols[f"{prefix}_{k}"] = np.repeat(_numbers(column), repeat)
            continue
        if isinstance(first, (list, tuple)):
            width = FIELDS.get(inst, {}).get(key)
            width = width if isinstance(width, int) and width else len(first)
            arr = _vectors(values, width)
            for i, name in enumerate(component_names(key, width)):
                cols[name] = np.repeat(arr[:, i], repeat)
                if key in UNITS:
                    units[name] = UNITS[key]
            continue
        if key in _STRING_KEYS or (isinstance(first, str) and not _is_number(first)):
            cols[key] = np.repeat(np.array(values, dtype=object), repeat)
            continue
        cols[key] = np.repeat(_numbers(values), repeat)
        if key in UNITS:
            units[key] = UNITS[key]
    if epoch is None:
        epoch = time_utc
    out = {"instrument": np.full(n * repeat, inst, dtype=object), "time_utc": np.repeat(time_utc, repeat),
           "epoch": epoch}
    out.update(cols)
    stamps, met = columns.get("time_utc"), columns.get("met_in_utc")
    if stamps is None:
        record_keys: Sequence[Any] = met if met is not None else [None] * n
    elif met is None:
        record_keys = stamps
    else:
        record_keys = [a or b for a, b in zip(stamps, met, strict=True)]
    return FramePart(inst, record_keys, out, units, repeat)


class FramePart(NamedTuple):
    """One instrument's records turned into columns (:func:`frame_parts`), ready for :func:`assemble`."""

    instrument: str
    #: Each record's key (``time_utc``, else ``met_in_utc``), for :func:`assemble`'s de-duplication.
    keys: Sequence[Any]
    #: Column name -> values, ``rows_per_record`` rows per record.
    columns: dict[str, Any]
    units: dict[str, str]
    rows_per_record: int


def frame_parts(records: Iterable[Mapping[str, Any]]) -> list[FramePart]:
    """Turn I-ALiRT records into columns, one :class:`FramePart` per instrument (in order of first sight).

    A fetch converts each answer as it arrives (while its records are fresh in memory) and frees them; the parts
    become one DataFrame in :func:`assemble`.
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    records = records if isinstance(records, list) else list(records)
    try:  # answers come in runs of one instrument: group the runs in C
        runs = [(inst, list(run)) for inst, run in groupby(records, key=itemgetter("instrument"))]
    except KeyError:
        runs = [(r.get("instrument", ""), [r]) for r in records]
    for inst, run in runs:
        groups.setdefault(str(inst), []).extend(run)
    return [_one_instrument(inst, recs) for inst, recs in groups.items()]


def assemble(parts: Iterable[FramePart], *, deduplicate: bool = False) -> pd.DataFrame:
    """One DataFrame, sorted by ``epoch``, from :func:`frame_parts` parts (several per instrument allowed).

    With ``deduplicate``, a record whose (``instrument``, key) appears in several parts is kept once, the copy of
    the later part winning (as :func:`dedupe`).
    """
    groups: dict[str, list[FramePart]] = {}
    for part in parts:
        groups.setdefault(part.instrument, []).append(part)
    frames, units = [], {}
    for group in groups.values():
        columns = _concat_columns([p.columns for p in group])
        if columns is None:  # parts of different shapes (fields or types that changed): pandas aligns them
            frame = pd.concat([pd.DataFrame(p.columns) for p in group], ignore_index=True, sort=False)
        else:
            frame = pd.DataFrame(columns)
        if deduplicate:
            keys = list(chain.from_iterable(p.keys for p in group))
            last = {key: i for i, key in enumerate(keys)}
            if len(last) < len(keys):
                keep = np.zeros(len(keys), dtype=bool)
                keep[list(last.values())] = True
                frame = frame[np.repeat(keep, group[0].rows_per_record)].reset_index(drop=True)
        frames.append(frame)
        for p in group:
            units.update(p.units)
    if not frames:
        df = pd.DataFrame({"instrument": pd.Series(dtype=object), "time_utc": pd.Series(dtype="datetime64[ns]"),
                           "epoch": pd.Series(dtype="datetime64[ns]")})
    elif len(frames) == 1:
        df = frames[0]
    else:
        df = pd.concat(frames, ignore_index=True, sort=False)
    df = df.sort_values("epoch", kind="stable", ignore_index=True)
    df.attrs["units"] = units
    return df


def _concat_columns(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The columns of several parts joined, or None when they differ in names or types."""
    if len(parts) == 1:
        return parts[0]
    names = list(parts[0])
    if any(len(p) != len(names) or not all(n in p for n in names) for p in parts[1:]):
        return None
    out: dict[str, Any] = {}
    for name in names:
        values = [p[name] for p in parts]
        first = values[0]
        if isinstance(first, np.ndarray) and all(isinstance(v, np.ndarray) and v.dtype == first.dtype
                                                 for v in values):
            out[name] = np.concatenate(values)
        elif isinstance(first, pd.arrays.IntegerArray) and all(isinstance(v, pd.arrays.IntegerArray)
                                                               for v in values):
            out[name] = pd.arrays.IntegerArray(np.concatenate([v.to_numpy("int64", na_value=0) for v in values]),
                                               np.concatenate([v.isna() for v in values]))
        elif isinstance(first, list) and all(isinstance(v, list) for v in values):
            out[name] = list(chain.from_iterable(values))
        else:
            return None
    return out


def records_to_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Turn I-ALiRT JSON records (``data`` of ``/space-weather``) into one typed DataFrame, sorted by ``epoch``.

    Records of several instruments give one row set each, with the columns of every instrument (NaN where a
    column does not apply). See the module docstring for the column rules.

    Examples
    --------
    >>> df = records_to_frame([{"instrument": "mag", "time_utc": "2026-02-10T08:00:03",
    ...     "ttj2000ns": 823982473030020736, "mag_epoch": 823982470172038400, "mag_B_GSM": [-1.859, -8.833, None]}])
    >>> df[["epoch", "mag_B_GSM_y", "mag_B_GSM_z"]].to_dict("records")
    [{'epoch': Timestamp('2026-02-10 08:00:00.988038400'), 'mag_B_GSM_y': -8.833, 'mag_B_GSM_z': nan}]
    """
    return assemble(frame_parts(records))


# ---------------------------------------------------------------------------------------------- -> Dataset
_LABELS = {"mag_B_GSE": ("B_GSE_labels", ["Bx (GSE)", "By (GSE)", "Bz (GSE)"]),
           "mag_B_GSM": ("B_GSM_labels", ["Bx (GSM)", "By (GSM)", "Bz (GSM)"]),
           "mag_B_RTN": ("B_RTN_labels", ["B radial (RTN)", "B tangential (RTN)", "B normal (RTN)"]),
           "sc_position_GSE": ("sc_GSE_position_labels", ["sc X (GSE)", "sc Y (GSE)", "sc Z (GSE)"]),
           "sc_position_GSM": ("sc_GSM_position_labels", ["sc X (GSM)", "sc Y (GSM)", "sc Z (GSM)"]),
           "sc_velocity_GSE": ("sc_GSE_velocity_labels", ["sc Vx (GSE)", "sc Vy (GSE)", "sc Vz (GSE)"]),
           "sc_velocity_GSM": ("sc_GSM_velocity_labels", ["sc Vx (GSM)", "sc Vy (GSM)", "sc Vz (GSM)"])}


def to_dataset(df: pd.DataFrame, instrument: str):
    """Rebuild one instrument's variables in the archive-CDF layout from a :func:`records_to_frame` DataFrame.

    The record dimension is the archive's (``mag_epoch``, ..., ``ephemeris_epoch`` for ``spacecraft``); vectors
    become ``(epoch, 3)`` with the archive's label coordinate, SWE counts ``(swe_epoch, swe_electron_energy)`` and
    CoDICE-Hi ``(codice_hi_epoch, codice_hi_energy_center, codice_hi_spin_sector, codice_hi_polar)``.
    """
    import xarray as xr

    if instrument not in ARCHIVE_EPOCHS:
        msg = (f"No archive layout for I-ALiRT instrument {instrument!r}. Expected one of: "
               f"{', '.join(sorted(ARCHIVE_EPOCHS))}.")
        raise ValueError(msg)
    rows = df[df["instrument"] == instrument] if "instrument" in df.columns else df.iloc[:0]
    dim = ARCHIVE_EPOCHS[instrument]
    coords: dict[str, Any] = {dim: rows["epoch"].to_numpy("datetime64[ns]")}
    data: dict[str, Any] = {}
    units = df.attrs.get("units", {})
    n = len(rows)
    for name, width in FIELDS[instrument].items():
        if name == "codice_hi_h":
            values = np.stack(rows[name].to_list()) if n and name in rows else np.zeros((0, 15, 4, 4))
            dims = (dim, "codice_hi_energy_center", "codice_hi_spin_sector", "codice_hi_polar")
            coords.update(codice_hi_energy_center=np.asarray(CODICE_HI_ENERGY, np.float32),
                          codice_hi_spin_sector=np.arange(4, dtype=np.uint8),
                          codice_hi_polar=np.asarray(CODICE_HI_POLAR, np.float32))
        elif width:
            cols = component_names(name, int(width))
            values = np.stack([rows[c].to_numpy(np.float64) if c in rows else np.full(n, np.nan) for c in cols],
                              axis=1) if n else np.zeros((0, int(width)))
            if name == "swe_normalized_counts":
                dims = (dim, "swe_electron_energy")
                coords["swe_electron_energy"] = np.asarray(SWE_ENERGY, np.float32)
            else:
                label, texts = _LABELS[name]
                dims = (dim, label)
                coords[label] = np.array(texts)
        else:
            if name not in rows:
                continue
            values = rows[name].to_numpy(np.float64)
            dims = (dim,)
        data[name] = xr.Variable(dims, values, {"UNITS": units.get(name, UNITS.get(name, ""))})
    return xr.Dataset(data, coords=coords, attrs={"Logical_source": "imap_ialirt_l1_realtime"})
