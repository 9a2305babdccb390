"""``make_archive``: a synthetic IMAP archive in the SDC layout.

MAG and SWE are written here; the eight other instruments and the repointing table by :mod:`.instruments`.

Contents for each day ``D`` (``start`` + k days), all from one :class:`SolarWind` story (shock at
``start`` 12:00 UTC, sheath, magnetic cloud until ``start`` + 40 h):

* MAG L1B and L1C ``norm-mago``/``norm-magi`` (2 vectors/s, unaligned times, +-30 min buffers);
* MAG L2 ``norm-{srf,dsrf,gse,gsm,rtn}`` (2 vectors/s, 172 800 records, ~3.5 min repointing fill near 10:00,
  a few hundred ``quality_flags`` = 1 rows);
* on the first day only: MAG L2 ``burst-gse`` and ``burst-rtn`` at 64 vectors/s from 11:30 to 12:30 (across
  the shock); L1C marks 11:58-11:59 as generated from burst;
* SWE L1B, L2 and L3 ``sci`` for :data:`~imap_explorer.synthetic.swe.DEFAULT_SWE_HOURS` (10:30-13:30 UTC,
  ~175 records, one all-fill record with ``data_quality`` 255); a full SWE day is ~1 404 records
  (``write_swe_l2``).

Versions and visibility (see :data:`VERSION_PLAN`):

* day 0 ``norm-gse``: v001.0001, v001.0002 and v002.0001 (each newer version removes part of a calibration
  offset, so the versions differ by a known constant vector, :data:`VERSION_OFFSETS`);
* day 1 (day 0 when ``days`` == 1) ``norm-rtn``: v001.0001 and v001.0002, the latter listed as **unreleased**;
* day 1 (day 0 when ``days`` == 1) ``norm-dsrf`` is a single file in the flight-era layout, named
  ``..._v002.cdf`` (:func:`~imap_explorer.synthetic.mag.write_mag_l2_legacy`).

Unreleased files are listed in ``<root>/.imap-explorer-unreleased.json``: ``{"unreleased": [<file name>, ...]}``
(bare file names, sorted). The local SDC reports those files with ``released = False``.

Files are byte-identical for the same ``(start, days, seed)``: generation dates derive from the data date.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from imap_explorer.local import atomic_target
from imap_explorer.synthetic.instruments import check_instruments, write_day, write_period
from imap_explorer.synthetic.mag import FRAMES, write_mag_l1, write_mag_l2, write_mag_l2_legacy
from imap_explorer.synthetic.physics import SolarWind, day_start
from imap_explorer.synthetic.swe import write_swe_day

__all__ = ["UNRELEASED_MANIFEST", "make_archive", "read_unreleased"]

#: File at the archive root listing the file names that the local SDC must report as unreleased.
UNRELEASED_MANIFEST = ".imap-explorer-unreleased.json"
#: Extra MAG L2 versions: (descriptor, which day) -> versions written ("day0" = first day, "special" = day 1).
VERSION_PLAN = {
    ("norm-gse", "day0"): ["v001.0001", "v001.0002", "v002.0001"],
    ("norm-rtn", "special"): ["v001.0001", "v001.0002"],
}
#: Versions of :data:`VERSION_PLAN` listed as unreleased in the manifest.
UNRELEASED_VERSIONS = {"norm-rtn": ("v001.0002",)}
#: Calibration offset (nT, GSE) left in each version of a multi-version day; the newest has none.
VERSION_OFFSETS = {"v001.0001": (0.6, -0.4, 0.3), "v001.0002": (0.2, -0.1, 0.1), "v002.0001": None}
#: MAG L2 burst products of the first day: frames, rate (vectors/s) and UTC hours (across the 12:00 shock).
BURST_FRAMES = ("gse", "rtn")
BURST_RATE = 64
BURST_HOURS = (11.5, 12.5)
#: UTC hours of the first day whose L1C normal-mode vectors are flagged as generated from burst data.
BURST_FILL_HOURS = (11.9667, 11.9834)


def _check(start, days: int, seed: int) -> np.datetime64:
    if not isinstance(days, (int, np.integer)) or isinstance(days, bool) or days < 1:
        msg = f"Invalid days {days!r}. Expected a positive integer number of days."
        raise ValueError(msg)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        msg = f"Invalid seed {seed!r}. Expected a non-negative integer."
        raise ValueError(msg)
    return day_start(start)


def make_archive(root: str | os.PathLike[str], *, start="2026-01-20", days: int = 7, seed: int = 0,
                 instruments: Iterable[str] | None = None, ialirt: bool = False) -> list[Path]:
    """Write a synthetic IMAP archive (all ten instruments by default) in the SDC layout under ``root``.

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
    instruments : iterable of str, optional
        Write only these instruments (default: all of
        :data:`~imap_explorer.synthetic.instruments.INSTRUMENTS`), e.g. ``["swapi", "hi"]`` for a small
        test archive. The other instruments' products are described in :mod:`.instruments`.
    ialirt : bool, default False
        Also write the I-ALiRT real-time stream of each day (:mod:`imap_explorer.synthetic.ialirt`: the daily
        archive CDF ``imap/ialirt/l1/...`` plus raw packet and log files under ``ialirt/``). ``imap-explorer
        make-archive`` and the demo turn it on.

    Returns
    -------
    list of pathlib.Path
        The written data files, sorted.

    Raises
    ------
    ValueError
        If ``start`` is not a date, or ``days``/``seed``/``instruments`` are invalid.

    Examples
    --------
    >>> paths = make_archive(tmp_path, days=1, seed=1)  # doctest: +SKIP
    """
    first = _check(start, days, seed)
    chosen = check_instruments(instruments)
    root = Path(root)
    model = SolarWind(first, int(seed))
    written: list[Path] = []
    unreleased: list[str] = []
    special = 1 if days > 1 else 0
    for k in range(int(days)):
        day = first + np.timedelta64(k, "D")
        written.extend(write_day(root, k, model=model, instruments=chosen))
        if "mag" in chosen:
            written.extend(_write_mag_day(root, day, k, special, model, unreleased))
        if "swe" in chosen:
            written.extend(write_swe_day(root, day, model=model))
        if ialirt:
            from imap_explorer.synthetic.ialirt import write_ialirt_day

            written.extend(write_ialirt_day(root, day, model=model))
        model.forget_products()
    written.extend(write_period(root, int(days), model=model, instruments=chosen))
    # keep earlier entries of other files (an archive built in several runs), drop what this run rewrote
    names = (read_unreleased(root) - {p.name for p in written}) | set(unreleased)
    _write_manifest(root, sorted(names))
    return sorted(written)


def _write_mag_day(root: Path, day: np.datetime64, k: int, special: int, model: SolarWind,
                   unreleased: list[str]) -> list[Path]:
    """Write MAG's files of day ``k`` and return their paths.

    L1B/L1C of both sensors, the L2 frames with the version plan of days 0 and ``special``, the burst products on
    day 0. The names of unreleased versions are appended to ``unreleased``.
    """
    written: list[Path] = []
    gen = _generation_dates(day)
    for sensor in ("mago", "magi"):
        for level in ("l1b", "l1c"):
            written.append(write_mag_l1(root, day, level, sensor, model=model,
                                        burst_fill=BURST_FILL_HOURS if k == 0 and level == "l1c" else None))
    for frame in FRAMES:
        descriptor = f"norm-{frame}"
        if frame == "dsrf" and k == special:
            written.append(write_mag_l2_legacy(root, day, frame, model=model))
            continue
        tags = {"day0"} if k == 0 else set()
        tags |= {"special"} if k == special else set()
        plan = next((VERSION_PLAN[(descriptor, t)] for t in sorted(tags) if (descriptor, t) in VERSION_PLAN), None)
        for version in plan or ["v001.0001"]:
            offset = VERSION_OFFSETS.get(version) if plan else None
            written.append(write_mag_l2(root, day, descriptor, model=model, version=version, offset=offset,
                                        generation_date=gen[version]))
            if plan and version in UNRELEASED_VERSIONS.get(descriptor, ()):
                unreleased.append(written[-1].name)
    if k == 0:
        for frame in BURST_FRAMES:
            written.append(write_mag_l2(root, day, f"burst-{frame}", rate=BURST_RATE, hours=BURST_HOURS,
                                        model=model))
    return written


def _generation_dates(day: np.datetime64) -> dict[str, str]:
    """Generation dates derived from the data day (1, 5 and 30 days later for successive versions)."""
    base = day.astype("datetime64[D]")
    fmt = lambda d: str(base + np.timedelta64(d, "D")).replace("-", "")  # noqa: E731
    return {"v001.0001": fmt(1), "v001.0002": fmt(5), "v002.0001": fmt(30)}


def _write_manifest(root: Path, names: list[str]) -> Path:
    path = root / UNRELEASED_MANIFEST
    with atomic_target(path) as tmp:
        tmp.write_text(json.dumps({"unreleased": sorted(names)}, indent=1) + "\n")
    return path


def read_unreleased(root: str | os.PathLike[str]) -> set[str]:
    """File names listed as unreleased in ``root``'s :data:`UNRELEASED_MANIFEST` (empty if there is none)."""
    path = Path(root) / UNRELEASED_MANIFEST
    if not path.is_file():
        return set()
    return set(json.loads(path.read_text()).get("unreleased", []))

