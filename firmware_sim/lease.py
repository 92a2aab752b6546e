"""A device's lease: which master owns it, and which writes that lets through.

A master is a connection as the station's ports see it (each Modbus TCP connection its own,
the RTU line one). The owner writes a token of its choosing into the `lease` register to take
the lease, and again to renew it or to move it to a new connection of its own (only it knows
the token); 0 gives it up. While the lease is held, another master's writes are refused,
except the safe commands: anyone may make a station safer. Reads stay open to all. The lease
lapses when its holder has written nothing for the device's watchdog time (the heartbeat is a
write), or when the holder's connection closes.
"""

from __future__ import annotations

from dataclasses import dataclass

SAFE_COMMANDS = frozenset({"stop", "disarm", "retract", "home"})

# lease_state, as each master reads it
FREE, YOURS, ANOTHERS = 0, 1, 2


@dataclass
class Lease:
    """The lease of one device."""

    token: int = 0  # 0: not held
    holder: int | None = None  # the master holding it
    renewed_t: float = 0.0  # the station's time of the holder's last write

    def held(self, t: float, lapse_s: float) -> bool:
        """Return True if a master holds the lease at station time t."""
        return self.token != 0 and t - self.renewed_t <= lapse_s

    def state(self, master: int, t: float, lapse_s: float) -> int:
        """Return lease_state as `master` reads it."""
        if not self.held(t, lapse_s):
            return FREE
        return YOURS if master == self.holder else ANOTHERS

    def take(self, master: int, token: int, t: float, lapse_s: float) -> bool:
        """Carry out a write of `token` into the lease register; False if it is refused (held
        by another master, under another token)."""
        mine = master == self.holder or token == self.token != 0
        if self.held(t, lapse_s) and not mine:
            return False
        if token == 0:
            self.token, self.holder = 0, None
        else:
            self.token, self.holder, self.renewed_t = token, master, t
        return True

    def allows(self, master: int, register: str, t: float, lapse_s: float) -> bool:
        """Return True if `master` may write `register` now (the lease register itself:
        `take` decides)."""
        if not self.held(t, lapse_s) or master == self.holder:
            return True
        return register in SAFE_COMMANDS or register == "lease"

    def wrote(self, master: int, t: float) -> None:
        """Note an accepted write: the holder's renews the lease."""
        if master == self.holder:
            self.renewed_t = t

    def dropped(self, master: int) -> None:
        """Note that a master's connection closed: its lease ends with it."""
        if master == self.holder:
            self.token, self.holder = 0, None
