"""Supplies on a resistor load and the hot tip: the analytic RLC discharge, energy, truncation, and
the inverter's PI loop (regulation, ramps, current limit, anti-windup)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivers.config.schedule import load_schedule
from firmware_sim import kernel as K
from firmware_sim.model import prepare
from firmware_sim.run import run
from tests.helpers.paths import TC_CD, TC_INV
from tests.helpers.physics import simulate

# A CD supply on a shorting bar, as supplies are calibrated; 1 MHz output to resolve the peak.
CD_BAR = (
    "process.kind=resistor",
    "supply.pulse_tap=short",
    "supply.capacitance_uf=1000",
    "supply.charge_voltage_v=100",
    "supply.turns_ratio=10",
    "supply.inductance_uh=1.0",
    "supply.resistance_mohm=0.5",
    "sim.output_khz=1000",
    "supply.hold_ms=1",
)
# An ideal pulse transformer (no magnetising current, no saturation): the bank referred to the
# secondary discharges as a plain series RLC (tests/unit/firmware_sim/test_cd_transformer.py
# checks the real transformer against its own closed form).
IDEAL = "supply.ideal_transformer=true"


def analytic_peak(v0: float, r: float, ind: float, c: float) -> tuple[float, float]:
    """Return (peak current A, time of peak s) of a series RLC discharge from v0."""
    alpha = r / (2 * ind)
    w0 = 1 / math.sqrt(ind * c)
    if alpha < w0:
        wd = math.sqrt(w0 * w0 - alpha * alpha)
        tp = math.atan(wd / alpha) / wd
        ip = v0 / (wd * ind) * math.exp(-alpha * tp) * math.sin(wd * tp)
    else:
        root = math.sqrt(alpha * alpha - w0 * w0)
        s1, s2 = -alpha + root, -alpha - root
        tp = math.log(s2 / s1) / (s1 - s2)
        ip = v0 / (ind * (s1 - s2)) * (math.exp(s1 * tp) - math.exp(s2 * tp))
    return ip, tp


@pytest.mark.parametrize("load_mohm, damping", [(1.0, "under"), (40.0, "over")])
def test_cd_discharge_into_resistor_matches_series_rlc(load_mohm: float, damping: str) -> None:
    res = simulate(TC_CD, *CD_BAR, IDEAL, f"process.load_mohm={load_mohm}")
    # secondary-referred values: C' = C n², V' = V/n
    n = 10.0
    c = 1000e-6 * n * n
    v0 = 100.0 / n
    r = (load_mohm + 0.5) * 1e-3
    l_h = 1.0e-6
    zeta = r / 2 * math.sqrt(c / l_h)
    assert (zeta < 1) == (damping == "under")
    ip, tp = analytic_peak(v0, r, l_h, c)
    i = res.clean[:, K.OUT_CURRENT]
    k = int(np.argmax(i))
    start = int(np.argmax(i > 0)) - 1  # the sample before the pulse began
    t_peak = (k - start) * 1e-6
    assert i[k] == pytest.approx(ip, rel=0.01)
    assert t_peak == pytest.approx(tp, rel=0.01)
    # the load voltage is Ohm's law on the bar
    assert res.clean[k, K.OUT_VOLTAGE] == pytest.approx(i[k] * load_mohm * 1e-3, rel=1e-9)


def test_cd_energy_into_resistor_is_its_share_of_the_bank() -> None:
    # Over-damped on a bar with an SCR: the bank empties through R_load and R_winding in
    # proportion, so the load receives ½CV²·R_load/(R_load + R_w), less the SCR's holding tail.
    res = simulate(TC_CD, *CD_BAR, IDEAL, "process.load_mohm=40")
    stored = 0.5 * 1000e-6 * 100.0**2
    expect = stored * 40.0 / 40.5
    assert res.outcome.energy_j == pytest.approx(expect, rel=0.005)


def test_scr_pulse_cannot_be_cut_but_a_truncating_switch_can() -> None:
    def run_with_stop(truncatable: bool, stop: bool = True) -> tuple[np.ndarray, int]:
        overrides = [
            *CD_BAR,
            "process.load_mohm=1",
            f"supply.truncatable={str(truncatable).lower()}",
        ]
        weld = prepare(load_schedule(TC_CD, overrides))
        p, s = weld.params, weld.state
        p[K.P_AUTO_FIRE] = 1.0
        s[K.S_HEAD_MODE] = K.HEAD_APPROACH
        out = np.zeros((400_000, K.N_OUT))
        n = 0
        while s[K.S_CURRENT_ON] < 0.5:
            K.advance(p, s, out[n : n + 10], 10)
            n += 10
        K.advance(p, s, out[n : n + 200], 200)  # 200 µs into the pulse
        n += 200
        s[K.S_STOP_REQ] = 1.0 if stop else 0.0
        stop_at = n
        K.advance(p, s, out[n : n + 3000], 3000)
        return out[: n + 3000, K.OUT_CURRENT], stop_at

    cut, at = run_with_stop(True)
    assert cut[at - 1] > 100.0
    assert np.all(cut[at:] == 0.0)
    kept, at = run_with_stop(False)
    free, _ = run_with_stop(False, stop=False)
    assert kept[at + 100] > kept[at - 1]  # the SCR pulse runs on to its peak and beyond
    np.testing.assert_array_equal(kept, free)  # STOP changed nothing once the SCR fired


def test_dual_pulse_splits_the_energy() -> None:
    res = simulate(
        TC_CD,
        *CD_BAR,
        "process.load_mohm=1",
        "supply.first_pulse_pct=25",
        "supply.interpulse_ms=5",
    )
    i = res.clean[:, K.OUT_CURRENT]
    v = res.clean[:, K.OUT_VOLTAGE]
    on = i > 0
    edges = np.flatnonzero(np.diff(on.astype(int)) == 1)
    assert len(edges) == 2, "two separate pulses"
    first = edges[1]  # first sample of pulse 2
    e1 = float(np.sum(i[:first] * v[:first]) * 1e-6)
    e2 = float(np.sum(i[first:] * v[first:]) * 1e-6)
    assert e1 / (e1 + e2) == pytest.approx(0.25, abs=0.01)
    assert (edges[1] - edges[0]) * 1e-6 == pytest.approx(5e-3, abs=2e-6)


@pytest.mark.parametrize(
    "mode, key, setpoint, measure",
    [
        ("current", "weld1_current_a", 400.0, lambda i, v: i),
        ("voltage", "weld1_voltage_v", 2.0, lambda i, v: v),
        ("power", "weld1_power_w", 800.0, lambda i, v: i * v),
    ],
)
def test_inverter_regulates_each_feedback_mode(mode, key, setpoint, measure) -> None:
    res = simulate(
        TC_INV,
        "process.kind=resistor",
        "process.load_mohm=5",
        f"supply.mode={mode}",
        "~supply.weld1_voltage_v",
        f"supply.{key}={setpoint}",
        "supply.up1_ms=0",
        "supply.weld1_ms=10",
        "supply.squeeze_ms=0",
    )
    i = res.clean[:, K.OUT_CURRENT]
    v = res.clean[:, K.OUT_VOLTAGE]
    start = int(np.argmax(i > 0))
    # settled part of weld1: from 2 ms to 9 ms after the current starts, at 50 kHz
    y = measure(i[start + 100 : start + 450], v[start + 100 : start + 450])
    assert float(np.mean(y)) == pytest.approx(setpoint, rel=0.02)
    assert float(np.std(y)) < 0.05 * setpoint  # PWM ripple stays small behind the inductance


def test_inverter_stops_within_one_control_period() -> None:
    weld = prepare(load_schedule(TC_INV, ["process.kind=resistor", "sim.output_khz=1000"]))
    p, s = weld.params, weld.state
    p[K.P_AUTO_FIRE] = 1.0
    s[K.S_HEAD_MODE] = K.HEAD_APPROACH
    out = np.zeros((1, K.N_OUT))
    while not (s[K.S_FIRE] > 0.5 and s[K.S_T] - s[K.S_T_FIRE] > 15e-3):
        K.advance(p, s, out, 1)
    assert s[K.S_DUTY] > 0.0 and s[K.S_I] > 100.0
    s[K.S_STOP_REQ] = 1.0
    period = p[K.P_INV_CTRL_PERIOD_S]
    steps = round(period / p[K.P_DT_S])
    currents = []
    for _ in range(steps):
        K.advance(p, s, out, 1)
        currents.append(out[0, K.OUT_CURRENT])
    assert s[K.S_DUTY] == 0.0, "PWM off within one 40 µs control period"
    # with the bridge off the current only decays (freewheeling), and then ends
    assert np.all(np.diff(currents) <= 0.0)
    K.advance(p, s, np.zeros((6000, K.N_OUT)), 6000)  # the L/R tail (≈0.36 ms) dies out
    assert s[K.S_I] == 0.0


# The inverter's PI loop (firmware_sim/kernel/feedback.py). The goal, a real supply's: the
# regulated quantity within about 10 % of its setpoint (Amada/Miyachi HF-2500A class, 990-371).
# Measured on the kernel's clean output at 50 kHz: current, voltage i·R_load, power v·i. The
# regulated quantity is the mean; the bridge's ripple rides on it at the output pulse rate
# (40 kHz), so `steady` averages 5 samples (100 µs = 4 output pulse periods, which it cancels).
RESISTOR = ("process.kind=resistor", "process.load_mohm=5")
SETPOINT = {"current": "weld1_current_a", "voltage": "weld1_voltage_v", "power": "weld1_power_w"}
UP_MS = (0.0, 1.0)


def regulated(mode: str, value: float, *overrides: str) -> tuple[np.ndarray, ...]:
    """Run TC_INV in `mode` at `value` (A, V or W); return t since the up-slope's end (s), the
    quantity's raw samples, their 100 µs mean, and the current (A)."""
    weld = prepare(
        load_schedule(
            TC_INV,
            [
                f"supply.mode={mode}",
                "~supply.weld1_voltage_v",
                f"supply.{SETPOINT[mode]}={value}",
                *overrides,
            ],
        )
    )
    res = run(weld)
    sup = weld.schedule.supply
    i = res.clean[:, K.OUT_CURRENT]
    v = res.clean[:, K.OUT_VOLTAGE]
    y = {"current": i, "voltage": v, "power": i * v}[mode]
    steady = np.convolve(y, np.ones(5) / 5.0, mode="same")
    t = res.t_s - weld.state[K.S_T_FIRE] - (sup.squeeze_ms + sup.up1_ms) * 1e-3
    return t, y, steady, i


