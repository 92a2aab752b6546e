"""Ctrl-C and SIGTERM during a long pulse: the current stops within 0.3 s by the station's own
truth, the head goes home, the weld is logged ABORTED, and `microweld run` ends with one line
and the shell's code for the signal (130, 143), no traceback. The same for the GUI's weld
session process, signalled on its own; and `microweld map` and `microweld sim` stop with that
code, leaving no process behind.

The station is a simulated one in paced clock, reached as hardware is (a modbus_tcp station
file), with its devices' watchdogs at 10 s: only the controller can make it safe in time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.simstation import SimControl, sim_station
from tests.helpers.estop import gui_session
from tests.helpers.paths import REPO
from tests.helpers.station import station_file
from tests.reliability.battery import Record

PULSE_MS = 600.0
CURRENT_OFF_S = 0.3
WATCHDOG_MS = 10_000.0


def long_pulse(folder: Path) -> Path:
    """Return the shipped inverter schedule with a 600 ms pulse."""
    text = (REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml").read_text()
    path = folder / "long_pulse.toml"
    path.write_text(
        text.replace("weld1_ms = 24.0", f"weld1_ms = {PULSE_MS}").replace(
            'name = "tc_inverter_cu100_pb200"', 'name = "long_pulse"'
        ),
        encoding="utf-8",
    )
    return path


def _wait_welding(
    control: SimControl, proc: subprocess.Popen[str] | None, within_s: float
) -> float:
    """Wait until the station's current flows; return the station's time then."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        truth = control.truth()
        if truth["welding"]:
            return float(truth["t_s"])
        if proc is not None:
            assert proc.poll() is None, f"run ended before its pulse: {proc.communicate()}"
        time.sleep(0.01)
    raise AssertionError("no pulse within the time")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_long_pulse_stops_the_current_and_logs_the_weld(
    tmp_path: Path, record: Record, sig: signal.Signals
) -> None:
    sched = long_pulse(tmp_path)
    db = tmp_path / "qa.sqlite"
    with sim_station(str(sched), "--clock", "paced", "--no-rtu") as ends:
        toml = station_file(tmp_path / "long-bench.toml", ends, db, str(sched), None, WATCHDOG_MS)
        control = SimControl(ends.control)
        cmd = [sys.executable, "-m", "controller.cli", "run", "--station", str(toml)]
        cmd += ["--count", "3", "--png", ""]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
        )
        try:
            _wait_welding(control, proc, 60.0)
            time.sleep(0.1)  # well into the pulse
            t_signal = float(control.truth()["t_s"])
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        time.sleep(0.3)  # the head on its way home
        truth = control.truth()
        control.close()
    record.cases, record.faults = 1, 1
    problems = []
    if proc.returncode != 128 + sig:
        problems.append(f"exit code {proc.returncode}, not {128 + sig}")
    if "Traceback" in err:
        problems.append(f"a traceback: {err[-800:]}")
    lines = err.strip().splitlines()
    if not lines or f"interrupted by {sig.name}" not in lines[-1]:
        problems.append(f"last line {lines[-1:]} does not say interrupted by {sig.name}")
    problems += _made_safe_and_logged(truth, t_signal, db, sig, record)
    if "ABORTED" not in out:
        problems.append(f"the summary does not show the interrupted weld: {out}")
    record.failures = len(problems)
    assert problems == []


def _made_safe_and_logged(
    truth: dict[str, Any], t_signal: float, db: Path, sig: signal.Signals, record: Record
) -> list[str]:
    """Return what is wrong with the station's state and the log after the signal."""
    problems = []
    last = truth["last_current_s"]
    if last is None or last - t_signal > CURRENT_OFF_S:
        problems.append(f"current until {last} s, signal at {t_signal} s")
    record.latency(0.0 if last is None else max(last - t_signal, 0.0))
    if truth["armed"] or truth["welding"] or not (truth["homed"] or truth["retracting"]):
        problems.append(f"not safe: {truth}")
    if truth["watchdog_trips_s"]:
        problems.append(f"made safe by the watchdog: {truth['watchdog_trips_s']}")
    log = QaLog(db)
    try:
        welds = log.welds()
        if not welds or welds[-1].verdict != "ABORTED":
            problems.append(f"the interrupted weld is not logged ABORTED: {welds[-1:]}")
        elif not any(f"interrupted by {sig.name}" in r for r in welds[-1].reasons):
            problems.append(f"reasons {welds[-1].reasons}")
        elif len(log.waveform(welds[-1].id)) < 1000:
            problems.append("no waveform up to the signal")
        problems += log.verify()
    finally:
        log.close()
    return problems


