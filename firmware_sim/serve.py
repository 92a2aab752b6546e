"""Run a Station behind Modbus TCP, Modbus RTU on a pty pair, and the waveform stream (TCP).

Clocks: "paced" advances 1 ms of weld per 1 ms of wall time (the bench GUI); "lockstep"
advances one 1 ms block per credit byte the stream client sends back, so a controller that has
taken every block sees deterministic time (same seed, same bytes) and runs faster than real time.
Everything binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
import tty
from dataclasses import asdict, dataclass

from drivers import modbus
from firmware_sim.station import HEAD_UNIT, SUPPLY_UNIT, Station

BLOCK = 50  # samples per stream frame: 1 ms at 50 kHz
MAX_BACKLOG = 4 * 1024 * 1024  # bytes queued for a paced stream client before it is dropped


@dataclass
class Endpoints:
    """Where the station listens: printed as one JSON line when it is ready."""

    modbus_tcp: str
    stream_tcp: str
    rtu: str | None
    clock: str
    supply_unit: int = SUPPLY_UNIT
    head_unit: int = HEAD_UNIT


def free_port(host: str) -> int:
    """Return a TCP port that is free on host now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class PtyLink:
    """Two pty pairs joined back to back: a virtual null-modem cable between two paths."""

    def __init__(self) -> None:
        self.m1, self.s1 = os.openpty()
        self.m2, self.s2 = os.openpty()
        for fd in (self.s1, self.s2):
            tty.setraw(fd)
        self.station_path = os.ttyname(self.s1)
        self.client_path = os.ttyname(self.s2)
        self.bytes_relayed = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start copying bytes between the two sides."""
        loop.add_reader(self.m1, self._copy, self.m1, self.m2)
        loop.add_reader(self.m2, self._copy, self.m2, self.m1)

    def _copy(self, src: int, dst: int) -> None:
        try:
            data = os.read(src, 4096)
        except OSError:
            return  # the other side is not open (yet): nothing to relay
        self.bytes_relayed += len(data)
        with contextlib.suppress(OSError):
            os.write(dst, data)

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop relaying and close every descriptor."""
        for fd in (self.m1, self.m2):
            loop.remove_reader(fd)
        for fd in (self.m1, self.s1, self.m2, self.s2):
            with contextlib.suppress(OSError):
                os.close(fd)


class StreamHub:
    """The stream's TCP clients; in lockstep, the credits they grant."""

    def __init__(self, lockstep: bool) -> None:
        self.lockstep = lockstep
        self.writers: set[asyncio.StreamWriter] = set()
        self.credits = 0
        self.credit_event = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one stream client: collect its credits until it leaves."""
        self.writers.add(writer)
        try:
            while data := await reader.read(4096):
                self.credits += len(data)
                self.credit_event.set()
        except ConnectionError:
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def send(self, blob: bytes) -> None:
        """Send frames to every client (lockstep waits for them; paced drops laggards)."""
        for writer in list(self.writers):
            if writer.is_closing():
                self.writers.discard(writer)
                continue
            writer.write(blob)
            if self.lockstep:
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
            elif writer.transport.get_write_buffer_size() > MAX_BACKLOG:
                self.writers.discard(writer)
                writer.close()

    async def take_credit(self) -> None:
        """Wait for one block's credit (lockstep)."""
        while self.credits <= 0:
            self.credit_event.clear()
            await self.credit_event.wait()
        self.credits -= 1


async def _clock(station: Station, hub: StreamHub, stop: asyncio.Event) -> None:
    period = BLOCK / 50_000.0
    next_t = time.monotonic()
    while not stop.is_set():
        if hub.lockstep:
            credit = asyncio.ensure_future(hub.take_credit())
            halt = asyncio.ensure_future(stop.wait())
            await asyncio.wait({credit, halt}, return_when=asyncio.FIRST_COMPLETED)
            halt.cancel()
            if not credit.done():
                credit.cancel()
                return
        else:
            next_t += period
            delay = next_t - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                next_t = time.monotonic()  # fell far behind (suspended): do not race to catch up
        await hub.send(b"".join(station.advance(BLOCK)))


def _action(station: Station, unit: int) -> modbus.Action:
    async def action(
        fc: int, start: int, address: int, count: int, regs: list[int], values: list[int] | None
    ) -> int | None:
        if values is None:
            words = station.read(unit, address, count)
            if isinstance(words, int):
                return words
            regs[address - start : address - start + count] = words
            return None
        return station.write(unit, address, values)

    return action


async def serve(
    station: Station,
    host: str = "127.0.0.1",
    modbus_port: int = 0,
    stream_port: int = 0,
    clock: str = "paced",
    rtu: bool = True,
    announce: bool = True,
) -> None:
    """Run the station until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    devices = [
        modbus.device(unit, len(dev.image), _action(station, unit))
        for unit, dev in station.devices.items()
    ]
    modbus_port = modbus_port or free_port(host)
    tcp = modbus.tcp_server(devices, host, modbus_port)
    tasks = [asyncio.ensure_future(tcp.serve_forever())]
    link = None
    if rtu:
        link = PtyLink()
        link.start(loop)
        rtu_devices = [
            modbus.device(unit, len(dev.image), _action(station, unit))
            for unit, dev in station.devices.items()
        ]
        tasks.append(
            asyncio.ensure_future(modbus.rtu_server(rtu_devices, link.station_path).serve_forever())
        )
    hub = StreamHub(lockstep=clock == "lockstep")
    stream = await asyncio.start_server(hub.handle, host, stream_port)
    stream_port = stream.sockets[0].getsockname()[1]
    tasks.append(asyncio.ensure_future(_clock(station, hub, stop)))
    await asyncio.sleep(0.05)  # let the servers bind before saying where they are
    ends = Endpoints(
        modbus_tcp=f"{host}:{modbus_port}",
        stream_tcp=f"{host}:{stream_port}",
        rtu=link.client_path if link else None,
        clock=clock,
    )
    if announce:
        print(json.dumps(asdict(ends)), flush=True)
    await stop.wait()
    stream.close()
    for writer in list(hub.writers):
        writer.close()
    await tcp.shutdown()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if link:
        link.close(loop)
    print("station stopped", file=sys.stderr, flush=True)
