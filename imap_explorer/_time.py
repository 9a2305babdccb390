"""Exact, vectorized TT2000 <-> UTC ``datetime64[ns]`` conversion.

CDF_TIME_TT2000 counts nanoseconds since J2000 (2000-01-01T12:00:00 TT) *including* leap seconds.
``utc = J2000_UTC + tt2000 - n * 1 s``, where ``n`` is the number of leap seconds since 1999-01-01
(the table below), found with one ``searchsorted``. This matches ``cdflib.cdfepoch.to_datetime``
exactly for data after 1999 and is about 25x faster. Never use ``J2000 + ns``: it is 5 s off after 2017.

Examples
--------
>>> tt2000_to_datetime64([822139269184000000])
array(['2026-01-20T00:00:00.000000000'], dtype='datetime64[ns]')
>>> int(datetime64_to_tt2000(np.datetime64("2026-01-20T00:00:00", "ns")))
822139269184000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["LEAP_SECONDS_TT2000", "TT2000_FILL", "datetime64_to_tt2000", "time_pair", "tt2000_to_datetime64"]

#: TT2000 of 00:00:00 UTC on the day after each leap second since 1999 (TAI-UTC 33..37 s after it).
LEAP_SECONDS_TT2000 = np.array(
    [189345665184000000, 284040066184000000, 394372867184000000, 488980868184000000, 536500869184000000],
    dtype=np.int64,
)
#: UTC of TT2000 = 0, expressed with the 1999 leap-second count (TAI-UTC = 32 s).
_J2000_UTC_NS = np.datetime64("2000-01-01T11:58:55.816", "ns").astype(np.int64)
#: The same table expressed as UTC nanoseconds since 1970 (for the inverse).
_LEAP_UTC_NS = (LEAP_SECONDS_TT2000 - np.arange(1, 6, dtype=np.int64) * 1_000_000_000) + _J2000_UTC_NS
TT2000_FILL = np.int64(-9223372036854775808)
_NAT = np.iinfo(np.int64).min


def tt2000_to_datetime64(tt2000) -> np.ndarray:
    """Convert TT2000 nanoseconds to UTC ``datetime64[ns]`` (fill -> NaT).

    Parameters
    ----------
    tt2000 : array_like of int64

    Returns
    -------
    numpy.ndarray of datetime64[ns]

    Examples
    --------
    >>> tt2000_to_datetime64(np.array([536500869184000000, -9223372036854775808])).astype(str).tolist()
    ['2017-01-01T00:00:00.000000000', 'NaT']
    >>> tt2000_to_datetime64([536500868684000000])  # 23:59:60.5 has no datetime64; like cdflib
    array(['2017-01-01T00:00:00.500000000'], dtype='datetime64[ns]')
    """
    tt = np.asarray(tt2000, dtype=np.int64)
    n = np.searchsorted(LEAP_SECONDS_TT2000, tt, side="right").astype(np.int64)
    out = tt + (_J2000_UTC_NS - n * 1_000_000_000)
    fill = tt == TT2000_FILL
    if fill.any():
        out = np.where(fill, _NAT, out)
    return out.view("datetime64[ns]")


def datetime64_to_tt2000(times) -> np.ndarray:
    """Convert UTC datetimes (anything numpy/pandas can read as ``datetime64``) to TT2000 int64.

    NaT becomes the TT2000 fill value.

    Examples
    --------
    >>> datetime64_to_tt2000(np.array(["2017-01-01T00:00:00"], dtype="datetime64[ns]"))
    array([536500869184000000])
    """
    t = np.asarray(times, dtype="datetime64[ns]").astype(np.int64)
    n = np.searchsorted(_LEAP_UTC_NS, t, side="right").astype(np.int64)
    out = t - _J2000_UTC_NS + n * 1_000_000_000
    nat = t == _NAT
    if nat.any():
        out = np.where(nat, TT2000_FILL, out)
    return out


def time_pair(time_range: Any) -> tuple[Any, Any] | None:
    """The two ends of a ``time_range`` argument as given (None for no range).

    Accepted: a ``(start, end)`` tuple or list, a slice, or a two-element numpy array, DatetimeIndex or Series.

    Examples
    --------
    >>> time_pair(("2026-01-20", None)), time_pair(slice("2026-01-20", "2026-01-21"))
    (('2026-01-20', None), ('2026-01-20', '2026-01-21'))
    >>> time_pair(np.array(["2026-01-20", "2026-01-21"], dtype="datetime64[D]"))
    (np.datetime64('2026-01-20'), np.datetime64('2026-01-21'))
    >>> time_pair("2026-01-20")
    Traceback (most recent call last):
    ...
    ValueError: time_range must be a (start, end) pair, got '2026-01-20'; e.g. time_range=('2026-01-20T06:00', \
'2026-01-20T12:00'). Either end may be None.
    """
    if time_range is None:
        return None
    if isinstance(time_range, slice):
        time_range = (time_range.start, time_range.stop)
    elif type(time_range).__module__.split(".")[0] in ("numpy", "pandas") and np.ndim(time_range) == 1:
        time_range = list(time_range)  # numpy scalars, not tolist()'s integers for datetime64[ns]
    if isinstance(time_range, (str, bytes)) or not isinstance(time_range, Sequence) or len(time_range) != 2:
        msg = (f"time_range must be a (start, end) pair, got {time_range!r}; "
               "e.g. time_range=('2026-01-20T06:00', '2026-01-20T12:00'). Either end may be None.")
        raise ValueError(msg)
    return time_range[0], time_range[1]
