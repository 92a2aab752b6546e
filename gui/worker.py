"""The weld session's own process, served to the GUI over a pipe (no Qt here).

The monitor's timing must not depend on how busy the GUI is. In one process the weld thread and
the Qt thread share the GIL, and every frame the GUI paints delays the monitor's decision (its
p99 was 11-34 % worse). Here the session, its cycle, its monitor and all device I/O live in a
process of their own; the GUI sends requests down a pipe, reads messages back, and draws the
live samples from a shared-memory Ring the weld writes without ever waiting.

Requests (GUI → session): ("weld", WeldIdentity, reweld), ("stop",), ("estop", bool),
("weld_enabled", bool), ("reset",), ("quit",). Stop, e-stop and weld/no-weld act at once,
during a weld too.
Messages (session → GUI): ("opened", dict), ("state", str), ("started",), ("finished",
CycleResult), ("events", [(name, t_s)]), ("status", dict), ("error", str).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from controller.qa.record import WeldIdentity
from controller.weld import heap, signals
from controller.weld.cycle import HEARTBEAT_S
from controller.weld.sequencer import State
from controller.weld.session import SessionError, WeldSession
from drivers.config.loader import ConfigError
from drivers.errors import DeviceRefusedError, LinkError
from gui.ring import Ring

STATUS_EVERY_S = 0.25
ESTOP_REASON = "e-stop pressed at the operator station"
STOP_REASON = "stopped by the operator"


def weld_core() -> int | None:
    """The CPU the weld session keeps for itself: the last this process may run on, if it may
    run on two or more (on one CPU there is nothing to split)."""
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[-1] if len(cpus) >= 2 else None


def keep_core(cpu: int | None) -> None:
    """Run this process on `cpu` only (the weld session's side)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def leave_core(cpu: int | None) -> None:
    """Keep this process off `cpu` (the GUI's side).

    Two processes no longer share a GIL, but they still share the machine: a GUI that paints
    on whichever core is free pushes the weld session from core to core, and it wakes each
    millisecond with cold caches (measured on 2 cores: p50 11.7 -> 17-19 us while painting).
    """
    if cpu is None:
        return
    # Every thread, not only the caller: the threads started before this call (numpy's
    # OpenBLAS pool, Qt's QThreadPool that the raster engine hands big image work to) keep the
    # mask they were born with, and such a thread woken on the weld core preempts the session.
    # Threads started later inherit the caller's mask.
    all_threads_on(os.sched_getaffinity(0) - {cpu})


def all_threads_on(cpus: set[int]) -> None:
    """Run every thread of this process (and the processes it starts later) on `cpus`."""
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(tid), cpus)


@dataclass(frozen=True)
class SessionSpec:
    """What to open: a picklable recipe for the session, made in the session's process."""

    station: str = "sim"
    schedule: str | None = None
    window: str | None = None
    qa_log: str | None = None
    clock: str | None = None

    def __call__(self) -> WeldSession:
        return WeldSession(
            self.station,
            self.schedule,
            self.window,
            self.qa_log,
            clock=self.clock,
            keep_alive=False,  # this loop beats the heartbeats between welds itself
            stale_window="hold",  # opened all the same: the screen says why it does not weld
        )


