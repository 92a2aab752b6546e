"""The station's device logic without any I/O."""

from __future__ import annotations

from drivers.config.schedule import load_schedule
from drivers.wire.modbus import DEVICE_BUSY
from firmware_sim.devices import HEAD_UNIT, SUPPLY_UNIT
from firmware_sim.station import Station
from tests.simhelp import TC_INV


def _write(st: Station, unit: int, name: str, value: float) -> int | None:
    reg = st.devices[unit].regmap[name]
    return st.write(unit, reg.address, reg.encode(value))


def _read(st: Station, unit: int, name: str) -> float:
    reg = st.devices[unit].regmap[name]
    words = st.read(unit, reg.address, reg.words)
    assert isinstance(words, list)
    return reg.decode(words)


def _weld_bytes(batch: int) -> bytes:
    st = Station(load_schedule(TC_INV), seed=4)
    out: list[bytes] = []
    assert _write(st, HEAD_UNIT, "approach", 1) is None
    while not _read(st, HEAD_UNIT, "at_force"):
        out += st.advance(1)
    assert _write(st, SUPPLY_UNIT, "arm", 1) is None
    assert _write(st, SUPPLY_UNIT, "fire", 1) is None
    for _ in range(120 // batch):
        out += st.advance(batch)
    return b"".join(out)


def test_batched_blocks_give_the_same_bytes_as_single_blocks() -> None:
    one = _weld_bytes(1)
    assert one == _weld_bytes(8) == _weld_bytes(40)
    assert b"MW\x01\x01" in one  # the weld's summary frame is in there, at the same place


def test_nothing_but_stop_is_accepted_while_welding() -> None:
    st = Station(load_schedule(TC_INV))
    _write(st, HEAD_UNIT, "approach", 1)
    while not _read(st, HEAD_UNIT, "at_force"):
        st.advance(1)
    _write(st, SUPPLY_UNIT, "arm", 1)
    _write(st, SUPPLY_UNIT, "fire", 1)
    st.advance(5)
    assert st.welding
    assert _write(st, SUPPLY_UNIT, "weld1_voltage_v", 2.0) == DEVICE_BUSY
    assert _write(st, SUPPLY_UNIT, "arm", 1) == DEVICE_BUSY
    assert _write(st, HEAD_UNIT, "force_setpoint_n", 10.0) == DEVICE_BUSY
    assert _write(st, SUPPLY_UNIT, "stop", 1) is None
    st.advance(1)
    assert not st.welding  # the inverter stopped within the block
