"""A link fault at every state of the cycle: no pulse after it, the safe state commanded at
once, the weld logged ABORTED (issue 7). Lockstep station over Modbus TCP and the stream.

The faults: a silent drop (the line cut: no reply), a reset (the connection cut at every
request), 'busy' exceptions for every request. Not yet: late replies (the station's reply delay
is fixed at its start, not changeable live), garbage and an unplugged line (RTU).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.cycle import Operator, run_cycle
from controller.sequencer import State
from controller.window import load_window
from drivers.config.schedule import load_schedule
from tests.reliability.battery import Record, scale
from tests.stationhelp import Rig, lockstep_rig, reset_devices

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = load_schedule(ROOT / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")
WINDOW = load_window(ROOT / "configs" / "windows" / "tc_inverter_cu100_pb200.toml")
STATES = (State.APPROACH, State.SQUEEZE, State.WELD, State.HOLD, State.RELEASE)
REPLY_TIMEOUT_S = 0.25
FAULTS: dict[str, dict[str, Any]] = {
    "silent drop": {"link_down": True},
    "reset": {"disconnect_every": 1},
    "exception busy": {"exception_every": 1},
}
CLEAR = {"link_down": False, "disconnect_every": 0, "exception_every": 0}
REPEAT = scale(1, 10)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with lockstep_rig(tmp_path_factory.mktemp("qa"), REPLY_TIMEOUT_S) as rig:
        yield rig


def _recover(rig: Rig) -> None:
    rig.control.faults(**CLEAR)
    reset_devices(rig.bench)
    truth = rig.control.truth()
    assert truth["homed"] and not truth["armed"] and truth["supply_fault"] == 0, truth


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_link_fault_at_every_state_aborts_safely(rig: Rig, fault: str, record: Record) -> None:
    bench, control, log = rig.bench, rig.control, rig.log
    for rep in range(REPEAT):
        for state in STATES:
            _recover(rig)
            before = control.truth()
            at_fault: dict[str, Any] = {}
            seen = 0

            def on_step(now: State, state: State = state, rep: int = rep) -> None:
                nonlocal seen, at_fault
                if now is state and not at_fault:
                    seen += 1
                    if seen == 2 + rep % 3:  # a block or a few into the state
                        at_fault = control.faults(**FAULTS[fault])

            part = f"{fault}-{state.value}-{rep}"
            res = run_cycle(
                bench, WINDOW, log, Operator(part_id=part), SCHEDULE.name, SCHEDULE.digest(), 0,
                on_step=on_step,
            )  # fmt: skip
            record.cases += 1
            record.faults += 1
            assert at_fault, f"the cycle never reached {state.value}"
            truth = control.truth()
            # logged ABORTED, before it was shown
            assert res.state is State.ABORTED, (part, res.abort_reason)
            (row,) = log.welds(part_id=part)
            assert row.id == res.record_id and row.verdict == "ABORTED"
            # no pulse after the fault: no FIRE landed after it
            assert all(t <= at_fault["t_s"] for t in truth["fire_times_s"]), (part, truth)
            fired = 1 if state in (State.WELD, State.HOLD, State.RELEASE) else 0
            assert truth["weld_count"] == before["weld_count"] + fired, part
            # the station ends at rest, by the controller or its own watchdog
            assert not truth["armed"] and not truth["welding"] and truth["homed"], (part, truth)
            if res.safe_delay_s is not None:
                # the safe commands go out as soon as the failed request gives up: one reply
                # timeout after the last good reply, not one per command
                record.latency(res.safe_delay_s)
                assert res.safe_delay_s <= REPLY_TIMEOUT_S + 0.1, (part, res.safe_delay_s)
    record.notes.append(
        f"reply timeout {REPLY_TIMEOUT_S * 1e3:.0f} ms; the 150 ms goal needs a shorter one "
        "during the weld (not yet)"
    )
