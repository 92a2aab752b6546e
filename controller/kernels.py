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
N_MPARAMS = 13

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
Q_HIST = 26  # ring buffer of the last set-down values (for the speed), 64 slots
N_HIST = 64
N_MSTATE = Q_HIST + N_HIST

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
    n_env = env_lo.shape[1]
    for k in range(block.shape[0]):
        n = int(q[Q_N])
        t = n * dt
        i = block[k, 0]
        v = block[k, 1]
        f = block[k, 2]
        x = block[k, 3]
        p = v * i
        p_out[k] = p
        q[Q_F_PEAK] = max(q[Q_F_PEAK], f)
        # contact and firing force, from the force signal
        if q[Q_CONTACT] < 0.5 and f >= mp[M_CONTACT_N]:
            q[Q_CONTACT] = 1.0
            q[Q_T_CONTACT] = t
            q[Q_X_CONTACT] = x
        if q[Q_T_FIRING] < 0.0 and f >= mp[M_FIRING_N]:
            q[Q_T_FIRING] = t
        sd = q[Q_X_CONTACT] - x if q[Q_CONTACT] > 0.5 else 0.0
        q[Q_SETDOWN_UM] = sd
        q[Q_SETDOWN_MAX_UM] = max(q[Q_SETDOWN_MAX_UM], sd)
        # set-down speed over the window (ring buffer of set-down values)
        slot = Q_HIST + n % N_HIST
        old = q[Q_HIST + (n - win) % N_HIST] if n >= win else sd
        q[slot] = sd
        vel = (sd - old) / (win * dt * 1e3)  # µm/ms
        r = math.nan
        on = abs(i) > gate
        if on:
            r = v / i
            if q[Q_T_ON] < 0.0:
                q[Q_T_ON] = t
                q[Q_R_FIRST] = r
            q[Q_T_OFF] = t + dt
            q[Q_ON_N] += 1.0
            q[Q_I2_SUM] += i * i
            q[Q_ENERGY_J] += p * dt
            q[Q_I_PEAK] = max(q[Q_I_PEAK], abs(i))
            q[Q_P_PEAK] = max(q[Q_P_PEAK], p)
            q[Q_R_LAST] = r
            r_peak_before = q[Q_R_PEAK]
            q[Q_R_PEAK] = max(q[Q_R_PEAK], r)
            # burn-through: the enamel gives way and the electrode sinks fast
            if q[Q_T_BURN] < 0.0 and vel >= mp[M_BURN_VEL_UM_MS] and t - q[Q_T_ON] > win * dt:
                q[Q_T_BURN] = t - 0.5 * win * dt
            # expulsion: a crest in R with a jump in set-down
            if (
                q[Q_T_EXPEL] < 0.0
                and mp[M_EXPEL_JUMP_UM] > 0.0
                and r_peak_before > 0.0
                and r < r_peak_before * (1.0 - mp[M_EXPEL_R_DROP_PCT] / 100.0)
                and vel * win * dt * 1e3 >= mp[M_EXPEL_JUMP_UM]
            ):
                q[Q_T_EXPEL] = t
            # stop criteria, latched with the time of the first one
            stop = 0
            if mp[M_SETDOWN_TARGET_UM] > 0.0 and sd >= mp[M_SETDOWN_TARGET_UM]:
                stop |= STOP_SETDOWN
                if q[Q_T_TARGET] < 0.0:
                    q[Q_T_TARGET] = t
            if mp[M_R_DROP_PCT] > 0.0 and r < q[Q_R_PEAK] * (1.0 - mp[M_R_DROP_PCT] / 100.0):
                stop |= STOP_R_DROP
            if mp[M_ENERGY_MAX_J] > 0.0 and q[Q_ENERGY_J] >= mp[M_ENERGY_MAX_J]:
                stop |= STOP_ENERGY
            if mp[M_TIME_MAX_MS] > 0.0 and (t + dt - q[Q_T_ON]) * 1e3 >= mp[M_TIME_MAX_MS]:
                stop |= STOP_TIME
            if stop and q[Q_T_STOP] < 0.0:
                q[Q_T_STOP] = t
            q[Q_STOP] = float(int(q[Q_STOP]) | stop)
        r_out[k] = r
        # envelope: bands against time since the current started
        if q[Q_T_ON] >= 0.0 and q[Q_ENV_T] < 0.0:
            j = round((t - q[Q_T_ON]) / dt)
            if j < n_env:
                vals = (r, i, v, p, f, sd)
                for ch in range(N_CH):
                    val = vals[ch]
                    lo = env_lo[ch, j]
                    hi = env_hi[ch, j]
                    if math.isnan(val):
                        continue
                    if (not math.isnan(lo) and val < lo) or (not math.isnan(hi) and val > hi):
                        q[Q_ENV_T] = t
                        q[Q_ENV_CH] = ch
                        q[Q_ENV_V] = val
                        break
        q[Q_N] = n + 1.0
