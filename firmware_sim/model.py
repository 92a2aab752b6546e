"""Turn a schedule and the materials database into the kernel's parameters, run a weld, judge it.

Everything random (part spread, missing wire, ADC noise) is drawn from one seeded generator, in
a fixed order, so the same seed gives the same bits: the part first (firmware_sim/spread.py, from
configs/variation.toml), then the noise of the converters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivers.config.materials import Materials, Wire, load_materials
from drivers.config.schedule import (
    MAX_DUTY,
    CDSettings,
    HeadSettings,
    InverterSettings,
    Schedule,
)
from drivers.config.simulated import ProcessModel
from drivers.config.variation import Variation, load_variation
from firmware_sim import kernel as K
from firmware_sim.spread import Part, draw_part

TAP_FACTOR = {"short": 1.0, "medium": 4.0, "long": 16.0}
MODE_CODE = {"current": K.MODE_CURRENT, "voltage": K.MODE_VOLTAGE, "power": K.MODE_POWER}
PROC_CODE = {
    "resistor": K.PROC_RESISTOR,
    "thermocompression": K.PROC_THERMOCOMPRESSION,
    "direct": K.PROC_DIRECT,
}
# Latent heats of fusion (J/g) for metals whose entry in materials.toml does not carry one.
# Source: CRC Handbook of Chemistry and Physics, 97th ed., "Heat of fusion of the elements".
LATENT_J_G = {"Cu": 205.0, "Ni": 298.0, "Mo": 390.0, "W": 285.0, "316LVM": 270.0, "Pt-10Ir": 110.0}
RESISTOR_HEAT_CAPACITY_J_K = 1.0e3  # a shorting bar: massive, stays near ambient
# The inverter's feedback loop gain g = ω_c·T: critically damped with a tick's delay (the design
# is in firmware_sim/kernel/feedback.py).
INV_LOOP_GAIN = 0.25
SCR_HOLDING_A = 0.05  # primary-side SCR holding current, A (typical for a 50 A-class SCR)


@dataclass
class Weld:
    """A prepared weld: kernel parameters, state, the drawn part and the generator for noise."""

    schedule: Schedule
    params: np.ndarray
    state: np.ndarray
    part: Part
    rng: np.random.Generator
    wire_strength_n: float
    info: dict[str, float] = field(default_factory=dict)


def _latent_j_g(name: str, material: Any) -> float:
    value = getattr(material, "latent_heat_j_g", None)
    if value is not None:
        return float(value)
    return LATENT_J_G.get(name, 250.0)


def prepare(
    schedule: Schedule,
    seed: int = 0,
    materials: Materials | None = None,
    variation: Variation | None = None,
) -> Weld:
    """Build the kernel parameters and initial state for one weld of this schedule, its part
    drawn from the variation file (default: configs/variation.toml)."""
    mats = materials or load_materials()
    var = variation or load_variation(materials=mats)
    rng = np.random.default_rng(seed)
    part = draw_part(schedule, rng, mats, var)
    pr, sim = schedule.process, schedule.sim
    p = np.zeros(K.N_PARAMS)
    dt = sim.step_us * 1e-6
    p[K.P_DT_S] = dt
    p[K.P_DECIM] = round(1000.0 / (sim.output_khz * sim.step_us))
    p[K.P_T0_C] = sim.ambient_c
    p[K.P_PHYS_EVERY] = sim.physics_every
    p[K.P_PROCESS_KIND] = PROC_CODE[pr.kind]
    p[K.P_MISSING_WIRE] = 1.0 if (part.missing_wire and pr.kind != "resistor") else 0.0
    pack_supply(p, schedule.supply)
    _pack_model(p, pr.model, pr.load_mohm)
    if pr.kind == "thermocompression":
        # an oxide film on the part resists heat as it resists current
        p[K.P_H_METAL] *= part.conductance_factor
    wire_strength = 0.0
    if pr.kind != "resistor":
        wire_strength = _pack_wire(p, mats, pr.wire, part.wire_diameter_mm, pr.model)
    if pr.kind == "thermocompression":
        _pack_thermocompression(p, mats, schedule, part)
    elif pr.kind == "direct":
        _pack_direct(p, mats, pr.wire, pr.model, part)
        _pack_direct_bounds(p, mats, pr.wire, pr.electrode)
    else:
        p[K.P_COATING_SOLIDUS_C] = 1e9
    if pr.kind == "thermocompression":
        p[K.P_STICK_C] = pr.model.stick_c
    # the resistor load keeps its heat in node 0 of a massive bar
    p[K.P_TIP_CAP] = p[K.P_TIP_CAP] if pr.kind != "resistor" else RESISTOR_HEAT_CAPACITY_J_K
    p[K.P_TIP_TM] = p[K.P_TIP_TM] if pr.kind != "resistor" else 1e9
    pack_head(p, schedule.head, part.force_factor)
    s = np.zeros(K.N_STATE)
    K.init_state(p, s)
    return Weld(schedule, p, s, part, rng, wire_strength)


def _pack_model(p: np.ndarray, m: ProcessModel, load_mohm: float) -> None:
    """Write the process model's constants (and the resistor load) into the parameters."""
    p[K.P_RES_LOAD_OHM] = load_mohm * 1e-3
    p[K.P_H_METAL] = m.metal_contact_w_m2k
    p[K.P_FLOW_V0] = m.flow_rate_m_s
    p[K.P_CONSTRAINT] = m.constraint_factor
    p[K.P_FORCE_REF_N] = m.force_ref_n
    p[K.P_BOND_K0] = m.bond_rate_per_s
    p[K.P_BOND_Q_K] = m.bond_activation_k
    p[K.P_BOND_EPS_REF] = m.bond_strain_ref
    p[K.P_BOND_STRENGTH_PA] = m.bond_strength_mpa * 1e6
    p[K.P_HEEL_KNEE] = m.heel_knee_pct / 100.0
    p[K.P_OVERDEFORM_FRAC] = m.overdeform_pct / 100.0
    p[K.P_CUT_FRAC] = m.cut_pct / 100.0


