"""Another master on the station's bus: its writes between welds, a second controller that
programs another schedule, and welds it fires between two cycles.

A session holds the devices' leases: another master's writes are refused (its safe commands
excepted), a second controller is refused at opening, and a lease its holder let lapse is
seen before anything fires. On a station without a lease (`no_lease`: firmware without one)
none of it may pass unnoticed either: settings are read back before every ARM (a mismatch is
not fired, and says which register), and every weld the supply counted that no cycle fired is
logged as a foreign weld.

The station is a simulated one in paced clock, reached as hardware is (a modbus_tcp station
file); the foreign master is a plain Modbus TCP client of its own.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.session import SessionError, WeldSession
from controller.weld.simstation import Endpoints, SimControl, sim_station
from drivers.errors import DeviceRefusedError
from drivers.head import ServoForceHead
from drivers.link import tcp_link
from drivers.supply import InverterSupply
from drivers.wire.modbus import DEVICE_BUSY
from tests.helpers.paths import REPO
from tests.helpers.station import station_file
from tests.reliability.battery import Record

SCHEDULE = REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"
OTHER = REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"


@contextmanager
def shared_station(tmp_path: Path, lease: bool = True) -> Iterator[tuple[Endpoints, Path, Path]]:
    """A paced station (one that grants no lease if not `lease`), its station file and the
    QA log's path."""
    db = tmp_path / "qa.sqlite"
    with sim_station(str(SCHEDULE), "--clock", "paced", "--no-rtu") as ends:
        if not lease:
            control = SimControl(ends.control)
            control.faults(no_lease=True)
            control.close()
        toml = station_file(tmp_path / "shared.toml", ends, db, str(SCHEDULE))
        yield ends, toml, db


def _foreign(ends: Endpoints) -> tuple[InverterSupply, ServoForceHead]:
    link = tcp_link(*ends.modbus_tcp, timeout_s=1.0)
    return InverterSupply(link, ends.supply_unit), ServoForceHead(link, ends.head_unit)


