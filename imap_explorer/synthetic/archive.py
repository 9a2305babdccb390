"""``make_archive``: a synthetic IMAP MAG + SWE archive in the SDC layout.

Contents for each day ``D`` (``start`` + k days), all from one :class:`SolarWind` story (shock at
``start`` 12:00 UTC, sheath, magnetic cloud until ``start`` + 40 h):

* MAG L2 ``norm-{srf,dsrf,gse,gsm,rtn}`` (2 vectors/s, 172 800 records, repointing fill near 10:00);
* SWE L1B and L2 ``sci`` for :data:`~imap_explorer.synthetic.swe.DEFAULT_SWE_HOURS` (10:30-13:30 UTC,
  ~175 records, one all-fill record); a full SWE day is ~1 404 records (use ``write_swe_l2``).

Files are byte-identical for the same ``(start, days, seed)``: generation dates derive from the data date.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic.mag import FRAMES, write_mag_l2
from imap_explorer.synthetic.physics import SolarWind, day_start
from imap_explorer.synthetic.swe import write_swe_day

__all__ = ["UNRELEASED_MANIFEST", "make_archive", "read_unreleased"]

#: File at the archive root listing the file names that the local SDC must report as unreleased.
UNRELEASED_MANIFEST = ".imap-explorer-unreleased.json"


def _check(start, days: int, seed: int) -> np.datetime64:
    if not isinstance(days, (int, np.integer)) or isinstance(days, bool) or days < 1:
        msg = f"Invalid days {days!r}. Expected a positive integer number of days."
        raise ValueError(msg)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        msg = f"Invalid seed {seed!r}. Expected a non-negative integer."
        raise ValueError(msg)
    return day_start(start)


def make_archive(root: str | os.PathLike[str], *, start="2026-01-20", days: int = 7, seed: int = 0) -> list[Path]:
    """Write a synthetic MAG and SWE archive in the SDC layout under ``root``.

    Parameters
    ----------
    root : str or path-like
        Archive root; files go to ``root/imap/<instrument>/<level>/<YYYY>/<MM>/<name>``. Created if needed;
        existing files with the same names are replaced.
    start : str or date, default "2026-01-20"
        First day (``YYYY-MM-DD``). The interplanetary shock is at 12:00 UTC that day.
    days : int, default 7
        Number of days.
    seed : int, default 0
        Random seed. The same ``(start, days, seed)`` gives byte-identical files.

    Returns
    -------
    list of pathlib.Path
        The written data files, sorted.

    Raises
    ------
    ValueError
        If ``start`` is not a date, or ``days``/``seed`` are invalid.

    Examples
    --------
    >>> paths = make_archive(tmp_path, days=1, seed=1)  # doctest: +SKIP
    """
    first = _check(start, days, seed)
    root = Path(root)
    model = SolarWind(first, int(seed))
    written: list[Path] = []
    unreleased: list[str] = []
    for k in range(int(days)):
        day = first + np.timedelta64(k, "D")
        for frame in FRAMES:
            written.append(write_mag_l2(root, day, f"norm-{frame}", model=model))
        written.extend(write_swe_day(root, day, model=model))
    _write_manifest(root, unreleased)
    return sorted(written)


def _write_manifest(root: Path, names: list[str]) -> Path:
    path = root / UNRELEASED_MANIFEST
    root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"unreleased": sorted(names)}, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def read_unreleased(root: str | os.PathLike[str]) -> set[str]:
    """File names listed as unreleased in ``root``'s :data:`UNRELEASED_MANIFEST` (empty if there is none)."""
    path = Path(root) / UNRELEASED_MANIFEST
    if not path.is_file():
        return set()
    return set(json.loads(path.read_text()).get("unreleased", []))

