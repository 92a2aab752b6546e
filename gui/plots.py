"""The six waveform plots (I, V, R, P, F, set-down) with the window's envelopes and events."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QWidget

from controller.window import Window

# display columns (Monitor.display): t, then these
CHANNELS = (
    ("current_a", "Current", "A"),
    ("voltage_v", "Voltage", "V"),
    ("r_mohm", "Dynamic resistance", "mΩ"),
    ("power_w", "Power", "W"),
    ("force_n", "Force", "N"),
    ("setdown_um", "Set-down", "µm"),
)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
EVENT_COLOURS = {
    "contact": "#777777",
    "current on": "#2ca02c",
    "burn-through": "#e377c2",
    "expulsion": "#d62728",
    "set-down target": "#17becf",
    "stop": "#d62728",
}


class WavePanel(QWidget):
    """Six plots sharing their time axis: ms from the start of the record (the cycle)."""

    def __init__(self, parent: QWidget | None = None, x_label: str = "") -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="k")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.plots: list[pg.PlotItem] = []
        self.curves: list[list[pg.PlotDataItem]] = []
        self.bands: list[list[pg.GraphicsObject]] = []
        self.marks: list[pg.InfiniteLine] = []
        for k, (_, title, unit) in enumerate(CHANNELS):
            widget = pg.PlotWidget()
            plot = widget.getPlotItem()
            plot.setTitle(f"{title} ({unit})", size="9pt")
            plot.showGrid(x=True, y=True, alpha=0.2)
            if k >= 4:
                plot.setLabel("bottom", x_label or "time since the cycle started (ms)")
            # draw at most a few points per pixel, keeping the peaks
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            if self.plots:
                plot.setXLink(self.plots[0])
            grid.addWidget(widget, k // 2, k % 2)
            self.plots.append(plot)
            self.curves.append([])
            self.bands.append([])

    def clear(self) -> None:
        """Remove every trace, band and mark."""
        for k, plot in enumerate(self.plots):
            for item in self.curves[k] + self.bands[k]:
                plot.removeItem(item)
            self.curves[k] = []
            self.bands[k] = []
        self.clear_marks()

    def clear_marks(self) -> None:
        """Remove the event marks."""
        for line in self.marks:
            line.getViewBox() and line.getViewBox().removeItem(line)
        self.marks = []

    def show_rows(
        self, rows: np.ndarray, trace: int = 0, alpha: int = 255, t0_ms: float = 0.0
    ) -> None:
        """Draw rows (n, 7 as Monitor.display) as trace number `trace`, time from t0_ms."""
        t_ms = rows[:, 0] * 1e3 - t0_ms
        for k, plot in enumerate(self.plots):
            while len(self.curves[k]) <= trace:
                colour = pg.mkColor(COLOURS[k] if trace == 0 else COLOURS[trace % len(COLOURS)])
                colour.setAlpha(alpha)
                curve = plot.plot(pen=pg.mkPen(colour, width=1))
                self.curves[k].append(curve)
            self.curves[k][trace].setData(t_ms, rows[:, k + 1], connect="finite")

    def show_window(self, window: Window | None, t_on_ms: float = 0.0) -> None:
        """Draw the window's envelope bands from the current start (t_on_ms on the axis)."""
        for k, plot in enumerate(self.plots):
            for item in self.bands[k]:
                plot.removeItem(item)
            self.bands[k] = []
        if window is None:
            return
        env = window.envelope
        for k, (name, _, _) in enumerate(CHANNELS):
            band = getattr(env, name)
            if band is None:
                continue
            t = t_on_ms + np.arange(len(band.lo)) * env.step_ms
            pen = pg.mkPen("#d62728", width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
            lo = self.plots[k].plot(t, np.asarray(band.lo), pen=pen)
            hi = self.plots[k].plot(t, np.asarray(band.hi), pen=pen)
            fill = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(214, 39, 40, 30))
            self.plots[k].addItem(fill)
            self.bands[k] += [lo, hi, fill]

    def mark(self, name: str, t_ms: float) -> None:
        """Mark an event on every plot."""
        colour = EVENT_COLOURS.get(name, "#444444")
        for k, plot in enumerate(self.plots):
            line = pg.InfiniteLine(
                t_ms,
                angle=90,
                pen=pg.mkPen(colour, width=1, style=pg.QtCore.Qt.PenStyle.DotLine),
                label=name if k == 0 else None,
                labelOpts={"position": 0.9, "color": colour, "rotateAxis": (1, 0)},
            )
            plot.addItem(line)
            self.marks.append(line)

    def focus(self, t_on_ms: float | None, t_end_ms: float) -> None:
        """Show the weld: from a little before the current start to the end (or all)."""
        if t_on_ms is None:
            self.plots[0].enableAutoRange(x=True)
            return
        self.plots[0].setXRange(max(t_on_ms - 5.0, 0.0), t_end_ms + 2.0, padding=0)
