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
from tests.test_plot import (  # noqa: E402
    axes_columns,
    legend_texts,
    mag_dataset,
    render,
    swe_l2_dataset,
    swe_l3_dataset,
)


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


def test_quicklook_single_mag_record_is_drawn_inside_the_axes():
    ds = mag_dataset(1)
    fig = ql.quicklook(ds)
    lo, hi = xlim_times(fig.axes[0])
    t = ds["epoch"].values[0]
    assert lo < t < hi  # the record is inside the view, not on its left edge
    image = render(fig)
    for ax in fig.axes:
        rows, cols = axes_columns(fig, ax, image)
        for line in ax.get_lines()[:3]:  # |B|, or B_x, B_y, B_z (not the zero line)
            rgb = np.round(np.array(matplotlib.colors.to_rgb(line.get_color())) * 255)
            inked = (np.abs(image[rows, cols].astype(int) - rgb).max(axis=2) <= 10).sum()
            assert inked >= 4, f"{line.get_label()} not drawn"  # a line through one point draws no pixel


def test_quicklook_single_swe_record_shows_its_whole_cell():
    ds = swe_l2_dataset(3, fill_record=1).isel(epoch=[0])
    fig = ql.quicklook(ds)
    lo, hi = xlim_times(fig.axes[0])
    t = ds["epoch"].values[0]
    # a lone record's cell is one minute centred on it (record_cells); the view shows all of it
    assert (lo, hi) == (t - np.timedelta64(30, "s"), t + np.timedelta64(30, "s"))
    assert fig.get_suptitle().endswith("2026-01-20 00:00:00 to 2026-01-20 00:00:00 UTC")


@pytest.fixture
def sdc(synthetic_archive):
    from imap_explorer.server import LocalSDC

    with LocalSDC(synthetic_archive) as server:
        yield server


MAG_DAY = ["quicklook", "--instrument", "mag", "--data-level", "l2", "--descriptor", "norm-gse",
           "--start-date", "20260120", "--end-date", "20260120"]


@pytest.mark.parametrize(("given", "written"), [("plot", "plot.png"), ("plots", "plots/quicklook.png")])
def test_cli_quicklook_reports_the_file_it_wrote(sdc, tmp_path, capsys, given, written):
    from imap_explorer.cli import main

    (tmp_path / "plots").mkdir()
    code = main(["--url", sdc.url, *MAG_DAY, "-o", str(tmp_path / given)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.strip() == f"Saved quick-look plot to {(tmp_path / written).resolve()}"
    assert plt.imread(tmp_path / written).shape[1] == 1200  # a real PNG, where the message says
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png")) == [written]


def test_cli_quicklook_unknown_image_format_fails_before_downloading(sdc, tmp_path, capsys):
    from imap_explorer.cli import main

    code = main(["--url", sdc.url, *MAG_DAY, "-o", str(tmp_path / "new" / "plot.pgn")])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "Cannot write a 'pgn' image" in err
    assert "png, ps" in err  # the formats that would do
    assert not (tmp_path / "new").exists()
    assert not list((tmp_path / "data").rglob("*.cdf"))  # nothing downloaded for a typo in -o


def test_quicklook_overview_keeps_a_dataset_without_records_in_the_time_range_as_an_empty_panel():
    from matplotlib.collections import QuadMesh

    mag = mag_dataset(7200)  # 00:00-01:00
    swe = swe_l2_dataset(30)
    swe = swe.assign_coords(epoch=swe["epoch"].values + np.timedelta64(2, "h"))  # 02:00-02:30
    fig = ql.quicklook([mag, swe], time_range=("2026-01-20T00:10", "2026-01-20T00:40"))
    mag_ax, swe_ax = fig.axes[1], fig.axes[2]
    assert xlim_times(mag_ax) == (np.datetime64("2026-01-20T00:10", "ns"), np.datetime64("2026-01-20T00:40", "ns"))
    assert mag_ax.get_lines()[0].full_t.size == 3600  # MAG drawn for the half hour asked
    assert swe_ax.get_ylabel() == "Energy [eV]"
    assert swe_ax.get_yscale() == "log"
    assert not [c for c in swe_ax.collections if isinstance(c, QuadMesh)]
    assert [t.get_text() for t in swe_ax.texts] == ["imap_swe_l2_sci: no records in this time range"]
    assert fig.get_suptitle().startswith("imap_mag_l2_norm-gse v001.0001 | imap_swe_l2_sci v002\n")
    render(fig)
    # with no dataset left to draw, it is still an error naming them
    with pytest.raises(ValueError, match="imap_mag_l2_norm-gse, imap_swe_l2_sci have no records between"):
        ql.quicklook([mag, swe], time_range=("2026-01-20T05:00", None))
    with pytest.raises(ValueError, match="imap_swe_l2_sci has no records between"):
        ql.quicklook([mag, swe], time_range=("2026-01-20T00:10", "2026-01-20T00:40"), variables=["flux"])


def test_quicklook_spectrogram_coordinate_with_fill_falls_back_instead_of_crashing():
    import xarray as xr

    t = np.datetime64("2026-01-20", "ns") + np.arange(40) * np.timedelta64(10, "s")
    rates = np.random.default_rng(0).uniform(1.0, 10.0, (40, 8))
    channel = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, np.nan])  # the last channel's value is fill
    ds = xr.Dataset({"rates": (("epoch", "channel"), rates, {"DISPLAY_TYPE": "spectrogram", "SCALETYP": "log",
                                                             "UNITS": "counts/s"})},
                    coords={"epoch": t, "channel": ("channel", channel, {"SCALETYP": "log", "UNITS": "keV"})},
                    attrs={"Logical_source": "imap_hit_l2_rates"})
    fig = ql.quicklook(ds)
    ax = fig.axes[0]
    (mesh,) = ax.collections
    assert mesh.get_array().shape == (8, 40)  # every channel drawn, by index
    assert ax.get_ylabel() == "channel"
    np.testing.assert_allclose(mesh.get_coordinates()[:, 0, 1], np.arange(9) - 0.5)

    swe = swe_l2_dataset(5)
    energy = swe["energy"].values.copy()
    energy[-1] = np.nan  # SWE: the nominal ESA energies instead
    fig = ql.quicklook(swe.assign_coords(energy=("energy", energy, swe["energy"].attrs)))
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Energy (nominal) [eV]"
    assert ax.get_yscale() == "log"
    render(fig)


