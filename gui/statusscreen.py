"""The Status screen: each device's link and heartbeat, interlocks, supply and head, electrode."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.bridge import StationBridge

OK = "color:#2e7d32;font-weight:bold"
BAD = "color:#c62828;font-weight:bold"
WARN = "color:#ef6c00;font-weight:bold"
# the value that is good for each yes/no field (None: neither good nor bad)
GOOD: dict[str, bool | None] = {
    "supply.heartbeat_ok": True,
    "head.heartbeat_ok": True,
    "supply.ready": True,
    "head.homed": True,
    "supply.charged": True,
    "supply.estop": False,
    "supply.guard_open": False,
    "supply.armed": None,
    "supply.welding": None,
    "head.contact": None,
}
WORDS = {"supply.estop": ("pressed", "released"), "supply.guard_open": ("open", "closed")}
FAULTS = {
    0: "none",
    1: "not charged",
    2: "over temperature",
    3: "heartbeat lost",
    6: "overtravel",
    7: "force overload",
    8: "servo fault",
}


class StatusScreen(QWidget):
    """Live status, refreshed by the bridge between welds."""

    def __init__(self, bridge: StationBridge) -> None:
        super().__init__()
        self.labels: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        for title, keys in (
            (
                "Links",
                [("link", "Modbus link"), ("supply.heartbeat_ok", "Supply heartbeat"),
                 ("head.heartbeat_ok", "Head heartbeat")],
            ),
            (
                "Interlocks",
                [("estop", "E-stop"), ("supply.estop", "Station e-stop input"),
                 ("supply.guard_open", "Guard"), ("supply.ready", "Supply ready"),
                 ("head.homed", "Head homed"), ("weld_enabled", "Weld / no-weld")],
            ),
            (
                "Supply",
                [("supply.charged", "Charged"), ("supply.charge_v", "Charge (V)"),
                 ("supply.armed", "Armed"), ("supply.welding", "Welding"),
                 ("supply.fault_code", "Fault"), ("supply.temperature_c", "Temperature (°C)"),
                 ("supply.weld_count", "Weld counter")],
            ),
            (
                "Head",
                [("head.position_um", "Position (µm)"), ("head.force_n", "Force (N)"),
                 ("head.contact", "Contact"), ("head.fault_code", "Fault")],
            ),
            ("Electrode", [("electrode.used", "Welds since dressing")]),
        ):  # fmt: skip
            box = QGroupBox(title)
            form = QFormLayout(box)
            for key, name in keys:
                label = QLabel("—")
                self.labels[key] = label
                form.addRow(name, label)
            row.addWidget(box)
        layout.addLayout(row)
        self.reset = QPushButton("Reset faults")
        self.reset.clicked.connect(bridge.reset_faults)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        layout.addWidget(self.reset)
        layout.addWidget(self.note)
        layout.addStretch(1)
        bridge.status.connect(self.show_status)

    def _set(self, key: str, text: str, style: str = "") -> None:
        label = self.labels.get(key)
        if label is not None:
            label.setText(text)
            label.setStyleSheet(style)

    def show_status(self, st: dict[str, Any]) -> None:
        """Show a status poll."""
        self._set("link", "up" if st.get("link") else "DOWN", OK if st.get("link") else BAD)
        if not st.get("link"):
            self.note.setText(f"link: {st.get('link_error', '')}")
        else:
            self.note.setText("")
        for key, good in GOOD.items():
            if key in st:
                v = bool(st[key])
                text = WORDS.get(key, ("yes", "no"))
                style = "" if good is None else (OK if v == good else BAD)
                self._set(key, text[0] if v else text[1], style)
        self._set("estop", "PRESSED" if st.get("estop") else "released",
                  BAD if st.get("estop") else OK)  # fmt: skip
        self._set("weld_enabled", "weld" if st.get("weld_enabled") else "NO-WELD",
                  OK if st.get("weld_enabled") else WARN)  # fmt: skip
        for key in ("supply.fault_code", "head.fault_code"):
            if key in st:
                code = int(st[key])
                self._set(key, FAULTS.get(code, f"code {code}"), OK if code == 0 else BAD)
        for key, digits in (
            ("supply.charge_v", 1),
            ("supply.temperature_c", 1),
            ("head.position_um", 1),
            ("head.force_n", 2),
        ):
            if key in st:
                self._set(key, f"{st[key]:.{digits}f}")
        if "supply.weld_count" in st:
            self._set("supply.weld_count", str(st["supply.weld_count"]))
        used, warn, limit = st["electrode.used"], st["electrode.warning"], st["electrode.limit"]
        style = BAD if used >= limit else WARN if used >= warn else OK
        self._set("electrode.used", f"{used} (warning {warn}, limit {limit})", style)
