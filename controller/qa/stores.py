"""Where a QA log lives, and the little that differs between its two homes.

A station's qa_log is a file path (a SQLite file, the default) or a postgresql:// URL (a
database on a PostgreSQL server that several stations share). QaLog (controller/qalog.py) holds
the records, the hash chain and the queries; a store here holds the connection and what the two
databases do differently: the schema's types, the parameter marks, how an append takes the
lock that keeps one hash chain, how durably a commit is made, and the integrity check. The
tables are the same column for column, so the same record hashes the same on both.

psycopg (the extra `postgres`) is imported only when a URL is opened: SQLite needs nothing.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from controller.qa import migrations
from controller.qa.schema import (
    AUDIT_KINDS,
    LATER_COLUMNS,
    POSTGRES_LATER,
    POSTGRES_SCHEMA,
    SQLITE_AUDIT_TABLE,
    SQLITE_SCHEMA,
    TABLES,
)

if TYPE_CHECKING:
    import psycopg

SCHEMES = ("postgresql", "postgres")  # the two that libpq takes

# two stations opening a new database at once would race in CREATE TABLE IF NOT EXISTS (it is
# not atomic in PostgreSQL): the schema is made under this transaction-level advisory lock
SCHEMA_LOCK = 0x6D77_716C  # "mwql"
# how long an append waits for another station's (SQLite's busy timeout is the same)
LOCK_TIMEOUT_S = 10.0


# --- where ----------------------------------------------------------------------------------


class QaUrl(str):
    """A QA log on a PostgreSQL server: its postgresql:// URL, standing where a file's Path
    would. It answers exists() as a Path does, so code that opens the log only once there is
    one (the GUI's screens) needs no case of its own."""

    def exists(self) -> bool:
        """True: a server's log is always there to open (its tables are made at the first
        opening, as SQLite makes the file)."""
        return True


def is_url(text: str) -> bool:
    """Return whether a qa_log names a server (scheme://...) rather than a file."""
    return "://" in text


def check_qa_log(text: str) -> str:
    """Return a station's qa_log if it is a file path or a well-formed postgresql:// URL;
    raise ValueError saying what is wrong otherwise."""
    if not text.strip():
        raise ValueError("qa_log is empty: give a file path or a postgresql:// URL")
    if not is_url(text):
        return text
    form = "postgresql://user@host:port/database"
    url = urlsplit(text)
    if url.scheme not in SCHEMES:
        raise ValueError(
            f"{url.scheme}:// is not a QA log: give a file path or a URL of the form {form}"
        )
    try:
        url.port  # noqa: B018 (urlsplit checks the port only when asked for it)
    except ValueError:
        raise ValueError(f"the port of {shown(text)} is not a number 1-65535 ({form})") from None
    if not url.hostname and "host=" not in url.query:
        raise ValueError(f"{shown(text)} names no server: {form}")
    if not url.path.strip("/"):
        raise ValueError(f"{shown(text)} names no database: {form}")
    return text


def qa_target(text: str | Path) -> Path | QaUrl:
    """Return where a QA log is: a file's Path, or a server's QaUrl."""
    if isinstance(text, QaUrl | Path):
        return text
    return QaUrl(text) if is_url(text) else Path(text)


def shown(target: str | Path) -> str:
    """Return a QA log's location fit to print: a URL without its password."""
    text = str(target)
    if not is_url(text):
        return text
    url = urlsplit(text)
    if url.password is None:
        return text
    netloc = url.netloc.replace(f":{url.password}@", ":***@", 1)
    return urlunsplit(url._replace(netloc=netloc))


# --- the two stores -------------------------------------------------------------------------


class Cursor(Protocol):
    """What QaLog reads from a query: rows as tuples."""

    def fetchone(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Store(Protocol):
    """One open QA log database. SQL is written with ? marks; a store translates them."""

    db: Any  # the driver's connection: sqlite3's or psycopg's (tests edit rows through it)
    where: str  # the location, fit to print

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        """Run one statement (in the open transaction, if one is)."""
        ...

    def insert(self, sql: str, args: Sequence[Any]) -> int:
        """Run one INSERT into a table with an id; return the new row's id."""
        ...

    def begin_append(self) -> None:
        """Begin a transaction that holds the welds table against every other appender (of
        any process) until it ends: the last row's hash read in it stays the last."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    def integrity_check(self, quick: bool = False) -> str:
        """Return "ok" when the database is sound, else what is wrong."""
        ...

    def cannot_take(self, need_bytes: int) -> str:
        """Return why the next record could not be kept ("" if it can)."""
        ...

    def close(self) -> None: ...


class QaLogRefusedError(ValueError):
    """A file that is not a QA log (empty, not SQLite, another program's database)."""


class SqliteStore:
    """A SQLite file in WAL mode, synchronous=FULL: the WAL is synced at every commit, so a
    committed weld survives a power cut. BEGIN IMMEDIATE takes the file's write lock."""

    def __init__(self, path: Path, durable: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.where = str(path)
        self.path = path
        if path.exists() and path.stat().st_size == 0:
            # SQLite takes an empty file for a new database: a log truncated to nothing (or a
            # file made by mistake) would silently start a new chain
            raise QaLogRefusedError(f"{path} is empty (0 bytes): not a QA log")
        self.db = sqlite3.connect(path, isolation_level=None, timeout=LOCK_TIMEOUT_S)
        try:
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise QaLogRefusedError(f"{path} is not a QA log: {exc}") from None
        if tables and not tables & set(TABLES):
            self.db.close()
            held = ", ".join(sorted(tables))
            raise QaLogRefusedError(f"{path} is a SQLite database, but not a QA log ({held})")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        self.db.executescript(SQLITE_SCHEMA + SQLITE_AUDIT_TABLE)
        st = path.stat()
        self.identity = (st.st_dev, st.st_ino)  # the file opened, whatever its name holds later
        migrations.widen_audit(self.db, AUDIT_KINDS)
        migrations.widen_verdicts(self.db, re.findall(r"CREATE INDEX[^;]*;", SQLITE_SCHEMA))
        migrations.add_column(self.db, "dressings", "after_weld_id", "INTEGER")
        for table, column in LATER_COLUMNS:
            migrations.add_column(self.db, table, column, "TEXT")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.db.execute(sql, args)

    def insert(self, sql: str, args: Sequence[Any]) -> int:
        return int(self.db.execute(sql, args).lastrowid or 0)

    def begin_append(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        self.db.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction

    def integrity_check(self, quick: bool = False) -> str:
        """SQLite's own check of every page and index ("ok" when the file is sound); quick:
        its quick_check, which skips matching the indexes against their tables."""
        try:
            rows = self.db.execute(f"PRAGMA {'quick_check' if quick else 'integrity_check'}")
            return "; ".join(str(r[0]) for r in rows)
        except sqlite3.DatabaseError as exc:  # damage the check itself cannot walk past
            return str(exc)

    def cannot_take(self, need_bytes: int) -> str:
        """Return why the next record could not be kept ("" if it can): the file deleted or
        replaced since it was opened (SQLite would go on writing into the unlinked file), or
        less free space than need_bytes where it lives."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return f"{self.path} was deleted while open"
        if (st.st_dev, st.st_ino) != self.identity:
            return f"{self.path} was replaced by another file while open"
        free = shutil.disk_usage(self.path.parent).free
        if free < need_bytes:
            return (
                f"{free / 1e6:.1f} MB free where {self.path} is, {need_bytes / 1e6:.0f} MB needed"
            )
        return ""

    def close(self) -> None:
        self.db.close()


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ModuleNotFoundError(
            "a QA log on PostgreSQL needs psycopg: pip install 'microweld[postgres]'"
        ) from None
    return psycopg


class PostgresStore:
    """A database on a PostgreSQL server, shared by several stations.

    synchronous_commit=on (PostgreSQL's default, set here all the same): COMMIT returns only
    once the server has flushed the commit to its WAL on disk, so a committed weld survives a
    crash of the station and of the server. An append locks the welds table in SHARE ROW
    EXCLUSIVE mode, which only one transaction holds at a time and which plain reads do not
    wait for: appends from every station are serialised, as BEGIN IMMEDIATE serialises them on
    a SQLite file, so the log keeps one hash chain.
    """

    def __init__(self, url: str, durable: bool) -> None:
        self._pg = _psycopg()
        self.url, self.durable, self.where = url, durable, shown(url)
        self._connect()
        self.db.execute("BEGIN")
        try:
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            self.db.execute(POSTGRES_SCHEMA)
            self.db.execute(POSTGRES_LATER)
            self.db.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise

    def _connect(self) -> None:
        try:
            # autocommit: each statement is its own transaction unless BEGIN is sent, as with
            # sqlite3's isolation_level=None; a read never holds a snapshot open between calls
            self.db: psycopg.Connection[Any] = self._pg.connect(
                self.url, autocommit=True, connect_timeout=10, application_name="microweld"
            )
        except self._pg.OperationalError as exc:
            raise ConnectionError(f"cannot open the QA log at {self.where}: {exc}") from None
        self.db.execute(f"SET synchronous_commit TO {'on' if self.durable else 'off'}")
        self.db.execute(f"SET lock_timeout TO '{LOCK_TIMEOUT_S:g}s'")

    def _again(self, sql: str, args: Sequence[Any]) -> Cursor:
        """Run a statement; if the connection turns out lost (the server restarted since the
        last call) and no append was open on it, connect again and run it once more. Nothing
        of an append is ever resent: a lost COMMIT may have landed, and resending would log
        the weld twice; that record fails, and its verdict is not shown."""
        appending = self.in_transaction  # asked before: a lost connection's status is UNKNOWN
        try:
            return self.db.execute(sql, args)
        except self._pg.OperationalError:
            if appending or not self.db.broken:
                raise
            self.db.close()
            self._connect()
            return self.db.execute(sql, args)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        # the SQL holds no other ? and no % (psycopg's own marks are %s)
        return self._again(sql.replace("?", "%s"), args)

    def insert(self, sql: str, args: Sequence[Any]) -> int:
        return int(self.execute(sql + " RETURNING id", args).fetchone()[0])

    def begin_append(self) -> None:
        self._again("BEGIN", ())
        self.db.execute("LOCK TABLE welds IN SHARE ROW EXCLUSIVE MODE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if not self.db.broken and not self.db.closed:  # a lost server has nothing to undo
            self.db.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        # INERROR: a statement failed, the transaction awaits its ROLLBACK. A lost connection
        # (UNKNOWN) has none left: the server rolled it back
        status = self._pg.pq.TransactionStatus
        return self.db.info.transaction_status in (status.INTRANS, status.INERROR)

    def cannot_take(self, need_bytes: int) -> str:
        """A server keeps its own disk: a full one refuses the COMMIT, and the weld stops."""
        return ""

    def integrity_check(self, quick: bool = False) -> str:
        """Return "ok" when the server answers and the log's tables are there (PostgreSQL
        checks its own pages as it reads them; no query here walks them all)."""
        found = self.execute(
            "SELECT " + ", ".join(f"to_regclass('{t}')" for t in TABLES)
        ).fetchone()
        missing = [t for t, f in zip(TABLES, found, strict=True) if f is None]
        return f"missing table(s): {', '.join(missing)}" if missing else "ok"

    def close(self) -> None:
        self.db.close()


def open_store(target: Path | QaUrl, durable: bool) -> Store:
    """Open (and make, the first time) the QA log at a path or a URL."""
    if isinstance(target, QaUrl):
        return PostgresStore(target, durable)
    return SqliteStore(target, durable)
