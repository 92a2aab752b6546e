"""Fault injection: what goes wrong on the wire and in the devices, from a file or the CLI."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from drivers.config.loader import Strict


class Faults(Strict):
    """Faults the station injects; counts are per Modbus reply or per stream frame (0: never)."""

    reply_delay_ms: float = Field(0.0, ge=0.0, le=10_000.0, description="every reply late, ms")
    drop_reply_every: int = Field(0, ge=0, description="every Nth reply is lost")
    corrupt_crc_every: int = Field(0, ge=0, description="RTU: every Nth reply has a bad CRC")
    exception_every: int = Field(0, ge=0, description="every Nth request answered 'busy' (6)")
    disconnect_every: int = Field(
        0, ge=0, description="TCP: connection cut at every Nth request; RTU: line dead 0.5 s"
    )
    link_down: bool = Field(False, description="the line is cut: no request gets any reply")
    drop_fire_reply: bool = Field(False, description="the reply to every FIRE is lost")
    garbage_reply_every: int = Field(0, ge=0, description="every Nth reply replaced by noise")
    unplugged: bool = Field(
        False, description="RTU: the serial adapter is pulled out (its device node vanishes)"
    )
    stream_unplugged: bool = Field(
        False,
        description="the stream's serial adapter (the pty) is pulled out: an open port fails "
        "with EIO; it stays out until the station restarts",
    )
    stream_garbage_every: int = Field(0, ge=0, description="garbage after every Nth frame")
    stream_garbage_bytes: int = Field(256, ge=1, le=1 << 20, description="bytes per burst")
    no_lease: bool = Field(
        False,
        description="the devices grant no lease (firmware without it): every master may write "
        "them at any time; `lease` is an illegal address",
    )
    supply: Literal["none", "not_charged", "over_temperature"] = "none"
    head: Literal["none", "servo"] = "none"
    seed: int = Field(0, description="seed of the garbage bytes")


def request_key(pdu: bytes) -> tuple[int, int, int]:
    """Return (unit, function, address) of a request that starts with the unit byte."""
    if len(pdu) < 4:
        return (pdu[0] if pdu else 0, pdu[1] if len(pdu) > 1 else 0, -1)
    return pdu[0], pdu[1], int.from_bytes(pdu[2:4], "big")


class ReplyFaults:
    """Decides, reply by reply, which wire fault to apply (the TCP port and the RTU line)."""

    def __init__(self, faults: Faults, fire: tuple[int, int] = (0, -1)) -> None:
        self.faults = faults
        self.fire = fire  # (unit, address) of the supply's FIRE register
        self.n = 0
        self.injected: dict[str, int] = {}
        self.rng = random.Random(faults.seed)

    @property
    def delay_s(self) -> float:
        """How late every reply is (s); read at each reply, so it can change while running."""
        return self.faults.reply_delay_ms / 1e3

    def noise(self) -> bytes:
        """Return a burst of line noise to send instead of a reply (1 to 260 bytes)."""
        return self.rng.randbytes(self.rng.randint(1, 260))

    def next(self, unit: int, function: int, address: int) -> str | None:
        """Return the fault for this request: silent (never delivered), drop (reply lost),
        corrupt, garbage (noise instead of the reply), exception or disconnect; None for
        none."""
        self.n += 1
        f = self.faults
        if f.link_down or f.unplugged:  # over TCP, a gateway whose serial side is unplugged
            self.injected["silent"] = self.injected.get("silent", 0) + 1
            return "silent"
        if f.drop_fire_reply and function in (6, 16) and (unit, address) == self.fire:
            self.injected["drop"] = self.injected.get("drop", 0) + 1
            return "drop"
        for name, every in (
            ("disconnect", f.disconnect_every),
            ("drop", f.drop_reply_every),
            ("exception", f.exception_every),
            ("corrupt", f.corrupt_crc_every),
            ("garbage", f.garbage_reply_every),
        ):
            if every and self.n % every == 0:
                self.injected[name] = self.injected.get(name, 0) + 1
                return name
        return None


class GarbageSource:
    """Seeded garbage bursts for the stream."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.n = 0
        self.bursts = 0

    def after_frame(self) -> bytes:
        """Return the garbage to send after this frame (usually none)."""
        self.n += 1
        every = self.faults.stream_garbage_every
        if not every or self.n % every:
            return b""
        self.bursts += 1
        return self.rng.randbytes(self.faults.stream_garbage_bytes)
