"""Run weld cycles on a station: the sequencer drives the devices, the monitor watches the
stream, and the QA log gets the record before the verdict is shown.

A cycle goes as a weld does: observe the devices, take a block of the stream (and feed it to
the monitor), carry out the sequencer's commands (a table from command to driver call), and
finish: the verdict, the record committed. Works on a lockstep station (the cycle grants the
station one 1 ms block at a time, so the whole weld is deterministic and faster than real time)
and on a paced one (it reads blocks as they come).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from controller.monitor.monitor import Monitor, WeldResult
from controller.monitor.window import Window
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity, WeldRecord
from controller.weld import signals
from controller.weld.bench import Bench, Plan, take
from controller.weld.heap import without_collection
from controller.weld.sequencer import Command, Observation, Sequencer, State
from drivers.errors import DeviceRefusedError, LeaseHeldError, LinkError, SettingsChangedError
from drivers.wire.frames import SAMPLE_RATE_HZ, Frame

# between heartbeats, in the station's time: a third of the shortest watchdog (150 ms). By the
# stream's clock, not by reads: a controller behind a paced station reads many blocks at a time.
HEARTBEAT_S = 0.05
WELD_MARGIN_S = 2.0  # past the supply's programmed time, before "never finished its pulse"
# reads of a paced stream's backlog dropped at a cycle's start, at most (each takes up to 64 KiB,
# some 150 ms of stream; a paced station lets a reader fall 4 MiB behind)
MAX_SKIPPED_READS = 1000
SETTLE_BLOCKS = 1500  # 1.5 s: past the devices' own watchdog (150 ms on hardware, 500 ms on
# the simulator by default) and a full retract

OnStep = Callable[[State], None]
OnBlock = Callable[[np.ndarray, Sequence[tuple[str, float]]], None]


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
    # the supply's weld counter before and after the cycle, as read (None: unreadable)
    counts: tuple[int | None, int | None] = (None, None)


def _arm(bench: Bench) -> None:
    # Another master may have written the devices since they were programmed (the station
    # takes writes whenever it is not welding): read every setting back before the current.
    changed = [f"supply.{c}" for c in bench.supply.changed()]
    changed += [f"head.{c}" for c in bench.head.changed()]
    if changed:
        raise SettingsChangedError("; ".join(changed))
    bench.supply.arm()


def _fire(bench: Bench) -> None:
    if not bench.supply.fire():
        raise DeviceRefusedError("FIRE not confirmed by the weld counter", 0)


# what each of the sequencer's commands is on the devices
COMMANDS: dict[Command, Callable[[Bench], None]] = {
    Command.HEAD_APPROACH: lambda bench: bench.head.approach(),
    Command.HEAD_RETRACT: lambda bench: bench.head.retract(),
    Command.SUPPLY_ARM: _arm,
    Command.SUPPLY_FIRE: _fire,
    Command.SUPPLY_STOP: lambda bench: bench.supply.stop(),
    Command.SUPPLY_DISARM: lambda bench: bench.supply.disarm(),
}


def send_safe(bench: Bench) -> float:
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


def _why(exc: BaseException) -> str:
    """Return the reason an ABORTED record gives for an unexpected end of its cycle."""
    if isinstance(exc, signals.Interrupted):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted by SIGINT"
    return f"controller error: {type(exc).__name__}: {exc}"


def _weld_count(bench: Bench) -> int | None:
    """Return the supply's weld counter, or None if it cannot be read now."""
    try:
        return int(bench.supply.weld_count)
    except (LinkError, DeviceRefusedError):
        return None


