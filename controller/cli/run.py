"""`microweld run`: weld N parts on a station, log every weld, show the verdicts.

On the default station (`sim`) the simulated supply and head are started as a child process on
loopback and reached over Modbus TCP and the stream, exactly as hardware would be.
"""

from __future__ import annotations

import argparse
import collections
import sys
from dataclasses import dataclass, field
from pathlib import Path

from controller.cli.argtypes import add_qa_log, positive
from controller.cli.progress import Progress
from controller.cli.signin import SignInError, signed_name
from controller.cli.tables import print_table, verdict_table
from controller.qa import parts
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.qa.stores import shown
from controller.qa.text import escaped, identity_problems, name_problem
from controller.weld import heap, signals
from controller.weld.cycle import CycleResult
from controller.weld.session import SessionError, WeldSession
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError
from drivers.wire.frames import SAMPLE_RATE_HZ

TABLE_ROWS = 100  # the last welds the table shows (the QA log holds every one)


@dataclass
class Tally:
    """What a run keeps of its welds: counts, the table's last rows as text, and the last
    weld whole (its waveform for the picture). Bounded: a run may make tens of thousands, and
    a weld's whole result is about 200 KB with its waveform, 1 kB without."""

    made: int = 0
    passed: int = 0
    no_weld: int = 0  # force cycles without current, by choice: not judged
    rows: collections.deque[tuple[str, ...]] = field(
        default_factory=lambda: collections.deque(maxlen=TABLE_ROWS)
    )
    last: CycleResult | None = None

    def add(self, res: CycleResult) -> None:
        """Count a finished weld (committed to the log) and keep its row."""
        self.made += 1
        self.passed += res.result.verdict == "PASS"
        self.no_weld += res.result.verdict == "NO-WELD"
        self.rows.append(_row(self.made, res))
        self.last = res