class _Served:
    """The session's side: the weld loop on the main thread, requests read by a listener."""

    def __init__(self, conn: Connection, ring: Ring) -> None:
        self.conn = conn
        self.ring = ring
        self.session: WeldSession | None = None
        self.busy = False
        self.estop = False
        self.weld_enabled = True
        self.quitting = False
        self.jobs: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._send_lock = threading.Lock()

    def send(self, *msg: Any) -> None:
        with self._send_lock, contextlib.suppress(OSError):
            self.conn.send(msg)

    # --- the listener thread: requests act at once ----------------------------------------------

    def listen(self) -> None:
        while True:
            try:
                req = self.conn.recv()
            except (EOFError, OSError):
                req = ("quit",)  # the GUI is gone: end the weld, keep its record, close
            kind = req[0]
            if kind == "quit":
                self.quitting = True  # and a weld asked for but not begun never begins
            if kind in ("stop", "quit"):
                self._stop()
            elif kind == "estop":
                self.estop = bool(req[1])
                self._apply_estop()
            elif kind == "weld_enabled":
                self.weld_enabled = bool(req[1])
                if self.session is not None and self.session.bench is not None:
                    self.session.bench.weld_enabled = self.weld_enabled
            if kind in ("weld", "reset", "quit"):
                self.jobs.put(req)
            if kind == "quit":
                return

    def _stop(self) -> None:
        bench = self.session.bench if self.session else None
        if bench is not None and self.busy:
            bench.stop_request = STOP_REASON

    def _apply_estop(self) -> None:
        bench = self.session.bench if self.session else None
        if bench is not None:
            bench.stop_request = ESTOP_REASON if self.estop else ""
            bench.interlocks = dataclasses.replace(bench.interlocks, estop_released=not self.estop)

    # --- the main thread: open, weld, poll --------------------------------------------------------

    def run(self, spec: SessionSpec, cpu: int | None) -> None:
        threading.Thread(target=self.listen, name="requests", daemon=True).start()
        try:
            session = spec()
            session.open()
        except (ConfigError, SessionError, LinkError, DeviceRefusedError, RuntimeError) as exc:
            self.send("error", f"cannot open the station: {exc}")
            return
        except Exception as exc:  # anything else: the operator sees why, not "exit code 1"
            traceback.print_exc()
            self.send("error", f"cannot open the station: {type(exc).__name__}: {exc}")
            return
        assert session.bench is not None
        keep_core(cpu)  # after open: a simulated station started by it keeps every core
        heap.settle()  # start-up done: its objects out of the collector's way
        # on a core of its own the session polls its stream rather than sleep (WaveformStream)
        session.bench.stream.spin = cpu is not None
        self.session = session
        session.bench.weld_enabled = self.weld_enabled
        self._apply_estop()
        self.send(
            "opened",
            {
                "station": session.station.name,
                "schedule": session.schedule.name,
                "window": session.window.name if session.window else "",
                "clock": session.clock or getattr(session.station, "clock", "paced"),
                "qa_log": str(session.qa_path),
            },
        )
        for warning in session.warnings:
            self.send("error", warning)
        try:
            self._loop(session)
        finally:
            session.close()

    def _loop(self, session: WeldSession) -> None:
        next_status = next_beat = 0.0
        while True:
            try:
                req = self.jobs.get(timeout=0.02)
            except queue.Empty:
                req = ("",)
            if req[0] == "quit" or self.quitting:
                return
            if req[0] == "weld":
                self._weld(session, req[1], req[2])
                next_status = 0.0
            elif req[0] == "reset":
                self._reset(session)
                next_status = 0.0
            self._drain(session)
            if time.monotonic() >= next_beat:
                self._beat(session)
                # between welds as in them, so the devices' status shows them alive (at rest a
                # silent station trips nothing; in a weld the cycle beats)
                next_beat = time.monotonic() + HEARTBEAT_S
            if time.monotonic() >= next_status:
                self._poll(session)
                next_status = time.monotonic() + STATUS_EVERY_S

    def _weld(self, session: WeldSession, who: WeldIdentity, reweld: bool) -> None:
        assert session.bench is not None
        if self.estop:
            self.send("error", "weld refused: the e-stop is pressed (release it first)")
            return
        session.bench.stop_request = ""
        self.ring.clear()
        self.busy = True
        self.send("started")
        last = [State.IDLE]

        def on_step(state: State) -> None:
            if state is not last[0]:
                last[0] = state
                self.send("state", state.value)

        def on_block(rows: np.ndarray, events: Sequence[tuple[str, float]]) -> None:
            self.ring.push(rows)
            if events:
                self.send("events", list(events))

        try:
            res = session.weld(who, on_step=on_step, on_block=on_block, reweld=reweld)
        except SessionError as exc:
            self.send("error", str(exc))
            return
        except (LinkError, DeviceRefusedError) as exc:
            self.send("error", f"the weld could not start: {exc}")
            return
        finally:
            self.busy = False
            if session.bench is not None and session.bench.stop_request == STOP_REASON:
                session.bench.stop_request = ""
        self.send("state", res.state.value)
        self.send("finished", res)
        for notice in session.take_notices():
            self.send("error", notice)

    def _reset(self, session: WeldSession) -> None:
        assert session.bench is not None
        try:
            session.bench.supply.reset()
            session.bench.head.reset()
        except (LinkError, DeviceRefusedError) as exc:
            self.send("error", f"reset failed: {exc}")

    def _drain(self, session: WeldSession) -> None:
        # a paced station streams all the time: between welds its frames are read and dropped,
        # so a weld starts on fresh samples and the station never gives up on a slow reader
        bench = session.bench
        if bench is not None and not bench.lockstep:
            with contextlib.suppress(LinkError, OSError):
                for _ in range(100):
                    if not bench.stream.read(0.0):
                        break

    def _beat(self, session: WeldSession) -> None:
        # a lost link shows in the next status poll
        bench = session.bench
        assert bench is not None
        with contextlib.suppress(LinkError, DeviceRefusedError):
            bench.supply.heartbeat()
            bench.head.heartbeat()

    def _poll(self, session: WeldSession) -> None:
        bench = session.bench
        assert bench is not None
        st: dict[str, Any] = {"link": True}
        try:
            sup = bench.supply.status()
            head = bench.head.status()
            st.update({f"supply.{k}": v for k, v in sup.items()})
            st.update({f"head.{k}": v for k, v in head.items()})
            st["supply.fault_code"] = int(bench.supply.read("fault_code"))
            st["supply.weld_count"] = int(bench.supply.read("weld_count"))
            st["supply.temperature_c"] = bench.supply.read("temperature_c")
            if "charge_actual_v" in bench.supply.regmap:
                st["supply.charge_v"] = bench.supply.read("charge_actual_v")
            st["head.fault_code"] = int(bench.head.read("fault_code"))
            st["head.position_um"] = bench.head.read("position_um")
            st["head.force_n"] = bench.head.read("force_n")
        except (LinkError, DeviceRefusedError) as exc:
            st = {"link": False, "link_error": str(exc)}
        used, warning, limit = session.electrode()
        st.update(
            {
                "electrode.used": used,
                "electrode.warning": warning,
                "electrode.limit": limit,
                "estop": self.estop,
                "weld_enabled": bench.weld_enabled,
            }
        )
        self.send("status", st)


SWITCH_S = 2e-4  # the session process's thread switch interval (s)


def serve(spec: SessionSpec, conn: Connection, ring: Ring, cpu: int | None = None) -> None:
    """The session process's entry: open the station, then (on `cpu` alone, if given) serve
    requests until quit, close."""
    # The listener thread takes Stop and E-STOP while the weld loop runs: it must have the
    # interpreter within a block, not after Python's default 5 ms turn (a press 6 ms before
    # FIRE was read after it, and the pulse ran)
    sys.setswitchinterval(SWITCH_S)
    served = _Served(conn, ring)
    try:
        with signals.handled():  # SIGINT, SIGTERM: the weld in progress is finished safely
            served.run(spec, cpu)
    except signals.Interrupted as exc:
        served.send("error", f"the weld session was {exc}: it made the station safe and ended")
    finally:
        served.send("closed")
        conn.close()