class Cycle:
    """One weld cycle on a bench: observe, take a block, carry out the sequencer's commands."""

    def __init__(self, bench: Bench, plan: Plan, monitor: Monitor, on_block: OnBlock | None):
        self.bench = bench
        self.plan = plan
        self.monitor = monitor
        self.on_block = on_block
        self.seq = Sequencer(
            weld_enabled=bench.weld_enabled,
            hold_ms=plan.hold_ms,
            weld_timeout_s=WELD_MARGIN_S + plan.fire_to_done_ms / 1e3,
        )
        self.link_ok = True
        self.t_s = 0.0  # the station's time, from the stream
        self._beaten_s = 0.0  # the station's time at the last heartbeat
        self.force_seen = (math.inf, -math.inf)  # the last block's lowest and highest force, N
        self._first: tuple[Command, ...] = ()  # the commands the start asked for
        # the supply's weld counter before the cycle (None: unreadable), and whether the
        # stream has brought the summary of a weld past it (this cycle's pulse, all of it)
        self.count_before: int | None = None
        self.pulse_streamed = False
        self.safe_delay_s: float | None = None  # a lost link: last good reply -> safe commands
        # what ended the cycle that is neither a lost link nor a refusal (a bug, a second
        # signal): raised again once the weld is logged
        self.error: BaseException | None = None

    def observe(self, stop: bool, ask: bool = True) -> Observation:
        """Return what the devices, the bench's inputs and the monitor say now (ask=False:
        the link is known lost, and asking would only cost reply timeouts)."""
        bench = self.bench
        try:
            if not ask:
                raise LinkError("link lost")
            head = bench.head.status()
            supply = bench.supply.status()
            self.link_ok = True
        except (LinkError, DeviceRefusedError):
            self.link_ok = False
            head, supply = {}, {}
        # the electrode force, from the stream, while the current flows
        force_ok = True
        if self.plan.force_range_n is not None and self.seq.state is State.WELD:
            lo, hi = self.plan.force_range_n
            force_ok = lo <= self.force_seen[0] and self.force_seen[1] <= hi
        # the bench's safety inputs, and what the devices themselves say
        bl = bench.interlocks
        locks = dataclasses.replace(
            bl,
            link_healthy=self.link_ok,
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
        elif signals.requested():
            fault = signals.requested()
        elif supply.get("fault"):
            fault = "supply fault"
        elif head.get("fault"):
            fault = "head fault"
        return Observation(
            t_s=self.t_s,
            interlocks=locks,
            contact=head.get("contact", False),
            at_force=head.get("at_force", False),
            homed=head.get("homed", False),
            weld_done=supply.get("weld_done", False),
            pulse_streamed=self.pulse_streamed,
            monitor_stop=stop,
            fault=fault,
        )

    def take_block(self) -> bool:
        """Let one block through (lockstep) and feed it to the monitor; return True on STOP."""
        bench, monitor = self.bench, self.monitor
        if bench.lockstep:
            bench.stream.grant(1)
        frames: list[Frame] = []
        while not any(f.summary is None for f in frames):
            got = bench.stream.read(2.0)
            if not got:
                raise LinkError("no stream frame within 2 s")
            frames += got
        stop = False
        low, high = math.inf, -math.inf
        for f in frames:
            if f.summary is not None:
                before = self.count_before
                self.pulse_streamed |= before is None or f.summary.weld_count > before
                continue
            # the force while the current flows (a paced stream may still be delivering
            # samples from the squeeze when the head already reports itself at force)
            flowing = np.abs(f.samples[:, 0]) > monitor.settings.gate_a
            force = f.samples[flowing, 2]
            if len(force):
                low, high = min(low, force.min()), max(high, force.max())
            if f.saturated:
                monitor.saturated(f.clipped)
            decision = monitor.feed(f.samples)
            stop |= decision.stop
            if self.on_block is not None:
                self.on_block(monitor.display(len(f.samples)), decision.events)
            self.t_s = (f.first_sample + len(f.samples)) / SAMPLE_RATE_HZ
        self.force_seen = (low, high)
        return stop

    def beat(self) -> None:
        """Write both devices' heartbeats (their watchdogs make the station safe without)."""
        self._beaten_s = self.t_s
        self.bench.supply.heartbeat()
        self.bench.head.heartbeat()

    def carry_out(self, commands: Iterable[Command]) -> None:
        """Carry out the sequencer's commands on the devices, in order. ARM and FIRE wait on
        nothing but the operator's inputs, read again just before each: an e-stop pressed
        since the observation (during the settings' read-back, a few ms) aborts instead."""
        for cmd in commands:
            if cmd in (Command.SUPPLY_ARM, Command.SUPPLY_FIRE) and (why := self._held_back()):
                send_safe(self.bench)
                self.seq.abort(self.observe(False), why)
                return
            COMMANDS[cmd](self.bench)

    def _held_back(self) -> str:
        """Return why the current may not be switched on now ("" if it may)."""
        bench = self.bench
        if missing := bench.interlocks.missing(at_start=False):
            return "interlock lost: " + ", ".join(missing)
        if fault := bench.stop_request or signals.requested():
            return f"fault: {fault}"
        return ""

    def skip_backlog(self) -> None:
        """Drop the frames a paced station streamed before this cycle, unread (its session
        opening, the last weld's record committed): the cycle starts on the station's now.

        Taken as the station's time, the oldest of them put the cycle seconds behind the
        station: the sequencer, on the devices' status, was home again before the monitor saw
        the pulse (FAIL: no current, from a supply that fired)."""
        if self.bench.lockstep:
            return  # (its time stands still between cycles: nothing is behind)
        for _ in range(MAX_SKIPPED_READS):
            if not self.bench.stream.read(0.0):
                return

    def begin(self) -> str:
        """Learn the station's time, beat the heartbeats and ask the sequencer to start;
        return why the weld cannot start ("" if it started)."""
        try:
            self.skip_backlog()
            self.take_block()  # the station's time, before the sequencer starts counting
        except LinkError as exc:
            return f"stream: {exc}"
        try:
            # the leases, taken again if they lapsed between welds (another master that took
            # them meanwhile holds the station: nothing is written)
            take(self.bench)
            # a fresh heartbeat before the permissions are read: the supply is ready only with
            # one, and from here on both watchdogs guard the cycle (a link lost later makes the
            # station safe on its own). A lost link shows in the permissions just below.
            self.beat()
        except LeaseHeldError as exc:
            return str(exc)
        except LinkError:
            pass
        step = self.seq.start(self.observe(False))
        self._first = step.commands
        return step.note if self.seq.state is State.IDLE else ""

    def run(self, max_blocks: int, on_step: OnStep | None) -> None:
        """Run the started cycle to its verdict, or abort it and make the station safe."""
        links = {id(d.link): d.link for d in (self.bench.supply, self.bench.head)}
        between_welds_s = {k: link.timeout_s for k, link in links.items()}
        try:
            if self.bench.weld_reply_timeout_s is not None:
                for link in links.values():
                    link.timeout_s = self.bench.weld_reply_timeout_s
            self.carry_out(self._first)
            self._blocks(max_blocks, on_step)
        except LinkError as exc:
            # safe first: every moment spent asking a dead link is a moment the supply stays armed
            self.safe_delay_s = send_safe(self.bench)
            self.seq.abort(self.observe(False, ask=False), f"link lost: {exc}")
        except DeviceRefusedError as exc:
            send_safe(self.bench)
            self.seq.abort(self.observe(False), f"device refused: {exc}")
        except SettingsChangedError as exc:
            send_safe(self.bench)  # never armed: the head goes home
            self.seq.abort(
                self.observe(False), f"not fired: settings changed since programmed: {exc}"
            )
        except BaseException as exc:
            # anything else, from a bug to a second Ctrl-C: safe first, on whatever link still
            # answers, without waiting for replies; the weld is logged before it is raised again
            self.error = exc
            self.safe_delay_s = send_safe(self.bench)
            self.seq.abort(self.observe(False, ask=False), _why(exc))
        finally:
            for k, link in links.items():
                link.timeout_s = between_welds_s[k]
        if self.seq.state is State.ABORTED and self.error is None:
            try:
                self.settle()
            except BaseException as exc:  # the station's at rest is not worth a lost record
                self.error = exc

    def _blocks(self, max_blocks: int, on_step: OnStep | None) -> None:
        seq = self.seq
        blocks = 0
        while seq.state not in (State.IDLE, State.VERDICT, State.ABORTED) and blocks < max_blocks:
            stop = self.take_block()
            blocks += 1
            if self.t_s - self._beaten_s >= HEARTBEAT_S - 1e-9:  # (50 blocks in lockstep)
                self.beat()
            step = seq.step(self.observe(stop))
            if not self.link_ok and seq.state is State.ABORTED:
                # the status read found the link lost: the safe state at once, not one
                # reply timeout per command
                self.safe_delay_s = send_safe(self.bench)
            else:
                self.carry_out(step.commands)
            if on_step is not None:
                on_step(seq.state)
        if seq.state not in (State.VERDICT, State.ABORTED):
            seq.abort(self.observe(False), f"cycle did not finish in {max_blocks} blocks")
            send_safe(self.bench)

    def settle(self) -> None:
        """After an abort, let the station's time run until it is at rest (lockstep stands
        still otherwise): until the head is home if the link still answers, else long enough
        for the station's own watchdog to make it safe. Bounded; a dead stream ends it early."""
        bench = self.bench
        for k in range(SETTLE_BLOCKS):
            try:
                self.take_block()
                if self.link_ok and k % 10 == 9:
                    head = bench.head.status()
                    if head.get("homed") and not bench.supply.status().get("welding"):
                        return
            except LinkError:
                return
            except DeviceRefusedError:
                continue

    def finish(self) -> WeldResult:
        """Return the monitor's result with the cycle's verdict (ABORTED with its reason,
        NO-WELD for a cycle without current by choice)."""
        try:
            result = self.monitor.finish()
        except Exception as exc:  # the weld is still logged, with its waveform
            self.error = self.error or exc
            if self.seq.state is not State.ABORTED:
                self.seq.abort(self.observe(False, ask=False), _why(exc))
            result = WeldResult({}, "ABORTED", [], {})
        if self.seq.state is State.ABORTED:
            result.verdict, result.reasons = "ABORTED", [self.seq.reason]
        elif not self.seq.weld_enabled:
            # the force cycle without current, by choice: nothing to judge, no production FAIL
            result.verdict, result.reasons = "NO-WELD", ["no-weld cycle: force only, no current"]
            result.inhibit = False
        return result


@without_collection  # no collector pause in the weld (controller/weld/heap.py)
def run_cycle(
    bench: Bench,
    plan: Plan,
    window: Window | None,
    log: QaLog,
    who: WeldIdentity,
    schedule: str,
    schedule_hash: str,
    electrode_count: int,
    max_blocks: int = 5000,
    on_step: OnStep | None = None,
    on_block: OnBlock | None = None,
) -> CycleResult:
    """Run one weld cycle of a programmed schedule (its plan); commit its record; return the
    result.

    on_step, if given, is called with the sequencer's state after every block's step (a GUI
    shows it; tests inject faults from it). on_block, if given, gets each block as the operator
    sees it (Monitor.display) and the events it brought (name, s); it must return at once
    (the GUI copies into a ring buffer and draws at its own rate).
    """
    t_wall = time.perf_counter()
    cycle = Cycle(bench, plan, Monitor(window=window), on_block)
    ident = dict(
        **dataclasses.asdict(who),
        schedule=schedule,
        schedule_hash=schedule_hash,
        window=window.name if window else "",
        window_hash=window.digest() if window else "",
        electrode_count=electrode_count,
    )
    with signals.cycle():  # a signal from here on asks the cycle to stop, and waits for it
        refused = cycle.begin()
        if refused:
            # a missing permission or no stream: no weld happened, so there is nothing to log
            result = WeldResult({}, "BLOCKED", [refused], {})
            blocked = CycleResult(State.IDLE, result, 0, refused, time.perf_counter() - t_wall)
        else:
            done = _weld_and_log(cycle, max_blocks, on_step, log, ident, t_wall)
    if refused:
        signals.raise_pending(blocked)
        return blocked
    if cycle.error is not None:
        raise cycle.error  # logged ABORTED (done.record_id), the station made safe
    signals.raise_pending(done)
    return done


def _weld_and_log(
    cycle: Cycle,
    max_blocks: int,
    on_step: OnStep | None,
    log: QaLog,
    ident: dict[str, Any],
    t_wall: float,
) -> CycleResult:
    """Run the started cycle to its end, then commit its record (`ident`: its identity, the
    schedule, window and electrode count); return the result."""
    bench = cycle.bench
    cycle.count_before = count_before = _weld_count(bench)
    cycle.run(max_blocks, on_step)
    result = cycle.finish()
    wave = cycle.monitor.wave()
    count = after = _weld_count(bench)
    if count is not None and count == count_before:
        # no FIRE in this cycle (aborted before the pulse): the counter is the last weld's,
        # and a record claims only its own fire's count
        count = None
    record_id = log.record(
        WeldRecord(
            **ident,
            verdict=result.verdict,
            reasons=result.reasons,
            features=result.features,
            waveform=wave,
            supply_weld_count=count,
        )
    )
    wall_s = time.perf_counter() - t_wall
    state, reason = cycle.seq.state, cycle.seq.reason
    return CycleResult(
        state, result, record_id, reason, wall_s, wave, cycle.safe_delay_s, (count_before, after)
    )
