"""Malformed input: the stream decoder, the station's Modbus and the drivers' replies.

Every target gets random and mutated bytes and must neither raise nor hang nor grow without
bound, and must work again at once afterwards. Inputs that once broke something (and hand-made
edge cases) are kept in corpus/TARGET/ and replayed first; corpus/README.md says which is which.
"""

from __future__ import annotations

import functools
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.errors import DeviceRefusedError, LinkError
from drivers.link import tcp_link
from drivers.wire.frames import (
    CRC,
    HEAD_SIZE,
    MAX_FRAME,
    Frame,
    StreamDecoder,
    Summary,
    encode_samples,
    encode_summary,
)
from drivers.wire.modbus import (
    exception_frame,
    read_request_frame,
    read_response_frame,
    write_request_frame,
)
from tests.helpers.crc import crc16_modbus
from tests.helpers.station import Running, station
from tests.reliability.battery import LONG, Record, kept, scale

GARBAGE_BURST = 16 * 1024
RECOVERY_S = 0.050

# --- the stream decoder --------------------------------------------------------------------------


def _frame(seq: int, rng: random.Random) -> bytes:
    """Return one valid frame (samples, or now and then a summary) with this sequence number."""
    if rng.random() < 0.15:
        return encode_summary(seq, seq * 50, Summary(seq, 1, 1.5, 2.5, 3.5, seq * 50))
    n, nc = rng.randint(1, 60), rng.randint(1, 4)
    values = np.random.default_rng(rng.randrange(1 << 32)).uniform(-1e3, 1e3, (n, nc))
    return encode_samples(seq, seq * 50, values, np.full(nc, 0.05))


@functools.cache
def _flush(seq0: int) -> list[bytes]:
    """Frames worth more than the longest frame: whatever a damaged header claimed is then
    here, so every intact frame before them must have come out."""
    frames, size, rng = [], 0, random.Random(seq0)
    while size <= MAX_FRAME:
        frames.append(_frame(seq0 + len(frames), rng))
        size += len(frames[-1])
    return frames


def _frames(dec: StreamDecoder, data: bytes, cuts: list[int]) -> list[Frame]:
    """Feed data in pieces cut at cuts; return the decoded frames."""
    out: list[Frame] = []
    last = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        out += dec.feed(data[last:cut])
        last = max(last, cut)
        # the buffer holds at most one frame that is not whole yet
        assert len(dec._buf) < MAX_FRAME
    return out


def _feed(dec: StreamDecoder, data: bytes, cuts: list[int]) -> list[int]:
    """Feed data in pieces cut at cuts; return the decoded sequence numbers."""
    return [f.seq for f in _frames(dec, data, cuts)]


def _decoder_survives(data: bytes, cuts: list[int]) -> None:
    """data, cut anywhere, then good frames: no exception, bounded buffer, the good ones out."""
    dec = StreamDecoder()
    _feed(dec, data, cuts)
    tail = _flush(1_000_000)
    seqs = _feed(dec, b"".join(tail), cuts)
    want = list(range(1_000_000, 1_000_000 + len(tail)))
    assert [s for s in seqs if s >= 1_000_000] == want


SEGMENT = st.tuples(
    st.sampled_from(["intact", "truncated", "mutated", "random", "header", "bare_magic"]),
    st.integers(0, 2**32 - 1),
)


def _damaged_stream(
    segments: list[tuple[str, int]],
) -> tuple[bytes, list[int], dict[int, bytes]]:
    """Return a stream of intact, truncated, mutated and random pieces, the intact seqs, and
    the frames cut short in their CRC only (seq: the whole frame), whose data is all there."""
    out, intact, crc_cut = [], [], {}
    for k, (kind, seed) in enumerate(segments):
        rng = random.Random(seed)
        frame = _frame(k, rng)
        if kind == "intact":
            out.append(frame)
            intact.append(k)
        elif kind == "truncated":
            cut = rng.randrange(1, len(frame))
            out.append(frame[:cut])
            if cut >= len(frame) - CRC.size:
                crc_cut[k] = frame
        elif kind == "mutated":
            buf = bytearray(frame)
            for _ in range(rng.randint(1, 4)):
                buf[rng.randrange(len(buf))] ^= rng.randint(1, 255)
            out.append(bytes(buf))
        elif kind == "random":
            out.append(rng.randbytes(rng.randint(1, 600)))
        elif kind == "header":  # a valid header (its check passes) and nothing of the payload
            out.append(frame[:HEAD_SIZE])
        else:
            out.append(b"MW"[: rng.randint(1, 2)])
    return b"".join(out), intact, crc_cut


