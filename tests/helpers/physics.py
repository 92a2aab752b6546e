"""Run the physical model from a shipped schedule with overrides (tests only)."""

from __future__ import annotations

from pathlib import Path

from drivers.config.schedule import load_schedule
from firmware_sim import kernel as K
from firmware_sim.model import prepare
from firmware_sim.run import Result, run


def simulate(path: Path, *overrides: str, seed: int = 0) -> Result:
    """Run one stand-alone weld of a schedule file with dotted.key=value overrides."""
    return run(prepare(load_schedule(path, list(overrides)), seed=seed))


def pulse_width_ms(res: Result) -> float:
    """Return how long (ms) the weld current stays above 10 % of its peak, first to last."""
    i = res.clean[:, K.OUT_CURRENT]
    above = (i > 0.1 * i.max()).nonzero()[0]
    return float(res.t_s[above[-1]] - res.t_s[above[0]]) * 1e3
