"""Drivers of the weld supplies (capacitor discharge and inverter)."""

from __future__ import annotations

import time

from drivers.device import Reg, RegisterDevice
from drivers.errors import LinkError


class FireUnconfirmedError(LinkError):
    """FIRE's reply was lost and the weld counter could not be read: the state is unknown."""


class Supply(RegisterDevice):
    """What both supplies share: status, counter, commands, the last weld's summary."""

    fault_code = Reg("fault code (0 none)")
    weld_count = Reg("welds fired since power-up")
    watchdog_ms = Reg("heartbeat watchdog, ms")
    last_peak_current_a = Reg("peak current of the last weld, A")
    last_energy_j = Reg("energy of the last weld, J")
    last_weld_time_ms = Reg("current-on time of the last weld, ms")

    def arm(self) -> None:
        """Arm the supply with its current settings."""
        self.command("arm")

    def disarm(self) -> None:
        """Disarm the supply."""
        self.command("disarm")

    def stop(self) -> None:
        """Stop the weld now (a CD pulse stops only with a truncating switch)."""
        self.command("stop")

    def reset(self) -> None:
        """Clear a fault."""
        self.command("reset")

    def fire(self, reconcile_s: float = 1.0) -> bool:
        """Fire once; return True when the supply fired (by its reply or by its weld counter).

        FIRE is never resent: if its reply is lost, the weld counter decides. A refusal raises
        DeviceRefusedError; a counter that cannot be read raises FireUnconfirmedError.
        """
        before = int(self.weld_count)
        try:
            self.command("fire")
            return True
        except LinkError as exc:
            lost = exc
        deadline = time.monotonic() + reconcile_s
        while True:
            try:
                return int(self.weld_count) > before
            except LinkError:
                if time.monotonic() > deadline:
                    raise FireUnconfirmedError(
                        f"FIRE reply lost ({lost}) and the weld counter is unreadable"
                    ) from None
                time.sleep(0.02)


class CDSupply(Supply):
    """Capacitor-discharge supply (register map configs/devices/cd_supply.toml)."""

    MAP = "cd_supply"
    capacitance_uf = Reg("bank capacitance, µF")
    charge_voltage_v = Reg("charge voltage setpoint, V")
    charge_actual_v = Reg("measured bank voltage, V")
    pulse_tap = Reg("0 short, 1 medium, 2 long")
    first_pulse_pct = Reg("dual pulse: energy share of pulse 1, %")
    interpulse_ms = Reg("dual pulse: delay, ms")
    squeeze_ms = Reg("delay from FIRE to the pulse, ms")
    hold_ms = Reg("hold after the pulse, ms")


class InverterSupply(Supply):
    """Inverter supply with I/V/P feedback (register map configs/devices/inverter_supply.toml)."""

    MAP = "inverter_supply"
    mode = Reg("feedback: 0 current, 1 voltage, 2 power")
    squeeze_ms = Reg("ms")
    up1_ms = Reg("ms")
    weld1_ms = Reg("ms")
    down1_ms = Reg("ms")
    cool_ms = Reg("ms")
    up2_ms = Reg("ms")
    weld2_ms = Reg("ms")
    down2_ms = Reg("ms")
    hold_ms = Reg("ms")
    weld1_current_a = Reg("A")
    weld2_current_a = Reg("A")
    weld1_voltage_v = Reg("V")
    weld2_voltage_v = Reg("V")
    weld1_power_w = Reg("W")
    weld2_power_w = Reg("W")
