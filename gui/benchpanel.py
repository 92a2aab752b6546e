"""The bench's rhythm on the Weld screen: who welds (signed in on a station with accounts), the
lot, the yield of the lot and of the shift, the electrode's welds since its dressing, and the
failed part that must be acknowledged, binned as a reject, before the next Start.

Everything here is read from and written to the QA log in the GUI's own process (as History
does); the weld session's process is not asked. What holds Start back is `held_back()`: the
Weld screen enables Start only when it says nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from controller.qa import accounts, parts, yields
from controller.qa.accounts import NotPermittedError
from controller.qa.log import QaLog
from controller.qa.parts import day_lot
from controller.qa.times import stored
from controller.weld.cycle import CycleResult
from controller.weld.session import WeldSession

# a verdict whose part may not go on: it is put in the reject bin, and the operator says so
REJECTED = ("FAIL", "ABORTED")
AskPassword = Callable[[str, str], "tuple[str, str] | None"]


class BenchPanel(QWidget):
    """A strip over the plots: the acknowledge button of a failed part, the lot's and the
    shift's yield, the electrode's count and its Dressed button, Sign in. It makes the
    operator and lot fields too, which the Weld screen places in its side panel (the strip
    costs the side panel no height: a 1366×768 screen has none to spare)."""

    changed = Signal()  # what holds Start back may have changed

    def __init__(self, probe: WeldSession) -> None:
        super().__init__()
        self.probe = probe
        self.signs = accounts.required()
        self.signed_in: accounts.Account | None = None
        self.unacknowledged: CycleResult | None = None
        self.part_of_reject = ""
        self.operator = QLineEdit("" if self.signs else accounts.login_name())
        self.operator.setReadOnly(self.signs)  # on a station with accounts: who signed in
        self.lot = QLineEdit(day_lot())
        self.lot.textChanged.connect(lambda _t: self.refresh())
        self.acknowledge = QPushButton("Reject binned: acknowledge")
        self.acknowledge.setStyleSheet("background:#c62828;color:white;font-weight:bold")
        self.acknowledge.clicked.connect(self.acknowledged)
        self.acknowledge.setVisible(False)
        strip = QHBoxLayout(self)
        strip.setContentsMargins(4, 0, 4, 0)
        strip.addWidget(self.acknowledge)  # shown only while a failed part waits
        self.lot_yield = QLabel("—")
        self.shift_yield = QLabel("—")
        self.electrode = QLabel("—")
        for label in (self.lot_yield, self.shift_yield, self.electrode):
            strip.addWidget(label)
            strip.addSpacing(18)
        self.dress_button = QPushButton("Dressed")
        self.dress_button.setToolTip("record that the electrode was dressed (its count restarts)")
        self.dress_button.clicked.connect(self.dress)
        strip.addWidget(self.dress_button)
        strip.addStretch(1)
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.clicked.connect(self.sign_in)
        self.sign_in_button.setVisible(self.signs)
        strip.addWidget(self.sign_in_button)
        self.refresh()

    def first_part(self, pattern: str = "part-{n:04d}") -> str:
        """Return the part id the screen starts with: numbered on from the log's (a restarted
        station would otherwise offer part-0001 again, welded already)."""
        with QaLog(self.probe.qa_path) as log:
            taken = log.part_ids(self.probe.station.name, parts.prefix(pattern))
        return parts.fill(pattern, parts.next_serial(pattern, taken))

    # --- what holds Start back ----------------------------------------------------------------

    def held_back(self) -> str:
        """Return why the next Start must wait ("" if it need not)."""
        if self.probe.stale:
            return f"no production welding: {self.probe.stale}"
        if self.signs and self.signed_in is None:
            return "sign in to weld (this station signs every weld)"
        if self.unacknowledged is not None:
            return (
                f"part {self.part_of_reject} {self.unacknowledged.result.verdict}: put it in "
                "the reject bin, then acknowledge"
            )
        used, _, limit = self._electrode()
        if used >= limit:
            return f"electrode limit reached ({used} welds, limit {limit}): dress it, then Dressed"
        return ""

    # --- after each weld ----------------------------------------------------------------------

    def finished(self, res: CycleResult, part: str) -> None:
        """Count the weld; a failed part waits for its acknowledgement."""
        if res.result.verdict in REJECTED:
            self.unacknowledged, self.part_of_reject = res, part
            self.acknowledge.setVisible(True)
        self.refresh()

    def acknowledged(self) -> None:
        """The operator binned the failed part: recorded in the audit trail, then Start may go."""
        res = self.unacknowledged
        if res is None:
            return
        with QaLog(self.probe.qa_path) as log:
            reasons = "; ".join(res.result.reasons)[:500]
            log.audit(
                self.who(), "reject", self.part_of_reject,
                f"log id {res.record_id} {res.result.verdict}: {reasons}",
                "put in the reject bin", "reject binned",
            )  # fmt: skip
        self.unacknowledged = None
        self.acknowledge.setVisible(False)
        self.refresh()

    def who(self) -> str:
        """Return the operator's name on the records."""
        if self.signed_in is not None:
            return self.signed_in.name
        return self.operator.text().strip() or accounts.login_name()

    # --- signing ------------------------------------------------------------------------------

    def ask(self, title: str, prompt: str) -> tuple[str, str] | None:
        """Return (name, password) typed in two dialogs (None if either is cancelled)."""
        name, ok = QInputDialog.getText(self, title, "Name:", text=self.operator.text())
        if not ok:
            return None
        password, ok = QInputDialog.getText(self, title, prompt, QLineEdit.EchoMode.Password)
        return (name.strip(), password) if ok else None

    def sign_in(self) -> bool:
        """Sign an operator in (the name on every weld from now on); False if refused."""
        typed = self.ask("Sign in", "Password:")
        if typed is None:
            return False
        try:
            self.signed_in = accounts.sign_in(typed[0], typed[1], "weld")
        except NotPermittedError as exc:
            self.setToolTip(str(exc))
            self.electrode.setText(str(exc))
            return False
        self.operator.setText(self.signed_in.name)
        self.refresh()
        return True

    def dress(self) -> bool:
        """Record a dressing (signed on a station with accounts); the count starts again."""
        who = self.who()
        if self.signs:
            typed = self.ask("Electrode dressed", "Password, to sign the dressing:")
            if typed is None:
                return False
            try:
                who = accounts.sign_in(typed[0], typed[1], "dress").name
            except NotPermittedError as exc:
                self.electrode.setText(str(exc))
                return False
        with QaLog(self.probe.qa_path) as log:
            log.dressed(self.probe.station.name, who)
        self.refresh()
        return True

    # --- the counters -------------------------------------------------------------------------

    def _electrode(self) -> tuple[int, int, int]:
        st = self.probe.station
        with QaLog(self.probe.qa_path) as log:
            return log.welds_since_dressing(st.name), st.electrode_warning, st.electrode_limit

    def refresh(self) -> None:
        """Read the counters from the QA log again and say what may have changed."""
        st = self.probe.station
        since = yields.shift_start(datetime.now().astimezone(), st.shifts)
        with QaLog(self.probe.qa_path) as log:
            lot = yields.of(log.verdict_counts(st.name, lot=self.lot.text().strip()))
            shift = yields.of(log.verdict_counts(st.name, since=stored(since)))
            used = log.welds_since_dressing(st.name)
        self.lot_yield.setText(f"Lot: {lot.text()}")
        self.shift_yield.setText(f"Shift since {since:%H:%M}: {shift.text()}")
        state = ""
        if used >= st.electrode_limit:
            state = ": limit, dress it"
        elif used >= st.electrode_warning:
            state = ": dress soon"
        self.electrode.setText(f"Electrode: {used}/{st.electrode_limit} welds{state}")
        colour = "#c62828" if used >= st.electrode_warning else ""
        self.electrode.setStyleSheet(f"color:{colour}" if colour else "")
        self.changed.emit()
