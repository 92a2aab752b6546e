"""Run the physical model from a shipped schedule with overrides (tests only)."""

from __future__ import annotations

from pathlib import Path

from drivers.config.schedule import load_schedule
from firmware_sim.model import prepare
from firmware_sim.run import Result, run


def simulate(path: Path, *overrides: str, seed: int = 0) -> Result:
    """Run one stand-alone weld of a schedule file with dotted.key=value overrides."""
    return run(prepare(load_schedule(path, list(overrides)), seed=seed))
