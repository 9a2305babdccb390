"""A tiny archive of placeholder files with valid IMAP names, for exercising the server.

The files are NOT loadable data: ``.cdf`` files hold only the CDF magic bytes and some padding (so a
client's magic-byte check passes); other files hold a line of text. Use :func:`imap_explorer.synthetic`
archives for real CDF content.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from imap_explorer.filenames import parse_filename

__all__ = ["CDF_MAGIC", "SAMPLE_FILES", "placeholder_bytes", "write_sample_archive"]

#: First eight bytes of an uncompressed CDF (version 3).
CDF_MAGIC = b"\xcd\xf3\x00\x01\x00\x00\xff\xff"

#: Names in the sample archive; they cover every key layout of sdc-api.md §8.6 and the §5.5 worked example.
SAMPLE_FILES = (
    # the worked example of version resolution: (1,1), (1,2), (2,1), (2,3)
    "imap_mag_l2_norm-gse_20260120_v001.0001.cdf",
    "imap_mag_l2_norm-gse_20260120_v001.0002.cdf",
    "imap_mag_l2_norm-gse_20260120_v002.0001.cdf",
    "imap_mag_l2_norm-gse_20260120_v002.0003.cdf",
    "imap_mag_l2_norm-gse_20260121_v001.0001.cdf",
    "imap_mag_l2_norm-dsrf_20260120_v003.cdf",  # legacy vNNN -> major 1, minor 3
    "imap_mag_l1b_norm-mago_20251107_v001.0001.cdf",
    "imap_mag_l0_raw_20251107_v001.0001.pkts",
    "imap_swe_l1b_sci_20260120_v001.0001.cdf",
    "imap_hi_l1c_45sensor-pset_20251107-repoint00123_v002.0003.cdf",
    "imap_glows_l3b_ion-rate-profile_20250101-cr02290_v001.0001.cdf",
    "imap_mag_l1b-cal_20250101_20251231_v002.cdf",  # ancillary with an end date
    "imap_hi_esa-energies_20250101-repoint00010_v001.csv",  # ancillary with a repointing
    "imap_mag_l1b_norm-mago_20251107_v001.0001.png",  # quicklook
    "imap_mag_l1b_norm-mago_20251107_v001.0001.json",  # dependency
    "imap_mag_data-release-1_20250101_20251231_v001.txt",  # release manifest
    "naif0012.tls",  # SPICE
)


def placeholder_bytes(name: str, size: int = 64) -> bytes:
    """Deterministic content for a sample file: CDF magic plus padding for ``.cdf``, else text.

    Examples
    --------
    >>> placeholder_bytes("imap_mag_l2_norm-gse_20260120_v001.0001.cdf")[:8] == CDF_MAGIC
    True
    """
    pad = hashlib.sha256(name.encode()).digest() * (size // 32 + 1)
    if name.endswith(".cdf"):
        return CDF_MAGIC + pad[: max(size - len(CDF_MAGIC), 0)]
    return f"placeholder for {name}\n".encode()


def write_sample_archive(root: str | os.PathLike, names: tuple[str, ...] = SAMPLE_FILES) -> list[Path]:
    """Write placeholder files under ``root`` in the SDC layout and return their paths.

    Parameters
    ----------
    root : path-like
        Archive root (created if needed).
    names : tuple of str
        File names to write; default :data:`SAMPLE_FILES`.
    """
    paths = []
    for name in names:
        path = Path(root).joinpath(*parse_filename(name).key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(placeholder_bytes(name))
        paths.append(path)
    return paths
