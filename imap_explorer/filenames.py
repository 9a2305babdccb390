"""IMAP file names: parse, classify, and map to SDC storage keys and local paths.

Pure functions only; the naming rules are the mission's (``sdc-api.md`` §8). The storage key of a file
is also its ``file_path`` in query results, its ``/download/`` path, and its path below ``IMAP_DATA_DIR``.

Examples
--------
>>> info = parse_filename("imap_mag_l2_norm-gse_20260120_v001.0002.cdf")
>>> info.kind, info.instrument, info.data_level, info.descriptor, info.version
('science', 'mag', 'l2', 'norm-gse', 'v001.0002')
>>> sdc_key("imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf")
'imap/hi/l1c/2025/11/imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf'
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

__all__ = [
    "ANCILLARY_EXTENSIONS",
    "SCIENCE_EXTENSIONS",
    "VALID_DATALEVELS",
    "VALID_INSTRUMENTS",
    "VALID_TABLES",
    "FileInfo",
    "FileKind",
    "check_file_path",
    "local_path",
    "parse_filename",
    "sdc_key",
]

VALID_INSTRUMENTS = frozenset(
    {"codice", "glows", "hi", "hit", "ialirt", "idex", "l1const", "lo", "mag", "spacecraft", "swapi", "swe", "ultra"}
)
VALID_DATALEVELS = frozenset(
    {"l0", "l1", "l1a", "l1b", "l1c", "l1ca", "l1cb", "l1d", "l2", "l2a", "l2b", "l2c", "l3", "l3a", "l3b", "l3c",
     "l3d", "l3e"}
)
VALID_TABLES = ("science", "ancillary", "spice", "quicklook")
SCIENCE_EXTENSIONS = frozenset({"cdf", "pkts"})
QUICKLOOK_EXTENSIONS = frozenset({"jpg", "pdf", "png"})
DEPENDENCY_EXTENSIONS = frozenset({"json"})
ANCILLARY_EXTENSIONS = frozenset({"cdf", "csv", "dat", "json", "zip", "tsv", "pgm", "xlsx"})
RELEASE_EXTENSIONS = frozenset({"txt"})

FileKind = Literal["science", "ancillary", "spice", "quicklook", "dependency", "release"]

_SCIENCE_RE = re.compile(
    r"^(?P<mission>imap)_(?P<instrument>[^_]+)_(?P<data_level>[^_]+)_(?P<descriptor>[^_]+)_"
    r"(?P<start_date>\d{8})(-(?P<interval_type>(?:repoint|cr))(?P<interval>\d{5}))?_"
    r"(?P<version>(?:v\d{3}\.\d{4}|v\d{3}))\.(?P<extension>[^.]+)$"
)
_ANCILLARY_RE = re.compile(
    r"^(?P<mission>imap)_(?P<instrument>[^_]+)_(?P<descriptor>[^_]+)_(?P<start_date>\d{8})"
    r"(?:_(?P<end_date>\d{8})|-repoint(?P<repointing>\d{5}))?_(?P<version>v\d{3})\."
    r"(?P<extension>cdf|csv|dat|json|zip|tsv|pgm|xlsx|txt|jpg|pdf|png)$"
)
# The 13 SPICE patterns of imap-data-access 1.3.0 (file_validation.SPICEFilePath), which the SDC uses, in its
# order and with its flags (sdc-api.md §8.4). Like the SDC they are applied with ``re.match``; the first one
# that matches decides: its ``type`` group must then be a known type (case-sensitive) and its dates real.
_SPICE_PATTERNS: list[re.Pattern[str]] = [
    re.compile(p, f) for p, f in (
        (r"(imap)_(?P<start_year_doy>[\d]{4}_[\d]{3})_(?P<end_year_doy>[\d]{4}_[\d]{3})_(?P<version>[\d]+)\."
         r"(?P<type>ah.bc|ap.bc|spin.csv|spin)", re.I),
        (r"(?P<type>imap_dps)_(?P<start_year_doy>\d{4}_\d{3})_(?P<end_year_doy>[\d]{4}_[\d]{3})_(?P<version>\d+)\."
         r"(?P<extension>ah\.bc)", re.I),
        (r"(?P<type>imap_lopivot)-repoint(?P<repointing>\d{5})_(?P<start_year_doy>\d{4}_\d{3})_"
         r"(?P<end_year_doy>\d{4}_\d{3})_(?P<version>\d+)\.(?P<extension>bc)\Z", re.I),
        (r"(imap)_(?P<end_year_doy>[\d]{4}_[\d]{3})_(?P<version>[\d]+)\.(?P<type>repoint.csv|repoint)", re.I),
        (r"(imap)_(?P<type>[a-zA-Z0-9\-]+)_(?:od\d{3}_)?(?P<start_date>[\d]{8})_(?P<end_date>[\d]{8})"
         r"(?:|_v(?P<version>[\d]*))\.(?P<extension>bsp)", re.I),
        (r"(?P<type>L1_de|[a-zA-Z\-_]+)(?P<version>[\d]+)\.(?P<extension>tls|tpc|bsp|tsc)", re.I),
        (r"(imap)_(?P<version>[\d]+)\.(?P<type>tf)", re.I),
        (r"(imap)_(?P<start_year_doy>[\d]{4}_[\d]{3})_(?P<end_year_doy>[\d]{4}_[\d]{3})_([a-zA-Z0-9\-_]+)_"
         r"(?P<version>[\d]{2})\.(?P<type>sff)", re.I),
        (r"(imap)_sdc_metakernel_(?P<start_year>[\d]{4})_v(?P<version>[\d]{3})\.(?P<type>tm)", 0),
        (r"imap_(?P<start_year_doy>\d{4}_\d{3})_a(?P<version>\d{2})\.spice\.(?P<type>mk)", re.I),
        (r"IMAP_(?P<start_year_doy>\d{4}_\d{3})_e(?P<version>\d{2})\.(?P<type>mk)", re.I),
        (r"(?P<type>imap_science)_(?P<version>[\d]+)\.tf", re.I),
        (r"earth_(?P<start_date>\d{6})_(?P<end_date>\d{6})_(?P<prediction_start_date>\d{6})\.(?P<type>bpc)", re.I),
    )
]
#: SPICE ``type`` group -> kernel type (the SDC's ``kernel_type``, the ``type`` of ``/spice-query``).
_SPICE_TYPES = {
    "ah.bc": "attitude_history", "ap.bc": "attitude_predict", "spin.csv": "spin", "spin": "spin",
    "repoint.csv": "repoint", "repoint": "repoint", "recon": "ephemeris_reconstructed", "nom": "ephemeris_nominal",
    "pred": "ephemeris_predicted", "90days": "ephemeris_90days", "long": "ephemeris_long",
    "launch": "ephemeris_launch", "de": "planetary_ephemeris", "pck": "planetary_constants", "naif": "leapseconds",
    "imap_dps": "pointing_attitude", "imap_lopivot": "lo_pivot_attitude", "imap_sclk_": "spacecraft_clock",
    "tf": "imap_frames", "imap_science": "science_frames", "mk": "metakernel", "tm": "metakernel",
    "sff": "thruster", "L1_de": "lagrange_point", "bpc": "earth_attitude",
}
#: Kernel type -> sub-directory below ``imap/spice``.
_SPICE_DIRS = {
    "attitude_history": "ck", "pointing_attitude": "ck", "attitude_predict": "ck", "lo_pivot_attitude": "ck",
    "spin": "spin", "repoint": "repoint", "ephemeris_reconstructed": "spk", "ephemeris_nominal": "spk",
    "ephemeris_predicted": "spk", "ephemeris_90days": "spk", "ephemeris_long": "spk", "ephemeris_launch": "spk",
    "planetary_ephemeris": "spk", "planetary_constants": "pck", "leapseconds": "lsk", "spacecraft_clock": "sclk",
    "imap_frames": "fk", "science_frames": "fk", "metakernel": "mk", "thruster": "activities",
    "lagrange_point": "spk", "earth_attitude": "pck",
}


@dataclass(frozen=True)
class FileInfo:
    """What an IMAP file name says about the file.

    ``repointing`` and ``cr`` are integers or ``None``; ``major_version`` is ``None`` for a legacy
    ``vNNN`` science version (the SDC stores it as major 1).
    """

    filename: str
    kind: FileKind
    instrument: str | None = None
    data_level: str | None = None
    descriptor: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    repointing: int | None = None
    cr: int | None = None
    version: str | None = None
    major_version: int | None = None
    minor_version: int | None = None
    extension: str | None = None
    kernel_type: str | None = None
    subdir: str | None = None

    @property
    def key(self) -> str:
        """The SDC storage key (see :func:`sdc_key`)."""
        return _key_of(self)


def _date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _science_like(name: str, kind: FileKind, extensions: frozenset[str]) -> FileInfo | None:
    m = _SCIENCE_RE.match(name)
    if not m:
        return None
    g = m.groupdict()
    start = _date(g["start_date"])
    if (g["instrument"] not in VALID_INSTRUMENTS or g["data_level"] not in VALID_DATALEVELS or start is None
            or g["extension"] not in extensions):
        return None
    version = g["version"]
    if "." in version:
        major, minor = int(version[1:4]), int(version[5:9])
    else:
        major, minor = None, int(version[1:4])
    interval = int(g["interval"]) if g["interval"] else None
    return FileInfo(
        filename=name, kind=kind, instrument=g["instrument"], data_level=g["data_level"],
        descriptor=g["descriptor"], start_date=start,
        repointing=interval if g["interval_type"] == "repoint" else None,
        cr=interval if g["interval_type"] == "cr" else None,
        version=version, major_version=major, minor_version=minor, extension=g["extension"],
    )


def _ancillary_like(name: str, kind: FileKind, extensions: frozenset[str]) -> FileInfo | None:
    m = _ANCILLARY_RE.match(name)
    if not m:
        return None
    g = m.groupdict()
    start = _date(g["start_date"])
    end = _date(g["end_date"]) if g["end_date"] else None
    if (g["instrument"] not in VALID_INSTRUMENTS or g["extension"] not in extensions or start is None
            or (g["end_date"] and end is None)):
        return None
    return FileInfo(
        filename=name, kind=kind, instrument=g["instrument"], descriptor=g["descriptor"], start_date=start,
        end_date=end, repointing=int(g["repointing"]) if g["repointing"] else None, version=g["version"],
        minor_version=int(g["version"][1:]), extension=g["extension"],
    )


def _spice_dates_valid(groups: dict[str, str | None]) -> bool:
    """Whether the dates a SPICE pattern captured exist (the SDC's checks, sdc-api.md §8.4)."""
    formats = {"start_year_doy": "%Y_%j", "end_year_doy": "%Y_%j", "prediction_start_date": "%y%m%d",
               "start_year": "%Y"}
    for name, value in groups.items():
        if value is None:
            continue
        fmt = ("%Y%m%d" if len(value) == 8 else "%y%m%d") if name in ("start_date", "end_date") else formats.get(name)
        if fmt is None:
            continue
        try:
            dt.datetime.strptime(value, fmt)
        except ValueError:
            return False
    return True


def _spice(name: str) -> FileInfo | None:
    for pattern in _SPICE_PATTERNS:
        m = pattern.match(name)
        if m is None:
            continue
        groups = m.groupdict()
        kernel_type = _SPICE_TYPES.get(groups["type"])  # the first match decides, even if it then fails
        if kernel_type is None or not _spice_dates_valid(groups):
            return None
        return FileInfo(filename=name, kind="spice", kernel_type=kernel_type, subdir=_SPICE_DIRS[kernel_type],
                        extension=PurePosixPath(name).suffix[1:])
    return None


def parse_filename(filename: str | os.PathLike) -> FileInfo:
    """Classify an IMAP file name and return its parts.

    Classes are tried in the SDC's order: science, ancillary, SPICE, quicklook, dependency, release.
    Only the last path component is considered.

    Parameters
    ----------
    filename : str or path-like
        A bare file name, an SDC ``file_path`` or a local path.

    Returns
    -------
    FileInfo

    Raises
    ------
    ValueError
        If the name follows none of the IMAP naming conventions.

    Examples
    --------
    >>> parse_filename("imap/mag/l2/2026/01/imap_mag_l2_norm-dsrf_20260120_v003.cdf").minor_version
    3
    >>> parse_filename("imap_mag_l1b-cal_20250101_20251231_v002.cdf").kind
    'ancillary'
    >>> parse_filename("naif0012.tls").subdir
    'lsk'
    >>> parse_filename("imap_foo_l1a_x_20250101_v001.cdf")
    Traceback (most recent call last):
    ...
    ValueError: 'imap_foo_l1a_x_20250101_v001.cdf' is not an IMAP file name. ...
    """
    name = PurePosixPath(str(filename).replace("\\", "/")).name
    info = (
        _science_like(name, "science", SCIENCE_EXTENSIONS)
        or _ancillary_like(name, "ancillary", ANCILLARY_EXTENSIONS)
        or _spice(name)
        or _science_like(name, "quicklook", QUICKLOOK_EXTENSIONS)
        or _science_like(name, "dependency", DEPENDENCY_EXTENSIONS)
        or _ancillary_like(name, "release", RELEASE_EXTENSIONS)
    )
    if info is None:
        msg = (
            f"{name!r} is not an IMAP file name. Expected for example "
            "'imap_<instrument>_<data_level>_<descriptor>_<YYYYMMDD>[-repoint<NNNNN>|-cr<NNNNN>]_<vMMM.mmmm>.cdf' "
            f"with an instrument from: {', '.join(sorted(VALID_INSTRUMENTS))}; "
            f"and a data level from: {', '.join(sorted(VALID_DATALEVELS))}."
        )
        raise ValueError(msg)
    return info


def _key_of(info: FileInfo) -> str:
    name = info.filename
    if info.kind == "spice":
        return f"imap/spice/{info.subdir}/{name}"
    if info.kind == "ancillary":
        return f"imap/ancillary/{info.instrument}/{name}"
    if info.kind == "release":
        return f"imap/release/{info.instrument}/{name}"
    assert info.start_date is not None
    ym = f"{info.start_date:%Y}/{info.start_date:%m}"
    prefix = {"science": "imap", "quicklook": "imap/quicklook", "dependency": "imap/dependency"}[info.kind]
    return f"{prefix}/{info.instrument}/{info.data_level}/{ym}/{name}"


def sdc_key(filename: str | os.PathLike) -> str:
    """Return the SDC storage key (and local relative path) of an IMAP file name.

    Parameters
    ----------
    filename : str or path-like
        Bare file name; any directory part is ignored.

    Examples
    --------
    >>> sdc_key("imap_mag_l2_norm-gse_20260120_v001.0001.cdf")
    'imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v001.0001.cdf'
    >>> sdc_key("imap_mag_l1b-cal_20250101_20251231_v002.cdf")
    'imap/ancillary/mag/imap_mag_l1b-cal_20250101_20251231_v002.cdf'
    """
    return parse_filename(filename).key


def check_file_path(file_path: str) -> str:
    """Validate a name or SDC ``file_path`` and return its storage key.

    The key is always recomputed from the validated file name, so ``..``, absolute paths, or a
    directory that does not match the name are refused: nothing can point outside the archive.

    Examples
    --------
    >>> check_file_path("imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v001.0001.cdf")
    'imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v001.0001.cdf'
    >>> check_file_path("../../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: Refusing file path '../../etc/passwd': ...
    """
    text = str(file_path)
    parts = text.replace("\\", "/").split("/")
    if text.startswith(("/", "\\")) or any(p in ("..", ".") for p in parts) or re.match(r"^[A-Za-z]:", text):
        msg = (f"Refusing file path {text!r}: expected an IMAP file name or an SDC file_path such as "
               "'imap/mag/l2/2026/01/imap_mag_l2_norm-gse_20260120_v001.0001.cdf', without '..' or a leading '/'.")
        raise ValueError(msg)
    key = sdc_key(parts[-1])
    if len(parts) > 1 and "/".join(parts) != key:
        msg = f"Refusing file path {text!r}: its directories do not match the SDC layout, expected {key!r}."
        raise ValueError(msg)
    return key


def local_path(data_dir: str | os.PathLike, filename: str | os.PathLike) -> Path:
    """Return where a file lives in a local archive in the SDC layout.

    Examples
    --------
    >>> local_path("/data", "imap_swe_l2_sci_20260512_v001.cdf").as_posix()
    '/data/imap/swe/l2/2026/05/imap_swe_l2_sci_20260512_v001.cdf'
    """
    return Path(data_dir).joinpath(*check_file_path(str(filename)).split("/"))
