"""controller/cli/tables.py: the verdict table off a terminal is one row a line, and a name a
person typed is shown as typed, never read as rich markup."""

from __future__ import annotations

import pytest

from controller.cli.tables import print_table, verdict_table


def test_markup_in_a_reason_is_shown_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    reason = "part_id [bold red]P-1[/bold red] :warning: \\x1b[2J"  # as text.escaped leaves it
    print_table(verdict_table([("1", "7", "FAIL", "10.000", "50.0", "—", reason)]))
    out = capsys.readouterr().out
    assert reason in out and "\x1b" not in out


def test_off_a_terminal_each_row_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    long = "; ".join(f"reason {k} beyond its limit" for k in range(4))  # past 80 columns
    rows = [(str(k), str(k), "PASS", "10.312", "59.2", "7.04", long) for k in range(1, 4)]
    print_table(verdict_table(rows))
    lines = capsys.readouterr().out.splitlines()
    heading, _rule, *body = lines
    assert heading.split()[:3] == ["#", "log", "id"]
    assert [line.split()[:3] for line in body] == [[str(k), str(k), "PASS"] for k in (1, 2, 3)]
    assert all(line.rstrip().endswith(long) for line in body)
