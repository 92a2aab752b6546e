"""Driver of the waveform stream: frames from a pyserial port (pty, socket://, loop://)."""

from __future__ import annotations

import time
from typing import Protocol

from drivers.frames import Frame, StreamDecoder, StreamStats


class Port(Protocol):
    """What the stream needs of a pyserial port (serial_for_url gives one)."""

    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...

    @property
    def in_waiting(self) -> int: ...


class WaveformStream:
    """Decode frames as they arrive; in lockstep, grant the station a block per frame taken."""

    def __init__(self, port: Port) -> None:
        self.port = port
        self.decoder = StreamDecoder()

    @property
    def stats(self) -> StreamStats:
        """Return the decoder's counters (frames, bad frames, lost frames, skipped bytes)."""
        return self.decoder.stats

    def grant(self, blocks: int = 1) -> None:
        """Let a lockstep station advance this many blocks."""
        self.port.write(b"\x01" * blocks)

    def read(self, timeout_s: float = 0.1) -> list[Frame]:
        """Return the frames that arrive within timeout_s (at least one read is tried)."""
        deadline = time.monotonic() + timeout_s
        frames: list[Frame] = []
        while True:
            waiting = self.port.in_waiting
            data = self.port.read(waiting or 1)  # blocks up to the port's own timeout
            if data:
                frames += self.decoder.feed(data)
            if frames or time.monotonic() >= deadline:
                return frames

    def close(self) -> None:
        """Close the port."""
        self.port.close()
