"""The weld sequencer: states, interlocks and transitions as pure code (no I/O).

The controller feeds it what it observes (interlock inputs, head and supply status, the
monitor's decision, the time) and carries out the commands it returns. Every permission is
checked before a weld and watched during it; losing any one aborts at once: stop the current,
disarm the supply, retract the head.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields


class State(enum.Enum):
    """Where a weld cycle is."""

    IDLE = "idle"
    APPROACH = "approach"  # fast approach, then soft-touch search
    SQUEEZE = "squeeze"  # ramp to the firing force
    WELD = "weld"  # pulses per schedule, monitor running
    HOLD = "hold"  # force held after the current
    RELEASE = "release"  # head back to its start height
    VERDICT = "verdict"  # features against the window, record committed
    ABORTED = "aborted"


class Command(enum.Enum):
    """What the controller must do on the devices."""

    HEAD_APPROACH = "head.approach"
    HEAD_RETRACT = "head.retract"
    SUPPLY_ARM = "supply.arm"
    SUPPLY_FIRE = "supply.fire"
    SUPPLY_STOP = "supply.stop"
    SUPPLY_DISARM = "supply.disarm"


@dataclass(frozen=True)
class Interlocks:
    """The permissions a weld needs; each True means 'this one allows it'."""

    estop_released: bool = True
    guard_closed: bool = True
    supply_ready: bool = True
    head_homed: bool = True
    force_in_range: bool = True
    link_healthy: bool = True

    def missing(self, *, at_start: bool, to_fire: bool = False) -> list[str]:
        """Return what is wrong, for each permission that does not hold ("e-stop pressed"):
        all at the start; during a cycle all but head_homed (the head leaves home) and
        supply_ready (the supply is busy once it fires), except that to fire (to_fire) the
        supply must be ready again."""
        names = [f.name for f in fields(self) if not getattr(self, f.name)]
        if not at_start:
            skip = ("head_homed",) if to_fire else ("head_homed", "supply_ready")
            names = [n for n in names if n not in skip]
        return [WRONG[n] for n in names]


# what an operator reads when a permission does not hold: what is wrong, not its name
WRONG = {
    "estop_released": "e-stop pressed",
    "guard_closed": "guard open",
    "supply_ready": "supply not ready",
    "head_homed": "head not at home",
    "force_in_range": "force out of range",
    "link_healthy": "link lost",
}


@dataclass(frozen=True)
class Observation:
    """What the controller sees at one instant."""

    t_s: float
    interlocks: Interlocks = field(default_factory=Interlocks)
    contact: bool = False
    at_force: bool = False
    homed: bool = True
    weld_done: bool = False  # the supply reports its pulse sequence finished
    # the stream has brought the pulse's end (the supply's summary frame after its last
    # samples): the monitor has seen all of the current. A stream behind the devices' status
    # (a paced station, a stalled controller) brings it later than the status says done.
    pulse_streamed: bool = True
    monitor_stop: bool = False  # the monitor orders STOP now
    fault: str | None = None  # any device fault, with its text


@dataclass(frozen=True)
class Step:
    """The result of one transition."""

    state: State
    commands: tuple[Command, ...] = ()
    note: str = ""


SAFE = (Command.SUPPLY_STOP, Command.SUPPLY_DISARM, Command.HEAD_RETRACT)


@dataclass
class Sequencer:
    """One weld cycle at a time; `start` then `step` with each observation."""

    weld_enabled: bool = True  # no-weld runs the whole force cycle with zero current
    hold_ms: float = 10.0
    approach_timeout_s: float = 2.0
    weld_timeout_s: float = 2.0
    state: State = State.IDLE
    reason: str = ""
    # how far the stream may run behind the supply's status at the pulse's end (s, stream time)
    stream_lag_s: float = 5.0
    _t_state: float = 0.0
    _t_done: float | None = None  # the stream's time when the supply was first seen done

    def start(self, obs: Observation) -> Step:
        """Ask for a weld; refuse (and say which permission is missing) unless all hold."""
        if self.state not in (State.IDLE, State.VERDICT, State.ABORTED):
            return Step(self.state, (), f"busy in {self.state.value}")
        missing = obs.interlocks.missing(at_start=True)
        if obs.fault:
            missing.append(f"fault: {obs.fault}")
        if missing:
            self.state = State.IDLE
            return Step(State.IDLE, (), "blocked: " + ", ".join(missing))
        self.reason = ""
        return self._go(State.APPROACH, obs.t_s, (Command.HEAD_APPROACH,), "start")

    def _go(self, state: State, t: float, cmds: tuple[Command, ...], note: str) -> Step:
        self.state = state
        self._t_state = t
        self._t_done = None
        return Step(state, cmds, note)

    def _pulse_done(self, obs: Observation) -> Step:
        # The supply says its pulse is done; the hold starts once the stream has brought the
        # pulse's end too (the monitor has all of the current, and the hold is counted from
        # the current's end in the station's time). A stream behind the status gets its own
        # allowance, in its own time from here: the supply's timeout is not its to spend.
        if obs.pulse_streamed:
            return self._go(State.HOLD, obs.t_s, (), "current ended")
        if self._t_done is None:
            self._t_done = obs.t_s
        if obs.t_s - self._t_done > self.stream_lag_s:
            return self.abort(obs, "the stream never brought the end of the pulse")
        return Step(State.WELD)

    def abort(self, obs: Observation, why: str) -> Step:
        """Make everything safe now and end the cycle as ABORTED."""
        self.reason = why
        return self._go(State.ABORTED, obs.t_s, SAFE, why)

    def step(self, obs: Observation) -> Step:
        """Advance on an observation; return the new state and the commands to carry out."""
        s = self.state
        if s in (State.IDLE, State.VERDICT, State.ABORTED):
            return Step(s)
        missing = obs.interlocks.missing(at_start=False)
        if missing:
            return self.abort(obs, "interlock lost: " + ", ".join(missing))
        if obs.fault:
            return self.abort(obs, f"fault: {obs.fault}")
        elapsed = obs.t_s - self._t_state
        if s is State.APPROACH:
            if obs.contact or obs.at_force:
                return self._go(State.SQUEEZE, obs.t_s, (), "contact")
            if elapsed > self.approach_timeout_s:
                return self.abort(obs, "no contact within the approach time")
            return Step(s)
        if s is State.SQUEEZE:
            if obs.at_force:
                if not self.weld_enabled:
                    # no-weld: the force cycle without current
                    return self._go(State.HOLD, obs.t_s, (), "no-weld: at force, no current")
                # a supply that lost its readiness since the start (heartbeat, e-stop or
                # guard input, fault) must not be armed and fired: the last instant before
                # the current at which readiness still means something
                missing = obs.interlocks.missing(at_start=False, to_fire=True)
                if missing:
                    return self.abort(obs, "interlock lost: " + ", ".join(missing))
                return self._go(
                    State.WELD, obs.t_s, (Command.SUPPLY_ARM, Command.SUPPLY_FIRE), "at force: fire"
                )
            if elapsed > self.approach_timeout_s:
                return self.abort(obs, "no firing force within the squeeze time")
            return Step(s)
        if s is State.WELD:
            # on STOP the supply still has to wind down: the hold starts when it reports done
            if obs.weld_done:
                return self._pulse_done(obs)
            if obs.monitor_stop:
                return Step(s, (Command.SUPPLY_STOP,), "monitor: STOP")
            if elapsed > self.weld_timeout_s:
                return self.abort(obs, "the supply never finished its pulse")
            return Step(s)
        if s is State.HOLD:
            if elapsed * 1e3 >= self.hold_ms:
                return self._go(State.RELEASE, obs.t_s, (Command.HEAD_RETRACT,), "hold over")
            return Step(s)
        if s is State.RELEASE:
            if obs.homed:
                return self._go(State.VERDICT, obs.t_s, (), "released")
            if elapsed > self.approach_timeout_s:
                return self.abort(obs, "the head did not return home")
            return Step(s)
        return Step(s)
