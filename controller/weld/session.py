"""A station opened for welding: the bench, its schedule and window, the QA log, the electrode.

`microweld run` and the GUI share it: one weld at a time, each checked against the electrode
limits, run through the cycle and committed to the QA log before its verdict is returned. On
the `sim` station the simulated supply and head are started as a child process on loopback and
reached over Modbus TCP and the stream, exactly as hardware would be.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np

from controller.monitor.window import FEATURES, Window, load_window
from controller.qa.log import QaLog, QaLogWriteError
from controller.qa.mes import MesError, OpcUaPublisher
from controller.qa.record import CHANNELS, FOREIGN, LoggedWeld, WeldIdentity, WeldRecord
from controller.qa.stores import QaLogRefusedError, shown
from controller.qa.text import identity_problems
from controller.weld.bench import Bench, Plan, open_bench, program, release, take
from controller.weld.cycle import CycleResult, run_cycle
from controller.weld.keepalive import KeepAlive
from controller.weld.sequencer import State
from controller.weld.stations import (
    RtuStation,
    SimStation,
    TcpStation,
    load_station,
    recipe_window,
    schedule_path,
    window_path,
)
from drivers.config.schedule import Schedule, load_schedule
from drivers.errors import LeaseHeldError


class SessionError(RuntimeError):
    """The station cannot weld now; the message says why and what to do."""


TAKE_OVER_S = 3.0  # how long a new session waits for a head still retracting
HEARTBEAT_LOST = 3  # a device's fault_code once its watchdog tripped (every configs/devices map)
UNKNOWN = "(unknown)"  # who welded what, for a weld fired while no controller was logging


@dataclasses.dataclass(frozen=True)
class CounterGap:
    """What the supply's weld counter says about a station's QA log."""

    missing: range  # counter values with no record: fired, never logged
    behind: bool  # the counter is below the log's: the supply was replaced or its counter reset


def counter_gap(last_logged: int | None, station_count: int) -> CounterGap:
    """Compare the supply's weld counter with the last one logged for its station."""
    if last_logged is None:
        # the log never saw this station's counter: nothing to compare it with (a supply's
        # welds from before this log are not this log's to account for)
        return CounterGap(range(0), behind=False)
    if station_count < last_logged:
        return CounterGap(range(0), behind=True)
    return CounterGap(range(last_logged + 1, station_count + 1), behind=False)


