"""The live-sample ring shared by the weld process (writer) and the GUI (reader), lock-free."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection

import numpy as np

from gui.ring import Ring


def _write(ring: Ring, conn: Connection, rows: int, block: int, clear_every: int) -> None:
    # row k of a weld holds k in every column: a reader can tell a torn or misplaced row
    k = 0
    for i in range(rows // block):
        if i % clear_every == 0:
            ring.clear()
            k = 0
        ring.push(np.repeat(np.arange(k, k + block, dtype=float)[:, None], 3, axis=1))
        k += block
    conn.send("done")


def test_wraps_and_clears_in_one_process() -> None:
    ring = Ring(10, 2)
    assert ring.snapshot()[1].shape == (0, 2)
    ring.push(np.arange(14.0).reshape(7, 2))
    ring.push(np.arange(14.0, 22.0).reshape(4, 2))  # 11 rows written: the first is gone
    gen, rows = ring.snapshot()
    assert ring.written == 11 and rows.shape == (10, 2)
    assert rows[0, 0] == 2.0 and rows[-1, 1] == 21.0
    ring.push(np.arange(100.0).reshape(50, 2))  # more than it holds at once: the newest kept
    assert ring.snapshot()[1][-1, 1] == 99.0 and ring.snapshot()[1][0, 0] == 80.0
    assert ring.written == 61  # the 40 rows it could not hold count too: a reader missed them
    ring.clear()
    gen2, rows = ring.snapshot()
    assert gen2 == gen + 1 and len(rows) == 0 and ring.written == 0
    ring.push(np.ones((3, 2)))
    assert ring.snapshot()[1].shape == (3, 2)


def test_a_reader_in_another_process_never_sees_a_torn_or_stale_row() -> None:
    ctx = multiprocessing.get_context("spawn")
    ring = Ring(997, 3, ctx)  # a prime: blocks straddle the end at every offset
    here, there = ctx.Pipe()
    writer = ctx.Process(target=_write, args=(ring, there, 20_000_000, 50, 4_000), daemon=True)
    writer.start()
    snapshots = wrapped = 0
    deadline = time.monotonic() + 120
    try:
        while not here.poll() and time.monotonic() < deadline:
            _, rows = ring.snapshot()
            snapshots += 1
            if len(rows) == 0:
                continue
            # every row whole, and the rows one weld's consecutive samples, oldest first
            assert (rows == rows[:, :1]).all()
            assert (np.diff(rows[:, 0]) == 1.0).all(), rows[:, 0]
            wrapped += rows[0, 0] > 0
        assert here.poll(), "the writer did not finish"
    finally:
        writer.join(10)
    assert snapshots > 100 and wrapped > 10  # the reader raced the writer, across the wrap
