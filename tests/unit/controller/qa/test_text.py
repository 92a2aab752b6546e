"""Names checked, shown escaped, exported guarded (controller/qa/text.py)."""

from __future__ import annotations

import pytest

from controller.qa.record import WeldIdentity
from controller.qa.text import MAX_NAME, escaped, guarded, identity_problems, name_problem


@pytest.mark.parametrize("good", ["P-100-0001", "Ana Müller", "lot 7/B", "x" * MAX_NAME, "溶接"])
def test_a_printable_name_passes(good: str) -> None:
    assert name_problem(good) == ""


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "is empty"),
        ("x" * (MAX_NAME + 1), f"{MAX_NAME + 1} characters long"),
        ("a\nb", "LINE FEED"),
        ("a\x1b[2J", "ESCAPE"),
        ("a\x00", "NUL"),
        ("a\u2028b", "LINE SEPARATOR"),
        (" P-1", "starts or ends with a space"),
    ],
)
def test_a_name_that_cannot_be_shown_is_refused_saying_why(bad: str, why: str) -> None:
    assert why in name_problem(bad)


def test_identity_problems_name_each_field() -> None:
    who = WeldIdentity(station="s", operator="a\tb", part_id="", lot="L")
    assert identity_problems(who) == [
        "operator holds a character that cannot be shown (TAB, \\t)",
        "part_id is empty",
    ]


def test_escaped_keeps_printable_text_and_escapes_the_rest() -> None:
    assert escaped("Müller") == "Müller"
    assert escaped("a\nb\x1b[0m\r") == "a\\nb\\x1b[0m\\r"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1+2", "@A1", "\tx", "\rx"])
def test_guarded_makes_a_formula_text(cell: str) -> None:
    assert guarded(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["P-1", "", None, -1.5, 3, "a=b"])
def test_guarded_leaves_the_rest(cell: object) -> None:
    assert guarded(cell) == cell
