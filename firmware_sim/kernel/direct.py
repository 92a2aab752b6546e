"""Direct welding of crossed wires: contact and bulk resistances, heat, indentation,
expulsion, bond; and the electrodes closing on each other when the wire is missing.

Every node is bounded by its metal: latent heat of fusion at the melting point, and what rises
above the boiling point boils away (lost). The junction loses the metal it expels or boils
(S_J_LOST), its heat capacity with it; the electrode faces melt at their melting point (the
weld sticks there) and go no hotter.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from firmware_sim.kernel.common import (
    _INLINE,
    _JIT,
    _KELVIN,
    _boil_excess,
    _clip,
    _temp,
    flow_stress_pa,
)
from firmware_sim.kernel.layout import (
    P_BOND_K0,
    P_BOND_Q_K,
    P_DW_HARDNESS0_PA,
    P_DW_RHO0,
    P_DW_RHO_CURIE,
    P_DW_RHO_LIQ,
    P_DW_RHO_SMELT,
    P_DW_SLOPE_HI,
    P_DW_SLOPE_LIQ,
    P_DW_SLOPE_LO,
    P_DW_T_CURIE,
    P_EC_FILM_OHM_M2,
    P_EL_CAP,
    P_EL_G_SINK,
    P_EL_K,
    P_EL_LAT,
    P_EL_RHO,
    P_EL_TB,
    P_EL_TM,
    P_EXPEL_FRAC0,
    P_FILM_DECAY_C,
    P_FILM_RHO_OHM_M2,
    P_FLOW_V0,
    P_FORCE_REF_N,
    P_H_METAL,
    P_JUNCTION_LEN_M,
    P_MISSING_WIRE,
    P_REX_K0,
    P_REX_Q_K,
    P_T0_C,
    P_WIRE_CAP_PER_M,
    P_WIRE_D_M,
    P_WIRE_G_FIN,
    P_WIRE_K,
    P_WIRE_LAT_PER_M,
    P_WIRE_LV_PER_M,
    P_WIRE_SIGY0_PA,
    P_WIRE_TB,
    P_WIRE_TM,
    S_BOND,
    S_BURN_T,
    S_E_LOSS,
    S_EXPEL_N,
    S_EXPELLED,
    S_H0,
    S_H1,
    S_H2,
    S_H3,
    S_H4,
    S_J_LOST,
    S_R_B1,
    S_R_B2,
    S_R_EC1,
    S_R_EC2,
    S_R_FAY,
    S_R_LOAD,
    S_REX_TAU,
    S_S_WIRE,
    S_SETDOWN_M,
    S_T,
    S_T_EL_PEAK,
    S_T_IF_PEAK,
    S_T_WIRE_PEAK,
)

# Below this rise over ambient the heel's softening does not move in a weld's time (as in
# thermo.py: its rate is ~1e-9 of its value at 1000 °C there): skip the exp.
_KINETIC_RISE_K = 150.0


@njit(**_INLINE)
def _direct_missing_r(p: np.ndarray, force_n: float) -> float:
    # Electrodes closed on each other: a large, hard Cu-Cu contact.
    f = max(force_n, 0.05)
    return p[P_EC_FILM_OHM_M2] / (f / p[P_DW_HARDNESS0_PA] * 10.0) + 2e-5


@njit(**_INLINE)
def _liquid_share(h: float, cap: float, tm: float, lat: float, t0: float) -> float:
    """Return the molten share (0 to 1) of a node of enthalpy h (J) above ambient."""
    return _clip((h - cap * (tm - t0)) / lat, 0.0, 1.0)


@njit(**_INLINE)
def _rho_wire(p: np.ndarray, t: float, fl: float) -> float:
    """Return the wire's resistivity (Ω·m) at t (°C) with a molten share fl.

    Piecewise linear in the solid (the slope changes at the Curie point of a ferromagnet), a
    jump across the melt plateau in proportion to the molten share, a small slope in the liquid.
    """
    tm = p[P_WIRE_TM]
    if fl <= 0.0:
        if t <= p[P_DW_T_CURIE]:
            return p[P_DW_RHO0] + p[P_DW_SLOPE_LO] * (t - p[P_T0_C])
        return p[P_DW_RHO_CURIE] + p[P_DW_SLOPE_HI] * (min(t, tm) - p[P_DW_T_CURIE])
    if fl < 1.0:
        return (1.0 - fl) * p[P_DW_RHO_SMELT] + fl * p[P_DW_RHO_LIQ]
    return p[P_DW_RHO_LIQ] + p[P_DW_SLOPE_LIQ] * max(t - tm, 0.0)


@njit(**_INLINE)
def _node_rho(p: np.ndarray, h: float, cap: float, lat: float) -> tuple[float, float, float]:
    """Return a wire node's (temperature °C, molten share, resistivity Ω·m) from its enthalpy."""
    t0, tm = p[P_T0_C], p[P_WIRE_TM]
    t = _temp(h, cap, tm, lat, t0)
    fl = _liquid_share(h, cap, tm, lat, t0)
    return t, fl, _rho_wire(p, t, fl)


