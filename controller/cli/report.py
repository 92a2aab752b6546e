"""`microweld report`: a QA report of a lot or a time span as a PDF or one HTML file.

The welds are selected as `microweld log` selects them (QaLog.welds), judged against the window
`microweld spc` takes, and the chain is checked as `log --verify` checks it; the figures come
from controller/analysis/report.py, the pages from report_draw.py (PDF) and report_html.py.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.analysis.report import About, compile_report, is_foreign
from controller.analysis.report_draw import write_pdf
from controller.analysis.report_html import write_html
from controller.cli.spc import judging_window
from controller.monitor.window import Window
from controller.qa import verify
from controller.qa.log import QaLog, QaLogUnavailableError, open_existing
from controller.qa.record import LoggedWeld
from controller.qa.stores import shown
from controller.qa.text import escaped
from controller.qa.times import parse_instant, stored
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError

WRITERS = {".pdf": write_pdf, ".html": write_html, ".htm": write_html}


def version() -> str:
    """Return the installed microweld's version ("unknown" from a tree never installed)."""
    try:
        return importlib.metadata.version("microweld")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _progress(step: str) -> None:
    print(f"report: {step} …", file=sys.stderr, flush=True)


class ReportError(Exception):
    """A report that cannot be made; the message is the one line said."""


def _selection(args: argparse.Namespace) -> tuple[str | None, str | None, str]:
    """Return since, until (the log's text) and the selection in words."""
    if args.lot is not None and (args.since or args.until):
        raise ReportError("give --lot or --since/--until, not both")
    if args.lot is not None:
        return None, None, f"lot {args.lot}"
    if not (args.since or args.until):
        raise ReportError("say what to report on: --lot L, or --since T [--until T]")
    try:
        since = parse_instant(args.since) if args.since else None
        until = parse_instant(args.until) if args.until else None
    except ValueError as exc:
        raise ReportError(f"--since/--until: {exc}") from None
    words = (f"from {since}" if since else "") + (f" until {until}" if until else "")
    return since, until, words.strip()


def _read(log: QaLog, args: argparse.Namespace) -> tuple[list[LoggedWeld], list[LoggedWeld], str]:
    """Return the selected welds, the welds logged over their time span (for a lot: its
    foreign welds name no lot) and the selection in words; ReportError if there are none."""
    since, until, words = _selection(args)
    welds = log.welds(since=since, until=until, lot=args.lot)
    if not welds:
        what = f"{'in ' if args.lot is not None else ''}{words}"
        raise ReportError(f"no welds {what} ({shown(log.path)})")
    during: list[LoggedWeld] = []
    if args.lot is not None:
        last = datetime.fromisoformat(max(w.t_utc for w in welds))
        # until is exclusive: a microsecond past the lot's last weld takes it in
        during = log.welds(
            since=min(w.t_utc for w in welds), until=stored(last + timedelta(microseconds=1))
        )
    return welds, during, words


def _windows(welds: Sequence[LoggedWeld]) -> dict[str, tuple[Window | None, str]]:
    """Return per schedule the window spc would judge it by, and its note."""
    names = sorted({w.schedule for w in welds if not is_foreign(w)})
    return {n: judging_window([w for w in welds if w.schedule == n]) for n in names}


def _write(report: object, out: Path) -> int:
    """Write the report beside out, then into place: a failed write leaves no half a file."""
    tmp = out.with_name(f".{out.name}.partial")
    try:
        pages = WRITERS[out.suffix.lower()](report, tmp, _progress)  # type: ignore[arg-type]
        os.replace(tmp, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return pages


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report; say where, and the chain's check (exit 1 if it failed)."""
    out = Path(args.out)
    try:
        if out.suffix.lower() not in WRITERS:
            raise ReportError(f"--out {out}: a .pdf or .html file")
        station = load_station(args.station)
        log = open_existing(station.qa_location(args.qa_log))
        try:
            _progress(f"reading {shown(log.path)}")
            welds, during, words = _read(log, args)
            _progress("verifying the hash chain")
            problems = verify.problems(log)
        finally:
            log.close()
        made = datetime.now(UTC).isoformat(timespec="seconds").removesuffix("+00:00")
        about = About(station.name, f"{words} in {shown(log.path)}", made, version())
        report = compile_report(about, welds, _windows(welds), problems, during)
        started = time.monotonic()
        pages = _write(report, out)
    except (ReportError, ConfigError, QaLogUnavailableError) as exc:
        print(f"error: {escaped(str(exc))}", file=sys.stderr)
        return 2
    print(
        f"wrote {out}: {len(report.welds)} records, {pages} pages (a summary and a page per "
        f"schedule; {time.monotonic() - started:.1f} s); hash chain {escaped(report.chain)}"
    )
    return 1 if problems else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `report` to the microweld command line."""
    p = sub.add_parser(
        "report",
        help="a QA report of a lot or a time span (PDF or HTML): yield, FAIL reasons, Cpk",
        description="Write a QA report: a summary (the selection, the hash chain's check, the "
        "totals, foreign welds), then per schedule its count, yield, Pareto of FAIL reasons and "
        "capability with charts. Exit 2 if it cannot be made, 1 if the hash chain failed.",
    )
    p.add_argument("--station", default="sim", help="station whose QA log to read (default sim)")
    p.add_argument("--qa-log", help="QA log file or postgresql:// URL (default: the station's)")
    p.add_argument("--lot", help="the welds of this lot")
    p.add_argument(
        "--since",
        help="the welds from this time: ISO 8601 (no offset: UTC), today, yesterday, or an age",
    )
    p.add_argument("--until", help="the welds before this time (as --since)")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.pdf or FILE.html")
    p.set_defaults(func=cmd_report)
