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


PEAK_BUCKETS = 700  # per curve: about one min/max pair per pixel of a plot on the screen


def peak_decimate(
    t: np.ndarray, y: np.ndarray, buckets: int = PEAK_BUCKETS
) -> tuple[np.ndarray, np.ndarray]:
    """Return at most 2·buckets points keeping each bucket's lowest and highest value (a spike
    one sample wide still shows); NaN gaps stay gaps."""
    n = len(t)
    if n <= 2 * buckets:
        return t, y
    per = n // buckets
    m = per * buckets
    yb = y[:m].reshape(buckets, per)
    tb = t[:m].reshape(buckets, per)
    lo = np.fmin.reduce(yb, axis=1)  # fmin/fmax skip NaN unless a whole bucket is NaN
    hi = np.fmax.reduce(yb, axis=1)
    t2 = np.empty(2 * buckets)
    y2 = np.empty(2 * buckets)
    t2[0::2] = tb[:, 0]
    t2[1::2] = tb[:, -1]
    y2[0::2] = lo
    y2[1::2] = hi
    return t2, y2


class WavePanel(QWidget):
    """Six plots sharing their time axis: ms from the start of the record (the cycle)."""

    def __init__(self, parent: QWidget | None = None, x_label: str = "", grid: bool = True) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="k")
        box = QGridLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        # one graphics view for all six plots: one paint per frame, not six
        self.view = pg.GraphicsLayoutWidget()
        box.addWidget(self.view)
        self.plots: list[pg.PlotItem] = []
        self.curves: list[list[pg.PlotDataItem]] = []
        self.bands: list[list[pg.GraphicsObject]] = []
        self.marks: list[pg.InfiniteLine] = []
        for k, (_, title, unit) in enumerate(CHANNELS):
            plot = self.view.addPlot(row=k // 2, col=k % 2)
            plot.setTitle(f"{title} ({unit})", size="9pt")
            if grid:  # costs a third of a frame: off where the plot is live
                plot.showGrid(x=True, y=True, alpha=0.2)
            if k >= 4:
                plot.setLabel("bottom", x_label or "time since the cycle started (ms)")
            else:
                plot.hideAxis("bottom")  # the time axis is shared: shown once per column
            # the same width for every value axis, so times line up down a column
            plot.getAxis("left").setWidth(48)
            # curves arrive peak-decimated (peak_decimate): a few points per pixel
            if self.plots:
                plot.setXLink(self.plots[0])
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
            t2, y2 = peak_decimate(t_ms, rows[:, k + 1])
            self.curves[k][trace].setData(t2, y2, connect="finite")
            if trace == 0:
                self._fit_y(k, y2)

    def _fit_y(self, k: int, y: np.ndarray) -> None:
        # Set the y range here, once per frame: pyqtgraph's auto-range would change it while
        # painting and so paint every plot twice.
        finite = y[np.isfinite(y)]
        if not len(finite):
            return
        lo, hi = float(finite.min()), float(finite.max())
        for item in self.bands[k][:2]:
            band_y = item.getData()[1]
            if band_y is not None and len(band_y):
                lo, hi = min(lo, float(np.nanmin(band_y))), max(hi, float(np.nanmax(band_y)))
        pad = 0.05 * (hi - lo) or 1.0
        self.plots[k].setYRange(lo - pad, hi + pad, padding=0)

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
