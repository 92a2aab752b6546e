"""controller/cli/reliability.py: the battery's table, and each test's notes under it."""

from __future__ import annotations

from controller.cli.reliability import table


def test_the_table_has_a_row_per_test_and_their_notes_below() -> None:
    rows = [
        {
            "test": "test_a",
            "cases": 10_000,
            "faults": 3,
            "failures": 0,
            "worst_ms": None,
            "seconds": 1.25,
            "outcome": "passed",
            "notes": ["200.1 MB at weld 50, 201.0 MB at the last"],
        },
        {
            "test": "test_bb",
            "cases": 1,
            "faults": 0,
            "failures": 1,
            "worst_ms": 2.75,
            "seconds": 0.5,
            "outcome": "failed",
            "notes": [],
        },
    ]
    lines = table(rows).splitlines()
    assert lines[0].split() == ["test", "cases", "faults", "failures", "worst", "ms", "s", "result"]
    assert lines[2].split() == ["test_a", "10,000", "3", "0", "—", "1.2", "passed"]
    assert lines[3].split() == ["test_bb", "1", "0", "1", "2.8", "0.5", "failed"]
    assert lines[4:] == ["", "notes:", "  test_a: 200.1 MB at weld 50, 201.0 MB at the last"]
