"""A Modbus master that is not this project's code (Debian's mbpoll) reads the station."""

from __future__ import annotations

import re
import shutil
import subprocess

from tests.helpers.station import drivers, station, step_until


def _mbpoll(*args: str) -> str:
    exe = shutil.which("mbpoll")
    assert exe, "mbpoll is missing: scripts/test installs Debian's mbpoll package"
    out = subprocess.run([exe, *args], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_mbpoll_reads_weld_count_over_tcp_and_rtu() -> None:
    with station("--clock", "lockstep") as run:
        supply, head = drivers(run, "tcp")
        stream = run.stream()
        head.approach()
        step_until(stream, lambda: head.at_force == 1)
        supply.arm()
        assert supply.fire()
        step_until(stream, lambda: supply.status()["weld_done"])
        host, port = run.modbus_tcp
        # weld_count is a u32 at PDU address 2: mbpoll's reference 3, big-endian words
        tcp = _mbpoll(
            "-m",
            "tcp",
            "-a",
            "1",
            "-r",
            "3",
            "-c",
            "1",
            "-t",
            "4:int",
            "-B",
            "-1",
            "-p",
            str(port),
            host,
        )
        assert re.search(r"^\[3\]:\s+1$", tcp, re.MULTILINE), tcp
        assert run.rtu is not None
        rtu = _mbpoll(
            "-m",
            "rtu",
            "-a",
            "1",
            "-b",
            "115200",
            "-P",
            "none",
            "-r",
            "3",
            "-c",
            "2",
            "-t",
            "4",
            "-1",
            run.rtu,
        )
        assert re.search(r"^\[3\]:\s+0$", rtu, re.MULTILINE), rtu
        assert re.search(r"^\[4\]:\s+1$", rtu, re.MULTILINE), rtu
        stream.close()
        supply.link.close()
