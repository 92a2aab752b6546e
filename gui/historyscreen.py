"""The History screen: the QA log as a filtered table; a weld's waveforms over its window;
several welds overlaid; export; teach a window from the selected welds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from controller.monitor.monitor import replay
from controller.monitor.teach import TeachError, teach_from_log
from controller.monitor.window import Window
from controller.qa.export import export_features_csv, export_waveforms
from controller.qa.log import QaLog
from controller.qa.record import VERDICTS, LoggedWeld
from controller.qa.times import ACCEPTED, TimeTextError, parse_instant
from controller.weld.session import WeldSession
from drivers.config.loader import ConfigError
from gui.plots import WavePanel, pulse_range
from gui.weldscreen import fmt

COLUMNS = ("id", "time (UTC)", "part", "lot", "operator", "schedule", "verdict",
           "energy (J)", "set-down (µm)", "burn-through (ms)", "reasons")  # fmt: skip
MAX_OVERLAY = 8
TABLE_SHARE = 0.45  # of the height under the filters, the table's (10 rows at 768 px)


class HistoryScreen(QWidget):
    """Browse the station's QA log."""

    taught = Signal(object, str)  # a window taught from selected welds, and where from

    def __init__(self, session: WeldSession) -> None:
        super().__init__()
        self.session = session
        self.rows: list[LoggedWeld] = []
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.verdict = QComboBox()
        self.verdict.addItems(["any", *VERDICTS])
        self.part = QLineEdit()
        self.part.setPlaceholderText("part id")
        self.lot = QLineEdit()
        self.lot.setPlaceholderText("lot")
        self.since = QLineEdit()
        # what `microweld history --since` takes (controller.qa.times), said in the tip
        self.since.setPlaceholderText("since: 2026-11-23T08:00, today, 2h")
        self.since.setToolTip(f"since: {ACCEPTED}")
        self.since.setMinimumWidth(
            self.since.fontMetrics().horizontalAdvance(self.since.placeholderText()) + 16
        )
        self.since.returnPressed.connect(self.refresh)
        refresh = QPushButton("Apply")
        refresh.clicked.connect(self.refresh)
        for w in (QLabel("verdict"), self.verdict, self.part, self.lot, self.since, refresh):
            filters.addWidget(w)
        self.export_button = QPushButton("Export selected…")
        self.export_button.clicked.connect(self._export_dialog)
        self.teach_button = QPushButton("Teach window from selected")
        self.teach_button.clicked.connect(self.teach_selected)
        filters.addStretch(1)
        filters.addWidget(self.export_button)
        filters.addWidget(self.teach_button)
        layout.addLayout(filters)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.table = welds_table()
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.split.addWidget(self.table)
        self.panel = WavePanel(x_label="time since the current started (ms)")
        self.split.addWidget(self.panel)
        # shares of the height it has, not pixels (250 of 768 px showed 7 rows), until the
        # operator drags the handle
        self._split_moved = False
        self.split.splitterMoved.connect(lambda _pos, _i: setattr(self, "_split_moved", True))
        layout.addWidget(self.split, 1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Share the height between the table and the plots (TABLE_SHARE)."""
        super().resizeEvent(event)
        if not self._split_moved:
            h = sum(self.split.sizes()) or self.split.height()
            self.split.setSizes([round(TABLE_SHARE * h), h - round(TABLE_SHARE * h)])

    def _log(self) -> QaLog | None:
        if not self.session.qa_path.exists():
            return None
        return QaLog(self.session.qa_path)

    def refresh(self) -> None:
        """Read the log again with the filters."""
        try:
            since = parse_instant(self.since.text()) if self.since.text().strip() else None
        except TimeTextError as exc:
            # said, and the table left as it was: not an empty table that looks like no welds
            self.message.setText(f"since: {exc}")
            self.since.setStyleSheet("background:#ffebee")
            return
        self.since.setStyleSheet("")
        log = self._log()
        if log is None:
            self.rows = []
            self.message.setText(f"no welds yet ({self.session.qa_path})")
        else:
            try:
                verdict = self.verdict.currentText()
                self.rows = log.welds(
                    since=since,
                    verdict=None if verdict == "any" else verdict,
                    part_id=self.part.text().strip() or None,
                    lot=self.lot.text().strip() or None,
                )
            finally:
                log.close()
            self.message.setText(f"{len(self.rows)} weld(s) in {self.session.qa_path}")
        self._fill()

    def _fill(self) -> None:
        self.table.setRowCount(len(self.rows))
        for r, w in enumerate(reversed(self.rows)):  # newest first
            f = w.features
            cells = (str(w.id), w.t_utc[:19].replace("T", " "), w.part_id, w.lot, w.operator,
                     w.schedule, w.verdict, fmt(f.get("energy_j"), 3),
                     fmt(f.get("setdown_um"), 1), fmt(f.get("burn_through_ms"), 2),
                     "; ".join(w.reasons))  # fmt: skip
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, w.id)
                if c == len(cells) - 1:
                    item.setToolTip("\n".join(w.reasons))  # the whole text, however long
                self.table.setItem(r, c, item)
        # every column but the reasons as wide as its title or its widest cell
        self.table.resizeColumnsToContents()

    def selected_ids(self) -> list[int]:
        """Return the ids of the selected welds, oldest first."""
        rows = {i.row() for i in self.table.selectedIndexes()}
        ids = []
        for r in rows:
            item = self.table.item(r, 0)
            if item is not None:
                ids.append(int(item.text()))
        return sorted(ids)

    def select_ids(self, ids: list[int]) -> None:
        """Select these welds in the table (as a click would)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QTableWidget.SelectionMode.MultiSelection)
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and int(item.text()) in ids:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    def show_selected(self) -> None:
        """Draw the selected welds' waveforms over the window (the first in full colour)."""
        ids = self.selected_ids()[:MAX_OVERLAY]
        self.panel.clear()
        if not ids:
            return
        log = self._log()
        if log is None:
            return
        window = self.session.window
        try:
            replayed = [(weld_id, *replay(log.waveform(weld_id), window)) for weld_id in ids]
        finally:
            log.close()
        # the first weld that had current is drawn first, in full colour, with the window and
        # its events, and the view is on its pulse (a no-current weld first had the view, and
        # the y ranges, on its noise)
        replayed.sort(key=lambda r: "current end" not in r[2])
        first = replayed[0][2]
        for k, (weld_id, rows, events) in enumerate(replayed):
            # a no-current weld overlaid on welds is drawn, but does not set the y ranges: its
            # approach (-300 µm) lies where their pulses are
            self._draw(k, weld_id, rows, events, "current end" in events or k == 0)
        if "current end" in first:
            self.panel.focus(*pulse_range(0.0, (first["current end"] - first["current on"]) * 1e3))
        else:
            self.panel.focus(None, 0.0)
        self.message.setText(f"showing weld(s) {', '.join(map(str, ids))}")

    def _draw(
        self, k: int, weld_id: int, rows: np.ndarray, events: dict[str, float], fit: bool
    ) -> None:
        """Draw one weld as trace k, from its own current start (so that several overlay)."""
        t_on = events.get("current on")
        t0_ms = t_on * 1e3 if t_on is not None else 0.0
        if t_on is not None and "current end" in events:
            # the pulse's rows only: the plot's points go to what is shown
            a, b = pulse_range(t_on * 1e3, (events["current end"] - t_on) * 1e3)
            t_ms = rows[:, 0] * 1e3
            rows = rows[(t_ms >= a - (b - a)) & (t_ms <= b + (b - a))]
        alpha = 255 if k == 0 else 140
        self.panel.show_rows(rows, k, alpha, t0_ms, name=f"weld {weld_id}", fit=fit)
        if k == 0:
            if t_on is not None:
                self.panel.show_window(self.session.window, 0.0)
            for name, t in events.items():
                if name != "current on":
                    self.panel.mark(name, t * 1e3 - t0_ms)

    def export(self, folder: Path, fmt_: str = "npz") -> list[Path]:
        """Write the selected welds' features (CSV) and waveforms into folder."""
        ids = self.selected_ids()
        chosen = [w for w in self.rows if w.id in ids]
        folder.mkdir(parents=True, exist_ok=True)
        export_features_csv(chosen, folder / "features.csv")
        log = self._log()
        assert log is not None
        try:
            files = export_waveforms(log, ids, folder, fmt_)
        finally:
            log.close()
        self.message.setText(f"exported {len(ids)} weld(s) to {folder}")
        return [folder / "features.csv", *files]

    def _export_dialog(self) -> None:
        if not self.selected_ids():
            self.message.setText("select the welds to export first")
            return
        folder = QFileDialog.getExistingDirectory(self, "Export to folder")
        if folder:
            self.export(Path(folder))

    def teach_selected(self) -> Window | None:
        """Teach a window from the selected welds and hand it to the editor for review."""
        ids = self.selected_ids()
        try:
            window, source = teach_from_log(
                self.session.qa_path, set(ids), base=self.session.window, min_count=10
            )
        except (TeachError, ConfigError) as exc:
            self.message.setText(f"cannot teach: {exc}")
            return None
        self.message.setText(f"taught a window from {source}: review and save it in the editor")
        self.taught.emit(window, source)
        return window


def welds_table() -> QTableWidget:
    """Return the empty table of welds: one line per weld, every title whole."""
    table = QTableWidget(0, len(COLUMNS))
    table.setHorizontalHeaderLabels(list(COLUMNS))
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    # one line per weld: the time wrapped into two made every row twice as high
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)  # the id is the first column
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
    header = table.horizontalHeader()
    header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
    header.setMinimumSectionSize(24)
    table.resizeColumnsToContents()
    return table
