"""Closed forms and invariants: the CD bank into a bar against the series RLC, the energy ledger
of every shipped schedule, and determinism."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from firmware_sim import kernel as K
from firmware_sim.validation.table import (
    CD_BAR,
    DIRECT_CD,
    TC_CD,
    TC_INV,
    Reference,
    Row,
    check,
    nominal,
    weld,
)


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
