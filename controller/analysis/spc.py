"""Statistical process control of logged welds: capability against the window, control charts,
drift alarms. Pure functions of numbers: no files, no plots (`microweld spc` and the GUI's Trends
screen do those).

Two σ, on purpose:
- capability (Cp, Cpk) uses the sample standard deviation of every weld given (ddof=1), as
  QA asked: what the welds really spread over against the window's limits (some texts call this
  Pp/Ppk, the "overall" capability);
- the control charts and drift alarms use a phase-I baseline: the mean of the first N welds and
  the short-term σ from their average moving range (MR̄/d2, d2 = 1.128 for ranges of two). The
  moving range only sees weld-to-weld scatter, so a slow drift inside the baseline (a wearing
  tip) does not widen the limits it is then judged against, and the welds after the baseline
  are compared with how the process ran just after set-up (or the last dressing).

Chart constants are the standard ones (Montgomery, Introduction to Statistical Quality Control,
appendix table VI): d2 = 1.128, D4 = 3.267 for moving ranges of two; A2, D3, D4 per subgroup
size for X̄-R. EWMA limits are the exact time-varying ones, CUSUM is the tabular form in σ units.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from controller.monitor.window import FEATURES, Window
from controller.qa.record import JUDGED, LoggedWeld

# phase I: the welds whose mean and moving range set the charts' centre and σ. 30 rather than
# 20: limits from fewer individuals raise the false-alarm rate markedly (estimation error);
# with 20, a wear-free run of the simulated station alarmed on four welds in a row right after
# the baseline whose current ended one 20 µs sample late (weld time moves in samples)
BASELINE_WELDS = 30
D2_MR = 1.128  # d2 for moving ranges of two consecutive welds
D4_MR = 3.267  # D4 for n = 2: the moving-range chart's upper limit is D4 · MR̄
# subgroup size: (A2, D3, D4) of the X̄-R chart
XBAR_R = {
    2: (1.880, 0.0, 3.267),
    3: (1.023, 0.0, 2.574),
    4: (0.729, 0.0, 2.282),
    5: (0.577, 0.0, 2.114),
    6: (0.483, 0.0, 2.004),
    7: (0.419, 0.076, 1.924),
    8: (0.373, 0.136, 1.864),
    9: (0.337, 0.184, 1.816),
    10: (0.308, 0.223, 1.777),
}
MIN_CAPABILITY_N = 30  # welds a capability index wants before it says much (AIAG SPC)
EWMA_LAMBDA = 0.2  # weight of the newest weld
EWMA_L = 3.0  # limits at L σ of the EWMA statistic
CUSUM_K = 0.5  # slack, in σ: half the shift (1 σ) the CUSUM is tuned to catch
CUSUM_H = 5.0  # decision interval, in σ (4 alarms sooner, and falsely more often)


@dataclass(frozen=True)
class Capability:
    """Mean, sample σ (ddof=1), Cp and Cpk of a feature against its lower and upper limits."""

    n: int
    mean: float
    sd: float  # sample standard deviation, ddof=1 (NaN below two welds)
    lsl: float | None
    usl: float | None
    cp: float | None  # None: a limit is open, or σ is 0 or unknown
    cpk: float | None  # one-sided (Cpu or Cpl) when only one limit exists; None with neither


def capability(values: Sequence[float], lsl: float | None, usl: float | None) -> Capability:
    """Return n, mean, sample σ (ddof=1), Cp and Cpk of values against lsl..usl."""
    n = len(values)
    mean = math.fsum(values) / n if n else math.nan
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else math.nan
    if not (n > 1 and sd > 0.0):
        return Capability(n, mean, sd, lsl, usl, None, None)
    cp = (usl - lsl) / (6.0 * sd) if lsl is not None and usl is not None else None
    cpu = (usl - mean) / (3.0 * sd) if usl is not None else None
    cpl = (mean - lsl) / (3.0 * sd) if lsl is not None else None
    sides = [c for c in (cpu, cpl) if c is not None]
    return Capability(n, mean, sd, lsl, usl, cp, min(sides) if sides else None)


@dataclass(frozen=True)
class Baseline:
    """The phase-I reference of the charts: its mean and short-term σ (MR̄/d2)."""

    n: int  # welds it was taken from
    mean: float
    mr_bar: float  # average moving range of consecutive welds
    sigma: float  # MR̄ / 1.128 (NaN below two welds)
    levels: int  # distinct values: a feature counted in samples (weld time) has only a few,
    # and normal-theory limits fit it poorly


def baseline(values: Sequence[float], n_welds: int = BASELINE_WELDS) -> Baseline:
    """Return the mean and MR̄/d2 σ of the first n_welds values (all of them if fewer)."""
    first = list(values[:n_welds])
    n = len(first)
    mean = math.fsum(first) / n if n else math.nan
    ranges = [abs(b - a) for a, b in itertools.pairwise(first)]
    mr_bar = math.fsum(ranges) / len(ranges) if ranges else math.nan
    return Baseline(n, mean, mr_bar, mr_bar / D2_MR, len(set(first)))


@dataclass(frozen=True)
class IndividualsChart:
    """Individuals and moving-range (I-MR) chart limits, and the welds outside them."""

    centre: float
    ucl: float  # centre + 3 · MR̄/d2
    lcl: float
    mr_ucl: float  # D4 · MR̄ (the moving-range chart's lower limit is 0)
    moving_ranges: list[float]  # |x[i] - x[i-1]|, from the second weld on
    outside: list[int]  # indices of the welds beyond ucl or lcl


def individuals_chart(values: Sequence[float], base: Baseline) -> IndividualsChart:
    """Return the I-MR chart of values with limits from the baseline (3 σ, σ = MR̄/1.128)."""
    ucl, lcl = base.mean + 3.0 * base.sigma, base.mean - 3.0 * base.sigma
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    outside = [i for i, v in enumerate(values) if v > ucl or v < lcl]
    return IndividualsChart(base.mean, ucl, lcl, D4_MR * base.mr_bar, ranges, outside)


@dataclass(frozen=True)
class XbarRChart:
    """X̄-R chart of consecutive subgroups: their means and ranges, limits, those outside."""

    size: int  # welds per subgroup
    means: list[float]
    ranges: list[float]
    centre: float  # grand mean of the phase-I subgroups
    ucl: float  # centre + A2 · R̄
    lcl: float
    r_bar: float
    r_ucl: float  # D4 · R̄
    r_lcl: float  # D3 · R̄
    outside: list[int]  # subgroups whose mean is beyond ucl or lcl, or range beyond r_ucl/r_lcl


def xbar_r_chart(
    values: Sequence[float], size: int = 5, baseline_welds: int = BASELINE_WELDS
) -> XbarRChart:
    """Return the X̄-R chart of consecutive subgroups of `size` welds.

    A partial last subgroup is left out; the limits come from the subgroups within the first
    baseline_welds welds (one at least).
    """
    if size not in XBAR_R:
        raise ValueError(f"subgroup size {size} not in {min(XBAR_R)}..{max(XBAR_R)}")
    groups = [values[i : i + size] for i in range(0, len(values) - size + 1, size)]
    if not groups:
        raise ValueError(f"{len(values)} welds make no subgroup of {size}")
    means = [math.fsum(g) / size for g in groups]
    ranges = [max(g) - min(g) for g in groups]
    k = max(1, min(len(groups), baseline_welds // size))
    centre, r_bar = math.fsum(means[:k]) / k, math.fsum(ranges[:k]) / k
    a2, d3, d4 = XBAR_R[size]
    ucl, lcl, r_ucl, r_lcl = centre + a2 * r_bar, centre - a2 * r_bar, d4 * r_bar, d3 * r_bar
    outside = [
        i
        for i, (m, r) in enumerate(zip(means, ranges, strict=True))
        if not lcl <= m <= ucl or not r_lcl <= r <= r_ucl
    ]
    return XbarRChart(size, means, ranges, centre, ucl, lcl, r_bar, r_ucl, r_lcl, outside)


@dataclass(frozen=True)
class Ewma:
    """EWMA of a feature with its exact limits per weld, and the first weld beyond them."""

    z: list[float]  # z[i] = λ·x[i] + (1-λ)·z[i-1], z[-1] = the baseline mean
    ucl: list[float]
    lcl: list[float]
    first_alarm: int | None  # index of the first weld whose z is beyond its limits


def ewma(
    values: Sequence[float],
    mean: float,
    sigma: float,
    lam: float = EWMA_LAMBDA,
    L: float = EWMA_L,
) -> Ewma:
    """Return the EWMA of values about mean, limits mean ± L·σ·√(λ/(2-λ)·(1-(1-λ)^(2i)))."""
    z, ucl, lcl = [], [], []
    first: int | None = None
    prev = mean
    for i, x in enumerate(values, start=1):
        prev = lam * x + (1.0 - lam) * prev
        # exact limits: narrow for the first welds, where z still leans on the baseline mean
        half = L * sigma * math.sqrt(lam / (2.0 - lam) * (1.0 - (1.0 - lam) ** (2 * i)))
        z.append(prev)
        ucl.append(mean + half)
        lcl.append(mean - half)
        if first is None and sigma > 0.0 and not mean - half <= prev <= mean + half:
            first = i - 1
    return Ewma(z, ucl, lcl, first)


@dataclass(frozen=True)
class Cusum:
    """Tabular CUSUM in σ units: upper and lower sums, and the first weld beyond h."""

    upper: list[float]  # C+[i] = max(0, C+[i-1] + (x[i]-mean)/σ - k)
    lower: list[float]  # C-[i] = max(0, C-[i-1] - (x[i]-mean)/σ - k)
    h: float
    first_alarm: int | None
    direction: str | None  # "up" or "down": which sum crossed h first


def cusum(
    values: Sequence[float], mean: float, sigma: float, k: float = CUSUM_K, h: float = CUSUM_H
) -> Cusum:
    """Return the tabular CUSUM of values about mean (k and h in units of σ)."""
    upper, lower = [], []
    hi = lo = 0.0
    first: int | None = None
    direction: str | None = None
    for i, x in enumerate(values):
        dev = (x - mean) / sigma if sigma > 0.0 else 0.0  # no σ: no alarm, not a division by 0
        hi, lo = max(0.0, hi + dev - k), max(0.0, lo - dev - k)
        upper.append(hi)
        lower.append(lo)
        if first is None and (hi > h or lo > h):
            first, direction = i, "up" if hi > h else "down"
    return Cusum(upper, lower, h, first, direction)


@dataclass(frozen=True)
class FeatureSpc:
    """Everything SPC says about one feature of one schedule's welds."""

    feature: str
    unit: str
    ids: list[int]  # log ids of the welds, in order
    values: list[float]
    capability: Capability
    baseline: Baseline
    chart: IndividualsChart
    ewma: Ewma  # of the welds after the baseline: values[baseline.n:]
    cusum: Cusum  # likewise

    def alarm_index(self, which: str) -> int | None:
        """Return the index in values where the "ewma" or "cusum" alarm fired first."""
        if which not in ("ewma", "cusum"):
            raise ValueError(f"no alarm {which!r} (ewma, cusum)")
        first = self.ewma.first_alarm if which == "ewma" else self.cusum.first_alarm
        return None if first is None else self.baseline.n + first

    def alarm_id(self, which: str) -> int | None:
        """Return the log id of the weld where the "ewma" or "cusum" alarm fired first."""
        first = self.alarm_index(which)
        return None if first is None else self.ids[first]


