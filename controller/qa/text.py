"""Text from people, on its way into the log and out of it: names are checked before a weld is
logged under them, shown with their control characters escaped, and exported to CSV so that a
spreadsheet never runs one as a formula.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any

MAX_NAME = 64  # characters of a part id, an operator, a lot or a station name
# what a spreadsheet takes for the start of a formula (OWASP's list for CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# the control characters Unicode gives no name (unicodedata.name knows none of C0's)
CONTROL_NAMES = {
    "\0": "NUL",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}


def name_problem(value: str) -> str:
    """Return why value cannot be a name on a record ("" if it can): printable, not empty,
    at most MAX_NAME characters, no space at either end."""
    if not value:
        return "is empty"
    if len(value) > MAX_NAME:
        return f"is {len(value)} characters long (at most {MAX_NAME})"
    bad = next((c for c in value if not c.isprintable()), None)
    if bad is not None:
        what = CONTROL_NAMES.get(bad) or unicodedata.name(bad, f"U+{ord(bad):04X}")
        return f"holds a character that cannot be shown ({what}, {escaped(bad)})"
    if value != value.strip():
        return "starts or ends with a space"
    return ""


def identity_problems(who: Any) -> list[str]:
    """Return "field: why" for each name of a WeldIdentity (or record) that cannot be logged."""
    return [
        f"{f.name} {why}"
        for f in dataclasses.fields(who)
        if f.name in ("station", "operator", "part_id", "lot")
        and (why := name_problem(getattr(who, f.name)))
    ]


def escaped(text: str) -> str:
    """Return text fit for a terminal: every character that is not printable as its escape
    (a newline as \\n, ESC as \\x1b), so no name can forge a line or drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def guarded(cell: Any) -> Any:
    """Return a CSV cell a spreadsheet shows as text: one starting as a formula gets a
    leading apostrophe (numbers are left alone, their minus sign included)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell
