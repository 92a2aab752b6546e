"""The station's device logic without any I/O."""

from __future__ import annotations

import pytest

from drivers.config.schedule import load_schedule
from drivers.wire.modbus import DEVICE_BUSY
from firmware_sim.devices import HEAD_UNIT, SUPPLY_UNIT
from firmware_sim.station import Station
from tests.helpers.paths import TC_INV


def _write(st: Station, unit: int, name: str, value: float) -> int | None:
    reg = st.devices[unit].regmap[name]
    return st.write(unit, reg.address, reg.encode(value))


def _read(st: Station, unit: int, name: str) -> float:
    reg = st.devices[unit].regmap[name]
    words = st.read(unit, reg.address, reg.words)
    assert isinstance(words, list)
    return reg.decode(words)


def _weld_bytes(batch: int) -> bytes:
    st = Station(load_schedule(TC_INV), seed=4)
    out: list[bytes] = []
    assert _write(st, HEAD_UNIT, "approach", 1) is None
    while not _read(st, HEAD_UNIT, "at_force"):
        out += st.advance(1)
    assert _write(st, SUPPLY_UNIT, "arm", 1) is None
    assert _write(st, SUPPLY_UNIT, "fire", 1) is None
    for _ in range(120 // batch):
        out += st.advance(batch)
    return b"".join(out)


def test_batched_blocks_give_the_same_bytes_as_single_blocks() -> None:
    one = _weld_bytes(1)
    assert one == _weld_bytes(8) == _weld_bytes(40)
    assert b"MW\x01\x01" in one  # the weld's summary frame is in there, at the same place


def test_nothing_but_stop_is_accepted_while_welding() -> None:
    st = Station(load_schedule(TC_INV))
    _write(st, HEAD_UNIT, "approach", 1)
    while not _read(st, HEAD_UNIT, "at_force"):
        st.advance(1)
    _write(st, SUPPLY_UNIT, "arm", 1)
    _write(st, SUPPLY_UNIT, "fire", 1)
    st.advance(5)
    assert st.welding
    assert _write(st, SUPPLY_UNIT, "weld1_voltage_v", 2.0) == DEVICE_BUSY
    assert _write(st, SUPPLY_UNIT, "arm", 1) == DEVICE_BUSY
    assert _write(st, HEAD_UNIT, "force_setpoint_n", 10.0) == DEVICE_BUSY
    assert _write(st, SUPPLY_UNIT, "stop", 1) is None
    st.advance(1)
    assert not st.welding  # the inverter stopped within the block


def test_the_simulated_tip_wears_with_every_weld_and_a_dressing_renews_it() -> None:
    from drivers.config.materials import load_materials
    from firmware_sim import kernel as K
    from firmware_sim.model import at_ambient
    from firmware_sim.panel import ControlPanel
    from firmware_sim.station import Station

    sched = load_schedule(TC_INV)
    tip = sched.process.tip
    st = Station(sched, wear=True)
    # the tip's resistance is stated at 20 °C, the kernel's at the ambient (materials.toml)
    mo = load_materials().get("electrodes", sched.process.electrode)
    at_t0 = at_ambient(mo.temp_coeff_per_k, st.weld.params[K.P_T0_C])
    assert st.weld.params[K.P_TIP_R0_OHM] == pytest.approx(tip.cold_resistance_mohm * 1e-3 * at_t0)
    st.welds_since_dressing = 1000  # as after 1000 welds fired since the last dressing
    part = st._new_weld(sched)  # the next part under the electrode
    worn_mohm = tip.cold_resistance_mohm + 1000 * tip.wear_mohm_per_weld
    assert part.params[K.P_TIP_R0_OHM] == pytest.approx(worn_mohm * 1e-3 * at_t0)
    reply = ControlPanel(st, []).apply({"op": "dress"})
    assert reply["ok"] and reply["welds_since_dressing"] == 0
    fresh = st._new_weld(sched)
    assert fresh.params[K.P_TIP_R0_OHM] == pytest.approx(tip.cold_resistance_mohm * 1e-3 * at_t0)
