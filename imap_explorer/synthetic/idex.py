"""Synthetic IDEX L1A ``sci-1week``: a week of interstellar and interplanetary dust impacts.

One file per week (dated by the week's first day), one record per dust event, in the layout of the real file
(spec ``idex_l1a_sci-1week``): the six waveforms of each impact against their own time axes (t = 0 at the
trigger). The target and ion-grid channels step up by the impact charge; the time-of-flight channels show the
mass lines of the impact plasma (H, C, O, Na, K, Fe at t ~ sqrt(m)) after the trigger. Impacts come at random
times, a few a day; impact charges follow a power law. Epochs are in time order (unlike the real test file).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imap_explorer.synthetic._product import tt2000, write_product, ymd
from imap_explorer.synthetic._spec import load_spec
from imap_explorer.synthetic.physics import SolarWind

__all__ = ["write_idex_week"]

N_HIGH, N_LOW = 8189, 512
_TIME_HIGH = np.linspace(-15.74, 24.6, N_HIGH)                 # microseconds
_TIME_LOW = np.linspace(-63.0, 63.0, N_LOW)
_MASS_LINES = {"H": 1.0, "C": 12.0, "O": 16.0, "Na": 23.0, "K": 39.0, "Fe": 56.0}
_CHAR = {"idx__sci0pack": "EN", "idx__sci0frag": "DS", "idx__sci0comp": "DS", "idx__txhdrpolstat": "NEG",
         "idx__txhdrpolctrl": "POS", "idx__txhdrcoinena": "DIS", "idx__txhdrlstrigmode": "DIS"}
_MET_OFFSET = 315576052.3


def write_idex_week(root: str | os.PathLike[str], start: np.datetime64, *, model: SolarWind, days: int = 7,
                    events_per_day: float = 3.0) -> Path:
    """Write the IDEX L1A ``sci-1week`` file of the ``days`` days from ``start`` under ``root``."""
    start = np.datetime64(start, "D").astype("datetime64[ns]")
    rng = np.random.default_rng([model.seed, 24, int(start.astype("datetime64[D]").astype(np.int64))])
    n = max(1, int(rng.poisson(events_per_day * days)))
    seconds = np.sort(rng.uniform(0, days * 86400.0, n))
    times = start + (seconds * 1e9).astype(np.int64).astype("timedelta64[ns]")
    charge = 20.0 * (1 - rng.uniform(0, 1, n)) ** -0.8          # dN, power-law impact charges
    tof = {name: rng.normal(512, 2.0, (n, N_HIGH)) for name in ("TOF_Low", "TOF_Mid", "TOF_High")}
    after = _TIME_HIGH > 0
    for i in range(n):
        lines = np.zeros(N_HIGH)
        for mass in _MASS_LINES.values():
            t0 = 1.6 * np.sqrt(mass)
            lines += rng.uniform(0.2, 1.0) * np.exp(-0.5 * ((_TIME_HIGH - t0) / (0.02 * t0 + 0.01)) ** 2)
        for name, gain in (("TOF_High", 1.0), ("TOF_Mid", 0.3), ("TOF_Low", 0.1)):
            tof[name][i] += np.clip(gain * charge[i] * 8 * lines * after, 0, 3500)
    rise = np.clip(1 - np.exp(-np.clip(_TIME_LOW, 0, None) / 4.0), 0, 1)
    target_high = rng.normal(2044, 3.0, (n, N_LOW)) + charge[:, None] * rise[None, :]
    target_low = rng.normal(2052, 3.0, (n, N_LOW)) + 0.1 * charge[:, None] * rise[None, :]
    ion_grid = rng.normal(2024, 1.5, (n, N_LOW)) + 0.4 * charge[:, None] * rise[None, :]
    met = tt2000(times) / 1e9 - _MET_OFFSET
    data: dict[str, object] = {
        "epoch": tt2000(times), "shcoarse": np.floor(met), "shfine": np.round((met % 1) / 20e-6),
        "TOF_Low": np.rint(tof["TOF_Low"]), "TOF_Mid": np.rint(tof["TOF_Mid"]), "TOF_High": np.rint(tof["TOF_High"]),
        "Target_High": np.rint(target_high), "Target_Low": np.rint(target_low), "Ion_Grid": np.rint(ion_grid),
        "time_high_sample_rate": np.broadcast_to(_TIME_HIGH, (n, N_HIGH)),
        "time_low_sample_rate": np.broadcast_to(_TIME_LOW, (n, N_LOW)),
        "time_high_sample_rate_index": np.arange(N_HIGH), "time_low_sample_rate_index": np.arange(N_LOW),
        "time_high_sample_rate_label": [str(i) for i in range(N_HIGH)],
        "time_low_sample_rate_label": [str(i) for i in range(N_LOW)],
        "idx__sci0evtnum": np.arange(n), "idx__txhdrevtnum": np.arange(n), "idx__sci0type": np.ones(n),
        "idx__sci0time32": np.floor(met), "idx__txhdrtrigid": np.full(n, 16),
    }
    spec = load_spec("idex_l1a_sci-1week")
    for var in spec["variables"]:
        name = var["name"]
        if name.startswith("idx__") and name not in data:
            data[name] = np.full(n, _CHAR.get(name, "EN")) if var["cdf_type"] == "CDF_CHAR" else np.zeros(n, np.int64)
    return write_product(root, "idex_l1a_sci-1week", instrument="idex", data_level="l1a", descriptor="sci-1week",
                         day=start, n_records=n, data=data, spec=spec,
                         parents=[f"imap_idex_l0_raw_{ymd(start)}_v001.pkts"])
