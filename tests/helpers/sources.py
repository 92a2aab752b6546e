"""The digest a numba kernel's entry module carries of the modules compiled into it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path


def sources_sha256(paths: Sequence[Path]) -> str:
    """Return the SHA-256 (hex) of the files' bytes, one file after the other, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()
