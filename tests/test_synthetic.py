"""The synthetic archive: structure like the SDC products (products.md), physics that tells one story, determinism.

Most tests read the shared session archive (``synthetic_archive``: 2026-01-20, 2 days, seed 1) with cdflib
directly, independently of ``ie.load``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cdflib
import numpy as np
import pytest

from imap_explorer._time import datetime64_to_tt2000, tt2000_to_datetime64
from imap_explorer.filenames import parse_filename, sdc_key
from imap_explorer.synthetic import (
    UNRELEASED_MANIFEST,
    SolarWind,
    make_archive,
    read_unreleased,
    write_mag_l2,
    write_swe_l2,
)
from imap_explorer.synthetic import archive as archive_mod
from imap_explorer.synthetic.swe import CYCLE_SECONDS, ENERGY, INST_EL, write_swe_day
from tests.conftest import ARCHIVE_DAYS, ARCHIVE_START, REAL, requires_real

SEED = 1  # the session archive's seed (tests/conftest.py)
DAY0 = np.datetime64(ARCHIVE_START, "ns")
DAY_NS = 86_400_000_000_000
FLIGHT_L2 = REAL / "imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf"
FLIGHT_SWE_L2 = REAL / "imap/swe/l2/2026/05/imap_swe_l2_sci_20260512_v001.cdf"
FLIGHT_L1B = REAL / "imap/mag/l1b/2025/10/imap_mag_l1b_norm-mago_20251017_v001.0001.cdf"

# Expected CDF data types of every variable, per product: a change here is a deliberate format change.
MAG_L2_TYPES = {"quality_flags": "CDF_UINT1", "quality_bitmask": "CDF_UINT2", "range": "CDF_UINT1",
                "magnitude": "CDF_FLOAT", "epoch": "CDF_TIME_TT2000", "direction": "CDF_INT8",
                "direction_label": "CDF_CHAR"}
MAG_L1_TYPES = {"vectors": "CDF_DOUBLE", "epoch": "CDF_TIME_TT2000", "direction": "CDF_INT8",
                "compression": "CDF_INT8", "direction_label": "CDF_CHAR", "compression_label": "CDF_CHAR"}
SWE_L2_TYPES = {
    "phase_space_density_spin_sector": "CDF_DOUBLE", "flux_spin_sector": "CDF_DOUBLE",
    "acquisition_time": "CDF_DOUBLE", "acq_duration": "CDF_UINT4", "data_quality": "CDF_UINT1",
    "inst_az_spin_sector": "CDF_DOUBLE", "flux": "CDF_DOUBLE", "phase_space_density": "CDF_DOUBLE",
    "psd_stat_uncert": "CDF_DOUBLE", "flux_stat_uncert": "CDF_DOUBLE", "epoch": "CDF_TIME_TT2000",
    "esa_step": "CDF_INT8", "esa_step_label": "CDF_CHAR", "spin_sector": "CDF_INT8",
    "spin_sector_label": "CDF_CHAR", "cem_id": "CDF_INT1", "cem_id_label": "CDF_CHAR", "energy": "CDF_DOUBLE",
    "inst_az": "CDF_FLOAT", "inst_el": "CDF_INT8", "energy_label": "CDF_CHAR", "inst_az_label": "CDF_CHAR",
    "inst_el_label": "CDF_CHAR",
}
SWE_L1B_TYPES = {"science_data": "CDF_DOUBLE", "counts_stat_uncert": "CDF_DOUBLE", "acquisition_time": "CDF_DOUBLE",
                 "acq_duration": "CDF_UINT4", "esa_energy": "CDF_DOUBLE", "data_quality": "CDF_UINT1",
                 "shcoarse": "CDF_UINT4", "spin_phase": "CDF_DOUBLE", "settle_duration": "CDF_UINT2",
                 "quarter_cycle": "CDF_UINT1", "cycle": "CDF_INT8", "cem_id": "CDF_INT1",
                 "epoch": "CDF_TIME_TT2000"}
REQUIRED = {
    "data": {"CATDESC", "DEPEND_0", "DISPLAY_TYPE", "FIELDNAM", "FILLVAL", "FORMAT", "UNITS", "VALIDMIN", "VALIDMAX",
             "VAR_TYPE"},
    "support_data": {"CATDESC", "FIELDNAM", "VAR_TYPE"},
    "metadata": {"CATDESC", "FIELDNAM", "FORMAT", "VAR_TYPE"},
}
GLOBAL_REQUIRED = {"Acknowledgement", "Data_type", "Data_version", "Descriptor", "Discipline",
                   "File_naming_convention", "HTTP_LINK", "Instrument_type", "LINK_TITLE", "Logical_file_id",
                   "Logical_source", "Logical_source_description", "Mission_group", "PI_affiliation", "PI_name",
                   "Project", "Rules_of_use", "Source_name", "TEXT", "Start_date", "Parents",
                   "ground_software_version", "Generation_date", "Generated_by"}


# ---------------------------------------------------------------------------------------------- helpers
def _files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.cdf"))


def _find(root: Path, pattern: str) -> Path:
    matches = [p for p in _files(root) if re.fullmatch(pattern, p.name)]
    assert len(matches) == 1, f"{pattern}: {[p.name for p in matches]}"
    return matches[0]


def _values(cdf: cdflib.CDF, name: str) -> np.ndarray:
    return np.asarray(cdf.varget(name))


def _fill_to_nan(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.where(x <= -1e30, np.nan, x)


def _utc(cdf: cdflib.CDF) -> np.ndarray:
    return tt2000_to_datetime64(_values(cdf, "epoch"))


def _hours(times: np.ndarray, day: np.datetime64 = DAY0) -> np.ndarray:
    return (times - day).astype(np.int64) / 3.6e12


def _structure_problems(path: Path) -> list[str]:
    """Every ISTP/SDC structure rule of products.md that ``path`` breaks (empty list = fine)."""
    problems: list[str] = []
    info_name = parse_filename(path.name)
    cdf = cdflib.CDF(path)
    info = cdf.cdf_info()
    is_l3 = info_name.data_level == "l3"
    legacy = "." not in info_name.version
    say = problems.append
    if path.relative_to(path.parents[5]).as_posix() != sdc_key(path.name):
        say(f"{path.name}: not at its SDC key")
    if info.Compressed:
        say(f"{path.name}: whole-file compression")
    if info.rVariables:
        say(f"{path.name}: has rVariables")
    if info.Encoding != 6:
        say(f"{path.name}: encoding {info.Encoding}, expected 6 (IBMPC)")
    if info.Majority != ("Column_major" if is_l3 else "Row_major"):
        say(f"{path.name}: majority {info.Majority}")
    g = cdf.globalattsget()
    missing = GLOBAL_REQUIRED - set(g)
    if missing:
        say(f"{path.name}: global attributes missing {sorted(missing)}")
    source = f"imap_{info_name.instrument}_{info_name.data_level}_{info_name.descriptor}"
    stem = path.name.removesuffix(".cdf")
    checks = {
        "Logical_source": source,
        "Logical_file_id": stem,
        "Data_version": info_name.version.removeprefix("v"),
        "Start_date": info_name.start_date.strftime("%Y%m%d"),
        "Generated_by": "IMAP Science Data Center",
    }
    for key, want in checks.items():
        if g.get(key, [None])[0] != want:
            say(f"{path.name}: {key} = {g.get(key)!r}, expected {want!r}")
    if not re.fullmatch(r"\d{8}", str(g.get("Generation_date", [""])[0])):
        say(f"{path.name}: Generation_date {g.get('Generation_date')!r}")
    if not g.get("Parents"):
        say(f"{path.name}: no Parents")
    if not str(g.get("Data_type", [""])[0]).startswith(f"L{info_name.data_level[1:].upper()}_"):
        say(f"{path.name}: Data_type {g.get('Data_type')!r}")
    names = set(info.zVariables)
    for name in info.zVariables:
        vi = cdf.varinq(name)
        attrs = cdf.varattsget(name)
        var_type = attrs.get("VAR_TYPE")
        if var_type not in REQUIRED:
            say(f"{path.name}:{name}: VAR_TYPE {var_type!r}")
            continue
        lacking = REQUIRED[var_type] - set(attrs)
        if name == "epoch":
            lacking = {"CATDESC", "FIELDNAM", "FILLVAL", "FORMAT", "UNITS", "VALIDMIN", "VALIDMAX", "VAR_TYPE",
                       "MONOTON", "TIME_BASE", "TIME_SCALE"} - set(attrs)
        if lacking:
            say(f"{path.name}:{name}: lacks {sorted(lacking)}")
        if var_type == "data" and not ({"LABLAXIS", "LABL_PTR_1"} & set(attrs)):
            say(f"{path.name}:{name}: data without LABLAXIS or LABL_PTR_1")
        if var_type == "metadata" and vi.Data_Type_Description != "CDF_CHAR":
            say(f"{path.name}:{name}: metadata of type {vi.Data_Type_Description}")
        for key, value in attrs.items():
            if re.fullmatch(r"(DEPEND|LABL_PTR)_\d", key) and (not isinstance(value, str) or value not in names):
                say(f"{path.name}:{name}: {key} -> {value!r} is not a variable")
        dims = list(vi.Dim_Sizes)
        for i, size in enumerate(dims, start=1):
            for key in (f"DEPEND_{i}", f"LABL_PTR_{i}"):
                target = attrs.get(key)
                if isinstance(target, str) and target in names:
                    tsize = cdf.varinq(target).Dim_Sizes
                    if list(tsize) != [size]:
                        say(f"{path.name}:{name}: {key} {target} has shape {tsize}, dim {i} is {size}")
        if vi.Rec_Vary and name != "epoch" and attrs.get("DEPEND_0") != "epoch":
            say(f"{path.name}:{name}: record-varying without DEPEND_0 epoch")
        # compression: data gzip'd (6, or 7 in L3); epoch plain except in the flight-era MAG layout
        if name == "epoch":
            want = 6 if legacy else 0
        elif is_l3:
            want = 7 if vi.Rec_Vary else 0
        else:
            want = 6
        if vi.Compress != want:
            say(f"{path.name}:{name}: compression {vi.Compress}, expected {want}")
    # epoch: TT2000, strictly increasing, inside the file's day (+-30 min for MAG L1, one cycle before for SWE)
    if cdf.varinq("epoch").Data_Type_Description != "CDF_TIME_TT2000":
        say(f"{path.name}: epoch is not TT2000")
    tt = _values(cdf, "epoch")
    day = np.datetime64(info_name.start_date, "ns")
    lo, hi = day, day + np.timedelta64(DAY_NS, "ns")
    if info_name.instrument == "mag" and info_name.data_level in ("l1a", "l1b", "l1c"):
        lo, hi = lo - np.timedelta64(30, "m"), hi + np.timedelta64(30, "m")
    if info_name.instrument == "swe":
        lo = lo - np.timedelta64(int(CYCLE_SECONDS * 1e9), "ns")
    t = tt2000_to_datetime64(tt)
    if tt.size == 0 or not np.all(np.diff(tt) > 0):
        say(f"{path.name}: epoch empty or not strictly increasing")
    elif t[0] < lo or t[-1] >= hi:
        say(f"{path.name}: epoch {t[0]}..{t[-1]} outside [{lo}, {hi})")
    return problems


# ---------------------------------------------------------------------------------------------- layout
def test_make_archive_writes_the_documented_products(synthetic_archive):
    names = sorted(p.name for p in _files(synthetic_archive))
    for day in ("20260120", "20260121"):
        for sensor in ("mago", "magi"):
            for level in ("l1b", "l1c"):
                assert f"imap_mag_{level}_norm-{sensor}_{day}_v001.0001.cdf" in names
        for frame in ("srf", "gse", "gsm"):
            assert f"imap_mag_l2_norm-{frame}_{day}_v001.0001.cdf" in names
        for level in ("l1b", "l2", "l3"):
            assert f"imap_swe_{level}_sci_{day}_v001.0001.cdf" in names
    for version in ("v001.0001", "v001.0002", "v002.0001"):
        assert f"imap_mag_l2_norm-gse_20260120_{version}.cdf" in names
    assert "imap_mag_l2_norm-rtn_20260121_v001.0002.cdf" in names
    assert "imap_mag_l2_norm-dsrf_20260121_v002.cdf" in names                      # flight-era layout
    assert not any(n.startswith("imap_mag_l2_norm-dsrf_20260121_v001") for n in names)
    assert {"imap_mag_l2_burst-gse_20260120_v001.0001.cdf", "imap_mag_l2_burst-rtn_20260120_v001.0001.cdf"} <= set(
        names)
    # per day: 4 MAG L1 + 5 MAG L2 + 3 SWE; plus 2 older norm-gse versions, 1 unreleased norm-rtn, 2 burst files
    assert len(names) == 12 * ARCHIVE_DAYS + 5
    # nothing half-written is left behind by the atomic writes
    assert not [p for p in synthetic_archive.rglob("*") if p.suffix in (".part", ".tmp")]


def test_make_archive_lists_unreleased_files_in_the_manifest(synthetic_archive):
    manifest = json.loads((synthetic_archive / UNRELEASED_MANIFEST).read_text())
    assert manifest == {"unreleased": ["imap_mag_l2_norm-rtn_20260121_v001.0002.cdf"]}
    assert read_unreleased(synthetic_archive) == {"imap_mag_l2_norm-rtn_20260121_v001.0002.cdf"}
    for name in manifest["unreleased"]:
        assert (synthetic_archive / sdc_key(name)).is_file()


def test_read_unreleased_without_manifest_is_empty(tmp_path):
    assert read_unreleased(tmp_path) == set()


def test_make_archive_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="Invalid days 0"):
        make_archive(tmp_path, days=0)
    with pytest.raises(ValueError, match="Invalid seed -1"):
        make_archive(tmp_path, days=1, seed=-1)
    with pytest.raises(ValueError, match="Invalid day '2026-13-45'"):
        make_archive(tmp_path, start="2026-13-45", days=1)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------- structure
def test_every_synthetic_file_follows_the_sdc_structure(synthetic_archive):
    problems = [p for path in _files(synthetic_archive) for p in _structure_problems(path)]
    assert problems == []


def test_structure_check_catches_drift(tmp_path):
    """The checker itself fails on a file that breaks the rules (a test that cannot fail is a defect)."""
    import xarray as xr
    from cdflib.xarray import xarray_to_cdf

    name = "imap_mag_l2_norm-gse_20260120_v001.0001.cdf"
    path = tmp_path / sdc_key(name)
    path.parent.mkdir(parents=True)
    tt = datetime64_to_tt2000(DAY0 + np.arange(3) * np.timedelta64(1, "s"))
    ds = xr.Dataset({"b_gse": (("epoch", "direction"), np.zeros((3, 3), np.float32),
                               {"VAR_TYPE": "data", "DEPEND_0": "epoch", "LABL_PTR_1": "nowhere"})},
                    coords={"epoch": ("epoch", tt[::-1], {"VAR_TYPE": "support_data"})},
                    attrs={"Logical_source": "imap_mag_l2_norm-gsm"})
    xarray_to_cdf(ds, str(path), compression=0)
    problems = "\n".join(_structure_problems(path))
    for expected in ("Logical_source", "LABL_PTR_1 -> 'nowhere'", "not strictly increasing", "lacks",
                     "compression 0, expected 6", "global attributes missing"):
        assert expected in problems


def test_mag_l2_variables_have_the_sdc_types(synthetic_archive):
    for frame in ("srf", "dsrf", "gse", "gsm", "rtn"):
        cdf = cdflib.CDF(_find(synthetic_archive, rf"imap_mag_l2_norm-{frame}_20260120_v001\.0001\.cdf"))
        types = {n: cdf.varinq(n).Data_Type_Description for n in cdf.cdf_info().zVariables}
        assert types == {**MAG_L2_TYPES, f"b_{frame}": "CDF_FLOAT"}
        assert cdf.varinq(f"b_{frame}").Dim_Sizes == [3]
        attrs = cdf.varattsget(f"b_{frame}")
        assert attrs["UNITS"] == "nT"
        assert attrs["FILLVAL"] == np.float32(-1e31)
        assert attrs["CDF_DATA_TYPE"] == "CDF_FLOAT"
        labels = [s.strip() for s in _values(cdf, "direction_label")]
        assert labels == (["B_R", "B_T", "B_N"] if frame == "rtn" else ["Bx", "By", "Bz"])
        assert cdf.varattsget("direction_label")["DEPEND_1"] == "direction"
        assert cdf.varinq("epoch").Last_Rec == 172_799


def test_mag_l1_products_have_buffers_and_unaligned_times(synthetic_archive):
    for level in ("l1b", "l1c"):
        for sensor in ("mago", "magi"):
            path = _find(synthetic_archive, f"imap_mag_{level}_norm-{sensor}_20260120_v001.0001.cdf")
            cdf = cdflib.CDF(path)
            types = {n: cdf.varinq(n).Data_Type_Description for n in cdf.cdf_info().zVariables}
            expected = {**MAG_L1_TYPES, "compression_flags": "CDF_INT1" if level == "l1b" else "CDF_DOUBLE"}
            if level == "l1c":
                expected.update(vector_magnitude="CDF_DOUBLE", generated_flag="CDF_DOUBLE")
            assert types == expected
            g = cdf.globalattsget()
            assert g["is_mago"] == ["True" if sensor == "mago" else "False"]
            assert ("vectors_per_second" in g) == (level == "l1b")
            assert ("interpolation_method" in g) == (level == "l1c")
            h = _hours(_utc(cdf))
            assert -0.5 <= h[0] < -0.49
            assert 24.49 < h[-1] < 24.5
            step = np.diff(_values(cdf, "epoch"))
            assert step.min() >= 500_000_000 - 92_000
            assert np.mean(step != 500_000_000) > 0.9
            vec = _values(cdf, "vectors")
            assert vec.shape[1] == 4
            assert np.all(vec[:, 3] == 2.0)
            if level == "l1c":
                # the SDC quirk: vector_magnitude includes the range column
                assert np.allclose(_values(cdf, "vector_magnitude"), np.linalg.norm(vec, axis=1))
                gen = _values(cdf, "generated_flag")
                hours = h[gen == 1]
                assert 100 < gen.sum() < 130
                assert hours.min() > 11.96
                assert hours.max() < 11.99


def test_mag_legacy_file_reproduces_the_flight_quirks(synthetic_archive):
    cdf = cdflib.CDF(_find(synthetic_archive, r"imap_mag_l2_norm-dsrf_20260121_v002\.cdf"))
    b = _values(cdf, "b_dsrf")
    attrs = cdf.varattsget("b_dsrf")
    assert attrs["FILLVAL"] == np.float32(9.223372e18)
    assert attrs["UNITS"] == " "
    fill_rows = np.all(b <= -1e30, axis=1)
    assert 400 <= fill_rows.sum() <= 440
    assert np.all(b[fill_rows] == np.float32(-1e31))
    assert np.all(_values(cdf, "magnitude") > 0)                                  # valid on the fill rows
    assert cdf.varattsget("magnitude")["VAR_TYPE"] == "support_data"
    assert [s.strip() for s in _values(cdf, "direction_label")] == ["0", "1", "2"]
    qf, qb = cdf.varattsget("quality_flags"), cdf.varattsget("quality_bitmask")
    assert qf["CATDESC"] == "Eight-bit Data quality bitmask"
    assert qb["CATDESC"] == "Data quality flag"
    assert cdf.varinq("quality_flags").Data_Type_Description == "CDF_INT8"
    flags, bits = _values(cdf, "quality_flags"), _values(cdf, "quality_bitmask")
    assert set(np.unique(flags)) == {0, 1}
    assert np.array_equal(bits, flags * 4)
    assert cdf.varinq("epoch").Compress == 6
    g = cdf.globalattsget()
    assert g["Data_version"] == ["002"]
    assert g["File_naming_convention"] == ["source_descriptor_datatype_yyyyMMdd_vNNN"]


@requires_real
def test_mag_legacy_file_matches_the_flight_attribute_sets(synthetic_archive):
    synth = cdflib.CDF(_find(synthetic_archive, r"imap_mag_l2_norm-dsrf_20260121_v002\.cdf"))
    real = cdflib.CDF(FLIGHT_L2)
    assert synth.cdf_info().zVariables == real.cdf_info().zVariables
    assert set(synth.globalattsget()) == set(real.globalattsget())
    for name in real.cdf_info().zVariables:
        r, s = real.varinq(name), synth.varinq(name)
        assert (s.Data_Type_Description, s.Dim_Sizes, s.Rec_Vary, s.Compress) == (
            r.Data_Type_Description, r.Dim_Sizes, r.Rec_Vary, r.Compress), name
        assert list(synth.varattsget(name)) == list(real.varattsget(name)), name
        for key, value in real.varattsget(name).items():
            if key in ("FILLVAL", "VALIDMIN", "VALIDMAX", "CATDESC", "UNITS", "VAR_TYPE", "DEPEND_1", "LABL_PTR_1"):
                assert synth.varattsget(name)[key] == value, (name, key)


@requires_real
def test_swe_l2_matches_the_flight_variables_and_attribute_sets(synthetic_archive):
    synth = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l2_sci_20260120_v001\.0001\.cdf"))
    real = cdflib.CDF(FLIGHT_SWE_L2)
    assert set(synth.cdf_info().zVariables) == set(real.cdf_info().zVariables)
    assert set(synth.globalattsget()) == set(real.globalattsget())
    for name in real.cdf_info().zVariables:
        r, s = real.varinq(name), synth.varinq(name)
        assert (s.Data_Type_Description, s.Dim_Sizes, s.Rec_Vary, s.Compress) == (
            r.Data_Type_Description, r.Dim_Sizes, r.Rec_Vary, r.Compress), name
        assert set(synth.varattsget(name)) == set(real.varattsget(name)), name
        assert synth.varattsget(name).get("DEPEND_1") == real.varattsget(name).get("DEPEND_1"), name
    for name in ("energy", "inst_az", "inst_el", "esa_step", "spin_sector", "cem_id"):
        assert np.array_equal(_values(synth, name), _values(real, name)), name
    for name in ("energy_label", "inst_az_label", "inst_el_label"):
        assert [x.strip() for x in _values(synth, name)] == [x.strip() for x in _values(real, name)], name


@requires_real
def test_mag_l1b_matches_the_flight_variables(synthetic_archive):
    synth = cdflib.CDF(_find(synthetic_archive, r"imap_mag_l1b_norm-mago_20260120_v001\.0001\.cdf"))
    real = cdflib.CDF(FLIGHT_L1B)
    assert synth.cdf_info().zVariables == real.cdf_info().zVariables
    for name in real.cdf_info().zVariables:
        r, s = real.varinq(name), synth.varinq(name)
        assert (s.Data_Type_Description, s.Dim_Sizes, s.Rec_Vary) == (r.Data_Type_Description, r.Dim_Sizes,
                                                                        r.Rec_Vary), name
        if name != "epoch":   # the 0.9 flight epoch carries a TT2000 DEPEND_0 = 0 and int64 VALIDMIN/MAX
            assert set(synth.varattsget(name)) >= set(real.varattsget(name)), name
    expected = set(real.globalattsget()) - {"Data_level"} | {"Start_date", "Generation_date", "Generated_by"}
    assert set(synth.globalattsget()) >= expected


def test_swe_l1b_and_l3_layout(synthetic_archive):
    cdf = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l1b_sci_20260120_v001\.0001\.cdf"))
    types = {n: cdf.varinq(n).Data_Type_Description for n in cdf.cdf_info().zVariables}
    assert {k: types.get(k) for k in SWE_L1B_TYPES} == SWE_L1B_TYPES
    assert cdf.varinq("science_data").Dim_Sizes == [24, 30, 7]
    assert cdf.varinq("shcoarse").Dim_Sizes == [4]
    l3 = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l3_sci_20260120_v001\.0001\.cdf"))
    vec = l3.varattsget("core_velocity_vector_rtn_fit")
    assert vec["LABL_PTR_1"] == "rtn_label"
    assert "DEPEND_1" not in vec
    assert l3.varinq("phase_space_density_by_pitch_angle").Dim_Sizes == [24, 20]
    assert l3.varinq("phase_space_density_by_pitch_angle").Data_Type_Description == "CDF_REAL4"
    assert np.allclose(_values(l3, "pitch_angle"), np.arange(4.5, 180, 9))
    assert l3.varinq("tensor_id").Data_Type_Description == "CDF_UINT1"


# ---------------------------------------------------------------------------------------------- physics
@pytest.fixture(scope="module")
def mag_day0(synthetic_archive):
    """Day-0 L2 GSE (newest version), RTN and DSRF: (times, {frame: vectors with NaN fill}, magnitude)."""
    out = {}
    for frame, pattern in (("gse", r".*norm-gse_20260120_v002\.0001\.cdf"), ("rtn", r".*norm-rtn_20260120_.*"),
                           ("dsrf", r".*norm-dsrf_20260120_.*")):
        cdf = cdflib.CDF(_find(synthetic_archive, pattern))
        out[frame] = _fill_to_nan(_values(cdf, f"b_{frame}"))
        times, magnitude = _utc(cdf), _fill_to_nan(_values(cdf, "magnitude"))
    return times, out, magnitude


def test_mag_field_is_a_parker_spiral_with_solar_wind_magnitudes(mag_day0):
    times, b, magnitude = mag_day0
    h = _hours(times)
    quiet = (h < 9.5) & np.isfinite(b["gse"][:, 0])
    assert 3.0 < np.median(magnitude[quiet]) < 8.0
    assert np.all((magnitude > 0.5) & (magnitude < 60.0))
    bx, by = b["gse"][quiet, 0], b["gse"][quiet, 1]
    angle = np.degrees(np.arctan2(np.median(by), -np.median(bx)))
    assert 30.0 < angle < 60.0                                                    # ~45 deg, Bx ~ -By
    assert np.mean(bx * by < 0) > 0.75
    assert np.std(b["gse"][quiet, 2]) < 4.0
    # Alfvenic: strong direction changes at nearly constant |B|
    assert np.std(bx) / np.median(magnitude[quiet]) > 0.15
    assert np.std(magnitude[quiet]) / np.median(magnitude[quiet]) < 0.3


def test_mag_fluctuations_have_a_kolmogorov_spectrum(mag_day0):
    times, b, _ = mag_day0
    quiet = b["gse"][: 9 * 7200, 1]                                              # 00:00-09:00, before the repointing
    assert np.all(np.isfinite(quiet))
    f = np.fft.rfftfreq(quiet.size, 0.5)
    power = np.abs(np.fft.rfft(quiet - quiet.mean())) ** 2
    band = (f > 1e-3) & (f < 0.3)
    slope = np.polyfit(np.log10(f[band]), np.log10(power[band]), 1)[0]
    assert -1.9 < slope < -1.45                                                  # ~ -5/3
    step = np.diff(quiet[::2])                                                    # 1 s increments
    assert 0.05 < np.std(step) < 0.5                                              # a few tenths of nT


def test_mag_frames_are_rotations_of_one_field(mag_day0):
    _, b, magnitude = mag_day0
    ok = np.isfinite(b["gse"][:, 0])
    for frame in ("gse", "rtn", "dsrf"):
        assert np.allclose(np.linalg.norm(b[frame][ok], axis=1), magnitude[ok], rtol=1e-5, atol=1e-4)
    # R ~ -X, T ~ -Y, N ~ Z within a few degrees
    cos = np.sum(b["rtn"][ok] * b["gse"][ok] * [-1, -1, 1], axis=1) / magnitude[ok] ** 2
    assert np.degrees(np.arccos(np.clip(cos.min(), -1, 1))) < 6.0


def test_mag_l2_has_repointing_fill_and_flagged_rows(mag_day0, synthetic_archive):
    times, b, magnitude = mag_day0
    fill = np.isnan(b["gse"][:, 0])
    assert 400 <= fill.sum() <= 440
    h = _hours(times[fill])
    assert 10.0 <= h.min()
    assert h.max() < 10.1
    assert np.all(np.isfinite(magnitude))                                          # valid on the fill rows
    cdf = cdflib.CDF(_find(synthetic_archive, r".*norm-gse_20260120_v002\.0001\.cdf"))
    flags, bits = _values(cdf, "quality_flags"), _values(cdf, "quality_bitmask")
    assert 200 <= flags.sum() <= 360
    assert np.array_equal(bits, flags.astype(np.uint16) * 4)
    assert not np.any(fill & (flags == 1))
    assert np.all(_values(cdf, "range") == 2)


def test_shock_jumps_in_mag_and_swe_together(mag_day0, synthetic_archive):
    times, _, magnitude = mag_day0
    h = _hours(times)
    before = np.median(magnitude[(h > 11.75) & (h < 11.99)])
    after = np.median(magnitude[(h > 12.01) & (h < 12.25)])
    assert 2.0 < after / before < 4.0
    # SWE L3 density integrated from the L2 PSD jumps at the same time
    l3 = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l3_sci_20260120_.*"))
    n = _fill_to_nan(_values(l3, "total_density_integrated"))
    hs = _hours(_utc(l3))
    n_before, n_after = np.nanmedian(n[(hs > 11.5) & (hs < 11.98)]), np.nanmedian(n[(hs > 12.02) & (hs < 12.5)])
    assert 3.0 < n_before < 12.0
    assert 2.0 < n_after / n_before < 4.0
    # and so do the suprathermal fluxes (hotter, denser plasma)
    l2 = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l2_sci_20260120_.*"))
    good = _values(l2, "data_quality") != 255
    flux = _fill_to_nan(_values(l2, "flux")[good])
    at100 = np.nanmean(flux[:, 11], axis=(1, 2))
    h2 = _hours(_utc(l2)[good])
    assert np.nanmedian(at100[h2 > 12.02]) > 3 * np.nanmedian(at100[h2 < 11.98])
    # burst data resolve the jump within seconds
    burst = cdflib.CDF(_find(synthetic_archive, r"imap_mag_l2_burst-gse_20260120_.*"))
    tb = _utc(burst)
    assert np.all(np.diff(_values(burst, "epoch")) == 15_625_000)                # 64 vectors/s
    assert tb.size == 3600 * 64
    assert _hours(tb[:1])[0] == 11.5
    mb = _values(burst, "magnitude")
    hb = _hours(tb)
    assert np.median(mb[(hb > 12.0 + 5 / 3600) & (hb < 12.0 + 60 / 3600)]) > 2 * np.median(
        mb[(hb > 12.0 - 60 / 3600) & (hb < 12.0 - 5 / 3600)])


def test_swe_l2_psd_flux_and_fill_match_flight_ranges(synthetic_archive):
    cdf = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l2_sci_20260120_.*"))
    psd = _values(cdf, "phase_space_density")
    quality = _values(cdf, "data_quality")
    all_fill = np.all(psd <= -1e30, axis=(1, 2, 3))
    assert all_fill.sum() == 1
    assert quality[all_fill][0] == 255
    assert np.all(quality[~all_fill] == 4)
    assert np.all(_values(cdf, "acq_duration")[all_fill] == 0)
    assert np.all(_values(cdf, "acq_duration")[~all_fill] == 82150)
    fill_fraction = np.mean(psd[~all_fill] <= -1e30, axis=(1, 2, 3))
    assert 0.15 < fill_fraction.mean() < 0.35
    per_sector = _values(cdf, "phase_space_density_spin_sector")[~all_fill]
    assert np.all(per_sector >= 0)
    assert per_sector.max() < 1e-22
    h = _hours(_utc(cdf))[~all_fill]
    quiet = _fill_to_nan(psd[~all_fill][h < 11.9])
    mean = np.nanmean(quiet, axis=(0, 2, 3))
    flight = {0: 3.4e-24, 7: 1.5e-26, 11: 1.3e-28, 14: 5e-30, 18: 4e-33, 23: 2e-35}   # products.md 4.5
    for step, value in flight.items():
        assert value / 10 < mean[step] < value * 30, (ENERGY[step], mean[step])
    assert np.all(np.diff(mean[2:]) < 0)                                           # falls with energy
    flux = _fill_to_nan(_values(cdf, "flux")[~all_fill])
    assert 5e6 < np.nanmean(flux[:, 0]) < 2e8
    assert np.nanmax(flux) < 1e9
    zeros = np.mean(per_sector == 0)
    assert 0.01 < zeros < 0.3                                                      # Poisson zero counts
    # PSD = flux / (6.187e30 E) (products.md 4.1)
    ps = per_sector[:5]
    fs = _values(cdf, "flux_spin_sector")[~all_fill][:5]
    assert np.allclose(fs, 6.187e30 * ENERGY[None, :, None, None] * ps, rtol=1e-6)


def test_swe_strahl_is_aligned_with_the_mag_field(synthetic_archive):
    """Pitch angles from the MAG L2 DSRF file and SWE L2 look directions: the strahl peaks at 0 or 180 deg."""
    swe = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l2_sci_20260120_.*"))
    mag = cdflib.CDF(_find(synthetic_archive, r"imap_mag_l2_norm-dsrf_20260120_.*"))
    gse = cdflib.CDF(_find(synthetic_archive, r".*norm-gse_20260120_v002\.0001\.cdf"))
    mag_tt = _values(mag, "epoch")
    b_dsrf, b_gse = _fill_to_nan(_values(mag, "b_dsrf")), _fill_to_nan(_values(gse, "b_gse"))
    tt = _values(swe, "epoch")
    psd = _values(swe, "phase_space_density_spin_sector")
    az = _values(swe, "inst_az_spin_sector")
    h = _hours(tt2000_to_datetime64(tt))
    half = int(CYCLE_SECONDS / 2 * 1e9)
    steps = [15, 16, 17]                                                           # ~270-520 eV
    near, perp, far = [], [], []
    # large-scale polarity of the upstream wind from the hourly median Bx (the strahl follows the field line)
    mag_h = _hours(tt2000_to_datetime64(mag_tt))
    polarity = -np.sign(np.nanmedian(b_gse[(mag_h > 10.5) & (mag_h < 11.9), 0]))
    for r in np.flatnonzero((h < 11.9) & (psd[:, 0, 0, 0] >= 0)):
        sel = (mag_tt >= tt[r] - half) & (mag_tt < tt[r] + half)
        b = np.nanmean(b_dsrf[sel], axis=0)
        b /= np.linalg.norm(b)
        away = polarity                                                            # B_R > 0: strahl along +B
        phi = np.radians(az[r, steps])[..., None]
        el = np.radians(INST_EL)
        v = -np.stack(np.broadcast_arrays(np.cos(el) * np.cos(phi), np.cos(el) * np.sin(phi), np.sin(el)), -1)
        pitch = np.degrees(np.arccos(np.clip(away * (v @ b), -1, 1)))           # angle to the strahl direction
        f = psd[r, steps]
        near.append(f[pitch < 25].mean())
        perp.append(f[(pitch > 70) & (pitch < 110)].mean())
        far.append(f[pitch > 155].mean())
    near, perp, far = map(np.array, (near, perp, far))
    assert near.size > 50
    assert np.median(near / perp) > 2.0
    assert np.median(near / far) > 2.0
    assert np.median(far / perp) < 1.5


def test_swe_l3_pitch_angle_distributions_agree_with_l2(synthetic_archive):
    l2 = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l2_sci_20260120_.*"))
    l3 = cdflib.CDF(_find(synthetic_archive, r"imap_swe_l3_sci_20260120_.*"))
    assert np.array_equal(_values(l2, "epoch"), _values(l3, "epoch"))
    ok = _values(l2, "data_quality") != 255
    assert (~ok).sum() == 1
    per_sector = _fill_to_nan(_values(l2, "phase_space_density_spin_sector"))
    psd_1d = _fill_to_nan(_values(l3, "phase_space_density_1d"))
    expected = np.mean(per_sector[ok].reshape(ok.sum(), 24, -1), axis=2)
    assert np.allclose(psd_1d[ok], expected, rtol=1e-5)
    assert np.all(np.isnan(psd_1d[~ok]))
    pad = _fill_to_nan(_values(l3, "phase_space_density_by_pitch_angle"))
    h = _hours(_utc(l3))
    quiet = pad[ok & (h < 11.9), 15]                                             # 375 eV
    mean_pa = np.nanmean(quiet, axis=0)
    assert np.nanargmax(mean_pa) in (0, 1, 18, 19)                               # strahl at 0 or 180 deg
    assert np.nanmax(mean_pa) > 2 * np.nanmean(mean_pa[8:12])


# ---------------------------------------------------------------------------------------------- versions
def test_versions_differ_by_the_documented_calibration_offsets(synthetic_archive):
    newest = cdflib.CDF(_find(synthetic_archive, r".*norm-gse_20260120_v002\.0001\.cdf"))
    base = _fill_to_nan(_values(newest, "b_gse"))
    for version in ("v001.0001", "v001.0002"):
        older = cdflib.CDF(_find(synthetic_archive, rf".*norm-gse_20260120_{version}\.cdf"))
        diff = np.nanmedian(_fill_to_nan(_values(older, "b_gse")) - base, axis=0)
        assert np.allclose(diff, archive_mod.VERSION_OFFSETS[version], atol=2e-3)
        g = older.globalattsget()
        assert g["Data_version"] == [version[1:]]
        assert g["Generation_date"][0] < newest.globalattsget()["Generation_date"][0]


# ---------------------------------------------------------------------------------------------- determinism
def test_writers_are_deterministic_and_match_the_archive(synthetic_archive, tmp_path):
    model = SolarWind(ARCHIVE_START, SEED)
    again = write_mag_l2(tmp_path, "2026-01-21", "norm-srf", model=model)
    original = _find(synthetic_archive, r"imap_mag_l2_norm-srf_20260121_v001\.0001\.cdf")
    assert again.read_bytes() == original.read_bytes()
    swe = write_swe_day(tmp_path, "2026-01-21", model=SolarWind(ARCHIVE_START, SEED), levels=("l2", "l3"))
    for path in swe:
        assert path.read_bytes() == (synthetic_archive / sdc_key(path.name)).read_bytes(), path.name
    other = write_mag_l2(tmp_path / "other.cdf", "2026-01-21", "norm-srf", model=SolarWind(ARCHIVE_START, SEED + 1))
    assert not np.array_equal(cdflib.CDF(other).varget("b_srf"), cdflib.CDF(again).varget("b_srf"))


@pytest.mark.slow
def test_days_are_independent_of_the_archive_length(synthetic_archive, tmp_path):
    """The first day of a 1-day archive equals the first day of the session's 2-day archive."""
    earlier = "imap_mag_l2_norm-gse_20250101_v001.0001.cdf"        # listed by an earlier run into the same root
    (tmp_path / UNRELEASED_MANIFEST).write_text(json.dumps({"unreleased": [earlier]}))
    paths = make_archive(tmp_path, start=ARCHIVE_START, days=1, seed=SEED, instruments=("mag", "swe"))
    assert paths == sorted(paths)
    assert len(paths) == 17
    name = "imap_mag_l2_norm-gsm_20260120_v001.0001.cdf"
    assert (tmp_path / sdc_key(name)).read_bytes() == (synthetic_archive / sdc_key(name)).read_bytes()
    assert ARCHIVE_DAYS == 2
    # with a single day, the special products move to that day
    assert (tmp_path / sdc_key("imap_mag_l2_norm-dsrf_20260120_v002.cdf")).is_file()
    assert read_unreleased(tmp_path) == {"imap_mag_l2_norm-rtn_20260120_v001.0002.cdf", earlier}


