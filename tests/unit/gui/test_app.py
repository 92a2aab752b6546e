"""The main window on an operator's screen: it fits what the screen leaves for windows, uses it,
and no screen of it shows a text cut off."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from pytestqt.qtbot import QtBot

from gui.app import MainWindow
from gui.bridge import StationBridge
from gui.main import session_maker
from tests.helpers.paths import REPO
from tests.helpers.qtlayout import clipped
from tests.unit.gui.conftest import settle


def test_the_window_fits_the_screens_available_geometry_and_uses_it(
    station_window: MainWindow, available: QRect
) -> None:
    win = station_window
    win.show()
    settle(win)
    # what the layout needs fits, and the window is in the available area (task bars left free)
    need = win.minimumSizeHint()
    assert need.width() <= available.width() and need.height() <= available.height(), need
    assert available.contains(win.frameGeometry()), (win.frameGeometry(), available)
    # and it takes that area: a 1920×1080 screen gives the plots its room, not 1400×860 of it
    assert win.width() >= 0.95 * available.width(), win.size()
    assert win.height() >= 0.9 * available.height(), win.size()


def test_no_screen_shows_a_text_cut_off(station_window: MainWindow, available: QRect) -> None:
    win = station_window
    win.show()
    for i in range(win.tabs.count()):
        win.tabs.setCurrentIndex(i)
        settle(win)
        assert clipped(win.tabs.currentWidget()) == [], win.tabs.tabText(i)


def test_choosing_a_schedule_opens_the_station_with_it_and_its_own_window(
    station_window: MainWindow,
) -> None:
    win = station_window
    assert win.weld.schedule.currentText() == "tc_inverter_cu100_pb200"
    assert "tc_cd_cu100_pb200" in [
        win.weld.schedule.itemText(i) for i in range(win.weld.schedule.count())
    ]
    assert win.open_recipe("tc_cd_cu100_pb200") == ""
    assert win.probe.schedule.name == "tc_cd_cu100_pb200"
    assert win.probe.window is not None and win.probe.window.name == "tc_cd_cu100_pb200"
    assert win.weld.schedule.currentText() == "tc_cd_cu100_pb200"
    assert win.tabs.count() == 5 and win.centralWidget() is win.tabs
    why = win.open_recipe("no_such_schedule")
    assert "no_such_schedule" in why and "schedule not opened" in win.weld.message.text()
    assert win.probe.schedule.name == "tc_cd_cu100_pb200"  # the station stays as it was


def test_a_saved_schedule_in_use_is_offered_for_opening(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sched = tmp_path / "tc_inverter_cu100_pb200.toml"  # a copy: the shipped file is not written
    shutil.copy(REPO / "configs" / "schedules" / sched.name, sched)
    monkeypatch.setattr(StationBridge, "start", lambda self: None)
    make, probe = session_maker("sim", str(sched), None, str(tmp_path / "qa.sqlite"))
    win = MainWindow(make, probe)
    qtbot.addWidget(win)
    assert win.weld.reopen.isHidden()
    win.editor.set_value("supply.hold_ms", "25.0")
    assert win.editor.save(), win.editor.message.text()
    assert not win.weld.reopen.isHidden()
    assert "tc_inverter_cu100_pb200 was saved" in win.weld.reopen.text()
    win.close()
