"""The capacitor-discharge (CD) supply: the bank, the SCR and the pulse transformer, referred to
the secondary.

The circuit is the transformer's cantilever model: the bank C (SCR in series) drives the
magnetising inductance Lm and, in parallel with it, the tap's leakage L in series with the winding
and the load (R). Its state is x = (i, i_m, v_c): the load current, the magnetising current and
the bank voltage (A, A, V):

    L di/dt = v_c - R i,    Lm di_m/dt = v_c,    C dv_c/dt = -(i + i_m).

The core holds a limited flux (its volt-second capacity λ = Lm i_m from reset): once i_m reaches
λ/Lm the core saturates, the primary becomes a near short, the bank's remaining charge rings out
in the primary and no longer reaches the load, and the load current decays through the saturated
core with its own L/R (the circuit with 1/Lm and 1/C set to 0). Both are linear, so a step of
either is a fixed 3x3 map, and a block of n steps is that map to the power n. An ideal
transformer (1/Lm = 0, no saturation) is the series RLC of the bank referred to the secondary.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from firmware_sim.kernel.common import _INLINE
from firmware_sim.kernel.layout import (
    P_CD_C_F,
    P_CD_HOLD_A,
    P_CD_IM_SAT_A,
    P_CD_INV_LM,
    P_CD_T2_S,
    P_CD_TRUNCATABLE,
    P_CD_V1,
    P_CD_V2,
    P_L_H,
    P_RW_OHM,
    S_CD_SATURATED,
    S_CURRENT_ON,
    S_E_CD_LOSS,
    S_I,
    S_I_PEAK,
    S_IM,
    S_N_FIRE,
    S_PULSE_IDX,
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

Mat3 = tuple[float, float, float, float, float, float, float, float, float]
Vec3 = tuple[float, float, float]
_EYE: Mat3 = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@njit(**_INLINE)
def _mul3(a: Mat3, b: Mat3) -> Mat3:
    """Return the 3x3 product a·b (row-major 9-tuples)."""
    return (
        a[0] * b[0] + a[1] * b[3] + a[2] * b[6],
        a[0] * b[1] + a[1] * b[4] + a[2] * b[7],
        a[0] * b[2] + a[1] * b[5] + a[2] * b[8],
        a[3] * b[0] + a[4] * b[3] + a[5] * b[6],
        a[3] * b[1] + a[4] * b[4] + a[5] * b[7],
        a[3] * b[2] + a[4] * b[5] + a[5] * b[8],
        a[6] * b[0] + a[7] * b[3] + a[8] * b[6],
        a[6] * b[1] + a[7] * b[4] + a[8] * b[7],
        a[6] * b[2] + a[7] * b[5] + a[8] * b[8],
    )


@njit(**_INLINE)
def _apply3(m: Mat3, i: float, im: float, vc: float) -> Vec3:
    """Return m·(i, im, vc)."""
    return (
        m[0] * i + m[1] * im + m[2] * vc,
        m[3] * i + m[4] * im + m[5] * vc,
        m[6] * i + m[7] * im + m[8] * vc,
    )


@njit(**_INLINE)
def _rk4_map(r: float, ll: float, g: float, k: float, h: float) -> tuple[Mat3, Vec3]:
    """Return RK4's step h (s) of the circuit as a 3x3 map, and its midpoint current as a row.

    r: loop resistance (Ω), ll: leakage (H), g: 1/Lm (1/H), k: 1/C (1/F); g = k = 0 is the
    saturated core. RK4 of a linear system with R frozen is M = Σ (hA)^j/j!, j ≤ 4: precomputed
    once per block. Its midpoint current (i_a + i_b)/2, row 0 of I + qA + (qA)²/2 with q = h/2,
    feeds Simpson's rule on i².
    """
    a00, a02 = -r / ll, 1.0 / ll
    a = (a00, 0.0, a02, 0.0, 0.0, g, -k, -k, 0.0)
    m = _EYE
    for j in (4.0, 3.0, 2.0, 1.0):
        am = _mul3(a, m)
        f = h / j
        m = (
            1.0 + f * am[0],
            f * am[1],
            f * am[2],
            f * am[3],
            1.0 + f * am[4],
            f * am[5],
            f * am[6],
            f * am[7],
            1.0 + f * am[8],
        )
    q = 0.5 * h
    qq = 0.5 * q * q
    mid = (1.0 + q * a00 + qq * (a00 * a00 - a02 * k), -qq * a02 * k, q * a02 + qq * a00 * a02)
    return m, mid


@njit(**_INLINE)
def _power(m: Mat3, n: int) -> Mat3:
    """Return the 3x3 matrix m to the power n ≥ 1 (by squaring)."""
    result = _EYE
    base = m
    e = n
    while e > 0:
        if e & 1:
            result = _mul3(base, result)
        e >>= 1
        if e:
            base = _mul3(base, base)
    return result


@njit(**_INLINE)
def _circuit_map(p: np.ndarray, s: np.ndarray, r: float, dt: float) -> tuple[Mat3, Vec3]:
    """Return the step map of the circuit the core's state selects (saturated or not)."""
    if s[S_CD_SATURATED] > 0.5:
        return _rk4_map(r, p[P_L_H], 0.0, 0.0, dt)
    return _rk4_map(r, p[P_L_H], p[P_CD_INV_LM], 1.0 / p[P_CD_C_F], dt)


@njit(**_INLINE)
def _stored_j(p: np.ndarray, i: float, im: float, vc: float) -> float:
    """Return the energy (J) held by the leakage, the magnetising inductance and the bank."""
    g = p[P_CD_INV_LM]
    e_m = 0.5 * im * im / g if g > 0.0 else 0.0
    return 0.5 * p[P_L_H] * i * i + e_m + 0.5 * p[P_CD_C_F] * vc * vc


