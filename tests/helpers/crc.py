"""The tests' own CRC-16/MODBUS, written out from the specification, never the driver's: a
frame the driver builds is checked against it, and the fuzzers build frames with it."""

from __future__ import annotations


def crc16_modbus(data: bytes) -> bytes:
    """Return the CRC-16/MODBUS of data (poly 0xA001 reflected, init 0xFFFF), little-endian."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc.to_bytes(2, "little")
