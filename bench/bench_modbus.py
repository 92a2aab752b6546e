"""Modbus polls per second against the simulated station: TCP on loopback and RTU on a pty."""

from __future__ import annotations

import time

from bench.figure import Figure
from controller.weld.simstation import sim_station as station
from drivers.link import rtu_link, tcp_link
from drivers.supply import InverterSupply

SECONDS = 3.0


def _polls(supply: InverterSupply) -> float:
    supply.read_all()  # connect and warm up
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < SECONDS:
        supply.read_all()  # the whole map (46 registers) in one request
        n += 1
    return n / (time.perf_counter() - t0)


def run() -> list[Figure]:
    """Poll the supply's whole register map as fast as a driver can."""
    with station("--clock", "paced") as ends:
        tcp = InverterSupply(tcp_link(*ends.modbus_tcp), ends.supply_unit)
        rate_tcp = _polls(tcp)
        tcp.link.close()
        rtu = InverterSupply(rtu_link(str(ends.rtu)), ends.supply_unit)
        rate_rtu = _polls(rtu)
        rtu.link.close()
    return [
        Figure(
            "modbus_tcp_polls", rate_tcp, "polls/s (46 registers each)", "≥ 1000", rate_tcp >= 1000
        ),
        Figure(
            "modbus_rtu_pty_polls",
            rate_rtu,
            "polls/s (46 registers each; a pty has no baud "
            "limit: at 115200 Bd one poll takes ≈ 9 ms on a real line)",
        ),
    ]
