"""The digest a numba kernel's entry module carries of the modules compiled into it (numba's
cache knows only the entry's own file)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path


def sources_sha256(paths: Sequence[Path]) -> str:
    """Return the SHA-256 (hex) of the files in order: each one's name, a NUL, its bytes."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
