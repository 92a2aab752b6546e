"""Every way out of a weld cycle leaves the station safe and the weld logged.

The battery's link faults are those the station models; these are the ones it does not: a bug
in the controller, a connection reset by a real RST, the stream's serial adapter pulled out,
and the safe commands themselves, sent after a fault. The devices' watchdogs are set to 10 s,
so the station is safe only if the controller made it so: a station made safe by its own
watchdog shows in its truth as a trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from controller.monitor.window import load_window
from controller.qa.record import WeldIdentity
from controller.weld.cycle import CycleResult, run_cycle, send_safe
from controller.weld.sequencer import State
from drivers.config.schedule import load_schedule
from tests.helpers.paths import REPO
from tests.helpers.station import Rig, Running, lockstep_rig, reset_devices, step
from tests.reliability.battery import Record, scale

SCHEDULE = load_schedule(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")
WINDOW = load_window(REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml")
WATCHDOG_MS = 10_000.0  # only the controller can make the station safe within a test
CURRENT_OFF_S = 0.3  # the station's time from the fault to its last current
REPEAT = scale(6, 30)


class BugError(RuntimeError):
    """What a bug in the controller raises (any exception not of the drivers)."""


def _cycle(rig: Rig, at_weld: Callable[[], None]) -> CycleResult:
    """Run one cycle that calls at_weld once, a few blocks into the current."""
    seen = [0]

    def on_step(state: State) -> None:
        if state is State.WELD:
            seen[0] += 1
            if seen[0] == 3:
                at_weld()

    return run_cycle(
        rig.bench,
        rig.plan,
        WINDOW,
        rig.log,
        WeldIdentity(station="sim", part_id="exit-path"),
        SCHEDULE.name,
        SCHEDULE.digest(),
        electrode_count=1,
        on_step=on_step,
    )


def _safe_by_the_controller(rig: Rig, t_fault_s: float, stream: Any = None) -> list[str]:
    """Let the station's time run 0.5 s; return what is not safe, or not by the controller."""
    step(stream or rig.bench.stream, 500)
    truth = rig.control.truth()
    problems = []
    if truth["armed"] or truth["welding"]:
        problems.append(f"supply armed {truth['armed']}, welding {truth['welding']}")
    if not (truth["homed"] or truth["retracting"]):
        problems.append("head neither home nor on its way")
    if truth["watchdog_trips_s"]:
        problems.append(f"made safe by the watchdog, not the controller: {truth}")
    last = truth["last_current_s"]
    if last is not None and last - t_fault_s > CURRENT_OFF_S:
        problems.append(f"current until {last - t_fault_s:.3f} s after the fault")
    return problems


def _logged_aborted(rig: Rig, record_id: int, reason: str) -> list[str]:
    weld = rig.log.welds()[-1]
    problems = []
    if weld.id != record_id or weld.verdict != "ABORTED" or weld.part_id != "exit-path":
        problems.append(f"record {weld.id} {weld.verdict} {weld.part_id}, not {record_id}")
    if not any(reason in r for r in weld.reasons):
        problems.append(f"reasons {weld.reasons} do not say {reason!r}")
    if len(rig.log.waveform(weld.id)) < 100:
        problems.append("no waveform up to the fault")
    return problems


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_a_bug_in_the_cycle_makes_the_station_safe_and_logs_the_weld(
    tmp_path: Path, record: Record, transport: str
) -> None:
    with lockstep_rig(tmp_path, 0.5, transport, watchdog_ms=WATCHDOG_MS) as rig:
        fault_at: list[float] = []

        def bug() -> None:
            fault_at.append(rig.control.truth()["t_s"])
            raise BugError("a bug in the controller")

        with pytest.raises(BugError):
            _cycle(rig, bug)
        record.cases, record.faults = 1, 1
        problems = _logged_aborted(rig, rig.log.welds()[-1].id, "controller error: BugError")
        problems += _safe_by_the_controller(rig, fault_at[0])
        record.failures = len(problems)
        assert problems == []


def test_a_connection_reset_by_the_peer_is_a_lost_link(tmp_path: Path, record: Record) -> None:
    with lockstep_rig(tmp_path, 0.5, "tcp", watchdog_ms=WATCHDOG_MS, proxy=True) as rig:
        assert rig.proxy is not None
        fault_at: list[float] = []

        def rst() -> None:
            fault_at.append(rig.control.truth()["t_s"])
            rig.proxy.reset()  # type: ignore[union-attr]

        res = _cycle(rig, rst)
        record.cases, record.faults = 1, rig.proxy.resets
        assert res.state is State.ABORTED, res.abort_reason
        problems = _logged_aborted(rig, res.record_id, "link")
        problems += _safe_by_the_controller(rig, fault_at[0])
        record.failures = len(problems)
        assert problems == []


def test_the_stream_unplugged_is_a_lost_link(tmp_path: Path, record: Record) -> None:
    with lockstep_rig(tmp_path, 0.5, "tcp", watchdog_ms=WATCHDOG_MS, stream_over="pty") as rig:
        fault_at: list[float] = []

        def unplug() -> None:
            fault_at.append(rig.control.truth()["t_s"])
            rig.control.faults(stream_unplugged=True)

        res = _cycle(rig, unplug)
        record.cases, record.faults = 1, 1
        assert res.state is State.ABORTED, res.abort_reason
        problems = _logged_aborted(rig, res.record_id, "link lost: stream")
        assert rig.ends is not None
        # the station's time runs on, granted over its TCP stream
        with closing(Running(rig.ends).stream("tcp")) as tcp:
            problems += _safe_by_the_controller(rig, fault_at[0], tcp)
        record.failures = len(problems)
        assert problems == []


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_the_safe_commands_are_all_carried_out(
    tmp_path: Path, record: Record, transport: str
) -> None:
    # sent without waiting for each reply, and the connection closed after them: the station
    # must still carry out all three (the retract last)
    problems: list[str] = []
    with lockstep_rig(tmp_path, 0.5, transport, watchdog_ms=WATCHDOG_MS) as rig:
        after: list[dict[str, Any]] = []

        def safe() -> None:
            send_safe(rig.bench)
            time.sleep(0.1)  # replies or none, the station has had the requests
            after.append(rig.control.truth())

        for k in range(REPEAT):
            _cycle(rig, safe)
            truth = after[-1]
            # the lockstep station stands still until granted: the current winds down after
            if truth["armed"] or not truth["retracting"]:
                problems.append(
                    f"case {k}: armed {truth['armed']}, retracting {truth['retracting']}"
                )
            problems += [f"case {k}: {p}" for p in _safe_by_the_controller(rig, truth["t_s"])]
            reset_devices(rig.bench)
        record.cases, record.faults, record.failures = REPEAT, REPEAT, len(problems)
    assert problems == []
