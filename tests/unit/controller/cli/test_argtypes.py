"""controller/cli/argtypes.py: the QA log is `--qa-log FILE` in every command that uses one; its
former spellings (log --db, teach --log and --audit-log) still work, hidden, saying so."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from controller.cli.main import build_parser
from controller.qa.log import QaLog
from tests.helpers.records import weld_record

FORMER = re.compile(r"(?<![\w-])--(db|log|audit-log)\b")


def _help(command: str) -> str:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return str(sub.choices[command].format_help())  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["run", "dress", "log", "spc", "teach"])
def test_each_command_names_the_qa_log_one_way(command: str) -> None:
    text = _help(command)
    assert "--qa-log FILE" in text
    assert not FORMER.search(text), FORMER.findall(text)


@pytest.mark.parametrize(
    ("argv", "expected", "note"),
    [
        (["log", "--db", "a.sqlite"], {"qa_log": "a.sqlite"}, "--db is deprecated, use --qa-log"),
        (
            ["teach", "--log", "a.sqlite", "--out", "w.toml"],
            {"qa_log": "a.sqlite", "from_log": True, "audit_log": None},
            "--log is deprecated, use --from-log --qa-log",
        ),
        (
            ["teach", "--simulate", "s", "--audit-log", "b.sqlite", "--out", "w.toml"],
            {"qa_log": None, "from_log": False, "audit_log": "b.sqlite"},
            "--audit-log is deprecated, use --qa-log",
        ),
    ],
)
def test_a_former_spelling_means_what_it_meant_and_says_it_is_deprecated(
    argv: list[str], expected: dict[str, object], note: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(argv)
    assert {k: getattr(args, k) for k in expected} == expected
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"microweld {argv[0]}: {note}"


def test_the_new_spellings_need_no_note(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["teach", "--from-log", "--qa-log", "a", "--out", "w"])
    assert (args.from_log, args.qa_log, args.audit_log) == (True, "a", None)
    assert capsys.readouterr().err == ""


def test_scripts_written_with_the_former_spellings_still_run(tmp_path: Path) -> None:
    qa = tmp_path / "qa.sqlite"
    log = QaLog(qa)
    log.record(weld_record(1))
    log.close()
    cli = [sys.executable, "-m", "controller.cli"]
    listed = subprocess.run([*cli, "log", "--db", str(qa)], capture_output=True, text=True)
    assert listed.returncode == 0 and f"1 weld(s) in {qa}" in listed.stdout, listed.stderr
    # teach --log still teaches from that log: weld 99 is looked for there
    taught = subprocess.run(
        [*cli, "teach", "--log", str(qa), "--ids", "99", "--out", str(tmp_path / "w.toml")],
        capture_output=True,
        text=True,
    )
    assert taught.returncode == 2 and f"no weld [99] in {qa}" in taught.stderr, taught.stderr