def _pack_wire(
    p: np.ndarray, mats: Materials, name: str, diameter_mm: float, m: ProcessModel
) -> float:
    """Write the wire under the electrode into the parameters; return its breaking force (N)."""
    wire = mats.get("wires", name)
    d = diameter_mm * 1e-3
    a0 = math.pi * d * d / 4.0
    p[K.P_WIRE_D_M] = d
    p[K.P_WIRE_RHO0] = wire.resistivity_at_ohm_m(p[K.P_T0_C])
    p[K.P_WIRE_ALPHA] = alpha_about_ambient(wire.temp_coeff_per_k, p[K.P_T0_C])
    p[K.P_WIRE_CAP_PER_M] = wire.density_kg_m3 * wire.specific_heat_j_kgk * a0
    p[K.P_WIRE_TM] = wire.liquidus_c
    p[K.P_WIRE_LAT_PER_M] = wire.density_kg_m3 * a0 * _latent_j_g(name, wire) * 1e3
    p[K.P_WIRE_K] = wire.conductivity_w_mk
    p[K.P_WIRE_G_FIN] = 2.0 * wire.conductivity_w_mk * a0 / (m.wire_fin_length_mm * 1e-3)
    p[K.P_WIRE_SIGY0_PA] = wire.yield_mpa * 1e6
    p[K.P_WIRE_E_PA] = wire.youngs_gpa * 1e9
    p[K.P_WIRE_N] = wire.hardening_n
    p[K.P_WIRE_SOFT_EXP] = 1.5
    strength = wire.uts_mpa * 1e6 * a0
    p[K.P_WIRE_BREAKING_N] = strength
    _pack_time_at_temperature(p, wire, m)
    return strength


def at_ambient(alpha_per_k: float, t0_c: float) -> float:
    """Return R(t0)/R20 for a temperature coefficient stated about 20 °C (materials.toml)."""
    return 1.0 + alpha_per_k * (t0_c - 20.0)


def alpha_about_ambient(alpha_per_k: float, t0_c: float) -> float:
    """Return the coefficient (1/K) about t0 of R = R20·(1 + α·(T − 20)): the kernel's
    R(t0)·(1 + α'·(T − t0)) is then the same line."""
    return alpha_per_k / at_ambient(alpha_per_k, t0_c)