def settling_s(t: np.ndarray, y: np.ndarray, setpoint: float, until_s: float) -> float:
    """Return when y last left ±5 % of the setpoint before until_s (s after the up-slope)."""
    out = np.flatnonzero((t > 0.0) & (t < until_s) & (np.abs(y - setpoint) > 0.05 * setpoint))
    return float(t[out[-1]]) if len(out) else 0.0


CASES = [
    ("resistor", "current", 200.0, RESISTOR),
    ("resistor", "voltage", 2.1, RESISTOR),
    ("resistor", "power", 800.0, RESISTOR),
    ("tip", "voltage", 2.1, ()),  # the shipped schedule (with its 1 ms up-slope)
    # about its final current and power at 2.1 V (the tip of phys-thermo's calibration, 4.5 mΩ
    # at 20 °C: 153 A, 320 W; 200 A would run it away, I²·R0·α above its 0.70 W/K sink)
    ("tip", "current", 150.0, ()),
    ("tip", "power", 320.0, ()),
]


@pytest.mark.parametrize("up_ms", UP_MS)
@pytest.mark.parametrize("load, mode, value, overrides", CASES)
def test_inverter_step_overshoots_under_10_pct_and_settles_within_1_ms(
    load: str, mode: str, value: float, overrides: tuple[str, ...], up_ms: float
) -> None:
    """A step (up1 0) and a 1 ms up-slope, on a 5 mΩ resistor and on the hot Mo tip: the mean
    stays within 10 % above its setpoint and is within ±5 % (and stays) 1 ms after the slope.

    Tolerance: the HF-2500A class regulates within about 10 % (990-371). The raw samples carry
    the PWM ripple on top (±1.5 % of a voltage, up to ±7 % of a power on the tip): 12 %. Before
    the PI (main at 7e72f7b) the 200 A step on the resistor peaked at 359 A (+80 %) and the
    shipped schedule's tip voltage at 2.85 V (+36 %), 1.9 ms to within ±5 %.
    """
    t, y, steady, _ = regulated(mode, value, *overrides, f"supply.up1_ms={up_ms}")
    weld_s = 24e-3
    during = (t > -up_ms * 1e-3) & (t < weld_s)
    assert steady[during].max() <= 1.10 * value
    assert y[during].max() <= 1.12 * value
    assert settling_s(t, steady, value, weld_s) <= 1e-3
    # and the up-slope is tracked from below: no sample of the mean above its ramping setpoint
    if up_ms > 0.0:
        ramp = (t > -up_ms * 1e-3) & (t < 0.0)
        target = value * (1.0 + t[ramp] / (up_ms * 1e-3))  # linear in A, V or W
        assert np.all(steady[ramp] <= target + 0.05 * value)


