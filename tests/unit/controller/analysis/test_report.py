"""controller/analysis/report.py and the report's text: counts, yield, the Pareto of FAIL
reasons, Cpk against a naive computation, NO-WELD cycles and foreign welds kept apart, the
chain's line, the warning on few welds; every figure computed here independently."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from controller.analysis import spc
from controller.analysis.report import About, compile_report, pareto, reason_kind
from controller.analysis.report_draw import schedule_lines, summary_lines
from controller.monitor.window import Window, load_window
from controller.qa.record import FIELDS, LoggedWeld
from tests.helpers.paths import WINDOWS
from tests.helpers.records import weld_record

WINDOW: Window = load_window(WINDOWS / "tc_inverter_cu100_pb200.toml")
ABOUT = About("bench-1", "lot L7 in qa.sqlite", "2026-01-02T03:04:05", "0.1.0")
FOREIGN_REASON = "foreign weld: fired by another master (weld count 9): no verdict"


def logged(k: int, verdict: str = "PASS", **fields: Any) -> LoggedWeld:
    """Return the k-th test weld as the log gives it back, with log id k."""
    rec = weld_record(k, verdict, **fields)
    return LoggedWeld(id=k, **{f: getattr(rec, f) for f in FIELDS})


def test_a_reason_s_kind_leaves_the_weld_s_own_values_out() -> None:
    assert reason_kind("setdown_um 80.2 µm above 62.25 µm") == "setdown_um above the window"
    assert reason_kind("energy_j 10.1 J below 10.3 J") == "energy_j below the window"
    assert reason_kind("setdown_pct -3.5 % below 54.75 %") == "setdown_pct below the window"
    assert reason_kind("energy_j above 12 (limit action STOP)") == "energy_j above the window"
    assert reason_kind("current_a 512.3 outside its envelope at 3.20 ms") == (
        "current_a outside its envelope"
    )
    assert reason_kind("burn_through_ms: not measured (expected 6.4 … 7.4 ms)") == (
        "burn_through_ms not measured"
    )
    assert reason_kind("event: expulsion") == "event: expulsion"
    assert reason_kind("saturated at 3.28 V") == "saturated at # V"


def test_the_pareto_counts_fail_welds_per_kind_most_first() -> None:
    above, below, event = (
        "setdown_um 7{} µm above 62 µm",
        "energy_j 9.{} J below 10.3 J",
        "event: expulsion",
    )
    welds = [
        logged(1, "FAIL", reasons=[above.format(1)]),
        logged(2, "FAIL", reasons=[above.format(2), below.format(2)]),  # counts in both
        logged(3, "FAIL", reasons=[above.format(3), above.format(4)]),  # one weld: counts once
        logged(4, "FAIL", reasons=[event]),
        logged(5, "FAIL", reasons=[below.format(5)]),
        logged(6, "FAIL", reasons=[event]),
        logged(7, "ABORTED", reasons=[event]),  # not a FAIL: not in the Pareto
        logged(8, "PASS"),
    ]
    # 3 of setdown above; 2 each of energy below and expulsion, ties in the kinds' order
    assert pareto(welds) == [
        ("setdown_um above the window", 3),
        ("energy_j below the window", 2),
        ("event: expulsion", 2),
    ]


def _run(n_pass: int, n_fail: int) -> list[LoggedWeld]:
    """n_pass PASS and n_fail FAIL welds whose energy and set-down vary with k."""
    welds = []
    for k in range(1, n_pass + n_fail + 1):
        verdict = "FAIL" if k <= n_fail else "PASS"
        features = {"energy_j": 10.30 + 0.001 * (k % 7), "setdown_um": 55.0 + (k * 37 % 11)}
        welds.append(logged(k, verdict, features=features))
    return welds


def test_counts_yield_and_cpk_of_a_schedule_agree_with_a_naive_computation() -> None:
    welds = _run(30, 4)
    # a no-weld cycle with features far out: were it taken, Cpk would fall a long way
    nw = logged(90, "NO-WELD", reasons=["no-weld cycle: force only, no current"])
    nw.features = {"energy_j": 0.0, "setdown_um": 0.0}
    ab = logged(91, "ABORTED", reasons=["E-STOP pressed"], features={"energy_j": 1.0})
    windows = {"tc_inverter_cu100_pb200": (WINDOW, "window tc")}
    rep = compile_report(ABOUT, [*welds, nw, ab], windows, [])
    (page,) = rep.schedules
    assert (len(page.of("PASS")), len(page.of("FAIL")), len(page.of("ABORTED"))) == (30, 4, 1)
    assert len(page.of("NO-WELD")) == 1 and page.made == 35  # the no-weld cycle is no weld
    assert page.yield_pct == pytest.approx(100 * 30 / 35) and rep.yield_pct == page.yield_pct
    for feature in ("energy_j", "setdown_um"):
        x = [float(w.features[feature] or 0.0) for w in welds]  # PASS and FAIL only
        lo, hi = WINDOW.limits[feature].min, WINDOW.limits[feature].max
        assert lo is not None and hi is not None
        mean, sd = statistics.mean(x), statistics.stdev(x)
        cpk = min(hi - mean, mean - lo) / (3 * sd)
        fs = next(f for f in page.features if f.feature == feature)
        assert fs.capability.n == 34 and fs.capability.cpk == pytest.approx(cpk, rel=1e-9)
    assert page.thin_capability is None
    assert not any("warning" in line for line in schedule_lines(page))
    assert rep.chain == "verified"


def test_few_welds_warn_that_cpk_is_not_to_be_trusted() -> None:
    rep = compile_report(ABOUT, _run(5, 0), {"tc_inverter_cu100_pb200": (WINDOW, "w")}, [])
    (page,) = rep.schedules
    assert page.thin_capability == 5
    warning = f"warning: Cp and Cpk from 5 welds are not to be trusted: {spc.MIN_CAPABILITY_N}"
    assert any(line.startswith(warning) for line in schedule_lines(page))


def test_a_page_per_schedule_and_foreign_welds_on_none() -> None:
    welds = [*_run(3, 1), logged(10, schedule="other"), logged(11, "FAIL", schedule="other")]
    foreign = logged(12, "ABORTED", schedule="", lot="(unknown)", reasons=[FOREIGN_REASON])
    # foreign welds at another station of a shared log are not this selection's
    elsewhere = logged(13, "ABORTED", station="bench-2", schedule="", reasons=[FOREIGN_REASON])
    rep = compile_report(ABOUT, welds, {}, [], during=[*welds, foreign, elsewhere])
    assert [s.schedule for s in rep.schedules] == ["other", "tc_inverter_cu100_pb200"]
    assert [w.id for w in rep.foreign] == [12] and len(rep.welds) == 6
    assert [s.yield_pct for s in rep.schedules] == [50.0, 75.0]
    assert rep.yield_pct == pytest.approx(100 * 4 / 6)
    text = summary_lines(rep)
    assert "1 foreign welds (fired by another master)" in text
    assert any(line.startswith("  weld 12 ") and FOREIGN_REASON in line for line in text)
    # a time selection holds its foreign welds itself
    assert [w.id for w in compile_report(ABOUT, [*welds, foreign], {}, []).foreign] == [12]


def test_the_chain_s_line_says_failed_and_why() -> None:
    problems = ["weld 3: content does not match its hash (edited?)", "weld 4: chain broken"]
    rep = compile_report(ABOUT, _run(2, 0), {}, problems)
    assert rep.chain == "failed: weld 3: content does not match its hash (edited?) (and 1 more)"
    assert f"hash chain: {rep.chain}" in summary_lines(rep)
