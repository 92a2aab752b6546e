"""The servo force head: approach, soft-touch search, force ramp, follow-up, retract."""

from __future__ import annotations

import numpy as np
from numba import njit

from firmware_sim.kernel.common import _INLINE, _clip
from firmware_sim.kernel.layout import (
    HEAD_APPROACH,
    HEAD_RETRACT,
    P_HEAD_APPROACH_M_S,
    P_HEAD_COMP_M,
    P_HEAD_CONTACT_N,
    P_HEAD_FIRE_PCT,
    P_HEAD_FORCE_N,
    P_HEAD_INV_TAU,
    P_HEAD_K_N_M,
    P_HEAD_RAMP_V,
    P_HEAD_RETRACT_M_S,
    P_HEAD_SEARCH_GAP_M,
    P_HEAD_SEARCH_M_S,
    P_HEAD_VMAX_M_S,
    P_PART_TOP_M,
    PH_APPROACH,
    PH_AT_FORCE,
    PH_RAMP,
    PH_RETRACT,
    PH_SEARCH,
    S_AT_FORCE,
    S_CONTACT,
    S_CONTACT_M,
    S_HEAD_MODE,
    S_MOTOR_M,
    S_PHASE,
    S_SETDOWN_M,
    S_T,
    S_T_AT_FORCE,
    S_T_RETRACT_DONE,
)


@njit(**_INLINE)
def _head_step(p: np.ndarray, s: np.ndarray, dt: float) -> tuple[float, float]:
    """Advance the servo head one step; return (force N, tip height m)."""
    surface = p[P_PART_TOP_M] - s[S_SETDOWN_M]
    k = p[P_HEAD_K_N_M]
    m = s[S_MOTOR_M]
    force = k * (surface - m) if m < surface else 0.0
    mode = int(s[S_HEAD_MODE])
    if mode == HEAD_APPROACH:
        if s[S_CONTACT] < 0.5:
            if m > surface + p[P_HEAD_SEARCH_GAP_M]:
                s[S_PHASE] = PH_APPROACH
                m -= p[P_HEAD_APPROACH_M_S] * dt
            else:
                s[S_PHASE] = PH_SEARCH
                m -= p[P_HEAD_SEARCH_M_S] * dt
            if force >= p[P_HEAD_CONTACT_N]:
                s[S_CONTACT] = 1.0
                s[S_CONTACT_M] = surface
        else:
            target = p[P_HEAD_FORCE_N]
            if s[S_AT_FORCE] < 0.5:
                s[S_PHASE] = PH_RAMP
                # Ramp the spring at the force rate; the motor speed it takes is bounded.
                m -= p[P_HEAD_RAMP_V] * dt
                force = k * (surface - m)
                if force >= target * p[P_HEAD_FIRE_PCT] / 100.0 and s[S_T_AT_FORCE] < 0.0:
                    s[S_T_AT_FORCE] = s[S_T]
                if force >= target:
                    s[S_AT_FORCE] = 1.0
                    m = surface - p[P_HEAD_COMP_M]
            else:
                s[S_PHASE] = PH_AT_FORCE
                # Servo follow-up: the spring compression is restored with a first-order lag, so
                # fast set-down dips the force as on a real head.
                err = (surface - p[P_HEAD_COMP_M]) - m
                v = _clip(err * p[P_HEAD_INV_TAU], -p[P_HEAD_VMAX_M_S], p[P_HEAD_VMAX_M_S])
                m += v * dt
    elif mode == HEAD_RETRACT:
        s[S_PHASE] = PH_RETRACT
        m += p[P_HEAD_RETRACT_M_S] * dt
        s[S_AT_FORCE] = 0.0
        if m >= surface and s[S_T_RETRACT_DONE] < 0.0:
            s[S_T_RETRACT_DONE] = s[S_T]
            s[S_CONTACT] = 0.0
    s[S_MOTOR_M] = m
    force = k * (surface - m) if m < surface else 0.0
    return force, max(m, surface)
