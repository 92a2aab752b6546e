"""The QA log: every weld with its schedule, part, operator, features, verdict, every reason and
its full waveforms; an audit trail of schedule and window changes.

A SQLite file in WAL mode per station (the default), or a database on a PostgreSQL server that
several stations share (a postgresql:// URL): the same tables and the same guarantees on both
(controller/qa/stores.py holds what differs). A weld's record is committed durably before the
call returns, and the caller shows the verdict as final only after that: a crash never loses
an acknowledged weld. Each row carries a hash of its content chained to the row before it, so
an edited, deleted or swapped row is detected; appends are serialised (every station's, on a
server) so the log keeps one chain.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from controller.qa import chain, seal
from controller.qa.record import (
    COLUMNS,
    FIELDS,
    VERDICTS,
    LoggedWeld,
    WeldRecord,
    as_stored,
    columns,
    fields_of,
    pack_waveform,
    unpack_waveform,
)
from controller.qa.stores import QaUrl, Store, open_store, qa_target, shown

# MICROWELD_QA_DURABILITY=off (a battery hook, see QaLog): records committed in batches of this
DEFERRED_BATCH = 20
# free space a weld's record needs, with room: a 120 ms waveform packs to about 0.2 MB, and
# SQLite's WAL and a checkpoint take as much again
RECORD_ROOM_BYTES = 16_000_000


class QaLog:
    """One station's QA log: a SQLite file (a path), or a database on a PostgreSQL server (a
    postgresql:// URL) that several stations may share.

    MICROWELD_QA_DURABILITY=off in the environment turns durability down: synchronous=OFF
    (synchronous_commit=off on a server), and records are left in an open transaction
    committed only every DEFERRED_BATCH records (and at close), so a verdict is shown before
    its record is durable. It exists only so the reliability battery can show that its crash
    harness catches lost records; never set it in production (on a server the open transaction
    also holds every other station's appends). Anything but "full" (the default) or "off" is
    refused.
    """

    def __init__(self, target: str | Path) -> None:
        self.path: Path | QaUrl = qa_target(target)
        durability = os.environ.get("MICROWELD_QA_DURABILITY", "full")
        if durability not in ("full", "off"):
            raise ValueError(f"MICROWELD_QA_DURABILITY must be full or off, not {durability!r}")
        self.durable = durability == "full"
        self._pending = 0  # records written but not yet committed (durability off only)
        self.store: Store = open_store(self.path, self.durable)
        self.db = self.store.db  # the driver's own connection (sqlite3's or psycopg's)
        # the station's key and anchor, as the data folder holds them at opening
        self.key = seal.station_key()
        self.key_id = seal.key_id(self.key)
        self.keys = seal.known_keys()
        # the log's name for its anchor: the file wherever it was opened from, or the URL
        self.where = str(self.path.resolve()) if isinstance(self.path, Path) else shown(self.path)
        self.anchor_file = seal.anchor_path(self.where)
        self.anchor = seal.read_anchor(self.anchor_file)
        if self.anchor is None:
            # first opened at this station: every row from the next on is sealed
            self.anchor = seal.Anchor({}, {t: self._last_id(t) + 1 for t in seal.CHAINS})
            self._anchor()

    def close(self) -> None:
        """Commit what durability off left pending; close the log."""
        if self.store.in_transaction:
            self.store.commit()
        self.store.close()

    def __enter__(self) -> QaLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, rec: WeldRecord) -> int:
        """Commit a weld durably; return its id. Show the verdict as final only after this."""
        return self.record_all([rec])[0]

    def record_all(self, recs: Sequence[WeldRecord]) -> list[int]:
        """Commit welds durably, all or none, in one transaction; return their ids."""
        if not recs:
            return []
        for rec in recs:
            if rec.verdict not in VERDICTS:
                raise ValueError(
                    f"verdict must be PASS, FAIL, ABORTED or NO-WELD, not {rec.verdict!r}"
                )
        recs = [as_stored(rec) for rec in recs]
        blobs = [pack_waveform(rec.waveform) for rec in recs]
        store = self.store
        if not store.in_transaction:  # durability off may have left one open (and locked)
            store.begin_append()
        try:
            # read under the append lock: no other writer can add a row after it until COMMIT
            row = store.execute("SELECT row_hash FROM welds ORDER BY id DESC LIMIT 1").fetchone()
            prev = row[0] if row else chain.GENESIS
            ids = []
            for rec, blob in zip(recs, blobs, strict=True):
                digest = seal.mac(self.key, chain.body(prev, rec, blob))
                ids.append(
                    store.insert(
                        f"INSERT INTO welds ({COLUMNS}, waveform, prev_hash, row_hash, key_id)"
                        f" VALUES ({', '.join('?' * (len(FIELDS) + 4))})",
                        (*columns(rec), blob, prev, digest, self.key_id),
                    )
                )
                prev = digest
            self._pending += len(recs)
            if self.durable or self._pending >= DEFERRED_BATCH:
                store.commit()
                self._pending = 0
                assert self.anchor is not None
                self.anchor.last["welds"] = (ids[-1], prev)  # the other chains did not move
                seal.write_anchor(self.anchor_file, self.where, self.anchor)
        except BaseException as exc:
            # a failed COMMIT (a full disk) may have ended the transaction already: the
            # rollback's own error must not hide the reason
            with contextlib.suppress(Exception):
                store.rollback()
            self._pending = 0
            if isinstance(exc, Exception):
                raise QaLogWriteError(f"cannot log in {store.where}: {exc}") from exc
            raise
        return ids

    def cannot_take_weld(self) -> str:
        """Return why the next weld's record could not be kept ("" if it can): the log's
        file deleted or replaced while open, or too little free space beside it."""
        return self.store.cannot_take(RECORD_ROOM_BYTES)

    def part_ids(self, station: str, starting: str = "") -> list[str]:
        """Return the part ids logged for a station that start with `starting`."""
        rows = self.store.execute(
            "SELECT DISTINCT part_id FROM welds WHERE station = ? AND substr(part_id, 1, ?) = ?",
            (station, len(starting), starting),
        )
        return [str(r[0]) for r in rows]

    def last_counted(self, station: str) -> LoggedWeld | None:
        """Return the station's latest record that has a supply weld count (None if none)."""
        # newest first, so the scan stops at the station's latest counted weld
        row = self.store.execute(
            f"SELECT id, {COLUMNS} FROM welds WHERE station = ?"
            " AND supply_weld_count IS NOT NULL ORDER BY id DESC LIMIT 1",
            (station,),
        ).fetchone()
        return None if row is None else LoggedWeld(id=row[0], **fields_of(row[1:]))

    def last_supply_weld_count(self, station: str) -> int | None:
        """Return the supply weld counter of the station's latest record that has one."""
        last = self.last_counted(station)
        return None if last is None else last.supply_weld_count

    def audit(self, who: str, kind: str, name: str, old: str, new: str, meaning: str = "") -> None:
        """Record an entry of the audit trail (a kind of schema.AUDIT_KINDS: a changed schedule
        or window with its old and new text, what was found at a station, a re-weld, a
        release, an account), sealed into the audit chain. meaning: what the signature of
        `who` means (authored, approved, ...), as 21 CFR 11.50 asks of a signed record. In the
        caller's transaction if one is open (the change it records commits with it)."""
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        values = (now, who, kind, name, old, new, meaning)
        if self.store.in_transaction:
            self._append_event("audit", values)
            return
        self.store.begin_append()
        try:
            self._append_event("audit", values)
            self.store.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                self.store.rollback()
            raise
        self._anchor()

    def _append_event(self, table: str, values: Sequence[Any]) -> None:
        """Insert an audit entry or a dressing, chained to its table's last sealed row (in the
        open append transaction)."""
        row = self.store.execute(
            f"SELECT row_hash FROM {table} WHERE row_hash IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        prev = row[0] if row else chain.GENESIS
        names = chain.EVENTS[table]
        self.store.execute(
            f"INSERT INTO {table} ({', '.join(names)}, prev_hash, row_hash, key_id)"
            f" VALUES ({', '.join('?' * (len(names) + 3))})",
            (*values, prev, seal.mac(self.key, chain.event_body(prev, values)), self.key_id),
        )

    def _last_id(self, table: str) -> int:
        return int(self.store.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0])

    def _anchor(self) -> None:
        """Write the last row of each chain into the log's anchor (after every commit)."""
        assert self.anchor is not None
        for table in seal.CHAINS:
            row = self.store.execute(
                f"SELECT id, row_hash FROM {table} WHERE row_hash IS NOT NULL"
                " ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row is not None:
                self.anchor.last[table] = (int(row[0]), str(row[1]))
        seal.write_anchor(self.anchor_file, self.where, self.anchor)

    def save_audited(
        self, path: Path, text: str, who: str, kind: str, name: str, meaning: str = ""
    ) -> None:
        """Write text into a config file and record the change (old text and new) in the audit
        trail: both or neither. The new text goes to a file beside it first (a folder that
        cannot take it fails here, before anything is recorded); the audit entry and the
        rename into place share one transaction, and a rename that fails rolls it back."""
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            self.store.begin_append()
            try:
                self.audit(who, kind, name, old, text, meaning)
                os.replace(tmp, path)
                self.store.commit()
                self._anchor()
            except BaseException:
                self.store.rollback()
                if not os.path.exists(tmp):  # in place, but its record is not: undo it
                    path.write_text(old, encoding="utf-8")
                raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def dressed(self, station: str, who: str) -> None:
        """Record that the station's electrode was dressed (its weld count starts again)."""
        store = self.store
        store.begin_append()  # no weld can be appended between reading the last id and this
        try:
            last = int(store.execute("SELECT COALESCE(MAX(id), 0) FROM welds").fetchone()[0])
            now = datetime.now(UTC).isoformat(timespec="microseconds")
            self._append_event("dressings", (now, station, who, last))
            store.commit()
        except BaseException:
            store.rollback()
            raise
        self._anchor()

    def welds_since_dressing(self, station: str) -> int:
        """Return the welds the station fired since its last dressing: the records whose own
        cycle the supply counted, aborted ones included (current flowed: the tip wore), but
        not cycles stopped before the pulse nor no-weld cycles (no current).

        Counted by record id, which only grows, never by time: a clock stepped back after a
        dressing would otherwise hide every weld made until it caught up again."""
        last = self.store.execute(
            "SELECT t_utc, after_weld_id FROM dressings WHERE station = ? ORDER BY id DESC LIMIT 1",
            (station,),
        ).fetchone()
        counted = "SELECT COUNT(*) FROM welds WHERE station = ? AND supply_weld_count IS NOT NULL"
        if last is None:
            return int(self.store.execute(counted, (station,)).fetchone()[0])
        if last[1] is None:  # a dressing logged before dressings kept the last weld's id
            after = self.store.execute(
                "SELECT COALESCE(MAX(id), 0) FROM welds WHERE t_utc <= ?", (last[0],)
            ).fetchone()[0]
        else:
            after = last[1]
        return int(self.store.execute(counted + " AND id > ?", (station, after)).fetchone()[0])

    def welds(
        self,
        since: str | None = None,
        until: str | None = None,
        verdict: str | None = None,
        schedule: str | None = None,
        part_id: str | None = None,
        lot: str | None = None,
    ) -> list[LoggedWeld]:
        """Return the welds matching every filter given (times as the log's text: UTC,
        controller/qa/times.py). part_id matches that part and the ones numbered from it
        (`run --count` makes P-100-0001, P-100-0002, ... of P-100)."""
        where: list[str] = []
        args: list[object] = []
        for column, op, value in (
            ("t_utc", ">=", since),
            ("t_utc", "<", until),
            ("verdict", "=", verdict),
            ("schedule", "=", schedule),
            ("lot", "=", lot),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                args.append(value)
        if part_id is not None:
            where.append("(part_id = ? OR substr(part_id, 1, ?) = ?)")
            args += [part_id, len(part_id) + 1, part_id + "-"]
        sql = f"SELECT id, {COLUMNS} FROM welds"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.store.execute(sql + " ORDER BY id", args)
        return [LoggedWeld(id=r[0], **fields_of(r[1:])) for r in rows]

    def weld(self, weld_id: int) -> tuple[LoggedWeld, str]:
        """Return one logged weld and its row hash (its link in the chain)."""
        row = self.store.execute(
            f"SELECT id, {COLUMNS}, row_hash FROM welds WHERE id = ?", (weld_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no weld {weld_id} in {shown(self.path)}")
        return LoggedWeld(id=row[0], **fields_of(row[1:-1])), str(row[-1])

    def waveform(self, weld_id: int) -> np.ndarray:
        """Return a logged weld's waveform (n, 4: A, V, N, µm)."""
        return unpack_waveform(self._one("waveform", weld_id))

    def sample_rate_hz(self, weld_id: int) -> float:
        """Return the rate a logged weld's waveform was sampled at."""
        return float(self._one("sample_rate_hz", weld_id))

    def _one(self, column: str, weld_id: int) -> Any:
        row = self.store.execute(f"SELECT {column} FROM welds WHERE id = ?", (weld_id,)).fetchone()
        if row is None:
            raise KeyError(f"no weld {weld_id} in {shown(self.path)}")
        return row[0]

    def audit_trail(self) -> list[tuple[str, str, str, str, str, str]]:
        """Return every audit entry: (time, who, kind, name, old, new)."""
        return list(
            self.store.execute("SELECT t_utc, who, kind, name, old, new FROM audit ORDER BY id")
        )

    def signatures(self, kind: str, name: str | None = None) -> list[tuple[str, str, str, str]]:
        """Return the audit entries of a kind (and name): (time, who, name, meaning), oldest
        first; an entry made before meanings were kept has "" for it."""
        sql = "SELECT t_utc, who, name, COALESCE(meaning, '') FROM audit WHERE kind = ?"
        args: tuple[str, ...] = (kind,)
        if name is not None:
            sql, args = sql + " AND name = ?", (kind, name)
        return [tuple(r) for r in self.store.execute(sql + " ORDER BY id", args)]

    def verdict_counts(
        self, station: str, since: str | None = None, lot: str | None = None
    ) -> dict[str, int]:
        """Return the station's welds by verdict (since: the log's UTC text; lot: of that lot
        only); a foreign weld is not counted (its part and lot are not known)."""
        sql = "SELECT verdict, COUNT(*) FROM welds WHERE station = ? AND part_id <> '(unknown)'"
        args: list[object] = [station]
        if since is not None:
            sql, args = sql + " AND t_utc >= ?", [*args, since]
        if lot is not None:
            sql, args = sql + " AND lot = ?", [*args, lot]
        return {str(v): int(n) for v, n in self.store.execute(sql + " GROUP BY verdict", args)}

    def part_welds(self, part_id: str) -> list[tuple[int, str]]:
        """Return the welds logged of a part, any station's: (id, verdict), oldest first. A
        no-weld cycle is not one (no current), nor a foreign weld (its part is not known)."""
        rows = self.store.execute(
            "SELECT id, verdict FROM welds WHERE part_id = ? AND verdict <> 'NO-WELD' ORDER BY id",
            (part_id,),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    def verify(self) -> list[str]:
        """Return every break in the chains and their seals (an edited, inserted, deleted or
        re-hashed row, in the welds, the audit trail or the dressings) and every way the log
        falls short of its anchor (rows lost or removed at its end)."""
        keys = self.keys
        anchor = seal.read_anchor(self.anchor_file)
        since = anchor.sealed_from if anchor else {}
        problems = chain.verify_welds(self.store, keys, since.get("welds"))
        for table in chain.EVENTS:
            problems += chain.verify_events(self.store, table, keys, since.get(table))
        return problems + chain.verify_anchor(self.store, anchor)

    def short_of_anchor(self) -> list[str]:
        """Return how the log falls short of its anchor (a crash that lost committed records,
        rows removed, an older copy put back); [] when it reaches it."""
        return chain.verify_anchor(self.store, seal.read_anchor(self.anchor_file))

    def anchored(self) -> bool:
        """Return True if this station holds an anchor for the log (verify checks its end)."""
        return seal.read_anchor(self.anchor_file) is not None

    def integrity_check(self, quick: bool = False) -> str:
        """Return the database's integrity check ("ok" when sound): SQLite's check of the whole
        file (quick: without matching indexes to tables); on a server, that it answers and the
        log's tables are there."""
        return self.store.integrity_check(quick)


class QaLogWriteError(RuntimeError):
    """A record could not be committed (a full disk, a damaged file, a lost server): nothing
    of it is in the log."""


class QaLogUnavailableError(RuntimeError):
    """A QA log that must exist cannot be opened; the message says why."""


def open_existing(name: str | Path) -> QaLog:
    """Open a QA log that must already be there (a file's path or a server's URL); raise
    QaLogUnavailableError saying why it cannot be opened."""
    target = qa_target(name)
    if not target.exists():
        raise QaLogUnavailableError(f"no QA log at {target}")
    try:
        return QaLog(target)
    except ConnectionError as exc:  # a server that does not answer, or has no such database
        raise QaLogUnavailableError(str(exc)) from None
