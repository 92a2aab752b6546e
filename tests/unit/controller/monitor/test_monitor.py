"""The streaming monitor and process windows on simulated welds (physics used in tests only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from controller.monitor.monitor import Monitor
from controller.monitor.teach import TeachError, teach
from controller.monitor.window import MonitorSettings, Window, load_window
from drivers.config.loader import ConfigError
from drivers.config.schedule import load_schedule
from tests.helpers.paths import DIRECT, TC_CD, TC_INV
from tests.helpers.physics import simulate

TC_SETTINGS = MonitorSettings(firing_n=11.0, wire_diameter_um=100.0)
NI_SETTINGS = MonitorSettings(firing_n=29.0, wire_diameter_um=800.0)


def watch(
    path: Path,
    *sets: str,
    seed: int = 0,
    window: Window | None = None,
    settings: MonitorSettings | None = None,
    block: int = 50,
) -> tuple[Monitor, object]:
    res = simulate(path, *sets, seed=seed)
    mon = Monitor(window=window, settings=settings)
    for k in range(0, len(res.measured), block):
        mon.feed(np.ascontiguousarray(res.measured[k : k + block]))
    return mon, res


@pytest.mark.parametrize(
    ("path", "sets"),
    [
        (TC_INV, "supply.weld1_voltage_v=1.8"),
        (TC_INV, "supply.weld1_voltage_v=2.4"),
        (TC_INV, "supply.weld1_voltage_v=3.0"),
        # (the CD bank: 2000 µF, its pulse ends as the transformer's core saturates)
        (TC_CD, "supply.charge_voltage_v=90"),
        (TC_CD, "supply.charge_voltage_v=140"),
    ],
)
def test_setdown_within_2_um_of_ground_truth(path: Path, sets: str) -> None:
    mon, res = watch(path, sets, settings=TC_SETTINGS)
    assert mon.features()["setdown_um"] == pytest.approx(res.outcome.setdown_um, abs=2.0)


@pytest.mark.parametrize(
    ("path", "sets"),
    # (from 1.75 V the enamel gives way within the 24 ms pulse on every part: at 1.7 V on some
    # parts only in its last millisecond, on others not at all; below, after the current or never)
    [(TC_INV, f"supply.weld1_voltage_v={v}") for v in (1.75, 1.8, 2.1, 2.4, 2.7, 3.0, 3.3)]
    + [(TC_CD, f"supply.charge_voltage_v={v}") for v in (80, 90, 100, 120, 140, 160)],
)
def test_burn_through_within_half_a_millisecond_of_ground_truth(path: Path, sets: str) -> None:
    for seed in (0, 1, 2):
        mon, res = watch(path, sets, seed=seed, settings=TC_SETTINGS)
        got = mon.features()["burn_through_ms"]
        assert got is not None
        assert got == pytest.approx(res.outcome.burn_through_ms, abs=0.5)


def test_no_burn_through_where_none_happened() -> None:
    for sets in ("supply.weld1_voltage_v=1.3", "process.missing_wire=true"):
        mon, res = watch(TC_INV, sets, settings=TC_SETTINGS)
        assert res.outcome.burn_through_ms is None
        assert mon.features()["burn_through_ms"] is None


@pytest.fixture(scope="module")
def tc_window() -> Window:
    mons = [watch(TC_INV, seed=s, settings=TC_SETTINGS)[0] for s in range(30)]
    digest = load_schedule(TC_INV).digest()
    return teach(
        "tc",
        TC_INV.stem,
        [digest] * 30,
        [m.features() for m in mons],
        [m.traces() for m in mons],
        k_sigma=4.0,
        step_ms=0.1,
        monitor=TC_SETTINGS,
    )


@pytest.fixture(scope="module")
def ni_window() -> Window:
    mons = [watch(DIRECT, seed=s, settings=NI_SETTINGS)[0] for s in range(30)]
    digest = load_schedule(DIRECT).digest()
    return teach(
        "ni",
        DIRECT.stem,
        [digest] * 30,
        [m.features() for m in mons],
        [m.traces() for m in mons],
        k_sigma=4.0,
        step_ms=0.1,
        monitor=NI_SETTINGS,
    )


def test_a_window_taught_from_30_good_welds_passes_30_new_ones(
    tc_window: Window, ni_window: Window
) -> None:
    for path, window in ((TC_INV, tc_window), (DIRECT, ni_window)):
        results = [watch(path, seed=100 + s, window=window)[0].finish() for s in range(30)]
        failed = [r.reasons for r in results if r.verdict != "PASS"]
        assert not failed, failed
        assert window.taught_from == 30 and window.schedule_hash


@pytest.mark.parametrize(
    ("sets", "defect", "reason"),
    [
        # a late burn-through (at 24 ms of the 24 ms pulse) or none at all: the enamel's doing
        ("supply.weld1_voltage_v=1.75", "enamel_residue", "burn_through_ms"),
        ("supply.weld1_voltage_v=1.3", "enamel_residue", "burn_through_ms: not measured"),
        # (from about 2.7 V set-down passes the over-deformation limit; from 2.9 V the wire is cut)
        ("supply.weld1_voltage_v=2.7", "over_deformation", "setdown_um"),
        ("process.missing_wire=true", "missing_wire", "setdown_um 0."),
    ],
)
def test_defects_fail_with_the_right_reason(
    tc_window: Window, sets: str, defect: str, reason: str
) -> None:
    mon, res = watch(TC_INV, sets, seed=7, window=tc_window)
    assert res.outcome.defect == defect
    result = mon.finish()
    assert result.verdict == "FAIL"
    assert any(r.startswith(reason) for r in result.reasons), result.reasons
    assert len(result.reasons) > 1  # every reason, not only the first


def test_over_deformation_says_set_down_too_high(tc_window: Window) -> None:
    mon, _ = watch(TC_INV, "supply.weld1_voltage_v=2.7", seed=7, window=tc_window)
    assert any("setdown_um" in r and "above" in r for r in mon.finish().reasons)


def test_expulsion_fails_with_its_event(ni_window: Window) -> None:
    mon, res = watch(DIRECT, "supply.charge_voltage_v=40", seed=7, window=ni_window)
    assert res.outcome.defect == "expulsion"
    result = mon.finish()
    assert result.verdict == "FAIL" and "event: expulsion" in result.reasons


def test_setdown_target_orders_a_stop_in_the_block_it_is_reached() -> None:
    res = simulate(TC_INV)
    settings = MonitorSettings(firing_n=11.0, setdown_target_um=45.0)
    mon = Monitor(settings=settings)
    seen: dict[str, float] = {}
    stop_at = None
    for k in range(0, len(res.measured), 50):
        block = np.ascontiguousarray(res.measured[k : k + 50])
        decision = mon.feed(block)
        seen.update(dict(decision.events))
        if decision.stop:
            stop_at = k
            assert decision.reasons == ("set-down target reached",)
            assert mon.features()["setdown_um"] >= 45.0
            break
    assert stop_at is not None
    assert {
        "contact",
        "firing force",
        "current on",
        "burn-through",
        "set-down target",
        "stop",
    } <= set(seen)
    assert seen["contact"] < seen["firing force"] < seen["current on"] < seen["stop"]


def test_teach_refuses_too_few_or_mixed_welds() -> None:
    feats = [{"energy_j": 1.0}] * 5
    with pytest.raises(TeachError, match="at least 10"):
        teach("w", "s", ["a"] * 5, feats, [{}] * 5, 3.0, 0.1, TC_SETTINGS)
    with pytest.raises(TeachError, match="2 different schedules"):
        teach(
            "w",
            "s",
            ["a"] * 6 + ["b"] * 6,
            [{"energy_j": 1.0}] * 12,
            [{}] * 12,
            3.0,
            0.1,
            TC_SETTINGS,
        )


def test_window_files_round_trip_and_bad_ones_are_refused(
    tc_window: Window, tmp_path: Path
) -> None:
    import tomllib

    import tomli_w

    good = tmp_path / "w.toml"
    good.write_text(tomli_w.dumps(tc_window.model_dump(mode="json", exclude_none=True)))
    assert load_window(good).digest() == tc_window.digest()
    data = tomllib.loads(good.read_text())
    data["limits"]["setdown_mm"] = {"min": 1.0}
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps(data))
    with pytest.raises(ConfigError) as info:
        load_window(bad)
    assert str(bad) in str(info.value) and "setdown_mm" in str(info.value)


def test_limit_actions_stop_now_or_inhibit_the_next_weld(tc_window: Window) -> None:
    from controller.monitor.window import Limit

    window = tc_window.model_copy(deep=True)
    window.limits["energy_j"] = Limit(max=4.0, action="stop")
    window.limits["setdown_um"] = Limit(min=0.0, max=20.0, action="inhibit")
    res = simulate(TC_INV)
    mon = Monitor(window=window)
    stops = []
    for k in range(0, len(res.measured), 50):
        decision = mon.feed(np.ascontiguousarray(res.measured[k : k + 50]))
        if decision.stop:
            stops.append((k, decision.reasons, mon.features()["energy_j"]))
    (k, reasons, energy) = stops[0]
    assert reasons == ("energy_j above 4 (limit action STOP)",)
    assert 4.0 < energy < 4.0 + 0.6  # within the block where it crossed (≈0.4 J per ms)
    assert len(stops) == 1
    result = mon.finish()
    assert result.verdict == "FAIL" and result.inhibit


def test_a_reason_tells_a_value_just_outside_from_its_limit(tc_window: Window) -> None:
    from controller.monitor.window import Limit, judge

    window = tc_window.model_copy(deep=True)
    window.limits = {"rms_current_a": Limit(min=206.14), "energy_j": Limit(max=4.0)}
    reasons = judge(window, {"rms_current_a": 206.1352, "energy_j": 4.5})
    # at 4 figures both read 206.1; the figures needed to tell them apart are shown
    assert reasons == ["rms_current_a 206.135 A below 206.14 A", "energy_j 4.5 J above 4 J"]


def test_a_block_of_the_wrong_width_is_refused() -> None:
    mon = Monitor()
    with pytest.raises(ValueError, match="4 columns"):
        mon.feed(np.zeros((50, 5)))
    assert mon.n == 0


def test_display_rows_are_the_record_in_operator_units() -> None:
    # what the GUI draws, block by block, against the stream and the kernel's own R and P
    from controller.monitor import kernels as K

    res = simulate(TC_INV)
    sig = np.ascontiguousarray(res.measured)
    mon = Monitor(settings=TC_SETTINGS)
    rows, touching = [], []
    for k in range(0, len(sig), 50):
        mon.feed(np.ascontiguousarray(sig[k : k + 50]))
        rows.append(mon.display(50))
        touching.append(np.full(len(rows[-1]), mon.q[K.Q_CONTACT] > 0.5))
    out, touch = np.concatenate(rows), np.concatenate(touching)
    r, p = np.empty(len(sig)), np.empty(len(sig))
    K.monitor_block(mon.mp, K.new_state(), sig, mon.env_lo, mon.env_hi, r, p)
    assert out.shape == (len(sig), 7)
    np.testing.assert_array_equal(out[:, 0], np.arange(len(sig)) * mon.dt_s)
    np.testing.assert_array_equal(out[:, [1, 2, 5]], sig[:, [0, 1, 2]])
    np.testing.assert_array_equal(out[:, 3], r * 1e3)
    np.testing.assert_array_equal(out[:, 4], p)
    assert touch.any() and not touch.all()
    assert (out[~touch, 6] == 0.0).all()
    np.testing.assert_array_equal(out[touch, 6], mon.q[K.Q_X_CONTACT] - sig[touch, 3])
    np.testing.assert_array_equal(mon.wave(), sig)
    assert mon.display(10**6).shape == (len(sig), 7)  # no more than the record holds


# --- a channel at the stream's full scale: not judged on it, FAIL with or without a window


def _weld(monitor: Monitor) -> None:
    block = np.zeros((50, 4))
    block[10:40, 0], block[10:40, 1], block[:, 2], block[:, 3] = 200.0, 1.0, 10.0, 300.0
    monitor.feed(block)


def test_a_clipped_channel_fails_the_weld_naming_it() -> None:
    monitor = Monitor()
    _weld(monitor)
    assert monitor.finish().verdict == "PASS"  # no window, nothing clipped
    monitor.saturated((1,))
    monitor.saturated((1, 2))
    result = monitor.finish()
    assert result.verdict == "FAIL"
    assert result.reasons == ["saturated: force_n, voltage_v at the stream's full scale"]


def test_the_envelope_allows_the_burn_throughs_spread_in_time() -> None:
    """Set-down steps up at burn-through, whose time spreads from part to part (σ 0.4 ms here).
    A part whose burn-through is 3σ early is inside the window's burn_through_ms limit (±4σ),
    so the envelope must not fail it for the steep step that follows: it is widened in time by
    k·σ of the burn-through. (Pointwise bands alone failed such a part: the shipped window
    failed a drawn part with the thinnest enamel of its grade, and the strongest joint.)"""
    rng = np.random.default_rng(3)
    t_ms = np.arange(0.0, 20.0, 0.02)

    def trace(burn_ms: float) -> dict[str, np.ndarray]:
        setdown = 20.0 + 35.0 / (1.0 + np.exp(-(t_ms - burn_ms) / 0.1))
        return {"setdown_um": setdown + rng.normal(0.0, 0.2, t_ms.size)}

    burns = rng.normal(10.0, 0.4, 30)
    feats = [{"burn_through_ms": float(b)} for b in burns]
    window = teach("w", "s", ["a"] * 30, feats, [trace(b) for b in burns], 4.0, 0.1, TC_SETTINGS)
    early = float(burns.mean() - 3.0 * burns.std(ddof=1))
    limit = window.limits["burn_through_ms"]
    assert limit.min <= early <= limit.max
    band = window.envelope.setdown_um
    assert band is not None
    steps = trace(early)["setdown_um"][: len(band.lo) * 5].reshape(-1, 5)
    assert np.all(steps.min(axis=1) >= np.array(band.lo)) and np.all(
        steps.max(axis=1) <= np.array(band.hi)
    )
