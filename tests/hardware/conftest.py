"""The hardware tier: tests against real devices, run only when a device address is given.

    pytest tests/hardware --device-address tcp://192.168.0.20:502 [--supply-model cd_supply]
    pytest tests/hardware --device-address /dev/ttyUSB0 --baudrate 115200

Without --device-address every test here is skipped (as pymeasure does). Nothing here fires,
arms or moves anything: the tests read the devices and write nothing but the heartbeat. The
simulated station is a device too: `microweld sim --modbus-port 5020`, then
`--device-address tcp://127.0.0.1:5020`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.head import ServoForceHead
from drivers.link import ModbusLink, rtu_link, tcp_link
from drivers.supply import CDSupply, InverterSupply

NEEDS_DEVICE = "needs a device: pytest tests/hardware --device-address tcp://HOST:PORT or a port"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this tier's tests skipped unless a device address was given."""
    if config.getoption("device_address"):
        return
    for item in items:
        if item.path.is_relative_to(config.rootpath / "tests" / "hardware"):
            item.add_marker(pytest.mark.skip(reason=NEEDS_DEVICE))


@pytest.fixture(scope="session")
def device_link(pytestconfig: pytest.Config) -> Iterator[ModbusLink]:
    """Return a Modbus link to the device address given: tcp://HOST:PORT, else a serial port."""
    address: str = pytestconfig.getoption("device_address")
    if address.startswith("tcp://"):
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        link = tcp_link(host, int(port), timeout_s=1.0)
    else:
        link = rtu_link(address, pytestconfig.getoption("baudrate"), timeout_s=1.0)
    yield link
    link.close()


@pytest.fixture(scope="session")
def supply(pytestconfig: pytest.Config, device_link: ModbusLink) -> CDSupply | InverterSupply:
    """Return the supply's driver at its unit."""
    model = pytestconfig.getoption("supply_model")
    kind = CDSupply if model == "cd_supply" else InverterSupply
    return kind(device_link, pytestconfig.getoption("supply_unit"))


@pytest.fixture(scope="session")
def head(pytestconfig: pytest.Config, device_link: ModbusLink) -> ServoForceHead:
    """Return the force head's driver at its unit."""
    return ServoForceHead(device_link, pytestconfig.getoption("head_unit"))
