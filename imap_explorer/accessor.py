"""The ``ds.imap`` accessor: what product a loaded Dataset is, where it came from, and a quick-look.

Registered when :mod:`imap_explorer.cdf` is imported (``ie.load`` and the ``imap_cdf`` xarray engine do it).

Examples
--------
>>> import xarray as xr
>>> ds = xr.Dataset(attrs={"Logical_source": "imap_mag_l2_norm-gse"})
>>> ds.imap.instrument, ds.imap.data_level, ds.imap.descriptor
('mag', 'l2', 'norm-gse')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from imap_explorer.filenames import parse_filename

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["ImapAccessor"]

#: Component names of a MAG vector, by frame (the flight files label them '0', '1', '2').
FRAME_COMPONENTS = {
    "srf": ("Bx", "By", "Bz"),
    "dsrf": ("Bx", "By", "Bz"),
    "gse": ("Bx", "By", "Bz"),
    "gsm": ("Bx", "By", "Bz"),
    "rtn": ("B_R", "B_T", "B_N"),
}


@xr.register_dataset_accessor("imap")
class ImapAccessor:
    """IMAP conveniences on a Dataset loaded by :func:`imap_explorer.load`."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    # ---------------------------------------------------------------------------------------------- identity
    @property
    def logical_source(self) -> str | None:
        """``imap_<instrument>_<data_level>_<descriptor>``, from the global attribute or the file name."""
        value = self._ds.attrs.get("Logical_source")
        if isinstance(value, str) and value.count("_") >= 3:
            return value.strip()
        info = self._info()
        if info is not None and info.instrument:
            return f"imap_{info.instrument}_{info.data_level}_{info.descriptor}"
        return None

    def _part(self, i: int) -> str | None:
        source = self.logical_source
        return source.split("_", 3)[i] if source else None

    @property
    def instrument(self) -> str | None:
        """Instrument, e.g. ``"mag"``."""
        return self._part(1)

    @property
    def data_level(self) -> str | None:
        """Data level, e.g. ``"l2"``."""
        return self._part(2)

    @property
    def descriptor(self) -> str | None:
        """Descriptor, e.g. ``"norm-gse"``."""
        return self._part(3)

    @property
    def files(self) -> list[Path]:
        """The files the Dataset was loaded from, in time order (empty if it was built otherwise)."""
        sources = self._ds.encoding.get("source_files")
        if sources is None and self._ds.encoding.get("source"):
            sources = [self._ds.encoding["source"]]
        return [Path(s) for s in sources or []]

    @property
    def version(self) -> str | tuple[str, ...] | None:
        """The file version (``"v003"``, ``"v001.0002"``) from the file names, which the SDC treats as authoritative.

        One string when every file has the same version, else a tuple with one version per file (time order);
        falls back to the ``Data_version`` global attribute when there is no file name to read.
        """
        versions = []
        for path in self.files:
            try:
                versions.append(parse_filename(path.name).version)
            except ValueError:
                versions.append(None)
        found = [v for v in versions if v]
        if found:
            return found[0] if len(set(found)) == 1 and len(found) == len(versions) else tuple(versions)
        value = self._ds.attrs.get("Data_version")
        if isinstance(value, str) and value.strip():
            value = value.strip()
            return value if value.startswith("v") else f"v{value}"
        return None

    def _info(self):
        for path in self.files:
            try:
                return parse_filename(path.name)
            except ValueError:
                continue
        return None

    # ---------------------------------------------------------------------------------------------- data
    @property
    def vector_variable(self) -> str | None:
        """Name of the MAG field vector (``b_<frame>``, else ``vectors``), or None."""
        names = [n for n in self._ds.data_vars if str(n).startswith("b_") and str(n)[2:] in FRAME_COMPONENTS]
        if names:
            return str(names[0])
        return "vectors" if "vectors" in self._ds.data_vars else None

    def magnetic_field(self) -> xr.DataArray:
        """The MAG field vector as ``(epoch, component)`` with the frame's component names (first three columns).

        Raises
        ------
        KeyError
            The Dataset has no ``b_<frame>`` or ``vectors`` variable.
        """
        name = self.vector_variable
        if name is None:
            names = ", ".join(sorted(map(str, self._ds.data_vars)))
            raise KeyError(f"No MAG vector variable (b_<frame> or vectors) among: {names}.")
        var = self._ds[name]
        frame = name[2:] if name.startswith("b_") else (self.descriptor or "").rsplit("-", 1)[-1]
        comps = FRAME_COMPONENTS.get(frame, ("Bx", "By", "Bz"))
        dim = var.dims[1]
        out = var.isel({dim: slice(0, 3)}).drop_vars([c for c in var.coords if dim in var[c].dims])
        out = out.rename({dim: "component"}).assign_coords(component=list(comps))
        units = str(var.attrs.get("units", "")).strip()
        out.attrs = dict(var.attrs, units=units or ("counts" if self.data_level == "l1a" else "nT"))  # L1A: raw
        return out

    def mask_quality(self, flags: str = "quality_flags") -> xr.Dataset:
        """Return a copy with float data variables set to NaN where ``flags`` is non-zero.

        Loading never applies quality flags (``products.md`` §6.8); this is the explicit opt-in. Only float
        ``data_vars`` sharing the flag's record dimension are masked; coordinates, integers and the flag
        variable itself are kept. For MAG L2 use ``quality_flags`` (0 = good). Do not use it on SWE
        ``data_quality``: its bit 2 (value 4) marks a calibration extrapolation, set on most flight records.

        Raises
        ------
        KeyError
            The Dataset has no variable ``flags``.
        """
        if flags not in self._ds.variables:
            names = ", ".join(sorted(map(str, self._ds.data_vars)))
            raise KeyError(f"No quality variable {flags!r}; data variables: {names}.")
        flag = self._ds[flags]
        bad = flag.notnull() & (flag != 0)
        out = self._ds.copy()
        for name, var in self._ds.data_vars.items():
            if name != flags and var.dtype.kind == "f" and set(flag.dims) <= set(var.dims):
                out[name] = var.where(~bad)
        return out

    def quicklook(self, **kwargs: Any) -> Figure:
        """Plot the Dataset with :func:`imap_explorer.plot.quicklook` (keywords are passed on)."""
        from imap_explorer.plot import quicklook

        return quicklook(self._ds, **kwargs)

    def __repr__(self) -> str:
        return (f"<imap accessor: {self.logical_source or 'unknown product'}, version {self.version}, "
                f"{len(self.files)} file(s)>")