class WeldSession:
    """A station opened for welding; `open`, then `weld` as often as wanted, then `close`."""

    def __init__(
        self,
        station: str = "sim",
        schedule: str | None = None,
        window: str | None = None,
        qa_log: str | None = None,
        no_weld: bool = False,
        clock: str | None = None,
        mes: str | None = None,
        keep_alive: bool = True,
        stale_window: str = "refuse",
    ) -> None:
        """Load and check the configs (ConfigError or SessionError on a bad one). mes: an
        opc.tcp:// endpoint to publish every logged weld on (default: the station's).
        keep_alive: beat the heartbeats between welds from a thread of the session's own, so
        that the station stays this session's (False: the caller beats them itself).
        stale_window: a window taught for another version of the schedule is refused here
        ("refuse"), or kept and said in `stale` ("hold": the GUI shows why, and no weld is
        made until it is taught again)."""
        self.station: SimStation | TcpStation | RtuStation = load_station(station)
        self.schedule_file = schedule_path(schedule or self.station.schedule)
        self.schedule: Schedule = load_schedule(self.schedule_file)
        win_name = recipe_window(window, schedule, self.schedule.name, self.station.window)
        self.window: Window | None = load_window(window_path(win_name)) if win_name else None
        self.stale = ""  # why the window may not judge production ("": it may)
        if self.window and self.window.schedule_hash not in ("", self.schedule.digest()):
            self.stale = (
                f"window {self.window.name} was taught for another version of schedule "
                f"{self.schedule.name}; teach it again (see the command in the window file)"
            )
            if stale_window != "hold":
                raise SessionError(self.stale)
        wants = "cd_supply" if self.schedule.supply.kind == "cd" else "inverter_supply"
        # a simulated station is built to suit the schedule
        has = wants if isinstance(self.station, SimStation) else self.station.supply_model
        if has != wants:
            # the two register maps differ: a schedule for the other kind of supply would be
            # written to the wrong registers
            what = {"cd_supply": "a cd supply", "inverter_supply": "an inverter supply"}
            raise SessionError(
                f"schedule {self.schedule.name} is for {what[wants]}, but station "
                f"{self.station.name} has {what[has]} (supply_model)"
            )
        # a file's Path, or a QaUrl for a log on a PostgreSQL server
        self.qa_path = self.station.qa_location(qa_log)
        self.no_weld = no_weld
        self.clock = clock
        self.keep_alive = keep_alive
        self._keeper: KeepAlive | None = None
        self.mes_url = mes or self.station.mes_opcua
        self._stack = contextlib.ExitStack()
        self.bench: Bench | None = None
        self.plan: Plan | None = None  # what program() made of the schedule
        self.log: QaLog | None = None
        self.mes: OpcUaPublisher | None = None
        # the supply's weld counter after this session's last cycle: a higher one at the next
        # means another master fired between them
        self._count: int | None = None
        self.warnings: list[str] = []  # what opening found that the operator must read
        self.notices: list[str] = []  # what welding found (take_notices)

    def open(self) -> None:
        """Connect to the station (start the simulated one), open the log, take over from the
        controller before (stale watchdog faults, welds it never logged), program the schedule."""
        try:
            bench = self._stack.enter_context(
                open_bench(
                    self.station, self.schedule, self.schedule_file, self.no_weld, self.clock
                )
            )
            self._take(bench)
            try:
                self.log = QaLog(self.qa_path)
            except QaLogRefusedError as exc:
                raise SessionError(f"the QA log: {exc}") from None
            self._stack.callback(self.log.close)
            # a damaged log is found before the first weld, not by its record after the current
            found = self.log.integrity_check(quick=True)
            if found != "ok":
                raise SessionError(
                    f"the QA log {shown(self.qa_path)} is damaged ({found[:200]}): not welding; "
                    "`microweld log --verify` says more"
                )
            if self.mes_url:
                try:
                    self.mes = OpcUaPublisher(
                        self.mes_url,
                        self.station.name,
                        list(FEATURES),
                        secured=self.station.mes_security == "sign_encrypt",
                    )
                except MesError as exc:
                    raise SessionError(str(exc)) from None
                self._stack.callback(self.mes.close)  # closed before the log: it reads no more
            self._report_loss(self.log)
            self._take_over(bench, self.log)
            self.plan = program(bench, self.schedule, self.station.watchdog_ms)
            self._count = int(bench.supply.weld_count)
            self.bench = bench
            if self.keep_alive and not bench.lockstep:  # (lockstep time stands still between)
                self._keeper = KeepAlive(bench, self.station.watchdog_ms / 3e3)
                self._keeper.start()
                self._stack.callback(self._keeper.stop)  # before the leases are given up
        except ConnectionError as exc:
            # a station or a QA-log server that does not answer: a message, not a traceback
            self._stack.close()
            raise SessionError(str(exc)) from None
        except BaseException:
            self._stack.close()
            raise

    def _take(self, bench: Bench) -> None:
        """Take the station's leases before anything is written: a station another controller
        holds is refused, and a device that grants none is said."""
        try:
            free = take(bench)
        except LeaseHeldError as exc:
            raise SessionError(
                f"station {self.station.name} is in use: {exc}; not welding. It is free once "
                "that controller closes, or after the station's watchdog_ms of its silence."
            ) from None
        self._stack.callback(release, bench)
        for name in free:
            self.warnings.append(
                f"the {name} grants no lease: another master could change its settings "
                "(they are read back before every weld)"
            )

    def _report_loss(self, log: QaLog) -> None:
        """Say loudly, and in the audit trail, what the log lost since its anchor (it is
        anchored again at the next commit: the entry keeps what was lost)."""
        for loss in log.short_of_anchor():
            log.audit("controller", "station", self.station.name, "the QA log's anchor", loss)
            self.warnings.append(f"the QA log {shown(self.qa_path)}: {loss}")

    def _take_over(self, bench: Bench, log: QaLog) -> None:
        """Clear what the controller before this one left at the station, and log the welds it
        fired but did not log (before the first weld: three register reads, one query)."""
        for dev in (bench.supply, bench.head):
            # the watchdog tripped because the controller before this one went quiet (it
            # ended, or died): that fault is the new controller's to clear as it takes over.
            # Any other fault is the operator's to look at (the GUI's Reset).
            if int(dev.fault_code) == HEARTBEAT_LOST:
                dev.reset()
        if not bench.lockstep:
            # a head its watchdog sent home may still be on its way: the first weld would be
            # refused. Lockstep time stands still here.
            deadline = time.monotonic() + TAKE_OVER_S
            while not bench.head.status().get("homed") and time.monotonic() < deadline:
                time.sleep(0.02)
        if isinstance(self.station, SimStation):
            # the embedded simulated station is started afresh by every session, its counter
            # at 0: it says nothing about the welds of earlier sessions in this log
            return
        name = self.station.name
        count = int(bench.supply.weld_count)
        before = log.last_counted(name)
        last = None if before is None else before.supply_weld_count
        gap = counter_gap(last, count)
        if gap.behind:
            log.audit(
                "controller",
                "station",
                name,
                f"supply weld counter {last} (the last logged)",
                f"supply weld counter {count} at opening: the supply was replaced or its "
                "counter reset",
            )
        if gap.missing and before is not None:  # (a gap needs a counted record before it)
            # a controller killed between FIRE and the commit: the station made the weld, the
            # log lacks it. One ABORTED record per missing count, all in one transaction.
            used = log.welds_since_dressing(name)
            recs = [self._unlogged(n, used + 1 + k, before) for k, n in enumerate(gap.missing)]
            self._publish(log.record_all(recs))

    def _publish(self, record_ids: list[int]) -> None:
        """Hand committed welds to the MES, as the log holds them."""
        if self.mes is not None and self.log is not None:
            assert self.log.anchor is not None
            # the log's end as its anchor has it now: the MES keeps a copy outside the log
            end = {table: list(last) for table, last in self.log.anchor.last.items()}
            for rid in record_ids:
                self.mes.publish(*self.log.weld(rid), end)
            self.notices += self.mes.take_reports()

    def take_notices(self) -> list[str]:
        """Return what the operator must be told since the last call (the MES publisher)."""
        out, self.notices = self.notices, []
        return out

    def _unlogged(self, count: int, electrode_count: int, before: LoggedWeld) -> WeldRecord:
        """Return the record of weld `count` of the supply, fired while no controller logged.

        Its schedule and window are those of the station's last counted record (`before`):
        the controller that fired it was most likely welding that; this session's may
        differ."""
        return self._no_verdict(
            count,
            electrode_count,
            f"fired while the controller was down (weld count {count}): no verdict",
            (before.schedule, before.schedule_hash, before.window, before.window_hash),
        )

    def _no_verdict(
        self, count: int, electrode_count: int, why: str, made_with: tuple[str, str, str, str]
    ) -> WeldRecord:
        """Return the ABORTED record of a weld the supply counted and no cycle watched: who
        made it is not known; made_with: its schedule, schedule hash, window and window hash,
        as far as known."""
        schedule, schedule_hash, window, window_hash = made_with
        return WeldRecord(
            **dataclasses.asdict(WeldIdentity(self.station.name, UNKNOWN, UNKNOWN, UNKNOWN)),
            schedule=schedule,
            schedule_hash=schedule_hash,
            window=window,
            window_hash=window_hash,
            electrode_count=electrode_count,
            verdict="ABORTED",
            reasons=[why],
            features={},
            waveform=np.zeros((0, len(CHANNELS))),
            supply_weld_count=count,
        )

    def close(self) -> None:
        """Close the log and the links; stop the simulated station."""
        self.bench = None
        self._stack.close()

    def __enter__(self) -> WeldSession:
        if self.bench is None:  # not opened yet (`run` opens first, to report a refusal)
            self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def electrode(self) -> tuple[int, int, int]:
        """Return welds since the last dressing, the warning count and the limit."""
        assert self.log is not None, "open the session first"
        st = self.station
        return self.log.welds_since_dressing(st.name), st.electrode_warning, st.electrode_limit

    def weld(
        self,
        who: WeldIdentity,
        on_step: Callable[[State], None] | None = None,
        on_block: Callable[[np.ndarray, Sequence[tuple[str, float]]], None] | None = None,
        reweld: bool = False,
    ) -> CycleResult:
        """Run one weld cycle; its record is committed before this returns.

        A part already welded (its id in the log) is refused unless reweld is chosen: the
        choice is recorded in the audit trail, with the welds before, ahead of the cycle.
        Raises SessionError if the electrode has reached its limit or the start was refused.
        """
        keeper = self._keeper.paused() if self._keeper else contextlib.nullcontext()
        with keeper:  # the cycle alone on the link
            return self._weld(who, on_step, on_block, reweld)

    def _weld(
        self,
        who: WeldIdentity,
        on_step: Callable[[State], None] | None,
        on_block: Callable[[np.ndarray, Sequence[tuple[str, float]]], None] | None,
        reweld: bool,
    ) -> CycleResult:
        assert self.bench is not None and self.plan is not None and self.log is not None, (
            "open the session first"
        )
        who = dataclasses.replace(who, station=self.station.name)
        if self.stale:
            raise SessionError(f"not welding: {self.stale}")
        if problems := identity_problems(who):
            # before any current: a record must be logged under the names it was made for
            raise SessionError("weld refused: " + "; ".join(problems))
        if why := self.log.cannot_take_weld():
            raise SessionError(f"not welding: the QA log could not keep the record: {why}")
        self._log_foreign(int(self.bench.supply.weld_count))
        used, _, limit = self.electrode()
        if used >= limit:
            raise SessionError(
                f"electrode limit reached: {used} welds since dressing (limit {limit}); "
                "dress it, then `microweld dress`"
            )
        self._check_part(who, reweld)
        try:
            res = self._cycle(who, used, on_step, on_block)
        except QaLogWriteError as exc:
            # the weld was made and is not in the log: no more until the log is seen to; the
            # next session's opening finds it by the supply's counter (hardware)
            raise SessionError(f"{exc}; this cycle is not in the log: welding stopped") from None
        if res.state is State.IDLE:
            raise SessionError(f"weld refused: {res.abort_reason}")
        self._publish([res.record_id])
        before, after = res.counts
        if after is not None:
            # this cycle fired at most once: more is another master's, during it
            self._count = (before if before is not None else after) + (after != before)
            self._log_foreign(after)
        return res

    def _check_part(self, who: WeldIdentity, reweld: bool) -> None:
        """Refuse a part welded before unless re-weld was chosen; record the choice."""
        assert self.log is not None
        if not (before := self.log.part_welds(who.part_id)):
            return
        welds = ", ".join(f"log id {i} {v}" for i, v in before[-5:])
        if not reweld:
            raise SessionError(
                f"weld refused: part {who.part_id} was welded already ({welds}); to weld it "
                "again choose re-weld (`--reweld`, or Re-weld on the Weld screen): it is "
                "recorded in the audit trail"
            )
        self.log.audit(
            who.operator,
            "re-weld",
            who.part_id,
            welds,
            f"welded again at {self.station.name}",
            "re-weld chosen",
        )

    def _cycle(
        self,
        who: WeldIdentity,
        used: int,
        on_step: Callable[[State], None] | None,
        on_block: Callable[[np.ndarray, Sequence[tuple[str, float]]], None] | None,
    ) -> CycleResult:
        assert self.bench is not None and self.plan is not None and self.log is not None
        return run_cycle(
            self.bench,
            self.plan,
            self.window,
            self.log,
            who,
            self.schedule.name,
            self.schedule.digest(),
            electrode_count=used + 1,
            on_step=on_step,
            on_block=on_block,
        )

    def _log_foreign(self, count: int) -> None:
        """Log the welds the supply counted that no cycle of this session fired (another
        master's), one record each, before anything else is logged."""
        assert self.log is not None
        if self._count is None or count <= self._count:
            self._count = count if self._count is None else max(self._count, count)
            return
        used = self.log.welds_since_dressing(self.station.name)
        recs = [
            self._foreign(n, used + 1 + k) for k, n in enumerate(range(self._count + 1, count + 1))
        ]
        self._count = count
        self._publish(self.log.record_all(recs))

    def _foreign(self, count: int, electrode_count: int) -> WeldRecord:
        """Return the record of weld `count` of the supply, fired by another master while this
        session held the station: who and with what settings is not known."""
        return self._no_verdict(
            count,
            electrode_count,
            f"{FOREIGN}: fired by another master (weld count {count}): no verdict",
            (UNKNOWN, "", "", ""),
        )
