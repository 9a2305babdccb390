"""The synthetic products of SWAPI, CoDICE, HIT, IDEX, GLOWS, Hi, Lo and Ultra.

* structure: each product against the real file of the same product in ../shared/data/real (same variables,
  CDF types, dimensions, record variance, compression, attributes and global attribute names; values aside);
* physics: one story with MAG and SWE (SWAPI speed = SWE's bulk speed, the HIT event peaks at the shock,
  CoDICE charge states change across it) and ENA maps that look like ENA maps;
* use: every product loads with ``ie.load`` and cdflib, the embedded SDC indexes and serves it, and the
  official imap-data-access client queries (``repointing`` too) and downloads it.

One module-scoped archive of two days of the eight instruments (plus SWE for the speed comparison).
"""

from __future__ import annotations

import re
from pathlib import Path

import cdflib
import imap_data_access
import numpy as np
import pytest

import imap_explorer as ie
from imap_explorer.filenames import sdc_key
from imap_explorer.synthetic import make_archive
from imap_explorer.synthetic._spec import extract_spec, load_spec
from imap_explorer.synthetic.ena import NOSE, RIBBON_CENTRE, RIBBON_RADIUS, healpix_centres, unit
from imap_explorer.synthetic.repoint import repointing_number
from tests.conftest import REAL, requires_real

START = "2026-01-20"
SHOCK = np.datetime64("2026-01-20T12:00")
NEW = ("swapi", "codice", "hit", "idex", "glows", "hi", "lo", "ultra")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    make_archive(root, start=START, days=2, seed=3, instruments=(*NEW, "swe"))
    return root


def _one(root: Path, pattern: str) -> Path:
    found = [p for p in root.rglob("*.cdf") if re.fullmatch(pattern, p.name)]
    assert len(found) == 1, (pattern, [p.name for p in found])
    return found[0]


# ---------------------------------------------------------------------------------------------- structure
#: synthetic file name pattern -> the real file of the same product (under ../shared/data/real/imap)
PAIRS = {
    r"imap_swapi_l2_sci_20260120_v001\.cdf": "swapi/l2/2010/01/imap_swapi_l2_sci-1min_20100101_v001.cdf",
    r"imap_swapi_l3a_proton-sw_20260120_v001\.cdf": "swapi/l3a/2026/01/imap_swapi_l3a_proton-sw_20260120_v004.cdf",
    r"imap_swapi_l3a_alpha-sw_20260120_v001\.cdf": "swapi/l3a/2025/10/imap_swapi_l3a_alpha-sw_20251023_v999.cdf",
    r"imap_codice_l2_lo-sw-species_20260120_v001\.cdf":
        "codice/l2/2026/03/imap_codice_l2_lo-sw-species_20260301_v001.cdf",
    r"imap_codice_l2_hi-sectored_20260120_v001\.cdf": "codice/l2/2025/12/imap_codice_l2_hi-sectored_20251206_v002.cdf",
    r"imap_hit_l2_macropixel-intensity_20260120_v001\.cdf":
        "hit/l2/2026/02/imap_hit_l2_macropixel-intensity_20260228_v002.cdf",
    r"imap_idex_l1a_sci-1week_20260120_v001\.cdf": "idex/l1a/2025/10/imap_idex_l1a_sci-1week_20251017_v001.cdf",
    r"imap_glows_l3a_hist_20260120-repoint00132_v001\.cdf":
        "glows/l3a/2025/11/imap_glows_l3a_hist_20251113-repoint00047_v001.cdf",
    r"imap_glows_l3e_survival-probability-hi-45_20260120-repoint00132_v001\.cdf":
        "glows/l3e/2025/11/imap_glows_l3e_survival-probability-hi-45_20251102-repoint00036_v001.0000.cdf",
    r"imap_hi_l1c_45sensor-pset_20260120-repoint00132_v001\.cdf":
        "hi/l1c/2025/10/imap_hi_l1c_45sensor-pset_20251015-repoint01183_v971.cdf",
    r"imap_hi_l2_h90-ena-h-hf-nsp-full-hae-4deg-6mo_20260120_v001\.cdf":
        "hi/l2/2025/10/imap_hi_l2_h45-ena-h-hf-nsp-ram-hae-4deg-6mo_20251015_v000.cdf",
    r"imap_lo_l1c_pset_20260120-repoint00132_v001\.cdf": "lo/l1c/2025/04/imap_lo_l1c_pset_20250415_v002.cdf",
    r"imap_lo_l2_l090-ena-h-sf-nsp-ram-hae-6deg-1yr_20260120_v001\.cdf":
        "lo/l2/2025/04/imap_lo_l2_l090-ena-h-sf-nsp-ram-hae-6deg-1yr_20250415_v000.cdf",
    r"imap_ultra_l1c_45sensor-heliopset_20260120-repoint00132_v001\.cdf":
        "ultra/l1c/2025/10/imap_ultra_l1c_45sensor-heliopset_20251017-repoint00184_v000.cdf",
    r"imap_ultra_l2_u45-ena-h-hf-nsp-full-hae-6deg-3mo_20260120_v001\.cdf":
        "ultra/l2/2025/04/imap_ultra_l2_u45-ena-h-hf-nsp-full-hae-6deg-3mo_20250416_v001.cdf",
}
#: attributes whose values name this file or its inputs (they differ by design)
_IDENTITY = {"Logical_source", "Logical_file_id", "Data_version", "Start_date", "Repointing", "Generation_date",
             "Parents", "ground_software_version", "Data_type", "Mapper_tool_configuration", "Spacing_degrees",
             "Logical_source_description"}


