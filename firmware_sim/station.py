"""The simulated station's devices: a supply and a force head, their registers, and the weld.

Pure logic, no I/O: register reads and writes come in as words, time advances in blocks of
samples, and stream frames come out as bytes. `firmware_sim.serve` puts it behind Modbus TCP,
Modbus RTU and the waveform stream. The controller sees only what a real station would show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drivers.config.loader import parse_model
from drivers.config.materials import Materials, load_materials
from drivers.config.schedule import (
    CD_REGISTERS,
    HEAD_REGISTERS,
    MODES,
    SEGMENTS,
    SETPOINT_UNITS,
    TAPS,
    Schedule,
    apply_overrides,
)
from drivers.config.variation import Variation, load_variation
from drivers.wire import frames
from drivers.wire.frames import SAMPLE_RATE_HZ
from drivers.wire.modbus import DEVICE_BUSY, ILLEGAL_ADDRESS, ILLEGAL_VALUE
from drivers.wire.regmap import Register, RegisterValueError, load_register_map
from firmware_sim import commands
from firmware_sim import kernel as K
from firmware_sim.devices import (
    FAULT_HEARTBEAT,
    FAULT_NONE,
    FAULT_NOT_CHARGED,
    FAULT_OVER_TEMPERATURE,
    FAULT_SERVO,
    HEAD_UNIT,
    SUPPLY_UNIT,
    Device,
)
from firmware_sim.faults import Faults
from firmware_sim.model import Weld
from firmware_sim.population import next_weld
from firmware_sim.run import Adc, judge, measure


@dataclass
class Truth:
    """What really happened at the bench (for tests of the controller; never on the wire)."""

    fire_times_s: list[float] = field(default_factory=list)  # station time of each FIRE
    last_current_s: float = -1.0  # the last instant any current above 1 A flowed
    watchdog_trips_s: list[tuple[int, float]] = field(default_factory=list)  # (unit, time)


class Station:
    """A weld supply and a servo force head on one simulated bench, driven block by block."""

    def __init__(
        self,
        schedule: Schedule,
        seed: int = 0,
        materials: Materials | None = None,
        faults: Faults | None = None,
        wear: bool = False,
        variation: Variation | None = None,
    ) -> None:
        self.schedule = schedule
        self.seed = seed
        self.materials = materials or load_materials()
        kind = "cd_supply" if schedule.supply.kind == "cd" else "inverter_supply"
        self.supply = Device(SUPPLY_UNIT, load_register_map(kind))
        self.head = Device(HEAD_UNIT, load_register_map("servo_head"))
        self.devices = {SUPPLY_UNIT: self.supply, HEAD_UNIT: self.head}
        self.weld_index = 0
        # wear=True: the tip wears with every weld fired and is new again after a dressing (see
        # dress), starting from the schedule's wear state (the default station, sim.toml, has
        # it on; off here, for tests that want one tip state)
        self.wear = wear
        self.welds_since_dressing = schedule.noise.welds_since_dressing
        # every part drawn from the variation file; the tip's heat carried from part to part
        self.variation = variation or load_variation(materials=self.materials)
        self.weld: Weld = self._new_weld(schedule)
        self.weld_count = 0
        self.armed = False
        self.weld_done = False
        self.homed = True
        self.sample = 0
        self.seq = 0
        # read live: the station's control port may change them while it runs
        self.faults = faults or Faults()
        # the bench's safety inputs, wired to the supply's interlock input as on a real bench
        self.estop = False
        self.guard_open = False
        self.truth = Truth()
        self.safe_since: float | None = 0.0  # station time since which it is in a safe state
        self._load_settings()

    @property
    def injected_supply_fault(self) -> int:
        """Return the supply fault code injected by the fault settings (0: none)."""
        return {
            "none": FAULT_NONE,
            "not_charged": FAULT_NOT_CHARGED,
            "over_temperature": FAULT_OVER_TEMPERATURE,
        }[self.faults.supply]

    @property
    def injected_head_fault(self) -> int:
        """Return the head fault code injected by the fault settings (0: none)."""
        return FAULT_SERVO if self.faults.head == "servo" else FAULT_NONE

    def set_inputs(self, estop: bool | None = None, guard_open: bool | None = None) -> None:
        """Press or release the e-stop, open or close the guard (the bench's hard-wired inputs).

        The e-stop chain acts in hardware: current stopped, supply disarmed, head retracted,
        whatever the controller does. An open guard stops the current and refuses ARM and FIRE.
        """
        if estop is not None:
            self.estop = estop
        if guard_open is not None:
            self.guard_open = guard_open
        if self.estop:
            self.safe_state()
        elif self.guard_open:
            self._supply_safe()

    def truth_now(self) -> dict[str, object]:
        """Return the bench's real state now: time, fires, current, supply and head."""
        heard = [d for d in self.devices.values() if d.heartbeat.last_value is not None]
        return {
            "t_s": self.t,
            "weld_count": self.weld_count,
            "welds_since_dressing": self.welds_since_dressing,
            "fire_times_s": list(self.truth.fire_times_s),
            "watchdog_trips_s": [list(trip) for trip in self.truth.watchdog_trips_s],
            # the safe state: supply neither armed nor welding, head home or on its way there
            "safe_since_s": self.safe_since,
            "last_heartbeat_s": max((d.heartbeat.last_t for d in heard), default=None),
            "last_current_s": self.truth.last_current_s,
            "armed": self.armed,
            "welding": self.welding,
            "homed": self.homed,
            "retracting": int(self.weld.state[K.S_HEAD_MODE]) == K.HEAD_RETRACT,
            "supply_fault": self._supply_fault(),
            "head_fault": self.head.fault or self.injected_head_fault,
            "estop": self.estop,
            "guard_open": self.guard_open,
        }

    def outcome(self) -> dict[str, object] | None:
        """Return the ground truth of the last weld fired (joint strength, defect, set-down),
        or None before any: for process maps and tests, never on the wire."""
        if self.weld_count == 0:
            return None
        o = judge(self.weld, np.zeros((0, K.N_OUT)))
        keep = ("jbf_n", "jbf_pct_of_wire", "defect", "setdown_um", "setdown_pct")
        temps = ("peak_interface_temp_c", "peak_wire_temp_c", "peak_electrode_temp_c")
        more = (*temps, "peak_tip_temp_c", "enamel_removed_fraction", "energy_j")
        return {k: getattr(o, k) for k in keep + more}

    def faults_changed(self) -> None:
        """React to fault settings changed while running: a faulted supply cuts its current."""
        if self.injected_supply_fault != FAULT_NONE:
            self._supply_safe()

    def _supply_safe(self) -> None:
        self.armed = False
        if self.weld.state[K.S_SUPPLY_STATE] == K.SS_RUNNING:
            self.weld.state[K.S_STOP_REQ] = 1.0

    # --- settings ------------------------------------------------------------------------------

    def _load_settings(self) -> None:
        sup, hd = self.schedule.supply, self.schedule.head
        s = self.supply
        s.set("watchdog_ms", s.heartbeat.timeout_s * 1e3)
        self.head.set("watchdog_ms", self.head.heartbeat.timeout_s * 1e3)
        if sup.kind == "cd":
            s.set("capacitance_uf", sup.capacitance_uf)
            s.set("pulse_tap", TAPS.index(sup.pulse_tap))
            for name in CD_REGISTERS:
                s.set(name, getattr(sup, name))
        else:
            s.set("mode", MODES.index(sup.mode))
            for seg in SEGMENTS:
                s.set(f"{seg}_ms", getattr(sup, f"{seg}_ms"))
            unit = SETPOINT_UNITS[sup.mode]
            s.set(f"weld1_{unit}", sup.setpoint(1))
            s.set(f"weld2_{unit}", sup.setpoint(2))
        for reg_name, field_name in HEAD_REGISTERS.items():
            self.head.set(reg_name, getattr(hd, field_name))

    def _settings_schedule(self) -> Schedule:
        """Return the schedule with the supply and head settings now held in the registers."""
        s = self.supply
        sets: list[str] = []
        if self.schedule.supply.kind == "cd":
            sets.append(f"supply.pulse_tap={TAPS[int(s.get('pulse_tap'))]}")
            sets += [f"supply.{n}={s.get(n)}" for n in CD_REGISTERS]
        else:
            mode = MODES[int(s.get("mode"))]
            unit = SETPOINT_UNITS[mode]
            sets.append(f"supply.mode={mode}")
            sets += [f"supply.{seg}_ms={s.get(f'{seg}_ms')}" for seg in SEGMENTS]
            for k in (1, 2):
                for u in SETPOINT_UNITS.values():
                    sets.append(f"~supply.weld{k}_{u}")
                if k == 1 or s.get("weld2_ms") > 0:
                    sets.append(f"supply.weld{k}_{unit}={s.get(f'weld{k}_{unit}')}")
        sets += [f"head.{f}={self.head.get(r)}" for r, f in HEAD_REGISTERS.items()]
        data = self.schedule.model_dump(mode="json", exclude_none=True)
        removable = [x for x in sets if not x.startswith("~") or self._has(data, x[1:])]
        return parse_model(Schedule, apply_overrides(data, removable, "registers"), "registers")

    @staticmethod
    def _has(data: dict[str, object], dotted: str) -> bool:
        node: object = data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def dress(self) -> None:
        """Dress the electrode: the tip is unworn again from the next part on."""
        self.welds_since_dressing = 0

    def _new_weld(self, schedule: Schedule) -> Weld:
        # Each weld a new part from the station seed and the weld index; the tip's wear (if
        # on) and heat carried over from the welds before it
        worn = self.welds_since_dressing if self.wear else None
        last: Weld | None = getattr(self, "weld", None)  # (none before the first part)
        weld = next_weld(
            schedule, self.seed, self.weld_index, self.materials, self.variation, last, worn
        )
        self.weld_index += 1
        self.adc = Adc.of(weld)
        return weld

    # --- time ----------------------------------------------------------------------------------

    @property
    def t(self) -> float:
        """Return the station's virtual time (s)."""
        return self.sample / SAMPLE_RATE_HZ

    def advance(self, blocks: int = 1, block: int = 50) -> list[bytes]:
        """Advance `blocks` blocks of `block` samples; return the stream frames they produced.

        Noise and framing are done for all blocks at once (the same bytes as block by block);
        the weld's end is looked for after every block so its summary lands where it happened.
        """
        p, s = self.weld.params, self.weld.state
        clean = np.zeros((blocks * block, K.N_OUT))
        ends: dict[int, frames.Summary] = {}
        supplied = False
        for k in range(blocks):
            was_running = s[K.S_SUPPLY_STATE] == K.SS_RUNNING
            K.advance(p, s, clean[k * block : (k + 1) * block], block)
            self.sample += block
            self._clamp_home()
            running = s[K.S_SUPPLY_STATE] == K.SS_RUNNING
            supplied |= was_running or running
            if was_running and s[K.S_SUPPLY_STATE] == K.SS_DONE:
                ends[k] = self._summary()
            self._watch()
        # current flows only while the supply runs: most batches need no look for it
        on = np.flatnonzero(np.abs(clean[:, K.OUT_CURRENT]) > 1.0) if supplied else np.empty(0)
        if on.size:
            first = self.sample - blocks * block
            self.truth.last_current_s = (first + int(on[-1]) + 1) / SAMPLE_RATE_HZ
        measured = measure(self.weld, clean, self.adc)
        out: list[bytes] = []
        first = self.sample - blocks * block
        for k in range(blocks):
            rows = measured[k * block : (k + 1) * block]
            out.append(frames.encode_samples(self.seq, first + k * block, rows, self.adc.scales))
            self.seq += 1
            if k in ends:
                out.append(frames.encode_summary(self.seq, first + (k + 1) * block, ends[k]))
                self.seq += 1
        return out

    def _clamp_home(self) -> None:
        p, s = self.weld.params, self.weld.state
        home = p[K.P_PART_TOP_M] + p[K.P_HEAD_START_GAP_M]
        if int(s[K.S_HEAD_MODE]) == K.HEAD_RETRACT and s[K.S_MOTOR_M] >= home:
            s[K.S_MOTOR_M] = home
            s[K.S_HEAD_MODE] = K.HEAD_IDLE
            s[K.S_PHASE] = K.PH_IDLE
            s[K.S_CONTACT] = 0.0
            self.homed = True

    def _summary(self) -> frames.Summary:
        s = self.weld.state
        energy = s[K.S_E_ELEC] + s[K.S_R_LOAD] * s[K.S_I2_ACC]
        t_on = s[K.S_T_I_START]
        weld_ms = (s[K.S_T_I_END] - t_on) * 1e3 if t_on >= 0 else 0.0
        self.supply.set("last_peak_current_a", s[K.S_I_PEAK])
        self.supply.set("last_energy_j", energy)
        self.supply.set("last_weld_time_ms", weld_ms)
        self.weld_done = True
        return frames.Summary(
            self.weld_count,
            self._supply_status(),
            float(s[K.S_I_PEAK]),
            float(energy),
            float(weld_ms),
            int(self.sample),
        )

    def _active(self, dev: Device) -> bool:
        """Return True if the device is doing something that silence must stop."""
        if dev is self.supply:
            return self.armed or self.welding
        return not self.homed or int(self.weld.state[K.S_HEAD_MODE]) != K.HEAD_IDLE

    def _watch(self) -> None:
        # A device whose heartbeat stops while it is active (an armed or welding supply, a head
        # away from home) goes to its safe state on its own. At rest silence is harmless: a
        # controller between welds, or closed, must not leave a latched fault behind (a fresh
        # heartbeat comes before any arm or approach; arming without one trips at once).
        for dev in self.devices.values():
            if dev.fault == FAULT_NONE and dev.heartbeat.expired(self.t) and self._active(dev):
                dev.fault = FAULT_HEARTBEAT
                self.truth.watchdog_trips_s.append((dev.unit, self.t))
                self.safe_state()
        mode = int(self.weld.state[K.S_HEAD_MODE])
        safe = not (self.armed or self.welding) and (self.homed or mode == K.HEAD_RETRACT)
        if not safe:
            self.safe_since = None
        elif self.safe_since is None:
            self.safe_since = self.t

    def safe_state(self) -> None:
        """Disarm, stop any current and retract the head."""
        s = self.weld.state
        self._supply_safe()
        if int(s[K.S_HEAD_MODE]) != K.HEAD_IDLE or not self.homed:
            s[K.S_HEAD_MODE] = K.HEAD_RETRACT

    # --- status --------------------------------------------------------------------------------

    @property
    def welding(self) -> bool:
        """Return True while the supply's pulse sequence runs."""
        return bool(self.weld.state[K.S_SUPPLY_STATE] == K.SS_RUNNING)

    def _supply_fault(self) -> int:
        return self.supply.fault or self.injected_supply_fault

    def _supply_status(self) -> int:
        bits = self.supply.regmap.status_bits
        fault = self._supply_fault()
        hb_ok = not self.supply.heartbeat.expired(self.t)
        flags = {
            "ready": fault == FAULT_NONE
            and hb_ok
            and not self.welding
            and not (self.estop or self.guard_open),
            "charged": self.injected_supply_fault != FAULT_NOT_CHARGED and not self.welding,
            "armed": self.armed,
            "welding": self.welding,
            "fault": fault != FAULT_NONE,
            "weld_done": self.weld_done,
            "heartbeat_ok": hb_ok,
            "estop": self.estop,
            "guard_open": self.guard_open,
        }
        return sum(1 << bits[k] for k, v in flags.items() if v and k in bits)

    def _head_status(self) -> int:
        s = self.weld.state
        bits = self.head.regmap.status_bits
        mode = int(s[K.S_HEAD_MODE])
        fault = self.head.fault or self.injected_head_fault
        flags = {
            "homed": self.homed,
            "contact": s[K.S_CONTACT] > 0.5,
            "at_force": self._at_force(),
            "moving": mode == K.HEAD_RETRACT or (mode == K.HEAD_APPROACH and s[K.S_AT_FORCE] < 0.5),
            "fault": fault != FAULT_NONE,
            "heartbeat_ok": not self.head.heartbeat.expired(self.t),
        }
        return sum(1 << bits[k] for k, v in flags.items() if v and k in bits)

    def _at_force(self) -> bool:
        s = self.weld.state
        # with fire-before-full-force the head reports "at force" at its firing fraction
        return int(s[K.S_HEAD_MODE]) == K.HEAD_APPROACH and s[K.S_T_AT_FORCE] >= 0.0

    def refresh(self, unit: int) -> None:
        """Bring the live (read-only) registers of one device up to date."""
        s, p = self.weld.state, self.weld.params
        sup, head = self.supply, self.head
        if unit == SUPPLY_UNIT:
            charged = self.injected_supply_fault != FAULT_NOT_CHARGED
            hot = self.injected_supply_fault == FAULT_OVER_TEMPERATURE
            live = {
                "status": self._supply_status(),
                "fault_code": self._supply_fault(),
                "weld_count": self.weld_count,
                "temperature_c": 85.0 if hot else 31.0,
            }
            if "charge_actual_v" in sup.regmap:
                live["charge_actual_v"] = sup.get("charge_voltage_v") if charged else 0.0
            self._show(sup, live)
        else:
            surface = p[K.P_PART_TOP_M] - s[K.S_SETDOWN_M]
            k = p[K.P_HEAD_K_N_M]
            at_force = self._at_force()
            self._show(
                head,
                {
                    "status": self._head_status(),
                    "fault_code": self.head.fault or self.injected_head_fault,
                    "position_um": max(s[K.S_MOTOR_M], surface) * 1e6,
                    "force_n": max(k * (surface - s[K.S_MOTOR_M]), 0.0),
                    "contact": 1 if s[K.S_CONTACT] > 0.5 else 0,
                    "at_force": 1 if at_force else 0,
                    "contact_position_um": s[K.S_CONTACT_M] * 1e6,
                },
            )

    @staticmethod
    def _show(dev: Device, live: dict[str, float]) -> None:
        # Encoding a register costs more than comparing its value, and most reads (a status
        # poll every block) find most values as they were: only the changed ones are encoded.
        # Nothing but refresh writes these read-only registers, so the memo cannot go stale.
        for name, value in live.items():
            if dev.shown.get(name) != value:
                dev.set(name, value)
                dev.shown[name] = value

    # --- Modbus access -------------------------------------------------------------------------

    def read(self, unit: int, address: int, count: int, master: int = 0) -> list[int] | int:
        """Return the words at address as `master` (a connection) reads them (or a Modbus
        exception code)."""
        dev = self.devices.get(unit)
        if dev is None or address + count > len(dev.image):
            return ILLEGAL_ADDRESS
        self.refresh(unit)
        if not self.faults.no_lease:
            at = dev.regmap["lease_state"].address
            dev.image[at] = dev.lease.state(master, self.t, dev.heartbeat.timeout_s)
        return dev.image[address : address + count]

    def dropped(self, master: int) -> None:
        """Note that a master's connection closed: the leases it held end."""
        for dev in self.devices.values():
            dev.lease.dropped(master)

    def write(self, unit: int, address: int, words: list[int], master: int = 0) -> int | None:
        """Apply `master`'s write of words at address; return None, or the Modbus exception
        code (6, busy, for a device another master holds: firmware_sim/lease.py)."""
        dev = self.devices.get(unit)
        if dev is None:
            return ILLEGAL_ADDRESS
        end = address + len(words)
        regs: list[Register] = []
        a = address
        while a < end:
            reg = dev.owner.get(a)
            # whole registers only, and only writable ones
            if reg is None or reg.address != a or a + reg.words > end or not reg.writable:
                return ILLEGAL_ADDRESS
            regs.append(reg)
            a += reg.words
        values = []
        lapse_s, leased = dev.heartbeat.timeout_s, not self.faults.no_lease
        for reg in regs:
            off = reg.address - address
            value = reg.decode(words[off : off + reg.words])
            try:
                reg.check(value)
            except RegisterValueError:
                return ILLEGAL_VALUE
            if reg.name == "lease" and not leased:
                return ILLEGAL_ADDRESS  # firmware without a lease has no such register
            if leased and not dev.lease.allows(master, reg.name, self.t, lapse_s):
                return DEVICE_BUSY  # nothing of it is carried out
            values.append((reg, value))
        for reg, value in values:
            if reg.name == "lease":
                if not dev.lease.take(master, int(value), self.t, lapse_s):
                    return DEVICE_BUSY
                continue
            off = reg.address - address
            code = commands.apply(self, dev, reg, value, words[off : off + reg.words])
            if code is not None:
                return code
            dev.lease.wrote(master, self.t)
        return None
