"""What every part of the kernel uses: its compile options, enthalpy to temperature, the
wire's flow stress and its flattened width.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from firmware_sim.kernel.layout import (
    P_T0_C,
    P_WIRE_E_PA,
    P_WIRE_N,
    P_WIRE_SIGY0_PA,
    P_WIRE_SOFT_EXP,
    P_WIRE_TM,
)

_KELVIN = 273.15

# Every function of the kernel takes NumPy's error model (a division by zero gives inf or NaN,
# no exception) and does no reference counting of arrays (_nrt=False), as the monitor's kernels:
# numba counts a reference for every array variable (each argument of an inlined helper is one),
# an atomic increment and decrement that its pruner removes in simple control flow only, not in
# the kernel's nested branches and loops, where they took a third of the run time. None is
# needed: nothing in the kernel allocates or keeps an array, and the caller of `advance` holds p
# and s for the whole call. (Any: numba's type stubs do not list _nrt.)
#
# Only the entry module, weld, caches compiled code. numba keys a cache to the defining file
# alone, and a function compiled into another brings its compiled callees along: a cached
# _direct_step, say, would be linked into a new `advance` stale after an edit to this module.
_JIT: Any = {"error_model": "numpy", "_nrt": False}
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
def _boil_excess(h: float, cap: float, lat: float, t0: float, tb: float) -> float:
    """Return the enthalpy (J) of a node above its state at the boiling point tb (°C), or 0."""
    # Boiling is a plateau far longer than melting (vaporisation takes ~20 times the latent heat
    # of fusion); the vapour leaves the joint, so what is above the boiling state is lost.
    return max(h - (cap * (tb - t0) + lat), 0.0)


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


# Cached all the same: it uses nothing outside this file (whose own stamp keeps the cache right),
# and firmware_sim.run calls it from Python once a weld, where compiling takes half a second.
@njit(**_INLINE, cache=True)
def stadium_width_m(d: float, s: float) -> float:
    """Return the flat contact width (m) of a round wire of diameter d flattened by s (m)."""
    # Volume is conserved: the section becomes a stadium of height h (flat w + two half discs).
    h = max(d - s, 0.02 * d)
    a0 = math.pi * d * d / 4.0
    return max((a0 - math.pi * h * h / 4.0) / h, 0.02 * d)
