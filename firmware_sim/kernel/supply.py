"""The weld supplies: the capacitor-discharge (CD) circuit and the inverter's bridge (its feedback
loop is in `feedback`)."""

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
    P_CD_C_F,
    P_CD_HOLD_A,
    P_CD_T2_S,
    P_CD_TRUNCATABLE,
    P_CD_V1,
    P_CD_V2,
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
    S_PULSE_IDX,
    S_PWM_PHASE,
    S_STOP_REQ,
    S_SUPPLY_STATE,
    S_T,
    S_T_FIRE,
    S_T_I_END,
    S_T_I_START,
    S_T_SUPPLY_END,
    S_VC,
    SS_DONE,
    SS_RUNNING,
)


@njit(**_INLINE)
def _rk4_map(
    r: float, ll: float, c: float, h: float
) -> tuple[float, float, float, float, float, float]:
    """Return RK4's step h (s) of the RLC, linear in (i A, vc V): M by rows, then its midpoint i."""
    # RK4 of the linear RLC with R frozen is a fixed 2x2 map: precompute it once per block.
    # x' = A x with x = (i, vc): A = [[-r/L, 1/L], [-1/C, 0]]
    a11, a12, a21 = -r / ll, 1.0 / ll, -1.0 / c
    # M = I + hA + (hA)^2/2 + (hA)^3/6 + (hA)^4/24, built by Horner on 2x2 matrices
    m11, m12, m21, m22 = 1.0, 0.0, 0.0, 1.0
    for k in (4.0, 3.0, 2.0, 1.0):
        # M <- I + (h/k) A M
        n11 = 1.0 + h / k * (a11 * m11 + a12 * m21)
        n12 = h / k * (a11 * m12 + a12 * m22)
        n21 = h / k * (a21 * m11)
        n22 = 1.0 + h / k * (a21 * m12)
        m11, m12, m21, m22 = n11, n12, n21, n22
    # RK4's midpoint current (i_a + i_b)/2 is linear in (i, vc) too; Simpson on i² uses it.
    q = 0.5 * h
    ia_i, ia_v = 1.0 + q * a11, q * a12
    va_i, va_v = q * a21, 1.0
    ib_i = 1.0 + q * (a11 * ia_i + a12 * va_i)
    ib_v = q * (a11 * ia_v + a12 * va_v)
    mid_i, mid_v = 0.5 * (ia_i + ib_i), 0.5 * (ia_v + ib_v)
    return m11, m12, m21, m22, mid_i, mid_v


@njit(**_INLINE)
def _power(
    m11: float, m12: float, m21: float, m22: float, n: int
) -> tuple[float, float, float, float]:
    """Return the 2x2 matrix M to the power n ≥ 1 (by squaring)."""
    p11, p12, p21, p22 = 1.0, 0.0, 0.0, 1.0
    b11, b12, b21, b22 = m11, m12, m21, m22
    e = n
    while e > 0:
        if e & 1:
            p11, p12, p21, p22 = (
                b11 * p11 + b12 * p21,
                b11 * p12 + b12 * p22,
                b21 * p11 + b22 * p21,
                b21 * p12 + b22 * p22,
            )
        e >>= 1
        if e:
            b11, b12, b21, b22 = (
                b11 * b11 + b12 * b21,
                b11 * b12 + b12 * b22,
                b21 * b11 + b22 * b21,
                b21 * b12 + b22 * b22,
            )
    return p11, p12, p21, p22


