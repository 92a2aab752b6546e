"""The station's Modbus RTU line: a pty pair, requests delimited by silence, the RTU faults."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
import tty

from drivers.wire import modbus
from firmware_sim import slave
from firmware_sim.faults import ReplyFaults, request_key
from firmware_sim.station import Station

RTU_SILENCE_S = 0.00175  # t3.5 of the serial-line spec: fixed at 1.75 ms above 19200 baud
MAX_RTU_ADU = 256
RTU_MASTER = 0  # the line's one master, as the devices' leases know it


def _rtu_served(frame: bytes) -> bool:
    """Return True if frame is one whole request the station serves (FC 3, 6 or 16)."""
    if frame[1] in (3, 6):
        return len(frame) == 8
    return frame[1] == 16 and len(frame) >= 11 and len(frame) == 9 + frame[6]


def _rtu_tail(buf: bytearray) -> bytes | None:
    """Return the whole served request that buf ends with, if there is one."""
    for size in range(8, len(buf) + 1):
        frame = bytes(buf[-size:])
        if _rtu_served(frame) and modbus.rtu_crc_ok(frame):
            return frame
    return None


class PtyLink:
    """The station's Modbus RTU line: a pty pair whose client side is the serial port, and
    where RTU faults happen.

    The client opens client_path; the station reads requests from the pty's master side and
    writes each reply there in one write (a frame per write, as a slave's UART sends it).
    client_path is a stable link to the client's pty, as udev's /dev/serial/by-id names are:
    unplugging closes that pty (its node vanishes and an open port fails with EIO, as a pulled
    USB adapter does) and plugging back makes a new one behind the same name.
    """

    def __init__(self, station: Station, faults: ReplyFaults) -> None:
        self.station = station
        self.folder = tempfile.mkdtemp(prefix="microweld-rtu-")
        self.client_path = os.path.join(self.folder, "client")
        self.m2: int | None = None
        self.s2: int | None = None
        self.faults = faults
        self.dead_until = 0.0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rx = bytearray()  # request bytes that are not (yet) a whole frame
        self.rx_at = 0.0  # time.monotonic() of the last request bytes

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start serving the line."""
        self.loop = loop
        self.faults_changed()

    def faults_changed(self) -> None:
        """Unplug or plug back the client's side as the fault settings say."""
        if self.faults.faults.unplugged:
            self._unplug()
        elif self.m2 is None:
            self._plug()

    def _plug(self) -> None:
        assert self.loop is not None
        self.m2, self.s2 = os.openpty()
        tty.setraw(self.s2)
        tmp = self.client_path + ".new"
        os.symlink(os.ttyname(self.s2), tmp)
        os.replace(tmp, self.client_path)
        self.loop.add_reader(self.m2, self._request)

    def _unplug(self) -> None:
        if self.m2 is None or self.s2 is None:
            return
        assert self.loop is not None
        self.loop.remove_reader(self.m2)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.client_path)
        for fd in (self.m2, self.s2):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.m2 = self.s2 = None
        self.rx.clear()

    def _to_client(self, data: bytes) -> None:
        if self.m2 is not None:  # nothing reaches an unplugged adapter
            with contextlib.suppress(OSError):
                os.write(self.m2, data)

    def _request(self) -> None:
        if self.m2 is None:
            return
        try:
            data = os.read(self.m2, 4096)
        except OSError:
            return  # the client's side is not open (yet)
        if not data or time.monotonic() < self.dead_until:
            return  # a dead line carries nothing
        # RTU frames are delimited by silence, and the station hears them as a real slave does:
        # a frame is taken once its CRC checks; bytes that have not made one when t3.5 of
        # silence follows are dropped, so a stray byte of line noise never costs the next
        # good request.
        now = time.monotonic()
        if now - self.rx_at > RTU_SILENCE_S:
            self.rx.clear()
        self.rx_at = now
        self.rx += data
        del self.rx[:-MAX_RTU_ADU]
        if modbus.rtu_crc_ok(self.rx):
            data = bytes(self.rx)
        elif (tail := _rtu_tail(self.rx)) is not None:
            # a request right behind noise, the silence lost in a busy relay's late read
            data = tail
        else:
            return
        self.rx.clear()
        unit, pdu = data[0], data[1:-2]
        if unit not in self.station.devices:
            return  # another slave's request, or a broadcast (unit 0), which these ignore
        fault = self.faults.next(*request_key(data))
        if fault == "silent":
            return  # the cut line carries the request nowhere
        if fault == "disconnect":
            self.dead_until = time.monotonic() + 0.5
            return
        if fault == "exception":
            self._to_client(modbus.rtu_adu(unit, modbus.exception_pdu(pdu[0], modbus.DEVICE_BUSY)))
            return
        reply = modbus.rtu_adu(unit, slave.answer(self.station, unit, pdu, RTU_MASTER))
        if fault == "drop":
            return
        if fault == "corrupt":
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        elif fault == "garbage":
            reply = self.faults.noise()
        delay_s = self.faults.delay_s
        if delay_s > 0 and self.loop is not None:
            self.loop.call_later(delay_s, self._to_client, reply)
        else:
            self._to_client(reply)

    def close(self) -> None:
        """Stop serving and close every descriptor."""
        self._unplug()
        shutil.rmtree(self.folder, ignore_errors=True)
