"""`microweld log`: list, filter and export the QA log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from controller.cli.argtypes import add_qa_log, positive
from controller.qa import verify
from controller.qa.export import FORMATS, export_features_csv, export_waveforms
from controller.qa.log import QaLogUnavailableError, open_existing
from controller.qa.record import VERDICTS
from controller.qa.stores import shown
from controller.qa.text import escaped
from controller.qa.times import parse_instant
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError


def cmd_log(args: argparse.Namespace) -> int:
    """List the matching welds; export their features and waveforms if asked."""
    try:
        log = open_existing(load_station(args.station).qa_location(args.qa_log))
    except (ConfigError, QaLogUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        try:
            since = parse_instant(args.since) if args.since else None
            until = parse_instant(args.until) if args.until else None
        except ValueError as exc:
            print(f"error: --since/--until: {exc}", file=sys.stderr)
            return 2
        rows = log.welds(
            since=since,
            until=until,
            verdict=args.verdict,
            schedule=args.schedule,
            part_id=args.part,
            lot=args.lot,
        )
        matching = len(rows)
        if args.last:
            rows = rows[-args.last :]  # what is shown is what is exported
        print(
            f"{matching} weld(s) in {shown(log.path)}"
            + (f", the last {len(rows)}:" if args.last else "")
        )
        for r in rows:
            sd = r.features.get("setdown_um")
            energy = r.features.get("energy_j")
            sd_text = f"{sd:6.1f} µm" if isinstance(sd, float) else "     — µm"
            e_text = f"{energy:7.3f} J" if isinstance(energy, float) else "      — J"
            why = escaped("; ".join(r.reasons))[:80]
            print(
                f"{r.id:6d} {escaped(r.t_utc[:19])} {escaped(r.part_id):>10} "
                f"{escaped(r.schedule)[:24]:24} {escaped(r.verdict):7} {e_text} {sd_text}  {why}"
            )
        try:
            if args.export_csv:
                export_features_csv(rows, Path(args.export_csv))
                print(f"wrote {args.export_csv}")
            if args.export_waveforms:
                files = export_waveforms(
                    log, [r.id for r in rows], Path(args.export_waveforms), args.format
                )
                print(f"wrote {len(files)} file(s) to {args.export_waveforms}")
        except OSError as exc:
            print(f"error: cannot write the export: {exc}", file=sys.stderr)
            return 2
        problems = verify.problems(log) if args.verify else []
        for p in problems:
            print(f"integrity: {escaped(p)}", file=sys.stderr)
        if args.verify and not problems:
            print("verified: the database is sound and the hash chain unbroken")
        return 1 if problems else 0
    finally:
        log.close()


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `log` to the microweld command line."""
    p = sub.add_parser("log", help="list, filter and export the QA log")
    p.add_argument("--station", default="sim", help="station whose QA log to read (default sim)")
    add_qa_log(p, "--db")
    p.add_argument(
        "--since",
        help="from this time: ISO 8601 (no offset: UTC), today, yesterday, or an age (2h, 7d)",
    )
    p.add_argument("--until", help="before this time (as --since)")
    p.add_argument("--verdict", choices=VERDICTS, help="only welds with this verdict")
    p.add_argument("--schedule", help="schedule name")
    p.add_argument("--part", help="part id (and the ones numbered from it: P-100-0001 ...)")
    p.add_argument("--lot", help="lot")
    p.add_argument(
        "--last", type=positive, default=0, metavar="N", help="only the last N (shown and exported)"
    )
    p.add_argument("--export-csv", metavar="FILE", help="write the features as CSV")
    p.add_argument("--export-waveforms", metavar="DIR", help="write the waveforms")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="hdf5",
        help="waveform format: one HDF5 file with channels, units, sample rate and identity "
        "(default), CSV per weld, or NPZ",
    )
    p.add_argument("--verify", action="store_true", help="check the hash chain")
    p.set_defaults(func=cmd_log)
