"""TT2000 <-> UTC in every era, against cdflib (which follows the CDF library): value for value, both directions."""

from __future__ import annotations

import cdflib
import numpy as np
import pytest

from imap_explorer._time import LEAP_SECONDS_TT2000, LEAP_TABLE, datetime64_to_tt2000, tt2000_to_datetime64

SEC = 1_000_000_000
#: around a step: before, in the leap second itself (23:59:60.x after 1972), at it, just after
AROUND = np.array([-11 * SEC, -10 * SEC - 1, -10 * SEC, -9_990_000_000, -1_500_000_000, -SEC - 1, -SEC,
                   -500_000_000, -1, 0, 1, SEC - 1, SEC, 9 * SEC, 10 * SEC, 11 * SEC])


def cdflib_utc(tt2000: np.ndarray) -> np.ndarray:
    return np.asarray(cdflib.cdfepoch.to_datetime(np.asarray(tt2000, np.int64))).astype("datetime64[ns]")


def cdflib_tt2000(times: np.ndarray) -> np.ndarray:
    """cdflib.cdfepoch.compute_tt2000 of each time, from its calendar fields."""
    out = []
    for t in np.asarray(times, "datetime64[ns]"):
        day = t.astype("datetime64[D]")
        ns = int((t - day).astype(np.int64))
        y, m, d = (int(x) for x in str(day).split("-"))
        fields = [y, m, d, ns // 3600 // SEC, ns // 60 // SEC % 60, ns // SEC % 60,
                  ns // 1_000_000 % 1000, ns // 1000 % 1000, ns % 1000]
        out.append(int(cdflib.cdfepoch.compute_tt2000(fields)))
    return np.array(out, np.int64)


def midnights(first: str, last: str, step_days: int) -> np.ndarray:
    days = np.arange(np.datetime64(first), np.datetime64(last), step_days).astype("datetime64[ns]")
    return days


def sample(first: str, last: str, n: int, seed: int) -> np.ndarray:
    lo, hi = (np.datetime64(x, "ns").astype(np.int64) for x in (first, last))
    return np.random.default_rng(seed).integers(lo, hi, n).view("datetime64[ns]")


ERAS = {
    # GLOWS L3d solar history starts in 1947: no leap seconds and no drift before 1960
    "before-1960": ("1900-01-01", "1960-01-01"),
    # the drift formula of the CDF library's table, with its steps (1961-08-01 -0.05 s, 1963-11-01 +0.1 s...)
    "1960-1972": ("1959-12-31T23:00", "1972-01-01T01:00"),
    "1972-1999": ("1972-01-01", "1999-01-01"),
    "2026": ("2026-01-01", "2027-01-01"),
}


@pytest.mark.parametrize("era", ERAS, ids=list(ERAS))
def test_tt2000_to_datetime64_equals_cdflib_in_each_era(era):
    first, last = ERAS[era]
    steps = [f"{int(y):04d}-{int(m):02d}-01" for y, m in LEAP_TABLE[:, :2] if first <= f"{int(y):04d}" < last[:4]]
    edges = np.concatenate([midnights(first[:10], last[:10], 97), np.array(steps or [first[:10]], "datetime64[ns]")])
    tt = np.concatenate([
        datetime64_to_tt2000(sample(first, last, 300, seed=len(era))),
        (cdflib_tt2000(edges)[:, None] + AROUND[None, :]).ravel(),  # both sides of midnights and table steps
    ])
    np.testing.assert_array_equal(tt2000_to_datetime64(tt), cdflib_utc(tt))


@pytest.mark.parametrize("era", ERAS, ids=list(ERAS))
def test_datetime64_to_tt2000_equals_cdflib_in_each_era(era):
    first, last = ERAS[era]
    times = np.concatenate([sample(first, last, 200, seed=7 + len(era)), midnights(first[:10], last[:10], 211)])
    np.testing.assert_array_equal(datetime64_to_tt2000(times), cdflib_tt2000(times))


def test_every_leap_second_since_1972_including_23_59_60_equals_cdflib():
    assert len(LEAP_SECONDS_TT2000) == 28  # TAI-UTC 10 s on 1972-01-01, then 27 leap seconds up to 2017-01-01
    tt = (LEAP_SECONDS_TT2000[:, None] + AROUND[None, :]).ravel()
    got = tt2000_to_datetime64(tt)
    np.testing.assert_array_equal(got, cdflib_utc(tt))
    # 2016-12-31T23:59:60.5 has no datetime64: it reads as 2017-01-01T00:00:00.5, as in cdflib
    assert str(tt2000_to_datetime64([536500868684000000])[0]) == "2017-01-01T00:00:00.500000000"
    # the first leap second, 1972-06-30T23:59:60, is one second of TT2000 between 23:59:59 and 00:00:00
    before, after = datetime64_to_tt2000(np.array(["1972-06-30T23:59:59", "1972-07-01T00:00:00"], "datetime64[ns]"))
    assert after - before == 2 * SEC


def test_tt2000_round_trip_and_fill():
    times = np.concatenate([sample("1950-01-01", "2030-01-01", 500, seed=3), np.array(["NaT"], "datetime64[ns]")])
    tt = datetime64_to_tt2000(times)
    assert tt[-1] == np.iinfo(np.int64).min
    np.testing.assert_array_equal(tt2000_to_datetime64(tt), times)
    pad = tt2000_to_datetime64(np.array([-9223372036854775807, 822139269184000000]))  # the CDF pad value: NaT
    assert pad.astype(str).tolist() == ["NaT", "2026-01-20T00:00:00.000000000"]


def test_tt2000_conversions_keep_the_shape_of_what_they_are_given():
    """A scalar (a time_range end) gives a 0-d array, in every era; a 2-D array keeps its shape."""
    for when in ("1947-03-03T07:35:32.64", "1965-06-01T12:00", "2026-01-20T00:00"):
        t = np.datetime64(when, "ns")
        tt = datetime64_to_tt2000(t)
        assert tt.shape == ()
        assert int(tt) == int(cdflib_tt2000(np.array([t]))[0])
        assert tt2000_to_datetime64(tt) == t
        assert tt2000_to_datetime64(int(tt)).shape == ()
    grid = datetime64_to_tt2000(np.array([["1950-01-01", "1970-01-01"], ["1990-01-01", "NaT"]], "datetime64[ns]"))
    assert grid.shape == (2, 2)
    assert tt2000_to_datetime64(grid).shape == (2, 2)
