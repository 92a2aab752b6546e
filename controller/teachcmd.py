"""`microweld teach`: build a process window from good welds.

For now the welds come from the simulated station (`--simulate SCHEDULE`): the simulator runs in
its own process, exactly as the station does, and the controller only reads the waveforms it
wrote. (Teaching from logged welds comes with the QA log.)
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import tomli_w

from controller.monitor import Monitor
from controller.window import MonitorSettings, TeachError, teach
from drivers.config.loader import ConfigError
from drivers.config.schedule import Schedule, load_schedule


def monitor_settings(schedule: Schedule) -> MonitorSettings:
    """Return monitor settings that fit a schedule (firing force, the set-down reference)."""
    d_um = schedule.process.wire_diameter_mm * 1e3
    # crossed wires: set-down is counted against the stack of two wires, as in the simulator
    ref_um = 2 * d_um if schedule.process.kind == "direct" else d_um
    firing = schedule.head.force_n * schedule.head.fire_at_force_pct / 100.0
    return MonitorSettings(firing_n=0.95 * firing, wire_diameter_um=ref_um)


def cmd_teach(args: argparse.Namespace) -> int:
    """Teach a window from simulated good welds and write it."""
    try:
        schedule = load_schedule(args.simulate)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = monitor_settings(schedule)
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
            print("error: the simulator failed", file=sys.stderr)
            return 1
        meta = json.loads((Path(tmp) / "welds.json").read_text())
        with np.load(Path(tmp) / "welds.npz") as npz:
            waves = [npz[name] for name in sorted(npz.files)]
    feats, traces = [], []
    for k, wave in enumerate(waves):
        mon = Monitor(settings=settings, dt_s=1.0 / meta["sample_rate_hz"])
        for a in range(0, len(wave), 50):
            mon.feed(np.ascontiguousarray(wave[a : a + 50]))
        feats.append(mon.features())
        traces.append(mon.traces())
        print(f"\rmonitored {k + 1}/{len(waves)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    command = "microweld " + shlex.join(
        ["teach", *sys.argv[2:]] if args.argv is None else args.argv
    )
    try:
        window = teach(
            args.name or schedule.name,
            schedule.name,
            [meta["schedule_hash"]] * len(feats),
            feats,
            traces,
            k_sigma=args.k,
            step_ms=args.step_ms,
            monitor=settings,
            min_count=args.min_count,
            command=command,
        )
    except TeachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    body = tomli_w.dumps(window.model_dump(mode="json", exclude_none=True))
    out.write_text(f"# Taught by: {command}\n" + body, encoding="utf-8")
    print(f"wrote {out}: {len(window.limits)} limits, taught from {window.taught_from} welds")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `teach` to the microweld command line."""
    p = sub.add_parser("teach", help="build a process window from good welds")
    p.add_argument(
        "--simulate",
        required=True,
        metavar="SCHEDULE.toml",
        help="teach from welds run on the simulator with this schedule",
    )
    p.add_argument("--count", type=int, default=30, help="welds to teach from (default 30)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--k", type=float, default=4.0, help="band half-width in σ (default 4)")
    p.add_argument("--step-ms", type=float, default=0.1, help="envelope step, ms")
    p.add_argument("--min-count", type=int, default=10, help="refuse with fewer welds")
    p.add_argument("--name", help="window name (default: the schedule's)")
    p.add_argument("--out", required=True, help="window file to write")
    p.set_defaults(func=cmd_teach, argv=None)
