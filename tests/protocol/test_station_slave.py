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


# --- the lease (firmware_sim/lease.py), as two masters' frames see it ------------------------
HOLDER, OTHER = 1, 2
TAKE = bytes.fromhex("10 0006 0002 04 12345678")  # FC 16: token 0x12345678 into `lease` (6, 7)
STATE = bytes.fromhex("03 0008 0001")  # FC 3: lease_state
HOLD = bytes.fromhex("06 0011 0000")  # FC 6: the CD supply's hold_ms (17) to 0 ms


def test_the_lease_is_taken_with_a_token_and_read_by_each_master(st: Station) -> None:
    assert answer(st, SUPPLY_UNIT, STATE, OTHER) == bytes.fromhex("03 02 0000")  # free
    assert answer(st, SUPPLY_UNIT, TAKE, HOLDER) == TAKE[:5]
    assert answer(st, SUPPLY_UNIT, STATE, HOLDER) == bytes.fromhex("03 02 0001")
    assert answer(st, SUPPLY_UNIT, STATE, OTHER) == bytes.fromhex("03 02 0002")
    assert answer(st, SUPPLY_UNIT, _read(6, 2), OTHER) == bytes.fromhex("03 04 0000 0000")


def test_another_masters_writes_are_refused_busy_and_change_nothing(st: Station) -> None:
    answer(st, SUPPLY_UNIT, TAKE, HOLDER)
    hold = st.supply.image[17]
    assert answer(st, SUPPLY_UNIT, HOLD, OTHER) == bytes.fromhex("86 06")
    both = bytes.fromhex("10 0010 0002 04 0000 0000")  # squeeze_ms and hold_ms in one
    assert answer(st, SUPPLY_UNIT, both, OTHER) == bytes.fromhex("90 06")
    assert st.supply.image[17] == hold
    other_token = bytes.fromhex("10 0006 0002 04 0000 0001")
    assert answer(st, SUPPLY_UNIT, other_token, OTHER) == bytes.fromhex("90 06")
    release = bytes.fromhex("10 0006 0002 04 0000 0000")
    assert answer(st, SUPPLY_UNIT, release, OTHER) == bytes.fromhex("90 06")
    beat = bytes.fromhex("06 0004 0001")  # nor may it keep the watchdog alive
    assert answer(st, HEAD_UNIT, beat, OTHER) == beat  # (the head is not held)
    answer(st, HEAD_UNIT, TAKE, HOLDER)
    assert answer(st, HEAD_UNIT, beat, OTHER) == bytes.fromhex("86 06")
    assert answer(st, SUPPLY_UNIT, HOLD, HOLDER) == HOLD


def test_the_safe_commands_are_taken_from_any_master(st: Station) -> None:
    answer(st, SUPPLY_UNIT, TAKE, HOLDER)
    answer(st, HEAD_UNIT, TAKE, HOLDER)
    for unit, name in ((SUPPLY_UNIT, "stop"), (SUPPLY_UNIT, "disarm"), (HEAD_UNIT, "retract")):
        reg = st.devices[unit].regmap[name]
        pdu = bytes([6]) + reg.address.to_bytes(2, "big") + b"\0\1"
        assert answer(st, unit, pdu, OTHER) == pdu, name
    arm = bytes([6]) + st.supply.regmap["arm"].address.to_bytes(2, "big") + b"\0\1"
    assert answer(st, SUPPLY_UNIT, arm, OTHER) == bytes.fromhex("86 06")


def test_the_lease_lapses_after_the_watchdog_time_without_the_holders_writes(st: Station) -> None:
    answer(st, SUPPLY_UNIT, TAKE, HOLDER)
    lapse_blocks = round(st.supply.heartbeat.timeout_s * 1e3)  # 1 ms blocks
    st.advance(lapse_blocks - 10)
    assert answer(st, SUPPLY_UNIT, bytes.fromhex("06 0004 0001"), HOLDER)[0] == 6  # a beat
    st.advance(lapse_blocks - 10)
    assert answer(st, SUPPLY_UNIT, HOLD, OTHER) == bytes.fromhex("86 06")
    st.advance(20)
    assert answer(st, SUPPLY_UNIT, HOLD, OTHER) == HOLD


def test_the_lease_ends_with_its_holders_connection(st: Station) -> None:
    answer(st, SUPPLY_UNIT, TAKE, HOLDER)
    st.dropped(HOLDER)
    assert answer(st, SUPPLY_UNIT, HOLD, OTHER) == HOLD


def test_firmware_without_a_lease_has_no_such_register(st: Station) -> None:
    st.faults.no_lease = True
    assert answer(st, SUPPLY_UNIT, TAKE, HOLDER) == bytes.fromhex("90 02")
    assert answer(st, SUPPLY_UNIT, HOLD, OTHER) == HOLD
    assert answer(st, SUPPLY_UNIT, STATE, OTHER) == bytes.fromhex("03 02 0000")
