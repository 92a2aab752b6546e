"""Run a whole weld on its own (approach, squeeze, fire, hold, retract) and report the outcome.

This is the simulator's stand-alone mode, used by `microweld simulate` and by the physics tests;
behind the protocols the station drives the same kernel block by block on the controller's orders.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from drivers.wire.frames import (
    BLOCK_SAMPLES,  # the run loop looks at the sequence once a block
    FULL_SCALE,
)
from firmware_sim import kernel as K
from firmware_sim.model import Weld

TAIL_S = 1e-3  # recorded after the head has left the part

DEFECTS = (
    "none",
    "enamel_residue",
    "over_deformation",
    "wire_cut",
    "electrode_stick",
    "expulsion",
    "coating_remelt",
    "missing_wire",
)


@dataclass
class Outcome:
    """Ground truth of one weld (for tests and sweeps; never shown to the controller).

    Peak temperatures (°C) of thermocompression: peak_tip_temp_c the hot tip's own node,
    peak_electrode_temp_c the tip/wire face (the mean of tip and wire, where the top enamel
    film shears), peak_wire_temp_c the wire under the tip, peak_interface_temp_c the
    wire/terminal interface. Of direct welding: peak_electrode_temp_c the wire at the
    electrodes, peak_interface_temp_c the junction, peak_tip_temp_c ambient (no hot tip).
    """

    jbf_n: float
    wire_strength_n: float
    jbf_pct_of_wire: float
    setdown_um: float
    setdown_pct: float
    peak_interface_temp_c: float
    peak_wire_temp_c: float
    peak_electrode_temp_c: float  # TC: the tip/wire face (mean of both); direct: wire at electrode
    enamel_removed_fraction: float
    defect: str
    burn_through_ms: float | None
    energy_j: float
    heat_lost_j: float
    heat_stored_j: float
    peak_current_a: float
    weld_time_ms: float
    mean_weld_voltage_v: float
    bond_fraction: float
    wire_diameter_mm: float
    enamel_um: float
    peak_tip_temp_c: float  # TC: the hot tip's own node; direct and resistor: ambient
    heel_softened_fraction: float  # share of the heel softened by time at temperature
    fracture: str  # where a pull test breaks it: "interface" (the bond), "heel" (the wire), ""


def _heel_factor(p: np.ndarray, setdown_frac: float, soft: float) -> float:
    # The wire breaks at the heel where it leaves the joint: thinned by set-down beyond a knee,
    # and softened (grain growth) by its time at temperature: soft is its remaining strength.
    knee = p[K.P_HEEL_KNEE]
    g = 1.0 if setdown_frac <= knee else max(0.0, (1.0 - setdown_frac) / (1.0 - knee))
    return g * soft


def softened_share(p: np.ndarray, s: np.ndarray) -> float:
    """Return the share of the heel softened (JMAK: 1 - exp(-(k·t)^n), its Arrhenius rate k
    integrated over the wire's temperature history: under the tip in thermocompression, beside
    the crossing in direct welding); 0 without kinetics."""
    tau = s[K.S_REX_TAU]
    return 1.0 - math.exp(-(tau ** p[K.P_REX_N])) if tau > 0.0 else 0.0


def _direct_jbf(weld: Weld, frac: float) -> tuple[float, float]:
    """Return the crossed wires' (bond, heel) strengths (N) at set-down frac of the stack height
    2 d; the joint breaks at the weaker.

    The weaker of the bonded area at the bond's strength and the wire beside the joint: its
    breaking force thinned by set-down past the knee, softened by its time at temperature, and
    short of the metal the junction lost (expelled or boiled: a crater in its section). The
    area in contact is the larger of the indentation's footprint (π d δ / 2) and what the force
    holds at the junction's hottest (F / H(T), the interface's hot hardness), at most the
    crossing's d × d.
    """
    p, s = weld.params, weld.state
    d = p[K.P_WIRE_D_M]
    t0, tm = p[K.P_T0_C], p[K.P_WIRE_TM]
    theta = min(max((s[K.S_T_IF_PEAK] - t0) / (tm - t0), 0.0), 1.0)
    hot_h = p[K.P_DW_HARDNESS0_PA] * max((1.0 - theta) ** p[K.P_WIRE_SOFT_EXP], 0.01)
    held = p[K.P_HEAD_FORCE_N] / hot_h
    area = min(max(math.pi * d * s[K.S_SETDOWN_M] / 2.0, held), d * d)
    f_bond = s[K.S_BOND] * p[K.P_BOND_STRENGTH_PA] * area
    soft = 1.0 - (1.0 - p[K.P_REX_SOFT_FRAC]) * softened_share(p, s)
    f_heel = weld.wire_strength_n * _heel_factor(p, frac, soft)
    return f_bond, f_heel * (1.0 - s[K.S_J_LOST])


def judge(weld: Weld, clean: np.ndarray) -> Outcome:
    """Return the weld's ground truth from the kernel's final state and its clean waveform."""
    p, s = weld.params, weld.state
    kind = int(p[K.P_PROCESS_KIND])
    t0 = p[K.P_T0_C]
    d = p[K.P_WIRE_D_M]
    missing = p[K.P_MISSING_WIRE] > 0.5
    setdown = s[K.S_SETDOWN_M]
    ref = d if kind == K.PROC_THERMOCOMPRESSION else 2.0 * d
    frac = setdown / ref if ref > 0 else 0.0
    removed = 1.0
    jbf = 0.0
    f_bond = f_heel = 0.0
    bond = s[K.S_BOND]
    if kind == K.PROC_THERMOCOMPRESSION and not missing:
        h0 = p[K.P_ENAMEL_H0_M]
        removed = 1.0 - s[K.S_E_BOT] / h0
        area = K.stadium_width_m(d, s[K.S_S_WIRE]) * p[K.P_CONTACT_LEN_M]
        f_bond = bond * max(removed, 0.0) * p[K.P_BOND_STRENGTH_PA] * area
        soft = 1.0 - (1.0 - p[K.P_REX_SOFT_FRAC]) * softened_share(p, s)
        f_heel = weld.wire_strength_n * _heel_factor(p, frac, soft)
        jbf = min(f_bond, f_heel)
    elif kind == K.PROC_DIRECT and not missing:
        f_bond, f_heel = _direct_jbf(weld, frac)
        jbf = min(f_bond, f_heel)
    defect = _defect(weld, frac, removed)
    fracture = ("interface" if f_bond <= f_heel else "heel") if f_heel > 0.0 else ""
    if defect in ("wire_cut", "missing_wire"):
        jbf = 0.0
    t_start = s[K.S_T_I_START]
    burn = s[K.S_BURN_T]
    stored = float(s[K.S_H0] + s[K.S_H1] + s[K.S_H2] + s[K.S_H3] + s[K.S_H4])
    # Weld time and mean voltage over the span where the current is above 10 % of its peak,
    # as a weld monitor counts them (the inductive tail is not weld time).
    # (a station asks without the waveform, which it never keeps whole: no weld time then)
    i = clean[:, K.OUT_CURRENT]
    on = np.flatnonzero(i > 0.1 * max(float(i.max()), 1e-9)) if i.size else np.empty(0, int)
    period = p[K.P_DT_S] * p[K.P_DECIM]
    weld_ms = (on[-1] - on[0] + 1) * period * 1e3 if on.size else 0.0
    mean_v = float(clean[on[0] : on[-1] + 1, K.OUT_VOLTAGE].mean()) if on.size else 0.0
    return Outcome(
        jbf_n=float(jbf),
        wire_strength_n=float(weld.wire_strength_n),
        jbf_pct_of_wire=float(100.0 * jbf / weld.wire_strength_n) if weld.wire_strength_n else 0.0,
        setdown_um=float(setdown * 1e6),
        setdown_pct=float(100.0 * frac),
        peak_interface_temp_c=float(s[K.S_T_IF_PEAK]),
        peak_wire_temp_c=float(max(s[K.S_T_WIRE_PEAK], t0)),
        peak_electrode_temp_c=float(s[K.S_T_EL_PEAK]),
        enamel_removed_fraction=float(removed),
        defect=defect,
        burn_through_ms=float((burn - t_start) * 1e3) if burn >= 0.0 and t_start >= 0 else None,
        energy_j=float(s[K.S_E_ELEC]),
        heat_lost_j=float(s[K.S_E_LOSS]),
        heat_stored_j=stored,
        peak_current_a=float(s[K.S_I_PEAK]),
        weld_time_ms=float(weld_ms),
        mean_weld_voltage_v=float(mean_v),
        bond_fraction=float(bond),
        wire_diameter_mm=float(weld.part.wire_diameter_mm),
        enamel_um=float(weld.part.enamel_um),
        peak_tip_temp_c=float(max(s[K.S_T_TIP_PEAK], t0)),  # its slot starts at 0
        heel_softened_fraction=float(softened_share(p, s) if kind != K.PROC_RESISTOR else 0.0),
        fracture=fracture,
    )


def _defect(weld: Weld, frac: float, removed: float) -> str:
    """Return the weld's defect class from its final state: set-down frac of the reference
    height, the share of enamel removed."""
    p, s = weld.params, weld.state
    kind = int(p[K.P_PROCESS_KIND])
    if kind == K.PROC_RESISTOR:
        return "none"
    if p[K.P_MISSING_WIRE] > 0.5:
        return "missing_wire"
    if kind == K.PROC_DIRECT:
        # a melted electrode face welds the electrode to the part: the first thing to fix
        if s[K.S_T_EL_PEAK] >= p[K.P_STICK_C]:
            return "electrode_stick"
        # squeezing a little melt out cleans the interface (Fukumoto's crossed Ni); losing a
        # share of the junction is the defect
        if s[K.S_J_LOST] >= p[K.P_EXPEL_DEFECT]:
            return "expulsion"
    if frac >= p[K.P_CUT_FRAC] or (
        kind == K.PROC_THERMOCOMPRESSION and s[K.S_T_WIRE_PEAK] >= p[K.P_WIRE_TM]
    ):
        return "wire_cut"
    if s[K.S_T_EL_PEAK] >= p[K.P_STICK_C]:
        return "electrode_stick"
    if frac >= p[K.P_OVERDEFORM_FRAC]:
        return "over_deformation"
    if (
        kind == K.PROC_THERMOCOMPRESSION
        and removed * 100.0 < weld.schedule.process.model.residue_pct
    ):
        return "enamel_residue"
    if s[K.S_T_IF_PEAK] >= p[K.P_COATING_SOLIDUS_C]:
        return "coating_remelt"
    return "none"


@dataclass(frozen=True)
class Adc:
    """The station's converters: noise (rms) and step per channel, the clipping range, and
    the stream's scales (units per LSB) that carry them."""

    noise: np.ndarray
    step: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    scales: np.ndarray

    @classmethod
    def of(cls, weld: Weld) -> Adc:
        """Return the converters the weld's schedule describes."""
        nz = weld.schedule.noise
        half = float(2 ** (nz.adc_bits - 1))
        fs = np.array([nz.current_full_scale_a, nz.voltage_full_scale_v, nz.force_full_scale_n])
        # the position encoder counts steps and does not saturate
        step = np.append(fs / half, nz.position_resolution_um)
        noise = np.array(
            [nz.current_noise_a, nz.voltage_noise_v, nz.force_noise_n, nz.position_noise_um]
        )
        # The stream's int16 carries each converter's whole range, its last code on the
        # stream's (so a clipped converter shows as a saturated frame): the converter's own
        # step at 16 bits. The tip's height reaches the start height.
        p = weld.params
        top_um = (p[K.P_PART_TOP_M] + p[K.P_HEAD_START_GAP_M]) * 1e6
        scales = np.append(
            (half - 1) * fs / half / FULL_SCALE,
            max(nz.position_resolution_um, 2.0 * top_um / FULL_SCALE),
        )
        lo, hi = np.array([-half] * 3 + [-np.inf]), np.array([half - 1] * 3 + [np.inf])
        return cls(noise, step, lo, hi, scales)


