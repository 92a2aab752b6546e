"""The clock stepped back after a dressing (NTP, a dead RTC battery, an operator): the electrode
is still counted weld by weld, and a session stops at its limit.

The welds' time stamps are an hour earlier than the dressing's, as they are when the clock is
set back an hour after the dressing; the counting must not care.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import controller.qa.record
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.session import SessionError, WeldSession
from tests.helpers.records import weld_record
from tests.helpers.station import sim_station_file
from tests.reliability.battery import Record

LIMIT = 5


class _SteppedBack(datetime):
    """datetime whose now() is an hour behind: the clock set back."""

    @classmethod
    def now(cls, tz: object = None) -> _SteppedBack:  # type: ignore[override]
        return super().now(tz) - timedelta(hours=1)  # type: ignore[arg-type,return-value]


def test_welds_after_a_dressing_count_whatever_their_time_stamps(tmp_path: Path) -> None:
    log = QaLog(tmp_path / "qa.sqlite")
    log.record_all([weld_record(k, station="bench-1") for k in range(1, 4)])
    log.dressed("bench-1", "ana")
    back = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="microseconds")
    log.record_all([weld_record(k, station="bench-1", t_utc=back) for k in range(4, 16)])
    assert log.welds_since_dressing("bench-1") == 12
    log.close()


def test_a_session_stops_at_the_electrode_limit_with_the_clock_set_back(
    tmp_path: Path, record: Record, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = sim_station_file(tmp_path / "short-tip.toml", 3, LIMIT)
    qa = tmp_path / "qa.sqlite"
    log = QaLog(qa)
    log.dressed("short-tip", "ana")
    log.close()
    monkeypatch.setattr(controller.qa.record, "datetime", _SteppedBack)
    made, refused = 0, ""
    with WeldSession(str(station), qa_log=str(qa)) as session:
        for k in range(12):
            try:
                session.weld(WeldIdentity(part_id=f"P{k}"))
            except SessionError as exc:
                refused = str(exc)
                break
            made += 1
    record.cases, record.faults = made, 1
    record.failures = int(made != LIMIT or "electrode limit" not in refused)
    assert (made, "electrode limit" in refused) == (LIMIT, True), (made, refused)
