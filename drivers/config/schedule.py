"""Weld schedule files (configs/schedules/*.toml): supply, process, head, noise and model settings.

A schedule says what the supply and head are set to and what is being welded. The physical
constants of the simulated process (tip size, contact conductances, kinetics) sit in the same file
with defaults, so `--set` reaches every model parameter and a sweep is one file plus overrides.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from drivers.config.files import config_path
from drivers.config.loader import ConfigError, Strict, parse_model
from drivers.config.materials import Kind, material_problems
from drivers.config.simulated import Noise, ProcessModel, Sim, Tip
from drivers.wire.regmap import Register, RegisterValueError, load_register_map

Ms = Annotated[float, Field(ge=0.0, le=10_000.0)]

# What a session writes into the devices, named by schedule field (each the register of that
# name, the head's force excepted): one table for the controller's programming, the simulated
# station and the checks below against the register maps.
TAPS = ("short", "medium", "long")
CD_REGISTERS = ("charge_voltage_v", "first_pulse_pct", "interpulse_ms", "squeeze_ms", "hold_ms")
SEGMENTS = ("squeeze", "up1", "weld1", "down1", "cool", "up2", "weld2", "down2", "hold")
MODES = ("current", "voltage", "power")
SETPOINT_UNITS = {"current": "current_a", "voltage": "voltage_v", "power": "power_w"}
HEAD_REGISTERS = {  # register: schedule field
    "force_setpoint_n": "force_n",
    "approach_speed_mm_s": "approach_speed_mm_s",
    "search_speed_mm_s": "search_speed_mm_s",
    "force_ramp_n_per_ms": "force_ramp_n_per_ms",
    "fire_at_force_pct": "fire_at_force_pct",
}
_HEAD_REGISTER = {f: r for r, f in HEAD_REGISTERS.items()}


@cache
def _register(device: str, name: str) -> Register:
    return load_register_map(device)[name]


def _fits(device: str, register: str, value: float | None) -> float | None:
    # What a session writes into a device must fit its register: its range, and its step (a
    # value between two steps would be rounded by the device). Refused here, at the field,
    # when the file is loaded or edited, not when a session programs the device (a GUI session
    # process died of it with a bare traceback). The register maps hold the one true range.
    if value is not None:
        try:
            _register(device, register).check(value)
        except RegisterValueError as exc:
            raise ValueError(f"the {device} register cannot hold it: {exc}") from None
    return value


class CDSettings(Strict):
    """Capacitor-discharge supply with a pulse transformer; values referred as named."""

    kind: Literal["cd"] = "cd"
    capacitance_uf: float = Field(gt=0.0, le=100_000.0, description="bank capacitance, µF")
    charge_voltage_v: float = Field(
        gt=0.0, le=1000.0, description="charge voltage of the bank, V (energy ½CV² in Ws)"
    )
    turns_ratio: float = Field(gt=0.0, le=500.0, description="primary:secondary turns")
    inductance_uh: float = Field(
        gt=0.0, le=1000.0, description="leakage inductance referred to the secondary, µH"
    )
    resistance_mohm: float = Field(
        ge=0.0, le=1000.0, description="winding + cable resistance referred to the secondary, mΩ"
    )
    pulse_tap: Literal["short", "medium", "long"] = Field(
        "short", description="pulse-width tap: multiplies the inductance by 1, 4 or 16"
    )
    first_pulse_pct: float = Field(
        0.0, ge=0.0, le=30.0, description="dual pulse: share of the energy in pulse 1, %"
    )
    interpulse_ms: Ms = Field(0.0, description="dual pulse: delay from pulse 1 to pulse 2, ms")
    truncatable: bool = Field(False, description="a switch that can cut the pulse (SCR cannot)")
    squeeze_ms: Ms = Field(0.0, description="delay from FIRE to the pulse, ms")
    hold_ms: Ms = Field(10.0, description="force held after the pulse, ms")

    @field_validator(*CD_REGISTERS)
    @classmethod
    def _fits_register(cls, value: float, info: ValidationInfo) -> float | None:
        return _fits("cd_supply", str(info.field_name), value)

    @property
    def energy_ws(self) -> float:
        """Return the stored energy ½CV² (Ws)."""
        return 0.5 * self.capacitance_uf * 1e-6 * self.charge_voltage_v**2

    @model_validator(mode="after")
    def _dual_pulse(self) -> CDSettings:
        if self.first_pulse_pct > 0.0 and self.interpulse_ms <= 0.0:
            raise ValueError("first_pulse_pct > 0 needs interpulse_ms > 0 (the second pulse delay)")
        return self


MAX_DUTY = 0.95  # an inverter's largest PWM duty (its bridge's dead time takes the rest)


class InverterSettings(Strict):
    """High-frequency inverter supply with closed-loop feedback and Amada-style segments."""

    kind: Literal["inverter"] = "inverter"
    bus_voltage_v: float = Field(48.0, gt=0.0, le=1000.0, description="DC bus, V")
    pwm_khz: float = Field(20.0, ge=1.0, le=100.0, description="PWM frequency, kHz")
    turns_ratio: float = Field(10.0, gt=0.0, le=500.0, description="primary:secondary turns")
    inductance_uh: float = Field(
        0.5, gt=0.0, le=1000.0, description="output inductance referred to the secondary, µH"
    )
    resistance_mohm: float = Field(
        0.5, ge=0.0, le=1000.0, description="output resistance referred to the secondary, mΩ"
    )
    feedback_khz: float = Field(25.0, ge=1.0, le=100.0, description="feedback rate, kHz")
    # 2000 A is an estimate for a bench micro-inverter (48 V bus, 12:1): no rating of a real
    # supply was found to cite (Amada 990-371, the HF-2500A manual, gives its sampling, 40 µs,
    # and setpoint units, not the most current it delivers). Simulator-only, as bus_voltage_v
    # and turns_ratio: a supply's rating is its hardware, not a register a session writes.
    current_limit_a: float = Field(
        2000.0,
        gt=0.0,
        le=20_000.0,
        description="largest secondary current, A: the feedback caps the current there in "
        "every mode (the supply's rating)",
    )
    mode: Literal["current", "voltage", "power"] = Field(description="feedback quantity")
    squeeze_ms: Ms = 0.0
    up1_ms: Ms = 0.0
    weld1_ms: Ms = Field(gt=0.0, le=10_000.0)
    down1_ms: Ms = 0.0
    cool_ms: Ms = 0.0
    up2_ms: Ms = 0.0
    weld2_ms: Ms = 0.0
    down2_ms: Ms = 0.0
    hold_ms: Ms = 10.0
    weld1_current_a: float | None = Field(None, ge=0.0, le=20_000.0, description="A, step 1 A")
    weld2_current_a: float | None = Field(None, ge=0.0, le=20_000.0, description="A, step 1 A")
    weld1_voltage_v: float | None = Field(None, ge=0.0, le=100.0, description="V, step 1 mV")
    weld2_voltage_v: float | None = Field(None, ge=0.0, le=100.0, description="V, step 1 mV")
    weld1_power_w: float | None = Field(None, ge=0.0, le=100_000.0, description="W, step 1 W")
    weld2_power_w: float | None = Field(None, ge=0.0, le=100_000.0, description="W, step 1 W")

    @field_validator(
        *(f"{seg}_ms" for seg in SEGMENTS),
        *(f"weld{k}_{unit}" for k in (1, 2) for unit in SETPOINT_UNITS.values()),
    )
    @classmethod
    def _fits_register(cls, value: float | None, info: ValidationInfo) -> float | None:
        return _fits("inverter_supply", str(info.field_name), value)

    @model_validator(mode="after")
    def _setpoints(self) -> InverterSettings:
        for mode, suffix in SETPOINT_UNITS.items():
            for k in (1, 2):
                name = f"weld{k}_{suffix}"
                value = getattr(self, name)
                if value is None:
                    continue
                if mode != self.mode:
                    raise ValueError(f"{name} is set but mode is {self.mode!r}")
        unit = SETPOINT_UNITS[self.mode]
        if getattr(self, f"weld1_{unit}") is None:
            raise ValueError(f"mode {self.mode!r} needs weld1_{unit}")
        if self.weld2_ms > 0.0 and getattr(self, f"weld2_{unit}") is None:
            raise ValueError(f"weld2_ms > 0 needs weld2_{unit}")
        for k in (1, 2):
            amps = self.weld1_current_a if k == 1 else self.weld2_current_a
            if amps is not None and amps > self.current_limit_a:
                raise ValueError(
                    f"weld{k}_current_a {amps:g} A is above current_limit_a "
                    f"{self.current_limit_a:g} A: the supply holds the current at its limit"
                )
        if self.feedback_khz > self.pwm_khz * 2:
            raise ValueError("feedback_khz above twice pwm_khz has nothing new to measure")
        return self

    @field_validator("weld1_voltage_v", "weld2_voltage_v")
    @classmethod
    def _reachable(cls, value: float | None, info: ValidationInfo) -> float | None:
        # the most the secondary can give (at full duty, no load): a voltage setpoint above it
        # is never reached, the supply saturates and the weld is not the one asked for
        bus, turns = info.data.get("bus_voltage_v"), info.data.get("turns_ratio")
        if value is None or bus is None or turns is None:
            return value
        most_v = MAX_DUTY * bus / turns
        if value > most_v:
            raise ValueError(
                f"{value:g} V is more than this supply can give: {most_v:.3g} V at most "
                f"({MAX_DUTY:.0%} of bus_voltage_v {bus:g} V / turns_ratio {turns:g})"
            )
        return value

    def setpoint(self, k: int) -> float:
        """Return the weld-k setpoint in the mode's unit (A, V or W)."""
        value = getattr(self, f"weld{k}_{SETPOINT_UNITS[self.mode]}")
        return 0.0 if value is None else float(value)


