"""The Modbus link reconnects after an outage, with bounded exponential back-off."""

from __future__ import annotations

import time

import pytest

from drivers.errors import LinkError
from drivers.link import Backoff, tcp_link
from drivers.supply import InverterSupply
from firmware_sim.serve import free_port
from tests.helpers.station import station


def test_backoff_doubles_up_to_its_bound() -> None:
    b = Backoff(first_s=0.1, max_s=0.5)
    waits = []
    now = 0.0
    for _ in range(6):
        assert b.ready(now)
        b.failed(now)
        waits.append(round(b._next - now, 6))
        assert not b.ready(now + waits[-1] - 1e-9)
        now += waits[-1]
    assert waits == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    b.succeeded()
    assert b.ready(now)


def test_link_reconnects_when_the_station_comes_back() -> None:
    port = free_port("127.0.0.1")
    link = tcp_link("127.0.0.1", port, timeout_s=0.5)
    link.backoff = Backoff(first_s=0.05, max_s=0.2)
    supply = InverterSupply(link, 1)
    t0 = time.monotonic()
    with pytest.raises(LinkError, match="cannot connect"):
        _ = supply.weld_count
    with pytest.raises(LinkError, match="waiting before the next reconnect"):
        _ = supply.weld_count  # no new attempt inside the back-off
    assert time.monotonic() - t0 < 1.0  # refusals are quick, never a hang
    with station("--clock", "lockstep", "--modbus-port", str(port), "--no-rtu"):
        deadline = time.monotonic() + 5.0
        while True:
            try:
                assert supply.weld_count == 0
                break
            except LinkError:
                assert time.monotonic() < deadline, "no reconnect within 5 s"
                time.sleep(0.05)
    link.close()
