"""The drivers against the running simulated station: Modbus TCP, Modbus RTU on a pty, stream."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from drivers.errors import DeviceRefusedError, LeaseHeldError
from drivers.wire.modbus import DEVICE_BUSY, ILLEGAL_ADDRESS, ILLEGAL_VALUE
from drivers.wire.regmap import RegisterValueError
from tests.helpers.paths import TC_CD
from tests.helpers.station import Running, drivers, station, step, step_until


@pytest.fixture(scope="module")
def lockstep() -> Iterator[Running]:
    with station("--clock", "lockstep", "--seed", "3") as run:
        yield run


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_every_register_reads_and_settings_write_back(lockstep: Running, transport: str) -> None:
    supply, head = drivers(lockstep, transport)
    values = supply.read_all()
    assert values["weld1_voltage_v"] == pytest.approx(2.1)
    assert values["weld1_ms"] == pytest.approx(24.0) and values["mode"] == 1
    supply.weld1_voltage_v = 2.2
    assert supply.weld1_voltage_v == pytest.approx(2.2)
    supply.weld1_voltage_v = 2.1
    head_values = head.read_all()
    assert head_values["force_setpoint_n"] == pytest.approx(12.0)
    assert head.status()["homed"] and not head.status()["contact"]
    head.force_setpoint_n = 11.5
    assert head.force_setpoint_n == pytest.approx(11.5)
    head.force_setpoint_n = 12.0
    assert supply.status()["ready"] and supply.fault_code == 0
    supply.link.close()


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_out_of_range_setpoint_raises_before_anything_is_sent(
    lockstep: Running, transport: str
) -> None:
    supply, head = drivers(lockstep, transport)
    with pytest.raises(RegisterValueError):
        supply.weld1_voltage_v = 60.0
    with pytest.raises(RegisterValueError):
        head.force_setpoint_n = 0.001  # below the map's minimum, and off its 0.01 N step
    with pytest.raises(RegisterValueError, match="read-only"):
        supply.weld_count = 0
    assert supply.weld1_voltage_v == pytest.approx(2.1)  # nothing reached the device
    supply.link.close()


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_exception_replies(lockstep: Running, transport: str) -> None:
    supply, _ = drivers(lockstep, transport)
    link, unit = supply.link, supply.unit
    with pytest.raises(DeviceRefusedError) as info:
        link.read(unit, 200, 2)  # beyond the map
    assert info.value.code == ILLEGAL_ADDRESS
    reg = supply.regmap["weld1_voltage_v"]
    with pytest.raises(DeviceRefusedError) as info:
        link.write(unit, reg.address, [60000])  # 60 V: the device checks too
    assert info.value.code == ILLEGAL_VALUE
    with pytest.raises(DeviceRefusedError) as info:
        link.write(unit, supply.regmap["weld_count"].address, [0, 0])  # read-only
    assert info.value.code == ILLEGAL_ADDRESS
    with pytest.raises(DeviceRefusedError) as info:
        supply.fire()  # not armed, head not at force
    assert info.value.code == DEVICE_BUSY
    link.close()


@pytest.mark.parametrize("holder_over", ["tcp", "rtu"])
def test_the_lease_keeps_other_masters_out_until_its_holder_lets_go(
    lockstep: Running, holder_over: str
) -> None:
    holder, _ = drivers(lockstep, holder_over)
    other, _ = drivers(lockstep, "tcp")
    try:
        assert holder.take(0xC0FFEE)
        with pytest.raises(LeaseHeldError, match="held by another master"):
            other.take(0xBAD)
        with pytest.raises(DeviceRefusedError) as info:
            other.weld1_voltage_v = 1.0
        assert info.value.code == DEVICE_BUSY
        assert other.weld1_voltage_v == pytest.approx(2.1)  # reads stay open
        assert (other.read("lease_state"), holder.read("lease_state")) == (2, 1)
        other.stop()  # anyone may make the station safer
        holder.weld1_voltage_v = 2.1  # the holder writes on
    finally:
        holder.release()
    assert other.take(0xBAD)
    other.release()
    holder.link.close()
    other.link.close()


def test_a_closed_connection_gives_its_lease_up(lockstep: Running) -> None:
    holder, _ = drivers(lockstep, "tcp")
    other, _ = drivers(lockstep, "tcp")
    holder.take(1)
    with pytest.raises(LeaseHeldError):
        other.take(2)
    holder.link.close()
    deadline = time.monotonic() + 2.0
    while other.read("lease_state") != 0:  # the station sees the close at its next loop turn
        assert time.monotonic() < deadline, "the lease outlived its holder's connection"
        time.sleep(0.01)
    assert other.take(2)
    other.link.close()  # (and so gives it up)


def _weld_cycle(
    run: Running, transport: str = "tcp", over: str = "tcp"
) -> tuple[list, dict[str, float]]:
    supply, head = drivers(run, transport)
    stream = run.stream(over)
    frames = step(stream)
    count0 = supply.weld_count
    head.approach()
    frames += step_until(stream, lambda: head.at_force == 1)
    contact = head.contact_position_um
    supply.arm()
    assert supply.fire() is True
    frames += step_until(stream, lambda: supply.status()["weld_done"])
    frames += step(stream, 20)  # hold
    result = {
        "count": supply.weld_count - count0,
        "energy_j": supply.last_energy_j,
        "peak_a": supply.last_peak_current_a,
        "setdown_um": contact - head.position_um,
    }
    head.retract()
    frames += step_until(stream, lambda: head.status()["homed"])
    stats = stream.stats
    result["bad"] = stats.bad_frames
    result["lost"] = stats.lost_frames
    stream.close()
    supply.link.close()
    return frames, result


@pytest.mark.parametrize(("transport", "over"), [("tcp", "tcp"), ("rtu", "pty")])
def test_a_whole_weld_over_modbus_and_the_stream(transport: str, over: str) -> None:
    with station("--clock", "lockstep", "--seed", "5") as run:
        frames, res = _weld_cycle(run, transport, over)
    assert res["count"] == 1
    assert res["energy_j"] == pytest.approx(8.5, rel=0.1)  # the 2.1 V / 24 ms calibration weld
    assert 300.0 < res["peak_a"] < 450.0  # the cold tip at 2.1 V, about 350 A
    assert 40.0 < res["setdown_um"] < 80.0
    assert res["bad"] == 0 and res["lost"] == 0
    samples = [f for f in frames if f.summary is None]
    firsts = [f.first_sample for f in samples]
    assert np.all(np.diff(firsts) == 50)  # 50 samples per 1 ms block: 50 kHz, no gap
    current = np.concatenate([f.samples[:, 0] for f in samples])
    assert current.max() > 300.0  # the cold tip draws ~350 A at first
    (summary,) = [f.summary for f in frames if f.summary is not None]
    assert summary.energy_j == pytest.approx(res["energy_j"], rel=1e-3)


def test_lockstep_same_seed_same_bytes() -> None:
    def run_once() -> bytes:
        with station("--clock", "lockstep", "--seed", "9") as run:
            frames, _ = _weld_cycle(run)
        return b"".join(f.samples.tobytes() for f in frames)

    assert run_once() == run_once()


def test_cd_station_fires() -> None:
    with station(str(TC_CD), "--clock", "lockstep", "--no-rtu") as run:
        supply, head = drivers(run, "tcp", cd=True)
        stream = run.stream()
        assert supply.charge_voltage_v == pytest.approx(89.0)
        head.approach()
        step_until(stream, lambda: head.at_force == 1)
        supply.arm()
        assert supply.fire()
        step_until(stream, lambda: supply.status()["weld_done"])
        assert supply.last_energy_j > 3.0  # the schedule's pulse puts about 3.7 J into the tip
        stream.close()
        supply.link.close()


def test_watchdog_makes_the_station_safe_when_the_client_goes_silent() -> None:
    with station("--clock", "lockstep") as run:
        supply, head = drivers(run, "tcp")
        stream = run.stream()
        supply.watchdog_ms = 100
        supply.heartbeat()
        head.approach()
        step_until(stream, lambda: head.at_force == 1, limit=500)  # heartbeats stop here
        supply.arm()
        step(stream, 150)  # 150 ms of silence
        assert supply.fault_code == 3  # heartbeat lost
        assert not supply.status()["armed"]
        with pytest.raises(DeviceRefusedError):
            supply.fire()
        step(stream, 50)
        assert head.status()["moving"] or head.status()["homed"]
        assert head.force_n == 0.0  # retracted off the part
        stream.close()
        supply.link.close()


@pytest.mark.parametrize(("transport", "over"), [("tcp", "tcp"), ("rtu", "pty")])
def test_every_driver_method(transport: str, over: str) -> None:
    with station("--clock", "lockstep", "--seed", "2") as run:
        supply, head = drivers(run, transport)
        stream = run.stream(over)
        # settings: each writable register of the supply and head round-trips
        for name, value in (
            ("squeeze_ms", 4.5),
            ("up1_ms", 0.5),
            ("weld1_ms", 20.0),
            ("down1_ms", 1.0),
            ("cool_ms", 2.0),
            ("up2_ms", 0.0),
            ("weld2_ms", 0.0),
            ("down2_ms", 0.0),
            ("hold_ms", 15.0),
            ("weld1_voltage_v", 2.05),
            ("watchdog_ms", 2000),
        ):
            setattr(supply, name, value)
            assert getattr(supply, name) == pytest.approx(value), name
        for name, value in (
            ("approach_speed_mm_s", 15.0),
            ("search_speed_mm_s", 1.5),
            ("force_ramp_n_per_ms", 3.0),
            ("fire_at_force_pct", 90),
            ("force_setpoint_n", 12.0),
            ("watchdog_ms", 2000),
        ):
            setattr(head, name, value)
            assert getattr(head, name) == pytest.approx(value), name
        supply.heartbeat()
        head.heartbeat()
        head.home()
        head.approach()
        step_until(stream, lambda: head.status()["contact"])
        assert head.contact == 1 and head.contact_position_um > 0.0
        step_until(stream, lambda: head.at_force == 1)
        assert head.force_n >= 0.9 * 12.0 - 0.05  # fires at 90 % of the force
        supply.arm()
        assert supply.status()["armed"]
        supply.disarm()
        assert not supply.status()["armed"]
        supply.arm()
        assert supply.fire()
        step(stream, 5)  # 0.5 ms squeeze, then about 4.5 ms of current
        supply.stop()
        step_until(stream, lambda: supply.status()["weld_done"])
        assert 0.0 < supply.last_weld_time_ms < 10.0  # stopped early, not the 20 ms set
        assert supply.last_energy_j > 0.0 and supply.last_peak_current_a > 100.0
        head.retract()
        step_until(stream, lambda: head.status()["homed"])
        supply.reset()
        head.reset()
        assert supply.fault_code == 0 and head.fault_code == 0
        assert supply.weld_count == 1
        stream.close()
        supply.link.close()


def test_illegal_function_is_refused(lockstep: Running) -> None:
    supply, _ = drivers(lockstep, "tcp")
    reply = supply.link.client.read_coils(0, count=1, device_id=supply.unit)
    assert reply.isError() and reply.exception_code in (1, 2)  # coils do not exist
    supply.link.close()


def test_sigint_stops_the_station_cleanly() -> None:
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "station"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline()  # ready
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    # stopped cleanly, and, as the shell reports a process a signal ended, 128 + SIGINT
    assert proc.returncode == 128 + signal.SIGINT and "station stopped" in err
