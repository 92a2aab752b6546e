"""Weld cycles on a paced station (real time, as on the bench) whose stream runs behind the
controller's Modbus view: the monitor must still see the whole pulse before the verdict."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import serial

from controller.monitor.window import load_window
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.bench import Bench, program
from controller.weld.cycle import CycleResult, OnStep, run_cycle
from controller.weld.sequencer import State
from controller.weld.simstation import SimControl, sim_station
from drivers.config.schedule import load_schedule
from drivers.head import ServoForceHead
from drivers.link import tcp_link
from drivers.stream import WaveformStream
from drivers.supply import InverterSupply
from drivers.wire.frames import SAMPLE_RATE_HZ
from tests.helpers.paths import REPO

SCHEDULE = load_schedule(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")
WINDOW = load_window(REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml")
# long enough that a stalled controller trips no watchdog: only the stream's lag is tested
WATCHDOG_MS = 10_000.0


@contextmanager
def paced() -> Iterator[tuple[Bench, SimControl]]:
    """A paced simulated station, programmed, reached over Modbus TCP and the stream."""
    with sim_station("--clock", "paced", "--no-rtu") as ends:
        link = tcp_link(*ends.modbus_tcp, timeout_s=1.0)
        host, port = ends.stream_tcp
        stream = WaveformStream(serial.serial_for_url(f"socket://{host}:{port}", timeout=0.2))
        control = SimControl(ends.control)
        b = Bench(InverterSupply(link, 1), ServoForceHead(link, 2), stream, lockstep=False)
        try:
            yield b, control
        finally:
            control.close()
            stream.close()
            link.close()


def weld(b: Bench, log: QaLog, on_step: OnStep | None = None) -> CycleResult:
    plan = program(b, SCHEDULE, WATCHDOG_MS)
    who = WeldIdentity(part_id="p1")
    return run_cycle(
        b, plan, WINDOW, log, who, SCHEDULE.name, SCHEDULE.digest(), 1, on_step=on_step
    )


def test_a_weld_after_the_stream_went_unread_starts_on_fresh_samples(tmp_path: Path) -> None:
    # The GUI's first weld: nothing read the stream while the session opened (seconds on a
    # loaded machine), nor while the last weld's record was committed. The cycle took the
    # oldest frame for the station's time and ran seconds behind it: the sequencer, on Modbus,
    # was home again before the monitor saw the pulse (FAIL: 0 ms, 0 J; the supply had fired)
    log = QaLog(tmp_path / "qa.sqlite")
    with paced() as (b, control):
        time.sleep(2.5)  # the stream unread
        at_start = control.truth()["t_s"]
        res = weld(b, log)
        truth = control.truth()
    assert res.state is State.VERDICT and res.result.verdict == "PASS", res.result.reasons
    assert res.result.features["weld_time_ms"] > 20.0
    assert truth["weld_count"] == 1
    (row,) = log.welds()
    assert row.supply_weld_count == 1
    # the record begins at the start, not at the backlog's oldest frame (2.5 s before it)
    assert len(res.waveform) / SAMPLE_RATE_HZ < truth["t_s"] - at_start + 0.1


def test_a_controller_stalled_before_fire_still_sees_the_whole_pulse(tmp_path: Path) -> None:
    # The controller stalls in the squeeze (a loaded machine): its stream is then seconds
    # behind the devices' status, and FIRE goes out on that status. The supply reports its
    # pulse done, the head home again, long before the stream brings the pulse: the verdict
    # must wait for the stream to bring the pulse's end (its summary frame), or the record
    # lacks the current
    log = QaLog(tmp_path / "qa.sqlite")
    stalled: list[State] = []

    def stall(state: State) -> None:
        if state is State.SQUEEZE and not stalled:
            stalled.append(state)
            time.sleep(3.0)

    with paced() as (b, control):
        res = weld(b, log, stall)
        truth = control.truth()
    assert stalled
    assert res.state is State.VERDICT and res.result.verdict == "PASS", res.result.reasons
    assert truth["weld_count"] == 1
    # the whole pulse is in the record, its current ended before the record did
    current = abs(res.waveform[:, 0]) > 50.0
    assert current.any() and not current[-1]
