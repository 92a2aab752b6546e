"""The part under the electrode for one weld, drawn from the variation file, and the tip's heat
carried from one weld to the next.

Every weld draws N_VARIATES uniform variates, in the order of the U_* indices, whatever is
switched off, whatever the process: the same seed gives the same part and the same noise after
it. A truncated normal is the inverse transform of its uniform (configs/variation.toml says which
quantity follows which distribution, and where that comes from).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from drivers.config.materials import Materials
from drivers.config.schedule import Schedule
from drivers.config.variation import Variation
from firmware_sim import kernel as K

# the uniform variates of one weld, in their order
(
    U_WIRE_DIAMETER,
    U_ENAMEL_BUILD,
    U_TERMINAL_THICKNESS,
    U_FAYING_FILM,
    U_ELECTRODE_FILM,
    U_WIRE_OFFSET,
    U_HEAD_FORCE,
    U_MISPLACED,
    U_MISSING,
) = range(9)
N_VARIATES = 9
MISPLACED_LENGTH_SHARE = 0.4  # a wire off the tip face keeps 40 % of its contact length
_UNIT = NormalDist()
# An enamel without a materials entry (enamel = ""): a trace film, no band to draw from.
TRACE_ENAMEL_UM = 0.05


@dataclass
class Part:
    """The part actually under the electrode for one weld, and the head's force on it."""

    wire_diameter_mm: float
    enamel_um: float  # radial build (thermocompression; a trace film otherwise)
    missing_wire: bool
    misplaced: bool
    contact_length_mm: float  # length of wire under the tip face (thermocompression)
    terminal_thickness_mm: float
    film_factor: float  # multiplies the wire/wire film resistance (direct welding)
    electrode_film_factor: float  # multiplies the electrode films (direct welding)
    conductance_factor: float  # multiplies the bare-metal contact conductance (TC)
    wire_offset_mm: float
    force_factor: float  # the head's force over its setpoint


def truncated_normal(u: float, limit_sd: float) -> float:
    """Return the standard normal deviate of a uniform u in [0, 1), truncated to ±limit_sd."""
    if limit_sd <= 0.0:
        return 0.0
    lo = _UNIT.cdf(-limit_sd)
    return _UNIT.inv_cdf(lo + u * (1.0 - 2.0 * lo))


def _toleranced(nominal_mm: float, u: float, sd_of_tol: float, tol_mm: float) -> float:
    if sd_of_tol <= 0.0:
        return nominal_mm
    return nominal_mm + sd_of_tol * tol_mm * truncated_normal(u, 1.0 / sd_of_tol)


def _enamel_um(schedule: Schedule, mats: Materials, var: Variation, u: float) -> float:
    pr = schedule.process
    if not pr.enamel:
        return TRACE_ENAMEL_UM
    en = mats.get("enamels", pr.enamel)
    nominal = en.build_um(pr.enamel_grade)
    lo, hi = en.grade_build_min_um[pr.enamel_grade], en.grade_build_max_um[pr.enamel_grade]
    sd = var.enamel_build.sd_of_band * (hi - lo)
    if not var.on("enamel_build") or sd <= 0.0:
        return nominal
    # truncated to the grade's band, which need not be centred on the nominal: the draw is
    # inverse-transformed within [lo, hi]
    a, b = _UNIT.cdf((lo - nominal) / sd), _UNIT.cdf((hi - nominal) / sd)
    return nominal + sd * _UNIT.inv_cdf(a + u * (b - a))


