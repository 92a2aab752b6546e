"""The bench's counters: how many welds of a lot, or of the shift under way, passed.

Yield is PASS over the welds judged or stopped (PASS, FAIL, ABORTED): a no-weld cycle is no
weld, and a foreign weld (fired by another master, its part not known) is no part of a lot.
A shift starts at one of the station's `shifts` times (local time, "06:00" ...), every day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class Yield:
    """The welds counted, by verdict."""

    passed: int = 0
    failed: int = 0
    aborted: int = 0

    @property
    def made(self) -> int:
        """Return the welds counted."""
        return self.passed + self.failed + self.aborted

    def text(self) -> str:
        """Return the counters as the Weld screen shows them: '47/50 PASS (94.0 %)'."""
        if not self.made:
            return "no welds yet"
        return f"{self.passed}/{self.made} PASS ({100.0 * self.passed / self.made:.1f} %)"


def of(counts: dict[str, int]) -> Yield:
    """Return the yield of verdict counts (QaLog.verdict_counts)."""
    return Yield(counts.get("PASS", 0), counts.get("FAIL", 0), counts.get("ABORTED", 0))


def shift_start(now: datetime, starts: Sequence[str]) -> datetime:
    """Return when the shift under way at `now` (an aware local time) started: the latest of
    the day's start times at or before it, else the last one of the day before."""
    times = sorted(time.fromisoformat(s) for s in starts)
    today = [now.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0) for t in times]
    begun = [t for t in today if t <= now]
    return begun[-1] if begun else today[-1] - timedelta(days=1)
