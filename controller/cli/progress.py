"""The progress of a long command (run's welds, map's points, teach's monitoring), with rich.

The bar is drawn live on stderr only when stderr is a terminal. Anywhere else (a pipe, a file,
CI, the tests) there is no bar: at most a plain line now and then, so that what is captured
stays one line per thing and can be read by a program. While the bar is live, the lines the
command prints go through the bar's console, which draws them above it: a line never lands in
the middle of the bar (a hand-drawn `\\r` bar and the per-weld lines once collided).
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress


class Progress:
    """A progress bar for `total` steps named `label`, used as a context manager.

    plain_every: without a terminal, print "LABEL n/total, rate, time left" on stderr at most
    this often (seconds) and once at the end; None: never (the command's own lines say it).
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        plain_every: float | None = None,
        quiet: bool = False,
        console: Console | None = None,
    ) -> None:
        self.total = total
        self.label = label
        self.plain_every = None if quiet else plain_every
        self.n = 0
        self._t0 = time.monotonic()
        self._last = 0.0
        # console: the tests' forced terminal; else live only on a real one
        live = not quiet and (console is not None or sys.stderr.isatty())
        self._console = console or Console(stderr=True, markup=False, highlight=False)
        self._bar: RichProgress | None = None
        if live:
            self._bar = RichProgress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._console,
                # stdout is drawn above the bar only when it is this terminal too: piped, it
                # goes on to its reader untouched
                redirect_stdout=console is None and sys.stdout.isatty(),
                redirect_stderr=console is None,
            )
            self._task = self._bar.add_task(label, total=total)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop drawing the bar (it stays on the screen as it last was)."""
        if self._bar is not None:
            self._bar.stop()

    def advance(self, n: int = 1) -> None:
        """Count n more steps done."""
        self.n += n
        if self._bar is not None:
            self._bar.update(self._task, completed=self.n)
            return
        now = time.monotonic()
        if self.plain_every is None:
            return
        if now - self._last < self.plain_every and self.n < self.total:
            return
        self._last = now
        rate = self.n / max(now - self._t0, 1e-9)
        left = (self.total - self.n) / rate if rate > 0 else 0.0
        line = f"{self.label} {self.n}/{self.total}, {rate:.1f}/s, {left:.0f} s left"
        print(line, file=sys.stderr, flush=True)

    def line(self, text: str, *, err: bool = False) -> None:
        """Print one line of the command's own (stdout, or stderr if err), above the bar while
        it is live on the same terminal. text is printed as it is: no markup, no highlighting
        (a name a person typed is only text)."""
        stream = sys.stderr if err else sys.stdout
        if self._bar is not None and (err or stream.isatty()):
            self._console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=stream, flush=True)
