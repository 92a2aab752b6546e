"""Part ids made from a serial pattern: `P-100-{n:04d}` numbers on from the highest number the
QA log already holds for it, so that two runs never log the same part id twice; the day's lot."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

FIELD = re.compile(r"\{n(?::0?(\d+)d)?\}")


def is_pattern(text: str) -> bool:
    """Return True if text holds the serial number's place, {n} or {n:04d}."""
    return FIELD.search(text) is not None


def fill(pattern: str, n: int) -> str:
    """Return the part id of serial number n."""
    return FIELD.sub(lambda m: f"{n:0{m[1] or 1}d}", pattern)


def prefix(pattern: str) -> str:
    """Return the text before the serial number (what every part id of it starts with)."""
    m = FIELD.search(pattern)
    return pattern if m is None else pattern[: m.start()]


def next_serial(pattern: str, taken: Iterable[str]) -> int:
    """Return the first serial number after every one of `pattern` among the taken ids."""
    m = FIELD.search(pattern)
    assert m is not None, "a pattern holds {n}"
    head, tail = pattern[: m.start()], FIELD.sub("", pattern[m.end() :])
    shape = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + r"\Z")
    numbers = [int(g[1]) for t in taken if (g := shape.match(t))]
    return max(numbers, default=0) + 1


def next_part(text: str) -> str:
    """Return the part id after `text` for the operator's field: its trailing number plus
    one, as wide ("part-0009" -> "part-0010"); text without one stays as it is."""
    m = re.search(r"(\d+)\Z", text)
    if m is None:
        return text
    return text[: m.start()] + f"{int(m[1]) + 1:0{len(m[1])}d}"


def day_lot() -> str:
    """Return the lot of welds made without one named: the day's, YYYY-MM-DD (local time: the
    shift's day at the bench)."""
    return date.today().isoformat()
