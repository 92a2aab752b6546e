"""The monitor's numba kernel: a block of samples in a few tight passes, state carried between
blocks. This module holds the entry kernels; the passes and the layout of the vectors are in
modules of their own, next to it.

Per sample: dynamic resistance R = V/I (gated on |I|), power, energy, set-down from the contact
position; per weld: peak and RMS current, weld time, events with their times, stop criteria and
the first envelope violation. Splitting a weld into blocks never changes the result (the state
vector carries everything); controller/monitor/reference.py is the same algorithm in plain
Python.

A block goes through passes, each a loop with few live values, which the compiler keeps in
registers: the events that happen once (contact, firing force, current start: events.py); one
pass sample by sample for the set-down and its speed, R, P and the sums over the gated samples
(samples.py; it leaves the rare samples where the speed beats its peak to a function of their
own, burn.py); the checks that can still change something (expulsion, stop criteria: checks.py),
each looking for its first sample; the envelope, channel by channel (envelope.py). Each value
gets the reference's arithmetic in the reference's order, so the results are the same to the bit
as sample by sample. The vectors' layout (M_*, Q_*, STOP_*, CH_*, N_*) and new_state() are in
layout.py, and are read from here too, as kernels.<name>.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from controller.monitor.checks import energy_reached, expulsion, r_drop, time_reached
from controller.monitor.envelope import envelope
from controller.monitor.events import current_start, force_events
from controller.monitor.jit import JIT, PASS, PIECE
from controller.monitor.layout import (  # noqa: F401  (the users read the layout as kernels.<name>)
    CH_F,
    CH_I,
    CH_P,
    CH_R,
    CH_SETDOWN,
    CH_V,
    M_BURN_FRACTION,
    M_BURN_VELOCITY_UM_MS,
    M_CONTACT_N,
    M_DT_S,
    M_ENERGY_MAX_J,
    M_EXPULSION_JUMP_UM,
    M_EXPULSION_R_DROP_PCT,
    M_FIRING_N,
    M_GATE_A,
    M_R_DROP_PCT,
    M_R_GATE_A,
    M_SETDOWN_TARGET_UM,
    M_TIME_MAX_MS,
    M_VELOCITY_WINDOW,
    M_WIRE_D_UM,
    N_CH,
    N_HIST,
    N_MPARAMS,
    N_MSTATE,
    N_VHIST,
    Q_CONTACT,
    Q_ENERGY_J,
    Q_ENV_CH,
    Q_ENV_T,
    Q_ENV_V,
    Q_F_PEAK,
    Q_HIST,
    Q_I2_SUM,
    Q_I_PEAK,
    Q_N,
    Q_ON_N,
    Q_P_PEAK,
    Q_R_FIRST,
    Q_R_LAST,
    Q_R_PEAK,
    Q_SETDOWN_MAX_UM,
    Q_SETDOWN_UM,
    Q_STOP,
    Q_T_BURN,
    Q_T_CONTACT,
    Q_T_EXPEL,
    Q_T_FIRING,
    Q_T_OFF,
    Q_T_ON,
    Q_T_STOP,
    Q_T_TARGET,
    Q_VEL_PEAK,
    Q_VHIST,
    Q_X_CONTACT,
    STOP_ENERGY,
    STOP_R_DROP,
    STOP_SETDOWN,
    STOP_TIME,
    new_state,
)
from controller.monitor.samples import sample_by_sample
from controller.monitor.setdown import set_down

# numba's cache checks a cached function against its own file only (changes in another file are
# not detected), and the entry kernels below have the other kernel modules' passes and constants
# compiled in: an edit to those modules alone would leave the old entry kernels in __pycache__,
# run at the next import. This SHA-256 of their sources (layout, jit, setdown, events, burn,
# samples, checks, envelope: in that order) changes this file along with them;
# tests/unit/controller/monitor/test_kernel_sources.py recomputes it and prints the new value.
SOURCES_SHA256 = "6d2baa6d20a9e4b7c9f770c656cd442c2a618b6d29706b01b0ff57940af38cd2"


@njit(**PIECE)
def _latch_stops(
    q: np.ndarray,
    dt: float,
    base: int,
    m: int,
    stop_bits: int,
    t_stop: float,
    k_target: int,
    k_r_drop: int,
    k_energy: int,
    k_time: int,
) -> None:
    """Latch the stop criteria met at their first rows (m: none), with the time of the first
    one (t_stop: the stop time at the chunk's start)."""
    if k_target < m:
        stop_bits |= STOP_SETDOWN
        if q[Q_T_TARGET] < 0.0:
            q[Q_T_TARGET] = (base + k_target) * dt
    if k_r_drop < m:
        stop_bits |= STOP_R_DROP
    if k_energy < m:
        stop_bits |= STOP_ENERGY
    if k_time < m:
        stop_bits |= STOP_TIME
    k_stop = min(k_target, k_r_drop, k_energy, k_time)
    if k_stop < m and t_stop < 0.0:
        q[Q_T_STOP] = (base + k_stop) * dt
    q[Q_STOP] = stop_bits


@njit(**PASS)
def _chunk(
    mp: np.ndarray,
    q: np.ndarray,
    flat: np.ndarray,
    w: int,
    m: int,
    env_lo: np.ndarray,
    env_hi: np.ndarray,
    r_out: np.ndarray,
    p_out: np.ndarray,
) -> None:
    """Process m rows (flat: rows of w values, one after the other) in passes, each a tight
    loop with few live values; the state goes through q."""
    dt = mp[M_DT_S]
    base = int(q[Q_N])  # row k is sample base + k
    q[Q_CONTACT] = 1.0 if q[Q_CONTACT] > 0.5 else 0.0  # (a bool, as the reference keeps it)
    stop_bits = int(q[Q_STOP])
    t_stop = q[Q_T_STOP]
    k_contact = force_events(mp, q, flat, w, m, base)
    n_on = current_start(mp, q, flat, w, m, base)

    # A check that can change nothing any more is not armed (a stop criterion met and the
    # stop time set; an expulsion seen). Each armed one finds its first row (m: none).
    target = mp[M_SETDOWN_TARGET_UM]
    set_down_armed = target > 0.0 and (
        (stop_bits & STOP_SETDOWN) == 0 or t_stop < 0.0 or q[Q_T_TARGET] < 0.0
    )
    target_cut = target if set_down_armed else math.inf
    # R's peak and the energy at the chunk's start, for the checks that follow them
    r_peak = q[Q_R_PEAK]
    energy = q[Q_ENERGY_J]
    k_target, k_off = sample_by_sample(
        mp, q, flat, w, m, base, k_contact, n_on, set_down_armed, target_cut, r_out, p_out
    )
    if m > 0:
        q[Q_SETDOWN_UM] = set_down(flat, w, m - 1, k_contact, q[Q_X_CONTACT])
    k_expel = m
    if mp[M_EXPULSION_JUMP_UM] > 0.0 and q[Q_T_EXPEL] < 0.0:
        k_expel = expulsion(mp, q, flat, w, m, base, r_out, k_contact, r_peak)
    k_r_drop = m
    if mp[M_R_DROP_PCT] > 0.0 and ((stop_bits & STOP_R_DROP) == 0 or t_stop < 0.0):
        k_r_drop = r_drop(mp, flat, w, m, r_out, r_peak)
    k_energy = m
    if mp[M_ENERGY_MAX_J] > 0.0 and ((stop_bits & STOP_ENERGY) == 0 or t_stop < 0.0):
        k_energy = energy_reached(mp, flat, w, m, p_out, energy)
    k_time = m
    if k_off >= 0:
        q[Q_T_OFF] = (base + k_off) * dt + dt
        # the weld time grows with the sample: reached at the last gated sample or nowhere
        t_max = mp[M_TIME_MAX_MS]
        if (
            t_max > 0.0
            and ((stop_bits & STOP_TIME) == 0 or t_stop < 0.0)
            and ((base + k_off) * dt + dt - q[Q_T_ON]) * 1e3 >= t_max
        ):
            k_time = time_reached(mp, q, flat, w, m, base)
    # the ring of set-downs for the next chunk (the expulsion check read it as it was)
    x_contact = q[Q_X_CONTACT]
    for k in range(max(0, m - N_HIST), m):
        q[Q_HIST + ((base + k) & (N_HIST - 1))] = set_down(flat, w, k, k_contact, x_contact)

    # the expulsion and the stop criteria, latched at their first rows
    if k_expel < m:
        q[Q_T_EXPEL] = (base + k_expel) * dt
    _latch_stops(q, dt, base, m, stop_bits, t_stop, k_target, k_r_drop, k_energy, k_time)

    if q[Q_T_ON] >= 0.0 and q[Q_ENV_T] < 0.0:
        envelope(mp, q, flat, w, m, base, n_on, k_contact, env_lo, env_hi, r_out, p_out)
    q[Q_N] = base + m


CHUNK = 4096  # rows per chunk: what the passes read stays in the cache


@njit(**PASS)
def _rows(
    mp: np.ndarray,
    q: np.ndarray,
    flat: np.ndarray,
    w: int,
    nb: int,
    env_lo: np.ndarray,
    env_hi: np.ndarray,
    r_out: np.ndarray,
    p_out: np.ndarray,
) -> None:
    """nb rows of w values, chunk by chunk (splitting a block never changes the result); an
    empty block is one empty chunk."""
    for a in range(0, max(nb, 1), CHUNK):
        b = min(a + CHUNK, nb)
        _chunk(mp, q, flat[a * w : b * w], w, b - a, env_lo, env_hi, r_out[a:b], p_out[a:b])


@njit(
    "void(float64[::1], float64[::1], float64[:, ::1], float64[:, ::1], float64[:, ::1],"
    " float64[::1], float64[::1])",
    **JIT,
)
def monitor_block(
    mp: np.ndarray,
    q: np.ndarray,
    block: np.ndarray,
    env_lo: np.ndarray,
    env_hi: np.ndarray,
    r_out: np.ndarray,
    p_out: np.ndarray,
) -> None:
    """Process a block (n, 4: A, V, N, µm, as the stream delivers it); write R (Ω, NaN when
    gated off) and P (W) for each sample.

    env_lo/env_hi are (N_CH, n_env) bands sampled at the sample period from the current start;
    NaN means no band there. The state q carries everything between blocks. The sample period
    must be positive and finite (then every latched time is its event's first sample), and r_out
    and p_out must not overlap the inputs (the passes read them back).
    """
    nb = block.shape[0]
    w = block.shape[1]
    flat = block.reshape(nb * w)
    if w == 4:
        _rows(mp, q, flat, 4, nb, env_lo, env_hi, r_out, p_out)  # (a constant row length)
    else:
        _rows(mp, q, flat, w, nb, env_lo, env_hi, r_out, p_out)


@njit(
    "void(float64[::1], float64[::1], float64[:, ::1], float64[:, ::1], float64[:, ::1],"
    " float64[:, ::1], int64)",
    **JIT,
)
def monitor_record(
    mp: np.ndarray,
    q: np.ndarray,
    block: np.ndarray,
    env_lo: np.ndarray,
    env_hi: np.ndarray,
    rec: np.ndarray,
    at: int,
) -> None:
    """monitor_block for the Monitor: the block (n, 4) and its R and P go into columns
    at..at+n of the weld's record rec (6, m: A, V, N, µm, R, P), which must hold them.

    Why a second entry: copying the block into the record and slicing out R and P from Python
    took twice as long as the kernel itself, on the decision's path, once a millisecond.
    """
    nb = block.shape[0]
    for i in range(nb):
        for c in range(4):
            rec[c, at + i] = block[i, c]
    flat = block.reshape(nb * 4)
    _rows(mp, q, flat, 4, nb, env_lo, env_hi, rec[4, at : at + nb], rec[5, at : at + nb])


@njit("void(float64[:, ::1], int64, float64, float64, float64[:, ::1])", **JIT)
def display_rows(rec: np.ndarray, at: int, dt_s: float, x_contact: float, out: np.ndarray) -> None:
    """Columns at..at+n of a weld's record (6, m: A, V, N, µm, R in Ω, P) as the operator sees
    them, into out (n, 7): t (s), I, V, R (mΩ), P, F, set-down (µm from x_contact; 0 where
    x_contact is NaN: no contact yet). (With NumPy this took 10 µs a block: eight strided
    copies, each paying its own call.)"""
    touching = not math.isnan(x_contact)
    for i in range(out.shape[0]):
        k = at + i
        out[i, 0] = k * dt_s
        out[i, 1] = rec[0, k]
        out[i, 2] = rec[1, k]
        out[i, 3] = rec[4, k] * 1e3
        out[i, 4] = rec[5, k]
        out[i, 5] = rec[2, k]
        out[i, 6] = x_contact - rec[3, k] if touching else 0.0
