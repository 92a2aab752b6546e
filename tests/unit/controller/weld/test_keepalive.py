"""controller/weld/keepalive.py: heartbeats between welds, none while a cycle runs."""

from __future__ import annotations

import time
from typing import Any, cast

from controller.weld.bench import Bench
from controller.weld.keepalive import KeepAlive
from drivers.errors import LinkError


class Device:
    def __init__(self, fail: bool = False) -> None:
        self.beats = 0
        self.fail = fail

    def heartbeat(self) -> None:
        self.beats += 1
        if self.fail:
            raise LinkError("gone")


def _bench(supply: Device, head: Device) -> Bench:
    return cast(Bench, cast(Any, type("B", (), {"supply": supply, "head": head})()))


def test_it_beats_both_devices_until_stopped() -> None:
    supply, head = Device(), Device()
    keeper = KeepAlive(_bench(supply, head), 0.01)
    keeper.start()
    time.sleep(0.2)
    keeper.stop()
    seen = supply.beats
    time.sleep(0.05)
    assert seen >= 3 and head.beats == seen  # (at least 3 of the 20 on a loaded machine)
    assert supply.beats == seen  # none after stop


def test_no_beat_while_paused() -> None:
    supply, head = Device(), Device()
    keeper = KeepAlive(_bench(supply, head), 0.01)
    keeper.start()
    try:
        with keeper.paused():
            before = supply.beats
            time.sleep(0.1)
            assert supply.beats == before
        deadline = time.monotonic() + 5.0
        while supply.beats == before:
            assert time.monotonic() < deadline, "it never beat again after the cycle"
            time.sleep(0.01)
    finally:
        keeper.stop()


def test_a_lost_link_does_not_end_the_beats() -> None:
    supply, head = Device(fail=True), Device()
    keeper = KeepAlive(_bench(supply, head), 0.01)
    keeper.start()
    time.sleep(0.1)
    keeper.stop()
    assert supply.beats >= 2
