"""SPC: capability, control charts, EWMA and CUSUM against hand-computed and textbook values."""

from __future__ import annotations

import math

import pytest

from controller.analysis import spc

# --- the pure functions against hand-computed and textbook values ------------------------------


def test_capability_two_sided_one_sided_and_none() -> None:
    x = [9.8, 10.2, 10.1, 9.9, 10.0]  # mean 10.0, s = √(0.1/4) = 0.158114
    c = spc.capability(x, 9.4, 10.9)
    assert c.n == 5 and c.mean == pytest.approx(10.0) and c.sd == pytest.approx(0.1581139, 1e-6)
    assert c.cp == pytest.approx(1.5 / (6 * 0.1581139), 1e-6)  # 1.5811
    assert c.cpk == pytest.approx(0.6 / (3 * 0.1581139), 1e-6)  # the lower side: 1.2649
    upper = spc.capability(x, None, 10.9)
    assert upper.cp is None and upper.cpk == pytest.approx(0.9 / (3 * 0.1581139), 1e-6)
    lower = spc.capability(x, 9.4, None)
    assert lower.cp is None and lower.cpk == pytest.approx(1.2649111, 1e-6)
    assert spc.capability(x, None, None).cpk is None
    flat = spc.capability([3.0, 3.0, 3.0], 2.0, 4.0)  # σ = 0: no finite index
    assert flat.cp is None and flat.cpk is None and flat.sd == 0.0
    one = spc.capability([3.0], 2.0, 4.0)
    assert one.cpk is None and math.isnan(one.sd)


def test_individuals_chart_limits_from_the_moving_range() -> None:
    x = [10.0, 12.0, 11.0, 13.0, 12.0, 30.0]
    base = spc.baseline(x, 5)  # moving ranges 2, 1, 2, 1: MR̄ 1.5, σ = 1.5/1.128
    assert base.n == 5 and base.mean == pytest.approx(11.6) and base.mr_bar == pytest.approx(1.5)
    assert base.sigma == pytest.approx(1.3297872, 1e-6) and base.levels == 4
    ch = spc.individuals_chart(x, base)
    assert ch.ucl == pytest.approx(11.6 + 3 * 1.3297872, 1e-6)  # 15.589
    assert ch.lcl == pytest.approx(11.6 - 3 * 1.3297872, 1e-6)  # 7.611
    assert ch.mr_ucl == pytest.approx(3.267 * 1.5)  # 4.9005
    assert ch.moving_ranges == [2.0, 1.0, 2.0, 1.0, 18.0] and ch.outside == [5]


def test_xbar_r_chart_with_the_table_constants() -> None:
    x = [1.0, 2.0, 3.0, 4.0, 5.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0, 9.0, 9.0, 9.0, 9.0, 1.0]
    ch = spc.xbar_r_chart(x, size=5, baseline_welds=10)  # the last, partial subgroup left out
    assert ch.means == [3.0, 4.0, 9.0] and ch.ranges == [4.0, 4.0, 0.0]
    assert ch.centre == pytest.approx(3.5) and ch.r_bar == pytest.approx(4.0)
    assert ch.ucl == pytest.approx(3.5 + 0.577 * 4) and ch.lcl == pytest.approx(3.5 - 0.577 * 4)
    assert ch.r_ucl == pytest.approx(2.114 * 4) and ch.r_lcl == 0.0
    assert ch.outside == [2]
    with pytest.raises(ValueError, match="subgroup size"):
        spc.xbar_r_chart(x, size=11)


def test_ewma_exact_limits_and_its_first_alarm() -> None:
    # λ 0.2, L 3, σ 1: half-widths 3·√(0.2/1.8·(1-0.8^(2i))) = 0.6, 0.768375, 0.858986, ...
    e = spc.ewma([0.0, 0.0, 2.0, 2.0, 2.0], mean=0.0, sigma=1.0)
    assert e.z == pytest.approx([0.0, 0.0, 0.4, 0.72, 0.976])
    assert e.ucl == pytest.approx([0.6, 0.768375, 0.858986, 0.912266, 0.944789], abs=1e-6)
    assert e.lcl == pytest.approx([-u for u in e.ucl])
    assert e.first_alarm == 4  # 0.976 > 0.944789; 0.72 < 0.912266


# Montgomery, Introduction to Statistical Quality Control, table 9.1: 20 observations from
# N(10, 1), then 10 from N(11, 1). Its tabular CUSUM (k 0.5, h 5) signals at period 29 with
# C+ = 5.28, then 5.30.
MONTGOMERY_9_1 = [
    9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34,
    9.03, 11.47, 10.51, 9.40, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84,
    10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38, 11.62, 11.31, 10.52,
]  # fmt: skip


def test_cusum_on_the_textbook_data() -> None:
    c = spc.cusum(MONTGOMERY_9_1, mean=10.0, sigma=1.0, k=0.5, h=5.0)
    assert c.upper[3:5] == pytest.approx([1.16, 2.82])  # 11.66 - 10.5; + 12.16 - 10.5
    assert c.upper[28:] == pytest.approx([5.28, 5.30])
    assert c.first_alarm == 28 and c.direction == "up"
    assert max(c.lower) < 5.0
    # the same data on an EWMA (λ 0.1, L 2.7): z1 = 0.1·9.45 + 0.9·10, UCL1 = 10 + 2.7·0.1
    e = spc.ewma(MONTGOMERY_9_1, mean=10.0, sigma=1.0, lam=0.1, L=2.7)
    assert e.z[:2] == pytest.approx([9.945, 9.7495]) and e.ucl[0] == pytest.approx(10.27)
    assert e.first_alarm == 28  # z 10.6468 > 10.6187


def test_analyse_watches_only_after_the_baseline() -> None:
    # a step inside the baseline is the I chart's to show; after it, the alarms fire at once
    x = [10.0, 10.2, 9.8, 10.1, 9.9, 10.0, 10.1, 9.9, 13.0, 13.0]
    fs = spc.analyse("setdown_um", list(range(101, 111)), x, None, baseline_welds=8)
    assert fs.baseline.n == 8 and len(fs.ewma.z) == 2 and fs.unit == "µm"
    assert fs.alarm_index("ewma") == 8 and fs.alarm_id("ewma") == 109
    assert fs.alarm_id("cusum") == 109 and fs.cusum.direction == "up"
    assert fs.capability.cpk is None  # no window: no limits
    quiet = spc.analyse("setdown_um", list(range(10)), [*x[:8], 10.0, 10.1], None, 8)
    assert quiet.alarm_id("ewma") is None and quiet.alarm_id("cusum") is None


# --- on logged runs of the simulated station ----------------------------------------------------
