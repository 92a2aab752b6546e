"""The station's Modbus slave logic, request PDU to reply PDU, without a socket.

The same requests go over the wire in tests/integration/test_drivers.py and the fuzzers; here
each refusal is pinned to the spec's code and order (Modbus application protocol v1.1b3,
section 7)."""

from __future__ import annotations

import pytest

from drivers.config.schedule import load_schedule
from firmware_sim.cli import DEFAULT_SCHEDULE
from firmware_sim.devices import HEAD_UNIT, SUPPLY_UNIT
from firmware_sim.slave import answer
from firmware_sim.station import Station


@pytest.fixture
def st() -> Station:
    return Station(load_schedule(DEFAULT_SCHEDULE))


def _read(address: int, count: int) -> bytes:
    return bytes([3]) + address.to_bytes(2, "big") + count.to_bytes(2, "big")


def test_a_read_returns_the_image_words(st: Station) -> None:
    reply = answer(st, SUPPLY_UNIT, _read(0, 4))
    words = st.read(SUPPLY_UNIT, 0, 4)
    assert isinstance(words, list)
    assert reply == bytes([3, 8]) + b"".join(w.to_bytes(2, "big") for w in words)


@pytest.mark.parametrize(
    ("pdu", "code"),
    [
        (bytes([1, 0, 0, 0, 1]), 1),  # coils: no such function
        (bytes([0x83, 0, 0]), 1),  # an exception code is no request
        (_read(0, 0), 3),  # quantity 0
        (_read(0, 126), 3),  # over 125 registers
        (_read(0, 1)[:-1], 3),  # truncated
        (_read(0, 1) + b"\0", 3),  # a byte too many
        (_read(1000, 2), 2),  # outside the map
        (bytes([16, 0, 0, 0, 1, 3, 0, 0]), 3),  # byte count not 2 x quantity
        (bytes([16, 0, 0, 0, 124, 248]) + bytes(248), 3),  # over 123 registers
        (bytes([6, 0, 0]), 3),  # truncated single write
    ],
)
def test_refusals_carry_the_spec_codes(st: Station, pdu: bytes, code: int) -> None:
    assert answer(st, SUPPLY_UNIT, pdu) == bytes([pdu[0] | 0x80, code])


def test_writes_echo_and_land_in_the_device(st: Station) -> None:
    target = next(r for r in st.head.regmap.registers if r.writable and r.words == 1)
    raw = target.encode(target.min if target.min is not None else 0.0)
    one = bytes([6]) + target.address.to_bytes(2, "big") + raw[0].to_bytes(2, "big")
    assert answer(st, HEAD_UNIT, one) == one
    many = bytes([16]) + target.address.to_bytes(2, "big") + b"\0\1\2" + raw[0].to_bytes(2, "big")
    assert answer(st, HEAD_UNIT, many) == many[:5]
    assert st.head.image[target.address] == raw[0]


def test_a_read_only_register_is_refused_as_an_address(st: Station) -> None:
    count = st.supply.regmap["weld_count"]
    pdu = bytes([6]) + count.address.to_bytes(2, "big") + b"\0\0"
    assert answer(st, SUPPLY_UNIT, pdu) == bytes([0x86, 2])
