"""Whole weld cycles per minute on the simulated station (lockstep and paced), and QA log
commits per second with full waveforms, to a SQLite file and to a PostgreSQL server on loopback
(started as the tests start theirs, when its binaries are there)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import serial

from bench.figure import Figure
from controller.monitor.window import load_window
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.bench import Bench, plan_of
from controller.weld.cycle import run_cycle
from controller.weld.simstation import sim_station
from drivers.config.schedule import load_schedule
from drivers.head import ServoForceHead
from drivers.link import tcp_link
from drivers.stream import WaveformStream
from drivers.supply import InverterSupply
from tests.helpers.pgserver import PgUnavailableError, running_server
from tests.helpers.records import weld_record

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = ROOT / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml"
WINDOW = ROOT / "configs" / "windows" / "tc_inverter_cu100_pb200.toml"


def _welds_per_minute(clock: str, count: int) -> tuple[float, int]:
    sch = load_schedule(SCHEDULE)
    win = load_window(WINDOW)
    with tempfile.TemporaryDirectory() as tmp, sim_station("--clock", clock, "--no-rtu") as ends:
        log = QaLog(Path(tmp) / "qa.sqlite")
        link = tcp_link(*ends.modbus_tcp, timeout_s=1.0)
        host, port = ends.stream_tcp
        stream = WaveformStream(serial.serial_for_url(f"socket://{host}:{port}", timeout=0.2))
        bench = Bench(
            InverterSupply(link, 1), ServoForceHead(link, 2), stream, lockstep=clock == "lockstep"
        )
        passed = 0
        t0 = time.perf_counter()
        for k in range(count):
            res = run_cycle(
                bench,
                plan_of(sch),
                win,
                log,
                WeldIdentity(part_id=str(k)),
                sch.name,
                sch.digest(),
                k,
            )
            passed += res.result.verdict == "PASS"
        rate = count / (time.perf_counter() - t0) * 60.0
        stream.close()
        link.close()
        log.close()
    return rate, passed


def _commits_per_second(target: str | Path, count: int = 200) -> float:
    rng = np.random.default_rng(0)
    wave = rng.normal(size=(6000, 4))  # 120 ms at 50 kHz, 4 channels
    log = QaLog(target)
    rec = weld_record(0, waveform=wave)
    t0 = time.perf_counter()
    for _ in range(count):
        log.record(rec)
    rate = count / (time.perf_counter() - t0)
    log.close()
    return rate


def run() -> list[Figure]:
    """Time whole cycles and durable commits."""
    lock, lock_pass = _welds_per_minute("lockstep", 20)
    paced, paced_pass = _welds_per_minute("paced", 5)
    with tempfile.TemporaryDirectory() as tmp:
        commits = _commits_per_second(Path(tmp) / "qa.sqlite")
    figures = [
        Figure("cycle_welds_per_min_lockstep", lock, f"welds/min ({lock_pass}/20 PASS)"),
        Figure("cycle_welds_per_min_paced", paced, f"welds/min ({paced_pass}/5 PASS)"),
        Figure("qalog_commits_per_s", commits, "durable commits/s (120 ms of waveforms each)"),
    ]
    try:
        with running_server() as server:
            pg = _commits_per_second(server.new_database())
    except PgUnavailableError as exc:
        print(f"  (no PostgreSQL figure: {exc})")
        return figures
    unit = "durable commits/s to PostgreSQL on loopback (120 ms of waveforms each)"
    return [*figures, Figure("qalog_commits_per_s_postgres", pg, unit)]
