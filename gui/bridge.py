"""The Qt bridge: the controller's weld session in its own process, seen through signals.

The session (cycle, monitor, every device exchange) runs in a child process (gui.worker), so
the GUI's painting never competes with the monitor for a GIL. The GUI thread sends requests
down a pipe; a reader thread turns the session's messages into Qt signals; live samples come
through a shared-memory Ring that the GUI reads at its own plot rate, so a slow GUI never slows
the monitor.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from controller.qa.record import WeldIdentity
from drivers.wire.frames import SAMPLE_RATE_HZ
from gui.ring import Ring
from gui.worker import SessionSpec, leave_core, serve, weld_core

RING_S = 2.0  # seconds of samples kept for the live plot
ROW_WIDTH = 7  # t, I, V, R, P, F, set-down (Monitor.display)


class StationBridge(QObject):
    """A weld session in its own process; requests in, signals out."""

    opened = Signal(dict)  # station, schedule, window, clock
    state_changed = Signal(str)  # the sequencer's state, as it changes
    weld_started = Signal()
    weld_finished = Signal(object)  # CycleResult, after its record is committed
    events = Signal(list)  # [(name, t_s)] as the monitor finds them
    status = Signal(dict)  # devices, interlocks, electrode count
    error = Signal(str)  # anything the operator must read

    def __init__(self, spec: SessionSpec) -> None:
        super().__init__()
        # spawn, not fork: a forked copy of a process running Qt is not safe to use
        ctx = multiprocessing.get_context("spawn")
        self.ring = Ring(int(RING_S * SAMPLE_RATE_HZ), ROW_WIDTH, ctx)
        self.info: dict[str, str] = {}  # what "opened" said; empty until the station is open
        self.busy = False
        self._conn, child = ctx.Pipe()
        self.cpu = weld_core()  # the session's own CPU; the GUI stays off it
        self.process = ctx.Process(
            target=serve, args=(spec, child, self.ring, self.cpu), name="weld-session", daemon=True
        )
        self._child_conn = child
        self._reader = threading.Thread(target=self._read, name="session-reader", daemon=True)
        self._send_lock = threading.Lock()
        self._closing = False

    @property
    def is_open(self) -> bool:
        """The station is open and the session process alive."""
        return bool(self.info) and self.process.is_alive()

    # --- requests from the GUI thread ---------------------------------------------------------

    def start(self) -> None:
        """Start the session process (opening the simulated station may take seconds)."""
        self.process.start()
        leave_core(self.cpu)
        self._child_conn.close()  # the child holds its end: EOF here when it exits
        self._reader.start()

    def weld(self, who: WeldIdentity, reweld: bool = False) -> None:
        """Ask for one weld (reweld: of a part welded before, recorded as chosen)."""
        self._send("weld", who, reweld)

    def stop(self) -> None:
        """End the running weld now: current stopped, supply disarmed, head retracted."""
        self._send("stop")

    def set_estop(self, pressed: bool) -> None:
        """Press (latch) or release the station's e-stop: no weld while pressed."""
        self._send("estop", pressed)

    def set_weld_enabled(self, on: bool) -> None:
        """Weld (True) or no-weld: the whole force cycle with zero current (next weld on)."""
        self._send("weld_enabled", on)

    def reset_faults(self) -> None:
        """Clear the devices' faults (after the cause is gone)."""
        self._send("reset")

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop the running weld, wait for its record, close the session and its process."""
        self._closing = True
        self._send("quit")
        if self.process.pid is not None:
            self.process.join(timeout_s)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(2.0)
        if self._reader.is_alive():
            self._reader.join(2.0)
        self._conn.close()

    def _send(self, *msg: Any) -> None:
        with self._send_lock:
            try:
                self._conn.send(msg)
            except (OSError, ValueError):
                if not self._closing:
                    self.error.emit("the weld session is not running (see the messages above)")

    # --- the reader thread ---------------------------------------------------------------------

    def _read(self) -> None:
        clean = False  # the session said goodbye (after quit, or after saying why it cannot open)
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                break
            kind = msg[0]
            if kind == "closed":
                clean = True
                break
            if kind == "opened":
                self.info = msg[1]
                self.opened.emit(msg[1])
            elif kind == "state":
                self.state_changed.emit(msg[1])
            elif kind == "started":
                self.busy = True
                self.weld_started.emit()
            elif kind == "finished":
                self.busy = False
                self.weld_finished.emit(msg[1])
            elif kind == "events":
                self.events.emit(msg[1])
            elif kind == "status":
                self.status.emit(msg[1])
            elif kind == "error":
                self.busy = False
                self.error.emit(msg[1])
        self.busy = False
        self.info = {}
        if not clean and not self._closing:
            self.process.join(1.0)
            self.error.emit(
                f"the weld session ended unexpectedly (exit code {self.process.exitcode}); "
                "restart the operator station"
            )
