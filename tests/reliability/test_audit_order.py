"""An audit entry and the change it records land together or not at all: a window or schedule
that cannot be written leaves no entry claiming it was (the tests run as root, whom a read-only
mode does not stop: a target that cannot take the file is a folder in its place, or a file in
place of its folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from controller.monitor.teach import save_window, window_text
from controller.monitor.window import load_window
from controller.qa.log import QaLog
from tests.helpers.paths import REPO
from tests.helpers.records import weld_record
from tests.reliability.battery import Record

WINDOW = load_window(REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml")


def _trail(db: Path) -> list[tuple[str, ...]]:
    log = QaLog(db)
    try:
        return log.audit_trail()
    finally:
        log.close()


def test_a_window_whose_target_is_a_folder_leaves_no_audit_entry(
    tmp_path: Path, record: Record
) -> None:
    db = tmp_path / "qa.sqlite"
    target = tmp_path / "w.toml"
    target.mkdir()  # refused as it is read for the old text: IsADirectoryError
    with pytest.raises(IsADirectoryError):
        save_window(WINDOW, window_text(WINDOW, "test", "test"), target, db, "ana")
    record.cases = record.faults = 1
    assert _trail(db) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".w.toml")] == []


def test_teach_onto_a_target_that_cannot_be_written_says_so_and_records_nothing(
    tmp_path: Path, record: Record
) -> None:
    db = tmp_path / "qa.sqlite"
    log = QaLog(db)
    log.record_all([weld_record(k, station="sim") for k in range(1, 13)])
    log.close()
    (tmp_path / "blocked").write_text("a file where the folder should be")
    out = tmp_path / "blocked" / "w.toml"
    cmd = [
        sys.executable,
        "-m",
        "controller.cli",
        "teach",
        "--from-log",
        "--qa-log",
        str(db),
        "--min-count",
        "5",
    ]
    done = subprocess.run(
        [*cmd, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "MICROWELD_DATA_DIR": str(tmp_path)},
    )
    record.cases = record.faults = 1
    assert done.returncode == 2, done.stderr
    assert "cannot write" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert _trail(db) == []


def test_a_window_written_is_in_the_trail_with_its_old_text(tmp_path: Path) -> None:
    db = tmp_path / "qa.sqlite"
    target = tmp_path / "w.toml"
    target.write_text("# the old window\n")
    text = window_text(WINDOW, "test", "test")
    save_window(WINDOW, text, target, db, "ana")
    assert target.read_text() == text
    (entry,) = _trail(db)
    assert entry[1:] == ("ana", "window", WINDOW.name, "# the old window\n", text)
