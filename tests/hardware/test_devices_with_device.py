"""A supply and a force head at --device-address: every register of their maps reads and decodes
within its declared range, and the status words name their bits. Reads and heartbeats only."""

from __future__ import annotations

import pytest

from drivers.device import RegisterDevice
from drivers.head import ServoForceHead
from drivers.supply import CDSupply, InverterSupply


def _within_map(device: RegisterDevice) -> None:
    values = device.read_all()
    assert set(values) == {r.name for r in device.regmap.registers}
    for reg in device.regmap.registers:
        value = values[reg.name]
        if reg.access == "rw" and reg.min is not None:  # a setting (commands read back 0)
            assert value >= reg.min, (device.regmap.model, reg.name, value)
        if reg.access == "rw" and reg.max is not None:
            assert value <= reg.max, (device.regmap.model, reg.name, value)


def test_every_supply_register_reads_within_its_range(supply: CDSupply | InverterSupply) -> None:
    _within_map(supply)


def test_every_head_register_reads_within_its_range(head: ServoForceHead) -> None:
    _within_map(head)


@pytest.mark.parametrize("which", ["supply", "head"])
def test_the_status_word_names_its_bits_and_the_heartbeat_is_taken(
    which: str, supply: CDSupply | InverterSupply, head: ServoForceHead
) -> None:
    device: RegisterDevice = supply if which == "supply" else head
    bits = device.status()
    assert set(bits) == set(device.regmap.status_bits)
    # a refused write raises; a taken one shows in the register
    device.heartbeat()
    first = device.read("heartbeat")
    device.heartbeat()
    assert device.read("heartbeat") != first