def test_decoder_random_bytes(record: Record) -> None:
    for blob in kept("stream_decoder"):
        _decoder_survives(blob, [])
        _decoder_survives(blob, list(range(0, len(blob), 7)))
        record.cases += 1
        record.faults += 1

    @settings(
        max_examples=scale(400, 100_000),
        deadline=None,
        derandomize=not LONG,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.binary(max_size=4096), st.lists(st.integers(0, 1 << 16), max_size=8))
    def prop(data: bytes, cuts: list[int]) -> None:
        record.cases += 1
        record.faults += 1
        _decoder_survives(data, cuts)

    prop()
    record.notes.append(f"random bytes: {scale(400, 100_000)} hypothesis examples")


def test_decoder_damaged_frames_and_interleavings(record: Record) -> None:
    @settings(
        max_examples=scale(400, 100_000),
        deadline=None,
        derandomize=not LONG,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(SEGMENT, min_size=1, max_size=12), st.lists(st.integers(0, 1 << 16)))
    def prop(segments: list[tuple[str, int]], cuts: list[int]) -> None:
        record.cases += 1
        record.faults += sum(kind != "intact" for kind, _ in segments)
        data, intact, crc_cut = _damaged_stream(segments)
        whole, pieces = StreamDecoder(), StreamDecoder()
        frames = _frames(whole, data + b"".join(_flush(10_000)), [])
        got = [f.seq for f in frames]
        # How the bytes are cut into reads changes nothing: not a frame, not a counter.
        assert _feed(pieces, data + b"".join(_flush(10_000)), cuts) == got
        assert pieces.stats == whole.stats
        # Every intact frame comes out, in order, and nothing that was damaged does; but a
        # frame cut short in its CRC alone may, if the bytes after it happen to complete its
        # CRC: then its data is all there, and it must be exactly what was sent.
        ours = [f for f in frames if f.seq < 10_000]
        assert [f.seq for f in ours] == sorted({f.seq for f in ours})
        assert [f.seq for f in ours if f.seq not in crc_cut] == intact
        for f in ours:
            if f.seq in crc_cut:
                (sent,) = StreamDecoder().feed(crc_cut[f.seq])
                np.testing.assert_array_equal(f.samples, sent.samples)

    prop()
    record.notes.append(f"damaged frames: {scale(400, 100_000)} hypothesis examples")


def test_decoder_sealed_headers_of_any_field_values(record: Record) -> None:
    """Headers whose checks pass whatever their fields say (65535 samples, version 7, kind 9)."""
    import zlib

    from drivers.wire.frames import CRC, HCHECK, HEADER

    @settings(max_examples=scale(300, 100_000), deadline=None, derandomize=not LONG, database=None)
    @given(
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 65535),
        st.integers(0, 255),
        st.binary(max_size=2048),
        st.booleans(),
    )
    def prop(version: int, kind: int, n: int, nc: int, payload: bytes, seal: bool) -> None:
        record.cases += 1
        record.faults += 1
        head = HEADER.pack(b"MW", version, kind, 5, 0, n, nc, 0)
        body = head + HCHECK.pack(zlib.crc32(head) & 0xFFFF) + payload
        blob = body + CRC.pack(zlib.crc32(body)) if seal else body
        dec = StreamDecoder()
        frames = dec.feed(blob)
        for f in frames:  # only a frame of exactly the size its header says gets through
            assert f.summary is not None or f.samples.shape == (n, nc)
        assert len(dec._buf) < MAX_FRAME
        _decoder_survives(blob, [])

    prop()
    record.notes.append(f"sealed headers: {scale(300, 100_000)} hypothesis examples")