class Process(Strict):
    """What is welded and how: thermocompression, direct, or a resistor (calibration bar)."""

    kind: Literal["thermocompression", "direct", "resistor"]
    load_mohm: float = Field(5.0, gt=0.0, le=10_000.0, description="resistor load, mΩ")
    wire: str = Field("Cu", description="wire material (materials.toml wires)")
    wire_diameter_mm: float = Field(0.1, ge=0.01, le=2.0, description="nominal diameter, mm")
    enamel: str | None = Field("polyurethane", description="enamel (materials.toml enamels)")
    enamel_grade: Literal[1, 2, 3] = Field(1, description="enamel thickness grade")
    terminal: str = Field("phosphor_bronze", description="terminal (materials.toml terminals)")
    terminal_thickness_mm: float = Field(0.2, gt=0.0, le=5.0, description="mm")
    coating: str | None = Field(None, description="terminal coating (materials.toml coatings)")
    electrode: str = Field("Mo", description="tip or electrode (materials.toml electrodes)")
    missing_wire: bool = Field(False, description="no wire under the electrode (a fault case)")
    tip: Tip = Field(default_factory=Tip)
    model: ProcessModel = Field(default_factory=ProcessModel)


class HeadSettings(Strict):
    """Servo force head: speeds, force, spring compliance and servo follow-up."""

    force_n: float = Field(gt=0.0, le=500.0, description="firing force, N")
    approach_speed_mm_s: float = Field(20.0, gt=0.0, le=500.0, description="fast approach, mm/s")
    search_speed_mm_s: float = Field(2.0, gt=0.0, le=50.0, description="soft-touch search, mm/s")
    start_gap_mm: float = Field(0.3, ge=0.0, le=50.0, description="start height above part, mm")
    search_gap_mm: float = Field(0.05, ge=0.0, le=10.0, description="search from this gap, mm")
    contact_threshold_n: float = Field(0.2, gt=0.0, le=50.0, description="contact detect, N")
    force_ramp_n_per_ms: float = Field(2.0, gt=0.0, le=1000.0, description="force ramp, N/ms")
    spring_rate_n_per_mm: float = Field(20.0, gt=0.0, le=100_000.0, description="N/mm")
    servo_time_constant_ms: float = Field(2.0, gt=0.0, le=1000.0, description="follow-up lag, ms")
    max_speed_mm_s: float = Field(500.0, gt=0.0, le=5000.0, description="motor speed limit, mm/s")
    retract_speed_mm_s: float = Field(50.0, gt=0.0, le=5000.0, description="mm/s")
    fire_at_force_pct: float = Field(
        100.0, ge=10.0, le=100.0, description="fire before full force (Fukumoto), % of force_n"
    )

    @field_validator(*HEAD_REGISTERS.values())
    @classmethod
    def _fits_register(cls, value: float, info: ValidationInfo) -> float | None:
        return _fits("servo_head", _HEAD_REGISTER[str(info.field_name)], value)

    @model_validator(mode="after")
    def _gaps(self) -> HeadSettings:
        if self.contact_threshold_n >= self.force_n:
            raise ValueError("contact_threshold_n must be below force_n")
        return self


