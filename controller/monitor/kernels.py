"""The monitor's numba kernel: a block of samples in a few tight passes, state carried between
blocks.

Per sample: dynamic resistance R = V/I (gated on |I|), power, energy, set-down from the contact
position; per weld: peak and RMS current, weld time, events with their times, stop criteria and
the first envelope violation. Splitting a weld into blocks never changes the result (the state
vector carries everything); `controller/reference.py` is the same algorithm in plain Python.

A block goes through passes, each a loop with few live values, which the compiler keeps in
registers: the events that happen once (contact, firing force, current start); one pass sample
by sample for the set-down and its speed, R, P and the sums over the gated samples (it leaves
the rare samples where the speed beats its peak to a function of their own); the checks that can
still change something (expulsion, stop criteria), each looking for its first sample; the
envelope, channel by channel. Each value gets the reference's arithmetic in the reference's
order, so the results are the same to the bit as sample by sample.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from controller.monitor.jit import JIT, PASS
from controller.monitor.layout import (  # noqa: F401  (the users read the layout as kernels.<name>)
    CH_F,
    CH_I,
    CH_P,
    CH_R,
    CH_SETDOWN,
    CH_V,
    M_BURN_FRAC,
    M_BURN_VEL_UM_MS,
    M_CONTACT_N,
    M_DT_S,
    M_ENERGY_MAX_J,
    M_EXPEL_JUMP_UM,
    M_EXPEL_R_DROP_PCT,
    M_FIRING_N,
    M_GATE_A,
    M_R_DROP_PCT,
    M_R_GATE_A,
    M_SETDOWN_TARGET_UM,
    M_TIME_MAX_MS,
    M_VEL_WINDOW,
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


@njit(**PASS)
def _set_down(flat: np.ndarray, w: int, k: int, k_contact: int, x_contact: float) -> float:
    """Set-down at row k: from the contact position on, 0 before contact."""
    return x_contact - flat[w * k + 3] if k >= k_contact else 0.0


@njit(**PASS)
def _set_down_back(
    q: np.ndarray,
    flat: np.ndarray,
    w: int,
    k: int,
    n: int,
    win: int,
    sd: float,
    k_contact: int,
    x_contact: float,
) -> float:
    """The set-down that the speed at row k (sample n, set-down sd) compares with: the ring
    buffer's slot for sample n - win (sd itself in the first win samples). The slot was last
    written d samples back (d = win for the usual 1 <= win <= 64): in this chunk, or before it,
    and then the ring holds it (the ring is written at the chunk's end)."""
    if n < win:
        return sd
    d = ((win - 1) & (N_HIST - 1)) + 1
    if k >= d:
        return _set_down(flat, w, k - d, k_contact, x_contact)
    return q[Q_HIST + ((n - win) & (N_HIST - 1))]


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
def _force_events(
    mp: np.ndarray, q: np.ndarray, flat: np.ndarray, w: int, m: int, base: int
) -> int:
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
def _current_start(
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
            q[Q_R_FIRST] = flat[w * k + 1] / flat[w * k]  # (R as _run takes it)
            return base + k
    return 0


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


@njit(**PASS)
def _run(
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
    """Rows a..b-1, sample by sample: the force peak; set-down and its speed (µm/ms over win
    samples, into the ring of speeds); R (NaN where gated off), P, and the sums and peaks over
    the gated rows, in the reference's order. fast: all the rows are in contact, and so are the
    ones the speed compares with, in this chunk.

    The run stops after a gated row where the speed beats its peak or the set-down reaches
    target_cut: what to do there is rare (burn-through, the target), and done outside. Return
    that row (b: none) and the last gated row (-1: none)."""
    dt = mp[M_DT_S]
    gate = mp[M_GATE_A]
    r_gate = mp[M_R_GATE_A]
    win = int(mp[M_VEL_WINDOW])
    vel_scale = 1.0 / (win * dt * 1e3)  # µm per window -> µm/ms
    x_contact = q[Q_X_CONTACT]
    vel_peak = q[Q_VEL_PEAK]
    f_peak = q[Q_F_PEAK]
    sd_max = q[Q_SETDOWN_MAX_UM]
    n_gated = 0  # (counted, and added to the count in q at the end: fewer live values)
    i2_sum = q[Q_I2_SUM]
    energy = q[Q_ENERGY_J]
    i_peak = q[Q_I_PEAK]
    p_peak = q[Q_P_PEAK]
    r_peak = q[Q_R_PEAK]
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
            sd = _set_down(flat, w, k, k_contact, x_contact)
            vel = (sd - _set_down_back(q, flat, w, k, n, win, sd, k_contact, x_contact)) * vel_scale
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
    return stop, k_off


@njit(**JIT)
def _burn_through(mp: np.ndarray, q: np.ndarray, n: int, n_on: int) -> None:
    """At gated sample n, where the set-down speed may beat its peak: burn-through.

    The enamel gives way and the electrode sinks; the sinking speed peaks as the enamel is
    squeezed out. Burn-through starts where the final rise to the peak speed passed burn_frac
    of that peak (found by walking back through the speeds), and counts once the peak speed
    reaches burn_vel. (Rare: out of the loop, not to crowd it.)"""
    win = int(mp[M_VEL_WINDOW])
    vel = q[Q_VHIST + (n & (N_VHIST - 1))]
    if vel > q[Q_VEL_PEAK] and n - n_on > win:
        q[Q_VEL_PEAK] = vel
        level = mp[M_BURN_FRAC] * vel
        j = n
        while (
            n - j < N_VHIST - 1
            and j - 1 - n_on > win
            and q[Q_VHIST + ((j - 1) & (N_VHIST - 1))] >= level
        ):
            j -= 1
        if vel >= mp[M_BURN_VEL_UM_MS]:
            q[Q_T_BURN] = (j - 0.5 * win) * mp[M_DT_S]


@njit(**PASS)
def _expulsion(
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
    keep = 1.0 - mp[M_EXPEL_R_DROP_PCT] / 100.0
    jump = mp[M_EXPEL_JUMP_UM]
    win = int(mp[M_VEL_WINDOW])
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
                sd = _set_down(flat, w, k, k_contact, x_contact)
                old = _set_down_back(q, flat, w, k, base + k, win, sd, k_contact, x_contact)
                if sd - old >= jump:
                    k_expel = k
        k += 1
    return k_expel


@njit(**PASS)
def _r_drop(
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
def _energy_reached(
    mp: np.ndarray, flat: np.ndarray, w: int, m: int, p_out: np.ndarray, energy: float
) -> int:
    """First gated row where the energy (summed as _run sums it, from energy at the chunk's
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
def _time_reached(
    mp: np.ndarray, q: np.ndarray, flat: np.ndarray, w: int, m: int, base: int
) -> int:
    """First gated row where the weld time reaches the stop's (m: none)."""
    dt = mp[M_DT_S]
    gate = mp[M_GATE_A]
    t_max = mp[M_TIME_MAX_MS]
    t_on = q[Q_T_ON]
    k = 0
    while k < m and not (abs(flat[w * k]) > gate and ((base + k) * dt + dt - t_on) * 1e3 >= t_max):
        k += 1
    return k


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
        v = _set_down(flat, w, k, k_contact, x_contact)
        outside += (v < lo[k]) | (v > hi[k])
    if outside == 0:
        return n
    k = 0
    while not (
        _set_down(flat, w, k, k_contact, x_contact) < lo[k]
        or _set_down(flat, w, k, k_contact, x_contact) > hi[k]
    ):
        k += 1
    return k


@njit(**PASS)
def _envelope(
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
                val = _set_down(flat, w, k, k_contact, x_contact) if k < k_bad else 0.0
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
    k_contact = _force_events(mp, q, flat, w, m, base)
    n_on = _current_start(mp, q, flat, w, m, base)

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
    # The rows sample by sample: first those before k_fast (before contact, or the speed
    # compares with a set-down from the ring, or with itself in the first win samples), then
    # the rest. A run stops at a rare row, which is seen to, and goes on after it. (Two calls,
    # each with a constant for fast: the compiler makes a loop of its own for each.)
    win = int(mp[M_VEL_WINDOW])
    k_fast = min(max(k_contact + ((win - 1) & (N_HIST - 1)) + 1, win - base), m)
    k_target = m
    k_off = -1
    k = 0
    while k < m:
        if k < k_fast:
            end = k_fast
            k_rare, k_last = _run(
                mp, q, flat, w, k, end, False, base, k_contact, target_cut, r_out, p_out
            )
        else:
            end = m
            k_rare, k_last = _run(
                mp, q, flat, w, k, end, True, base, k_contact, target_cut, r_out, p_out
            )
        k_off = max(k_off, k_last)
        k = end
        if k_rare < end:
            _burn_through(mp, q, base + k_rare, n_on)
            sd = _set_down(flat, w, k_rare, k_contact, q[Q_X_CONTACT])
            if set_down_armed and k_target == m and sd >= target_cut:
                k_target = k_rare
                target_cut = math.inf  # (the first one counts)
            k = k_rare + 1
    if m > 0:
        q[Q_SETDOWN_UM] = _set_down(flat, w, m - 1, k_contact, q[Q_X_CONTACT])
    k_expel = m
    if mp[M_EXPEL_JUMP_UM] > 0.0 and q[Q_T_EXPEL] < 0.0:
        k_expel = _expulsion(mp, q, flat, w, m, base, r_out, k_contact, r_peak)
    k_r_drop = m
    if mp[M_R_DROP_PCT] > 0.0 and ((stop_bits & STOP_R_DROP) == 0 or t_stop < 0.0):
        k_r_drop = _r_drop(mp, flat, w, m, r_out, r_peak)
    k_energy = m
    if mp[M_ENERGY_MAX_J] > 0.0 and ((stop_bits & STOP_ENERGY) == 0 or t_stop < 0.0):
        k_energy = _energy_reached(mp, flat, w, m, p_out, energy)
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
            k_time = _time_reached(mp, q, flat, w, m, base)
    # the ring of set-downs for the next chunk (the expulsion check read it as it was)
    x_contact = q[Q_X_CONTACT]
    for k in range(max(0, m - N_HIST), m):
        q[Q_HIST + ((base + k) & (N_HIST - 1))] = _set_down(flat, w, k, k_contact, x_contact)

    # stop criteria, latched with the time of the first one
    if k_expel < m:
        q[Q_T_EXPEL] = (base + k_expel) * dt
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

    if q[Q_T_ON] >= 0.0 and q[Q_ENV_T] < 0.0:
        _envelope(mp, q, flat, w, m, base, n_on, k_contact, env_lo, env_hi, r_out, p_out)
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
