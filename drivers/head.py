"""Driver of the servo force head."""

from __future__ import annotations

from drivers.device import Reg, RegisterDevice


class ServoForceHead(RegisterDevice):
    """Servo force head (register map configs/devices/servo_head.toml)."""

    MAP = "servo_head"
    fault_code = Reg("fault code (0 none)")
    watchdog_ms = Reg("heartbeat watchdog, ms")
    force_setpoint_n = Reg("firing force, N")
    approach_speed_mm_s = Reg("fast approach, mm/s")
    search_speed_mm_s = Reg("soft-touch search, mm/s")
    force_ramp_n_per_ms = Reg("force ramp, N/ms")
    fire_at_force_pct = Reg("fire before full force, % of the setpoint")
    position_um = Reg("electrode tip height, µm")
    force_n = Reg("measured force, N")
    contact = Reg("1 while touching the part")
    at_force = Reg("1 once at (firing) force")
    contact_position_um = Reg("tip height at contact, µm (set-down reference)")

    def approach(self) -> None:
        """Approach, search for contact, ramp to the firing force and hold it."""
        self.command("approach")

    def retract(self) -> None:
        """Leave the part and go back to the start height."""
        self.command("retract")

    def home(self) -> None:
        """Go to the start height."""
        self.command("home")

    def reset(self) -> None:
        """Clear a fault."""
        self.command("reset")
