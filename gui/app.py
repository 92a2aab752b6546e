"""The operator station's main window and `microweld gui`.

`python -m gui [--station sim]`: on the default station the simulator runs in paced mode, so a
new user sees real-looking welds at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QTabWidget

from controller.monitor.window import Window
from controller.weld import heap
from controller.weld.session import SessionError, WeldSession
from controller.weld.stations import window_path
from drivers.config.loader import ConfigError
from gui.bridge import StationBridge
from gui.historyscreen import HistoryScreen
from gui.scheduleeditor import EditorScreen
from gui.statusscreen import StatusScreen
from gui.trendscreen import TrendScreen
from gui.weldscreen import WeldScreen
from gui.worker import SessionSpec


class MainWindow(QMainWindow):
    """The operator station: Weld, Status, Schedules and windows, History, Trends."""

    def __init__(self, spec: SessionSpec, probe: WeldSession) -> None:
        super().__init__()
        self.setWindowTitle(f"microweld — {probe.station.name}")
        self.probe = probe  # the configs, read here; the station is opened by the session process
        self.bridge = StationBridge(spec)
        self.tabs = QTabWidget()
        self.weld = WeldScreen(self.bridge, probe.window)
        self.status = StatusScreen(self.bridge)
        self.editor = EditorScreen(probe)
        self.history = HistoryScreen(probe)
        self.trends = TrendScreen(probe)
        for widget, name in (
            (self.weld, "Weld"),
            (self.status, "Status"),
            (self.editor, "Schedules and windows"),
            (self.history, "History"),
            (self.trends, "Trends"),
        ):
            self.tabs.addTab(widget, name)
        self.setCentralWidget(self.tabs)
        # a finished weld is in the log: the history and the trends show it
        self.bridge.weld_finished.connect(lambda _res: self.history.refresh())
        self.bridge.weld_finished.connect(lambda _res: self.trends.refresh())
        self.history.taught.connect(self._taught)
        self.resize(1400, 860)
        self.bridge.start()

    def _taught(self, window: Window, _source: str) -> None:
        self.editor.edit_taught(window, window_path(window.name))
        self.tabs.setCurrentWidget(self.editor)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Finish the running weld's record and close the station before closing."""
        self.bridge.shutdown()
        event.accept()


def session_maker(
    station: str, schedule: str | None, window: str | None, qa_log: str | None
) -> tuple[SessionSpec, WeldSession]:
    """Return the session's recipe, and one session (not opened) to read the configs from now
    (a bad config is reported here, before any window opens)."""
    # the simulated station runs paced in the GUI: welds look and last as on the bench
    spec = SessionSpec(station, schedule, window, qa_log, clock="paced")
    return spec, spec()


def main(argv: list[str] | None = None) -> int:
    """Open the operator station."""
    p = argparse.ArgumentParser(prog="microweld gui", description=__doc__)
    p.add_argument("--station", default="sim", help="station config name or file (default sim)")
    p.add_argument("--schedule", help="schedule name or file (default: the station's)")
    p.add_argument("--window", help="process window name or file (default: the station's)")
    p.add_argument("--qa-log", help="QA log file (default: the station's)")
    p.add_argument(
        "--screenshots",
        metavar="DIR",
        help="weld 3 parts, write a PNG of each screen into DIR and exit (use a fresh --qa-log)",
    )
    args = p.parse_args(argv)
    try:
        make, probe = session_maker(args.station, args.schedule, args.window, args.qa_log)
    except (ConfigError, SessionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow(make, probe)
    win.show()
    heap.settle()  # Qt, pyqtgraph and the screens built: out of the collector's way
    if args.screenshots:
        from gui.screens import screenshots

        try:
            for path in screenshots(win, Path(args.screenshots)):
                print(f"wrote {path}")
        finally:
            win.close()
        return 0
    return int(app.exec())
