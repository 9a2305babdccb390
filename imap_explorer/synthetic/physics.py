"""A deterministic solar-wind model shared by the synthetic MAG and SWE products.

One :class:`SolarWind` object describes the interplanetary medium seen by IMAP at L1 from its ``start`` day
on. Every instrument asks it for values at its own times, so MAG vectors, SWE electron distributions and SWE
pitch angles tell one story:

* quiet Parker-spiral wind (|B| ~ 5 nT at arctan(429 km/s / V) ~ 47 deg from the Sun-Earth line, ``Bx ~ -By``)
  with Alfvenic, transverse fluctuations with a ~f^-5/3 spectrum (dB/B ~ 0.35), a slow log-normal |B|, and
  heliospheric current sheet (sector boundary) crossings from day ~3.6 on;
* an interplanetary shock at ``start + 12:00 UTC`` (:attr:`SolarWind.shock_time`): |B|, density, speed and
  electron temperature jump within a few seconds (|B| and density by ~2.6x);
* a turbulent sheath until 22:00, then a magnetic cloud (smoothly rotating strong field, cold, tenuous,
  counter-streaming strahl) until ``start + 40 h``, then recovery.

Randomness comes from ``numpy.random.default_rng([seed, tag, day])`` for day-long noise segments that are
cross-faded over 4 h overlaps, so any day is reproducible on its own and a 2-day archive is the prefix of a
7-day archive built with the same ``start`` and ``seed``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DayLike", "SolarWind", "day_start", "electron_psd", "rotation_about"]

#: Anything naming a day: ``"2026-01-20"``, ``"20260120"``, a date/datetime, or a datetime64.
DayLike = str | dt.date | np.datetime64

DAY = 86400.0
_SEG_RATE = 2.0          # Hz, sampling of the noise segments
_SEG_PAD = 7200.0        # s, segment overlap on each side of a day (cross-fade half width)
_NOISE_TAGS = {"direction": 1, "magnitude": 2, "density": 3, "burst": 4, "sensor": 5, "swe": 6}


def day_start(day: DayLike) -> np.datetime64:
    """Return ``day`` (date, datetime, ``YYYY-MM-DD``/``YYYYMMDD`` string or datetime64) as datetime64[ns] midnight.

    Examples
    --------
    >>> day_start("20260120")
    np.datetime64('2026-01-20T00:00:00.000000000')
    >>> day_start(np.datetime64("2026-01-20T13:45"))
    np.datetime64('2026-01-20T00:00:00.000000000')
    >>> day_start("2026-02-30")
    Traceback (most recent call last):
    ...
    ValueError: Invalid day '2026-02-30'. Expected a date such as '2026-01-20' or '20260120'.
    """
    if isinstance(day, np.datetime64):
        return day.astype("datetime64[D]").astype("datetime64[ns]")
    if isinstance(day, dt.datetime):
        day = day.date()
    if isinstance(day, dt.date):
        return np.datetime64(day.isoformat(), "D").astype("datetime64[ns]")
    text = str(day).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            parsed = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return np.datetime64(parsed.isoformat(), "D").astype("datetime64[ns]")
    msg = f"Invalid day {day!r}. Expected a date such as '2026-01-20' or '20260120'."
    raise ValueError(msg)


def rotation_about(axis: str, angle) -> np.ndarray:
    """Rotation matrices (..., 3, 3) that rotate *coordinates* by ``angle`` radians about ``axis`` ('x'|'y'|'z').

    Examples
    --------
    >>> np.round(rotation_about("z", np.pi / 2) @ [1.0, 0.0, 0.0], 12) + 0.0
    array([ 0., -1.,  0.])
    """
    a = np.asarray(angle, dtype=float)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    if axis == "x":
        m = [[o, z, z], [z, c, s], [z, -s, c]]
    elif axis == "y":
        m = [[c, z, -s], [z, o, z], [s, z, c]]
    else:
        m = [[c, s, z], [-s, c, z], [z, z, o]]
    return np.moveaxis(np.array(m, dtype=float), (0, 1), (-2, -1))


def _smoothstep(x, x0: float, width: float) -> np.ndarray:
    """0 -> 1 transition centred on ``x0`` (tanh, 10-90 % in ~2.2 ``width``)."""
    return 0.5 * (1.0 + np.tanh((np.asarray(x, dtype=float) - x0) / width))


def _colored_noise(rng: np.random.Generator, n: int, rate: float, ncomp: int, slope: float, f_break: float,
                   level: float, f_high: float | None = None, slope_high: float = -2.8,
                   f_knee: float | None = None) -> np.ndarray:
    """Gaussian noise (n, ncomp) whose one-sided PSD is ``level * (f / 1 Hz) ** slope`` above ``f_break``.

    Below ``f_break`` the spectrum is flat (finite variance); above ``f_high`` it steepens to ``slope_high``.
    With ``f_knee``, the range ``f_break .. f_knee`` follows f^-1 (the energy-containing range of the solar
    wind) and the inertial range ``slope`` starts at ``f_knee``.
    """
    white = rng.standard_normal((n, ncomp))
    spec = np.fft.rfft(white, axis=0)
    f = np.fft.rfftfreq(n, d=1.0 / rate)
    fe = np.maximum(f, f_break)
    psd = level * fe ** slope
    if f_knee is not None:
        psd = np.where(fe < f_knee, level * f_knee ** slope * (fe / f_knee) ** -1.0, psd)
    if f_high is not None:
        psd = np.where(f > f_high, level * f_high ** slope * (np.maximum(f, f_high) / f_high) ** slope_high, psd)
    psd[0] = 0.0
    # unit-variance white noise has a one-sided PSD of 2 / rate
    spec *= np.sqrt(psd * rate / 2.0)[:, None]
    return np.fft.irfft(spec, n=n, axis=0)


@dataclass(frozen=True)
class SolarWind:
    """The solar wind seen by IMAP from ``start`` on (see the module docstring).

    Parameters
    ----------
    start : datetime64 or str
        First day of the story (the shock is at 12:00 UTC that day).
    seed : int
        Random seed; the same (start, seed) always gives the same values.
    """

    start: np.datetime64
    seed: int = 0
    shock_hours: float = 12.0
    cloud_start_hours: float = 22.0
    cloud_end_hours: float = 40.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", day_start(self.start))

    # ------------------------------------------------------------------ time helpers
    @property
    def shock_time(self) -> np.datetime64:
        """UTC time of the interplanetary shock.

        Examples
        --------
        >>> SolarWind("2026-01-20").shock_time
        np.datetime64('2026-01-20T12:00:00.000000000')
        """
        return self.start + np.timedelta64(int(self.shock_hours * 3600e9), "ns")

    def seconds(self, times) -> np.ndarray:
        """Seconds since :attr:`start` of datetime64 times."""
        t = np.asarray(times, dtype="datetime64[ns]")
        return (t - self.start).astype(np.int64) / 1e9

    # ------------------------------------------------------------------ noise segments
    def _segment(self, tag: str, day: int) -> np.ndarray:
        key = (tag, day)
        if key not in self._cache:
            rng = np.random.default_rng([self.seed, _NOISE_TAGS[tag], day + 100_000])
            n = int((DAY + 2 * _SEG_PAD) * _SEG_RATE)
            if tag == "direction":
                # dimensionless transverse fluctuation: f^-5/3 above 1/30 min (PSD 2.5e-4 B^2 at 1 Hz, dB ~0.15 nT
                # over 1 s at 5 nT), f^-1 from 30 min to 6 h, dB/B ~0.3 at hour scales
                seg = _colored_noise(rng, n, _SEG_RATE, 3, -5.0 / 3.0, 1.0 / 21600.0, 2.5e-4, f_knee=1.0 / 1800.0)
            elif tag == "magnitude":
                seg = _colored_noise(rng, n, _SEG_RATE, 1, -2.0, 1.0 / 21600.0, 1.2e-6)
            else:  # density / plasma: slow log-normal variations
                seg = _colored_noise(rng, n, _SEG_RATE, 2, -2.0, 1.0 / 21600.0, 1.2e-6)
            if len(self._cache) > 40:
                self._cache.clear()
            self._cache[key] = seg
        return self._cache[key]

    def _noise(self, tag: str, t: np.ndarray) -> np.ndarray:
        """Cross-faded noise of ``tag`` at times ``t`` (seconds since start), shape (len(t), ncomp)."""
        t = np.asarray(t, dtype=float)
        out = None
        days = np.floor(t / DAY).astype(np.int64)
        lo, hi = int(days.min()) - 1, int(days.max()) + 1
        for d in range(lo, hi + 1):
            t0 = d * DAY - _SEG_PAD
            inside = (t >= t0) & (t <= (d + 1) * DAY + _SEG_PAD)
            if not inside.any():
                continue
            seg = self._segment(tag, d)
            if out is None:
                out = np.zeros((t.size, seg.shape[1]))
            x = (t[inside] - t0) * _SEG_RATE
            i = np.clip(np.floor(x).astype(np.int64), 0, seg.shape[0] - 2)
            frac = (x - i)[:, None]
            val = seg[i] * (1 - frac) + seg[i + 1] * frac
            # cos/sin cross-fade over [d*DAY - pad, d*DAY + pad] and [(d+1)*DAY - pad, (d+1)*DAY + pad]
            ti = t[inside]
            w = np.ones(ti.size)
            rise = (ti - (d * DAY - _SEG_PAD)) / (2 * _SEG_PAD)
            fall = ((d + 1) * DAY + _SEG_PAD - ti) / (2 * _SEG_PAD)
            w = np.where(rise < 1, np.sin(0.5 * np.pi * np.clip(rise, 0, 1)), w)
            w = np.where(fall < 1, np.sin(0.5 * np.pi * np.clip(fall, 0, 1)), w)
            out[inside] += w[:, None] * val
        return out

    def forget_products(self) -> None:
        """Drop cached per-day product arrays (the noise segments stay cached)."""
        for key in [k for k in self._cache if isinstance(k[0], str) and k[0].startswith("mag-")]:
            del self._cache[key]

    # ------------------------------------------------------------------ large-scale structure
    def _regions(self, s: np.ndarray) -> dict[str, np.ndarray]:
        h = s / 3600.0
        shock = _smoothstep(s, self.shock_hours * 3600.0, 2.0)              # ~4 s ramp
        cloud = _smoothstep(h, self.cloud_start_hours, 0.3) * (1 - _smoothstep(h, self.cloud_end_hours, 0.5))
        sheath = shock * (1 - _smoothstep(h, self.cloud_start_hours, 0.3))
        after = _smoothstep(h, self.cloud_end_hours, 0.5)
        recovery = after * np.exp(-np.clip(h - self.cloud_end_hours, 0, None) / 12.0)
        return {"shock": shock, "sheath": sheath, "cloud": cloud, "recovery": recovery}

    def sector(self, s: np.ndarray) -> np.ndarray:
        """Magnetic sector sign (+1 away from the Sun, -1 toward).

        The heliospheric current sheet is crossed at day ~3.6 and then every ~2.7 days (+-6 h).
        """
        s = np.asarray(s, dtype=float)
        n = int(max(float(s.max(initial=0.0)) / DAY, 0.0) / 2.7) + 2
        jitter = [np.random.default_rng([self.seed, 99, k]).uniform(-6, 6) for k in range(n)]
        crossings = (3.6 + 2.7 * np.arange(n)) * DAY + np.array(jitter) * 3600.0
        sign = np.ones_like(s)
        for c in crossings:
            sign = sign * (1 - 2 * _smoothstep(s, c, 1800.0))
        return sign

    def plasma(self, times) -> dict[str, np.ndarray]:
        """Plasma parameters at ``times`` (datetime64).

        Returns a dict of arrays: ``density`` (cm^-3, total electrons), ``speed`` (km/s), ``t_core`` (eV),
        ``anisotropy`` (T_par / T_perp of the core), ``halo_fraction``, ``t_halo`` (eV), ``kappa``,
        ``superhalo`` (PSD at 1 keV of the E^-3.5 superhalo, s^3/cm^6), ``strahl_fraction``, ``t_strahl`` (eV),
        ``strahl_width`` (deg FWHM), ``bidirectional`` (0..1), ``b_magnitude`` (nT, the large-scale value before
        fluctuations), ``dbb`` (dB/B of the transverse fluctuations).
        """
        s = self.seconds(times)
        r = self._regions(s)
        slow = self._noise("density", s)
        sheath, cloud, rec = r["sheath"], r["cloud"], r["recovery"]
        quiet = np.clip(1 - sheath - cloud - rec, 0, 1)
        h = s / 3600.0
        # magnetic cloud: a flux-rope |B| profile peaking at ~20 nT
        xc = np.clip((h - self.cloud_start_hours) / (self.cloud_end_hours - self.cloud_start_hours), 0, 1)
        b_cloud = 11.0 + 9.0 * np.sin(np.pi * xc)
        b = 5.0 * quiet + 13.0 * sheath + b_cloud * cloud + 8.0 * rec
        density = (6.5 * quiet + 17.0 * sheath + 2.5 * cloud + 9.0 * rec) * np.exp(0.25 * slow[:, 0])
        speed = 400.0 * quiet + 560.0 * sheath + 520.0 * cloud + 470.0 * rec
        t_core = (12.0 * quiet + 21.0 * sheath + 7.5 * cloud + 14.0 * rec) * np.exp(0.08 * slow[:, 1])
        return {
            "density": density,
            "speed": speed,
            "t_core": t_core,
            "anisotropy": 1.15 * quiet + 1.0 * sheath + 1.3 * cloud + 1.1 * rec,
            "halo_fraction": 0.06 * quiet + 0.04 * sheath + 0.08 * cloud + 0.05 * rec,
            "t_halo": 35.0 * quiet + 45.0 * sheath + 30.0 * cloud + 38.0 * rec,
            "kappa": 8.0 * quiet + 7.0 * sheath + 8.0 * cloud + 8.0 * rec,
            "superhalo": 3e-33 * quiet + 8e-33 * sheath + 2e-33 * cloud + 4e-33 * rec,
            "strahl_fraction": 0.005 * quiet + 0.002 * sheath + 0.008 * cloud + 0.004 * rec,
            "t_strahl": 80.0 * quiet + 90.0 * sheath + 90.0 * cloud + 85.0 * rec,
            "strahl_width": 30.0 * quiet + 80.0 * sheath + 25.0 * cloud + 40.0 * rec,
            "bidirectional": cloud,
            "b_magnitude": b,
            "dbb": 0.35 * quiet + 0.65 * sheath + 0.1 * cloud + 0.3 * rec,
        }

    def _mean_direction(self, s: np.ndarray, sector: np.ndarray, regions: dict[str, np.ndarray],
                        speed: np.ndarray) -> np.ndarray:
        """Unit large-scale field direction in GSE (N, 3)."""
        phi = np.arctan(429.0 / speed)            # Parker angle at 1 AU: tan(phi) = Omega_sun r / V
        # away sector: B_R > 0, B_T < 0  ->  Bx < 0, By > 0 in GSE
        parker = np.stack([-np.cos(phi) * sector, np.sin(phi) * sector, np.zeros_like(s)], axis=1)
        h = s / 3600.0
        xc = np.clip((h - self.cloud_start_hours) / (self.cloud_end_hours - self.cloud_start_hours), 0, 1)
        # flux rope: the field rotates from south to north through a strong east-west axial component
        theta = np.deg2rad(-70.0 + 140.0 * xc)
        rope = np.stack([-0.15 * np.ones_like(s), -np.cos(theta), np.sin(theta)], axis=1)
        rope /= np.linalg.norm(rope, axis=1)[:, None]
        # the sheath field is the compressed, draped upstream field, tilted out of the ecliptic
        sheath = parker + np.array([0.0, 0.0, 0.45])[None, :]
        w_c = regions["cloud"][:, None]
        w_s = regions["sheath"][:, None]
        d = parker * (1 - w_c - w_s) + rope * w_c + sheath * w_s
        return d / np.linalg.norm(d, axis=1)[:, None]

    def b_gse(self, times) -> np.ndarray:
        """Magnetic field in GSE (nT), shape (N, 3), at ``times`` (datetime64)."""
        s = self.seconds(times)
        return self._b_gse_seconds(s)

    def _b_gse_seconds(self, s: np.ndarray) -> np.ndarray:
        regions = self._regions(s)
        plasma = self._plasma_from_seconds(s)
        b0 = self._mean_direction(s, self.sector(s), regions, plasma["speed"])
        delta = self._noise("direction", s)
        delta -= np.sum(delta * b0, axis=1)[:, None] * b0          # Alfvenic: transverse to the mean field
        direction = b0 + (plasma["dbb"] / 0.35)[:, None] * delta
        direction /= np.linalg.norm(direction, axis=1)[:, None]
        mag = self._noise("magnitude", s)[:, 0]
        magnitude = plasma["b_magnitude"] * np.exp(0.35 * mag + 0.2 * regions["sheath"] * mag)
        return direction * magnitude[:, None]

    def _plasma_from_seconds(self, s: np.ndarray) -> dict[str, np.ndarray]:
        return self.plasma(self.start + (np.asarray(s) * 1e9).astype(np.int64).astype("timedelta64[ns]"))

    # ------------------------------------------------------------------ frames
    def spin_axis_gse(self, times) -> np.ndarray:
        """Spin axis (unit, GSE) of the pointing that contains each time; it changes at the daily repointing."""
        s = self.seconds(times)
        pointing = self.pointing_index(s)
        rng_angles = np.deg2rad(4.0 + 0.5 * np.sin(pointing * 1.3 + self.seed))
        az = np.deg2rad(30.0 * pointing + 17.0)
        return np.stack([np.cos(rng_angles), np.sin(rng_angles) * np.cos(az), np.sin(rng_angles) * np.sin(az)],
                        axis=1)

    def repoint_seconds(self, day: int) -> tuple[float, float]:
        """Start and end (seconds since start) of the repointing manoeuvre of day number ``day`` (~3.5 min)."""
        rng = np.random.default_rng([self.seed, 7, day + 100_000])
        t0 = day * DAY + 10 * 3600.0 + float(rng.integers(0, 40)) * 0.5
        return t0, t0 + 200.0 + float(rng.integers(0, 40)) * 0.5

    def pointing_index(self, s: np.ndarray) -> np.ndarray:
        """Number of the pointing (increments at each daily repointing)."""
        s = np.asarray(s, dtype=float)
        day = np.floor(s / DAY).astype(np.int64)
        ends = np.array([self.repoint_seconds(int(d))[1] for d in np.unique(day)])
        idx = np.searchsorted(np.unique(day), day)
        return day + (s >= ends[idx]).astype(np.int64)

    def gse_to_dsrf(self, times) -> np.ndarray:
        """Rotation matrices (N, 3, 3): DSRF Z = spin axis; X in the plane of spin axis and ecliptic north."""
        z = self.spin_axis_gse(times)
        north = np.array([0.0, 0.0, 1.0])
        x = north[None, :] - np.sum(z * north, axis=1)[:, None] * z
        x /= np.linalg.norm(x, axis=1)[:, None]
        y = np.cross(z, x)
        return np.stack([x, y, z], axis=1)

    def spin_phase(self, times) -> np.ndarray:
        """Spin phase (rad) of the spacecraft (4 rpm, 15 s period)."""
        s = self.seconds(times)
        return np.mod(2 * np.pi * s / 15.0 + 0.3 * self.seed, 2 * np.pi)

    def dipole_tilt(self, times) -> np.ndarray:
        """GSE -> GSM rotation angle about X (rad): a January-like tilt with the daily wobble."""
        t = np.asarray(times, dtype="datetime64[ns]")
        hour = (t - t.astype("datetime64[D]")).astype(np.int64) / 3600e9
        return np.deg2rad(-18.0 + 11.0 * np.cos(2 * np.pi * (hour - 4.6) / 24.0))

    def rotate(self, b_gse: np.ndarray, times, frame: str) -> np.ndarray:
        """Rotate GSE vectors (N, 3) to ``frame`` ('gse', 'gsm', 'rtn', 'dsrf', 'srf')."""
        if frame == "gse":
            return b_gse.copy()
        if frame == "rtn":
            # R = -X, T = -Y, N = Z, plus the 4 deg tilt between the ecliptic and the solar equator
            base = np.array([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
            m = rotation_about("x", np.deg2rad(4.0)) @ base
            return b_gse @ m.T
        if frame == "gsm":
            m = rotation_about("x", self.dipole_tilt(times))
            return np.einsum("nij,nj->ni", m, b_gse)
        dsrf = np.einsum("nij,nj->ni", self.gse_to_dsrf(times), b_gse)
        if frame == "dsrf":
            return dsrf
        if frame == "srf":
            m = rotation_about("z", self.spin_phase(times))
            return np.einsum("nij,nj->ni", m, dsrf)
        msg = f"Unknown frame {frame!r}. Expected one of: dsrf, gse, gsm, rtn, srf."
        raise ValueError(msg)


# ---------------------------------------------------------------------------------------------- electrons
M_E = 9.1093837e-28          # g
EV = 1.602176634e-12         # erg


def _maxwell_norm(temp_ev) -> np.ndarray:
    """(m / 2 pi k T)^(3/2) in s^3/cm^3 for T in eV."""
    return (M_E / (2 * np.pi * np.asarray(temp_ev) * EV)) ** 1.5


def electron_psd(plasma: dict[str, np.ndarray], energy, cos_pitch, cos_strahl) -> np.ndarray:
    """Electron phase-space density (s^3/cm^6): core + halo + strahl + spacecraft photo-electrons.

    Parameters
    ----------
    plasma : dict of arrays
        :meth:`SolarWind.plasma` values, each broadcastable against ``energy``.
    energy : array_like
        Electron energy (eV).
    cos_pitch : array_like
        Cosine of the pitch angle of the particle velocity relative to the magnetic field.
    cos_strahl : array_like
        Cosine of the angle between the particle velocity and the anti-sunward field direction (the strahl).

    Notes
    -----
    * Core: bi-Maxwellian, ``n_c = n (1 - halo - strahl)``, ``T_par / T_perp = anisotropy``.
    * Halo: isotropic kappa distribution ``n_h = halo_fraction n``, temperature ``t_halo``.
    * Strahl: a Maxwellian energy shape (T = ``t_strahl``, ~80 eV) times a Gaussian beam of ``strahl_width`` FWHM
      around the anti-sunward field direction (both directions, weighted by ``bidirectional``, in a magnetic cloud).
    * Superhalo: an E^-3.5 power law above ~600 eV (stronger behind the shock).
    * Photo-electrons: a cold (0.9 eV) component below ~6 eV, as the spacecraft adds at the lowest steps.

    The parameters follow the flight SWE L2 spectrum (``products.md`` §4.5) rather than textbook halo values
    (a kappa = 5, 60 eV halo gives ~20x the flight PSD at 1 keV).
    """
    from math import gamma

    e = np.asarray(energy, dtype=float)
    n = plasma["density"]
    n_h = plasma["halo_fraction"] * n
    n_s = plasma["strahl_fraction"] * n
    n_c = n - n_h - n_s
    t_c = plasma["t_core"]
    a = plasma["anisotropy"]
    t_perp = t_c * 3.0 / (2.0 + a)
    t_par = a * t_perp
    mu2 = np.clip(np.asarray(cos_pitch, dtype=float) ** 2, 0, 1)
    core = n_c * (M_E / (2 * np.pi * EV)) ** 1.5 / (t_perp * np.sqrt(t_par)) * np.exp(
        -e * (mu2 / t_par + (1 - mu2) / t_perp))
    kappa = plasma["kappa"]
    t_h = plasma["t_halo"]
    theta2_ev = (2 * kappa - 3) / kappa * t_h                       # (m theta^2 / 2) expressed as kT-like energy
    gam = np.vectorize(gamma)
    kfac = gam(kappa + 1) / (kappa ** 1.5 * gam(kappa - 0.5))
    halo = n_h * (M_E / (2 * np.pi * EV * theta2_ev / 2 * 2)) ** 1.5 * kfac * (
        1 + e / (kappa * theta2_ev)) ** (-(kappa + 1))
    sigma = np.deg2rad(plasma["strahl_width"]) / 2.3548
    ang = np.arccos(np.clip(cos_strahl, -1, 1))
    beam = np.exp(-0.5 * (ang / sigma) ** 2)
    back = np.exp(-0.5 * ((np.pi - ang) / sigma) ** 2)
    bi = plasma["bidirectional"]
    shape = (beam + bi * back) / (1 + bi)
    t_s = plasma["t_strahl"]
    strahl = n_s * _maxwell_norm(t_s) * np.exp(-e / t_s) * (2.0 / (sigma**2)) * shape * (e > 40.0) * np.clip(
        (e - 40.0) / 60.0, 0, 1)
    superhalo = plasma["superhalo"] * (e / 1000.0) ** -3.5 * (1 - np.exp(-((e / 600.0) ** 3)))
    photo = 2.3e-24 * np.exp(-(e - 2.66) / 0.9)
    return core + halo + strahl + superhalo + photo
