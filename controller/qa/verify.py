"""The check `microweld log --verify` makes, for every command that states it (`log`, `report`):
the database's own integrity, then the seals and chains against the anchor."""

from __future__ import annotations

from controller.qa.log import QaLog


def problems(log: QaLog) -> list[str]:
    """Return every way the log is damaged or tampered with ([] when verified)."""
    found: list[str] = []
    integrity = log.integrity_check()
    if integrity != "ok":
        found.append(f"the database is damaged: {integrity[:500]}")
    try:
        found += log.verify()
    except Exception as exc:  # a damaged file may not even be read through
        found.append(f"the hash chain cannot be read: {exc}")
    return found