def _structure(spec: dict) -> dict:
    """What must match: per variable its CDF type, element count, dims, record variance, GZIP level and typed
    attributes; the majority and the global attribute names (with their values apart from the file's identity)."""
    return {
        "majority": spec["majority"],
        "globals": {k: (None if k in _IDENTITY else v) for k, v in spec["globals"].items()},
        "variables": {v["name"]: {**{k: v[k] for k in ("cdf_type", "dims", "record_varying", "compress")},
                                  "num_elements": v["num_elements"] if v["cdf_type"] != "CDF_CHAR" else None,
                                  "attrs": v["attrs"]} for v in spec["variables"]},
    }


@requires_real
@pytest.mark.parametrize(("pattern", "real"), sorted(PAIRS.items()))
def test_synthetic_product_has_the_structure_of_the_real_file(fleet, pattern, real):
    real_path = REAL / "imap" / real
    if not real_path.is_file():
        pytest.skip(f"{real} not in ../shared/data/real")
    want = _structure(extract_spec(real_path))
    got = _structure(extract_spec(_one(fleet, pattern)))
    assert got["majority"] == want["majority"]
    assert got["globals"].keys() == want["globals"].keys()
    assert got["globals"] == want["globals"]
    assert list(got["variables"]) == list(want["variables"])
    for name, var in want["variables"].items():
        assert got["variables"][name] == var, name


def test_synthetic_products_use_their_stored_spec(fleet):
    """Without the real files: each product file has exactly the variables and CDF types of its stored spec."""
    for pattern, spec in ((r"imap_hit_l2_.*20260121.*", "hit_l2_macropixel-intensity"),
                          (r"imap_ultra_l1c_.*repoint00133.*", "ultra_l1c_45sensor-heliopset"),
                          (r"imap_lo_l2_.*", "lo_l2_map")):
        got = _structure(extract_spec(_one(fleet, pattern)))["variables"]
        want = _structure(load_spec(spec))["variables"]
        assert {k: v["cdf_type"] for k, v in got.items()} == {k: v["cdf_type"] for k, v in want.items()}


def test_hi_6deg_map_is_the_4deg_layout_on_a_6deg_grid(fleet):
    ds = ie.load(_one(fleet, r"imap_hi_l2_h90-.*-6deg-6mo_.*"))
    assert ds.sizes["longitude"] == 60
    assert ds.sizes["latitude"] == 30
    assert ds["longitude"].values[0] == 3.0
    assert ds["latitude"].values[0] == -87.0
    assert cdflib.CDF(_one(fleet, r"imap_hi_l2_h90-.*-6deg-6mo_.*")).globalattsget()["Spacing_degrees"] == ["6.0"]