@njit(**_INLINE)
def _constriction(rho_sum: float, area: float, d: float) -> float:
    """Return the constriction resistance (Ω) of a contact of area (m²) into wires of diameter
    d (m): Holm's (ρ1 + ρ2) / 4a for a spot of radius a, times (1 − a/R)^1.5 (the spot spreads
    into a wire of radius R, not a half-space: no constriction once it spans the wire)."""
    a = math.sqrt(area / math.pi)
    eps = min(2.0 * a / d, 0.95)
    return rho_sum / (4.0 * a) * (1.0 - eps) * math.sqrt(1.0 - eps)


@njit(**_INLINE)
def _electrode_area(p: np.ndarray, te: float, f: float, a0: float) -> float:
    """Return the electrode/wire contact's area (m²): force over the wire's hot hardness (the
    contact is a strip along the wire: twice a spot's), at most the wire's section."""
    he = 3.0 * flow_stress_pa(p, 0.0, te) * (p[P_DW_HARDNESS0_PA] / (3.0 * p[P_WIRE_SIGY0_PA]))
    return min(f / max(he, 1e5) * 2.0, a0)


@njit(**_INLINE)
def _electrode_contact_r(p: np.ndarray, te: float, rho_w: float, f: float, a0: float) -> float:
    """Return an electrode/wire contact's resistance (Ω) at its wire's te (°C) and resistivity
    rho_w (Ω·m) under f (N): constriction on both sides (the electrode's nearly nothing) and
    the contact's film."""
    a_e = _electrode_area(p, te, f, a0)
    rho_el = p[P_EL_RHO]
    return _constriction(rho_w + rho_el, a_e, p[P_WIRE_D_M]) + p[P_EC_FILM_OHM_M2] / a_e