def draw_part(
    schedule: Schedule, rng: np.random.Generator, mats: Materials, var: Variation
) -> Part:
    """Draw this weld's part from the schedule's nominal values and the variation file."""
    pr, nz = schedule.process, schedule.noise
    u = [float(x) for x in rng.random(N_VARIATES)]  # always all of them, in their order
    wd, tt = var.wire_diameter, var.terminal_thickness
    d = pr.wire_diameter_mm
    if var.on("wire_diameter"):
        d = _toleranced(d, u[U_WIRE_DIAMETER], wd.sd_of_tolerance, wd.tolerance_mm(d))
    t = pr.terminal_thickness_mm
    if var.on("terminal_thickness"):
        t = _toleranced(t, u[U_TERMINAL_THICKNESS], tt.sd_of_tolerance, tt.tolerance_mm(t))
    sf, off, hf = var.surface_film, var.wire_offset, var.head_force
    z_film = z_el = 0.0
    if var.on("surface_film"):
        z_film = truncated_normal(u[U_FAYING_FILM], sf.limit_sd)
        z_el = truncated_normal(u[U_ELECTRODE_FILM], sf.limit_sd)
    x = 0.0
    if var.on("wire_offset") and off.sd_mm > 0.0:
        x = off.sd_mm * truncated_normal(u[U_WIRE_OFFSET], off.limit_mm / off.sd_mm)
    force = 1.0
    if var.on("head_force") and hf.sd_pct > 0.0:
        force += hf.sd_pct / 100.0 * truncated_normal(u[U_HEAD_FORCE], hf.limit_pct / hf.sd_pct)
    misplaced = u[U_MISPLACED] < nz.misplaced_probability
    # past the margin the tip overhangs the terminal's edge: that length makes no joint
    length = max(pr.tip.contact_length_mm - max(abs(x) - off.margin_mm, 0.0), 0.05)
    return Part(
        wire_diameter_mm=max(d, 0.2 * pr.wire_diameter_mm),
        enamel_um=max(_enamel_um(schedule, mats, var, u[U_ENAMEL_BUILD]), TRACE_ENAMEL_UM),
        missing_wire=pr.missing_wire or u[U_MISSING] < nz.missing_probability,
        misplaced=misplaced,
        contact_length_mm=length * (MISPLACED_LENGTH_SHARE if misplaced else 1.0),
        terminal_thickness_mm=max(t, 0.2 * pr.terminal_thickness_mm),
        film_factor=math.exp(sf.sigma_ln * z_film),
        electrode_film_factor=math.exp(sf.sigma_ln * z_el),
        # a thicker film (z > 0) resists heat too: the same deviate, its own σ
        conductance_factor=math.exp(-sf.conductance_sigma_ln * z_film),
        wire_offset_mm=x,
        force_factor=force,
    )


def _heat_nodes(p: np.ndarray) -> list[tuple[int, float, float]]:
    """Return (state slot, heat capacity J/K, sink conductance W/K) of each node of the tooling
    that stays between parts: the hot tip, or the two electrodes (none for the resistor)."""
    kind = int(p[K.P_PROCESS_KIND])
    if kind == K.PROC_THERMOCOMPRESSION:
        return [(K.S_H0, p[K.P_TIP_CAP], p[K.P_TIP_G_SINK])]
    if kind == K.PROC_DIRECT:
        return [(s, p[K.P_EL_CAP], p[K.P_EL_G_SINK]) for s in (K.S_H3, K.S_H4)]
    return []


def tip_time_constant_s(p: np.ndarray) -> float:
    """Return the tooling's cooling time constant, heat capacity / sink conductance (s)."""
    nodes = _heat_nodes(p)
    return max((cap / g for _, cap, g in nodes), default=0.0)


def carry_tip_heat(
    last: np.ndarray, p: np.ndarray, s: np.ndarray, rate_per_min: float | None
) -> None:
    """Start the weld of state s with the tooling's heat of the last weld's state `last`.

    The kernel has cooled the tip over the time it ran since the last fire; at a production
    rate the part waits on until 60/rate s after that fire, so the heat decays over what is left
    with the tip's time constant (capacity / sink conductance). Only the sensible heat is kept
    (a tip that melted is a wrecked tip, not a warm one). Without a rate, nothing more decays.
    """
    fired_at = last[K.S_T_FIRE]
    elapsed = last[K.S_T] - fired_at if fired_at >= 0.0 else last[K.S_T]
    wait = max(60.0 / rate_per_min - elapsed, 0.0) if rate_per_min else 0.0
    t_melt = p[K.P_TIP_TM] if int(p[K.P_PROCESS_KIND]) == K.PROC_THERMOCOMPRESSION else 1e9
    for slot, cap, g in _heat_nodes(p):
        sensible = min(max(last[slot], 0.0), cap * max(t_melt - p[K.P_T0_C], 0.0))
        s[slot] = sensible * math.exp(-wait * g / cap)
    # the load the supply sees at the first step, at the tip's carried temperature
    s[K.S_R_LOAD] = K.load_resistance_ohm(p, s, 0.0)
