"""What a register write does at the simulated station: a setting stored, a command carried out
(arm, fire, stop, approach, retract, reset), or a refusal with its Modbus exception code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.config.loader import ConfigError
from drivers.wire.modbus import DEVICE_BUSY, DEVICE_FAILURE, ILLEGAL_VALUE
from drivers.wire.regmap import Register
from firmware_sim import kernel as K
from firmware_sim.devices import FAULT_NONE, Device, Heartbeat
from firmware_sim.model import pack_head, pack_supply

if TYPE_CHECKING:
    from firmware_sim.station import Station


def apply(st: Station, dev: Device, reg: Register, value: float, words: list[int]) -> int | None:
    """Carry out a checked write of one register; return None, or the Modbus exception code."""
    name = reg.name
    if name == "heartbeat":
        dev.heartbeat.beat(int(value), st.t)
        dev.image[reg.address] = words[0]
        return None
    if name == "stop":
        if dev is st.supply:
            st.weld.state[K.S_STOP_REQ] = 1.0
        return None
    safety = name == "disarm" or (dev is st.head and name in ("retract", "home"))
    if st.welding and not safety:
        return DEVICE_BUSY  # nothing but STOP and the safe-state commands while welding
    if name == "watchdog_ms":
        dev.heartbeat.timeout_s = value / 1e3
    elif dev is st.supply:
        return _supply_command(st, name, value)
    else:
        return _head_command(st, name, value)
    dev.image[reg.address : reg.address + reg.words] = words
    return None


def _supply_command(st: Station, name: str, value: float) -> int | None:
    s, p = st.weld.state, st.weld.params
    if name in ("arm", "fire") and (st.estop or st.guard_open):
        return DEVICE_FAILURE  # the interlock input holds the supply off
    if name == "arm":
        if st._supply_fault() != FAULT_NONE:
            return DEVICE_FAILURE
        try:
            sched = st._settings_schedule()
        except ConfigError:
            return ILLEGAL_VALUE
        pack_supply(p, sched.supply)
        K.derive(p)
        st.armed = True
        st.weld_done = False
    elif name == "fire":
        if st._supply_fault() != FAULT_NONE:
            return DEVICE_FAILURE
        if not st.armed or not st._at_force():
            return DEVICE_BUSY
        K.fire(p, s)
        st.armed = False
        st.weld_count += 1
        if st.wear:
            st.welds_since_dressing += 1
        st.truth.fire_times_s.append(st.t)
    elif name == "disarm":
        st.armed = False
    elif name == "reset":
        st.supply.fault = FAULT_NONE
        st.supply.heartbeat = Heartbeat(st.supply.heartbeat.timeout_s)
        st.armed = False
    else:
        st.supply.set(name, value)
        st.armed = False  # new settings take effect at the next ARM
    return None


def _head_command(st: Station, name: str, value: float) -> int | None:
    s = st.weld.state
    fault = st.head.fault or st.injected_head_fault
    if name == "approach":
        if fault != FAULT_NONE:
            return DEVICE_FAILURE
        if not st.homed:
            return DEVICE_BUSY
        try:
            sched = st._settings_schedule()
        except ConfigError:
            return ILLEGAL_VALUE
        # a new part is under the electrode for every cycle
        st.weld = st._new_weld(sched)
        st.armed = False
        st.weld_done = False
        st.homed = False
        st.weld.state[K.S_HEAD_MODE] = K.HEAD_APPROACH
    elif name in ("retract", "home"):
        s[K.S_HEAD_MODE] = K.HEAD_RETRACT
    elif name == "reset":
        st.head.fault = FAULT_NONE
        st.head.heartbeat = Heartbeat(st.head.heartbeat.timeout_s)
    else:
        st.head.set(name, value)
        if not st.homed:
            pack_head(st.weld.params, st._settings_schedule().head, st.weld.part.force_factor)
            K.derive(st.weld.params)
    return None
