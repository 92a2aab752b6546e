"""The six waveform plots: a trace never looks like the envelope it is judged against, and a
legend says which is which."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from controller.monitor.window import load_window
from gui.plots import CHANNELS, WavePanel
from tests.helpers.paths import REPO

WINDOW = REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml"


def rgb_distance(a: pg.QtGui.QColor, b: pg.QtGui.QColor) -> float:
    return float(np.linalg.norm(np.subtract(a.getRgb()[:3], b.getRgb()[:3])))


def test_every_trace_differs_from_its_envelope_in_colour_and_style(qtbot: QtBot) -> None:
    panel = WavePanel()
    qtbot.addWidget(panel)
    window = load_window(WINDOW)
    panel.show_window(window, 0.0)
    t = np.linspace(-5.0, 30.0, 200)
    panel.show_curves(t, np.ones((6, len(t))))
    banded = 0
    for k, (name, _, _) in enumerate(CHANNELS):
        if not panel.bands[k]:
            continue
        banded += 1
        trace = panel.curves[k][0].opts["pen"]
        envelope = panel.bands[k][0].opts["pen"]
        # the red power trace was drawn like the red dashed envelope around it
        assert rgb_distance(trace.color(), envelope.color()) > 90, name
        assert trace.style() == Qt.PenStyle.SolidLine and envelope.style() != trace.style(), name
    assert banded >= 4


def test_a_legend_names_the_weld_and_the_envelope(qtbot: QtBot) -> None:
    panel = WavePanel()
    qtbot.addWidget(panel)
    panel.show_window(load_window(WINDOW), 0.0)
    t = np.linspace(-5.0, 30.0, 200)
    panel.show_curves(t, np.ones((6, len(t))), name="this weld")
    legend = panel.plots[0].legend
    assert legend is not None
    assert [label.text for _, label in legend.items] == ["window envelope", "this weld"]
    panel.clear()  # a new weld: its entries go with its traces
    assert legend.items == []


def test_the_pulse_range_is_mostly_pulse_with_room_at_both_ends() -> None:
    from gui.plots import pulse_range

    for pulse_ms in (5.0, 25.0, 100.0):
        a, b = pulse_range(200.0, pulse_ms)
        assert a < 200.0 and 200.0 + pulse_ms < b
        assert pulse_ms / (b - a) >= (0.55 if pulse_ms < 10 else 0.8), pulse_ms