@pytest.mark.parametrize(
    "mode, value, overrides, limit_a",
    [
        # a near short in constant voltage: 0.8 V asks 4 kA of 0.2 mΩ; the default limit holds
        ("voltage", 0.8, ("process.kind=resistor", "process.load_mohm=0.2"), 2000.0),
        # constant power: 800 W on 5 mΩ asks 400 A
        ("power", 800.0, (*RESISTOR, "supply.current_limit_a=300"), 300.0),
        # the cold tip in constant voltage draws 700 A at first
        ("voltage", 2.1, ("supply.current_limit_a=400",), 400.0),
    ],
)
def test_inverter_current_limit_holds_in_every_mode(
    mode: str, value: float, overrides: tuple[str, ...], limit_a: float
) -> None:
    """The supply's current limit caps the current whatever the mode asks: the current's mean
    within 2 % of the limit, its samples (the PWM ripple on top) within 4 % (design: the loop
    does not overshoot its reference, here the limit)."""
    t, _, _, i = regulated(mode, value, *overrides)
    steady = np.convolve(i, np.ones(5) / 5.0, mode="same")
    assert i.max() <= 1.04 * limit_a
    assert steady.max() <= 1.02 * limit_a
    if mode != "voltage" or limit_a > 1000.0:  # (the tip's demand falls below 400 A as it heats)
        held = (t > 1e-3) & (t < 20e-3)
        assert np.mean(steady[held]) == pytest.approx(limit_a, rel=0.02)