# ---------------------------------------------------------------------------------------------- benchmark writers
def test_write_mag_l2_burst_at_any_rate_and_window(tmp_path):
    path = write_mag_l2(tmp_path / "burst.cdf", "2026-03-01", "burst-rtn", rate=128, hours=(5.0, 5.25), seed=3)
    cdf = cdflib.CDF(path)
    tt = _values(cdf, "epoch")
    assert tt.size == 128 * 900
    assert np.all(np.diff(tt) == 7_812_500)
    assert _hours(tt2000_to_datetime64(tt[:1]), np.datetime64("2026-03-01", "ns"))[0] == 5.0
    b = _values(cdf, "b_rtn")
    assert np.all(np.isfinite(b))
    assert 1.0 < np.median(np.linalg.norm(b, axis=1)) < 15.0
    assert cdf.globalattsget()["Logical_source"] == ["imap_mag_l2_burst-rtn"]
    # the high rate carries fluctuations above the normal-mode Nyquist frequency (1 Hz)
    spec = np.abs(np.fft.rfft(b[:, 1] - b[:, 1].mean())) ** 2
    f = np.fft.rfftfreq(b.shape[0], 1 / 128)
    assert spec[(f > 2) & (f < 8)].mean() > 5 * spec[(f > 40) & (f < 60)].mean() > 0
    # root form: the SDC layout below the root
    rooted = write_mag_l2(tmp_path, "2026-03-01", "norm-gse", hours=0.5, seed=3)
    assert rooted == tmp_path / sdc_key("imap_mag_l2_norm-gse_20260301_v001.0001.cdf")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"descriptor": "norm-xyz"}, "Invalid MAG L2 descriptor 'norm-xyz'. Expected one of: burst-dsrf"),
        ({"descriptor": "burst-gse", "rate": 3}, "Invalid MAG vector rate 3. Expected one of: 1, 2, 4"),
        ({"descriptor": "norm-gse", "hours": (5, 30)}, r"Invalid hours \(5, 30\)"),
    ],
)
def test_write_mag_l2_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_mag_l2(tmp_path, "2026-01-20", **kwargs)
    assert not list(tmp_path.rglob("*.cdf"))