# ---------------------------------------------------------------------------------------------- loading
def test_every_new_product_loads_with_ie_load_and_cdflib(fleet):
    paths = sorted(p for p in fleet.rglob("*.cdf") if p.name.split("_")[1] in NEW)
    instruments = {p.name.split("_")[1] for p in paths}
    assert instruments == set(NEW)
    for path in paths:
        cdf = cdflib.CDF(path)
        names = cdf.cdf_info().zVariables
        assert names, path.name
        assert all(cdf.varget(n) is not None for n in names[:3])
        ds = ie.load(path)
        assert ds.data_vars, path.name
        assert np.issubdtype(ds["epoch"].dtype, np.datetime64), path.name


def test_names_carry_the_repointing_of_the_day(fleet):
    psets = sorted(p.name for p in fleet.rglob("*pset*.cdf"))
    assert "imap_lo_l1c_pset_20260121-repoint00133_v001.cdf" in psets
    assert all(re.search(r"_2026012(\d)-repoint0013(\d)_", n) for n in psets)
    assert repointing_number(np.datetime64("2026-01-21")) == 133
    table = next((fleet / "imap/spice/repoint").glob("*.repoint.csv")).read_text().splitlines()
    assert table[0].startswith("repoint_start_sec_sclk,")
    assert table[0].endswith(",repoint_id")
    assert [line.rsplit(",", 1)[1] for line in table[1:]] == ["132", "133"]
    maps = sorted(p.name for p in fleet.rglob("*_l2_*hae*.cdf"))
    assert len(maps) == 4                                       # once per period, not per day
    assert all("_20260120_" in n for n in maps)


# ---------------------------------------------------------------------------------------------- physics
def test_swapi_speed_equals_swe_bulk_speed_within_5_percent(fleet):
    swapi = ie.load(_one(fleet, r"imap_swapi_l3a_proton-sw_20260120_.*"))
    swe = ie.load(_one(fleet, r"imap_swe_l3_sci_20260120_.*"))
    t_swe = swe["epoch"].values
    v_swe = swe["core_speed_fit"].values
    keep = np.isfinite(v_swe) & (np.abs(t_swe - SHOCK) > np.timedelta64(3, "m"))
    sw_t = swapi["epoch"].values.astype(np.int64)
    v_swapi = np.interp(t_swe[keep].astype(np.int64), sw_t, swapi["proton_sw_speed"].values)
    assert keep.sum() > 100
    assert np.all(np.abs(v_swapi / v_swe[keep] - 1) < 0.05)
    v = swapi["proton_sw_speed"]
    before = float(v.sel(epoch=slice("2026-01-20T08:00", "2026-01-20T11:55")).mean())
    after = float(v.sel(epoch=slice("2026-01-20T12:05", "2026-01-20T16:00")).mean())
    assert after - before > 100                                 # the shock
    assert np.isnan(v.sel(epoch=slice("2026-01-20T10:01", "2026-01-20T10:03")).values).all()  # failed fits


def test_hit_intensities_peak_within_an_hour_of_the_shock(fleet):
    ds = ie.load(_one(fleet, r"imap_hit_l2_macropixel-intensity_20260120_.*"))
    for name in ("h_macropixel_intensity", "he4_macropixel_intensity", "fe_macropixel_intensity"):
        omni = ds[name].isel({ds[name].dims[1]: 0}).mean(["azimuth", "zenith"])
        peak = ds["epoch"].values[int(np.nanargmax(omni.values))]
        assert abs(peak - SHOCK) < np.timedelta64(1, "h"), (name, peak)
        quiet = omni.sel(epoch=slice("2026-01-20T00:00", "2026-01-20T03:00"))
        assert float(quiet.max()) < 0.05 * float(omni.max())    # an event rising out of a quiet background


def test_codice_heavy_ion_charge_states_change_across_the_shock(fleet):
    ds = ie.load(_one(fleet, r"imap_codice_l2_lo-sw-species_20260120_.*"))

    def ratio(a: str, b: str, window: slice) -> float:
        sub = ds.sel(epoch=window)
        return float(sub[a].sum()) / float(sub[b].sum())

    up, down = slice("2026-01-20T02:00", "2026-01-20T11:30"), slice("2026-01-20T14:00", "2026-01-20T21:00")
    assert ratio("oplus7", "oplus6", down) > 1.4 * ratio("oplus7", "oplus6", up)
    assert ratio("fe_hiq", "fe_loq", down) > 1.4 * ratio("fe_hiq", "fe_loq", up)
    assert np.isnan(ds["cnoplus"].values).all()
    assert np.isnan(ds["hplus"].values[:, 101:]).all()          # steps 101-127 are always fill, as in flight


