"""`microweld teach`: build a process window from good welds, simulated (`--simulate`) or
logged (`--from-log`, chosen by id and filters, PASS by default); see controller/monitor/teach.py.

One QA log, `--qa-log` or the station's: the welds are taught from it (`--from-log`) and the
window is recorded in its audit trail. The former spellings still work, hidden: `--log FILE`
is `--from-log --qa-log FILE`, and `--audit-log FILE` names the log that records the window.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from controller.cli.argtypes import Deprecated, add_qa_log
from controller.cli.progress import Progress
from controller.cli.signin import SignInError, signed
from controller.monitor.teach import (
    TeachError,
    logged_period_and_source,
    monitor_and_teach,
    monitor_settings,
    parse_ids,
    save_window,
    select_logged,
    simulate_welds,
    window_text,
)
from controller.monitor.window import load_window
from controller.qa.accounts import ACTS, login_name
from controller.qa.stores import QaUrl, qa_target, shown
from controller.qa.times import TimeTextError, parse_instant
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError
from drivers.config.schedule import Schedule, load_schedule


def _welds(
    args: argparse.Namespace, qa: Path | QaUrl
) -> tuple[list[np.ndarray], float, Schedule, list[str], str]:
    """Return the welds to teach from (simulated, or logged in qa): waveforms, sample period
    (s), their schedule, their schedule hashes, and where they come from in words."""
    if args.simulate:
        schedule = load_schedule(args.simulate)
        print(f"simulating {args.count} welds of {schedule.name} ...", file=sys.stderr)
        waves, dt_s = simulate_welds(args.simulate, args.count, args.seed)
        return (
            waves,
            dt_s,
            schedule,
            [schedule.digest()] * len(waves),
            f"{len(waves)} simulated welds",
        )
    rows, waves, schedule = select_logged(
        qa,
        parse_ids(args.ids) if args.ids else None,
        args.verdict,
        parse_instant(args.since) if args.since else None,
        parse_instant(args.until) if args.until else None,
        args.schedule,
        args.part,
        args.lot,
        args.schedule_file,
    )
    dt_s, source = logged_period_and_source(rows)
    return waves, dt_s, schedule, [r.schedule_hash for r in rows], source


def cmd_teach(args: argparse.Namespace) -> int:
    """Teach a window from good welds (simulated or logged) and write it."""
    command = "microweld " + shlex.join(
        ["teach", *sys.argv[2:]] if args.argv is None else args.argv
    )
    try:
        # a window is signed by an engineer on a station with accounts: asked before teaching
        signer = signed(args.who, "edit", "--who")
    except SignInError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    who, meaning = (signer.name, ACTS["edit"][1]) if signer else (args.who, "")
    try:
        qa = load_station(args.station).qa_location(args.qa_log)
        waves, dt_s, schedule, hashes, source = _welds(args, qa)
        # keep the stop criteria and limit actions of a window being re-taught
        settings = load_window(args.base).monitor if args.base else monitor_settings(schedule)
        with Progress(len(waves), "monitored", plain_every=5.0) as bar:
            window = monitor_and_teach(
                waves,
                dt_s,
                schedule,
                hashes,
                settings,
                args.name or schedule.name,
                k_sigma=args.k,
                step_ms=args.step_ms,
                min_count=args.min_count,
                command=command,
                progress=lambda done, _total: bar.advance(done - bar.n),
            )
    except (TeachError, ConfigError, TimeTextError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        where = qa_target(args.audit_log) if args.audit_log else qa
        save_window(window, window_text(window, command, source), out, where, who, meaning)
    except (ConfigError, ConnectionError) as exc:
        print(f"error: the audit trail: {exc}; nothing written", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder or file that cannot take it (ConnectionError is one too)
        print(
            f"error: cannot write {out}: {exc.strerror or exc}; nothing written or recorded",
            file=sys.stderr,
        )
        return 2
    print(f"wrote {out}: {len(window.limits)} limits, taught from {window.taught_from} welds")
    print(f"recorded in the audit trail of {shown(where)}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `teach` to the microweld command line."""
    p = sub.add_parser("teach", help="build a process window from good welds")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--simulate",
        metavar="SCHEDULE",
        help="teach from welds run on the simulator with this schedule (name or file)",
    )
    src.add_argument(
        "--from-log",
        action="store_true",
        help="teach from welds in the QA log (--qa-log, default: the --station's)",
    )
    src.add_argument(
        "--log",
        action=Deprecated,
        dest="qa_log",
        use="--from-log --qa-log",
        sets={"from_log": True},
    )
    p.add_argument("--count", type=int, default=30, help="--simulate: welds (default 30)")
    p.add_argument("--seed", type=int, default=0, help="--simulate: first seed (default 0)")
    p.add_argument("--ids", help="--from-log: these welds only, e.g. 3,5-40")
    p.add_argument(
        "--verdict",
        choices=("PASS", "FAIL", "any"),
        default="PASS",
        help="--from-log: welds with this verdict (default PASS; aborted welds never count)",
    )
    p.add_argument("--schedule", help="--from-log: schedule name")
    p.add_argument("--since", help="--from-log: from this time (as `microweld log --since`)")
    p.add_argument("--until", help="--from-log: before this time (as --since)")
    p.add_argument("--part", help="--from-log: part id")
    p.add_argument("--lot", help="--from-log: lot")
    p.add_argument(
        "--schedule-file",
        help="--from-log: the schedule as the welds ran it (default: configs/schedules/NAME.toml)",
    )
    p.add_argument(
        "--base", metavar="WINDOW.toml", help="keep this window's monitor settings (stop criteria)"
    )
    p.add_argument("--k", type=float, default=4.0, help="band half-width in σ (default 4)")
    p.add_argument("--step-ms", type=float, default=0.1, help="envelope step, ms")
    p.add_argument("--min-count", type=int, default=10, help="refuse with fewer welds")
    p.add_argument("--name", help="window name (default: the schedule's)")
    p.add_argument("--out", required=True, help="window file to write")
    p.add_argument(
        "--who",
        default=login_name(),
        help="who taught it: an engineer's account on a station with accounts, its password "
        "asked (default: your login name)",
    )
    add_qa_log(
        p,
        help="QA log file or postgresql:// URL: taught from with --from-log, and its audit trail "
        "records the new window (default: the --station's)",
    )
    # where the window was recorded before --qa-log; it may still name another log than the
    # one taught from, as it could
    p.add_argument("--audit-log", action=Deprecated, use="--qa-log")
    p.add_argument("--station", default="sim", help="station whose QA log is the default")
    p.set_defaults(func=cmd_teach, argv=None, audit_log=None)
