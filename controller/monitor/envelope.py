"""The monitor kernel's envelope pass: the first sample outside the bands, channel by channel."""

from __future__ import annotations

import numpy as np
from numba import njit

from controller.monitor.jit import PASS
from controller.monitor.layout import (
    CH_I,
    CH_P,
    CH_R,
    CH_SETDOWN,
    M_DT_S,
    N_CH,
    Q_ENV_CH,
    Q_ENV_T,
    Q_ENV_V,
    Q_X_CONTACT,
)
from controller.monitor.setdown import set_down


@njit(**PASS)
def _first_outside(vals: np.ndarray, step: int, col: int, lo: np.ndarray, hi: np.ndarray) -> int:
    """First k with vals[step * k + col] outside [lo[k], hi[k]] (len(lo): none). A NaN value or
    bound never violates (a comparison with NaN is false). Violations are rare: they are
    counted first, in a loop without an exit, which vectorises."""
    n = lo.shape[0]
    outside = 0
    for k in range(n):
        v = vals[step * k + col]
        outside += (v < lo[k]) | (v > hi[k])
    if outside == 0:
        return n
    k = 0
    while not (vals[step * k + col] < lo[k] or vals[step * k + col] > hi[k]):
        k += 1
    return k


@njit(**PASS)
def _first_set_down_outside(
    flat: np.ndarray, w: int, k_contact: int, x_contact: float, lo: np.ndarray, hi: np.ndarray
) -> int:
    """_first_outside for the set-down of the rows of flat."""
    n = lo.shape[0]
    outside = 0
    for k in range(n):
        v = set_down(flat, w, k, k_contact, x_contact)
        outside += (v < lo[k]) | (v > hi[k])
    if outside == 0:
        return n
    k = 0
    while not (
        set_down(flat, w, k, k_contact, x_contact) < lo[k]
        or set_down(flat, w, k, k_contact, x_contact) > hi[k]
    ):
        k += 1
    return k


@njit(**PASS)
def envelope(
    mp: np.ndarray,
    q: np.ndarray,
    flat: np.ndarray,
    w: int,
    m: int,
    base: int,
    n_on: int,
    k_contact: int,
    env_lo: np.ndarray,
    env_hi: np.ndarray,
    r_out: np.ndarray,
    p_out: np.ndarray,
) -> None:
    """Latch the first envelope violation: bands against the samples since the current start
    (band sample j = n - n_on), up to the end of the bands. The first sample wins and, at one
    sample, the lowest channel: so each channel is looked at only before the first violation
    found so far, one channel after the other."""
    x_contact = q[Q_X_CONTACT]
    j0 = base - n_on  # row k is band sample j0 + k
    ka = max(0, -j0)  # rows ka..kb-1 are in the bands
    kb = min(m, env_lo.shape[1] - j0)
    k_bad = kb
    for ch in range(N_CH):
        if ka < k_bad:
            lo = env_lo[ch, ka + j0 : k_bad + j0]
            hi = env_hi[ch, ka + j0 : k_bad + j0]
            if ch == CH_R:
                k = ka + _first_outside(r_out[ka:k_bad], 1, 0, lo, hi)
                val = r_out[k] if k < k_bad else 0.0
            elif ch == CH_P:
                k = ka + _first_outside(p_out[ka:k_bad], 1, 0, lo, hi)
                val = p_out[k] if k < k_bad else 0.0
            elif ch == CH_SETDOWN:
                rows = flat[ka * w : k_bad * w]
                k = ka + _first_set_down_outside(rows, w, k_contact - ka, x_contact, lo, hi)
                val = set_down(flat, w, k, k_contact, x_contact) if k < k_bad else 0.0
            else:  # I, V, F: columns 0, 1, 2
                col = ch - CH_I if ch < CH_P else 2
                k = ka + _first_outside(flat[ka * w : k_bad * w], w, col, lo, hi)
                val = flat[w * k + col] if k < k_bad else 0.0
            if k < k_bad:
                k_bad = k
                q[Q_ENV_CH] = ch
                q[Q_ENV_V] = val
    if k_bad < kb:
        q[Q_ENV_T] = (base + k_bad) * mp[M_DT_S]
