"""Start and stop: a session opened, perhaps welded with, and closed, over and over,
while the link to the station goes down and comes back at random moments: every close ends
within 5 s and leaves no thread, child process or file descriptor behind.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import controller.weld.bench
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.session import SessionError, WeldSession
from controller.weld.simstation import Endpoints, SimControl, sim_station
from drivers.errors import DeviceRefusedError
from tests.reliability.battery import Record, children, fds, scale

CYCLES = scale(20, 1000)
CLOSE_LIMIT_S = 5.0
OPEN_LIMIT_S = 30.0  # the station's start, plus one reply timeout if the link is down then


class Flapper:
    """Cuts and restores the station's link at random moments while the station runs."""

    def __init__(self, ends: Endpoints, rng: random.Random, first_down: bool) -> None:
        self.control = SimControl(ends.control)
        self.rng = rng
        self.down = False
        self.toggles = 0
        self.stop = threading.Event()
        if first_down:  # down from the start: the session's first requests meet a cut link
            self._toggle()
        self.thread = threading.Thread(target=self._run, name="link-flapper")
        self.thread.start()

    def _toggle(self) -> None:
        self.down = not self.down
        self.control.faults(link_down=self.down)
        self.toggles += 1

    def _run(self) -> None:
        while not self.stop.wait(self.rng.uniform(0.05, 1.2)):
            try:
                self._toggle()
            except (OSError, ValueError):
                return  # the station is going away

    def close(self) -> None:
        """Stop flapping (the link is left as it is) and close the panel."""
        self.stop.set()
        self.thread.join()
        self.control.close()


@pytest.fixture
def flapping(monkeypatch: pytest.MonkeyPatch) -> list[Flapper]:
    """Let a WeldSession start its simulated station as usual, with a link that flaps."""
    made: list[Flapper] = []
    rng = random.Random(11)

    @contextmanager
    def tap(*args: str, **kw: Any) -> Iterator[Endpoints]:
        with sim_station(*args, **kw) as ends:
            flap = Flapper(ends, rng, first_down=rng.random() < 0.25)
            made.append(flap)
            try:
                yield ends
            finally:
                flap.close()

    monkeypatch.setattr(controller.weld.bench, "sim_station", tap)
    return made


def _settled(check: Any, want: Any, within_s: float = 1.0) -> Any:
    """Return check() once it equals want, or its last value after within_s."""
    deadline = time.monotonic() + within_s
    while (got := check()) != want and time.monotonic() < deadline:
        time.sleep(0.02)
    return got


def test_sessions_open_and_close_cleanly_while_the_link_flaps(
    record: Record, flapping: list[Flapper], tmp_path: Path
) -> None:
    rng = random.Random(5)
    qa = tmp_path / "qa.sqlite"
    threads0 = set(threading.enumerate())
    kids0, fds0 = children(), fds()
    closes: list[float] = []
    outcomes: dict[str, int] = {}
    problems: list[str] = []
    for k in range(CYCLES):
        session = WeldSession("sim", qa_log=str(qa), clock="lockstep")
        t0 = time.monotonic()
        try:
            session.open()
            outcome = "opened"
        except (SessionError, DeviceRefusedError) as exc:
            # a link that does not answer at opening is a SessionError, in words
            outcome = f"open refused ({type(exc).__name__})"
        opened_s = time.monotonic() - t0
        if opened_s > OPEN_LIMIT_S:
            problems.append(f"cycle {k}: open took {opened_s:.1f} s")
        if session.bench is not None and rng.random() < 0.6:
            try:
                res = session.weld(WeldIdentity(part_id=f"cycle-{k}"))
                outcome = f"welded {res.result.verdict}"
            except SessionError:
                outcome = "weld refused"
        t1 = time.monotonic()
        session.close()
        closes.append(time.monotonic() - t1)
        record.latency(closes[-1])
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        record.faults += flapping[-1].toggles
        # nothing left behind: the station process, its threads and descriptors are gone
        if (left := _settled(children, kids0)) != kids0:
            problems.append(f"cycle {k}: child processes left: {left - kids0}")
        if (now := _settled(lambda: set(threading.enumerate()), threads0)) != threads0:
            problems.append(f"cycle {k}: threads left: {[t.name for t in now - threads0]}")
        if (n := _settled(fds, fds0)) != fds0:
            problems.append(f"cycle {k}: {n - fds0:+d} file descriptors")
        if closes[-1] > CLOSE_LIMIT_S:
            problems.append(f"cycle {k}: close took {closes[-1]:.2f} s ({outcome})")
    record.cases = CYCLES
    log = QaLog(qa)
    chain, logged = log.verify(), len(log.welds())
    log.close()
    problems += chain
    record.notes.append(
        f"{outcomes}; {logged} welds logged; close s: max {max(closes):.3f}, "
        f"mean {sum(closes) / len(closes):.3f}; fds {fds0}, threads {len(threads0)}"
    )
    record.failures = len(problems)
    assert problems == [], problems
