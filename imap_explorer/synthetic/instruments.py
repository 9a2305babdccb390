"""Which synthetic products each instrument contributes to an archive, per day and once per period.

:data:`INSTRUMENTS` lists every instrument :func:`~imap_explorer.synthetic.make_archive` can write. MAG and SWE
are written by :mod:`~imap_explorer.synthetic.archive` itself; this module writes the eight others:

* SWAPI: L2 ``sci``, L3a ``proton-sw`` and ``alpha-sw``, every day;
* CoDICE: L2 ``lo-sw-species`` and ``hi-sectored``, every day;
* HIT: L2 ``macropixel-intensity``, every day;
* IDEX: L1A ``sci-1week``, once (the week from the first day);
* GLOWS: L3a ``hist`` per pointing; L3e ``survival-probability-hi-45`` once per period;
* IMAP-Hi: L1C ``45sensor-pset`` and ``90sensor-pset`` per pointing; L2 maps (4 and 6 deg) once per period;
* IMAP-Lo: L1C ``pset`` per pointing; the L2 map once per period;
* IMAP-Ultra: L1C ``45sensor-heliopset`` per pointing; the L2 map once per period.

Pointing products carry ``-repointNNNNN`` from the archive's repointing table (:mod:`.repoint`), written to
``imap/spice/repoint/`` whenever a pointing instrument is chosen.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from imap_explorer.synthetic import codice, glows, hi, hit, idex, lo, swapi, ultra
from imap_explorer.synthetic.physics import SolarWind
from imap_explorer.synthetic.repoint import pointings, write_repoint_table

__all__ = ["INSTRUMENTS", "check_instruments", "write_day", "write_period"]

#: Every instrument a synthetic archive can hold, in the order they are written.
INSTRUMENTS = ("mag", "swe", "swapi", "codice", "hit", "idex", "glows", "hi", "lo", "ultra")
_POINTING = {"glows", "hi", "lo", "ultra"}


def check_instruments(instruments: Iterable[str] | str | None) -> tuple[str, ...]:
    """The chosen instruments in :data:`INSTRUMENTS` order (all when ``None``); unknown names raise ValueError."""
    if instruments is None:
        return INSTRUMENTS
    chosen = {instruments} if isinstance(instruments, str) else set(instruments)
    unknown = chosen - set(INSTRUMENTS)
    if unknown or not chosen:
        msg = (f"Invalid instruments {sorted(unknown) or instruments!r}. Expected one or more of: "
               f"{', '.join(INSTRUMENTS)}.")
        raise ValueError(msg)
    return tuple(i for i in INSTRUMENTS if i in chosen)


def write_day(root: str | os.PathLike[str], k: int, *, model: SolarWind, instruments: tuple[str, ...]) -> list[Path]:
    """Write the daily and per-pointing products of day number ``k`` (MAG and SWE aside)."""
    day = (model.start + np.timedelta64(k, "D")).astype("datetime64[D]")
    pointing = pointings(model, k + 1)[k]
    out: list[Path] = []
    if "swapi" in instruments:
        out += swapi.write_swapi_day(root, day, model=model)
    if "codice" in instruments:
        out += codice.write_codice_day(root, day, model=model)
    if "hit" in instruments:
        out.append(hit.write_hit_day(root, day, model=model))
    if "glows" in instruments:
        out.append(glows.write_glows_l3a(root, pointing, model=model))
    if "hi" in instruments:
        out += [hi.write_hi_pset(root, pointing, model=model, sensor=s) for s in ("45sensor", "90sensor")]
    if "lo" in instruments:
        out.append(lo.write_lo_pset(root, pointing, model=model))
    if "ultra" in instruments:
        out.append(ultra.write_ultra_pset(root, pointing, model=model))
    return out


def write_period(root: str | os.PathLike[str], days: int, *, model: SolarWind,
                 instruments: tuple[str, ...]) -> list[Path]:
    """Write the products of the whole period (maps, GLOWS L3e, the IDEX week) and the repointing table.

    The repoint CSV is not a data file and is not in the returned list.
    """
    first = pointings(model, 1)[0]
    start = model.start.astype("datetime64[D]")
    out: list[Path] = []
    if "idex" in instruments:
        out.append(idex.write_idex_week(root, start, model=model, days=min(int(days), 7)))
    if "glows" in instruments:
        out.append(glows.write_glows_l3e(root, first, model=model))
    psets = lambda inst, desc: [f"imap_{inst}_l1c_{desc}_{p.suffix}_v001.cdf"  # noqa: E731
                                for p in pointings(model, days)]
    if "hi" in instruments:
        out += hi.write_hi_maps(root, start, model=model, parents=psets("hi", "90sensor-pset"))
    if "lo" in instruments:
        out.append(lo.write_lo_map(root, start, model=model, parents=psets("lo", "pset")))
    if "ultra" in instruments:
        out.append(ultra.write_ultra_map(root, start, model=model, parents=psets("ultra", "45sensor-heliopset")))
    if _POINTING & set(instruments):
        write_repoint_table(root, model, days)
    return out
