"""The QA log's chain against someone who can edit the database but not read the station's key
nor its anchor: rows cut off its end, a weld edited and the chain re-hashed forward with the
project's own hash function, the audit trail deleted, a dressing slipped in, and a crash that
loses WAL frames. Each is found by `verify` (and by `microweld log --verify`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from controller.qa.chain import GENESIS, row_hash_of
from controller.qa.log import QaLog
from controller.qa.record import COLUMNS, WeldRecord, fields_of
from tests.helpers.records import weld_record
from tests.reliability.battery import Record

WELDS = 30


def _log(tmp_path: Path) -> Path:
    qa = tmp_path / "qa.sqlite"
    log = QaLog(qa)
    for k in range(1, WELDS + 1):
        log.record(weld_record(k, station="bench-1"))
    log.audit("ana", "window", "w", "", "the window's text")
    log.dressed("bench-1", "ana")
    assert log.verify() == []
    log.close()
    return qa


def _verify(qa: Path) -> list[str]:
    log = QaLog(qa)
    try:
        return log.verify()
    finally:
        log.close()


def _cli_verify(qa: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "controller.cli",
            "log",
            "--qa-log",
            str(qa),
            "--verify",
            "--last",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


def test_rows_cut_off_the_end_are_found(tmp_path: Path, record: Record) -> None:
    qa = _log(tmp_path)
    log = QaLog(qa)
    log.db.execute(f"DELETE FROM welds WHERE id > {WELDS - 5}")
    log.close()
    problems = _verify(qa)
    record.cases = record.faults = 1
    assert any("rows were lost or removed" in p for p in problems), problems
    done = _cli_verify(qa)
    assert done.returncode == 1 and "lost or removed" in done.stderr, done.stderr


def test_an_edit_re_hashed_forward_is_found(tmp_path: Path, record: Record) -> None:
    qa = _log(tmp_path)
    log = QaLog(qa)
    # the forger's tool: the project's own (unkeyed) row hash, the chain recomputed from the
    # edited weld to the end, the key column cleared as a log from before the seal has it
    log.db.execute("UPDATE welds SET verdict = 'PASS', reasons = '[]' WHERE id = 10")
    rows = list(log.db.execute(f"SELECT id, {COLUMNS}, waveform, prev_hash FROM welds ORDER BY id"))
    prev = GENESIS
    for r in rows:
        rec = WeldRecord(**fields_of(r[1:16]), waveform=np.zeros((0, 4)))
        digest = row_hash_of(prev, rec, r[16])
        log.db.execute(
            "UPDATE welds SET prev_hash = ?, row_hash = ?, key_id = NULL WHERE id = ?",
            (prev, digest, r[0]),
        )
        prev = digest
    log.close()
    problems = _verify(qa)
    record.cases = record.faults = 1
    assert any("unsealed" in p for p in problems), problems
    assert any("not the row its anchor recorded" in p for p in problems), problems


def test_the_audit_trail_deleted_and_a_dressing_slipped_in_are_found(
    tmp_path: Path, record: Record
) -> None:
    qa = _log(tmp_path)
    log = QaLog(qa)
    log.db.execute("DELETE FROM audit")
    log.db.execute(
        "INSERT INTO dressings (t_utc, station, who, after_weld_id)"
        " VALUES ('9999-12-31T00:00:00', 'bench-1', 'x', 999999)"
    )
    log.close()
    problems = _verify(qa)
    record.cases, record.faults = 1, 2
    assert any(p.startswith("audit: the log ends at id 0") for p in problems), problems
    assert any(p.startswith("dressing 2: unsealed") for p in problems), problems


def test_wal_frames_lost_in_a_crash_are_found(tmp_path: Path, record: Record) -> None:
    qa = tmp_path / "qa.sqlite"
    # a controller that commits 30 welds and dies before any checkpoint: they are in the WAL
    script = (
        "import os, sys\n"
        "from controller.qa.log import QaLog\n"
        "from tests.helpers.records import weld_record\n"
        f"log = QaLog({str(qa)!r})\n"
        "log.db.execute('PRAGMA wal_autocheckpoint = 0')\n"
        f"for k in range(1, {WELDS + 1}): log.record(weld_record(k, station='bench-1'))\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120, cwd=Path.cwd())
    wal = qa.with_name(qa.name + "-wal")
    data = bytearray(wal.read_bytes())
    data[len(data) // 3] ^= 0x10  # one bit, a third of the way in
    wal.write_bytes(bytes(data))
    log = QaLog(qa)
    kept = len(log.welds())
    problems = log.verify()
    log.close()
    record.cases, record.faults = WELDS, 1
    record.notes.append(f"{kept} of {WELDS} committed welds left after the WAL's recovery")
    assert kept < WELDS
    assert any("rows were lost or removed" in p for p in problems), problems


def test_a_session_opening_a_log_short_of_its_anchor_says_so_and_audits_it(
    tmp_path: Path, record: Record
) -> None:
    from controller.weld.session import WeldSession

    qa = _log(tmp_path)
    log = QaLog(qa)
    log.db.execute(f"DELETE FROM welds WHERE id > {WELDS - 3}")
    log.close()
    session = WeldSession("sim", qa_log=str(qa))
    session.open()
    try:
        warnings = list(session.warnings)
        assert session.log is not None
        trail = session.log.audit_trail()
    finally:
        session.close()
    record.cases = record.faults = 1
    assert len(warnings) == 1 and "lost or removed" in warnings[0], warnings
    assert trail[-1][2:4] == ("station", "sim") and "lost or removed" in trail[-1][5], trail
