"""The hardware tier runs only when a device address is given, and then against that device (here
the simulated station, a device like any other on Modbus TCP)."""

from __future__ import annotations

import subprocess
import sys

from controller.weld.simstation import sim_station
from tests.helpers.paths import REPO

HARDWARE = REPO / "tests" / "hardware"


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(HARDWARE)]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300, cwd=REPO)


def test_without_an_address_every_hardware_test_is_skipped_saying_why() -> None:
    out = _pytest()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 skipped" in out.stdout and "needs a device" in out.stdout
    assert "passed" not in out.stdout


def test_with_an_address_the_tier_runs_against_the_device() -> None:
    with sim_station("--no-rtu") as ends:
        host, port = ends.modbus_tcp
        out = _pytest("--device-address", f"tcp://{host}:{port}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 passed" in out.stdout