@njit(**_JIT)
def _direct_resistances(
    p: np.ndarray, s: np.ndarray, force_n: float
) -> tuple[float, float, float, float, float]:
    t0 = p[P_T0_C]
    cap = p[P_WIRE_CAP_PER_M] * p[P_JUNCTION_LEN_M]
    lat = p[P_WIRE_LAT_PER_M] * p[P_JUNCTION_LEN_M]
    m = 1.0 - s[S_J_LOST]  # the junction's metal still in place
    tj, _, rho_j = _node_rho(p, s[S_H0], cap * m, lat * m)
    t1, _, rho_1 = _node_rho(p, s[S_H1], cap, lat)
    t2, _, rho_2 = _node_rho(p, s[S_H2], cap, lat)
    d = p[P_WIRE_D_M]
    a0 = math.pi * d * d / 4.0
    f = max(force_n, 0.05)
    # Babu-type contact: real area from force over hot hardness, constriction plus a film that
    # breaks down with temperature; both fall with pressure and temperature.
    hj = 3.0 * flow_stress_pa(p, 0.0, tj) * (p[P_DW_HARDNESS0_PA] / (3.0 * p[P_WIRE_SIGY0_PA]))
    a_geo = math.pi * d * max(s[S_SETDOWN_M], 1e-7) / 2.0
    a_f = min(f / max(hj, 1e5), a0)
    a_f = max(a_f, a_geo)
    a_f = min(a_f, a0)
    film = p[P_FILM_RHO_OHM_M2] * math.exp(-max(tj - t0, 0.0) / p[P_FILM_DECAY_C])
    r_fay = _constriction(2.0 * rho_j, a_f, d) + film / a_f
    r_ec1 = _electrode_contact_r(p, t1, rho_1, f, a0)
    r_ec2 = _electrode_contact_r(p, t2, rho_2, f, a0)
    # The current crosses each wire's thickness h/2, h = 2d − δ the stack set-down leaves,
    # over the crossing's footprint, which spreads as the stack is squashed (its volume, both
    # wires' section over d, kept: a0 · 2d / h), along each wire over the heated length.
    h = max(2.0 * d - s[S_SETDOWN_M], 0.1 * d)
    path = h * h / (4.0 * a0 * p[P_JUNCTION_LEN_M])
    rb1 = rho_1 * path
    rb2 = rho_2 * path
    return r_fay, r_ec1, r_ec2, rb1, rb2


@njit(**_INLINE)
def _boil_off(s: np.ndarray, k: int, cap: float, lat: float, t0: float, tb: float) -> float:
    """Take what node k holds above its boiling state off as vapour (a loss); return it (J)."""
    excess = _boil_excess(s[k], cap, lat, t0, tb)
    s[k] -= excess
    s[S_E_LOSS] += excess
    return excess


@njit(**_INLINE)
def _boil_junction(p: np.ndarray, s: np.ndarray, cap: float, lat: float) -> None:
    """Boil off the junction's metal above its boiling state: dm (share of the whole junction)
    leaves with its latent heat of vaporisation and its enthalpy at the boiling point."""
    m = 1.0 - s[S_J_LOST]
    h_b = cap * (p[P_WIRE_TB] - p[P_T0_C]) + lat  # enthalpy of the whole junction boiling
    excess = s[S_H0] - m * h_b
    if excess <= 0.0:
        return
    dm = min(excess / (p[P_WIRE_LV_PER_M] * p[P_JUNCTION_LEN_M]), m - 0.05)
    left = (m - dm) * h_b  # what stays is at the boiling point (none of it above)
    s[S_E_LOSS] += s[S_H0] - left
    s[S_H0] = left
    s[S_J_LOST] += dm


@njit(**_INLINE)
def _face_temp(p: np.ndarray, te: float, q_in: float, a_e: float) -> float:
    """Return an electrode face's temperature (°C): its node's te plus the spreading rise of the
    heat q_in (W) entering over the contact a_e (m²); bounded by the electrode's melting point,
    where the face melts (a molten film takes the excess as latent heat: the weld sticks)."""
    g_sp = 4.0 * math.sqrt(a_e / math.pi) * p[P_EL_K]
    return min(te + max(q_in, 0.0) / g_sp, p[P_EL_TM])


@njit(**_INLINE)
def _indent(p: np.ndarray, s: np.ndarray, dt: float, force: float, t_eff: float) -> None:
    """Let the crossed wires indent into each other: F = H(T) · π d δ / 2, up to the stack 2 d."""
    d = p[P_WIRE_D_M]
    delta = s[S_S_WIRE]
    eps = min(delta / d, 1.5)
    hard = 3.0 * flow_stress_pa(p, eps, t_eff)
    hard *= p[P_DW_HARDNESS0_PA] / (3.0 * p[P_WIRE_SIGY0_PA])
    # The melt is contained by the solid ring around it, so the junction never goes fully soft.
    hard = max(hard, 0.1 * p[P_DW_HARDNESS0_PA])
    f_req = hard * math.pi * d * max(delta, 1e-9) / 2.0
    if force > f_req:
        delta += p[P_FLOW_V0] * min(force / f_req - 1.0, 10.0) * dt
        s[S_S_WIRE] = min(delta, 2.0 * d)


