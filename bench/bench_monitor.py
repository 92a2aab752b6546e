"""Monitor speed: ns per sample of the fused kernel at 64, 1024 and 10⁶ samples per block,
against NumPy and pure Python; STOP-decision latency; verdict latency after the last block."""

from __future__ import annotations

import statistics
import time

import numpy as np

from bench.figure import Figure
from bench.numpy_monitor import NumpyMonitor
from controller.monitor import kernels as K
from controller.monitor.monitor import Monitor, settings_vector
from controller.monitor.reference import reference
from controller.monitor.window import MonitorSettings

DT = 2e-5


def _settings(setdown_target_um: float = 0.0) -> MonitorSettings:
    """Return the settings the kernel and the reference are timed with: the expulsion check
    off, R's features from every gated sample, burn-through from 5 µm/ms."""
    return MonitorSettings(
        gate_a=20.0,
        contact_n=0.1,
        firing_n=11.0,
        setdown_target_um=setdown_target_um,
        burn_velocity_um_ms=5.0,
        expulsion_jump_um=0.0,
        expulsion_r_drop_pct=10.0,
        r_gate_a=0.0,
    )


def _signal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    cur = np.where((t % 5000) > 500, 500.0, 0.0) + rng.normal(0, 1, n)
    volt = cur * 0.01 + rng.normal(0, 0.001, n)
    force = np.full(n, 12.0) + rng.normal(0, 0.01, n)
    pos = 400.0 - 0.001 * t + rng.normal(0, 0.1, n)
    return np.ascontiguousarray(np.column_stack([cur, volt, force, pos]))


def _kernel_ns(block: int, total: int) -> float:
    sig = _signal(total)
    mp = settings_vector(_settings(setdown_target_um=1e9), DT)
    lo = np.full((K.N_CH, 2000), np.nan)
    hi = np.full((K.N_CH, 2000), np.nan)
    hi[K.CH_I] = 1e4
    r = np.empty(block)
    p = np.empty(block)
    blocks = [np.ascontiguousarray(sig[a : a + block]) for a in range(0, total, block)]
    best = float("inf")
    for _ in range(5):
        q = K.new_state()
        t0 = time.perf_counter()
        for b in blocks:
            K.monitor_block(mp, q, b, lo, hi, r[: len(b)], p[: len(b)])
        best = min(best, time.perf_counter() - t0)
    return best / total * 1e9


def _numpy_ns(block: int, total: int) -> float:
    sig = _signal(total)
    lo = np.full((K.N_CH, 2000), -1e9)
    hi = np.full((K.N_CH, 2000), 1e9)
    blocks = [sig[a : a + block] for a in range(0, total, block)]
    best = float("inf")
    for _ in range(3):
        mon = NumpyMonitor(DT, 20.0, 0.1, 1e9)
        t0 = time.perf_counter()
        for b in blocks:
            mon.feed(b, lo, hi)
        best = min(best, time.perf_counter() - t0)
    return best / total * 1e9


def _python_ns(total: int) -> float:
    sig = _signal(total)
    settings = _settings()
    lo = np.full((K.N_CH, 0), np.nan)
    t0 = time.perf_counter()
    reference(settings, DT, *sig.T, lo, lo)
    return (time.perf_counter() - t0) / total * 1e9


def _stop_latency() -> tuple[float, float, float]:
    # From a block's arrival (a 1 ms frame, 50 samples) to the STOP decision, in process.
    sig = _signal(50 * 2000, seed=1)
    lats = []
    for trial in range(400):
        mon = Monitor(settings=MonitorSettings(setdown_target_um=0.5 + 0.001 * trial))
        for a in range(0, len(sig), 50):
            block = sig[a : a + 50]
            t0 = time.perf_counter()
            decision = mon.feed(block)
            if decision.stop:
                lats.append(time.perf_counter() - t0)
                break
    q = np.percentile(np.array(lats) * 1e6, [50, 99, 99.9])
    return float(q[0]), float(q[1]), float(q[2])


def _verdict_latency() -> float:
    from controller.monitor.window import Limit, Window

    window = Window(
        name="b",
        schedule="b",
        limits={"energy_j": Limit(min=0.0, max=1e9), "setdown_um": Limit(min=-1e9, max=1e9)},
    )
    sig = _signal(50 * 200)
    times = []
    for _ in range(50):
        mon = Monitor(window=window)
        for a in range(0, len(sig), 50):
            mon.feed(sig[a : a + 50])
        t0 = time.perf_counter()
        mon.finish()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def run() -> list[Figure]:
    """Measure the kernel, its baselines and the decision latencies."""
    figs: list[Figure] = []
    ns = {b: _kernel_ns(b, t) for b, t in ((64, 64 * 4000), (1024, 1024 * 250), (10**6, 10**6))}
    np64 = _numpy_ns(64, 64 * 2000)
    np1024 = _numpy_ns(1024, 1024 * 200)
    py = _python_ns(50_000)
    figs.append(Figure("monitor_kernel_ns_64", ns[64], "ns/sample"))
    figs.append(Figure("monitor_kernel_ns_1024", ns[1024], "ns/sample", "≤ 5", ns[1024] <= 5))
    figs.append(Figure("monitor_kernel_ns_1e6", ns[10**6], "ns/sample"))
    figs.append(
        Figure(
            "monitor_vs_numpy_64",
            np64 / ns[64],
            "x faster than NumPy at 64",
            "≥ 10",
            np64 / ns[64] >= 10,
        )
    )
    figs.append(Figure("monitor_vs_numpy_1024", np1024 / ns[1024], "x faster than NumPy"))
    figs.append(
        Figure(
            "monitor_vs_python",
            py / ns[1024],
            "x faster than pure Python",
            "≥ 100",
            py / ns[1024] >= 100,
        )
    )
    p50, p99, p999 = _stop_latency()
    figs.append(Figure("monitor_stop_latency_p50", p50, "µs from block to STOP"))
    figs.append(
        Figure("monitor_stop_latency_p99", p99, "µs from block to STOP", "≤ 200", p99 <= 200)
    )
    figs.append(Figure("monitor_stop_latency_p99.9", p999, "µs from block to STOP"))
    verdict = _verdict_latency()
    figs.append(
        Figure("monitor_verdict_latency", verdict, "ms after the last block", "≤ 5", verdict <= 5)
    )
    return figs
