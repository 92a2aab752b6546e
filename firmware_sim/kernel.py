"""Numba kernel of the simulated weld: supply circuit, thermal nodes, enamel, mechanics, head.

One explicit step is about 1 µs; `advance` runs whole blocks of output samples so that no Python
runs per step. Parameters and state are flat float64 vectors (layout below) so the kernel compiles
once with a fixed signature, can be cached, and its state can be carried between blocks, copied
and compared bit for bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit


class Layout:
    """The slots of one flat float64 vector, declared in order: each declaration is its index.

    The index constants are module-level ints (numba freezes them into the compiled code) bound
    to the declarations; `rows` finds their names in the declaring module by prefix.
    """

    def __init__(self, prefix: str, namespace: dict[str, object]) -> None:
        self.prefix = prefix
        self._namespace = namespace
        self._slots: list[tuple[str, str | dict[str, str]]] = []

    def slot(self, unit: str, meaning: str | dict[str, str]) -> int:
        """Declare the next slot with its unit and meaning (one per process kind if it differs by
        process); return its index."""
        self._slots.append((unit, meaning))
        return len(self._slots) - 1

    def __len__(self) -> int:
        return len(self._slots)

    def rows(self) -> list[tuple[str, str, str | dict[str, str]]]:
        """Return (name, unit, meaning) of every slot in index order; raise ValueError if a slot
        has no name or more than one."""
        names: dict[int, list[str]] = {}
        for name, value in self._namespace.items():
            if name.startswith(self.prefix) and type(value) is int:
                names.setdefault(value, []).append(name)
        rows = []
        for index, (unit, meaning) in enumerate(self._slots):
            found = names.pop(index, [])
            if len(found) != 1:
                raise ValueError(f"{self.prefix}* slot {index} has names {found}, not one")
            rows.append((found[0], unit, meaning))
        if names:
            raise ValueError(f"{self.prefix}* names outside the table: {sorted(names.values())}")
        return rows


# The parameter vector p (float64), filled by firmware_sim.model.prepare. "TC" marks what only
# thermocompression reads, "direct" what only direct welding reads; "judge" what only
# firmware_sim.run.judge reads (the kernel does not).
PARAMS = Layout("P_", globals())
P_DT_S = PARAMS.slot("s", "electrical integration step")
P_DECIM = PARAMS.slot("", "count of electrical steps per output sample")
P_T0_C = PARAMS.slot("°C", "ambient temperature: every node starts there")
P_PROCESS_KIND = PARAMS.slot("", "code of the process kind (PROC_*)")
P_SUPPLY_KIND = PARAMS.slot("", "code of the supply kind (SUP_*)")
P_CD_C_F = PARAMS.slot("F", "CD: storage capacitance referred to the secondary")
P_CD_V1 = PARAMS.slot("V", "CD: bank voltage of pulse 1, referred to the secondary (0: none)")
P_CD_V2 = PARAMS.slot("V", "CD: bank voltage of pulse 2, referred to the secondary (0: none)")
P_CD_T2_S = PARAMS.slot("s", "CD: start of pulse 2 after the start of pulse 1")
P_CD_TRUNCATABLE = PARAMS.slot("", "flag: the CD's switch cuts a pulse off on a stop")
P_INV_VSRC_V = PARAMS.slot("V", "inverter: bus voltage referred to the secondary")
P_INV_PWM_PERIOD_S = PARAMS.slot("s", "inverter: output pulse period (half the PWM period)")
P_INV_CTRL_PERIOD_S = PARAMS.slot("s", "inverter: feedback period")
P_INV_MODE = PARAMS.slot("", "code of the inverter's feedback mode (MODE_*)")
P_INV_DUTY_MAX = PARAMS.slot("1", "inverter: largest duty")
P_INV_GAIN = PARAMS.slot("1", "inverter: share of the step to the feedback's target per tick")
P_SEG_SQUEEZE_S = PARAMS.slot("s", "squeeze before the current (CD: before pulse 1)")
P_SEG_UP1_S = PARAMS.slot("s", "inverter: up-slope 1")
P_SEG_WELD1_S = PARAMS.slot("s", "inverter: weld 1")
P_SEG_DOWN1_S = PARAMS.slot("s", "inverter: down-slope 1")
P_SEG_COOL_S = PARAMS.slot("s", "inverter: cool between the two welds")
P_SEG_UP2_S = PARAMS.slot("s", "inverter: up-slope 2")
P_SEG_WELD2_S = PARAMS.slot("s", "inverter: weld 2")
P_SEG_DOWN2_S = PARAMS.slot("s", "inverter: down-slope 2")
P_SEG_HOLD_S = PARAMS.slot("s", "hold after the current (CD: before the automatic retract)")
P_SP1 = PARAMS.slot("A, V or W", "inverter: setpoint of weld 1 in the unit of P_INV_MODE")
P_SP2 = PARAMS.slot("A, V or W", "inverter: setpoint of weld 2 in the unit of P_INV_MODE")
P_L_H = PARAMS.slot("H", "inductance of the secondary loop (CD: of the pulse tap)")
P_RW_OHM = PARAMS.slot("Ω", "resistance of supply and cables in series with the load")
P_RES_LOAD_OHM = PARAMS.slot("Ω", "resistor process: the load")
P_RES_HEAT_CAP = PARAMS.slot("J/K", "unused: nothing writes or reads it")
P_TIP_R0_OHM = PARAMS.slot("Ω", "TC: tip resistance at ambient (with its wear)")
P_TIP_ALPHA = PARAMS.slot("1/K", "TC: tip's temperature coefficient of resistance")
P_TIP_CAP = PARAMS.slot("J/K", "TC: tip's heat capacity")
P_TIP_G_SINK = PARAMS.slot("W/K", "TC: conductance from the tip to its holder at ambient")
P_TIP_TM = PARAMS.slot("°C", "TC: tip's melting point")
P_TIP_LAT = PARAMS.slot("J", "TC: tip's latent heat of fusion")
P_WIRE_D_M = PARAMS.slot("m", "wire diameter (this part's)")
P_WIRE_RHO0 = PARAMS.slot("Ω·m", "wire resistivity at ambient (direct welding reads P_DW_RHO0)")
P_WIRE_ALPHA = PARAMS.slot("1/K", "wire's temperature coefficient (direct reads P_DW_ALPHA)")
P_WIRE_CAP_PER_M = PARAMS.slot("J/(K·m)", "wire's heat capacity per length")
P_WIRE_TM = PARAMS.slot("°C", "wire's melting point")
P_WIRE_LAT_PER_M = PARAMS.slot("J/m", "wire's latent heat of fusion per length")
P_WIRE_K = PARAMS.slot("W/(m·K)", "wire's thermal conductivity")
P_WIRE_G_FIN = PARAMS.slot("W/K", "conductance of the free wire on both sides to ambient")
P_WIRE_SIGY0_PA = PARAMS.slot("Pa", "wire's yield stress at ambient")
P_WIRE_E_PA = PARAMS.slot("Pa", "wire's Young's modulus (the scale of its strain hardening)")
P_WIRE_N = PARAMS.slot("1", "wire's strain-hardening exponent")
P_WIRE_SOFT_EXP = PARAMS.slot("1", "exponent of the wire's softening toward its melting point")
P_WIRE_BREAKING_N = PARAMS.slot("N", "wire's breaking force (the kernel does not read it)")
P_CONTACT_LEN_M = PARAMS.slot("m", "TC: length of wire under the tip")
P_ENAMEL_H0_M = PARAMS.slot("m", "TC: enamel thickness on each side of the wire at the start")
P_ENAMEL_K = PARAMS.slot("W/(m·K)", "TC: enamel's thermal conductivity")
P_ENAMEL_SOFT_C = PARAMS.slot("°C", "TC: enamel's softening point, where it starts to flow")
P_ENAMEL_FLOW_RATE = PARAMS.slot("1/s", "TC: enamel's flow rate scale at the reference force")
P_ENAMEL_FLOW_DT_C = PARAMS.slot("K", "TC: rise over which enamel flow and burning grow e-fold")
P_ENAMEL_DEC_C = PARAMS.slot("°C", "TC: enamel's decomposition point, where it burns away")
P_ENAMEL_DEC_RATE = PARAMS.slot("1/s", "TC: enamel's decomposition rate scale")
P_H_METAL = PARAMS.slot("W/(m²·K)", "heat transfer coefficient of a bare metal contact")
P_TERM_CAP = PARAMS.slot("J/K", "TC: heat capacity of the terminal zone under the joint")
P_TERM_G_SINK = PARAMS.slot("W/K", "TC: conductance from that zone into the rest of the strip")
P_TERM_TM = PARAMS.slot("°C", "TC: terminal's melting point (no latent heat)")
P_COATING_SOLIDUS_C = PARAMS.slot("°C", "judge: terminal coating's solidus (1e9: no coating)")
P_BOND_K0 = PARAMS.slot("1/s", "rate prefactor of the solid-state bond (Arrhenius)")
P_BOND_Q_K = PARAMS.slot("K", "activation temperature of the bond (Q/R)")
P_BOND_EPS_REF = PARAMS.slot("1", "TC: wire strain beyond which deformation no longer limits it")
P_BOND_STRENGTH_PA = PARAMS.slot("Pa", "judge: strength of a fully bonded interface")
P_FLOW_V0 = PARAMS.slot("m/s", "plastic flow speed at twice the force the flow needs")
P_CONSTRAINT = PARAMS.slot("1", "TC: plastic constraint factor of the wire under the tip")
P_HEEL_KNEE = PARAMS.slot("1", "judge: share of set-down beyond which the heel thins")
P_HEEL_ANNEAL_C = PARAMS.slot("°C", "judge: peak wire temperature where the heel softens")
P_HEEL_ANNEAL_SPAN_C = PARAMS.slot("K", "judge: span of that softening to its full 40 %")
P_OVERDEFORM_FRAC = PARAMS.slot("1", "judge: share of set-down that is over-deformation")
P_CUT_FRAC = PARAMS.slot("1", "judge: share of set-down that cuts the wire")
P_MISSING_WIRE = PARAMS.slot("", "flag: no wire under the electrode")
P_DW_RHO0 = PARAMS.slot("Ω·m", "direct: wire resistivity at ambient")
P_DW_ALPHA = PARAMS.slot("1/K", "direct: wire's temperature coefficient of resistance")
P_DW_HARDNESS0_PA = PARAMS.slot("Pa", "direct: wire's hardness at ambient (3 × yield)")
P_FILM_RHO_OHM_M2 = PARAMS.slot("Ω·m²", "direct: film resistance of the wire/wire contact, cold")
P_FILM_DECAY_C = PARAMS.slot("K", "direct: temperature rise over which that film falls e-fold")
P_EC_FILM_OHM_M2 = PARAMS.slot("Ω·m²", "direct: film resistance of an electrode/wire contact")
P_EL_CAP = PARAMS.slot("J/K", "direct: heat capacity of each electrode")
P_EL_G_SINK = PARAMS.slot("W/K", "direct: conductance from each electrode to ambient")
P_JUNCTION_LEN_M = PARAMS.slot("m", "direct: length of wire in each wire node")
P_STICK_C = PARAMS.slot("°C", "judge: electrode-side temperature where the electrode sticks")
P_EXPEL_FRAC0 = PARAMS.slot("1", "direct: molten share of the junction held at the reference force")
P_FORCE_REF_N = PARAMS.slot("N", "reference force of enamel flow and expulsion")
P_HEAD_FORCE_N = PARAMS.slot("N", "head: force setpoint")
P_HEAD_APPROACH_M_S = PARAMS.slot("m/s", "head: approach speed")
P_HEAD_SEARCH_M_S = PARAMS.slot("m/s", "head: soft-touch search speed")
P_HEAD_START_GAP_M = PARAMS.slot("m", "head: start height of the tip above the part")
P_HEAD_SEARCH_GAP_M = PARAMS.slot("m", "head: height above the part where the search begins")
P_HEAD_CONTACT_N = PARAMS.slot("N", "head: force that means contact")
P_HEAD_RAMP_N_S = PARAMS.slot("N/s", "head: force ramp rate")
P_HEAD_K_N_M = PARAMS.slot("N/m", "head: spring rate")
P_HEAD_TAU_S = PARAMS.slot("s", "head: time constant of the servo follow-up")
P_HEAD_FIRE_PCT = PARAMS.slot("%", "head: share of the force setpoint that allows firing")
P_HEAD_RETRACT_M_S = PARAMS.slot("m/s", "head: retract speed")
P_HEAD_VMAX_M_S = PARAMS.slot("m/s", "head: largest motor speed")
P_AUTO_FIRE = PARAMS.slot("", "flag: fire on reaching the firing force (stand-alone run)")
P_AUTO_RETRACT = PARAMS.slot("", "flag: retract after the hold (stand-alone run)")
P_CD_HOLD_A = PARAMS.slot("A", "CD: the SCR's holding current referred to the secondary")
P_PHYS_EVERY = PARAMS.slot("", "count of output samples per heat and mechanics step (≥ 1)")
# derived once per weld by `derive` (so no division runs per step)
P_PART_TOP_M = PARAMS.slot("m", "height of the part's top above the terminal before set-down")
P_HEAD_COMP_M = PARAMS.slot("m", "head: spring compression at the force setpoint")
P_HEAD_RAMP_V = PARAMS.slot("m/s", "head: motor speed of the force ramp (within the largest)")
P_HEAD_INV_TAU = PARAMS.slot("1/s", "head: 1 / P_HEAD_TAU_S")
P_INV_SPAN = PARAMS.slot("1", "inverter: one step as a share of the output pulse period")
P_INV_INV_SPAN = PARAMS.slot("1", "inverter: 1 / P_INV_SPAN")
P_DT_OVER_L = PARAMS.slot("1/Ω", "step over loop inductance (s/H)")
P_INV_STEPS_PER_TICK = PARAMS.slot("", "count of steps per feedback tick, less half a step")
N_PARAMS = len(PARAMS)

# The state vector s (float64), carried between blocks. Times are since the weld was prepared;
# -1 marks an event that has not happened yet. "Enthalpy" is above ambient.
STATE = Layout("S_", globals())
S_T = STATE.slot("s", "time")
S_STEP = STATE.slot("", "count of electrical steps taken")
S_PHASE = STATE.slot("", "code of the head's phase as observed (PH_*)")
S_HEAD_MODE = STATE.slot("", "code of the head's mode as commanded (HEAD_*)")
S_MOTOR_M = STATE.slot("m", "height of the head's motor (the spring's upper end)")
S_SETDOWN_M = STATE.slot(
    "m",
    {
        "thermocompression": "set-down: enamel gone from both films plus the wire's flattening",
        "direct": "set-down: indentation of the crossed wires (S_S_WIRE)",
        "resistor": "set-down: stays 0",
    },
)
S_CONTACT = STATE.slot("", "flag: the head found the part (until it has retracted)")
S_CONTACT_M = STATE.slot("m", "height of the part's surface at first contact")
S_AT_FORCE = STATE.slot("", "flag: the force ramp reached the setpoint")
S_T_AT_FORCE = STATE.slot("s", "time the firing force was reached")
S_FIRE = STATE.slot("", "flag: fired")
S_T_FIRE = STATE.slot("s", "time the supply's sequence starts (CD: fire plus the squeeze)")
S_SUPPLY_STATE = STATE.slot("", "code of the supply's state (SS_*)")
S_STOP_REQ = STATE.slot("", "flag: a stop was requested")
S_T_SUPPLY_END = STATE.slot("s", "time the supply finished")
S_CURRENT_ON = STATE.slot("", "flag: a CD pulse is on, or the inverter's current not yet out")
S_T_I_START = STATE.slot("s", "time the current first started")
S_T_I_END = STATE.slot("s", "time the current last ended")
S_VC = STATE.slot("V", "CD: capacitor voltage referred to the secondary")
S_I = STATE.slot("A", "secondary current")
S_PULSE_IDX = STATE.slot("", "index of the CD pulse under way or next (2: both done)")
S_DUTY = STATE.slot("1", "inverter: PWM duty")
S_CTRL_ACC = STATE.slot("A, V or W", "inverter: sum of the feedback samples since the last tick")
S_CTRL_N = STATE.slot("", "count of steps since the last feedback tick")
S_PWM_PHASE = STATE.slot("1", "inverter: position in the output pulse period, 0 to 1")
S_SEG_T_START = STATE.slot("s", "unused: nothing writes or reads it")
S_SEG_IDX = STATE.slot("", "index of the inverter's segment at the last tick (9: finished)")
S_H0 = STATE.slot(
    "J",
    {
        "thermocompression": "tip enthalpy",
        "direct": "junction enthalpy: the wires' crossing, P_JUNCTION_LEN_M of each",
        "resistor": "Joule heat the load absorbed",
    },
)
S_H1 = STATE.slot(
    "J",
    {
        "thermocompression": "enthalpy of the wire under the tip",
        "direct": "enthalpy of wire 1 between the junction and electrode 1",
        "resistor": "unused: stays 0",
    },
)
S_H2 = STATE.slot(
    "J",
    {
        "thermocompression": "enthalpy of the terminal zone under the joint",
        "direct": "enthalpy of wire 2 between the junction and electrode 2",
        "resistor": "unused: stays 0",
    },
)
S_H3 = STATE.slot(
    "J",
    {
        "thermocompression": "unused: stays 0",
        "direct": "enthalpy of electrode 1",
        "resistor": "unused: stays 0",
    },
)
S_H4 = STATE.slot(
    "J",
    {
        "thermocompression": "unused: stays 0",
        "direct": "enthalpy of electrode 2",
        "resistor": "unused: stays 0",
    },
)
S_E_TOP = STATE.slot("m", "TC: enamel thickness between tip and wire")
S_E_BOT = STATE.slot("m", "TC: enamel thickness between wire and terminal")
S_S_WIRE = STATE.slot(
    "m",
    {
        "thermocompression": "flattening of the wire: the height it lost",
        "direct": "indentation of the crossed wires into each other",
        "resistor": "unused: stays 0",
    },
)
S_BOND = STATE.slot(
    "1",
    {
        "thermocompression": "bonded share of the wire/terminal interface",
        "direct": "bonded share of the junction (1 once it melts)",
        "resistor": "unused: stays 0",
    },
)
S_E_ELEC = STATE.slot("J", "Joule energy into the load")
S_E_LOSS = STATE.slot("J", "heat lost to ambient, and the enthalpy of expelled metal")
S_I_PEAK = STATE.slot("A", "peak current")
S_T_IF_PEAK = STATE.slot(
    "°C",
    {
        "thermocompression": "peak temperature of the wire/terminal interface "
        "(missing wire: the mean of tip and terminal)",
        "direct": "peak junction temperature",
        "resistor": "ambient: not followed",
    },
)
S_T_WIRE_PEAK = STATE.slot(
    "°C",
    {
        "thermocompression": "peak temperature of the wire",
        "direct": "peak temperature of the hottest wire node",
        "resistor": "ambient: not followed",
    },
)
S_T_EL_PEAK = STATE.slot(
    "°C",
    {
        "thermocompression": "peak temperature of the tip/wire interface (missing wire: the tip)",
        "direct": "peak temperature of the wire at the electrodes",
        "resistor": "ambient: not followed",
    },
)
S_BURN_T = STATE.slot(
    "s",
    {
        "thermocompression": "time of burn-through: half the enamel of both films gone",
        "direct": "time the junction began to melt",
        "resistor": "unused: stays -1",
    },
)
S_EXPELLED = STATE.slot("", "flag: direct: molten metal was expelled")
S_R_LAST = STATE.slot("Ω", "unused: nothing writes or reads it")
S_V_LAST = STATE.slot("V", "unused: nothing writes or reads it")
S_ENERGY_TIP = STATE.slot("J", "unused: nothing writes or reads it")
S_RETRACT = STATE.slot("", "flag, unused: nothing writes or reads it")
S_T_RETRACT_DONE = STATE.slot("s", "time the retracting tip left the part")
S_N_FIRE = STATE.slot("", "count of current pulses started")
S_R_LOAD = STATE.slot("Ω", "load resistance, held for the coming heat and mechanics step")
S_I2_ACC = STATE.slot("A²·s", "∫i² dt since the last heat and mechanics step")
S_PHYS_N = STATE.slot("", "count of output samples since the last heat and mechanics step")
S_R_FAY = STATE.slot("Ω", "direct: resistance of the wire/wire contact, held (as S_R_LOAD)")
S_R_EC1 = STATE.slot("Ω", "direct: resistance of the contact of electrode 1, held")
S_R_EC2 = STATE.slot("Ω", "direct: resistance of the contact of electrode 2, held")
S_R_B1 = STATE.slot("Ω", "direct: bulk resistance of wire 1, held")
S_R_B2 = STATE.slot("Ω", "direct: bulk resistance of wire 2, held")
N_STATE = len(STATE)

# process kinds
PROC_RESISTOR = 0
PROC_THERMOCOMPRESSION = 1
PROC_DIRECT = 2
# supply kinds
SUP_CD = 0
SUP_INVERTER = 1
# inverter feedback modes
MODE_CURRENT = 0
MODE_VOLTAGE = 1
MODE_POWER = 2
# head modes (commanded)
HEAD_IDLE = 0
HEAD_APPROACH = 1
HEAD_RETRACT = 2
# head phases (observed)
PH_APPROACH = 0
PH_SEARCH = 1
PH_RAMP = 2
PH_AT_FORCE = 3
PH_RETRACT = 4
PH_IDLE = 5
# supply states
SS_IDLE = 0
SS_RUNNING = 1
SS_DONE = 2
# output channels
OUT_CURRENT = 0
OUT_VOLTAGE = 1
OUT_FORCE = 2
OUT_POSITION = 3
N_OUT = 4

_KELVIN = 273.15
_R_GAS = 8.314

# Every function here is cached, takes NumPy's error model (a division by zero gives inf or NaN,
# no exception) and does no reference counting of arrays (_nrt=False), as the monitor's kernels:
# numba counts a reference for every array variable (each argument of an inlined helper is one),
# an atomic increment and decrement that its pruner removes in simple control flow only, not in
# the nested branches and loops here, where they took a third of the run time. None is needed:
# nothing here allocates or keeps an array, and the caller of `advance` holds p and s for the
# whole call. (Any: numba's type stubs do not list _nrt.)
_JIT: Any = {"cache": True, "error_model": "numpy", "_nrt": False}
_INLINE: Any = {**_JIT, "inline": "always"}


@njit(**_INLINE)
def _temp(h: float, cap: float, tm: float, lat: float, t0: float) -> float:
    # Enthalpy is the state so that a melt plateau and the energy balance are exact.
    hs = cap * (tm - t0)
    if h <= hs:
        return t0 + h / cap
    if h <= hs + lat:
        return tm
    return tm + (h - hs - lat) / cap


@njit(**_INLINE)
def _clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else (hi if x > hi else x)


@njit(**_INLINE)
def flow_stress_pa(p: np.ndarray, eps: float, temp_c: float) -> float:
    """Return the wire's flow stress (Pa) at plastic strain eps and temperature (°C)."""
    sy = p[P_WIRE_SIGY0_PA]
    hard = (1.0 + p[P_WIRE_E_PA] * max(eps, 0.0) / sy) ** p[P_WIRE_N]
    theta = _clip((temp_c - p[P_T0_C]) / (p[P_WIRE_TM] - p[P_T0_C]), 0.0, 1.0)
    e = p[P_WIRE_SOFT_EXP]
    # x**1.5 as x*sqrt(x): this runs every physics step and pow costs several times more.
    soft = (1.0 - theta) * math.sqrt(1.0 - theta) if e == 1.5 else (1.0 - theta) ** e
    soft = max(soft, 0.01)
    return sy * hard * soft


