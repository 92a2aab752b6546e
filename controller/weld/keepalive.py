"""The heartbeats between welds: an open session keeps the devices' leases.

A device's lease lapses after its watchdog time without a write from its holder (a second
controller could then take the station between two welds). While a session is open and no
cycle runs, a thread of its own beats both heartbeats a third of the watchdog apart, as the
cycle does; each cycle holds it off (`paused`), so the cycle is the only one on the link.
Silence at rest is harmless to the station (its watchdog trips only an armed supply or a
head away from home): a thread that falls behind costs the lease, never safety, and the next
cycle takes the lease again if nobody else did.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from controller.weld.bench import Bench
from drivers.errors import DeviceRefusedError, LinkError


class KeepAlive:
    """Beats a bench's heartbeats every `period_s` while no cycle runs, until stopped."""

    def __init__(self, bench: Bench, period_s: float) -> None:
        self.bench = bench
        self.period_s = period_s
        self._turn = threading.Lock()  # held by a beat, and by a cycle for its whole length
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="microweld-keepalive", daemon=True)

    def start(self) -> None:
        """Start beating."""
        self._thread.start()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the beats off while the block runs (a beat under way is finished first)."""
        with self._turn:
            yield

    def stop(self) -> None:
        """Stop beating; return once the thread is done."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            if not self._turn.acquire(blocking=False):
                continue  # a cycle runs: it beats itself
            try:
                # a lost link or a refusal shows at the next cycle's start
                with contextlib.suppress(LinkError, DeviceRefusedError):
                    self.bench.supply.heartbeat()
                    self.bench.head.heartbeat()
            finally:
                self._turn.release()
