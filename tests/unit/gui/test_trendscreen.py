"""The Trends screen: weld numbers are whole, and so are the ticks of their axis."""

from __future__ import annotations

from controller.qa.log import QaLog
from gui.app import MainWindow
from tests.helpers.records import weld_record
from tests.unit.gui.conftest import settle


def test_the_weld_axis_has_integer_ticks_only(station_window: MainWindow) -> None:
    win = station_window
    log = QaLog(win.probe.qa_path)
    try:
        for k in range(3):  # three welds: pyqtgraph ticked 1.0, 1.2, ... 3.0 (1.5, 2.5 minor)
            log.record(weld_record(k, schedule=win.probe.schedule.name))
    finally:
        log.close()
    win.show()
    win.tabs.setCurrentWidget(win.trends)
    win.trends.refresh()
    settle(win)
    assert len(win.trends.values) == 3
    axis = win.trends.plot.getPlotItem().getAxis("bottom")
    lo, hi = win.trends.plot.getPlotItem().viewRange()[0]
    for span in ((lo, hi), (1.0, 3.0), (0.0, 1.0), (1.0, 40.0)):
        levels = axis.tickValues(*span, axis.width())
        values = [v for _, vs in levels for v in vs]
        assert values, span
        assert all(float(v).is_integer() for v in values), (span, values)