@njit(**_INLINE)
def stadium_width_m(d: float, s: float) -> float:
    """Return the flat contact width (m) of a round wire of diameter d flattened by s (m)."""
    # Volume is conserved: the section becomes a stadium of height h (flat w + two half discs).
    h = max(d - s, 0.02 * d)
    a0 = math.pi * d * d / 4.0
    return max((a0 - math.pi * h * h / 4.0) / h, 0.02 * d)


@njit(**_INLINE)
def _seg_setpoint(p: np.ndarray, t: float) -> tuple[float, int]:
    """Inverter setpoint at time t since fire, and the segment index (9 = finished)."""
    edges = (
        p[P_SEG_SQUEEZE_S],
        p[P_SEG_UP1_S],
        p[P_SEG_WELD1_S],
        p[P_SEG_DOWN1_S],
        p[P_SEG_COOL_S],
        p[P_SEG_UP2_S],
        p[P_SEG_WELD2_S],
        p[P_SEG_DOWN2_S],
        p[P_SEG_HOLD_S],
    )
    t0 = 0.0
    for k in range(9):
        dur = edges[k]
        if t < t0 + dur:
            x = (t - t0) / dur
            if k == 1:
                return p[P_SP1] * x, k
            if k == 2:
                return p[P_SP1], k
            if k == 3:
                return p[P_SP1] * (1.0 - x), k
            if k == 5:
                return p[P_SP2] * x, k
            if k == 6:
                return p[P_SP2], k
            if k == 7:
                return p[P_SP2] * (1.0 - x), k
            return 0.0, k
        t0 += dur
    return 0.0, 9


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(**_INLINE)
def _fast_cd(p: np.ndarray, s: np.ndarray, r_load: float, n: int, dt: float) -> float:
    """Run n electrical steps of the CD circuit with the load held; return ∫i² dt (A²·s)."""
    if s[S_SUPPLY_STATE] != SS_RUNNING:
        s[S_T] += n * dt
        return 0.0
    r = r_load + p[P_RW_OHM]
    ll = p[P_L_H]
    c = p[P_CD_C_F]
    # RK4 of the linear RLC with R frozen is a fixed 2x2 map: precompute it once per block.
    # x' = A x with x = (i, vc): A = [[-r/L, 1/L], [-1/C, 0]]
    a11, a12, a21 = -r / ll, 1.0 / ll, -1.0 / c
    h = dt
    # M = I + hA + (hA)^2/2 + (hA)^3/6 + (hA)^4/24, built by Horner on 2x2 matrices
    m11, m12, m21, m22 = 1.0, 0.0, 0.0, 1.0
    for k in (4.0, 3.0, 2.0, 1.0):
        # M <- I + (h/k) A M
        n11 = 1.0 + h / k * (a11 * m11 + a12 * m21)
        n12 = h / k * (a11 * m12 + a12 * m22)
        n21 = h / k * (a21 * m11)
        n22 = 1.0 + h / k * (a21 * m12)
        m11, m12, m21, m22 = n11, n12, n21, n22
    # RK4's midpoint current (i_a + i_b)/2 is linear in (i, vc) too; Simpson on i² uses it.
    q = 0.5 * h
    ia_i, ia_v = 1.0 + q * a11, q * a12
    va_i, va_v = q * a21, 1.0
    ib_i = 1.0 + q * (a11 * ia_i + a12 * va_i)
    ib_v = q * (a11 * ia_v + a12 * va_v)
    mid_i, mid_v = 0.5 * (ia_i + ib_i), 0.5 * (ia_v + ib_v)
    i0 = s[S_I]
    vc = s[S_VC]
    on = s[S_CURRENT_ON] > 0.5
    if on and n > 1 and s[S_STOP_REQ] < 0.5:
        # Mid-pulse the block is M^n applied once; its Joule energy is the drop of the stored
        # energy ½Li² + ½Cv² over R. Taken only when the current stays above the SCR's holding
        # current and is monotone over the block (the peak then sits at an end); otherwise the
        # block is stepped one by one below.
        p11, p12, p21, p22 = 1.0, 0.0, 0.0, 1.0
        b11, b12, b21, b22 = m11, m12, m21, m22
        e = n
        while e > 0:
            if e & 1:
                p11, p12, p21, p22 = (
                    b11 * p11 + b12 * p21,
                    b11 * p12 + b12 * p22,
                    b21 * p11 + b22 * p21,
                    b21 * p12 + b22 * p22,
                )
            e >>= 1
            if e:
                b11, b12, b21, b22 = (
                    b11 * b11 + b12 * b21,
                    b11 * b12 + b12 * b22,
                    b21 * b11 + b22 * b21,
                    b21 * b12 + b22 * b22,
                )
        i_n = p11 * i0 + p12 * vc
        v_n = p21 * i0 + p22 * vc
        d0 = vc - r * i0
        d_n = v_n - r * i_n
        if i_n > p[P_CD_HOLD_A] and (d0 >= 0.0) == (d_n >= 0.0):
            e_drop = 0.5 * ll * (i0 * i0 - i_n * i_n) + 0.5 * c * (vc * vc - v_n * v_n)
            s[S_I] = i_n
            s[S_VC] = v_n
            s[S_I_PEAK] = max(s[S_I_PEAK], i_n)
            s[S_T] += n * dt
            return max(e_drop / r, 0.0)
    idx = int(s[S_PULSE_IDX])
    t = s[S_T]
    t_fire = s[S_T_FIRE]
    truncate = s[S_STOP_REQ] > 0.5 and p[P_CD_TRUNCATABLE] > 0.5
    hold = p[P_CD_HOLD_A]
    i2 = 0.0
    peak = s[S_I_PEAK]
    for _ in range(n):
        if not on:
            v = p[P_CD_V1] if idx == 0 else p[P_CD_V2]
            if idx >= 2 or v <= 0.0 or s[S_STOP_REQ] > 0.5:
                s[S_SUPPLY_STATE] = SS_DONE
                s[S_T_SUPPLY_END] = t
                t += dt
                continue
            start = t_fire + (0.0 if idx == 0 else p[P_CD_T2_S])
            if t < start:
                t += dt
                continue
            vc = v
            i0 = 0.0
            on = True
            s[S_N_FIRE] += 1.0
            if s[S_T_I_START] < 0.0:
                s[S_T_I_START] = t
        if truncate:
            # A truncating switch commutates the pulse off at once.
            i0 = 0.0
            on = False
            idx = 2
            t += dt
            continue
        i1 = m11 * i0 + m12 * vc
        v1 = m21 * i0 + m22 * vc
        im = mid_i * i0 + mid_v * vc
        if (i1 <= 0.0 and i0 > 0.0) or (0.0 < i1 < hold and i1 < i0):
            # The SCR blocks reverse current, and turns off below its holding current.
            frac = i0 / (i0 - i1) if i1 <= 0.0 else 1.0
            i2 += i0 * i0 * dt * frac / 3.0
            vc = vc + (v1 - vc) * frac
            i0 = 0.0
            on = False
            idx += 1
            s[S_T_I_END] = t + dt * frac
            t += dt
            continue
        i2 += dt / 6.0 * (i0 * i0 + 4.0 * im * im + i1 * i1)
        i0 = i1
        vc = v1
        if i0 > peak:
            peak = i0
        t += dt
    s[S_I] = i0
    s[S_VC] = vc
    s[S_CURRENT_ON] = 1.0 if on else 0.0
    s[S_PULSE_IDX] = idx
    s[S_I_PEAK] = peak
    s[S_T] = t
    return i2