def _map(fleet, pattern):
    path = _one(fleet, pattern)
    return ie.load(path), cdflib.CDF(path)


@pytest.mark.parametrize("pattern", [r"imap_hi_l2_.*-4deg-.*", r"imap_hi_l2_.*-6deg-.*", r"imap_lo_l2_.*",
                                     r"imap_ultra_l2_.*"])
def test_map_intensity_is_positive_where_exposed_and_fill_where_not(fleet, pattern):
    ds, cdf = _map(fleet, pattern)
    intensity = ds["ena_intensity"].values
    exposure = ds["exposure_factor"].values
    seen = exposure > 0
    assert seen.any()
    assert (~seen).any()
    assert np.all(np.isfinite(intensity[seen]))
    assert np.all(intensity[seen] > 0)
    assert np.isnan(intensity[~seen]).all()
    raw = np.asarray(cdf.varget("ena_intensity"))
    assert np.all(raw[~seen] == cdf.varattsget("ena_intensity")["FILLVAL"])


def _pixel_angles(ds, lon, lat):
    lo, la = np.meshgrid(ds["longitude"].values, ds["latitude"].values, indexing="ij")
    return np.rad2deg(np.arccos(np.clip(unit(lo, la) @ unit(lon, lat), -1, 1)))


def test_hi_map_shows_the_ribbon_and_a_brighter_nose(fleet):
    ds, _ = _map(fleet, r"imap_hi_l2_.*-4deg-.*")
    sky = ds["ena_intensity"].sel(energy=1.65).isel(epoch=0).values
    from_centre = _pixel_angles(ds, *RIBBON_CENTRE)
    on = np.nanmean(sky[np.abs(from_centre - RIBBON_RADIUS) < 3])
    inside = np.nanmean(sky[(from_centre > 40) & (from_centre < 60)])
    assert on > 1.8 * inside
    from_nose = _pixel_angles(ds, *NOSE)
    off_ribbon = np.abs(from_centre - RIBBON_RADIUS) > 20
    assert np.nanmean(sky[(from_nose < 30) & off_ribbon]) > 2 * np.nanmean(sky[(from_nose > 150) & off_ribbon])


def test_lo_map_shows_the_interstellar_neutral_flow(fleet):
    ds, _ = _map(fleet, r"imap_lo_l2_.*")
    low = ds["ena_intensity"].isel(epoch=0, energy=0)
    peak = low.where(low == low.max(), drop=True)
    assert abs(float(peak["longitude"][0]) - 140) < 12
    assert abs(float(peak["latitude"][0]) - 5) < 10
    assert float(low.max()) > 100 * float(low.median())


def test_ultra_pset_is_on_healpix_nside_32_with_half_the_sky_exposed(fleet):
    ds = ie.load(_one(fleet, r"imap_ultra_l1c_.*repoint00132.*"))
    lon, lat = healpix_centres(32)
    np.testing.assert_allclose(ds["longitude"].values.ravel(), lon)
    np.testing.assert_allclose(ds["latitude"].values.ravel(), lat)
    exposed = (ds["exposure_factor"].isel(epoch=0).values > 0).mean()
    assert 0.4 < exposed < 0.65


# ---------------------------------------------------------------------------------------------- serving
@pytest.fixture(scope="module")
def fleet_sdc(fleet):
    from imap_explorer.server import LocalSDC

    with LocalSDC(fleet, db=":memory:") as server:
        yield server


def test_local_sdc_indexes_every_instrument_with_its_levels_and_descriptors(fleet_sdc):
    with ie.set_options(url=fleet_sdc.url):
        table = ie.query(start_date="20260120", end_date="20260121")
    products = set(zip(table["instrument"], table["data_level"], table["descriptor"], strict=True))
    for product in [("swapi", "l2", "sci"), ("swapi", "l3a", "proton-sw"), ("swapi", "l3a", "alpha-sw"),
                    ("codice", "l2", "lo-sw-species"), ("codice", "l2", "hi-sectored"),
                    ("hit", "l2", "macropixel-intensity"), ("idex", "l1a", "sci-1week"), ("glows", "l3a", "hist"),
                    ("glows", "l3e", "survival-probability-hi-45"), ("hi", "l1c", "45sensor-pset"),
                    ("hi", "l2", "h90-ena-h-hf-nsp-full-hae-4deg-6mo"), ("lo", "l1c", "pset"),
                    ("lo", "l2", "l090-ena-h-sf-nsp-ram-hae-6deg-1yr"), ("ultra", "l1c", "45sensor-heliopset"),
                    ("ultra", "l2", "u45-ena-h-hf-nsp-full-hae-6deg-3mo")]:
        assert product in products, product


