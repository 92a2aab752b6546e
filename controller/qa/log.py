"""The QA log: every weld with its schedule, part, operator, features, verdict, every reason and
its full waveforms; an audit trail of schedule and window changes.

A SQLite file in WAL mode per station (the default), or a database on a PostgreSQL server that
several stations share (a postgresql:// URL): the same tables and the same guarantees on both
(controller/qastore.py holds what differs). A weld's record is committed durably before the
call returns, and the caller shows the verdict as final only after that: a crash never loses
an acknowledged weld. Each row carries a hash of its content chained to the row before it, so
an edited, deleted or swapped row is detected; appends are serialised (every station's, on a
server) so the log keeps one chain.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from controller.qa.stores import QaUrl, Store, open_store, qa_target, shown

CHANNELS = ("current_a", "voltage_v", "force_n", "position_um")
GENESIS = "0" * 64
# MICROWELD_QA_DURABILITY=off (a battery hook, see QaLog): records committed in batches of this
DEFERRED_BATCH = 20


@dataclass
class WeldRecord:
    """One weld as it goes into the log."""

    station: str
    operator: str
    part_id: str
    lot: str
    schedule: str
    schedule_hash: str
    window: str
    window_hash: str
    electrode_count: int
    verdict: str
    reasons: list[str]
    features: dict[str, float | None]
    waveform: np.ndarray  # (n, 4): A, V, N, µm
    sample_rate_hz: float = 50_000.0
    supply_weld_count: int | None = None
    t_utc: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="microseconds"))


@dataclass
class LoggedWeld:
    """A weld as read back from the log (without its waveform)."""

    id: int
    t_utc: str
    station: str
    operator: str
    part_id: str
    lot: str
    schedule: str
    schedule_hash: str
    window: str
    window_hash: str
    electrode_count: int
    supply_weld_count: int | None
    verdict: str
    reasons: list[str]
    features: dict[str, float | None]
    sample_rate_hz: float = 50_000.0


# the columns of a weld's record, in the log's order: LoggedWeld's fields (WeldRecord has the
# same names, and its waveform besides); the row hash depends on this order
_FIELDS = tuple(f.name for f in fields(LoggedWeld) if f.name != "id")


_JSON = ("reasons", "features")  # the fields stored as JSON text
# the columns as named in SQL: quoted, as "window" is a reserved word in PostgreSQL
_COLUMNS = ", ".join(f'"{f}"' for f in _FIELDS)


def _fields(row: Sequence[Any]) -> dict[str, Any]:
    """Return a row's _FIELDS by name, the JSON ones decoded."""
    out = dict(zip(_FIELDS, row, strict=True))
    for f in _JSON:
        out[f] = json.loads(out[f])
    return out


def pack_waveform(wave: np.ndarray) -> bytes:
    """Return the waveform as compressed little-endian float32 (n, 4)."""
    arr = np.ascontiguousarray(wave, dtype="<f4")
    if arr.ndim != 2 or arr.shape[1] != len(CHANNELS):
        raise ValueError(f"waveform must be (n, {len(CHANNELS)}), got {arr.shape}")
    # level 1: a weld's float32 noise packs to 41 % at level 1 and to 35 % at level 6, but level
    # 6 took 4.8 ms a weld against 1.3 ms, paid in every commit before a verdict is shown
    return zlib.compress(arr.shape[0].to_bytes(8, "little") + arr.tobytes(), level=1)


def unpack_waveform(blob: bytes) -> np.ndarray:
    """Return the (n, 4) float32 waveform of a packed blob."""
    raw = zlib.decompress(blob)
    n = int.from_bytes(raw[:8], "little")
    return np.frombuffer(raw[8:], dtype="<f4").reshape(n, len(CHANNELS))


def _row_hash(prev: str, rec: WeldRecord, blob: bytes) -> str:
    body = json.dumps(
        [prev, *(getattr(rec, f) for f in _FIELDS)], sort_keys=True, separators=(",", ":")
    ).encode()
    return hashlib.sha256(body + hashlib.sha256(blob).digest()).hexdigest()


def _as_stored(rec: WeldRecord) -> WeldRecord:
    """Return the record with its numbers of the types the columns give back: the hash is of
    the values as given and verify() hashes them as read, so a rate of 50000 (an int) hashed
    as "50000" and read back as 50000.0 broke the chain of a record that was never edited."""
    count = rec.supply_weld_count
    return dataclasses.replace(
        rec,
        sample_rate_hz=float(rec.sample_rate_hz),
        electrode_count=int(rec.electrode_count),
        supply_weld_count=None if count is None else int(count),
    )


