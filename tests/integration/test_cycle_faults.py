"""A link cut, an e-stop and a supply fault injected at each state of a weld cycle, end to end.

The simulated station runs in lockstep behind Modbus TCP and the stream; its test panel (the
control port) injects the fault at an exact block of the chosen state and tells afterwards what
really happened at the bench: when each FIRE landed, when current last flowed, whether the
supply is armed and the head home. Each case must end with no pulse after the fault, the supply
disarmed, the head retracted, and the weld logged ABORTED with the fault as its reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from controller.monitor.window import load_window
from controller.qa.record import WeldIdentity
from controller.weld.bench import Plan
from controller.weld.cycle import CycleResult, run_cycle
from controller.weld.sequencer import State
from drivers.config.schedule import load_schedule
from tests.helpers.paths import REPO
from tests.helpers.station import Rig, lockstep_rig, reset_devices

SCHEDULE = load_schedule(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")
WINDOW = load_window(REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml")
STATES = (State.APPROACH, State.SQUEEZE, State.WELD, State.HOLD, State.RELEASE)
BLOCK_S = 1e-3
HEARTBEAT_LOST = 3  # the head's fault code when its watchdog tripped


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    # a short reply timeout: a cut link is noticed after one timeout per request
    with lockstep_rig(tmp_path_factory.mktemp("qa"), reply_timeout_s=0.25) as rig:
        yield rig


def _recover(rig: Rig) -> None:
    """Undo the last case: link up, e-stop released, faults cleared, devices reset."""
    rig.control.faults(link_down=False, supply="none")
    rig.control.inputs(estop=False, guard_open=False)
    reset_devices(rig.bench)
    truth = rig.control.truth()
    assert truth["homed"] and not truth["armed"] and truth["supply_fault"] == 0, truth


def _inject(rig: Rig, fault: str) -> dict[str, Any]:
    if fault == "link cut":
        return rig.control.faults(link_down=True)
    if fault == "e-stop":
        return rig.control.inputs(estop=True)
    return rig.control.faults(supply="over_temperature")


REASON = {  # what the reason says, whichever request meets the fault first
    "link cut": ("interlock lost: link lost", "link lost: "),
    "e-stop": ("interlock lost: e-stop pressed",),
    "supply fault": ("fault: supply fault",),
}


@pytest.mark.parametrize("fault", ["link cut", "e-stop", "supply fault"])
@pytest.mark.parametrize("state", STATES, ids=[s.value for s in STATES])
def test_a_fault_at_any_state_aborts_safely(rig: Rig, state: State, fault: str) -> None:
    _recover(rig)
    before = rig.control.truth()
    at_fault: dict[str, Any] = {}
    seen = 0

    def on_step(now: State) -> None:
        nonlocal seen, at_fault
        if now is state and not at_fault:
            seen += 1
            if seen == 2:  # a block into the state: in the weld, current is flowing
                at_fault = _inject(rig, fault)

    res = run_cycle(
        rig.bench,
        rig.plan,
        WINDOW,
        rig.log,
        WeldIdentity(part_id=f"{state.value}-{fault}"),
        SCHEDULE.name,
        SCHEDULE.digest(),
        0,
        on_step=on_step,
    )
    assert at_fault, f"the cycle never spent two blocks in {state.value}"
    t_fault = at_fault["t_s"]
    truth = rig.control.truth()
    # the weld is ABORTED with the fault as its reason, and logged so before it is shown
    assert res.state is State.ABORTED and res.result.verdict == "ABORTED"
    assert res.abort_reason.startswith(REASON[fault]), res.abort_reason
    row = rig.log.welds(part_id=f"{state.value}-{fault}")[-1]
    assert row.id == res.record_id and row.verdict == "ABORTED"
    assert row.reasons == [res.abort_reason]
    # no pulse after the fault: no FIRE landed after it, and no current flowed past it
    # (within the block that carried the fault) unless an already running pulse, which only
    # a cut link can leave running: the supply then ends it on its own schedule or watchdog
    assert all(t <= t_fault for t in truth["fire_times_s"]), (truth["fire_times_s"], t_fault)
    if state is State.WELD:
        assert truth["weld_count"] == before["weld_count"] + 1
        if fault != "link cut":
            assert truth["last_current_s"] <= t_fault + BLOCK_S, (truth, t_fault)
    else:
        fired = 1 if state in (State.HOLD, State.RELEASE) else 0
        assert truth["weld_count"] == before["weld_count"] + fired
        assert truth["last_current_s"] <= t_fault
    # the safe state: supply disarmed and not welding, head back home; made so by the
    # controller while it can reach the station (the station's watchdog never had to act),
    # by the station's own watchdog when it cannot
    assert not truth["armed"] and not truth["welding"]
    assert truth["homed"], str(truth)
    # (a watchdog acts only on an active device: in RELEASE the head may be home before it
    # would trip, with nothing left to make safe)
    watchdog = truth["head_fault"] == HEARTBEAT_LOST
    if fault == "link cut" and state is not State.RELEASE:
        assert watchdog, str(truth)
    elif fault != "link cut":
        assert not watchdog, str(truth)


def _cycle(rig: Rig, part: str, plan: Plan | None = None) -> CycleResult:
    return run_cycle(
        rig.bench,
        plan or rig.plan,
        WINDOW,
        rig.log,
        WeldIdentity(part_id=part),
        SCHEDULE.name,
        SCHEDULE.digest(),
        0,
    )


def test_an_open_guard_blocks_the_start_and_says_so(rig: Rig) -> None:
    _recover(rig)
    rig.control.inputs(guard_open=True)
    before = rig.control.truth()
    res = _cycle(rig, "guard")
    assert res.state is State.IDLE and res.result.verdict == "BLOCKED"
    assert "guard open" in res.abort_reason, res.abort_reason
    assert rig.log.welds(part_id="guard") == []  # no weld, no record
    after = rig.control.truth()
    assert after["weld_count"] == before["weld_count"] and after["homed"]


def test_force_out_of_range_in_the_weld_aborts(rig: Rig) -> None:
    # the range this bench watches says 20-30 N; the schedule squeezes 12 N: as if the part
    # had slipped out from under the electrode once the current started
    _recover(rig)
    res = _cycle(rig, "force", dataclasses.replace(rig.plan, force_range_n=(20.0, 30.0)))
    truth = rig.control.truth()
    assert res.state is State.ABORTED
    assert res.abort_reason == "interlock lost: force out of range"
    row = rig.log.welds(part_id="force")[-1]
    assert row.verdict == "ABORTED"
    assert not truth["armed"] and not truth["welding"] and truth["homed"]
    # stopped in the first blocks of current (after the supply's own squeeze): not 24 ms of it
    weld_ms = row.features["weld_time_ms"]
    assert weld_ms is not None and 0.0 < weld_ms < 3.0, weld_ms


@pytest.mark.parametrize("moment", ["during the read-back before ARM", "between ARM and FIRE"])
def test_an_operator_e_stop_just_before_the_current_fires_nothing(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    # The GUI's E-STOP lands on the bench from another thread at any instant: here between
    # the observation that decided to arm and the FIRE (the settings' read-back takes a few
    # ms on a real line). It was read only at the next observation: the pulse ran.
    _recover(rig)
    bench = rig.bench

    def press() -> None:
        bench.interlocks = dataclasses.replace(bench.interlocks, estop_released=False)
        bench.stop_request = "e-stop pressed at the operator station"

    supply = type(bench.supply)
    if moment.startswith("during"):
        changed = supply.changed
        monkeypatch.setattr(supply, "changed", lambda self: (press(), changed(self))[1])
    else:
        arm = supply.arm
        monkeypatch.setattr(supply, "arm", lambda self: (arm(self), press())[0])
    before = rig.control.truth()
    try:
        res = _cycle(rig, "e-stop late")
    finally:
        bench.interlocks = dataclasses.replace(bench.interlocks, estop_released=True)
        bench.stop_request = ""
    truth = rig.control.truth()
    assert res.state is State.ABORTED, res.abort_reason
    assert res.abort_reason == "interlock lost: e-stop pressed"
    assert truth["weld_count"] == before["weld_count"], "fired after the e-stop"
    assert not truth["armed"] and truth["last_current_s"] == before["last_current_s"]
    assert rig.log.welds(part_id="e-stop late")[-1].verdict == "ABORTED"
