"""Quick-look plots: pure panel decisions, decimation, and image-level checks rendered with Agg."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from imap_explorer import _decimate  # noqa: E402
from imap_explorer import plot as ql  # noqa: E402
from tests.conftest import REAL, requires_real  # noqa: E402

DAY = np.datetime64("2026-01-20T00:00:00", "ns")
SWE_ENERGY = np.array(ql.SWE_ENERGIES_EV)


# --------------------------------------------------------------------------- datasets following the load contract
def mag_dataset(n=4000, *, descriptor="norm-gse", level="l2", cadence_ms=500, fill=None, flagged=None,
                version="v001.0001", four_columns=False, seed=0):
    rng = np.random.default_rng(seed)
    t = DAY + np.arange(n) * np.timedelta64(cadence_ms, "ms")
    b = np.cumsum(rng.normal(0, 0.3, (n, 3)), axis=0) + np.array([3.0, -3.0, 0.5])
    b = b.astype(np.float32)
    if fill is not None:
        b[fill] = np.nan
    frame = descriptor.split("-")[-1]
    if four_columns:
        name, b = "vectors", np.concatenate([b, np.full((n, 1), 2, np.float32)], axis=1)
    else:
        name = f"b_{frame}"
    ncol = b.shape[1]
    flags = np.zeros(n, np.int8)
    if flagged is not None:
        flags[flagged] = 1
    return xr.Dataset(
        {
            name: (("epoch", "direction"), b, {
                "CATDESC": f"Magnetic field in {frame.upper()} coordinates", "FIELDNAM": "Magnetic Field Vector",
                "UNITS": " ", "DISPLAY_TYPE": "time_series", "LABL_PTR_1": "direction_label", "VAR_TYPE": "data",
                "units": "", "long_name": "Magnetic Field Vector"}),
            "quality_flags": ("epoch", flags, {"VAR_TYPE": "support_data",
                                               "CATDESC": "Eight-bit Data quality bitmask"}),
            "magnitude": ("epoch", np.full(n, 99.0, np.float32), {"UNITS": "nT", "VAR_TYPE": "support_data"}),
        },
        coords={"epoch": t, "direction": ("direction", np.arange(ncol)),
                "direction_label": ("direction", [str(i) for i in range(ncol)])},
        attrs={"Logical_source": f"imap_mag_{level}_{descriptor}",
               "Logical_file_id": f"imap_mag_{level}_{descriptor}_20260120_{version}", "Data_version": version[1:]},
    )


def swe_l2_dataset(n=30, *, fill_record=1, seed=0):
    rng = np.random.default_rng(seed)
    t = DAY + np.arange(n) * np.timedelta64(61548, "ms")
    base = 5e7 * (SWE_ENERGY / SWE_ENERGY[0]) ** -2.5
    flux = base[None, :, None, None] * rng.uniform(0.5, 1.5, (n, 24, 30, 7))
    flux[rng.uniform(size=flux.shape) < 0.25] = np.nan
    flux[:, :, :, 0] = 0.0  # exact zeros are valid
    flux[fill_record] = np.nan
    psd = flux / (6.187e30 * SWE_ENERGY[None, :, None, None])
    spectrum_attrs = {"DEPEND_1": "energy", "DEPEND_2": "inst_az", "DEPEND_3": "inst_el", "DISPLAY_TYPE": "spectrogram",
                      "VAR_TYPE": "data", "LABL_PTR_1": "energy_label"}
    return xr.Dataset(
        {
            "flux": (("epoch", "energy", "inst_az", "inst_el"), flux,
                     {**spectrum_attrs, "FIELDNAM": "Flux", "UNITS": "1 / (2 * eV * cm^2 * s * ster)",
                      "CATDESC": "Number flux organized by energy (eV), spin angle, CEM angle"}),
            "phase_space_density": (("epoch", "energy", "inst_az", "inst_el"), psd,
                                    {**spectrum_attrs, "FIELDNAM": "Phase Space Density", "UNITS": "s^3 / cm^6"}),
            "data_quality": ("epoch", np.full(n, 4, np.uint8), {"VAR_TYPE": "support_data"}),
        },
        coords={
            "epoch": t,
            "energy": ("energy", SWE_ENERGY, {"UNITS": "eV", "FIELDNAM": "Energy (eV)", "SCALE_TYP": "linear"}),
            "energy_label": ("energy", [f"{e / 4.75:.2f}" for e in SWE_ENERGY]),
            "inst_az": ("inst_az", np.arange(6.0, 360.0, 12.0, dtype=np.float32),
                        {"UNITS": "Degree", "FIELDNAM": "Spin Angle", "SCALE_TYP": "linear"}),
            "inst_el": ("inst_el", np.array([-63, -42, -21, 0, 21, 42, 63], np.int8),
                        {"UNITS": "Degree", "FIELDNAM": "Polar Angle", "SCALE_TYP": "linear"}),
        },
        attrs={"Logical_source": "imap_swe_l2_sci", "Logical_file_id": "imap_swe_l2_sci_20260120_v002"},
    )


def swe_l3_dataset(n=20):
    rng = np.random.default_rng(3)
    t = DAY + np.arange(n) * np.timedelta64(60, "s")
    pa = np.linspace(4.5, 175.5, 20, dtype=np.float32)
    psd = 1e-28 * rng.uniform(0.5, 2.0, (n, 24, 20))
    scalar = {"DISPLAY_TYPE": "time_series", "VAR_TYPE": "data"}
    return xr.Dataset(
        {
            "phase_space_density_by_pitch_angle": (("epoch", "energy", "pitch_angle"), psd, {
                "DISPLAY_TYPE": "spectrogram", "VAR_TYPE": "data", "FIELDNAM": "Electron Phase Space Density",
                "UNITS": "s^3 cm^-6", "SCALETYP": "log"}),
            "core_density_fit": ("epoch", rng.uniform(5, 8, n), {**scalar, "UNITS": "#/cm^3"}),
            "halo_density_fit": ("epoch", rng.uniform(0.2, 0.4, n), {**scalar, "UNITS": "#/cm^3"}),
            "core_speed_fit": ("epoch", rng.uniform(380, 420, n), {**scalar, "UNITS": "km/s"}),
            "core_t_parallel_fit": ("epoch", rng.uniform(1.2e5, 1.6e5, n), {**scalar, "UNITS": "K"}),
            "core_temperature_phi_rtn_fit": ("epoch", rng.uniform(-10, 10, n), {**scalar, "UNITS": "degrees"}),
            "spacecraft_potential": ("epoch", rng.uniform(3, 6, n), {**scalar, "UNITS": "V"}),
        },
        coords={"epoch": t, "energy": ("energy", SWE_ENERGY.astype(np.float32), {"UNITS": "eV", "SCALETYP": "log"}),
                "pitch_angle": ("pitch_angle", pa, {"UNITS": "degrees"})},
        attrs={"Logical_source": "imap_swe_l3_sci", "Logical_file_id": "imap_swe_l3_sci_20260120_v001"},
    )


SWE_CADENCE = np.timedelta64(61548, "ms")


def swe_days_dataset(level="l2", days=7.0, *, gap_hours=None, seed=0):
    """Several days of SWE L1B, L2 or L3 at the flight cadence (~1 404 records a day), with few look directions.

    The quick look averages over look directions, so 3 x 2 of them (6 pitch angles in L3) keep a week
    small. Fill is NaN, exact zeros are valid counts, record 5 is all fill, and ``gap_hours=(start, end)``
    (hours from DAY) removes the records of a data gap. Returns the dataset and the per-record values the
    spectrogram shows, ``(epoch, y)`` with y ascending, computed directly.
    """
    rng = np.random.default_rng(seed)
    t = DAY + np.arange(int(days * 86_400 / 61.548)) * SWE_CADENCE
    if gap_hours is not None:
        lo, hi = (DAY + np.timedelta64(int(h * 3600), "s") for h in gap_hours)
        t = t[(t < lo) | (t >= hi)]
    n = t.size
    hours = (t - DAY) / np.timedelta64(1, "h")
    base = 5e7 * (SWE_ENERGY / SWE_ENERGY[0]) ** -2.5
    scale = base[None, :] * (1.5 + np.sin(hours / 7.0))[:, None]  # slow changes, so time averages matter
    spectrum = {"DISPLAY_TYPE": "spectrogram", "VAR_TYPE": "data", "FIELDNAM": "Flux", "UNITS": "1/(eV cm^2 s sr)"}
    if level == "l3":
        pitch = np.linspace(15.0, 165.0, 6)
        values = scale[:, :, None] * rng.uniform(0.5, 1.5, (n, 24, 6))
        values[rng.uniform(size=values.shape) < 0.2] = np.nan
        values[::97, :, 0] = 0.0
        values[5] = np.nan
        ds = xr.Dataset({"phase_space_density_by_pitch_angle": (("epoch", "energy", "pitch_angle"), values,
                                                                {**spectrum, "SCALETYP": "log"})},
                        coords={"epoch": t, "energy": ("energy", SWE_ENERGY.astype(np.float32), {"UNITS": "eV"}),
                                "pitch_angle": ("pitch_angle", pitch, {"UNITS": "degrees"})},
                        attrs={"Logical_source": "imap_swe_l3_sci"})
        chosen = int(np.argmin(np.abs(SWE_ENERGY.astype(np.float32) - ql.DEFAULT_PITCH_ANGLE_ENERGY_EV)))
        return ds, values[:, chosen, :]
    values = scale[:, :, None, None] * rng.uniform(0.5, 1.5, (n, 24, 3, 2))
    values[rng.uniform(size=values.shape) < 0.2] = np.nan
    values[::97, 0] = 0.0
    values[5] = np.nan
    if level == "l1b":  # no energy coordinate: the nominal ESA energies
        ds = xr.Dataset({"science_data": (("epoch", "esa_step", "spin_sector", "cem_id"), values, spectrum)},
                        coords={"epoch": t}, attrs={"Logical_source": "imap_swe_l1b_sci"})
    else:
        ds = xr.Dataset({"flux": (("epoch", "energy", "inst_az", "inst_el"), values, spectrum)},
                        coords={"epoch": t, "energy": ("energy", SWE_ENERGY, {"UNITS": "eV"})},
                        attrs={"Logical_source": "imap_swe_l2_sci"})
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return ds, np.nanmean(values, axis=(2, 3))


# --------------------------------------------------------------------------- rendering helpers
def render(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def colorbar_of(ax):
    (cax,) = (c for c in ax.child_axes if c.get_label() == "<colorbar>")
    return cax


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def axes_columns(fig, ax, image: np.ndarray) -> tuple[slice, slice]:
    """Pixel rows and columns strictly inside an axes (image rows run top to bottom)."""
    x0, y0, x1, y1 = ax.get_window_extent().extents
    height = image.shape[0]
    return slice(int(height - y1) + 2, int(height - y0) - 2), slice(int(x0) + 2, int(x1) - 2)


def dark_rows(image: np.ndarray, rows: slice, cols: slice, threshold: int = 160) -> list[tuple[int, int] | None]:
    """Per pixel column, the (first, last) row with a dark pixel, or None."""
    patch = image[rows, cols].min(axis=2) < threshold
    out = []
    for column in patch.T:
        hit = np.flatnonzero(column)
        out.append((int(hit[0]), int(hit[-1])) if hit.size else None)
    return out


def the_mesh(ax):
    """The one spectrogram QuadMesh of an axes (a zoom replaces it, never adds one)."""
    from matplotlib.collections import QuadMesh

    (mesh,) = (c for c in ax.collections if isinstance(c, QuadMesh))
    return mesh


def check_columns(mesh, t, per_record):
    """Check every drawn time column against the records inside it; return the records per column.

    A column must show the nanmean of the records whose times fall in it (zeros in the 'under' value
    half the norm's vmin, as drawn), and be empty (masked) when no record does: nothing is drawn in a gap.
    """
    x = mesh.get_coordinates()[0, :, 0]
    cells = mesh.get_array()
    assert cells.shape == (per_record.shape[1], x.size - 1)
    times = _decimate.ns_to_num(t.astype("datetime64[ns]").view(np.int64))
    bounds = np.searchsorted(times, x)
    counts = np.diff(bounds)
    for c in np.flatnonzero(counts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanmean(per_record[bounds[c]:bounds[c + 1]], axis=0)
        expected = np.where(np.isnan(expected) | (expected > 0), expected, 0.5 * mesh.norm.vmin)
        np.testing.assert_array_equal(cells.mask[:, c], np.isnan(expected))
        np.testing.assert_allclose(cells.data[~cells.mask[:, c], c], expected[~np.isnan(expected)], rtol=1e-12)
    assert cells.mask[:, counts == 0].all()
    return counts


def load_cdf(paths):
    """Load real/synthetic CDFs with ie.load."""
    import imap_explorer as ie

    return ie.load(paths)


# --------------------------------------------------------------------------- pure decisions
@pytest.mark.parametrize(
    ("attrs", "shape", "dims", "expected"),
    [
        ({"DISPLAY_TYPE": "spectrogram"}, (4, 24, 30, 7), ("epoch", "energy", "inst_az", "inst_el"), "spectrogram"),
        ({"DISPLAY_TYPE": "time_series"}, (4, 3), ("epoch", "direction"), "time_series"),
        ({"DISPLAY_TYPE": "time_series>noerrorbars"}, (4,), ("epoch",), "time_series"),
        ({"DISPLAY_TYPE": "spectrogram"}, (4,), ("epoch",), "time_series"),
        ({"DISPLAY_TYPE": "no_plot"}, (4,), ("epoch",), "none"),
        ({}, (4, 3), ("epoch", "direction"), "time_series"),
        ({}, (4, 32), ("epoch", "channel"), "spectrogram"),
        ({"DISPLAY_TYPE": "time_series"}, (24,), ("energy",), "none"),
    ],
)
def test_plot_kind_follows_display_type_and_shape(attrs, shape, dims, expected):
    var = xr.DataArray(np.zeros(shape), dims=dims, attrs=attrs)
    assert ql.plot_kind(var) == expected


def test_plot_kind_rejects_text_variables():
    assert ql.plot_kind(xr.DataArray(np.array(["a", "b"]), dims=("epoch",))) == "none"


def test_scale_type_reads_scaletyp_and_misspelt_scale_typ():
    assert ql.scale_type(xr.DataArray([1.0], attrs={"SCALETYP": "log"})) == "log"
    assert ql.scale_type(xr.DataArray([1.0], attrs={"SCALE_TYP": "log"})) == "log"
    assert ql.scale_type(xr.DataArray([1.0], attrs={"SCALE_TYP": "linear"})) == "linear"


@pytest.mark.parametrize(
    ("descriptor", "frame", "labels"),
    [
        ("norm-gse", "GSE", ("B_x GSE", "B_y GSE", "B_z GSE")),
        ("burst-gsm", "GSM", ("B_x GSM", "B_y GSM", "B_z GSM")),
        ("norm-dsrf", "DSRF", ("B_x DSRF", "B_y DSRF", "B_z DSRF")),
        ("burst-srf", "SRF", ("B_x SRF", "B_y SRF", "B_z SRF")),
        ("norm-rtn", "RTN", ("B_R", "B_T", "B_N")),
        ("burst-magi", "MAGi", ("B_x MAGi", "B_y MAGi", "B_z MAGi")),
    ],
)
def test_mag_frame_and_component_labels_come_from_the_descriptor(descriptor, frame, labels):
    assert ql.mag_frame(descriptor) == frame
    assert ql.component_labels(ql.mag_frame(descriptor)) == labels


def test_product_of_reads_logical_source_then_file_id():
    assert ql.product_of(xr.Dataset(attrs={"Logical_source": ["imap_swe_l2_sci"]})) == ql.Product("swe", "l2", "sci")
    ds = xr.Dataset(attrs={"Logical_file_id": "imap_mag_l1b_norm-mago_20251017_v002"})
    assert ql.product_of(ds) == ql.Product("mag", "l1b", "norm-mago")


def test_plan_panels_mag_takes_b_frame_and_ignores_direction_label():
    panels = ql.plan_panels(mag_dataset(descriptor="burst-rtn"))
    assert [p.kind for p in panels] == ["mag_magnitude", "mag_vector"]
    assert panels[1].variable == "b_rtn"
    assert panels[1].labels == ("B_R", "B_T", "B_N")


def test_plan_panels_mag_l1b_uses_vectors_with_sensor_labels():
    panels = ql.plan_panels(mag_dataset(descriptor="norm-mago", level="l1b", four_columns=True))
    assert panels[1].variable == "vectors"
    assert panels[1].labels == ("B_x MAGo", "B_y MAGo", "B_z MAGo")


def test_plan_panels_swe_l2_energy_spectrogram_and_angle_on_request():
    ds = swe_l2_dataset(n=3)
    assert ql.plan_panels(ds) == [ql.Panel("energy_spectrogram", "flux", dim="energy")]
    panels = ql.plan_panels(ds, ["phase_space_density", "flux:inst_el"])
    assert [(p.kind, p.variable, p.dim) for p in panels] == [
        ("energy_spectrogram", "phase_space_density", "energy"), ("angle_spectrogram", "flux", "inst_el")]


def test_plan_panels_swe_l3_pitch_angle_and_moments():
    panels = ql.plan_panels(swe_l3_dataset(), energy=100.0)
    assert panels[0] == ql.Panel("pitch_angle", "phase_space_density_by_pitch_angle", dim="pitch_angle", energy=100.0)
    moments = {p.title: p.members for p in panels[1:]}
    assert moments == {"Density": ("core_density_fit", "halo_density_fit"), "Speed": ("core_speed_fit",),
                       "Temperature": ("core_t_parallel_fit",)}


def test_plan_panels_swe_l3_without_known_variables_falls_back_to_istp_rules():
    ds = swe_l3_dataset()[["spacecraft_potential"]]
    assert ql.plan_panels(ds) == [ql.Panel("time_series", "spacecraft_potential", members=("spacecraft_potential",))]


def test_plan_panels_unknown_variable_names_it_and_lists_choices():
    with pytest.raises(ValueError, match=r"'nope' not in imap_swe_l2_sci\. Plottable variables: .*flux"):
        ql.plan_panels(swe_l2_dataset(n=2), ["nope"])
    with pytest.raises(ValueError, match=r"no dimension 'pitch'.*energy, inst_az, inst_el"):
        ql.plan_panels(swe_l2_dataset(n=2), ["flux:pitch"])


def test_plan_panels_without_data_variables_falls_back_to_support_data_minus_headers():
    n = 5
    ds = xr.Dataset({name: ("epoch", np.arange(n, dtype=np.uint16), {"VAR_TYPE": "support_data"})
                     for name in ("pkt_apid", "shcoarse", "cksum", "threshold_dac", "cem1_counts_live")},
                    coords={"epoch": DAY + np.arange(n) * np.timedelta64(1, "s")},
                    attrs={"Logical_source": "imap_swe_l1a_cem-raw"})
    assert [p.variable for p in ql.plan_panels(ds)] == ["threshold_dac", "cem1_counts_live"]


def test_gap_mask_is_local_so_cadence_changes_are_not_gaps():
    t = np.concatenate([np.arange(0, 10, 1.0), np.arange(10, 30, 4.0), np.arange(100, 110, 4.0)])
    gaps = _decimate.gap_mask(t)
    assert np.flatnonzero(gaps).tolist() == [int(np.flatnonzero(np.diff(t) > 50)[0])]


def test_spectrogram_time_edges_leave_an_empty_cell_in_a_gap():
    t = (np.array([0, 60, 300, 360, 420]) * 10**9).astype(np.int64)
    edges, index = ql.spectrogram_time_edges(t)
    assert index.tolist() == [0, 1, -1, 2, 3, 4]
    assert np.all(np.diff(edges) > 0)
    assert edges[2] == 90 * 10**9
    assert edges[3] == 270 * 10**9


# --------------------------------------------------------------------------- decimation
def test_minmax_decimate_keeps_extremes_and_breaks_at_nan_columns():
    t = np.arange(100_000, dtype=np.int64)
    y = np.sin(t / 500.0)
    y[50_000:50_500] = np.nan
    y[12_345] = 7.0
    td, yd = _decimate.minmax_decimate(t, y, n_bins=100)
    assert len(td) <= 4 * 100 + 2
    assert np.nanmax(yd) == 7.0
    assert np.nanmin(yd) == pytest.approx(np.nanmin(y))
    # the line is broken around the NaN run, and only there
    breaks = td[np.isnan(yd)]
    assert breaks.size
    assert breaks.min() >= 49_000
    assert breaks.max() <= 51_500


def test_minmax_decimate_leaves_sparse_data_alone_but_breaks_time_gaps():
    t = np.concatenate([np.arange(10), np.arange(100, 110)]).astype(np.int64)
    td, yd = _decimate.minmax_decimate(t, np.ones(20), n_bins=1000)
    assert td.size == 21
    assert np.isnan(yd[10])
    assert 9 < td[10] < 100


def envelope_mismatches(full, fast, tol=2):
    """Columns whose ink envelopes differ by more than ``tol`` rows, allowing a 1-column shift.

    The shift absorbs antialiased strokes of a ~1.4 px line spilling a fraction of a pixel into the
    neighbouring column, which depends on sub-pixel sample positions. Both directions are checked.
    """
    bad = []
    for i in range(len(full)):
        if (full[i] is None) != (fast[i] is None):
            lo = max(i - 1, 0)
            neighbours = [v for v in (full[lo:i + 2] if full[i] is None else fast[lo:i + 2]) if v is not None]
            if not neighbours:
                bad.append(i)
            continue
        if full[i] is None:
            continue
        lo = max(i - 1, 0)
        for mine, other in ((fast[i], full[lo:i + 2]), (full[i], fast[lo:i + 2])):
            other = [v for v in other if v is not None]
            if not (min(v[0] for v in other) - tol <= mine[0] and mine[1] <= max(v[1] for v in other) + tol):
                bad.append(i)
                break
    return bad


@pytest.mark.parametrize(("threshold", "simplify"), [(160, False), (230, True)])
def test_minmax_line_matches_full_plot_envelope_within_two_pixels(threshold, simplify):
    """Decimated vs every point, rendered: per pixel column the inked rows agree within 2 px."""
    rng = np.random.default_rng(42)
    n = 300_000
    t = DAY + np.arange(n) * np.timedelta64(100, "ms")
    y = np.cumsum(rng.normal(size=n)) + 30 * rng.normal(size=n) * (rng.uniform(size=n) < 0.001)
    y[120_000:126_000] = np.nan  # a fill gap about 8 px wide

    def draw(decimated: bool):
        fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
        ax.set_axis_off()
        # the reference really draws every point; ours is also checked with Agg's default simplification
        with plt.rc_context({"path.simplify": simplify and decimated}):
            if decimated:
                line = _decimate.add_minmax_line(ax, t, y, color="k", lw=1)
            else:
                (line,) = ax.plot(t, y, color="k", lw=1)
            ax.set_xlim(t[0], t[-1])
            ax.set_ylim(np.nanmin(y) - 1, np.nanmax(y) + 1)
            image = render(fig)
        rows, cols = axes_columns(fig, ax, image)
        return dark_rows(image, rows, cols, threshold), line

    full, _ = draw(False)
    fast, fast_line = draw(True)
    assert fast_line.get_xdata().size < n / 10  # really decimated
    assert len(full) == len(fast) > 300
    empty_full = [i for i, a in enumerate(full) if a is None]
    empty_fast = [i for i, a in enumerate(fast) if a is None]
    assert 4 <= len(empty_full) <= 10  # the fill gap shows in the full plot ...
    assert set(empty_full) <= set(empty_fast)
    assert len(empty_fast) - len(empty_full) <= 1
    assert envelope_mismatches(full, fast) == []


def test_minmax_line_redecimates_when_zoomed():
    n = 1_000_000
    t = DAY + np.arange(n) * np.timedelta64(10, "ms")
    y = np.sin(np.arange(n) / 3000.0)
    fig, ax = plt.subplots(figsize=(4, 2), dpi=100)
    line = _decimate.add_minmax_line(ax, t, y)
    ax.set_xlim(t[0], t[-1])
    fig.canvas.draw()
    step_before = np.nanmedian(np.diff(line.get_xdata()))
    ax.set_xlim(t[1000], t[5000])  # 40 s out of ~2.8 h
    assert line.stale
    fig.canvas.draw()
    x = line.get_xdata()
    lo, hi = _decimate.ns_to_num(t[[1000, 5000]].view(np.int64))
    inside = x[(x >= lo) & (x <= hi)]
    assert inside.size > 200
    assert np.nanmedian(np.diff(inside)) < step_before / 50
    assert np.nanmax(line.get_ydata()) <= np.max(y[990:5100]) + 1e-12  # drawn from the visible data only


def test_minmax_line_zoom_in_one_panel_redecimates_the_shared_panels():
    n = 400_000
    t = DAY + np.arange(n) * np.timedelta64(50, "ms")
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(4, 3), dpi=80)
    a = _decimate.add_minmax_line(top, t, np.sin(np.arange(n) / 500.0))
    b = _decimate.add_minmax_line(bottom, t, np.cos(np.arange(n) / 500.0))
    bottom.set_xlim(t[0], t[-1])
    fig.canvas.draw()
    assert not a.stale
    bottom.set_xlim(t[100_000], t[101_000])  # the event fires on `bottom` only
    assert a.stale
    assert b.stale
    fig.canvas.draw()
    lo, hi = _decimate.ns_to_num(t[[100_000, 101_000]].view(np.int64))
    for line in (a, b):
        x = line.get_xdata()
        assert x.size > 500  # all 1000 visible samples (too few to decimate), plus edge neighbours
        slack = (hi - lo) / 100  # the view widened to whole pixels, plus one neighbour sample
        assert x.min() >= lo - slack
        assert x.max() <= hi + slack


def test_spectrogram_with_more_records_than_pixels_is_time_averaged():
    n = 10_000
    t = DAY + np.arange(n) * np.timedelta64(1, "s")
    rng = np.random.default_rng(1)
    ds = xr.Dataset({"rates": (("epoch", "channel"), rng.uniform(1, 2, (n, 8)), {"DISPLAY_TYPE": "spectrogram",
                                                                            "VAR_TYPE": "data"})},
                    coords={"epoch": t, "channel": ("channel", np.arange(8.0))})
    fig = ql.quicklook(ds)
    cells = fig.axes[0].collections[0].get_array()
    assert cells.shape[1] <= 4000
    assert 1 < float(cells.min()) <= float(cells.max()) < 2
    lo, hi = fig.axes[0].get_xlim()
    assert (lo, hi) == pytest.approx(tuple(_decimate.ns_to_num(t[[0, -1]].view(np.int64))))


@pytest.mark.parametrize("level", ["l1b", "l2", "l3"])
def test_spectrogram_zoom_rebuilds_the_view_from_full_resolution_records(level):
    """A week of SWE: averaged into <= 4 000 columns, then every record in view once zoomed to 6 h."""
    ds, per_record = swe_days_dataset(level)
    t = ds.epoch.values
    fig = ql.quicklook(ds)
    ax = fig.axes[0]
    first = the_mesh(ax)
    norm, limits = first.norm, (first.norm.vmin, first.norm.vmax)
    assert isinstance(norm, LogNorm)
    counts = check_columns(first, t, per_record)
    assert counts.size <= 4000
    assert counts.max() >= 3  # time averaged: 9 828 records
    # the colour scale spans the full-resolution values (not only their averages)
    positive = per_record[per_record > 0]
    assert limits == (positive.min(), positive.max())

    ax.set_xlim(t[3000] - np.timedelta64(30, "s"), t[3000] + np.timedelta64(6, "h"))  # 351 records in view
    mesh = the_mesh(ax)
    assert mesh is not first
    assert first.axes is None  # removed, not hidden under the new one
    counts = check_columns(mesh, t, per_record)
    assert counts.tolist() == [1] * counts.size  # every record its own column
    x = mesh.get_coordinates()[0, :, 0]
    in_view = _decimate.ns_to_num(t[2999:3352].view(np.int64))  # the records in view, plus one on each side
    assert np.all((x[:-1] < in_view) & (in_view < x[1:]))
    assert x.size - 1 == in_view.size
    # same colour scale and colorbar
    assert mesh.norm is norm
    assert (mesh.norm.vmin, mesh.norm.vmax) == limits
    assert mesh.cmap is first.cmap
    assert colorbar_of(ax) is mesh.colorbar.ax
    assert mesh.colorbar.mappable is mesh
    render(fig)


def test_spectrogram_zoom_levels_keep_columns_on_a_fixed_grid():
    """3 of 7 days in view: half the first draw's bin width; a pan keeps the columns it does not add or drop."""
    ds, per_record = swe_days_dataset("l2")
    t = ds.epoch.values
    fig = ql.quicklook(ds)
    ax = fig.axes[0]
    full = the_mesh(ax)
    x_full = full.get_coordinates()[0, :, 0]
    lo, hi = t[2000], t[2000] + np.timedelta64(3, "D")
    ax.set_xlim(lo, hi)
    mesh = the_mesh(ax)
    counts = check_columns(mesh, t, per_record)
    assert counts.size <= 4000
    assert 1 <= counts.max() <= 2  # ~4 200 records in view, bins of half the first draw's
    x = mesh.get_coordinates()[0, :, 0]
    span = _decimate.ns_to_num(np.array([lo, hi]).view(np.int64))
    assert x[0] <= span[0]
    assert x[-1] >= span[1]  # the columns reach the edges of the view
    in_view = lambda edges: int(((edges >= span[0]) & (edges <= span[1])).sum())  # noqa: E731
    assert in_view(x) > 1.8 * in_view(x_full)

    ax.set_xlim(lo + np.timedelta64(2, "h"), hi + np.timedelta64(2, "h"))  # pan by 2 hours
    panned = the_mesh(ax)
    check_columns(panned, t, per_record)
    x2 = panned.get_coordinates()[0, :, 0]
    common, i, j = np.intersect1d(x, x2, return_indices=True)
    assert common.size > 0.9 * x.size
    both = (i < x.size - 1) & (j < x2.size - 1)
    i, j = i[both], j[both]
    keep = x[i + 1] == x2[j + 1]  # the same column in both views
    assert keep.sum() > 0.9 * x.size
    np.testing.assert_array_equal(mesh.get_array()[:, i[keep]], panned.get_array()[:, j[keep]])


def test_spectrogram_zoom_never_smears_across_a_data_gap():
    ds, per_record = swe_days_dataset("l2", gap_hours=(80.0, 83.0))
    t = ds.epoch.values
    fig = ql.quicklook(ds)
    ax = fig.axes[0]
    gap = _decimate.ns_to_num(np.array([DAY + np.timedelta64(80 * 3600 + 31, "s"),
                                        DAY + np.timedelta64(83 * 3600 - 31, "s")]).view(np.int64))

    def empty_over_gap(mesh):
        x = mesh.get_coordinates()[0, :, 0]
        overlapping = np.flatnonzero((x[:-1] < gap[1]) & (x[1:] > gap[0]))
        assert overlapping.size == 1  # one empty column spans the gap ...
        (c,) = overlapping
        assert x[c] <= gap[0]
        assert x[c + 1] >= gap[1]
        assert mesh.get_array().mask[:, c].all()  # ... and shows nothing

    for lo, hi, most in [(t[0], t[-1], 3),  # binned: ~2.5 records per column
                         (DAY + np.timedelta64(40, "h"), DAY + np.timedelta64(120, "h"), 2),  # finer bins
                         (DAY + np.timedelta64(79, "h"), DAY + np.timedelta64(84, "h"), 1)]:  # every record
        ax.set_xlim(lo, hi)
        mesh = the_mesh(ax)
        assert check_columns(mesh, t, per_record).max() == most
        empty_over_gap(mesh)


def test_spectrogram_zoom_in_a_shared_panel_replaces_the_mesh_without_leaking():
    import gc
    import weakref

    ds, per_record = swe_days_dataset("l2")
    t = ds.epoch.values
    mag = mag_dataset(n=7200).assign_coords(epoch=t[0] + np.arange(7200) * np.timedelta64(84, "s"))
    fig = ql.quicklook([mag, ds])
    mag_ax, swe_ax = fig.axes[1], fig.axes[2]
    first = the_mesh(swe_ax)
    first_cells = first.get_array().copy()
    first_x = first.get_coordinates()[0, :, 0].copy()
    home = mag_ax.get_xlim()
    gone = [weakref.ref(first)]
    del first
    for k in range(10):  # zoom and pan in the MAG panel: the shared spectrogram follows
        half = np.timedelta64(30, "s")
        mag_ax.set_xlim(t[500 + 300 * k] - half, t[900 + 300 * k] + half)
        fig.canvas.draw()
        gone.append(weakref.ref(the_mesh(swe_ax)))
        assert check_columns(the_mesh(swe_ax), t, per_record).tolist() == [1] * 403  # 401 in view, one more each side
    mag_ax.set_xlim(*home)  # back home: the first draw again
    mesh = the_mesh(swe_ax)
    np.testing.assert_array_equal(mesh.get_coordinates()[0, :, 0], first_x)
    np.testing.assert_array_equal(mesh.get_array(), first_cells)
    gc.collect()
    assert [ref() is None for ref in gone] == [True] * len(gone)  # neither the axes nor the colorbar hold old meshes
    assert len(swe_ax.collections) == 1


def test_spectrogram_of_few_records_is_never_rebuilt():
    """A day of SWE L2 (1 404 records) is drawn one column per record: zooming has nothing to add."""
    ds, _ = swe_days_dataset("l2", days=1.0)
    fig = ql.quicklook(ds)
    ax = fig.axes[0]
    first = the_mesh(ax)
    assert first.get_array().shape == (24, ds.sizes["epoch"])
    ax.set_xlim(ds.epoch.values[100], ds.epoch.values[200])
    assert the_mesh(ax) is first


# --------------------------------------------------------------------------- figures
def test_quicklook_mag_panels_labels_units_and_title():
    fig = ql.quicklook(mag_dataset(descriptor="norm-gse"))
    axes = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert [a.get_ylabel() for a in axes] == ["|B| [nT]", "B GSE [nT]"]
    assert legend_texts(axes[0]) == ["|B|"]
    assert legend_texts(axes[1])[:3] == ["B_x GSE", "B_y GSE", "B_z GSE"]
    title = fig.get_suptitle()
    assert "imap_mag_l2_norm-gse v001.0001" in title
    assert "2026-01-20 00:00:00" in title
    assert axes[-1].get_xlabel() == "Time (UTC)"
    image = render(fig)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # not blank
    # |B| is recomputed from the components, not taken from `magnitude` (99 nT here)
    magnitude = axes[0].get_lines()[0].get_ydata()
    assert np.nanmax(magnitude) < 99


def test_quicklook_mag_fill_is_a_gap_in_lines_and_pixels():
    n = 20_000
    ds = mag_dataset(n=n, fill=slice(9_000, 10_000))
    fig = ql.quicklook(ds)
    ax = fig.axes[1]
    image = render(fig)
    for line in ax.get_lines()[:3]:
        x, y = line.get_xdata(), line.get_ydata()
        t_fill = _decimate.ns_to_num(ds.epoch.values[[9_000, 9_999]].view(np.int64))
        inside = (x > t_fill[0]) & (x < t_fill[1])
        assert inside.any()
        assert np.isnan(y[inside]).all()
    rows, cols = axes_columns(fig, ax, image)
    x0, x1 = ax.get_window_extent().extents[[0, 2]]
    gap_cols = slice(int(x0 + (x1 - x0) * 9_050 / n) - cols.start, int(x0 + (x1 - x0) * 9_950 / n) - cols.start)
    patch = image[rows, cols][:, gap_cols]
    coloured = (patch.max(axis=2).astype(int) - patch.min(axis=2)) > 80  # saturated line colours
    assert patch.shape[1] >= 10
    assert not coloured.any()


def test_quicklook_mag_shades_quality_flags():
    ds = mag_dataset(n=4000, flagged=slice(1000, 1100))
    fig = ql.quicklook(ds)
    ax = fig.axes[1]
    shaded = [c for c in ax.collections if c.get_label() == "quality_flags ≠ 0"]
    assert len(shaded) == 1
    vertices = shaded[0].get_paths()[0].vertices
    x0, x1 = vertices[:, 0].min(), vertices[:, 0].max()
    lo, hi = _decimate.ns_to_num(ds.epoch.values[[1000, 1099]].view(np.int64))
    assert x0 == pytest.approx(lo)
    assert x1 == pytest.approx(hi)  # exact run boundaries: they stay right when zoomed in
    assert "quality_flags ≠ 0" in legend_texts(ax)


def test_flag_runs_are_exact_when_few_and_merged_when_many():
    t = (DAY + np.arange(20_000) * np.timedelta64(500, "ms")).astype("datetime64[ns]")
    few = np.zeros(20_000, np.uint8)
    few[[10, 11, 500]] = 1
    start, end = ql._flag_runs(t, few)
    assert start.tolist() == t[[10, 500]].view(np.int64).tolist()
    assert end.tolist() == t[[11, 500]].view(np.int64).tolist()
    many = np.zeros(20_000, np.float64)
    many[::4] = 1
    many[1] = np.nan  # a NaN flag is fill, not a flag
    start, end = ql._flag_runs(t, many)
    assert 1 <= start.size <= 1000
    assert start[0] == t[0].view(np.int64)
    assert end[-1] == t[19_996].view(np.int64)


def test_quicklook_mag_l1b_draws_first_three_columns_only():
    ds = mag_dataset(descriptor="norm-mago", level="l1b", four_columns=True)
    fig = ql.quicklook(ds)
    assert legend_texts(fig.axes[1])[:3] == ["B_x MAGo", "B_y MAGo", "B_z MAGo"]
    assert len([line for line in fig.axes[1].get_lines() if isinstance(line, _decimate.MinMaxLine)]) == 3
    expected = np.sqrt((ds["vectors"].values[:, :3].astype(float) ** 2).sum(axis=1))
    drawn = fig.axes[0].get_lines()[0].full_y
    np.testing.assert_allclose(drawn, expected, rtol=1e-5)


def test_quicklook_mag_l1a_integer_fill_is_a_gap_in_counts():
    ds = mag_dataset(n=400, descriptor="norm-mago", level="l1a", four_columns=True)
    counts = np.rint(ds["vectors"].values * 100).astype(np.int64)
    counts[50:60, :3] = np.iinfo(np.int64).max  # the MAG L1A FILLVAL, left raw by the loader
    ds["vectors"] = ds["vectors"].copy(data=counts)
    ds["vectors"].attrs["FILLVAL"] = np.int64(np.iinfo(np.int64).max)
    fig = ql.quicklook(ds)
    assert fig.axes[1].get_ylabel() == "B MAGo [counts]"
    for line in fig.axes[1].get_lines()[:3]:
        assert np.isnan(line.full_y[50:60]).all()
        assert np.nanmax(np.abs(line.full_y)) < 1e6  # no 9.2e18 spike
    assert ds["vectors"].values[55, 0] == np.iinfo(np.int64).max  # the dataset itself is untouched


def test_quicklook_swe_l2_spectrogram_log_axes_colorbar_and_fill_record():
    ds = swe_l2_dataset(n=12, fill_record=3)
    fig = ql.quicklook(ds)
    (ax,) = fig.axes
    cbar_ax = colorbar_of(ax)
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "Energy [eV]"
    mesh = ax.collections[0]
    assert isinstance(mesh.norm, LogNorm)
    assert "Flux [1 / (2 * eV * cm^2 * s * ster)]" in cbar_ax.get_ylabel().replace("\n", " ")
    ylo, yhi = ax.get_ylim()
    assert ylo < 2.66 < 5266 < yhi  # energies in eV, not the energy_label voltages
    cells = mesh.get_array()
    assert cells.shape == (24, 12)
    assert cells.mask[:, 3].all()
    assert not cells.mask[:, 2].all()
    # the angle average is a nanmean over inst_az and inst_el
    with np.errstate(all="ignore"):
        expected = np.nanmean(ds.flux.values[0].reshape(24, -1), axis=1)
    np.testing.assert_allclose(cells[:, 0], expected)
    image = render(fig)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50


def test_quicklook_swe_angle_panel_on_request():
    fig = ql.quicklook(swe_l2_dataset(n=6), variables=["flux:inst_el"])
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Polar Angle [Degree]"
    assert ax.get_yscale() == "linear"
    assert ax.collections[0].get_array().shape == (7, 6)


def test_quicklook_swe_l3_pitch_angle_and_moments():
    fig = ql.quicklook(swe_l3_dataset(), energy=100.0)
    panels = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert panels[0].get_ylabel() == "Pitch angle [degrees]"
    assert colorbar_of(panels[0]).get_ylabel().endswith("\nat 100.4 eV")
    assert [a.get_ylabel() for a in panels[1:]] == ["Density [#/cm^3]", "Speed [km/s]", "Temperature [K]"]
    assert legend_texts(panels[1]) == ["core_density_fit", "halo_density_fit"]


def test_quicklook_generic_istp_lines_and_spectrogram():
    n = 50
    t = DAY + np.arange(n) * np.timedelta64(1, "s")
    ds = xr.Dataset(
        {"rates": (("epoch", "channel"), np.abs(np.random.default_rng(0).normal(1, 1, (n, 16))) + 1e-3,
                   {"DISPLAY_TYPE": "spectrogram", "SCALETYP": "log", "FIELDNAM": "Count rate", "UNITS": "1/s",
                    "VAR_TYPE": "data"}),
         "temps": (("epoch", "sensor"), np.ones((n, 2)),
                   {"DISPLAY_TYPE": "time_series", "LABL_PTR_1": "sensor_label", "FIELDNAM": "Temperature",
                    "UNITS": "degC", "VAR_TYPE": "data"})},
        coords={"epoch": t, "channel": ("channel", np.arange(16.0), {"FIELDNAM": "Channel", "SCALETYP": "linear"}),
                "sensor_label": ("sensor", ["hot side", "cold side"])},
        attrs={"Logical_source": "imap_hit_l1b_standard-rates"},
    )
    fig = ql.quicklook(ds)
    spectrogram, lines = fig.axes
    colorbar = colorbar_of(spectrogram)
    assert isinstance(spectrogram.collections[0].norm, LogNorm)
    assert colorbar.get_ylabel() == "Count rate [1/s]"
    assert spectrogram.get_ylabel() == "Channel"
    assert lines.get_ylabel() == "Temperature [degC]"
    assert legend_texts(lines) == ["hot side", "cold side"]


def test_quicklook_stacks_datasets_on_one_time_axis():
    mag, swe = mag_dataset(n=4000), swe_l2_dataset(n=30)
    fig = ql.quicklook([mag, swe])
    panels = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(panels) == 3
    assert all(panels[0].get_shared_x_axes().joined(panels[0], a) for a in panels)
    title = fig.get_suptitle()
    assert "imap_mag_l2_norm-gse v001.0001 | imap_swe_l2_sci v002" in title
    start = pd.Timestamp(DAY).strftime("%Y-%m-%d %H:%M:%S")
    end = pd.Timestamp(max(swe.epoch.values[-1], mag.epoch.values[-1])).strftime("%Y-%m-%d %H:%M:%S")
    assert f"{start} to {end} UTC" in title
    widths = {round(a.get_position().width, 3) for a in panels}
    assert len(widths) == 1  # colorbars do not misalign the time axes


def test_quicklook_time_range_trims_and_sets_the_axis():
    ds = mag_dataset(n=7200)  # one hour at 2 Hz
    fig = ql.quicklook(ds, time_range=("2026-01-20T00:10", "2026-01-20T00:20"))
    lo, hi = fig.axes[0].get_xlim()
    assert (lo, hi) == pytest.approx(tuple(_decimate.ns_to_num(np.array(
        ["2026-01-20T00:10", "2026-01-20T00:20"], dtype="datetime64[ns]").view(np.int64))))
    assert fig.axes[0].get_lines()[0].full_y.size == 1200
    with pytest.raises(ValueError, match="no records between"):
        ql.quicklook(ds, time_range=("2026-02-01", "2026-02-02"))
    with pytest.raises(ValueError, match="not after its start"):
        ql.quicklook(ds, time_range=("2026-01-20T01:00", "2026-01-20T00:00"))


def test_quicklook_sorts_records_and_drops_nat_epochs():
    ds = mag_dataset(n=50)
    epoch = ds.epoch.values.copy()
    epoch[7] = np.datetime64("NaT")
    shuffled = ds.assign_coords(epoch=epoch).isel(epoch=np.random.default_rng(0).permutation(50))
    fig = ql.quicklook(shuffled)
    line = fig.axes[1].get_lines()[0]
    assert line.full_t.size == 49
    assert np.all(np.diff(line.full_t) > 0)
    np.testing.assert_array_equal(line.full_y, np.delete(ds.b_gse.values[:, 0], 7))


def test_quicklook_draws_into_given_axes_and_checks_their_number():
    fig, ax = plt.subplots()
    assert ql.quicklook(swe_l2_dataset(n=4), ax=ax) is fig
    assert ax.collections
    with pytest.raises(ValueError, match=r"Got 1 axes for 2 panels"):
        ql.quicklook(mag_dataset(n=100), ax=ax)


def test_quicklook_rejects_unknown_input_type_and_raw_epochs():
    with pytest.raises(TypeError, match="Expected an xarray.Dataset"):
        ql.quicklook(42)
    raw = mag_dataset(n=10).assign_coords(epoch=np.arange(10, dtype=np.int64))
    with pytest.raises(ValueError, match="'epoch' holds int64, expected datetime64"):
        ql.quicklook(raw)


def test_quicklook_burst_day_is_decimated():
    n = 128 * 3600  # one hour of 128 Hz burst (the benchmark does a full day)
    ds = mag_dataset(n=n, descriptor="burst-gse", cadence_ms=1)
    ds = ds.assign_coords(epoch=DAY + np.arange(n) * np.timedelta64(7_812_500, "ns"))
    fig = ql.quicklook(ds)
    render(fig)
    for line in fig.axes[1].get_lines()[:3]:
        assert line.full_y.size == n
        assert line.get_xdata().size <= 4 * _decimate.OVERSAMPLE * 1000 + 2


# --------------------------------------------------------------------------- vectors read where they lie
def random_vectors(n, *, seed=3):
    rng = np.random.default_rng(seed)
    v = np.cumsum(rng.normal(size=(n, 3)), axis=0).astype(np.float32) + rng.normal(size=(n, 3)).astype(np.float32)
    v[n // 3: n // 3 + n // 50] = np.nan  # a run of fill
    v[n // 2, 1] = np.nan  # one component only: a break of that component and of the norm
    return v


class CountingColumns(_decimate.VectorColumns):
    """VectorColumns that counts its passes over the vectors."""

    passes = 0

    def _chunks(self, start, stop):
        self.passes += 1
        return super()._chunks(start, stop)


def test_vector_columns_reduce_each_line_like_reduceat_of_a_contiguous_copy():
    v = random_vectors(5_000)
    norm = np.sqrt((v.astype(np.float64) ** 2).sum(axis=1)).astype(np.float32)
    lines = [np.ascontiguousarray(v[:, i]) for i in range(3)] + [norm]
    columns = CountingColumns(v, step=64, block=0)  # chunks much smaller than the bins: bins span chunks
    rng = np.random.default_rng(0)
    starts = np.sort(rng.integers(100, 4_000, size=60))
    starts[10] = starts[11]  # an empty bin
    stop = 4_500
    for i, line in enumerate(lines):
        low, high = columns.view(i).extrema(starts, stop)
        filled = np.diff(np.append(starts, stop)) > 0
        np.testing.assert_allclose(low[filled], np.fmin.reduceat(line[:stop], starts)[filled], rtol=1e-6)
        np.testing.assert_allclose(high[filled], np.fmax.reduceat(line[:stop], starts)[filled], rtol=1e-6)
    assert columns.passes == 1  # the four lines of the same bins: one pass
    np.testing.assert_allclose(np.asarray(columns.view(3)), norm, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(columns.view(2)), v[:, 2])
    assert np.isnan(columns.view(3)[v.shape[0] // 2])


def test_vector_columns_scan_gives_extremes_breaks_and_blocks_that_reduce_aligned_bins_exactly():
    v = random_vectors(6_000)
    columns = CountingColumns(v, step=256, block=32)
    extremes, breaks = columns.scan()
    assert extremes[0] == (float(np.nanmin(v[:, 0])), float(np.nanmax(v[:, 0])))
    np.testing.assert_array_equal(breaks, np.flatnonzero(~np.isfinite(v).all(axis=1)))
    exact = _decimate.VectorColumns(v, step=256, block=0)
    starts = np.arange(64, 5_000, 96)  # on block boundaries (32 divides 64 and 96)
    for i in range(4):
        np.testing.assert_array_equal(columns.extrema(i, starts, 5_024), exact.extrema(i, starts, 5_024))
    assert columns.passes == 1  # the scan only: aligned bins come from the blocks
    columns.extrema(0, starts + 1, 5_024)  # not aligned: read again
    assert columns.passes == 2


def test_vector_column_lines_match_the_every_point_plot_within_two_pixels():
    """A component and the norm through VectorColumns (bins moved to block edges) vs every point, rendered."""
    rng = np.random.default_rng(42)
    n = 300_000
    t = DAY + np.arange(n) * np.timedelta64(100, "ms")
    v = (np.cumsum(rng.normal(size=(n, 3)), axis=0) + 30 * rng.normal(size=(n, 3))
         * (rng.uniform(size=(n, 1)) < 0.001)).astype(np.float32)
    v[120_000:126_000] = np.nan
    norm = np.sqrt((v.astype(np.float64) ** 2).sum(axis=1))
    for i, full_y in ((0, v[:, 0].astype(np.float64)), (3, norm)):
        def draw(decimated: bool, i=i, full_y=full_y):
            fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
            ax.set_axis_off()
            with plt.rc_context({"path.simplify": False}):
                if decimated:
                    columns = CountingColumns(v, step=4096, block=16)
                    extremes, breaks = columns.scan()
                    line = _decimate.add_minmax_line(ax, t, columns.view(i), color="k", lw=1, breaks=breaks,
                                                     extremes=extremes[i])
                else:
                    columns, (line,) = None, ax.plot(t, full_y, color="k", lw=1)
                ax.set_xlim(t[0], t[-1])
                ax.set_ylim(np.nanmin(full_y) - 1, np.nanmax(full_y) + 1)
                image = render(fig)
            rows, cols = axes_columns(fig, ax, image)
            return dark_rows(image, rows, cols), line, columns

        full, _, _ = draw(False)
        fast, line, columns = draw(True)
        assert line.get_xdata().size < n / 10
        assert columns.passes == 1  # drawn from the blocks kept by the scan
        assert envelope_mismatches(full, fast) == []


def test_vector_column_bins_keep_exact_edges_when_a_bin_is_empty():
    """Over a time gap no edge moves: samples are never carried across it."""
    v = random_vectors(40_000)
    t = np.concatenate([np.arange(20_000), np.arange(60_000, 80_000)]).astype(np.int64) * 10**6
    columns = _decimate.VectorColumns(v, step=1024, block=16)
    columns.scan()
    td, yd = _decimate.minmax_decimate(t, columns.view(1), n_bins=200)
    te, ye = _decimate.minmax_decimate(t, np.ascontiguousarray(v[:, 1]), n_bins=200)
    np.testing.assert_array_equal(td, te)
    np.testing.assert_array_equal(yd, ye)
    inside = (td > 20_000 * 10**6) & (td < 60_000 * 10**6)
    assert np.isnan(yd[inside]).all()


def test_quicklook_mag_reads_the_vectors_without_copying_them():
    import tracemalloc

    n = 128 * 3600 * 4
    ds = mag_dataset(n=n, descriptor="burst-gse", cadence_ms=1)
    ds = ds.assign_coords(epoch=DAY + np.arange(n) * np.timedelta64(7_812_500, "ns"))
    vectors = ds["b_gse"].values
    plt.close(ql.quicklook(ds.isel(epoch=slice(0, 1000))))  # imports, fonts
    tracemalloc.start()
    try:
        fig = ql.quicklook(ds)
        render(fig)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # contiguous rows of the components and their norm were 1.33 x the vectors (float32) when copied
    assert peak < 0.25 * vectors.nbytes
    assert fig.axes[1].get_lines()[0].full_y.base is not None  # a view of the vectors
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].full_y, np.linalg.norm(vectors[:, :3], axis=1),
                               rtol=1e-5)
    plt.close(fig)


# --------------------------------------------------------------------------- real flight files
@requires_real
def test_quicklook_real_mag_l2_fill_gap_and_quality():
    path = REAL / "imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf"
    ds = load_cdf(path)
    fig = ql.quicklook(ds)
    ax_b, ax_v = fig.axes
    assert legend_texts(ax_v)[:3] == ["B_x DSRF", "B_y DSRF", "B_z DSRF"]
    assert ax_v.get_ylabel() == "B DSRF [nT]"
    assert "imap_mag_l2_norm-dsrf v003" in fig.get_suptitle()
    for line in ax_v.get_lines()[:3]:
        assert np.isnan(line.full_y).sum() == 436
    # the repointing fill (10:00:06 -> 10:03:43.5) is a break in the drawn |B| line
    fig.canvas.draw()
    x, y = ax_b.get_lines()[0].get_xdata(), ax_b.get_lines()[0].get_ydata()
    lo, hi = _decimate.ns_to_num(np.array(["2026-01-20T10:00:30", "2026-01-20T10:03:20"],
                                          dtype="datetime64[ns]").view(np.int64))
    assert np.isnan(y[(x > lo) & (x < hi)]).all()
    assert any(c.get_label() == "quality_flags ≠ 0" for c in ax_v.collections)


@requires_real
def test_quicklook_real_mag_l1b_uses_first_three_vector_columns():
    ds = load_cdf(REAL / "imap/mag/l1b/2025/10/imap_mag_l1b_norm-mago_20251017_v001.0001.cdf")
    fig = ql.quicklook(ds)
    magnitude = fig.axes[0].get_lines()[0].full_y
    assert 44_000 < np.nanmin(magnitude) < np.nanmax(magnitude) < 44_500
    # the version comes from the file name (authoritative), not from Logical_file_id '..._v002'
    assert "imap_mag_l1b_norm-mago v001.0001\n" in fig.get_suptitle()
    assert legend_texts(fig.axes[1])[:3] == ["B_x MAGo", "B_y MAGo", "B_z MAGo"]


@requires_real
def test_quicklook_real_swe_l2_spectrogram():
    ds = load_cdf(REAL / "imap/swe/l2/2026/05/imap_swe_l2_sci_20260512_v001.cdf")
    fig = ql.quicklook(ds)
    ax = fig.axes[0]
    cells = ax.collections[0].get_array()
    assert cells.shape == (24, 6)
    assert cells.mask[:, 1].all()
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "Energy [eV]"
    assert "imap_swe_l2_sci v001" in fig.get_suptitle()
    image = render(fig)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50


@requires_real
def test_quicklook_real_swe_l1a_and_l1b_plot():
    l1a = load_cdf(REAL / "imap/swe/l1a/2026/03/imap_swe_l1a_cem-raw_20260309_v001.cdf")
    with pytest.warns(UserWarning, match="Not plotted: "):
        fig = ql.quicklook(l1a)
    assert len(fig.axes) == ql.MAX_GENERIC_PANELS
    l1b = load_cdf(REAL / "imap/swe/l1b/2024/05/imap_swe_l1b_sci_20240510_v002.cdf")
    fig = ql.quicklook(l1b)
    assert fig.axes[0].get_ylabel() == "Energy (nominal) [eV]"


# --------------------------------------------------------------------------- synthetic products, files, CLI
def synthetic_file(root, name):
    from imap_explorer.filenames import sdc_key

    path = root / sdc_key(name)
    assert path.is_file(), path
    return path


def test_quicklook_synthetic_overview_of_mag_swe_l2_and_l3(synthetic_archive):
    mag = load_cdf(synthetic_file(synthetic_archive, "imap_mag_l2_norm-gse_20260120_v002.0001.cdf"))
    swe = load_cdf(synthetic_file(synthetic_archive, "imap_swe_l2_sci_20260120_v001.0001.cdf"))
    l3 = load_cdf(synthetic_file(synthetic_archive, "imap_swe_l3_sci_20260120_v001.0001.cdf"))
    fig = ql.quicklook([mag, swe, l3], time_range=("2026-01-20T10:00", "2026-01-20T14:00"))
    panels = fig.axes
    assert [a.get_ylabel() for a in panels[:2]] == ["|B| [nT]", "B GSE [nT]"]
    assert panels[2].get_ylabel() == "Energy [eV]"
    assert panels[3].get_ylabel().startswith("Pitch angle")
    assert [a.get_ylabel().split(" [")[0] for a in panels[4:]] == ["Density", "Speed", "Temperature"]
    title = fig.get_suptitle()
    assert title.startswith("imap_mag_l2_norm-gse v002.0001 | imap_swe_l2_sci v001.0001 | imap_swe_l3_sci v001.0001")
    assert title.endswith("2026-01-20 10:00:00 to 2026-01-20 14:00:00 UTC")
    # the repointing fill of the synthetic MAG day is a gap in the components
    assert np.isnan(panels[1].get_lines()[0].full_y).any()
    window = mag.sel(epoch=slice("2026-01-20T10:00", "2026-01-20T14:00"))
    flagged = bool((window.quality_flags.values != 0).any())
    assert any(c.get_label() == "quality_flags ≠ 0" for c in panels[1].collections) == flagged
    # the synthetic day has a few hundred flagged rows somewhere: they are shaded
    t_flag = mag.epoch.values[np.flatnonzero(mag.quality_flags.values != 0)[0]]
    around = ql.quicklook(mag, time_range=(t_flag - np.timedelta64(10, "m"), t_flag + np.timedelta64(10, "m")))
    assert any(c.get_label() == "quality_flags ≠ 0" for c in around.axes[1].collections)
    image = render(fig)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 100


def test_quicklook_synthetic_burst_rtn_and_l1c(synthetic_archive):
    burst = load_cdf(synthetic_file(synthetic_archive, "imap_mag_l2_burst-rtn_20260120_v001.0001.cdf"))
    fig = ql.quicklook(burst)
    assert legend_texts(fig.axes[1])[:3] == ["B_R", "B_T", "B_N"]
    assert fig.axes[1].get_lines()[0].full_y.size == burst.sizes["epoch"]
    l1c = load_cdf(synthetic_file(synthetic_archive, "imap_mag_l1c_norm-mago_20260120_v001.0001.cdf"))
    fig = ql.quicklook(l1c)
    assert legend_texts(fig.axes[1])[:3] == ["B_x MAGo", "B_y MAGo", "B_z MAGo"]
    render(fig)


def test_quicklook_loads_file_lists_one_dataset_per_product(synthetic_archive, record_reads):
    files = [synthetic_file(synthetic_archive, name) for name in
             ("imap_mag_l2_norm-rtn_20260120_v001.0001.cdf", "imap_swe_l2_sci_20260120_v001.0001.cdf",
              "imap_mag_l2_norm-rtn_20260121_v001.0001.cdf")]
    fig = ql.quicklook([str(f) for f in files], time_range=("2026-01-20T11:00", "2026-01-21T01:00"))
    # 11:00-24:00 of a 2 Hz day, not all of it
    assert max(n for name, n in record_reads if name == "b_rtn") == 13 * 7200
    assert [a.get_ylabel() for a in fig.axes] == ["|B| [nT]", "B RTN [nT]", "Energy [eV]"]
    assert "imap_mag_l2_norm-rtn v001.0001 | imap_swe_l2_sci v001.0001" in fig.get_suptitle()
    # both MAG days are in the one MAG dataset: data after midnight is drawn
    t_last = fig.axes[0].get_lines()[0].full_t[-1]
    assert t_last >= np.datetime64("2026-01-21T00:59", "ns").astype(np.int64)


def test_accessor_quicklook_delegates(synthetic_archive):
    ds = load_cdf(synthetic_file(synthetic_archive, "imap_swe_l2_sci_20260120_v001.0001.cdf"))
    fig = ds.imap.quicklook(variables=["phase_space_density"])
    assert colorbar_of(fig.axes[0]).get_ylabel().startswith("Phase Space Density")


def test_newest_per_day_keeps_the_highest_version():
    frame = pd.DataFrame({
        "file_path": ["a1", "a2", "a3", "b1"], "instrument": "mag", "data_level": "l2", "descriptor": "norm-gse",
        "start_date": ["20260120"] * 3 + ["20260121"], "repointing": None,
        "major_version": [1, 1, 2, 1], "minor_version": [1, 2, 1, 1],
    })
    assert ql._newest_per_day(frame)["file_path"].tolist() == ["a3", "b1"]


@pytest.fixture(scope="module")
def local_sdc(synthetic_archive):
    from imap_explorer.server import LocalSDC

    with LocalSDC(synthetic_archive) as sdc:
        yield sdc


def test_cli_quicklook_end_to_end(local_sdc, tmp_path, capsys):
    from imap_explorer.cli import main

    out = tmp_path / "plots" / "mag.png"
    code = main(["--url", local_sdc.url, "quicklook", "--instrument", "mag", "--data-level", "l2",
                 "--descriptor", "norm-gse", "--start-date", "20260120", "--end-date", "20260120", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip() == f"Saved quick-look plot to {out.resolve()}"
    image = plt.imread(out)
    assert image.shape[1] == 1200  # 10 in at 120 dpi
    assert len(np.unique((image[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
    # downloaded into the data directory in the SDC layout, newest version of the day only
    downloaded = sorted(p.name for p in (tmp_path / "data").rglob("*.cdf"))
    assert downloaded == ["imap_mag_l2_norm-gse_20260120_v002.0001.cdf"]


class _FailsWhenDrawn(Artist):
    def draw(self, renderer):
        raise RuntimeError("drawing failed half-way")


def test_save_figure_never_leaves_a_partial_image_under_the_final_name(tmp_path):
    out = tmp_path / "plot.png"
    fig = ql.quicklook(mag_dataset(n=200))
    assert ql.save_figure(fig, out) == out
    before = out.read_bytes()
    assert before.startswith(b"\x89PNG")
    fig.axes[0].add_artist(_FailsWhenDrawn())
    with pytest.raises(RuntimeError, match="half-way"):
        ql.save_figure(fig, out)
    assert out.read_bytes() == before  # the earlier image is kept whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png"]  # no part file left behind
    fig.axes[0].artists[-1].remove()
    assert ql.save_figure(fig, tmp_path / "plot.svg").read_bytes().startswith(b"<?xml")  # type from the suffix
    plt.close(fig)


def test_cli_quicklook_stacks_products_and_reports_no_match(local_sdc, tmp_path, capsys):
    from imap_explorer.cli import main

    out = tmp_path / "swe.png"
    assert main(["--url", local_sdc.url, "quicklook", "--instrument", "swe", "--data-level", "l2",
                 "--start-date", "20260121", "--variables", "flux", "flux:inst_el", "-o", str(out)]) == 0
    assert out.is_file()
    capsys.readouterr()
    code = main(["--url", local_sdc.url, "quicklook", "--instrument", "mag", "--data-level", "l2",
                 "--descriptor", "norm-gse", "--start-date", "20300101", "-o", str(tmp_path / "none.png")])
    err = capsys.readouterr().err
    assert code == 1
    assert "No science CDF file matches" in err
    assert "start_date='20300101'" in err
    assert not (tmp_path / "none.png").exists()


def test_quicklook_of_a_query_table_downloads_and_loads_each_product(local_sdc, tmp_path):
    import imap_explorer as ie

    with ie.set_options(url=local_sdc.url, data_dir=tmp_path / "archive"):
        mag = ie.query(instrument="mag", data_level="l2", descriptor="norm-gsm", start_date="20260120",
                       end_date="20260121", version="latest")
        swe = ie.query(instrument="swe", data_level="l2", start_date="20260121", end_date="20260121",
                       version="latest")
        fig = ql.quicklook(pd.concat([mag, swe], ignore_index=True))
    assert [a.get_ylabel() for a in fig.axes] == ["|B| [nT]", "B GSM [nT]", "Energy [eV]"]
    assert fig.get_suptitle().startswith("imap_mag_l2_norm-gsm v001.0001 | imap_swe_l2_sci v001.0001\n")
    assert len(list((tmp_path / "archive").rglob("*.cdf"))) == 3
    with pytest.raises(ValueError, match="The file table is empty"):
        ql.quicklook(mag.iloc[0:0])


def test_cli_quicklook_time_axis_follows_the_records(local_sdc, tmp_path, monkeypatch, capsys):
    from matplotlib.figure import Figure

    from imap_explorer.cli import main

    saved = []
    original = Figure.savefig

    def keep(self, *args, **kwargs):  # record the figure the command saves, then save it for real
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    out = tmp_path / "burst.png"
    assert main(["--url", local_sdc.url, "quicklook", "--instrument", "mag", "--data-level", "l2",
                 "--descriptor", "burst-gse", "--start-date", "20260120", "--end-date", "20260120",
                 "-o", str(out)]) == 0
    assert out.is_file()
    (fig,) = saved
    lo, hi = (np.datetime64(round((x - _decimate.ns_to_num(0)) * 86_400e9), "ns") for x in fig.axes[0].get_xlim())
    assert abs(lo - np.datetime64("2026-01-20T11:30")) < np.timedelta64(1, "s")  # the burst hour, not the day
    assert abs(hi - np.datetime64("2026-01-20T12:30")) < np.timedelta64(1, "s")
    assert legend_texts(fig.axes[1])[:3] == ["B_x GSE", "B_y GSE", "B_z GSE"]


@pytest.fixture
def ipympl_backend():
    """ipympl's Figure-manager factory; importing ipympl switches pyplot's backend, so switch it back."""
    backend = matplotlib.get_backend()
    try:
        from ipympl.backend_nbagg import _Backend_ipympl

        yield _Backend_ipympl
    finally:
        plt.switch_backend(backend)
        assert matplotlib.get_backend().lower() == backend.lower()


@pytest.mark.filterwarnings("ignore::DeprecationWarning:traitlets")  # ipympl's Toolbar init, not ours
def test_minmax_line_redecimates_after_an_ipympl_toolbar_zoom(ipympl_backend):
    """Drag a zoom rectangle with the ipympl widget's toolbar: the line is re-decimated for the new view."""
    from matplotlib.backend_bases import MouseButton, MouseEvent
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), dpi=100)
    ipympl_backend.new_figure_manager_given_figure(1, fig)  # the ipympl Canvas widget and its Toolbar
    canvas = fig.canvas
    ax = fig.subplots()
    n = 1_000_000
    t = DAY + np.arange(n) * np.timedelta64(10, "ms")
    line = _decimate.add_minmax_line(ax, t, np.sin(np.arange(n) / 3000.0))
    ax.set_xlim(t[0], t[-1])
    canvas.draw()
    step_before = np.nanmedian(np.diff(line.get_xdata()))
    canvas.toolbar.zoom()
    box = ax.bbox
    x0, x1 = box.x0 + 0.40 * box.width, box.x0 + 0.45 * box.width
    y0, y1 = box.y0 + 0.05 * box.height, box.y0 + 0.95 * box.height
    MouseEvent("button_press_event", canvas, x0, y0, MouseButton.LEFT)._process()
    MouseEvent("motion_notify_event", canvas, x1, y1, buttons={MouseButton.LEFT})._process()
    MouseEvent("button_release_event", canvas, x1, y1, MouseButton.LEFT)._process()
    lo, hi = ax.get_xlim()
    assert hi - lo < 0.1 * (_decimate.ns_to_num(t[-1].view(np.int64)) - _decimate.ns_to_num(t[0].view(np.int64)))
    assert line.stale  # the xlim_changed callback invalidated the decimation
    canvas.draw()
    x = line.get_xdata()
    inside = x[(x >= lo) & (x <= hi)]
    assert inside.size > 1000
    assert np.nanmedian(np.diff(inside)) < step_before / 10


@pytest.mark.filterwarnings("ignore::DeprecationWarning:traitlets")  # ipympl's Toolbar init, not ours
def test_spectrogram_rebuilt_after_an_ipympl_toolbar_zoom(ipympl_backend):
    """Drag a zoom rectangle over a week of SWE in the ipympl widget: the records in view are drawn one by one."""
    from matplotlib.backend_bases import MouseButton, MouseEvent
    from matplotlib.figure import Figure

    ds, per_record = swe_days_dataset("l2")
    t = ds.epoch.values
    fig = Figure(figsize=(6, 3), dpi=100)
    ipympl_backend.new_figure_manager_given_figure(1, fig)
    canvas = fig.canvas
    ax = fig.subplots()
    ql.quicklook(ds, ax=ax)
    canvas.draw()
    first = the_mesh(ax)
    canvas.toolbar.zoom()
    box = ax.bbox
    x0, x1 = box.x0 + 0.40 * box.width, box.x0 + 0.42 * box.width  # ~3.4 h of the week
    y0, y1 = box.y0 + 0.05 * box.height, box.y0 + 0.95 * box.height
    MouseEvent("button_press_event", canvas, x0, y0, MouseButton.LEFT)._process()
    MouseEvent("motion_notify_event", canvas, x1, y1, buttons={MouseButton.LEFT})._process()
    MouseEvent("button_release_event", canvas, x1, y1, MouseButton.LEFT)._process()
    canvas.draw()
    lo, hi = ax.get_xlim()
    mesh = the_mesh(ax)
    assert mesh is not first
    assert mesh.norm is first.norm
    counts = check_columns(mesh, t, per_record)
    assert counts.tolist() == [1] * counts.size
    times = _decimate.ns_to_num(t.view(np.int64))
    assert counts.size == np.count_nonzero((times >= lo) & (times <= hi)) + 2  # in view, plus one each side
