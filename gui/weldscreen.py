"""The Weld screen: live waveforms over the window, the verdict with every reason, the controls."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from controller.monitor.window import Window
from controller.qa.parts import next_part
from controller.qa.record import WeldIdentity
from controller.weld.cycle import CycleResult
from controller.weld.session import WeldSession
from drivers.config.files import config_dir
from gui.benchpanel import BenchPanel
from gui.bridge import StationBridge
from gui.live import LiveTrace
from gui.plots import WavePanel, pulse_range

PLOT_HZ = 30  # the plot rate, apart from the data rate (50 kHz)
# |I| (A) above which the current flows, for the plot's range (the monitor's default gate)
CURRENT_GATE_A = 20.0
SIDE_WIDTH = 340  # px: the side panel (identities, controls, verdict, features); plots get the rest
# the latched E-STOP's two lines: one line ("E-STOP pressed: click to release") was cut off
# at the button's 16 pt
ESTOP_PRESSED = "E-STOP PRESSED\nclick to release"
VERDICT_STYLE = {
    "PASS": "background:#2e7d32;color:white",
    "FAIL": "background:#c62828;color:white",
    "ABORTED": "background:#ef6c00;color:white",
    "NO-WELD": "background:#757575;color:white",
    "": "background:#eeeeee;color:#555555",
}
FEATURES = (
    ("weld_time_ms", "Weld time", "ms", 2),
    ("energy_j", "Energy", "J", 3),
    ("peak_current_a", "Peak current", "A", 0),
    ("burn_through_ms", "Burn-through", "ms", 2),
    ("setdown_um", "Set-down", "µm", 1),
    ("setdown_pct", "Set-down", "%", 1),
    ("r_end_mohm", "R at end", "mΩ", 3),
    ("peak_force_n", "Peak force", "N", 2),
)


def fmt(value: float | None, digits: int) -> str:
    """Return a feature for display ("—" when it has none)."""
    return "—" if value is None else f"{value:.{digits}f}"


def schedule_names(probe: WeldSession) -> list[str]:
    """Return the schedules the station may open: the config folder's, and the one open."""
    names = sorted(p.stem for p in (config_dir() / "schedules").glob("*.toml"))
    return names if probe.schedule.name in names else [probe.schedule.name, *names]


