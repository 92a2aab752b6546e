"""The yield counters (controller/qa/yields.py, QaLog.verdict_counts): per lot and per shift,
no-weld cycles and foreign welds left out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from controller.qa import yields
from controller.qa.log import QaLog
from tests.helpers.records import weld_record

CET = timezone(timedelta(hours=1))
SHIFTS = ["06:00", "14:00", "22:00"]


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (datetime(2026, 12, 2, 6, 0, tzinfo=CET), datetime(2026, 12, 2, 6, 0, tzinfo=CET)),
        (datetime(2026, 12, 2, 13, 59, tzinfo=CET), datetime(2026, 12, 2, 6, 0, tzinfo=CET)),
        (datetime(2026, 12, 2, 23, 10, tzinfo=CET), datetime(2026, 12, 2, 22, 0, tzinfo=CET)),
        # before the day's first start: the night shift that began yesterday
        (datetime(2026, 12, 2, 3, 0, tzinfo=CET), datetime(2026, 12, 1, 22, 0, tzinfo=CET)),
    ],
)
def test_the_shift_under_way_started_at_its_latest_start(now: datetime, start: datetime) -> None:
    assert yields.shift_start(now, SHIFTS) == start
    assert yields.shift_start(now, list(reversed(SHIFTS))) == start  # in any order


def test_yield_counts_a_lot_and_a_shift_and_leaves_out_no_welds_and_foreign(
    qa_target: str,
) -> None:
    log = QaLog(qa_target)
    log.record_all(
        [
            weld_record(1),
            weld_record(2, verdict="FAIL"),
            weld_record(3, verdict="NO-WELD"),
            weld_record(4, verdict="ABORTED"),
            weld_record(5, lot="L8"),
            weld_record(6, part_id="(unknown)", lot="(unknown)", verdict="ABORTED"),
            weld_record(7, station="bench-2"),
        ]
    )
    lot = yields.of(log.verdict_counts("bench-1", lot="L7"))
    assert lot == yields.Yield(passed=1, failed=1, aborted=1) and lot.made == 3
    assert lot.text() == "1/3 PASS (33.3 %)"
    shift = yields.of(log.verdict_counts("bench-1"))
    assert (shift.passed, shift.made) == (2, 4)
    assert yields.of(log.verdict_counts("bench-1", since="9999")).text() == "no welds yet"
