"""Signed entries of the audit trail (what a signature means, 21 CFR 11.50), the kinds a log
made before them is widened to, and the welds logged of a part (the duplicate-part check).
Both backends (the `qa_target` fixture)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from controller.qa import chain, seal
from controller.qa.log import QaLog
from tests.helpers.qa import integrity_error
from tests.helpers.records import weld_record


def test_a_signature_keeps_its_meaning_and_its_seal_covers_it(qa_target: str) -> None:
    log = QaLog(qa_target)
    log.audit("quinn", "release", "L7", "", "3 welds: 3 PASS", "approved for release")
    log.audit("ana", "re-weld", "P-1", "log id 4 FAIL", "welded again at bench-1", "re-weld chosen")
    assert [(w, n, m) for _, w, n, m in log.signatures("release")] == [
        ("quinn", "L7", "approved for release")
    ]
    assert log.signatures("re-weld", "P-2") == []
    assert log.verify() == []
    log.db.execute("UPDATE audit SET meaning = 'reviewed' WHERE kind = 'release'")
    assert log.verify() == ["audit entry 1: content does not match its hash (edited?)"]


def test_an_entry_sealed_before_meanings_still_verifies(qa_target: str) -> None:
    log = QaLog(qa_target)
    log.audit("ana", "window", "w", "a", "b")
    # an entry as the code before meanings sealed it: six values, the meaning NULL
    now, values = "2026-01-01T00:00:00+00:00", ("ana", "schedule", "s", "x", "y")
    prev = log.db.execute("SELECT row_hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()[0]
    body = json.dumps([prev, now, *values], separators=(",", ":")).encode()
    mark = "?" if isinstance(log.path, Path) else "%s"
    log.db.execute(
        "INSERT INTO audit (t_utc, who, kind, name, old, new, prev_hash, row_hash, key_id)"
        f" VALUES ({', '.join([mark] * 9)})",
        (now, *values, prev, seal.mac(log.key, body), log.key_id),
    )
    assert not [p for p in log.verify() if p.startswith("audit entry")]
    assert log.signatures("schedule") == [(now, "ana", "s", "")]
    assert chain.event_body(prev, (now, *values, None)) == body


def test_the_audit_takes_the_signed_kinds_and_only_the_kinds_it_knows(qa_target: str) -> None:
    log = QaLog(qa_target)
    for kind in ("re-weld", "reject", "release", "account"):
        log.audit("quinn", kind, "x", "", "y", "approved")
    with pytest.raises(integrity_error(qa_target)):
        log.audit("ana", "firmware", "x", "a", "b")


# SQLite only: logs older than the signed kinds exist only as files
def test_a_sealed_log_from_before_the_signed_kinds_is_widened_and_verifies(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    log = QaLog(path)
    log.audit("ana", "window", "w", "a", "b")
    log.record(weld_record(1))
    log.close()
    db = sqlite3.connect(path)  # back to the CHECK of the log before: three kinds
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'audit'").fetchone()[0]
    signed = ", 're-weld', 'reject', 'release', 'account'"
    older = sql.replace(signed, "").replace("audit", "audit_old", 1)
    assert older != sql
    db.executescript(
        f"{older}; INSERT INTO audit_old SELECT * FROM audit; DROP TABLE audit;"
        " ALTER TABLE audit_old RENAME TO audit;"
    )
    db.close()
    log = QaLog(path)
    log.audit("quinn", "release", "L7", "", "1 weld", "approved for release")
    assert [e[2] for e in log.audit_trail()] == ["window", "release"]
    assert log.verify() == []
    log.close()


def test_the_welds_of_a_part_leave_out_no_weld_cycles(qa_target: str) -> None:
    log = QaLog(qa_target)
    log.record(weld_record(1, part_id="P-1", verdict="NO-WELD"))
    assert log.part_welds("P-1") == []
    log.record(weld_record(2, part_id="P-1", verdict="FAIL"))
    log.record(weld_record(3, part_id="P-10"))
    log.record(weld_record(4, part_id="P-1", station="bench-2"))
    assert log.part_welds("P-1") == [(2, "FAIL"), (4, "PASS")]
