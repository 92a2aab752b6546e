"""The inverter weld supply: its bridge at the PWM edges, closed-form runs between feedback ticks
(the feedback loop is in `feedback`, the capacitor-discharge circuit in `cd`)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from firmware_sim.kernel.common import _INLINE
from firmware_sim.kernel.feedback import _inverter_control
from firmware_sim.kernel.layout import (
    MODE_CURRENT,
    MODE_POWER,
    MODE_VOLTAGE,
    P_DT_OVER_L,
    P_INV_INV_SPAN,
    P_INV_MODE,
    P_INV_SPAN,
    P_INV_STEPS_PER_TICK,
    P_INV_VSRC_V,
    P_L_H,
    P_RW_OHM,
    S_CTRL_ACC,
    S_CTRL_N,
    S_CURRENT_ON,
    S_DUTY,
    S_I,
    S_I_PEAK,
    S_N_FIRE,
    S_PWM_PHASE,
    S_STOP_REQ,
    S_SUPPLY_STATE,
    S_T,
    S_T_FIRE,
    S_T_I_END,
    S_T_I_START,
    SS_RUNNING,
)


@njit(**_INLINE)
def _inv_circuit(
    p: np.ndarray, r_load: float
) -> tuple[float, float, float, float, float, float, float]:
    """Return the L-R loop's constants per step: a, c1, c2, i_on (A), dt/τ, 1/(1-a), 1/(1-a²)."""
    r = r_load + p[P_RW_OHM]
    inv_r = 1.0 / r
    tau = p[P_L_H] * inv_r
    dt_tau = r * p[P_DT_OVER_L]
    one_minus_a = -math.expm1(-dt_tau)
    a = 1.0 - one_minus_a
    c1 = 2.0 * tau * one_minus_a
    c2 = 0.5 * tau * one_minus_a * (1.0 + a)
    i_on = p[P_INV_VSRC_V] * inv_r
    inv_oma = 1.0 / one_minus_a
    inv_oma2 = inv_oma / (1.0 + a)
    return a, c1, c2, i_on, dt_tau, inv_oma, inv_oma2


@njit(**_INLINE)
def _feedback_weights(p: np.ndarray, r_load: float) -> tuple[float, float]:
    """Return (f1, f2) of the feedback sample f1·i + f2·i² in the unit of P_INV_MODE (A, V or W)."""
    mode = int(p[P_INV_MODE])
    # I, V = i·R or P = i²·R, all as one expression: no branch per step.
    f1 = 1.0 if mode == MODE_CURRENT else (r_load if mode == MODE_VOLTAGE else 0.0)
    f2 = r_load if mode == MODE_POWER else 0.0
    return f1, f2


@njit(**_INLINE)
def _run_length(
    phase: float, span: float, inv_span: float, duty: float, free: int, left: int
) -> tuple[int, float]:
    """Return how many steps from phase the bridge stays fully on (1.0) or fully off (0.0)."""
    k = 0
    on_run = 0.0
    if free >= 2:
        hi = phase + span
        if hi <= duty:
            k = int((duty - phase) * inv_span)
            on_run = 1.0
        elif phase >= duty and hi <= 1.0:
            k = int((1.0 - phase) * inv_span)
        k = min(k, free, left)
    return k, on_run


@njit(**_INLINE)
def _run_sums(
    k: int,
    i_ss: float,
    x0: float,
    em: float,
    f1: float,
    f2: float,
    circuit: tuple[float, float, float, float, float, float, float],
    dt: float,
) -> tuple[float, float]:
    """Return what k steps toward i_ss (A) from i_ss + x0 add to the feedback sum and ∫i² dt."""
    _, c1, c2, _, _, inv_oma, inv_oma2 = circuit
    s1 = em * inv_oma  # Σ a^q, q < k
    s2 = em * (2.0 - em) * inv_oma2  # Σ a^2q, q < k
    acc = f1 * (k * i_ss + x0 * s1) + f2 * (k * i_ss * i_ss + 2.0 * i_ss * x0 * s1 + x0 * x0 * s2)
    i2 = k * i_ss * i_ss * dt + i_ss * x0 * c1 * s1 + x0 * x0 * c2 * s2
    return acc, i2


@njit(**_INLINE)
def _feedback_tick(
    p: np.ndarray, s: np.ndarray, r_load: float, y: float, t: float, i0: float
) -> tuple[float, bool]:
    """Run the feedback at time t (s) on the mean sample y; return the new duty and if running."""
    s[S_T] = t
    s[S_I] = i0
    _inverter_control(p, s, r_load, y, t - s[S_T_FIRE])
    duty = s[S_DUTY]
    if duty > 0.0 and s[S_CURRENT_ON] < 0.5:
        s[S_CURRENT_ON] = 1.0
        s[S_N_FIRE] += 1.0
        if s[S_T_I_START] < 0.0:
            s[S_T_I_START] = t
    return duty, s[S_SUPPLY_STATE] == SS_RUNNING


