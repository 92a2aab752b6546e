"""SIGINT and SIGTERM without a weld left half done.

While `handled()` is in force, a signal that lands during a weld cycle does not raise where it
lands: it asks the cycle to stop, as the operator's Stop does. The sequencer aborts (current off,
supply disarmed, head retracted, each command's reply checked), the weld is logged ABORTED with
what it has, and only then does `Interrupted` reach the caller. Outside a cycle the signal
raises at once. A second signal raises at once wherever it lands: the cycle's last resort sends
the safe commands without waiting for replies.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A signal ended the work (a BaseException, as KeyboardInterrupt is: `except Exception`
    must not swallow it). `result`: the interrupted weld's, once it was logged."""

    def __init__(self, signum: int, result: Any = None) -> None:
        self.signum = signum
        self.result = result
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by this signal (130 SIGINT, 143 SIGTERM)."""
        return 128 + self.signum


_pending: int | None = None  # a signal that asked the running cycle to stop
_cycles = 0  # cycles running now


def requested() -> str:
    """Return why a signal asked the running cycle to stop ("" if none did)."""
    return "" if _pending is None else f"interrupted by {signal.Signals(_pending).name}"


def _handler(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _cycles and _pending is None:
        _pending = signum
        return
    _pending = None
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """Handle SIGINT and SIGTERM as above until the block ends (main thread only)."""
    before = {s: signal.signal(s, _handler) for s in HANDLED}
    try:
        yield
    finally:
        for s, old in before.items():
            signal.signal(s, old)


@contextmanager
def cycle() -> Iterator[None]:
    """Mark a weld cycle as running: a first signal asks it to stop instead of raising."""
    global _cycles
    _cycles += 1
    try:
        yield
    finally:
        _cycles -= 1


def raise_pending(result: Any = None) -> None:
    """Raise Interrupted if a signal asked the cycle that just ended to stop."""
    global _pending
    if _pending is not None and not _cycles:
        signum, _pending = _pending, None
        raise Interrupted(signum, result)