def test_inverter_leaves_saturation_without_windup() -> None:
    """Weld 1 asks 100 A of 40 mΩ, more than the bus can drive (3.8 V / 40.5 mΩ = 94 A): the duty
    sits at its limit for 5 ms. Weld 2 then asks 50 A: the current comes down to it without
    undershooting by more than 10 % and is within ±5 % after 1 ms (an integrator wound up over
    the 5 ms would hold the duty high and then dive)."""
    t, _, steady, _ = regulated(
        "current",
        100.0,
        "process.kind=resistor",
        "process.load_mohm=40",
        "supply.up1_ms=0",
        "supply.weld1_ms=5",
        "supply.weld2_ms=5",
        "supply.weld2_current_a=50",
    )
    at_limit = (t > 1e-3) & (t < 5e-3)
    assert np.mean(steady[at_limit]) == pytest.approx(0.95 * 48.0 / 12.0 / 40.5e-3, rel=0.02)
    t2 = t - 5e-3
    assert steady[(t2 > 0.0) & (t2 < 5e-3)].min() >= 45.0
    assert settling_s(t2, steady, 50.0, 5e-3) <= 1e-3


def test_inverter_refuses_a_current_setpoint_above_its_limit() -> None:
    with pytest.raises(ValueError, match="above current_limit_a"):
        load_schedule(
            TC_INV,
            [
                "supply.mode=current",
                "~supply.weld1_voltage_v",
                "supply.weld1_current_a=600",
                "supply.current_limit_a=500",
            ],
        )
