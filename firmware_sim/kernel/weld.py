"""The kernel's entry: the load, the part, a weld's reset, firing, and `advance` block by block."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from firmware_sim.kernel.cd import _fast_cd
from firmware_sim.kernel.common import _INLINE, _JIT, _temp
from firmware_sim.kernel.direct import _direct_missing_r, _direct_resistances, _direct_step
from firmware_sim.kernel.head import _head_step
from firmware_sim.kernel.layout import (
    HEAD_IDLE,
    HEAD_RETRACT,
    OUT_CURRENT,
    OUT_FORCE,
    OUT_POSITION,
    OUT_VOLTAGE,
    P_AUTO_FIRE,
    P_AUTO_RETRACT,
    P_DECIM,
    P_DT_OVER_L,
    P_DT_S,
    P_ENAMEL_H0_M,
    P_HEAD_COMP_M,
    P_HEAD_FORCE_N,
    P_HEAD_INV_TAU,
    P_HEAD_K_N_M,
    P_HEAD_RAMP_N_S,
    P_HEAD_RAMP_V,
    P_HEAD_START_GAP_M,
    P_HEAD_TAU_S,
    P_HEAD_VMAX_M_S,
    P_INV_CTRL_PERIOD_S,
    P_INV_INV_SPAN,
    P_INV_PWM_PERIOD_S,
    P_INV_SPAN,
    P_INV_STEPS_PER_TICK,
    P_L_H,
    P_MISSING_WIRE,
    P_PART_TOP_M,
    P_PHYS_EVERY,
    P_PROCESS_KIND,
    P_RES_LOAD_OHM,
    P_SEG_HOLD_S,
    P_SEG_SQUEEZE_S,
    P_SUPPLY_KIND,
    P_T0_C,
    P_TIP_ALPHA,
    P_TIP_CAP,
    P_TIP_LAT,
    P_TIP_R0_OHM,
    P_TIP_TM,
    P_WIRE_D_M,
    PH_IDLE,
    PROC_DIRECT,
    PROC_RESISTOR,
    PROC_THERMOCOMPRESSION,
    S_BURN_T,
    S_E_BOT,
    S_E_ELEC,
    S_E_TOP,
    S_FIRE,
    S_H0,
    S_HEAD_MODE,
    S_I,
    S_I2_ACC,
    S_MOTOR_M,
    S_PHASE,
    S_PHYS_N,
    S_PULSE_IDX,
    S_R_B1,
    S_R_B2,
    S_R_EC1,
    S_R_EC2,
    S_R_FAY,
    S_R_LOAD,
    S_SEG_IDX,
    S_STEP,
    S_SUPPLY_STATE,
    S_T,
    S_T_AT_FORCE,
    S_T_EL_PEAK,
    S_T_FIRE,
    S_T_I_END,
    S_T_I_START,
    S_T_IF_PEAK,
    S_T_RETRACT_DONE,
    S_T_SUPPLY_END,
    S_T_WIRE_PEAK,
    SS_DONE,
    SS_RUNNING,
    SUP_CD,
    SUP_INVERTER,
)
from firmware_sim.kernel.supply import _fast_inverter
from firmware_sim.kernel.thermo import _tc_step

# Every function here is cached. numba keeps a cached function while its file stays the same
# ("changes in symbols defined in another file are not detected"), with the other kernel modules'
# code and constants frozen into it. So this file holds the SHA-256 of those modules: an edit to
# any of them must edit this file too, which discards the cached `advance`
# (tests/unit/firmware_sim/test_kernel_layout.py recomputes it, and gives the new value when stale).
SOURCES_SHA256 = "5450ca0babda8f337f8a5b742445d87214c0c5e30fc17cfa5bef90a767c177c3"
_CACHED: Any = {**_JIT, "cache": True}


@njit(**_CACHED)
def load_resistance_ohm(p: np.ndarray, s: np.ndarray, force_n: float) -> float:
    """Return the load resistance (Ω) seen by the supply in the present state."""
    kind = int(p[P_PROCESS_KIND])
    t0 = p[P_T0_C]
    if kind == PROC_RESISTOR:
        return p[P_RES_LOAD_OHM]
    if kind == PROC_THERMOCOMPRESSION:
        tt = _temp(s[S_H0], p[P_TIP_CAP], p[P_TIP_TM], p[P_TIP_LAT], t0)
        return p[P_TIP_R0_OHM] * (1.0 + p[P_TIP_ALPHA] * (tt - t0))
    # direct welding: contacts and bulk in series
    if p[P_MISSING_WIRE] > 0.5:
        return _direct_missing_r(p, force_n)
    r_fay, r_ec1, r_ec2, r_b1, r_b2 = _direct_resistances(p, s, force_n)
    return r_fay + r_ec1 + r_ec2 + r_b1 + r_b2


@njit(**_CACHED)
def part_top_m(p: np.ndarray) -> float:
    """Return the height (m) of the part's top surface above the terminal before any set-down."""
    if p[P_MISSING_WIRE] > 0.5:
        return 0.0
    kind = int(p[P_PROCESS_KIND])
    if kind == PROC_THERMOCOMPRESSION:
        return p[P_WIRE_D_M] + 2.0 * p[P_ENAMEL_H0_M]
    if kind == PROC_DIRECT:
        return 2.0 * p[P_WIRE_D_M]
    return 0.0


