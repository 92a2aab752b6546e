"""`microweld spc`: capability and drift of the logged welds, per schedule and feature.

Prints a table per schedule (n, mean, σ, the window's limits, Cp, Cpk, the first EWMA and CUSUM
alarm) and writes one PNG per feature: the individuals chart with its control limits and the
window's limits, the EWMA and the CUSUM with theirs, alarms marked. The numbers come from
controller.analysis.spc, as on the GUI's Trends screen.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from controller.analysis import spc
from controller.analysis.plots import plot_feature
from controller.cli.argtypes import add_qa_log
from controller.monitor.window import FEATURES, Window, load_window
from controller.qa.log import QaLogUnavailableError, open_existing
from controller.qa.record import JUDGED, LoggedWeld
from controller.qa.stores import shown
from controller.weld.stations import load_station, window_path
from drivers.config.loader import ConfigError


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None or x != x else format(x, fmt)  # x != x: NaN


def _alarm(fs: spc.FeatureSpc, which: str) -> str:
    weld = fs.alarm_id(which)
    if weld is None:
        return "none"
    side = ""
    if which == "cusum":
        side = " ↑" if fs.cusum.direction == "up" else " ↓"
    return f"{weld}{side}"


def table(results: Sequence[spc.FeatureSpc]) -> str:
    """Return the SPC table of one schedule's features, one line each, with units."""
    head = (
        f"{'feature':16} {'unit':4} {'n':>5} {'mean':>10} {'σ':>9} {'LSL':>10} {'USL':>10} "
        f"{'Cp':>6} {'Cpk':>6}  {'EWMA alarm':>10}  {'CUSUM alarm':>11}"
    )
    lines = [head, "-" * len(head)]
    for fs in results:
        c = fs.capability
        lines.append(
            f"{fs.feature:16} {fs.unit:4} {c.n:5d} {_num(c.mean, '.6g'):>10} "
            f"{_num(c.sd, '.3g'):>9} {_num(c.lsl, '.6g'):>10} {_num(c.usl, '.6g'):>10} "
            f"{_num(c.cp, '.2f'):>6} {_num(c.cpk, '.2f'):>6}  {_alarm(fs, 'ewma'):>10}  "
            f"{_alarm(fs, 'cusum'):>11}"
        )
    return "\n".join(lines)


def judging_window(
    welds: Sequence[LoggedWeld], given: str | None = None
) -> tuple[Window | None, str]:
    """Return the window to judge against (the one given, else the one the newest judged weld
    was judged by, from configs/windows) and a note on it. A no-weld cycle is not judged: one
    run with `--window none` after the welds no longer hides their window."""
    judged = [w for w in welds if w.verdict in JUDGED and w.window]
    newest = judged[-1] if judged else welds[-1]
    name = given or newest.window
    if not name:
        return None, "no window: Cp and Cpk need limits"
    path = window_path(name)
    if not path.exists():
        return None, f"window {name} not found at {path}: no limits"
    win = load_window(path)
    note = f"window {win.name} ({path})"
    if not given and win.digest() != newest.window_hash:
        note += ", changed since these welds were judged: limits as the file has them now"
    return win, note


def cmd_spc(args: argparse.Namespace) -> int:
    """Print capability and drift alarms per schedule and feature; write the charts."""
    unknown = [f for f in args.feature or [] if f not in FEATURES]
    if unknown:
        print(
            f"error: unknown feature {unknown[0]!r}; known: {', '.join(FEATURES)}", file=sys.stderr
        )
        return 2
    if args.baseline < 2:
        print(f"error: --baseline must be at least 2 welds, not {args.baseline}", file=sys.stderr)
        return 2
    try:
        qa = load_station(args.station).qa_location(args.qa_log)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        log = open_existing(qa)
    except QaLogUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        welds = log.welds(schedule=args.schedule)
        logged = sorted({w.schedule for w in log.welds()}) if not welds else []
    finally:
        log.close()
    if not welds:
        what = f"of schedule {args.schedule} " if args.schedule else ""
        have = f" (schedules logged: {', '.join(logged)})" if logged else ""
        print(f"error: no welds {what}in {shown(log.path)}{have}", file=sys.stderr)
        return 2
    for name in sorted({w.schedule for w in welds}):
        try:
            report(args, name, [w for w in welds if w.schedule == name])
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