@njit(**_INLINE)
def _pulse_start(p: np.ndarray, s: np.ndarray, idx: int, t: float) -> float:
    """Return the bank voltage (V) of pulse idx if it starts at time t, else 0."""
    v = p[P_CD_V1] if idx == 0 else p[P_CD_V2]
    if idx >= 2 or v <= 0.0 or s[S_STOP_REQ] > 0.5:
        s[S_SUPPLY_STATE] = SS_DONE
        s[S_T_SUPPLY_END] = t
        return 0.0
    if t < s[S_T_FIRE] + (0.0 if idx == 0 else p[P_CD_T2_S]):
        return 0.0
    # Each pulse starts from a reset core (the charger's reset current) and a full bank.
    s[S_CD_SATURATED] = 0.0
    s[S_N_FIRE] += 1.0
    if s[S_T_I_START] < 0.0:
        s[S_T_I_START] = t
    return v


@njit(**_INLINE)
def _cd_steps(p: np.ndarray, s: np.ndarray, n: int, dt: float, r: float) -> float:
    """Step the CD circuit n times from the state in s by the RK4 map; return ∫i² dt (A²·s)."""
    i0, im, vc = s[S_I], s[S_IM], s[S_VC]
    on = s[S_CURRENT_ON] > 0.5
    idx = int(s[S_PULSE_IDX])
    t = s[S_T]
    truncate = s[S_STOP_REQ] > 0.5 and p[P_CD_TRUNCATABLE] > 0.5
    hold = p[P_CD_HOLD_A]
    m, mid = _circuit_map(p, s, r, dt)
    i2 = 0.0
    peak = s[S_I_PEAK]
    for _ in range(n):
        if not on:
            v = _pulse_start(p, s, idx, t) if s[S_SUPPLY_STATE] == SS_RUNNING else 0.0
            if v <= 0.0:
                t += dt
                continue
            i0, im, vc, on = 0.0, 0.0, v, True
            m, mid = _circuit_map(p, s, r, dt)
        if truncate:
            # A truncating switch commutates the pulse off at once; the rest stays unused.
            s[S_E_CD_LOSS] += _stored_j(p, i0, im, vc)
            i0, im, on, idx = 0.0, 0.0, False, 2
            t += dt
            continue
        i1, im1, v1 = _apply3(m, i0, im, vc)
        ia = mid[0] * i0 + mid[1] * im + mid[2] * vc
        if (i1 <= 0.0 and i0 > 0.0) or (0.0 < i1 < hold and i1 < i0):
            # The SCR blocks reverse current, and turns off below its holding current; the
            # magnetising energy and the bank's remaining charge never reach the load. (Judged
            # on the load current, as before the transformer was modelled: the primary's SCR
            # carries i + i_m, which would let an under-damped load's current ring below zero
            # for a while; the shipped, over-damped pulses never reverse.)
            frac = i0 / (i0 - i1) if i1 <= 0.0 else 1.0
            i2 += i0 * i0 * dt * frac / 3.0
            vc = vc + (v1 - vc) * frac
            im = im + (im1 - im) * frac
            s[S_E_CD_LOSS] += _stored_j(p, 0.0, im, vc)
            i0, im, on = 0.0, 0.0, False
            idx += 1
            s[S_T_I_END] = t + dt * frac
            t += dt
            continue
        i2 += dt / 6.0 * (i0 * i0 + 4.0 * ia * ia + i1 * i1)
        i0, im, vc = i1, im1, v1
        if im >= p[P_CD_IM_SAT_A] and s[S_CD_SATURATED] < 0.5:
            # The core saturates: the bank dumps its charge into the primary, the core's
            # magnetising energy is spent there too, and the load current freewheels.
            s[S_E_CD_LOSS] += _stored_j(p, 0.0, im, vc)
            im, vc = 0.0, 0.0
            s[S_CD_SATURATED] = 1.0
            m, mid = _circuit_map(p, s, r, dt)
        peak = max(peak, i0)
        t += dt
    s[S_I], s[S_IM], s[S_VC] = i0, im, vc
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
    i0, im, vc = s[S_I], s[S_IM], s[S_VC]
    if s[S_CURRENT_ON] > 0.5 and n > 1 and s[S_STOP_REQ] < 0.5:
        # Mid-pulse the block is M^n applied once; its Joule energy is the drop of the stored
        # energy over R (the magnetising branch is lossless). Taken only when the current stays
        # above the SCR's holding current and is monotone over the block (the peak then sits at
        # an end), and the core does not saturate within it; otherwise the block is stepped.
        m, _ = _circuit_map(p, s, r, dt)
        i_n, im_n, v_n = _apply3(_power(m, n), i0, im, vc)
        d0 = vc - r * i0
        d_n = v_n - r * i_n
        unsat = s[S_CD_SATURATED] > 0.5 or im_n < p[P_CD_IM_SAT_A]
        if i_n > p[P_CD_HOLD_A] and (d0 >= 0.0) == (d_n >= 0.0) and unsat:
            e_drop = _stored_j(p, i0, im, vc) - _stored_j(p, i_n, im_n, v_n)
            s[S_I], s[S_IM], s[S_VC] = i_n, im_n, v_n
            s[S_I_PEAK] = max(s[S_I_PEAK], i_n)
            s[S_T] += n * dt
            i2 = max(e_drop / r, 0.0)
            s[S_E_CD_LOSS] += p[P_RW_OHM] * i2
            return i2
    i2 = _cd_steps(p, s, n, dt, r)
    s[S_E_CD_LOSS] += p[P_RW_OHM] * i2
    return i2