@njit(**_CACHED)
def derive(p: np.ndarray) -> None:
    """Fill the derived parameters (reciprocals, geometry) from the primary ones."""
    p[P_PART_TOP_M] = part_top_m(p)
    k = p[P_HEAD_K_N_M]
    p[P_HEAD_COMP_M] = p[P_HEAD_FORCE_N] / k
    p[P_HEAD_RAMP_V] = min(p[P_HEAD_RAMP_N_S] / k, p[P_HEAD_VMAX_M_S])
    p[P_HEAD_INV_TAU] = 1.0 / p[P_HEAD_TAU_S]
    if int(p[P_SUPPLY_KIND]) == SUP_INVERTER:
        p[P_INV_SPAN] = p[P_DT_S] / p[P_INV_PWM_PERIOD_S]
        p[P_INV_INV_SPAN] = 1.0 / p[P_INV_SPAN]
        # a feedback tick falls on the step where the count reaches period/dt (half-step slack)
        p[P_INV_STEPS_PER_TICK] = p[P_INV_CTRL_PERIOD_S] / p[P_DT_S] - 0.5
    p[P_DT_OVER_L] = p[P_DT_S] / p[P_L_H]
    if p[P_PHYS_EVERY] < 1.0:
        p[P_PHYS_EVERY] = 1.0


@njit(**_CACHED)
def init_state(p: np.ndarray, s: np.ndarray) -> None:
    """Reset the state vector for a new weld: head at its start height, everything cold."""
    derive(p)
    s[:] = 0.0
    s[S_HEAD_MODE] = HEAD_IDLE
    s[S_PHASE] = PH_IDLE
    s[S_MOTOR_M] = part_top_m(p) + p[P_HEAD_START_GAP_M]
    s[S_E_TOP] = p[P_ENAMEL_H0_M]
    s[S_E_BOT] = p[P_ENAMEL_H0_M]
    s[S_BURN_T] = -1.0
    s[S_T_I_START] = -1.0
    s[S_T_I_END] = -1.0
    s[S_T_AT_FORCE] = -1.0
    s[S_T_FIRE] = -1.0
    s[S_T_SUPPLY_END] = -1.0
    s[S_T_RETRACT_DONE] = -1.0
    s[S_T_IF_PEAK] = p[P_T0_C]
    s[S_T_WIRE_PEAK] = p[P_T0_C]
    s[S_T_EL_PEAK] = p[P_T0_C]
    s[S_SEG_IDX] = -1.0
    _refresh_load(p, s, 0.0)


@njit(**_INLINE)
def _refresh_load(p: np.ndarray, s: np.ndarray, force: float) -> None:
    """Cache the load resistance (and, for direct welding, its parts) for the next interval."""
    if int(p[P_PROCESS_KIND]) == PROC_DIRECT and p[P_MISSING_WIRE] < 0.5:
        r_fay, r_ec1, r_ec2, rb1, rb2 = _direct_resistances(p, s, force)
        s[S_R_FAY] = r_fay
        s[S_R_EC1] = r_ec1
        s[S_R_EC2] = r_ec2
        s[S_R_B1] = rb1
        s[S_R_B2] = rb2
        s[S_R_LOAD] = r_fay + r_ec1 + r_ec2 + rb1 + rb2
    elif int(p[P_PROCESS_KIND]) == PROC_THERMOCOMPRESSION:
        t0 = p[P_T0_C]
        tt = _temp(s[S_H0], p[P_TIP_CAP], p[P_TIP_TM], p[P_TIP_LAT], t0)
        s[S_R_LOAD] = p[P_TIP_R0_OHM] * (1.0 + p[P_TIP_ALPHA] * (tt - t0))
    elif int(p[P_PROCESS_KIND]) == PROC_RESISTOR:
        s[S_R_LOAD] = p[P_RES_LOAD_OHM]
    else:
        s[S_R_LOAD] = load_resistance_ohm(p, s, force)