def test_decoder_garbage_burst_between_station_frames(record: Record) -> None:
    """The station itself puts 16 KiB of garbage on the stream; the next frame is decoded
    within 50 ms of the burst's last byte."""
    bursts = scale(5, 50)
    args = ["--clock", "lockstep", "--no-rtu", "--seed", "4"]
    args += [
        "--fault",
        "stream_garbage_every=3",
        "--fault",
        f"stream_garbage_bytes={GARBAGE_BURST}",
    ]
    with station(*args) as run, socket.create_connection(run.stream_tcp, timeout=2.0) as sock:
        dec = StreamDecoder()
        received = 0

        def take(until: int) -> list[int]:
            """Read until `until` bytes have come in all; return the frames' seqs."""
            nonlocal received
            seqs: list[int] = []
            while received < until:
                data = sock.recv(1 << 16)
                assert data, "the station closed the stream"
                received += len(data)
                seqs += [f.seq for f in dec.feed(data)]
            return seqs

        def frame_size() -> int:
            return HEAD_SIZE + 4 * 4 + 2 * 50 * 4 + 4

        expected, seq = 0, -1
        for _ in range(bursts):
            for k in range(3):
                sock.sendall(b"\x01")
                t0 = time.perf_counter()
                got: list[int] = []
                while not got:
                    got += take(received + 1)
                latency = time.perf_counter() - t0
                seq = got[-1]
                if k == 0 and expected:  # the first frame after a burst
                    record.latency(latency)
                    assert latency <= RECOVERY_S, f"{latency * 1e3:.1f} ms after the burst"
                expected += frame_size()
            expected += GARBAGE_BURST
            take(expected)  # the whole burst is in the decoder now
            record.faults += 1
            record.cases += 1
        assert dec.stats.frames == 3 * bursts and seq == 3 * bursts - 1
        assert dec.stats.skipped_bytes >= bursts * GARBAGE_BURST - 2
    record.notes.append(f"stream: {bursts} bursts of 16 KiB from a lockstep station")


# --- the station's Modbus TCP --------------------------------------------------------------------


def _station_pid() -> int:
    """Return the pid of this process's one simulated station (to count its open files); other
    children (the tests' PostgreSQL server) are not it."""
    me, kids = os.getpid(), []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii") as f:
                    stat = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            if int(stat[1]) == me and b"firmware_sim" in cmd:
                kids.append(int(name))
    assert len(kids) == 1, kids
    return kids[0]


def _open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _requests(framing: str, rng: random.Random) -> bytes:
    """Return one plausible request: read, write one, write many, or an odd function code."""
    unit = rng.choice([1, 2, 1, 2, 0, rng.randrange(256)])
    tid = rng.randrange(0x7000)
    kind = rng.randrange(4)
    if kind == 0:
        return read_request_frame(framing, unit, rng.randrange(64), rng.randint(1, 125), tid)
    if kind == 1:
        return write_request_frame(framing, unit, rng.randrange(64), rng.randrange(65536), tid)
    if kind == 2:
        n = rng.randint(1, 10)
        pdu = bytes([16]) + rng.randrange(64).to_bytes(2, "big") + n.to_bytes(2, "big")
        pdu += bytes([2 * n]) + rng.randbytes(2 * n)
    else:
        pdu = bytes([rng.randrange(256)]) + rng.randbytes(rng.randint(0, 12))
    if framing == "tcp":
        return (
            tid.to_bytes(2, "big")
            + b"\0\0"
            + (len(pdu) + 1).to_bytes(2, "big")
            + bytes([unit])
            + pdu
        )
    frame = bytes([unit]) + pdu
    return frame + crc16_modbus(frame)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        if op == 0 and buf:
            buf[rng.randrange(len(buf))] ^= rng.randint(1, 255)
        elif op == 1:
            buf.insert(rng.randrange(len(buf) + 1), rng.randrange(256))
        elif op == 2 and buf:
            del buf[rng.randrange(len(buf))]
        else:
            del buf[rng.randrange(len(buf) + 1) :]
    return bytes(buf)


def _tcp_fuzz_input(rng: random.Random) -> tuple[bytes, bool]:
    """Return fuzz bytes for the Modbus TCP port, and whether they are whole MBAP frames."""
    choice = rng.random()
    if choice < 0.2:
        return rng.randbytes(rng.randint(1, 300)), False
    if choice < 0.5:
        return _mutate(_requests("tcp", rng), rng), False
    # whole frames whose insides are mutated: the MBAP length is set to match again
    frames = b""
    for _ in range(rng.randint(1, 3)):
        adu = bytearray(_requests("tcp", rng))
        pdu = _mutate(bytes(adu[7:]), rng) if rng.random() < 0.7 else bytes(adu[7:])
        pdu = pdu[:253]
        proto = b"\0\0" if rng.random() < 0.85 else rng.randbytes(2)
        frames += bytes(adu[:2]) + proto + (len(pdu) + 1).to_bytes(2, "big") + adu[6:7] + pdu
    return frames, True