def _until(done: object, within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the station did not get there"
        time.sleep(0.01)


def _weld_by_hand(supply: InverterSupply, head: ServoForceHead) -> None:
    """Weld once as another master would: approach, arm, fire, retract."""
    head.heartbeat()
    supply.heartbeat()
    head.approach()
    _until(lambda: head.status().get("at_force"))
    supply.arm()
    supply.fire()
    _until(lambda: supply.status().get("weld_done"))
    head.retract()
    _until(lambda: head.status().get("homed"))


def _refused(write: Callable[[], object]) -> bool:
    try:
        write()
    except DeviceRefusedError as exc:
        return exc.code == DEVICE_BUSY
    return False


def test_a_foreign_masters_writes_are_refused_while_a_session_holds_the_station(
    tmp_path: Path, record: Record
) -> None:
    with shared_station(tmp_path) as (ends, toml, _db):
        control = SimControl(ends.control)
        with WeldSession(str(toml)) as session:
            first = session.weld(WeldIdentity(part_id="P-1"))
            supply, head = _foreign(ends)
            attempts = {
                "supply.hold_ms": lambda: supply.write("hold_ms", 0.0),
                "supply.watchdog_ms": lambda: setattr(supply, "watchdog_ms", 10_000.0),
                "supply.heartbeat": supply.heartbeat,
                "supply.reset": supply.reset,
                "supply.arm": supply.arm,
                "head.fire_at_force_pct": lambda: head.write("fire_at_force_pct", 50.0),
                "head.approach": head.approach,
            }
            taken = [what for what, write in attempts.items() if not _refused(write)]
            seen = supply.read("hold_ms"), head.read("fire_at_force_pct")  # reads stay open
            head.retract()  # anyone may make the station safer
            supply.link.close()
            fires = control.truth()["weld_count"]
            second = session.weld(WeldIdentity(part_id="P-2"))
            after = control.truth()["weld_count"]
        control.close()
    record.cases, record.faults = 2, len(attempts)
    problems = [f"{what} was taken from another master" for what in taken]
    if seen != (20.0, 100.0):
        problems.append(f"the foreign master read hold {seen[0]} ms, fire at {seen[1]} %")
    for res in (first, second):
        if res.result.verdict != "PASS":
            problems.append(f"{res.result.verdict}: {res.result.reasons}")
    if after != fires + 1:
        problems.append(f"weld count {fires} -> {after}: the second weld did not fire once")
    record.failures = len(problems)
    assert problems == []


def test_a_foreign_write_between_welds_is_not_fired(tmp_path: Path, record: Record) -> None:
    with shared_station(tmp_path, lease=False) as (ends, toml, _db):
        control = SimControl(ends.control)
        with WeldSession(str(toml)) as session:
            assert any("grants no lease" in w for w in session.warnings), session.warnings
            first = session.weld(WeldIdentity(part_id="P-1"))
            assert first.result.verdict != "ABORTED", first.result.reasons
            supply, head = _foreign(ends)
            supply.write("hold_ms", 0.0)
            supply.watchdog_ms = 10_000.0
            head.write("fire_at_force_pct", 50.0)
            supply.link.close()
            fires = control.truth()["weld_count"]
            second = session.weld(WeldIdentity(part_id="P-2"))
            time.sleep(0.2)
            after = control.truth()["weld_count"]
        control.close()
    record.cases, record.faults = 1, 3
    reason = "; ".join(second.result.reasons)
    problems = []
    if second.result.verdict != "ABORTED" or "settings changed" not in reason:
        problems.append(f"welded on: {second.result.verdict} {reason}")
    for said in (
        "supply.hold_ms: programmed 20 ms, found 0 ms",
        "supply.watchdog_ms: programmed",
        "head.fire_at_force_pct: programmed",
    ):
        if said not in reason:
            problems.append(f"the reason does not say {said!r}: {reason}")
    if after != fires:
        problems.append(f"fired anyway: weld count {fires} -> {after}")
    record.failures = len(problems)
    assert problems == []


def _second(toml: Path, other: Path, tmp_path: Path) -> WeldSession:
    """A second controller's session on the same station: another schedule, a log of its own
    (no window: a changed copy under the shipped name would find the shipped one stale)."""
    return WeldSession(str(toml), str(other), "none", str(tmp_path / "b.sqlite"))


def _other_schedule(tmp_path: Path) -> Path:
    other = tmp_path / "other.toml"
    other.write_text(
        OTHER.read_text().replace("weld1_voltage_v = 2.1", "weld1_voltage_v = 1.6"),
        encoding="utf-8",
    )
    return other


def test_a_second_controller_is_refused_while_the_first_holds_the_station(
    tmp_path: Path, record: Record
) -> None:
    other = _other_schedule(tmp_path)
    with shared_station(tmp_path) as (ends, toml, _db):
        control = SimControl(ends.control)
        with WeldSession(str(toml)) as first:
            first.weld(WeldIdentity(part_id="A-1"))
            second = _second(toml, other, tmp_path)
            with pytest.raises(SessionError) as refused:
                second.open()
            run = ["run", "--station", str(toml), "--schedule", str(other), "--window", "none"]
            run += ["--count", "1"]
            cli = subprocess.run(
                [sys.executable, "-m", "controller.cli", *run],
                capture_output=True,
                text=True,
                timeout=120,
            )
            fires = control.truth()["weld_count"]
            res = first.weld(WeldIdentity(part_id="A-2"))
            after = control.truth()["weld_count"]
        control.close()
    record.cases, record.faults = 2, 2
    problems = []
    if "is in use" not in str(refused.value) or "held by another master" not in str(refused.value):
        problems.append(f"the second session was refused with: {refused.value}")
    lines = cli.stderr.strip().splitlines()
    if cli.returncode != 2 or len(lines) != 1 or "is in use" not in lines[0]:
        problems.append(f"a second `microweld run`: exit {cli.returncode}, said {cli.stderr!r}")
    if res.result.verdict != "PASS" or after != fires + 1:
        problems.append(f"the first went on: {res.result.verdict} {res.result.reasons}")
    record.failures = len(problems)
    assert problems == []


def test_a_lease_its_holder_let_lapse_is_seen_before_anything_fires(
    tmp_path: Path, record: Record
) -> None:
    other = _other_schedule(tmp_path)
    with shared_station(tmp_path) as (ends, toml, _db):
        control = SimControl(ends.control)
        with WeldSession(str(toml), keep_alive=False) as first:  # (a controller that hangs)
            first.weld(WeldIdentity(part_id="A-1"))
            time.sleep(0.8)  # silent past the station's watchdog (500 ms): the lease lapses
            second = _second(toml, other, tmp_path)
            with second:
                fires = control.truth()["weld_count"]
                with pytest.raises(SessionError) as refused:
                    first.weld(WeldIdentity(part_id="A-2"))
                after = control.truth()["weld_count"]
        control.close()
    record.cases, record.faults = 1, 1
    assert after == fires, "the first controller fired at the second's settings"
    assert "held by another master" in str(refused.value), refused.value


def test_on_a_station_without_a_lease_a_second_controller_is_caught_by_the_read_back(
    tmp_path: Path, record: Record
) -> None:
    other = _other_schedule(tmp_path)
    with shared_station(tmp_path, lease=False) as (_ends, toml, _db):
        first = WeldSession(str(toml))
        second = _second(toml, other, tmp_path)
        with first:
            first.weld(WeldIdentity(part_id="A-1"))
            second.open()  # programs the station with its own schedule
            second.close()
            res = first.weld(WeldIdentity(part_id="A-2"))
    record.cases, record.faults = 1, 1
    reason = "; ".join(res.result.reasons)
    assert res.result.verdict == "ABORTED" and "weld1_voltage_v" in reason, reason


def test_a_weld_fired_by_another_master_between_cycles_is_logged(
    tmp_path: Path, record: Record
) -> None:
    with shared_station(tmp_path, lease=False) as (ends, toml, db):
        control = SimControl(ends.control)
        with WeldSession(str(toml)) as session:
            session.weld(WeldIdentity(part_id="P-1"))
            supply, head = _foreign(ends)
            before = control.truth()["weld_count"]
            _weld_by_hand(supply, head)
            assert control.truth()["weld_count"] == before + 1
            supply.link.close()
            session.weld(WeldIdentity(part_id="P-2"))
            station_count = control.truth()["weld_count"]
        control.close()
    log = QaLog(db)
    welds = log.welds()
    problems = log.verify()
    log.close()
    counts = sorted(w.supply_weld_count for w in welds if w.supply_weld_count is not None)
    foreign = [w for w in welds if any("foreign weld" in r for r in w.reasons)]
    record.cases, record.faults = len(welds), 1
    if counts != list(range(1, station_count + 1)):
        problems.append(f"counts logged {counts}, the station fired {station_count}")
    if len(foreign) != 1 or foreign[0].supply_weld_count != before + 1:
        problems.append(f"foreign records {foreign}")
    record.failures = len(problems)
    assert problems == []
