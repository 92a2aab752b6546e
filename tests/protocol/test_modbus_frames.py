"""Byte-exact Modbus frames built by the project's one pymodbus module, CRC included."""

from __future__ import annotations

from drivers.wire.modbus import (
    ILLEGAL_VALUE,
    exception_frame,
    read_request_frame,
    read_response_frame,
    write_request_frame,
    write_response_frame,
)
from tests.helpers.crc import crc16_modbus


def test_reference_crc() -> None:
    # the check value of CRC-16/MODBUS over "123456789"
    assert crc16_modbus(b"123456789") == (0x4B37).to_bytes(2, "little")


def test_rtu_read_request_and_response() -> None:
    # unit 1, FC 3, read 2 registers from address 2 (weld_count, high word first)
    frame = read_request_frame("rtu", 1, 2, 2)
    assert frame == bytes.fromhex("01 03 0002 0002 65cb")
    assert frame[-2:] == crc16_modbus(frame[:-2])
    reply = read_response_frame("rtu", 1, [0x0001, 0x1170])  # 70000 welds
    assert reply == bytes.fromhex("01 03 04 0001 1170") + crc16_modbus(
        bytes.fromhex("01030400011170")
    )


def test_rtu_write_request_and_its_echo() -> None:
    # unit 1, FC 6, write 1 to address 31 (fire)
    frame = write_request_frame("rtu", 1, 31, 1)
    assert frame == bytes.fromhex("01 06 001f 0001 79cc")
    assert frame[-2:] == crc16_modbus(frame[:-2])
    assert write_response_frame("rtu", 1, 31, 1) == frame  # the reply echoes the request


def test_rtu_exception_reply() -> None:
    # FIRE refused: FC 6 | 0x80, exception 3 (illegal data value)
    frame = exception_frame("rtu", 1, 6, ILLEGAL_VALUE)
    assert frame == bytes.fromhex("01 86 03 0261")
    assert frame[-2:] == crc16_modbus(frame[:-2])


def test_tcp_frames_have_the_mbap_header() -> None:
    assert read_request_frame("tcp", 1, 2, 2, tid=5) == bytes.fromhex(
        "0005 0000 0006 01 03 0002 0002"
    )
    assert exception_frame("tcp", 2, 3, 2, tid=9) == bytes.fromhex("0009 0000 0003 02 83 02")
