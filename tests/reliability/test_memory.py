"""Bounded memory: `microweld run` on the embedded simulated station (lockstep) keeps nothing of
a weld beyond the next, so its resident set stops growing once warm. 10,000 welds in the long
form (under 10 MB of growth, the goal), 400 in the short one (under 2 MB); the run is watched
from outside, as an operator's machine would see it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers.station import sim_station_file
from tests.reliability.battery import Record, rss_kb, scale

WELDS = scale(400, 10_000)
WARM = 50  # welds before the first reading: imports, the kernels, the log's first pages
LIMIT_MB = max(10.0 * WELDS / 10_000, 2.0)
SHOWN = re.compile(r"^weld (\d+)/\d+: ")


def test_run_memory_stays_bounded(tmp_path: Path, record: Record) -> None:
    # the default station stops at 6,000 welds since a dressing: room for the long form
    station = sim_station_file(tmp_path / "long-tip.toml", 2 * WELDS, 2 * WELDS)
    cmd = [sys.executable, "-m", "controller.cli", "run", "--count", str(WELDS), "--png", ""]
    cmd += ["--station", str(station), "--qa-log", str(tmp_path / "qa.sqlite")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path
    )
    readings: dict[int, int] = {}  # weld shown: the run's resident set then, KB
    assert proc.stdout is not None
    for line in proc.stdout:
        m = SHOWN.match(line)
        if m and (k := int(m[1])) >= WARM:
            readings[k] = rss_kb(proc.pid)
    assert proc.wait(timeout=60) in (0, 1), "run failed"
    record.cases = len(readings)
    first, last = readings[WARM], readings[max(readings)]
    growth_mb = (last - first) / 1024
    record.notes.append(
        f"{WELDS} welds: {first / 1024:.1f} MB at weld {WARM}, {last / 1024:.1f} MB at the "
        f"last, peak {max(readings.values()) / 1024:.1f} MB"
    )
    record.failures = int(growth_mb >= LIMIT_MB)
    assert growth_mb < LIMIT_MB, record.notes[-1]
