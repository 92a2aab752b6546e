"""The History screen on a QA log of welds, at 1366×768 and 1920×1080: one line per weld with
every title whole, the schedule shown, rows enough to choose from, "since" as the CLI takes it
(and said when it is not a time), and a weld's waveforms shown on its pulse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from controller.qa.log import QaLog
from gui.app import MainWindow
from gui.historyscreen import COLUMNS, HistoryScreen
from gui.plots import CHANNELS
from tests.helpers.qtlayout import header_clipped
from tests.helpers.records import weld_record
from tests.unit.gui.conftest import cycle_rows, settle

WELDS = 24
SETDOWN = [name for name, _, _ in CHANNELS].index("setdown_um")


@pytest.fixture
def history(station_window: MainWindow, simulated_wave: np.ndarray) -> HistoryScreen:
    """The History screen, shown, over a log of WELDS welds, one an hour back from now (the
    newest a FAIL with a reason far wider than the screen), each with the simulated weld."""
    win = station_window
    now = datetime.now(UTC)
    log = QaLog(win.probe.qa_path)
    try:
        for k in range(WELDS):
            verdict = "FAIL" if k == WELDS - 1 else "PASS"
            t = (now - timedelta(hours=WELDS - 1 - k, minutes=5)).isoformat()
            log.record(weld_record(k, verdict, waveform=simulated_wave, t_utc=t))
    finally:
        log.close()
    win.show()
    win.tabs.setCurrentWidget(win.history)
    win.history.refresh()
    settle(win)
    return win.history


def test_one_line_per_weld_every_title_whole_and_the_schedule_shown(
    history: HistoryScreen,
) -> None:
    table = history.table
    assert table.rowCount() == WELDS
    assert header_clipped(table.horizontalHeader()) == []
    schedule = COLUMNS.index("schedule")
    assert table.item(0, schedule).text() == "tc_inverter_cu100_pb200"  # type: ignore[union-attr]
    # the time is one line ("2026-12-02 12:15:17" wrapped in two), and every cell's text fits
    fm = table.fontMetrics()
    for c in range(len(COLUMNS) - 1):  # the reasons: as wide as is left (the rest in the tip)
        item = table.item(0, c)
        assert item is not None
        assert fm.horizontalAdvance(item.text()) <= table.columnWidth(c), COLUMNS[c]
    assert not table.wordWrap()
    assert table.rowHeight(0) <= fm.height() + 10


def test_rows_enough_to_choose_from(history: HistoryScreen) -> None:
    # it showed 7 at 1366×768; the plots below keep most of the height
    table = history.table
    visible = table.viewport().height() // table.rowHeight(0)
    assert visible >= 10, visible
    assert history.panel.height() >= table.height()


def test_since_takes_what_the_cli_takes(history: HistoryScreen) -> None:
    for text, welds in (("2h", 2), ("3h", 3), ("today", None), ("yesterday", None)):
        history.since.setText(text)
        history.refresh()
        if welds is not None:
            assert history.table.rowCount() == welds, text
        else:
            assert 0 < history.table.rowCount() <= WELDS, text
    # ISO 8601 with an offset: 08:00 at +02:00 is 06:00 UTC
    since = datetime.now(UTC) - timedelta(hours=4, minutes=30)
    local = since.astimezone(datetime.now(UTC).astimezone().tzinfo).replace(microsecond=0)
    history.since.setText(local.isoformat())
    history.refresh()
    assert history.table.rowCount() == 5


def test_a_since_that_is_no_time_is_said_not_shown_as_no_welds(history: HistoryScreen) -> None:
    history.since.setText("2h")
    history.refresh()
    assert history.table.rowCount() == 2
    history.since.setText("last tuesday")
    history.refresh()
    assert "'last tuesday' is not a time" in history.message.text(), history.message.text()
    assert "30m, 2h, 7d" in history.message.text()
    assert history.table.rowCount() == 2  # the last good filter's welds stay


def test_a_welds_waveforms_are_shown_on_its_pulse(
    history: HistoryScreen, simulated_wave: np.ndarray
) -> None:
    history.select_ids([WELDS])
    _, events = cycle_rows(history.session.window, simulated_wave)
    pulse_ms = (events["current end"] - events["current on"]) * 1e3
    x0, x1 = history.panel.plots[0].viewRange()[0]
    assert x0 < 0.0 and pulse_ms < x1 and pulse_ms / (x1 - x0) >= 0.75, (x0, x1)
    lo, hi = history.panel.plots[SETDOWN].viewRange()[1]
    assert lo > -50.0 and hi > 50.0, (lo, hi)  # the weld's 28-58 µm, not the -300 µm approach


def test_an_overlay_led_by_a_no_current_weld_is_shown_on_the_welds_pulse(
    station_window: MainWindow, simulated_wave: np.ndarray
) -> None:
    # a no-weld cycle's record (the approach's noise, no current), then a good weld: the older
    # first, as the overlay takes them; the view was on the first one's noise
    win = station_window
    log = QaLog(win.probe.qa_path)
    try:
        noise = np.resize(simulated_wave[:1_500], (8_000, 4))
        log.record(weld_record(0, "NO-WELD", waveform=noise))
        log.record(weld_record(1, waveform=simulated_wave))
    finally:
        log.close()
    win.show()
    win.tabs.setCurrentWidget(win.history)
    history = win.history
    history.refresh()
    settle(win)
    history.select_ids([1, 2])
    _, events = cycle_rows(history.session.window, simulated_wave)
    pulse_ms = (events["current end"] - events["current on"]) * 1e3
    x0, x1 = history.panel.plots[0].viewRange()[0]
    assert x0 < 0.0 and pulse_ms < x1 and pulse_ms / (x1 - x0) >= 0.75, (x0, x1)
    lo, hi = history.panel.plots[0].viewRange()[1]
    assert hi > float(simulated_wave[:, 0].max()), (lo, hi)  # the weld's current peak in view
    lo, hi = history.panel.plots[SETDOWN].viewRange()[1]
    assert lo > -50.0, (lo, hi)  # the no-current record's -300 µm approach holds no range open
