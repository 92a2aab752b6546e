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

from drivers.wire import modbus
from drivers.wire.frames import BLOCK_SAMPLES, SAMPLE_RATE_HZ
from firmware_sim import slave
from firmware_sim.devices import HEAD_UNIT, SUPPLY_UNIT
from firmware_sim.faults import Faults, GarbageSource, ReplyFaults, request_key
from firmware_sim.panel import ControlPanel
from firmware_sim.rtu import PtyLink
from firmware_sim.station import Station

MAX_BATCH = 64  # lockstep blocks run in one go when the client has granted that many
MAX_BACKLOG = 4 * 1024 * 1024  # bytes queued for a paced stream client before it is dropped
MAX_MBAP_LENGTH = 254  # unit byte + the longest PDU (253 bytes): a 260-byte Modbus TCP ADU
MAX_CLIENTS = 8  # Modbus TCP connections served at once (a controller needs one or two)
STALL_S = 1.0  # a client whose replies wait this long unread is cut
# requests a client may send before reading an answer: a master asks and waits (the safe
# state's three writes go at once); hundreds at a time is a flood
MAX_PIPELINED = 32


@dataclass
class Endpoints:
    """Where the station listens: printed as one JSON line when it is ready."""

    modbus_tcp: str
    stream_tcp: str
    rtu: str | None
    stream_pty: str
    clock: str
    control: str  # the simulator's own test panel: faults, e-stop and guard, ground truth
    supply_unit: int = SUPPLY_UNIT
    head_unit: int = HEAD_UNIT


def free_port(host: str) -> int:
    """Return a TCP port that is free on host now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class TcpSlave:
    """The station's Modbus TCP port: answers whole MBAP frames for both devices, and
    applies the wire faults (late, lost, 'busy' or cut) reply by reply."""

    def __init__(self, station: Station, faults: ReplyFaults) -> None:
        self.station = station
        self.faults = faults
        # each connection served now: the time of its last request (time.monotonic())
        self.clients: dict[asyncio.StreamWriter, float] = {}
        self.masters = 0  # connections so far: each is a master of its own (its lease)

    @staticmethod
    def _frames(buf: bytearray) -> list[bytes]:
        """Take the whole MBAP frames off the front of buf (the rest waits for more bytes)."""
        out = []
        while len(buf) >= 7:
            length = int.from_bytes(buf[4:6], "big")
            if not 1 <= length <= MAX_MBAP_LENGTH:
                # The length counts the unit byte and a PDU of at most 253 bytes: anything
                # else means the framing of this connection is lost (or a 64 KiB lie would be
                # waited for), so the connection is closed, as Modbus TCP servers do.
                raise ConnectionResetError(f"bad MBAP length {length}")
            if len(buf) < 6 + length:
                break
            out.append(bytes(buf[: 6 + length]))
            del buf[: 6 + length]
        return out

    def reply(self, request: bytes, master: int) -> bytes:
        """Return the reply ADU to one request ADU (MBAP header, unit, PDU) of a master."""
        unit, pdu = request[6], request[7:]
        if unit in self.station.devices:
            return modbus.mbap_reply(request, slave.answer(self.station, unit, pdu, master))
        # the port fronts two units, as a gateway does: one it does not have is refused
        return modbus.mbap_reply(request, modbus.exception_pdu(pdu[0], modbus.GATEWAY_NO_RESPONSE))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection until it closes, its framing is lost, it floods (more
        than MAX_PIPELINED requests unanswered) or leaves its replies unread (STALL_S). Past
        MAX_CLIENTS connections a new one takes the place of the one quiet longest if that one
        has been quiet STALL_S, else it is closed: a flood cannot keep a controller out."""
        if len(self.clients) >= MAX_CLIENTS:
            quiet = min(self.clients, key=self.clients.__getitem__)
            if time.monotonic() - self.clients[quiet] < STALL_S:
                writer.transport.abort()
                return
            del self.clients[quiet]
            quiet.transport.abort()  # its handler ends on the reset
        self.clients[writer] = time.monotonic()
        self.masters += 1
        master, buf = self.masters, bytearray()
        try:
            while data := await reader.read(65536):
                buf += data
                requests = self._frames(buf)
                if len(requests) > MAX_PIPELINED:
                    return  # no master waits for this many answers at once: a flood
                self.clients[writer] = time.monotonic()
                for request in requests:
                    if not await self._serve(request, writer, master):
                        return
        except (ConnectionError, TimeoutError):
            pass
        finally:
            self.clients.pop(writer, None)
            self.station.dropped(master)
            # abort, not close: close waits to send what a client that never reads left queued
            writer.transport.abort()

    async def _serve(self, request: bytes, writer: asyncio.StreamWriter, master: int) -> bool:
        """Answer one request (faults applied); return False if the connection is to end."""
        if request[2:4] != b"\0\0" or len(request) < 8:
            return True  # not Modbus (protocol id) or no function code: unanswered
        fault = self.faults.next(*request_key(request[6:]))
        if fault == "disconnect":
            return False
        if fault == "silent":
            return True  # a cut line: the request never arrives, nothing comes back
        if fault == "exception":
            busy = modbus.exception_pdu(request[7], modbus.DEVICE_BUSY)
            writer.write(modbus.mbap_reply(request, busy))
            await asyncio.wait_for(writer.drain(), STALL_S)
            return True
        reply = self.reply(request, master)
        if fault == "drop":
            return True
        if fault == "garbage":
            reply = self.faults.noise()
        if (delay_s := self.faults.delay_s) > 0:
            await asyncio.sleep(delay_s)
        writer.write(reply)
        # a client whose replies pile up unread is not a master waiting for them
        await asyncio.wait_for(writer.drain(), STALL_S)
        return True


