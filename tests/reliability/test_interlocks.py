"""Interlocks: FIRE only with every permission, never in no-weld, one per cycle.

(a) every combination of the interlock inputs in every state of the sequencer, both with weld
enabled and in no-weld; (b) random observations and interlock changes over time (hypothesis
state machine); (c) a small end-to-end sample on the lockstep simulated station, checked against
the station's own ground truth.

"Every permission" at FIRE is every field of Interlocks but head_homed: the head is, by
construction, down on the part when it fires (it left home at the start, where homed is
required). supply_ready is required at FIRE as well as at the start.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from controller.monitor.window import load_window
from controller.qa.record import WeldIdentity
from controller.weld.cycle import run_cycle
from controller.weld.sequencer import SAFE, Command, Interlocks, Observation, Sequencer, State, Step
from drivers.config.schedule import load_schedule
from tests.helpers.paths import REPO
from tests.helpers.station import Rig, lockstep_rig
from tests.reliability.battery import Record, scale

SCHEDULE = load_schedule(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")
WINDOW = load_window(REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml")

NAMES = [f.name for f in fields(Interlocks)]
AT_FIRE = [n for n in NAMES if n != "head_homed"]  # the permissions FIRE needs
ACTIVE = (State.APPROACH, State.SQUEEZE, State.WELD, State.HOLD, State.RELEASE)
TERMINAL = (State.VERDICT, State.ABORTED)


def fire_allowed(locks: Interlocks) -> bool:
    """Return True if every permission FIRE needs holds."""
    return all(getattr(locks, n) for n in AT_FIRE)


# --- (a) every combination in every state ----------------------------------------------------


def drive_to(state: State, weld_enabled: bool) -> Sequencer | None:
    """Return a sequencer brought to `state` by a good cycle (None: unreachable in this mode)."""
    seq = Sequencer(weld_enabled=weld_enabled, hold_ms=5.0)
    if state is State.IDLE:
        return seq
    seq.start(Observation(0.0))
    if state is State.ABORTED:
        seq.abort(Observation(0.001), "operator stop")
        return seq
    script = [
        Observation(0.01, homed=False, contact=True),  # -> SQUEEZE
        Observation(0.02, homed=False, contact=True, at_force=True),  # -> WELD (no-weld: HOLD)
        Observation(0.03, homed=False, contact=True, at_force=True, weld_done=True),  # -> HOLD
        Observation(0.04, homed=False, contact=True, at_force=True),  # -> RELEASE
        Observation(0.05, homed=True),  # -> VERDICT
    ]
    for obs in script:
        if seq.state is state:
            return seq
        seq.step(obs)
    return seq if seq.state is state else None


def probes(locks: Interlocks, t: float) -> list[Observation]:
    """Observations that would move each state on (contact, at force, done, home, STOP)."""
    return [
        Observation(t, locks, contact=True, at_force=True, homed=False),
        Observation(t, locks, contact=True, at_force=True, homed=False, weld_done=True),
        Observation(t, locks, contact=True, at_force=True, homed=False, monitor_stop=True),
        Observation(t, locks, homed=True),
    ]


COMBOS = [
    Interlocks(**dict(zip(NAMES, bits, strict=True)))
    for bits in itertools.product([True, False], repeat=len(NAMES))
]


def test_every_interlock_combination_in_every_state(record: Record) -> None:
    for weld_enabled, state, locks in itertools.product((True, False), State, COMBOS):
        seq0 = drive_to(state, weld_enabled)
        if seq0 is None:
            assert state is State.WELD and not weld_enabled  # no-weld never enters WELD
            continue
        # a fresh copy of the sequencer for each probe: each is one step from the same state
        for k, obs in enumerate(probes(locks, 0.06)):
            seq = Sequencer(weld_enabled=weld_enabled, hold_ms=5.0)
            seq.state, seq._t_state, seq.reason = seq0.state, seq0._t_state, seq0.reason
            start = k == 0 and state in (State.IDLE, *TERMINAL)
            step = seq.start(obs) if start else seq.step(obs)
            record.cases += 1
            if not fire_allowed(locks):
                record.faults += 1
            _check_step(state, weld_enabled, obs, step, start)
    record.notes.append(f"{len(COMBOS)} interlock combinations x {len(State)} states x 2 modes")


def _check_step(
    before: State, weld_enabled: bool, obs: Observation, step: Step, start: bool = False
) -> None:
    locks = obs.interlocks
    fired = Command.SUPPLY_FIRE in step.commands
    where = f"{before.value} -> {step.state.value} with {locks} (weld {weld_enabled})"
    if fired:
        assert fire_allowed(locks), f"FIRE without every permission: {where}"
        assert weld_enabled, f"FIRE in no-weld: {where}"
        assert obs.fault is None
    if not weld_enabled:
        assert Command.SUPPLY_ARM not in step.commands, f"ARM in no-weld: {where}"
    if start and before in ACTIVE:
        # a start request while busy: refused, nothing commanded (the next step watches)
        assert step.state is before and step.commands == (), where
    elif before in ACTIVE and locks.missing(at_start=False):
        # a permission lost during a cycle: made safe in this very step
        assert step.state is State.ABORTED and step.commands == SAFE, where
    if start and before in (State.IDLE, *TERMINAL):
        # a start: the head moves only with every permission, nothing else is commanded
        assert step.commands in ((), (Command.HEAD_APPROACH,)), where
        if step.commands:
            assert not locks.missing(at_start=True), where


# --- (b) random observations over time --------------------------------------------------------

mostly = st.sampled_from([True] * 9 + [False])
LOCKS = st.builds(Interlocks, *[mostly] * len(NAMES))


class Cycles(RuleBasedStateMachine):
    """Random starts, observations, interlock changes and aborts."""

    def __init__(self) -> None:
        super().__init__()
        self.weld_enabled = True
        self.seq = Sequencer(hold_ms=3.0)
        self.t = 0.0
        self.cycle_fires = 0  # FIREs in the running (or last) cycle
        self.cycle_ends = 0  # terminal results of the running (or last) cycle
        self.in_cycle = False
        self.fires = 0
        self.results = 0  # cycles that fired and ended: one record each
        self.steps = 0
        self.faults = 0  # steps with a permission missing or a device fault

    def _after(self, before: State, obs: Observation, step: Step, start: bool = False) -> None:
        self.steps += 1
        self.faults += bool(obs.fault or obs.interlocks.missing(at_start=True))
        _check_step(before, self.weld_enabled, obs, step, start)
        if Command.SUPPLY_FIRE in step.commands:
            assert self.in_cycle
            self.cycle_fires += 1
            self.fires += 1
        if before in ACTIVE and step.state in TERMINAL:
            self.cycle_ends += 1
            self.in_cycle = False
            if self.cycle_fires:
                self.results += 1
        lost = obs.interlocks.missing(at_start=False)
        if not start and before in (State.WELD, State.SQUEEZE) and lost:
            # armed or about to fire: an interlock lost means disarm and retract, now
            assert step.commands == SAFE and step.state is State.ABORTED

    @rule(locks=LOCKS, weld=st.sampled_from([True] * 4 + [False]), healthy=mostly)
    def start(self, locks: Interlocks, weld: bool, healthy: bool) -> None:
        if self.seq.state in (State.IDLE, *TERMINAL):
            self.seq.weld_enabled = self.weld_enabled = weld
        self.t += 0.001
        before = self.seq.state
        obs = Observation(self.t, locks, fault=None if healthy else "injected")
        step = self.seq.start(obs)
        if step.state is State.APPROACH and before is not State.APPROACH:
            # a new cycle: the last one, if it fired, ended exactly once
            assert not self.in_cycle
            assert self.cycle_fires <= 1 and (self.cycle_fires == 0 or self.cycle_ends == 1)
            self.cycle_fires = self.cycle_ends = 0
            self.in_cycle = True
        self._after(before, obs, step, start=True)

    @rule(
        locks=LOCKS,
        contact=st.booleans(),
        at_force=st.booleans(),
        homed=st.booleans(),
        done=st.booleans(),
        stop=st.booleans(),
        fault=mostly,
        dt=st.sampled_from([0.0, 0.0005, 0.001, 0.002, 0.01, 0.5, 3.0]),
    )
    def observe(
        self,
        locks: Interlocks,
        contact: bool,
        at_force: bool,
        homed: bool,
        done: bool,
        stop: bool,
        fault: bool,
        dt: float,
    ) -> None:
        self.t += dt
        before = self.seq.state
        obs = Observation(
            self.t, locks, contact, at_force, homed, done, stop, None if fault else "injected"
        )
        self._after(before, obs, self.seq.step(obs))

    @precondition(lambda self: self.seq.state in ACTIVE)
    @rule()
    def operator_abort(self) -> None:
        before = self.seq.state
        step = self.seq.abort(Observation(self.t), "operator stop")
        assert step.commands == SAFE and step.state is State.ABORTED
        self._after(before, Observation(self.t), step)

    @invariant()
    def one_fire_and_one_result_per_cycle(self) -> None:
        assert self.cycle_fires <= 1
        assert self.cycle_ends <= 1
        assert self.results <= self.fires <= self.results + 1

    @invariant()
    def terminal_states_stand_still(self) -> None:
        if self.seq.state in TERMINAL:
            assert self.seq.step(Observation(self.t)).commands == ()


def test_random_observations_over_time(record: Record) -> None:
    machine_runs = 0
    steps = fires = faults = 0

    class Counted(Cycles):
        def teardown(self) -> None:
            nonlocal machine_runs, steps, fires, faults
            machine_runs += 1
            faults += self.faults
            steps += self.steps
            fires += self.fires

    run = Counted.TestCase
    run.settings = settings(
        max_examples=scale(300, 5000),
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    run().runTest()
    record.cases, record.faults = steps, faults
    record.notes.append(f"{machine_runs} random runs, {steps} steps, {fires} FIREs")
    assert fires > 0, "the random runs never reached FIRE: the test proves nothing"


# --- (c) end to end on the simulated station ---------------------------------------------------


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with lockstep_rig(tmp_path_factory.mktemp("qa"), reply_timeout_s=1.0) as rig:
        yield rig


def _cycle(rig: Rig, part: str) -> State:
    res = run_cycle(
        rig.bench,
        rig.plan,
        WINDOW,
        rig.log,
        WeldIdentity(part_id=part),
        SCHEDULE.name,
        SCHEDULE.digest(),
        0,
    )
    return res.state


def test_no_weld_fires_nothing_and_each_weld_is_one_record(rig: Rig, record: Record) -> None:
    welds = scale(3, 20)
    truth0 = rig.control.truth()
    # no-weld: the whole force cycle, and no current at all at the bench
    rig.bench.weld_enabled = False
    try:
        for k in range(2):
            assert _cycle(rig, f"noweld-{k}") is State.VERDICT
            record.cases += 1
    finally:
        rig.bench.weld_enabled = True
    truth = rig.control.truth()
    assert truth["weld_count"] == truth0["weld_count"]
    assert truth["fire_times_s"] == truth0["fire_times_s"]
    assert truth["last_current_s"] == truth0["last_current_s"]
    assert truth["homed"] and not truth["armed"]
    # welds: exactly one FIRE at the bench and one QA record per weld
    for k in range(welds):
        before = rig.control.truth()
        assert _cycle(rig, f"weld-{k}") is State.VERDICT
        after = rig.control.truth()
        assert after["weld_count"] == before["weld_count"] + 1
        assert len(after["fire_times_s"]) == len(before["fire_times_s"]) + 1
        (row,) = rig.log.welds(part_id=f"weld-{k}")
        assert row.supply_weld_count == after["weld_count"]
        record.cases += 1
    rows = rig.log.welds()
    assert len(rows) == 2 + welds  # one record per cycle, no-weld included
    fired = [r for r in rows if r.part_id.startswith("weld-")]
    counts = [r.supply_weld_count for r in fired]
    assert counts == list(range(truth0["weld_count"] + 1, truth0["weld_count"] + welds + 1))
    assert rig.log.verify() == []
    record.notes.append(f"2 no-weld cycles, {welds} welds; station truth checked after each")
