"""The weld processes: thermocompression of enamelled Cu, direct welding of crossed Ni wires."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drivers.config.materials import load_materials
from drivers.config.schedule import load_schedule
from firmware_sim import kernel as K
from firmware_sim.kernel.direct import _direct_resistances
from firmware_sim.model import prepare
from tests.helpers.paths import DIRECT, TC_CD, TC_INV
from tests.helpers.physics import pulse_width_ms, simulate

TIP_VOLTS = (1.2, 1.5, 1.8, 2.1, 2.4, 2.7, 3.0, 3.3)


@pytest.fixture(scope="module")
def tc_sweep() -> list:
    return [simulate(TC_INV, f"supply.weld1_voltage_v={v}").outcome for v in TIP_VOLTS]


def test_thermocompression_jbf_rises_peaks_inside_the_sweep_then_falls(tc_sweep) -> None:
    jbf = [o.jbf_n for o in tc_sweep]
    energy = [o.energy_j for o in tc_sweep]
    assert all(np.diff(energy) > 0), "energy grows with tip voltage"
    k = int(np.argmax(jbf))
    assert 0 < k < len(jbf) - 1, f"peak inside the sweep, got {jbf}"
    assert jbf[0] < 0.3 * jbf[k] and jbf[-1] < 0.5 * jbf[k]
    assert all(np.diff(jbf[: k + 1]) >= 0) and all(np.diff(jbf[k:]) <= 0)


def test_setdown_never_falls_as_energy_rises(tc_sweep) -> None:
    setdown = [o.setdown_um for o in tc_sweep]
    assert all(np.diff(setdown) >= 0), setdown
    assert setdown[-1] > setdown[0] + 30.0


def test_burn_through_comes_earlier_at_higher_power(tc_sweep) -> None:
    times = [o.burn_through_ms for o in tc_sweep if o.burn_through_ms is not None]
    assert len(times) >= 6
    assert all(np.diff(times) < 0), times


def test_too_little_heat_leaves_enamel_residue(tc_sweep) -> None:
    cold = tc_sweep[0]
    assert cold.defect == "enamel_residue"
    assert cold.enamel_removed_fraction < 0.5
    assert cold.jbf_n < 0.05
    good = tc_sweep[TIP_VOLTS.index(2.1)]
    assert good.defect == "none" and good.enamel_removed_fraction > 0.95


def test_too_much_heat_over_deforms_or_cuts() -> None:
    hot = simulate(TC_INV, "supply.weld1_voltage_v=3.3").outcome
    assert hot.defect in ("over_deformation", "wire_cut")
    assert hot.setdown_pct > 80.0


def test_calibration_point_cui_2021() -> None:
    """Cui2021 (Welding in the World 65, abstract: the orthogonal experiment's optimum): 2.1 V
    across the tip, 24 ms, 12 N give 1.1723 N, 83.7 % of the as-received wire. Within ±10 %."""
    sch = load_schedule(TC_INV)
    assert (sch.supply.weld1_voltage_v, sch.supply.weld1_ms, sch.head.force_n) == (2.1, 24.0, 12.0)
    res = simulate(TC_INV)
    o = res.outcome
    assert o.mean_weld_voltage_v == pytest.approx(2.1, rel=0.05)
    assert o.weld_time_ms == pytest.approx(25.0, abs=0.5)  # 1 ms up-slope + 24 ms weld
    assert o.jbf_n == pytest.approx(1.17, rel=0.10)
    assert o.jbf_pct_of_wire == pytest.approx(83.7, rel=0.10)
    assert o.wire_strength_n == pytest.approx(1.40, rel=0.03)
    assert o.defect == "none"
    # the force head held the firing force through the weld
    f = res.clean[:, K.OUT_FORCE]
    on = res.clean[:, K.OUT_CURRENT] > 10.0
    assert np.all(np.abs(f[on] - 12.0) < 1.0)


@pytest.fixture(scope="module")
def tc_times() -> dict[float, object]:
    return {ms: simulate(TC_INV, f"supply.weld1_ms={ms}").outcome for ms in (16, 24, 48, 96)}


def test_cui_2021_optimum_is_an_optimum_in_each_factor(tc_times) -> None:
    """Cui2021's optimum (2.1 V, 24 ms, 12 N) is the best level of each factor of its orthogonal
    experiment, and its joint force first rose, then fell with the welding voltage (abstract).
    The paper's other levels are not recorded here: the model's neighbours (±0.3 V, 16 and
    48 ms, ±4 N) must each give a weaker joint, by at least 5 %."""
    best = tc_times[24].jbf_n
    for override in (
        "supply.weld1_voltage_v=1.8",
        "supply.weld1_voltage_v=2.4",
        "head.force_n=8",
        "head.force_n=16",
    ):
        assert simulate(TC_INV, override).outcome.jbf_n < 0.95 * best, override
    assert tc_times[16].jbf_n < 0.95 * best and tc_times[48].jbf_n < 0.95 * best


def test_fracture_moves_from_the_interface_to_the_heel_as_the_voltage_rises() -> None:
    """Cui2021 (abstract): with rising welding voltage the fracture mode changed from
    interfacial fracture to (partial) pull-out of the wire; below the optimum the bond is what
    breaks, above it the wire's heel."""
    cold = simulate(TC_INV, "supply.weld1_voltage_v=1.8").outcome
    hot = simulate(TC_INV, "supply.weld1_voltage_v=2.4").outcome
    assert (cold.fracture, hot.fracture) == ("interface", "heel")


def test_thermocompression_over_welds_with_time_at_the_same_voltage(tc_times) -> None:
    """Past its optimum a joint weakens with time at temperature, as with heat: the heel
    softens (recrystallisation and grain growth, JMAK with Cu's 123 kJ/mol, Vandermeer2004)
    and the wire creeps thinner under the tip (Cu power-law creep, FrostAshby1982). At 2.1 V
    a 96 ms weld (Sunstone's and Amada's order for enamelled wire, ~100 ms) must lose at least
    15 % of the 24 ms joint, the softened share must grow, and no defect flags it (it is an
    over-weld by time, not by heat)."""
    short, long = tc_times[24], tc_times[96]
    assert long.jbf_n < 0.85 * short.jbf_n
    assert tc_times[48].heel_softened_fraction > short.heel_softened_fraction + 0.1
    assert long.heel_softened_fraction > tc_times[48].heel_softened_fraction + 0.1
    assert long.energy_j > 3.0 * short.energy_j


def test_setdown_keeps_growing_slowly_with_time_at_temperature(tc_times) -> None:
    """Creep goes on while force and heat last: set-down grows from 24 to 48 to 96 ms, by
    less than the plastic flattening of the first 24 ms (a few points, not tens)."""
    sd = [tc_times[ms].setdown_pct for ms in (24, 48, 96)]
    assert sd[0] < sd[1] < sd[2], sd
    assert 1.0 < sd[2] - sd[0] < 10.0, sd


def test_the_hot_tip_runs_where_polyurethane_enamel_is_stripped() -> None:
    """Hot-tip thermocompression of PU enamel runs the tip at about 350-500 °C; solderable PU
    strips from about 370-390 °C (IEC60851-4 solderability; Elektrisola: PU solderable at
    370 °C, class-155 PU from 390 °C). At Cui2021's point the tip's own peak is in that range,
    its face on the wire above 370 °C, and the tip is hotter than its face, which is hotter
    than the wire and the interface below it."""
    o = simulate(TC_INV).outcome
    assert 350.0 <= o.peak_tip_temp_c <= 500.0
    assert o.peak_electrode_temp_c >= 370.0
    assert o.peak_tip_temp_c > o.peak_electrode_temp_c > o.peak_wire_temp_c
    assert o.peak_wire_temp_c > o.peak_interface_temp_c > 300.0


@pytest.mark.parametrize("dv", [-4.0, 0.0, 4.0])
def test_cd_thermocompression_schedule_makes_a_good_joint(dv: float) -> None:
    """The CD schedule sits inside its window, not on an edge: its charge voltage and 4 V
    (about 5 %) either side each make a joint of over half the wire with no defect, in one CD
    pulse of at most 10 ms (see test_cd_transformer) and with the tip below 700 °C (the model's
    short pulse needs a tip hotter than hot-tip practice's 350-500 °C: see the schedule's note)."""
    volts = load_schedule(TC_CD).supply.charge_voltage_v + dv  # type: ignore[union-attr]
    res = simulate(TC_CD, f"supply.charge_voltage_v={volts}")
    o = res.outcome
    assert o.defect == "none"
    assert o.jbf_pct_of_wire > 50.0
    assert o.peak_tip_temp_c < 700.0
    assert pulse_width_ms(res) <= 10.0


@pytest.fixture(scope="module")
def ni_sweep() -> list:
    return [
        simulate(DIRECT, f"supply.charge_voltage_v={v}").outcome
        for v in (15, 20, 25, 30, 32, 35, 40, 50)
    ]


def test_direct_ni_jbf_rises_then_falls_with_current(ni_sweep) -> None:
    peak_i = [o.peak_current_a for o in ni_sweep]
    jbf = [o.jbf_n for o in ni_sweep]
    assert all(np.diff(peak_i) > 0)
    k = int(np.argmax(jbf))
    assert 0 < k < len(jbf) - 1, jbf
    assert jbf[-1] < 0.6 * jbf[k]
    assert ni_sweep[-1].defect in ("expulsion", "electrode_stick", "over_deformation", "wire_cut")


def test_direct_ni_expels_at_high_heat() -> None:
    o = simulate(DIRECT, "supply.charge_voltage_v=40").outcome
    assert o.defect == "expulsion"
    assert o.peak_interface_temp_c >= 1435.0  # Ni solidus: the junction melted


@pytest.mark.parametrize("path", [DIRECT, TC_INV])
def test_missing_wire_is_reported_and_gives_no_setdown(path) -> None:
    res = simulate(path, "process.missing_wire=true")
    o = res.outcome
    assert o.defect == "missing_wire"
    assert o.setdown_um == pytest.approx(0.0, abs=0.5)
    assert o.jbf_n == 0.0
    # the head had to travel further before it touched anything
    good = simulate(path)
    assert res.clean[:, K.OUT_POSITION].min() < good.clean[:, K.OUT_POSITION].min()


@pytest.mark.parametrize("path", [TC_INV, TC_CD, DIRECT])
def test_energy_balance_within_one_percent(path) -> None:
    res = simulate(path)
    o = res.outcome
    # electrical energy from the measured waveform (what a monitor sees), trapezoid in time
    p = res.measured[:, K.OUT_CURRENT] * res.measured[:, K.OUT_VOLTAGE]
    e_wave = float(np.trapezoid(p, res.t_s))
    heat = o.heat_stored_j + o.heat_lost_j
    assert o.energy_j > 0.5
    assert heat == pytest.approx(o.energy_j, rel=1e-6)  # the model's own ledger
    assert e_wave == pytest.approx(heat, rel=0.01)  # the sampled waveform against the heat


def test_copper_resistance_rises_with_alpha() -> None:
    cu = load_materials().get("wires", "Cu")
    assert cu.temp_coeff_per_k == pytest.approx(0.0039, abs=0.0001)
    weld = prepare(load_schedule(DIRECT, ["process.wire=Cu", "process.wire_diameter_mm=0.1"]))
    p, s = weld.params, weld.state
    t0 = p[K.P_T0_C]
    cap = p[K.P_WIRE_CAP_PER_M] * p[K.P_JUNCTION_LEN_M]
    ratios = []
    for dt_k in (0.0, 100.0, 300.0, 600.0):
        s[K.S_H1] = cap * dt_k  # the wire zone at t0 + dt_k
        bulk = _direct_resistances(p, s, 10.0)[3]
        ratios.append((dt_k, bulk))
    r0 = ratios[0][1]
    for dt_k, r in ratios[1:]:
        # linear about 20 °C, where materials.toml states resistivity and its coefficient
        expect = (1.0 + 0.00393 * (t0 + dt_k - 20.0)) / (1.0 + 0.00393 * (t0 - 20.0))
        assert r / r0 == pytest.approx(expect, rel=1e-9)
    assert t0 == 25.0


@pytest.mark.parametrize("ambient_c", [20.0, 60.0])
def test_resistance_is_stated_at_20_c_whatever_the_ambient(ambient_c: float) -> None:
    """materials.toml: values at 20 °C, R(T) = R20·(1 + α·(T − 20)); the tip's cold resistance
    is stated at 20 °C too. On a 60 °C bench the kernel's cold values are those at 60 °C."""
    amb = f"sim.ambient_c={ambient_c}"
    cu = load_materials().get("wires", "Cu")
    rise = ambient_c - 20.0
    direct = prepare(load_schedule(DIRECT, ["process.wire=Cu", amb])).params
    assert direct[K.P_DW_RHO0] == pytest.approx(1.72e-8 * (1.0 + cu.temp_coeff_per_k * rise))
    sch = load_schedule(TC_INV, [amb])
    tc = prepare(sch).params
    mo = load_materials().get("electrodes", "Mo")
    r20 = sch.process.tip.cold_resistance_mohm * 1e-3
    assert tc[K.P_TIP_R0_OHM] == pytest.approx(r20 * (1.0 + mo.temp_coeff_per_k * rise))
    assert tc[K.P_WIRE_RHO0] == pytest.approx(1.72e-8 * (1.0 + cu.temp_coeff_per_k * rise))
    # and hot: the kernel's line through its ambient value is the 20 °C line
    for temp_c in (300.0, 700.0):
        r = tc[K.P_TIP_R0_OHM] * (1.0 + tc[K.P_TIP_ALPHA] * (temp_c - ambient_c))
        assert r == pytest.approx(r20 * (1.0 + mo.temp_coeff_per_k * (temp_c - 20.0)))
        rho = direct[K.P_DW_RHO0] * (1.0 + direct[K.P_DW_ALPHA] * (temp_c - ambient_c))
        assert rho == pytest.approx(1.72e-8 * (1.0 + cu.temp_coeff_per_k * (temp_c - 20.0)))


@pytest.mark.parametrize("path", [TC_INV, DIRECT])
def test_same_seed_same_bits(path) -> None:
    a = simulate(path, "noise.missing_probability=0.3", seed=7)
    b = simulate(path, "noise.missing_probability=0.3", seed=7)
    c = simulate(path, "noise.missing_probability=0.3", seed=8)
    assert a.measured.tobytes() == b.measured.tobytes()
    assert json.dumps(a.summary()) == json.dumps(b.summary())
    assert a.measured.tobytes() != c.measured.tobytes()


def test_part_spread_and_tip_wear_come_from_the_seed() -> None:
    # each seed its own part (configs/variation.toml), the same seed the same part
    outs = [simulate(TC_INV, seed=k).outcome for k in range(5)]
    diameters = {round(o.wire_diameter_mm, 6) for o in outs}
    assert len(diameters) == 5
    assert simulate(TC_INV, seed=3).outcome == outs[3]
    fresh = simulate(TC_INV).outcome
    worn = simulate(TC_INV, "noise.welds_since_dressing=20000").outcome
    # a worn tip has more resistance: at constant voltage it takes less power
    assert worn.energy_j < fresh.energy_j


def test_block_size_never_changes_the_weld() -> None:
    # The station will advance the kernel in blocks of whatever size the clock asks for.
    def run_in_blocks(block: int) -> np.ndarray:
        weld = prepare(load_schedule(TC_INV))
        p, s = weld.params, weld.state
        p[K.P_AUTO_FIRE] = 1.0
        p[K.P_AUTO_RETRACT] = 1.0
        s[K.S_HEAD_MODE] = K.HEAD_APPROACH
        out = np.zeros((3000, K.N_OUT))
        for k in range(0, 3000, block):
            K.advance(p, s, out[k : k + block], min(block, 3000 - k))
        return out

    ref = run_in_blocks(3000)
    assert ref[:, K.OUT_CURRENT].max() > 100.0
    for block in (1, 7, 64):
        assert run_in_blocks(block).tobytes() == ref.tobytes()


def test_a_tin_coated_terminal_remelts_above_its_solidus() -> None:
    # Sn melts at 232 °C (materials.toml): the calibration weld's interface (≈ 390 °C) remelts
    # tin plating; a cold weld does not. Sn-Bi coatings melt lower still (papers/001, 003),
    # which bounds the interface temperature a window may allow on such terminals.
    sn = simulate(TC_INV, "process.coating=Sn").outcome
    assert sn.defect == "coating_remelt" and sn.peak_interface_temp_c > 232.0
    cold = simulate(TC_INV, "process.coating=Sn", "supply.weld1_voltage_v=1.2").outcome
    assert cold.peak_interface_temp_c < 232.0 and cold.defect != "coating_remelt"
    mats = load_materials()
    assert mats.get("coatings", "SnBi36Ag0.5").solidus_c < mats.get("coatings", "Sn").solidus_c


def test_a_misplaced_wire_makes_a_weaker_more_deformed_joint() -> None:
    good = simulate(TC_INV).outcome
    off = simulate(TC_INV, "noise.misplaced_probability=1").outcome
    assert off.jbf_n < 0.8 * good.jbf_n
    assert off.setdown_pct > good.setdown_pct + 5.0
