"""Quick-look regressions found in review: each test draws a real figure (Agg) and checks what was drawn."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from imap_explorer import _decimate  # noqa: E402
from imap_explorer import plot as ql  # noqa: E402
from tests.test_plot import mag_dataset  # noqa: E402


def xlim_times(ax) -> tuple[np.datetime64, np.datetime64]:
    """The axes' x limits as datetime64[ns] (rounded to the microsecond)."""
    return tuple(np.datetime64(round(_decimate.num_to_ns(x) / 1e3), "us").astype("datetime64[ns]")
                 for x in ax.get_xlim())


@pytest.mark.parametrize("time_range", [
    np.array(["2026-01-20T00:00:10", "2026-01-20T00:00:20"], dtype="datetime64[ns]"),
    pd.DatetimeIndex(["2026-01-20T00:00:10", "2026-01-20T00:00:20"]),
    slice("2026-01-20T00:00:10", "2026-01-20T00:00:20"),
])
def test_quicklook_time_range_takes_the_pairs_load_takes(time_range):
    ds = mag_dataset(100)
    fig = ql.quicklook(ds, time_range=time_range)
    assert xlim_times(fig.axes[0]) == (np.datetime64("2026-01-20T00:00:10", "ns"),
                                       np.datetime64("2026-01-20T00:00:20", "ns"))
    (line,) = fig.axes[0].get_lines()
    assert line.full_t.size == 20  # 0.5 s cadence, [00:00:10, 00:00:20)


def test_quicklook_time_range_nat_end_is_open():
    ds = mag_dataset(100)
    fig = ql.quicklook(ds, time_range=(pd.NaT, "2026-01-20T00:00:20"))
    assert xlim_times(fig.axes[0]) == (np.datetime64("2026-01-20T00:00:00", "ns"),
                                       np.datetime64("2026-01-20T00:00:20", "ns"))
    plt.close(fig)


@pytest.mark.parametrize("data", [mag_dataset(10), [mag_dataset(10), mag_dataset(10, descriptor="norm-rtn")]])
def test_quicklook_empty_variables_list_says_what_to_pass(data):
    before = plt.get_fignums()
    with pytest.raises(ValueError, match=r"variables=\[\] names no variable.*variables=None"):
        ql.quicklook(data, variables=[])
    assert plt.get_fignums() == before  # no empty figure left behind
    with pytest.raises(ValueError, match=r"variables=\[\] names no variable"):
        ql.plan_panels(mag_dataset(10), [])
