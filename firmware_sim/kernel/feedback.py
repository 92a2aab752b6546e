"""The inverter's feedback: the segments' setpoint and the PI loop that sets the PWM duty.

The loop runs once per feedback period T (40 µs at 25 kHz, as the HF-2500A class samples:
Amada 990-371 appendix E) on the period's mean measurement, and holds the duty until the next
tick; between ticks `supply._fast_inverter` applies the bridge in closed form.

Design. The plant seen by the duty D is the secondary loop, first order: L di/dt = D·Vbus −
R·i with R = R_load + R_w, so i settles to D·Vbus/R with τ = L/R (2 µH on 3.5 mΩ: 0.57 ms). Per
tick, with the duty held, i(k+1) = a·i(k) + (1 − a)·D(k)·Vbus/R, a = exp(−T/τ). Each mode is
regulated in its linearised unit q = m·i: the current (m = 1), the voltage i·R_load (m =
R_load), or sqrt(P) = i_rms·sqrt(R_load) (sqrt linearises P = i²·R_load), R_load being the
supply's own V/I. The duty that holds q is q·R/(Vbus·m): the loop scales its command by that
every tick (gain scheduling on the measured R, as the HF-2500A's resistance-indexed PID tables:
990-371 appendix E, RINDEX), so the loop it sees is the same on every load. The current limit
caps the setpoint at m·I_max in every mode.

The PI is D(k) = (Kp·e(k) + I(k))·R/(Vbus·m), I(k+1) = I(k) + g·e(k) (e and I in q's unit),
with Kp = g/(1 − a): its zero, at 1 − g/Kp = a, cancels the plant's pole, so the open loop is
g/(z − 1) times the measurement's lag, and g alone sets the response. The measurement is the
period's mean, about half a tick old; with a full tick's delay (the brief's model of it) the
closed loop is z² − z + g = 0, critically damped at g = 1/4 (a double pole at z = 1/2). g = 0.25
is that point. Stepped tick by tick with the exact lag and the period's mean as the
measurement, a step does not overshoot and is within 5 % after ten ticks (0.4 ms), for a from
0.78 to 0.93 (12 to 3.5 mΩ on 2 µH); the first overshoot comes past g ≈ 0.45, and a further
whole tick of delay on top of the mean gives 4 % at g = 0.25: margin for the PWM's phase and an
R that changes under the loop. The loop is type 1: a ramping setpoint lags by its slope/ω_c (ω_c
= g/T ≈ 6000 1/s) and meets the plateau from below, without overshoot. What remains is the
load's own speed: a cold Mo tip stepped to 2.1 V doubles its R in about a millisecond, v = i·R
rises with R at once while i can only fall at i/τ, and its voltage overshoots by about 8 %.

Anti-windup. The cancelled loop keeps I equal to the q that the present current gives (the
difference decays by a per tick). Whenever the PI's output is not applied — the duty clamped at
0 or at the bus limit P_INV_DUTY_MAX, or the supply off between segments — the integral is set
to the q of the current due at the next tick, when that integral will be used (tracking
back-calculation): the loop leaves a limit in the state it would have had unsaturated. That
current is the period's mean carried on by the plant model, half a period to this tick and one
more under the duty just set: the mean itself, 30 A and a period behind a saturated rise, left
an error that the cancelled pole let decay only with τ (a CC step from saturation 6 % short at
0.5 ms, 1 % still at 1 ms).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from firmware_sim.kernel.common import _INLINE
from firmware_sim.kernel.layout import (
    MODE_CURRENT,
    MODE_POWER,
    MODE_VOLTAGE,
    P_INV_CTRL_PERIOD_S,
    P_INV_DUTY_MAX,
    P_INV_GAIN,
    P_INV_I_MAX_A,
    P_INV_MODE,
    P_INV_VSRC_V,
    P_L_H,
    P_RW_OHM,
    P_SEG_COOL_S,
    P_SEG_DOWN1_S,
    P_SEG_DOWN2_S,
    P_SEG_HOLD_S,
    P_SEG_SQUEEZE_S,
    P_SEG_UP1_S,
    P_SEG_UP2_S,
    P_SEG_WELD1_S,
    P_SEG_WELD2_S,
    P_SP1,
    P_SP2,
    S_DUTY,
    S_I,
    S_INV_INTEG,
    S_SEG_IDX,
    S_STOP_REQ,
    S_SUPPLY_STATE,
    S_T,
    S_T_SUPPLY_END,
    SS_DONE,
)


@njit(**_INLINE)
def _seg_setpoint(p: np.ndarray, t: float) -> tuple[float, int]:
    """Inverter setpoint at time t since fire, and the segment index (9 = finished)."""
    edges = (
        p[P_SEG_SQUEEZE_S],
        p[P_SEG_UP1_S],
        p[P_SEG_WELD1_S],
        p[P_SEG_DOWN1_S],
        p[P_SEG_COOL_S],
        p[P_SEG_UP2_S],
        p[P_SEG_WELD2_S],
        p[P_SEG_DOWN2_S],
        p[P_SEG_HOLD_S],
    )
    t0 = 0.0
    for k in range(9):
        dur = edges[k]
        if t < t0 + dur:
            x = (t - t0) / dur
            if k == 1:
                return p[P_SP1] * x, k
            if k == 2:
                return p[P_SP1], k
            if k == 3:
                return p[P_SP1] * (1.0 - x), k
            if k == 5:
                return p[P_SP2] * x, k
            if k == 6:
                return p[P_SP2], k
            if k == 7:
                return p[P_SP2] * (1.0 - x), k
            return 0.0, k
        t0 += dur
    return 0.0, 9


@njit(**_INLINE)
def _scale(mode: int, rl: float) -> float:
    """Return the mode's regulated unit per ampere on the load rl (Ω): 1, R_load or sqrt(R_load)
    (the regulated quantity linearised: A, V, or sqrt(W) = the rms current times sqrt(R))."""
    if mode == MODE_CURRENT:
        return 1.0
    if mode == MODE_VOLTAGE:
        return rl
    return math.sqrt(rl)


@njit(**_INLINE)
def _next_current(
    p: np.ndarray, r_tot: float, a: float, i_mean: float, applied: float, duty: float
) -> float:
    """Return the current (A) due at the next tick from the period's mean i_mean (A), the duty
    applied over that period and the duty now set for the next one (the plant model's)."""
    # The mean lags the current at this tick by about half a period (30 A on a 1.5 A/µs rise);
    # the model carries it to this tick, then over the coming period under `duty`.
    x = p[P_INV_CTRL_PERIOD_S] * r_tot / p[P_L_H]  # T/τ
    i_on = p[P_INV_VSRC_V] / r_tot  # A at full duty
    i_now = applied * i_on + (i_mean - applied * i_on) * a * x / (1.0 - a)
    return max(duty * i_on + (i_now - duty * i_on) * a, 0.0)


@njit(**_INLINE)
def _inverter_control(p: np.ndarray, s: np.ndarray, r_load: float, y: float, tf: float) -> None:
    """Update the PWM duty at a feedback tick from the period's mean measurement y."""
    sp, seg = _seg_setpoint(p, tf)
    stop = s[S_STOP_REQ] > 0.5
    s[S_SEG_IDX] = seg
    d_max = p[P_INV_DUTY_MAX]
    mode = int(p[P_INV_MODE])
    rl = max(r_load, 1e-6)
    r_tot = r_load + p[P_RW_OHM]
    # every quantity below in the mode's linearised unit q (A, V or sqrt(W)): q = m·i
    m = _scale(mode, rl)
    q = math.sqrt(max(y, 0.0)) if mode == MODE_POWER else y
    to_duty = r_tot / (p[P_INV_VSRC_V] * m)  # the duty that holds one unit of q
    g = p[P_INV_GAIN]
    one_minus_a = -math.expm1(-p[P_INV_CTRL_PERIOD_S] * r_tot / p[P_L_H])
    applied = s[S_DUTY]
    tracking = True
    if stop or sp <= 0.0 or seg not in (1, 2, 3, 5, 6, 7):
        duty = 0.0
    else:
        q_sp = math.sqrt(sp) if mode == MODE_POWER else sp
        e = min(q_sp, m * p[P_INV_I_MAX_A]) - q
        # The integral joins after this tick's output, u = Kp·e + I(k), so C(z)'s zero sits at
        # 1 − g/Kp = a exactly (added first, it sits at 1/(2 − a) and leaves a slow τ tail).
        duty = (g / one_minus_a * e + s[S_INV_INTEG]) * to_duty
        integ = s[S_INV_INTEG] + g * e
        tracking = duty > d_max or duty < 0.0
        duty = min(max(duty, 0.0), d_max)
    if tracking:
        # anti-windup: the integral tracks the quantity due at the next tick (module docstring)
        integ = m * _next_current(p, r_tot, 1.0 - one_minus_a, q / m, applied, duty)
    s[S_DUTY] = duty
    s[S_INV_INTEG] = integ
    if (seg >= 9 or stop) and s[S_I] <= 0.0 and duty <= 0.0:
        s[S_SUPPLY_STATE] = SS_DONE
        s[S_T_SUPPLY_END] = s[S_T]
