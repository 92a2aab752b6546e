"""GUI: frames per second of the Weld screen while 6 channels stream at 50 kHz, and the
monitor's decision latency with the GUI drawing against without it (offscreen).

The stream is fed as the weld session's process feeds it (the GUI runs the session in a process
of its own): a 1 ms block of 50 samples every millisecond, through the monitor (its decision
timed) and into the shared ring the screen draws from at its own rate. The same feeder process
runs twice, once with no GUI and once with the Weld screen drawing.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from multiprocessing.connection import Connection

import numpy as np

from bench.figure import Figure
from gui.ring import Ring
from gui.worker import keep_core, leave_core, weld_core

SECONDS = float(os.environ.get("MICROWELD_BENCH_GUI_S", "20"))  # each, alone and with the GUI
ROUNDS = 10
BLOCK = 50


def _signal(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(n)
    cur = np.where((t % 20_000) > 2_000, 200.0, 0.0) + rng.normal(0, 1, n)
    volt = cur * 0.01 + rng.normal(0, 0.001, n)
    force = np.full(n, 12.0) + rng.normal(0, 0.01, n)
    pos = 400.0 - 0.0005 * (t % 20_000) + rng.normal(0, 0.1, n)
    return np.ascontiguousarray(np.column_stack([cur, volt, force, pos]))


def _feed(seconds: float, ring: Ring | None, spin: bool = False) -> list[float]:
    """Feed blocks in real time for `seconds`; return each decision's latency (s). Between
    blocks it waits as the session does: polling if it has a core of its own (spin), else
    asleep."""
    from controller.monitor import Monitor
    from controller.window import MonitorSettings

    sig = _signal(int(seconds * 50_000) + BLOCK)
    mon = Monitor(settings=MonitorSettings(setdown_target_um=1e6), capacity_s=seconds + 1.0)
    lats: list[float] = []
    t_next = time.perf_counter()
    for a in range(0, len(sig) - BLOCK, BLOCK):
        t_next += 1e-3
        while time.perf_counter() < t_next:
            if not spin:
                time.sleep(0.0002)
        block = sig[a : a + BLOCK]
        t0 = time.perf_counter()
        mon.feed(block)
        lats.append(time.perf_counter() - t0)
        if ring is not None:
            ring.push(mon.display(BLOCK))
    return lats


def _feeder(ring: Ring, conn: Connection, cpu: int | None) -> None:
    """The weld process's part: on its own core (as the GUI's session process), warm up, then
    feed for as long as asked, each time sending back the latencies."""
    keep_core(cpu)
    _feed(0.2, None)  # compile (or load from the cache) and warm up
    conn.send("ready")
    while (seconds := conn.recv()) is not None:
        conn.send(_feed(seconds, ring, spin=cpu is not None))


def run() -> list[Figure]:
    """Measure the plot rate and the monitor's latency with and without the GUI."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import session_maker
    from gui.bridge import StationBridge
    from gui.weldscreen import WeldScreen

    app = QApplication.instance() or QApplication([])
    spec, probe = session_maker("sim", None, None, None)
    bridge = StationBridge(spec)  # never started: the feeder process stands in for the session
    bridge.busy = True
    screen = WeldScreen(bridge, probe.window)
    screen.resize(1400, 860)
    screen.show()
    ticks: list[float] = []
    screen.timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    cpu = weld_core()
    feeder = ctx.Process(target=_feeder, args=(bridge.ring, there, cpu), daemon=True)  # type: ignore[attr-defined]
    feeder.start()
    leave_core(cpu)
    assert here.recv() == "ready"
    # alone and with the GUI in turns, so a slow spell of the machine hits both alike
    alone: list[np.ndarray] = []
    with_gui: list[np.ndarray] = []
    per_round = SECONDS / ROUNDS
    try:
        for _ in range(ROUNDS):
            here.send(per_round)
            alone.append(np.array(here.recv()) * 1e6)
            here.send(per_round)
            QTimer.singleShot(int(per_round * 1000) + 100, app.quit)
            app.exec()  # the Weld screen draws from the ring at its own rate meanwhile
            with_gui.append(np.array(here.recv()) * 1e6)
            ticks.append(np.nan)  # a pause between rounds is not a frame
    finally:
        here.send(None)
        feeder.join(10.0)
    gaps = np.diff(ticks) * 1e3
    gaps = gaps[np.isfinite(gaps)]
    fps = 1e3 / float(np.mean(gaps)) if len(gaps) else 0.0
    worst_ms = float(max(gaps.max() if len(gaps) else 0.0, max(screen.frame_times) * 1e3))
    # The p99 of each round, then the median over the rounds: on a virtual machine one round
    # in several has a spell of the host's (steal, an interrupt storm) that doubles its tail,
    # whichever side it falls on; the pooled p99 is reported too.
    p99_alone = float(np.median([np.percentile(r, 99) for r in alone]))
    p99_gui = float(np.median([np.percentile(r, 99) for r in with_gui]))
    worse = (p99_gui / p99_alone - 1.0) * 100.0
    pooled_alone = float(np.percentile(np.concatenate(alone), 99))
    pooled_gui = float(np.percentile(np.concatenate(with_gui), 99))
    screen.close()
    return [
        Figure("gui_fps", fps, "frames/s, 6 channels at 50 kHz", "≥ 30", fps >= 30),
        Figure(
            "gui_worst_frame", worst_ms, "ms between or within frames", "≤ 100", worst_ms <= 100
        ),
        Figure("gui_redraw_median", float(np.median(screen.frame_times)) * 1e3, "ms per redraw"),
        Figure("monitor_latency_p50_alone", float(np.median(np.concatenate(alone))), "µs"),
        Figure("monitor_latency_p99_alone", p99_alone, "µs per block, no GUI (median of rounds)"),
        Figure("monitor_latency_p99_gui", p99_gui, "µs per block, GUI drawing (median of rounds)"),
        Figure("monitor_latency_p99_worse", worse, "% worse with the GUI", "≤ 10", worse <= 10),
        Figure("monitor_latency_p99_pooled_alone", pooled_alone, "µs, all rounds at once"),
        Figure("monitor_latency_p99_pooled_gui", pooled_gui, "µs, all rounds at once"),
    ]
