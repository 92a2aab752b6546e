"""Run weld cycles on a station: the sequencer drives the devices, the monitor watches the
stream, and the QA log gets the record before the verdict is shown.

Works on a lockstep station (the cycle grants the station one 1 ms block at a time, so the
whole weld is deterministic and faster than real time) and on a paced one (it reads blocks as
they come).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from controller.monitor.monitor import Monitor, WeldResult
from controller.monitor.window import Window
from controller.qa.log import QaLog, WeldRecord
from controller.weld.heap import without_collection
from controller.weld.sequencer import Command, Interlocks, Observation, Sequencer, State
from drivers.head import ServoForceHead
from drivers.link import DeviceRefusedError, LinkError
from drivers.stream import WaveformStream
from drivers.supply import CDSupply, InverterSupply
from drivers.wire.frames import Frame

SAMPLE_RATE_HZ = 50_000.0
HEARTBEAT_EVERY = 50  # blocks (50 ms at 1 ms blocks)


@dataclass
class Operator:
    """Who welds what: the identities every QA record carries."""

    station: str = "sim"
    operator: str = "operator"
    part_id: str = "part"
    lot: str = "lot"


@dataclass
class Bench:
    """The devices of one station and how to talk to them."""

    supply: CDSupply | InverterSupply
    head: ServoForceHead
    stream: WaveformStream
    lockstep: bool
    interlocks: Interlocks = field(default_factory=Interlocks)  # the bench's safety inputs
    weld_enabled: bool = True
    hold_ms: float = 10.0
    # the supply's programmed time from FIRE to done (its squeeze, pulses and, on an inverter,
    # its own hold), ms: the weld state's timeout runs on top of it
    fire_to_done_ms: float = 0.0
    # the force the electrode must hold while the current flows (N); outside it (a part that
    # slipped, a servo that gave way) the weld is aborted. None: not watched.
    force_range_n: tuple[float, float] | None = None
    # set from another thread (the GUI's Stop) to end the running cycle: it aborts, made safe
    stop_request: str = ""
    # the reply timeout while a weld runs (s): the safe state goes out this long after the
    # last good reply when the link is lost. None: the links' own (between welds)
    weld_reply_timeout_s: float | None = None
    # the simulated station's test panel (host, port): ground truth for tests and process maps,
    # never for verdicts. None on hardware.
    sim_control: tuple[str, int] | None = None


def force_range(force_n: float, fire_at_force_pct: float) -> tuple[float, float]:
    """Return the force range to watch while the current flows (N): from 80 % of the firing
    force (fire-before-full-force fires below the setpoint) to 125 % of the setpoint."""
    return 0.8 * force_n * fire_at_force_pct / 100.0, 1.25 * force_n


@dataclass
class CycleResult:
    """A finished cycle: the state it ended in, the monitor's result, the record id."""

    state: State
    result: WeldResult
    record_id: int
    abort_reason: str = ""
    wall_s: float = 0.0
    waveform: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    # a cycle ended by a lost link: seconds from the last good Modbus reply to the safe
    # commands (stop, disarm, retract) going out
    safe_delay_s: float | None = None


def _do(bench: Bench, cmd: Command) -> None:
    if cmd is Command.HEAD_APPROACH:
        bench.head.approach()
    elif cmd is Command.HEAD_RETRACT:
        bench.head.retract()
    elif cmd is Command.SUPPLY_ARM:
        bench.supply.arm()
    elif cmd is Command.SUPPLY_FIRE:
        if not bench.supply.fire():
            raise DeviceRefusedError("FIRE not confirmed by the weld counter", 0)
    elif cmd is Command.SUPPLY_STOP:
        bench.supply.stop()
    elif cmd is Command.SUPPLY_DISARM:
        bench.supply.disarm()


def _safe(bench: Bench) -> float:
    """Command the safe state (supply stopped and disarmed, head retracted) at once, on every
    device, whatever failed first; return the seconds from the last good reply to the
    commands going out.

    They are sent without waiting for replies: after a lost link each would cost a full reply
    timeout, and the retract would go out seconds late. Whether they arrived is not known
    here; the devices' watchdogs make the station safe if they did not.
    """
    writes = [
        bench.supply.command_write("stop"),
        bench.supply.command_write("disarm"),
        bench.head.command_write("retract"),
    ]
    if bench.head.link is bench.supply.link:
        sent = bench.supply.link.send_now(writes)
    else:
        bench.supply.link.send_now(writes[:2])
        sent = bench.head.link.send_now(writes[2:])
    return sent - bench.supply.link.last_ok


