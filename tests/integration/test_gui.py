"""The operator station, offscreen, against the simulated station (paced, as on the bench)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tomli_w
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from drivers.config.schedule import load_schedule
from gui.app import MainWindow
from gui.main import session_maker
from gui.screens import NAMES, screenshots
from tests.helpers.paths import REPO

SCHEDULE = REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"
WINDOW = REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml"
Open = Callable[..., MainWindow]


@pytest.fixture
def open_station(qtbot: QtBot, tmp_path: Path) -> Iterator[Open]:
    opened: list[MainWindow] = []

    def open_(
        schedule: str | None = None, window: str | None = None, qa_log: str | None = None
    ) -> MainWindow:
        make, probe = session_maker("sim", schedule, window, qa_log or str(tmp_path / "qa.sqlite"))
        win = MainWindow(make, probe)
        qtbot.addWidget(win)
        win.show()
        opened.append(win)
        # the station process starts (the first run may compile the physics)
        qtbot.waitUntil(win.weld.start.isEnabled, timeout=120_000)
        return win

    yield open_
    for win in opened:
        win.close()


def weld(qtbot: QtBot, win: MainWindow) -> str:
    if win.weld.bench.unacknowledged is not None:  # a failed part binned, as the operator would
        win.weld.bench.acknowledge.click()
    with qtbot.waitSignal(win.bridge.weld_finished, timeout=30_000):
        qtbot.mouseClick(win.weld.start, Qt.MouseButton.LeftButton)
    return win.weld.verdict.text()


def test_start_a_weld_from_the_button_and_see_the_verdict(
    qtbot: QtBot, open_station: Open, qa_target: str
) -> None:
    win = open_station(qa_log=qa_target)  # a SQLite file, and a PostgreSQL database
    assert str(win.probe.qa_path) == qa_target
    assert weld(qtbot, win) == "PASS", win.weld.reasons.text()
    assert "every feature within its limits" in win.weld.reasons.text()
    assert win.weld.features["setdown_um"].text() != "—"
    # the live plot drew the weld: the current curve holds its samples
    win.weld.redraw()
    current = win.weld.panel.curves[0][0].getData()[1]
    assert current is not None and current.max() > 300.0  # the cold tip draws ~350 A at first
    (row,) = QaLog(win.probe.qa_path).welds()
    assert row.verdict == "PASS" and row.part_id == "part-0001"
    # History shows it; a click opens its waveforms over the window
    assert win.history.table.rowCount() == 1
    win.history.select_ids([row.id])
    assert win.history.panel.curves[0] and "showing weld(s) 1" in win.history.message.text()
    # the Trends screen has its point
    assert len(win.trends.values) == 1


def test_the_part_id_steps_on_and_a_scanners_enter_welds_the_next(
    qtbot: QtBot, open_station: Open, tmp_path: Path
) -> None:
    win = open_station(qa_log=str(tmp_path / "qa.sqlite"))
    weld(qtbot, win)
    part = win.weld.part
    assert part.text() == "part-0002" and part.hasSelectedText()  # a scan replaces it
    qtbot.keyClicks(part, "SN-4711")  # a barcode scanner types the id, then Enter
    with qtbot.waitSignal(win.bridge.weld_finished, timeout=30_000):
        qtbot.keyClick(part, Qt.Key.Key_Return)
    ids = [r.part_id for r in QaLog(tmp_path / "qa.sqlite").welds()]
    assert ids == ["part-0001", "SN-4711"]
    assert part.text() == "SN-4712"


def test_a_failed_weld_shows_its_reasons(qtbot: QtBot, open_station: Open, tmp_path: Path) -> None:
    # a window whose set-down limit a good weld exceeds: the weld fails for it, with the value
    data = tomllib.loads(WINDOW.read_text())
    data["limits"]["setdown_um"].update(min=20.0, max=30.0)
    tight = tmp_path / "tight.toml"
    tight.write_text(tomli_w.dumps(data))
    win = open_station(window=str(tight))
    assert weld(qtbot, win) == "FAIL", win.weld.reasons.text()
    assert "setdown_um" in win.weld.reasons.text() and "30" in win.weld.reasons.text()
    assert "#c62828" in win.weld.verdict.styleSheet()  # shown in red
    # the next Start waits for the failed part to be binned, and that is recorded
    assert not win.weld.start.isEnabled() and "reject bin" in win.weld.message.text()
    win.weld.bench.acknowledge.click()
    assert win.weld.start.isEnabled()
    assert [s[2] for s in QaLog(win.probe.qa_path).signatures("reject")] == ["part-0001"]


def test_the_estop_aborts_nothing_fires_while_pressed(qtbot: QtBot, open_station: Open) -> None:
    win = open_station()
    win.weld.estop.setChecked(True)
    assert not win.weld.start.isEnabled()
    win.bridge.weld(WeldIdentity())
    qtbot.waitUntil(lambda: "e-stop is pressed" in win.weld.message.text(), timeout=5000)
    win.weld.estop.setChecked(False)
    assert weld(qtbot, win) == "PASS"


def test_a_bad_schedule_value_is_shown_at_its_field(
    qtbot: QtBot, open_station: Open, tmp_path: Path
) -> None:
    sched = tmp_path / "schedule.toml"
    shutil.copy(SCHEDULE, sched)
    win = open_station(schedule=str(sched))
    ed = win.editor
    before = sched.read_text()
    ed.set_value("head.force_n", "-3")
    row = ed.row_of("head.force_n")
    check = ed.table.item(row, 2)
    assert check is not None and "greater than" in check.text()
    assert not ed.save_button.isEnabled()
    assert not ed.save()
    assert sched.read_text() == before  # nothing applied
    # within the schedule's bounds but beyond what the supply's register holds: at its field too
    ed.set_value("head.force_n", "12.0")
    ed.set_value("supply.hold_ms", "700")
    check = ed.table.item(ed.row_of("supply.hold_ms"), 2)
    assert check is not None and "register cannot hold it" in check.text(), check.text()
    assert not ed.save_button.isEnabled()
    ed.set_value("supply.hold_ms", "20.0")
    # a good value is saved, with its audit record (old and new)
    ed.set_value("head.force_n", "12.5")
    assert ed.save()
    assert "force_n = 12.5" in sched.read_text()
    trail = QaLog(win.probe.qa_path).audit_trail()
    assert trail and "force_n = 12.0" in trail[-1][4] and "force_n = 12.5" in trail[-1][5]
    # that line alone changed: the calibration notes stay, no default was added
    changed = [
        (a, b)
        for a, b in zip(before.splitlines(), sched.read_text().splitlines(), strict=True)
        if a != b
    ]
    assert [b.split("#")[0].strip() for _, b in changed] == ["force_n = 12.5"], changed
    assert "the Weld screen offers to open the station with it" in ed.message.text()
    assert not win.weld.reopen.isHidden()  # the session welds with the old one until then


def test_screenshots_of_every_screen(qtbot: QtBot, open_station: Open, tmp_path: Path) -> None:
    win = open_station()
    paths = screenshots(win, tmp_path / "screens", welds=2)
    assert [p.stem for p in paths] == list(NAMES)
    # the window takes its screen (offscreen: 800x800, less than the layout's ~1070 px minimum
    # width, and the grab is cut near the screen); the operators' screens: tests/unit/gui
    for p in paths:
        img = QImage(str(p))
        assert img.width() >= 800 and img.height() >= 700, p


def test_teach_a_window_from_selected_welds(
    qtbot: QtBot, open_station: Open, tmp_path: Path
) -> None:
    # ten welds logged by `microweld run` on the same QA log, then taught from in History
    run = subprocess.run(
        [sys.executable, "-m", "controller.cli", "run", "--count", "10", "--qa-log",
         str(tmp_path / "qa.sqlite"), "--png", str(tmp_path / "l.png")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    win = open_station()
    win.history.refresh()
    win.history.select_ids(list(range(1, 11)))
    window = win.history.teach_selected()
    assert window is not None and window.taught_from == 10, win.history.message.text()
    # it opens in the editor for review: every field valid, not yet saved anywhere
    assert win.tabs.currentWidget() is win.editor
    assert win.editor.kind == "window" and win.editor.check()
    assert "review it, then Save" in win.editor.message.text()
    win.history.select_ids([1, 2])
    assert win.history.teach_selected() is None
    assert "teaching needs at least 10" in win.history.message.text()


def test_closing_mid_weld_loses_nothing(qtbot: QtBot, open_station: Open, tmp_path: Path) -> None:
    # a squeeze and a hold of 0.6 s each (the registers' most is 655 ms): the close lands
    # mid-cycle even when a loaded machine shows the state late. With the shipped 5 and 20 ms
    # the paced cycle is over in a few hundred ms, and a loaded run closed after it (PASS,
    # logged, but not the path under test).
    data = tomllib.loads(SCHEDULE.read_text())
    data["supply"].update(squeeze_ms=600.0, hold_ms=600.0)
    sched = tmp_path / "long_hold.toml"
    sched.write_text(tomli_w.dumps(data))
    window = tomllib.loads(WINDOW.read_text())
    window["schedule_hash"] = load_schedule(sched).digest()  # the same window, for this version
    win_file = tmp_path / "window.toml"
    win_file.write_text(tomli_w.dumps(window))
    win = open_station(schedule=str(sched), window=str(win_file))
    states: list[str] = []
    win.bridge.state_changed.connect(states.append)
    qtbot.mouseClick(win.weld.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "weld" in states, timeout=10_000)  # fired: 1.2 s of cycle to go
    win.close()  # the running weld is stopped and its record committed before the window goes
    assert not win.bridge.process.is_alive()
    (row,) = QaLog(tmp_path / "qa.sqlite").welds()
    assert row.verdict == "ABORTED" and row.reasons == ["fault: stopped by the operator"]


def test_export_selected_welds(qtbot: QtBot, open_station: Open, tmp_path: Path) -> None:
    win = open_station()
    weld(qtbot, win)
    win.history.select_ids([1])
    files = win.history.export(tmp_path / "out")
    assert (tmp_path / "out" / "features.csv").read_text().count("\n") == 2  # header + 1 weld
    assert len(files) == 2 and files[1].suffix == ".npz"


def test_a_recipe_chosen_on_the_weld_screen_welds_with_its_own_window(
    qtbot: QtBot, open_station: Open, tmp_path: Path
) -> None:
    win = open_station()
    assert weld(qtbot, win) == "PASS"
    assert win.open_recipe("tc_cd_cu100_pb200") == ""
    qtbot.waitUntil(win.weld.start.isEnabled, timeout=120_000)  # the station opened again
    assert weld(qtbot, win) == "PASS", win.weld.message.text() + win.weld.reasons.text()
    first, second = QaLog(tmp_path / "qa.sqlite").welds()
    assert (first.schedule, second.schedule) == ("tc_inverter_cu100_pb200", "tc_cd_cu100_pb200")
    assert second.window == "tc_cd_cu100_pb200" and second.part_id == "part-0002"