class StreamHub:
    """The stream's clients (TCP connections and the pty); in lockstep, the credits they grant."""

    def __init__(self, lockstep: bool) -> None:
        self.lockstep = lockstep
        self.writers: set[asyncio.StreamWriter] = set()
        self.persistent: set[asyncio.StreamWriter] = set()  # the pty: never closed, may drop
        self.credits = 0
        self.credit_event = asyncio.Event()
        self.dropped_frames = 0

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
            # The pty is always open whether or not anyone reads it, so it is never waited on:
            # past the backlog its frames are dropped (a reader sees the gap in sequence).
            pty = writer in self.persistent
            if (
                pty or not self.lockstep
            ) and writer.transport.get_write_buffer_size() > MAX_BACKLOG:
                if pty:
                    self.dropped_frames += 1
                    continue
                self.writers.discard(writer)  # a paced TCP client that cannot keep up is let go
                writer.close()
                continue
            writer.write(blob)
            if self.lockstep and not pty:
                with contextlib.suppress(ConnectionError):
                    await writer.drain()

    async def take_credit(self) -> None:
        """Wait for one block's credit (lockstep)."""
        while self.credits <= 0:
            self.credit_event.clear()
            await self.credit_event.wait()
        self.credits -= 1


async def open_pty_stream(hub: StreamHub) -> tuple[str, asyncio.Task[None], list[int]]:
    """Serve the stream on a pty too; return the client's device path, its task and the fds."""
    loop = asyncio.get_running_loop()
    master, slave = os.openpty()
    tty.setraw(slave)  # binary frames: no echo, no line discipline
    reader = asyncio.StreamReader()
    read_end = os.fdopen(master, "rb", buffering=0, closefd=False)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), read_end)
    write_fd = os.dup(master)
    write_end = os.fdopen(write_fd, "wb", buffering=0, closefd=False)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, write_end)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    hub.persistent.add(writer)
    task = asyncio.ensure_future(hub.handle(reader, writer))
    return os.ttyname(slave), task, [master, slave, write_fd]


