"""`microweld teach`: build a process window from good welds.

The welds come from the QA log (`--log FILE`, chosen by id and filters, PASS by default; the
logged waveforms are monitored again with settings for their schedule) or from the simulator
(`--simulate SCHEDULE`: it runs in its own process, exactly as the station does, and the
controller only reads the waveforms it wrote). Welds from more than one schedule, or from a
schedule that has changed since, are refused.
"""

from __future__ import annotations

import argparse
import getpass
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import tomli_w

from controller.monitor.monitor import Monitor
from controller.monitor.window import MonitorSettings, TeachError, Window, load_window, teach
from controller.qa.log import LoggedWeld, QaLog, QaLogUnavailableError, open_existing
from controller.qa.stores import QaUrl, qa_target, shown
from controller.weld.stations import load_station, schedule_path
from drivers.config.loader import ConfigError
from drivers.config.schedule import Schedule, load_schedule


def monitor_settings(schedule: Schedule) -> MonitorSettings:
    """Return monitor settings that fit a schedule (firing force, the set-down reference)."""
    d_um = schedule.process.wire_diameter_mm * 1e3
    # crossed wires: set-down is counted against the stack of two wires, as in the simulator
    ref_um = 2 * d_um if schedule.process.kind == "direct" else d_um
    firing = schedule.head.force_n * schedule.head.fire_at_force_pct / 100.0
    return MonitorSettings(firing_n=0.95 * firing, wire_diameter_um=ref_um)


def _simulated(args: argparse.Namespace, schedule: Schedule) -> tuple[list[np.ndarray], float]:
    """Run the simulator in its own process; return its waveforms and sample period (s)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "firmware_sim",
            "simulate",
            args.simulate,
            "--count",
            str(args.count),
            "--seed",
            str(args.seed),
            "--out",
            tmp,
        ]
        print(f"simulating {args.count} welds of {schedule.name} ...", file=sys.stderr)
        if subprocess.call(cmd, stdout=subprocess.DEVNULL) != 0:
            raise TeachError("the simulator failed")
        meta = json.loads((Path(tmp) / "welds.json").read_text())
        with np.load(Path(tmp) / "welds.npz") as npz:
            waves = [npz[name] for name in sorted(npz.files)]
    return waves, 1.0 / float(meta["sample_rate_hz"])


def parse_ids(text: str) -> set[int]:
    """Return the weld ids of a list like "3,5-9,12"."""
    ids: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if b < a:
                    raise ValueError
                ids.update(range(a, b + 1))
            elif part:
                ids.add(int(part))
        except ValueError:
            raise TeachError(f"--ids: {part!r} is not an id or a range a-b") from None
    return ids


def select_logged(
    path: Path | QaUrl,
    ids: set[int] | None = None,
    verdict: str = "PASS",
    since: str | None = None,
    until: str | None = None,
    schedule_name: str | None = None,
    part: str | None = None,
    lot: str | None = None,
    schedule_file: str | None = None,
) -> tuple[list[LoggedWeld], list[np.ndarray], Schedule]:
    """Select good welds from the QA log; return them, their waveforms and their schedule."""
    try:
        log = open_existing(path)
    except QaLogUnavailableError as exc:
        raise TeachError(str(exc)) from None
    try:
        rows = log.welds(
            since=since,
            until=until,
            verdict=None if verdict == "any" else verdict,
            schedule=schedule_name,
            part_id=part,
            lot=lot,
        )
        if ids:
            wanted = ids
            everything = {r.id: r for r in log.welds()}
            unknown = sorted(wanted - everything.keys())
            if unknown:
                raise TeachError(f"--ids: no weld {unknown[:10]} in {path}")
            left_out = sorted(wanted - {r.id for r in rows})
            if left_out:
                why = [f"{i} ({everything[i].verdict})" for i in left_out[:10]]
                raise TeachError(
                    f"--ids: weld(s) {', '.join(why)} do not match the other filters "
                    f"(verdict {verdict}); pass --verdict any to teach from them anyway"
                )
            rows = [r for r in rows if r.id in wanted]
        aborted = [r.id for r in rows if r.verdict == "ABORTED"]
        if aborted:
            raise TeachError(f"weld(s) {aborted[:10]} were aborted: no weld to teach from")
        if not rows:
            raise TeachError(f"no weld in {path} matches the filters")
        names = sorted({r.schedule for r in rows})
        if len(names) != 1:
            raise TeachError(f"the welds come from schedules {names}; choose one with --schedule")
        sched_file = Path(schedule_file) if schedule_file else schedule_path(names[0])
        schedule = load_schedule(sched_file)
        hashes = {r.schedule_hash for r in rows}
        if len(hashes) == 1 and schedule.digest() not in hashes:
            raise TeachError(
                f"{sched_file} is not the schedule these welds ran with (its hash "
                f"{schedule.digest()[:12]}, theirs {next(iter(hashes))[:12]}): pass the schedule "
                "as it was with --schedule-file"
            )
        waves = [log.waveform(r.id) for r in rows]
    finally:
        log.close()
    return rows, waves, schedule


def monitor_and_teach(
    waves: list[np.ndarray],
    dt_s: float,
    schedule: Schedule,
    hashes: list[str],
    settings: MonitorSettings,
    name: str,
    k_sigma: float = 4.0,
    step_ms: float = 0.1,
    min_count: int = 10,
    command: str = "",
) -> Window:
    """Monitor each weld's waveform again and teach a window from the results."""
    feats, traces = [], []
    for k, wave in enumerate(waves):
        mon = Monitor(settings=settings, dt_s=dt_s)
        for a in range(0, len(wave), 50):
            mon.feed(np.ascontiguousarray(wave[a : a + 50], dtype=np.float64))
        feats.append(mon.features())
        traces.append(mon.traces())
        print(f"\rmonitored {k + 1}/{len(waves)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return teach(
        name,
        schedule.name,
        hashes,
        feats,
        traces,
        k_sigma=k_sigma,
        step_ms=step_ms,
        monitor=settings,
        dt_s=dt_s,
        min_count=min_count,
        command=command,
    )


