"""Thermocompression: heat between tip, wire and terminal, the enamel films, flattening, bond."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from firmware_sim.kernel.common import _INLINE, _KELVIN, _temp, flow_stress_pa, stadium_width_m
from firmware_sim.kernel.layout import (
    P_BOND_EPS_REF,
    P_BOND_K0,
    P_BOND_Q_K,
    P_CONSTRAINT,
    P_CONTACT_LEN_M,
    P_CREEP_K0,
    P_CREEP_N,
    P_CREEP_Q_K,
    P_ENAMEL_DEC_C,
    P_ENAMEL_DEC_RATE,
    P_ENAMEL_FLOW_DT_C,
    P_ENAMEL_FLOW_RATE,
    P_ENAMEL_H0_M,
    P_ENAMEL_K,
    P_ENAMEL_SOFT_C,
    P_FLOW_V0,
    P_FORCE_REF_N,
    P_H_METAL,
    P_MISSING_WIRE,
    P_REX_K0,
    P_REX_Q_K,
    P_T0_C,
    P_TERM_CAP,
    P_TERM_G_SINK,
    P_TERM_TM,
    P_TIP_CAP,
    P_TIP_G_SINK,
    P_TIP_LAT,
    P_TIP_TM,
    P_WIRE_CAP_PER_M,
    P_WIRE_D_M,
    P_WIRE_G_FIN,
    P_WIRE_LAT_PER_M,
    P_WIRE_TM,
    S_BOND,
    S_BURN_T,
    S_E_BOT,
    S_E_LOSS,
    S_E_TOP,
    S_H0,
    S_H1,
    S_H2,
    S_REX_TAU,
    S_S_WIRE,
    S_SETDOWN_M,
    S_T,
    S_T_EL_PEAK,
    S_T_IF_PEAK,
    S_T_TIP_PEAK,
    S_T_WIRE_PEAK,
)

# Below this rise over ambient neither the heel's softening nor creep moves in a weld's time
# (both rates are e-fold per ~15-25 K there and ~1e-9 of their value at 450 °C): skip the exps.
_KINETIC_RISE_K = 150.0
_ZONE_WIDTHS = 3.0


@njit(**_INLINE)
def _enamel_rate(p: np.ndarray, temp_c: float, pf: float) -> float:
    # Softened enamel is squeezed out (viscosity falls ~exponentially with temperature, pressure
    # drives the flow); above its decomposition temperature it also burns away.
    rate = 0.0
    if temp_c > p[P_ENAMEL_SOFT_C]:
        x = min((temp_c - p[P_ENAMEL_SOFT_C]) / p[P_ENAMEL_FLOW_DT_C], 8.0)
        rate += p[P_ENAMEL_FLOW_RATE] * pf * (math.exp(x) - 1.0)
    if temp_c > p[P_ENAMEL_DEC_C]:
        x = min((temp_c - p[P_ENAMEL_DEC_C]) / p[P_ENAMEL_FLOW_DT_C], 8.0)
        rate += p[P_ENAMEL_DEC_RATE] * math.exp(x)
    return rate


@njit(**_INLINE)
def _flatten(p: np.ndarray, s: np.ndarray, dt: float, force: float, tw: float, w: float) -> float:
    # The wire flattens between flat tip and terminal: plastically while the force exceeds
    # what its flow stress (at this strain and temperature) carries, and below that by creep,
    # which goes on as long as force and heat last (power law in the share of that load,
    # Arrhenius in temperature). Returns the wire's log strain before this step.
    d = p[P_WIRE_D_M]
    lc = p[P_CONTACT_LEN_M]
    sw = s[S_S_WIRE]
    h = max(d - sw, 0.02 * d)
    eps = math.log(d / h)
    f_req = p[P_CONSTRAINT] * (1.0 + 0.05 * w / h) * flow_stress_pa(p, eps, tw) * w * lc
    if force > f_req:
        sw += p[P_FLOW_V0] * min(force / f_req - 1.0, 10.0) * dt
    elif force > 0.0 and tw > p[P_T0_C] + _KINETIC_RISE_K:
        # Arrhenius and power law in one exp: this runs every hot step
        x = p[P_CREEP_N] * math.log(force / f_req) - p[P_CREEP_Q_K] / (tw + _KELVIN)
        sw += h * p[P_CREEP_K0] * math.exp(x) * dt
    s[S_S_WIRE] = min(sw, 0.98 * d)
    return eps


@njit(**_INLINE)
def _tc_step(p: np.ndarray, s: np.ndarray, dt: float, q_joule: float, force: float) -> None:
    t0 = p[P_T0_C]
    cap_w = p[P_WIRE_CAP_PER_M] * p[P_CONTACT_LEN_M]
    lat_w = p[P_WIRE_LAT_PER_M] * p[P_CONTACT_LEN_M]
    tt = _temp(s[S_H0], p[P_TIP_CAP], p[P_TIP_TM], p[P_TIP_LAT], t0)
    tw = _temp(s[S_H1], cap_w, p[P_WIRE_TM], lat_w, t0)
    tm = _temp(s[S_H2], p[P_TERM_CAP], p[P_TERM_TM], 0.0, t0)
    lc = p[P_CONTACT_LEN_M]
    d = p[P_WIRE_D_M]
    q_ts = p[P_TIP_G_SINK] * (tt - t0)
    q_tb = p[P_TERM_G_SINK] * (tm - t0)
    if p[P_MISSING_WIRE] > 0.5:
        # The tip lands on the bare terminal: a flat metal contact, nothing to flatten.
        q_tm = p[P_H_METAL] * lc * lc * 0.5 * (tt - tm)
        s[S_H0] += (q_joule - q_tm - q_ts) * dt
        s[S_H2] += (q_tm - q_tb) * dt
        s[S_E_LOSS] += (q_ts + q_tb) * dt
        s[S_T_IF_PEAK] = max(s[S_T_IF_PEAK], 0.5 * (tt + tm))
        s[S_T_EL_PEAK] = max(s[S_T_EL_PEAK], tt)
        s[S_T_TIP_PEAK] = max(s[S_T_TIP_PEAK], tt)
        return
    w = stadium_width_m(d, s[S_S_WIRE])
    # Heat crosses no wider than the terminal zone under the joint (three wire widths, as
    # model._pack_thermocompression sizes it): a crushed wire spreads past it onto strip that
    # the zone's node does not hold (and its small capacity would not bear the conductance).
    area = min(w, _ZONE_WIDTHS * d) * lc
    ke = p[P_ENAMEL_K]
    g_tw = area / (s[S_E_TOP] / ke + 1.0 / p[P_H_METAL])
    g_wt = area / (s[S_E_BOT] / ke + 1.0 / p[P_H_METAL])
    # The wire is the smallest node (its time constant falls to tens of µs on bare metal, near
    # the step): it steps implicitly (backward Euler) toward its equilibrium between tip,
    # terminal and fins, and every flow uses its new temperature, so that it cannot oscillate
    # and the three nodes' ledger stays exact. (A division, not an exp: this runs every step.)
    g_f = p[P_WIRE_G_FIN]
    k = dt / cap_w
    tw_new = (tw + k * (g_tw * tt + g_wt * tm + g_f * t0)) / (1.0 + k * (g_tw + g_wt + g_f))
    q_tw = g_tw * (tt - tw_new)
    q_wt = g_wt * (tw_new - tm)
    q_wf = g_f * (tw_new - t0)
    s[S_H0] += (q_joule - q_tw - q_ts) * dt
    s[S_H1] += (q_tw - q_wt - q_wf) * dt
    s[S_H2] += (q_wt - q_tb) * dt
    s[S_E_LOSS] += (q_ts + q_wf + q_tb) * dt
    # enamel films on both sides of the wire
    pf = min(force / p[P_FORCE_REF_N], 3.0)
    # Each film sits on the wire and shears on its hot face: weight the faces accordingly.
    t_top = 0.5 * (tt + tw)
    t_bot = 0.7 * tw + 0.3 * tm
    # Below softening nothing flows; a film already gone stays gone (skip the exps).
    h_gone = 1e-6 * p[P_ENAMEL_H0_M]
    if t_top > p[P_ENAMEL_SOFT_C] and s[S_E_TOP] > h_gone:
        s[S_E_TOP] *= math.exp(-_enamel_rate(p, t_top, pf) * dt)
    if t_bot > p[P_ENAMEL_SOFT_C] and s[S_E_BOT] > h_gone:
        s[S_E_BOT] *= math.exp(-_enamel_rate(p, t_bot, pf) * dt)
    eps = _flatten(p, s, dt, force, tw, w)
    if tw > t0 + _KINETIC_RISE_K:
        # The heel's softening (recrystallisation and grain growth of the wire at the joint) is
        # thermally activated: JMAK's additivity rule integrates its Arrhenius rate over the
        # wire's temperature history; judge turns the integral into the softened share.
        s[S_REX_TAU] += p[P_REX_K0] * math.exp(-p[P_REX_Q_K] / (tw + _KELVIN)) * dt
    h0 = p[P_ENAMEL_H0_M]
    s[S_SETDOWN_M] = 2.0 * h0 - s[S_E_TOP] - s[S_E_BOT] + s[S_S_WIRE]
    if s[S_BURN_T] < 0.0 and s[S_E_TOP] + s[S_E_BOT] <= h0:
        s[S_BURN_T] = s[S_T]
    # solid-state bond at the wire/terminal interface: needs bare metal, heat and deformation
    clean = 1.0 - s[S_E_BOT] / h0
    if clean > 1e-6 and t_bot > t0 + 50.0 and s[S_BOND] < 1.0 - 1e-12:
        kin = p[P_BOND_K0] * math.exp(-p[P_BOND_Q_K] / (t_bot + _KELVIN))
        g = min(eps / p[P_BOND_EPS_REF], 1.0)
        s[S_BOND] += (1.0 - s[S_BOND]) * (1.0 - math.exp(-kin * clean * g * dt))
    s[S_T_IF_PEAK] = max(s[S_T_IF_PEAK], t_bot)
    s[S_T_WIRE_PEAK] = max(s[S_T_WIRE_PEAK], tw)
    s[S_T_EL_PEAK] = max(s[S_T_EL_PEAK], t_top)
    s[S_T_TIP_PEAK] = max(s[S_T_TIP_PEAK], tt)
