"""The operator station's main window: the Weld, Status, Schedules and windows, History and
Trends screens over one station (gui/main.py opens it)."""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QCloseEvent, QGuiApplication, QShowEvent
from PySide6.QtWidgets import QMainWindow, QTabWidget

from controller.monitor.window import Window
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
        self._fitted_shown = False
        self._build(spec, probe)
        self.fit_to_screen()

    def _build(self, spec: SessionSpec, probe: WeldSession) -> None:
        """Make the screens over a session's configs and start its process."""
        self.spec = spec
        self.setWindowTitle(f"microweld — {probe.station.name}")
        self.probe = probe  # the configs, read here; the station is opened by the session process
        self.bridge = StationBridge(spec)
        self.tabs = QTabWidget()
        self.weld = WeldScreen(self.bridge, probe.window, probe)
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
        # a dressing or a reject acknowledged is in the log too
        self.weld.bench.changed.connect(self.history.refresh)
        self.history.taught.connect(self._taught)
        self.weld.recipe_chosen.connect(self.open_recipe)
        self.editor.saved.connect(self._saved)
        self.bridge.start()

    def open_recipe(self, schedule: str) -> str:
        """Open the station again with a schedule and its own window (a recipe); return why
        not ("" when done). The session welding now finishes first; a bad schedule is said
        and the station stays as it was."""
        if self.bridge.busy:
            why = "a weld is running: choose the schedule once it is done"
        else:
            spec = dataclasses.replace(self.spec, schedule=schedule, window=None)
            try:
                probe = spec()
            except (ConfigError, SessionError) as exc:
                why = str(exc)
            else:
                self.bridge.shutdown()
                self.tabs.deleteLater()
                self._build(spec, probe)
                return ""
        self.weld.show_recipe_refused(why)
        return why

    def _saved(self, kind: str, name: str) -> None:
        # the session welds with what it opened: the operator is offered the saved version
        if kind == "schedule" and name == self.probe.schedule.name:
            self.weld.offer_reopen(name)

    def fit_to_screen(self) -> None:
        """Take the whole of what the screen leaves for windows (its available geometry: less
        the task bars), the frame included.

        Why: a fixed 1400×860 was cut off on a 1366×768 laptop and left a 1920×1080 screen half
        used; the plots are what gains from every pixel. The layout's minimum (the side panel,
        the tables' columns) fits 1366×768; on a smaller screen Qt keeps that minimum.
        """
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        # the frame (title bar, borders) is known only once the window is shown: 0 before
        frame = self.frameGeometry().size() - self.geometry().size()
        self.resize(available.size() - frame)
        self.move(available.topLeft())

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """Fit again once shown, now that the frame's size is known."""
        super().showEvent(event)
        if not self._fitted_shown:
            self._fitted_shown = True
            self.fit_to_screen()

    def _taught(self, window: Window, _source: str) -> None:
        self.editor.edit_taught(window, window_path(window.name))
        self.tabs.setCurrentWidget(self.editor)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Finish the running weld's record and close the station before closing."""
        self.bridge.shutdown()
        event.accept()
