"""The sequencer's transitions and interlocks, as pure logic."""

from __future__ import annotations

import itertools
from dataclasses import fields, replace

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from controller.weld.sequencer import (
    SAFE,
    WRONG,
    Command,
    Interlocks,
    Observation,
    Sequencer,
    State,
)

NAMES = [f.name for f in fields(Interlocks)]


def run_cycle(seq: Sequencer) -> list[tuple[State, tuple[Command, ...]]]:
    """Drive a whole good cycle; return the states and commands seen."""
    t = 0.0
    out = [(lambda s: (s.state, s.commands))(seq.start(Observation(t)))]
    script = [
        Observation(0.01, homed=False),
        Observation(0.02, homed=False, contact=True),
        Observation(0.03, homed=False, contact=True, at_force=True),
        Observation(0.05, homed=False, contact=True, at_force=True, weld_done=True),
        Observation(0.07, homed=False, contact=True, at_force=True),
        Observation(0.08, homed=False),
        Observation(0.09, homed=True),
    ]
    for obs in script:
        step = seq.step(obs)
        out.append((step.state, step.commands))
    return out


def test_a_good_cycle_goes_through_every_state() -> None:
    seen = run_cycle(Sequencer(hold_ms=10.0))
    states = [s for s, _ in seen]
    assert states == [
        State.APPROACH,
        State.APPROACH,
        State.SQUEEZE,
        State.WELD,
        State.HOLD,
        State.RELEASE,
        State.RELEASE,
        State.VERDICT,
    ]
    commands = [c for _, cs in seen for c in cs]
    assert commands == [
        Command.HEAD_APPROACH,
        Command.SUPPLY_ARM,
        Command.SUPPLY_FIRE,
        Command.HEAD_RETRACT,
    ]


def test_no_weld_runs_the_force_cycle_without_current() -> None:
    seen = run_cycle(Sequencer(weld_enabled=False, hold_ms=10.0))
    commands = [c for _, cs in seen for c in cs]
    assert Command.SUPPLY_FIRE not in commands and Command.SUPPLY_ARM not in commands
    assert commands == [Command.HEAD_APPROACH, Command.HEAD_RETRACT]
    assert seen[-1][0] is State.VERDICT


@pytest.mark.parametrize("bits", list(itertools.product([True, False], repeat=len(NAMES))))
def test_start_needs_every_permission_and_says_which_is_missing(bits: tuple[bool, ...]) -> None:
    locks = Interlocks(**dict(zip(NAMES, bits, strict=True)))
    step = Sequencer().start(Observation(0.0, interlocks=locks))
    missing = [WRONG[n] for n, ok in zip(NAMES, bits, strict=True) if not ok]
    if missing:
        assert step.state is State.IDLE and step.commands == ()
        assert step.note == "blocked: " + ", ".join(missing)  # what is wrong, not its name
    else:
        assert step.state is State.APPROACH and step.commands == (Command.HEAD_APPROACH,)


WATCHED = ["estop_released", "guard_closed", "force_in_range", "link_healthy"]


@pytest.mark.parametrize("lost", WATCHED)
@pytest.mark.parametrize("where", [1, 2, 3, 4, 5])
def test_losing_a_permission_mid_cycle_aborts_safely(lost: str, where: int) -> None:
    seq = Sequencer(hold_ms=10.0)
    seq.start(Observation(0.0))
    script = [
        Observation(0.01, homed=False),
        Observation(0.02, homed=False, contact=True),
        Observation(0.03, homed=False, contact=True, at_force=True),
        Observation(0.05, homed=False, contact=True, at_force=True, weld_done=True),
        Observation(0.07, homed=False, contact=True, at_force=True),
    ]
    for obs in script[:where]:
        seq.step(obs)
    before = seq.state
    bad = replace(script[where - 1], t_s=0.1, interlocks=Interlocks(**{lost: False}))
    step = seq.step(bad)
    assert before is not State.ABORTED
    assert step.state is State.ABORTED and step.commands == SAFE
    assert step.note == f"interlock lost: {WRONG[lost]}"
    # nothing fires after an abort, whatever comes next
    for obs in script:
        assert Command.SUPPLY_FIRE not in seq.step(obs).commands


