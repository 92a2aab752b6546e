"""`microweld map`: sweep a schedule's parameters through the full controller on simulated
stations in lockstep (controller/analysis/sweep.py), and write the weld lobe (PNG) and every
point (CSV)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from controller.analysis.mapping import (
    centre,
    check_grid,
    grid,
    lobe,
    nominal,
    parse_vary,
    report_lines,
)
from controller.analysis.plots import plot_lobe
from controller.analysis.sweep import Job, run_dask, run_local, write_csv
from controller.cli.progress import Progress
from controller.monitor.window import load_window
from controller.weld.stations import schedule_path, window_path
from drivers.config.loader import ConfigError
from drivers.config.schedule import load_schedule


def cmd_map(args: argparse.Namespace) -> int:
    """Sweep, write the lobe PNG and the CSV, print the summary."""
    try:
        sched_file = schedule_path(args.schedule)
        schedule = load_schedule(sched_file)
        win_name = args.window or schedule.name
        win_file = window_path(win_name) if win_name != "none" else None
        if args.window is None and win_file is not None and not win_file.exists():
            win_name, win_file = "none", None  # a schedule with no window of its own yet
        if win_file is not None:
            load_window(win_file)
        axes = [parse_vary(v, schedule) for v in args.vary]
        points = grid(axes, args.repeat)
        check_grid(schedule, axes)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    job = Job(str(sched_file), str(win_file) if win_file else None, args.seed, tuple(axes))
    workers = max(1, min(args.workers or os.cpu_count() or 1, len(points)))
    where = f"{workers} local processes" if args.executor == "local" else "a Dask cluster"
    shape = " x ".join(str(len(a.values)) for a in axes)
    print(
        f"mapping {schedule.name}: {len(points)} welds ({shape} points x {args.repeat}) on {where}",
        file=sys.stderr,
    )
    t0 = time.monotonic()
    # without a terminal, a line every 5 s: a sweep may take minutes
    with Progress(len(points), "welded", plain_every=5.0, quiet=args.quiet) as progress:
        if args.executor == "local":
            welds = run_local(job, points, workers, progress.advance)
        else:
            welds = run_dask(job, points, args.scheduler, progress.advance)
    seconds = time.monotonic() - t0
    lb = lobe(axes, welds, args.min_jbf_pct)
    stem = out / f"{schedule.name}_map"
    write_csv(stem.with_suffix(".csv"), axes, welds)
    c = centre(lb)
    plot_lobe(
        lb,
        stem.with_suffix(".png"),
        f"{schedule.name}: weld lobe ({len(welds)} welds, window {win_name})",
        nominal(schedule, axes),
        c.values if c else None,
    )
    for line in report_lines(schedule, lb, welds, seconds):
        print(line)
    print(f"wrote {stem.with_suffix('.png')} and {stem.with_suffix('.csv')}")
    return 0


def add_parser(sub: Any) -> None:
    """Register `microweld map`."""
    p = sub.add_parser(
        "map",
        help="map a schedule's process window on the simulator (weld lobe PNG + CSV)",
        description=(
            "Sweep parameters through the full controller on simulated stations in lockstep. "
            "The PASS region is the controller's verdicts against the window; joint strength "
            "and defect class come from the simulator's ground truth, for the map only."
        ),
    )
    p.add_argument("schedule", help="schedule name (configs/schedules) or file")
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="NAME=LO:HI:N",
        help="a parameter and its values (LO:HI:N or A,B,C): current, voltage or power (the "
        "supply's mode), time_ms, force_n, or a dotted schedule field. The first two are the "
        "lobe's axes; a third gives one panel per value.",
    )
    p.add_argument("--repeat", type=int, default=1, help="welds per point (parts 0..K-1)")
    p.add_argument("--window", help="window to judge by (default: the schedule's; 'none')")
    p.add_argument("--seed", type=int, default=0, help="the simulated station's seed")
    p.add_argument(
        "--min-jbf-pct",
        type=float,
        default=50.0,
        help="a sound joint holds at least this share of the wire's strength (default 50 %%)",
    )
    p.add_argument("--out", default="map", help="folder for the PNG and CSV (default: map)")
    p.add_argument("--workers", type=int, help="local processes (default: every core)")
    p.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local processes, or a Dask cluster (pip install 'microweld[cluster]')",
    )
    p.add_argument("--scheduler", help="the Dask scheduler's address (default: a local cluster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or lines")
    p.set_defaults(func=cmd_map)
