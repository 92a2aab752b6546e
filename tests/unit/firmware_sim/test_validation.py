"""Every validation check holds, and docs/VALIDATION.md shows the table the checks give."""

from __future__ import annotations

import math
import re

import pytest

from firmware_sim import validation
from firmware_sim.validation import Reference, Row
from tests.helpers.paths import REPO

DOC = REPO / "docs" / "VALIDATION.md"
TABLE = re.compile(r"<!-- validate: begin -->\n(.*?)<!-- validate: end -->", re.S)


def test_a_reference_holds_a_value_within_its_tolerance_or_a_range() -> None:
    cui = Reference(value=1.1723, tol_pct=10.0)
    assert cui.holds(1.06) and cui.holds(1.289) and not cui.holds(1.05)
    assert Reference(lo=350.0, hi=500.0).holds(420.0)
    assert not Reference(lo=350.0, hi=500.0).holds(675.0)
    assert not Reference(hi=10.0).holds(10.5)
    assert Reference(lo=-1.0, hi=1.0).text("%") == "within ±1 %"
    assert Reference(hi=10.0).text("ms") == "≤ 10 ms"
    row = Row("x", "src", "N", 0.98, cui)
    assert not row.holds and row.cells()[3] == "**no**"
    assert math.isinf(Reference().lo)


@pytest.fixture(scope="module")
def table() -> list[Row]:
    return validation.rows()


@pytest.mark.parametrize("name", list(validation.CHECKS))
def test_check_holds(table: list[Row], name: str) -> None:
    row = table[list(validation.CHECKS).index(name)]
    assert row.holds, f"{row.name}: {row.simulated:.4g} {row.unit} against {row.reference}"


def test_the_doc_shows_the_table_the_checks_give(table: list[Row]) -> None:
    found = TABLE.search(DOC.read_text(encoding="utf-8"))
    assert found, f"{DOC} has no <!-- validate: begin --> ... <!-- validate: end --> block"
    assert found.group(1) == validation.markdown(table), (
        "docs/VALIDATION.md is stale: paste `microweld validate --markdown` between its markers"
    )