WELD_MARGIN_S = 2.0  # past the supply's programmed time, before "never finished its pulse"
SETTLE_BLOCKS = 1500  # 1.5 s: past the devices' own watchdog (150 ms on hardware, 500 ms on
# the simulator by default) and a full retract


def _settle(bench: Bench, take_block: Callable[[], bool], link_ok: bool) -> None:
    """After an abort, let the station's time run until it is at rest (lockstep stands still
    otherwise): until the head is home if the link still answers, else long enough for the
    station's own watchdog to make it safe. Bounded; a dead stream ends it early."""
    for k in range(SETTLE_BLOCKS):
        try:
            take_block()
            if link_ok and k % 10 == 9:
                head = bench.head.status()
                if head.get("homed") and not bench.supply.status().get("welding"):
                    return
        except LinkError:
            return
        except DeviceRefusedError:
            continue


@without_collection  # no collector pause in the weld (controller/heap.py)
def run_cycle(
    bench: Bench,
    window: Window | None,
    log: QaLog,
    who: Operator,
    schedule: str,
    schedule_hash: str,
    electrode_count: int,
    max_blocks: int = 5000,
    on_step: Callable[[State], None] | None = None,
    on_block: Callable[[np.ndarray, Sequence[tuple[str, float]]], None] | None = None,
) -> CycleResult:
    """Run one weld cycle; commit its record; return the result.

    on_step, if given, is called with the sequencer's state after every block's step (a GUI
    shows it; tests inject faults from it). on_block, if given, gets each block as the operator
    sees it (Monitor.display) and the events it brought (name, s); it must return at once
    (the GUI copies into a ring buffer and draws at its own rate).
    """
    t_wall = time.perf_counter()
    safe_delay: float | None = None  # after a lost link: last good reply -> safe commands sent
    monitor = Monitor(window=window)
    seq = Sequencer(
        weld_enabled=bench.weld_enabled,
        hold_ms=bench.hold_ms,
        weld_timeout_s=WELD_MARGIN_S + bench.fire_to_done_ms / 1e3,
    )
    link_ok = True
    t_virtual = 0.0
    blocks = 0
    force_seen = (math.inf, -math.inf)  # the last block's lowest and highest force, N

    def observe(stop: bool, ask: bool = True) -> Observation:
        # ask=False: the link is known lost; asking would only cost reply timeouts
        nonlocal link_ok
        try:
            if not ask:
                raise LinkError("link lost")
            head = bench.head.status()
            supply = bench.supply.status()
            link_ok = True
        except (LinkError, DeviceRefusedError):
            link_ok = False
            head, supply = {}, {}
        # the electrode force, from the stream, while the current flows
        force_ok = True
        if bench.force_range_n is not None and seq.state is State.WELD:
            lo, hi = bench.force_range_n
            force_ok = lo <= force_seen[0] and force_seen[1] <= hi
        # the bench's safety inputs, and what the devices themselves say
        bl = bench.interlocks
        locks = dataclasses.replace(
            bl,
            link_healthy=link_ok,
            # the e-stop and guard inputs, as the supply's interlock input reports them
            estop_released=bl.estop_released and not supply.get("estop"),
            guard_closed=bl.guard_closed and not supply.get("guard_open"),
            head_homed=bl.head_homed and head.get("homed", False),
            supply_ready=bl.supply_ready and supply.get("ready", False),
            force_in_range=bl.force_in_range and force_ok,
        )
        fault = None
        if bench.stop_request:
            fault = bench.stop_request
        elif supply.get("fault"):
            fault = "supply fault"
        elif head.get("fault"):
            fault = "head fault"
        return Observation(
            t_s=t_virtual,
            interlocks=locks,
            contact=head.get("contact", False),
            at_force=head.get("at_force", False),
            homed=head.get("homed", False),
            weld_done=supply.get("weld_done", False),
            monitor_stop=stop,
            fault=fault,
        )

    def take_block() -> bool:
        """Let one block through (lockstep) and feed it to the monitor; True on STOP."""
        nonlocal t_virtual, force_seen
        if bench.lockstep:
            bench.stream.grant(1)
        frames: list[Frame] = []
        while not any(f.summary is None for f in frames):
            got = bench.stream.read(2.0)
            if not got:
                raise LinkError("no stream frame within 2 s")
            frames += got
        stop = False
        force_seen = (math.inf, -math.inf)
        for f in frames:
            if f.summary is None:
                # the force while the current flows (a paced stream may still be delivering
                # samples from the squeeze when the head already reports itself at force)
                flowing = np.abs(f.samples[:, 0]) > monitor.settings.gate_a
                force = f.samples[flowing, 2]
                if len(force):
                    force_seen = (min(force_seen[0], force.min()), max(force_seen[1], force.max()))
                decision = monitor.feed(f.samples)
                stop |= decision.stop
                if on_block is not None:
                    on_block(monitor.display(len(f.samples)), decision.events)
                t_virtual = (f.first_sample + len(f.samples)) / SAMPLE_RATE_HZ
        return stop

    try:
        take_block()  # learn the station's time before the sequencer starts counting
    except LinkError as exc:
        result = WeldResult({}, "BLOCKED", [f"stream: {exc}"], {})
        return CycleResult(State.IDLE, result, 0, str(exc), time.perf_counter() - t_wall)
    with contextlib.suppress(LinkError):
        # a fresh heartbeat before the permissions are read: the supply is ready only with
        # one, and from here on both watchdogs guard the cycle (a link lost later makes the
        # station safe on its own). A lost link shows in the permissions just below.
        bench.supply.heartbeat()
        bench.head.heartbeat()
    step = seq.start(observe(False))
    if seq.state is State.IDLE:
        # a missing permission: no weld happened, so there is nothing to log
        result = WeldResult({}, "BLOCKED", [step.note], {})
        return CycleResult(State.IDLE, result, 0, step.note, time.perf_counter() - t_wall)
    try:
        count_before: int | None = int(bench.supply.weld_count)
    except (LinkError, DeviceRefusedError):
        count_before = None
    links = {id(d.link): d.link for d in (bench.supply, bench.head)}
    between_welds_s = {k: link.timeout_s for k, link in links.items()}
    try:
        if bench.weld_reply_timeout_s is not None:
            for link in links.values():
                link.timeout_s = bench.weld_reply_timeout_s
        for cmd in step.commands:
            _do(bench, cmd)
        while seq.state not in (State.IDLE, State.VERDICT, State.ABORTED) and blocks < max_blocks:
            stop = take_block()
            blocks += 1
            if blocks % HEARTBEAT_EVERY == 0:
                bench.supply.heartbeat()
                bench.head.heartbeat()
            step = seq.step(observe(stop))
            if not link_ok and seq.state is State.ABORTED:
                # the status read found the link lost: the safe state at once, not one
                # reply timeout per command
                safe_delay = _safe(bench)
            else:
                for cmd in step.commands:
                    _do(bench, cmd)
            if on_step is not None:
                on_step(seq.state)
        if seq.state not in (State.VERDICT, State.ABORTED):
            step = seq.abort(observe(False), f"cycle did not finish in {max_blocks} blocks")
            _safe(bench)
    except LinkError as exc:
        # safe first: every moment spent asking a dead link is a moment the supply stays armed
        safe_delay = _safe(bench)
        seq.abort(observe(False, ask=False), f"link lost: {exc}")
    except DeviceRefusedError as exc:
        _safe(bench)
        seq.abort(observe(False), f"device refused: {exc}")
    finally:
        for k, link in links.items():
            link.timeout_s = between_welds_s[k]
    if seq.state is State.ABORTED:
        _settle(bench, take_block, link_ok)
    result = monitor.finish()
    verdict = "ABORTED" if seq.state is State.ABORTED else result.verdict
    reasons = [seq.reason] if seq.state is State.ABORTED else result.reasons
    wave = monitor.wave()
    try:
        count = int(bench.supply.weld_count)
    except (LinkError, DeviceRefusedError):
        count = None
    if count is not None and count == count_before:
        # no FIRE in this cycle (aborted before the pulse): the counter is the last weld's,
        # and a record claims only its own fire's count (found by the crash battery: an
        # abort before the pulse carried the count of the weld before it)
        count = None
    record_id = log.record(
        WeldRecord(
            station=who.station,
            operator=who.operator,
            part_id=who.part_id,
            lot=who.lot,
            schedule=schedule,
            schedule_hash=schedule_hash,
            window=window.name if window else "",
            window_hash=window.digest() if window else "",
            electrode_count=electrode_count,
            verdict=verdict,
            reasons=reasons,
            features=result.features,
            waveform=wave,
            supply_weld_count=count,
        )
    )
    result.verdict, result.reasons = verdict, reasons
    return CycleResult(
        seq.state, result, record_id, seq.reason, time.perf_counter() - t_wall, wave, safe_delay
    )
