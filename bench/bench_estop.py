"""The operator's E-STOP in paced mode: from the press (sent to the GUI's weld session
process, as the E-STOP button sends it) to the station's own truth showing the supply
disarmed with no current and the head retracting. Pressed in the pulse, ten times; the time
includes one read of the station's test panel (about a millisecond on loopback).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.figure import Figure
from tests.helpers.estop import gui_session

PRESSES = 10
GOAL_MS = 50.0


def run() -> list[Figure]:
    """Press E-STOP mid-pulse PRESSES times; return the median and the worst."""
    times = []
    with tempfile.TemporaryDirectory() as tmp, gui_session(Path(tmp)) as gui:
        for k in range(PRESSES):
            press = gui.press_in("weld", 300.0 + 20.0 * k, f"bench-estop-{k}")  # in the pulse
            if press.safe_ms < 0.0 or press.fired_after:
                raise RuntimeError(f"press {k}: not made safe: {press}")
            times.append(press.safe_ms)
    worst = max(times)
    return [
        Figure(
            "estop_to_safe_median",
            statistics.median(times),
            "ms",
            f"<= {GOAL_MS:g} ms",
            statistics.median(times) <= GOAL_MS,
        ),
        Figure("estop_to_safe_worst", worst, "ms", f"<= {GOAL_MS:g} ms", worst <= GOAL_MS),
    ]