def _overlapping_loads(ds):
    """Two loads concatenated by hand: the second overlaps the first by a third of the records."""
    import xarray as xr

    n = ds.sizes["epoch"]
    return xr.concat([ds.isel(epoch=slice(0, 2 * n // 3)), ds.isel(epoch=slice(n // 3, n))], dim="epoch",
                     data_vars="minimal", coords="minimal", compat="override")


@pytest.mark.parametrize("make", [lambda: mag_dataset(600), lambda: swe_l2_dataset(30), lambda: swe_l3_dataset(20)],
                         ids=["mag", "swe_l2", "swe_l3"])
@pytest.mark.parametrize("concat", ["with_itself", "overlapping"])
def test_quicklook_repeated_epochs_draw_as_the_deduplicated_data(make, concat):
    import xarray as xr

    ds = make()
    repeated = (xr.concat([ds, ds], dim="epoch", data_vars="minimal", coords="minimal", compat="override")
                if concat == "with_itself" else _overlapping_loads(ds))
    assert repeated.sizes["epoch"] > ds.sizes["epoch"]
    expected, got = ql.quicklook(ds), ql.quicklook(repeated)
    for ax_expected, ax_got in zip(expected.axes, got.axes):
        for mesh_expected, mesh_got in zip(ax_expected.collections, ax_got.collections):
            if hasattr(mesh_expected, "get_coordinates"):  # a zero-width cell masked whole columns
                np.testing.assert_array_equal(mesh_got.get_coordinates(), mesh_expected.get_coordinates())
                np.testing.assert_array_equal(np.ma.getmaskarray(mesh_got.get_array()),
                                              np.ma.getmaskarray(mesh_expected.get_array()))
        for line_expected, line_got in zip(ax_expected.get_lines(), ax_got.get_lines()):
            np.testing.assert_array_equal(np.asarray(line_got.get_xydata()), np.asarray(line_expected.get_xydata()))
    np.testing.assert_array_equal(render(got), render(expected))


def inked_near(fig, ax, image, t, y, color, radius=3, tol=10) -> int:
    """Pixels of ``color`` within ``radius`` px of the data point ``(t, y)``."""
    x, yd = ax.transData.transform((_decimate.ns_to_num(np.datetime64(t, "ns").view(np.int64)), y))
    row, col = int(round(image.shape[0] - yd)), int(round(x))
    patch = image[max(row - radius, 0):row + radius + 1, max(col - radius, 0):col + radius + 1].astype(int)
    rgb = np.round(np.array(matplotlib.colors.to_rgb(color)) * 255)
    return int((np.abs(patch - rgb).max(axis=2) <= tol).sum())


def lone_sample_dataset(kind, n):
    """Fill everywhere but a run at the start and three samples, each between two fill values."""
    import xarray as xr

    lone = [n // 2, 2 * n // 3, 5 * n // 6]
    if kind == "mag":
        ds = mag_dataset(n)
        b = ds["b_gse"].values
        b[:] = np.nan
        b[: n // 4] = 1.0
        b[lone] = [[4.0, -4.0, 2.0], [3.0, -3.0, -2.0], [5.0, -1.0, 0.5]]
        return ds, lone
    t = mag_dataset(n)["epoch"].values
    rate = np.full(n, np.nan)
    rate[: n // 4] = 10.0
    rate[lone] = [30.0, 50.0, 20.0]
    ds = xr.Dataset({"rate": ("epoch", rate, {"DISPLAY_TYPE": "time_series", "VAR_TYPE": "data", "UNITS": "Hz"})},
                    coords={"epoch": t}, attrs={"Logical_source": "imap_hit_l2_rates"})
    return ds, lone


@pytest.mark.parametrize("kind", ["mag", "generic"])
@pytest.mark.parametrize("n", [600, 200_000], ids=["every_sample", "decimated"])
def test_quicklook_lone_samples_between_fill_are_drawn(kind, n):
    ds, lone = lone_sample_dataset(kind, n)
    t = ds["epoch"].values
    fig = ql.quicklook(ds)
    image = render(fig)
    for ax in fig.axes:
        lines = [line for line in ax.get_lines() if isinstance(line, _decimate.MinMaxLine)
                 and not line.get_label().startswith("_")]
        assert lines
        for line in lines:
            assert line.get_label() in legend_texts(ax)  # the markers stay out of the legend
            for i in lone:
                y = float(line.full_y[i])
                assert inked_near(fig, ax, image, t[i], y, line.get_color()) >= 4, f"{line.get_label()} at {i}"
    # zoomed on the second sample (every sample drawn again, in a view with no neighbour of it), and the
    # markers follow the zoom in every panel
    fig.axes[0].set_xlim(t[lone[1]] - 20 * np.timedelta64(500, "ms"), t[lone[1]] + 20 * np.timedelta64(500, "ms"))
    image = render(fig)
    for ax in fig.axes:
        for line in ax.get_lines():
            if isinstance(line, _decimate.MinMaxLine) and not line.get_label().startswith("_"):
                y = float(line.full_y[lone[1]])
                assert inked_near(fig, ax, image, t[lone[1]], y, line.get_color()) >= 4, line.get_label()


def rates_dataset(n, scale):
    """A count-rate series around 10 Hz with a run of zeros and a run of negative values (bad background)."""
    import xarray as xr

    t = mag_dataset(n)["epoch"].values
    rate = 10.0 + np.random.default_rng(1).uniform(-1.0, 1.0, n)
    zeros, negative = slice(2 * n // 5, 9 * n // 20), slice(3 * n // 5, 31 * n // 50)
    rate[zeros], rate[negative] = 0.0, -3.0
    attrs = {"DISPLAY_TYPE": "time_series", "VAR_TYPE": "data", "UNITS": "Hz", "SCALETYP": scale}
    ds = xr.Dataset({"rate": ("epoch", rate, attrs)}, coords={"epoch": t},
                    attrs={"Logical_source": "imap_hit_l2_rates"})
    return ds, (zeros, negative)


@pytest.mark.parametrize("n", [600, 200_000], ids=["every_sample", "decimated"])
def test_quicklook_log_line_panel_leaves_zero_and_negative_values_as_gaps(n):
    ds, runs = rates_dataset(n, "log")
    fig = ql.quicklook(ds)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    (line,) = (li for li in ax.get_lines() if not li.get_label().startswith("_"))
    for run in runs:
        assert np.isnan(line.full_y[run]).all()
    image = render(fig)
    rows, cols = axes_columns(fig, ax, image)
    rgb = np.round(np.array(matplotlib.colors.to_rgb(line.get_color())) * 255)
    inked = (np.abs(image[rows, cols].astype(int) - rgb).max(axis=2) <= 60).any(axis=1)
    bottom, top = ax.transData.transform([(0, 9.0), (0, 11.0)])[:, 1]  # the data lie in 9-11 Hz
    height = image.shape[0]
    below = np.arange(rows.start, rows.stop) > height - bottom + 3
    above = np.arange(rows.start, rows.stop) < height - top - 3
    assert inked.any()
    assert not inked[below].any()  # no line drops to the bottom of the axes
    assert not inked[above].any()

    # a linear axis draws zeros and negative values as they are
    ds, runs = rates_dataset(n, "linear")
    fig = ql.quicklook(ds)
    (line,) = (li for li in fig.axes[0].get_lines() if not li.get_label().startswith("_"))
    assert fig.axes[0].get_yscale() == "linear"
    np.testing.assert_array_equal(line.full_y, ds["rate"].values)
    assert fig.axes[0].get_ylim()[0] < -3.0


def test_quicklook_without_pyplot_draws_the_same_figure_that_pyplot_never_holds():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    ds = mag_dataset(4000, fill=slice(100, 200))
    before = plt.get_fignums()
    fig = ql.quicklook(ds, pyplot=False)
    assert plt.get_fignums() == before
    assert isinstance(fig.canvas, FigureCanvasAgg)
    assert fig.canvas.manager is None
    expected = ql.quicklook(ds)
    assert plt.get_fignums() == [*before, expected.number]
    np.testing.assert_array_equal(render(fig), render(expected))
    with pytest.raises(ValueError, match="not in imap_mag_l2_norm-gse"):
        ql.quicklook(ds, variables=["nope"], pyplot=False)
    assert plt.get_fignums() == [*before, expected.number]
