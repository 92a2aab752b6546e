"""Direct welding of crossed 0.4 mm Ni wires: bounded by its metals, calibrated to the shape of
Fukumoto's published window.

The published case (Fukumoto & Zhou, crossed 0.4 mm Ni, Metall. Mater. Trans. A; the 0.4 mm
and the rise-then-fall of the joint strength with current, the fall put down to the softening
of the wire beside the joint and liquid squeezed out of the crossing, are in Li2020 section 2;
currents 250 to 800 A at 4 kgf are those of the companion Au-plated-wire study's abstract,
Fukumoto, Chen & Zhou 2005) is a constant-current inverter weld: here the shipped direct
schedule with an inverter in current mode, 10 ms (1 ms up-slope, 9 ms weld) at 39.2 N.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivers.config.materials import load_materials
from drivers.config.schedule import load_schedule
from firmware_sim import kernel as K
from firmware_sim.kernel.direct import _rho_wire
from firmware_sim.model import prepare
from firmware_sim.run import Result, run
from firmware_sim.validation.process import SWEEP_A
from firmware_sim.validation.process import direct_cc as cc_schedule
from tests.helpers.paths import DIRECT

NI = load_materials().get("wires", "Ni")
CUCRZR = load_materials().get("electrodes", "CuCrZr")


def weld_cc(amps: float) -> Result:
    return run(prepare(cc_schedule(amps)))


@pytest.fixture(scope="module")
def sweep() -> dict[int, Result]:
    return {a: weld_cc(a) for a in SWEEP_A}


def test_no_node_above_its_boiling_point(sweep) -> None:
    """Ni boils at 2913 °C, Cu at 2562 °C (CRC, in configs/materials.toml); what a node gains
    beyond boils away. 2500 A for 10 ms drives the junction to it (main reached 14,000 °C)."""
    assert NI.boiling_c == 2913.0 and CUCRZR.boiling_c == 2562.0
    for amps, res in sweep.items():
        o = res.outcome
        assert o.peak_interface_temp_c <= NI.boiling_c + 1e-6, amps
        assert o.peak_wire_temp_c <= NI.boiling_c + 1e-6, amps
        assert o.peak_electrode_temp_c <= CUCRZR.liquidus_c + 1e-6, amps
    assert sweep[2500].outcome.peak_interface_temp_c == pytest.approx(NI.boiling_c, abs=1.0)


def test_electrode_face_melts_only_as_an_electrode_stick(sweep) -> None:
    """The CuCrZr face goes no hotter than its melting point (its latent heat takes the rest),
    and wherever it reaches its solidus (1070 °C) the weld is an electrode_stick."""
    stuck = 0
    for amps, res in sweep.items():
        o = res.outcome
        if o.peak_electrode_temp_c >= CUCRZR.solidus_c:
            assert o.defect == "electrode_stick", amps
            stuck += 1
        else:
            assert o.defect != "electrode_stick", amps
    assert stuck >= 2, "the sweep's hot end melts the faces"
    assert sweep[300].outcome.peak_electrode_temp_c < 500.0


def test_setdown_passes_half_the_stack_at_high_heat(sweep) -> None:
    """No clamp at 50 %: the crossed wires indent toward the whole stack (2 d), and expelled
    metal lets the electrodes close further."""
    sd = [sweep[a].outcome.setdown_pct for a in SWEEP_A]
    assert max(sd) > 55.0, sd
    assert all(s <= 100.0 + 1e-9 for s in sd)
    assert sweep[1500].outcome.setdown_pct > sweep[700].outcome.setdown_pct > 20.0


def test_strength_falls_at_high_current_by_physics(sweep) -> None:
    """Past the peak the joint weakens with the set-down, the softened wire and the metal
    expelled: each current its own value (main gave 23.252 N then a fixed 11.626 N)."""
    falling = [sweep[a].outcome.jbf_n for a in (700, 800, 1000)]
    assert falling[0] > 1.2 * falling[1] > 1.2 * 1.2 * falling[2] > 0.0, falling
    for value in falling:
        assert abs(value - 11.626) > 0.5 and abs(value - 23.252) > 0.5
    assert sweep[800].outcome.defect == "expulsion"


def test_expulsion_removes_metal_again_and_again() -> None:
    """Each expulsion takes melt (mass and its enthalpy) off the junction; at 800 A it recurs
    and a share of the crossing is gone."""
    weld = prepare(cc_schedule(800))
    run(weld)
    s = weld.state
    assert s[K.S_EXPEL_N] >= 2
    assert 0.1 < s[K.S_J_LOST] < 0.95


def test_fukumoto_window_shape(sweep) -> None:
    """Fukumoto's crossed Ni: the joint strength rises with current from a cold joint, peaks,
    and falls at high current with liquid expelled; tested from 250 to 800 A at 4 kgf.

    The published curve's numbers are not at hand, only its shape and the tested range, so the
    edges are held loosely: the window (a defect-free joint at half the peak or more) opens
    between 200 and 350 A (published: joints from 250 A) and closes between 550 and 900 A
    (published: 800 A, the top of the range, already past the peak). The model's window is
    narrower than the published range (about 300 to 650 A): its lumped crossing heats as I²
    with Ni's resistivity rising sevenfold to melting.
    """
    amps = [a for a in SWEEP_A if a <= 1000]
    jbf = np.array([sweep[a].outcome.jbf_n for a in amps])
    ok = [sweep[a].outcome.defect == "none" for a in amps]
    k = int(np.argmax(jbf))
    peak = jbf[k]
    assert 300 <= amps[k] <= 600, (amps[k], jbf)
    assert jbf[0] < 0.05 * peak and jbf[1] < 0.2 * peak  # 100 and 200 A: cold joints
    assert all(np.diff(jbf[: k + 1]) > 0), jbf
    inside = [a for a, j, good in zip(amps, jbf, ok, strict=True) if good and j >= 0.5 * peak]
    assert 200 < min(inside) <= 350 and 550 <= max(inside) < 900, inside
    assert jbf[-1] < 0.2 * peak and sweep[800].outcome.jbf_n < 0.5 * peak
    wire = sweep[400].outcome.wire_strength_n
    assert wire == pytest.approx(NI.uts_mpa * math.pi * 0.4**2 / 4.0, rel=0.02)
    assert 0.4 * wire < peak <= wire


def test_heel_softens_with_its_time_at_temperature() -> None:
    """The wire beside the crossing softens by grain growth (JMAK, Ni's activation energy of
    boundary diffusion, configs/materials.toml): at the same 600 A a longer weld softens it
    further, and its strength is neither the wire's nor a fixed share of it (main capped it at
    60.0 % whatever the time, so that no part-to-part spread could show)."""
    short, long = (run(prepare(cc_schedule(600, weld_ms=ms))).outcome for ms in (7.0, 8.0))
    assert 0.0 < short.heel_softened_fraction < long.heel_softened_fraction <= 1.0
    assert short.fracture == long.fracture == "heel"
    assert short.jbf_n > long.jbf_n
    soft = NI.softened_uts_mpa / NI.uts_mpa
    assert short.jbf_pct_of_wire > 100.0 * soft + 1.0


def test_low_force_sticks_or_expels_at_the_same_current() -> None:
    """A light force leaves small, filmy contacts: at the current that welds well at 4 kgf the
    crossing melts and its melt is held less (expulsion), or the electrode faces melt. (On the
    CD supply the light force's larger resistance draws less current, and it does not.)"""
    low = run(prepare(cc_schedule(500, force_n=5.0))).outcome
    nominal = run(prepare(cc_schedule(500))).outcome
    assert nominal.defect == "none"
    assert low.defect in ("electrode_stick", "expulsion")
    assert low.peak_electrode_temp_c > nominal.peak_electrode_temp_c + 200.0


def test_nickel_resistivity_follows_its_data() -> None:
    """Ni's resistivity (configs/materials.toml, from CRC): stated at 20 °C and at its Curie
    point, steeper below the Curie point than above, a jump of 1.27 on melting, a small slope in
    the liquid; no α forever. The kernel counts from ambient (25 °C here, 60 °C on a warm
    bench): its cold value is the 20 °C one moved along the line below the Curie point, and the
    line still meets the data at 20 °C and at the Curie point (main moved the cold value by
    Ni's α instead, and overshot the Curie point's value by 0.8 %)."""
    tc, tm = NI.curie_c, NI.liquidus_c
    rho20, rho_c = NI.resistivity_ohm_m, NI.resistivity_curie_ohm_m
    for ambient_c in (25.0, 60.0):
        p = prepare(load_schedule(DIRECT, [f"sim.ambient_c={ambient_c}"])).params
        slope = (rho_c - rho20) / (tc - 20.0)
        assert p[K.P_DW_RHO0] == pytest.approx(rho20 + slope * (ambient_c - 20.0), rel=1e-9)
        assert _rho_wire(p, ambient_c, 0.0) == pytest.approx(p[K.P_DW_RHO0], rel=1e-12)
        assert _rho_wire(p, 20.0, 0.0) == pytest.approx(rho20, rel=1e-9)
        assert _rho_wire(p, tc, 0.0) == pytest.approx(rho_c, rel=1e-9)
    p = prepare(load_schedule(DIRECT)).params
    below = _rho_wire(p, tc, 0.0) - _rho_wire(p, tc - 100.0, 0.0)
    above = _rho_wire(p, tc + 100.0, 0.0) - _rho_wire(p, tc, 0.0)
    assert above < 0.7 * below
    solid, liquid = _rho_wire(p, tm, 0.0), _rho_wire(p, tm, 1.0)
    assert solid == pytest.approx(NI.resistivity_solid_melt_ohm_m, rel=1e-9)
    assert liquid / solid == pytest.approx(1.27, rel=0.01)
    assert _rho_wire(p, tm, 0.5) == pytest.approx(0.5 * (solid + liquid), rel=1e-9)
    assert _rho_wire(p, tm + 1000.0, 1.0) < 1.1 * liquid


def test_energy_balance_with_expulsion_within_one_percent() -> None:
    """At 800 A the junction expels again and again: the expelled melt's enthalpy is a loss, and
    the ledger still closes (the model's own to 1e-6, the sampled waveform's to 1 %)."""
    res = weld_cc(800)
    o = res.outcome
    assert o.defect == "expulsion"
    e_wave = float(np.trapezoid(res.measured[:, 0] * res.measured[:, 1], res.t_s))
    heat = o.heat_stored_j + o.heat_lost_j
    assert heat == pytest.approx(o.energy_j, rel=1e-6)
    assert e_wave == pytest.approx(heat, rel=0.01)