def _columns(rec: WeldRecord) -> list[Any]:
    """Return a record's _FIELDS as stored (reasons and features as JSON text)."""
    return [json.dumps(getattr(rec, f)) if f in _JSON else getattr(rec, f) for f in _FIELDS]


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

    def close(self) -> None:
        """Commit what durability off left pending; close the log."""
        if self.store.in_transaction:
            self.store.commit()
        self.store.close()

    def record(self, rec: WeldRecord) -> int:
        """Commit a weld durably; return its id. Show the verdict as final only after this."""
        return self.record_all([rec])[0]

    def record_all(self, recs: Sequence[WeldRecord]) -> list[int]:
        """Commit welds durably, all or none, in one transaction; return their ids."""
        if not recs:
            return []
        for rec in recs:
            if rec.verdict not in ("PASS", "FAIL", "ABORTED"):
                raise ValueError(f"verdict must be PASS, FAIL or ABORTED, not {rec.verdict!r}")
        recs = [_as_stored(rec) for rec in recs]
        blobs = [pack_waveform(rec.waveform) for rec in recs]
        store = self.store
        if not store.in_transaction:  # durability off may have left one open (and locked)
            store.begin_append()
        try:
            # read under the append lock: no other writer can add a row after it until COMMIT
            row = store.execute("SELECT row_hash FROM welds ORDER BY id DESC LIMIT 1").fetchone()
            prev = row[0] if row else GENESIS
            ids = []
            for rec, blob in zip(recs, blobs, strict=True):
                digest = _row_hash(prev, rec, blob)
                ids.append(
                    store.insert(
                        f"INSERT INTO welds ({_COLUMNS}, waveform, prev_hash, row_hash)"
                        f" VALUES ({', '.join('?' * (len(_FIELDS) + 3))})",
                        (*_columns(rec), blob, prev, digest),
                    )
                )
                prev = digest
            self._pending += len(recs)
            if self.durable or self._pending >= DEFERRED_BATCH:
                store.commit()
                self._pending = 0
        except BaseException:
            store.rollback()
            self._pending = 0
            raise
        return ids

    def last_counted(self, station: str) -> LoggedWeld | None:
        """Return the station's latest record that has a supply weld count (None if none)."""
        # newest first, so the scan stops at the station's latest counted weld
        row = self.store.execute(
            f"SELECT id, {_COLUMNS} FROM welds WHERE station = ?"
            " AND supply_weld_count IS NOT NULL ORDER BY id DESC LIMIT 1",
            (station,),
        ).fetchone()
        return None if row is None else LoggedWeld(id=row[0], **_fields(row[1:]))

    def last_supply_weld_count(self, station: str) -> int | None:
        """Return the supply weld counter of the station's latest record that has one."""
        last = self.last_counted(station)
        return None if last is None else last.supply_weld_count

    def audit(self, who: str, kind: str, name: str, old: str, new: str) -> None:
        """Record a change of a schedule or a window, or what was found at a station (kind
        schedule, window or station; old and new text)."""
        self.store.execute(
            "INSERT INTO audit (t_utc, who, kind, name, old, new) VALUES (?, ?, ?, ?, ?, ?)",
            (datetime.now(UTC).isoformat(timespec="microseconds"), who, kind, name, old, new),
        )

    def dressed(self, station: str, who: str) -> None:
        """Record that the station's electrode was dressed (its weld count starts again)."""
        self.store.execute(
            "INSERT INTO dressings (t_utc, station, who) VALUES (?, ?, ?)",
            (datetime.now(UTC).isoformat(timespec="microseconds"), station, who),
        )

    def welds_since_dressing(self, station: str) -> int:
        """Return the welds the station fired since its last dressing: the records whose own
        cycle the supply counted, aborted ones included (current flowed: the tip wore), but
        not cycles stopped before the pulse nor no-weld cycles (no current)."""
        row = self.store.execute(
            "SELECT MAX(id) FROM dressings WHERE station = ?", (station,)
        ).fetchone()
        last = self.store.execute("SELECT t_utc FROM dressings WHERE id = ?", (row[0],)).fetchone()
        since = last[0] if last else ""
        return int(
            self.store.execute(
                "SELECT COUNT(*) FROM welds WHERE station = ? AND supply_weld_count IS NOT NULL"
                " AND t_utc > ?",
                (station, since),
            ).fetchone()[0]
        )

    def welds(
        self,
        since: str | None = None,
        until: str | None = None,
        verdict: str | None = None,
        schedule: str | None = None,
        part_id: str | None = None,
        lot: str | None = None,
    ) -> list[LoggedWeld]:
        """Return the welds matching every filter given (times as ISO text, UTC)."""
        where, args = [], []
        for column, op, value in (
            ("t_utc", ">=", since),
            ("t_utc", "<", until),
            ("verdict", "=", verdict),
            ("schedule", "=", schedule),
            ("part_id", "=", part_id),
            ("lot", "=", lot),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                args.append(value)
        sql = f"SELECT id, {_COLUMNS} FROM welds"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.store.execute(sql + " ORDER BY id", args)
        return [LoggedWeld(id=r[0], **_fields(r[1:])) for r in rows]

    def weld(self, weld_id: int) -> tuple[LoggedWeld, str]:
        """Return one logged weld and its row hash (its link in the chain)."""
        row = self.store.execute(
            f"SELECT id, {_COLUMNS}, row_hash FROM welds WHERE id = ?", (weld_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no weld {weld_id} in {shown(self.path)}")
        return LoggedWeld(id=row[0], **_fields(row[1:-1])), str(row[-1])

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

    def verify(self) -> list[str]:
        """Return every break in the hash chain (an edited, inserted or deleted row)."""
        problems = []
        prev = GENESIS
        rows = self.store.execute(
            f"SELECT id, {_COLUMNS}, waveform, prev_hash, row_hash FROM welds ORDER BY id"
        )
        for r in rows:
            rec = WeldRecord(**_fields(r[1:16]), waveform=np.zeros((0, 4)))
            if r[17] != prev:
                problems.append(f"weld {r[0]}: chain broken before it (a row removed?)")
            if _row_hash(r[17], rec, r[16]) != r[18]:
                problems.append(f"weld {r[0]}: content does not match its hash (edited?)")
            prev = r[18]
        return problems

    def integrity_check(self) -> str:
        """Return the database's integrity check ("ok" when sound): SQLite's check of the whole
        file; on a server, that it answers and the log's tables are there."""
        return self.store.integrity_check()


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


def export_features_csv(rows: Sequence[LoggedWeld], out: io.TextIOBase | Path) -> None:
    """Write the welds' identities, verdicts, reasons and features as CSV."""
    feats = sorted({k for r in rows for k in r.features})
    head = [
        "id",
        "t_utc",
        "station",
        "operator",
        "part_id",
        "lot",
        "schedule",
        "window",
        "verdict",
        "reasons",
        *feats,
    ]
    fh = out.open("w", newline="", encoding="utf-8") if isinstance(out, Path) else out
    try:
        w = csv.writer(fh)
        w.writerow(head)
        for r in rows:
            w.writerow(
                [
                    r.id,
                    r.t_utc,
                    r.station,
                    r.operator,
                    r.part_id,
                    r.lot,
                    r.schedule,
                    r.window,
                    r.verdict,
                    "; ".join(r.reasons),
                    *[r.features.get(k) for k in feats],
                ]
            )
    finally:
        if isinstance(out, Path):
            fh.close()


def export_waveforms(log: QaLog, ids: Iterable[int], folder: Path, fmt: str = "npz") -> list[Path]:
    """Write the waveforms of the given welds (CSV per weld, or one NPZ); return the files."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = list(ids)
    if fmt == "npz":
        path = folder / "waveforms.npz"
        save: Any = np.savez_compressed  # (numpy's stub takes **arrays for its keyword flags)
        save(path, **{f"weld_{i}": log.waveform(i) for i in ids})
        return [path]
    if fmt != "csv":
        raise ValueError(f"format must be csv or npz, not {fmt!r}")
    paths = []
    for i in ids:
        wave = log.waveform(i)
        t = np.arange(len(wave)) / log.sample_rate_hz(i)
        path = folder / f"weld_{i}.csv"
        np.savetxt(
            path,
            np.column_stack([t, wave]),
            delimiter=",",
            comments="",
            header="t_s," + ",".join(CHANNELS),
            fmt="%.7g",
        )
        paths.append(path)
    return paths