class Schedule(Strict):
    """A weld schedule: the supply, the head, the process, and the simulator's view of them."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    supply: Annotated[CDSettings | InverterSettings, Field(discriminator="kind")]
    process: Process
    head: HeadSettings
    noise: Noise = Field(default_factory=Noise)
    sim: Sim = Field(default_factory=Sim)

    def digest(self) -> str:
        """Return a short SHA-256 of the schedule's canonical JSON (for the QA log)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _parse_value(text: str) -> Any:
    # --set values are TOML scalars: numbers, booleans, quoted or bare strings.
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str) -> dict[str, Any]:
    """Return a copy of data with each `dotted.key=value` (or `~dotted.key` removal) applied."""
    out = json.loads(json.dumps(data))
    for item in overrides:
        if item.startswith("~"):
            # `~dotted.key` removes a value, e.g. the old setpoint when switching feedback mode.
            *path, last = item[1:].split(".")
            node = out
            for part in path:
                node = node.get(part, {}) if isinstance(node, dict) else {}
            if not isinstance(node, dict) or last not in node:
                raise ConfigError(source, [(f"--set {item}", "no such key to remove")])
            del node[last]
            continue
        if "=" not in item:
            raise ConfigError(source, [(f"--set {item}", "expected dotted.key=value")])
        key, _, text = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ConfigError(source, [(f"--set {item}", "empty key")])
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(source, [(f"--set {key}", f"{part} is not a table")])
            node = child
        node[parts[-1]] = _parse_value(text.strip())
    return out


