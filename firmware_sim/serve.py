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
import shutil
import signal
import socket
import sys
import tempfile
import time
import tty
from dataclasses import asdict, dataclass

from drivers.wire import modbus
from drivers.wire.frames import BLOCK_SAMPLES, SAMPLE_RATE_HZ
from firmware_sim import slave
from firmware_sim.devices import HEAD_UNIT, SUPPLY_UNIT
from firmware_sim.faults import Faults, GarbageSource, ReplyFaults
from firmware_sim.panel import ControlPanel
from firmware_sim.station import Station

MAX_BATCH = 64  # lockstep blocks run in one go when the client has granted that many
MAX_BACKLOG = 4 * 1024 * 1024  # bytes queued for a paced stream client before it is dropped
MAX_MBAP_LENGTH = 254  # unit byte + the longest PDU (253 bytes): a 260-byte Modbus TCP ADU
RTU_SILENCE_S = 0.00175  # t3.5 of the serial-line spec: fixed at 1.75 ms above 19200 baud
MAX_RTU_ADU = 256
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


def _request_key(pdu: bytes) -> tuple[int, int, int]:
    """Return (unit, function, address) of a request that starts with the unit byte."""
    if len(pdu) < 4:
        return (pdu[0] if pdu else 0, pdu[1] if len(pdu) > 1 else 0, -1)
    return pdu[0], pdu[1], int.from_bytes(pdu[2:4], "big")


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
        fault = self.faults.next(*_request_key(data))
        if fault == "silent":
            return  # the cut line carries the request nowhere
        if fault == "disconnect":
            self.dead_until = time.monotonic() + 0.5
            return
        if fault == "exception":
            self._to_client(modbus.rtu_adu(unit, modbus.exception_pdu(pdu[0], modbus.DEVICE_BUSY)))
            return
        reply = modbus.rtu_adu(unit, slave.answer(self.station, unit, pdu))
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


class TcpSlave:
    """The station's Modbus TCP port: answers whole MBAP frames for both devices, and
    applies the wire faults (late, lost, 'busy' or cut) reply by reply."""

    def __init__(self, station: Station, faults: ReplyFaults) -> None:
        self.station = station
        self.faults = faults
        # each connection served now: the time of its last request (time.monotonic())
        self.clients: dict[asyncio.StreamWriter, float] = {}

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

    def reply(self, request: bytes) -> bytes:
        """Return the reply ADU to one request ADU (MBAP header, unit, PDU)."""
        unit, pdu = request[6], request[7:]
        if unit in self.station.devices:
            return modbus.mbap_reply(request, slave.answer(self.station, unit, pdu))
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
        buf = bytearray()
        try:
            while data := await reader.read(65536):
                buf += data
                requests = self._frames(buf)
                if len(requests) > MAX_PIPELINED:
                    return  # no master waits for this many answers at once: a flood
                self.clients[writer] = time.monotonic()
                for request in requests:
                    if not await self._serve(request, writer):
                        return
        except (ConnectionError, TimeoutError):
            pass
        finally:
            self.clients.pop(writer, None)
            # abort, not close: close waits to send what a client that never reads left queued
            writer.transport.abort()

    async def _serve(self, request: bytes, writer: asyncio.StreamWriter) -> bool:
        """Answer one request (faults applied); return False if the connection is to end."""
        if request[2:4] != b"\0\0" or len(request) < 8:
            return True  # not Modbus (protocol id) or no function code: unanswered
        fault = self.faults.next(*_request_key(request[6:]))
        if fault == "disconnect":
            return False
        if fault == "silent":
            return True  # a cut line: the request never arrives, nothing comes back
        if fault == "exception":
            busy = modbus.exception_pdu(request[7], modbus.DEVICE_BUSY)
            writer.write(modbus.mbap_reply(request, busy))
            await asyncio.wait_for(writer.drain(), STALL_S)
            return True
        reply = self.reply(request)
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