def test_official_client_queries_by_repointing_and_downloads(fleet_sdc, tmp_path, monkeypatch):
    monkeypatch.setitem(imap_data_access.config, "DATA_ACCESS_URL", fleet_sdc.url)
    monkeypatch.setitem(imap_data_access.config, "DATA_DIR", tmp_path)
    monkeypatch.setitem(imap_data_access.config, "API_KEY", None)
    monkeypatch.setitem(imap_data_access.config, "ACCESS_TOKEN", None)
    rows = imap_data_access.query(instrument="hi", data_level="l1c", repointing=133)
    assert sorted(r["file_path"].rsplit("/", 1)[1] for r in rows) == [
        "imap_hi_l1c_45sensor-pset_20260121-repoint00133_v001.cdf",
        "imap_hi_l1c_90sensor-pset_20260121-repoint00133_v001.cdf"]
    assert all(r["repointing"] == 133 for r in rows)
    glows = imap_data_access.query(instrument="glows", repointing="repoint00132")
    assert {r["descriptor"] for r in glows} == {"hist", "survival-probability-hi-45"}
    path = imap_data_access.download(rows[0]["file_path"])
    assert path.read_bytes() == (fleet_sdc.root / sdc_key(path.name)).read_bytes()
    with ie.set_options(url=fleet_sdc.url, data_dir=tmp_path / "ie"):
        ours = ie.query(instrument="ultra", repointing=132)
        assert list(ours["repointing"]) == [132]
        assert "exposure_factor" in ie.load(ours).data_vars


# ---------------------------------------------------------------------------------------------- quick-look, Explorer
#: product -> the recipe of its instrument that must draw it (never the generic ISTP fall-back)
RECIPES = {
    r"imap_swapi_l2_sci_20260120_.*": "swapi_rates", r"imap_swapi_l3a_proton-sw_20260120_.*": "swapi_moments",
    r"imap_swapi_l3a_alpha-sw_20260120_.*": "swapi_moments",
    r"imap_codice_l2_lo-sw-species_20260120_.*": "codice_species",
    r"imap_codice_l2_hi-sectored_20260120_.*": "codice_hi_sectored",
    r"imap_hit_l2_macropixel-intensity_20260120_.*": "hit_intensity", r"imap_idex_l1a_sci-1week_.*": "idex_events",
    r"imap_glows_l3a_hist_20260120-.*": "glows_lightcurve", r"imap_glows_l3e_.*": "glows_survival",
    r"imap_hi_l1c_45sensor-pset_20260120-.*": "hi_pset", r"imap_hi_l1c_90sensor-pset_20260120-.*": "hi_pset",
    r"imap_lo_l1c_pset_20260120-.*": "lo_pset", r"imap_ultra_l1c_45sensor-heliopset_20260120-.*": "ultra_pset",
    r"imap_hi_l2_.*-4deg-.*": "ena_map", r"imap_hi_l2_.*-6deg-.*": "ena_map", r"imap_lo_l2_.*": "ena_map",
    r"imap_ultra_l2_.*": "ena_map",
}


@pytest.mark.parametrize(("pattern", "recipe"), sorted(RECIPES.items()))
def test_quicklook_of_each_new_product_is_its_instruments_recipe(fleet, pattern, recipe):
    from imap_explorer.plot.registry import make_plan

    ds = ie.load(_one(fleet, pattern))
    plan = make_plan(ds)
    assert plan.recipe == recipe
    assert plan.panels
    if recipe in ("ena_map", "ultra_pset"):
        assert set(plan.kinds) == {"sky_map"}
        assert plan.time_axis is False


def test_quicklook_draws_a_hi_map_on_a_sky_projection(fleet):
    fig = ie.quicklook(ie.load(_one(fleet, r"imap_hi_l2_.*-6deg-.*")))
    assert any(ax.name == "mollweide" for ax in fig.axes)