@njit(**_INLINE)
def _block(p: np.ndarray, s: np.ndarray, n_fast: int) -> tuple[float, float, float, float]:
    """Advance one output sample (n_fast electrical steps); return (I A, V V, F N, tip m)."""
    dt = p[P_DT_S]
    dt_out = n_fast * dt
    force, tip = _head_step(p, s, dt_out)
    # the sequence the station runs on its own when told to (simulate CLI, auto mode)
    if p[P_AUTO_FIRE] > 0.5 and s[S_FIRE] < 0.5 and s[S_T_AT_FORCE] >= 0.0:
        fire(p, s)
    if (
        p[P_AUTO_RETRACT] > 0.5
        and s[S_SUPPLY_STATE] == SS_DONE
        and int(s[S_HEAD_MODE]) != HEAD_RETRACT
        and s[S_T] - s[S_T_SUPPLY_END]
        >= (p[P_SEG_HOLD_S] if int(p[P_SUPPLY_KIND]) == SUP_CD else 0.0)
    ):
        s[S_HEAD_MODE] = HEAD_RETRACT
    r_load = s[S_R_LOAD]
    if int(p[P_SUPPLY_KIND]) == SUP_CD:
        s[S_I2_ACC] += _fast_cd(p, s, r_load, n_fast, dt)
    else:
        s[S_I2_ACC] += _fast_inverter(p, s, r_load, n_fast, dt)
    s[S_STEP] += n_fast
    s[S_PHYS_N] += 1.0
    if s[S_PHYS_N] >= p[P_PHYS_EVERY]:
        # Heat, enamel and mechanics have time constants >= 0.3 ms: they step every few output
        # samples, fed with the exact Joule energy of the electrical steps (the ledger stays
        # exact); the head and the circuit run at every sample.
        dt_phys = s[S_PHYS_N] * dt_out
        i2dt = s[S_I2_ACC]
        q = r_load * i2dt
        s[S_E_ELEC] += q
        kind = int(p[P_PROCESS_KIND])
        if kind == PROC_RESISTOR:
            s[S_H0] += q
        elif kind == PROC_THERMOCOMPRESSION:
            _tc_step(p, s, dt_phys, q / dt_phys, force)
        else:
            _direct_step(p, s, dt_phys, i2dt, force)
        s[S_I2_ACC] = 0.0
        s[S_PHYS_N] = 0.0
        _refresh_load(p, s, force)
    i1 = s[S_I]
    return i1, i1 * r_load, force, tip


@njit(**_CACHED)
def fire(p: np.ndarray, s: np.ndarray) -> None:
    """Start the supply's pulse sequence now (the FIRE command)."""
    if s[S_FIRE] > 0.5:
        return
    s[S_FIRE] = 1.0
    s[S_T_FIRE] = s[S_T]
    s[S_SUPPLY_STATE] = SS_RUNNING
    s[S_PULSE_IDX] = 0.0
    if int(p[P_SUPPLY_KIND]) == SUP_CD:
        # The CD supply waits the squeeze time before pulse 1 (the head holds force meanwhile).
        s[S_T_FIRE] = s[S_T] + p[P_SEG_SQUEEZE_S]


@njit("int64(float64[::1], float64[::1], float64[:, ::1], int64)", **_CACHED)
def advance(p: np.ndarray, s: np.ndarray, out: np.ndarray, n_out: int) -> int:
    """Advance n_out output samples (each p[P_DECIM] steps); write I A, V V, F N, position µm."""
    decim = int(p[P_DECIM])
    for k in range(n_out):
        i, v, f, x = _block(p, s, decim)
        out[k, OUT_CURRENT] = i
        out[k, OUT_VOLTAGE] = v
        out[k, OUT_FORCE] = f
        out[k, OUT_POSITION] = x * 1e6
    return n_out
