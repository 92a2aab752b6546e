"""controller/cli/log.py: times people type, --last, --part families, exports that fail, a
closed pipe: each says what it did, or one line why not."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from controller.qa.log import QaLog
from tests.helpers.records import weld_record


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "qa.sqlite"
    log = QaLog(path)
    for k in range(4):
        log.record(weld_record(k, part_id=f"P-100-{k + 1:04d}"))
    log.record(weld_record(4, part_id="P-1000"))  # another part, not of P-100's family
    log.close()
    return path


def _log(db: Path, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "controller.cli", "log", "--qa-log", str(db), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)  # type: ignore[call-overload]


def test_times_are_read_as_times_and_garbage_is_refused(db: Path) -> None:
    assert "5 weld(s)" in _log(db, "--since", "yesterday").stdout  # made just now
    assert "0 weld(s)" in _log(db, "--until", "2h").stdout
    assert "5 weld(s)" in _log(db, "--since", "2020-01-01T00:00+01:00").stdout
    bad = _log(db, "--since", "last tuesday")
    assert bad.returncode == 2 and "is not a time: give ISO 8601" in bad.stderr, bad.stderr


@pytest.mark.parametrize("n", ["0", "-2", "two"])
def test_last_takes_a_whole_number_from_one(db: Path, n: str) -> None:
    out = _log(db, "--last", n)
    assert out.returncode == 2 and "a whole number from 1 up" in out.stderr, out.stderr


def test_last_n_exports_what_it_shows(db: Path, tmp_path: Path) -> None:
    out = _log(db, "--last", "2", "--export-csv", str(tmp_path / "f.csv"))
    assert out.returncode == 0 and "5 weld(s)" in out.stdout and "the last 2" in out.stdout
    rows = list(csv.DictReader((tmp_path / "f.csv").open()))
    assert [r["id"] for r in rows] == ["4", "5"]


def test_a_part_finds_the_ones_numbered_from_it(db: Path) -> None:
    out = _log(db, "--part", "P-100")
    assert "4 weld(s)" in out.stdout and "P-1000" not in out.stdout, out.stdout
    assert "1 weld(s)" in _log(db, "--part", "P-100-0003").stdout


def test_an_export_that_cannot_be_written_is_one_line(db: Path, tmp_path: Path) -> None:
    out = _log(db, "--export-csv", str(tmp_path / "no" / "such" / "f.csv"))
    assert out.returncode == 2 and out.stderr.startswith("error: cannot write the export")
    assert "Traceback" not in out.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    many = tmp_path / "many.sqlite"  # more lines than a pipe holds: the writer meets the close
    log = QaLog(many)
    log.record_all([weld_record(k) for k in range(3000)])
    log.close()
    log = subprocess.Popen(
        [sys.executable, "-m", "controller.cli", "log", "--qa-log", str(many)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert log.stdout is not None and log.stdout.readline()  # `| head -1`
    log.stdout.close()
    _, err = log.communicate(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert log.returncode == 141  # as a shell's tool killed by SIGPIPE


def test_teach_reads_its_times_as_log_does(db: Path, tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "controller.cli",
        "teach",
        "--from-log",
        "--qa-log",
        str(db),
        "--out",
    ]
    bad = subprocess.run(
        [*cmd, str(tmp_path / "w.toml"), "--since", "garbage"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: 'garbage' is not a time")
