"""The QA log: every weld with its schedule, part, operator, features, verdict, every reason and
its full waveforms; an audit trail of schedule and window changes.

SQLite in WAL mode, one file per station. A weld's record is committed with synchronous=FULL
before the call returns, and the caller shows the verdict as final only after that: a crash
never loses an acknowledged weld. Each row carries a hash of its content chained to the row
before it, so an edited or deleted row is detected.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS welds (
    id INTEGER PRIMARY KEY,
    t_utc TEXT NOT NULL,
    station TEXT NOT NULL,
    operator TEXT NOT NULL,
    part_id TEXT NOT NULL,
    lot TEXT NOT NULL,
    schedule TEXT NOT NULL,
    schedule_hash TEXT NOT NULL,
    window TEXT NOT NULL,
    window_hash TEXT NOT NULL,
    electrode_count INTEGER NOT NULL,
    supply_weld_count INTEGER,
    verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'ABORTED')),
    reasons TEXT NOT NULL,
    features TEXT NOT NULL,
    sample_rate_hz REAL NOT NULL,
    waveform BLOB NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS welds_t ON welds (t_utc);
CREATE INDEX IF NOT EXISTS welds_schedule ON welds (schedule);
CREATE TABLE IF NOT EXISTS dressings (
    id INTEGER PRIMARY KEY,
    t_utc TEXT NOT NULL,
    station TEXT NOT NULL,
    who TEXT NOT NULL
);
"""
# 'station': what the controller found at a station when it opened it (a weld counter that
# went back); logs made before it allowed only 'schedule' and 'window' (see _widen_audit)
AUDIT_TABLE = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    t_utc TEXT NOT NULL,
    who TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('schedule', 'window', 'station')),
    name TEXT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL
);
"""
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
    return zlib.compress(arr.shape[0].to_bytes(8, "little") + arr.tobytes(), level=6)


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


def _columns(rec: WeldRecord) -> list[Any]:
    """Return a record's _FIELDS as stored (reasons and features as JSON text)."""
    return [json.dumps(getattr(rec, f)) if f in _JSON else getattr(rec, f) for f in _FIELDS]


