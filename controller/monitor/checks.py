"""The monitor kernel's checks that look for their first row in a chunk: expulsion, and the stop
criteria R drop, energy and weld time (the set-down target is the sample-by-sample pass's).

Each is armed only while it can still change something, and each takes the reference's
arithmetic in the reference's order, from the values at the chunk's start.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from controller.monitor.jit import PASS
from controller.monitor.layout import (
    M_DT_S,
    M_ENERGY_MAX_J,
    M_EXPULSION_JUMP_UM,
    M_EXPULSION_R_DROP_PCT,
    M_GATE_A,
    M_R_DROP_PCT,
    M_R_GATE_A,
    M_TIME_MAX_MS,
    M_VELOCITY_WINDOW,
    Q_T_ON,
    Q_X_CONTACT,
)
from controller.monitor.setdown import set_down, set_down_back


@njit(**PASS)
def expulsion(
    mp: np.ndarray,
    q: np.ndarray,
    flat: np.ndarray,
    w: int,
    m: int,
    base: int,
    r_out: np.ndarray,
    k_contact: int,
    r_peak: float,
) -> int:
    """First row with an expulsion (m: none): a crest in R (below its running peak, from
    r_peak at the chunk's start) with a jump in set-down over the speed window (from the ring
    as it was at the chunk's start)."""
    gate = mp[M_GATE_A]
    r_gate = mp[M_R_GATE_A]
    keep = 1.0 - mp[M_EXPULSION_R_DROP_PCT] / 100.0
    jump = mp[M_EXPULSION_JUMP_UM]
    win = int(mp[M_VELOCITY_WINDOW])
    x_contact = q[Q_X_CONTACT]
    k_expel = m
    k = 0
    while k < k_expel:
        i = flat[w * k]
        if abs(i) > gate:
            r = r_out[k]
            before = r_peak
            if abs(i) > r_gate:
                r_peak = max(r_peak, r)
            if before > 0.0 and r < before * keep:
                sd = set_down(flat, w, k, k_contact, x_contact)
                old = set_down_back(q, flat, w, k, base + k, win, sd, k_contact, x_contact)
                if sd - old >= jump:
                    k_expel = k
        k += 1
    return k_expel


@njit(**PASS)
def r_drop(
    mp: np.ndarray, flat: np.ndarray, w: int, m: int, r_out: np.ndarray, r_peak: float
) -> int:
    """First gated row with R below its running peak (from r_peak at the chunk's start) by
    the stop's share (m: none)."""
    gate = mp[M_GATE_A]
    r_gate = mp[M_R_GATE_A]
    keep = 1.0 - mp[M_R_DROP_PCT] / 100.0
    k_drop = m
    k = 0
    while k < k_drop:
        i = flat[w * k]
        if abs(i) > gate:
            r = r_out[k]
            if abs(i) > r_gate:
                r_peak = max(r_peak, r)
            if r < r_peak * keep:
                k_drop = k
        k += 1
    return k_drop


@njit(**PASS)
def energy_reached(
    mp: np.ndarray, flat: np.ndarray, w: int, m: int, p_out: np.ndarray, energy: float
) -> int:
    """First gated row where the energy (summed as the run sums it, from energy at the chunk's
    start) reaches the stop's (m: none)."""
    gate = mp[M_GATE_A]
    dt = mp[M_DT_S]
    e_max = mp[M_ENERGY_MAX_J]
    k_reached = m
    k = 0
    while k < k_reached:
        if abs(flat[w * k]) > gate:
            energy += p_out[k] * dt
            if energy >= e_max:
                k_reached = k
        k += 1
    return k_reached


@njit(**PASS)
def time_reached(mp: np.ndarray, q: np.ndarray, flat: np.ndarray, w: int, m: int, base: int) -> int:
    """First gated row where the weld time reaches the stop's (m: none)."""
    dt = mp[M_DT_S]
    gate = mp[M_GATE_A]
    t_max = mp[M_TIME_MAX_MS]
    t_on = q[Q_T_ON]
    k = 0
    while k < m and not (abs(flat[w * k]) > gate and ((base + k) * dt + dt - t_on) * 1e3 >= t_max):
        k += 1
    return k
