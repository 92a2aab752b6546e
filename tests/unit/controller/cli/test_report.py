"""controller/cli/report.py: a report that cannot be made says why in one line, exit 2, and
leaves no file behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from controller.cli.main import main
from controller.qa.log import QaLog
from tests.helpers.records import weld_record


@pytest.fixture
def qa(tmp_path: Path) -> Path:
    path = tmp_path / "qa.sqlite"
    log = QaLog(path)
    log.record_all([weld_record(k) for k in range(3)])
    log.close()
    return path


def _error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run report with args; return its one line of error (exit 2 asserted)."""
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if not line.startswith("report: ")]  # progress aside
    assert len(errors) == 1, err
    assert errors[0].startswith("error: ") and "Traceback" not in errors[0], errors[0]
    return errors[0]


def test_an_empty_selection_says_so(
    qa: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.pdf"
    err = _error(capsys, "--qa-log", str(qa), "--lot", "NOPE", "--out", str(out))
    assert err.startswith("error: no welds in lot NOPE (") and not out.exists()
    err = _error(capsys, "--qa-log", str(qa), "--until", "2020-01-01", "--out", str(out))
    assert err.startswith("error: no welds until 2020-01-01T00:00:00.000000+00:00")


def test_an_out_that_cannot_be_written_is_one_line(
    qa: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for out in (tmp_path / "no" / "such" / "r.pdf", tmp_path / "no" / "r.html"):
        err = _error(capsys, "--qa-log", str(qa), "--lot", "L7", "--out", str(out))
        assert err == f"error: cannot write {out}: No such file or directory"
    folder = tmp_path / "taken.pdf"
    folder.mkdir()  # a folder by that name: the report cannot take its place
    err = _error(capsys, "--qa-log", str(qa), "--lot", "L7", "--out", str(folder))
    assert err.startswith(f"error: cannot write {folder}: ")
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_what_to_report_on_must_be_said_once(
    qa: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "r.pdf")
    base = ["--qa-log", str(qa), "--out", out]
    assert "--lot L, or --since T" in _error(capsys, *base)
    assert "not both" in _error(capsys, *base, "--lot", "L7", "--since", "1h")
    assert "is not a time" in _error(capsys, *base, "--since", "last tuesday")
    assert "a .pdf or .html file" in _error(
        capsys, "--qa-log", str(qa), "--lot", "L7", "--out", "r.docx"
    )
    assert "no QA log at" in _error(
        capsys, "--qa-log", str(tmp_path / "none.sqlite"), "--lot", "L7", "--out", out
    )


def test_no_traceback_reaches_the_terminal(qa: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "controller.cli", "report", "--qa-log", str(qa), "--lot", "L7"]
    done = subprocess.run(
        [*cmd, "--out", str(tmp_path / "no" / "r.pdf")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: cannot write ")