def limits(window: Window | None, feature: str) -> tuple[float | None, float | None]:
    """Return the window's (lower, upper) limit of a feature (None where open or unlimited)."""
    lim = window.limits.get(feature) if window else None
    return (lim.min, lim.max) if lim else (None, None)


def series(welds: Sequence[LoggedWeld], feature: str) -> tuple[list[int], list[float]]:
    """Return the log ids and values of a feature over the welds that measured it (aborted
    welds, no-weld cycles and missing or NaN values left out)."""
    ids, values = [], []
    for w in welds:
        v = w.features.get(feature)
        if w.verdict in JUDGED and v is not None and not math.isnan(v):
            ids.append(w.id)
            values.append(float(v))
    return ids, values


def analyse(
    feature: str,
    ids: Sequence[int],
    values: Sequence[float],
    window: Window | None,
    baseline_welds: int = BASELINE_WELDS,
) -> FeatureSpc:
    """Return capability against the window, the I-MR chart, EWMA and CUSUM of one feature.

    The drift alarms watch only the welds after the baseline (phase II): inside it they would
    be judged against a mean they helped make, and a drift there shows on the I chart instead.
    """
    if len(ids) != len(values):
        raise ValueError(f"{len(ids)} ids for {len(values)} values")
    if baseline_welds < 2:
        raise ValueError(f"the baseline needs at least 2 welds, not {baseline_welds}")
    base = baseline(values, baseline_welds)
    lsl, usl = limits(window, feature)
    after = values[base.n :]
    return FeatureSpc(
        feature,
        FEATURES.get(feature, ""),
        list(ids),
        list(values),
        capability(values, lsl, usl),
        base,
        individuals_chart(values, base),
        ewma(after, base.mean, base.sigma),
        cusum(after, base.mean, base.sigma),
    )


def first_fail(welds: Sequence[LoggedWeld]) -> LoggedWeld | None:
    """Return the first weld judged FAIL (aborted ones are not judged), or None."""
    return next((w for w in welds if w.verdict == "FAIL"), None)
