"""The Trends screen: a feature against weld number, with the window's limits."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from controller.qalog import QaLog
from controller.session import WeldSession

FEATURES = (
    ("setdown_um", "Set-down (µm)"),
    ("energy_j", "Energy (J)"),
    ("burn_through_ms", "Burn-through (ms)"),
    ("peak_current_a", "Peak current (A)"),
    ("r_end_mohm", "R at end (mΩ)"),
    ("weld_time_ms", "Weld time (ms)"),
)
VERDICT_BRUSH = {"PASS": "#2e7d32", "FAIL": "#c62828", "ABORTED": "#ef6c00"}


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
        self.plot = pg.PlotWidget()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "weld (log id)")
        layout.addWidget(self.plot, 1)
        self.values: np.ndarray = np.zeros(0)
        self.refresh()

    def refresh(self) -> None:
        """Read the log and draw the chosen feature with its limits."""
        key = str(self.feature.currentData())
        self.plot.clear()
        self.plot.setLabel("left", self.feature.currentText())
        if not self.session.qa_path.exists():
            self.summary.setText("no welds yet")
            return
        log = QaLog(self.session.qa_path)
        try:
            rows = [
                r for r in log.welds(schedule=self.session.schedule.name) if r.verdict != "ABORTED"
            ]
        finally:
            log.close()
        pts: list[tuple[int, float, str]] = []
        for r in rows:
            value = r.features.get(key)
            if value is not None and not math.isnan(value):
                pts.append((r.id, float(value), r.verdict))
        self.values = np.array([v for _, v, _ in pts])
        if pts:
            x = np.array([i for i, _, _ in pts], dtype=float)
            self.plot.plot(x, self.values, pen=pg.mkPen("#888888", width=1))
            brushes = [pg.mkBrush(VERDICT_BRUSH.get(v, "#555555")) for _, _, v in pts]
            self.plot.addItem(pg.ScatterPlotItem(x, self.values, size=7, brush=brushes, pen=None))
        window = self.session.window
        limit = window.limits.get(key) if window else None
        for bound in (limit.min, limit.max) if limit else ():
            if bound is not None:
                self.plot.addItem(
                    pg.InfiniteLine(
                        bound,
                        angle=0,
                        pen=pg.mkPen("#c62828", style=pg.QtCore.Qt.PenStyle.DashLine),
                    )
                )
        if len(self.values):
            self.summary.setText(
                f"{len(self.values)} welds; mean {self.values.mean():.4g}, "
                f"σ {self.values.std(ddof=1) if len(self.values) > 1 else 0.0:.3g}"
            )
        else:
            self.summary.setText("no welds of this schedule yet")
