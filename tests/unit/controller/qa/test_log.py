"""The QA log: durable records, filters, exports, audit trail and the hash chain; every test
that takes `log` or `qa_target` runs on both backends, a SQLite file and a PostgreSQL database
(tests/conftest.py starts the server)."""

from __future__ import annotations

import csv
import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from controller.qa.export import export_features_csv, export_waveforms
from controller.qa.log import QaLog
from controller.qa.stores import check_qa_log, shown
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError
from tests.helpers.paths import REPO
from tests.helpers.pgserver import PgServer
from tests.helpers.qa import backend, count_welds
from tests.helpers.records import weld_record


@pytest.fixture
def log(qa_target: str) -> QaLog:
    return QaLog(qa_target)


def test_records_round_trip_with_waveforms(log: QaLog) -> None:
    ids = [log.record(weld_record(k)) for k in range(3)]
    assert ids == [1, 2, 3]
    rows = log.welds()
    assert [r.part_id for r in rows] == ["P0000", "P0001", "P0002"]
    assert rows[1].features == {"energy_j": 11.0, "setdown_um": 58.0, "burn_through_ms": None}
    wave = log.waveform(2)
    assert wave.shape == (500, 4)
    np.testing.assert_allclose(wave, weld_record(1).waveform, rtol=1e-6)  # float32 in the log
    with pytest.raises(KeyError, match="no weld 9"):
        log.waveform(9)


def test_a_whole_number_rate_verifies_as_it_reads_back(log: QaLog) -> None:
    # hashed as given (50000) and read back as a REAL (50000.0): the chain broke
    log.record(weld_record(1, sample_rate_hz=50_000))
    assert log.sample_rate_hz(1) == 50_000.0
    assert log.verify() == []


def test_the_log_commits_durably(log: QaLog, qa_target: str) -> None:
    if backend(qa_target) == "sqlite":
        assert log.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert log.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    else:
        # COMMIT returns once the server has flushed it to its WAL (and the server syncs)
        assert log.db.execute("SHOW synchronous_commit").fetchone()[0] == "on"
        assert log.db.execute("SHOW fsync").fetchone()[0] == "on"
    log.record(weld_record(0))
    # another connection sees the weld at once: it was committed, not left in a transaction
    assert count_welds(qa_target) == 1


def test_filters(log: QaLog) -> None:
    for k in range(6):
        at = f"2026-11-23T10:{k:02d}:00+00:00"
        verdict = "FAIL" if k % 3 == 0 else "PASS"
        log.record(weld_record(k, verdict, lot="L7" if k < 4 else "L8", t_utc=at))
    assert [r.id for r in log.welds(verdict="FAIL")] == [1, 4]
    assert [r.id for r in log.welds(lot="L8")] == [5, 6]
    assert [r.id for r in log.welds(part_id="P0002")] == [3]
    assert [r.id for r in log.welds(since="2026-11-23T10:02", until="2026-11-23T10:04")] == [3, 4]
    assert log.welds(schedule="other") == []


def test_bad_verdict_is_refused(log: QaLog) -> None:
    with pytest.raises(ValueError, match="PASS, FAIL, ABORTED or NO-WELD"):
        log.record(weld_record(0, verdict="OK"))
    assert log.welds() == []


def test_a_log_made_before_the_no_weld_verdict_takes_it_keeping_its_chain(
    log: QaLog, qa_target: str
) -> None:
    for k in range(3):
        log.record(weld_record(k))
    old = "('PASS', 'FAIL', 'ABORTED')"
    if backend(qa_target) == "sqlite":  # as an older version made it
        sql = log.db.execute("SELECT sql FROM sqlite_master WHERE name = 'welds'").fetchone()[0]
        log.db.execute(sql.replace("'ABORTED', 'NO-WELD')", "'ABORTED')").replace("welds", "w0", 1))
        for step in ("INSERT INTO w0 SELECT * FROM welds", "DROP TABLE welds"):
            log.db.execute(step)
        log.db.execute("ALTER TABLE w0 RENAME TO welds")
    else:
        log.db.execute("ALTER TABLE welds DROP CONSTRAINT welds_verdict_check")
        log.db.execute(
            f"ALTER TABLE welds ADD CONSTRAINT welds_verdict_check CHECK (verdict IN {old})"
        )
    log.close()
    again = QaLog(qa_target)
    try:
        again.record(weld_record(3, verdict="NO-WELD", supply_weld_count=None))
        assert [w.verdict for w in again.welds()] == ["PASS", "PASS", "PASS", "NO-WELD"]
        assert again.verify() == [] and again.integrity_check() == "ok"
    finally:
        again.close()


