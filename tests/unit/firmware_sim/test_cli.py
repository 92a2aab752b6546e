"""`microweld simulate`: the files it writes and what it prints."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from controller.weld.stations import schedule_path
from drivers.config.schedule import load_schedule
from tests.helpers.paths import CONFIGS, TC_INV


def _simulate(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "controller.cli",
        "simulate",
        str(TC_INV),
        "--out",
        str(tmp_path),
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_simulate_writes_waveform_and_result(tmp_path: Path) -> None:
    proc = _simulate(tmp_path, "--seed", "3", "--set", "head.force_n=11")
    assert proc.returncode == 0, proc.stderr
    assert "defect" in proc.stdout and "J" in proc.stdout
    with (tmp_path / "waveform.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t_s", "current_a", "voltage_v", "force_n", "position_um"]
    t = [float(r[0]) for r in rows[1:]]
    assert t[1] - t[0] <= 1 / 50e3 + 1e-12  # at least 50 kHz
    assert max(float(r[1]) for r in rows[1:]) > 100.0
    assert max(float(r[3]) for r in rows[1:]) > 10.5  # 11 N from --set
    res = json.loads((tmp_path / "result.json").read_text())
    for key in (
        "jbf_n",
        "setdown_pct",
        "peak_interface_temp_c",
        "peak_electrode_temp_c",
        "peak_tip_temp_c",
        "heel_softened_fraction",
        "enamel_removed_fraction",
        "defect",
        "energy_j",
        "peak_current_a",
    ):
        assert key in res
    assert res["seed"] == 3 and res["overrides"] == ["head.force_n=11"]


def test_simulate_refuses_a_bad_override_with_the_field(tmp_path: Path) -> None:
    proc = _simulate(tmp_path, "--set", "head.force_n=-2")
    assert proc.returncode == 2
    assert "head.force_n" in proc.stderr and "greater than 0" in proc.stderr
    assert not (tmp_path / "waveform.csv").exists()


@pytest.mark.parametrize(
    ("command", "usage"),
    [("simulate", "usage: microweld simulate "), ("sim", "usage: microweld sim ")],
)
def test_the_commands_microweld_hands_over_say_their_own_name(command: str, usage: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "controller.cli", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.startswith(usage), out.stdout[:200]


def test_simulate_finds_a_schedule_by_name_as_run_does(tmp_path: Path) -> None:
    # a schedule only in a config folder of one's own, by name: run's resolver finds it there
    mine = tmp_path / "configs"
    shutil.copytree(CONFIGS, mine)
    (mine / "schedules" / "mine.toml").write_text(TC_INV.read_text())
    out = subprocess.run(
        [sys.executable, "-m", "controller.cli", "--config-dir", str(mine), "simulate", "mine",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MICROWELD_CONFIG_DIR", str(mine))
        assert schedule_path("mine") == mine / "schedules" / "mine.toml"
        assert result["schedule_hash"] == load_schedule(schedule_path("mine")).digest()


def test_a_run_of_welds_says_its_progress_in_lines_off_a_terminal(tmp_path: Path) -> None:
    # a log or a parent reading the pipe (teach --simulate) gets whole lines, not a counter
    # redrawn with carriage returns on one line
    out = _simulate(tmp_path, "--count", "12")
    assert out.returncode == 0, out.stderr
    assert "\r" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("simulated")]
    assert lines == ["simulated 10/12", "simulated 12/12"]
