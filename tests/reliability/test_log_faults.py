"""A QA log that cannot hold the weld stops the session before the weld fires: the file deleted
or replaced under a running session, too little free space, a damaged page, an empty or foreign
file. A record that fails to commit after all (the database full) stops the session with the
real reason, and the next weld is not fired.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

import controller.qa.stores
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.session import SessionError, WeldSession
from tests.helpers.records import weld_record
from tests.reliability.battery import Record


def _fires(session: WeldSession) -> int:
    assert session.bench is not None
    return int(session.bench.supply.weld_count)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_log_deleted_or_replaced_under_a_session_stops_it_before_the_weld(
    tmp_path: Path, record: Record, how: str
) -> None:
    qa = tmp_path / "qa.sqlite"
    with WeldSession("sim", qa_log=str(qa)) as session:
        session.weld(WeldIdentity(part_id="P-1"))
        fired = _fires(session)
        if how == "deleted":
            qa.unlink()
        else:
            other = tmp_path / "other.sqlite"
            QaLog(other).close()
            os.replace(other, qa)
        with pytest.raises(SessionError, match=f"was {how}"):
            session.weld(WeldIdentity(part_id="P-2"))
        assert _fires(session) == fired
    record.cases = record.faults = 1


def test_too_little_free_space_stops_the_session_before_the_weld(
    tmp_path: Path, record: Record, monkeypatch: pytest.MonkeyPatch
) -> None:
    qa = tmp_path / "qa.sqlite"
    usage = namedtuple("usage", "total used free")
    with WeldSession("sim", qa_log=str(qa)) as session:
        session.weld(WeldIdentity(part_id="P-1"))
        fired = _fires(session)
        monkeypatch.setattr(
            controller.qa.stores.shutil, "disk_usage", lambda _p: usage(10**9, 10**9, 10**6)
        )
        with pytest.raises(SessionError, match=r"1\.0 MB free"):
            session.weld(WeldIdentity(part_id="P-2"))
        assert _fires(session) == fired
    record.cases = record.faults = 1


def test_a_full_database_gives_its_reason_and_stops_the_session(
    tmp_path: Path, record: Record
) -> None:
    qa = tmp_path / "qa.sqlite"
    with WeldSession("sim", qa_log=str(qa)) as session:
        session.weld(WeldIdentity(part_id="P-1"))
        assert session.log is not None
        # SQLite's own limit, reached as a full disk is: SQLITE_FULL at the next record
        pages = session.log.db.execute("PRAGMA page_count").fetchone()[0]
        session.log.db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(SessionError) as info:
            session.weld(WeldIdentity(part_id="P-2"))
    record.cases = record.faults = 1
    said = str(info.value)
    assert "full" in said and "cannot rollback" not in said and "welding stopped" in said, said


def _damaged_index(tmp_path: Path) -> Path:
    qa = tmp_path / "qa.sqlite"
    log = QaLog(qa)
    log.record_all([weld_record(k, station="sim") for k in range(1, 40)])
    log.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = log.db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'welds_t'").fetchone()
    size = log.db.execute("PRAGMA page_size").fetchone()[0]
    log.close()
    with qa.open("r+b") as f:  # the index's root page, its header and cells scrambled
        f.seek((page[0] - 1) * size)
        f.write(bytes(range(256)) * (size // 256))
    return qa


def test_a_damaged_log_is_found_before_the_first_weld(tmp_path: Path, record: Record) -> None:
    qa = _damaged_index(tmp_path)
    session = WeldSession("sim", qa_log=str(qa))
    with pytest.raises(SessionError, match="is damaged"):
        session.open()
    assert session.bench is None
    record.cases = record.faults = 1


def test_log_verify_reports_a_damaged_database(tmp_path: Path) -> None:
    qa = _damaged_index(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "log", "--qa-log", str(qa), "--verify"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 1 and "damaged" in done.stderr, done.stdout + done.stderr


def test_an_empty_or_foreign_file_is_refused_as_a_log(tmp_path: Path, record: Record) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    foreign = tmp_path / "foreign.sqlite"
    other = sqlite3.connect(foreign)
    other.execute("CREATE TABLE inventory (item TEXT)")
    other.commit()
    other.close()
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all, but long enough to be read as one " * 20)
    for path, said in ((empty, "is empty"), (foreign, "not a QA log"), (text, "not a QA log")):
        session = WeldSession("sim", qa_log=str(path))
        with pytest.raises(SessionError, match=said):
            session.open()
    assert empty.stat().st_size == 0
    assert sqlite3.connect(foreign).execute("SELECT name FROM sqlite_master").fetchall() == [
        ("inventory",)
    ]
    record.cases = record.faults = 3