@njit(**_INLINE)
def _inverter_control(p: np.ndarray, s: np.ndarray, r_load: float, y: float, tf: float) -> None:
    """Update the PWM duty at a feedback tick from the period's mean measurement y."""
    sp, seg = _seg_setpoint(p, tf)
    stop = s[S_STOP_REQ] > 0.5
    s[S_SEG_IDX] = seg
    duty = s[S_DUTY]
    if stop or sp <= 0.0 or seg not in (1, 2, 3, 5, 6, 7):
        duty = 0.0
    else:
        mode = int(p[P_INV_MODE])
        lin_sp = math.sqrt(sp) if mode == MODE_POWER else sp
        lin_y = math.sqrt(max(y, 0.0)) if mode == MODE_POWER else max(y, 0.0)
        if duty <= 0.0 or lin_y <= 1e-3 * lin_sp:
            # From rest: feed-forward on the present load; feedback corrects it.
            r_tot = r_load + p[P_RW_OHM]
            rl = max(r_load, 1e-6)
            if mode == MODE_CURRENT:
                v_need = sp * r_tot
            elif mode == MODE_VOLTAGE:
                v_need = sp * r_tot / rl
            else:
                v_need = math.sqrt(sp * rl) * r_tot / rl
            duty = v_need / p[P_INV_VSRC_V]
        else:
            # The output is proportional to duty on a resistive load: a ratio step is
            # gain-free, and damping keeps it stable against the L/R lag.
            target = min(duty * lin_sp / lin_y, 2.0 * duty + 0.02)
            duty = duty + p[P_INV_GAIN] * (target - duty)
        duty = _clip(duty, 0.0, p[P_INV_DUTY_MAX])
    s[S_DUTY] = duty
    if (seg >= 9 or stop) and s[S_I] <= 0.0 and duty <= 0.0:
        s[S_SUPPLY_STATE] = SS_DONE
        s[S_T_SUPPLY_END] = s[S_T]


