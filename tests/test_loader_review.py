"""ie.load edge cases found in a review of the loader, each on small CDF files written in tmp_path."""

from __future__ import annotations

import numpy as np

from imap_explorer.cdf import load
from tests.test_cdf import epoch_var, tt, write_cdf


def test_load_non_record_varying_variable_without_a_record_reads_as_fill(tmp_path):
    path = write_cdf(tmp_path / "imap_mag_l2_norm-gse_20260120_v001.cdf", [
        epoch_var(tt("2026-01-20T00:00", "2026-01-20T00:01")),
        ({"Variable": "cal", "Data_Type": 45, "Rec_Vary": False, "Dim_Sizes": [3]}, {"VAR_TYPE": "support_data"},
         None),
        ({"Variable": "offset", "Data_Type": 45, "Rec_Vary": False}, {"VAR_TYPE": "support_data"}, None),
        ({"Variable": "mode", "Data_Type": 2, "Rec_Vary": False},
         {"VAR_TYPE": "support_data", "FILLVAL": np.int16(-32768)}, None),
    ])
    for ds in (load(path), load([path, path]), load(path, chunks={})):
        assert ds.cal.shape == (3,)
        assert bool(ds.cal.isnull().all())
        assert ds.offset.shape == ()
        assert bool(ds.offset.isnull())
        assert ds.mode.dtype == np.int16
        assert int(ds.mode) == -32768
        assert ds.sizes["epoch"] == 2