def test_exports(log: QaLog, tmp_path: Path) -> None:
    for k in range(3):
        log.record(weld_record(k, verdict="FAIL" if k == 1 else "PASS"))
    out = tmp_path / "features.csv"
    export_features_csv(log.welds(), out)
    rows = list(csv.DictReader(out.open()))
    assert [r["verdict"] for r in rows] == ["PASS", "FAIL", "PASS"]
    assert rows[1]["reasons"] == "setdown_um 80 µm above 62 µm"
    assert float(rows[2]["energy_j"]) == 12.0
    (npz,) = export_waveforms(log, [1, 3], tmp_path / "npz", "npz")
    with np.load(npz) as data:
        assert data["weld_3"].shape == (500, 4) and "weld_2" not in data.files
        assert list(data["channels"]) == ["current_a", "voltage_v", "force_n", "position_um"]
        assert list(data["units"]) == ["A", "V", "N", "µm"]
        assert float(data["sample_rate_hz_1"]) == log.sample_rate_hz(1)
    files = export_waveforms(log, [2], tmp_path / "csv", "csv")
    header = files[0].read_text().splitlines()[0]
    assert header == "t_s,current_a,voltage_v,force_n,position_um"


def test_the_hdf5_export_says_what_each_weld_is(log: QaLog, tmp_path: Path) -> None:
    for k in range(3):
        log.record(weld_record(k, verdict="FAIL" if k == 1 else "PASS"))
    (path,) = export_waveforms(log, [2, 3], tmp_path / "h5")
    weld, row_hash = log.weld(2)
    with h5py.File(path, "r") as f:
        assert sorted(f["welds"]) == ["2", "3"]
        data = f["welds/2"]
        assert data.shape == (500, 4)
        np.testing.assert_array_equal(data[()], log.waveform(2))
        assert list(data.attrs["channels"]) == ["current_a", "voltage_v", "force_n", "position_um"]
        assert list(data.attrs["units"]) == ["A", "V", "N", "µm"]
        assert data.attrs["sample_rate_hz"] == log.sample_rate_hz(2)
        assert (data.attrs["part_id"], data.attrs["verdict"]) == (weld.part_id, "FAIL")
        assert data.attrs["row_hash"] == row_hash and data.attrs["record_id"] == 2
        assert list(data.attrs["reasons"]) == weld.reasons


def test_audit_trail_keeps_old_and_new(log: QaLog) -> None:
    log.audit("ana", "schedule", "tc_inverter", "weld1_voltage_v = 2.1", "weld1_voltage_v = 2.2")
    log.audit("qa-bob", "window", "tc_inverter", "k_sigma = 4", "k_sigma = 3")
    trail = log.audit_trail()
    assert [(w, k, o, n) for _, w, k, _, o, n in trail] == [
        ("ana", "schedule", "weld1_voltage_v = 2.1", "weld1_voltage_v = 2.2"),
        ("qa-bob", "window", "k_sigma = 4", "k_sigma = 3"),
    ]


# the tampering below is plain SQL through the backend's own connection, as someone with
# write access to the database would do it


def test_hash_chain_detects_an_edited_or_deleted_row(log: QaLog) -> None:
    for k in range(5):
        log.record(weld_record(k))
    assert log.verify() == [] and log.integrity_check() == "ok"
    log.db.execute("UPDATE welds SET verdict = 'PASS', features = '{}' WHERE id = 3")
    assert log.verify() == ["weld 3: content does not match its hash (edited?)"]
    log.db.execute("DELETE FROM welds WHERE id = 3")
    assert log.verify() == ["weld 4: chain broken before it (a row removed?)"]


def test_hash_chain_detects_swapped_rows(log: QaLog) -> None:
    for k in range(5):
        log.record(weld_record(k))
    # each row keeps its content and its own hash; only the order changes
    for sql in (
        "UPDATE welds SET id = -1 WHERE id = 2",
        "UPDATE welds SET id = 2 WHERE id = 3",
        "UPDATE welds SET id = 3 WHERE id = -1",
    ):
        log.db.execute(sql)
    assert [r.part_id for r in log.welds()][:4] == ["P0000", "P0002", "P0001", "P0003"]
    assert log.verify() == [
        "weld 2: chain broken before it (a row removed?)",
        "weld 3: chain broken before it (a row removed?)",
        "weld 4: chain broken before it (a row removed?)",
    ]


