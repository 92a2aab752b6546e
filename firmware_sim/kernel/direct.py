"""Direct welding of crossed wires: contact and bulk resistances, heat, indentation,
expulsion, bond; and the electrodes closing on each other when the wire is missing.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from firmware_sim.kernel.common import _INLINE, _JIT, _KELVIN, _clip, _temp, flow_stress_pa
from firmware_sim.kernel.layout import (
    P_BOND_K0,
    P_BOND_Q_K,
    P_DW_ALPHA,
    P_DW_HARDNESS0_PA,
    P_DW_RHO0,
    P_EC_FILM_OHM_M2,
    P_EL_CAP,
    P_EL_G_SINK,
    P_EXPEL_FRAC0,
    P_FILM_DECAY_C,
    P_FILM_RHO_OHM_M2,
    P_FLOW_V0,
    P_FORCE_REF_N,
    P_H_METAL,
    P_JUNCTION_LEN_M,
    P_MISSING_WIRE,
    P_T0_C,
    P_WIRE_CAP_PER_M,
    P_WIRE_D_M,
    P_WIRE_G_FIN,
    P_WIRE_K,
    P_WIRE_LAT_PER_M,
    P_WIRE_SIGY0_PA,
    P_WIRE_TM,
    S_BOND,
    S_BURN_T,
    S_E_LOSS,
    S_EXPELLED,
    S_H0,
    S_H1,
    S_H2,
    S_H3,
    S_H4,
    S_R_B1,
    S_R_B2,
    S_R_EC1,
    S_R_EC2,
    S_R_FAY,
    S_R_LOAD,
    S_S_WIRE,
    S_SETDOWN_M,
    S_T,
    S_T_EL_PEAK,
    S_T_IF_PEAK,
    S_T_WIRE_PEAK,
)


@njit(**_INLINE)
def _direct_missing_r(p: np.ndarray, force_n: float) -> float:
    # Electrodes closed on each other: a large, hard Cu-Cu contact.
    f = max(force_n, 0.05)
    return p[P_EC_FILM_OHM_M2] / (f / p[P_DW_HARDNESS0_PA] * 10.0) + 2e-5


@njit(**_INLINE)
def _electrode_contact_r(p: np.ndarray, te: float, f: float, a0: float) -> float:
    """Return an electrode/wire contact's resistance (Ω) at its wire's te (°C) under f (N)."""
    rho_e = p[P_DW_RHO0] * (1.0 + p[P_DW_ALPHA] * (te - p[P_T0_C]))
    he = 3.0 * flow_stress_pa(p, 0.0, te) * (p[P_DW_HARDNESS0_PA] / (3.0 * p[P_WIRE_SIGY0_PA]))
    a_e = min(f / max(he, 1e5) * 2.0, a0)
    return rho_e / (2.0 * math.sqrt(a_e / math.pi)) + p[P_EC_FILM_OHM_M2] / a_e


@njit(**_JIT)
def _direct_resistances(
    p: np.ndarray, s: np.ndarray, force_n: float
) -> tuple[float, float, float, float, float]:
    t0 = p[P_T0_C]
    cap = p[P_WIRE_CAP_PER_M] * p[P_JUNCTION_LEN_M]
    lat = p[P_WIRE_LAT_PER_M] * p[P_JUNCTION_LEN_M]
    tj = _temp(s[S_H0], cap, p[P_WIRE_TM], lat, t0)
    t1 = _temp(s[S_H1], cap, p[P_WIRE_TM], lat, t0)
    t2 = _temp(s[S_H2], cap, p[P_WIRE_TM], lat, t0)
    d = p[P_WIRE_D_M]
    a0 = math.pi * d * d / 4.0
    f = max(force_n, 0.05)
    # Babu-type contact: real area from force over hot hardness, constriction plus a film that
    # breaks down with temperature; both fall with pressure and temperature.
    rho_j = p[P_DW_RHO0] * (1.0 + p[P_DW_ALPHA] * (tj - t0))
    hj = 3.0 * flow_stress_pa(p, 0.0, tj) * (p[P_DW_HARDNESS0_PA] / (3.0 * p[P_WIRE_SIGY0_PA]))
    a_geo = math.pi * d * max(s[S_SETDOWN_M], 1e-7) / 2.0
    a_f = min(f / max(hj, 1e5), a0)
    a_f = max(a_f, a_geo)
    a_f = min(a_f, a0)
    film = p[P_FILM_RHO_OHM_M2] * math.exp(-max(tj - t0, 0.0) / p[P_FILM_DECAY_C])
    r_fay = rho_j / (2.0 * math.sqrt(a_f / math.pi)) + film / a_f
    r_ec1 = _electrode_contact_r(p, t1, f, a0)
    r_ec2 = _electrode_contact_r(p, t2, f, a0)
    rb1 = p[P_DW_RHO0] * (1.0 + p[P_DW_ALPHA] * (t1 - t0)) * d / a0
    rb2 = p[P_DW_RHO0] * (1.0 + p[P_DW_ALPHA] * (t2 - t0)) * d / a0
    return r_fay, r_ec1, r_ec2, rb1, rb2


@njit(**_JIT)
def _direct_step(p: np.ndarray, s: np.ndarray, dt: float, i2dt: float, force: float) -> None:
    t0 = p[P_T0_C]
    cap = p[P_WIRE_CAP_PER_M] * p[P_JUNCTION_LEN_M]
    lat = p[P_WIRE_LAT_PER_M] * p[P_JUNCTION_LEN_M]
    tmw = p[P_WIRE_TM]
    te1 = t0 + s[S_H3] / p[P_EL_CAP]
    te2 = t0 + s[S_H4] / p[P_EL_CAP]
    q3 = p[P_EL_G_SINK] * (te1 - t0)
    q4 = p[P_EL_G_SINK] * (te2 - t0)
    if p[P_MISSING_WIRE] > 0.5:
        r = s[S_R_LOAD]
        s[S_H3] += (0.5 * r * i2dt) - q3 * dt
        s[S_H4] += (0.5 * r * i2dt) - q4 * dt
        s[S_E_LOSS] += (q3 + q4) * dt
        return
    d = p[P_WIRE_D_M]
    a0 = math.pi * d * d / 4.0
    # the resistances the supply saw over this step (cached when the step began)
    r_fay, r_ec1, r_ec2, rb1, rb2 = s[S_R_FAY], s[S_R_EC1], s[S_R_EC2], s[S_R_B1], s[S_R_B2]
    tj = _temp(s[S_H0], cap, tmw, lat, t0)
    t1 = _temp(s[S_H1], cap, tmw, lat, t0)
    t2 = _temp(s[S_H2], cap, tmw, lat, t0)
    # conduction through each wire between the junction and its electrode contact
    g_w = p[P_WIRE_K] * a0 / d
    a_e = min(max(force, 0.05) / p[P_DW_HARDNESS0_PA] * 2.0, a0)
    g_e = p[P_H_METAL] * a_e
    q01 = g_w * (tj - t1)
    q02 = g_w * (tj - t2)
    q13 = g_e * (t1 - te1)
    q24 = g_e * (t2 - te2)
    q0f = p[P_WIRE_G_FIN] * (tj - t0)
    s[S_H0] += (r_fay + 0.5 * (rb1 + rb2)) * i2dt - (q01 + q02 + q0f) * dt
    s[S_H1] += 0.5 * (rb1 + r_ec1) * i2dt + (q01 - q13) * dt
    s[S_H2] += 0.5 * (rb2 + r_ec2) * i2dt + (q02 - q24) * dt
    s[S_H3] += 0.5 * r_ec1 * i2dt + (q13 - q3) * dt
    s[S_H4] += 0.5 * r_ec2 * i2dt + (q24 - q4) * dt
    s[S_E_LOSS] += (q0f + q3 + q4) * dt
    # indentation of the crossed wires into each other: F = H(T) * π d δ / 2
    delta = s[S_S_WIRE]
    eps = min(delta / d, 1.5)
    hard = 3.0 * flow_stress_pa(p, eps, tj) * (p[P_DW_HARDNESS0_PA] / (3.0 * p[P_WIRE_SIGY0_PA]))
    # The melt is contained by the solid ring around it, so the junction never goes fully soft.
    hard = max(hard, 0.1 * p[P_DW_HARDNESS0_PA])
    f_req = hard * math.pi * d * max(delta, 1e-9) / 2.0
    if force > f_req:
        delta += p[P_FLOW_V0] * min(force / f_req - 1.0, 10.0) * dt
        s[S_S_WIRE] = min(delta, d)
    # expulsion: molten metal escapes once the melt outgrows what the force contains
    hs = cap * (tmw - t0)
    fm = (s[S_H0] - hs) / lat
    if fm > 0.0 and s[S_EXPELLED] < 0.5:
        limit = _clip(p[P_EXPEL_FRAC0] * math.sqrt(max(force, 0.0) / p[P_FORCE_REF_N]), 0.05, 0.95)
        if fm > limit:
            s[S_EXPELLED] = 1.0
            lost = 0.5 * s[S_H0]
            s[S_H0] -= lost
            s[S_E_LOSS] += lost
            s[S_S_WIRE] = min(s[S_S_WIRE] + 0.25 * d, 1.5 * d)
    s[S_SETDOWN_M] = s[S_S_WIRE]
    # solid-state bond (or a nugget once the junction melts)
    if fm > 0.0:
        s[S_BOND] = 1.0
    elif tj > t0:
        kin = p[P_BOND_K0] * math.exp(-p[P_BOND_Q_K] / (tj + _KELVIN))
        s[S_BOND] += (1.0 - s[S_BOND]) * (1.0 - math.exp(-kin * dt))
    if s[S_BURN_T] < 0.0 and fm > 0.0:
        s[S_BURN_T] = s[S_T]
    s[S_T_IF_PEAK] = max(s[S_T_IF_PEAK], tj)
    s[S_T_WIRE_PEAK] = max(s[S_T_WIRE_PEAK], max(tj, max(t1, t2)))
    s[S_T_EL_PEAK] = max(s[S_T_EL_PEAK], max(t1, t2))