def test_a_device_fault_aborts_and_a_monitor_stop_cuts_the_current() -> None:
    seq = Sequencer()
    seq.start(Observation(0.0))
    seq.step(Observation(0.01, contact=True))
    seq.step(Observation(0.02, contact=True, at_force=True))
    assert seq.state is State.WELD
    step = seq.step(Observation(0.03, at_force=True, monitor_stop=True))
    assert step.commands == (Command.SUPPLY_STOP,) and step.state is State.WELD
    # the hold begins once the supply says its current has ended
    step = seq.step(Observation(0.035, at_force=True, weld_done=True))
    assert step.state is State.HOLD
    seq2 = Sequencer()
    seq2.start(Observation(0.0))
    step = seq2.step(Observation(0.01, fault="supply over-temperature"))
    assert step.state is State.ABORTED and "over-temperature" in step.note


def test_the_hold_waits_for_the_stream_to_bring_the_pulses_end() -> None:
    # a stream behind the supply's status: the monitor has not seen all of the current yet
    seq = Sequencer(weld_timeout_s=0.1, stream_lag_s=1.0)
    seq.start(Observation(0.0))
    seq.step(Observation(0.01, contact=True))
    seq.step(Observation(0.02, contact=True, at_force=True))
    late = Observation(0.5, at_force=True, weld_done=True, pulse_streamed=False)
    # past the supply's own timeout (the stream's time ran on while it caught up): no abort
    assert seq.step(late).state is State.WELD
    assert seq.step(replace(late, t_s=1.4)).state is State.WELD
    assert seq.step(replace(late, t_s=1.45, pulse_streamed=True)).state is State.HOLD
    # a stream that never brings it, within its allowance from the supply's done
    seq = Sequencer(weld_timeout_s=0.1, stream_lag_s=1.0)
    seq.start(Observation(2.0))
    seq.step(Observation(2.01, contact=True))
    seq.step(Observation(2.02, contact=True, at_force=True))
    seq.step(Observation(2.03, at_force=True, weld_done=True, pulse_streamed=False))
    step = seq.step(Observation(3.04, at_force=True, weld_done=True, pulse_streamed=False))
    assert step.state is State.ABORTED and "stream never brought" in step.note
    assert step.commands == SAFE


# Mostly-true permissions and rare faults, so that random runs reach the weld often.
mostly = st.sampled_from([True] * 7 + [False])
LOCKS = st.tuples(*[mostly] * len(NAMES))


class RandomCycles(RuleBasedStateMachine):
    """Random observations: FIRE only with every permission, at most once per start."""

    def __init__(self) -> None:
        super().__init__()
        self.seq = Sequencer(hold_ms=5.0)
        self.t = 0.0
        self.fires_this_cycle = 0
        self.started = False

    @rule(locks=LOCKS)
    def start(self, locks: tuple[bool, ...]) -> None:
        self.t += 0.001
        ok = Interlocks(**dict(zip(NAMES, locks, strict=True)))
        step = self.seq.start(Observation(self.t, interlocks=ok))
        if step.commands == (Command.HEAD_APPROACH,):  # a new cycle began (not "busy")
            assert all(locks)
            self.fires_this_cycle = 0

    @rule(
        locks=st.tuples(*[st.booleans()] * len(NAMES)),
        contact=st.booleans(),
        at_force=st.booleans(),
        homed=st.booleans(),
        done=st.booleans(),
        stop=st.booleans(),
        fault=st.booleans(),
        dt=st.floats(0, 0.05),
    )
    def observe(self, locks, contact, at_force, homed, done, stop, fault, dt) -> None:
        self.t += dt
        ok = Interlocks(**dict(zip(NAMES, locks, strict=True)))
        obs = Observation(
            self.t, ok, contact, at_force, homed, done, stop, "injected" if fault else None
        )
        step = self.seq.step(obs)
        if Command.SUPPLY_FIRE in step.commands:
            assert not ok.missing(at_start=False) and not fault and at_force
            self.fires_this_cycle += 1
        if step.state is State.ABORTED:
            assert step.commands in ((), SAFE)

    @invariant()
    def one_fire_per_cycle(self) -> None:
        assert self.fires_this_cycle <= 1


TestRandomCycles = RandomCycles.TestCase
TestRandomCycles.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
