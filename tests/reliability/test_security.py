"""Security of a default install: loopback only, no writes mid-weld, an audit trail
of every schedule and window edit, and a QA log whose hash chain shows any tampering.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from controller.qa.log import QaLog
from controller.qa.record import WeldIdentity, WeldRecord
from controller.weld.sequencer import State
from controller.weld.session import WeldSession
from controller.weld.simstation import Endpoints, SimControl, sim_station
from drivers.errors import DeviceRefusedError
from drivers.link import ModbusLink
from drivers.wire.modbus import DEVICE_BUSY, ILLEGAL_FUNCTION
from drivers.wire.regmap import Register, RegisterMap
from tests.helpers.paths import REPO
from tests.helpers.records import weld_record
from tests.reliability.battery import Record, children

TCP_LISTEN = "0A"
# the writes a running weld must take: its STOP, the watchdogs' heartbeats, and the safe-state
# commands the controller's abort sends while the supply may still be running (cycle._safe:
# stop, disarm, retract; the station's own e-stop chain does the same)
# (the lease, like the heartbeat, is its holder's to renew mid-weld: it changes no setting)
ALLOWED_MID_WELD = {
    "supply": {"stop", "heartbeat", "disarm", "lease"},
    "head": {"heartbeat", "retract", "home", "lease"},
}


# --- helpers -----------------------------------------------------------------------------------


def socket_inodes(pid: int) -> set[int]:
    """Return the inodes of the sockets a process holds open."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _address(hex_addr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    # /proc/net/tcp{,6}: the address in 32-bit words, each in host (little-endian) order
    raw = bytes.fromhex(hex_addr)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def bound_sockets(
    pid: int,
) -> list[tuple[str, str, ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """Return (table, state, address, port) of every TCP and UDP socket the process holds."""
    mine = socket_inodes(pid)
    out = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            cols = line.split()
            if int(cols[9]) not in mine:
                continue
            host, port = cols[1].split(":")
            out.append((table, cols[3], _address(host), int(port, 16)))
    return out


def is_loopback(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Return True for 127.0.0.0/8, ::1 and ::ffff:127.x.x.x."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback


# --- (a) a default install listens on loopback only --------------------------------------------


def _check_listeners(pid: int, record: Record, what: str) -> None:
    socks = bound_sockets(pid)
    listening = [s for s in socks if s[0].startswith("tcp") and s[1] == TCP_LISTEN]
    udp = [s for s in socks if s[0].startswith("udp")]
    record.cases += len(listening) + len(udp)
    record.notes.append(f"{what}: LISTEN on " + ", ".join(f"{a}:{p}" for _, _, a, p in listening))
    # Modbus TCP, the stream and the test panel at least
    assert len(listening) >= 3, socks
    exposed = [s for s in listening + udp if not is_loopback(s[2])]
    record.failures += len(exposed)
    assert exposed == [], f"{what} listens beyond loopback: {exposed}"


def test_the_default_station_listens_on_loopback_only(
    record: Record, tapped: list[Endpoints], tmp_path: Path
) -> None:
    # as `microweld run` opens it: the sim station's schedule, window and clock
    before = set(children())
    with WeldSession("sim", qa_log=str(tmp_path / "qa.sqlite")):
        (pid,) = set(children()) - before
        _check_listeners(pid, record, "microweld run (sim)")
    # as `microweld sim` starts it: every default (paced, with RTU on a pty)
    with sim_station():
        (pid,) = set(children()) - before
        _check_listeners(pid, record, "microweld sim")


# --- (b) no writes while a weld runs, except STOP ------------------------------------------------


def _other_value(reg: Register, now: float) -> float:
    """Return a valid value of the register other than its present one (1 for a command)."""
    if reg.access == "w":
        return 1.0
    lo = reg.min if reg.min is not None else 0.0
    hi = reg.max if reg.max is not None else 65535.0 * reg.scale
    return hi if now != hi else lo


def _try_writes(
    link: ModbusLink, unit: int, regmap: RegisterMap, allowed: set[str], control: SimControl
) -> tuple[list[str], list[str]]:
    """Write every writable register but the allowed ones; return (accepted, changed) names."""
    accepted, changed = [], []
    for reg in regmap.registers:
        if not reg.writable or reg.name in allowed:
            continue
        before_words = link.read(unit, reg.address, reg.words)
        before_truth = control.truth()
        value = _other_value(reg, reg.decode(before_words))
        try:
            link.write(unit, reg.address, reg.encode(value))
            accepted.append(reg.name)
        except DeviceRefusedError as exc:
            assert exc.code in (DEVICE_BUSY, ILLEGAL_FUNCTION), (reg.name, exc)
        after_truth = control.truth()
        if link.read(unit, reg.address, reg.words) != before_words:
            changed.append(reg.name)
        for key in ("weld_count", "armed", "homed", "welding", "supply_fault", "head_fault"):
            if before_truth[key] != after_truth[key]:
                changed.append(f"{reg.name} ({key})")
    return accepted, changed


@pytest.mark.parametrize("supply", ["inverter", "cd"])
def test_the_station_refuses_writes_while_a_weld_runs_except_stop(
    record: Record, tapped: list[Endpoints], tmp_path: Path, supply: str
) -> None:
    name = f"tc_{supply}_cu100_pb200"
    sched, win = REPO / "configs" / "schedules" / f"{name}.toml", REPO / "configs" / "windows"
    win = win / f"{name}.toml"
    if supply == "cd":
        # a plain SCR pulse cannot be cut once fired (its STOP is taken, the pulse runs on):
        # the same supply with a truncating switch, whose STOP must end the current
        sched, win = tmp_path / "cd.toml", tmp_path / "cd_window.toml"
        text = (REPO / "configs" / "schedules" / f"{name}.toml").read_text()
        sched.write_text(text.replace('kind = "cd"\n', 'kind = "cd"\ntruncatable = true\n', 1))
        text = (REPO / "configs" / "windows" / f"{name}.toml").read_text()
        win.write_text(re.sub(r'(?m)^schedule_hash = ".*"$', 'schedule_hash = ""', text))
    qa = str(tmp_path / "qa.sqlite")
    session = WeldSession("sim", str(sched), str(win), qa, clock="lockstep")
    with session:
        assert session.bench is not None and session.bench.lockstep
        control = SimControl(tapped[-1].control)
        sup, head = session.bench.supply, session.bench.head
        link = sup.link
        done: dict[str, Any] = {}

        def on_step(state: State) -> None:
            if done or state is not State.WELD:
                return
            truth = control.truth()
            # current flowing now: the supply runs and current flowed in the last block
            if not (truth["welding"] and truth["last_current_s"] >= truth["t_s"] - 1e-3):
                return
            done["t_s"] = truth["t_s"]
            acc_s, chg_s = _try_writes(
                link, sup.unit, sup.regmap, ALLOWED_MID_WELD["supply"], control
            )
            acc_h, chg_h = _try_writes(
                link, head.unit, head.regmap, ALLOWED_MID_WELD["head"], control
            )
            done["accepted"], done["changed"] = acc_s + acc_h, chg_s + chg_h
            done["tried"] = sum(
                r.writable and r.name not in ALLOWED_MID_WELD[k]
                for k, m in (("supply", sup.regmap), ("head", head.regmap))
                for r in m.registers
            )
            # the heartbeats go on (the watchdogs need them mid-weld) ...
            for dev in (sup, head):
                dev.write("heartbeat", 4242)
                assert dev.read("heartbeat") == 4242
            assert control.truth()["welding"], "a refused write must not end the weld"
            # ... and STOP is taken, and ends the current within the block
            sup.stop()
            done["stopped"] = control.truth()["t_s"]

        res = session.weld(WeldIdentity(part_id="mid-weld-writes"), on_step=on_step)
        truth = control.truth()
        control.close()
    assert done, "the weld never had current flowing at a block boundary"
    record.cases += done["tried"] + 3
    record.failures += len(done["accepted"]) + len(done["changed"])
    record.notes.append(
        f"{supply}: {done['tried']} writes tried mid-weld, refused: "
        f"{done['tried'] - len(done['accepted'])}"
    )
    assert done["accepted"] == [], f"accepted while welding: {done['accepted']}"
    assert done["changed"] == [], f"changed by a refused write: {done['changed']}"
    # STOP cuts the drive at once; the current then decays through the output inductance
    # (L/R about 0.35 ms: from 350 A to under 1 A in about 2 ms), far short of the pulse
    tail_s = truth["last_current_s"] - done["stopped"]
    record.latency(max(tail_s, 0.0))
    assert tail_s <= 3e-3, (truth, done)
    assert truth["weld_count"] == 1 and res.record_id == 1


# --- (c) schedule and window edits are in the audit trail ---------------------------------------


def test_schedule_and_window_edits_are_in_the_audit_trail(
    record: Record, tmp_path: Path, qtbot: Any
) -> None:
    from gui.scheduleeditor import EditorScreen  # Qt only here: the rest runs without it

    sched = tmp_path / "schedule.toml"
    win = tmp_path / "window.toml"
    shutil.copy(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml", sched)
    shutil.copy(REPO / "configs" / "windows" / "tc_inverter_cu100_pb200.toml", win)
    qa = tmp_path / "qa.sqlite"
    session = WeldSession("sim", str(sched), str(win), str(qa))  # not opened: no station needed
    ed = EditorScreen(session)
    qtbot.addWidget(ed)
    # a refused value: nothing saved, nothing in the trail
    ed.set_value("head.force_n", "-3")
    assert not ed.save()
    # the schedule edit, then the window edit, by two people
    ed.set_value("head.force_n", "12.5")
    ed.who.setText("ana")
    assert ed.save()
    ed.load("window", win)
    ed.set_value("k_sigma", "3.5")
    ed.who.setText("qa-bob")
    assert ed.save()
    log = QaLog(qa)
    trail = log.audit_trail()
    log.close()
    record.cases = 3
    assert [(who, kind) for _, who, kind, _, _, _ in trail] == [
        ("ana", "schedule"),
        ("qa-bob", "window"),
    ]
    (_, _, _, s_name, s_old, s_new), (_, _, _, w_name, w_old, w_new) = trail
    assert s_name == "tc_inverter_cu100_pb200" and w_name == "tc_inverter_cu100_pb200"
    assert "force_n = 12.0" in s_old and "force_n = 12.5" in s_new
    assert "k_sigma = 4.0" in w_old and "k_sigma = 3.5" in w_new
    # the trail holds the whole old text: what was in force before is recoverable
    assert s_new == sched.read_text() and "force_n = 12.5" not in s_old
    assert w_new == win.read_text()
    # a window taught again over the file: the command line's edit is in the trail too
    taught = subprocess.run(
        [sys.executable, "-m", "controller.cli", "teach", "--simulate", str(sched), "--count",
         "10", "--min-count", "10", "--qa-log", str(qa), "--who", "qa-carol", "--out",
         str(win)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert taught.returncode == 0, taught.stderr
    log = QaLog(qa)
    (*_, (_, t_who, t_kind, _, t_old, t_new)) = log.audit_trail()
    log.close()
    record.cases += 1
    assert (t_who, t_kind, t_old, t_new) == ("qa-carol", "window", w_new, win.read_text())
    record.notes.append("the GUI editor and `microweld teach --out` write the audit trail")


# --- (d) the hash chain shows an edited, deleted or reordered row --------------------------------


def _rec(k: int) -> WeldRecord:
    return weld_record(k, "PASS" if k % 4 else "FAIL", station="sim", electrode_count=k)


TAMPER = {
    "edited verdict": (["UPDATE welds SET verdict = 'PASS', reasons = '[]' WHERE id = 4"], 4),
    "edited features": (
        ["UPDATE welds SET features = json_set(features, '$.setdown_um', 60.0) WHERE id = 3"],
        3,
    ),
    "edited time": (["UPDATE welds SET t_utc = '2020-01-01T00:00:00+00:00' WHERE id = 2"], 2),
    "edited counter": (["UPDATE welds SET supply_weld_count = 99 WHERE id = 5"], 5),
    "edited waveform": (
        ["UPDATE welds SET waveform = (SELECT waveform FROM welds WHERE id = 1) WHERE id = 6"],
        6,
    ),
    "edited first row": (["UPDATE welds SET operator = 'mallory' WHERE id = 1"], 1),
    "deleted row": (["DELETE FROM welds WHERE id = 4"], 5),
    "deleted first row": (["DELETE FROM welds WHERE id = 1"], 2),
    "reordered rows": (
        [
            "UPDATE welds SET id = -1 WHERE id = 3",
            "UPDATE welds SET id = 3 WHERE id = 4",
            "UPDATE welds SET id = 4 WHERE id = -1",
        ],
        3,
    ),
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_the_hash_chain_shows_a_tampered_row(record: Record, tmp_path: Path, case: str) -> None:
    path = tmp_path / "qa.sqlite"
    log = QaLog(path)
    for k in range(1, 9):
        log.record(_rec(k))
    assert log.verify() == [] and log.integrity_check() == "ok"
    log.close()
    # tampered with directly in the file, as anyone with the file could
    db = sqlite3.connect(path)
    for sql in TAMPER[case][0]:
        db.execute(sql)
    db.commit()
    db.close()
    log = QaLog(path)
    problems = log.verify()
    sound = log.integrity_check()
    log.close()
    record.cases = 1
    first = TAMPER[case][1]
    record.failures = 0 if problems else 1
    assert problems, f"{case}: not detected"
    assert problems[0].startswith(f"weld {first}:"), problems
    assert sound == "ok"  # a well-formed edit: only the chain can tell
