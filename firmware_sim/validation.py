"""The simulator held to published data and to closed forms: each check of docs/VALIDATION.md.

A check runs stand-alone welds of a shipped schedule (with `--set`-style overrides) and compares
one figure with its reference: a published value within a tolerance, a published range, or a
closed form. Its source names a document of configs/materials.toml's [references] table and where
in it the value stands, or the closed form. `microweld validate` prints the table (and writes its
plots); tests/unit/firmware_sim/test_validation.py holds every check and holds docs/VALIDATION.md
to the table this module gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from drivers.config.schedule import Schedule, load_schedule
from firmware_sim import kernel as K
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


def weld(name: str, *overrides: str, seed: int = 0) -> Result:
    """Run one stand-alone weld of a shipped schedule with overrides."""
    return run(prepare(schedule_of(name, tuple(overrides)), seed=seed))


@cache
def nominal(name: str, *overrides: str) -> Result:
    """Return the seed-0 weld of a schedule (shared by the checks that read it)."""
    return weld(name, *overrides)


def series_rlc_peak(v0: float, r: float, ind: float, c: float) -> tuple[float, float]:
    """Return (peak current A, its time s) of a series RLC discharged from v0 (V), closed form."""
    alpha = r / (2 * ind)
    w0 = 1 / math.sqrt(ind * c)
    if alpha < w0:
        wd = math.sqrt(w0 * w0 - alpha * alpha)
        tp = math.atan(wd / alpha) / wd
        return v0 / (wd * ind) * math.exp(-alpha * tp) * math.sin(wd * tp), tp
    root = math.sqrt(alpha * alpha - w0 * w0)
    s1, s2 = -alpha + root, -alpha - root
    tp = math.log(s2 / s1) / (s1 - s2)
    return v0 / (ind * (s1 - s2)) * (math.exp(s1 * tp) - math.exp(s2 * tp)), tp


def _bar_pulse() -> tuple[float, float, float, float]:
    """Return the CD bar's simulated peak (A) and its time (s), and the closed form's."""
    res = nominal(TC_CD, *CD_BAR)
    n = 10.0  # referred to the secondary: C' = C n², V' = V / n
    ip, tp = series_rlc_peak(100.0 / n, 1.5e-3, 1.0e-6, 1000e-6 * n * n)
    i = res.clean[:, K.OUT_CURRENT]
    k = int(np.argmax(i))
    start = int(np.argmax(i > 0)) - 1  # the sample before the pulse began
    return float(i[k]), (k - start) * 1e-6, ip, tp


@check
def rlc_peak() -> Row:
    sim, _, ip, _ = _bar_pulse()
    return Row(
        "CD into a bar: peak current against the series RLC",
        "closed form (ideal transformer)",
        "%",
        100.0 * (sim - ip) / ip,
        Reference(lo=-1.0, hi=1.0),
    )


@check
def rlc_timing() -> Row:
    _, ts, _, tp = _bar_pulse()
    return Row(
        "CD into a bar: time of the peak against the series RLC",
        "closed form (ideal transformer)",
        "%",
        100.0 * (ts - tp) / tp,
        Reference(lo=-1.0, hi=1.0),
    )


def _ledger_error_pct(name: str) -> float:
    """Return how far (%) ∫V·I dt of the measured waveform is from the heat stored and lost."""
    res = nominal(name)
    o = res.outcome
    p = res.measured[:, K.OUT_CURRENT] * res.measured[:, K.OUT_VOLTAGE]
    heat = o.heat_stored_j + o.heat_lost_j
    return 100.0 * abs(float(np.trapezoid(p, res.t_s)) - heat) / heat


def _ledger(name: str) -> Callable[[], Row]:
    def ledger() -> Row:
        return Row(
            f"energy ledger of {name}: ∫V·I dt against heat stored + lost",
            "first law (the measured waveform, trapezoid)",
            "%",
            _ledger_error_pct(name),
            Reference(hi=1.0),
        )

    ledger.__name__ = f"ledger_{name}"
    return ledger


for _name in (TC_INV, TC_CD, DIRECT_CD):
    check(_ledger(_name))


@check
def same_seed_same_bits() -> Row:
    a, b = weld(TC_INV, seed=7), weld(TC_INV, seed=7)
    differ = int(np.count_nonzero(a.measured.view(np.uint64) != b.measured.view(np.uint64)))
    return Row(
        "two welds of one seed: samples that differ", "determinism", "", differ, Reference(hi=0)
    )


@check
def cui2021_jbf() -> Row:
    return Row(
        "Cui 2021 point (2.1 V, 24 ms, 12 N): joint breaking force",
        "Cui2021 abstract (1.1723 N)",
        "N",
        nominal(TC_INV).outcome.jbf_n,
        Reference(value=1.1723, tol_pct=10.0),
    )


@check
def cui2021_jbf_pct() -> Row:
    return Row(
        "Cui 2021 point: joint strength as a share of the wire's",
        "Cui2021 abstract (83.7 %)",
        "%",
        nominal(TC_INV).outcome.jbf_pct_of_wire,
        Reference(value=83.7, tol_pct=10.0),
    )


def rows(names: list[str] | None = None) -> list[Row]:
    """Run the checks (all, or those named) and return their rows in table order."""
    return [CHECKS[n]() for n in (names or list(CHECKS))]


HEADER = ("check", "simulator", "reference", "holds", "source")


def markdown(table: list[Row]) -> str:
    """Return the rows as a Markdown table (as docs/VALIDATION.md holds it)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in table]
    return "\n".join(lines) + "\n"
