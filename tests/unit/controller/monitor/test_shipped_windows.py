"""The shipped process windows: taught for the shipped schedules, and still right for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from controller.monitor.monitor import Monitor
from controller.monitor.window import load_window
from drivers.config.schedule import load_schedule
from tests.helpers.paths import SCHEDULES, WINDOWS
from tests.helpers.physics import simulate

CASES = {
    "tc_inverter_cu100_pb200": ("supply.weld1_voltage_v=1.4", "enamel_residue"),
    "tc_cd_cu100_pb200": ("supply.charge_voltage_v=35", "enamel_residue"),
    "direct_cd_ni400_crossed": ("supply.charge_voltage_v=40", "expulsion"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shipped_window_fits_its_schedule(name: str) -> None:
    window = load_window(WINDOWS / f"{name}.toml")
    schedule = load_schedule(SCHEDULES / f"{name}.toml")
    # a window taught for another version of the schedule must be taught again
    assert window.schedule_hash == schedule.digest(), "re-run the command in the window file"
    assert window.command.startswith("microweld teach --simulate")
    assert window.taught_from >= 30
    for seed, sets, want in ((1000, (), "PASS"), (1001, (CASES[name][0],), "FAIL")):
        res = simulate(SCHEDULES / f"{name}.toml", *sets, seed=seed)
        mon = Monitor(window=window)
        for a in range(0, len(res.measured), 50):
            mon.feed(np.ascontiguousarray(res.measured[a : a + 50]))
        result = mon.finish()
        assert result.verdict == want, result.reasons
        if want == "FAIL":
            assert res.outcome.defect == CASES[name][1]


def test_teach_command_refuses_too_few_welds(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "w.toml"
    cmd = [
        sys.executable,
        "-m",
        "controller.cli",
        "teach",
        "--simulate",
        str(SCHEDULES / "tc_inverter_cu100_pb200.toml"),
        "--count",
        "4",
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "teaching needs at least 10" in proc.stderr
    assert "simulated 4/4" in proc.stderr and not out.exists()
