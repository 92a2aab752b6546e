"""controller/qa/times.py: the instants people type, as the log's UTC text (ordered as time)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controller.qa.times import parse_instant, stored

NOW = datetime(2026, 12, 2, 9, 30, 15, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-23", "2026-11-23T00:00:00.000000+00:00"),
        ("2026-11-23T08:00", "2026-11-23T08:00:00.000000+00:00"),
        ("2026-11-23T08:00+01:00", "2026-11-23T07:00:00.000000+00:00"),  # the offset counts
        ("2026-11-23T08:00:00Z", "2026-11-23T08:00:00.000000+00:00"),
        ("today", "2026-12-02T00:00:00.000000+00:00"),
        ("Yesterday", "2026-12-01T00:00:00.000000+00:00"),
        ("now", "2026-12-02T09:30:15.250000+00:00"),
        ("2h", "2026-12-02T07:30:15.250000+00:00"),
        ("30m", "2026-12-02T09:00:15.250000+00:00"),
        ("7d", "2026-11-25T09:30:15.250000+00:00"),
    ],
)
def test_instants_people_give_are_the_logs_utc_text(text: str, utc: str) -> None:
    assert parse_instant(text, NOW) == utc


@pytest.mark.parametrize("text", ["garbage", "2026-13-01", "last tuesday", "-2h", ""])
def test_anything_else_is_refused_saying_what_is_taken(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time: give ISO 8601"):
        parse_instant(text, NOW)


def test_the_text_sorts_as_time_does() -> None:
    a = stored(datetime(2026, 1, 1, 23, 0, tzinfo=UTC))
    b = parse_instant("2026-01-02T00:30+01:00", NOW)  # 23:30 UTC on the 1st
    assert a < b
