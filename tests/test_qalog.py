"""The QA log: durable records, filters, exports, audit trail and the hash chain."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from controller.qalog import QaLog, WeldRecord, export_features_csv, export_waveforms


def rec(k: int, verdict: str = "PASS", **kw: object) -> WeldRecord:
    rng = np.random.default_rng(k)
    base = dict(
        station="bench-1",
        operator="ana",
        part_id=f"P{k:04d}",
        lot="L7",
        schedule="tc_inverter_cu100_pb200",
        schedule_hash="06bc7de91ec45eb4",
        window="tc_inverter_cu100_pb200",
        window_hash="abcd",
        electrode_count=100 + k,
        verdict=verdict,
        reasons=[] if verdict == "PASS" else ["setdown_um 80 µm above 62 µm"],
        features={"energy_j": 10.0 + k, "setdown_um": 58.0, "burn_through_ms": None},
        waveform=rng.normal(size=(500, 4)),
        supply_weld_count=k,
        t_utc=f"2026-11-23T10:{k:02d}:00+00:00",
    )
    base.update(kw)
    return WeldRecord(**base)  # type: ignore[arg-type]


@pytest.fixture
def log(tmp_path: Path) -> QaLog:
    return QaLog(tmp_path / "station.sqlite")


def test_records_round_trip_with_waveforms(log: QaLog) -> None:
    ids = [log.record(rec(k)) for k in range(3)]
    assert ids == [1, 2, 3]
    rows = log.welds()
    assert [r.part_id for r in rows] == ["P0000", "P0001", "P0002"]
    assert rows[1].features == {"energy_j": 11.0, "setdown_um": 58.0, "burn_through_ms": None}
    wave = log.waveform(2)
    assert wave.shape == (500, 4)
    np.testing.assert_allclose(wave, rec(1).waveform, rtol=1e-6)  # float32 in the log
    with pytest.raises(KeyError, match="no weld 9"):
        log.waveform(9)


def test_the_log_is_wal_and_commits_with_full_sync(log: QaLog) -> None:
    assert log.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert log.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    log.record(rec(0))
    # another connection sees the weld at once: it was committed, not left in a transaction
    other = sqlite3.connect(log.path)
    assert other.execute("SELECT COUNT(*) FROM welds").fetchone()[0] == 1
    other.close()


def test_filters(log: QaLog) -> None:
    for k in range(6):
        log.record(rec(k, verdict="FAIL" if k % 3 == 0 else "PASS", lot="L7" if k < 4 else "L8"))
    assert [r.id for r in log.welds(verdict="FAIL")] == [1, 4]
    assert [r.id for r in log.welds(lot="L8")] == [5, 6]
    assert [r.id for r in log.welds(part_id="P0002")] == [3]
    assert [r.id for r in log.welds(since="2026-11-23T10:02", until="2026-11-23T10:04")] == [3, 4]
    assert log.welds(schedule="other") == []


def test_bad_verdict_is_refused(log: QaLog) -> None:
    with pytest.raises(ValueError, match="PASS, FAIL or ABORTED"):
        log.record(rec(0, verdict="OK"))
    assert log.welds() == []


def test_exports(log: QaLog, tmp_path: Path) -> None:
    for k in range(3):
        log.record(rec(k, verdict="FAIL" if k == 1 else "PASS"))
    out = tmp_path / "features.csv"
    export_features_csv(log.welds(), out)
    rows = list(csv.DictReader(out.open()))
    assert [r["verdict"] for r in rows] == ["PASS", "FAIL", "PASS"]
    assert rows[1]["reasons"] == "setdown_um 80 µm above 62 µm"
    assert float(rows[2]["energy_j"]) == 12.0
    (npz,) = export_waveforms(log, [1, 3], tmp_path / "npz", "npz")
    with np.load(npz) as data:
        assert sorted(data.files) == ["weld_1", "weld_3"] and data["weld_3"].shape == (500, 4)
    files = export_waveforms(log, [2], tmp_path / "csv", "csv")
    header = files[0].read_text().splitlines()[0]
    assert header == "t_s,current_a,voltage_v,force_n,position_um"


def test_audit_trail_keeps_old_and_new(log: QaLog) -> None:
    log.audit("ana", "schedule", "tc_inverter", "weld1_voltage_v = 2.1", "weld1_voltage_v = 2.2")
    log.audit("qa-bob", "window", "tc_inverter", "k_sigma = 4", "k_sigma = 3")
    trail = log.audit_trail()
    assert [(w, k, o, n) for _, w, k, _, o, n in trail] == [
        ("ana", "schedule", "weld1_voltage_v = 2.1", "weld1_voltage_v = 2.2"),
        ("qa-bob", "window", "k_sigma = 4", "k_sigma = 3"),
    ]


def test_hash_chain_detects_an_edited_or_deleted_row(log: QaLog) -> None:
    for k in range(5):
        log.record(rec(k))
    assert log.verify() == [] and log.integrity_check() == "ok"
    log.db.execute("UPDATE welds SET verdict = 'PASS', features = '{}' WHERE id = 3")
    assert log.verify() == ["weld 3: content does not match its hash (edited?)"]
    log.db.execute("DELETE FROM welds WHERE id = 3")
    assert log.verify() == ["weld 4: chain broken before it (a row removed?)"]


def test_log_command_lists_filters_exports_and_verifies(log: QaLog, tmp_path: Path) -> None:
    import subprocess
    import sys

    for k in range(4):
        log.record(rec(k, verdict="FAIL" if k == 2 else "PASS"))
    base = [sys.executable, "-m", "controller.cli", "log", "--db", str(log.path)]
    out = subprocess.run(
        [
            *base,
            "--verdict",
            "FAIL",
            "--export-csv",
            str(tmp_path / "f.csv"),
            "--export-waveforms",
            str(tmp_path / "w"),
            "--format",
            "csv",
            "--verify",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "1 weld(s)" in out.stdout and "P0002" in out.stdout and "setdown_um 80" in out.stdout
    assert (tmp_path / "f.csv").exists() and (tmp_path / "w" / "weld_3.csv").exists()
    log.db.execute("UPDATE welds SET verdict = 'PASS' WHERE id = 3")
    bad = subprocess.run([*base, "--verify"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "weld 3: content does not match" in bad.stderr
    missing = subprocess.run(
        [*base[:-2], "--db", str(tmp_path / "none.sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no QA log" in missing.stderr
