"""File names: classification, storage keys (sdc-api.md section 8.5), path checks and edge cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from imap_explorer.filenames import check_file_path, local_path, parse_filename, sdc_key

# sdc-api.md section 8.5, plus one of each SPICE pattern of section 8.4
KEYS = [
    ("imap_mag_l1b_norm-mago_20251107_v001.0001.cdf",
     "imap/mag/l1b/2025/11/imap_mag_l1b_norm-mago_20251107_v001.0001.cdf"),
    ("imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf",
     "imap/hi/l1c/2025/11/imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf"),
    ("imap_glows_l3b_ion-rate-profile_20250101-cr02290_v001.0001.cdf",
     "imap/glows/l3b/2025/01/imap_glows_l3b_ion-rate-profile_20250101-cr02290_v001.0001.cdf"),
    ("imap_mag_l2_norm-dsrf_20260120_v003.cdf", "imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf"),
    ("imap_mag_l1b_norm-mago_20251107_v001.0001.png",
     "imap/quicklook/mag/l1b/2025/11/imap_mag_l1b_norm-mago_20251107_v001.0001.png"),
    ("imap_mag_l1b_norm-mago_20251107_v001.0001.json",
     "imap/dependency/mag/l1b/2025/11/imap_mag_l1b_norm-mago_20251107_v001.0001.json"),
    ("imap_mag_l1b-cal_20250101_20251231_v002.cdf", "imap/ancillary/mag/imap_mag_l1b-cal_20250101_20251231_v002.cdf"),
    ("imap_hi_esa-energies_20250101-repoint00010_v001.csv",
     "imap/ancillary/hi/imap_hi_esa-energies_20250101-repoint00010_v001.csv"),
    ("imap_mag_data-release-1_20250101_20251231_v001.txt",
     "imap/release/mag/imap_mag_data-release-1_20250101_20251231_v001.txt"),
    ("imap_swe_l0_raw_20260120_v001.pkts", "imap/swe/l0/2026/01/imap_swe_l0_raw_20260120_v001.pkts"),
    ("imap_2025_302_2025_303_001.ah.bc", "imap/spice/ck/imap_2025_302_2025_303_001.ah.bc"),
    ("imap_2025_302_2025_303_001.ap.bc", "imap/spice/ck/imap_2025_302_2025_303_001.ap.bc"),
    ("imap_dps_2025_121_2025_202_07.ah.bc", "imap/spice/ck/imap_dps_2025_121_2025_202_07.ah.bc"),
    ("imap_lopivot-repoint00125_2026_013_2026_014_001.bc",
     "imap/spice/ck/imap_lopivot-repoint00125_2026_013_2026_014_001.bc"),
    ("imap_recon_20250925_20260420_v01.bsp", "imap/spice/spk/imap_recon_20250925_20260420_v01.bsp"),
    ("imap_pred_od004_20251002_20251113_v01.bsp", "imap/spice/spk/imap_pred_od004_20251002_20251113_v01.bsp"),
    ("de440.bsp", "imap/spice/spk/de440.bsp"),
    ("L1_de431.bsp", "imap/spice/spk/L1_de431.bsp"),
    ("pck00011.tpc", "imap/spice/pck/pck00011.tpc"),
    ("earth_000101_251112_250817.bpc", "imap/spice/pck/earth_000101_251112_250817.bpc"),
    ("naif0012.tls", "imap/spice/lsk/naif0012.tls"),
    ("imap_sclk_0162.tsc", "imap/spice/sclk/imap_sclk_0162.tsc"),
    ("imap_130.tf", "imap/spice/fk/imap_130.tf"),
    ("imap_science_120.tf", "imap/spice/fk/imap_science_120.tf"),
    ("imap_sdc_metakernel_2025_v100.tm", "imap/spice/mk/imap_sdc_metakernel_2025_v100.tm"),
    ("imap_2025_005_a01.spice.mk", "imap/spice/mk/imap_2025_005_a01.spice.mk"),
    ("IMAP_2025_005_e01.mk", "imap/spice/mk/IMAP_2025_005_e01.mk"),
    ("imap_2025_122_2025_122_01.spin.csv", "imap/spice/spin/imap_2025_122_2025_122_01.spin.csv"),
    ("imap_2025_122_2025_122_01.spin", "imap/spice/spin/imap_2025_122_2025_122_01.spin"),
    ("imap_2025_230_01.repoint.csv", "imap/spice/repoint/imap_2025_230_01.repoint.csv"),
    ("imap_2026_267_2026_267_hist_02.sff", "imap/spice/activities/imap_2026_267_2026_267_hist_02.sff"),
]


@pytest.mark.parametrize(("name", "key"), KEYS)
def test_filenames_sdc_key_matches_the_reference(name, key):
    assert sdc_key(name) == key
    assert sdc_key(key) == key  # directories are ignored
    assert check_file_path(key) == key
    assert check_file_path(name) == key


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("imap_mag_l1b_norm-mago_20251107_v001.0001.cdf", "science"),
        ("imap_mag_l1b-cal_20250101_20251231_v002.cdf", "ancillary"),  # science regex matches, level check fails
        ("imap_mag_l1b_norm-mago_20251107_v001.0001.png", "quicklook"),
        ("imap_mag_l1b_norm-mago_20251107_v001.0001.json", "dependency"),
        ("imap_mag_data-release-1_20250101_20251231_v001.txt", "release"),
        ("naif0012.tls", "spice"),
        ("IMAP_2025_005_e01.mk", "spice"),  # the SPICE patterns are case-insensitive ...
    ],
)
def test_filenames_classification_order(name, kind):
    assert parse_filename(name).kind == kind


def test_filenames_parse_science_parts():
    info = parse_filename("imap/hi/l1c/2025/11/imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf")
    assert info.filename == "imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf"
    assert (info.instrument, info.data_level, info.descriptor) == ("hi", "l1c", "45sensor-pset")
    assert info.start_date == dt.date(2025, 11, 7)
    assert (info.repointing, info.cr) == (123, None)
    assert (info.version, info.major_version, info.minor_version) == ("v002.0003", 2, 3)
    assert info.extension == "cdf"
    cr = parse_filename("imap_glows_l3b_ion-rate-profile_20250101-cr02290_v001.0001.cdf")
    assert (cr.repointing, cr.cr) == (None, 2290)


def test_filenames_legacy_version_has_no_major():
    info = parse_filename("imap_mag_l2_norm-dsrf_20260120_v003.cdf")
    assert (info.version, info.major_version, info.minor_version) == ("v003", None, 3)


def test_filenames_ancillary_parts():
    info = parse_filename("imap_mag_l1b-cal_20250101_20251231_v002.cdf")
    assert (info.instrument, info.descriptor, info.data_level) == ("mag", "l1b-cal", None)
    assert (info.start_date, info.end_date) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert info.version == "v002"
    assert parse_filename("imap_hi_esa-energies_20250101-repoint00010_v001.csv").repointing == 10


def test_filenames_spice_kernel_types():
    assert parse_filename("imap_2025_302_2025_303_001.ah.bc").kernel_type == "attitude_history"
    assert parse_filename("de440.bsp").kernel_type == "planetary_ephemeris"
    assert parse_filename("imap_2026_267_2026_267_hist_02.sff").kernel_type == "thruster"


@pytest.mark.parametrize(
    "name",
    [
        "imap_foo_l1a_x_20250101_v001.cdf",  # unknown instrument (section 8.5)
        "imap_mag_l9_norm-gse_20260120_v001.cdf",  # unknown level
        "imap_mag_l2_norm-gse_20260230_v001.cdf",  # no such day
        "imap_mag_l2_norm-gse_20260120_v1.cdf",  # version needs 3 digits
        "imap_mag_l2_norm-gse_20260120_v001.0001.txt",  # extension of no class
        "imap_mag_l2_norm_gse_20260120_v001.cdf",  # '_' inside the descriptor
        "imap_mag_l2_norm-gse_20260120-repoint0012_v001.cdf",  # repointing needs 5 digits
        "imap_mag_l1b-cal_20250101_20251331_v002.cdf",  # bad ancillary end date
        "imap_mag_l1b-cal_20250101_v002.png",  # ancillary regex takes png, validation refuses it
        "imap_2025_410_2025_411_001.ah.bc",  # day of year 410
        "imap_SDC_metakernel_2025_v100.tm",  # the SDC metakernel is case-sensitive
        "notes.txt",
        "",
    ],
)
def test_filenames_invalid_names_are_refused(name):
    with pytest.raises(ValueError, match="is not an IMAP file name. Expected for example"):
        parse_filename(name)


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "/imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf",
        "imap/mag/l2/2026/01/../01/imap_mag_l2_norm-dsrf_20260120_v003.cdf",
        "./imap_mag_l2_norm-dsrf_20260120_v003.cdf",
        "..\\..\\imap_mag_l2_norm-dsrf_20260120_v003.cdf",
        "\\imap_mag_l2_norm-dsrf_20260120_v003.cdf",
        "C:imap_mag_l2_norm-dsrf_20260120_v003.cdf",
    ],
)
def test_filenames_check_file_path_refuses_escapes(bad):
    with pytest.raises(ValueError, match=r"Refusing file path .*without '\.\.' or a leading '/'"):
        check_file_path(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "imap/swe/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf",  # wrong instrument directory
        "imap/mag/l2/2026/02/imap_mag_l2_norm-dsrf_20260120_v003.cdf",  # wrong month
        "data/imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf",  # extra leading directory
        "imap//mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf",
    ],
)
def test_filenames_check_file_path_refuses_a_mismatched_layout(bad):
    with pytest.raises(ValueError, match="its directories do not match the SDC layout, expected 'imap/mag/l2/2026/01/"):
        check_file_path(bad)


def test_filenames_check_file_path_rejects_a_directory_only():
    with pytest.raises(ValueError, match="is not an IMAP file name"):
        check_file_path("imap/mag/l2/2026/01/")


def test_filenames_local_path_stays_inside_the_archive(tmp_path):
    name = "imap_swe_l2_sci_20260512_v001.cdf"
    path = local_path(tmp_path, name)
    assert path == tmp_path / "imap" / "swe" / "l2" / "2026" / "05" / name
    assert path.resolve().is_relative_to(tmp_path.resolve())
    assert local_path(str(tmp_path), Path(sdc_key(name))) == path
    with pytest.raises(ValueError, match="Refusing"):
        local_path(tmp_path, "../" + name)


# SPICE names the SDC accepts or refuses (it validates with imap-data-access 1.3.0's 13 patterns, §8.4)
SPICE_NAMES = [
    ("imap_2025_302_2025_303_01.ah.bc", "attitude_history", "ck"),  # any number of version digits
    ("imap_2025_302_2025_303_1.ap.bc", "attitude_predict", "ck"),
    ("imap_dps_2025_121_2025_202_7.ah.bc", "pointing_attitude", "ck"),
    ("imap_lopivot-repoint00125_2026_013_2026_014_01.bc", "lo_pivot_attitude", "ck"),
    ("imap_recon_20250925_20260420_v01.bsp", "ephemeris_reconstructed", "spk"),  # one type per source
    ("imap_pred_od004_20251002_20251113_v01.bsp", "ephemeris_predicted", "spk"),
    ("imap_90days_20251002_20251113.bsp", "ephemeris_90days", "spk"),  # the version is optional
    ("imap_nom_20251002_20251113_v1.bsp", "ephemeris_nominal", "spk"),
    ("naif12.tls", "leapseconds", "lsk"),
    ("imap_sclk_162.tsc", "spacecraft_clock", "sclk"),
    ("imap_1.tf", "imap_frames", "fk"),
    ("imap_science_1.tf", "science_frames", "fk"),
    ("imap_2025_122_2025_122_001.spin.csv", "spin", "spin"),
    ("imap_2025_230_1.repoint", "repoint", "repoint"),
    ("imap_2026_267_2026_267_burn-a_02.sff", "thruster", "activities"),  # any activity word
]
SPICE_REFUSED = [
    "NAIF0012.TLS",  # ... but the kernel type they capture is looked up case-sensitively
    "IMAP_2025_302_2025_303_001.AH.BC",
    "imap_2025_005_b01.spice.mk",  # MOC metakernels are a<NN>.spice.mk or e<NN>.mk
    "de440s.bsp",
    "earth_000101_251340_250817.bpc",  # no 40th day of December
    "imap_foo_20251002_20251113_v01.bsp",  # no such ephemeris source
]


@pytest.mark.parametrize(("name", "kernel_type", "subdir"), SPICE_NAMES)
def test_filenames_spice_names_the_sdc_accepts(name, kernel_type, subdir):
    info = parse_filename(name)
    assert (info.kind, info.kernel_type, info.key) == ("spice", kernel_type, f"imap/spice/{subdir}/{name}")


@pytest.mark.parametrize("name", SPICE_REFUSED)
def test_filenames_spice_names_the_sdc_refuses(name):
    with pytest.raises(ValueError, match="is not an IMAP file name"):
        parse_filename(name)


@pytest.mark.parametrize("name", [n for n, _, _ in SPICE_NAMES] + SPICE_REFUSED + [k[0] for k in KEYS])
def test_filenames_classify_like_the_official_client(name, monkeypatch):
    import imap_data_access
    from imap_data_access.file_validation import generate_imap_file_path

    monkeypatch.setitem(imap_data_access.config, "DATA_DIR", Path())
    try:
        official = generate_imap_file_path(name).construct_path().as_posix()
    except ValueError:
        official = None
    try:
        ours = sdc_key(name)
    except ValueError:
        ours = None
    assert ours == official