class QaLog:
    """One station's QA log file.

    MICROWELD_QA_DURABILITY=off in the environment turns durability down: synchronous=OFF, and
    records are left in an open transaction committed only every DEFERRED_BATCH records (and
    at close), so a verdict is shown before its record is durable. It exists only so the
    reliability battery can show that its crash harness catches lost records; never set it
    in production. Anything but "full" (the default) or "off" is refused.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        durability = os.environ.get("MICROWELD_QA_DURABILITY", "full")
        if durability not in ("full", "off"):
            raise ValueError(f"MICROWELD_QA_DURABILITY must be full or off, not {durability!r}")
        self.durable = durability == "full"
        self._pending = 0  # records written but not yet committed (durability off only)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is synced at every commit, so a committed weld survives a power cut
        # (OFF only with durability turned down, above)
        self.db.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'OFF'}")
        self.db.executescript(SCHEMA + AUDIT_TABLE)
        self._widen_audit()

    def _widen_audit(self) -> None:
        """Let a log made before the 'station' audit kind take it (the CHECK is rewritten by
        copying the table: SQLite cannot alter a constraint)."""

        def old() -> bool:
            sql = self.db.execute("SELECT sql FROM sqlite_master WHERE name = 'audit'").fetchone()
            return "'station'" not in sql[0]

        if not old():
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if old():  # checked again under the lock: another process may have done it
                self.db.execute("ALTER TABLE audit RENAME TO audit_before_station")
                self.db.execute(AUDIT_TABLE)
                self.db.execute("INSERT INTO audit SELECT * FROM audit_before_station")
                self.db.execute("DROP TABLE audit_before_station")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Commit what durability off left pending; close the file."""
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.close()

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
        blobs = [pack_waveform(rec.waveform) for rec in recs]
        if not self.db.in_transaction:  # durability off may have left one open
            self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT row_hash FROM welds ORDER BY id DESC LIMIT 1").fetchone()
            prev = row[0] if row else GENESIS
            ids = []
            for rec, blob in zip(recs, blobs, strict=True):
                digest = _row_hash(prev, rec, blob)
                cur = self.db.execute(
                    f"INSERT INTO welds ({', '.join(_FIELDS)}, waveform, prev_hash, row_hash)"
                    f" VALUES ({', '.join('?' * (len(_FIELDS) + 3))})",
                    (*_columns(rec), blob, prev, digest),
                )
                ids.append(int(cur.lastrowid or 0))
                prev = digest
            self._pending += len(recs)
            if self.durable or self._pending >= DEFERRED_BATCH:
                self.db.execute("COMMIT")
                self._pending = 0
        except BaseException:
            self.db.execute("ROLLBACK")
            self._pending = 0
            raise
        return ids

    def last_supply_weld_count(self, station: str) -> int | None:
        """Return the supply weld counter of the station's latest record that has one."""
        # newest first, so the scan stops at the station's latest counted weld
        row = self.db.execute(
            "SELECT supply_weld_count FROM welds WHERE station = ?"
            " AND supply_weld_count IS NOT NULL ORDER BY id DESC LIMIT 1",
            (station,),
        ).fetchone()
        return None if row is None else int(row[0])

    def audit(self, who: str, kind: str, name: str, old: str, new: str) -> None:
        """Record a change of a schedule or a window, or what was found at a station (kind
        schedule, window or station; old and new text)."""
        self.db.execute(
            "INSERT INTO audit (t_utc, who, kind, name, old, new) VALUES (?, ?, ?, ?, ?, ?)",
            (datetime.now(UTC).isoformat(timespec="microseconds"), who, kind, name, old, new),
        )

    def dressed(self, station: str, who: str) -> None:
        """Record that the station's electrode was dressed (its weld count starts again)."""
        self.db.execute(
            "INSERT INTO dressings (t_utc, station, who) VALUES (?, ?, ?)",
            (datetime.now(UTC).isoformat(timespec="microseconds"), station, who),
        )

    def welds_since_dressing(self, station: str) -> int:
        """Return the welds (not aborted ones) the station made since its last dressing."""
        row = self.db.execute(
            "SELECT MAX(id) FROM dressings WHERE station = ?", (station,)
        ).fetchone()
        last = self.db.execute("SELECT t_utc FROM dressings WHERE id = ?", (row[0],)).fetchone()
        since = last[0] if last else ""
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM welds WHERE station = ? AND verdict != 'ABORTED'"
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
        sql = f"SELECT id, {', '.join(_FIELDS)} FROM welds"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.execute(sql + " ORDER BY id", args)
        return [LoggedWeld(id=r[0], **_fields(r[1:])) for r in rows]

    def waveform(self, weld_id: int) -> np.ndarray:
        """Return a logged weld's waveform (n, 4: A, V, N, µm)."""
        row = self.db.execute("SELECT waveform FROM welds WHERE id = ?", (weld_id,)).fetchone()
        if row is None:
            raise KeyError(f"no weld {weld_id} in {self.path}")
        return unpack_waveform(row[0])

    def audit_trail(self) -> list[tuple[str, str, str, str, str, str]]:
        """Return every audit entry: (time, who, kind, name, old, new)."""
        return list(
            self.db.execute("SELECT t_utc, who, kind, name, old, new FROM audit ORDER BY id")
        )

    def verify(self) -> list[str]:
        """Return every break in the hash chain (an edited, inserted or deleted row)."""
        problems = []
        prev = GENESIS
        rows = self.db.execute(
            f"SELECT id, {', '.join(_FIELDS)}, waveform, prev_hash, row_hash FROM welds ORDER BY id"
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
        """Return SQLite's integrity check ("ok" when the file is sound)."""
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])


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
        rate = float(
            log.db.execute("SELECT sample_rate_hz FROM welds WHERE id=?", (i,)).fetchone()[0]
        )
        t = np.arange(len(wave)) / rate
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
