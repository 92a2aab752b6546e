"""The station's Modbus slave: one request PDU in, its reply PDU out, for either framing.

The devices have holding registers only: FC 3 reads them, FC 6 and FC 16 write them, as the
register maps define. Refusals follow the Modbus application protocol (v1.1b3, section 7):
  01 ILLEGAL FUNCTION   any other function code
  03 ILLEGAL VALUE      a quantity or byte count out of range or a PDU of the wrong length
                        (checked before the address, as the spec's state charts do)
  02 ILLEGAL ADDRESS    registers outside the map, part of a register, or a read-only one
  and the station's own refusals (03 for a value outside its limits, 06 BUSY mid-weld or
  while another master holds the device's lease).

The station answers requests itself rather than through pymodbus's server: the map sweep's
1,000 welds make about 300,000 status reads, and a second loopback hop with a generic
server behind it cost over half of the station's time. The frames are drivers/wire/modbus.py;
the framing and the wire faults are applied in serve.py; this module is pure logic, tested
without a socket.
"""

from __future__ import annotations

from drivers.wire.modbus import (
    ILLEGAL_FUNCTION,
    ILLEGAL_VALUE,
    MAX_READ,
    MAX_WRITE,
    READ_HOLDING,
    WRITE_MULTIPLE,
    WRITE_SINGLE,
    exception_pdu,
    read_response_pdu,
)
from firmware_sim.station import Station


def answer(station: Station, unit: int, pdu: bytes, master: int = 0) -> bytes:
    """Carry out one request PDU of `master` (a connection: firmware_sim/lease.py) for a unit
    the station has; return the reply PDU."""
    if not pdu:
        raise ValueError("a request PDU has at least its function code")
    fc = pdu[0]
    if fc not in (READ_HOLDING, WRITE_SINGLE, WRITE_MULTIPLE):
        return exception_pdu(fc, ILLEGAL_FUNCTION)
    if fc == READ_HOLDING:
        if len(pdu) != 5:
            return exception_pdu(fc, ILLEGAL_VALUE)
        address = int.from_bytes(pdu[1:3], "big")
        count = int.from_bytes(pdu[3:5], "big")
        if not 1 <= count <= MAX_READ:
            return exception_pdu(fc, ILLEGAL_VALUE)
        words = station.read(unit, address, count, master)
        if isinstance(words, int):
            return exception_pdu(fc, words)
        return read_response_pdu(words)
    if fc == WRITE_SINGLE:
        if len(pdu) != 5:
            return exception_pdu(fc, ILLEGAL_VALUE)
        values = [int.from_bytes(pdu[3:5], "big")]
    else:
        count = int.from_bytes(pdu[3:5], "big") if len(pdu) >= 5 else 0
        if (
            len(pdu) < 6
            or not 1 <= count <= MAX_WRITE
            or pdu[5] != 2 * count
            or len(pdu) != 6 + 2 * count
        ):
            return exception_pdu(fc, ILLEGAL_VALUE)
        values = [int.from_bytes(pdu[6 + 2 * k : 8 + 2 * k], "big") for k in range(count)]
    address = int.from_bytes(pdu[1:3], "big")
    code = station.write(unit, address, values, master)
    if code is not None:
        return exception_pdu(fc, code)
    # FC 6 echoes the request; FC 16 echoes its address and quantity
    return pdu if fc == WRITE_SINGLE else pdu[:5]
