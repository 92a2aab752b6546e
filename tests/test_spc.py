"""SPC: capability and charts against hand computations, and a drift alarm on a wearing tip.

The logged runs go through the full controller on the simulated station in lockstep (Modbus
TCP and the stream), as `microweld run` does.
"""

from __future__ import annotations

import math
import statistics
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from controller.analysis import spc
from controller.cli.main import main
from controller.monitor.window import FEATURES, Window, load_window
from controller.qa.log import QaLog
from controller.qa.record import LoggedWeld, WeldIdentity
from controller.weld.session import WeldSession
from drivers.config.schedule import load_schedule

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = ROOT / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"
WINDOW = ROOT / "configs" / "windows" / "tc_inverter_cu100_pb200.toml"
# the wear of the tip per weld for the wearing run (mΩ): the schedules' default, written out
# so the test does not move with it. With the shipped window (energy and rms current within
# ±0.1 %) it fails a weld within about 40 welds; more would drift the run within its baseline.
WEAR_MOHM_PER_WELD = 0.0001
MAX_WELDS = 150  # the wearing run gives up here if no weld has failed


def weld_run(
    tmp: Path,
    count: int,
    schedule: str | None = None,
    window: str | None = None,
    until_fail: bool = False,
    wear: bool = False,
) -> list[LoggedWeld]:
    """Weld up to count parts on the lockstep simulated station (stopping after the first
    FAIL if until_fail; its tip wearing weld by weld if wear); return the logged welds."""
    qa = tmp / "qa.sqlite"
    station = tmp / "station.toml"
    station.write_text(
        f'name = "sim"\nkind = "sim"\nclock = "lockstep"\ntip_wear = {str(wear).lower()}\n'
        f'schedule = "{schedule or SCHEDULE}"\nwindow = "{window or WINDOW}"\n'
        f'qa_log = "{qa}"\n',
        encoding="utf-8",
    )
    with WeldSession(str(station), schedule, window, str(qa), clock="lockstep") as s:
        for k in range(count):
            res = s.weld(WeldIdentity(part_id=f"p{k:04d}"))
            if until_fail and res.result.verdict == "FAIL":
                break
    log = QaLog(qa)
    try:
        return log.welds()
    finally:
        log.close()


def worn(tmp: Path, wear_mohm_per_weld: float) -> tuple[Path, Path]:
    """Write the shipped schedule with this tip wear, and the shipped window made for it."""
    tmp.mkdir(parents=True, exist_ok=True)
    data = tomllib.loads(SCHEDULE.read_text())
    data["process"].setdefault("tip", {})["wear_mohm_per_weld"] = wear_mohm_per_weld
    sched = tmp / "schedule.toml"
    sched.write_text(tomli_w.dumps(data))
    win = tomllib.loads(WINDOW.read_text())
    # the same limits, for this version of the schedule (the session checks the hash)
    win["schedule_hash"] = load_schedule(sched).digest()
    window = tmp / "window.toml"
    window.write_text(tomli_w.dumps(win))
    return sched, window


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


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[LoggedWeld]]]:
    """30 welds on the default station (lockstep) in a QA log of their own."""
    tmp = tmp_path_factory.mktemp("spc")
    yield tmp / "qa.sqlite", weld_run(tmp, 30)


def test_cpk_of_a_logged_run_agrees_with_a_hand_computation(
    logged: tuple[Path, list[LoggedWeld]],
) -> None:
    _, welds = logged
    window: Window = load_window(WINDOW)
    assert len(welds) == 30
    checked = []
    for feature, lim in window.limits.items():
        values = [w.features[feature] for w in welds]
        if any(v is None for v in values) or lim.min is None or lim.max is None:
            continue
        x = [float(v) for v in values if v is not None]
        mean, sd = statistics.mean(x), statistics.stdev(x)  # stdev: the sample one, n - 1
        cp = (lim.max - lim.min) / (6 * sd)
        cpk = min(lim.max - mean, mean - lim.min) / (3 * sd)
        got = spc.analyse(feature, *spc.series(welds, feature), window).capability
        assert (got.n, got.lsl, got.usl) == (30, lim.min, lim.max)
        assert got.mean == pytest.approx(mean, rel=1e-12)
        assert got.sd == pytest.approx(sd, rel=1e-9)
        assert got.cp == pytest.approx(cp, rel=1e-9) and got.cpk == pytest.approx(cpk, rel=1e-9)
        checked.append(f"{feature} Cpk {cpk:.2f}")
    assert "setdown_um" in " ".join(checked) and len(checked) >= 8, checked
    print("; ".join(checked))


