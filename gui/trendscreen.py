"""The Trends screen: a feature against weld number, with the window's limits, its control
limits, Cpk and the drift alarms (the numbers from controller.spc, as `microweld spc`)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from controller.analysis import spc
from controller.qa.log import QaLog
from controller.qa.record import JUDGED
from controller.weld.session import WeldSession

FEATURES = (
    ("setdown_um", "Set-down (µm)"),
    ("energy_j", "Energy (J)"),
    ("burn_through_ms", "Burn-through (ms)"),
    ("peak_current_a", "Peak current (A)"),
    ("r_end_mohm", "R at end (mΩ)"),
    ("weld_time_ms", "Weld time (ms)"),
)


class IntegerAxis(pg.AxisItem):
    """An axis of whole numbers (weld ids): ticks only at integers (there is no weld 1.5)."""

    def tickSpacing(  # noqa: N802 (pyqtgraph's name)
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float, float]]:
        """pyqtgraph's levels, less those finer than 1 or not a whole step; 1 at the finest."""
        levels = [
            (spacing, offset)
            for spacing, offset in super().tickSpacing(minVal, maxVal, size)
            if spacing >= 1.0 and float(spacing).is_integer() and float(offset).is_integer()
        ]
        return levels or [(1.0, 0.0)]


VERDICT_BRUSH = {"PASS": "#2e7d32", "FAIL": "#c62828", "ABORTED": "#ef6c00", "NO-WELD": "#757575"}


class TrendScreen(QWidget):
    """A feature of the current schedule's welds, weld by weld, against its limits."""

    def __init__(self, session: WeldSession) -> None:
        super().__init__()
        self.session = session
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.feature = QComboBox()
        for key, name in FEATURES:
            self.feature.addItem(name, key)
        self.feature.currentIndexChanged.connect(lambda _i: self.refresh())
        top.addWidget(QLabel(f"Schedule {session.schedule.name}:"))
        top.addWidget(self.feature)
        top.addStretch(1)
        self.summary = QLabel("")
        top.addWidget(self.summary)
        layout.addLayout(top)
        self.plot = pg.PlotWidget(axisItems={"bottom": IntegerAxis("bottom")})
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "weld (log id)")
        layout.addWidget(self.plot, 1)
        self.values: np.ndarray = np.zeros(0)
        self.refresh()

    def refresh(self) -> None:
        """Read the log and draw the chosen feature with its limits."""
        key = str(self.feature.currentData())
        self.plot.clear()
        self.plot.setTitle(None)
        self.plot.setLabel("left", self.feature.currentText())
        if not self.session.qa_path.exists():
            self.summary.setText("no welds yet")
            return
        log = QaLog(self.session.qa_path)
        try:
            rows = [
                r for r in log.welds(schedule=self.session.schedule.name) if r.verdict in JUDGED
            ]
        finally:
            log.close()
        ids, values = spc.series(rows, key)
        verdict = {r.id: r.verdict for r in rows}
        self.values = np.array(values)
        if values:
            x = np.array(ids, dtype=float)
            self.plot.plot(x, self.values, pen=pg.mkPen("#888888", width=1))
            brushes = [pg.mkBrush(VERDICT_BRUSH.get(verdict[i], "#555555")) for i in ids]
            self.plot.addItem(pg.ScatterPlotItem(x, self.values, size=7, brush=brushes, pen=None))
        window = self.session.window
        for bound in spc.limits(window, key):
            if bound is not None:
                self.plot.addItem(
                    pg.InfiniteLine(
                        bound,
                        angle=0,
                        pen=pg.mkPen("#c62828", style=pg.QtCore.Qt.PenStyle.DashLine),
                    )
                )
        if len(values) < 2:
            self.summary.setText(
                "1 weld: too few for SPC" if values else "no welds of this schedule yet"
            )
            return
        fs = spc.analyse(key, ids, values, window)
        # the control limits (from the first welds, the baseline) in grey, under the window's red
        for y in (fs.chart.ucl, fs.chart.lcl):
            self.plot.addItem(
                pg.InfiniteLine(
                    y, angle=0, pen=pg.mkPen("#777777", style=pg.QtCore.Qt.PenStyle.DotLine)
                )
            )
        self.plot.setTitle(
            "red dashed: the window's limits; grey dotted: control limits (±3σ of the first "
            f"{fs.baseline.n} welds)",
            size="9pt",
        )
        alarms = []
        if len(values) <= fs.baseline.n:
            alarms.append(f"drift alarms after the first {spc.BASELINE_WELDS} welds")
        for which in ("ewma", "cusum") if not alarms else ():
            k = fs.alarm_index(which)
            alarms.append(
                f"{which.upper()} alarm " + ("none" if k is None else f"at weld {ids[k]}")
            )
            if k is not None:
                ring = pg.mkPen("#c62828", width=2)
                self.plot.addItem(
                    pg.ScatterPlotItem([ids[k]], [values[k]], size=16, pen=ring, brush=None)
                )
        c = fs.capability
        cpk = "—" if c.cpk is None else f"{c.cpk:.2f}"
        self.summary.setText(
            f"{c.n} welds; mean {c.mean:.6g}, σ {c.sd:.3g}, Cpk {cpk}; " + ", ".join(alarms)
        )
