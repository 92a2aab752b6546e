"""The monitor's per-block arithmetic written with NumPy array operations (benchmark baseline).

It computes the same per-sample outputs (R, P) and running totals as the numba kernel, the way
one would without a compiler: whole-array expressions per block. Events and envelope checks are
vectorised too (first index where a condition holds).
"""

from __future__ import annotations

import numpy as np


class NumpyMonitor:
    """Block-wise monitor in NumPy: R, P, energy, I², peak, set-down, events, stop, envelope."""

    def __init__(self, dt_s: float, gate_a: float, contact_n: float, target_um: float) -> None:
        self.dt = dt_s
        self.gate = gate_a
        self.contact_n = contact_n
        self.target = target_um
        self.n = 0
        self.energy = 0.0
        self.i2 = 0.0
        self.i_peak = 0.0
        self.x_contact: float | None = None
        self.t_stop = -1.0
        self.prev_sd = np.zeros(0)

    def feed(self, block: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
        """Process a block (n, 4); return R and P."""
        i, v, f, x = block[:, 0], block[:, 1], block[:, 2], block[:, 3]
        on = np.abs(i) > self.gate
        r = np.where(on, v / np.where(on, i, 1.0), np.nan)
        p = v * i
        self.energy += float(np.sum(p[on])) * self.dt
        self.i2 += float(np.sum(i[on] ** 2))
        if on.any():
            self.i_peak = max(self.i_peak, float(np.abs(i[on]).max()))
        if self.x_contact is None:
            hit = np.flatnonzero(f >= self.contact_n)
            if hit.size:
                self.x_contact = float(x[hit[0]])
        sd = (self.x_contact - x) if self.x_contact is not None else np.zeros_like(x)
        vel = np.diff(np.concatenate([self.prev_sd[-10:], sd]), n=1)
        self.prev_sd = sd
        if self.t_stop < 0:
            over = np.flatnonzero(on & (sd >= self.target))
            if over.size:
                self.t_stop = (self.n + over[0]) * self.dt
        m = min(len(r), lo.shape[1])
        if m:
            _ = np.flatnonzero((r[:m] < lo[0, :m]) | (r[:m] > hi[0, :m]))
        self.n += len(i)
        return r, p, vel
