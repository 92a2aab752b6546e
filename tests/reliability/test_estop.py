"""The operator's E-STOP in the GUI's weld session, pressed at ten moments spread over a cycle
(approach, squeeze before FIRE, the pulse, the hold, the retract): each time the cycle
aborts, nothing fires after the press, the weld is logged ABORTED and the station is made
safe by the controller (the devices' watchdogs are 10 s). How fast it is made safe is a
benchmark figure (bench/bench_estop.py), not asserted here.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.estop import gui_session
from tests.reliability.battery import Record

MOMENTS = [  # (state, ms into it): WELD spans the supply's squeeze, pulse and hold
    ("approach", 5.0),
    ("approach", 100.0),
    ("squeeze", 0.0),
    ("weld", 5.0),  # the supply's squeeze: armed, fired, no current yet
    ("weld", 250.0),
    ("weld", 400.0),  # the pulse
    ("weld", 550.0),
    ("weld", 750.0),  # the supply's hold
    ("release", 5.0),
    ("release", 100.0),
]


def test_an_e_stop_at_any_moment_of_the_cycle_aborts_it(tmp_path: Path, record: Record) -> None:
    problems = []
    with gui_session(tmp_path) as gui:
        for k, (state, ms) in enumerate(MOMENTS):
            press = gui.press_in(state, ms, f"estop-{k}")
            where = f"{state} +{ms:g} ms"
            if press.result is None or press.result.result.verdict != "ABORTED":
                verdict = press.result.result.verdict if press.result else press.said
                problems.append(f"{where}: {verdict}")
            elif "e-stop pressed" not in press.result.abort_reason:
                problems.append(f"{where}: aborted for {press.result.abort_reason}")
            if press.fired_after:
                problems.append(f"{where}: fired after the press")
            if press.safe_ms < 0.0:
                problems.append(f"{where}: not safe within 5 s")
            else:
                record.latency(press.safe_ms / 1e3)
    record.cases, record.faults, record.failures = len(MOMENTS), len(MOMENTS), len(problems)
    assert problems == [], problems