@njit(**_INLINE)
def _inv_step(
    i0: float, on: float, circuit: tuple[float, float, float, float, float, float, float], dt: float
) -> tuple[float, float, bool]:
    """Return i (A) after a step with the bridge on for its share on, its ∫i² dt, and if i ended."""
    a, c1, c2, i_on, _, _, _ = circuit
    i_ss = on * i_on
    x = i0 - i_ss
    i1 = i_ss + x * a
    if i1 < 0.0 or (on <= 0.0 and i1 < 0.05):
        # The rectifier's forward drop ends the freewheeling tail in finite time.
        return 0.0, i0 * i0 * dt / 3.0, True
    # ∫i² over the step of an exponential approach: closed form.
    return i1, i_ss * i_ss * dt + i_ss * x * c1 + x * x * c2, False


@njit(**_INLINE)
def _fast_inverter(p: np.ndarray, s: np.ndarray, r_load: float, n: int, dt: float) -> float:
    """Run n electrical steps of the inverter with the load held; return ∫i² dt (A²·s)."""
    if s[S_SUPPLY_STATE] != SS_RUNNING:
        s[S_T] += n * dt
        return 0.0
    circuit = _inv_circuit(p, r_load)
    i_on, dt_tau = circuit[3], circuit[4]
    span, inv_span = p[P_INV_SPAN], p[P_INV_INV_SPAN]
    f1, f2 = _feedback_weights(p, r_load)
    i0, phase, t = s[S_I], s[S_PWM_PHASE], s[S_T]
    acc, cnt = s[S_CTRL_ACC], s[S_CTRL_N]
    i2 = 0.0
    peak = s[S_I_PEAK]
    t_end = s[S_T_I_END]
    running = True
    duty = s[S_DUTY]
    stop = s[S_STOP_REQ] > 0.5
    steps_per_tick = p[P_INV_STEPS_PER_TICK]
    j = 0
    while j < n:
        if not running:
            t += (n - j) * dt
            break
        # A run of k steps with the bridge fully on (or fully off) and no feedback tick is the
        # same affine map k times: apply it in closed form (geometric sums), exactly as stepping
        # would, so one exp serves the run instead of k.
        free = 0 if (stop and duty > 0.0) else math.ceil(steps_per_tick - cnt) - 1
        k, on_run = _run_length(phase, span, inv_span, duty, free, n - j)
        if k >= 2:
            i_ss = on_run * i_on
            x0 = i0 - i_ss
            em = 1.0 - math.exp(-k * dt_tau)  # 1 - a^k (k·dt/τ >> 1e-13: no cancellation)
            ik = i_ss + x0 * (1.0 - em)
            if on_run > 0.0 or ik >= 0.05:
                d_acc, d_i2 = _run_sums(k, i_ss, x0, em, f1, f2, circuit, dt)
                acc += d_acc
                cnt += k
                i2 += d_i2
                if ik > 0.0:
                    t_end = t + k * dt
                i0 = ik
                peak = max(peak, i0)  # a run is monotone: its end bounds it
                phase += k * span
                if phase >= 1.0:
                    phase -= 1.0
                t += k * dt
                j += k
                continue
        # one step on its own: a feedback tick, a PWM edge inside the step, or the tail's end
        acc += (f1 + f2 * i0) * i0
        cnt += 1.0
        if cnt >= steps_per_tick or (stop and duty > 0.0):
            duty, running = _feedback_tick(p, s, r_load, acc / cnt, t, i0)
            acc = 0.0
            cnt = 0.0
        # share of this step the bridge conducts: overlap of [phase, phase+span) with the
        # carrier's on-window [0, duty) of this period and of the next
        hi = phase + span
        on = (max(0.0, min(hi, duty) - phase) + max(0.0, min(hi - 1.0, duty))) * inv_span
        phase = hi if hi < 1.0 else hi - 1.0
        i1, d_i2, ended = _inv_step(i0, on, circuit, dt)
        i2 += d_i2
        if not ended:
            t_end = t + dt
        elif duty <= 0.0:
            s[S_CURRENT_ON] = 0.0
        i0 = i1
        peak = max(peak, i0)
        t += dt
        j += 1
    s[S_T_I_END] = t_end
    s[S_I] = i0
    s[S_PWM_PHASE] = phase
    s[S_CTRL_ACC] = acc
    s[S_CTRL_N] = cnt
    s[S_I_PEAK] = peak
    s[S_T] = t
    return i2
