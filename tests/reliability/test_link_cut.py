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
import serial

from controller.cycle import Bench, Operator, run_cycle
from controller.qalog import QaLog
from controller.sequencer import State
from controller.simstation import SimControl, sim_station
from controller.window import load_window
from drivers.config.schedule import load_schedule
from drivers.head import ServoForceHead
from drivers.modbus import DeviceRefusedError, LinkError, tcp_link
from drivers.stream import WaveformStream
from drivers.supply import InverterSupply
from tests.reliability.battery import Record, scale

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
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bench, SimControl, QaLog]]:
    with sim_station("--clock", "lockstep", "--no-rtu") as ends:
        link = tcp_link(*ends.modbus_tcp, timeout_s=REPLY_TIMEOUT_S)
        host, port = ends.stream_tcp
        stream = WaveformStream(serial.serial_for_url(f"socket://{host}:{port}", timeout=0.2))
        bench = Bench(
            InverterSupply(link, ends.supply_unit),
            ServoForceHead(link, ends.head_unit),
            stream,
            lockstep=True,
        )
        control = SimControl(ends.control)
        log = QaLog(tmp_path_factory.mktemp("qa") / "qa.sqlite")
        try:
            yield bench, control, log
        finally:
            log.close()
            control.close()
            stream.close()
            link.close()


def _recover(bench: Bench, control: SimControl) -> None:
    control.faults(**CLEAR)
    for dev in (bench.supply, bench.head):
        for _ in range(3):  # the first request after a cut may meet a stale connection
            try:
                dev.reset()
                break
            except (LinkError, DeviceRefusedError):
                continue
    truth = control.truth()
    assert truth["homed"] and not truth["armed"] and truth["supply_fault"] == 0, truth


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_link_fault_at_every_state_aborts_safely(
    rig: tuple[Bench, SimControl, QaLog], fault: str, record: Record
) -> None:
    bench, control, log = rig
    for rep in range(REPEAT):
        for state in STATES:
            _recover(bench, control)
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
