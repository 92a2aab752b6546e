"""The monitor kernel's burn-through check, at a sample whose set-down speed may beat its peak."""

from __future__ import annotations

import numpy as np
from numba import njit

from controller.monitor.jit import JIT
from controller.monitor.layout import (
    M_BURN_FRACTION,
    M_BURN_VELOCITY_UM_MS,
    M_DT_S,
    M_VELOCITY_WINDOW,
    N_VHIST,
    Q_T_BURN,
    Q_VEL_PEAK,
    Q_VHIST,
)


@njit(**JIT)
def burn_through(mp: np.ndarray, q: np.ndarray, n: int, n_on: int) -> None:
    """At gated sample n, where the set-down speed may beat its peak: burn-through.

    The enamel gives way and the electrode sinks; the sinking speed peaks as the enamel is
    squeezed out. Burn-through starts where the final rise to the peak speed passed burn_fraction
    of that peak (found by walking back through the speeds), and counts once the peak speed
    reaches burn_velocity_um_ms. (Rare: out of the loop, not to crowd it.)"""
    win = int(mp[M_VELOCITY_WINDOW])
    vel = q[Q_VHIST + (n & (N_VHIST - 1))]
    if vel > q[Q_VEL_PEAK] and n - n_on > win:
        q[Q_VEL_PEAK] = vel
        level = mp[M_BURN_FRACTION] * vel
        j = n
        while (
            n - j < N_VHIST - 1
            and j - 1 - n_on > win
            and q[Q_VHIST + ((j - 1) & (N_VHIST - 1))] >= level
        ):
            j -= 1
        if vel >= mp[M_BURN_VELOCITY_UM_MS]:
            q[Q_T_BURN] = (j - 0.5 * win) * mp[M_DT_S]
