"""The repointing table of a synthetic archive: one repointing a day, as IMAP does.

IMAP repoints once a day (a ~3.5 min manoeuvre near 10:00 UTC, :meth:`SolarWind.repoint_seconds`); a *pointing*
runs from the end of one manoeuvre to the start of the next. Repointing numbers follow the flight count: repointing
132 started on 2026-01-20 (``imap_lo_l1a_histogram_20260120-repoint00132``), one more each day. Products that cover
one pointing (Hi/Lo/Ultra L1C PSETs, GLOWS L3a/L3e) carry ``-repointNNNNN`` in their names and are dated by the
day the pointing starts.

:func:`write_repoint_table` writes the table as the SDC's SPICE repoint CSV (``imap/spice/repoint/``, columns of
imap-processing's ``get_repoint_data``); the embedded server lists it at ``/repoint-table`` (what
imap-data-access's ``get_repoint_file`` reads) and ``/spice-query?type=repoint``, and the ``-repointNNNNN`` file
names it gives make ``query(repointing=N)`` find the products.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imap_explorer._time import datetime64_to_tt2000
from imap_explorer.local import atomic_target
from imap_explorer.synthetic.physics import DAY, SolarWind

__all__ = ["Pointing", "pointings", "repointing_number", "write_repoint_table"]

#: A flight anchor: repointing 132 started on 2026-01-20.
_ANCHOR_DAY = np.datetime64("2026-01-20", "D")
_ANCHOR_NUMBER = 132
#: ``epoch / 1e9 - MET`` (seconds), the same MET as the synthetic SWE files.
MET_OFFSET = 315576052.3
COLUMNS = ("repoint_start_sec_sclk", "repoint_start_subsec_sclk", "repoint_end_sec_sclk", "repoint_end_subsec_sclk",
           "repoint_start_utc", "repoint_end_utc", "repoint_id")


def repointing_number(day: np.datetime64) -> int:
    """Number of the repointing that starts on ``day`` (132 on 2026-01-20, one more per day, at least 1).

    Examples
    --------
    >>> repointing_number(np.datetime64("2026-01-22"))
    134
    """
    days = int((np.datetime64(day, "D") - _ANCHOR_DAY).astype(np.int64))
    return max(1, _ANCHOR_NUMBER + days)


@dataclass(frozen=True)
class Pointing:
    """One pointing: the manoeuvre that starts it, and the interval it covers."""

    repointing: int
    day: np.datetime64              # day the pointing starts (the date in file names)
    repoint_start: np.datetime64    # manoeuvre start (UTC)
    start: np.datetime64            # pointing start = manoeuvre end
    end: np.datetime64              # next manoeuvre start

    @property
    def midpoint(self) -> np.datetime64:
        """Middle of the pointing."""
        return self.start + (self.end - self.start) // 2

    @property
    def ymd(self) -> str:
        """``YYYYMMDD`` of :attr:`day`."""
        return str(self.day.astype("datetime64[D]")).replace("-", "")

    @property
    def suffix(self) -> str:
        """``YYYYMMDD-repointNNNNN`` as in file names."""
        return f"{self.ymd}-repoint{self.repointing:05d}"


def _at(model: SolarWind, seconds: float) -> np.datetime64:
    return model.start + np.timedelta64(int(round(seconds * 1e9)), "ns")


def pointings(model: SolarWind, days: int) -> list[Pointing]:
    """The pointings that start on each of the ``days`` days from ``model.start``."""
    out = []
    for k in range(int(days)):
        a, b = model.repoint_seconds(k)
        nxt, _ = model.repoint_seconds(k + 1)
        day = (model.start + np.timedelta64(k, "D")).astype("datetime64[D]")
        out.append(Pointing(repointing_number(day), day, _at(model, a), _at(model, b), _at(model, nxt)))
    return out


def _met(t: np.datetime64) -> tuple[int, int]:
    seconds = int(datetime64_to_tt2000(np.array([t]))[0]) / 1e9 - MET_OFFSET
    whole = int(np.floor(seconds))
    return whole, int(round((seconds - whole) * 1e6))


def write_repoint_table(root: str | os.PathLike[str], model: SolarWind, days: int) -> Path:
    """Write the repoint CSV of the archive's days to ``root/imap/spice/repoint/imap_<YYYY>_<DOY>_01.repoint.csv``."""
    rows = [",".join(COLUMNS)]
    for p in pointings(model, days):
        end = p.start
        s_sec, s_sub = _met(p.repoint_start)
        e_sec, e_sub = _met(end)
        fmt = lambda t: str(t.astype("datetime64[ms]")).replace("T", " ")  # noqa: E731
        rows.append(f"{s_sec},{s_sub},{e_sec},{e_sub},{fmt(p.repoint_start)},{fmt(end)},{p.repointing}")
    last = (model.start + np.timedelta64(int(days * DAY) - 1, "s")).astype("datetime64[D]").item()
    name = f"imap_{last.year:04d}_{last.timetuple().tm_yday:03d}_01.repoint.csv"
    target = Path(root) / "imap" / "spice" / "repoint" / name
    with atomic_target(target) as tmp:
        tmp.write_text("\n".join(rows) + "\n", encoding="ascii")
    return target
