"""A station's devices (the bench), and what a schedule makes of them: programming the supply and
the head, and the plan the cycle follows.

`program` writes a schedule into the devices (checked against their register maps before anything
is sent) and returns the `Plan`: what the cycle must know of the schedule and the devices cannot
tell it (the controller's hold, how long the supply's pulse may take, the force to hold while the
current flows). `open_bench` connects to a station's devices, starting the simulated one.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import serial

from controller.weld.sequencer import Interlocks
from controller.weld.simstation import sim_station
from controller.weld.stations import RtuStation, SimStation, TcpStation
from drivers.config.schedule import (
    CD_REGISTERS,
    HEAD_REGISTERS,
    MODES,
    SEGMENTS,
    SETPOINT_UNITS,
    TAPS,
    CDSettings,
    Schedule,
)
from drivers.errors import LinkError
from drivers.head import ServoForceHead
from drivers.link import rtu_link, tcp_link
from drivers.stream import WaveformStream
from drivers.supply import CDSupply, InverterSupply


@dataclass
class Bench:
    """The devices of one station and how to talk to them."""

    supply: CDSupply | InverterSupply
    head: ServoForceHead
    stream: WaveformStream
    lockstep: bool
    interlocks: Interlocks = field(default_factory=Interlocks)  # the bench's safety inputs
    weld_enabled: bool = True
    # set from another thread (the GUI's Stop) to end the running cycle: it aborts, made safe
    stop_request: str = ""
    # the reply timeout while a weld runs (s): the safe state goes out this long after the
    # last good reply when the link is lost. None: the links' own (between welds)
    weld_reply_timeout_s: float | None = None
    # the simulated station's test panel (host, port): ground truth for tests and process maps,
    # never for verdicts. None on hardware.
    sim_control: tuple[str, int] | None = None
    # this controller's token for the devices' leases (drivers/device.py `take`): one per
    # session, never 0
    lease_token: int = field(default_factory=lambda: 1 + secrets.randbelow(0xFFFFFFFF))


def take(bench: Bench) -> list[str]:
    """Take (or renew) the supply's and the head's leases; return the names of those that
    grant none. LeaseHeldError if another master holds one."""
    devices = {"supply": bench.supply, "head": bench.head}
    return [name for name, dev in devices.items() if not dev.take(bench.lease_token)]


def release(bench: Bench) -> None:
    """Give both leases up; a device out of reach lets its lease lapse on its own."""
    for dev in (bench.supply, bench.head):
        with contextlib.suppress(ConnectionError, RuntimeError):
            dev.release()


@dataclass(frozen=True)
class Plan:
    """What the cycle follows of a programmed schedule."""

    # the controller's hold after the current, ms (a CD supply's hold is the head's job; an
    # inverter runs its own hold segment)
    hold_ms: float
    # the supply's programmed time from FIRE to done (its squeeze, pulses and, on an inverter,
    # its own hold), ms: the weld state's timeout runs on top of it
    fire_to_done_ms: float
    # the force the electrode must hold while the current flows (N); outside it (a part that
    # slipped, a servo that gave way) the weld is aborted. None: not watched.
    force_range_n: tuple[float, float] | None


def force_range(force_n: float, fire_at_force_pct: float) -> tuple[float, float]:
    """Return the force range to watch while the current flows (N): from 80 % of the firing
    force (fire-before-full-force fires below the setpoint) to 125 % of the setpoint."""
    return 0.8 * force_n * fire_at_force_pct / 100.0, 1.25 * force_n


def plan_of(schedule: Schedule) -> Plan:
    """Return the plan a schedule gives the cycle."""
    sup = schedule.supply
    if isinstance(sup, CDSettings):
        hold_ms, fire_to_done_ms = sup.hold_ms, sup.squeeze_ms + sup.interpulse_ms
    else:
        # a long schedule is no failed pulse (an inverter's segments reach 5.9 s in all)
        hold_ms, fire_to_done_ms = 0.0, sum(getattr(sup, f"{seg}_ms") for seg in SEGMENTS)
    head = schedule.head
    return Plan(hold_ms, fire_to_done_ms, force_range(head.force_n, head.fire_at_force_pct))


def program(bench: Bench, schedule: Schedule, watchdog_ms: float) -> Plan:
    """Write the schedule's settings and the watchdog into the supply and the head (checked
    before sending); return the plan the cycle follows."""
    bench.supply.watchdog_ms = watchdog_ms
    bench.head.watchdog_ms = watchdog_ms
    sup = schedule.supply
    if isinstance(sup, CDSettings):
        assert isinstance(bench.supply, CDSupply)
        bench.supply.pulse_tap = TAPS.index(sup.pulse_tap)
        for name in CD_REGISTERS:
            bench.supply.write(name, getattr(sup, name))
    else:
        assert isinstance(bench.supply, InverterSupply)
        bench.supply.mode = MODES.index(sup.mode)
        for seg in SEGMENTS:
            bench.supply.write(f"{seg}_ms", getattr(sup, f"{seg}_ms"))
        unit = SETPOINT_UNITS[sup.mode]
        bench.supply.write(f"weld1_{unit}", sup.setpoint(1))
        bench.supply.write(f"weld2_{unit}", sup.setpoint(2))
    for register, name in HEAD_REGISTERS.items():
        bench.head.write(register, getattr(schedule.head, name))
    return plan_of(schedule)


@contextlib.contextmanager
def open_bench(
    st: SimStation | TcpStation | RtuStation,
    schedule: Schedule,
    sched_file: Path,
    no_weld: bool,
    clock: str | None = None,
) -> Iterator[Bench]:
    """Connect to the station's devices (starting the simulated one if it is `sim`, with its
    clock, or this one)."""
    with contextlib.ExitStack() as stack:
        lockstep = False
        control = None
        if isinstance(st, SimStation):
            clock = clock or st.clock
            lockstep = clock == "lockstep"
            args = [str(sched_file), "--clock", clock, "--seed", str(st.seed), "--no-rtu"]
            args += ["--wear"] if st.tip_wear else []
            ends = stack.enter_context(sim_station(*args))
            link = tcp_link(*ends.modbus_tcp, timeout_s=st.reply_timeout_ms / 1e3)
            host, port = ends.stream_tcp
            port_url = f"socket://{host}:{port}"
            units = ends.supply_unit, ends.head_unit
            control = ends.control
        elif isinstance(st, TcpStation):
            link = tcp_link(st.host, st.modbus_port, timeout_s=st.reply_timeout_ms / 1e3)
            port_url = f"socket://{st.host}:{st.stream_port}"
            units = st.supply_unit, st.head_unit
        else:
            link = rtu_link(st.serial_port, st.baudrate, timeout_s=st.reply_timeout_ms / 1e3)
            port_url = st.stream_port
            units = st.supply_unit, st.head_unit
        stack.callback(link.close)
        try:
            port = serial.serial_for_url(port_url, timeout=0.2)
        except (OSError, ValueError) as exc:  # no such port or host, a URL pyserial refuses
            raise LinkError(f"the waveform stream at {port_url}: {exc}") from None
        stream = WaveformStream(port)
        stack.callback(stream.close)
        supply = CDSupply if isinstance(schedule.supply, CDSettings) else InverterSupply
        yield Bench(
            supply(link, units[0]),
            ServoForceHead(link, units[1]),
            stream,
            lockstep=lockstep,
            weld_enabled=not no_weld,
            weld_reply_timeout_s=st.weld_reply_timeout_ms / 1e3,
            sim_control=control,
        )
