"""HEALPix RING pixels on a longitude x latitude raster, in numpy (no healpy needed for a quick look).

IMAP's HEALPix products (Ultra L1C PSETs, GLOWS L3e for Ultra) number their pixels in the RING scheme and
carry no map of their own; a quick look draws them by asking, for each cell of a fine regular grid, which
pixel holds its centre (``ang2pix`` of the HEALPix library, Gorski et al. 2005, done here with numpy).
"""

from __future__ import annotations

import numpy as np


def nside_of(npix: int) -> int | None:
    """``nside`` of a full-sky map of ``npix`` pixels, or None if ``npix`` is not ``12 nside**2``.

    Examples
    --------
    >>> nside_of(12288), nside_of(3072), nside_of(100)
    (32, 16, None)
    """
    nside = int(round(np.sqrt(npix / 12)))
    return nside if nside > 0 and 12 * nside * nside == npix else None


def ang2pix_ring(nside: int, lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """RING pixel index of each (longitude, latitude) in degrees.

    Examples
    --------
    >>> ang2pix_ring(32, np.array([45.0, 45.0]), np.array([88.54, -88.54])).tolist()
    [0, 12284]
    """
    lon, lat = np.broadcast_arrays(np.asarray(lon_deg, dtype=np.float64), np.asarray(lat_deg, dtype=np.float64))
    z = np.sin(np.radians(lat))
    za = np.abs(z)
    tt = np.mod(np.radians(lon) / (np.pi / 2), 4.0)
    pix = np.empty(lon.shape, dtype=np.int64)
    eq = za <= 2.0 / 3.0
    # equatorial belt
    t1 = nside * (0.5 + tt[eq])
    t2 = nside * z[eq] * 0.75
    jp = (t1 - t2).astype(np.int64)
    jm = (t1 + t2).astype(np.int64)
    ir = nside + 1 + jp - jm
    kshift = 1 - (ir & 1)
    ip = np.mod((jp + jm - nside + kshift + 1) // 2, 4 * nside)
    pix[eq] = 2 * nside * (nside - 1) + (ir - 1) * 4 * nside + ip
    # polar caps
    pol = ~eq
    tp = tt[pol] - np.floor(tt[pol])
    tmp = nside * np.sqrt(3.0 * (1.0 - za[pol]))
    jp = (tp * tmp).astype(np.int64)
    jm = ((1.0 - tp) * tmp).astype(np.int64)
    ir = jp + jm + 1
    ip = np.mod((tt[pol] * ir).astype(np.int64), 4 * ir)
    north = z[pol] > 0
    pix[pol] = np.where(north, 2 * ir * (ir - 1) + ip, 12 * nside * nside - 2 * ir * (ir + 1) + ip)
    return pix

