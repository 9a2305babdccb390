"""What a dataset is: its product (``Logical_source``) and the ISTP hints of its variables (pure, no drawing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

PlotKind = Literal["time_series", "spectrogram", "none"]

#: MAG reference frames that appear in L1D/L2 descriptors (``norm-gse``, ``burst-rtn`` ...).
MAG_FRAMES = ("srf", "dsrf", "gse", "gsm", "rtn")
#: Nominal SWE ESA step energies in eV (voltage x 4.75), used when a product has no energy coordinate.
SWE_ENERGIES_EV = (2.66, 3.705, 5.13, 7.1725, 9.975, 13.87, 19.285, 26.79, 37.2875, 51.87, 72.1525, 100.3675,
                   139.6025, 194.18, 270.1325, 375.725, 522.6425, 726.9875, 1011.2275, 1406.665, 1956.6675,
                   2721.7025, 3785.8925, 5266.135)
#: Default energy (eV) of the SWE L3 pitch-angle panel: the strahl is strongest between 100 eV and 1 keV.
DEFAULT_PITCH_ANGLE_ENERGY_EV = 270.0
#: At most this many panels are drawn from the generic (ISTP) rules; the rest are named in a warning.
MAX_GENERIC_PANELS = 6
#: CCSDS packet-header fields, never worth a quick-look panel.
_HEADER_FIELDS = frozenset({"version", "type", "sec_hdr_flg", "pkt_apid", "seq_flgs", "src_seq_ctr", "pkt_len",
                            "cksum", "shcoarse"})
_SWE_SPECTRA = ("flux", "phase_space_density", "science_data", "flux_spin_sector", "phase_space_density_spin_sector")
_SWE_PITCH_ANGLE = ("phase_space_density_by_pitch_angle", "intensity_by_pitch_angle")
_SWE_MOMENTS: tuple[tuple[str, str], ...] = (
    ("Density", r"density(?!.*phase_space)"),
    ("Speed", r"speed"),
    ("Temperature", r"(^|_)(t_parallel|t_perpendicular|temperature)(?!_(phi|theta))"),
)


@dataclass(frozen=True)
class Product:
    """Instrument, data level and descriptor of a dataset (``None`` where unknown)."""

    instrument: str | None = None
    data_level: str | None = None
    descriptor: str | None = None

    @property
    def logical_source(self) -> str:
        """``imap_<instrument>_<data_level>_<descriptor>``, or ``"dataset"`` when unknown."""
        if self.instrument is None:
            return "dataset"
        return "_".join(["imap", self.instrument, self.data_level or "", self.descriptor or ""]).rstrip("_")


def _attr(attrs: dict, name: str, default: Any = None) -> Any:
    value = attrs.get(name, default)
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def product_of(ds: xr.Dataset) -> Product:
    """Read instrument, data level and descriptor from ``Logical_source`` (or ``Logical_file_id``).

    Examples
    --------
    >>> import xarray as xr
    >>> product_of(xr.Dataset(attrs={"Logical_source": "imap_mag_l2_norm-gse"}))
    Product(instrument='mag', data_level='l2', descriptor='norm-gse')
    >>> product_of(xr.Dataset()).logical_source
    'dataset'
    """
    sources = ds.encoding.get("source_files") or [ds.encoding.get("source")]
    # the file name first: Logical_source disagrees with it in several real files (Hi L2 '...-mapper' without
    # 'imap_', an Ultra map's frame 'sc' for 'hf'), and the SDC files products by name
    candidates = [Path(str(s)).name for s in sources if s]
    candidates += [_text(_attr(ds.attrs, key)) for key in ("Logical_source", "Logical_file_id")]
    for text in candidates:
        parts = text.lower().split("_")
        if len(parts) >= 4 and parts[0] == "imap":
            return Product(parts[1], parts[2], parts[3])
    return Product()


def mag_frame(descriptor: str | None) -> str | None:
    """Return the frame (or sensor) named by a MAG descriptor, as printed on axes.

    Examples
    --------
    >>> mag_frame("norm-gse"), mag_frame("burst-rtn"), mag_frame("norm-mago"), mag_frame("norm-raw")
    ('GSE', 'RTN', 'MAGo', None)
    """
    for token in reversed(_text(descriptor).lower().split("-")):
        if token in MAG_FRAMES:
            return token.upper()
        if token in ("mago", "magi"):
            return "MAG" + token[-1]
    return None


def component_labels(frame: str | None) -> tuple[str, str, str]:
    """Labels of the three field components in ``frame`` (never taken from ``direction_label``).

    Examples
    --------
    >>> component_labels("GSE")
    ('B_x GSE', 'B_y GSE', 'B_z GSE')
    >>> component_labels("RTN")
    ('B_R', 'B_T', 'B_N')
    """
    if frame is not None and frame.upper() == "RTN":
        return ("B_R", "B_T", "B_N")
    suffix = f" {frame}" if frame else ""
    return (f"B_x{suffix}", f"B_y{suffix}", f"B_z{suffix}")


def mag_vector_variable(ds: xr.Dataset, descriptor: str | None = None) -> str | None:
    """Name of the MAG vector variable: ``b_<frame>`` from the descriptor, any ``b_<frame>``, or ``vectors``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"b_gse": (("epoch", "direction"), np.zeros((2, 3)))})
    >>> mag_vector_variable(ds, "norm-gse"), mag_vector_variable(ds)
    ('b_gse', 'b_gse')
    """
    frame = mag_frame(descriptor)
    names = []
    if frame and frame.lower() in MAG_FRAMES:
        names.append(f"b_{frame.lower()}")
    names += [f"b_{f}" for f in MAG_FRAMES] + ["vectors"]
    for name in names:
        if name in ds.variables and ds[name].ndim == 2 and ds[name].shape[1] >= 3 and "epoch" in ds[name].dims:
            return name
    return None


def scale_type(var: xr.DataArray) -> Literal["log", "linear"]:
    """``"log"`` when the ISTP ``SCALETYP`` (or the misspelt ``SCALE_TYP`` of SWE coordinates) says so.

    Examples
    --------
    >>> import xarray as xr
    >>> scale_type(xr.DataArray([1.0], attrs={"SCALE_TYP": "log"})), scale_type(xr.DataArray([1.0]))
    ('log', 'linear')
    """
    for key in ("SCALETYP", "SCALE_TYP"):
        if _text(_attr(var.attrs, key)).lower().startswith("log"):
            return "log"
    return "linear"


def plot_kind(var: xr.DataArray) -> PlotKind:
    """Choose how to draw a variable from its ISTP ``DISPLAY_TYPE`` and shape.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> plot_kind(xr.DataArray(np.zeros((4, 24, 30)), dims=("epoch", "energy", "inst_az"),
    ...                        attrs={"DISPLAY_TYPE": "spectrogram"}))
    'spectrogram'
    >>> plot_kind(xr.DataArray(np.zeros((4, 3)), dims=("epoch", "direction"), attrs={"DISPLAY_TYPE": "time_series"}))
    'time_series'
    >>> plot_kind(xr.DataArray(np.zeros(3), dims=("energy",)))  # not record varying
    'none'
    """
    if "epoch" not in var.dims or var.dtype.kind not in "iufb" or var.ndim > 4:
        return "none"
    display = _text(_attr(var.attrs, "DISPLAY_TYPE")).lower()
    if display.startswith("no_plot") or display.startswith("image"):
        return "none"
    if display.startswith("spectrogram"):
        return "spectrogram" if var.ndim >= 2 else "time_series"
    if display.startswith(("time_series", "stack_plot")):
        return "time_series" if var.ndim <= 2 else "spectrogram"
    if var.ndim == 1 or (var.ndim == 2 and var.shape[1] <= 4):
        return "time_series"
    return "spectrogram"



def _units(var: xr.DataArray, default: str = "") -> str:
    """The variable's UNITS, with IDL's super/subscript codes as plain text (``cm!E-3!N`` -> ``cm^-3``).

    Examples
    --------
    >>> import xarray as xr
    >>> _units(xr.DataArray(1.0, attrs={"UNITS": "cm!E-3!N"})), _units(xr.DataArray(1.0), "nT")
    ('cm^-3', 'nT')
    """
    units = _text(_attr(var.attrs, "UNITS")) or _text(_attr(var.attrs, "units"))
    units = units.replace("!E", "^").replace("!U", "^").replace("!D", "_").replace("!N", "")
    return units or default


def _label(var: xr.DataArray, name: str, units: str | None = None) -> str:
    title = (_text(_attr(var.attrs, "FIELDNAM")) or _text(_attr(var.attrs, "LABLAXIS"))
             or _text(_attr(var.attrs, "CATDESC")) or _text(_attr(var.attrs, "long_name")) or name)
    units = _units(var) if units is None else units
    return f"{title} [{units}]" if units else title



def _wrap(text: str, width: int = 42) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))

