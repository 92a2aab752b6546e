"""The main window on an operator's screen: it fits what the screen leaves for windows, uses it,
and no screen of it shows a text cut off."""

from __future__ import annotations

from PySide6.QtCore import QRect

from gui.app import MainWindow
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
