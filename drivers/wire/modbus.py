"""Modbus frames as they go on the wire: the PDUs the devices use, their two framings, the CRC.

Written from the specifications (Modbus application protocol v1.1b3 for the PDUs and the
exception codes, Modbus over serial line v1.02 for RTU framing and its CRC, Modbus messaging on
TCP/IP v1.0b for the MBAP header), with no Modbus library: the simulated station answers with
these, the safe-state writes go out as these, and the byte-exact tests and the fuzzers build
their frames with them. The master's own transactions go through pymodbus (drivers/link.py),
and a protocol test holds its bytes to these.

PDUs (big-endian words):

    FC 3   read holding registers    request   03 | address(2) | count(2)
                                     response  03 | byte count(1) | words(2 x count)
    FC 6   write single register     request   06 | address(2) | value(2)
                                     response  the request, echoed
    FC 16  write multiple registers  request   10 | address(2) | count(2) | byte count(1) | words
                                     response  10 | address(2) | count(2)
    exception                        response  FC + 0x80 | code(1)

ADUs:

    RTU  unit(1) | PDU | CRC-16/MODBUS(2, low byte first)
    TCP  transaction id(2) | protocol id 0(2) | length(2) = 1 + len(PDU) | unit(1) | PDU
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Framing = Literal["rtu", "tcp"]

READ_HOLDING = 3
WRITE_SINGLE = 6
WRITE_MULTIPLE = 16
MAX_READ = 125  # registers in one FC 3 reply (250 data bytes)
MAX_WRITE = 123  # registers in one FC 16 request (246 data bytes)

# exception codes (application protocol, section 7)
ILLEGAL_FUNCTION = 1
ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3
DEVICE_FAILURE = 4
ACKNOWLEDGE = 5
DEVICE_BUSY = 6
NEGATIVE_ACKNOWLEDGE = 7
MEMORY_PARITY_ERROR = 8
GATEWAY_PATH_UNAVAILABLE = 10
GATEWAY_NO_RESPONSE = 11  # the gateway's target device did not respond
EXCEPTION_NAMES = {
    ILLEGAL_FUNCTION: "illegal_function",
    ILLEGAL_ADDRESS: "illegal_address",
    ILLEGAL_VALUE: "illegal_value",
    DEVICE_FAILURE: "device_failure",
    ACKNOWLEDGE: "acknowledge",
    DEVICE_BUSY: "device_busy",
    NEGATIVE_ACKNOWLEDGE: "negative_acknowledge",
    MEMORY_PARITY_ERROR: "memory_parity_error",
    GATEWAY_PATH_UNAVAILABLE: "gateway_path_unavailable",
    GATEWAY_NO_RESPONSE: "gateway_no_response",
}


def _crc_table() -> tuple[int, ...]:
    # CRC-16/MODBUS: polynomial 0x8005 reflected (0xA001), initial value 0xFFFF
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray) -> bytes:
    """Return the CRC-16/MODBUS of data as it goes on the wire (low byte first)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc.to_bytes(2, "little")


def rtu_crc_ok(frame: bytes | bytearray) -> bool:
    """Return True if frame is at least unit + function + CRC and its CRC checks."""
    return len(frame) >= 4 and crc16(frame[:-2]) == frame[-2:]


def rtu_adu(unit: int, pdu: bytes) -> bytes:
    """Return the RTU frame of a PDU: unit, PDU, CRC."""
    frame = bytes([unit]) + pdu
    return frame + crc16(frame)


def mbap_adu(tid: int, unit: int, pdu: bytes) -> bytes:
    """Return the Modbus TCP frame of a PDU: the MBAP header (protocol id 0), unit, PDU."""
    head = tid.to_bytes(2, "big") + b"\0\0" + (len(pdu) + 1).to_bytes(2, "big")
    return head + bytes([unit]) + pdu


def mbap_reply(request: bytes, pdu: bytes) -> bytes:
    """Return the reply frame to a Modbus TCP request frame: its transaction id, protocol id
    and unit, carrying pdu."""
    return request[:4] + (len(pdu) + 1).to_bytes(2, "big") + request[6:7] + pdu


def adu(framing: Framing, unit: int, pdu: bytes, tid: int = 1) -> bytes:
    """Return the frame of a PDU in either framing (tid: the TCP transaction id)."""
    return rtu_adu(unit, pdu) if framing == "rtu" else mbap_adu(tid, unit, pdu)


def exception_pdu(function: int, code: int) -> bytes:
    """Return the exception reply PDU to a request of this function code."""
    return bytes([(function | 0x80) & 0xFF, code])


def read_request_pdu(address: int, count: int) -> bytes:
    """Return the PDU of a read of count holding registers from address (FC 3)."""
    return bytes([READ_HOLDING]) + address.to_bytes(2, "big") + count.to_bytes(2, "big")


def read_response_pdu(words: Sequence[int]) -> bytes:
    """Return the PDU of a read's reply carrying words (FC 3)."""
    data = b"".join(w.to_bytes(2, "big") for w in words)
    return bytes([READ_HOLDING, len(data)]) + data


def write_single_pdu(address: int, value: int) -> bytes:
    """Return the PDU of a write of one register (FC 6); its reply is the same PDU."""
    return bytes([WRITE_SINGLE]) + address.to_bytes(2, "big") + value.to_bytes(2, "big")


def write_multiple_pdu(address: int, words: Sequence[int]) -> bytes:
    """Return the PDU of a write of consecutive registers from address (FC 16)."""
    head = bytes([WRITE_MULTIPLE]) + address.to_bytes(2, "big") + len(words).to_bytes(2, "big")
    return head + bytes([2 * len(words)]) + b"".join(w.to_bytes(2, "big") for w in words)


def write_multiple_response_pdu(address: int, count: int) -> bytes:
    """Return the PDU of the reply to a write of count registers from address (FC 16)."""
    return bytes([WRITE_MULTIPLE]) + address.to_bytes(2, "big") + count.to_bytes(2, "big")


def read_request_frame(
    framing: Framing, unit: int, address: int, count: int, tid: int = 1
) -> bytes:
    """Return the wire bytes of a read-holding-registers request."""
    return adu(framing, unit, read_request_pdu(address, count), tid)


def read_response_frame(framing: Framing, unit: int, words: Sequence[int], tid: int = 1) -> bytes:
    """Return the wire bytes of a read-holding-registers response."""
    return adu(framing, unit, read_response_pdu(words), tid)


def write_request_frame(
    framing: Framing, unit: int, address: int, value: int, tid: int = 1
) -> bytes:
    """Return the wire bytes of a write-single-register request."""
    return adu(framing, unit, write_single_pdu(address, value), tid)


def write_response_frame(
    framing: Framing, unit: int, address: int, value: int, tid: int = 1
) -> bytes:
    """Return the wire bytes of a write-single-register response (an echo of the request)."""
    return adu(framing, unit, write_single_pdu(address, value), tid)


def exception_frame(framing: Framing, unit: int, function: int, code: int, tid: int = 1) -> bytes:
    """Return the wire bytes of an exception reply to a function code."""
    return adu(framing, unit, exception_pdu(function, code), tid)
