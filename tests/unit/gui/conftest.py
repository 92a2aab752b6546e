"""The operator station's window without a station: the screens as they are laid out, at the
screen sizes operators have, with no weld session process started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from controller.monitor.monitor import replay
from controller.monitor.window import Window
from gui.app import MainWindow
from gui.bridge import StationBridge
from gui.main import session_maker
from tests.helpers.paths import REPO
from tests.helpers.physics import simulate

SCHEDULE = REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"

# (name, the screen, what is left of it for windows: a 40 px task bar at the bottom)
SCREENS = {
    "1366x768": QRect(0, 0, 1366, 768 - 40),
    "1920x1080": QRect(0, 0, 1920, 1080 - 40),
}


@pytest.fixture(params=list(SCREENS))
def available(request: pytest.FixtureRequest) -> QRect:
    """The available geometry of a laptop's 1366×768 screen and of a 1920×1080 one."""
    return SCREENS[request.param]


@pytest.fixture
def station_window(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, available: QRect
) -> Iterator[MainWindow]:
    """The main window over the simulated station's configs, its session never started, on a
    screen whose available geometry is `available` (the offscreen platform has one screen of
    its own size: what the window asks of its screen is what an operator's would say)."""
    monkeypatch.setattr(StationBridge, "start", lambda self: None)
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(available))
    make, probe = session_maker("sim", None, None, str(tmp_path / "qa.sqlite"))
    win = MainWindow(make, probe)
    qtbot.addWidget(win)
    yield win
    win.close()


def settle(win: MainWindow) -> None:
    """Let the window lay itself out (as it is before its first paint)."""
    app = QApplication.instance()
    assert app is not None
    for _ in range(3):
        app.processEvents()


@pytest.fixture(scope="session")
def simulated_wave() -> np.ndarray:
    """One good weld of the station's schedule as its ADCs give it (n, 4: A, V, N, µm): the
    approach, the noise before the current, the 25 ms pulse, the hold and the -300 µm retract."""
    wave = simulate(SCHEDULE).measured
    # the stand-alone run ends as the head starts back; the station's record runs on through
    # the retract to where the approach began (~300 µm above the contact): 30 ms up, 80 ms there
    n_up, n_top = 1_500, 4_000
    # the approach's noise (its first 30 ms: no current, 0 N) over and over
    tail = np.resize(wave[:1_500], (n_up + n_top, 4))
    tail[:, 3] = np.concatenate(
        [np.linspace(wave[-1, 3], wave[0, 3], n_up), np.full(n_top, wave[0, 3])]
    )
    return np.concatenate([wave, tail])


def cycle_rows(window: Window | None, wave: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """The weld's rows as the Weld screen gets them (Monitor.display) and its events (s)."""
    return replay(wave, window)
