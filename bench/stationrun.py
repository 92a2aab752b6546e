"""Start the simulated station as its own process for a benchmark (as the tests do)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def station(*args: str) -> Iterator[dict[str, Any]]:
    """Run `python -m firmware_sim station ARGS`; yield its endpoints; stop it afterwards."""
    cmd = [sys.executable, "-m", "firmware_sim", "station", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("station did not start")
        yield json.loads(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def split(addr: str) -> tuple[str, int]:
    """Return (host, port) of "host:port"."""
    host, _, port = addr.rpartition(":")
    return host, int(port)