@njit(**_INLINE)
def _expel(p: np.ndarray, s: np.ndarray, force: float, cap: float, lat: float) -> None:
    """Expel the junction's melt once it outgrows what the force and the solid ring hold."""
    t0 = p[P_T0_C]
    m = 1.0 - s[S_J_LOST]
    h = s[S_H0]
    fm = _liquid_share(h, cap * m, p[P_WIRE_TM], lat * m, t0)
    limit = _clip(p[P_EXPEL_FRAC0] * math.sqrt(max(force, 0.0) / p[P_FORCE_REF_N]), 0.05, 0.95)
    if fm <= limit or m <= 0.05:
        return
    # The ring bursts and the melt spurts out until the closing electrodes seal the joint again,
    # with 90 % of the molten share the ring held: dm of liquid leaves (shares of the junction's
    # whole metal) with its enthalpy, per share the liquid's at its temperature.
    keep = 0.9 * limit
    dm = min(m * (fm - keep) / (1.0 - keep), m - 0.05)
    h_liq = h / m if fm >= 1.0 else cap * (p[P_WIRE_TM] - t0) + lat
    lost = dm * h_liq
    s[S_H0] -= lost
    s[S_E_LOSS] += lost
    s[S_J_LOST] += dm
    s[S_EXPELLED] = 1.0
    s[S_EXPEL_N] += 1.0
    # the electrodes close on the volume that left (the junction is d long in each wire, its
    # footprint d × d): the set-down jumps by that volume over the footprint
    d = p[P_WIRE_D_M]
    s[S_S_WIRE] = min(s[S_S_WIRE] + dm * math.pi * d / 4.0, 2.0 * d)


@njit(**_INLINE)
def _soften_heel(p: np.ndarray, s: np.ndarray, dt: float, tw: float) -> None:
    """Integrate the heel's softening (grain growth of the wire beside the crossing, JMAK's
    additivity rule: its Arrhenius rate over the wire's temperature tw °C); judge turns the
    integral into the softened share. Nothing without the wire's kinetics (P_REX_K0 = 0)."""
    if tw > p[P_T0_C] + _KINETIC_RISE_K and p[P_REX_K0] > 0.0:
        s[S_REX_TAU] += p[P_REX_K0] * math.exp(-p[P_REX_Q_K] / (tw + _KELVIN)) * dt


