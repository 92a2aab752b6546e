"""The monitor kernel's pass sample by sample: the set-down and its speed, R, P, and the sums and
peaks over the gated samples, in the reference's order.

A run goes through the rows and stops after a gated row where something rare may happen (the
set-down speed beats its peak: burn-through; the set-down reaches its target). That row is seen
to outside the run's loop, which so keeps few values live, and the next run starts after it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from controller.monitor.burn import burn_through
from controller.monitor.jit import PASS, PIECE
from controller.monitor.layout import (
    M_DT_S,
    M_GATE_A,
    M_R_GATE_A,
    M_VELOCITY_WINDOW,
    N_HIST,
    N_VHIST,
    Q_ENERGY_J,
    Q_F_PEAK,
    Q_I2_SUM,
    Q_I_PEAK,
    Q_ON_N,
    Q_P_PEAK,
    Q_R_LAST,
    Q_R_PEAK,
    Q_SETDOWN_MAX_UM,
    Q_VEL_PEAK,
    Q_VHIST,
    Q_X_CONTACT,
)
from controller.monitor.setdown import set_down, set_down_back


@njit(**PASS)
def _plus_ones(x: float, count: int) -> float:
    """x + 1.0 + 1.0 + ... (count times, one addition after the other), as the reference
    counts. From a whole number below 2**52 (a sample count) every sum is exact, and so is
    x + count."""
    if count > 0 and math.floor(x) == x and abs(x) < 2.0**52 and count < 2**52:
        return x + count
    for _ in range(count):
        x += 1.0
    return x


@njit(**PIECE)
def _sums(q: np.ndarray) -> tuple[float, float, float, float, float, float, float]:
    """Return what a run sums and peaks, from the state: the force peak, the deepest set-down,
    Σ I², the energy, the current peak, the power peak and R's peak."""
    return (
        q[Q_F_PEAK],
        q[Q_SETDOWN_MAX_UM],
        q[Q_I2_SUM],
        q[Q_ENERGY_J],
        q[Q_I_PEAK],
        q[Q_P_PEAK],
        q[Q_R_PEAK],
    )


@njit(**PIECE)
def _keep_sums(
    q: np.ndarray,
    r_out: np.ndarray,
    k_r: int,
    f_peak: float,
    sd_max: float,
    n_gated: int,
    i2_sum: float,
    energy: float,
    i_peak: float,
    p_peak: float,
    r_peak: float,
) -> None:
    """Store what a run summed and peaked into the state (n_gated: its gated rows), and R at the
    last row whose R counts (k_r; -1: none)."""
    q[Q_F_PEAK] = f_peak
    q[Q_SETDOWN_MAX_UM] = sd_max
    q[Q_ON_N] = _plus_ones(q[Q_ON_N], n_gated)
    q[Q_I2_SUM] = i2_sum
    q[Q_ENERGY_J] = energy
    q[Q_I_PEAK] = i_peak
    q[Q_P_PEAK] = p_peak
    q[Q_R_PEAK] = r_peak
    if k_r >= 0:
        q[Q_R_LAST] = r_out[k_r]


