"""What a shipped schedule's notes say the model gives is what the model gives: a note that
claims the paper's figure for the simulator's would mislead every engineer who reads it."""

from __future__ import annotations

import re

from drivers.config.schedule import load_schedule
from drivers.config.variation import load_variation
from firmware_sim.model import prepare
from firmware_sim.run import run
from tests.helpers.paths import REPO

NOTE = re.compile(r"# The model gives ([\d.]+) N \((\d+) % of the wire's ([\d.]+) N\)")


def test_the_inverter_schedules_note_states_the_models_joint() -> None:
    path = REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"
    m = NOTE.search(path.read_text())
    assert m is not None, "the note of what the model gives at the calibration point"
    jbf_n, pct, wire_n = float(m[1]), float(m[2]), float(m[3])
    # the calibration point is the nominal part: no part-to-part spread
    var = load_variation()
    nominal = var.switched_off(*(name for name, _ in var.entries()))
    outcome = run(prepare(load_schedule(path), seed=0, variation=nominal)).outcome
    assert abs(outcome.jbf_n - jbf_n) <= 0.01
    assert abs(outcome.jbf_pct_of_wire - pct) <= 0.5
    assert abs(outcome.wire_strength_n - wire_n) <= 0.01
