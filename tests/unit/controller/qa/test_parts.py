"""controller/qa/parts.py: serial part ids that never repeat what the log holds."""

from __future__ import annotations

from controller.qa.parts import fill, is_pattern, next_part, next_serial, prefix


def test_a_pattern_numbers_on_from_the_highest_logged() -> None:
    pattern = "P-100-{n:04d}"
    assert is_pattern(pattern) and not is_pattern("P-100")
    assert prefix(pattern) == "P-100-"
    taken = ["P-100-0001", "P-100-0007", "P-100-0003", "P-1000-0009", "P-100-00x", "Q-100-0010"]
    assert next_serial(pattern, taken) == 8
    assert fill(pattern, 8) == "P-100-0008" and fill("lot{n}-A", 12) == "lot12-A"
    assert next_serial(pattern, []) == 1
    assert next_serial("S{n}-X", ["S9-X", "S10-X", "S11-Y"]) == 11


def test_the_operators_field_steps_its_trailing_number() -> None:
    assert next_part("part-0009") == "part-0010"
    assert next_part("SN99") == "SN100"
    assert next_part("no-number") == "no-number"
