"""The six waveform plots (I, V, R, P, F, set-down) with the window's envelopes and events."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QGridLayout, QWidget

from controller.monitor.window import Window

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
# The window's envelope is dark grey, dashed, over a light grey fill: a solid coloured trace
# inside it reads as the weld, whatever the channel's colour (it was red dashed, and the red
# power trace looked like the envelope it was judged against).
ENVELOPE_COLOUR = "#333333"
ENVELOPE_FILL = (51, 51, 51, 24)
# The least y span each plot shows (in its unit): a plot of only ADC noise (±2 A before the
# current, ±3 mV at no load) fitted to its own extremes filled the plot as if it were signal.
# Each is about ten times that channel's noise, and well under what a weld gives it.
MIN_SPAN = {
    "current_a": 50.0,
    "voltage_v": 0.5,
    "r_mohm": 2.0,
    "power_w": 50.0,
    "force_n": 2.0,
    "setdown_um": 10.0,
}
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
    t: np.ndarray,
    lo: np.ndarray,
    buckets: int = PEAK_BUCKETS,
    hi: np.ndarray | None = None,
    t_end: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (t2, y2 (channels, points)): at most about 2·buckets points per channel keeping
    each bucket's lowest and highest value (a spike one sample wide still shows); NaN gaps
    stay gaps. `lo` (channels, n) are samples at times t; or, given `hi` and `t_end`, the
    lowest and highest value of n spans, each from t to t_end (already reduced blocks)."""
    if hi is None or t_end is None:
        hi, t_end = lo, t
    n = len(t)
    if n <= 2 * buckets:
        if hi is lo:
            return t, lo
        per, m = 1, n
        low, high = lo, hi
    else:
        # per rounded up, so what is left over is shorter than a bucket (rounded down, up to
        # buckets - 1 of them were left over: the newest tenth of a trace drawn as one line)
        per = -(-n // buckets)
        full = n // per
        m = per * full
        ch = len(lo)
        # fmin/fmax skip NaN unless a whole bucket is NaN
        low = np.fmin.reduce(lo[:, :m].reshape(ch, full, per), axis=2)
        high = np.fmax.reduce(hi[:, :m].reshape(ch, full, per), axis=2)
    t_first, t_last = t[0:m:per], t_end[per - 1 : m : per]
    if m < n:  # the newest samples, short of a whole bucket, are a bucket of their own
        low = np.concatenate([low, np.fmin.reduce(lo[:, m:], axis=1)[:, None]], axis=1)
        high = np.concatenate([high, np.fmax.reduce(hi[:, m:], axis=1)[:, None]], axis=1)
        t_first, t_last = np.append(t_first, t[m]), np.append(t_last, t_end[-1])
    t2 = np.empty(2 * len(t_first))
    y2 = np.empty((len(lo), 2 * len(t_first)))
    t2[0::2], t2[1::2] = t_first, t_last
    y2[:, 0::2], y2[:, 1::2] = low, high
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
        self.y_ranges: list[tuple[float, float] | None] = []  # as set by _fit_y since clear()
        self.x_range: tuple[float, float] | None = None  # as set by follow() since clear()
        # the times (ms) whose samples set the y ranges: those of the weld once focus() shows
        # it (None: all); the retract after it is drawn, but does not squash it
        self.fit_x: tuple[float, float] | None = None
        # each trace's (t_ms, ys) as drawn: the y ranges hold every trace of an overlay
        self._shown: dict[int, tuple[np.ndarray, np.ndarray]] = {}
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
            for side in ("left", "bottom", "top", "right"):
                axis = plot.getAxis(side)
                # Our units are in the labels: an SI prefix re-chosen at every range change
                # re-set the label's HTML and re-laid the axis, on every axis, every frame.
                axis.enableAutoSIPrefix(False)
                # Drawn into a pixmap once per change of range; each frame then only copies
                # it (its tick text, replayed each frame, was a fifth of a frame's CPU).
                axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.titleLabel.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            # curves arrive peak-decimated (peak_decimate): a few points per pixel
            if self.plots:
                plot.setXLink(self.plots[0])
            else:  # one legend, on the first plot: what a trace is, what the envelope is
                legend = plot.addLegend(offset=(-4, 4), labelTextSize="8pt")
                legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plots.append(plot)
            self.curves.append([])
            self.bands.append([])
            self.y_ranges.append(None)

    def clear(self) -> None:
        """Remove every trace, band and mark."""
        for k, plot in enumerate(self.plots):
            for item in self.curves[k] + self.bands[k]:
                plot.removeItem(item)
            self.curves[k] = []
            self.bands[k] = []
        self.y_ranges = [None] * len(self.plots)
        self.x_range = None
        self.fit_x = None
        self._shown = {}
        self.clear_marks()

    def clear_marks(self) -> None:
        """Remove the event marks."""
        for line in self.marks:
            line.getViewBox() and line.getViewBox().removeItem(line)
        self.marks = []

    def show_rows(
        self,
        rows: np.ndarray,
        trace: int = 0,
        alpha: int = 255,
        t0_ms: float = 0.0,
        name: str | None = None,
        fit: bool = True,
    ) -> None:
        """Draw rows (n, 7 as Monitor.display) as trace number `trace`, time from t0_ms."""
        t2, y2 = peak_decimate(rows[:, 0], np.ascontiguousarray(rows[:, 1:].T))
        self.show_curves(t2 * 1e3 - t0_ms, y2, trace, alpha, name, fit)

    def show_curves(
        self,
        t_ms: np.ndarray,
        ys: np.ndarray,
        trace: int = 0,
        alpha: int = 255,
        name: str | None = None,
        fit: bool = True,
    ) -> None:
        """Draw already decimated curves (t in ms, ys (6, n)) as trace number `trace`, named
        `name` in the legend; fit: the y ranges hold it."""
        for k, plot in enumerate(self.plots):
            while len(self.curves[k]) <= trace:
                colour = pg.mkColor(COLOURS[k] if trace == 0 else COLOURS[trace % len(COLOURS)])
                colour.setAlpha(alpha)
                # named on the first plot only: the legend is there
                curve = plot.plot(pen=pg.mkPen(colour, width=1), name=name if k == 0 else None)
                self.curves[k].append(curve)
            self.curves[k][trace].setData(t_ms, ys[k], connect="finite")
        if fit:
            self._shown[trace] = (t_ms, ys)
            self._fit_all()

    def _fit_all(self) -> None:
        if not self._shown:
            return
        parts = []
        for t_ms, ys in self._shown.values():
            if self.fit_x is not None:
                inside = (t_ms >= self.fit_x[0]) & (t_ms <= self.fit_x[1])
                ys = ys[:, inside]
            parts.append(ys)
        every = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        for k in range(len(self.plots)):
            self._fit_y(k, every[k])

    def _fit_y(self, k: int, y: np.ndarray) -> None:
        # Set the y range here, once per frame: pyqtgraph's auto-range would change it while
        # painting and so paint every plot twice. It only grows until the next clear(), with
        # headroom, so a growing weld changes it a few times rather than at every frame: each
        # change re-lays and re-renders the axis's tick text, the dearest part of a frame.
        finite = y[np.isfinite(y)]
        if not len(finite):
            return
        lo, hi = float(finite.min()), float(finite.max())
        for item in self.bands[k][:2]:
            band_y = item.getData()[1]
            if band_y is not None and len(band_y):
                lo, hi = min(lo, float(np.nanmin(band_y))), max(hi, float(np.nanmax(band_y)))
        shown = self.y_ranges[k]
        if shown is not None and shown[0] <= lo and hi <= shown[1]:
            return
        # 5 % margin at first; a side that grew since gets room for more of the same
        below = 0.25 if shown is not None and lo < shown[0] else 0.05
        above = 0.25 if shown is not None and hi > shown[1] else 0.05
        if shown is not None:
            lo, hi = min(lo, shown[0]), max(hi, shown[1])
        least = MIN_SPAN[CHANNELS[k][0]]
        if hi - lo < least:  # noise alone: shown as the small wobble it is, around its middle
            mid = 0.5 * (lo + hi)
            lo, hi = mid - 0.5 * least, mid + 0.5 * least
        span = hi - lo
        new = (lo - below * span, hi + above * span)
        self.y_ranges[k] = new
        self.plots[k].setYRange(*new, padding=0)

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
            pen = pg.mkPen(ENVELOPE_COLOUR, width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
            named = "window envelope" if k == 0 else None
            lo = self.plots[k].plot(t, np.asarray(band.lo), pen=pen, name=named)
            hi = self.plots[k].plot(t, np.asarray(band.hi), pen=pen)
            fill = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(*ENVELOPE_FILL))
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
                # the text hangs down from near the top, read upwards: whole on a short plot
                labelOpts={
                    "position": 0.97,
                    "anchors": [(1, 0), (1, 1)],
                    "color": colour,
                    "rotateAxis": (1, 0),
                },
            )
            plot.addItem(line)
            self.marks.append(line)

    def follow(self, t_first_ms: float, t_last_ms: float) -> None:
        """Show a record as it grows, from its first sample to past its last: the range
        changes only when the newest sample would leave it, then leaves a quarter of room.

        Why: a time axis re-fitted to the data at each frame re-renders its tick text and
        every curve's bounds each frame, about half of a frame's CPU while a weld streams.
        """
        shown = self.x_range
        if shown is not None and t_last_ms <= shown[1] and t_first_ms < shown[1]:
            return
        span = max(t_last_ms - t_first_ms, 1.0)
        self.x_range = (t_first_ms, t_first_ms + 1.25 * span)
        self.plots[0].setXRange(*self.x_range, padding=0)

    def focus(self, t_from_ms: float | None, t_to_ms: float) -> None:
        """Show t_from_ms to t_to_ms (the weld: pulse_range), its samples alone setting the y
        ranges; None: show everything (a record without current)."""
        if t_from_ms is None:
            self.plots[0].enableAutoRange(x=True)
            return
        shown = (t_from_ms, t_to_ms)
        if shown == self.x_range:
            return  # a range set again re-lays every axis: only when it changes
        self.x_range = shown
        self.plots[0].setXRange(*shown, padding=0)
        for line in self.marks:  # an event before the view would print its label over the axis
            line.setVisible(line.value() >= t_from_ms)
        if self.fit_x is None or self.fit_x[0] != t_from_ms:
            # fitted afresh from the weld's samples: what came before it (the approach, its
            # -300 µm) no longer holds the range open
            self.y_ranges = [None] * len(self.plots)
        self.fit_x = shown
        self._fit_all()


def pulse_range(t_on_ms: float, pulse_ms: float) -> tuple[float, float]:
    """Return the time range (ms) that shows a pulse of pulse_ms from t_on_ms, with a margin.

    Why this range: what the operator judges is the pulse: the current's rise and its end, the
    resistance falling at burn-through, the set-down's few µm growing inside the envelope.
    Shown with the whole cycle (approach, squeeze, hold, retract: ~200 ms) a 25 ms weld took a
    sixth of the width. The margin (8 %, 2 ms at least) shows the rise and the fall whole. The
    cycle before the current is shown live until the current starts; all of it is in History.
    """
    margin = max(2.0, 0.08 * pulse_ms)
    return t_on_ms - margin, t_on_ms + pulse_ms + margin