async def _clock(
    station: Station, hub: StreamHub, stop: asyncio.Event, garbage: GarbageSource
) -> None:
    period = BLOCK_SAMPLES / SAMPLE_RATE_HZ
    next_t = time.monotonic()
    while not stop.is_set():
        blocks = 1
        if hub.lockstep:
            credit = asyncio.ensure_future(hub.take_credit())
            halt = asyncio.ensure_future(stop.wait())
            await asyncio.wait({credit, halt}, return_when=asyncio.FIRST_COMPLETED)
            halt.cancel()
            if not credit.done():
                credit.cancel()
                return
            # Blocks already granted are run together (same bytes as one by one, less overhead);
            # Modbus commands land between batches, as they would between single blocks.
            blocks = 1 + min(hub.credits, MAX_BATCH - 1)
            hub.credits -= blocks - 1
        else:
            next_t += period
            delay = next_t - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                next_t = time.monotonic()  # fell far behind (suspended): do not race to catch up
        await hub.send(
            b"".join(f + garbage.after_frame() for f in station.advance(blocks, BLOCK_SAMPLES))
        )


def _stop_on_signals(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, exit_with_parent: bool
) -> list[int]:
    """Set stop on SIGINT or SIGTERM (or when stdin closes); return where the signal goes."""
    stopped_by: list[int] = []

    def on_signal(sig: int) -> None:
        stopped_by.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    if exit_with_parent:
        # The parent holds our stdin open; when it dies (even by SIGKILL) the pipe closes.
        def _stdin_ready() -> None:
            if not os.read(sys.stdin.fileno(), 4096):
                loop.remove_reader(sys.stdin.fileno())
                stop.set()

        loop.add_reader(sys.stdin.fileno(), _stdin_ready)
    return stopped_by


async def serve(
    station: Station,
    host: str = "127.0.0.1",
    modbus_port: int = 0,
    stream_port: int = 0,
    clock: str = "paced",
    rtu: bool = True,
    faults: Faults | None = None,
    announce: bool = True,
    exit_with_parent: bool = False,
) -> int | None:
    """Run the station until SIGINT or SIGTERM (or, if asked, until its stdin closes); return
    the signal that stopped it, if one did."""
    faults = faults or Faults()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stopped_by = _stop_on_signals(loop, stop, exit_with_parent)

    fire = (SUPPLY_UNIT, station.supply.regmap["fire"].address)
    tcp = TcpSlave(station, ReplyFaults(faults, fire))
    public = await asyncio.start_server(tcp.handle, host, modbus_port)
    modbus_port = public.sockets[0].getsockname()[1]
    link = None
    tasks: list[asyncio.Future[None]] = []
    if rtu:
        link = PtyLink(station, ReplyFaults(faults, fire))
        link.start(loop)
    hub = StreamHub(lockstep=clock == "lockstep")
    stream = await asyncio.start_server(hub.handle, host, stream_port)
    stream_port = stream.sockets[0].getsockname()[1]
    stream_pty, pty_task, pty_fds = await open_pty_stream(hub)
    tasks.append(pty_task)

    def unplug_stream() -> None:
        if station.faults.stream_unplugged and pty_fds:
            pty_task.cancel()
            for writer in hub.persistent:
                hub.writers.discard(writer)
                writer.close()
            for fd in pty_fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            pty_fds.clear()

    panel = ControlPanel(station, [unplug_stream] + ([link.faults_changed] if link else []))
    control = await asyncio.start_server(panel.handle, "127.0.0.1", 0)
    control_port = control.sockets[0].getsockname()[1]
    tasks.append(asyncio.ensure_future(_clock(station, hub, stop, GarbageSource(faults))))
    ends = Endpoints(
        modbus_tcp=f"{host}:{modbus_port}",
        stream_tcp=f"{host}:{stream_port}",
        rtu=link.client_path if link else None,
        stream_pty=stream_pty,
        clock=clock,
        control=f"127.0.0.1:{control_port}",
    )
    if announce:
        print(json.dumps(asdict(ends)), flush=True)
    await stop.wait()
    for server in (public, stream, control):
        server.close()
    for writer in list(hub.writers):
        writer.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if link:
        link.close()
    for fd in pty_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    print("station stopped", file=sys.stderr, flush=True)
    return stopped_by[0] if stopped_by else None
