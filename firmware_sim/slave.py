"""The station's Modbus slave: one request PDU in, its reply PDU out, for either framing.

The devices have holding registers only: FC 3 reads them, FC 6 and FC 16 write them, as the
register maps define. Refusals follow the Modbus application protocol (v1.1b3, section 7):
  01 ILLEGAL FUNCTION   any other function code
  03 ILLEGAL VALUE      a quantity or byte count out of range or a PDU of the wrong length
                        (checked before the address, as the spec's state charts do)
  02 ILLEGAL ADDRESS    registers outside the map, part of a register, or a read-only one
  and the station's own refusals (03 for a value outside its limits, 06 BUSY mid-weld).

The station answers requests itself rather than through pymodbus's server: the map sweep's
1,000 welds make about 300,000 status reads, and a second loopback hop with a generic
server behind it cost over half of the station's time. The framing (MBAP or RTU's CRC) and
the wire faults stay in serve.py; this module is pure logic, tested without a socket.
"""

from __future__ import annotations

from firmware_sim.station import Station

READ = 3
WRITE_ONE = 6
WRITE_MANY = 16
ILLEGAL_FUNCTION = 1
ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3
MAX_READ = 125  # registers in one FC 3 reply (250 data bytes)
MAX_WRITE = 123  # registers in one FC 16 request (246 data bytes)


def refusal(function: int, code: int) -> bytes:
    """Return the exception reply PDU to a request of this function code."""
    return bytes([(function | 0x80) & 0xFF, code])


def answer(station: Station, unit: int, pdu: bytes) -> bytes:
    """Carry out one request PDU for a unit the station has; return the reply PDU."""
    if not pdu:
        raise ValueError("a request PDU has at least its function code")
    fc = pdu[0]
    if fc not in (READ, WRITE_ONE, WRITE_MANY):
        return refusal(fc, ILLEGAL_FUNCTION)
    if fc == READ:
        if len(pdu) != 5:
            return refusal(fc, ILLEGAL_VALUE)
        address = int.from_bytes(pdu[1:3], "big")
        count = int.from_bytes(pdu[3:5], "big")
        if not 1 <= count <= MAX_READ:
            return refusal(fc, ILLEGAL_VALUE)
        words = station.read(unit, address, count)
        if isinstance(words, int):
            return refusal(fc, words)
        data = b"".join(w.to_bytes(2, "big") for w in words)
        return bytes([READ, len(data)]) + data
    if fc == WRITE_ONE:
        if len(pdu) != 5:
            return refusal(fc, ILLEGAL_VALUE)
        values = [int.from_bytes(pdu[3:5], "big")]
    else:
        count = int.from_bytes(pdu[3:5], "big") if len(pdu) >= 5 else 0
        if (
            len(pdu) < 6
            or not 1 <= count <= MAX_WRITE
            or pdu[5] != 2 * count
            or len(pdu) != 6 + 2 * count
        ):
            return refusal(fc, ILLEGAL_VALUE)
        values = [int.from_bytes(pdu[6 + 2 * k : 8 + 2 * k], "big") for k in range(count)]
    address = int.from_bytes(pdu[1:3], "big")
    code = station.write(unit, address, values)
    if code is not None:
        return refusal(fc, code)
    # FC 6 echoes the request; FC 16 echoes its address and quantity
    return pdu if fc == WRITE_ONE else pdu[:5]