@njit(**_INLINE)
def _fast_inverter(p: np.ndarray, s: np.ndarray, r_load: float, n: int, dt: float) -> float:
    """Run n electrical steps of the inverter with the load held; return ∫i² dt (A²·s)."""
    if s[S_SUPPLY_STATE] != SS_RUNNING:
        s[S_T] += n * dt
        return 0.0
    r = r_load + p[P_RW_OHM]
    inv_r = 1.0 / r
    tau = p[P_L_H] * inv_r
    dt_tau = r * p[P_DT_OVER_L]
    one_minus_a = -math.expm1(-dt_tau)
    a = 1.0 - one_minus_a
    c1 = 2.0 * tau * one_minus_a
    c2 = 0.5 * tau * one_minus_a * (1.0 + a)
    i_on = p[P_INV_VSRC_V] * inv_r
    span = p[P_INV_SPAN]
    inv_span = p[P_INV_INV_SPAN]
    mode = int(p[P_INV_MODE])
    i0 = s[S_I]
    phase = s[S_PWM_PHASE]
    acc = s[S_CTRL_ACC]
    cnt = s[S_CTRL_N]
    t = s[S_T]
    i2 = 0.0
    peak = s[S_I_PEAK]
    t_end = s[S_T_I_END]
    # The feedback sample is c1·i + c2·i² (I, V = i·R or P = i²·R): no branch per step.
    f1 = 1.0 if mode == MODE_CURRENT else (r_load if mode == MODE_VOLTAGE else 0.0)
    f2 = r_load if mode == MODE_POWER else 0.0
    running = True
    duty = s[S_DUTY]
    stop = s[S_STOP_REQ] > 0.5
    inv_oma = 1.0 / one_minus_a
    inv_oma2 = inv_oma / (1.0 + a)
    steps_per_tick = p[P_INV_STEPS_PER_TICK]
    j = 0
    while j < n:
        if not running:
            t += (n - j) * dt
            break
        # A run of k steps with the bridge fully on (or fully off) and no feedback tick is the
        # same affine map k times: apply it in closed form (geometric sums), exactly as stepping
        # would, so one exp serves the run instead of k.
        free = 0 if (stop and duty > 0.0) else math.ceil(steps_per_tick - cnt) - 1
        k = 0
        on_run = 0.0
        if free >= 2:
            hi = phase + span
            if hi <= duty:
                k = int((duty - phase) * inv_span)
                on_run = 1.0
            elif phase >= duty and hi <= 1.0:
                k = int((1.0 - phase) * inv_span)
            k = min(k, free, n - j)
        if k >= 2:
            i_ss = on_run * i_on
            x0 = i0 - i_ss
            em = 1.0 - math.exp(-k * dt_tau)  # 1 - a^k (k·dt/τ >> 1e-13: no cancellation)
            ik = i_ss + x0 * (1.0 - em)
            if on_run > 0.0 or ik >= 0.05:
                s1 = em * inv_oma  # Σ a^q, q < k
                s2 = em * (2.0 - em) * inv_oma2  # Σ a^2q, q < k
                acc += f1 * (k * i_ss + x0 * s1) + f2 * (
                    k * i_ss * i_ss + 2.0 * i_ss * x0 * s1 + x0 * x0 * s2
                )
                cnt += k
                i2 += k * i_ss * i_ss * dt + i_ss * x0 * c1 * s1 + x0 * x0 * c2 * s2
                if ik > 0.0:
                    t_end = t + k * dt
                i0 = ik
                peak = max(peak, i0)  # a run is monotone: its end bounds it
                phase += k * span
                if phase >= 1.0:
                    phase -= 1.0
                t += k * dt
                j += k
                continue
        # one step on its own: a feedback tick, a PWM edge inside the step, or the tail's end
        acc += (f1 + f2 * i0) * i0
        cnt += 1.0
        if cnt >= steps_per_tick or (stop and duty > 0.0):
            s[S_T] = t
            s[S_I] = i0
            _inverter_control(p, s, r_load, acc / cnt, t - s[S_T_FIRE])
            acc = 0.0
            cnt = 0.0
            duty = s[S_DUTY]
            running = s[S_SUPPLY_STATE] == SS_RUNNING
            if duty > 0.0 and s[S_CURRENT_ON] < 0.5:
                s[S_CURRENT_ON] = 1.0
                s[S_N_FIRE] += 1.0
                if s[S_T_I_START] < 0.0:
                    s[S_T_I_START] = t
        # share of this step the bridge conducts: overlap of [phase, phase+span) with the
        # carrier's on-window [0, duty) of this period and of the next
        hi = phase + span
        on = (max(0.0, min(hi, duty) - phase) + max(0.0, min(hi - 1.0, duty))) * inv_span
        phase = hi if hi < 1.0 else hi - 1.0
        i_ss = on * i_on
        x = i0 - i_ss
        i1 = i_ss + x * a
        if i1 < 0.0 or (on <= 0.0 and i1 < 0.05):
            # The rectifier's forward drop ends the freewheeling tail in finite time.
            i2 += i0 * i0 * dt / 3.0
            i1 = 0.0
            if duty <= 0.0:
                s[S_CURRENT_ON] = 0.0
        else:
            # ∫i² over the step of an exponential approach: closed form.
            i2 += i_ss * i_ss * dt + i_ss * x * c1 + x * x * c2
            t_end = t + dt
        i0 = i1
        peak = max(peak, i0)
        t += dt
        j += 1
    s[S_T_I_END] = t_end
    s[S_I] = i0
    s[S_PWM_PHASE] = phase
    s[S_CTRL_ACC] = acc
    s[S_CTRL_N] = cnt
    s[S_I_PEAK] = peak
    s[S_T] = t
    return i2


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
        return
    w = stadium_width_m(d, s[S_S_WIRE])
    area = w * lc
    ke = p[P_ENAMEL_K]
    g_tw = area / (s[S_E_TOP] / ke + 1.0 / p[P_H_METAL])
    g_wt = area / (s[S_E_BOT] / ke + 1.0 / p[P_H_METAL])
    q_tw = g_tw * (tt - tw)
    q_wt = g_wt * (tw - tm)
    q_wf = p[P_WIRE_G_FIN] * (tw - t0)
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
    # plastic flattening of the wire between flat tip and terminal
    sw = s[S_S_WIRE]
    h = max(d - sw, 0.02 * d)
    eps = math.log(d / h)
    f_req = p[P_CONSTRAINT] * (1.0 + 0.05 * w / h) * flow_stress_pa(p, eps, tw) * w * lc
    if force > f_req:
        sw += p[P_FLOW_V0] * min(force / f_req - 1.0, 10.0) * dt
        s[S_S_WIRE] = min(sw, 0.98 * d)
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


@njit(**_JIT)
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


@njit("int64(float64[::1], float64[::1], float64[:, ::1], int64)", **_JIT)
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
