"""The monitor kernel's pass for the events that happen once: contact, firing, current start."""

from __future__ import annotations

import numpy as np
from numba import njit

from controller.monitor.jit import PASS
from controller.monitor.layout import (
    M_CONTACT_N,
    M_DT_S,
    M_FIRING_N,
    M_GATE_A,
    Q_CONTACT,
    Q_R_FIRST,
    Q_T_CONTACT,
    Q_T_FIRING,
    Q_T_ON,
    Q_X_CONTACT,
)


@njit(**PASS)
def _first_at_least(flat: np.ndarray, w: int, m: int, col: int, level: float) -> int:
    """First row whose value in column col is at or above level (m: none)."""
    k = 0
    while k < m and not flat[w * k + col] >= level:
        k += 1
    return k


@njit(**PASS)
def _first_gated(flat: np.ndarray, w: int, m: int, gate: float) -> int:
    """First row with |I| above the gate (m: none)."""
    k = 0
    while k < m and not abs(flat[w * k]) > gate:
        k += 1
    return k


@njit(**PASS)
def force_events(mp: np.ndarray, q: np.ndarray, flat: np.ndarray, w: int, m: int, base: int) -> int:
    """Latch contact and firing force at their first samples. Return the first row in contact
    (m: none)."""
    dt = mp[M_DT_S]
    k_contact = 0
    if q[Q_CONTACT] <= 0.5:
        k_contact = _first_at_least(flat, w, m, 2, mp[M_CONTACT_N])
        if k_contact < m:
            q[Q_CONTACT] = 1.0
            q[Q_T_CONTACT] = (base + k_contact) * dt
            q[Q_X_CONTACT] = flat[w * k_contact + 3]
    if q[Q_T_FIRING] < 0.0:
        k = _first_at_least(flat, w, m, 2, mp[M_FIRING_N])
        if k < m:
            q[Q_T_FIRING] = (base + k) * dt
    return k_contact


@njit(**PASS)
def current_start(
    mp: np.ndarray, q: np.ndarray, flat: np.ndarray, w: int, m: int, base: int
) -> int:
    """Latch the current start (the first gated sample) and its R. Return its sample number
    (0 before it)."""
    dt = mp[M_DT_S]
    t_on = q[Q_T_ON]
    if t_on >= 0.0:
        return round(t_on / dt)
    if t_on < 0.0:
        k = _first_gated(flat, w, m, mp[M_GATE_A])
        if k < m:
            q[Q_T_ON] = (base + k) * dt
            q[Q_R_FIRST] = flat[w * k + 1] / flat[w * k]  # (R as the run takes it)
            return base + k
    return 0