def test_spc_command_prints_the_table_and_writes_the_charts(
    logged: tuple[Path, list[LoggedWeld]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qa, welds = logged
    png = tmp_path / "charts"
    args = ["spc", "--qa-log", str(qa), "--baseline", "20", "--png-dir", str(png)]
    assert main([*args, "--feature", "setdown_um", "energy_j"]) == 0
    out = capsys.readouterr().out
    fs = spc.analyse("setdown_um", *spc.series(welds, "setdown_um"), load_window(WINDOW), 20)
    row = next(line for line in out.splitlines() if line.startswith("setdown_um"))
    assert " µm " in row and f"{fs.capability.cpk:.2f}" in row and "30" in row
    assert "schedule tc_inverter_cu100_pb200: 30 welds (0 FAIL" in out
    assert "ddof=1" in out and "first FAIL: none" in out
    charts = sorted(p.name for p in png.iterdir())
    assert charts == [
        "tc_inverter_cu100_pb200_energy_j.png",
        "tc_inverter_cu100_pb200_setdown_um.png",
    ]
    assert all((png / c).stat().st_size > 20_000 for c in charts)
    # every measured feature by default, no charts with an empty --png-dir
    assert main(["spc", "--qa-log", str(qa), "--png-dir", ""]) == 0
    out = capsys.readouterr().out
    assert "burn_through_ms" in out and "peak_force_n" in out and "wrote" not in out


def test_spc_command_errors_say_what_is_wrong(
    logged: tuple[Path, list[LoggedWeld]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qa, _ = logged
    assert main(["spc", "--qa-log", str(tmp_path / "none.sqlite")]) == 2
    assert "no QA log at" in capsys.readouterr().err
    assert main(["spc", "--qa-log", str(qa), "--schedule", "other", "--png-dir", ""]) == 2
    err = capsys.readouterr().err
    assert "no welds of schedule other" in err and "tc_inverter_cu100_pb200" in err
    assert main(["spc", "--qa-log", str(qa), "--feature", "setdown"]) == 2
    err = capsys.readouterr().err
    assert "unknown feature 'setdown'" in err and all(f in err for f in FEATURES)
    assert main(["spc", "--qa-log", str(qa), "--baseline", "1"]) == 2
    assert "--baseline" in capsys.readouterr().err


def test_the_simulated_tip_wears_with_every_weld_and_a_dressing_renews_it() -> None:
    from firmware_sim import kernel as K
    from firmware_sim.panel import ControlPanel
    from firmware_sim.station import Station

    sched = load_schedule(SCHEDULE)
    tip = sched.process.tip
    st = Station(sched, wear=True)
    assert st.weld.params[K.P_TIP_R0_OHM] == pytest.approx(tip.cold_resistance_mohm * 1e-3)
    st.welds_since_dressing = 1000  # as after 1000 welds fired since the last dressing
    part = st._new_weld(sched)  # the next part under the electrode
    worn_mohm = tip.cold_resistance_mohm + 1000 * tip.wear_mohm_per_weld
    assert part.params[K.P_TIP_R0_OHM] == pytest.approx(worn_mohm * 1e-3)
    reply = ControlPanel(st, []).apply({"op": "dress"})
    assert reply["ok"] and reply["welds_since_dressing"] == 0
    fresh = st._new_weld(sched)
    assert fresh.params[K.P_TIP_R0_OHM] == pytest.approx(tip.cold_resistance_mohm * 1e-3)


def failing_features(weld: LoggedWeld) -> set[str]:
    """Return the features a failed weld's reasons name."""
    return {r.split()[0] for r in weld.reasons if r.split()[0] in FEATURES}


def test_a_drift_alarm_fires_on_a_wearing_tip_before_the_first_fail(tmp_path: Path) -> None:
    sched, window = worn(tmp_path / "wear", WEAR_MOHM_PER_WELD)
    welds = weld_run(
        tmp_path / "wear", MAX_WELDS, str(sched), str(window), until_fail=True, wear=True
    )
    fail = spc.first_fail(welds)
    assert fail is not None, f"no weld failed in {len(welds)}: the tip did not wear"
    at = welds.index(fail)
    assert at >= spc.BASELINE_WELDS + 2, f"the first FAIL came inside the baseline (weld {at})"
    drifting = failing_features(fail)
    assert drifting, fail.reasons
    win = load_window(window)
    found = {}
    for feature in sorted(drifting):
        fs = spc.analyse(feature, *spc.series(welds, feature), win)
        firsts = [k for k in (fs.alarm_index("ewma"), fs.alarm_index("cusum")) if k is not None]
        found[feature] = (fs.alarm_id("ewma"), fs.alarm_id("cusum"))
        # strictly before the first FAIL (every weld before it is in the series: none aborted)
        assert firsts and min(firsts) < at, (feature, found, fail.id)
    print(f"first FAIL: weld {fail.id} {fail.reasons}; alarms (EWMA, CUSUM): {found}")

    # the same length of run with no wear: no alarm on those features
    sched, window = worn(tmp_path / "still", 0.0)
    still = weld_run(tmp_path / "still", len(welds), str(sched), str(window))
    assert len(still) == len(welds) and spc.first_fail(still) is None
    for feature in sorted(drifting):
        fs = spc.analyse(feature, *spc.series(still, feature), load_window(window))
        assert (fs.alarm_id("ewma"), fs.alarm_id("cusum")) == (None, None), feature
