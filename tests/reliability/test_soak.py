"""Soak: many welds on the simulated station, as `microweld run` makes them, with a
fault now and then: no record lost, no memory or descriptor growth, quick reconnects.

The station runs in lockstep behind Modbus TCP and the stream; the session is a WeldSession,
as the CLI and the GUI open it. Every FAULT_EVERY welds one fault lands at a random block of a
random state of the cycle, in turn: the link cut for a moment, a supply fault, the e-stop.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

from controller.qa.record import WeldIdentity
from controller.weld.sequencer import State
from controller.weld.session import SessionError, WeldSession
from controller.weld.simstation import Endpoints, SimControl
from drivers.errors import DeviceRefusedError, LinkError
from drivers.link import ModbusLink
from tests.helpers.station import reset_devices
from tests.reliability.battery import Record, children, fds, rss_kb, scale

WELDS = scale(200, 10_000)
# one fault per 100 welds in the long form; the short form makes them every 50 so each of the
# three kinds lands at least once
FAULT_EVERY = scale(50, 100)
WARMUP = scale(100, 500)  # welds before the memory and descriptor baseline
KINDS = ("link cut", "supply fault", "e-stop")
STATES = (State.APPROACH, State.SQUEEZE, State.WELD, State.HOLD, State.RELEASE)
RSS_LIMIT_KB = 10 * 1024
RECONNECT_LIMIT_S = 2.0


class ReplyClock:
    """Notes when each request on a link started and ended, and whether it was answered."""

    def __init__(self, link: ModbusLink) -> None:
        self.calls: list[tuple[float, float, bool]] = []
        call = link._call

        def timed(*args: Any, **kw: Any) -> Any:
            t0, ok = time.monotonic(), False
            try:
                reply = call(*args, **kw)
                ok = True
                return reply
            finally:
                self.calls.append((t0, time.monotonic(), ok))
                del self.calls[:-50]

        link._call = timed  # type: ignore[method-assign]

    def reconnect_s(self, up: float) -> float | None:
        """Return how long the controller waited on the link after it came back (at `up`)
        until its first answer: the rest of a request caught by the cut, plus every request
        after it up to the first answered one; time it asked nothing is not counted (None:
        no answer since)."""
        waited = 0.0
        for t0, t1, ok in self.calls:
            if t1 < up:
                continue
            waited += t1 - max(t0, up)
            if ok:
                return waited
        return None


class Faulter:
    """Injects one fault into a cycle, at a chosen block of a chosen state."""

    def __init__(self, ends: Endpoints, rng: random.Random) -> None:
        self.control = SimControl(ends.control)
        self.timer_control = SimControl(ends.control)  # the link comes back from a timer
        self.rng = rng
        self.kind = ""
        self.state = State.IDLE
        self.seen = 0
        self.target = 1
        self.injected = False
        self.restored_at: float | None = None
        self.timer: threading.Timer | None = None

    def arm(self, kind: str) -> None:
        """Inject `kind` in the next cycle, at a random state."""
        self.kind, self.state = kind, self.rng.choice(STATES)
        self.target = self.rng.randint(1, 5)  # the block of the state it lands in
        self.seen, self.injected, self.restored_at = 0, False, None

    def disarm(self) -> None:
        """Inject nothing in the next cycle."""
        self.kind = ""

    def on_step(self, now: State) -> None:
        if not self.kind or self.injected:
            return
        if now is self.state:
            self.seen += 1
            if self.seen < self.target:
                return
        elif not self.seen:
            return  # (a state shorter than the target block: the fault lands just after it)
        self.injected = True
        if self.kind == "e-stop":
            self.control.inputs(estop=True)
        elif self.kind == "supply fault":
            self.control.faults(supply="over_temperature")
        else:
            self.control.faults(link_down=True)
            # down for a moment (0.1-1 s of wall time), then back while the cycle runs on
            self.timer = threading.Timer(self.rng.uniform(0.1, 1.0), self._link_up)
            self.timer.start()

    def _link_up(self) -> None:
        self.timer_control.faults(link_down=False)
        self.restored_at = time.monotonic()

    def recover(self, session: WeldSession) -> dict[str, Any]:
        """Undo the fault as an operator would (release, clear, reset); return the truth."""
        if self.timer is not None:
            self.timer.join()
            self.timer = None
        self.control.faults(link_down=False, supply="none")
        self.control.inputs(estop=False)
        assert session.bench is not None
        reset_devices(session.bench)
        return self.control.truth()

    def close(self) -> None:
        self.control.close()
        self.timer_control.close()


def test_soak_welds_with_faults_lose_nothing_and_leak_nothing(
    record: Record, tapped: list[Endpoints], tmp_path: Path
) -> None:
    rng = random.Random(7)
    session = WeldSession("sim", qa_log=str(tmp_path / "qa.sqlite"), clock="lockstep")
    kids = set(children())
    started = blocked = 0
    latencies: list[float] = []
    unsafe: list[str] = []
    verdicts: dict[str, int] = {}
    trail: list[str] = []  # weld: controller / station RSS, kB
    base_rss = base_fds = base_station_rss = 0
    with session:
        assert session.bench is not None and session.log is not None
        (station_pid,) = set(children()) - kids
        faulter = Faulter(tapped[-1], rng)
        replies = ReplyClock(session.bench.supply.link)
        try:
            for k in range(WELDS):
                if k == WARMUP:
                    base_rss, base_fds = rss_kb(), fds()
                    base_station_rss = rss_kb(station_pid)
                if k % scale(50, 1000) == 0:
                    trail.append(f"{k}:{rss_kb()}/{rss_kb(station_pid)}")
                used, warning, _ = session.electrode()
                if used >= warning:  # dressed when the station warns, as an operator would
                    session.log.dressed(session.station.name, "soak")
                kind = ""
                if k % FAULT_EVERY == FAULT_EVERY // 2:
                    kind = KINDS[record.faults % len(KINDS)]
                    faulter.arm(kind)
                    record.faults += 1
                else:
                    faulter.disarm()
                try:
                    res = session.weld(
                        WeldIdentity(part_id=f"soak-{k:05d}"), on_step=faulter.on_step
                    )
                except SessionError as exc:
                    blocked += 1
                    record.notes.append(f"weld {k}: {exc}")
                    continue
                started += 1
                verdicts[res.result.verdict] = verdicts.get(res.result.verdict, 0) + 1
                if not kind:
                    continue
                assert faulter.injected, f"weld {k}: {kind} never injected ({faulter.state})"
                if kind == "link cut":
                    if faulter.timer is not None:
                        faulter.timer.join()
                    assert faulter.restored_at is not None
                    back = replies.reconnect_s(faulter.restored_at)
                    if back is None:  # no answer since the link came back: ask now
                        t_ask = time.monotonic()
                        while True:
                            try:
                                _ = session.bench.supply.weld_count
                                break
                            except (LinkError, DeviceRefusedError):
                                assert time.monotonic() - t_ask < 10.0, "no reconnect in 10 s"
                                time.sleep(0.01)
                        back = replies.reconnect_s(t_ask)
                        assert back is not None
                    latencies.append(back)
                    record.latency(latencies[-1])
                truth = faulter.recover(session)
                if not (truth["homed"] and not truth["armed"] and not truth["welding"]):
                    unsafe.append(f"weld {k} after {kind}: {truth}")
            truth = faulter.control.truth()
            end_rss, end_fds = rss_kb(), fds()
            end_station_rss = rss_kb(station_pid)
        finally:
            faulter.close()
        rows = session.log.welds()
        chain = session.log.verify()
    record.cases = started + blocked

    # zero lost records: every cycle that started has its record, in order, and the station's
    # weld counter shows no FIRE without a record
    counts = [r.supply_weld_count for r in rows]
    problems = []
    if len(rows) != started:
        problems.append(f"{len(rows)} records for {started} cycles started")
    known, unknown = 0, 0
    for r in rows:
        if r.supply_weld_count is None:
            unknown += 1  # the counter could not be read (link cut): one FIRE at most
            continue
        jump = r.supply_weld_count - known
        # a finished weld fired once; an aborted cycle once or not at all
        lo = 1 if r.verdict != "ABORTED" else 0
        if not lo <= jump <= 1 + unknown:
            problems.append(f"weld {r.id}: counter {known} -> {r.supply_weld_count} ({r.verdict})")
        known, unknown = r.supply_weld_count, 0
    # after the last readable counter, only cycles whose counter was unreadable may have fired
    if not 0 <= truth["weld_count"] - known <= unknown:
        problems.append(f"station fired {truth['weld_count']}, last logged counter {known}")
    if len(truth["fire_times_s"]) != truth["weld_count"]:
        problems.append("station truth: fire times and counter disagree")
    problems += chain + unsafe
    if blocked:
        problems.append(f"{blocked} starts refused after recovery")

    grown_kb = end_rss - base_rss
    station_kb = end_station_rss - base_station_rss
    record.notes.append(
        f"{started} welds {verdicts}; counter 1..{truth['weld_count']}; "
        f"RSS {base_rss} -> {end_rss} kB ({grown_kb:+d}), station {station_kb:+d} kB; "
        f"fds {base_fds} -> {end_fds}; reconnects (s): "
        + ", ".join(f"{x:.3f}" for x in latencies)
        + "; RSS trail (weld:controller/station kB) "
        + " ".join(trail)
    )
    # the memory bound is for the long form (10,000 welds); the short form's welds after the
    # warm-up get the same bound per weld, but never below 2 MB (allocator arenas come in MBs)
    per_weld_kb = RSS_LIMIT_KB / (10_000 - 500)
    limit_kb = max(2048, per_weld_kb * (WELDS - WARMUP))
    if grown_kb > limit_kb:
        problems.append(f"controller RSS grew {grown_kb} kB (limit {limit_kb:.0f})")
    if station_kb > limit_kb:
        problems.append(f"station RSS grew {station_kb} kB (limit {limit_kb:.0f})")
    if end_fds > base_fds:
        problems.append(f"file descriptors {base_fds} -> {end_fds}")
    slow = [x for x in latencies if x > RECONNECT_LIMIT_S]
    if slow:
        problems.append(f"reconnects over {RECONNECT_LIMIT_S} s: {slow}")
    record.failures = len(problems)
    assert problems == [], problems
    assert counts and latencies
