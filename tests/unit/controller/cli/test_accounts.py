"""`microweld user` and `microweld release` (controller/cli/accounts.py): accounts made and
signed by QA, a lot's release signed, each in the QA log's audit trail."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from controller.cli.main import main
from controller.qa import accounts
from controller.qa.log import QaLog
from tests.helpers.records import weld_record

QUINN, ANA = "quinn's password 1", "ana's password 12"


def _cli(monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))  # not a terminal: lines are read
    return main(list(argv))


@pytest.fixture
def qa(tmp_path: Path) -> Path:
    return tmp_path / "qa.sqlite"


def test_accounts_are_made_and_signed_by_qa(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], qa: Path
) -> None:
    log = ("--qa-log", str(qa))
    assert _cli(monkeypatch, ANA + "\n", "user", "ana", "--role", "operator", *log) == 2
    assert "first account holds the qa role" in capsys.readouterr().err
    assert _cli(monkeypatch, QUINN + "\n", "user", "quinn", "--role", "qa", *log) == 0
    # from now on a change is signed by a qa account: its password first, then the new one
    assert _cli(monkeypatch, ANA + "\n", "user", "ana", "--role", "operator", *log) == 2
    assert "give --by NAME" in capsys.readouterr().err
    argv = ("user", "ana", "--role", "operator", "--by", "quinn", *log)
    assert _cli(monkeypatch, f"wrong password\n{ANA}\n", *argv) == 2
    assert "wrong name or password for quinn" in capsys.readouterr().err
    assert _cli(monkeypatch, f"{QUINN}\n{ANA}\n", *argv) == 0
    assert accounts.sign_in("ana", ANA, "weld").name == "ana"
    trail = QaLog(qa).signatures("account")
    assert [(who, name, meaning) for _, who, name, meaning in trail] == [
        ("quinn", "quinn", "account changed"),
        ("quinn", "ana", "account changed"),
    ]
    old_new = [e[4:] for e in QaLog(qa).audit_trail()]
    assert old_new == [("(no account)", "qa"), ("(no account)", "operator")]


def test_a_lot_is_released_by_qa_only_and_recorded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], qa: Path
) -> None:
    log = QaLog(qa)
    log.record(weld_record(1))
    log.record(weld_record(2, verdict="FAIL"))
    log.record(weld_record(3, lot="L8"))
    log.close()
    argv = ("release", "--lot", "L7", "--qa-log", str(qa), "--by", "quinn")
    assert _cli(monkeypatch, "", *argv) == 2
    assert "no accounts yet" in capsys.readouterr().err
    accounts.set_account("quinn", QUINN, ("qa",))
    accounts.set_account("ana", ANA, ("operator",))
    assert _cli(monkeypatch, ANA + "\n", *argv[:-1], "ana") == 2
    assert "ana may not release a lot" in capsys.readouterr().err
    assert _cli(monkeypatch, QUINN + "\n", *argv[:2], "L9", *argv[3:]) == 2
    assert "no welds of lot L9" in capsys.readouterr().err
    assert _cli(monkeypatch, QUINN + "\n", *argv) == 0
    out = capsys.readouterr().out
    assert "lot L7: 2 welds, log ids 1-2: 1 FAIL, 1 PASS" in out and "released by quinn" in out
    ((_, who, lot, meaning),) = QaLog(qa).signatures("release")
    assert (who, lot, meaning) == ("quinn", "L7", "approved for release")
    assert _cli(monkeypatch, QUINN + "\n", *argv) == 0  # again: the first is shown
    assert "already signed by quinn" in capsys.readouterr().out
    assert QaLog(qa).verify() == []
