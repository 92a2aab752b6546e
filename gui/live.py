"""The weld being drawn: rows read from the ring a frame at a time, kept column by column, with
each channel's lowest and highest value per block of samples kept as the rows arrive.

Why: the GUI and the weld session run on different cores but share the processor's last-level
cache. Copying the whole 2 s ring each frame and scanning it channel by channel moved ~40 MB
per frame through it, and the monitor, waking each millisecond, found its own data evicted.
Here each row is copied once, each channel is contiguous, and a frame's decimation reads at
most a few thousand values per channel (the block extremes, or the raw samples of a short span).
"""

from __future__ import annotations

import numpy as np

from gui.plots import PEAK_BUCKETS, peak_decimate
from gui.ring import Ring

BLOCK = 16  # samples per kept (min, max) pair


class LiveTrace:
    """The current generation's rows of a Ring, as columns (t in s, then the channels)."""

    def __init__(self, capacity: int, width: int) -> None:
        self.capacity = -(-capacity // BLOCK) * BLOCK  # rows kept: at least what the ring holds
        # room for twice that: once full, the oldest rows go down to `capacity` in one move,
        # once every `capacity` rows; moving the whole trace each frame while the stream ran
        # on past the ring's 2 s (as in the benchmark) was 11 MB of memory traffic a frame
        cap = 2 * self.capacity
        self.cols = np.empty((width, cap))
        self.lo = np.empty((width - 1, cap // BLOCK))
        self.hi = np.empty((width - 1, cap // BLOCK))
        self.n = 0  # rows held
        self.blocks = 0  # complete blocks reduced into lo/hi
        self.generation = -1
        self.pos = 0  # the number of the next row to read from the ring

    def update(self, ring: Ring) -> bool:
        """Read what the ring has that is new; return True if a new weld began."""
        gen, first, rows = ring.read(self.generation, self.pos)
        new_weld = gen != self.generation
        if new_weld or first != self.pos:  # a new weld, or rows missed: start over from here
            self.n = self.blocks = 0
            self.generation = gen
        self.pos = first + len(rows)
        self._append(rows)
        return new_weld

    def _append(self, rows: np.ndarray) -> None:
        rows = rows[-self.capacity :]
        m = len(rows)
        if self.n + m > self.cols.shape[1]:  # full: keep `capacity` rows, whole blocks dropped
            drop = (self.n - max(0, self.capacity - m)) // BLOCK * BLOCK
            keep = self.n - drop
            self.cols[:, :keep] = self.cols[:, drop : self.n]
            kb = self.blocks - drop // BLOCK
            self.lo[:, :kb] = self.lo[:, self.blocks - kb : self.blocks]
            self.hi[:, :kb] = self.hi[:, self.blocks - kb : self.blocks]
            self.n, self.blocks = keep, kb
        self.cols[:, self.n : self.n + m] = rows.T
        self.n += m
        nb = self.n // BLOCK
        if nb > self.blocks:
            seg = self.cols[1:, self.blocks * BLOCK : nb * BLOCK]
            seg = seg.reshape(len(seg), nb - self.blocks, BLOCK)
            self.lo[:, self.blocks : nb] = np.fmin.reduce(seg, axis=2)
            self.hi[:, self.blocks : nb] = np.fmax.reduce(seg, axis=2)
            self.blocks = nb

    def last_t(self) -> float | None:
        """The time of the newest row (s), or None if there is none."""
        return float(self.cols[0, self.n - 1]) if self.n else None

    def curves(
        self, t_from_s: float = -np.inf, buckets: int = PEAK_BUCKETS, t_to_s: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (t in s, values (channels, points)) from t_from_s to t_to_s, peak-decimated
        to at most about 2·buckets points, reading block extremes where the span is long; never
        more than the last `capacity` rows (what the ring holds)."""
        t = self.cols[0, : self.n]
        i0 = max(int(np.searchsorted(t, t_from_s)), self.n - self.capacity)
        i1 = max(int(np.searchsorted(t, t_to_s, side="right")), i0)
        if (i1 - i0) // BLOCK < 2 * buckets:  # short: the raw samples are few
            return peak_decimate(t[i0:i1], self.cols[1:, i0:i1], buckets)
        b0 = -(-i0 // BLOCK)
        b1 = min(self.blocks, i1 // BLOCK)
        tb = t[b0 * BLOCK : b1 * BLOCK : BLOCK]
        te = t[b0 * BLOCK + BLOCK - 1 : b1 * BLOCK : BLOCK]
        t2, y2 = peak_decimate(tb, self.lo[:, b0:b1], buckets, self.hi[:, b0:b1], te)
        tail = slice(b1 * BLOCK, i1)  # the newest samples, not yet a block
        return np.concatenate([t2, t[tail]]), np.concatenate([y2, self.cols[1:, tail]], axis=1)
