"""The bench's rhythm on the Weld screen (gui/benchpanel.py), over the station's configs and a
QA log, no station started: a failed part acknowledged before the next Start, the yield of the
lot and the shift, the electrode's lockout and its dressing, the operator signed in on a
station with accounts, re-weld passed on, the part id numbered on from the log."""

from __future__ import annotations

import tomllib
from types import SimpleNamespace
from typing import Any

import pytest
import tomli_w

from controller.qa.log import QaLog
from controller.qa.parts import day_lot
from gui.app import MainWindow
from gui.benchpanel import BenchPanel
from gui.bridge import StationBridge
from gui.main import session_maker
from tests.helpers.accounts import make_accounts, password
from tests.helpers.paths import REPO
from tests.helpers.records import weld_record


@pytest.fixture
def screen(station_window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(StationBridge, "is_open", property(lambda self: True))
    sent: list[tuple[Any, bool]] = []
    monkeypatch.setattr(
        station_window.bridge, "weld", lambda who, reweld=False: sent.append((who, reweld))
    )
    s = station_window.weld
    s.sent = sent
    s.bench.refresh()
    return s


def _result(verdict: str, record_id: int = 7) -> Any:
    reasons = [] if verdict == "PASS" else ["energy_j 4.1 J below 8.0 J"]
    return SimpleNamespace(
        record_id=record_id,
        result=SimpleNamespace(verdict=verdict, reasons=reasons, features={}),
        state=SimpleNamespace(value="IDLE"),
    )


def _log(screen: Any) -> QaLog:
    return QaLog(screen.bench.probe.qa_path)


def test_a_failed_part_is_acknowledged_before_the_next_start(screen: Any) -> None:
    assert screen.start.isEnabled()
    part = screen.part.text()
    screen._finished(_result("FAIL"))
    assert not screen.start.isEnabled() and not screen.bench.acknowledge.isHidden()
    assert f"part {part} FAIL: put it in the reject bin" in screen.message.text()
    screen._start()  # a scanner's Enter: refused, nothing sent
    assert screen.sent == []
    screen.bench.acknowledge.click()
    assert screen.start.isEnabled() and screen.message.text() == ""
    ((_, who, name, meaning),) = _log(screen).signatures("reject")
    assert (name, meaning) == (part, "reject binned") and who == screen.bench.who()
    screen._finished(_result("PASS", 8))
    assert screen.start.isEnabled()  # a PASS goes straight on


def test_the_lot_and_shift_yields_count_the_log(screen: Any) -> None:
    lot = day_lot()
    log = _log(screen)
    for k, verdict in enumerate(["PASS", "PASS", "FAIL", "NO-WELD"]):
        log.record(weld_record(k, verdict, station="sim", lot=lot))
    log.record(weld_record(9, station="sim", lot="other"))
    screen.bench.refresh()
    assert screen.bench.lot_yield.text() == "Lot: 2/3 PASS (66.7 %)"
    assert screen.bench.shift_yield.text().startswith("Shift since ")
    assert screen.bench.shift_yield.text().endswith(": 3/4 PASS (75.0 %)")


def test_the_electrode_locks_welding_at_its_limit_until_dressed(screen: Any) -> None:
    st = screen.bench.probe.station
    st.electrode_warning, st.electrode_limit = 2, 3
    log = _log(screen)
    for k in range(3):
        log.record(weld_record(k, station="sim", supply_weld_count=k + 1))
    screen.bench.refresh()
    assert "3/3 welds: limit, dress it" in screen.bench.electrode.text()
    assert not screen.start.isEnabled() and "electrode limit reached" in screen.message.text()
    assert screen.bench.dress()
    assert screen.bench.electrode.text() == "Electrode: 0/3 welds" and screen.start.isEnabled()
    assert _log(screen).welds_since_dressing("sim") == 0


def test_reweld_is_passed_on_for_one_part(screen: Any) -> None:
    screen.reweld.setChecked(True)
    screen._start()
    ((who, reweld),) = screen.sent
    assert reweld and who.part_id == screen.part.text()
    screen._finished(_result("PASS"))
    assert not screen.reweld.isChecked()


def test_the_part_id_is_numbered_on_from_the_log(station_window: MainWindow, tmp_path: Any) -> None:
    log = QaLog(station_window.probe.qa_path)
    log.record(weld_record(1, station="sim", part_id="part-0041"))
    assert station_window.weld.bench.first_part() == "part-0042"


def test_on_a_station_with_accounts_the_operator_signs_in(
    station_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_accounts("ana")
    monkeypatch.setattr(StationBridge, "is_open", property(lambda self: True))
    bench = BenchPanel(station_window.probe)
    assert bench.operator.isReadOnly() and bench.operator.text() == ""
    assert bench.held_back() == "sign in to weld (this station signs every weld)"
    bench.ask = lambda title, prompt: ("quinn", password("quinn"))  # type: ignore[method-assign]
    assert not bench.sign_in() and "quinn may not weld" in bench.electrode.text()
    bench.ask = lambda title, prompt: ("ana", password("ana"))  # type: ignore[method-assign]
    assert bench.sign_in() and bench.who() == "ana" and bench.held_back() == ""


def test_a_stale_window_is_shown_with_its_reason_and_welds_nothing(
    qtbot: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tomllib.loads((REPO / "configs/windows/tc_inverter_cu100_pb200.toml").read_text())

    data = tomllib.loads((REPO / "configs/windows/tc_inverter_cu100_pb200.toml").read_text())
    data["schedule_hash"] = "0123456789abcdef"  # taught for another version of the schedule
    stale = tmp_path / "stale.toml"
    stale.write_text(tomli_w.dumps(data))
    monkeypatch.setattr(StationBridge, "start", lambda self: None)
    monkeypatch.setattr(StationBridge, "is_open", property(lambda self: True))
    make, probe = session_maker("sim", None, str(stale), str(tmp_path / "qa.sqlite"))
    assert "taught for another version of schedule" in probe.stale
    win = MainWindow(make, probe)
    qtbot.addWidget(win)
    win.weld._opened({"station": "sim", "clock": "paced", "schedule": "s", "window": "w"})
    assert not win.weld.start.isEnabled()
    assert "no production welding: window" in win.weld.message.text()
    assert "stale" in win.weld.window_name.text()
    win.close()
