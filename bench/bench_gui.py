"""GUI: frames per second of the Weld screen while 6 channels stream at 50 kHz, and the
monitor's decision latency with the GUI drawing against without it (same process, offscreen).

The stream is fed as the weld thread feeds it: a 1 ms block of 50 samples every millisecond,
through the monitor (its decision timed) and into the ring the screen draws from at its own rate.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from bench.figure import Figure

SECONDS = float(os.environ.get("MICROWELD_BENCH_GUI_S", "6"))
BLOCK = 50


def _signal(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(n)
    cur = np.where((t % 20_000) > 2_000, 200.0, 0.0) + rng.normal(0, 1, n)
    volt = cur * 0.01 + rng.normal(0, 0.001, n)
    force = np.full(n, 12.0) + rng.normal(0, 0.01, n)
    pos = 400.0 - 0.0005 * (t % 20_000) + rng.normal(0, 0.1, n)
    return np.ascontiguousarray(np.column_stack([cur, volt, force, pos]))


def _feed(seconds: float, push: object | None) -> list[float]:
    """Feed blocks in real time for `seconds`; return each decision's latency (s)."""
    from controller.monitor import Monitor
    from controller.window import MonitorSettings

    sig = _signal(int(seconds * 50_000) + BLOCK)
    mon = Monitor(settings=MonitorSettings(setdown_target_um=1e6), capacity_s=seconds + 1.0)
    lats: list[float] = []
    t_next = time.perf_counter()
    for a in range(0, len(sig) - BLOCK, BLOCK):
        t_next += 1e-3
        while time.perf_counter() < t_next:
            time.sleep(0.0002)
        block = sig[a : a + BLOCK]
        t0 = time.perf_counter()
        mon.feed(block)
        lats.append(time.perf_counter() - t0)
        if push is not None:
            push(mon.display(BLOCK))  # type: ignore[operator]
    return lats


def run() -> list[Figure]:
    """Measure the plot rate and the monitor's latency with and without the GUI."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from controller.session import WeldSession
    from gui.bridge import StationBridge
    from gui.weldscreen import WeldScreen

    app = QApplication.instance() or QApplication([])
    _feed(0.2, None)  # compile and warm up
    alone = np.array(_feed(SECONDS, None)) * 1e6

    probe = WeldSession("sim")
    bridge = StationBridge(lambda: probe)  # never started: the feeder below stands in for it
    bridge.busy = True
    screen = WeldScreen(bridge, probe.window)
    screen.resize(1400, 860)
    screen.show()
    ticks: list[float] = []
    screen.timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    lats: list[float] = []
    feeder = threading.Thread(target=lambda: lats.extend(_feed(SECONDS, bridge.ring.push)))
    feeder.start()
    quit_timer = QTimer()
    quit_timer.timeout.connect(lambda: app.quit() if not feeder.is_alive() else None)
    quit_timer.start(50)
    app.exec()
    feeder.join()
    with_gui = np.array(lats) * 1e6
    gaps = np.diff(ticks) * 1e3
    fps = (len(ticks) - 1) / (ticks[-1] - ticks[0]) if len(ticks) > 1 else 0.0
    worst_ms = float(max(gaps.max() if len(gaps) else 0.0, max(screen.frame_times) * 1e3))
    p99_alone = float(np.percentile(alone, 99))
    p99_gui = float(np.percentile(with_gui, 99))
    worse = (p99_gui / p99_alone - 1.0) * 100.0
    screen.close()
    return [
        Figure("gui_fps", fps, "frames/s, 6 channels at 50 kHz", "≥ 30", fps >= 30),
        Figure(
            "gui_worst_frame", worst_ms, "ms between or within frames", "≤ 100", worst_ms <= 100
        ),
        Figure("gui_redraw_median", float(np.median(screen.frame_times)) * 1e3, "ms per redraw"),
        Figure("monitor_latency_p99_alone", p99_alone, "µs per block, no GUI"),
        Figure("monitor_latency_p99_gui", p99_gui, "µs per block, GUI drawing"),
        Figure("monitor_latency_p99_worse", worse, "% worse with the GUI", "≤ 10", worse <= 10),
    ]
