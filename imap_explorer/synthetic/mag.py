"""Synthetic MAG products: L1B and L1C ``norm-mago|magi``, L2 ``norm-*`` and ``burst-*`` (``products.md`` §3).

Every writer takes the shared :class:`~imap_explorer.synthetic.physics.SolarWind` model, so the vectors of
all levels, frames and rates agree with each other and with SWE.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from imap_explorer._time import datetime64_to_tt2000
from imap_explorer.filenames import sdc_key
from imap_explorer.synthetic import attrs as A
from imap_explorer.synthetic._cdf import write_dataset
from imap_explorer.synthetic.physics import DAY, DayLike, SolarWind, day_start

__all__ = ["FRAMES", "write_mag_l1", "write_mag_l2", "write_mag_l2_legacy"]

FRAMES = ("srf", "dsrf", "gse", "gsm", "rtn")
VALID_RATES = (1, 2, 4, 8, 16, 32, 64, 128)
_LABELS = {"rtn": ["B_R", "B_T", "B_N"]}
_KERNELS = ["naif0012.tls", "pck00011.tpc", "imap_130.tf", "imap_science_120.tf", "imap_sclk_0162.tsc", "de440.bsp"]
_SENSOR_OFFSETS = {"mago": np.array([0.12, -0.08, 0.05]), "magi": np.array([-0.9, 1.4, 0.6])}


def _target(path_or_root: str | os.PathLike[str], name: str) -> Path:
    """``path_or_root`` is a ``.cdf`` path (used as is) or an archive root (SDC layout below it)."""
    p = Path(path_or_root)
    if p.suffix == ".cdf":
        return p
    return p / sdc_key(name)


def _name(data_level: str, descriptor: str, day: np.datetime64, version: str) -> str:
    return f"imap_mag_{data_level}_{descriptor}_{_ymd(day)}_{version}.cdf"


def _ymd(day: np.datetime64) -> str:
    return str(day.astype("datetime64[D]")).replace("-", "")


def _day_number(model: SolarWind, day: np.datetime64) -> int:
    return int((day - model.start).astype("timedelta64[D]").astype(np.int64))


def _check_rate(rate: int) -> int:
    if rate not in VALID_RATES:
        msg = f"Invalid MAG vector rate {rate!r}. Expected one of: {', '.join(map(str, VALID_RATES))} (vectors/s)."
        raise ValueError(msg)
    return int(rate)


def _hour_window(hours) -> tuple[float, float]:
    if hours is None:
        return 0.0, 24.0
    if np.isscalar(hours):
        lo, hi = 0.0, float(hours)
    else:
        lo, hi = (float(h) for h in hours)
    if not 0.0 <= lo < hi <= 24.0:
        msg = f"Invalid hours {hours!r}. Expected a duration in (0, 24] or a (start, end) pair within [0, 24]."
        raise ValueError(msg)
    return lo, hi


def _hf_noise(model: SolarWind, day_no: int, s: np.ndarray, rate: int) -> np.ndarray:
    """Fluctuations above 1 Hz (the 2 Hz model's Nyquist) for burst rates: f^-5/3 steepening to f^-2.8 above 3 Hz."""
    from imap_explorer.synthetic.physics import _colored_noise

    out = np.zeros((s.size, 3))
    hour = np.floor((s - day_no * DAY) / 3600.0).astype(np.int64)
    for h in np.unique(hour):
        sel = hour == h
        rng = np.random.default_rng([model.seed, 4, day_no + 100_000, int(h), rate])
        n = int(sel.sum())
        noise = _colored_noise(rng, n, float(rate), 3, -5.0 / 3.0, 1.0, 2.5e-4 * 25.0, f_high=3.0)
        f_cut = np.fft.rfftfreq(n, 1.0 / rate)
        spec = np.fft.rfft(noise, axis=0)
        spec[f_cut < 1.0] = 0.0
        out[sel] = np.fft.irfft(spec, n=n, axis=0)
    return out


def _quality_rows(model: SolarWind, day_no: int, s: np.ndarray) -> np.ndarray:
    """A few hundred seconds flagged bad (spacecraft interference) each day, away from the repointing."""
    rng = np.random.default_rng([model.seed, 8, day_no + 100_000])
    t0 = day_no * DAY + 3600.0 * float(rng.uniform(15.0, 22.0))
    return (s >= t0) & (s < t0 + float(rng.integers(100, 180)))


def _repoint_rows(model: SolarWind, day_no: int, s: np.ndarray) -> np.ndarray:
    a, b = model.repoint_seconds(day_no)
    return (s >= a) & (s < b)


def _grid(day: np.datetime64, rate: int, lo_h: float, hi_h: float) -> np.ndarray:
    step = 1_000_000_000 // rate
    n = int(round((hi_h - lo_h) * 3600 * rate))
    start = day + np.timedelta64(int(round(lo_h * 3600e9)), "ns")
    return start + (np.arange(n, dtype=np.int64) * step).astype("timedelta64[ns]")


def _direction(n: int, labels: list[str]) -> dict[str, xr.DataArray]:
    return {
        "direction": xr.DataArray(np.arange(n, dtype=np.int64), dims="direction", attrs=A.mag_direction_attrs()),
        "direction_label": xr.DataArray(np.array(labels), dims="direction",
                                        attrs=A.label_attrs("magnetic field vector data", "Magnetic Field Vector", 3)),
    }


def _day_field(model: SolarWind, day: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """MAGo field in GSE (nT, with ~10 pT sensor noise) on the 2 Hz grid day -31 min .. day +24 h +31 min (cached)."""
    key = ("mag-day-field", int(day.astype(np.int64)))
    if key not in model._cache:
        times = _grid(day, 2, -31.0 / 60.0, 24.0 + 31.0 / 60.0)
        rng = np.random.default_rng([model.seed, 5, _day_number(model, day) + 100_000])
        b = model.b_gse(times) + rng.normal(0.0, 0.008, (times.size, 3))
        model._cache[key] = (times, b)
    return model._cache[key]


def _field_at(model: SolarWind, times: np.ndarray, day: np.datetime64) -> np.ndarray:
    """The cached 2 Hz field of ``day`` at ``times`` (exact on the grid, linear in between)."""
    grid, b = _day_field(model, day)
    if times[0] < grid[0] or times[-1] > grid[-1]:
        msg = f"times {times[0]}..{times[-1]} outside the field of {day}"
        raise ValueError(msg)
    x = (times - grid[0]).astype(np.int64) / 5e8
    i = np.clip(np.floor(x).astype(np.int64), 0, grid.size - 2)
    frac = (x - i)[:, None]
    return b[i] * (1 - frac) + b[i + 1] * frac


def l2_vectors(model: SolarWind, times: np.ndarray, frame: str, rate: int = 2,
               offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MAGo L2 vectors in ``frame`` and |B| (nT, float64) at ``times`` (datetime64), before fill is applied."""
    if rate <= 2:
        b = _field_at(model, times, times[0].astype("datetime64[D]").astype("datetime64[ns]"))
    else:
        s = model.seconds(times)
        day_no = int(np.floor(s[0] / DAY))
        b = model._b_gse_seconds(s)
        b = b + _hf_noise(model, day_no, s, rate) * np.linalg.norm(b, axis=1)[:, None] / 5.0
        rng = np.random.default_rng([model.seed, 5, day_no + 100_000, rate, int(s[0] * 1000) % (2**31)])
        b = b + rng.normal(0.0, 0.008, b.shape)                                 # sensor noise, ~10 pT
    if offset is not None:
        b = b + np.asarray(offset, dtype=float)
    magnitude = np.linalg.norm(b, axis=1)
    return model.rotate(b, times, frame), magnitude


def write_mag_l2(path_or_root: str | os.PathLike[str], day: DayLike, descriptor: str = "burst-gse",
                 rate: int | None = None, hours: float | tuple[float, float] | None = None, seed: int = 0, *,
                 version: str = "v001.0001", model: SolarWind | None = None, offset=None,
                 generation_date: str | None = None) -> Path:
    """Write one MAG L2 day (``norm-<frame>`` or ``burst-<frame>``) in the current SDC layout.

    Parameters
    ----------
    path_or_root : str or path-like
        A target ``.cdf`` path, or an archive root (the file then goes to its SDC key below it).
    day : date-like
        The processing day, e.g. ``"2026-01-20"``.
    descriptor : str, default "burst-gse"
        ``norm-<frame>`` or ``burst-<frame>``, frame one of srf, dsrf, gse, gsm, rtn.
    rate : int, optional
        Vectors per second (1..128, a power of two). Default 2 for ``norm-*`` and 128 for ``burst-*``.
    hours : float or (float, float), optional
        Write only this part of the day (a duration from 00:00, or a start/end hour pair). Default: the whole day.
    seed : int, default 0
        Random seed (ignored when ``model`` is given).
    version : str, default "v001.0001"
        File version.
    model : SolarWind, optional
        The solar-wind model to sample; default ``SolarWind(day, seed)`` (a shock at 12:00 that day).
    offset : array_like of 3 floats, optional
        A calibration offset (nT, GSE) added to the vectors, used to make older versions differ.
    generation_date : str, optional
        ``YYYYMMDD``; default the day after ``day``.

    Returns
    -------
    pathlib.Path
        The written file. With an explicit ``.cdf`` path the global attributes (``Logical_file_id``) still
        name the SDC file, e.g. ``imap_mag_l2_burst-gse_20260120_v001.0001``.

    Raises
    ------
    ValueError
        For an unknown descriptor, a rate that is not a power of two up to 128, or hours outside [0, 24].

    See Also
    --------
    write_swe_l2 : one SWE L2 day.
    make_archive : a whole archive.

    Examples
    --------
    >>> write_mag_l2(tmp, "2026-01-20", "burst-gse", rate=64, hours=(11.5, 12.5))  # doctest: +SKIP
    PosixPath('.../imap/mag/l2/2026/01/imap_mag_l2_burst-gse_20260120_v001.0001.cdf')
    """
    mode, _, frame = descriptor.partition("-")
    if mode not in ("norm", "burst") or frame not in FRAMES:
        choices = sorted(f"{m}-{f}" for m in ("norm", "burst") for f in FRAMES)
        msg = f"Invalid MAG L2 descriptor {descriptor!r}. Expected one of: {', '.join(choices)}."
        raise ValueError(msg)
    rate = _check_rate(rate if rate is not None else (2 if mode == "norm" else 128))
    lo_h, hi_h = _hour_window(hours)
    day = day_start(day)
    model = model if model is not None else SolarWind(day, seed)
    day_no = _day_number(model, day)
    times = _grid(day, rate, lo_h, hi_h)
    s = model.seconds(times)
    vectors = np.empty((times.size, 3), np.float32)
    magnitude = np.empty(times.size, np.float32)
    hour = np.floor(s / 3600.0).astype(np.int64)
    starts = np.flatnonzero(np.diff(hour, prepend=hour[0] - 1))
    for a, b in zip(starts, [*starts[1:], times.size], strict=True):    # hour by hour: bounded memory at 128 Hz
        vectors[a:b], magnitude[a:b] = l2_vectors(model, times[a:b], frame, rate, offset)
    vectors[_repoint_rows(model, day_no, s)] = np.nan                 # no attitude during the repointing
    bad = _quality_rows(model, day_no, s)
    name = _name("l2", descriptor, day, version)
    ds = xr.Dataset(
        {
            f"b_{frame}": (("epoch", "direction"), vectors, A.mag_l2_vector_attrs(frame)),
            "quality_flags": ("epoch", bad.astype(np.uint8), A.mag_l2_scalar_attrs()["quality_flags"]),
            "quality_bitmask": ("epoch", (bad * 4).astype(np.uint16), A.mag_l2_scalar_attrs()["quality_bitmask"]),
            "range": ("epoch", np.full(times.size, 2, np.uint8), A.mag_l2_scalar_attrs()["range"]),
            "magnitude": ("epoch", magnitude, A.mag_l2_scalar_attrs()["magnitude"]),
        },
        coords={"epoch": ("epoch", datetime64_to_tt2000(times), A.epoch_attrs()),
                **_direction(3, _LABELS.get(frame, ["Bx", "By", "Bz"]))},
    )
    l1 = "l1b_burst-mago" if mode == "burst" else "l1c_norm-mago"
    parents = [*_KERNELS, f"imap_mag_{l1}_{_ymd(day)}_{version}.cdf", "imap_mag_l2-calibration_20260101_v001.cdf",
               f"imap_mag_l2-{mode}-offsets_{_ymd(day)}_{_ymd(day)}_v001.cdf"]
    ds.attrs = A.global_attrs("mag", "l2", descriptor, _ymd(day), version, parents, generation_date=generation_date)
    return write_dataset(ds, _target(path_or_root, name))


# ---------------------------------------------------------------------------------------------- L1B / L1C
def l1_times(model: SolarWind, day: np.datetime64, sensor: str) -> np.ndarray:
    """Normal-mode sample times of one sensor: day -30 min .. day +24 h +30 min, 2 vectors/s, not aligned.

    Vectors come in 32 s packets of 64; within a packet each step is 0.5 s minus 0..92 us (clock drift), and each
    packet restarts at its own time stamp (plus a fixed sensor time shift).
    """
    day_no = _day_number(model, day)
    rng = np.random.default_rng([model.seed, 10, day_no + 100_000, 0 if sensor == "mago" else 1])
    n_packets = int((DAY + 3600.0) / 32.0) + 1
    shift_ns = 18_700_000 if sensor == "mago" else 23_100_000
    base = day.astype(np.int64) - 1_800_000_000_000 + shift_ns
    steps = 500_000_000 - rng.integers(0, 92_001, size=(n_packets, 64))
    steps[:, 0] = 0
    within = np.cumsum(steps, axis=1)
    t = base + np.arange(n_packets, dtype=np.int64)[:, None] * 32_000_000_000 + within
    t = t.ravel()
    t = t[t < day.astype(np.int64) + int((DAY + 1800.0) * 1e9)]
    return t.astype("datetime64[ns]")


def _l1_data(model: SolarWind, day: np.datetime64, sensor: str) -> tuple[np.ndarray, np.ndarray]:
    """Times and ``[x, y, z, range]`` vectors of one sensor's normal-mode day, shared by L1B and L1C (cached)."""
    key = ("mag-l1", int(day.astype(np.int64)), sensor)
    if key not in model._cache:
        times = l1_times(model, day, sensor)
        model._cache[key] = (times, _l1_vectors(model, times, sensor, day))
    return model._cache[key]


def _l1_vectors(model: SolarWind, times: np.ndarray, sensor: str, day: np.datetime64) -> np.ndarray:
    srf = model.rotate(_field_at(model, times, day), times, "srf")
    day_key = _day_number(model, day) + 100_000
    rng = np.random.default_rng([model.seed, 11, day_key, 0 if sensor == "mago" else 1])
    noise = 0.01 if sensor == "mago" else 0.05                   # MAGi sits closer to the spacecraft
    srf = srf + _SENSOR_OFFSETS[sensor] + rng.normal(0.0, noise, srf.shape)
    out = np.empty((times.size, 4))
    out[:, :3] = srf.astype(np.float32)                          # 24-bit precision, like the sensor ADC
    out[:, 3] = 2.0                                              # range code
    return out


def _direction4() -> dict[str, xr.DataArray]:
    return {
        "direction": xr.DataArray(np.arange(4, dtype=np.int64), dims="direction", attrs=A.mag_direction_attrs()),
        "compression": xr.DataArray(np.arange(2, dtype=np.int64), dims="compression",
                                    attrs=A.mag_compression_attrs()["compression"]),
        "direction_label": xr.DataArray(np.array(["0", "1", "2", "3"]), dims="direction_label",
                                        attrs=A.label_attrs("magnetic field vector data", "Magnetic Field Vector", 3)),
        "compression_label": xr.DataArray(np.array(["0", "1"]), dims="compression_label",
                                          attrs=A.label_attrs("Compression and width", "Compression and width", 2)),
    }


def write_mag_l1(root: str | os.PathLike[str], day: DayLike, data_level: str, sensor: str, *, model: SolarWind,
                 version: str = "v001.0001", burst_fill: tuple[float, float] | None = None) -> Path:
    """Write MAG L1B or L1C ``norm-<sensor>`` for ``day`` (with the +-30 min buffers) under ``root``.

    Parameters
    ----------
    root : str or path-like
        Archive root (SDC layout below it) or a target ``.cdf`` path.
    day : date-like
        The processing day; the file covers day -30 min .. day +24 h +30 min at 2 vectors/s.
    data_level : {"l1b", "l1c"}
    sensor : {"mago", "magi"}
    model : SolarWind
        The shared solar-wind model.
    version : str, default "v001.0001"
    burst_fill : (float, float), optional
        UTC hours of an L1C interval whose normal-mode vectors were generated from burst data
        (``generated_flag`` 1).

    Returns
    -------
    pathlib.Path
    """
    if data_level not in ("l1b", "l1c") or sensor not in ("mago", "magi"):
        msg = f"Invalid MAG L1 product {data_level!r}/{sensor!r}. Expected l1b|l1c and mago|magi."
        raise ValueError(msg)
    day = day_start(day)
    times, vectors = _l1_data(model, day, sensor)
    n = times.size
    descriptor = f"norm-{sensor}"
    data = {"vectors": (("epoch", "direction"), vectors, A.mag_l1_vector_attrs(data_level))}
    flags = np.tile(np.array([1, 18], dtype=np.int8), (n, 1))
    comp_attrs = A.mag_compression_attrs()["compression_flags"]
    if data_level == "l1b":
        data["compression_flags"] = (("epoch", "compression"), flags, comp_attrs)
        parents = [f"imap_mag_l1a_{descriptor}_{_ymd(day)}_{version}.cdf", "imap_mag_l1b-calibration_20260101_v001.cdf"]
    else:
        extra = A.mag_l1c_extra_attrs()
        # the SDC computes this over all four columns, range code included (products.md 3.5)
        data["vector_magnitude"] = ("epoch", np.linalg.norm(vectors, axis=1), extra["vector_magnitude"])
        data["compression_flags"] = (("epoch", "compression"), flags.astype(np.float64),
                                     {**comp_attrs, "FILLVAL": np.float64(-1e31), "VALIDMIN": np.float64(0),
                                      "VALIDMAX": np.float64(21), "FORMAT": "F4.1"})
        generated = np.zeros(n)
        if burst_fill is not None:
            h = (times - day).astype(np.int64) / 3600e9
            generated[(h >= burst_fill[0]) & (h < burst_fill[1])] = 1.0
        data["generated_flag"] = ("epoch", generated, extra["generated_flag"])
        parents = [f"imap_mag_l1b_{descriptor}_{_ymd(day)}_{version}.cdf",
                   f"imap_mag_l1b_burst-{sensor}_{_ymd(day)}_{version}.cdf"]
    ds = xr.Dataset(data, coords={"epoch": ("epoch", datetime64_to_tt2000(times), A.epoch_attrs()), **_direction4()})
    attrs = A.global_attrs("mag", data_level, descriptor, _ymd(day), version, parents)
    attrs["is_mago"] = "True" if sensor == "mago" else "False"
    attrs["is_active"] = "True"
    attrs["all_vectors_primary"] = 1 if sensor == "mago" else 0
    if data_level == "l1b":
        attrs["vectors_per_second"] = f"{int(datetime64_to_tt2000(times[:1])[0])}:2"
    else:
        attrs["interpolation_method"] = "linear_filtered"
    attrs["missing_sequences"] = ""
    ds.attrs = attrs
    return write_dataset(ds, _target(root, _name(data_level, descriptor, day, version)))


# ---------------------------------------------------------------------------------------------- legacy layout
def write_mag_l2_legacy(root: str | os.PathLike[str], day: DayLike, frame: str = "dsrf", *, model: SolarWind,
                        version: str = "v002") -> Path:
    """Write one MAG L2 ``norm-<frame>`` day in the flight-era layout (imap_processing <= 1.0.25).

    Quirks reproduced (``products.md`` §3.6): ``FILLVAL`` attribute 9.223372e18 while the repointing rows hold
    -1e31; ``UNITS ' '``; ``direction_label`` '0','1','2'; ``quality_flags``/``quality_bitmask`` CDF_INT8 with
    swapped CATDESCs (values 0/1 and 0/4 on the same rows); ``magnitude`` valid on fill rows with
    ``VAR_TYPE support_data``; ``epoch`` GZIP-compressed; legacy ``_vNNN`` name and ``Data_version`` "002".
    It is written with ``cdflib.cdfwrite`` directly, because ``xarray_to_cdf`` >= 1.3.16 never compresses ``epoch``.

    Returns
    -------
    pathlib.Path
    """
    from imap_explorer.synthetic._cdf import RawVariable, write_raw

    if frame not in FRAMES:
        msg = f"Invalid frame {frame!r}. Expected one of: {', '.join(sorted(FRAMES))}."
        raise ValueError(msg)
    day = day_start(day)
    day_no = _day_number(model, day)
    times = _grid(day, 2, 0.0, 24.0)
    s = model.seconds(times)
    vectors, magnitude = l2_vectors(model, times, frame)
    vectors = vectors.astype(np.float32)
    vectors[_repoint_rows(model, day_no, s)] = np.float32(-1e31)
    bad = _quality_rows(model, day_no, s)
    # the flight files flag only a handful of rows
    bad &= np.cumsum(bad) <= 7
    attrs = A.mag_legacy_attrs(frame)
    epoch = {k: v for k, v in A.epoch_attrs().items()}
    epoch_order = ["FILLVAL", "FORMAT", "VALIDMIN", "VALIDMAX", "VAR_TYPE", "UNITS", "CATDESC", "FIELDNAM", "DICT_KEY",
                   "LABLAXIS", "SCALETYP", "MONOTON", "TIME_BASE", "TIME_SCALE", "REFERENCE_POSITION", "RESOLUTION"]
    epoch = {k: epoch[k] for k in epoch_order}
    direction = A.mag_direction_attrs()
    direction.pop("DICT_KEY")
    direction["DICT_KEY"] = "SPASE>Support>SupportQuantity:Orientation"
    variables = [
        RawVariable(f"b_{frame}", vectors, "CDF_FLOAT", attrs[f"b_{frame}"]),
        RawVariable("quality_flags", bad.astype(np.int64), "CDF_INT8", attrs["quality_flags"]),
        RawVariable("quality_bitmask", (bad * 4).astype(np.int64), "CDF_INT8", attrs["quality_bitmask"]),
        RawVariable("range", np.full(times.size, 2, np.uint8), "CDF_UINT1", attrs["range"]),
        RawVariable("magnitude", magnitude.astype(np.float32), "CDF_FLOAT", attrs["magnitude"]),
        RawVariable("epoch", datetime64_to_tt2000(times), "CDF_TIME_TT2000", epoch),
        RawVariable("direction", np.arange(3, dtype=np.int64), "CDF_INT8", direction, record_varying=False),
        RawVariable("direction_label", np.array(["0", "1", "2"]), "CDF_CHAR",
                    A.label_attrs("magnetic field vector data", "Magnetic Field Vector", 3), record_varying=False,
                    num_elements=21),
    ]
    ymd = _ymd(day)
    parents = [*_KERNELS, f"imap_mag_l1c_norm-mago_{ymd}_{version}.cdf", "imap_mag_l2-calibration_20260101_v004.cdf",
               f"imap_mag_l2-norm-offsets_{ymd}_{ymd}_v001.cdf"]
    gattrs = A.global_attrs("mag", "l2", f"norm-{frame}", ymd, version, parents)
    gattrs["ground_software_version"] = "1.0.25.post24.dev0+synthetic"
    gattrs["Logical_source_description"] = ("IMAP Mission Normal Rate Instrument Level-2 Data in "
                                            f"{A._FRAME_NAMES[frame][1]}.")
    name = _name("l2", f"norm-{frame}", day, version)
    return write_raw(_target(root, name), gattrs, variables)
