"""A ring of sample rows: the weld process writes, the GUI reads at its own rate.

The storage is shared memory, so the writer (the weld session's process) and the reader (the
GUI's) need not share a GIL. The writer never waits: there is no lock. It first announces the
rows it is about to write (a 64-bit counter), writes them, then advances the counter of rows
written; the reader reads the second counter, copies, reads the first, and drops the rows the
writer may have been overwriting meanwhile. A new weld (`clear`) bumps a generation number,
and a reader that sees it change while copying starts over.
"""

from __future__ import annotations

import ctypes
from multiprocessing.context import BaseContext
from typing import Any

import numpy as np

# header: rows ever written, clears, rows written at the last clear, rows being written
_WRITTEN, _GENERATION, _START, _WRITING = 0, 1, 2, 3


class Ring:
    """The last `capacity` rows of `width` columns written since the last clear.

    One writer (one thread of one process); any number of readers. Made with a multiprocessing
    context, the ring can be handed to a process that context starts.
    """

    def __init__(self, capacity: int, width: int, ctx: BaseContext | None = None) -> None:
        if ctx is None:
            self._raw: Any = bytearray(capacity * width * 8)
            self._head_raw: Any = bytearray(4 * 8)
        else:
            self._raw = ctx.RawArray(ctypes.c_double, capacity * width)
            self._head_raw = ctx.RawArray(ctypes.c_int64, 4)
        self._shape = (capacity, width)
        self._attach()

    def _attach(self) -> None:
        self.buf = np.frombuffer(self._raw, dtype=np.float64).reshape(self._shape)
        self.head = np.frombuffer(self._head_raw, dtype=np.int64)

    def __getstate__(self) -> dict[str, Any]:
        return {"raw": self._raw, "head": self._head_raw, "shape": self._shape}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._raw, self._head_raw, self._shape = state["raw"], state["head"], state["shape"]
        self._attach()

    @property
    def written(self) -> int:
        """Rows written since the last clear."""
        return int(self.head[_WRITTEN] - self.head[_START])

    @property
    def generation(self) -> int:
        """Bumped by clear(): a reader knows a new weld began."""
        return int(self.head[_GENERATION])

    def clear(self) -> None:
        """Forget every row (a new weld starts)."""
        self.head[_START] = self.head[_WRITTEN]
        self.head[_GENERATION] += 1

    def push(self, rows: np.ndarray) -> None:
        """Append rows (n, width); the oldest are overwritten when full."""
        cap = self._shape[0]
        # rows beyond what the ring holds count as written and at once overwritten, so a
        # reader knows it missed them (counting only the kept ones made them vanish unseen)
        w = int(self.head[_WRITTEN]) + max(0, len(rows) - cap)
        rows = rows[-cap:]
        n = len(rows)
        a = w % cap
        first = min(n, cap - a)
        # announced, written, committed: x86 keeps each side's stores (and loads) in order
        self.head[_WRITING] = w + n
        self.buf[a : a + first] = rows[:first]
        self.buf[: n - first] = rows[first:]
        self.head[_WRITTEN] = w + n

    def snapshot(self) -> tuple[int, np.ndarray]:
        """Return (generation, the rows held, oldest first) as a copy."""
        generation, _, rows = self.read(-1, 0)
        return generation, rows

    def read(self, generation: int, pos: int) -> tuple[int, int, np.ndarray]:
        """Return (generation, first, rows): a copy of the rows from number `pos` on if the
        ring is still at `generation`, else of every row held. Rows are numbered from the
        ring's making; `first` is the number of the first returned, past `pos` if the ring
        no longer holds the rows in between. A reader that keeps `first + len(rows)` for its
        next call copies each row once.
        """
        cap = self._shape[0]
        while True:
            gen = int(self.head[_GENERATION])
            start = int(self.head[_START])
            w1 = int(self.head[_WRITTEN])
            lo = max(start, w1 - cap, pos if gen == generation else start)
            a, n = lo % cap, max(0, w1 - lo)
            if a + n <= cap:
                out = self.buf[a : a + n].copy()
            else:
                out = np.concatenate([self.buf[a:], self.buf[: a + n - cap]])
            writing = int(self.head[_WRITING])
            if int(self.head[_GENERATION]) != gen:
                continue  # a new weld began while copying
            # rows below writing - cap may have been overwritten during the copy: drop them
            lost = min(n, max(0, (writing - cap) - lo))
            return gen, lo + lost, out[lost:]
