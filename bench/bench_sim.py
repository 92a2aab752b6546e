"""Simulator speed: a 25 ms weld at a 1 µs step with 50 kHz output, against real time.

Timed after warm-up, from the moment the supply fires, for both supplies on the shipped
thermocompression schedules; plus one whole stand-alone weld (approach to retract).
"""

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

SCHEDULES = Path(__file__).resolve().parents[1] / "configs" / "schedules"
WELD_MS = 25.0
REPEATS = 30
CASES = {
    # the calibration weld: 1 ms up-slope + 24 ms at 2.1 V is 25 ms of current
    "inverter": (SCHEDULES / "tc_inverter_cu100_pb200.toml", ["supply.squeeze_ms=0"]),
    "cd": (SCHEDULES / "tc_cd_cu100_pb200.toml", ["supply.squeeze_ms=0"]),
}


def _state_at_fire(path: Path, overrides: list[str]) -> tuple[np.ndarray, np.ndarray]:
    weld = prepare(load_schedule(path, overrides))
    p, s = weld.params, weld.state
    p[K.P_AUTO_FIRE] = 1.0
    s[K.S_HEAD_MODE] = K.HEAD_APPROACH
    out = np.zeros((1, K.N_OUT))
    while s[K.S_FIRE] < 0.5:
        K.advance(p, s, out, 1)
    assert p[K.P_DT_S] == 1e-6 and p[K.P_DECIM] == 20  # 1 µs step, 50 kHz output
    return p, s


def _speed(name: str, path: Path, overrides: list[str]) -> list[Figure]:
    p, s_fire = _state_at_fire(path, overrides)
    n = int(WELD_MS * 1e-3 * 50e3)
    out = np.zeros((n, K.N_OUT))
    K.advance(p, s_fire.copy(), out, n)  # warm-up
    times = []
    for _ in range(REPEATS):
        s = s_fire.copy()
        t0 = time.perf_counter()
        K.advance(p, s, out, n)
        times.append(time.perf_counter() - t0)
    assert out[:, K.OUT_CURRENT].max() > 100.0, "the timed span is the weld itself"
    med = statistics.median(times)
    speed = WELD_MS * 1e-3 / med
    return [
        Figure(f"sim_weld_speed_{name}", speed, "x real time", "≥ 100", speed >= 100.0),
        Figure(f"sim_step_cost_{name}", med / (WELD_MS * 1e-3 / 1e-6) * 1e9, "ns per 1 µs step"),
    ]


def run() -> list[Figure]:
    """Time a 25 ms weld on each supply, and a whole stand-alone weld."""
    figures: list[Figure] = []
    for name, (path, overrides) in CASES.items():
        figures += _speed(name, path, overrides)
    whole = []
    sch = load_schedule(CASES["inverter"][0])
    for seed in range(5):
        t0 = time.perf_counter()
        run_weld(prepare(sch, seed=seed))
        whole.append(time.perf_counter() - t0)
    figures.append(
        Figure(
            "sim_whole_weld_wall",
            statistics.median(whole) * 1e3,
            "ms per stand-alone weld (approach to retract, ~110 ms simulated)",
        )
    )
    return figures
