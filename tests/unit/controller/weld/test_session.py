"""Taking a station over (crash during logging): the supply's weld counter against the
QA log, the welds a killed controller fired but never logged, and the log's side of it.

The pure decision (counter_gap) and the QA log are tested here, the log's side on both backends
(a SQLite file and a PostgreSQL database: the `qa_target` fixture); the whole of it, through a
real station and real kills, is tests/reliability/test_crash_logging.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from controller.qa.log import QaLog
from controller.qa.record import WeldRecord
from controller.weld.bench import Bench
from controller.weld.session import (
    HEARTBEAT_LOST,
    CounterGap,
    SessionError,
    WeldSession,
    counter_gap,
)
from tests.helpers.qa import backend, count_welds, integrity_error
from tests.helpers.records import weld_record


def rec(count: int | None, station: str = "bench-9", verdict: str = "PASS") -> WeldRecord:
    """A weld of the station with this supply weld count (None: no fire counted)."""
    # a schedule and a window of their own: not those of the sessions opened here
    return weld_record(
        0,
        verdict,
        station=station,
        part_id=f"P{count}",
        electrode_count=1,
        supply_weld_count=count,
        schedule="s",
        schedule_hash="h",
        window="w",
        window_hash="wh",
    )


# --- the decision ---------------------------------------------------------------------------


def test_a_counter_level_with_the_log_misses_nothing() -> None:
    assert counter_gap(41, 41) == CounterGap(range(0), behind=False)


def test_a_counter_ahead_of_the_log_names_each_missing_weld() -> None:
    assert list(counter_gap(41, 42).missing) == [42]  # one fired, never committed
    assert list(counter_gap(41, 44).missing) == [42, 43, 44]
    assert not counter_gap(41, 44).behind


def test_a_counter_behind_the_log_is_a_replaced_or_reset_supply() -> None:
    gap = counter_gap(41, 3)
    assert gap.behind and list(gap.missing) == []
    assert counter_gap(41, 0).behind


def test_a_log_that_never_saw_the_counter_has_nothing_to_reconcile() -> None:
    # a supply that welded 5,000 times before this log existed: not 5,000 missing records
    assert counter_gap(None, 5000) == CounterGap(range(0), behind=False)
    assert counter_gap(None, 0) == CounterGap(range(0), behind=False)


# --- the log's side -------------------------------------------------------------------------


def test_the_last_logged_counter_is_the_stations_latest_counted_weld(qa_target: str) -> None:
    log = QaLog(qa_target)
    assert log.last_supply_weld_count("bench-9") is None
    log.record(rec(7))
    log.record(rec(8))
    log.record(rec(None))  # a weld whose counter could not be read (link lost)
    log.record(rec(500, station="bench-1"))  # another station in the same file
    assert log.last_supply_weld_count("bench-9") == 8
    assert log.last_supply_weld_count("bench-1") == 500


def test_record_all_commits_all_or_none_on_one_chain(qa_target: str) -> None:
    log = QaLog(qa_target)
    assert log.record_all([]) == []
    assert log.record_all([rec(1), rec(2), rec(3)]) == [1, 2, 3]
    with pytest.raises(ValueError, match="verdict"):
        log.record_all([rec(4), rec(5, verdict="MAYBE")])
    assert [r.supply_weld_count for r in log.welds()] == [1, 2, 3]
    assert log.verify() == []
    # committed: another connection sees them
    assert count_welds(qa_target) == 3


def test_the_audit_takes_station_entries_and_only_the_kinds_it_knows(qa_target: str) -> None:
    log = QaLog(qa_target)
    log.audit("controller", "station", "bench-9", "counter 41", "counter 3")
    with pytest.raises(integrity_error(qa_target)):
        log.audit("ana", "firmware", "x", "a", "b")
    assert [(e[1], e[2], e[4], e[5]) for e in log.audit_trail()] == [
        ("controller", "station", "counter 41", "counter 3")
    ]


def test_dressing_starts_the_stations_weld_count_again(qa_target: str) -> None:
    log = QaLog(qa_target)
    log.record_all(
        [
            rec(1),
            rec(2),
            rec(3, verdict="ABORTED"),  # stopped after the pulse: current flowed, the tip wore
            rec(None, verdict="ABORTED"),  # stopped before the pulse: no current
            rec(None, verdict="FAIL"),  # a no-weld cycle: the force cycle without current
            rec(4, station="bench-1"),
        ]
    )
    assert log.welds_since_dressing("bench-9") == 3
    log.dressed("bench-9", "ana")
    log.record(rec(5))
    assert (log.welds_since_dressing("bench-9"), log.welds_since_dressing("bench-1")) == (1, 1)


# SQLite only: logs older than the 'station' kind exist only as files
def test_an_older_log_takes_station_audit_entries_and_keeps_its_trail(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, t_utc TEXT NOT NULL, who TEXT NOT NULL,"
        " kind TEXT NOT NULL CHECK (kind IN ('schedule', 'window')), name TEXT NOT NULL,"
        " old TEXT NOT NULL, new TEXT NOT NULL)"
    )
    db.execute("INSERT INTO audit VALUES (1, 't', 'ana', 'window', 'w', 'a', 'b')")
    db.commit()
    db.close()
    log = QaLog(path)
    log.audit("controller", "station", "bench-9", "counter 41", "counter 3")
    assert [(e[1], e[2]) for e in log.audit_trail()] == [
        ("ana", "window"),
        ("controller", "station"),
    ]
    with pytest.raises(sqlite3.IntegrityError):
        log.audit("ana", "firmware", "x", "a", "b")  # still only the kinds it knows
    log.close()
    QaLog(path).close()  # a second opening leaves the widened table as it is


def test_durability_off_leaves_records_uncommitted_until_a_batch(
    qa_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROWELD_QA_DURABILITY", "off")
    log = QaLog(qa_target)
    if backend(qa_target) == "sqlite":
        assert log.db.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
    else:
        assert log.db.execute("SHOW synchronous_commit").fetchone()[0] == "off"

    def durable() -> int:
        return count_welds(qa_target)

    for k in range(19):
        log.record(rec(k))
    assert durable() == 0  # shown, and not yet in the file
    log.record(rec(19))
    assert durable() == 20  # the batch commits
    log.record(rec(20))
    log.close()
    assert durable() == 21  # and close commits the rest
    monkeypatch.setenv("MICROWELD_QA_DURABILITY", "maybe")
    with pytest.raises(ValueError, match="full or off"):
        QaLog(qa_target)


# --- the session's use of it (stand-in devices: what they answer is all that matters) ------


@dataclass
class Device:
    fault_code: float = 0.0
    weld_count: float = 0.0
    resets: int = field(default=0)

    def reset(self) -> None:
        self.resets += 1
        self.fault_code = 0.0

    def status(self) -> dict[str, bool]:
        return {"homed": True}  # at rest: the take-over has no head to wait for


@dataclass
class StandIn:
    supply: Device
    head: Device
    lockstep: bool = False


def session(tmp_path: Path, qa_target: str, kind: str = "modbus_tcp") -> WeldSession:
    """A session on a station whose config names the log (the sim one: given as an option)."""
    toml = tmp_path / "station.toml"
    if kind == "sim":
        toml.write_text('kind = "sim"\nschedule = "tc_inverter_cu100_pb200"\n')
        return WeldSession(str(toml), qa_log=qa_target)
    toml.write_text(
        'name = "bench-9"\nkind = "modbus_tcp"\nhost = "127.0.0.1"\nstream_port = 5020\n'
        'supply_model = "inverter_supply"\nschedule = "tc_inverter_cu100_pb200"\n'
        f'window = "tc_inverter_cu100_pb200"\nqa_log = "{qa_target}"\n'
    )
    s = WeldSession(str(toml))
    assert str(s.qa_path) == qa_target
    return s


def test_a_schedule_for_the_other_kind_of_supply_is_refused(tmp_path: Path) -> None:
    toml = tmp_path / "station.toml"
    toml.write_text(
        'name = "bench-9"\nkind = "modbus_tcp"\nhost = "127.0.0.1"\nstream_port = 5020\n'
        'supply_model = "inverter_supply"\nschedule = "tc_inverter_cu100_pb200"\n'
        f'qa_log = "{tmp_path / "qa.sqlite"}"\n'
    )
    with pytest.raises(SessionError) as err:
        WeldSession(str(toml), schedule="tc_cd_cu100_pb200")
    assert str(err.value) == (
        "schedule tc_cd_cu100_pb200 is for a cd supply, but station bench-9 has an inverter "
        "supply (supply_model)"
    )


def take_over(s: WeldSession, bench: StandIn, log: QaLog) -> None:
    s._take_over(cast(Bench, bench), log)


def test_opening_logs_each_weld_fired_while_no_controller_logged(
    tmp_path: Path, qa_target: str
) -> None:
    s = session(tmp_path, qa_target)
    log = QaLog(s.qa_path)
    log.record(rec(41))
    take_over(s, StandIn(Device(weld_count=43), Device()), log)
    rows = log.welds()
    assert [(r.supply_weld_count, r.verdict) for r in rows] == [
        (41, "PASS"),
        (42, "ABORTED"),
        (43, "ABORTED"),
    ]
    new = rows[-1]
    assert new.reasons == ["fired while the controller was down (weld count 43): no verdict"]
    # what the controller that fired them was welding (its last record), not this session's
    assert (new.schedule, new.schedule_hash, new.window, new.window_hash) == ("s", "h", "w", "wh")
    assert s.schedule.name != "s"
    assert [r.electrode_count for r in rows[1:]] == [2, 3]  # each fire wore the tip
    assert log.waveform(new.id).shape == (0, 4)
    assert log.verify() == []
    # opened again: nothing more is missing
    take_over(s, StandIn(Device(weld_count=43), Device()), log)
    assert len(log.welds()) == 3


def test_a_counter_behind_the_log_is_audited_not_logged_as_welds(
    tmp_path: Path, qa_target: str
) -> None:
    s = session(tmp_path, qa_target)
    log = QaLog(s.qa_path)
    log.record(rec(41))
    take_over(s, StandIn(Device(weld_count=2), Device()), log)
    assert len(log.welds()) == 1
    ((_, who, kind, name, old, new),) = log.audit_trail()
    assert (who, kind, name) == ("controller", "station", "bench-9")
    assert old == "supply weld counter 41 (the last logged)"
    assert new.startswith("supply weld counter 2 at opening: the supply was replaced")


def test_the_embedded_simulator_is_not_reconciled(tmp_path: Path, qa_target: str) -> None:
    # it starts at 0 with every session: a log full of its earlier welds is not "behind"
    s = session(tmp_path, qa_target, kind="sim")
    log = QaLog(s.qa_path)
    log.record(rec(41, station="sim"))
    take_over(s, StandIn(Device(weld_count=0), Device()), log)
    assert len(log.welds()) == 1 and log.audit_trail() == []


def test_only_a_heartbeat_fault_is_cleared_on_opening(tmp_path: Path) -> None:
    s = session(tmp_path, str(tmp_path / "qa.sqlite"))
    log = QaLog(s.qa_path)
    bench = StandIn(Device(fault_code=HEARTBEAT_LOST), Device(fault_code=8))  # servo fault
    take_over(s, bench, log)
    assert (bench.supply.resets, bench.head.resets) == (1, 0)
    assert bench.head.fault_code == 8  # the operator's to look at