def measure(weld: Weld, clean: np.ndarray, adc: Adc | None = None) -> np.ndarray:
    """Return what the station's ADCs report for clean samples: noise, then quantisation."""
    adc = adc or Adc.of(weld)
    # One draw for the whole array: the same normals in the same order whatever the block size.
    noisy = clean + adc.noise * weld.rng.standard_normal(clean.shape)
    return np.clip(np.round(noisy / adc.step), adc.lo, adc.hi) * adc.step


@dataclass
class Result:
    """A finished stand-alone weld: time base, clean and measured waveforms, and its outcome."""

    t_s: np.ndarray
    clean: np.ndarray
    measured: np.ndarray
    outcome: Outcome

    def summary(self) -> dict[str, Any]:
        """Return the outcome as a plain dict (for result.json)."""
        return asdict(self.outcome)


def run(weld: Weld) -> Result:
    """Run the weld's whole sequence on its own and return waveforms and ground truth."""
    p, s = weld.params, weld.state
    p[K.P_AUTO_FIRE] = 1.0
    p[K.P_AUTO_RETRACT] = 1.0
    s[K.S_HEAD_MODE] = K.HEAD_APPROACH
    period = p[K.P_DT_S] * p[K.P_DECIM]
    max_samples = int(weld.schedule.sim.max_ms * 1e-3 / period) + BLOCK_SAMPLES
    out = np.zeros((max_samples, K.N_OUT))
    n = 0
    while n + BLOCK_SAMPLES <= max_samples:
        K.advance(p, s, out[n : n + BLOCK_SAMPLES], BLOCK_SAMPLES)
        n += BLOCK_SAMPLES
        done = s[K.S_T_RETRACT_DONE]
        if done >= 0.0 and s[K.S_T] - done >= TAIL_S:
            break
    clean = out[:n].copy()
    t = (np.arange(n) + 1) * period
    return Result(t, clean, measure(weld, clean), judge(weld, clean))
