"""Device register maps: one declaration per register, strict encoding, refusal of bad maps."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.config.files import config_dir
from drivers.config.loader import ConfigError
from drivers.wire.regmap import RegisterValueError, load_register_map

SUPPLY_NAMES = {
    "status",
    "fault_code",
    "weld_count",
    "heartbeat",
    "arm",
    "fire",
    "stop",
    "reset",
    "last_peak_current_a",
    "last_energy_j",
    "last_weld_time_ms",
}
HEAD_NAMES = {
    "force_setpoint_n",
    "approach_speed_mm_s",
    "search_speed_mm_s",
    "position_um",
    "force_n",
    "contact",
    "at_force",
    "home",
}


@pytest.mark.parametrize("name", ["cd_supply", "inverter_supply", "servo_head"])
def test_shipped_maps_load(name: str) -> None:
    regmap = load_register_map(name)
    assert regmap.kind == name
    lo, hi = regmap.span()
    assert lo == 0 and hi < 100


def test_the_required_registers_are_declared() -> None:
    assert {r.name for r in load_register_map("cd_supply").registers} >= SUPPLY_NAMES
    assert {r.name for r in load_register_map("inverter_supply").registers} >= SUPPLY_NAMES
    assert {r.name for r in load_register_map("servo_head").registers} >= HEAD_NAMES
    inv = load_register_map("inverter_supply")
    for seg in ("squeeze", "up1", "weld1", "down1", "cool", "up2", "weld2", "down2", "hold"):
        assert inv[f"{seg}_ms"].scale == 0.01  # times in 0.01 ms steps
    assert inv["weld1_voltage_v"].scale == 0.001  # 1 mV steps
    assert inv["weld1_current_a"].scale == 1.0  # 1 A steps


def test_scaled_values_round_trip() -> None:
    head = load_register_map("servo_head")
    pos = head["position_um"]
    for value in (0.0, 412.3, -25.6, 214748364.7, -214748364.8):
        assert pos.decode(pos.encode(value)) == pytest.approx(value, abs=1e-6)
    assert pos.encode(-0.1) == [0xFFFF, 0xFFFF]  # i32, high word first
    count = load_register_map("cd_supply")["weld_count"]
    assert count.encode(70000) == [1, 4464]
    assert count.decode([1, 4464]) == 70000


def test_out_of_range_and_off_step_values_are_refused() -> None:
    cd = load_register_map("cd_supply")
    with pytest.raises(RegisterValueError, match=r"above 500\.0"):
        cd["charge_voltage_v"].encode(500.1)
    with pytest.raises(RegisterValueError, match=r"below 0\.0"):
        cd["charge_voltage_v"].encode(-1.0)
    with pytest.raises(RegisterValueError, match=r"not a multiple of its step 0\.1"):
        cd["charge_voltage_v"].encode(60.05)
    with pytest.raises(RegisterValueError, match="above 1"):
        cd["fire"].encode(2)
    assert cd["charge_voltage_v"].encode(60.1) == [601]


def test_status_flags_are_named() -> None:
    cd = load_register_map("cd_supply")
    flags = cd.status_flags(0b0100101)
    assert flags["ready"] and flags["armed"] and flags["weld_done"] and not flags["fault"]


def _write_map(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dev.toml"
    base = (config_dir() / "devices" / "servo_head.toml").read_text()
    path.write_text(base + text, encoding="utf-8")
    return path


def test_overlapping_registers_are_refused_with_file_and_reason(tmp_path: Path) -> None:
    path = _write_map(
        tmp_path, '\n[[registers]]\nname = "extra"\naddress = 21\ntype = "u16"\naccess = "r"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_register_map(path)
    assert str(path) in str(info.value)
    assert "extra overlaps position_um at address 21" in str(info.value)


def test_limits_that_do_not_fit_the_type_are_refused(tmp_path: Path) -> None:
    path = _write_map(
        tmp_path,
        '\n[[registers]]\nname = "extra"\naddress = 90\ntype = "u16"\n'
        'scale = 0.01\naccess = "rw"\nmax = 1000.0\n',
    )
    with pytest.raises(ConfigError) as info:
        load_register_map(path)
    assert info.value.problems[0][0].startswith("registers[")
    assert "does not fit a u16 scaled by 0.01" in info.value.problems[0][1]