def test_write_swe_l2_day_starts_before_midnight(tmp_path):
    path = write_swe_l2(tmp_path, "2026-02-01", hours=(0.0, 0.25), seed=2)
    cdf = cdflib.CDF(path)
    t = _utc(cdf)
    day = np.datetime64("2026-02-01", "ns")
    assert t[0] < day < t[1]                                                      # like the flight file
    assert np.allclose(np.diff(t).astype(np.int64) / 1e9, CYCLE_SECONDS, atol=1e-6)
    quality = _values(cdf, "data_quality")
    assert list(quality[:3]) == [4, 255, 4]
    assert cdf.globalattsget()["Logical_file_id"] == ["imap_swe_l2_sci_20260201_v001.0001"]


def test_swe_strahl_flips_to_180_degrees_in_a_toward_sector():
    """After the sector boundary (day 3-4) the field points sunward, so the strahl runs against B."""
    from imap_explorer.synthetic.swe import day_records, simulate

    model = SolarWind(ARCHIVE_START, SEED)
    day = DAY0 + np.timedelta64(5, "D")
    times = day_records(model, day, (6.0, 6.4))
    rec = simulate(model, times)
    assert np.all(rec.polarity == -1)
    assert np.median(rec.b_gse[:, 0]) > 0                                          # toward: Bx_GSE > 0
    pitch = np.degrees(np.arccos(np.clip(rec.pitch_cosine(), -1, 1)))[:, 15]     # 375 eV
    psd = rec.psd[:, 15]
    assert psd[pitch > 155].mean() > 2 * psd[pitch < 25].mean()
    assert psd[pitch > 155].mean() > 2 * psd[(pitch > 70) & (pitch < 110)].mean()


