"""The xarray engine ``imap_cdf``: ``xr.open_dataset(path, engine="imap_cdf")`` with the rules of :func:`ie.load`.

A thin :class:`xarray.backends.BackendEntrypoint` over :mod:`imap_explorer.cdf`, registered in ``pyproject.toml``
under ``[project.entry-points."xarray.backends"]``. Record-varying variables come back lazily indexed: a slice
reads only its records, and ``chunks=`` gives dask arrays without reading the file first.

Examples
--------
>>> import xarray as xr
>>> ds = xr.open_dataset("imap_mag_l2_norm-dsrf_20260120_v003.cdf", engine="imap_cdf")  # doctest: +SKIP
>>> ImapCdfBackendEntrypoint().guess_can_open("imap_swe_l2_sci_20260512_v001.cdf")
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, ClassVar

import xarray as xr
from xarray.backends import BackendEntrypoint

from imap_explorer._reader import CDF_MAGIC

__all__ = ["ImapCdfBackendEntrypoint"]


class ImapCdfBackendEntrypoint(BackendEntrypoint):
    """Open IMAP CDF files with imap-explorer's ISTP rules (epoch as UTC datetime64, fill as NaN, named dims)."""

    description = "Open IMAP (ISTP) CDF files: exact UTC epoch, fill as NaN, DEPEND/LABL_PTR dimensions"
    url = "https://github.com/imap-explorer/imap-explorer"
    open_dataset_parameters: ClassVar[tuple[str, ...]] = (
        "filename_or_obj", "drop_variables", "variables", "time_range", "on_error", "mask_and_scale", "decode_times",
        "decode_timedelta", "use_cftime", "concat_characters", "decode_coords",
    )

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike[Any],
        *,
        drop_variables: str | Iterable[str] | None = None,
        variables: str | Iterable[str] | None = None,
        time_range: Any = None,
        on_error: str = "raise",
        mask_and_scale: bool = True,
        decode_times: bool = True,
        decode_timedelta: Any = None,
        use_cftime: Any = None,
        concat_characters: Any = None,
        decode_coords: Any = None,
    ) -> xr.Dataset:
        """Open one CDF file (or a list of files) as a lazily indexed Dataset.

        Parameters
        ----------
        filename_or_obj : path-like
            A CDF file (a list of files is concatenated as in :func:`imap_explorer.load`).
        drop_variables : str or list of str, optional
            Variables not to read.
        variables : str or list of str, optional
            Read only these variables and what they depend on.
        time_range : (start, end), optional
            Keep only ``start <= epoch < end``.
        on_error : {"raise", "skip"}, default "raise"
            As in :func:`imap_explorer.load`.
        mask_and_scale : bool, default True
            False keeps fill values as stored: no NaN, integer data keep their type (``decode_cf=False`` too).
        decode_times : bool, default True
            False keeps times as stored (TT2000 nanoseconds as int64).
        decode_timedelta, use_cftime, concat_characters, decode_coords
            Accepted for xarray's sake and ignored: there are no CF timedeltas or coordinates attributes in ISTP
            files, times are always ``datetime64[ns]`` and strings are always decoded.

        Returns
        -------
        xarray.Dataset
        """
        from imap_explorer.cdf import _load

        if not isinstance(filename_or_obj, (str, os.PathLike, list, tuple)):
            msg = (f"The imap_cdf engine reads CDF files from paths; got {type(filename_or_obj).__name__}. "
                   "Save the data to a file first.")
            raise TypeError(msg)
        return _load(filename_or_obj, variables=variables, time_range=time_range, chunks=None, on_error=on_error,
                     drop_variables=drop_variables, mode="backend", mask_and_scale=bool(mask_and_scale),
                     decode_times=bool(decode_times))

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """True for a path ending in ``.cdf`` or an existing file starting with the CDF magic bytes."""
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return False
        path = os.fspath(filename_or_obj)
        if str(path).lower().endswith(".cdf"):
            return True
        try:
            with open(path, "rb") as fh:
                return fh.read(4) in CDF_MAGIC
        except OSError:
            return False
