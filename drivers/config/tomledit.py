"""Edits of a TOML config file that keep what a person wrote: comments, order, layout.

The editor changes values; the file keeps its calibration notes and citations, and gains no
default it did not hold. Only the values that differ are written (tomlkit keeps each line's
comment through the change).
"""

from __future__ import annotations

import tomllib
from typing import Any

import tomlkit

_MISSING = object()


def flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return every value of a nested mapping by its dotted key (lists are values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def edited(original: str, data: dict[str, Any]) -> str:
    """Return the original text with each value of `data` that differs from it set in place
    (a key it lacks is added to its table); everything else as it was."""
    doc = tomlkit.parse(original)
    before = flat(tomllib.loads(original))
    for key, value in flat(data).items():
        if before.get(key, _MISSING) == value:
            continue
        *tables, name = key.split(".")
        node: Any = doc
        for part in tables:
            if part not in node:
                node[part] = tomlkit.table()
            node = node[part]
        node[name] = value
    return tomlkit.dumps(doc)
