"""A Modbus device driven through its register map: registers become typed attributes."""

from __future__ import annotations

from typing import Any, ClassVar, overload

from drivers.errors import DeviceRefusedError, LeaseHeldError
from drivers.link import ModbusLink
from drivers.wire.modbus import DEVICE_BUSY, ILLEGAL_ADDRESS, MAX_READ
from drivers.wire.regmap import RegisterMap, RegisterValueError, load_register_map


class Reg:
    """A register as an attribute: reading it polls the device, setting it writes (checked)."""

    def __init__(self, doc: str = "") -> None:
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> Reg: ...
    @overload
    def __get__(self, obj: RegisterDevice, objtype: type | None = None) -> float: ...
    def __get__(self, obj: RegisterDevice | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.read(self.name)

    def __set__(self, obj: RegisterDevice, value: float) -> None:
        obj.write(self.name, value)


class RegisterDevice:
    """Base of the drivers: a unit on a Modbus link, described by a register map file."""

    MAP: ClassVar[str]

    def __init__(self, link: ModbusLink, unit: int, regmap: RegisterMap | None = None) -> None:
        self.link = link
        self.unit = unit
        self.regmap = regmap or load_register_map(self.MAP)
        self._beat = 0
        self.programmed: dict[str, list[int]] = {}  # each setting written: its words
        # Every register the driver names must exist in the map, so a map and a driver that
        # drifted apart fail at construction, not mid-weld.
        for klass in type(self).__mro__:
            for attr, value in vars(klass).items():
                if isinstance(value, Reg) and attr not in self.regmap:
                    raise KeyError(f"{type(self).__name__}.{attr}: not in {self.regmap.model}")

    def read(self, name: str) -> float:
        """Return a register's engineering value, read from the device now."""
        reg = self.regmap[name]
        return reg.decode(self.link.read(self.unit, reg.address, reg.words))

    def read_all(self) -> dict[str, float]:
        """Return every register of the map, read in as few requests as possible."""
        words = self._read_words()
        return {r.name: r.decode(words[r.name]) for r in self.regmap.registers}

    def _read_words(self) -> dict[str, list[int]]:
        lo, hi = self.regmap.span()
        words: list[int] = []
        for a in range(lo, hi, MAX_READ):
            words += self.link.read(self.unit, a, min(MAX_READ, hi - a))
        return {
            r.name: words[r.address - lo : r.address - lo + r.words] for r in self.regmap.registers
        }

    def write(self, name: str, value: float) -> None:
        """Write a setting; an out-of-range or read-only value raises before anything is sent.
        What was written is remembered, for `changed` to read back."""
        words = self._send(name, value)
        self.programmed[name] = words

    def _send(self, name: str, value: float) -> list[int]:
        reg = self.regmap[name]
        if not reg.writable:
            raise RegisterValueError(f"{self.regmap.model}.{name} is read-only")
        words = reg.encode(value)
        self.link.write(self.unit, reg.address, words)
        return words

    def changed(self) -> list[str]:
        """Read back every setting written to the device; return each that is not what was
        written ("register: programmed X, found Y", in engineering units), in one or two
        reads. Another master, a device that reset itself, a register that did not take."""
        if not self.programmed:
            return []
        found = self._read_words()
        out = []
        for name, words in self.programmed.items():
            if found[name] != words:
                reg = self.regmap[name]
                unit = f" {reg.unit}" if reg.unit else ""
                out.append(
                    f"{name}: programmed {reg.decode(words):g}{unit}, "
                    f"found {reg.decode(found[name]):g}{unit}"
                )
        return out

    def command(self, name: str) -> None:
        """Send a command register (write 1)."""
        self._send(name, 1)

    def command_write(self, name: str) -> tuple[int, int, int]:
        """Return the write a command is, as (unit, address, word) for ModbusLink.send_now."""
        reg = self.regmap[name]
        (word,) = reg.encode(1)
        return self.unit, reg.address, word

    def take(self, token: int) -> bool:
        """Take the device's lease with `token` (1 to 2**32 - 1, the same for the whole
        session), or renew it, or move it to a new connection; return False if the device
        grants none (its map has no lease register, or it refuses the address as firmware
        without one does). LeaseHeldError if another master holds it."""
        if "lease" not in self.regmap:
            return False
        try:
            self._send("lease", token)
        except DeviceRefusedError as exc:
            if exc.code == ILLEGAL_ADDRESS:
                return False
            if exc.code == DEVICE_BUSY:
                raise LeaseHeldError(f"{self.regmap.model} (unit {self.unit})") from None
            raise
        return True

    def release(self) -> None:
        """Give the lease up (it lapses anyway when this master falls silent)."""
        if "lease" in self.regmap:
            self._send("lease", 0)

    def status(self) -> dict[str, bool]:
        """Return the named status bits."""
        return self.regmap.status_flags(int(self.read("status")))

    def heartbeat(self) -> None:
        """Write the next heartbeat value (the device's watchdog expects it to change)."""
        self._beat = (self._beat + 1) & 0xFFFF
        self._send("heartbeat", self._beat)
