"""`microweld run` end to end on the embedded simulated station, over the real protocols (the
logging tests on both QA-log backends: the `qa_target` fixture)."""

from __future__ import annotations

import os
import pty
import re
import select
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from controller.qa.log import QaLog
from tests.helpers.accounts import make_accounts, password
from tests.helpers.paths import WINDOWS


def _run(tmp: Path, *args: str, qa: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "controller.cli",
        "run",
        "--qa-log",
        qa or str(tmp / "qa.sqlite"),
        "--png",
        str(tmp / "last.png"),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp)


def test_good_welds_pass_and_are_logged_with_their_waveforms(
    tmp_path: Path, qa_target: str
) -> None:
    out = _run(
        tmp_path, "--count", "3", "--part", "A", "--operator", "ana", "--lot", "L9", qa=qa_target
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 of 3 PASS" in out.stdout
    # captured, not a terminal: one line a weld, and no bar (its `\r`s read as new lines)
    shown = [line for line in out.stdout.splitlines() if line.startswith("weld ")]
    assert shown == [f"weld {k}/3: log id {k} PASS" for k in (1, 2, 3)]
    assert "/3" not in out.stderr, out.stderr
    assert f"QA log: {qa_target}" in out.stdout
    log = QaLog(qa_target)
    rows = log.welds()
    assert [r.part_id for r in rows] == ["A-0001", "A-0002", "A-0003"]
    assert {r.operator for r in rows} == {"ana"} and {r.lot for r in rows} == {"L9"}
    assert all(r.verdict == "PASS" and r.window == "tc_inverter_cu100_pb200" for r in rows)
    assert [r.supply_weld_count for r in rows] == [1, 2, 3]
    wave = log.waveform(rows[-1].id)
    assert wave.shape[1] == 4 and wave[:, 0].max() > 300.0  # the cold tip draws ~350 A at first
    assert log.verify() == [] and log.integrity_check() == "ok"
    assert (tmp_path / "last.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "schedule", ["tc_inverter_cu100_pb200", "tc_cd_cu100_pb200", "direct_cd_ni400_crossed"]
)
def test_each_shipped_schedule_passes_on_its_own_window(tmp_path: Path, schedule: str) -> None:
    # `--schedule` alone: the schedule's own window judges (the CD tip's 3.7 V once clipped
    # at the stream's 3.28 V, and every weld FAILed on energy)
    out = _run(tmp_path, "--schedule", schedule, "--count", "20", "--png", "")
    assert out.returncode in (0, 1), out.stderr
    rows = QaLog(tmp_path / "qa.sqlite").welds()
    assert len(rows) == 20 and {r.window for r in rows} == {schedule}
    passed = [r for r in rows if r.verdict == "PASS"]
    assert len(passed) >= 19, [r.reasons for r in rows if r.verdict != "PASS"]


def test_window_none_judges_by_none(tmp_path: Path) -> None:
    out = _run(tmp_path, "--count", "1", "--window", "none")
    assert out.returncode == 0, out.stderr
    (row,) = QaLog(tmp_path / "qa.sqlite").welds()
    assert row.window == "" and row.verdict == "PASS"


def test_no_weld_runs_the_force_cycle_with_no_current(tmp_path: Path) -> None:
    out = _run(tmp_path, "--count", "1", "--no-weld")
    log = QaLog(tmp_path / "qa.sqlite")
    (row,) = log.welds()
    wave = log.waveform(row.id)
    assert np.abs(wave[:, 0]).max() < 20.0  # noise only: no pulse
    assert wave[:, 2].max() > 11.0  # the head went to force
    # nothing fired: the record claims no count of the supply's, and there is no weld to
    # judge: a no-weld cycle, not a production FAIL (it had 11 reasons and SPC counted it)
    assert row.supply_weld_count is None and row.verdict == "NO-WELD"
    assert row.reasons == ["no-weld cycle: force only, no current"]
    assert out.returncode == 0 and "0 of 0 PASS (1 no-weld cycles, not judged)" in out.stdout


def test_a_stale_window_is_refused(tmp_path: Path) -> None:
    src = WINDOWS
    stale = (
        (src / "tc_inverter_cu100_pb200.toml")
        .read_text()
        .replace('schedule_hash = "', 'schedule_hash = "0')
    )
    (tmp_path / "w.toml").write_text(stale)
    out = _run(tmp_path, "--count", "1", "--window", str(tmp_path / "w.toml"))
    assert out.returncode == 2 and "taught for another version" in out.stderr


def test_electrode_count_warns_stops_at_its_limit_and_dressing_resets_it(
    tmp_path: Path, qa_target: str
) -> None:
    station = tmp_path / "station.toml"
    station.write_text(
        'name = "sim"\nkind = "sim"\nschedule = "tc_inverter_cu100_pb200"\n'
        'window = "tc_inverter_cu100_pb200"\nelectrode_warning = 2\n'
        "electrode_limit = 3\n"
    )
    out = _run(tmp_path, "--station", str(station), "--count", "5", qa=qa_target)
    assert out.returncode == 2
    assert "warning: 2 welds since the electrode was dressed" in out.stderr
    assert "electrode limit reached: 3 welds since dressing" in out.stderr
    log = QaLog(qa_target)
    assert [r.electrode_count for r in log.welds()] == [1, 2, 3]
    dress = subprocess.run(
        [
            sys.executable,
            "-m",
            "controller.cli",
            "dress",
            "--station",
            str(station),
            "--qa-log",
            qa_target,
            "--who",
            "bo",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dress.returncode == 0 and "dressed after 3 welds (by bo)" in dress.stdout
    again = _run(tmp_path, "--station", str(station), "--count", "1", qa=qa_target)
    assert again.returncode == 0
    assert log.welds()[-1].electrode_count == 1


def test_an_unreachable_qa_log_server_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    out = _run(tmp_path, "--count", "1", qa="postgresql://qa@127.0.0.1:1/welds")
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error: cannot open the QA log at postgresql://qa@127.0.0.1:1/")
    assert "Traceback" not in out.stderr and "weld 1/1" not in out.stdout


def test_log_reads_the_log_run_wrote_wherever_each_is_run(
    tmp_path: Path, data_folder: Path
) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    cli = [sys.executable, "-m", "controller.cli"]
    run = subprocess.run(
        [*cli, "run", "--count", "1", "--png", ""], capture_output=True, text=True, cwd=here
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"QA log: {data_folder / 'qa' / 'sim.sqlite'}" in run.stdout
    log = subprocess.run([*cli, "log"], capture_output=True, text=True, cwd=there)
    assert log.returncode == 0, log.stderr
    assert f"1 weld(s) in {data_folder / 'qa' / 'sim.sqlite'}" in log.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["modbus_tcp", "modbus_rtu"])
def test_a_station_that_is_not_there_is_one_line(tmp_path: Path, kind: str) -> None:
    if kind == "modbus_tcp":  # nothing listens on these loopback ports
        where = f'host = "127.0.0.1"\nmodbus_port = {_free_port()}\nstream_port = {_free_port()}\n'
    else:  # no such serial ports (a USB adapter not plugged in)
        where = f'serial_port = "{tmp_path}/ttyUSB0"\nstream_port = "{tmp_path}/ttyACM0"\n'
    station = tmp_path / "bench.toml"
    station.write_text(
        f'name = "bench-9"\nkind = "{kind}"\n{where}supply_model = "inverter_supply"\n'
        'schedule = "tc_inverter_cu100_pb200"\nqa_log = "qa.sqlite"\n'
    )
    out = _run(tmp_path, "--station", str(station), "--count", "1")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    (line,) = [x for x in out.stderr.splitlines() if x.strip()]
    assert line.startswith("error: ") and "unexpected" not in line, line


def test_an_unknown_station_name_lists_the_stations(tmp_path: Path) -> None:
    out = _run(tmp_path, "--station", "no_such_bench", "--count", "1")
    assert out.returncode == 2
    assert "no station 'no_such_bench'; the stations are: bench_rtu, bench_tcp, sim" in out.stderr


@pytest.mark.parametrize("count", ["0", "-2"])
def test_a_count_below_one_is_refused_before_the_station_starts(tmp_path: Path, count: str) -> None:
    out = _run(tmp_path, "--count", count)
    assert out.returncode == 2 and "a whole number from 1 up" in out.stderr
    assert not (tmp_path / "qa.sqlite").exists()


def test_part_ids_never_repeat_from_run_to_run(tmp_path: Path) -> None:
    for args in (["--count", "2"], ["--count", "1"], ["--count", "2", "--part", "P-{n:03d}"]):
        assert _run(tmp_path, *args, "--png", "").returncode == 0
    assert _run(tmp_path, "--count", "1", "--part", "SN-77", "--png", "").returncode == 0
    assert _run(tmp_path, "--count", "2", "--part", "P-{n:03d}", "--png", "").returncode == 0
    ids = [r.part_id for r in QaLog(tmp_path / "qa.sqlite").welds()]
    assert ids == [
        "part-0001", "part-0002", "part-0003", "P-001", "P-002", "SN-77", "P-003", "P-004",
    ]  # fmt: skip


def test_a_part_welded_before_is_refused_unless_reweld_is_chosen_and_recorded(
    tmp_path: Path,
) -> None:
    assert _run(tmp_path, "--count", "1", "--part", "SN-5", "--png", "").returncode == 0
    again = _run(tmp_path, "--count", "1", "--part", "SN-5", "--png", "")
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "part SN-5 was welded already (log id 1 PASS)" in again.stderr
    assert "--reweld" in again.stderr
    chosen = _run(tmp_path, "--count", "1", "--part", "SN-5", "--reweld", "--png", "")
    assert chosen.returncode == 0, chosen.stderr
    log = QaLog(tmp_path / "qa.sqlite")
    assert [(w.part_id, w.verdict) for w in log.welds()] == [("SN-5", "PASS")] * 2
    ((_, who, part, meaning),) = log.signatures("re-weld")
    assert (part, meaning) == ("SN-5", "re-weld chosen") and who == log.welds()[1].operator
    assert log.verify() == []


def test_a_station_with_accounts_welds_only_for_a_signed_in_operator(tmp_path: Path) -> None:

    make_accounts("ana")
    nobody = _run(tmp_path, "--count", "1", "--png", "")
    assert nobody.returncode == 2 and "give --operator NAME" in nobody.stderr
    wrong = _run_in(tmp_path, "not her password\n", "--operator", "ana", "--count", "1")
    assert wrong.returncode == 2 and "wrong name or password for ana" in wrong.stderr
    qa_only = _run_in(tmp_path, password("quinn") + "\n", "--operator", "quinn", "--count", "1")
    assert qa_only.returncode == 2 and "quinn may not weld" in qa_only.stderr
    assert not (tmp_path / "qa.sqlite").exists()  # refused before the station started
    ok = _run_in(tmp_path, password("ana") + "\n", "--operator", "ana", "--count", "1")
    assert ok.returncode == 0, ok.stderr
    assert [w.operator for w in QaLog(tmp_path / "qa.sqlite").welds()] == ["ana"]


def _run_in(tmp: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "controller.cli", "run", "--qa-log", str(tmp / "qa.sqlite")]
    return subprocess.run(
        [*cmd, "--png", "", *args], input=stdin, capture_output=True, text=True, timeout=300
    )


def _on_a_terminal(cmd: list[str], cwd: Path) -> str:
    """Run cmd with its stdout and stderr on one pseudo-terminal; return what it drew there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, cwd=cwd)
    os.close(slave)
    drawn = b""
    while select.select([master], [], [], 300)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0, drawn.decode(errors="replace")[-2000:]
    return drawn.decode(errors="replace")


def test_on_a_terminal_the_bar_never_runs_into_the_weld_lines(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "controller.cli", "run", "--count", "3", "--png", "",
           "--qa-log", str(tmp_path / "qa.sqlite")]  # fmt: skip
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", _on_a_terminal(cmd, tmp_path))
    assert "━" in drawn  # rich's bar, drawn live
    for k in (1, 2, 3):
        # each weld's line starts a line of the screen (the bar erased before it), whole
        assert re.search(rf"(^|[\r\n])weld {k}/3: log id {k} PASS\r?\n", drawn), drawn[-3000:]
    assert "3 of 3 PASS" in drawn
