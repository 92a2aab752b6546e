"""Instants as people give them, as the QA log keeps them: UTC, ISO 8601 with microseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|min|m|h|d)$")
AGO_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
ACCEPTED = (
    "ISO 8601 (2026-11-23, 2026-11-23T08:00, with +01:00 or Z; no offset: UTC), "
    "'now', 'today' or 'yesterday' (UTC midnight), or an age: 30m, 2h, 7d"
)


class TimeTextError(ValueError):
    """A time given that is not one; the message says what is taken."""


def stored(t: datetime) -> str:
    """Return an instant as the log's text (UTC, microseconds): its order is time's."""
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def parse_instant(text: str, now: datetime | None = None) -> str:
    """Return the instant `text` names, as the log's text; TimeTextError saying what is taken."""
    now = now or datetime.now(UTC)
    word = text.strip().lower()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if word == "now":
        return stored(now)
    if word == "today":
        return stored(midnight)
    if word == "yesterday":
        return stored(midnight - timedelta(days=1))
    if m := AGO.match(word):
        return stored(now - timedelta(seconds=float(m[1]) * AGO_UNITS[m[2]]))
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimeTextError(f"{text!r} is not a time: give {ACCEPTED}") from None
    return stored(t if t.tzinfo else t.replace(tzinfo=UTC))
