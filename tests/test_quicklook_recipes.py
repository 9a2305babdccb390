"""Quick-look recipes for every instrument: plans from small Datasets, and every real file drawn as it should be."""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

import imap_explorer as ie  # noqa: E402
from imap_explorer import plot as ql  # noqa: E402
from imap_explorer.plot import recipes  # noqa: E402
from imap_explorer.plot.healpix import ang2pix_ring, nside_of  # noqa: E402
from imap_explorer.plot.views import _display_x  # noqa: E402
from tests.conftest import REAL, requires_real  # noqa: E402

T0 = np.datetime64("2025-10-15T00:00:00", "ns")


# --------------------------------------------------------------------------- small datasets
def ena_map_dataset(n_energy=3, *, descriptor="h45-ena-h-hf-nsp-ram-hae-6deg-6mo"):
    lon = np.arange(3.0, 360.0, 6.0)
    lat = np.arange(-87.0, 90.0, 6.0)
    energy = np.geomspace(0.5, 10.0, n_energy)
    rng = np.random.default_rng(0)
    intensity = rng.uniform(1.0, 100.0, (1, n_energy, lon.size, lat.size))
    exposure = np.full_like(intensity, 300.0)
    exposure[..., :10, :] = 0.0  # unseen sky: zeros there are not data
    units = "cm -2 s -1 sr -1 keV -1"
    return xr.Dataset(
        {"ena_intensity": (("epoch", "energy", "longitude", "latitude"), intensity,
                           {"UNITS": units, "DISPLAY_TYPE": "map_image", "VAR_TYPE": "data"}),
         "ena_intensity_stat_uncert": (("epoch", "energy", "longitude", "latitude"), intensity * 0.1,
                                       {"UNITS": units, "VAR_TYPE": "support_data"}),
         "exposure_factor": (("epoch", "energy", "longitude", "latitude"), exposure,
                             {"UNITS": "s", "DISPLAY_TYPE": "no_plot", "VAR_TYPE": "data"})},
        coords={"epoch": [T0], "energy": ("energy", energy, {"UNITS": "keV"}),
                "longitude": ("longitude", lon, {"UNITS": "degrees"}),
                "latitude": ("latitude", lat, {"UNITS": "degrees"})},
        attrs={"Logical_source": f"imap_hi_l2_{descriptor}",
               "Logical_file_id": f"imap_hi_l2_{descriptor}_20251015_v001"})


