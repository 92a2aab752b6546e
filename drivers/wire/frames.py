"""Waveform stream frames: the binary format the station sends and the controller decodes.

Little-endian. A frame is a 20-byte header, a 2-byte header check (the low half of the header's
CRC-32), a payload, and a CRC-32 (IEEE, as zlib.crc32) of everything before it:

    0  2  magic b"MW"          8  8  first_sample (u64)   18  1  n_channels (u8)
    2  1  version (1)         16  2  n_samples (u16)      19  1  flags (bit 0: ADC saturated)
    3  1  kind (0 samples, 1 summary)                     20  2  header check
    4  4  seq (u32, +1 per frame, wraps)

The header check lets the decoder drop a false magic in garbage at once, instead of waiting for
the length such a header claims before the frame CRC can refuse it.

A samples frame carries n_channels float32 scales (units per LSB) then n_samples × n_channels
int16, sample-major. A summary frame (n_samples = n_channels = 0) ends a weld with its totals.
The decoder resynchronises on the magic after garbage, counts bad frames and lost sequence
numbers, and never hands on a frame whose CRC fails.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE_HZ = 50_000.0  # the stream's sample rate: the station's converters
SAMPLE_PERIOD_S = 1.0 / SAMPLE_RATE_HZ
BLOCK_SAMPLES = 50  # samples per frame: a 1 ms block, the unit of the lockstep clock
MAGIC = b"MW"
VERSION = 1
KIND_SAMPLES = 0
KIND_SUMMARY = 1
FLAG_SATURATED = 0x01
HEADER = struct.Struct("<2sBBIQHBB")
HCHECK = struct.Struct("<H")
HEAD_SIZE = HEADER.size + HCHECK.size
SUMMARY = struct.Struct("<IIfffQ")
CRC = struct.Struct("<I")
FULL_SCALE = 32767  # the largest magnitude a sample carries: a channel there is clipped
MAX_SAMPLES = 4096
MAX_CHANNELS = 8
CHANNELS = ("current_a", "voltage_v", "force_n", "position_um")
MAX_FRAME = HEAD_SIZE + 4 * MAX_CHANNELS + 2 * MAX_SAMPLES * MAX_CHANNELS + CRC.size


@dataclass(frozen=True)
class Summary:
    """Totals of one weld, sent after its last samples frame."""

    weld_count: int
    status: int
    peak_current_a: float
    energy_j: float
    weld_time_ms: float
    samples: int


@dataclass(frozen=True)
class Frame:
    """A decoded, CRC-checked frame: samples in engineering units, or a weld summary."""

    seq: int
    first_sample: int
    samples: np.ndarray  # shape (n_samples, n_channels), float64, engineering units
    saturated: bool = False
    summary: Summary | None = None
    # the channels (indices) that sat at their full scale in a saturated frame: what they
    # show is not what was there
    clipped: tuple[int, ...] = ()


def _head(kind: int, seq: int, first_sample: int, n: int, nc: int, flags: int) -> bytes:
    head = HEADER.pack(MAGIC, VERSION, kind, seq & 0xFFFFFFFF, first_sample, n, nc, flags)
    return head + HCHECK.pack(zlib.crc32(head) & 0xFFFF)


def _seal(body: bytes) -> bytes:
    return body + CRC.pack(zlib.crc32(body))


def encode_samples(seq: int, first_sample: int, values: np.ndarray, scales: np.ndarray) -> bytes:
    """Return a samples frame for values (n_samples, n_channels) in units, quantised by scales."""
    values = np.asarray(values, dtype=np.float64)
    scales = np.asarray(scales, dtype=np.float32)
    n, nc = values.shape
    if not 0 < n <= MAX_SAMPLES or not 0 < nc <= MAX_CHANNELS or scales.shape != (nc,):
        raise ValueError(f"bad frame shape {values.shape} with {scales.shape} scales")
    if scales.min() <= 0:
        raise ValueError("scales must be positive")
    raw = np.round(values / scales.astype(np.float64))
    # An ADC saturates at its full scale: clip, and say so in the frame.
    saturated = bool(np.abs(raw).max() >= FULL_SCALE)
    if saturated:
        raw = np.clip(raw, -FULL_SCALE, FULL_SCALE)
    data = raw.astype("<i2")
    flags = FLAG_SATURATED if saturated else 0
    head = _head(KIND_SAMPLES, seq, first_sample, n, nc, flags)
    return _seal(head + scales.astype("<f4").tobytes() + data.tobytes())


def encode_summary(seq: int, first_sample: int, summary: Summary) -> bytes:
    """Return a summary frame."""
    head = _head(KIND_SUMMARY, seq, first_sample, 0, 0, 0)
    body = SUMMARY.pack(
        summary.weld_count,
        summary.status,
        summary.peak_current_a,
        summary.energy_j,
        summary.weld_time_ms,
        summary.samples,
    )
    return _seal(head + body)


@dataclass
class StreamStats:
    """Counters of the decoder: what arrived, what was refused, what went missing."""

    frames: int = 0
    bad_frames: int = 0
    lost_frames: int = 0
    skipped_bytes: int = 0
    samples: int = 0


@dataclass
class StreamDecoder:
    """Incremental decoder: feed it bytes as they come, get whole verified frames back.

    A frame that lost its last bytes on the line is completed by the bytes after it: if the
    next frame's magic happens to equal the lost CRC bytes (1 in 256 for one lost byte), the
    CRC passes, and the frame's data is genuine (only CRC bytes were lost) but the next
    frame's start was taken as its CRC. So the last CRC.size bytes of each accepted frame
    stay in the buffer and are searched for a magic like any others: the next frame is still
    found there. They are not counted as skipped when no frame starts in them.
    """

    stats: StreamStats = field(default_factory=StreamStats)
    _buf: bytearray = field(default_factory=bytearray)
    _next_seq: int | None = None
    _grace: int = 0  # leading bytes of _buf that ended the last frame accepted

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return every complete frame whose CRC checks."""
        self._buf += data
        frames: list[Frame] = []
        while True:
            start = self._buf.find(MAGIC)
            if start < 0:
                # keep a trailing b"M": it may be the first half of the next magic
                keep = 1 if self._buf.endswith(MAGIC[:1]) else 0
                self._drop(len(self._buf) - keep)
                return frames
            if start:
                self._drop(start)
            if len(self._buf) < HEAD_SIZE:
                return frames
            _, version, kind, seq, first, n, nc, flags = HEADER.unpack_from(self._buf)
            (check,) = HCHECK.unpack_from(self._buf, HEADER.size)
            size = self._frame_size(version, kind, n, nc)
            if check != zlib.crc32(self._buf[: HEADER.size]) & 0xFFFF:
                size = None
            if size is None:
                self._reject()
                continue
            if len(self._buf) < size:
                return frames
            body = bytes(self._buf[: size - CRC.size])
            (crc,) = CRC.unpack_from(self._buf, size - CRC.size)
            if zlib.crc32(body) != crc:
                self._reject()
                continue
            # the grace before it (if any) was searched through to reach this frame
            del self._buf[: size - CRC.size]
            self._grace = CRC.size
            frames.append(self._parse(body, kind, seq, first, n, nc, flags))

    def _drop(self, n: int) -> None:
        # bytes of the last frame's CRC are not garbage: only the others count as skipped
        ours = min(n, self._grace)
        self._grace -= ours
        self.stats.skipped_bytes += n - ours
        del self._buf[:n]

    @staticmethod
    def _frame_size(version: int, kind: int, n: int, nc: int) -> int | None:
        if version != VERSION:
            return None
        if kind == KIND_SAMPLES and 0 < n <= MAX_SAMPLES and 0 < nc <= MAX_CHANNELS:
            return HEAD_SIZE + 4 * nc + 2 * n * nc + CRC.size
        if kind == KIND_SUMMARY and n == 0 and nc == 0:
            return HEAD_SIZE + SUMMARY.size + CRC.size
        return None

    def _reject(self) -> None:
        # A false or corrupt magic: drop one byte and search again from the next. One inside
        # the last frame's CRC is no bad frame: those bytes were checked as that CRC.
        if not self._grace:
            self.stats.bad_frames += 1
        self._drop(1)

    def _parse(
        self, body: bytes, kind: int, seq: int, first: int, n: int, nc: int, flags: int
    ) -> Frame:
        if self._next_seq is not None and seq != self._next_seq:
            self.stats.lost_frames += (seq - self._next_seq) & 0xFFFFFFFF
        self._next_seq = (seq + 1) & 0xFFFFFFFF
        self.stats.frames += 1
        if kind == KIND_SUMMARY:
            summary = Summary(*SUMMARY.unpack_from(body, HEAD_SIZE))
            return Frame(seq, first, np.zeros((0, 0)), summary=summary)
        off = HEAD_SIZE
        scales = np.frombuffer(body, dtype="<f4", count=nc, offset=off).astype(np.float64)
        raw = np.frombuffer(body, dtype="<i2", count=n * nc, offset=off + 4 * nc)
        self.stats.samples += n
        rows = raw.reshape(n, nc)
        values = rows.astype(np.float64) * scales
        if not flags & FLAG_SATURATED:
            return Frame(seq, first, values)
        rails = np.abs(rows.astype(np.int32)).max(axis=0) >= FULL_SCALE
        clipped = tuple(int(c) for c in np.flatnonzero(rails))
        return Frame(seq, first, values, saturated=True, clipped=clipped)
