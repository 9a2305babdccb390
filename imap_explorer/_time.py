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

import numpy as np

__all__ = ["LEAP_SECONDS_TT2000", "TT2000_FILL", "datetime64_to_tt2000", "tt2000_to_datetime64"]

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