def _pack_time_at_temperature(p: np.ndarray, wire: Wire, m: ProcessModel) -> None:
    """Write the wire's softening (JMAK) and creep kinetics: activation energies and exponents
    from its materials data, the time scales from the process model; none without the data."""
    r = 8.314462618e-3  # gas constant, kJ/(mol·K)
    if wire.softening_activation_kj_mol is not None and wire.softening_avrami_n is not None:
        q_k = wire.softening_activation_kj_mol / r
        n = wire.softening_avrami_n
        # X = 1 - exp(-(k t)^n) is one half at k·t = (ln 2)^(1/n)
        k_ref = math.log(2.0) ** (1.0 / n) / (m.heel_softening_half_ms * 1e-3)
        p[K.P_REX_K0] = k_ref * math.exp(q_k / (m.heel_softening_ref_c + 273.15))
        p[K.P_REX_Q_K] = q_k
        p[K.P_REX_N] = n
    p[K.P_REX_SOFT_FRAC] = (wire.softened_uts_mpa or wire.uts_mpa) / wire.uts_mpa
    if wire.creep_activation_kj_mol is not None and wire.creep_stress_exponent is not None:
        q_k = wire.creep_activation_kj_mol / r
        p[K.P_CREEP_K0] = m.creep_rate_per_s * math.exp(q_k / (m.creep_ref_c + 273.15))
        p[K.P_CREEP_Q_K] = q_k
        p[K.P_CREEP_N] = wire.creep_stress_exponent


def _pack_thermocompression(p: np.ndarray, mats: Materials, schedule: Schedule, part: Part) -> None:
    """Write the hot tip, the enamel (the part's drawn build) and the terminal into the
    parameters."""
    pr, nz, m = schedule.process, schedule.noise, schedule.process.model
    tip_mat = mats.get("electrodes", pr.electrode)
    tip = pr.tip
    r20 = (tip.cold_resistance_mohm + tip.wear_mohm_per_weld * nz.welds_since_dressing) * 1e-3
    # The kernel counts resistance from ambient; the tip's is stated at 20 °C.
    p[K.P_TIP_R0_OHM] = r20 * at_ambient(tip_mat.temp_coeff_per_k, p[K.P_T0_C])
    p[K.P_TIP_ALPHA] = alpha_about_ambient(tip_mat.temp_coeff_per_k, p[K.P_T0_C])
    p[K.P_TIP_CAP] = tip.mass_mg * 1e-6 * tip_mat.specific_heat_j_kgk
    p[K.P_TIP_G_SINK] = tip.sink_conductance_w_k
    p[K.P_TIP_TM] = tip_mat.liquidus_c
    p[K.P_TIP_LAT] = tip.mass_mg * 1e-3 * _latent_j_g(pr.electrode, tip_mat)
    p[K.P_CONTACT_LEN_M] = part.contact_length_mm * 1e-3
    if not pr.enamel:
        enamel_k, soft, dec = 0.2, 150.0, 300.0
    else:
        en = mats.get("enamels", pr.enamel)
        enamel_k, soft, dec = en.conductivity_w_mk, en.softening_c, en.decomposition_c
    p[K.P_ENAMEL_H0_M] = part.enamel_um * 1e-6
    p[K.P_ENAMEL_K] = enamel_k
    p[K.P_ENAMEL_SOFT_C] = soft
    p[K.P_ENAMEL_DEC_C] = dec
    p[K.P_ENAMEL_FLOW_RATE] = m.enamel_flow_per_s
    p[K.P_ENAMEL_FLOW_DT_C] = m.enamel_flow_span_c
    p[K.P_ENAMEL_DEC_RATE] = m.enamel_decomposition_per_s
    term = mats.get("terminals", pr.terminal)
    t = part.terminal_thickness_mm * 1e-3
    lc = part.contact_length_mm * 1e-3
    # The terminal zone under the joint: a patch three wire widths across (thermo._ZONE_WIDTHS);
    # it spreads heat radially into the rest of the strip (conductance of an annulus, r2/r1 = 20).
    vol = lc * 3.0 * p[K.P_WIRE_D_M] * t
    p[K.P_TERM_CAP] = term.density_kg_m3 * term.specific_heat_j_kgk * vol
    p[K.P_TERM_G_SINK] = 2.0 * math.pi * term.conductivity_w_mk * t / math.log(20.0)
    p[K.P_TERM_TM] = term.liquidus_c
    p[K.P_COATING_SOLIDUS_C] = mats.get("coatings", pr.coating).solidus_c if pr.coating else 1e9


