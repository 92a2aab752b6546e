"""Schedules: validation with file, field and reason; overrides; JSON schemas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.config.loader import ConfigError
from drivers.config.schedule import Schedule, load_schedule
from tests.helpers.paths import DIRECT, SCHEDULES, TC_CD, TC_INV


@pytest.mark.parametrize("path", sorted(SCHEDULES.glob("*.toml")))
def test_every_shipped_schedule_loads(path: Path) -> None:
    sch = load_schedule(path)
    assert sch.name == path.stem


def test_the_required_schedules_are_shipped() -> None:
    inv, cd, direct = (load_schedule(p) for p in (TC_INV, TC_CD, DIRECT))
    for tc in (inv, cd):
        assert tc.process.kind == "thermocompression"
        assert (tc.process.wire, tc.process.wire_diameter_mm) == ("Cu", 0.1)
        assert tc.process.enamel == "polyurethane"
        assert (tc.process.terminal, tc.process.terminal_thickness_mm) == ("phosphor_bronze", 0.2)
    assert inv.supply.kind == "inverter" and cd.supply.kind == "cd"
    assert direct.process.kind == "direct"
    assert (direct.process.wire, direct.process.wire_diameter_mm) == ("Ni", 0.4)


def _bad(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_schedule(path)
    assert str(path) in str(info.value)
    return info.value


def test_unknown_field_is_refused_with_file_field_reason(tmp_path: Path) -> None:
    text = TC_INV.read_text().replace("force_n = 12.0", "force_n = 12.0\nforse_n = 3")
    err = _bad(tmp_path, text)
    assert ("head.forse_n", "unknown field (not allowed here; check the spelling)") in err.problems


def test_out_of_range_value_is_refused_not_clipped(tmp_path: Path) -> None:
    err = _bad(tmp_path, TC_INV.read_text().replace("force_n = 12.0", "force_n = -1.0"))
    field, reason = err.problems[0]
    assert field == "head.force_n" and "greater than 0" in reason and "-1.0" in reason


def test_setpoint_off_the_supply_step_is_refused(tmp_path: Path) -> None:
    err = _bad(
        tmp_path, TC_INV.read_text().replace("weld1_voltage_v = 2.1", "weld1_voltage_v = 2.1005")
    )
    assert err.problems[0][0] == "supply.weld1_voltage_v"
    assert "not a multiple of its step 0.001 V" in err.problems[0][1]
    err = _bad(tmp_path, TC_INV.read_text().replace("weld1_ms = 24.0", "weld1_ms = 24.003"))
    assert any("weld1_ms" in r and "0.01" in r for _, r in err.problems)


@pytest.mark.parametrize(
    ("path", "override", "field", "why"),
    [
        (TC_INV, "supply.hold_ms=655.36", "supply.hold_ms", "is above 655.35"),
        (TC_INV, "supply.weld1_voltage_v=60.0", "supply.weld1_voltage_v", "is above 50.0"),
        (TC_CD, "supply.charge_voltage_v=600.0", "supply.charge_voltage_v", "is above 500.0"),
        (TC_CD, "supply.squeeze_ms=501.0", "supply.squeeze_ms", "is above 500.0"),
        (TC_INV, "head.force_n=12.345", "head.force_n", "not a multiple of its step 0.01"),
        (TC_INV, "head.fire_at_force_pct=95.5", "head.fire_at_force_pct", "multiple of its step 1"),
    ],
)
def test_a_value_the_device_register_cannot_hold_is_refused_at_its_field(
    path: Path, override: str, field: str, why: str
) -> None:
    # within the schedule's own bounds, but not what the device's register map holds: refused
    # at load (and in the editor), not when a session programs the device
    with pytest.raises(ConfigError) as info:
        load_schedule(path, [override])
    ((at, reason),) = info.value.problems
    assert at == field and "register cannot hold it" in reason and why in reason, reason
    # the register's own limit is accepted (50 V by a supply that can give it)
    edge = {"655.36": "655.35", "60.0": "50.0", "600.0": "500.0", "501.0": "500.0"}
    strong = (
        ["supply.bus_voltage_v=1000", "supply.turns_ratio=1"]
        if "weld1_voltage_v" in override
        else []
    )
    key, _, value = override.partition("=")
    if value in edge:
        limit = load_schedule(path, [f"{key}={edge[value]}", *strong])
        assert getattr(limit.supply, key.split(".")[1]) == float(edge[value])


def test_setpoint_of_the_wrong_mode_is_refused(tmp_path: Path) -> None:
    text = TC_INV.read_text().replace("weld1_voltage_v = 2.1", "weld1_current_a = 400")
    err = _bad(tmp_path, text)
    assert any("weld1_current_a is set but mode is 'voltage'" in r for _, r in err.problems)


def test_bad_toml_and_missing_file_are_refused(tmp_path: Path) -> None:
    err = _bad(tmp_path, "name = ")
    assert err.problems[0][0] == "(syntax)"
    with pytest.raises(ConfigError, match="cannot read"):
        load_schedule(tmp_path / "nope.toml")


def test_overrides_reach_nested_model_values_and_are_validated() -> None:
    sch = load_schedule(TC_INV, ["process.tip.mass_mg=20", "process.model.bond_strength_mpa=30"])
    assert sch.process.tip.mass_mg == 20.0 and sch.process.model.bond_strength_mpa == 30.0
    with pytest.raises(ConfigError) as info:
        load_schedule(TC_INV, ["process.tip.mass_mg=-3"])
    assert info.value.problems[0][0] == "process.tip.mass_mg"
    with pytest.raises(ConfigError, match=r"expected dotted\.key=value"):
        load_schedule(TC_INV, ["head.force_n"])


def test_schema_command_writes_json_schemas(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    cmd = [sys.executable, "-m", "controller.cli", "schema", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    schedule = json.loads((out / "schedule.schema.json").read_text())
    materials = json.loads((out / "materials.schema.json").read_text())
    assert schedule["title"] == "Schedule" and "supply" in schedule["properties"]
    assert "wires" in materials["properties"]
    assert Schedule.model_json_schema()["additionalProperties"] is False


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("process.wire=copper", "process.wire"),
        ("process.electrode=Unobtainium", "process.electrode"),
        ("process.terminal=brass", "process.terminal"),
        ("process.coating=gold", "process.coating"),
    ],
)
def test_a_material_the_materials_file_lacks_is_refused_naming_the_field(
    override: str, field: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_schedule(TC_INV, [override])
    ((where, why),) = info.value.problems
    assert where == field and "in the materials file:" in why, why
    assert str(TC_INV) == info.value.source


def test_simulate_says_so_in_one_line_not_a_key_error() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "simulate",
            str(TC_INV),
            "--set",
            "process.wire=Gold",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "KeyError" not in out.stderr, out.stderr
    assert "process.wire: no wires material 'Gold'" in out.stderr


def test_a_voltage_the_inverter_cannot_give_is_refused_naming_what_it_can() -> None:
    # 48 V bus over 12 turns at 95 % duty: 3.8 V open circuit at most (it saturated at 3.67 V)
    load_schedule(TC_INV, ["supply.weld1_voltage_v=3.7"])
    with pytest.raises(ConfigError) as info:
        load_schedule(TC_INV, ["supply.weld1_voltage_v=9"])
    ((field, why),) = info.value.problems
    assert field == "supply.weld1_voltage_v" and "3.8 V at most" in why, why