class WeldScreen(QWidget):
    """What the operator watches and touches for each weld."""

    recipe_chosen = Signal(str)  # a schedule name: open the station with it (MainWindow)

    def __init__(self, bridge: StationBridge, window: Window | None, probe: WeldSession) -> None:
        super().__init__()
        self.bridge = bridge
        self.process_window = window
        self.bench = BenchPanel(probe)
        self.bench.changed.connect(self._update_start)
        self.frame_times: list[float] = []  # (for the benchmark) seconds each redraw took
        self.live = LiveTrace(bridge.ring.buf.shape[0], bridge.ring.buf.shape[1])
        self._drawn = (-1, -1)
        self._t_on_ms: float | None = None
        self._events: list[tuple[str, float]] = []
        self._held_texts: set[str] = (
            set()
        )  # what _update_start wrote (cleared once it holds no more)

        side = QVBoxLayout()
        side.addWidget(self._identities())
        self._controls(side, bridge)
        self._verdict(side)

        self.panel = WavePanel(grid=False)
        layout = QHBoxLayout(self)
        holder = QWidget()
        holder.setLayout(side)
        holder.setFixedWidth(SIDE_WIDTH)
        layout.addWidget(holder)
        right = QVBoxLayout()
        right.addWidget(self.bench)  # the counters over the plots
        right.addWidget(self.reopen)  # (only once a schedule in use was saved)
        right.addWidget(self.panel, 1)
        layout.addLayout(right, 1)

        bridge.opened.connect(self._opened)
        bridge.weld_started.connect(self._started)
        bridge.weld_finished.connect(self._finished)
        bridge.state_changed.connect(lambda s: self.state.setText(f"state: {s}"))
        bridge.events.connect(self._on_events)
        bridge.error.connect(self._error)
        self.timer = QTimer(self)
        # precise: a coarse timer may fire up to 5 % late and snaps to other timers' ticks
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(int(1000 / PLOT_HZ))
        self.timer.timeout.connect(self.redraw)
        self.timer.start()

    def _identities(self) -> QGroupBox:
        """Return the station, schedule and window shown, and the weld's identities."""
        ids = QGroupBox("Station")
        form = QFormLayout(ids)
        self.station = QLabel("starting…")
        # a recipe: choosing a schedule opens the station again with it and its own window
        probe = self.bench.probe
        self.schedule = QComboBox()
        self.schedule.addItems(schedule_names(probe))
        self.schedule.setCurrentText(probe.schedule.name)
        self.schedule.setToolTip(
            "choose a schedule: the station opens again with it and its window"
        )
        self.schedule.activated.connect(
            lambda _i: self.recipe_chosen.emit(self.schedule.currentText())
        )
        self.reopen = QPushButton("")
        self.reopen.setVisible(False)
        self.reopen.clicked.connect(lambda: self.recipe_chosen.emit(self.reopen.property("name")))
        self.window_name = QLabel("—")
        self.part = QLineEdit(self.bench.first_part())
        self.operator, self.lot = self.bench.operator, self.bench.lot
        self.reweld = QCheckBox("re-weld")
        self.reweld.setToolTip("weld a part the QA log already holds; recorded in the audit trail")
        form.addRow("Station", self.station)
        form.addRow("Schedule", self.schedule)
        form.addRow("Window", self.window_name)
        self.part.returnPressed.connect(self._start)  # a scanner's Enter starts the weld
        part_row = QHBoxLayout()
        part_row.setContentsMargins(0, 0, 0, 0)
        part_row.addWidget(self.part, 1)
        part_row.addWidget(self.reweld)
        holder = QWidget()
        holder.setLayout(part_row)
        form.addRow("Part id", holder)
        form.addRow("Operator", self.operator)
        form.addRow("Lot", self.lot)
        return ids

    def _controls(self, side: QVBoxLayout, bridge: StationBridge) -> None:
        """Add the weld switch, Start, Stop and the latching E-STOP."""
        self.weld_enabled = QCheckBox("Weld (off: no-weld, force cycle only)")
        self.weld_enabled.setChecked(True)
        self.weld_enabled.toggled.connect(bridge.set_weld_enabled)
        side.addWidget(self.weld_enabled)
        buttons = QHBoxLayout()
        self.start = QPushButton("Start")
        self.start.setStyleSheet("background:#2e7d32;color:white;font-weight:bold;padding:8px")
        self.start.setEnabled(False)
        self.start.clicked.connect(self._start)
        self.stop = QPushButton("Stop")
        self.stop.setStyleSheet("padding:8px")
        self.stop.clicked.connect(bridge.stop)
        buttons.addWidget(self.start)
        buttons.addWidget(self.stop)
        side.addLayout(buttons)
        self.estop = QPushButton("E-STOP")
        self.estop.setCheckable(True)
        self.estop.setStyleSheet(
            "QPushButton{background:#b71c1c;color:white;font-weight:bold;font-size:16pt;"
            "padding:10px;border-radius:6px}QPushButton:checked{background:#ffeb3b;color:#b71c1c}"
        )
        self.estop.toggled.connect(self._estop)
        side.addWidget(self.estop)

    def _verdict(self, side: QVBoxLayout) -> None:
        """Add the state, the verdict with its reasons, the features and the messages."""
        self.state = QLabel("state: —")
        side.addWidget(self.state)
        self.verdict = QLabel("—")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        big = QFont()
        big.setPointSize(28)
        big.setBold(True)
        self.verdict.setFont(big)
        self.verdict.setMinimumHeight(60)  # (28 pt bold: 45 px; 1366x768 has no height to spare)
        self.verdict.setStyleSheet(VERDICT_STYLE[""])
        side.addWidget(self.verdict)
        self.reasons = QLabel("")
        self.reasons.setWordWrap(True)
        self.reasons.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.reasons.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # scrolled: a FAIL's dozen reasons, wrapped, grew the panel (and so the window) past a
        # 768-pixel screen
        scroll = QScrollArea()
        scroll.setWidget(self.reasons)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.viewport().setAutoFillBackground(False)
        self.reasons.setAutoFillBackground(False)
        scroll.setMinimumHeight(3 * self.reasons.fontMetrics().lineSpacing())
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        side.addWidget(scroll, 1)
        feats = QGroupBox("Features")
        fform = QFormLayout(feats)
        self.features: dict[str, QLabel] = {}
        for key, name, unit, _ in FEATURES:
            label = QLabel("—")
            self.features[key] = label
            fform.addRow(f"{name} ({unit})", label)
        side.addWidget(feats)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color:#c62828")
        side.addWidget(self.message)

    # --- from the bridge ----------------------------------------------------------------------

    def _opened(self, info: dict[str, str]) -> None:
        self.station.setText(f"{info['station']} ({info['clock']})")
        self.window_name.setText(info["window"] or "none")
        if self.bench.probe.stale:  # (Start stays off: held_back says why)
            self.window_name.setText(f"{info['window']}: stale, teach it again")
            self.window_name.setStyleSheet("color:#c62828;font-weight:bold")
        self._update_start()

    def _started(self) -> None:
        self._events = []  # the last weld's, if any came after its last frame
        self.start.setEnabled(False)
        self.message.setText("")
        # the last weld's verdict and features go: shown through the next cycle they read as
        # that cycle's
        self.verdict.setText("…")
        self.verdict.setStyleSheet(VERDICT_STYLE[""])
        self.reasons.setText("")
        for label in self.features.values():
            label.setText("—")

    def _finished(self, res: CycleResult) -> None:
        v = res.result.verdict
        self.verdict.setText(v)
        self.verdict.setStyleSheet(VERDICT_STYLE.get(v, VERDICT_STYLE[""]))
        self.reasons.setText(
            "\n".join(f"• {r}" for r in res.result.reasons) or "every feature within its limits"
        )
        for key, _, _, digits in FEATURES:
            self.features[key].setText(fmt(res.result.features.get(key), digits))
        self.reweld.setChecked(False)  # chosen for one part, not for the next
        self.bench.finished(res, self.part.text().strip())  # (Start: _update_start)
        # the weld is logged under this part: the next one gets the next id, selected so that
        # a scan (a barcode scanner types, then Enter) replaces it
        self.part.setText(next_part(self.part.text().strip()))
        self.part.selectAll()
        self.part.setFocus()
        self.redraw()

    def _on_events(self, events: list[tuple[str, float]]) -> None:
        self._events += events

    def offer_reopen(self, name: str) -> None:
        """Offer to open the station again with a schedule saved since it opened."""
        self.reopen.setText(f"{name} was saved: open the station with it")
        self.reopen.setProperty("name", name)
        self.reopen.setVisible(True)

    def show_recipe_refused(self, why: str) -> None:
        """Say why a chosen schedule was not opened, and show the one still open again."""
        self.message.setText(f"schedule not opened: {why}")
        self.schedule.setCurrentText(self.bench.probe.schedule.name)

    def _error(self, text: str) -> None:
        self.message.setText(text)
        if not self.bridge.is_open:
            # the station did not open, or its session ended: no "starting…" left behind
            self.station.setText("not open: see the message below")
            self.station.setStyleSheet("color:#c62828;font-weight:bold")
            self.message.setStyleSheet("color:#c62828;font-weight:bold")
        self._update_start()

    def _update_start(self) -> None:
        """Enable Start when nothing holds it back; say what does."""
        why = self.bench.held_back()
        self.start.setEnabled(
            self.bridge.is_open and not self.estop.isChecked() and not self.bridge.busy and not why
        )
        if why:
            self.message.setText(why)
        elif self.message.text() in self._held_texts:
            self.message.setText("")
        if why:
            self._held_texts.add(why)

    # --- from the operator --------------------------------------------------------------------

    def _start(self) -> None:
        if not self.start.isEnabled():
            return  # (Enter in the part field while a weld runs, or the e-stop pressed)
        part = self.part.text().strip()
        if not part:
            self.message.setText("enter a part id")
            return
        if why := self.bench.held_back():
            self.message.setText(why)
            return
        who = WeldIdentity(operator=self.bench.who(), part_id=part, lot=self.lot.text().strip())
        self.bridge.weld(who, self.reweld.isChecked())

    def _estop(self, pressed: bool) -> None:
        self.bridge.set_estop(pressed)
        self.estop.setText(ESTOP_PRESSED if pressed else "E-STOP")
        self._update_start()

    # --- drawing ------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Draw what the ring holds now (called at the plot rate, never by the weld thread)."""
        t0 = time.perf_counter()
        ring = self.bridge.ring
        if (ring.generation, ring.written) == self._drawn and not self._events:
            return  # nothing new since the last frame
        self._drawn = (ring.generation, ring.written)
        if self.live.update(ring):  # a new weld
            # (its events are kept: they may have come before this frame saw the weld, and
            # _started dropped the last weld's; dropped here, a "current on" was lost and the
            # plot stayed on the whole cycle, seen at 1920x1080 under load)
            self._t_on_ms = None
            self.panel.clear()
        last_t = self.live.last_t()
        if last_t is not None:
            # once the current is on, only the weld is shown: draw only that (and a little
            # after, where a pulse longer than the envelope would show): the plot's points go
            # to the pulse, not to the hold and retract (decimated 6:1 they drew a zigzag)
            t_from, t_to = -np.inf, np.inf
            if self._t_on_ms is not None:
                a, b = self._range()
                t_from, t_to = a / 1e3, (b + 0.25 * (b - a)) / 1e3
            t_s, ys = self.live.curves(t_from, t_to_s=t_to)
            self.panel.show_curves(t_s * 1e3, ys, name="this weld")
            for name, t in self._events:
                self.panel.mark(name, t * 1e3)
                if name == "current on":
                    self._t_on_ms = t * 1e3
                    self.panel.show_window(self.process_window, self._t_on_ms)
            self._events = []
            if self._t_on_ms is None:
                self.panel.follow(float(t_s[0]) * 1e3, last_t * 1e3)
            else:
                self.panel.focus(*self._range(t_s, ys[0]))
        self.frame_times.append(time.perf_counter() - t0)
        del self.frame_times[:-1000]

    def _range(
        self, t_s: np.ndarray | None = None, current: np.ndarray | None = None
    ) -> tuple[float, float]:
        """The times (ms) that show this weld's pulse (gui.plots.pulse_range): as long as the
        window's envelope (taught from this schedule's welds), or up to the last sample the
        current still flowed at, if later (or without a window)."""
        assert self._t_on_ms is not None
        env = self.process_window.envelope if self.process_window else None
        band = env.current_a if env else None
        pulse_ms = len(band.lo) * env.step_ms if env and band else 1.0
        if t_s is not None and current is not None and len(current):
            peak = float(np.nanmax(np.abs(current))) if np.isfinite(current).any() else 0.0
            gate = max(0.1 * peak, CURRENT_GATE_A)
            flowing = np.flatnonzero(np.abs(current) >= gate)
            if len(flowing):
                pulse_ms = max(pulse_ms, float(t_s[flowing[-1]]) * 1e3 - self._t_on_ms)
        return pulse_range(self._t_on_ms, pulse_ms)
