"""What a QA log row's seal covers, and the check of the three chains (welds, audit
entries, dressings) against their seals and the anchor (QaLog.verify)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from controller.qa import seal
from controller.qa.record import COLUMNS, FIELDS, WeldRecord, fields_of
from controller.qa.stores import Store

GENESIS = "0" * 64

# the audit entries' and dressings' sealed columns, in the order their seal covers them
EVENTS = {
    "audit": ("t_utc", "who", "kind", "name", "old", "new", "meaning"),
    "dressings": ("t_utc", "station", "who", "after_weld_id"),
}


def body(prev: str, rec: WeldRecord, blob: bytes) -> bytes:
    """Return what a weld row's seal covers: the row before's hash, the record, its waveform."""
    text = json.dumps(
        [prev, *(getattr(rec, f) for f in FIELDS)], sort_keys=True, separators=(",", ":")
    ).encode()
    return text + hashlib.sha256(blob).digest()


def row_hash_of(prev: str, rec: WeldRecord, blob: bytes) -> str:
    """Return a row's unkeyed hash: the chain of logs written before the seal."""
    return hashlib.sha256(body(prev, rec, blob)).hexdigest()


def event_body(prev: str, values: Sequence[Any]) -> bytes:
    """Return what an audit entry's or a dressing's seal covers. An audit entry made before
    signatures had meanings has none (NULL): its seal covers the columns it had."""
    if len(values) == len(EVENTS["audit"]) and values[-1] is None:
        values = values[:-1]
    return json.dumps([prev, *values], separators=(",", ":")).encode()


def verify_welds(store: Store, keys: dict[str, bytes], sealed_from: int | None) -> list[str]:
    problems: list[str] = []
    prev, sealed = GENESIS, False
    rows = store.execute(
        f"SELECT id, {COLUMNS}, waveform, prev_hash, row_hash, key_id FROM welds ORDER BY id"
    )
    n = len(FIELDS)
    for r in rows:
        rec = WeldRecord(**fields_of(r[1 : n + 1]), waveform=np.zeros((0, 4)))
        blob, prev_hash, row_hash, kid = r[n + 1 :]
        if prev_hash != prev:
            problems.append(f"weld {r[0]}: chain broken before it (a row removed?)")
        if kid is None:  # a row of a log from before the seal: its plain hash
            if sealed or (sealed_from is not None and r[0] >= sealed_from):
                problems.append(f"weld {r[0]}: unsealed after sealed rows (forged?)")
            expect = row_hash_of(prev_hash, rec, blob)
        else:
            sealed = True
            if kid not in keys:
                problems.append(f"weld {r[0]}: sealed with a key this station lacks ({kid})")
                prev = row_hash
                continue
            expect = seal.mac(keys[kid], body(prev_hash, rec, blob))
        if expect != row_hash:
            problems.append(f"weld {r[0]}: content does not match its hash (edited?)")
        prev = row_hash
    return problems


def verify_events(
    store: Store, table: str, keys: dict[str, bytes], sealed_from: int | None
) -> list[str]:
    problems: list[str] = []
    prev, sealed = GENESIS, False
    names = EVENTS[table]
    what = {"audit": "audit entry", "dressings": "dressing"}[table]
    rows = store.execute(
        f"SELECT id, {', '.join(names)}, prev_hash, row_hash, key_id FROM {table} ORDER BY id"
    )
    for r in rows:
        values, (prev_hash, row_hash, kid) = r[1 : len(names) + 1], r[len(names) + 1 :]
        if row_hash is None:  # an entry from before the seal
            if sealed or (sealed_from is not None and r[0] >= sealed_from):
                problems.append(f"{what} {r[0]}: unsealed after sealed ones (forged?)")
            continue
        sealed = True
        if prev_hash != prev:
            problems.append(f"{what} {r[0]}: chain broken before it (one removed?)")
        key = keys.get(kid)
        if key is None:
            problems.append(f"{what} {r[0]}: sealed with a key this station lacks ({kid})")
        elif seal.mac(key, event_body(prev_hash, values)) != row_hash:
            problems.append(f"{what} {r[0]}: content does not match its hash (edited?)")
        prev = row_hash
    return problems


def verify_anchor(store: Store, anchor: seal.Anchor | None) -> list[str]:
    if anchor is None:
        return []
    problems = []
    for table, (aid, ahash) in anchor.last.items():
        row = store.execute(f"SELECT row_hash FROM {table} WHERE id = ?", (aid,)).fetchone()
        last = store.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
        if row is None:
            problems.append(
                f"{table}: the log ends at id {last}, its anchor recorded id {aid}: rows "
                "were lost or removed (cut short, an older copy, a crash that lost its WAL)"
            )
        elif row[0] != ahash:
            problems.append(f"{table} {aid}: not the row its anchor recorded (rewritten?)")
    return problems
