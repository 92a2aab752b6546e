"""The schedule editor (gui/scheduleeditor.py) on its own, over a probe session (the configs,
no station): every problem shown at one look, and a change signed on a station with
accounts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from controller.qa.log import QaLog
from controller.weld.session import WeldSession
from gui.scheduleeditor import EditorScreen
from tests.helpers.accounts import make_accounts, password
from tests.helpers.paths import REPO

SCHEDULE = REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"


@pytest.fixture
def editor(qtbot: QtBot, tmp_path: Path) -> EditorScreen:
    sched = tmp_path / "schedule.toml"
    shutil.copy(SCHEDULE, sched)
    ed = EditorScreen(WeldSession(schedule=str(sched), qa_log=str(tmp_path / "qa.sqlite")))
    qtbot.addWidget(ed)
    return ed


def _check(ed: EditorScreen, key: str) -> str:
    item = ed.table.item(ed.row_of(key), 2)
    assert item is not None
    return item.text()


def test_every_problem_is_shown_at_once(editor: EditorScreen) -> None:
    # a value of the wrong type used to hide the table's other problems, a cross-field or
    # materials check every field one
    editor.set_value("supply.squeeze_ms", '"abc"')
    editor.set_value("supply.hold_ms", "-1")
    editor.set_value("head.force_n", "true")
    editor.set_value("supply.weld1_voltage_v", "50")
    editor.set_value("process.wire", '"Gold"')
    assert "not a string" in _check(editor, "supply.squeeze_ms")
    assert "greater than or equal to 0" in _check(editor, "supply.hold_ms")
    assert "not a boolean" in _check(editor, "head.force_n")
    assert "more than this supply can give" in _check(editor, "supply.weld1_voltage_v")
    assert "no wires material 'Gold'" in _check(editor, "process.wire")
    assert _check(editor, "supply.weld1_ms") == "ok"
    assert not editor.save_button.isEnabled()


def test_on_a_station_with_accounts_a_change_is_signed_by_an_engineer(
    editor: EditorScreen, tmp_path: Path
) -> None:
    make_accounts("ana", "eve")
    before = editor.path.read_text()
    typed: list[str | None] = []
    editor.ask_password = lambda prompt: typed.pop(0)  # type: ignore[method-assign]
    editor.set_value("supply.hold_ms", "25.0")
    editor.who.setText("ana")
    typed.append(password("ana"))
    assert not editor.save() and "ana may not change schedules" in editor.message.text()
    editor.who.setText("eve")
    typed.append(None)  # the dialog cancelled
    assert not editor.save() and "not signed" in editor.message.text()
    typed.append("not eve's password")
    assert not editor.save() and "wrong name or password" in editor.message.text()
    assert editor.path.read_text() == before
    typed.append(password("eve"))
    assert editor.save(), editor.message.text()
    assert "hold_ms = 25.0" in editor.path.read_text()
    ((_, who, _name, meaning),) = QaLog(tmp_path / "qa.sqlite").signatures("schedule")
    assert (who, meaning) == ("eve", "authored")