def test_mag_l1c_and_l2_carry_the_same_field(synthetic_archive):
    """L1C MAGo (SRF + sensor offset, unaligned times) agrees with L2 SRF at the nearest L2 sample."""
    l1c = cdflib.CDF(_find(synthetic_archive, r"imap_mag_l1c_norm-mago_20260120_v001\.0001\.cdf"))
    l2 = cdflib.CDF(_find(synthetic_archive, r"imap_mag_l2_norm-srf_20260120_v001\.0001\.cdf"))
    t1, t2 = _values(l1c, "epoch"), _values(l2, "epoch")
    inside = (t1 >= t2[0]) & (t1 <= t2[-1])
    after = np.clip(np.searchsorted(t2, t1[inside]), 1, t2.size - 1)
    nearest = np.where(t1[inside] - t2[after - 1] < t2[after] - t1[inside], after - 1, after)
    assert np.abs(t2[nearest] - t1[inside]).max() < 60_000_000                   # L1 is ~19 ms late, never aligned
    v1 = _values(l1c, "vectors")[inside, :3]
    v2 = _fill_to_nan(_values(l2, "b_srf"))[nearest]
    ok = np.isfinite(v2[:, 0])
    diff = np.median(v1[ok] - v2[ok], axis=0)
    assert np.allclose(diff, [0.12, -0.08, 0.05], atol=0.03)                     # the MAGo sensor offset
    assert np.median(np.abs(v1[ok] - v2[ok] - diff)) < 0.2                        # spin phase moves 0.5 deg in 19 ms
    magi = cdflib.CDF(_find(synthetic_archive, r"imap_mag_l1c_norm-magi_20260120_v001\.0001\.cdf"))
    assert np.median(np.abs(_values(magi, "vectors")[:, 0] - _values(l1c, "vectors")[:, 0])) < 2.0