def _mbap_frames(data: bytes) -> Iterator[bytes]:
    """Split replies into MBAP frames (asserting each is well-formed Modbus TCP)."""
    while data:
        assert len(data) >= 8 and data[2:4] == b"\0\0", data.hex()
        size = 6 + int.from_bytes(data[4:6], "big")
        assert len(data) >= size, data.hex()
        yield data[:size]
        data = data[size:]


GOOD_TID = 0x7ABC


def _good_read_tcp(sock: socket.socket, before: bytes = b"", wait_s: float = 2.0) -> bool:
    """Send before + a valid read of weld_count; return True if its exact reply came, False if
    the station closed the connection; fail if neither within wait_s (a hung connection)."""
    sock.sendall(before + read_request_frame("tcp", 1, 2, 2, tid=GOOD_TID))
    want = read_response_frame("tcp", 1, [0, 0], tid=GOOD_TID)
    got, deadline = b"", time.monotonic() + wait_s
    sock.settimeout(0.05)
    while time.monotonic() < deadline:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return False
        if not data:
            return False
        got += data
        if got.endswith(want):
            for frame in _mbap_frames(got):
                assert frame[:2] != GOOD_TID.to_bytes(2, "big") or frame == want, frame.hex()
            return True
    raise AssertionError(f"no reply and no close within {wait_s} s after {before.hex()}")


def _fresh_read_tcp(run: Running) -> None:
    with socket.create_connection(run.modbus_tcp, timeout=2.0) as sock:
        assert _good_read_tcp(sock), "the station closed a fresh connection"


def _tcp_case(run: Running, blob: bytes, framed: bool) -> None:
    with socket.create_connection(run.modbus_tcp, timeout=2.0) as sock:
        if framed:
            # whole frames: the good request right behind them is answered or refused by a
            # close, never left hanging
            _good_read_tcp(sock, blob)
        else:
            sock.sendall(blob)


def test_station_modbus_tcp_fuzz(record: Record) -> None:
    cases = scale(300, 100_000)
    rng = random.Random(7)
    with station("--clock", "lockstep", "--no-rtu") as run:
        pid = _station_pid()
        _fresh_read_tcp(run)
        files = _open_files(pid)
        for blob in kept("station_modbus_tcp"):
            _tcp_case(run, blob, framed=False)
            with socket.create_connection(run.modbus_tcp, timeout=2.0) as sock:
                _good_read_tcp(sock, blob)  # the kept inputs are whole frames or lies
            _fresh_read_tcp(run)
            record.cases += 1
            record.faults += 1
        for k in range(cases):
            blob, framed = _tcp_fuzz_input(rng)
            _tcp_case(run, blob, framed)
            record.cases += 1
            record.faults += 1
            if k % 50 == 49:
                _fresh_read_tcp(run)
        _fresh_read_tcp(run)
        # no connection left behind (a wedged one keeps three descriptors)
        deadline = time.monotonic() + 3.0
        while _open_files(pid) > files + 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _open_files(pid) <= files + 4, (files, _open_files(pid))
    record.notes.append(f"station Modbus TCP: {cases} seeded cases, one connection each")


# --- the station's Modbus RTU (pty) --------------------------------------------------------------


def _rtu_fuzz_input(rng: random.Random) -> bytes:
    choice = rng.random()
    if choice < 0.3:
        return rng.randbytes(rng.randint(1, 300))
    if choice < 0.7:
        return _mutate(_requests("rtu", rng), rng)
    return _requests("rtu", rng)  # CRC-valid, odd units, functions and counts


def _good_read_rtu(port: serial.Serial, wait_s: float = 1.0) -> float:
    """Send a valid read of weld_count; return the time to its exact reply."""
    want = read_response_frame("rtu", 1, [0, 0])
    t0 = time.perf_counter()
    port.write(read_request_frame("rtu", 1, 2, 2))
    got = b""
    while time.perf_counter() - t0 < wait_s:
        got += port.read(4096)
        if got.endswith(want):
            return time.perf_counter() - t0
    raise AssertionError(f"no correct RTU reply within {wait_s} s (got {got.hex()})")