def test_hash_chain_detects_an_edited_waveform(log: QaLog) -> None:
    for k in range(3):
        log.record(weld_record(k))
    log.db.execute(
        "UPDATE welds SET waveform = (SELECT waveform FROM welds WHERE id = 1) WHERE id = 2"
    )
    assert log.verify() == ["weld 2: content does not match its hash (edited?)"]


def test_log_command_lists_filters_exports_and_verifies(
    log: QaLog, tmp_path: Path, qa_target: str
) -> None:
    for k in range(4):
        log.record(weld_record(k, verdict="FAIL" if k == 2 else "PASS"))
    base = [sys.executable, "-m", "controller.cli", "log", "--qa-log", str(log.path)]
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
    assert (
        f"1 weld(s) in {qa_target}" in out.stdout
        and "P0002" in out.stdout
        and "setdown_um 80" in out.stdout
    )
    assert (tmp_path / "f.csv").exists() and (tmp_path / "w" / "weld_3.csv").exists()
    log.db.execute("UPDATE welds SET verdict = 'PASS' WHERE id = 3")
    bad = subprocess.run([*base, "--verify"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "weld 3: content does not match" in bad.stderr
    if backend(qa_target) == "sqlite":
        nowhere, why = str(tmp_path / "none.sqlite"), "no QA log at"
    else:  # a server, without that database
        nowhere, why = qa_target.rsplit("/", 1)[0] + "/none", "cannot open the QA log at"
    missing = subprocess.run(
        [*base[:-2], "--qa-log", nowhere], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and why in missing.stderr, missing.stderr


# --- several writers, kills, and the two backends side by side ------------------------------


def _writers(
    target: str, stations: list[str], count: int, pause_s: float = 0.0
) -> list[subprocess.Popen[str]]:
    """Start one tests.helpers.qa writer per station; return them once all are ready to write."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.qa", target, s, str(count), str(pause_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for s in stations
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    return procs


def _go(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()


def test_several_stations_writing_at_once_keep_one_chain(qa_target: str) -> None:
    QaLog(qa_target).close()  # the tables, made once (each writer would make them as well)
    stations = [f"bench-{n}" for n in range(4)]
    # a pause between a station's welds, as at a bench: SQLite's lock is not fair, and a
    # writer that commits back to back would keep it while the others back off
    procs = _writers(qa_target, stations, 25, pause_s=0.01)
    _go(procs)
    acknowledged = {}
    for s, p in zip(stations, procs, strict=True):
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        acknowledged[s] = [int(line) for line in out.split()]
    log = QaLog(qa_target)
    rows = log.welds()
    assert len(rows) == 100 and log.verify() == []
    for s in stations:
        mine = [r for r in rows if r.station == s]
        assert [r.id for r in mine] == acknowledged[s]
        assert [r.part_id for r in mine] == [f"{s}-{k:04d}" for k in range(25)]
    # they did write at once: the stations' records are interleaved in the chain
    changes = sum(a.station != b.station for a, b in itertools.pairwise(rows))
    assert changes > len(stations) - 1


def test_a_committed_record_survives_its_writer_being_killed(qa_target: str) -> None:
    (proc,) = _writers(qa_target, ["bench-k"], 10_000)
    _go([proc])
    assert proc.stdout is not None
    acknowledged = [int(proc.stdout.readline()) for _ in range(5)]
    os.kill(proc.pid, signal.SIGKILL)  # mid-write, most likely inside a transaction
    proc.wait(timeout=30)
    log = QaLog(qa_target)
    logged = [r.id for r in log.welds()]
    assert set(acknowledged) <= set(logged)
    assert logged == list(range(1, len(logged) + 1)) and log.verify() == []
    log.record(weld_record(0))  # the killed writer's lock went with it
    assert log.verify() == []


def test_the_same_record_hashes_the_same_on_both_backends(
    tmp_path: Path, pg_server: PgServer
) -> None:
    logs = [QaLog(tmp_path / "qa.sqlite"), QaLog(pg_server.new_database())]
    records = [
        weld_record(0),
        weld_record(1, verdict="FAIL"),
        weld_record(2, supply_weld_count=None),
    ]
    hashes = []
    for log in logs:
        log.record_all(records)
        hashes.append([r[0] for r in log.db.execute("SELECT row_hash FROM welds ORDER BY id")])
        assert log.verify() == []
    assert hashes[0] == hashes[1] and len(set(hashes[0])) == 3
    # the same columns in the same order (the hash is over them, and exports read them)
    sqlite_cols = [r[1] for r in logs[0].db.execute("PRAGMA table_info(welds)")]
    pg_cols = [
        r[0]
        for r in logs[1].db.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'welds' ORDER BY ordinal_position"
        )
    ]
    assert sqlite_cols == pg_cols
    assert [w.features for w in logs[0].welds()] == [w.features for w in logs[1].welds()]


def test_a_server_log_with_a_table_gone_fails_its_integrity_check(pg_server: PgServer) -> None:
    log = QaLog(pg_server.new_database())
    assert log.integrity_check() == "ok"
    log.db.execute("DROP TABLE dressings")
    assert log.integrity_check() == "missing table(s): dressings"


def test_a_restarted_server_is_connected_to_again(pg_server: PgServer) -> None:
    log = QaLog(pg_server.new_database())
    log.record(weld_record(1))
    pg_server.restart()  # every connection to it is lost; the log's first call finds out
    assert log.welds_since_dressing("bench-1") == 1
    log.record(weld_record(2))
    pg_server.restart()
    log.record(weld_record(3))  # an append as the first call after the restart
    assert [w.part_id for w in log.welds()] == ["P0001", "P0002", "P0003"]
    assert log.verify() == []
    log.close()


def test_an_unreachable_server_is_named(pg_server: PgServer) -> None:
    url = pg_server.url().replace(f":{pg_server.port}/", ":1/")  # nothing listens on port 1
    with pytest.raises(ConnectionError, match="cannot open the QA log at postgresql://"):
        QaLog(url)


# --- where a station's log is ---------------------------------------------------------------


def test_a_stations_qa_log_is_a_path_or_a_postgresql_url(tmp_path: Path) -> None:
    toml = tmp_path / "bench.toml"
    base = (
        'name = "bench-9"\nkind = "modbus_tcp"\nhost = "127.0.0.1"\nstream_port = 5020\n'
        'supply_model = "inverter_supply"\nschedule = "tc_inverter_cu100_pb200"\n'
    )
    for good in ("qa/bench-9.sqlite", "postgresql://qa@127.0.0.1:5432/welds"):
        toml.write_text(base + f'qa_log = "{good}"\n')
        assert load_station(str(toml)).qa_log == good
    for bad, why in (
        ("mysql://qa@db/welds", "mysql:// is not a QA log"),
        ("postgresql://qa@127.0.0.1:5432", "names no database"),
        ("postgresql://qa@127.0.0.1:99999/welds", "not a number 1-65535"),
        ("postgresql:///welds", "names no server"),
    ):
        toml.write_text(base + f'qa_log = "{bad}"\n')
        with pytest.raises(ConfigError) as err:
            load_station(str(toml))
        assert f"{toml}: qa_log: " in str(err.value) and why in str(err.value)


def test_a_refused_url_in_a_station_file_is_echoed_without_its_password(tmp_path: Path) -> None:
    toml = tmp_path / "bench.toml"
    toml.write_text(
        'name = "bench-9"\nkind = "modbus_tcp"\nhost = "127.0.0.1"\nstream_port = 5020\n'
        'supply_model = "inverter_supply"\nschedule = "tc_inverter_cu100_pb200"\n'
        'qa_log = "postgresql://qa:s3cret@db.plant:5432"\n'  # no database: refused
    )
    with pytest.raises(ConfigError) as err:
        load_station(str(toml))
    assert "names no database" in str(err.value) and "qa:***@db.plant" in str(err.value)
    assert "s3cret" not in str(err.value)


def test_a_password_is_not_shown() -> None:
    url = "postgresql://qa:s3cret@db.plant:5432/welds"
    assert check_qa_log(url) == url
    assert shown(url) == "postgresql://qa:***@db.plant:5432/welds"
    assert shown("qa/x.sqlite") == "qa/x.sqlite"


def test_a_log_made_before_dressings_kept_the_last_weld_id_still_counts(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE dressings (id INTEGER PRIMARY KEY, t_utc TEXT NOT NULL,"
        " station TEXT NOT NULL, who TEXT NOT NULL);"
        "INSERT INTO dressings (t_utc, station, who)"
        " VALUES ('2026-01-01T00:00:00', 'bench-1', 'a');"
    )
    old.close()
    log = QaLog(path)
    log.record_all([weld_record(k, station="bench-1") for k in range(1, 4)])  # made after it
    assert log.welds_since_dressing("bench-1") == 3
    log.dressed("bench-1", "b")
    log.record(weld_record(4, station="bench-1"))
    assert log.welds_since_dressing("bench-1") == 1
    log.close()
