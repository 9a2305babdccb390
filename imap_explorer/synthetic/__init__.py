"""Synthetic IMAP products of all ten instruments, structured like the SDC's, telling one solar-wind story.

* :func:`make_archive` writes a whole archive (``imap-explorer make-archive``); ``instruments=`` picks some of
  :data:`INSTRUMENTS` (MAG, SWE, SWAPI, CoDICE, HIT, IDEX, GLOWS, Hi, Lo, Ultra).
* :func:`write_mag_l2` writes one MAG L2 day (normal or burst, any frame and rate) and :func:`write_swe_l2`
  one SWE L2 day, for benchmarks.
* :class:`SolarWind` is the shared physical model (shock at 12:00 UTC on the first day).
"""

from __future__ import annotations

from imap_explorer.synthetic.archive import UNRELEASED_MANIFEST, make_archive, read_unreleased
from imap_explorer.synthetic.instruments import INSTRUMENTS
from imap_explorer.synthetic.mag import write_mag_l2
from imap_explorer.synthetic.physics import SolarWind
from imap_explorer.synthetic.swe import write_swe_l2

__all__ = ["INSTRUMENTS", "UNRELEASED_MANIFEST", "SolarWind", "make_archive", "read_unreleased", "write_mag_l2",
           "write_swe_l2"]
