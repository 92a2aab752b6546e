"""The monitor kernel's vectors: where each parameter and each state value sits, the stop bits,
the envelope channels, and a fresh state.

Every value is a float64 in one of two vectors: the parameters (M_*, packed from the monitor
settings by controller/monitor/monitor.py) and the state (Q_*, carried from block to block).
"""

from __future__ import annotations

import math

import numpy as np

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
M_BURN_VELOCITY_UM_MS = 9  # set-down speed that marks enamel burn-through
M_VELOCITY_WINDOW = 10  # samples over which the set-down speed is taken
M_EXPULSION_JUMP_UM = 11  # set-down jump within the window that marks expulsion (with an R crest)
M_EXPULSION_R_DROP_PCT = 12  # fall of R from its running peak that marks the crest
M_BURN_FRACTION = 13  # burn-through starts where the final rise passes this share of peak speed
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