def test_explorer_offers_every_instrument_with_its_levels_and_descriptors(fleet_sdc):
    from imap_explorer.widgets import ExplorerModel

    model = ExplorerModel(url=fleet_sdc.url)
    want = {"swapi": {"l2": ["sci"], "l3a": ["alpha-sw", "proton-sw"]},
            "codice": {"l2": ["hi-sectored", "lo-sw-species"]}, "hit": {"l2": ["macropixel-intensity"]},
            "idex": {"l1a": ["sci-1week"]}, "glows": {"l3a": ["hist"], "l3e": ["survival-probability-hi-45"]},
            "hi": {"l1c": ["45sensor-pset", "90sensor-pset"],
                   "l2": ["h90-ena-h-hf-nsp-full-hae-4deg-6mo", "h90-ena-h-hf-nsp-full-hae-6deg-6mo"]},
            "lo": {"l1c": ["pset"], "l2": ["l090-ena-h-sf-nsp-ram-hae-6deg-1yr"]},
            "ultra": {"l1c": ["45sensor-heliopset"], "l2": ["u45-ena-h-hf-nsp-full-hae-6deg-3mo"]}}
    for instrument, levels in want.items():
        catalog = model.catalog(instrument)
        assert model.data_levels(catalog) == sorted(levels), instrument
        for level, descriptors in levels.items():
            assert model.descriptors(catalog, level) == descriptors, (instrument, level)


def test_cli_make_archive_writes_the_chosen_instruments(tmp_path, capsys):
    from imap_explorer.cli import main

    assert main(["make-archive", str(tmp_path / "a"), "--days", "1", "--instruments", "idex", "glows",
                 "--no-ialirt"]) == 0  # the I-ALiRT stream is written with any instruments unless left out
    names = sorted(p.name for p in (tmp_path / "a").rglob("*.cdf"))
    assert names == ["imap_glows_l3a_hist_20260120-repoint00132_v001.cdf",
                     "imap_glows_l3e_survival-probability-hi-45_20260120-repoint00132_v001.cdf",
                     "imap_idex_l1a_sci-1week_20260120_v001.cdf"]
    assert "Wrote 3 files" in capsys.readouterr().out
    assert main(["make-archive", str(tmp_path / "b"), "--days", "1", "--instruments", "imap-hi"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "'imap-hi'" in err
    assert "mag, swe, swapi, codice, hit, idex, glows, hi, lo, ultra" in err


def test_write_spec_rejects_unknown_variables_and_wrong_shapes(tmp_path):
    from imap_explorer.synthetic._spec import write_spec

    spec = load_spec("swapi_l3a_alpha-sw")
    with pytest.raises(ValueError, match="does not have: alpha_speed"):
        write_spec(spec, tmp_path / "x.cdf", {"alpha_speed": [1.0]}, n_records=1)
    with pytest.raises(ValueError, match=r"alpha_sw_speed: values of shape \(3,\), expected \(2,\)"):
        write_spec(spec, tmp_path / "x.cdf", {"alpha_sw_speed": [1.0, 2.0, 3.0]}, n_records=2)
    assert not (tmp_path / "x.cdf").exists()
    with pytest.raises(ValueError, match="Unknown product spec 'swapi_l9'. Expected one of: .*hi_l2_map"):
        load_spec("swapi_l9")


def test_official_client_gets_the_repoint_table(fleet_sdc, tmp_path, monkeypatch):
    """imap-data-access's get_repoint_file asks /repoint-table for recent tables and downloads the newest."""
    import requests
    from imap_data_access.webpoda import get_repoint_file

    monkeypatch.setitem(imap_data_access.config, "DATA_ACCESS_URL", fleet_sdc.url)
    monkeypatch.setitem(imap_data_access.config, "DATA_DIR", tmp_path)
    path = get_repoint_file()
    assert path == tmp_path / "imap/spice/repoint/imap_2026_021_01.repoint.csv"
    rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
    assert [(r[4][:10], r[-1]) for r in rows] == [("2026-01-20", "132"), ("2026-01-21", "133")]
    bad = requests.get(f"{fleet_sdc.url}/repoint-table?instrument=hi", timeout=10)
    assert bad.status_code == 400
    assert "instrument is not a valid query parameter" in bad.json()
    none = requests.get(f"{fleet_sdc.url}/repoint-table?end_ingest_date=20000101", timeout=10)
    assert none.json() == []
