"""The monitor's numba kernel: one fused pass per block of samples, state carried between blocks.

Per sample: dynamic resistance R = V/I (gated on |I|), power, energy, set-down from the contact
position; per weld: peak and RMS current, weld time, events with their times, stop criteria and
the first envelope violation. Splitting a weld into blocks never changes the result (the state
vector carries everything); `controller/reference.py` is the same algorithm in plain Python.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# --- parameters (float64 vector) -----------------------------------------------------------------
M_DT_S = 0  # sample period
M_GATE_A = 1  # |I| above which R is defined and the weld is "on"
M_CONTACT_N = 2  # force that means contact
M_FIRING_N = 3  # firing force
M_WIRE_D_UM = 4  # for set-down in % of the wire diameter
M_SETDOWN_TARGET_UM = 5  # stop criterion (0: off)
M_R_DROP_PCT = 6  # stop when R falls this far below its peak (0: off)
M_ENERGY_MAX_J = 7  # stop criterion (0: off)
M_TIME_MAX_MS = 8  # stop criterion (0: off)
M_BURN_VEL_UM_MS = 9  # set-down speed that marks enamel burn-through
M_VEL_WINDOW = 10  # samples over which the set-down speed is taken
M_EXPEL_JUMP_UM = 11  # set-down jump within the window that marks expulsion (with an R crest)
M_EXPEL_R_DROP_PCT = 12  # fall of R from its running peak that marks the crest
M_BURN_FRAC = 13  # burn-through starts where the final rise passes this share of peak speed
M_R_GATE_A = 14  # |I| above which R counts for its features (peak, end, crest): less noise
N_MPARAMS = 15

# --- state (float64 vector) --------------------------------------------------------------------
Q_N = 0  # samples seen
Q_ENERGY_J = 1
Q_I2_SUM = 2  # Σ I² over gated samples (RMS)
Q_I_PEAK = 3
Q_ON_N = 4  # gated samples (weld time)
Q_T_ON = 5  # first gated sample time (-1: none)
Q_T_OFF = 6  # end of the last gated sample
Q_CONTACT = 7
Q_T_CONTACT = 8
Q_X_CONTACT = 9
Q_T_FIRING = 10
Q_SETDOWN_UM = 11
Q_SETDOWN_MAX_UM = 12
Q_R_LAST = 13
Q_R_PEAK = 14
Q_R_FIRST = 15
Q_T_BURN = 16
Q_T_EXPEL = 17
Q_T_TARGET = 18
Q_STOP = 19  # bitmask of stop criteria met
Q_T_STOP = 20
Q_ENV_T = 21  # first envelope violation: time, channel, value (-1: none)
Q_ENV_CH = 22
Q_ENV_V = 23
Q_F_PEAK = 24
Q_P_PEAK = 25
Q_VEL_PEAK = 26  # highest set-down speed while the current flows, µm/ms
Q_HIST = 27  # ring buffer of the last set-down values (for the speed), 64 slots
N_HIST = 64
Q_VHIST = Q_HIST + N_HIST  # ring buffer of the last set-down speeds, 256 slots
N_VHIST = 256
N_MSTATE = Q_VHIST + N_VHIST

# stop reasons (bits of Q_STOP)
STOP_SETDOWN = 1
STOP_R_DROP = 2
STOP_ENERGY = 4
STOP_TIME = 8

# envelope channels
CH_R, CH_I, CH_V, CH_P, CH_F, CH_SETDOWN = 0, 1, 2, 3, 4, 5
N_CH = 6


def new_state() -> np.ndarray:
    """Return a fresh monitor state (nothing seen yet)."""
    q = np.zeros(N_MSTATE)
    for k in (
        Q_T_ON,
        Q_T_OFF,
        Q_T_CONTACT,
        Q_T_FIRING,
        Q_T_BURN,
        Q_T_EXPEL,
        Q_T_TARGET,
        Q_T_STOP,
        Q_ENV_T,
        Q_ENV_CH,
    ):
        q[k] = -1.0
    q[Q_R_LAST] = math.nan
    q[Q_R_FIRST] = math.nan
    return q


@njit(
    "void(float64[::1], float64[::1], float64[:, ::1], float64[:, ::1], float64[:, ::1],"
    " float64[::1], float64[::1])",
    cache=True,
    error_model="numpy",
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
    NaN means no band there. The state q carries everything between blocks.
    """
    dt = mp[M_DT_S]
    gate = mp[M_GATE_A]
    win = int(mp[M_VEL_WINDOW])
    contact_n = mp[M_CONTACT_N]
    firing_n = mp[M_FIRING_N]
    burn_vel = mp[M_BURN_VEL_UM_MS]
    expel_jump = mp[M_EXPEL_JUMP_UM]
    expel_keep = 1.0 - mp[M_EXPEL_R_DROP_PCT] / 100.0
    target = mp[M_SETDOWN_TARGET_UM]
    r_keep = 1.0 - mp[M_R_DROP_PCT] / 100.0
    r_drop_on = mp[M_R_DROP_PCT] > 0.0
    e_max = mp[M_ENERGY_MAX_J]
    t_max = mp[M_TIME_MAX_MS]
    vel_scale = 1.0 / (win * dt * 1e3)  # µm per window -> µm/ms
    n_env = env_lo.shape[1]
    hist = q[Q_HIST : Q_HIST + N_HIST]
    vhist = q[Q_VHIST : Q_VHIST + N_VHIST]
    burn_frac = mp[M_BURN_FRAC]
    r_gate = mp[M_R_GATE_A]
    vel_peak = q[Q_VEL_PEAK]
    # The state lives in locals for the whole block (the compiler keeps them in registers) and
    # goes back into q once at the end: the same arithmetic, sample by sample, as the reference.
    n = int(q[Q_N])
    energy = q[Q_ENERGY_J]
    i2_sum = q[Q_I2_SUM]
    i_peak = q[Q_I_PEAK]
    on_n = q[Q_ON_N]
    t_on = q[Q_T_ON]
    n_on = round(t_on / dt) if t_on >= 0.0 else 0  # the sample the current started at
    t_off = q[Q_T_OFF]
    contact = q[Q_CONTACT] > 0.5
    t_contact = q[Q_T_CONTACT]
    x_contact = q[Q_X_CONTACT]
    t_firing = q[Q_T_FIRING]
    sd = q[Q_SETDOWN_UM]
    sd_max = q[Q_SETDOWN_MAX_UM]
    r_last = q[Q_R_LAST]
    r_peak = q[Q_R_PEAK]
    r_first = q[Q_R_FIRST]
    t_burn = q[Q_T_BURN]
    t_expel = q[Q_T_EXPEL]
    t_target = q[Q_T_TARGET]
    stop_bits = int(q[Q_STOP])
    t_stop = q[Q_T_STOP]
    env_t = q[Q_ENV_T]
    env_ch = q[Q_ENV_CH]
    env_v = q[Q_ENV_V]
    f_peak = q[Q_F_PEAK]
    p_peak = q[Q_P_PEAK]
    for k in range(block.shape[0]):
        t = n * dt
        i = block[k, 0]
        v = block[k, 1]
        f = block[k, 2]
        x = block[k, 3]
        p = v * i
        p_out[k] = p
        f_peak = max(f_peak, f)
        # contact and firing force, from the force signal
        if not contact and f >= contact_n:
            contact = True
            t_contact = t
            x_contact = x
        if t_firing < 0.0 and f >= firing_n:
            t_firing = t
        sd = x_contact - x if contact else 0.0
        sd_max = max(sd_max, sd)
        # set-down speed over the window (ring buffer of set-down values)
        old = hist[(n - win) & (N_HIST - 1)] if n >= win else sd
        hist[n & (N_HIST - 1)] = sd
        vel = (sd - old) * vel_scale  # µm/ms
        r = math.nan
        if abs(i) > gate:
            r = v / i
            if t_on < 0.0:
                t_on = t
                n_on = n
                r_first = r
            t_off = t + dt
            on_n += 1.0
            i2_sum += i * i
            energy += p * dt
            i_peak = max(i_peak, abs(i))
            p_peak = max(p_peak, p)
            # R's features only where the current is well up: near the gate V/I is noise
            r_peak_before = r_peak
            if abs(i) > r_gate:
                r_last = r
                r_peak = max(r_peak, r)
            # Burn-through: the enamel gives way and the electrode sinks; the sinking speed
            # peaks as the enamel is squeezed out. It starts where the final rise to the peak
            # speed passed burn_frac of that peak (found by walking back through the speeds),
            # and counts once the peak speed reaches burn_vel.
            if vel > vel_peak and n - n_on > win:
                vel_peak = vel
                m = n
                while (
                    n - m < N_VHIST - 1
                    and m - 1 - n_on > win
                    and vhist[(m - 1) & (N_VHIST - 1)] >= burn_frac * vel_peak
                ):
                    m -= 1
                if vel_peak >= burn_vel:
                    t_burn = (m - 0.5 * win) * dt
            # expulsion: a crest in R with a jump in set-down
            if (
                t_expel < 0.0
                and expel_jump > 0.0
                and r_peak_before > 0.0
                and r < r_peak_before * expel_keep
                and (sd - old) >= expel_jump
            ):
                t_expel = t
            # stop criteria, latched with the time of the first one
            stop = 0
            if target > 0.0 and sd >= target:
                stop |= STOP_SETDOWN
                if t_target < 0.0:
                    t_target = t
            if r_drop_on and r < r_peak * r_keep:
                stop |= STOP_R_DROP
            if e_max > 0.0 and energy >= e_max:
                stop |= STOP_ENERGY
            if t_max > 0.0 and (t + dt - t_on) * 1e3 >= t_max:
                stop |= STOP_TIME
            if stop and t_stop < 0.0:
                t_stop = t
            stop_bits |= stop
        vhist[n & (N_VHIST - 1)] = vel
        r_out[k] = r
        # envelope: bands against time since the current started (j counts samples since)
        if t_on >= 0.0 and env_t < 0.0 and n - n_on < n_env:
            j = n - n_on
            for ch in range(N_CH):
                if ch == CH_R:
                    val = r
                elif ch == CH_I:
                    val = i
                elif ch == CH_V:
                    val = v
                elif ch == CH_P:
                    val = p
                elif ch == CH_F:
                    val = f
                else:
                    val = sd
                lo = env_lo[ch, j]
                hi = env_hi[ch, j]
                if math.isnan(val):
                    continue
                if (not math.isnan(lo) and val < lo) or (not math.isnan(hi) and val > hi):
                    env_t = t
                    env_ch = ch
                    env_v = val
                    break
        n += 1
    q[Q_N] = n
    q[Q_ENERGY_J] = energy
    q[Q_I2_SUM] = i2_sum
    q[Q_I_PEAK] = i_peak
    q[Q_ON_N] = on_n
    q[Q_T_ON] = t_on
    q[Q_T_OFF] = t_off
    q[Q_CONTACT] = 1.0 if contact else 0.0
    q[Q_T_CONTACT] = t_contact
    q[Q_X_CONTACT] = x_contact
    q[Q_T_FIRING] = t_firing
    q[Q_SETDOWN_UM] = sd
    q[Q_SETDOWN_MAX_UM] = sd_max
    q[Q_R_LAST] = r_last
    q[Q_R_PEAK] = r_peak
    q[Q_R_FIRST] = r_first
    q[Q_T_BURN] = t_burn
    q[Q_T_EXPEL] = t_expel
    q[Q_T_TARGET] = t_target
    q[Q_STOP] = stop_bits
    q[Q_T_STOP] = t_stop
    q[Q_ENV_T] = env_t
    q[Q_ENV_CH] = env_ch
    q[Q_ENV_V] = env_v
    q[Q_F_PEAK] = f_peak
    q[Q_P_PEAK] = p_peak
    q[Q_VEL_PEAK] = vel_peak
