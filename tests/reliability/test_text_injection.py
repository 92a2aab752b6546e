"""Text from people cannot forge a line, drive the terminal, run as a formula or get past the
config check only to be refused by the log after the weld fired.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from controller.qa.export import export_features_csv
from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity
from controller.weld.session import SessionError, WeldSession
from controller.weld.stations import load_station
from drivers.config.loader import ConfigError
from tests.helpers.paths import REPO
from tests.helpers.records import weld_record
from tests.reliability.battery import Record

FORGED = "P-1\n     9 2026-01-01T00:00:00  P-999 PASS"
ANSI = "P-2\x1b[2J\x1b[31m"


def _microweld(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MICROWELD_DATA_DIR": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "controller.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("field", ["--part", "--operator", "--lot"])
def test_run_refuses_a_name_that_cannot_be_shown_before_any_weld(
    tmp_path: Path, record: Record, field: str
) -> None:
    qa = tmp_path / "qa.sqlite"
    done = _microweld("run", "--count", "1", field, FORGED, "--qa-log", str(qa), cwd=tmp_path)
    record.cases = record.faults = 1
    name = {"--part": "part_id", "--operator": "operator", "--lot": "lot"}[field]
    assert done.returncode == 2, done.stderr
    assert name in done.stderr and "LINE FEED" in done.stderr, done.stderr
    assert not qa.exists() or QaLog(qa).welds() == []


def test_a_session_refuses_the_weld_and_fires_nothing(tmp_path: Path, record: Record) -> None:
    with WeldSession("sim", qa_log=str(tmp_path / "qa.sqlite")) as session:
        assert session.bench is not None
        with pytest.raises(SessionError, match="part_id holds a character"):
            session.weld(WeldIdentity(part_id=ANSI))
        assert session.bench.supply.weld_count == 0
        assert session.log is not None and session.log.welds() == []
    record.cases = record.faults = 1


def test_names_in_the_log_are_shown_escaped(tmp_path: Path, record: Record) -> None:
    # a log written by an older version, or by another tool: its text is shown as text
    qa = tmp_path / "qa.sqlite"
    log = QaLog(qa)
    log.record_all(
        [
            weld_record(1, station="sim", part_id=FORGED),
            weld_record(2, station="sim", part_id=ANSI, reasons=["a\rb"], verdict="FAIL"),
        ]
    )
    log.close()
    done = _microweld("log", "--qa-log", str(qa), cwd=tmp_path)
    record.cases = record.faults = 2
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, lines  # the count, then one line a weld
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    assert "\\x1b[2J" in lines[2] and "\\n" in lines[1]


def test_csv_cells_that_look_like_formulas_are_exported_as_text(tmp_path: Path) -> None:
    rows = [
        weld_record(1, operator='=HYPERLINK("http://x","y")', lot="+1+1", part_id="@SUM(A1)"),
        weld_record(2, operator="-2+3", features={"energy_j": -1.5}),
    ]
    qa = tmp_path / "qa.sqlite"
    log = QaLog(qa)
    log.record_all(rows)
    logged = log.welds()
    log.close()
    out = tmp_path / "welds.csv"
    export_features_csv(logged, out)
    with out.open(newline="", encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert got[0]["operator"] == '\'=HYPERLINK("http://x","y")'
    assert (got[0]["lot"], got[0]["part_id"]) == ("'+1+1", "'@SUM(A1)")
    assert got[1]["operator"] == "'-2+3"
    assert got[1]["energy_j"] == "-1.5"  # a number stays a number


def test_a_nul_in_a_station_name_is_refused_by_the_config_check(tmp_path: Path) -> None:
    text = (REPO / "configs" / "stations" / "sim.toml").read_text(encoding="utf-8")
    path = tmp_path / "nul.toml"
    path.write_text(text.replace('name = "sim"', 'name = "sim\\u0000b"'), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_station(str(path))
    assert "name" in str(info.value) and "NUL" in str(info.value), str(info.value)
