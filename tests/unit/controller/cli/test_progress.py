"""controller/cli/progress.py: the bar is live only on a terminal, where the command's lines go
above it and never into it; anywhere else plain lines, as often as asked."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from controller.cli.progress import Progress

CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_off_a_terminal_there_is_no_bar_only_the_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress(3, "welding") as bar:
        for k in range(1, 4):
            bar.line(f"weld {k}/3: log id {k} PASS")
            bar.advance()
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"weld {k}/3: log id {k} PASS" for k in (1, 2, 3)]
    assert err == ""


def test_plain_progress_lines_come_at_most_as_often_as_asked_and_at_the_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Progress(50, "welded", plain_every=3600.0) as bar:
        for _ in range(50):
            bar.advance()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("welded 1/50, ")
    assert lines[1].startswith("welded 50/50, ") and lines[1].endswith(", 0 s left")


def test_on_a_terminal_each_line_is_drawn_above_the_bar_never_in_it() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, markup=False)
    with Progress(3, "welding", console=console) as bar:
        for k in range(1, 4):
            bar.line(f"weld {k}/3: log id {k} [b]PASS[/b]", err=True)
            bar.advance()
            bar._bar.refresh()  # type: ignore[union-attr]  # (as its timer would)
    drawn = CSI.sub("", screen.getvalue())
    assert "━" in drawn and "3/3" in drawn  # the bar, to its end
    for k in range(1, 4):
        # each line begins where the bar was erased (after \r, or a new line), whole
        assert re.search(rf"(^|[\r\n])weld {k}/3: log id {k} \[b\]PASS\[/b\]\r?\n", drawn)