def test_the_gui_weld_session_signalled_mid_weld_ends_safe(tmp_path: Path, record: Record) -> None:
    sched = long_pulse(tmp_path)
    heard: list[Any] = []
    with gui_session(tmp_path, sched) as gui:
        gui.conn.send(("weld", WeldIdentity(part_id="gui-part"), False))
        _wait_welding(gui.control, None, 30.0)
        time.sleep(0.1)
        t_signal = float(gui.control.truth()["t_s"])
        assert gui.proc.pid is not None
        os.kill(gui.proc.pid, signal.SIGTERM)
        gui.proc.join(30.0)
        with contextlib.suppress(EOFError):  # its end closed: all it said is read
            while gui.conn.poll(0.5):
                heard.append(gui.conn.recv())
        time.sleep(0.3)
        truth = gui.control.truth()
    record.cases, record.faults = 1, 1
    problems = _made_safe_and_logged(
        truth, t_signal, tmp_path / "qa.sqlite", signal.SIGTERM, record
    )
    said = [m for m in heard if m[0] == "error"]
    if not any("interrupted by SIGTERM" in m[1] for m in said):
        problems.append(f"the GUI was not told: {said}")
    if not heard or heard[-1][0] != "closed":
        problems.append(f"the session did not close: {heard[-3:]}")
    record.failures = len(problems)
    assert problems == []


def test_sigterm_closes_the_gui_and_its_session(tmp_path: Path, record: Record) -> None:
    sched = long_pulse(tmp_path)
    db = tmp_path / "qa.sqlite"
    with sim_station(str(sched), "--clock", "paced", "--no-rtu") as ends:
        toml = station_file(tmp_path / "long-bench.toml", ends, db, str(sched), None, WATCHDOG_MS)
        control = SimControl(ends.control)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        cmd = [sys.executable, "-m", "controller.cli", "gui", "--station", str(toml)]
        cmd += ["--schedule", str(sched)]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
        )
        try:
            deadline = time.monotonic() + 60.0
            # the session beats the station's heartbeats once it is open
            while control.truth()["last_heartbeat_s"] is None:
                assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
                time.sleep(0.05)
            kids = _children(proc.pid)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        control.close()
    record.cases, record.faults = 1, 1
    problems = []
    if proc.returncode != 128 + signal.SIGTERM:
        problems.append(f"exit code {proc.returncode}: {err[-600:]}")
    if "Traceback" in err:
        problems.append(f"a traceback: {err[-800:]}")
    if not kids:
        problems.append("the GUI started no session process")
    deadline = time.monotonic() + 10.0  # a loaded machine: each child closes in its own time
    while (left := [p for p in kids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        problems.append(f"processes left running: {left}")
    record.failures = len(problems)
    assert problems == []


def _alive(pid: int) -> bool:
    """Return True if process pid runs (a zombie has ended: its parent just has not reaped it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _children(pid: int) -> list[int]:
    """Return the process ids of pid's children (from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(k) for k in text]
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_microweld_sim_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    sched = REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"
    cmd = [sys.executable, "-m", "controller.cli", "sim", str(sched), "--no-rtu"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("{")  # where it listens: it is up
        proc.send_signal(sig)  # to `microweld sim` itself: it became the station
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == "station stopped", err


def _group_alive(pgid: int) -> list[int]:
    """Return the processes still in a process group."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                # pid (comm) state ppid pgrp ...: the comm may hold spaces, not ')'
                if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                    alive.append(int(entry.name))
    return alive


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_microweld_map_and_all_its_stations(
    tmp_path: Path, sig: signal.Signals, record: Record
) -> None:
    cmd = [sys.executable, "-m", "controller.cli", "map", "tc_inverter_cu100_pb200"]
    cmd += ["--vary", "voltage=1.6:2.4:10", "--vary", "time_ms=16:32:10", "--repeat", "3"]
    cmd += ["--workers", "2", "--out", str(tmp_path / "map")]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        start_new_session=True,  # its own group: whatever it started is found by the group
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # welding: its workers and their stations are up
            if line.startswith("welded ") and "/s, " in line:  # the progress, off a terminal
                break
        deadline = time.monotonic() + 30.0
        while len(before := _group_alive(proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # map, its workers, their stations
        proc.send_signal(sig)  # to `microweld map` alone, as `kill` does
        _, err = proc.communicate(timeout=60)
        deadline = time.monotonic() + 10.0
        while (left := _group_alive(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    record.cases, record.faults = 1, 1
    assert len(before) >= 3, f"not welding yet: {before}"
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == (
        f"microweld: interrupted by {sig.name}"
    ), err
    assert left == [], f"left behind: {left}"
