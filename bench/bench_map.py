"""Process-window mapping: welds per second of a sweep through the full controller on simulated
stations in lockstep, on every local core (the goal: 1,000 welds in under 60 s on 2 cores).

The sweep is the shipped thermocompression schedule over voltage x weld time x force, as
`microweld map` runs it; the stations' start-up (the physics loaded from numba's cache) is
counted, since a user waits for it too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.figure import Figure
from controller.analysis.mapping import grid, parse_vary
from controller.analysis.sweep import Job, run_local
from drivers.config.schedule import load_schedule

ROOT = Path(__file__).resolve().parents[1]
WELDS = int(os.environ.get("MICROWELD_BENCH_MAP_WELDS", "1000"))


def run() -> list[Figure]:
    """Sweep WELDS points on every core; report the rate and the time for 1,000."""
    sched_file = ROOT / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"
    win_file = ROOT / "configs" / "windows" / "tc_inverter_cu100_pb200.toml"
    schedule = load_schedule(sched_file)
    n_v = 10
    n_t = max(1, WELDS // (n_v * 4))
    axes = [
        parse_vary("voltage=1.5:3.3:10", schedule),
        parse_vary(f"time_ms=12:48:{n_t}", schedule),
        parse_vary("force_n=8:16:4", schedule),
    ]
    points = grid(axes, 1)[:WELDS]
    cores = os.cpu_count() or 1
    job = Job(str(sched_file), str(win_file), 0, tuple(axes))
    t0 = time.monotonic()
    welds = run_local(job, points, cores, lambda n: None)
    seconds = time.monotonic() - t0
    rate = len(welds) / seconds
    per_1000 = 1000.0 / rate
    return [
        Figure("map_welds_per_s", rate, f"welds/s on {cores} cores ({len(welds)} welds)"),
        Figure("map_1000_welds", per_1000, "s for 1,000 welds", "< 60", per_1000 < 60.0),
    ]
