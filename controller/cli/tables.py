"""Tables a command prints, with rich: aligned and coloured on a terminal; one row a line, no
colour, never cut anywhere else (a pipe, a file, the tests), so a program can still read them.

Every cell is a rich Text, never a string rich would read: a reason may quote a name a person
typed, and `[red]` or `:warning:` in it must stay what was typed (its control characters are
escaped before, by controller/qa/text.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

# the verdict table of `run`: heading, alignment
VERDICT_COLUMNS = (
    ("#", "right"),
    ("log id", "right"),
    ("verdict", "left"),
    ("energy J", "right"),
    ("set-down µm", "right"),
    ("burn ms", "right"),
    ("reasons", "left"),
)
VERDICT_STYLES = {"PASS": "green", "FAIL": "bold red", "ABORTED": "bold red", "NO-WELD": "dim"}
# past the widest row a table can have: off a terminal, a row is never folded into two lines
UNFOLDED = 10_000


def verdict_table(rows: Iterable[Sequence[str]]) -> Table:
    """Return the table of welds whose cells are rows (as VERDICT_COLUMNS), verdicts coloured."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for heading, justify in VERDICT_COLUMNS:
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        cells = [Text(cell) for cell in row]
        cells[2].stylize(VERDICT_STYLES.get(row[2], ""))
        table.add_row(*cells)
    return table


def print_table(table: Table) -> None:
    """Print table on stdout: folded to the terminal's width, else one row a line."""
    width = None if sys.stdout.isatty() else UNFOLDED
    Console(markup=False, highlight=False, emoji=False, width=width).print(table)
