"""Simulator speed: one 25 ms weld at a 1 µs step with 50 kHz output, against real time."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from bench.figure import Figure
from drivers.config.schedule import load_schedule
from firmware_sim import kernel as K
from firmware_sim.model import prepare
from firmware_sim.run import run as run_weld

SCHEDULE = (
    Path(__file__).resolve().parents[1] / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"
)
WELD_MS = 25.0
REPEATS = 30


def _state_at_fire() -> tuple[np.ndarray, np.ndarray]:
    sch = load_schedule(
        SCHEDULE, ["supply.up1_ms=0", f"supply.weld1_ms={WELD_MS}", "supply.squeeze_ms=0"]
    )
    weld = prepare(sch)
    p, s = weld.params, weld.state
    p[K.P_AUTO_FIRE] = 1.0
    s[K.S_HEAD_MODE] = K.HEAD_APPROACH
    out = np.zeros((1, K.N_OUT))
    while s[K.S_FIRE] < 0.5:
        K.advance(p, s, out, 1)
    assert p[K.P_DT_S] == 1e-6 and p[K.P_DECIM] == 20  # 1 µs step, 50 kHz output
    return p, s


def run() -> list[Figure]:
    """Time the weld part of the kernel after warm-up; also a whole stand-alone weld."""
    p, s_fire = _state_at_fire()
    n = int(WELD_MS * 1e-3 * 50e3)
    out = np.zeros((n, K.N_OUT))
    K.advance(p, s_fire.copy(), out, n)  # warm-up (compiled or loaded from cache already)
    times = []
    for _ in range(REPEATS):
        s = s_fire.copy()
        t0 = time.perf_counter()
        K.advance(p, s, out, n)
        times.append(time.perf_counter() - t0)
    best = min(times)
    med = statistics.median(times)
    assert out[:, K.OUT_CURRENT].max() > 100.0, "the timed span is the weld itself"
    whole = []
    for seed in range(5):
        sch = load_schedule(SCHEDULE)
        t0 = time.perf_counter()
        run_weld(prepare(sch, seed=seed))
        whole.append(time.perf_counter() - t0)
    return [
        Figure(
            "sim_weld_speed_median",
            WELD_MS * 1e-3 / med,
            "x real time",
            "≥ 100",
            WELD_MS * 1e-3 / med >= 100,
        ),
        Figure("sim_weld_speed_best", WELD_MS * 1e-3 / best, "x real time"),
        Figure("sim_step_cost", med / (WELD_MS * 1e-3 / 1e-6) * 1e9, "ns per 1 µs step"),
        Figure(
            "sim_whole_weld_wall",
            statistics.median(whole) * 1e3,
            "ms per stand-alone weld (approach to retract, ~110 ms simulated)",
        ),
    ]
