"""`microweld teach --log`: a window from logged good welds, and clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from controller.monitor.window import judge, load_window
from controller.qa.log import QaLog
from controller.qa.record import WeldRecord
from drivers.config.schedule import load_schedule
from tests.helpers.accounts import make_accounts, password
from tests.helpers.paths import REPO
from tests.helpers.records import weld_record

SCHEDULE = load_schedule(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "controller.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=cwd)


def _teach(cwd: Path, qa: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`microweld teach` from the welds of the QA log qa (where it records the window too)."""
    return _cli(cwd, "teach", "--from-log", "--qa-log", str(qa), *args)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A QA log with 12 welds run on the simulated station, and one no-weld (a FAIL)."""
    tmp = tmp_path_factory.mktemp("teachlog")
    db = tmp / "qa.sqlite"
    for args in (["--count", "12"], ["--count", "1", "--no-weld"]):
        out = _cli(tmp, "run", "--qa-log", str(db), "--png", str(tmp / "l.png"), *args)
        assert "weld" in out.stdout, out.stdout + out.stderr
    return db


def test_a_window_taught_from_logged_welds_passes_them(logged: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "w.toml"
    out = _teach(tmp_path, logged, "--min-count", "10", "--out", str(out_file))
    assert out.returncode == 0, out.stderr
    assert "monitored 12/12" in out.stderr  # progress; the no-weld FAIL is not taught from
    text = out_file.read_text()
    # the new window is in the audit trail of the log it was taught from, old text and new
    trail = [e for e in QaLog(logged).audit_trail() if e[2] == "window"]
    assert [(e[4], e[5]) for e in trail] == [("", text)]
    again = _teach(
        tmp_path, logged, "--min-count", "10", "--k", "5", "--who", "ana", "--out", str(out_file)
    )
    assert again.returncode == 0, again.stderr
    trail = [e for e in QaLog(logged).audit_trail() if e[2] == "window"]
    assert (trail[-1][1], trail[-1][4], trail[-1][5]) == ("ana", text, out_file.read_text())
    out_file.write_text(text)  # back to the 4σ window the rest of this test judges with
    assert "# From: logged welds 1-12" in text
    window = load_window(out_file)
    assert window.taught_from == 12 and window.schedule_hash == SCHEDULE.digest()
    assert {"setdown_um", "energy_j", "burn_through_ms"} <= window.limits.keys()
    assert window.envelope is not None and window.envelope.r_mohm is not None
    log = QaLog(logged)
    rows = [r for r in log.welds() if r.verdict == "PASS"]
    assert len(rows) == 12
    for r in rows:
        assert judge(window, r.features) == [], r.id
    # the no-weld record (logged NO-WELD, not FAIL) fails the new window, for its missing
    # set-down and energy
    (nw,) = log.welds(verdict="NO-WELD")
    reasons = judge(window, nw.features)
    assert any(x.startswith("energy_j") for x in reasons), reasons


def test_chosen_ids_and_their_refusals(logged: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "w.toml"
    ok = _teach(tmp_path, logged, "--ids", "1-5,8", "--min-count", "5", "--out", str(out_file))
    assert ok.returncode == 0, ok.stderr
    assert load_window(out_file).taught_from == 6
    assert "# From: logged welds 1-5,8" in out_file.read_text()
    few = _teach(tmp_path, logged, "--ids", "1-5", "--out", str(out_file))
    assert few.returncode == 2 and "5 welds given; teaching needs at least 10" in few.stderr
    fail = _teach(tmp_path, logged, "--ids", "12-13", "--out", str(out_file))
    assert fail.returncode == 2 and "13 (NO-WELD)" in fail.stderr and "--verdict any" in fail.stderr
    unknown = _teach(tmp_path, logged, "--ids", "99", "--out", str(out_file))
    assert unknown.returncode == 2 and "no weld [99]" in unknown.stderr
    bad = _teach(tmp_path, logged, "--ids", "3-x", "--out", str(out_file))
    assert bad.returncode == 2 and "'3-x' is not an id" in bad.stderr


def _record(schedule: str, digest: str, verdict: str) -> WeldRecord:
    return weld_record(
        0, verdict, schedule=schedule, schedule_hash=digest, waveform=np.zeros((100, 4))
    )


def test_welds_that_disagree_in_schedule_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "qa.sqlite"
    log = QaLog(db)
    for k in range(6):
        log.record(_record(SCHEDULE.name, SCHEDULE.digest() if k < 3 else "0" * 64, "PASS"))
    log.record(_record(SCHEDULE.name, SCHEDULE.digest(), "ABORTED"))
    log.close()
    out = tmp_path / "w.toml"
    mixed = _teach(tmp_path, db, "--min-count", "2", "--out", str(out))
    assert mixed.returncode == 2 and "2 different schedules" in mixed.stderr
    stale = _teach(tmp_path, db, "--ids", "4-6", "--min-count", "2", "--out", str(out))
    assert stale.returncode == 2 and "is not the schedule these welds ran with" in stale.stderr
    aborted = _teach(tmp_path, db, "--ids", "7", "--verdict", "any", "--out", str(out))
    assert aborted.returncode == 2 and "[7] were aborted" in aborted.stderr
    assert not out.exists()  # nothing written on a refusal


def test_on_a_station_with_accounts_a_window_is_signed_by_an_engineer(
    logged: Path, tmp_path: Path
) -> None:

    make_accounts("ana", "eve")
    out_file = tmp_path / "w.toml"
    argv = ["teach", "--log", str(logged), "--min-count", "10", "--out", str(out_file)]

    def teach(who: str, password: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "controller.cli", *argv, "--who", who]
        return subprocess.run(cmd, input=password, capture_output=True, text=True, timeout=600)

    refused = teach("ana", password("ana") + "\n")
    assert refused.returncode == 2 and "ana may not change schedules or windows" in refused.stderr
    assert not out_file.exists()
    signed = teach("eve", password("eve") + "\n")
    assert signed.returncode == 0, signed.stderr
    (*_, (_, who, name, meaning)) = QaLog(logged).signatures("window")
    assert (who, meaning) == ("eve", "authored") and name == load_window(out_file).name
