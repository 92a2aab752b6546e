"""The Schedules and windows screen: view and edit a schedule or a window, field by field.

Every edit is checked at once against the same models the controller loads with; a bad value
is marked at its field with the reason, and nothing can be saved until every field is good.
Saving writes the file and records old and new text in the QA log's audit trail.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar

import tomli_w
from pydantic import BaseModel
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from controller.monitor.window import Window
from controller.qa import accounts
from controller.qa.accounts import NotPermittedError, login_name
from controller.qa.log import QaLog
from controller.weld.session import WeldSession
from controller.weld.stations import window_path
from drivers.config.loader import ConfigError, parse_model
from drivers.config.schedule import Schedule, parse_schedule
from drivers.config.tomledit import edited

BAD = QColor("#ffcdd2")


def flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Return (dotted key, value) for every value of a nested mapping."""
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out += flatten(value, dotted + ".")
        else:
            out.append((dotted, value))
    return out


def unflatten(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Return the nested mapping of (dotted key, value) pairs."""
    out: dict[str, Any] = {}
    for dotted, value in pairs:
        *path, last = dotted.split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def parse_value(text: str) -> Any:
    """Return a cell's text as a TOML value (number, boolean, list, string)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string


def show_value(value: Any) -> str:
    """Return a value as the text of its cell."""
    if isinstance(value, str):
        return value
    return tomli_w.dumps({"v": value})[4:].strip()


class EditorScreen(QWidget):
    """Edit the station's schedule or window with validation at each field."""

    KINDS: ClassVar[dict[str, type[BaseModel]]] = {"schedule": Schedule, "window": Window}
    saved = Signal(str, str)  # (kind, name) of a file saved

    def __init__(self, session: WeldSession) -> None:
        super().__init__()
        self.session = session
        self.kind = "schedule"
        self.path: Path = session.schedule_file
        self.original = ""
        self.model: BaseModel | None = None
        self.problems: dict[str, str] = {}
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.which = QComboBox()
        self.which.addItem(
            f"schedule: {session.schedule.name}", ("schedule", session.schedule_file)
        )
        if session.window is not None:
            self.which.addItem(
                f"window: {session.window.name}", ("window", window_path(session.window.name))
            )
        self.which.currentIndexChanged.connect(lambda _i: self.load(*self.which.currentData()))
        top.addWidget(QLabel("Edit"))
        top.addWidget(self.which, 1)
        top.addWidget(QLabel("by"))
        self.who = QLineEdit(login_name())
        self.who.setFixedWidth(140)
        top.addWidget(self.who)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        top.addWidget(self.save_button)
        layout.addLayout(top)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["field", "value", "check"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 260)
        self.table.itemChanged.connect(self._edited)
        layout.addWidget(self.table, 1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.load("schedule", session.schedule_file)

    def load(self, kind: str, path: Path) -> None:
        """Show a schedule or window file."""
        self.kind, self.path = kind, Path(path)
        self.taught = False  # a file to edit in place (its comments and order kept)
        self.original = self.path.read_text(encoding="utf-8")
        data = tomllib.loads(self.original)
        self.show_data(data)
        self.message.setText(f"{self.path}")

    def show_data(self, data: dict[str, Any]) -> None:
        """Fill the table with a mapping's fields (long lists are shown, not edited here)."""
        self.table.blockSignals(True)
        pairs = flatten(data)
        self.table.setRowCount(len(pairs))
        for row, (key, value) in enumerate(pairs):
            k = QTableWidgetItem(key)
            k.setFlags(Qt.ItemFlag.ItemIsEnabled)
            v = QTableWidgetItem(show_value(value))
            if isinstance(value, list) and len(value) > 8:
                v = QTableWidgetItem(f"[{len(value)} values]")
                v.setData(Qt.ItemDataRole.UserRole, value)
                v.setFlags(Qt.ItemFlag.ItemIsEnabled)  # envelope bands: taught, not typed
            self.table.setItem(row, 0, k)
            self.table.setItem(row, 1, v)
            self.table.setItem(row, 2, QTableWidgetItem(""))
        self.table.blockSignals(False)
        self.check()

    def data(self) -> dict[str, Any]:
        """Return the table's values as a nested mapping."""
        pairs = []
        for row in range(self.table.rowCount()):
            key = self._cell(row, 0).text()
            cell = self._cell(row, 1)
            kept = cell.data(Qt.ItemDataRole.UserRole)
            pairs.append((key, kept if kept is not None else parse_value(cell.text())))
        return unflatten(pairs)

    def _cell(self, row: int, col: int) -> QTableWidgetItem:
        item = self.table.item(row, col)
        assert item is not None, f"no cell at {row}, {col}"
        return item

    def row_of(self, key: str) -> int:
        """Return the table row of a dotted key (-1: none)."""
        for row in range(self.table.rowCount()):
            if self._cell(row, 0).text() == key:
                return row
        return -1

    def set_value(self, key: str, text: str) -> None:
        """Type a value into a field (as the operator would)."""
        self._cell(self.row_of(key), 1).setText(text)

    def _edited(self, item: QTableWidgetItem) -> None:
        if item.column() == 1:
            self.check()

    def check(self) -> bool:
        """Validate every field; mark each bad one with its reason; return True if all good."""
        self.problems = {}
        try:
            if self.kind == "schedule":  # with its materials: every problem at one look
                self.model = parse_schedule(self.data(), str(self.path))
            else:
                self.model = parse_model(self.KINDS[self.kind], self.data(), str(self.path))
        except ConfigError as exc:
            self.model = None
            self.problems = {field: reason for field, reason in exc.problems}
        self.table.blockSignals(True)
        unplaced = dict(self.problems)
        for row in range(self.table.rowCount()):
            key = self._cell(row, 0).text()
            reason = self.problems.get(key, "")
            # a problem with a section (e.g. a missing or conflicting field) is shown at its keys
            if not reason:
                reason = next((r for f, r in self.problems.items() if key.startswith(f + ".")), "")
            unplaced.pop(key, None)
            check = self._cell(row, 2)
            check.setText(reason or "ok")
            check.setForeground(QBrush(QColor("#c62828" if reason else "#2e7d32")))
            brush = QBrush(BAD) if reason else QBrush()
            for col in range(3):
                self._cell(row, col).setBackground(brush)
        self.table.blockSignals(False)
        keys = [self._cell(r, 0).text() for r in range(self.table.rowCount())]
        for f in list(unplaced):
            if any(k.startswith(f + ".") for k in keys):
                unplaced.pop(f)
        if unplaced:
            self.message.setText("; ".join(f"{f}: {r}" for f, r in unplaced.items()))
        self.save_button.setEnabled(self.model is not None)
        return self.model is not None

    def save(self) -> bool:
        """Write the file and its audit record (old and new text, who, when)."""
        if not self.check() or self.model is None:
            self.message.setText("not saved: fix the fields marked in red")
            return False
        if self.taught:
            new = tomli_w.dumps(self.model.model_dump(mode="json", exclude_none=True))
        else:  # only the values changed: the file's notes and citations stay, no default added
            new = edited(self.original, self.data())
        if new == self.original:
            self.message.setText("nothing changed")
            return True
        try:
            # a station with accounts takes a change only signed by an engineer's password
            who, meaning = self._signature()
        except NotPermittedError as exc:
            self.message.setText(f"not saved: {exc}")
            return False
        log = QaLog(self.session.qa_path)
        try:
            # the file and its audit record together: never one without the other
            name = str(getattr(self.model, "name", self.path.stem))
            log.save_audited(self.path, new, who, self.kind, name, meaning)
        except OSError as exc:
            self.message.setText(f"not saved: {exc}")
            return False
        finally:
            log.close()
        self.original = new
        note = ""
        if self.kind == "schedule":
            note = (
                "; a window taught for the old version must be taught again; the Weld screen "
                "offers to open the station with it"
            )
        self.message.setText(f"saved {self.path}; recorded in the audit trail{note}")
        self.saved.emit(self.kind, name)
        return True

    def _signature(self) -> tuple[str, str]:
        """Return who signs the change and what the signature means; on a station with
        accounts the password is asked now (each signing, 21 CFR 11.200(a))."""
        name = self.who.text().strip() or login_name()
        if not accounts.required():
            return name, ""
        password = self.ask_password(f"{name}'s password, to sign this change:")
        if password is None:
            raise NotPermittedError("not signed (no password given)")
        return accounts.sign_in(name, password, "edit").name, accounts.ACTS["edit"][1]

    def ask_password(self, prompt: str) -> str | None:
        """Return the password typed in a dialog (None if cancelled)."""
        text, ok = QInputDialog.getText(
            self, "Sign the change", prompt, QLineEdit.EchoMode.Password
        )
        return text if ok else None

    def edit_taught(self, window: Window, path: Path) -> None:
        """Show a newly taught window for review; Save writes it to path (with its audit)."""
        self.kind, self.path = "window", path
        self.taught = True  # a new file, whole
        self.original = path.read_text(encoding="utf-8") if path.exists() else ""
        self.show_data(window.model_dump(mode="json", exclude_none=True))
        self.message.setText(f"taught window: review it, then Save writes {path}")
