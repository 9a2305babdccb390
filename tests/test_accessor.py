"""ds.imap: product identity, files and versions, MAG vector helper, quick-look delegation."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from imap_explorer.cdf import load
from tests.conftest import REAL, requires_real

MAG_L1B = REAL / "imap/mag/l1b/2025/10/imap_mag_l1b_norm-mago_20251017_v001.0001.cdf"
MAG_L2 = REAL / "imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf"
SWE_L2 = REAL / "imap/swe/l2/2026/05/imap_swe_l2_sci_20260512_v001.cdf"


@requires_real
def test_accessor_identity_from_a_real_file():
    ds = load(SWE_L2)
    assert ds.imap.logical_source == "imap_swe_l2_sci"
    assert (ds.imap.instrument, ds.imap.data_level, ds.imap.descriptor) == ("swe", "l2", "sci")
    assert ds.imap.files == [SWE_L2]
    assert ds.imap.version == "v001"
    assert "imap_swe_l2_sci" in repr(ds.imap)


@requires_real
def test_accessor_version_trusts_the_file_name():
    ds = load(MAG_L1B)  # Logical_file_id and Data_version say v002
    assert ds.attrs["Data_version"] == "v002"
    assert ds.imap.version == "v001.0001"


def test_accessor_without_files_uses_attributes():
    ds = xr.Dataset(attrs={"Logical_source": "imap_mag_l1d_norm-rtn", "Data_version": "005"})
    assert ds.imap.descriptor == "norm-rtn"
    assert ds.imap.version == "v005"
    assert ds.imap.files == []
    assert xr.Dataset().imap.instrument is None


@requires_real
def test_accessor_magnetic_field_components_from_frame():
    ds = load(MAG_L2)
    assert ds.imap.vector_variable == "b_dsrf"
    b = ds.imap.magnetic_field()
    assert b.dims == ("epoch", "component")
    assert b.component.values.tolist() == ["Bx", "By", "Bz"]  # not the file's '0', '1', '2'
    assert b.attrs["units"] == "nT"
    np.testing.assert_array_equal(b.values, ds.b_dsrf.values)
    l1b = load(MAG_L1B).imap.magnetic_field()  # vectors = [x, y, z, range]: first three columns
    assert l1b.shape == (3504, 3)
    with pytest.raises(KeyError, match="No MAG vector"):
        load(SWE_L2).imap.magnetic_field()


def test_accessor_magnetic_field_of_l1a_is_in_counts():
    ds = xr.Dataset({"vectors": (("epoch", "direction"), np.arange(8, dtype=np.int64).reshape(2, 4),
                                 {"UNITS": " "})},
                    coords={"direction": np.arange(4)}, attrs={"Logical_source": "imap_mag_l1a_norm-mago"})
    b = ds.imap.magnetic_field()
    assert b.attrs["units"] == "counts"  # raw L1A counts, as quicklook labels them; nT from L1B on
    assert b.values.tolist() == [[0, 1, 2], [4, 5, 6]]
    ds.attrs["Logical_source"] = "imap_mag_l1b_norm-mago"
    assert ds.imap.magnetic_field().attrs["units"] == "nT"


@requires_real
def test_accessor_quicklook_delegates_to_plot():
    pytest.importorskip("imap_explorer.plot")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    ds = load(MAG_L2, time_range=("2026-01-20T09:00", "2026-01-20T11:00"))
    fig = ds.imap.quicklook()
    assert isinstance(fig, Figure)
    assert fig.axes


@requires_real
def test_accessor_mask_quality_is_explicit():
    ds = load(MAG_L2)
    assert int(ds.b_dsrf.isnull().all("direction").sum()) == 436  # loading does not apply the flags
    masked = ds.imap.mask_quality()
    flagged = ds.quality_flags.values != 0
    assert flagged.sum() == 7
    assert bool(masked.b_dsrf[flagged].isnull().all())
    assert int(masked.b_dsrf.isnull().all("direction").sum()) == 436 + 7
    assert bool(masked.magnitude[flagged].isnull().all())
    assert masked.range.dtype == ds.range.dtype  # integers untouched
    np.testing.assert_array_equal(masked.quality_flags.values, ds.quality_flags.values)
    with pytest.raises(KeyError, match="No quality variable 'nope'"):
        ds.imap.mask_quality("nope")