def _period_and_source(rows: list[LoggedWeld]) -> tuple[float, str]:
    """Return the logged welds' common sample period (s) and where they come from, in words."""
    rates = {r.sample_rate_hz for r in rows}
    if len(rates) != 1:
        raise TeachError(f"the welds were sampled at different rates {sorted(rates)} Hz")
    return 1.0 / rates.pop(), f"logged welds {_id_ranges([r.id for r in rows])}"


def teach_from_log(
    path: Path | QaUrl,
    ids: set[int],
    k_sigma: float = 4.0,
    min_count: int = 10,
    base: Window | None = None,
    name: str | None = None,
) -> tuple[Window, str]:
    """Teach a window from chosen logged welds (any verdict but aborted); return it and where
    it came from (e.g. "logged welds 3-40")."""
    rows, waves, schedule = select_logged(path, ids, verdict="any")
    dt_s, source = _period_and_source(rows)
    window = monitor_and_teach(
        waves,
        dt_s,
        schedule,
        [r.schedule_hash for r in rows],
        base.monitor if base else monitor_settings(schedule),
        name or schedule.name,
        k_sigma=k_sigma,
        min_count=min_count,
        command=f"taught at the operator station from {source} of {path}",
    )
    return window, source


def cmd_teach(args: argparse.Namespace) -> int:
    """Teach a window from good welds (simulated or logged) and write it."""
    command = "microweld " + shlex.join(
        ["teach", *sys.argv[2:]] if args.argv is None else args.argv
    )
    try:
        if args.simulate:
            schedule = load_schedule(args.simulate)
            waves, dt_s = _simulated(args, schedule)
            hashes = [schedule.digest()] * len(waves)
            source = f"{len(waves)} simulated welds"
        else:
            rows, waves, schedule = select_logged(
                qa_target(args.log),
                parse_ids(args.ids) if args.ids else None,
                args.verdict,
                args.since,
                args.until,
                args.schedule,
                args.part,
                args.lot,
                args.schedule_file,
            )
            dt_s, source = _period_and_source(rows)
            hashes = [r.schedule_hash for r in rows]
        # keep the stop criteria and limit actions of a window being re-taught
        settings = load_window(args.base).monitor if args.base else monitor_settings(schedule)
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
        )
    except (TeachError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    text = f"# Taught by: {command}\n# From: {source}\n" + tomli_w.dumps(
        window.model_dump(mode="json", exclude_none=True)
    )
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    # the audit record first, as the GUI's editor does: a window is never in its file without
    # its trail (old text and new, who, when) in the QA log of the welds it will judge
    try:
        where = qa_target(args.audit_log or args.log or load_station(args.station).qa_log)
        audit = QaLog(where)
    except (ConfigError, ConnectionError) as exc:
        print(f"error: the audit trail: {exc}; nothing written", file=sys.stderr)
        return 2
    try:
        audit.audit(args.who, "window", window.name, old, text)
    finally:
        audit.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}: {len(window.limits)} limits, taught from {window.taught_from} welds")
    print(f"recorded in the audit trail of {shown(where)}")
    return 0


def _id_ranges(ids: list[int]) -> str:
    """Return ids as compact ranges: 1-5,7,9-10."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        return "operator"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `teach` to the microweld command line."""
    p = sub.add_parser("teach", help="build a process window from good welds")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--simulate",
        metavar="SCHEDULE.toml",
        help="teach from welds run on the simulator with this schedule",
    )
    src.add_argument(
        "--log",
        metavar="QA.sqlite",
        help="teach from welds in this QA log (file or postgresql:// URL)",
    )
    p.add_argument("--count", type=int, default=30, help="--simulate: welds (default 30)")
    p.add_argument("--seed", type=int, default=0, help="--simulate: first seed (default 0)")
    p.add_argument("--ids", help="--log: these welds only, e.g. 3,5-40")
    p.add_argument(
        "--verdict",
        choices=("PASS", "FAIL", "any"),
        default="PASS",
        help="--log: welds with this verdict (default PASS; aborted welds never count)",
    )
    p.add_argument("--schedule", help="--log: schedule name")
    p.add_argument("--since", help="--log: from this UTC time (ISO)")
    p.add_argument("--until", help="--log: before this UTC time (ISO)")
    p.add_argument("--part", help="--log: part id")
    p.add_argument("--lot", help="--log: lot")
    p.add_argument(
        "--schedule-file",
        help="--log: the schedule as the welds ran it (default: configs/schedules/NAME.toml)",
    )
    p.add_argument(
        "--base", metavar="WINDOW.toml", help="keep this window's monitor settings (stop criteria)"
    )
    p.add_argument("--k", type=float, default=4.0, help="band half-width in σ (default 4)")
    p.add_argument("--step-ms", type=float, default=0.1, help="envelope step, ms")
    p.add_argument("--min-count", type=int, default=10, help="refuse with fewer welds")
    p.add_argument("--name", help="window name (default: the schedule's)")
    p.add_argument("--out", required=True, help="window file to write")
    p.add_argument("--who", default=_user(), help="who taught it (default: your login)")
    p.add_argument(
        "--audit-log",
        metavar="QA.sqlite|URL",
        help="QA log whose audit trail records the new window (default: the --log taught "
        "from, else the --station's)",
    )
    p.add_argument("--station", default="sim", help="station whose QA log is the default")
    p.set_defaults(func=cmd_teach, argv=None)
