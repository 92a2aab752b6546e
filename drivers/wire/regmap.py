"""Device register maps (configs/devices/*.toml): one declaration per register, read by both the
drivers and the simulated station, with strict encoding of engineering values to register words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from drivers.config.files import config_path
from drivers.config.loader import Strict, load_model

WORDS = {"u16": 1, "i16": 1, "u32": 2, "i32": 2}
RAW_RANGE = {
    "u16": (0, 0xFFFF),
    "i16": (-0x8000, 0x7FFF),
    "u32": (0, 0xFFFF_FFFF),
    "i32": (-0x8000_0000, 0x7FFF_FFFF),
}


class RegisterValueError(ValueError):
    """A value cannot be written to a register: out of range, off its step, or read-only."""


class Register(Strict):
    """One register (or pair of registers for 32-bit values) and how its value is scaled."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    address: int = Field(ge=0, le=0xFFFF, description="Modbus PDU address (0-based)")
    type: Literal["u16", "i16", "u32", "i32"]
    scale: float = Field(1.0, gt=0.0, description="engineering value = raw × scale")
    access: Literal["r", "w", "rw"]
    min: float | None = Field(None, description="smallest allowed value, engineering units")
    max: float | None = Field(None, description="largest allowed value, engineering units")
    unit: str = ""
    description: str = ""

    @property
    def words(self) -> int:
        """Return how many 16-bit registers the value occupies."""
        return WORDS[self.type]

    @property
    def writable(self) -> bool:
        """Return True if a client may write this register."""
        return "w" in self.access

    @model_validator(mode="after")
    def _limits(self) -> Register:
        lo, hi = RAW_RANGE[self.type]
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        for bound in (self.min, self.max):
            if bound is not None and not lo * self.scale <= bound <= hi * self.scale:
                raise ValueError(f"limit {bound} does not fit a {self.type} scaled by {self.scale}")
        return self

    def check(self, value: float) -> int:
        """Return the raw integer for an engineering value, or raise RegisterValueError."""
        # NaN passes both limit checks and fails in round() with a bare "cannot convert float
        # NaN to integer" (inf: an OverflowError on registers without limits): refused here,
        # naming the register.
        if not math.isfinite(value):
            raise RegisterValueError(f"{self.name} = {value!r} is not a finite number")
        if self.min is not None and value < self.min:
            raise RegisterValueError(f"{self.name} = {value} {self.unit} is below {self.min}")
        if self.max is not None and value > self.max:
            raise RegisterValueError(f"{self.name} = {value} {self.unit} is above {self.max}")
        raw = round(value / self.scale)
        # Nothing is silently rounded: a value between two steps of the register is refused.
        if abs(raw * self.scale - value) > 1e-9 * max(1.0, abs(value)):
            raise RegisterValueError(
                f"{self.name} = {value} is not a multiple of its step {self.scale} {self.unit}"
            )
        lo, hi = RAW_RANGE[self.type]
        if not lo <= raw <= hi:
            raise RegisterValueError(f"{self.name} = {value} does not fit a {self.type}")
        return raw

    def encode(self, value: float) -> list[int]:
        """Return the register words (high word first) for an engineering value."""
        raw = self.check(value)
        if raw < 0:
            raw += 1 << (16 * self.words)
        if self.words == 1:
            return [raw]
        return [(raw >> 16) & 0xFFFF, raw & 0xFFFF]

    def decode(self, words: Sequence[int]) -> float:
        """Return the engineering value of the register words (high word first)."""
        if len(words) != self.words:
            raise ValueError(f"{self.name} takes {self.words} words, got {len(words)}")
        raw = 0
        for w in words:
            if not 0 <= w <= 0xFFFF:
                raise ValueError(f"{self.name}: word {w} is not 16-bit")
            raw = (raw << 16) | w
        if self.type.startswith("i") and raw >= 1 << (16 * self.words - 1):
            raw -= 1 << (16 * self.words)
        return raw * self.scale


class RegisterMap(Strict):
    """All registers of one device model, with its status bits."""

    model: str = Field(min_length=1)
    kind: Literal["cd_supply", "inverter_supply", "servo_head"]
    description: str = ""
    status_bits: dict[str, int] = Field(default_factory=dict)
    registers: list[Register]

    @model_validator(mode="after")
    def _consistent(self) -> RegisterMap:
        names: set[str] = set()
        used: dict[int, str] = {}
        for reg in self.registers:
            if reg.name in names:
                raise ValueError(f"register {reg.name!r} is declared twice")
            names.add(reg.name)
            for a in range(reg.address, reg.address + reg.words):
                if a in used:
                    raise ValueError(f"{reg.name} overlaps {used[a]} at address {a}")
                used[a] = reg.name
        for bit_name, bit in self.status_bits.items():
            if not 0 <= bit <= 15:
                raise ValueError(f"status bit {bit_name} = {bit} is not in 0..15")
        if len(set(self.status_bits.values())) != len(self.status_bits):
            raise ValueError("two status bits share a bit number")
        return self

    def __getitem__(self, name: str) -> Register:
        for reg in self.registers:
            if reg.name == name:
                return reg
        known = ", ".join(r.name for r in self.registers)
        raise KeyError(f"{self.model} has no register {name!r}; known: {known}")

    def __contains__(self, name: object) -> bool:
        return any(reg.name == name for reg in self.registers)

    def span(self) -> tuple[int, int]:
        """Return (first address, one past the last address) of the map."""
        lo = min(r.address for r in self.registers)
        hi = max(r.address + r.words for r in self.registers)
        return lo, hi

    def status_flags(self, status: int) -> dict[str, bool]:
        """Return the named status bits of a status word."""
        return {name: bool(status >> bit & 1) for name, bit in self.status_bits.items()}


def load_register_map(name_or_path: str | Path) -> RegisterMap:
    """Load a register map by file path or by name in the config folder's devices/ (e.g.
    "cd_supply")."""
    return load_model(RegisterMap, config_path("devices", name_or_path))
