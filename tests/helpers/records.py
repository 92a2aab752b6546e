"""The tests' one weld record: plain defaults, content set by k, any field given (its time:
now, as the cycle stamps it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from controller.qa.record import WeldRecord
from drivers.config.schedule import load_schedule
from tests.helpers.paths import TC_INV

# the shipped schedule's own hash, as a weld of it is logged (teach --from-log compares them)
TC_INV_HASH = load_schedule(TC_INV).digest()


def weld_record(k: int = 0, verdict: str = "PASS", **fields: Any) -> WeldRecord:
    """Return the k-th test weld's record (a FAIL says why); fields given replace the defaults."""
    base: dict[str, Any] = dict(
        station="bench-1",
        operator="ana",
        part_id=f"P{k:04d}",
        lot="L7",
        schedule="tc_inverter_cu100_pb200",
        schedule_hash=TC_INV_HASH,
        window="tc_inverter_cu100_pb200",
        window_hash="abcd",
        electrode_count=100 + k,
        verdict=verdict,
        reasons=[] if verdict == "PASS" else ["setdown_um 80 µm above 62 µm"],
        features={"energy_j": 10.0 + k, "setdown_um": 58.0, "burn_through_ms": None},
        waveform=np.random.default_rng(k).normal(size=(500, 4)),
        supply_weld_count=k,
    )
    return WeldRecord(**{**base, **fields})
