"""The simulator held to published data and to closed forms: each check of docs/VALIDATION.md.

`table` holds what a check is (a source and a reference: a value within a tolerance, a range);
`closed` (closed forms and invariants), `supplies` and `process` register the checks, in the
table's order; `plots` draws them. `microweld validate` prints the table;
tests/unit/firmware_sim/test_validation.py holds every check and docs/VALIDATION.md to it.
"""

from firmware_sim.validation.table import CHECKS, HEADER, Reference, Row, markdown, rows

# isort: off
# they register their checks on import, in the table's order
from firmware_sim.validation import closed  # noqa: F401
from firmware_sim.validation import supplies  # noqa: F401
from firmware_sim.validation import process  # noqa: F401

# isort: on

__all__ = ["CHECKS", "HEADER", "Reference", "Row", "markdown", "rows"]
