"""The reliability battery's shared pieces: how many cases, what a test ran and found."""

from __future__ import annotations

import os
from pathlib import Path

LONG = os.environ.get("MICROWELD_RELIABILITY", "short") == "long"
CORPUS = Path(__file__).parent / "corpus"


def scale(short: int, long: int) -> int:
    """How many cases: `short` in CI, `long` in the long form."""
    return long if LONG else short


class Record:
    """What one test of the battery ran and found."""

    def __init__(self) -> None:
        self.cases = 0
        self.faults = 0
        self.failures = 0
        self.worst_ms: float | None = None
        self.notes: list[str] = []

    def latency(self, seconds: float) -> None:
        """Note one measured latency; the worst is reported."""
        ms = seconds * 1e3
        self.worst_ms = ms if self.worst_ms is None else max(self.worst_ms, ms)


def kept(target: str) -> list[bytes]:
    """Return the kept inputs of one target (corpus/TARGET/*.bin): each once broke something."""
    folder = CORPUS / target
    return [p.read_bytes() for p in sorted(folder.glob("*.bin"))] if folder.exists() else []


def children() -> set[int]:
    """Return the pids of this process's child processes (from /proc)."""
    me, out = os.getpid(), set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                out.add(int(name))
    return out


def fds() -> int:
    """Return how many file descriptors this process holds."""
    return len(os.listdir("/proc/self/fd"))


def rss_kb(pid: int | str = "self") -> int:
    """Return a process's resident set size (kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")
