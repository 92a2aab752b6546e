"""The simulated station's devices as the bus sees them: a register image per device model, its
watchdog, and the fault codes and unit addresses they answer with."""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.wire.regmap import Register, RegisterMap
from firmware_sim.lease import Lease

SUPPLY_UNIT = 1
HEAD_UNIT = 2

FAULT_NONE = 0
FAULT_NOT_CHARGED = 1
FAULT_OVER_TEMPERATURE = 2
FAULT_HEARTBEAT = 3
FAULT_SERVO = 8


@dataclass
class Heartbeat:
    """A device's watchdog: armed by the first heartbeat write, tripped by silence."""

    timeout_s: float = 0.5
    last_value: int | None = None  # None until the first beat
    last_t: float = 0.0

    def beat(self, value: int, t: float) -> None:
        """Note a heartbeat write at virtual time t."""
        self.last_value = value
        self.last_t = t

    def expired(self, t: float) -> bool:
        """Return True if heartbeats began and then stopped for longer than the timeout."""
        return self.last_value is not None and t - self.last_t > self.timeout_s


@dataclass
class Device:
    """One Modbus device of the station: its map, its register image, its watchdog, its lease."""

    unit: int
    regmap: RegisterMap
    image: list[int] = field(default_factory=list)
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    fault: int = FAULT_NONE
    lease: Lease = field(default_factory=Lease)
    shown: dict[str, float] = field(default_factory=dict)  # live values in the image (refresh)

    def __post_init__(self) -> None:
        self.image = [0] * self.regmap.span()[1]
        self.owner: dict[int, Register] = {}
        for reg in self.regmap.registers:
            for a in range(reg.address, reg.address + reg.words):
                self.owner[a] = reg

    def set(self, name: str, value: float) -> None:
        """Store an engineering value in the image (values that cannot be shown are saturated)."""
        reg = self.regmap[name]
        lo, hi = reg.min, reg.max
        raw_max = {"u16": 0xFFFF, "i16": 0x7FFF, "u32": 0xFFFFFFFF, "i32": 0x7FFFFFFF}[reg.type]
        raw_min = {"u16": 0, "i16": -0x8000, "u32": 0, "i32": -0x80000000}[reg.type]
        raw = round(value / reg.scale)
        raw = min(max(raw, raw_min), raw_max)
        if lo is not None and raw * reg.scale < lo:
            raw = round(lo / reg.scale)
        if hi is not None and raw * reg.scale > hi:
            raw = round(hi / reg.scale)
        words = reg.encode(raw * reg.scale)
        self.image[reg.address : reg.address + reg.words] = words

    def get(self, name: str) -> float:
        """Return the engineering value held in the image."""
        reg = self.regmap[name]
        return reg.decode(self.image[reg.address : reg.address + reg.words])
