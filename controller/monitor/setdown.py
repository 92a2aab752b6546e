"""Set-down from a block's rows, for the monitor kernel's passes (µm from the contact position)."""

from __future__ import annotations

import numpy as np
from numba import njit

from controller.monitor.jit import PASS
from controller.monitor.layout import N_HIST, Q_HIST


@njit(**PASS)
def set_down(flat: np.ndarray, w: int, k: int, k_contact: int, x_contact: float) -> float:
    """Set-down at row k: from the contact position on, 0 before contact."""
    return x_contact - flat[w * k + 3] if k >= k_contact else 0.0


@njit(**PASS)
def set_down_back(
    q: np.ndarray,
    flat: np.ndarray,
    w: int,
    k: int,
    n: int,
    win: int,
    sd: float,
    k_contact: int,
    x_contact: float,
) -> float:
    """The set-down that the speed at row k (sample n, set-down sd) compares with: the ring
    buffer's slot for sample n - win (sd itself in the first win samples). The slot was last
    written d samples back (d = win for the usual 1 <= win <= 64): in this chunk, or before it,
    and then the ring holds it (the ring is written at the chunk's end)."""
    if n < win:
        return sd
    d = ((win - 1) & (N_HIST - 1)) + 1
    if k >= d:
        return set_down(flat, w, k - d, k_contact, x_contact)
    return q[Q_HIST + ((n - win) & (N_HIST - 1))]
