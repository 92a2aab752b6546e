"""Injected faults give a clear driver error or a counted bad frame: no hang, no corrupt value."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np
import pytest

from drivers.errors import DeviceRefusedError, LinkError
from drivers.wire.modbus import DEVICE_BUSY, DEVICE_FAILURE
from tests.helpers.paths import TC_CD
from tests.helpers.station import drivers, station, step, step_until

TIMEOUT_S = 1.0  # the links in tests/helpers/station.py


def _reads(supply, n: int) -> tuple[list[float], list[Exception], float]:
    values: list[float] = []
    errors: list[Exception] = []
    worst = 0.0
    for _ in range(n):
        t0 = time.monotonic()
        try:
            values.append(supply.weld1_voltage_v)
        except (LinkError, DeviceRefusedError) as exc:
            errors.append(exc)
        worst = max(worst, time.monotonic() - t0)
    return values, errors, worst


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_dropped_replies_time_out_and_never_corrupt(transport: str) -> None:
    with station("--clock", "lockstep", "--fault", "drop_reply_every=3") as run:
        supply, _ = drivers(run, transport)
        values, errors, worst = _reads(supply, 9)
        assert len(errors) == 3 and all(isinstance(e, LinkError) for e in errors)
        assert values == [pytest.approx(2.1)] * 6
        assert worst < TIMEOUT_S + 0.5  # never a hang past the timeout
        supply.link.close()


def test_corrupted_crc_is_refused_on_rtu() -> None:
    with station("--clock", "lockstep", "--fault", "corrupt_crc_every=2") as run:
        supply, _ = drivers(run, "rtu")
        values, errors, worst = _reads(supply, 6)
        assert len(errors) == 3 and all(isinstance(e, LinkError) for e in errors)
        assert values == [pytest.approx(2.1)] * 3
        assert worst < TIMEOUT_S + 0.5
        supply.link.close()


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_exception_replies_are_reported_and_nothing_is_applied(transport: str) -> None:
    with station("--clock", "lockstep", "--fault", "exception_every=2") as run:
        supply, _ = drivers(run, transport)
        codes = []
        for volts in (2.2, 2.3, 2.4, 2.5):
            try:
                supply.weld1_voltage_v = volts
            except DeviceRefusedError as exc:
                codes.append((volts, exc.code))
        assert codes == [(2.3, DEVICE_BUSY), (2.5, DEVICE_BUSY)]
        value = None
        while value is None:  # a read may itself be answered "busy"
            with contextlib.suppress(DeviceRefusedError):
                value = supply.weld1_voltage_v
        assert value == pytest.approx(2.4)  # the refused 2.5 V never reached the device
        supply.link.close()


def test_late_replies_within_the_timeout_arrive_and_later_ones_fail() -> None:
    with station("--clock", "lockstep", "--fault", "reply_delay_ms=150") as run:
        supply, _ = drivers(run, "tcp")
        t0 = time.monotonic()
        assert supply.weld1_voltage_v == pytest.approx(2.1)
        assert time.monotonic() - t0 >= 0.15
        supply.link.close()
    with station("--clock", "lockstep", "--fault", "reply_delay_ms=1500") as run:
        supply, _ = drivers(run, "tcp")
        t0 = time.monotonic()
        with pytest.raises(LinkError):
            _ = supply.weld1_voltage_v
        assert time.monotonic() - t0 < TIMEOUT_S + 0.5
        supply.link.close()


def test_a_cut_connection_fails_one_call_then_reconnects() -> None:
    with station("--clock", "lockstep", "--fault", "disconnect_every=3") as run:
        supply, _ = drivers(run, "tcp")
        values, errors, worst = _reads(supply, 6)
        assert len(errors) == 2 and all(isinstance(e, LinkError) for e in errors)
        assert values == [pytest.approx(2.1)] * 4
        assert worst < TIMEOUT_S + 0.5
        supply.link.close()


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_lost_fire_reply_is_reconciled_by_the_counter_never_resent(transport: str) -> None:
    with station("--clock", "lockstep", "--fault", "drop_fire_reply=true") as run:
        supply, head = drivers(run, transport)
        stream = run.stream()
        head.approach()
        step_until(stream, lambda: head.at_force == 1)
        before = supply.weld_count
        supply.arm()
        assert supply.fire() is True  # the reply was lost; the counter says it fired
        step_until(stream, lambda: supply.status()["weld_done"])
        assert supply.weld_count == before + 1  # one weld, not two
        stream.close()
        supply.link.close()


def test_stream_garbage_is_skipped_and_counted_with_no_frame_lost() -> None:
    faults = ("--fault", "stream_garbage_every=3", "--fault", "stream_garbage_bytes=700")
    with station("--clock", "lockstep", *faults) as run:
        stream = run.stream()
        frames = step(stream, 60)
        stats = stream.stats
        assert stats.skipped_bytes >= 19 * 700  # the 20th burst may still be in flight
        assert stats.lost_frames == 0
        firsts = [f.first_sample for f in frames if f.summary is None]
        assert np.all(np.diff(firsts) == 50)
        stream.close()


def test_supply_and_head_faults_are_reported_and_refuse_work() -> None:
    with station(str(TC_CD), "--clock", "lockstep", "--fault", "supply=not_charged") as run:
        supply, head = drivers(run, "tcp", cd=True)
        assert supply.fault_code == 1
        status = supply.status()
        assert status["fault"] and not status["charged"] and not status["ready"]
        with pytest.raises(DeviceRefusedError) as info:
            supply.arm()
        assert info.value.code == DEVICE_FAILURE
        supply.link.close()
    with station(
        "--clock", "lockstep", "--fault", "supply=over_temperature", "--fault", "head=servo"
    ) as run:
        supply, head = drivers(run, "tcp")
        assert supply.fault_code == 2 and supply.read("temperature_c") > 80.0
        assert head.fault_code == 8 and head.status()["fault"]
        with pytest.raises(DeviceRefusedError) as info:
            head.approach()
        assert info.value.code == DEVICE_FAILURE
        supply.link.close()


def test_a_bad_fault_option_is_refused() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "station", "--fault", "drop_reply_every=-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "drop_reply_every" in out.stderr and "greater than or equal to 0" in out.stderr


def test_faults_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.toml"
    path.write_text('exception_every = 1\nsupply = "over_temperature"\n')
    with station("--clock", "lockstep", "--faults", str(path)) as run:
        supply, _ = drivers(run, "tcp")
        with pytest.raises(DeviceRefusedError) as info:
            _ = supply.fault_code
        assert info.value.code == DEVICE_BUSY
        supply.link.close()
