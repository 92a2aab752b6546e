"""A link fault at every state of the cycle: no pulse after it, the safe state commanded within
150 ms of the last good exchange, the station's own watchdog safe within 200 ms of the last
heartbeat it heard, the weld logged ABORTED. A lockstep station driven over Modbus
TCP or Modbus RTU on the pty pair, with the stream over TCP.

The faults, set live through the station's test panel a block or a few into the state: a
silent drop (the line cut: no reply), a reset (TCP: the connection cut at every request), a
serial unplug (RTU: the adapter's device node vanishes, an open port fails), garbage (line noise
instead of every reply), late replies (every reply three weld timeouts late) and 'busy'
exceptions for every request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from controller.monitor.window import load_window
from controller.qa.record import WeldIdentity
from controller.weld.cycle import run_cycle
from controller.weld.sequencer import State
from drivers.config.schedule import load_schedule
from tests.helpers.paths import REPO
from tests.helpers.station import Rig, lockstep_rig, reset_devices
from tests.reliability.battery import Record, scale

SCHEDULE = load_schedule(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")
WINDOW = load_window(REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml")
STATES = (State.APPROACH, State.SQUEEZE, State.WELD, State.HOLD, State.RELEASE)
REPLY_TIMEOUT_S = 0.5  # between welds (the rig's resets after each case)
WELD_REPLY_TIMEOUT_S = 0.1  # the station configs' default
WATCHDOG_MS = 150.0  # the station configs' default
SAFE_GOAL_S = 0.150  # safe commands out, after the last good exchange
WATCHDOG_GOAL_S = 0.200  # the station safe on its own, after the last heartbeat it heard
FAULTS: dict[str, dict[str, Any]] = {
    "silent drop": {"link_down": True},
    "reset": {"disconnect_every": 1},
    "serial unplug": {"unplugged": True},
    "garbage": {"garbage_reply_every": 1},
    "late reply": {"reply_delay_ms": 3e3 * WELD_REPLY_TIMEOUT_S},
    "exception busy": {"exception_every": 1},
}
ON = {  # which faults each transport can suffer
    "tcp": ("silent drop", "reset", "garbage", "late reply", "exception busy"),
    "rtu": ("silent drop", "serial unplug", "garbage", "late reply", "exception busy"),
}
# the faults after which no request reaches the station: only its watchdog can make it safe
DEAF = ("silent drop", "serial unplug")
CLEAR = {
    "link_down": False,
    "disconnect_every": 0,
    "unplugged": False,
    "garbage_reply_every": 0,
    "reply_delay_ms": 0.0,
    "exception_every": 0,
}
REPEAT = scale(1, 10)
CASES = [(t, f) for t, faults in ON.items() for f in faults]


@pytest.fixture(scope="module")
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """One station per transport (request.param), shared by that transport's cases."""
    with lockstep_rig(
        tmp_path_factory.mktemp("qa"),
        REPLY_TIMEOUT_S,
        transport=request.param,
        weld_reply_timeout_s=WELD_REPLY_TIMEOUT_S,
        watchdog_ms=WATCHDOG_MS,
    ) as rig:
        yield rig


def _recover(rig: Rig) -> None:
    rig.control.faults(**CLEAR)
    reset_devices(rig.bench)
    truth = rig.control.truth()
    assert truth["homed"] and not truth["armed"] and truth["supply_fault"] == 0, truth


@pytest.mark.parametrize(("rig", "fault"), CASES, indirect=["rig"])
def test_a_link_fault_at_every_state_aborts_safely(rig: Rig, fault: str, record: Record) -> None:
    transport = rig.bench.supply.link.framing
    record.notes.append(transport)
    bench, control, log = rig.bench, rig.control, rig.log
    worst_watchdog_s = 0.0
    late_s = FAULTS[fault].get("reply_delay_ms", 0.0) / 1e3
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

            part = f"{transport}-{fault}-{state.value}-{rep}"
            res = run_cycle(
                bench, rig.plan, WINDOW, log, WeldIdentity(part_id=part), SCHEDULE.name,
                SCHEDULE.digest(), 0,
                on_step=on_step,
            )  # fmt: skip
            record.cases += 1
            record.faults += 1
            assert at_fault, (part, state.value, "never reached", res.abort_reason)
            control.faults(**CLEAR)  # the line back, to read the truth and the log
            # the replies the station delayed are still on their way: let them land before the
            # next case, whose first request's send discards them (RTU has no transaction id to
            # tell a stale reply from the answer to a new request)
            time.sleep(1.5 * late_s)  # with a margin for a loaded machine
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
                # a lost link: the safe commands went out one weld reply timeout after the
                # last good reply, not one per command
                record.latency(res.safe_delay_s)
                assert res.safe_delay_s <= SAFE_GOAL_S, (part, res.safe_delay_s)
            if fault in DEAF:
                # nothing the controller sent arrived: the station made itself safe, within
                # the goal of the last heartbeat it heard (so of the last good exchange too)
                safe_s = truth["safe_since_s"] - truth["last_heartbeat_s"]
                worst_watchdog_s = max(worst_watchdog_s, safe_s)
                assert truth["safe_since_s"] is not None and safe_s <= WATCHDOG_GOAL_S, (
                    part,
                    truth,
                )
                tripped = [t for _, t in truth["watchdog_trips_s"] if t > before["t_s"]]
                if state is not State.RELEASE:  # in RELEASE the head may be home first
                    assert tripped, (part, truth)
    if worst_watchdog_s:
        record.notes.append(f"station safe on its own {worst_watchdog_s * 1e3:.0f} ms worst")