def _pack_direct(p: np.ndarray, mats: Materials, name: str, m: ProcessModel, part: Part) -> None:
    """Write the crossed wires' contacts (their films as this part's) and the electrodes into
    the parameters."""
    wire = mats.get("wires", name)
    # (its resistivity at ambient, P_DW_RHO0, is _pack_direct_bounds': on its piecewise line)
    p[K.P_DW_ALPHA] = alpha_about_ambient(wire.temp_coeff_per_k, p[K.P_T0_C])
    p[K.P_DW_HARDNESS0_PA] = 3.0 * wire.yield_mpa * 1e6
    p[K.P_FILM_RHO_OHM_M2] = m.film_resistivity_nohm_m2 * 1e-9 * part.film_factor
    p[K.P_FILM_DECAY_C] = m.film_decay_c
    p[K.P_EC_FILM_OHM_M2] = m.electrode_film_nohm_m2 * 1e-9 * part.electrode_film_factor
    p[K.P_EL_CAP] = m.electrode_heat_capacity_j_k
    p[K.P_EL_G_SINK] = m.electrode_sink_w_k
    p[K.P_JUNCTION_LEN_M] = p[K.P_WIRE_D_M] * m.heated_length_d
    p[K.P_EXPEL_FRAC0] = m.expulsion_melt_fraction
    p[K.P_EXPEL_DEFECT] = m.expulsion_defect_pct / 100.0
    p[K.P_COATING_SOLIDUS_C] = 1e9


# Boiling points and heats of vaporisation (°C, J/g) for metals whose entry does not carry them:
# a wire or electrode without them boils nowhere below this (the nodes stay bounded all the same).
NO_BOILING_C, NO_VAPOUR_J_G = 5000.0, 6000.0


def _pack_direct_bounds(p: np.ndarray, mats: Materials, wire_name: str, el_name: str) -> None:
    """Write what bounds direct welding's nodes: the wire's resistivity through its Curie point
    and melting, its boiling point, and the electrodes' melting and boiling."""
    wire = mats.get("wires", wire_name)
    t0, tm = p[K.P_T0_C], p[K.P_WIRE_TM]
    rho20, alpha = wire.resistivity_ohm_m, wire.temp_coeff_per_k  # stated at 20 °C
    # Without data the linear law runs to the melting point (no Curie point, no jump on melting).
    tc = wire.curie_c if wire.curie_c is not None else tm
    rho_c = wire.resistivity_curie_ohm_m or rho20 * (1.0 + alpha * (tc - 20.0))
    rho_sm = wire.resistivity_solid_melt_ohm_m or rho_c + rho20 * alpha * (tm - tc)
    slope_lo = (rho_c - rho20) / (tc - 20.0)
    # The kernel counts from ambient: the 20 °C value moved to t0 along the line below the Curie
    # point (which meets the data at 20 °C and at the Curie point; without them, R20·(1 + α·ΔT)).
    p[K.P_DW_RHO0] = rho20 + slope_lo * (t0 - 20.0)
    p[K.P_DW_T_CURIE] = tc
    p[K.P_DW_SLOPE_LO] = slope_lo
    p[K.P_DW_RHO_CURIE] = rho_c
    p[K.P_DW_SLOPE_HI] = (rho_sm - rho_c) / (tm - tc) if tm > tc else 0.0
    p[K.P_DW_RHO_SMELT] = rho_sm
    p[K.P_DW_RHO_LIQ] = wire.resistivity_liquid_ohm_m or rho_sm
    p[K.P_DW_SLOPE_LIQ] = wire.resistivity_liquid_slope_ohm_m_k or 0.0
    p[K.P_WIRE_TB] = wire.boiling_c or NO_BOILING_C
    lv = wire.vaporization_j_g or NO_VAPOUR_J_G
    p[K.P_WIRE_LV_PER_M] = p[K.P_WIRE_CAP_PER_M] / wire.specific_heat_j_kgk * lv * 1e3
    el = mats.get("electrodes", el_name)
    p[K.P_EL_TM] = el.liquidus_c
    p[K.P_EL_LAT] = p[K.P_EL_CAP] / el.specific_heat_j_kgk * _latent_j_g(el_name, el) * 1e3
    p[K.P_EL_TB] = el.boiling_c or NO_BOILING_C
    p[K.P_EL_K] = el.conductivity_w_mk
    p[K.P_EL_RHO] = el.resistivity_ohm_m
    # the weld sticks where the electrode's face begins to melt
    p[K.P_STICK_C] = el.solidus_c


