"""A flood of local Modbus TCP clients that pipeline requests and never read their replies:
the station drops them (refused at accept past its limit, cut once they stop reading), and the
controller still gets through.
"""

from __future__ import annotations

import contextlib
import socket
import time

from drivers.errors import DeviceRefusedError, LinkError
from drivers.link import tcp_link
from drivers.supply import InverterSupply
from drivers.wire.modbus import mbap_adu, read_request_pdu
from tests.helpers.station import station
from tests.reliability.battery import Record

FLOODERS = 100
THROUGH_S = 5.0  # the controller's read answered within this, flood or not


def test_a_flood_of_clients_that_never_read_leaves_the_station_usable(record: Record) -> None:
    request = mbap_adu(1, 1, read_request_pdu(0, 46))
    burst = request * 20_000  # 240 kB of pipelined reads per connection
    with station("--clock", "paced", "--no-rtu") as run:
        host, port = run.modbus_tcp
        flood: list[socket.socket] = []
        try:
            for _ in range(FLOODERS):
                s = socket.socket()
                s.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    s.connect((host, port))
                flood.append(s)
            time.sleep(0.2)
            for s in flood:
                with contextlib.suppress(OSError):  # refused or already cut: the station's choice
                    s.send(burst)
            supply = InverterSupply(tcp_link(host, port, timeout_s=0.5), run.supply_unit)
            t0 = time.monotonic()
            answered = None
            while time.monotonic() - t0 < THROUGH_S:
                try:
                    answered = supply.read("weld_count")
                    break
                except (LinkError, DeviceRefusedError):
                    time.sleep(0.05)
            took = time.monotonic() - t0
            supply.link.close()
        finally:
            for s in flood:
                s.close()
    record.cases, record.faults = 1, FLOODERS
    record.latency(took)
    assert answered is not None, f"the controller got no answer in {took:.1f} s"
    assert took < THROUGH_S
