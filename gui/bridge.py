"""The Qt bridge: the controller's weld session on a worker thread, seen through signals.

All device I/O happens on one worker thread (a Modbus link is not shared between threads): it
opens the session, runs a weld when asked, and between welds polls the devices' status and
drains a paced stream. The GUI thread only sends requests and receives signals; live samples go
through a Ring that the GUI reads at its own plot rate, so a slow GUI never slows the monitor.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from controller.cycle import Operator
from controller.sequencer import State
from controller.session import SessionError, WeldSession
from drivers.config.loader import ConfigError
from drivers.modbus import DeviceRefusedError, LinkError
from gui.ring import Ring

RING_S = 2.0  # seconds of samples kept for the live plot
SAMPLE_RATE_HZ = 50_000
STATUS_EVERY_S = 0.25
ESTOP_REASON = "e-stop pressed at the operator station"
STOP_REASON = "stopped by the operator"


@dataclass
class _Weld:
    who: Operator


class StationBridge(QObject):
    """A weld session on its own thread; requests in, signals out."""

    opened = Signal(dict)  # station, schedule, window, clock
    state_changed = Signal(str)  # the sequencer's state, as it changes
    weld_started = Signal()
    weld_finished = Signal(object)  # CycleResult, after its record is committed
    events = Signal(list)  # [(name, t_s)] as the monitor finds them
    status = Signal(dict)  # devices, interlocks, electrode count
    error = Signal(str)  # anything the operator must read

    def __init__(self, make_session: Callable[[], WeldSession]) -> None:
        super().__init__()
        self.make_session = make_session
        self.ring = Ring(int(RING_S * SAMPLE_RATE_HZ), 7)
        self.session: WeldSession | None = None
        self.busy = False
        self._requests: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="weld-session", daemon=True)
        self._estop = False
        self._weld_enabled = True

    # --- requests from the GUI thread ---------------------------------------------------------

    def start(self) -> None:
        """Open the session on the worker thread (the simulated station may take seconds)."""
        self._thread.start()

    def weld(self, who: Operator) -> None:
        """Ask for one weld."""
        self._requests.put(_Weld(who))

    def stop(self) -> None:
        """End the running weld now: current stopped, supply disarmed, head retracted."""
        bench = self.session.bench if self.session else None
        if bench is not None and self.busy:
            bench.stop_request = STOP_REASON

    def set_estop(self, pressed: bool) -> None:
        """Press (latch) or release the station's e-stop: no weld while pressed."""
        self._estop = pressed
        bench = self.session.bench if self.session else None
        if bench is not None:
            bench.stop_request = ESTOP_REASON if pressed else ""
            bench.interlocks = dataclasses.replace(bench.interlocks, estop_released=not pressed)

    def set_weld_enabled(self, on: bool) -> None:
        """Weld (True) or no-weld: the whole force cycle with zero current (next weld on)."""
        self._weld_enabled = on
        bench = self.session.bench if self.session else None
        if bench is not None:
            bench.weld_enabled = on

    def reset_faults(self) -> None:
        """Clear the devices' faults (after the cause is gone)."""
        self._requests.put("reset")

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Finish the running weld's record, close the session and stop the worker."""
        self.stop()
        self._requests.put("quit")
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    # --- the worker thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            session = self.make_session()
            session.open()
        except (ConfigError, SessionError, LinkError, DeviceRefusedError, RuntimeError) as exc:
            self.error.emit(f"cannot open the station: {exc}")
            return
        self.session = session
        assert session.bench is not None
        session.bench.weld_enabled = self._weld_enabled
        self.set_estop(self._estop)
        self.opened.emit(
            {
                "station": session.station.name,
                "schedule": session.schedule.name,
                "window": session.window.name if session.window else "",
                "clock": session.clock or getattr(session.station, "clock", "paced"),
                "qa_log": str(session.qa_path),
            }
        )
        try:
            self._loop(session)
        finally:
            session.close()

    def _loop(self, session: WeldSession) -> None:
        next_status = 0.0
        while True:
            try:
                req = self._requests.get(timeout=0.02)
            except queue.Empty:
                req = None
            if req == "quit":
                return
            if isinstance(req, _Weld):
                self._weld(session, req.who)
                next_status = 0.0
            elif req == "reset":
                self._reset(session)
                next_status = 0.0
            self._drain(session)
            if time.monotonic() >= next_status:
                self._poll(session)
                next_status = time.monotonic() + STATUS_EVERY_S

    def _weld(self, session: WeldSession, who: Operator) -> None:
        assert session.bench is not None
        if self._estop:
            self.error.emit("weld refused: the e-stop is pressed (release it first)")
            return
        session.bench.stop_request = ""
        self.ring.clear()
        self.busy = True
        self.weld_started.emit()
        last = [State.IDLE]

        def on_step(state: State) -> None:
            if state is not last[0]:
                last[0] = state
                self.state_changed.emit(state.value)

        def on_block(rows: np.ndarray, events: list[tuple[str, float]]) -> None:
            self.ring.push(rows)
            if events:
                self.events.emit(events)

        try:
            res = session.weld(who, on_step=on_step, on_block=on_block)
        except SessionError as exc:
            self.error.emit(str(exc))
            return
        except (LinkError, DeviceRefusedError) as exc:
            self.error.emit(f"the weld could not start: {exc}")
            return
        finally:
            self.busy = False
            if session.bench is not None and session.bench.stop_request == STOP_REASON:
                session.bench.stop_request = ""
        self.state_changed.emit(res.state.value)
        self.weld_finished.emit(res)

    def _reset(self, session: WeldSession) -> None:
        assert session.bench is not None
        try:
            session.bench.supply.reset()
            session.bench.head.reset()
        except (LinkError, DeviceRefusedError) as exc:
            self.error.emit(f"reset failed: {exc}")

    def _drain(self, session: WeldSession) -> None:
        # a paced station streams all the time: between welds its frames are read and dropped,
        # so a weld starts on fresh samples and the station never gives up on a slow reader
        bench = session.bench
        if bench is not None and not bench.lockstep:
            with contextlib.suppress(LinkError, OSError):
                for _ in range(100):
                    if not bench.stream.read(0.0):
                        break

    def _poll(self, session: WeldSession) -> None:
        bench = session.bench
        assert bench is not None
        st: dict[str, Any] = {"link": True}
        try:
            # the dedicated heartbeat: between welds too, or the devices' watchdogs trip
            bench.supply.heartbeat()
            bench.head.heartbeat()
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
                "estop": self._estop,
                "weld_enabled": bench.weld_enabled,
            }
        )
        self.status.emit(st)