def load_schedule(name: str | Path, overrides: list[str] | None = None) -> Schedule:
    """Read a schedule (a file's path, or a name in the config folder's schedules/), apply
    `dotted.key=value` overrides, and validate it."""
    import tomllib

    path = config_path("schedules", name)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(source, [("(file)", f"cannot read: {exc.strerror or exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [("(syntax)", f"not valid TOML: {exc}")]) from None
    if overrides:
        data = apply_overrides(data, overrides, source)
    return parse_schedule(data, source)


def parse_schedule(data: dict[str, Any], source: str) -> Schedule:
    """Validate a schedule's data and its materials (in the materials file); raise ConfigError
    with every problem of both at once."""
    try:
        schedule: Schedule | None = parse_model(Schedule, data, source)
        problems: list[tuple[str, str]] = []
    except ConfigError as exc:
        schedule, problems = None, list(exc.problems)
    process = data.get("process")
    named = process if isinstance(process, dict) else {}
    asked = [
        (f"process.{field}", kind, named[field])
        for field, kind in MATERIAL_FIELDS
        if isinstance(named.get(field), str)
    ]
    bad = dict(problems)  # a field already refused is not looked up as well
    problems += [p for p in material_problems(asked) if p[0] not in bad]
    if problems or schedule is None:
        raise ConfigError(source, problems)
    return schedule


# the process's fields that name a material, and the materials file's table of each
MATERIAL_FIELDS: tuple[tuple[str, Kind], ...] = (
    ("wire", "wires"),
    ("enamel", "enamels"),
    ("terminal", "terminals"),
    ("coating", "coatings"),
    ("electrode", "electrodes"),
)


def energy_to_voltage_v(energy_ws: float, capacitance_uf: float) -> float:
    """Return the charge voltage (V) that stores energy_ws in capacitance_uf."""
    return math.sqrt(2.0 * energy_ws / (capacitance_uf * 1e-6))
