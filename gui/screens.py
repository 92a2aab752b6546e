"""Screenshots of every screen after a few welds on the simulated station (for docs/)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

from gui.app import MainWindow

NAMES = ("weld", "status", "schedules", "history", "trends")


def _pump(app: QApplication, done: Callable[[], bool], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            return False
        app.processEvents()
        time.sleep(0.005)
    return True


def screenshots(win: MainWindow, out: Path, welds: int = 3) -> list[Path]:
    """Weld `welds` parts from the Start button, then write a PNG of each screen into out."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    if not _pump(app, win.weld.start.isEnabled, 120.0):
        raise RuntimeError("the station did not open within 120 s")
    finished: list[object] = []
    win.bridge.weld_finished.connect(finished.append)
    for k in range(welds):
        win.weld.start.click()  # (the part id steps on by itself)
        want = k + 1

        def done(want: int = want) -> bool:
            return len(finished) >= want

        if not _pump(app, done, 60.0):
            raise RuntimeError(f"weld {k + 1} did not finish within 60 s")
        if k + 1 < welds and win.weld.bench.unacknowledged is not None:
            win.weld.bench.acknowledge.click()  # a failed part binned, as the operator would
            _pump(app, win.weld.start.isEnabled, 5.0)
    _pump(app, lambda: False, 0.5)  # the last status poll and redraw
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(NAMES):
        win.tabs.setCurrentIndex(i)
        if name == "history":
            win.history.select_ids(list(range(1, welds + 1)))
        _pump(app, lambda: False, 0.3)
        path = out / f"{name}.png"
        win.grab().save(str(path))
        paths.append(path)
    return paths
