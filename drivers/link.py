"""The Modbus master: everything that touches pymodbus, in one module.

pymodbus is pinned to 3.16.x (pyproject) because it changes its API in minor releases. Clients
get a small synchronous `ModbusLink` with timeouts, bounded reconnect back-off and plain
exceptions. The frames themselves (codes, PDUs, framings, CRC) are drivers/wire/modbus.py,
which the simulated station answers with and the safe-state writes are sent as.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pymodbus import pymodbus_apply_logging_config
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ExceptionResponse, ModbusPDU

from drivers.errors import DeviceRefusedError, LinkError
from drivers.wire.modbus import Framing, write_request_frame

# pymodbus logs every frame at debug level and tracebacks for expected refusals: keep it quiet.
pymodbus_apply_logging_config(logging.CRITICAL)


@dataclass
class Backoff:
    """Bounded exponential back-off between reconnect attempts (s)."""

    first_s: float = 0.05
    max_s: float = 2.0
    _next: float = 0.0
    _wait: float = 0.0

    def ready(self, now: float) -> bool:
        """Return True if a reconnect may be tried now."""
        return now >= self._next

    def failed(self, now: float) -> None:
        """Note a failed attempt: the next wait doubles, up to max_s."""
        self._wait = min(self.max_s, self._wait * 2 if self._wait else self.first_s)
        self._next = now + self._wait

    def succeeded(self) -> None:
        """Note a working link: back to the first wait."""
        self._wait = 0.0
        self._next = 0.0


class ModbusLink:
    """A synchronous Modbus master over a pymodbus client (TCP, RTU on a serial URL or pty)."""

    def __init__(
        self, client: ModbusTcpClient | ModbusSerialClient, backoff: Backoff | None = None
    ) -> None:
        self.client = client
        self.backoff = backoff or Backoff()
        self.framing: Framing = "rtu" if isinstance(client, ModbusSerialClient) else "tcp"
        self.last_ok = 0.0  # time.monotonic() of the last good reply

    @property
    def timeout_s(self) -> float:
        """How long a request waits for its reply (s)."""
        return float(self.client.comm_params.timeout_connect or 0.0)

    @timeout_s.setter
    def timeout_s(self, seconds: float) -> None:
        # pymodbus reads it at every request; an open serial port keeps its own copy
        self.client.comm_params.timeout_connect = seconds
        if isinstance(self.client, ModbusSerialClient) and self.client.socket is not None:
            self.client.socket.timeout = seconds

    def _ensure(self) -> None:
        if self.client.connected:
            return
        now = time.monotonic()
        if not self.backoff.ready(now):
            raise LinkError("link down; waiting before the next reconnect")
        try:
            connected = self.client.connect()
        except OSError as exc:  # a serial port that vanished, a refused socket
            connected, why = False, f"cannot connect: {exc}"
        else:
            why = "cannot connect"
        if not connected:
            self.backoff.failed(now)
            raise LinkError(why)
        self.backoff.succeeded()

    def _call(self, what: str, function: int, fn: Callable[[], ModbusPDU]) -> ModbusPDU:
        self._ensure()
        try:
            reply = fn()
        except (ModbusException, OSError) as exc:
            # A timeout, a broken frame, a connection reset by the peer, a serial adapter
            # pulled out: the link is lost. Drop the connection so stale bytes cannot be taken
            # for the next reply, and let the caller decide (FIRE is never resent blindly).
            self.client.close()
            said = str(exc) if isinstance(exc, ModbusException) else f"{type(exc).__name__}: {exc}"
            raise LinkError(f"{what}: {said}") from None
        if reply.function_code & 0x7F != function:
            # pymodbus matches replies by transaction and unit only: a write's echo with the
            # right transaction id would be handed back as the registers of a read. An answer
            # to another question is a broken link, not data.
            self.client.close()
            raise LinkError(f"{what}: reply of function {reply.function_code}")
        if isinstance(reply, ExceptionResponse):
            raise DeviceRefusedError(what, int(reply.exception_code))
        if reply.isError():
            raise LinkError(f"{what}: error reply {reply}")
        self.last_ok = time.monotonic()
        return reply

    def send_now(
        self,
        writes: Sequence[tuple[int, int, int]],
        rtu_gap_s: float = 0.005,
        drain_s: float = 0.2,
    ) -> float:
        """Put single-register writes (unit, address, word) on the wire now, without waiting
        for each reply; return when the last went out (time.monotonic()).

        For the safe state after a fault: one lost link must not cost a reply timeout per
        command. Over TCP they go in one send; over RTU one by one, `rtu_gap_s` apart, so that
        on a half-duplex line each device's echo is over before the next request. The replies
        are then read and thrown away for up to `drain_s` (until all have come): a device
        whose reply meets a connection closed under it takes the reset for the end of the
        connection, and the requests still queued behind it (the retract) are never carried
        out. The connection is closed afterwards: a late echo must never be taken for a later
        reply. If no connection can be made nothing is sent (the devices' watchdogs are the
        backstop).
        """
        frames = [
            write_request_frame(self.framing, u, a, w, tid=0xF000 + k)
            for k, (u, a, w) in enumerate(writes)
        ]
        sent = time.monotonic()
        try:
            if not self.client.connected:
                self.client.connect()
            if self.framing == "tcp":
                self.client.send(b"".join(frames))
            else:
                for k, frame in enumerate(frames):
                    if k:
                        time.sleep(rtu_gap_s)
                    self.client.send(frame)
            sent = time.monotonic()
            # an FC 6 echo is as long as its request; an exception reply is shorter
            self._drain(sum(len(f) for f in frames), sent + drain_s)
        except (ModbusException, OSError):
            pass
        finally:
            self.client.close()
        return sent

    def _drain(self, expected: int, deadline: float) -> None:
        """Read and drop up to `expected` bytes of replies, until `deadline` (monotonic)."""
        port = self.client.socket
        got = 0
        while got < expected and port is not None:
            wait_s = deadline - time.monotonic()
            if wait_s <= 0:
                return
            if isinstance(port, socket.socket):
                if not select.select([port], [], [], wait_s)[0]:
                    return
                data = port.recv(expected - got)
                if not data:
                    return  # closed by the device
            else:
                port.timeout = wait_s
                data = port.read(expected - got)
                if not data:
                    return
            got += len(data)

    def read(self, unit: int, address: int, count: int) -> list[int]:
        """Read count holding registers from address (FC 3); return the words."""
        reply = self._call(
            f"read {count} @ {address} (unit {unit})",
            3,
            lambda: self.client.read_holding_registers(address, count=count, device_id=unit),
        )
        words = list(reply.registers)
        if len(words) != count:
            raise LinkError(f"read @ {address}: {len(words)} words instead of {count}")
        return words

    def write(self, unit: int, address: int, words: Sequence[int]) -> None:
        """Write words from address (FC 6 for one word, FC 16 for more)."""
        what = f"write {list(words)} @ {address} (unit {unit})"
        if len(words) == 1:
            reply = self._call(
                what, 6, lambda: self.client.write_register(address, words[0], device_id=unit)
            )
            echo: tuple[int, object] = (reply.address, list(reply.registers))
            want: tuple[int, object] = (address, [words[0]])
        else:
            reply = self._call(
                what, 16, lambda: self.client.write_registers(address, words, device_id=unit)
            )
            echo, want = (reply.address, reply.count), (address, len(words))
        if echo != want:
            # the echo names what the device wrote: another address or value means the
            # request was garbled on its way, or the echo is of another request
            self.client.close()
            raise LinkError(f"{what}: the device echoed {echo}, not {want}")

    def close(self) -> None:
        """Close the connection."""
        self.client.close()


def tcp_link(host: str, port: int, timeout_s: float = 0.5) -> ModbusLink:
    """Return a link to a Modbus TCP server (no pymodbus retries: the drivers decide)."""
    return ModbusLink(ModbusTcpClient(host, port=port, timeout=timeout_s, retries=0))


def rtu_link(url: str, baudrate: int = 115200, timeout_s: float = 0.5) -> ModbusLink:
    """Return a link to Modbus RTU devices on a serial port, pty path or pyserial URL."""
    return ModbusLink(ModbusSerialClient(url, baudrate=baudrate, timeout=timeout_s, retries=0))
