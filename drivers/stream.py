"""Driver of the waveform stream: frames from a pyserial port (pty, socket://, loop://)."""

from __future__ import annotations

import select
import time
from typing import Protocol

from drivers.errors import LinkError
from drivers.wire.frames import Frame, StreamDecoder, StreamStats

CHUNK = 1 << 16


class Port(Protocol):
    """What the stream needs of a pyserial port (serial_for_url gives one)."""

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...


class WaveformStream:
    """Decode frames as they arrive; in lockstep, grant the station a block per frame taken."""

    def __init__(self, port: Port, spin: bool = False) -> None:
        self.port = port
        # spin: wait for data by polling instead of sleeping in the kernel. For a process on
        # a core of its own (the GUI's weld session): a core that sleeps between 1 ms frames
        # wakes with its caches cold, and slower still while another core (the GUI painting)
        # churns the shared cache; polling keeps the monitor's decision at its p50.
        self.spin = spin
        # Reads never block inside pyserial: readiness is waited for here, with our timeout,
        # and then whatever has arrived is taken in one go (pyserial's socket:// in_waiting
        # only says 0 or 1, so it cannot size a read).
        self.port.timeout = 0
        self._fd: int | None
        try:
            self._fd = port.fileno()  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            self._fd = None  # e.g. loop:// has no descriptor
        self.decoder = StreamDecoder()

    @property
    def stats(self) -> StreamStats:
        """Return the decoder's counters (frames, bad frames, lost frames, skipped bytes)."""
        return self.decoder.stats

    def grant(self, blocks: int = 1) -> None:
        """Let a lockstep station advance this many blocks."""
        try:
            self.port.write(b"\x01" * blocks)
        except OSError as exc:  # pyserial's SerialException is one
            raise LinkError(f"stream: {type(exc).__name__}: {exc}") from None

    def _ready(self, timeout_s: float) -> bool:
        if self._fd is None:  # no descriptor to wait on: poll gently
            time.sleep(min(max(timeout_s, 0.0), 0.001))
            return True
        if not self.spin:
            ready, _, _ = select.select([self._fd], [], [], max(timeout_s, 0.0))
            return bool(ready)
        deadline = time.monotonic() + timeout_s
        while not select.select([self._fd], [], [], 0.0)[0]:
            if time.monotonic() >= deadline:
                return False
        return True

    def read(self, timeout_s: float = 0.1) -> list[Frame]:
        """Return the frames that arrive within timeout_s (as soon as there is at least one).

        A port that fails (a serial adapter pulled out, a socket closed or reset by the
        station) raises LinkError: the stream is a link like the Modbus one."""
        try:
            return self._read(timeout_s)
        except OSError as exc:
            # pyserial raises SerialException (an OSError) for a vanished device or a socket
            # the peer closed; select() EBADF for a descriptor closed under it
            raise LinkError(f"stream: {type(exc).__name__}: {exc}") from None

    def _read(self, timeout_s: float) -> list[Frame]:
        deadline = time.monotonic() + timeout_s
        frames: list[Frame] = []
        while True:
            remaining = deadline - time.monotonic()
            if self._ready(remaining):
                data = self.port.read(CHUNK)
                if data:
                    frames += self.decoder.feed(data)
            if frames or time.monotonic() >= deadline:
                return frames

    def close(self) -> None:
        """Close the port."""
        self.port.close()