@njit(**_INLINE)
def _cd_steps(
    p: np.ndarray,
    s: np.ndarray,
    n: int,
    dt: float,
    i0: float,
    vc: float,
    on: bool,
    rk4: tuple[float, float, float, float, float, float],
) -> float:
    """Step the CD circuit n times from i0 (A), vc (V) by the RK4 map; return ∫i² dt (A²·s)."""
    m11, m12, m21, m22, mid_i, mid_v = rk4
    idx = int(s[S_PULSE_IDX])
    t = s[S_T]
    t_fire = s[S_T_FIRE]
    truncate = s[S_STOP_REQ] > 0.5 and p[P_CD_TRUNCATABLE] > 0.5
    hold = p[P_CD_HOLD_A]
    i2 = 0.0
    peak = s[S_I_PEAK]
    for _ in range(n):
        if not on:
            v = p[P_CD_V1] if idx == 0 else p[P_CD_V2]
            if idx >= 2 or v <= 0.0 or s[S_STOP_REQ] > 0.5:
                s[S_SUPPLY_STATE] = SS_DONE
                s[S_T_SUPPLY_END] = t
                t += dt
                continue
            start = t_fire + (0.0 if idx == 0 else p[P_CD_T2_S])
            if t < start:
                t += dt
                continue
            vc = v
            i0 = 0.0
            on = True
            s[S_N_FIRE] += 1.0
            if s[S_T_I_START] < 0.0:
                s[S_T_I_START] = t
        if truncate:
            # A truncating switch commutates the pulse off at once.
            i0 = 0.0
            on = False
            idx = 2
            t += dt
            continue
        i1 = m11 * i0 + m12 * vc
        v1 = m21 * i0 + m22 * vc
        im = mid_i * i0 + mid_v * vc
        if (i1 <= 0.0 and i0 > 0.0) or (0.0 < i1 < hold and i1 < i0):
            # The SCR blocks reverse current, and turns off below its holding current.
            frac = i0 / (i0 - i1) if i1 <= 0.0 else 1.0
            i2 += i0 * i0 * dt * frac / 3.0
            vc = vc + (v1 - vc) * frac
            i0 = 0.0
            on = False
            idx += 1
            s[S_T_I_END] = t + dt * frac
            t += dt
            continue
        i2 += dt / 6.0 * (i0 * i0 + 4.0 * im * im + i1 * i1)
        i0 = i1
        vc = v1
        if i0 > peak:
            peak = i0
        t += dt
    s[S_I] = i0
    s[S_VC] = vc
    s[S_CURRENT_ON] = 1.0 if on else 0.0
    s[S_PULSE_IDX] = idx
    s[S_I_PEAK] = peak
    s[S_T] = t
    return i2


@njit(**_INLINE)
def _fast_cd(p: np.ndarray, s: np.ndarray, r_load: float, n: int, dt: float) -> float:
    """Run n electrical steps of the CD circuit with the load held; return ∫i² dt (A²·s)."""
    if s[S_SUPPLY_STATE] != SS_RUNNING:
        s[S_T] += n * dt
        return 0.0
    r = r_load + p[P_RW_OHM]
    ll = p[P_L_H]
    c = p[P_CD_C_F]
    rk4 = _rk4_map(r, ll, c, dt)
    i0 = s[S_I]
    vc = s[S_VC]
    on = s[S_CURRENT_ON] > 0.5
    if on and n > 1 and s[S_STOP_REQ] < 0.5:
        # Mid-pulse the block is M^n applied once; its Joule energy is the drop of the stored
        # energy ½Li² + ½Cv² over R. Taken only when the current stays above the SCR's holding
        # current and is monotone over the block (the peak then sits at an end); otherwise the
        # block is stepped one by one below.
        m11, m12, m21, m22, _, _ = rk4
        p11, p12, p21, p22 = _power(m11, m12, m21, m22, n)
        i_n = p11 * i0 + p12 * vc
        v_n = p21 * i0 + p22 * vc
        d0 = vc - r * i0
        d_n = v_n - r * i_n
        if i_n > p[P_CD_HOLD_A] and (d0 >= 0.0) == (d_n >= 0.0):
            e_drop = 0.5 * ll * (i0 * i0 - i_n * i_n) + 0.5 * c * (vc * vc - v_n * v_n)
            s[S_I] = i_n
            s[S_VC] = v_n
            s[S_I_PEAK] = max(s[S_I_PEAK], i_n)
            s[S_T] += n * dt
            return max(e_drop / r, 0.0)
    return _cd_steps(p, s, n, dt, i0, vc, on, rk4)


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
