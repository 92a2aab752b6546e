"""drivers/config/tomledit.py: a changed value changes that value, nothing else."""

from __future__ import annotations

import tomllib

from drivers.config.tomledit import edited
from tests.helpers.paths import TC_INV


def test_one_value_changed_keeps_every_comment_and_adds_no_default() -> None:
    original = TC_INV.read_text(encoding="utf-8")
    data = tomllib.loads(original)
    data["supply"]["hold_ms"] = 25.0
    new = edited(original, data)
    old_lines, new_lines = original.splitlines(), new.splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].startswith("hold_ms = 25.0"), changed
    assert tomllib.loads(new)["supply"]["hold_ms"] == 25.0


def test_a_key_the_file_lacked_goes_into_its_table() -> None:
    original = "# head\n[supply]\nhold_ms = 20.0  # cools\n"
    new = edited(original, {"supply": {"hold_ms": 20.0, "squeeze_ms": 5.0}, "noise": {"seed": 3}})
    assert new.startswith("# head\n[supply]\nhold_ms = 20.0  # cools\n")
    assert tomllib.loads(new) == {
        "supply": {"hold_ms": 20.0, "squeeze_ms": 5.0},
        "noise": {"seed": 3},
    }
