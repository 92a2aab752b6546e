"""What an older SQLite QA log is brought up to when it is opened: columns added, CHECK
constraints widened (SQLite cannot alter a constraint: the table is copied). Each step looks
again under the write lock, since another process may have done it meanwhile."""

from __future__ import annotations

import re
import sqlite3


def add_column(db: sqlite3.Connection, table: str, column: str, kind: str) -> None:
    """Add a column a log made before it lacks (its old rows hold NULL)."""

    def has() -> bool:
        return any(r[1] == column for r in db.execute(f"PRAGMA table_info({table})"))

    if has():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if not has():  # checked again under the lock: another process may have done it
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def widen_audit(db: sqlite3.Connection, kinds: tuple[str, ...]) -> None:
    """Let a log made before one of the audit kinds take it: the table is copied into one
    whose CHECK lists them all, columns and rows as they were (SQLite cannot alter a
    constraint)."""
    check = "CHECK (kind IN (" + ", ".join(f"'{k}'" for k in kinds) + "))"

    def old() -> str | None:
        row = db.execute("SELECT sql FROM sqlite_master WHERE name = 'audit'").fetchone()
        return None if check in row[0] else str(row[0])

    if old() is None:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if (sql := old()) is not None:  # again under the lock: another may have done it
            wider = re.sub(r"CHECK \(kind IN \([^)]*\)\)", check, sql)
            db.execute(re.sub(r"\baudit\b", "audit_wider", wider, count=1))
            db.execute("INSERT INTO audit_wider SELECT * FROM audit")
            db.execute("DROP TABLE audit")
            db.execute("ALTER TABLE audit_wider RENAME TO audit")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def widen_verdicts(db: sqlite3.Connection, indexes: list[str]) -> None:
    """Let a log made before the NO-WELD verdict take it: the welds table is copied into
    one whose CHECK has it, columns and rows as they were (SQLite cannot alter a
    constraint); its indexes are made again."""

    def old() -> str | None:
        row = db.execute("SELECT sql FROM sqlite_master WHERE name = 'welds'").fetchone()
        return None if "'NO-WELD'" in row[0] else str(row[0])

    if old() is None:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if (sql := old()) is not None:  # again under the lock: another may have done it
            wider = sql.replace("'ABORTED')", "'ABORTED', 'NO-WELD')")
            db.execute(re.sub(r"\bwelds\b", "welds_wider", wider, count=1))
            db.execute("INSERT INTO welds_wider SELECT * FROM welds")
            db.execute("DROP TABLE welds")
            db.execute("ALTER TABLE welds_wider RENAME TO welds")
            for index in indexes:
                db.execute(index)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
