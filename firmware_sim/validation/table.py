"""The validation table's parts: a check, its reference and its row, the welds the checks run.

A check runs stand-alone welds of a shipped schedule (with `--set`-style overrides) and compares
one figure with its reference: a published value within a tolerance, a published range, or a
closed form. Its source names a document of configs/materials.toml's [references] table and where
in it the value stands, or the closed form. `microweld validate` prints the table (and writes its
plots); tests/unit/firmware_sim/test_validation.py holds every check and holds docs/VALIDATION.md
to the table this module gives.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from drivers.config.schedule import Schedule, load_schedule
from drivers.config.variation import SourceName, Variation, load_variation
from firmware_sim.model import prepare
from firmware_sim.run import Result, run

TC_INV = "tc_inverter_cu100_pb200"
TC_CD = "tc_cd_cu100_pb200"
DIRECT_CD = "direct_cd_ni400_crossed"

# A CD supply discharged into a shorting bar, as supplies are calibrated: an ideal case whose
# closed form is the series RLC (1 MHz output to resolve the peak).
CD_BAR = (
    "process.kind=resistor",
    "process.load_mohm=1.0",
    "supply.pulse_tap=short",
    "supply.capacitance_uf=1000",
    "supply.charge_voltage_v=100",
    "supply.turns_ratio=10",
    "supply.inductance_uh=1.0",
    "supply.resistance_mohm=0.5",
    "supply.ideal_transformer=true",
    "sim.output_khz=1000",
    "supply.hold_ms=1",
)


@dataclass(frozen=True)
class Reference:
    """What a simulated figure is held to: a value within tol_pct, or a range [lo, hi]."""

    value: float | None = None
    tol_pct: float | None = None
    lo: float = -math.inf
    hi: float = math.inf

    def holds(self, x: float) -> bool:
        """Return True if x meets the reference."""
        if self.value is not None and self.tol_pct is not None:
            return abs(x - self.value) <= abs(self.value) * self.tol_pct / 100.0
        return self.lo <= x <= self.hi

    def text(self, unit: str) -> str:
        """Return the reference as the table shows it."""
        u = f" {unit}" if unit else ""
        if self.value is not None:
            return f"{self.value:g}{u} ± {self.tol_pct:g} %"
        if self.lo == -self.hi:
            return f"within ±{self.hi:g}{u}"
        if math.isinf(self.lo):
            return f"≤ {self.hi:g}{u}"
        if math.isinf(self.hi):
            return f"≥ {self.lo:g}{u}"
        return f"{self.lo:g}–{self.hi:g}{u}"


@dataclass(frozen=True)
class Row:
    """One check's result: what, its source, the simulated figure and its reference."""

    name: str
    source: str
    unit: str
    simulated: float
    reference: Reference

    @property
    def holds(self) -> bool:
        """True if the simulated figure meets its reference."""
        return self.reference.holds(self.simulated)

    def cells(self) -> tuple[str, str, str, str, str]:
        """Return the row's cells: check, simulator, reference, holds, source."""
        u = f" {self.unit}" if self.unit else ""
        return (
            self.name,
            f"{self.simulated:.4g}{u}",
            self.reference.text(self.unit),
            "yes" if self.holds else "**no**",
            self.source,
        )


CHECKS: dict[str, Callable[[], Row]] = {}


def check(fn: Callable[[], Row]) -> Callable[[], Row]:
    """Register a check under its function's name."""
    CHECKS[fn.__name__] = fn
    return fn


@cache
def schedule_of(name: str, overrides: tuple[str, ...] = ()) -> Schedule:
    """Return a shipped schedule with dotted.key=value overrides."""
    return load_schedule(name, list(overrides))


@cache
def no_spread() -> Variation:
    """Return the variation file with every source of part-to-part spread switched off."""
    var = load_variation()
    return var.switched_off(*typing.get_args(SourceName))


def weld(name: str, *overrides: str, seed: int = 0, spread: bool = True) -> Result:
    """Run one stand-alone weld of a shipped schedule with overrides: a part drawn by the seed
    from configs/variation.toml, or (spread False) the nominal part."""
    var = None if spread else no_spread()
    return run(prepare(schedule_of(name, tuple(overrides)), seed=seed, variation=var))


@cache
def nominal(name: str, *overrides: str) -> Result:
    """Return the weld of a schedule's nominal part (shared by the checks that read it)."""
    return weld(name, *overrides, spread=False)


def mean_of(field: str, name: str, *overrides: str, count: int = 10) -> float:
    """Return an outcome field's mean over count drawn parts (seeds 0 on), as a paper's mean
    over its joints."""
    values = [getattr(weld(name, *overrides, seed=k).outcome, field) for k in range(count)]
    return float(np.mean(values))


def rows(names: list[str] | None = None) -> list[Row]:
    """Run the checks (all, or those named) and return their rows in table order."""
    return [CHECKS[n]() for n in (names or list(CHECKS))]


HEADER = ("check", "simulator", "reference", "holds", "source")


def markdown(table: list[Row]) -> str:
    """Return the rows as a Markdown table (as docs/VALIDATION.md holds it)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in table]
    return "\n".join(lines) + "\n"
