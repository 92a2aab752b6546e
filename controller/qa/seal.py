"""The QA log's seal: a key and an anchor kept outside the database.

Every row of the three chains (welds, audit entries, dressings) carries an HMAC-SHA256 of its
content and of the row before it, keyed with the station's key: a file in the data folder,
made on first use, readable by its owner only. Whoever can edit the database but not read the
key cannot recompute the chain forward. After every commit the last id and hash of each chain
are written to the log's anchor (also in the data folder, synced to disk): a log cut short,
or rolled back to an older copy, or that lost frames of its WAL in a crash, no longer reaches
its anchor.

Each row names the key that sealed it (its key id, a digest of the key): another station's
rows in a shared log are checked with that station's key once it is copied into keys/.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "MICROWELD_DATA_DIR"
KEY_BYTES = 32
CHAINS = ("welds", "audit", "dressings")


def data_dir() -> Path:
    """Return the folder of the station's own files: relative QA logs, the key, the anchors
    (MICROWELD_DATA_DIR, else $XDG_DATA_HOME/microweld, else ~/.local/share/microweld)."""
    chosen = os.environ.get(DATA_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "microweld"


def key_id(key: bytes) -> str:
    """Return the name a key goes by in the rows it sealed (not the key: a digest of it)."""
    return hashlib.sha256(b"microweld-qa-key\0" + key).hexdigest()[:16]


def station_key() -> bytes:
    """Return this station's key, making it (owner-only) the first time."""
    path = data_dir() / "qa.key"
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return _read_key(path)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(KEY_BYTES))
        f.flush()
        os.fsync(f.fileno())
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} is not a QA key ({len(key)} bytes, not {KEY_BYTES})")
    return key


def known_keys() -> dict[str, bytes]:
    """Return every key this station can check rows with: its own and those in keys/."""
    keys = [station_key()]
    folder = data_dir() / "keys"
    if folder.is_dir():
        keys += [_read_key(p) for p in sorted(folder.glob("*.key"))]
    return {key_id(k): k for k in keys}


def mac(key: bytes, body: bytes) -> str:
    """Return a row's seal: the HMAC-SHA256 of its body."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def anchor_path(where: str) -> Path:
    """Return the anchor file of the log at `where` (a file's resolved path, or a URL without
    its password)."""
    name = hashlib.sha256(where.encode()).hexdigest()[:24]
    return data_dir() / "anchors" / f"{name}.json"


@dataclass
class Anchor:
    """What the station knows of a log from outside it: each chain's last row (id, hash), and
    the id from which each table's rows are sealed (rows before it are from a log made before
    the seal; an unsealed row from it on was put there by hand)."""

    last: dict[str, tuple[int, str]]
    sealed_from: dict[str, int]


def read_anchor(path: Path) -> Anchor | None:
    """Return the anchor in file `path` (see anchor_path; None if there is none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    last = {c: (int(data["last"][c][0]), str(data["last"][c][1])) for c in data["last"]}
    return Anchor(last, {c: int(v) for c, v in data["sealed_from"].items()})


def write_anchor(path: Path, where: str, anchor: Anchor) -> None:
    """Write the anchor of the log at `where` into file `path` durably: to a file beside it,
    synced, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {
            "log": where,
            "last": {c: list(v) for c, v in anchor.last.items()},
            "sealed_from": anchor.sealed_from,
        }
    )
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # the rename itself, on a file system that can
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