def _rtu_case(port: serial.Serial, blob: bytes) -> None:
    port.write(blob)
    port.flush()
    time.sleep(0.003)  # a master waits t3.5 (1.75 ms) before its next frame
    port.reset_input_buffer()  # replies to the fuzz, if any
    _good_read_rtu(port)


def test_station_modbus_rtu_fuzz(record: Record) -> None:
    cases = scale(300, 100_000)
    rng = random.Random(11)
    with station("--clock", "lockstep") as run:
        assert run.rtu is not None
        with serial.Serial(run.rtu, 115200, timeout=0.002) as port:
            _good_read_rtu(port)
            for blob in kept("station_rtu"):
                _rtu_case(port, blob)
                record.cases += 1
                record.faults += 1
            for _ in range(cases):
                _rtu_case(port, _rtu_fuzz_input(rng))
                record.cases += 1
                record.faults += 1
            # 16 KiB of line noise, then (after t3.5 of silence) a good request: answered
            # within 50 ms of the burst's end
            for _ in range(scale(5, 50)):
                port.write(rng.randbytes(GARBAGE_BURST))
                port.flush()
                end = time.perf_counter()
                time.sleep(0.002)
                port.reset_input_buffer()
                _good_read_rtu(port)
                latency = time.perf_counter() - end
                record.latency(latency)
                record.faults += 1
                assert latency <= RECOVERY_S, f"{latency * 1e3:.1f} ms after the burst"
    record.notes.append(f"station RTU: {cases} seeded cases + 16 KiB bursts")


# --- the drivers' reply handling -----------------------------------------------------------------

Reply = Callable[[bytes], list[tuple[float, bytes | None]]]