@njit(**PASS)
def run(
    mp: np.ndarray,
    q: np.ndarray,
    flat: np.ndarray,
    w: int,
    a: int,
    b: int,
    fast: bool,
    base: int,
    k_contact: int,
    target_cut: float,
    r_out: np.ndarray,
    p_out: np.ndarray,
) -> tuple[int, int]:
    """Go through rows a..b-1 sample by sample, in the reference's order: the force peak,
    set-down (µm) and its speed (µm/ms over win samples, into the ring of speeds), R (Ω, NaN
    where gated off), P (W), the sums and peaks over the gated rows. Stop after a gated row where
    the speed beats its peak or the set-down reaches target_cut; return that row (b: none) and
    the last gated row (-1: none). fast: all the rows are in contact, and so are the ones the
    speed compares with, in this chunk."""
    dt = mp[M_DT_S]
    gate = mp[M_GATE_A]
    r_gate = mp[M_R_GATE_A]
    win = int(mp[M_VELOCITY_WINDOW])
    vel_scale = 1.0 / (win * dt * 1e3)  # µm per window -> µm/ms
    x_contact = q[Q_X_CONTACT]
    vel_peak = q[Q_VEL_PEAK]
    f_peak, sd_max, i2_sum, energy, i_peak, p_peak, r_peak = _sums(q)
    n_gated = 0  # (counted, and added to the count in q at the end: fewer live values)
    k_r = -1  # the last row whose R counts (its R is read back at the end)
    k_off = -1
    # Unsigned indices, stepped along: no check for a negative index, no multiplication. The
    # set-down the speed compares with is d rows back (d = win for the usual 1 <= win <= 64).
    d = ((win - 1) & (N_HIST - 1)) + 1
    row = np.uint64(w * a)
    step = np.uint64(w)
    back = np.uint64(w * d)
    col_v = np.uint64(1)
    col_f = np.uint64(2)
    col_x = np.uint64(3)
    k = a
    stop = b
    while k < stop:
        n = base + k
        f_peak = max(f_peak, flat[row + col_f])
        if fast:
            sd = x_contact - flat[row + col_x]
            vel = (sd - (x_contact - flat[row - back + col_x])) * vel_scale
        else:
            sd = set_down(flat, w, k, k_contact, x_contact)
            vel = (sd - set_down_back(q, flat, w, k, n, win, sd, k_contact, x_contact)) * vel_scale
        sd_max = max(sd_max, sd)
        q[Q_VHIST + (n & (N_VHIST - 1))] = vel
        i = flat[row]
        v = flat[row + col_v]
        p = v * i
        p_out[np.uint64(k)] = p
        if abs(i) > gate:
            r = v / i
            r_out[np.uint64(k)] = r
            k_off = k
            n_gated += 1
            i2_sum += i * i
            energy += p * dt
            i_peak = max(i_peak, abs(i))
            p_peak = max(p_peak, p)
            # R's features only where the current is well up: near the gate V/I is noise
            if abs(i) > r_gate:
                k_r = k
                r_peak = max(r_peak, r)
            if vel > vel_peak or sd >= target_cut:
                stop = k
        else:
            r_out[np.uint64(k)] = math.nan
        k += 1
        row += step
    _keep_sums(q, r_out, k_r, f_peak, sd_max, n_gated, i2_sum, energy, i_peak, p_peak, r_peak)
    return stop, k_off


@njit(**PIECE)
def sample_by_sample(
    mp: np.ndarray,
    q: np.ndarray,
    flat: np.ndarray,
    w: int,
    m: int,
    base: int,
    k_contact: int,
    n_on: int,
    set_down_armed: bool,
    target_cut: float,
    r_out: np.ndarray,
    p_out: np.ndarray,
) -> tuple[int, int]:
    """Run the m rows sample by sample, seeing to each rare row where a run stops (burn-through,
    the set-down target). Return the first row where the set-down reaches target_cut (m: none)
    and the last gated row (-1: none).

    The rows before k_fast (before contact, or the speed compares with a set-down from the ring,
    or with itself in the first win samples) go first, then the rest. (Two calls, each with a
    constant for fast: the compiler makes a loop of its own for each.)"""
    win = int(mp[M_VELOCITY_WINDOW])
    k_fast = min(max(k_contact + ((win - 1) & (N_HIST - 1)) + 1, win - base), m)
    k_target = m
    k_off = -1
    k = 0
    while k < m:
        if k < k_fast:
            end = k_fast
            k_rare, k_last = run(
                mp, q, flat, w, k, end, False, base, k_contact, target_cut, r_out, p_out
            )
        else:
            end = m
            k_rare, k_last = run(
                mp, q, flat, w, k, end, True, base, k_contact, target_cut, r_out, p_out
            )
        k_off = max(k_off, k_last)
        k = end
        if k_rare < end:
            burn_through(mp, q, base + k_rare, n_on)
            sd = set_down(flat, w, k_rare, k_contact, q[Q_X_CONTACT])
            if set_down_armed and k_target == m and sd >= target_cut:
                k_target = k_rare
                target_cut = math.inf  # (the first one counts)
            k = k_rare + 1
    return k_target, k_off