def test_writers_silence_cdflib_and_restore_its_logger(tmp_path, caplog):
    import logging

    logger = logging.getLogger("cdflib")
    before = (logger.level, logger.propagate)
    with caplog.at_level(logging.DEBUG):
        write_mag_l2(tmp_path, "2026-01-20", "norm-gse", hours=0.05)            # xarray_to_cdf auto-fixes labels
        write_swe_day(tmp_path, "2026-01-20", model=SolarWind("2026-01-20"), hours=(0.0, 0.05), levels=("l2", "l3"))
    assert [r for r in caplog.records if r.name.startswith("cdflib")] == []
    assert (logger.level, logger.propagate) == before
    assert len(list(tmp_path.rglob("*.cdf"))) == 3
    assert not [p for p in tmp_path.rglob("*.part")]  # the atomic writes' folders are gone


def test_make_archive_writes_the_ialirt_stream_without_mag_too(tmp_path):
    """make-archive --instruments swe (I-ALiRT on by default) wrote no I-ALiRT stream: the MAG-less days skipped it."""
    from imap_explorer.synthetic import make_archive

    paths = make_archive(tmp_path, start="2026-01-20", days=1, seed=3, instruments=("swe",), ialirt=True)
    names = [p.name for p in paths]
    assert any(n.startswith("imap_ialirt_l1_") for n in names), names
    assert any(n.startswith("imap_swe_") for n in names)
    assert not any(n.startswith("imap_mag_") for n in names)
