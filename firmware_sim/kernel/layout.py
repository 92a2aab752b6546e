"""The kernel's two vectors slot by slot, each slot with its unit and meaning, and the codes.

This module imports nothing, so that `from firmware_sim.kernel.layout import *` (the package does)
gives exactly the tables, their slots and the codes.
"""


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
        """Declare the next slot, its unit and meaning (one per process kind); return its index."""
        self._slots.append((unit, meaning))
        return len(self._slots) - 1

    def __len__(self) -> int:
        return len(self._slots)

    def rows(self) -> list[tuple[str, str, str | dict[str, str]]]:
        """Return each slot's (name, unit, meaning) in index order; ValueError unless one name."""
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
P_INV_GAIN = PARAMS.slot("1", "inverter: feedback loop gain, its crossover ω_c times the period")
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
P_TIP_R0_OHM = PARAMS.slot("Ω", "TC: tip resistance at ambient (20 °C value and wear, at P_T0_C)")
P_TIP_ALPHA = PARAMS.slot("1/K", "TC: tip's temperature coefficient of resistance about P_T0_C")
P_TIP_CAP = PARAMS.slot("J/K", "TC: tip's heat capacity")
P_TIP_G_SINK = PARAMS.slot("W/K", "TC: conductance from the tip to its holder at ambient")
P_TIP_TM = PARAMS.slot("°C", "TC: tip's melting point")
P_TIP_LAT = PARAMS.slot("J", "TC: tip's latent heat of fusion")
P_WIRE_D_M = PARAMS.slot("m", "wire diameter (this part's)")
P_WIRE_RHO0 = PARAMS.slot("Ω·m", "wire resistivity at ambient, not read (direct: P_DW_RHO0)")
P_WIRE_ALPHA = PARAMS.slot("1/K", "wire's temperature coefficient, not read (direct: P_DW_SLOPE_*)")
P_WIRE_CAP_PER_M = PARAMS.slot("J/(K·m)", "wire's heat capacity per length")
P_WIRE_TM = PARAMS.slot("°C", "wire's melting point")
P_WIRE_LAT_PER_M = PARAMS.slot("J/m", "wire's latent heat of fusion per length")
P_WIRE_K = PARAMS.slot("W/(m·K)", "wire's thermal conductivity")
P_WIRE_G_FIN = PARAMS.slot("W/K", "conductance of the free wire on both sides to ambient")
P_WIRE_SIGY0_PA = PARAMS.slot("Pa", "wire's yield stress at ambient")
P_WIRE_E_PA = PARAMS.slot("Pa", "wire's Young's modulus (the scale of its strain hardening)")
P_WIRE_N = PARAMS.slot("1", "wire's strain-hardening exponent")
P_WIRE_SOFT_EXP = PARAMS.slot("1", "exponent of the wire's softening toward its melting point")
P_WIRE_BREAKING_N = PARAMS.slot("N", "wire's breaking force, not read (see Weld.wire_strength_n)")
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
P_HEEL_ANNEAL_C = PARAMS.slot("°C", "not read (was direct's heel softening by peak temperature)")
P_HEEL_ANNEAL_SPAN_C = PARAMS.slot("K", "not read (was the span of that softening)")
P_OVERDEFORM_FRAC = PARAMS.slot("1", "judge: share of set-down that is over-deformation")
P_CUT_FRAC = PARAMS.slot("1", "judge: share of set-down that cuts the wire")
P_MISSING_WIRE = PARAMS.slot("", "flag: no wire under the electrode")
P_DW_RHO0 = PARAMS.slot("Ω·m", "direct: wire resistivity at ambient (on its line from 20 °C)")
P_DW_ALPHA = PARAMS.slot("1/K", "direct: wire's coefficient about P_T0_C, not read (P_DW_SLOPE_LO)")
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
# time at temperature: the heel's softening (thermocompression and direct), the wire's creep (TC)
P_REX_K0 = PARAMS.slot("1/s", "TC, direct: Arrhenius prefactor of the heel's softening (JMAK rate)")
P_REX_Q_K = PARAMS.slot("K", "TC, direct: activation temperature of the heel's softening (Q/R)")
P_REX_N = PARAMS.slot("1", "judge: Avrami exponent of the heel's softening")
P_REX_SOFT_FRAC = PARAMS.slot("1", "judge: strength of a fully softened heel over the wire's")
P_CREEP_K0 = PARAMS.slot("1/s", "TC: Arrhenius prefactor of the wire's creep under the tip")
P_CREEP_Q_K = PARAMS.slot("K", "TC: activation temperature of that creep (Q/R)")
P_CREEP_N = PARAMS.slot("1", "TC: stress exponent of that creep")
# set by firmware_sim.model.pack_supply (appended here, after the derived slots)
P_INV_I_MAX_A = PARAMS.slot("A", "inverter: current limit, in every feedback mode")
# direct welding's bounded physics (firmware_sim.model._pack_direct_bounds)
P_DW_T_CURIE = PARAMS.slot("°C", "direct: wire's Curie point, where its resistivity slope changes")
P_DW_SLOPE_LO = PARAMS.slot("Ω·m/K", "direct: wire's resistivity slope below the Curie point")
P_DW_RHO_CURIE = PARAMS.slot("Ω·m", "direct: wire's resistivity at the Curie point")
P_DW_SLOPE_HI = PARAMS.slot("Ω·m/K", "direct: wire's resistivity slope from Curie to melting")
P_DW_RHO_SMELT = PARAMS.slot("Ω·m", "direct: wire's resistivity, solid at its melting point")
P_DW_RHO_LIQ = PARAMS.slot("Ω·m", "direct: wire's resistivity, liquid at its melting point")
P_DW_SLOPE_LIQ = PARAMS.slot("Ω·m/K", "direct: wire's resistivity slope in the liquid")
P_WIRE_TB = PARAMS.slot("°C", "direct: wire's boiling point (no node goes above it)")
P_WIRE_LV_PER_M = PARAMS.slot("J/m", "direct: wire's latent heat of vaporisation per length")
P_EL_TM = PARAMS.slot("°C", "direct: electrode's melting point (liquidus: the plateau)")
P_EL_LAT = PARAMS.slot("J", "direct: latent heat of fusion of each electrode node")
P_EL_TB = PARAMS.slot("°C", "direct: electrode's boiling point")
P_EL_K = PARAMS.slot("W/(m·K)", "direct: electrode's thermal conductivity (spreading at its face)")
P_EL_RHO = PARAMS.slot("Ω·m", "direct: electrode's resistivity (its side of each contact)")
P_EXPEL_DEFECT = PARAMS.slot("1", "judge: share of the junction's metal lost that is expulsion")
P_CD_INV_LM = PARAMS.slot("1/H", "CD: 1 / magnetising inductance, referred (0: ideal transformer)")
P_CD_IM_SAT_A = PARAMS.slot("A", "CD: magnetising current where the core saturates (1e30: never)")
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
        "direct": "peak temperature of the electrode faces (at most their melting point)",
        "thermocompression": "peak temperature of the tip/wire face, the mean of tip and wire "
        "(missing wire: the tip); the tip's own peak is S_T_TIP_PEAK",
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
S_EXPELLED = STATE.slot("", "flag: direct: molten metal was expelled (at least once)")
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
S_REX_TAU = STATE.slot("1", "TC, direct: the heel's softening rate integrated over time (JMAK k·t)")
S_T_TIP_PEAK = STATE.slot("°C", "TC: peak temperature of the tip itself (its own node)")
S_INV_INTEG = STATE.slot(
    "A, V or √W", "inverter: the feedback's integral, in its mode's linearised unit"
)
S_J_LOST = STATE.slot("1", "direct: share of the junction's metal expelled or boiled away")
S_EXPEL_N = STATE.slot("", "count of expulsions (direct)")
S_IM = STATE.slot("A", "CD: magnetising current of the pulse transformer, referred")
S_CD_SATURATED = STATE.slot("", "flag: CD: the transformer's core saturated in this pulse")
S_E_CD_LOSS = STATE.slot(
    "J", "CD: bank energy that missed the load (winding, core, charge dumped or left unused)"
)
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
