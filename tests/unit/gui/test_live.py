"""What the Weld screen draws: each row read once from the ring, decimated without losing a peak."""

from __future__ import annotations

import numpy as np

from gui.live import BLOCK, LiveTrace
from gui.plots import peak_decimate
from gui.ring import Ring

DT = 2e-5


def rows(first: int, n: int, rng: np.random.Generator) -> np.ndarray:
    out = rng.normal(size=(n, 7))
    out[:, 0] = np.arange(first, first + n) * DT
    out[rng.random(n) < 0.05, 3] = np.nan  # R has gaps
    return out


def test_follows_the_ring_block_by_block_as_if_it_read_all_at_once() -> None:
    rng = np.random.default_rng(7)
    ring = Ring(5_000, 7)
    live = LiveTrace(5_000, 7)
    written = [rows(0, 0, rng)]
    k = 0
    for step in range(400):
        n = int(rng.integers(0, 90))
        block = rows(k, n, rng)
        ring.push(block)
        written.append(block)
        k += n
        if step % 3 == 0:
            assert live.update(ring) == (step == 0)  # the first read finds a weld, then the same
            held = np.concatenate(written)[-live.n :]
            assert live.n == k or live.n >= 5_000  # full: the oldest gone, the ring's kept
            np.testing.assert_array_equal(live.cols[:, : live.n], held.T)
            # the kept block extremes are those of the rows they stand for
            nb = live.blocks
            seg = live.cols[1:, : nb * BLOCK].reshape(6, nb, BLOCK)
            np.testing.assert_array_equal(live.lo[:, :nb], np.fmin.reduce(seg, axis=2))
            np.testing.assert_array_equal(live.hi[:, :nb], np.fmax.reduce(seg, axis=2))
    t, _ = live.curves()  # what the ring holds, not the older rows the trace still has
    assert live.n > live.capacity and 0 <= t[0] - live.cols[0, live.n - live.capacity] < BLOCK * DT
    ring.clear()
    ring.push(rows(0, 10, rng))
    assert live.update(ring) and live.n == 10


def test_a_reader_that_fell_behind_starts_again_from_what_the_ring_holds() -> None:
    rng = np.random.default_rng(1)
    ring = Ring(1_000, 7)
    live = LiveTrace(1_000, 7)
    ring.push(rows(0, 300, rng))
    live.update(ring)
    ring.push(rows(300, 2_500, rng))  # more than the ring holds since the last frame
    live.update(ring)
    assert live.n == 1_000 and live.cols[0, 0] == 1_800 * DT  # no seam of missing rows


def test_the_curves_keep_every_peak_and_the_newest_sample() -> None:
    rng = np.random.default_rng(3)
    live = LiveTrace(100_000, 7)
    ring = Ring(100_000, 7)
    data = rows(0, 99_999, rng)
    data[54_321, 1] = 50.0  # a one-sample spike
    data[77_777, 5] = -50.0
    ring.push(data)
    live.update(ring)
    t, ys = live.curves()
    assert ys.shape[1] <= 2 * 700 + 2 * 2 + BLOCK  # about a pair per pixel, from the blocks
    assert ys[0].max() == 50.0 and ys[4].min() == -50.0
    assert t[-1] == data[-1, 0] and ys[0, -1] == data[-1, 1]
    for k in range(6):
        col = data[:, k + 1]
        assert np.nanmax(ys[k]) == np.nanmax(col) and np.nanmin(ys[k]) == np.nanmin(col)
    # from a later start: only what follows it
    t, ys = live.curves(1.0)
    assert t[0] >= 1.0 - BLOCK * DT and t[-1] == data[-1, 0]
    # a short span: the raw samples themselves
    t, ys = live.curves(data[-500, 0])
    np.testing.assert_array_equal(ys, data[-500:, 1:].T)


def test_peak_decimate_keeps_min_and_max_per_bucket() -> None:
    t = np.arange(10_000) * 1.0
    y = np.sin(t / 300)[None, :].repeat(2, axis=0)
    y[1, 4_321] = np.nan
    y[0, 9_999] = 9.0  # in the last, partial bucket
    t2, y2 = peak_decimate(t, y, buckets=700)
    assert y2.shape[1] == len(t2) <= 2 * 701
    assert y2[0].max() == 9.0 and np.isfinite(y2[1]).all()
    assert (np.diff(t2) >= 0).all() and t2[-1] == 9_999.0


def test_peak_decimate_spreads_its_buckets_evenly() -> None:
    # 6,650 samples into 700 buckets: no bucket, the last partial one included, may span
    # more than the rest (with 9 a bucket, 650 samples were once left over as one min/max
    # pair: the newest tenth of the trace drawn as a single sloping line)
    t = np.arange(6_650) * 1.0
    y = np.sin(t / 50)[None, :]
    t2, _ = peak_decimate(t, y, buckets=700)
    starts = t2[0::2]
    assert len(starts) <= 700
    assert np.diff(starts).max() == np.diff(starts).min() == 10.0


def test_curves_to_a_time_end_there_on_both_paths() -> None:
    rng = np.random.default_rng(3)
    ring = Ring(100_000, 7)
    live = LiveTrace(100_000, 7)
    ring.push(rows(0, 60_000, rng))
    live.update(ring)
    for t_from, t_to in ((0.1, 0.13), (0.05, 1.0), (0.2, 0.2 + 30_000 * DT)):
        t, ys = live.curves(t_from, t_to_s=t_to)
        assert t[0] >= t_from - BLOCK * DT and t[-1] <= t_to, (t_from, t_to)
        assert t[-1] > t_to - BLOCK * DT and ys.shape == (6, len(t))
