"""A ring of sample rows: the weld thread writes, the GUI reads at its own rate.

The writer never waits on the reader beyond a copy under a lock (microseconds); a slow GUI
draws less often, it never holds up the cycle or the monitor.
"""

from __future__ import annotations

import threading

import numpy as np


class Ring:
    """The last `capacity` rows of `width` columns written."""

    def __init__(self, capacity: int, width: int) -> None:
        self.buf = np.full((capacity, width), np.nan)
        self.written = 0  # rows written since the last clear
        self.generation = 0  # bumped by clear(): a reader knows a new weld began
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every row (a new weld starts)."""
        with self._lock:
            self.written = 0
            self.generation += 1

    def push(self, rows: np.ndarray) -> None:
        """Append rows (n, width); the oldest are overwritten when full."""
        cap = self.buf.shape[0]
        rows = rows[-cap:]
        n = len(rows)
        with self._lock:
            a = self.written % cap
            first = min(n, cap - a)
            self.buf[a : a + first] = rows[:first]
            self.buf[: n - first] = rows[first:]
            self.written += n

    def snapshot(self) -> tuple[int, np.ndarray]:
        """Return (generation, the rows held, oldest first) as a copy."""
        cap = self.buf.shape[0]
        with self._lock:
            n = min(self.written, cap)
            a = self.written % cap
            if self.written <= cap:
                out = self.buf[:n].copy()
            else:
                out = np.concatenate([self.buf[a:], self.buf[:a]])
            return self.generation, out
