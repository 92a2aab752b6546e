"""Start the simulated station in its own process and learn where it listens.

The controller reaches the simulator only through the protocols, exactly as it reaches real
hardware: this module runs `python -m firmware_sim station ...`, reads the one JSON line the
station prints when it is ready, and stops it (SIGTERM, then SIGKILL) when done.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Endpoints:
    """Where a running station listens."""

    modbus_tcp: tuple[str, int]
    stream_tcp: tuple[str, int]
    rtu: str | None
    stream_pty: str
    supply_unit: int
    head_unit: int
    clock: str
    control: tuple[str, int]  # the simulator's test panel (see SimControl)


def _addr(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


class SimControl:
    """The simulated bench's test panel: inject faults, press the e-stop, read the truth.

    Only the simulator has one; tests and demos use it to do to the station what a cut cable,
    an operator or a failing supply would do to a real one.
    """

    def __init__(self, address: tuple[str, int], timeout_s: float = 5.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout_s)
        self.reader = self.sock.makefile("rb")

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        reply: dict[str, Any] = json.loads(self.reader.readline())
        if not reply.get("ok"):
            raise ValueError(f"simulated station refused {request}: {reply.get('error')}")
        return reply

    def truth(self) -> dict[str, Any]:
        """Return what really happened at the bench (fires, current, supply, head)."""
        return self._ask({"op": "truth"})

    def faults(self, **settings: Any) -> dict[str, Any]:
        """Change fault settings now (link_down, supply, head, drop_reply_every, ...)."""
        return self._ask({"op": "faults", "set": settings})

    def inputs(self, estop: bool | None = None, guard_open: bool | None = None) -> dict[str, Any]:
        """Press or release the e-stop; open or close the guard."""
        req: dict[str, Any] = {"op": "inputs"}
        if estop is not None:
            req["estop"] = estop
        if guard_open is not None:
            req["guard_open"] = guard_open
        return self._ask(req)

    def part(self, index: int) -> dict[str, Any]:
        """Put part `index` (its drawn spread and noise) under the electrode at the next
        approach."""
        return self._ask({"op": "part", "index": index})

    def outcome(self) -> dict[str, Any]:
        """Return the truth with the ground truth of the last weld fired under "outcome"
        (jbf_n, defect, setdown_um, ...; None before any weld)."""
        return self._ask({"op": "outcome"})

    def dress(self) -> dict[str, Any]:
        """Dress the electrode: the simulated tip wears again from none."""
        return self._ask({"op": "dress"})

    def close(self) -> None:
        """Close the connection."""
        self.reader.close()
        self.sock.close()


@contextmanager
def sim_station(*args: str, start_timeout_s: float = 60.0) -> Iterator[Endpoints]:
    """Run a simulated station with these command-line arguments until the block ends."""
    cmd = [sys.executable, "-m", "firmware_sim", "station", "--exit-with-parent", *args]
    # stdin is a pipe only we hold: if this process dies, even by SIGKILL, the station sees
    # it close and stops, so no station outlives its controller
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()  # the first run may compile the physics (about 20 s)
        if not line:
            proc.wait(timeout=start_timeout_s)
            raise RuntimeError(f"the simulated station did not start: {proc.stderr.read()}")
        ends = json.loads(line)
        yield Endpoints(
            modbus_tcp=_addr(ends["modbus_tcp"]),
            stream_tcp=_addr(ends["stream_tcp"]),
            rtu=ends["rtu"],
            stream_pty=ends["stream_pty"],
            supply_unit=ends["supply_unit"],
            head_unit=ends["head_unit"],
            clock=ends["clock"],
            control=_addr(ends["control"]),
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