def pack_supply(p: np.ndarray, sup: CDSettings | InverterSettings) -> None:
    """Write the supply's settings into the kernel parameters (also when re-armed with new ones)."""
    if isinstance(sup, CDSettings):
        n = sup.turns_ratio
        c_sec = sup.capacitance_uf * 1e-6 * n * n
        e_total = sup.energy_ws
        e1 = e_total * sup.first_pulse_pct / 100.0
        c_pri = sup.capacitance_uf * 1e-6
        # Each pulse's bank is charged to hold its share of the energy; referred to the secondary.
        p[K.P_SUPPLY_KIND] = K.SUP_CD
        p[K.P_CD_C_F] = c_sec
        p[K.P_CD_V1] = math.sqrt(2.0 * e1 / c_pri) / n if e1 > 0 else 0.0
        p[K.P_CD_V2] = math.sqrt(2.0 * (e_total - e1) / c_pri) / n
        if e1 <= 0:
            p[K.P_CD_V1], p[K.P_CD_V2] = p[K.P_CD_V2], 0.0
        p[K.P_CD_T2_S] = sup.interpulse_ms * 1e-3
        p[K.P_CD_TRUNCATABLE] = 1.0 if sup.truncatable else 0.0
        p[K.P_CD_HOLD_A] = SCR_HOLDING_A * n
        p[K.P_L_H] = sup.inductance_uh * 1e-6 * TAP_FACTOR[sup.pulse_tap]
        p[K.P_RW_OHM] = sup.resistance_mohm * 1e-3
        # The core saturates when its flux linkage Lm·i_m reaches its volt-second capacity.
        lm = sup.magnetising_uh * 1e-6
        p[K.P_CD_INV_LM] = 0.0 if sup.ideal_transformer else 1.0 / lm
        p[K.P_CD_IM_SAT_A] = 1e30 if sup.ideal_transformer else sup.core_mvs * 1e-3 / lm
        p[K.P_SEG_SQUEEZE_S] = sup.squeeze_ms * 1e-3
        p[K.P_SEG_HOLD_S] = sup.hold_ms * 1e-3
    else:
        assert isinstance(sup, InverterSettings)
        p[K.P_SUPPLY_KIND] = K.SUP_INVERTER
        p[K.P_INV_VSRC_V] = sup.bus_voltage_v / sup.turns_ratio
        # A full bridge with a centre-tapped rectifier puts two output pulses in each PWM period.
        p[K.P_INV_PWM_PERIOD_S] = 0.5e-3 / sup.pwm_khz
        p[K.P_INV_CTRL_PERIOD_S] = 1e-3 / sup.feedback_khz
        p[K.P_INV_MODE] = MODE_CODE[sup.mode]
        p[K.P_INV_DUTY_MAX] = MAX_DUTY
        p[K.P_INV_GAIN] = INV_LOOP_GAIN
        p[K.P_INV_I_MAX_A] = sup.current_limit_a
        p[K.P_L_H] = sup.inductance_uh * 1e-6
        p[K.P_RW_OHM] = sup.resistance_mohm * 1e-3
        for name in ("squeeze", "up1", "weld1", "down1", "cool", "up2", "weld2", "down2", "hold"):
            p[getattr(K, f"P_SEG_{name.upper()}_S")] = getattr(sup, f"{name}_ms") * 1e-3
        p[K.P_SP1] = sup.setpoint(1)
        p[K.P_SP2] = sup.setpoint(2)


def pack_head(p: np.ndarray, hd: HeadSettings, force_factor: float = 1.0) -> None:
    """Write the force head's settings into the kernel parameters; the force the head really
    holds is its setpoint times this part's force_factor (the servo's repeatability)."""
    p[K.P_HEAD_FORCE_N] = hd.force_n * force_factor
    p[K.P_HEAD_APPROACH_M_S] = hd.approach_speed_mm_s * 1e-3
    p[K.P_HEAD_SEARCH_M_S] = hd.search_speed_mm_s * 1e-3
    p[K.P_HEAD_START_GAP_M] = hd.start_gap_mm * 1e-3
    p[K.P_HEAD_SEARCH_GAP_M] = hd.search_gap_mm * 1e-3
    p[K.P_HEAD_CONTACT_N] = hd.contact_threshold_n
    p[K.P_HEAD_RAMP_N_S] = hd.force_ramp_n_per_ms * 1e3
    p[K.P_HEAD_K_N_M] = hd.spring_rate_n_per_mm * 1e3
    p[K.P_HEAD_TAU_S] = hd.servo_time_constant_ms * 1e-3
    p[K.P_HEAD_FIRE_PCT] = hd.fire_at_force_pct
    p[K.P_HEAD_RETRACT_M_S] = hd.retract_speed_mm_s * 1e-3
    p[K.P_HEAD_VMAX_M_S] = hd.max_speed_mm_s * 1e-3