@njit(**_JIT)
def _direct_step(p: np.ndarray, s: np.ndarray, dt: float, i2dt: float, force: float) -> None:
    t0 = p[P_T0_C]
    cap = p[P_WIRE_CAP_PER_M] * p[P_JUNCTION_LEN_M]
    lat = p[P_WIRE_LAT_PER_M] * p[P_JUNCTION_LEN_M]
    tmw = p[P_WIRE_TM]
    el_cap, el_lat = p[P_EL_CAP], p[P_EL_LAT]
    te1 = _temp(s[S_H3], el_cap, p[P_EL_TM], el_lat, t0)
    te2 = _temp(s[S_H4], el_cap, p[P_EL_TM], el_lat, t0)
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
    m = 1.0 - s[S_J_LOST]
    # the resistances the supply saw over this step (cached when the step began)
    r_fay, r_ec1, r_ec2, rb1, rb2 = s[S_R_FAY], s[S_R_EC1], s[S_R_EC2], s[S_R_B1], s[S_R_B2]
    tj = _temp(s[S_H0], cap * m, tmw, lat * m, t0)
    t1 = _temp(s[S_H1], cap, tmw, lat, t0)
    t2 = _temp(s[S_H2], cap, tmw, lat, t0)
    # conduction through each wire between the junction and its electrode contact
    g_w = p[P_WIRE_K] * a0 / d
    # the electrode contact conducts heat over the area it carries current (hot: larger)
    a_e1 = _electrode_area(p, t1, max(force, 0.05), a0)
    a_e2 = _electrode_area(p, t2, max(force, 0.05), a0)
    g_e1, g_e2 = p[P_H_METAL] * a_e1, p[P_H_METAL] * a_e2
    q01 = g_w * (tj - t1)
    q02 = g_w * (tj - t2)
    q13 = g_e1 * (t1 - te1)
    q24 = g_e2 * (t2 - te2)
    q0f = p[P_WIRE_G_FIN] * (tj - t0)
    # The junction holds half of each wire's bulk path while its metal is all there; what it
    # lost (expelled, boiled) no longer carries current there, the wire beside it does.
    hj = 0.5 * m
    s[S_H0] += (r_fay + hj * (rb1 + rb2)) * i2dt - (q01 + q02 + q0f) * dt
    s[S_H1] += ((1.0 - hj) * rb1 + 0.5 * r_ec1) * i2dt + (q01 - q13) * dt
    s[S_H2] += ((1.0 - hj) * rb2 + 0.5 * r_ec2) * i2dt + (q02 - q24) * dt
    s[S_H3] += 0.5 * r_ec1 * i2dt + (q13 - q3) * dt
    s[S_H4] += 0.5 * r_ec2 * i2dt + (q24 - q4) * dt
    s[S_E_LOSS] += (q0f + q3 + q4) * dt
    tbw, tbe = p[P_WIRE_TB], p[P_EL_TB]
    _boil_junction(p, s, cap, lat)
    _boil_off(s, S_H1, cap, lat, t0, tbw)
    _boil_off(s, S_H2, cap, lat, t0, tbw)
    _boil_off(s, S_H3, el_cap, el_lat, t0, tbe)
    _boil_off(s, S_H4, el_cap, el_lat, t0, tbe)
    # the plastic zone under the crossing reaches into the cooler wire around the junction
    _indent(p, s, dt, force, (tj + t1 + t2) / 3.0)
    _expel(p, s, force, cap, lat)
    s[S_SETDOWN_M] = s[S_S_WIRE]
    m = 1.0 - s[S_J_LOST]
    tj = _temp(s[S_H0], cap * m, tmw, lat * m, t0)
    fm = _liquid_share(s[S_H0], cap * m, tmw, lat * m, t0)
    # solid-state bond (or a nugget once the junction melts)
    if fm > 0.0:
        s[S_BOND] = 1.0
    elif tj > t0:
        kin = p[P_BOND_K0] * math.exp(-p[P_BOND_Q_K] / (tj + _KELVIN))
        s[S_BOND] += (1.0 - s[S_BOND]) * (1.0 - math.exp(-kin * dt))
    if s[S_BURN_T] < 0.0 and fm > 0.0:
        s[S_BURN_T] = s[S_T]
    # each face takes its contact's half of the interface heat and what the wire conducts
    p_ec = i2dt / dt
    tf1 = _face_temp(p, te1, q13 + 0.5 * r_ec1 * p_ec, a_e1)
    tf2 = _face_temp(p, te2, q24 + 0.5 * r_ec2 * p_ec, a_e2)
    t1 = _temp(s[S_H1], cap, tmw, lat, t0)
    t2 = _temp(s[S_H2], cap, tmw, lat, t0)
    _soften_heel(p, s, dt, tj)
    s[S_T_IF_PEAK] = max(s[S_T_IF_PEAK], tj)
    s[S_T_WIRE_PEAK] = max(s[S_T_WIRE_PEAK], max(tj, max(t1, t2)))
    s[S_T_EL_PEAK] = max(s[S_T_EL_PEAK], max(tf1, tf2))