def report(args: argparse.Namespace, schedule: str, welds: list[LoggedWeld]) -> None:
    """Print one schedule's table and write its charts."""
    window, note = judging_window(welds, args.window)
    judged = [w for w in welds if w.verdict in JUDGED]
    fails = {w.id for w in judged if w.verdict == "FAIL"}
    print(
        f"\nschedule {schedule}: {len(judged)} welds ({len(fails)} FAIL, "
        f"{len(welds) - len(judged)} aborted or no-weld left out); {note}"
    )
    hashes = {w.schedule_hash for w in welds}
    if len(hashes) > 1:
        print(
            f"note: the schedule was changed while these welds were made ({len(hashes)} versions)"
        )
    features = args.feature or [f for f in FEATURES if spc.series(judged, f)[0]]
    results, thin = [], []
    for feature in features:
        ids, values = spc.series(judged, feature)
        if len(values) < 2:
            thin.append(f"{feature} ({len(values)})")
            continue
        results.append(spc.analyse(feature, ids, values, window, args.baseline))
    print(table(results))
    if thin:
        print(f"too few values for SPC (welds): {', '.join(thin)}")
    if results and (n := min(r.capability.n for r in results)) < spc.MIN_CAPABILITY_N:
        # Cpk from a handful is a guess: its 95 % interval at n = 3 spans a factor of ten
        print(
            f"warning: Cp and Cpk from {n} welds are not to be trusted: "
            f"{spc.MIN_CAPABILITY_N} at least are wanted"
        )
    print(
        "σ: sample standard deviation (ddof=1); Cp, Cpk against the window's limits.\n"
        f"alarms: the first weld (log id) after a baseline of {args.baseline} welds (its mean, "
        f"σ = MR̄/1.128) where the EWMA (λ {spc.EWMA_LAMBDA:g}, L {spc.EWMA_L:g}) or the CUSUM "
        f"(k {spc.CUSUM_K:g}σ, h {spc.CUSUM_H:g}σ; ↑ ↓ its side) left its limits"
    )
    # phase I is only a fair reference if it was in control itself; a drift that began at once
    # (a tip already wearing) shows as baseline welds beyond their own limits
    early = [(fs, sum(i < fs.baseline.n for i in fs.chart.outside)) for fs in results]
    if any(k for _, k in early):
        listed = ", ".join(f"{fs.feature} {k}/{fs.baseline.n}" for fs, k in early if k)
        print(f"baseline not in control (its welds beyond its own control limits): {listed}")
    coarse = [f"{fs.feature} ({fs.baseline.levels})" for fs in results if fs.baseline.levels < 5]
    if coarse:
        # e.g. the weld time, counted in samples: normal-theory limits fit a few levels poorly
        print(f"few distinct values in the baseline, charts rough: {', '.join(coarse)}")
    first = spc.first_fail(judged)
    print(f"first FAIL: {f'weld {first.id}: ' + '; '.join(first.reasons) if first else 'none'}")
    if args.png_dir:
        out = Path(args.png_dir)
        paths = [
            plot_feature(
                fs, out / f"{schedule}_{fs.feature}.png", f"{schedule}: {fs.feature}", fails
            )
            for fs in results
        ]
        print(f"wrote {len(paths)} chart(s) to {out}/")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `spc` to the microweld command line."""
    p = sub.add_parser("spc", help="capability (Cp, Cpk) and drift alarms of the logged welds")
    p.add_argument("--station", default="sim", help="station whose QA log to read (default sim)")
    add_qa_log(p)
    p.add_argument("--schedule", help="only this schedule (default: each schedule in the log)")
    p.add_argument(
        "--window", help="judge against this window, name or file (default: the welds' own)"
    )
    p.add_argument(
        "--feature", nargs="+", metavar="NAME", help="only these features (default: all measured)"
    )
    p.add_argument(
        "--baseline",
        type=int,
        default=spc.BASELINE_WELDS,
        metavar="N",
        help=f"welds of the phase-I baseline for the charts (default {spc.BASELINE_WELDS})",
    )
    p.add_argument(
        "--png-dir",
        default="spc",
        metavar="DIR",
        help="write the charts here (default spc; '' none)",
    )
    p.set_defaults(func=cmd_spc)
