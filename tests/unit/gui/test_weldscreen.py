"""The Weld screen as a weld streams into it (a simulated weld's rows pushed into its ring a
frame at a time, as the session process does), on a 1366×768 and a 1920×1080 screen: what the
plots show, and what the side panel says."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gui.app import MainWindow
from gui.plots import CHANNELS
from gui.weldscreen import WeldScreen
from tests.helpers.qtlayout import clipped
from tests.unit.gui.conftest import cycle_rows, settle

FRAME_ROWS = 1_650  # rows per frame: 33 ms at 50 kHz (the screen draws at 30 frames/s)
SETDOWN = [name for name, _, _ in CHANNELS].index("setdown_um")


def stream(screen: WeldScreen, rows: np.ndarray, events: dict[str, float], upto_s: float) -> None:
    """Push the rows up to upto_s into the screen's ring, frame by frame, with each event in
    the frame that found it, redrawing after each frame as the plot timer would."""
    ring = screen.bridge.ring
    ring.clear()  # a new weld
    screen.bridge.busy = True
    stop = int(np.searchsorted(rows[:, 0], upto_s))
    for a in range(0, stop, FRAME_ROWS):
        block = rows[a : min(a + FRAME_ROWS, stop)]
        ring.push(block)
        found = [(n, t) for n, t in events.items() if block[0, 0] <= t <= block[-1, 0]]
        if found:
            screen._on_events(found)
        screen.redraw()


def y_range(screen: WeldScreen, k: int) -> tuple[float, float]:
    lo, hi = screen.panel.plots[k].viewRange()[1]
    return float(lo), float(hi)


def test_the_live_plot_gives_the_pulse_most_of_the_width(
    station_window: MainWindow, simulated_wave: np.ndarray
) -> None:
    screen = station_window.weld
    rows, events = cycle_rows(screen.process_window, simulated_wave)
    assert rows[:, 0][-1] - events["current end"] > 0.1  # hold and retract follow the pulse
    stream(screen, rows, events, upto_s=rows[-1, 0])
    on_ms, end_ms = events["current on"] * 1e3, events["current end"] * 1e3
    x0, x1 = screen.panel.plots[0].viewRange()[0]
    # the whole pulse is in view, and it is most of the view (it was a sixth of the cycle)
    assert x0 < on_ms and end_ms < x1, (x0, x1, on_ms, end_ms)
    assert (end_ms - on_ms) / (x1 - x0) >= 0.75, (x0, x1, on_ms, end_ms)


def test_the_live_setdown_is_scaled_to_the_weld_not_the_retract(
    station_window: MainWindow, simulated_wave: np.ndarray
) -> None:
    screen = station_window.weld
    rows, events = cycle_rows(screen.process_window, simulated_wave)
    stream(screen, rows, events, upto_s=rows[-1, 0])
    after = rows[:, 0] > events["current end"] + 0.02
    assert np.nanmin(rows[after, 1 + SETDOWN]) < -200.0  # the retract is in what was streamed
    lo, hi = y_range(screen, SETDOWN)
    in_pulse = (rows[:, 0] >= events["current on"]) & (rows[:, 0] <= events["current end"])
    weld_sd = rows[in_pulse, 1 + SETDOWN]
    # the weld's set-down (28 to 58 µm) whole, and a good part of the plot's height (the view
    # also holds the window's envelope, widened in time about burn-through: 0 to 66 µm); with
    # the retract in view (below -200 µm) it would be a tenth
    assert lo <= float(weld_sd.min()) and float(weld_sd.max()) <= hi, (lo, hi)
    assert float(weld_sd.max() - weld_sd.min()) >= 0.3 * (hi - lo), (lo, hi)
    assert lo > -50.0, (lo, hi)


def test_adc_noise_before_the_current_is_drawn_small_not_scaled_up(
    station_window: MainWindow, simulated_wave: np.ndarray
) -> None:
    screen = station_window.weld
    rows, events = cycle_rows(screen.process_window, simulated_wave)
    stream(screen, rows, events, upto_s=events["current on"] - 0.005)  # before the current
    before = rows[:, 0] < events["current on"] - 0.005
    for k, (name, _, unit) in enumerate(CHANNELS[:2]):  # current and voltage: noise alone
        lo, hi = y_range(screen, k)
        noise = rows[before, 1 + k]
        wobble = float(noise.max() - noise.min())
        assert wobble <= 0.25 * (hi - lo), f"{name}: noise {wobble} {unit} fills {lo}..{hi}"


def test_a_new_cycle_clears_the_last_verdict_and_features(station_window: MainWindow) -> None:
    screen = station_window.weld
    features = {"weld_time_ms": 25.1, "energy_j": 10.3, "setdown_um": 57.1}
    res = SimpleNamespace(result=SimpleNamespace(verdict="PASS", reasons=[], features=features))
    screen._finished(res)
    assert screen.verdict.text() == "PASS" and screen.features["energy_j"].text() == "10.300"
    screen.bridge.weld_started.emit()  # the next cycle starts
    assert screen.verdict.text() != "PASS" and "2e7d32" not in screen.verdict.styleSheet()
    assert screen.reasons.text() == ""
    assert {label.text() for label in screen.features.values()} == {"—"}


@pytest.mark.parametrize("pressed", [False, True])
def test_the_estop_reads_whole_latched_or_not(station_window: MainWindow, pressed: bool) -> None:
    win = station_window
    win.show()
    win.weld.estop.setChecked(pressed)
    settle(win)
    assert clipped(win.weld) == []
    assert ("release" in win.weld.estop.text()) is pressed


def test_a_fail_with_many_reasons_keeps_the_window_on_the_screen(
    station_window: MainWindow,
) -> None:
    win = station_window
    win.show()
    reasons = [
        f"feature_{i}_mohm 0.000 below the window's 12.345 (a long reason)" for i in range(14)
    ]
    res = SimpleNamespace(result=SimpleNamespace(verdict="FAIL", reasons=reasons, features={}))
    win.weld._finished(res)
    settle(win)
    avail = win.screen().availableGeometry()
    assert win.minimumSizeHint().height() <= avail.height()
    assert avail.contains(win.frameGeometry())


def test_a_current_on_that_comes_before_the_frame_sees_the_weld_is_kept(
    station_window: MainWindow, simulated_wave: np.ndarray
) -> None:
    # under load the session's events can come before the next frame finds the new weld in
    # the ring: they were dropped with the last weld's, and the plot stayed on the whole cycle
    screen = station_window.weld
    rows, events = cycle_rows(screen.process_window, simulated_wave)
    screen._started()
    ring = screen.bridge.ring
    ring.clear()
    ring.push(rows)  # the whole weld before one frame is drawn
    screen._on_events(list(events.items()))
    screen.redraw()
    on_ms, end_ms = events["current on"] * 1e3, events["current end"] * 1e3
    x0, x1 = screen.panel.plots[0].viewRange()[0]
    assert x0 < on_ms and end_ms < x1 and (end_ms - on_ms) / (x1 - x0) >= 0.75, (x0, x1)


def test_a_station_that_does_not_open_says_so_where_starting_was(
    station_window: MainWindow,
) -> None:
    screen = station_window.weld
    assert screen.station.text() == "starting…"
    screen._error("cannot open the station: the waveform stream at socket://192.0.2.10:5020: …")
    assert screen.station.text() == "not open: see the message below"
    assert "bold" in screen.message.styleSheet() and not screen.start.isEnabled()