def cmd_run(args: argparse.Namespace) -> int:
    """Weld count parts and report."""
    try:
        # a station with accounts welds only for an operator signed in, before it starts
        args.operator = signed_name(args.operator, "weld", "--operator")
    except SignInError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    day_lot = args.lot is None
    if day_lot:
        args.lot = parts.day_lot()
    try:
        session = WeldSession(
            args.station, args.schedule, args.window, args.qa_log, args.no_weld, mes=args.mes
        )
    except (ConfigError, SessionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.serial = 1
    first = WeldIdentity(session.station.name, args.operator, _part(args, 0), args.lot)
    if problems := identity_problems(first):
        print(f"error: {'; '.join(problems)}", file=sys.stderr)
        return 2
    tally = Tally()
    try:
        session.open()
    except SessionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if pattern := _pattern(args):  # numbered on from what the log holds: no id twice
        assert session.log is not None
        taken = session.log.part_ids(session.station.name, parts.prefix(pattern))
        args.serial = parts.next_serial(pattern, taken)
    print(f"QA log: {shown(session.qa_path)}", flush=True)
    if day_lot:
        print(f"lot: {args.lot} (the day's; --lot names the real one)", flush=True)
    for warning in session.warnings:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    heap.settle()  # start-up done: its objects out of the collector's way
    try:
        # opened: the block closes it, after the bar has stopped
        with session, Progress(args.count, "welding") as bar:
            refused = _weld_parts(session, args, tally, bar)
    except signals.Interrupted as exc:
        # the weld in progress was made safe and logged: show it with the others, then stop
        if isinstance(exc.result, CycleResult):
            tally.add(exc.result)
            print(_shown(tally.made, args.count, exc.result), flush=True)
        _summary(tally, session, args)
        raise
    if refused:
        return 2
    _summary(tally, session, args)
    return 0 if tally.passed + tally.no_weld == tally.made else 1


def _weld_parts(session: WeldSession, args: argparse.Namespace, tally: Tally, bar: Progress) -> str:
    """Weld args.count parts into the tally, each shown as it is logged; return why welding
    stopped early ("" if not)."""
    warned = False
    for k in range(args.count):
        used, warning, limit = session.electrode()
        if used >= warning and not warned and used < limit:
            bar.line(
                f"warning: {used} welds since the electrode was dressed (warning at "
                f"{warning}, limit {limit})",
                err=True,
            )
            warned = True
        who = WeldIdentity(operator=args.operator, part_id=_part(args, k), lot=args.lot)
        try:
            res = session.weld(who, reweld=args.reweld)
        except SessionError as exc:
            bar.line(str(exc), err=True)
            return str(exc)
        tally.add(res)
        bar.line(_shown(k + 1, args.count, res))  # only now, after the record was committed
        bar.advance()
        for notice in session.take_notices():
            bar.line(f"warning: {notice}", err=True)
    return ""


def _pattern(args: argparse.Namespace) -> str | None:
    """Return the serial pattern the part ids are made from (None: one plain id)."""
    if parts.is_pattern(args.part):
        return str(args.part)
    return f"{args.part}-{{n:04d}}" if args.count > 1 else None


def _part(args: argparse.Namespace, k: int) -> str:
    """Return the part id of the k-th weld (from 0)."""
    pattern = _pattern(args)
    return parts.fill(pattern, args.serial + k) if pattern else str(args.part)


def _row(k: int, res: CycleResult) -> tuple[str, ...]:
    """Return the table's row of the k-th weld of the run, its cells as text."""
    f = res.result.features
    burn = f.get("burn_through_ms")
    return (
        str(k),
        str(res.record_id),
        res.result.verdict,
        f"{f.get('energy_j') or 0:.3f}",
        f"{f.get('setdown_um') or 0:.1f}",
        "—" if burn is None else f"{burn:.2f}",
        escaped("; ".join(res.result.reasons))[:100],
    )


def _shown(k: int, n: int, res: CycleResult) -> str:
    """Return the line that shows the k-th weld of n logged."""
    return f"weld {k}/{n}: log id {res.record_id} {res.result.verdict}"


def _summary(tally: Tally, session: WeldSession, args: argparse.Namespace) -> None:
    """Print the table of the last welds made and the picture of the last."""
    if (earlier := tally.made - len(tally.rows)) > 0:
        print(f"… {earlier} earlier welds of this run: `microweld log` lists every one")
    print_table(verdict_table(tally.rows))
    judged = tally.made - tally.no_weld
    no_weld = f" ({tally.no_weld} no-weld cycles, not judged)" if tally.no_weld else ""
    print(f"{tally.passed} of {judged} PASS{no_weld}; QA log: {shown(session.qa_path)}")
    last = tally.last
    if last is not None and args.png:
        from controller.analysis.plots import plot_weld

        png = plot_weld(
            last.waveform,
            SAMPLE_RATE_HZ,
            Path(args.png),
            f"{session.schedule.name}: weld {last.record_id} {last.result.verdict}",
            session.window,
        )
        print(f"last weld: {png}")


def cmd_dress(args: argparse.Namespace) -> int:
    """Record an electrode dressing: the station's weld count starts again."""
    try:
        st = load_station(args.station)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        args.who = signed_name(args.who, "dress", "--who")
    except SignInError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if why := name_problem(args.who):
        print(f"error: --who {why}", file=sys.stderr)
        return 2
    log = QaLog(st.qa_location(args.qa_log))
    before = log.welds_since_dressing(st.name)
    log.dressed(st.name, args.who)
    log.close()
    print(f"{st.name}: electrode dressed after {before} welds (by {args.who})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `run` and `dress` to the microweld command line."""
    d = sub.add_parser("dress", help="record an electrode dressing (resets its weld count)")
    d.add_argument("--station", default="sim", help="station config name or file")
    d.add_argument(
        "--who",
        help="who dressed it: an account on a station with accounts (default: your login name)",
    )
    add_qa_log(d)
    d.set_defaults(func=cmd_dress)
    p = sub.add_parser("run", help="weld parts on a station and log every weld")
    p.add_argument("--station", default="sim", help="station config name or file (default sim)")
    p.add_argument("--schedule", help="schedule name or file (default: the station's)")
    p.add_argument(
        "--window",
        help="process window name or file, or 'none' (default: the schedule's own with "
        "--schedule, else the station's)",
    )
    p.add_argument("--count", type=positive, default=5, help="welds to make (default 5)")
    p.add_argument(
        "--part",
        default="part-{n:04d}",
        help="part id, or a serial pattern with {n} numbered on from the QA log, e.g. "
        "P-100-{n:04d} (default part-{n:04d}); a plain id is numbered P-0001 ... when count > 1",
    )
    p.add_argument(
        "--operator",
        help="who welds: an account of the station, its password asked (default on a station "
        "without accounts: your login name)",
    )
    p.add_argument("--lot", help="the parts' lot (default: today's, as YYYY-MM-DD)")
    p.add_argument(
        "--reweld",
        action="store_true",
        help="weld parts already welded (refused otherwise); recorded in the audit trail",
    )
    p.add_argument("--no-weld", action="store_true", help="force cycle only, no current")
    add_qa_log(p)
    p.add_argument("--png", default="last_weld.png", help="picture of the last weld")
    p.add_argument(
        "--mes",
        metavar="opc.tcp://HOST:PORT/PATH",
        help="publish every logged weld on an OPC UA server here (default: the station's)",
    )
    p.set_defaults(func=cmd_run)