def healpix_pset(nside=4, n_energy=6):
    npix = 12 * nside * nside
    counts = np.zeros((1, n_energy, npix))
    counts[0, :, :npix // 2] = 2.0  # the northern half saw counts
    return xr.Dataset(
        {"counts": (("epoch", "energy_bin_geometric_mean", "pixel_index"), counts, {"UNITS": "counts"}),
         "exposure_factor": (("epoch", "energy_bin_geometric_mean", "pixel_index"), counts + 1.0,
                             {"UNITS": "seconds"})},
        coords={"epoch": [T0], "energy_bin_geometric_mean": np.geomspace(3.0, 300.0, n_energy),
                "pixel_index": np.arange(npix)},
        attrs={"Logical_source": "imap_ultra_l1c_45sensor-heliopset"})


def render(fig) -> np.ndarray:
    """The figure's pixels (RGB in 0..1) at 50 dpi, without encoding a PNG."""
    fig.set_dpi(50)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255.0
    plt.close(fig)
    return image


# --------------------------------------------------------------------------- registry
def test_a_user_recipe_replaces_the_built_in_one_for_its_products_only():
    ds = ena_map_dataset()

    @ql.register_recipe(instrument="hi", data_level="l2", descriptor="h45-*")
    def mine(ds, **options):
        return ql.Plan("mine", [ql.View("profile", "energy")], time_axis=False)

    try:
        assert ql.choose_recipe(ds) is mine
        assert ql.make_plan(ds).recipe == "mine"
        other = ena_map_dataset(descriptor="h90-ena-h-hf-nsp-ram-hae-6deg-6mo")
        assert ql.choose_recipe(other) is recipes.ena_map
    finally:
        ql.unregister_recipe(mine)
    assert ql.choose_recipe(ds) is recipes.ena_map


def test_the_fallback_follows_istp_hints_and_the_number_of_records():
    t = T0 + np.arange(5) * np.timedelta64(1, "m")
    series = xr.Dataset({"rate": ("epoch", np.arange(5.0), {"VAR_TYPE": "data", "DISPLAY_TYPE": "time_series"})},
                        coords={"epoch": t}, attrs={"Logical_source": "imap_newinst_l1b_hk"})
    assert ql.choose_recipe(series) is recipes.time_series
    one = xr.Dataset({"profile": (("epoch", "bin"), np.arange(8.0)[None], {"VAR_TYPE": "data"})},
                     coords={"epoch": t[:1], "bin": np.arange(8)}, attrs={"Logical_source": "imap_newinst_l2_x"})
    plan = ql.make_plan(one)
    assert (plan.recipe, plan.kinds, plan.time_axis) == ("one_record", ["profile"], False)
    hinted = ena_map_dataset().assign_attrs(Logical_source="imap_newinst_l2_map")
    assert ql.choose_recipe(hinted) is recipes.ena_map


def test_a_product_with_nothing_to_plot_is_named_with_what_it_holds():
    ds = xr.Dataset({"cr": ("epoch", [2304.0]), "label": ("epoch", ["a"])}, coords={"epoch": [T0]},
                    attrs={"Logical_source": "imap_glows_l3x_nothing"})
    with pytest.raises(ValueError, match=r"Nothing to plot in imap_glows_l3x_nothing.*cr\('epoch',\)"):
        ql.quicklook(ds)


def test_normalise_layout_names_the_time_dimension_and_anonymous_dimensions():
    t = T0 + np.arange(3) * np.timedelta64(1, "m")
    ds = xr.Dataset({"b": (("Epoch", "axis"), np.zeros((3, 2)), {"DEPEND_0": "Epoch"}),
                     "rates": (("rates_dim1", "step"), np.ones((3, 4))),
                     "grid": (("grid_dim1", "grid_dim2"), np.ones((1, 4)), {"DEPEND_1": "step"})},
                    coords={"Epoch": t, "step": np.arange(4)})
    out = ql.normalise_layout(ds)
    assert out["b"].dims == ("epoch", "axis")
    assert out["rates"].dims == ("epoch", "step")
    assert out["grid"].dims[1] == "step"


# --------------------------------------------------------------------------- sky maps
def test_ena_map_plans_a_log_sky_map_per_energy_titled_from_the_descriptor():
    ds = ena_map_dataset(n_energy=9)
    plan = ql.make_plan(ds)
    assert plan.kinds == ["sky_map"] * recipes.MAX_MAP_PANELS
    assert plan.time_axis is False
    assert all(v.log and v.mask == "exposure_factor" and v.projection == "mollweide" for v in plan.panels)
    assert plan.title == "Hi45 H ENA, helio frame, no survival corr., ram, HAE 6°, 6 mo"
    one = ql.make_plan(ds, energy=2.0, center="nose", companion="uncertainty")
    assert [v.variable for v in one.panels] == ["ena_intensity", "ena_intensity_stat_uncert"]
    energies = ds["energy"].values
    assert dict(one.panels[0].select)["energy"] == int(np.argmin(np.abs(energies - 2.0)))
    assert one.panels[0].center == recipes.NOSE_LONGITUDE
    assert [v.log for v in ql.make_plan(ds, energy=2.0, companion="exposure").panels] == [True, False]
    with pytest.raises(ValueError, match="center='moon'"):
        ql.make_plan(ds, center="moon")


def test_sky_maps_are_drawn_on_mollweide_axes_longitude_to_the_left_unseen_sky_empty():
    assert _display_x(np.array([90.0]), 0.0)[0] < 0 < _display_x(np.array([270.0]), 0.0)[0]
    assert _display_x(np.array([recipes.NOSE_LONGITUDE]), recipes.NOSE_LONGITUDE)[0] == 0
    fig = ql.quicklook(ena_map_dataset(), pyplot=False)
    maps = [a for a in fig.axes if a.name == "mollweide"]
    assert len(maps) == 3
    mesh = maps[0].collections[0]
    values = np.ma.filled(mesh.get_array().astype(float), np.nan)
    assert np.isnan(values).sum() == 10 * 30  # the 10 longitudes never exposed are not drawn
    assert np.isfinite(values).sum() == 50 * 30
    assert "0.5 keV" in maps[0].get_title()
    assert "Hi45 H ENA" in fig.get_suptitle()


def test_healpix_ring_pixels_match_the_scheme():
    assert nside_of(12 * 16 * 16) == 16
    assert nside_of(1000) is None
    # nside 1: four pixels around each pole, four on the equator at 0, 90, 180, 270 degrees
    lon = np.array([45.0, 135.0, 0.0, 90.0, 315.0])
    assert ang2pix_ring(1, lon, np.array([41.8, 41.8, 0.0, 0.0, -41.8])).tolist() == [0, 1, 4, 5, 11]


def test_a_healpix_pset_is_mapped_in_bands_of_energy_and_fast_to_plan():
    ds = healpix_pset()
    plan = ql.make_plan(ds)
    assert plan.recipe == "ultra_pset"
    assert plan.kinds == ["sky_map"] * 4
    assert plan.panels[0].reduce == "sum"
    fig = ql.quicklook(ds, pyplot=False)
    values = fig.axes[0].collections[0].get_array()
    assert np.nanmax(values) == 2.0 * 6  # counts summed over every energy
    render(fig)


# --------------------------------------------------------------------------- other recipes
def test_swapi_moment_fits_that_failed_are_gaps():
    from imap_explorer.plot.render import _below_floor_as_gaps

    t = T0 + np.arange(6) * np.timedelta64(1, "m")
    temperature = np.array([1e4, 1.2e4, 4e-7, 1.1e4, 1e-6, 9e3], np.float32)
    ds = xr.Dataset({"proton_sw_temperature": ("epoch", temperature, {"UNITS": "K", "VAR_TYPE": "data"}),
                     "proton_sw_speed": ("epoch", np.full(6, 500.0, np.float32), {"VAR_TYPE": "data"})},
                    coords={"epoch": t}, attrs={"Logical_source": "imap_swapi_l3a_proton-sw"})
    plan = ql.make_plan(ds)
    panel = next(p for p in plan.panels if p.variable == "proton_sw_temperature")
    assert panel.log
    assert panel.floor is not None
    drawn = _below_floor_as_gaps(temperature.astype(float), panel.floor)
    assert np.isnan(drawn).tolist() == [False, False, True, False, True, False]


def test_hit_cycles_of_ten_records_fill_every_energy_bin():
    t = T0 + np.arange(40) * np.timedelta64(60, "s")
    data = np.full((40, 3, 2, 2), np.nan)
    for i in range(40):
        if i % 10 < 3:
            data[i, i % 10] = 1.0 + i % 10
    ds = xr.Dataset(
        {"h_macropixel_intensity": (("epoch", "h_energy_mean", "azimuth", "zenith"), data, {"UNITS": "1/(cm^2 s sr)"}),
         "h_energy_delta_minus": ("h_energy_mean", np.array([0.9, 1.0, 2.0], np.float32)),
         "h_energy_delta_plus": ("h_energy_mean", np.array([0.9, 1.0, 2.0], np.float32))},
        coords={"epoch": t, "h_energy_mean": ("h_energy_mean", [2.7, 5.0, 8.0], {"UNITS": "MeV/nuc"})},
        attrs={"Logical_source": "imap_hit_l2_macropixel-intensity"})
    plan = ql.make_plan(ds)
    assert plan.kinds == ["spectrogram"]
    assert plan.panels[0].block == 10
    fig = ql.quicklook(ds, pyplot=False)
    mesh = fig.axes[0].collections[0]
    z = np.ma.filled(mesh.get_array().astype(float), np.nan).reshape(-1, 4)  # rows: 3 bins + the 3.6-4 gap
    assert np.isfinite(z[[0, 2, 3]]).all()
    assert np.isnan(z[1]).all()
    assert fig.axes[0].get_ylim()[0] == pytest.approx(1.8, rel=0.01)
    plt.close(fig)


def test_idex_shows_event_times_and_a_waveform_on_request():
    t = T0 + np.array([0, 13, 26], "timedelta64[s]")
    wave = np.full((3, 50), 512.0)
    wave[1, 20:] += 300
    ds = xr.Dataset({"Target_Low": (("epoch", "time_low_sample_rate_index"), wave, {"UNITS": "dN"}),
                     "time_low_sample_rate": (("epoch", "time_low_sample_rate_index"),
                                              np.tile(np.linspace(-10, 10, 50), (3, 1)), {"UNITS": "microseconds"})},
                    coords={"epoch": t}, attrs={"Logical_source": "imap_idex_l1a_sci-1week"})
    assert ql.make_plan(ds).kinds == ["lines"]
    plan = ql.make_plan(ds, event=1)
    assert (plan.kinds, plan.time_axis) == (["profile"], False)
    fig = ql.quicklook(ds, event=1, pyplot=False)
    assert fig.axes[0].lines[0].get_ydata().max() == 812.0
    assert "2025-10-15 00:00:13 UTC" in fig.get_suptitle()  # the event's time, not the file's span
    plt.close(fig)
    with pytest.raises(ValueError, match="holds 3 events"):
        ql.make_plan(ds, event=5)


def test_a_stacked_overview_skips_products_without_a_time_axis_and_says_so():
    t = T0 + np.arange(100) * np.timedelta64(500, "ms")
    mag = xr.Dataset({"b_gse": (("epoch", "direction"), np.ones((100, 3), np.float32))}, coords={"epoch": t},
                     attrs={"Logical_source": "imap_mag_l2_norm-gse"})
    with pytest.warns(UserWarning, match=r"Skipped imap_hi_l2_h45-ena.*\(ena_map\): no time axis"):
        fig = ql.quicklook([mag, ena_map_dataset()], pyplot=False)
    assert [a.get_ylabel() for a in fig.axes if a.get_label() != "<colorbar>"] == ["|B| [nT]", "B GSE [nT]"]
    with pytest.raises(ValueError, match="cannot share one figure"):
        ql.quicklook([ena_map_dataset(), healpix_pset()], pyplot=False)


# --------------------------------------------------------------------------- every real file
EXPECTED = [  # file-name pattern, recipe, panel kinds (as a set)
    (r"codice_l1a_lo-sw-priority", "codice_priority", {"spectrogram"}),
    (r"codice_l2_hi-sectored", "codice_hi_sectored", {"spectrogram"}),
    (r"codice_l2_hi-direct-events", "codice_direct_events", {"histogram"}),
    (r"codice_l2_lo-sw-species", "codice_species", {"spectrogram"}),
    (r"codice_l3a_lo-direct-events", "codice_direct_events", {"histogram"}),
    (r"glows_l2_hist|glows_l3a_hist", "glows_lightcurve", {"profile", "sky_map"}),
    (r"glows_l3[bc]_", "glows_profiles", {"profile"}),
    (r"glows_l3d_", "glows_solar_history", {"spectrogram", "lines"}),
    (r"glows_l3e_survival-probability-hi", "glows_survival", {"image"}),
    (r"glows_l3e_survival-probability-ul", "glows_survival", {"sky_map"}),
    (r"hi_l1c_", "hi_pset", {"image", "sky_map"}),
    (r"(hi|lo|ultra)_l[23]_", "ena_map", {"sky_map"}),
    (r"hit_l2_", "hit_intensity", {"spectrogram"}),
    (r"idex_l1a_", "idex_events", {"lines"}),
    (r"lo_l1b_histrates", "lo_histrates", {"spectrogram"}),
    (r"lo_l1c_pset", "lo_pset", {"image"}),
    (r"mag_", "time_series", {"lines"}),
    (r"swapi_l2_", "swapi_rates", {"spectrogram"}),
    (r"swapi_l3a_", "swapi_moments", {"lines"}),
    (r"swe_l1a_", "time_series", {"lines"}),
    (r"swe_l1b_|swe_l2_", "time_series", {"spectrogram"}),
    (r"ultra_l1c_", "ultra_pset", {"sky_map"}),
]
REAL_FILES = sorted(REAL.glob("imap/*/*/*/*/*.cdf")) if REAL.is_dir() else []


@requires_real
def test_every_real_file_has_an_expectation():
    assert len(REAL_FILES) >= 36
    for path in REAL_FILES:
        assert any(re.search(p, path.name) for p, _, _ in EXPECTED), path.name


@requires_real
@pytest.mark.parametrize("path", REAL_FILES, ids=[p.name[5:-4] for p in REAL_FILES])
def test_every_real_file_gets_its_recipe_and_a_figure_that_shows_data(path):
    pattern, recipe, kinds = next(e for e in EXPECTED if re.search(e[0], path.name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = ie.load(path)
        plan = ql.make_plan(ql.normalise_layout(ds))
        assert plan.recipe == recipe
        assert set(plan.kinds) == kinds
        fig = ql.quicklook(ds, pyplot=False)
    one_record = ql.normalise_layout(ds).sizes.get("epoch", 1) <= 1
    if one_record:  # never a time x axis
        assert not plan.time_axis
    maps = [v for v in plan.panels if getattr(v, "kind", "") == "sky_map"]
    assert len([a for a in fig.axes if a.name == "mollweide"]) == len(maps)
    for a in fig.axes:  # no colour panel is all-NaN
        for artist in a.collections:
            values = artist.get_array()
            if values is not None and a.get_label() != "<colorbar>":
                assert np.isfinite(np.ma.filled(np.asarray(values, dtype=float), np.nan)).any(), a.get_title()
    image = render(fig)[..., :3]
    assert image.std() > 0.05  # not blank
    assert len(np.unique((image * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 20


# --------------------------------------------------------------------------- the Explorer over real files
@requires_real
def test_explorer_shows_the_repointing_and_draws_the_instrument_recipe(tmp_path):
    import datetime as dt

    from imap_explorer.server import LocalSDC
    from imap_explorer.widgets import Explorer

    with LocalSDC(REAL, db=tmp_path / "index.sqlite3") as sdc:
        explorer = Explorer(url=sdc.url, background=False)
        explorer._repr_mimebundle_()
        explorer.wait(60)
        explorer._instrument.value = "glows"
        explorer._data_level.value = "l3a"
        explorer._descriptor.value = "hist"
        explorer._start_date.value = explorer._end_date.value = dt.date(2025, 11, 13)
        explorer._search.click()
        assert explorer.error == ""
        (label, name), = explorer._results.options
        assert "repoint" in explorer._header.value
        assert label.replace("\u00a0", " ").split()[1:5] == ["l3a", "hist", "2025-11-13", "47"]
        explorer._results.value = (name,)
        explorer._quicklook.click()
        assert explorer.error == ""
        assert [a.name for a in explorer.figure.axes if a.get_label() != "<colorbar>"][:2] == ["rectilinear",
                                                                                             "mollweide"]
        # a product without repointing keeps the column hidden
        explorer._instrument.value = "swapi"
        explorer._data_level.value = "l3a"
        explorer._descriptor.value = "proton-sw"
        explorer._start_date.value = explorer._end_date.value = dt.date(2026, 1, 20)
        explorer._search.click()
        assert explorer.error == ""
        assert "repoint" not in explorer._header.value


@requires_real
def test_cli_quicklook_stacks_instruments_and_draws_a_map(tmp_path, capsys):
    from imap_explorer.cli import main
    from imap_explorer.server import LocalSDC

    with LocalSDC(REAL, db=tmp_path / "index.sqlite3") as sdc:
        out = tmp_path / "stack.png"
        code = main(["--url", sdc.url, "quicklook", "--instrument", "mag,swapi", "--start-date", "20260120",
                     "--end-date", "20260120", "-o", str(out)])
        assert code == 0, capsys.readouterr().err
        # MAG L2 (|B|, B) and SWAPI L3a v004 (speed, density, temperature, two V RTN): 7 panels of 2 in, 120 dpi
        assert plt.imread(out).shape[:2] == ((1 + 2 * 7) * 120, 1200)
        out = tmp_path / "map.png"
        code = main(["--url", sdc.url, "quicklook", "--instrument", "ultra", "--data-level", "l2",
                     "--start-date", "20250416", "--energy", "20", "--center", "nose", "-o", str(out)])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        image = plt.imread(out)
        assert image.shape[1] == 960  # one 8 in map at 120 dpi
        assert len(np.unique((image[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
