"""The xarray engine "imap_cdf": entry point, guess_can_open, lazy indexing, chunks, keywords."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
import xarray as xr

from imap_explorer.backend import ImapCdfBackendEntrypoint
from imap_explorer.cdf import load
from imap_explorer.exceptions import InvalidFileError
from tests.conftest import REAL, requires_real

MAG_L2 = REAL / "imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf"
SWE_L2 = REAL / "imap/swe/l2/2026/05/imap_swe_l2_sci_20260512_v001.cdf"


def test_backend_is_registered_with_description_and_url():
    engine = xr.backends.list_engines()["imap_cdf"]
    assert isinstance(engine, ImapCdfBackendEntrypoint)
    assert "CDF" in engine.description
    assert engine.url.startswith("https://")
    assert {"drop_variables", "variables", "time_range"} <= set(engine.open_dataset_parameters)


@requires_real
def test_backend_guess_can_open_by_suffix_or_magic_bytes(tmp_path):
    engine = ImapCdfBackendEntrypoint()
    assert engine.guess_can_open("anything.CDF")
    renamed = tmp_path / "data.bin"
    shutil.copy(SWE_L2, renamed)
    assert engine.guess_can_open(renamed)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert not engine.guess_can_open(text)
    assert not engine.guess_can_open(tmp_path / "missing.nc")
    assert not engine.guess_can_open(b"\xcd\xf3\x00\x01")
    ds = xr.open_dataset(renamed)  # engine found by magic bytes, no engine= given
    assert ds.sizes["epoch"] == 6


@requires_real
def test_backend_open_dataset_matches_load_and_reads_lazily(record_reads):
    ds = xr.open_dataset(MAG_L2, engine="imap_cdf")
    assert ("b_dsrf", 172_800) not in record_reads  # nothing but the time axis read yet
    window = ds.b_dsrf.isel(epoch=slice(72_000, 72_010)).values
    assert ("b_dsrf", 10) in record_reads
    eager = load(MAG_L2)
    np.testing.assert_array_equal(window, eager.b_dsrf.values[72_000:72_010])
    for key in [-1, (-2, 1), slice(None, None, -5000), (slice(10, 40, 7), slice(None, None, -1))]:
        np.testing.assert_array_equal(ds.b_dsrf[key].values,
                                      eager.b_dsrf.values[key], err_msg=str(key))
    xr.testing.assert_identical(ds.load(), eager)
    assert ds.imap.instrument == "mag"


@requires_real
def test_backend_chunks_give_dask_arrays():
    ds = xr.open_dataset(MAG_L2, engine="imap_cdf", chunks={"epoch": 40_000})
    assert ds.b_dsrf.chunks[0][:2] == (40_000, 40_000)
    assert int(ds.b_dsrf.isnull().all("direction").sum().compute()) == 436


@requires_real
def test_backend_datasets_and_chunked_graphs_pickle():
    eager = load(SWE_L2)
    chunked = xr.open_dataset(SWE_L2, engine="imap_cdf", chunks={"epoch": 4})
    graph = pickle.loads(pickle.dumps(chunked.flux.data))  # what dask.distributed ships to its workers
    np.testing.assert_array_equal(graph.compute(), eager.flux.values)
    lazy = pickle.loads(pickle.dumps(xr.open_dataset(SWE_L2, engine="imap_cdf")))
    xr.testing.assert_identical(lazy.load(), eager)


@requires_real
def test_backend_keywords_drop_select_and_time_range():
    ds = xr.open_dataset(MAG_L2, engine="imap_cdf", drop_variables=["quality_bitmask", "range"])
    assert "range" not in ds
    assert "quality_bitmask" not in ds
    assert ds.b_dsrf.dims == ("epoch", "direction")
    ds = xr.open_dataset(SWE_L2, engine="imap_cdf", variables=["data_quality"],
                         time_range=("2026-05-12T00:00", None))
    assert set(ds.variables) == {"data_quality", "epoch"}
    assert ds.sizes["epoch"] == 5


def test_backend_bad_file_raises_invalid_file_error(tmp_path):
    page = tmp_path / "imap_swe_l2_sci_20260512_v001.cdf"
    page.write_text("<html><body>Not Found</body></html>")
    with pytest.raises(InvalidFileError, match="HTML"):
        xr.open_dataset(page, engine="imap_cdf")
