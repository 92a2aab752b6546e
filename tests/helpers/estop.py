"""The GUI's weld session process on a paced simulated station, and its E-STOP pressed at a
chosen moment of a cycle, timed by the station's own truth (tests and the benchmark)."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from controller.qa.record import WeldIdentity
from controller.weld.cycle import CycleResult
from controller.weld.simstation import SimControl, sim_station
from drivers.wire.frames import SAMPLE_RATE_HZ
from gui.bridge import RING_S, ROW_WIDTH
from gui.ring import Ring
from gui.worker import SessionSpec, serve
from tests.helpers.paths import REPO
from tests.helpers.station import station_file

# every phase long enough to press in: the supply's squeeze, pulse and hold 300 ms each (the
# cycle's WELD state spans them: 0-300 before the current, 300-600 the pulse, 600-900 after),
# the head 5 mm above the part at 25 mm/s (a 200 ms approach; 10 mm/s back up)
SLOW = {
    "squeeze_ms = 5.0": "squeeze_ms = 300.0",
    "weld1_ms = 24.0": "weld1_ms = 300.0",
    "hold_ms = 20.0": "hold_ms = 300.0",
    "[head]\n": (
        "[head]\nstart_gap_mm = 5.0\napproach_speed_mm_s = 25.0\nretract_speed_mm_s = 10.0\n"
    ),
}
WATCHDOG_MS = 10_000.0  # only the controller can make the station safe in time


def slow_schedule(folder: Path) -> Path:
    """Return the shipped inverter schedule slowed down (SLOW)."""
    text = (REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml").read_text()
    for old, new in SLOW.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "slow.toml"
    path.write_text(text.replace('name = "tc_inverter_cu100_pb200"', 'name = "slow"'))
    return path


@dataclass
class Press:
    """One E-STOP press and what came of it."""

    state: str  # the cycle's state it was pressed in
    result: CycleResult | None  # None: the weld was refused
    fired_after: bool  # a FIRE landed after the press
    safe_ms: float  # press to supply disarmed, no current, head retracting or home (wall)
    said: list[str]  # the session's error lines


@dataclass
class GuiSession:
    """The session process, its pipe and the station's test panel."""

    conn: Connection
    control: SimControl
    proc: BaseProcess

    def press_in(self, state: str, after_ms: float, part: str) -> Press:
        """Start a weld, press E-STOP `after_ms` into `state`, release it once the cycle is
        over, reset the devices; return what happened."""
        fires = len(self.control.truth()["fire_times_s"])
        self.conn.send(("weld", WeldIdentity(part_id=part), False))
        heard: list[tuple[Any, ...]] = []
        while not any(m[:2] == ("state", state) for m in heard):
            assert self.conn.poll(30.0), f"never reached {state}: {heard}"
            heard.append(self.conn.recv())
            assert heard[-1][0] not in ("finished", "closed"), heard
        time.sleep(after_ms / 1e3)
        t_press = time.monotonic()
        self.conn.send(("estop", True))
        at_press = self.control.truth()["fire_times_s"][fires:]
        safe_ms = -1.0
        while safe_ms < 0.0 and time.monotonic() - t_press < 5.0:
            truth = self.control.truth()
            if not (truth["armed"] or truth["welding"]) and (truth["retracting"] or truth["homed"]):
                safe_ms = (time.monotonic() - t_press) * 1e3
        while not any(m[0] in ("finished", "error") for m in heard[-1:]):
            assert self.conn.poll(30.0), f"the cycle did not end: {heard}"
            heard.append(self.conn.recv())
        fired = self.control.truth()["fire_times_s"][fires:]
        self.conn.send(("estop", False))
        self.conn.send(("reset",))
        time.sleep(0.3)
        while self.conn.poll(0.0):
            heard.append(self.conn.recv())
        done = [m[1] for m in heard if m[0] == "finished"]
        said = [str(m[1]) for m in heard if m[0] == "error"]
        return Press(state, done[0] if done else None, len(fired) > len(at_press), safe_ms, said)


@contextmanager
def gui_session(folder: Path, sched: Path | None = None) -> Iterator[GuiSession]:
    """Run the GUI's session process on a paced station (10 s watchdogs) with a schedule
    (default: the slow one); its QA log is folder/qa.sqlite."""
    sched = sched or slow_schedule(folder)
    db = folder / "qa.sqlite"
    ctx = multiprocessing.get_context("spawn")
    with sim_station(str(sched), "--clock", "paced", "--no-rtu") as ends:
        toml = station_file(folder / "bench.toml", ends, db, str(sched), None, WATCHDOG_MS)
        control = SimControl(ends.control)
        ring = Ring(int(RING_S * SAMPLE_RATE_HZ), ROW_WIDTH, ctx)
        ours, theirs = ctx.Pipe()
        spec = SessionSpec(str(toml), str(sched), None, str(db), clock="paced")
        proc = ctx.Process(target=serve, args=(spec, theirs, ring), daemon=True)
        proc.start()
        theirs.close()
        try:
            while True:
                assert ours.poll(60.0), "the session did not open"
                msg = ours.recv()
                assert msg[0] != "closed", msg
                if msg[0] == "opened":
                    break
            yield GuiSession(ours, control, proc)
            with contextlib.suppress(OSError):  # (a test may have ended it already)
                ours.send(("quit",))
            proc.join(30.0)
        finally:
            if proc.is_alive():
                proc.kill()
                proc.join()
            ours.close()
            control.close()
