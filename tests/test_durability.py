"""A controller killed (SIGKILL) at random points loses no weld whose verdict it showed."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from pathlib import Path

from controller.qalog import QaLog

SHOWN = re.compile(r"^weld \d+/\d+: log id (\d+) (PASS|FAIL|ABORTED)$")


def test_sigkill_during_200_welds_loses_no_shown_verdict(tmp_path: Path) -> None:
    db = tmp_path / "qa.sqlite"
    cmd = [
        sys.executable,
        "-m",
        "controller.cli",
        "run",
        "--count",
        "1000",
        "--qa-log",
        str(db),
        "--png",
        str(tmp_path / "last.png"),
    ]
    rng = random.Random(7)
    shown: dict[int, str] = {}
    kills = 0
    while len(shown) < 200:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path
        )
        assert proc.stdout is not None
        stop_after = rng.randint(10, 45)
        seen = 0
        for line in proc.stdout:
            m = SHOWN.match(line.strip())
            if m:
                shown[int(m[1])] = m[2]
                seen += 1
                if seen >= stop_after:
                    break
        time.sleep(rng.uniform(0.0, 0.15))  # land anywhere in the next weld, commit included
        proc.kill()
        proc.wait()
        kills += 1
    log = QaLog(db)
    logged = {r.id: r.verdict for r in log.welds()}
    lost = {i: v for i, v in shown.items() if logged.get(i) != v}
    assert not lost, f"verdicts shown but not logged: {lost}"
    assert log.integrity_check() == "ok"
    assert log.verify() == []
    assert kills >= 4
