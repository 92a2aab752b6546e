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
from tests.helpers.physics import simulate

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
    # 2.1 V across the tip, 24 ms, 12 N -> about 1.17 N, 83.7 % of the wire (within ±30 %).
    sch = load_schedule(TC_INV)
    assert (sch.supply.weld1_voltage_v, sch.supply.weld1_ms, sch.head.force_n) == (2.1, 24.0, 12.0)
    res = simulate(TC_INV)
    o = res.outcome
    assert o.mean_weld_voltage_v == pytest.approx(2.1, rel=0.05)
    assert o.weld_time_ms == pytest.approx(25.0, abs=0.5)  # 1 ms up-slope + 24 ms weld
    assert o.jbf_n == pytest.approx(1.17, rel=0.30)
    assert o.jbf_pct_of_wire == pytest.approx(83.7, rel=0.30)
    assert o.wire_strength_n == pytest.approx(1.40, rel=0.03)
    assert o.defect == "none"
    # the force head held the firing force through the weld
    f = res.clean[:, K.OUT_FORCE]
    on = res.clean[:, K.OUT_CURRENT] > 10.0
    assert np.all(np.abs(f[on] - 12.0) < 1.0)


def test_cd_thermocompression_schedule_makes_a_good_joint() -> None:
    o = simulate(TC_CD).outcome
    assert o.defect == "none"
    assert o.jbf_pct_of_wire > 50.0


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
        assert r / r0 == pytest.approx(1.0 + 0.00393 * dt_k, rel=1e-9)
    assert t0 == 25.0


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
