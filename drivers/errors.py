"""What a transport or a device can say went wrong: the drivers raise these, whatever carries
the bytes (pymodbus, a serial port, a socket)."""

from __future__ import annotations

from drivers.wire.modbus import DEVICE_BUSY, EXCEPTION_NAMES


class LinkError(ConnectionError):
    """No usable answer: timeout, disconnect, or a garbled reply."""


class DeviceRefusedError(RuntimeError):
    """The device answered with a Modbus exception (illegal address, value, busy ...)."""

    def __init__(self, what: str, code: int) -> None:
        self.code = code
        name = EXCEPTION_NAMES.get(code, f"code {code}")
        super().__init__(f"{what}: device refused with exception {code} ({name})")


class SettingsChangedError(RuntimeError):
    """A device's settings are not those the controller programmed (read back before a weld):
    the message names each register, what was programmed and what was found."""


class LeaseHeldError(DeviceRefusedError):
    """The device's lease is held by another master: it takes no writes from this one."""

    def __init__(self, what: str) -> None:
        self.code = DEVICE_BUSY
        RuntimeError.__init__(self, f"{what} is held by another master (its lease)")