class FakeServer:
    """A Modbus TCP 'device' on loopback that answers each request as `reply` says: a list of
    (delay_s, bytes) to send, None for closing the connection."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.reply: Reply = lambda request: []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        buf = b""
        while not self.stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            buf += data
            while len(buf) >= 7 and len(buf) >= 6 + int.from_bytes(buf[4:6], "big"):
                size = 6 + int.from_bytes(buf[4:6], "big")
                request, buf = buf[:size], buf[size:]
                for delay, out in self.reply(request):
                    if self.stop.wait(delay):
                        return
                    if out is None:
                        return
                    try:
                        conn.sendall(out)
                    except OSError:
                        return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


@contextmanager
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    try:
        yield server
    finally:
        server.close()


WORDS = [0x0041, 0x1234, 0xFFFF]


def _right_reply(request: bytes) -> bytes:
    tid, unit, fc = int.from_bytes(request[:2], "big"), request[6], request[7]
    if fc == 3:
        count = int.from_bytes(request[10:12], "big")
        return read_response_frame("tcp", unit, WORDS[:count], tid=tid)
    return request  # FC 6 answers with an echo


def _reply_plan(rng: random.Random, kind: str) -> Reply:
    """Return how the fake device answers one request, for one kind of misbehaviour."""

    def plan(request: bytes) -> list[tuple[float, bytes | None]]:
        good = _right_reply(request)
        if kind == "right":
            return [(0.0, good)]
        if kind == "mutated":
            return [(0.0, _mutate(good, rng))]
        if kind == "random":
            return [(0.0, rng.randbytes(rng.randint(1, 300)))]
        if kind == "partial":
            return [(0.0, good[: rng.randrange(len(good))])]
        if kind == "nothing":
            return []
        if kind == "close":
            return [(0.0, None)]
        if kind == "trickle":  # byte by byte, too slowly to finish in time
            return [(0.03, good[k : k + 1]) for k in range(len(good))]
        if kind == "wrong_tid":
            return [(0.0, bytes([good[0] ^ 0x55]) + good[1:])]
        if kind == "wrong_unit":
            return [(0.0, good[:6] + bytes([good[6] ^ 0x0F]) + good[7:])]
        if kind == "wrong_function":  # a reply of another function, with the right tid
            other = write_request_frame("tcp", request[6], 3, 0x4141, tid=0)
            return [(0.0, good[:2] + other[2:])]
        if kind == "exception":
            code = rng.randrange(256)
            refusal = exception_frame("tcp", request[6], request[7], code)
            return [(0.0, good[:2] + refusal[2:])]
        if kind == "bad_proto":
            return [(0.0, good[:2] + b"\0\x07" + good[4:])]
        if kind == "long_length":
            return [(0.0, good[:4] + b"\xff\xff" + good[6:])]
        if kind == "garbage_around":
            return [(0.0, rng.randbytes(rng.randint(1, 20)) + good + rng.randbytes(5))]
        if kind == "wrong_echo":  # a write's echo of another address or value
            if request[7] != 6:
                return [(0.0, good)]
            k = rng.choice([8, 9, 10, 11])  # a byte of the address or of the value
            return [(0.0, good[:k] + bytes([good[k] ^ 0x01]) + good[k + 1 :])]
        raise AssertionError(kind)

    return plan


KINDS = [
    "right",
    "mutated",
    "random",
    "partial",
    "nothing",
    "close",
    "trickle",
    "wrong_tid",
    "wrong_unit",
    "wrong_function",
    "exception",
    "bad_proto",
    "long_length",
    "garbage_around",
    "wrong_echo",
]
SLOW = {"nothing", "partial", "trickle"}  # these cost a whole timeout each


TIMEOUT_S, SLACK_S = 0.1, 0.1
# Fake devices worked at once: most cases wait out a reply timeout, so lanes side by side reach
# the long form's 10^5 cases in minutes, not the two hours of one lane.
LANES = scale(1, 8)


def _driver_lane(
    seed: int, cases: int, with_kept: bool, record: Record, lock: threading.Lock
) -> None:
    """One fake device and one link through `cases` seeded misbehaviours (and the corpus)."""
    rng = random.Random(seed)
    with fake_server() as server:
        link = tcp_link("127.0.0.1", server.port, timeout_s=TIMEOUT_S)
        link.backoff.first_s = link.backoff.max_s = 0.0  # reconnect at once: we test replies
        plans = [("kept", blob) for blob in kept("driver_replies")] if with_kept else []
        for _ in range(cases):
            kind = rng.choice(KINDS)
            if kind in SLOW and rng.random() < 0.6:
                kind = "mutated"  # keep the slow ones to a fraction of the run
            plans.append((kind, b""))
        for kind, blob in plans:
            if kind == "kept":
                server.reply = lambda request, blob=blob: [(0.0, request[:2] + blob[2:])]
            else:
                server.reply = _reply_plan(rng, kind)
            write, count = rng.random() < 0.3, 0
            t0 = time.perf_counter()
            outcome: object
            try:
                if write:
                    link.write(1, 3, [0x4141])
                    outcome = "written"
                else:
                    count = rng.choice([1, len(WORDS)])
                    outcome = link.read(1, 0, count)
            except (LinkError, DeviceRefusedError) as exc:
                outcome = exc
            took = time.perf_counter() - t0
            with lock:
                record.cases += 1
                record.faults += kind != "right"
                record.latency(took)
            assert took <= TIMEOUT_S + SLACK_S, f"{kind}: {took:.3f} s"
            if kind == "right":
                assert outcome == ("written" if write else WORDS[:count])
            wrong = ("kept", "wrong_function", "wrong_tid", "wrong_unit", "bad_proto")
            if kind in wrong and not write:
                # an answer to some other question is never taken for this one's
                assert isinstance(outcome, LinkError), (kind, outcome)
            if kind == "wrong_echo" and write:
                # a device that says it wrote something else did not write what was asked
                assert isinstance(outcome, LinkError), (kind, outcome)
            if isinstance(outcome, list):
                assert len(outcome) == count and all(0 <= w <= 0xFFFF for w in outcome)
        link.close()


def test_driver_reply_handling(record: Record) -> None:
    per_lane = scale(120, 12_500)
    lock = threading.Lock()
    with ThreadPoolExecutor(LANES) as pool:
        lanes = [
            pool.submit(_driver_lane, 13 + k, per_lane, k == 0, record, lock) for k in range(LANES)
        ]
        for lane in lanes:
            lane.result()  # a lane's failed assertion fails the test
    record.notes.append(
        f"driver replies: {LANES} x {per_lane} seeded cases side by side, timeout {TIMEOUT_S} s"
    )
