"""Write the small CDF files in this folder with the SDC's own pipeline code (imap-processing).

The files are committed, so the loader is tested on them in every run without imap-processing installed (it pins
an older xarray and pulls in SPICE and astropy). To write them again, in a throwaway environment::

    python -m venv /tmp/ip && /tmp/ip/bin/pip install "imap-processing==1.0.40" -e .
    /tmp/ip/bin/python tests/sdc_writer/make_files.py

Each is stored as ``sdc-writer_<rest of its SDC name>`` (the tests copy it back under its SDC name), so that no
file in the repository can be taken for a flight file.

* ``imap_mag_l2_norm-gse_20260120_v001.0002.cdf``: a MAG L2 dataset built with the pipeline's attribute tables
  (``ImapCdfAttributes``, mag l2) and written by ``imap_processing.cdf.utils.write_cdf``; rows 100-109 are NaN
  (written as FILLVAL).
* ``imap_swe_l2_sci_20260120_v001.0001.cdf``: ``imap_processing.swe.l2.swe_l2.swe_l2`` run on three records of the
  synthetic SWE L1B (``imap_explorer.synthetic``), then ``write_cdf``. SWE L2 needs the spin phase from SPICE
  kernels, which are not available here: it is replaced by the phase of a nominal 15 s spin. Everything else is
  the pipeline's own code.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import xarray as xr

HERE = Path(__file__).resolve().parent


def _mag_l2(am_cls) -> xr.Dataset:
    am = am_cls()
    am.add_instrument_global_attrs("mag")
    am.add_instrument_variable_attrs("mag", "l2")
    n = 600
    epoch = 822139269184000000 + np.arange(n, dtype=np.int64) * 500_000_000  # 2026-01-20T00:00:00, 2 Hz
    t = np.arange(n) / 600
    vectors = np.stack([3 + np.sin(2 * np.pi * t), -4 + np.cos(2 * np.pi * t), 1 + t], axis=1)
    vectors[100:110] = np.nan

    def attrs(name):
        return am.get_variable_attributes(name, check_schema=False)

    ds = xr.Dataset(coords={
        "epoch": xr.DataArray(epoch, dims=["epoch"], attrs=attrs("epoch")),
        "direction": xr.DataArray(np.arange(3), dims=["direction"], attrs=attrs("direction_attrs")),
        "direction_label": xr.DataArray(np.array(["Bx", "By", "Bz"]), dims=["direction_label"],
                                        attrs=attrs("direction_label")),
    }, attrs=am.get_global_attributes("imap_mag_l2_norm-gse") | {"Data_version": "001.0002"})
    ds["b_gse"] = xr.DataArray(vectors, dims=["epoch", "direction"], attrs=attrs("vector_attrs_gse"))
    ds["quality_flags"] = xr.DataArray(np.zeros(n, np.uint8), dims=["epoch"], attrs=am.get_variable_attributes("qf"))
    ds["range"] = xr.DataArray(np.full(n, 2, np.uint8), dims=["epoch"], attrs=attrs("range"))
    ds["magnitude"] = xr.DataArray(np.linalg.norm(vectors, axis=1), dims=["epoch"], attrs=attrs("magnitude"))
    return ds


def main() -> int:
    from imap_data_access import config as ida_config
    from imap_processing.cdf.imap_cdf_manager import ImapCdfAttributes
    from imap_processing.cdf.utils import load_cdf, write_cdf
    from imap_processing.swe.l2 import swe_l2

    from imap_explorer.synthetic import SolarWind
    from imap_explorer.synthetic.swe import write_swe_day

    with tempfile.TemporaryDirectory() as tmp:
        ida_config["DATA_DIR"] = Path(tmp) / "out"
        written = [write_cdf(_mag_l2(ImapCdfAttributes))]

        l1b_path = write_swe_day(Path(tmp) / "in", "2026-01-20", model=SolarWind("2026-01-20"), hours=(12.0, 12.05),
                                 levels=("l1b",))[0]
        l1b = load_cdf(l1b_path).isel(epoch=slice(0, 3))

        def nominal_spin_phase(query_met_times, instrument=None):
            return np.mod(np.asarray(query_met_times, dtype=float) / 15.0, 1.0)

        with mock.patch.object(swe_l2, "get_instrument_spin_phase", nominal_spin_phase):
            l2 = swe_l2.swe_l2(l1b)
        l2.attrs["Data_version"] = "001.0001"
        written.append(write_cdf(l2))

        for path in written:
            stored = HERE / path.name.replace("imap_", "sdc-writer_", 1)  # not to be taken for a flight file
            shutil.copy(path, stored)
            print(f"wrote {stored.name} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
