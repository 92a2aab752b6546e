"""Bad configs and register values: every one refused, clearly, and nothing applied.

Invalid variants are made systematically from the shipped configs in configs/: for every field
of the model (those the file sets and those it leaves at their default) a value out of range,
non-finite, of the wrong type, in the wrong units, a required field left out, an unknown field;
and the cross-field rules. Each variant is written to a file and loaded: the error must be a
ConfigError naming the file and the field. Register values out of range are written through the
drivers to a running simulated station: refused, and the register on the station unchanged.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
import pytest
import tomli_w
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from controller.monitor.window import Band, Window, load_window
from controller.weld.simstation import SimControl, sim_station
from controller.weld.stations import RtuStation, SimStation, TcpStation, load_station
from drivers.config.loader import ConfigError
from drivers.config.schedule import Schedule, load_schedule
from drivers.device import Reg, RegisterDevice
from drivers.errors import DeviceRefusedError
from drivers.head import ServoForceHead
from drivers.link import tcp_link
from drivers.supply import InverterSupply
from drivers.wire.regmap import RegisterValueError
from tests.helpers.paths import REPO
from tests.reliability.battery import Record

CONFIGS = REPO / "configs"
MISSING = object()  # a variant that deletes the field


@dataclass
class Variant:
    """One invalid change to a shipped file: the field it touches and the value it puts there."""

    kind: str  # range, non-finite, type, units, missing, unknown, rule
    path: tuple[str, ...]  # the field as the file spells it
    value: Any
    names: tuple[str, ...] = ()  # what the message must name, if not the field path itself


def _bounds(info: FieldInfo) -> tuple[float | None, bool, float | None, bool]:
    lo = hi = None
    lo_open = hi_open = False
    for m in info.metadata:
        if isinstance(m, at.Ge):
            lo = float(m.ge)  # type: ignore[arg-type]
        elif isinstance(m, at.Gt):
            lo, lo_open = float(m.gt), True  # type: ignore[arg-type]
        elif isinstance(m, at.Le):
            hi = float(m.le)  # type: ignore[arg-type]
        elif isinstance(m, at.Lt):
            hi, hi_open = float(m.lt), True  # type: ignore[arg-type]
    return lo, lo_open, hi, hi_open


def _members(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, type(int | None)):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _model_of(annotation: Any, data: Any) -> type[BaseModel] | None:
    """Return the model a table is validated by (a tagged union: the one its kind names)."""
    models = [a for a in _members(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    if len(models) == 1:
        return models[0]
    for m in models:
        if isinstance(data, dict) and m.model_fields["kind"].default == data.get("kind"):
            return m
    return None


def variants(
    model: type[BaseModel], data: dict[str, Any], at_: tuple[str, ...] = ()
) -> Iterator[Variant]:
    """Yield the invalid variants of every field of `model` (as found in `data`)."""
    yield Variant("unknown", (*at_, "no_such_fieldx"), 1)
    for name, info in model.model_fields.items():
        path = (*at_, name)
        value = data.get(name, MISSING)
        ann = info.annotation
        if info.is_required() and value is not MISSING:
            yield Variant("missing", path, MISSING)
        sub = _model_of(ann, value if value is not MISSING else {})
        if sub is not None and sub is not Band:
            table = value if isinstance(value, dict) else {}
            yield Variant("type", path, 5)  # a number where a table belongs
            yield from variants(sub, table, path)
            continue
        if get_origin(ann) is dict:
            # window limits: each feature's table
            (_, inner) = get_args(ann)
            for key, sub_data in (value if isinstance(value, dict) else {}).items():
                yield from variants(inner, sub_data, (*path, key))
            continue
        if sub is Band or get_origin(ann) is list:
            yield Variant("type", path, 1.0)
            continue
        kinds = {type(a) for a in get_args(ann)} if get_origin(ann) is Literal else set()
        scalars = set(_members(ann)) | kinds
        if scalars & {int, float} and bool not in scalars:
            base = value if isinstance(value, int | float) else info.default
            base = base if isinstance(base, int | float) else 1
            lo, lo_open, hi, hi_open = _bounds(info)
            is_int = int in scalars and float not in scalars
            if lo is not None:
                below = lo if lo_open else lo - (1 if is_int else max(1.0, abs(lo)))
                yield Variant("range", path, int(below) if is_int else below)
            if hi is not None:
                above = hi if hi_open else hi + (1 if is_int else max(1.0, abs(hi)))
                yield Variant("range", path, int(above) if is_int else above)
                if not is_int and base and abs(base) * 1000 > hi:
                    yield Variant("units", path, base * 1000)  # e.g. µs given as ms, mN as N
            if not is_int:
                for v in (math.nan, math.inf, -math.inf):
                    yield Variant("non-finite", path, v)
            if get_origin(ann) is Literal:
                yield Variant("range", path, max(get_args(ann)) + 1)
            yield Variant("type", path, True)
            yield Variant("type", path, str(base))  # a quoted number
            yield Variant("type", path, "abc")
            yield Variant("type", path, [base])
            yield Variant("units", path, f"{base} {name.rsplit('_', 1)[-1]}")  # "12.0 n"
        elif str in scalars:
            yield Variant("type", path, 5)
            yield Variant("type", path, ["x"])
            if bool not in scalars:
                yield Variant("type", path, True)
            if info.metadata or kinds:  # a pattern, a length, or a fixed set of names
                yield Variant("range", path, "" if not kinds else "no such kind")
        elif bool in scalars:
            yield Variant("type", path, "yes")
            yield Variant("type", path, 2)


def apply(data: dict[str, Any], v: Variant) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for part in v.path[:-1]:
        node = node.setdefault(part, {})
    if v.value is MISSING:
        del node[v.path[-1]]
    else:
        node[v.path[-1]] = v.value
    return out


def _short(data: dict[str, Any]) -> dict[str, Any]:
    """Return a window with its envelope bands cut to 4 points (fast to write and read)."""
    out = copy.deepcopy(data)
    for band in out.get("envelope", {}).values():
        if isinstance(band, dict):
            band["lo"], band["hi"] = band["lo"][:4], band["hi"][:4]
    return out


def _station_model(data: dict[str, Any]) -> type[BaseModel]:
    kinds: dict[str, type[BaseModel]] = {
        "sim": SimStation,
        "modbus_tcp": TcpStation,
        "modbus_rtu": RtuStation,
    }
    return kinds[data["kind"]]


Shipped = tuple[str, Path, Callable[[Path], object], type[BaseModel], dict[str, Any]]


def _load_station(path: Path) -> object:
    return load_station(str(path))


def shipped() -> list[Shipped]:
    out: list[Shipped] = []
    for p in sorted((CONFIGS / "schedules").glob("*.toml")):
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        out.append(("schedule", p, load_schedule, Schedule, data))
    for p in sorted((CONFIGS / "windows").glob("*.toml")):
        data = _short(tomllib.loads(p.read_text(encoding="utf-8")))
        out.append(("window", p, load_window, Window, data))
    for p in sorted((CONFIGS / "stations").glob("*.toml")):
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        out.append(("station", p, _load_station, _station_model(data), data))
    return out


def rules(kind: str, data: dict[str, Any]) -> list[Variant]:
    """The cross-field rules, broken one at a time."""
    out: list[Variant] = []
    if kind == "schedule":
        force = data["head"]["force_n"]
        out.append(Variant("rule", ("head", "contact_threshold_n"), force + 1.0,
                           ("head", "contact_threshold_n")))  # fmt: skip
        out.append(Variant("rule", ("sim", "output_khz"), 30.0, ("sim", "output")))
        if data["supply"]["kind"] == "inverter":
            out.append(Variant("rule", ("supply", "weld1_ms"), 24.003, ("weld1_ms", "0.01")))
            out.append(Variant("rule", ("supply", "weld2_ms"), 5.0, ("weld2_ms", "weld2_")))
            out.append(Variant("rule", ("supply", "weld1_current_a"), 400, ("weld1_current_a",)))
            out.append(Variant("rule", ("supply", "pwm_khz"), 5.0, ("feedback_khz",)))
        else:
            out.append(Variant("rule", ("supply", "first_pulse_pct"), 10.0, ("interpulse_ms",)))
            out.append(Variant("rule", ("supply", "hold_ms"), 10.005, ("hold_ms", "0.01")))
    elif kind == "window":
        feat = next(iter(data["limits"]))
        lim = data["limits"][feat]
        out.append(Variant("rule", ("limits", feat, "min"), lim["max"] + 1.0, ("limits", feat)))
        out.append(Variant("units", ("limits", "setdown_mm"), {"max": 1.0}, ("setdown_mm",)))
        out.append(Variant("rule", ("envelope", "step_ms"), 0.0, ("envelope", "step_ms")))
        band = next(
            k
            for k, b in data["envelope"].items()
            if isinstance(b, dict) and not any(math.isnan(x) for x in b["hi"])
        )
        out.append(Variant("rule", ("envelope", band, "hi"), [1.0], ("envelope", band)))
        out.append(Variant("rule", ("envelope", band, "lo"), [9e9] * 4, ("envelope", band)))
        out.append(Variant("type", ("envelope", band, "lo"), ["x"] * 4, ("envelope", band, "lo")))
    else:
        out.append(Variant("rule", ("electrode_warning",), 7000, ("electrode_warning",)))
        out.append(Variant("range", ("kind",), "modbus_udp", ("kind",)))
        if data["kind"] != "sim":
            out.append(Variant("rule", ("head_unit",), data["supply_unit"], ("head_unit",)))
    return out


def test_every_invalid_config_is_refused_naming_file_and_field(
    tmp_path: Path, record: Record
) -> None:
    by_kind: dict[str, int] = {}
    silent: list[str] = []
    for kind, path, load, model, data in shipped():
        # the shipped file itself loads (the variants differ from it by one change each)
        base = tmp_path / path.name
        base.write_text(tomli_w.dumps(data), encoding="utf-8")
        load(base)
        for v in [*variants(model, data), *rules(kind, data)]:
            bad = tmp_path / f"bad_{path.name}"
            bad.write_text(tomli_w.dumps(apply(data, v)), encoding="utf-8")
            record.cases += 1
            record.faults += 1
            by_kind[v.kind] = by_kind.get(v.kind, 0) + 1
            where = f"{path.name}: {'.'.join(v.path)} = {v.value!r} ({v.kind})"
            try:
                load(bad)
            except ConfigError as exc:
                err = exc
            else:
                record.failures += 1
                silent.append(where)
                continue
            text = str(err)
            assert err.source == str(bad) and str(bad) in text, where
            assert err.problems and all(reason for _, reason in err.problems), where
            if v.names:
                assert all(n in text for n in v.names), f"{where}: {text}"
            else:
                # the field as the file spells it, with a reason
                assert ".".join(v.path) in [f for f, _ in err.problems], f"{where}: {text}"
    assert not silent, "accepted silently:\n" + "\n".join(silent)
    record.notes.append(f"variants by kind: {by_kind}")


def test_a_bad_override_is_refused_and_the_file_is_untouched(record: Record) -> None:
    # `--set dotted.key=value` on a shipped schedule: the same refusals, naming the file
    for path in sorted((CONFIGS / "schedules").glob("*.toml")):
        text = path.read_bytes()
        data = tomllib.loads(text.decode())
        for v in variants(Schedule, data):
            if v.kind not in ("range", "non-finite", "type") or isinstance(v.value, list | dict):
                continue
            value = tomli_w.dumps({"v": v.value})[4:].strip()
            record.cases += 1
            record.faults += 1
            with pytest.raises(ConfigError) as info:
                load_schedule(path, [f"{'.'.join(v.path)}={value}"])
            assert str(path) in str(info.value)
            assert ".".join(v.path) in [f for f, _ in info.value.problems], str(info.value)
        assert path.read_bytes() == text  # nothing written back


# --- register values, through the drivers, against a running station ---------------------------


def _bad_values(dev: RegisterDevice) -> Iterator[tuple[str, float]]:
    for reg in dev.regmap.registers:
        if not reg.writable or reg.name == "heartbeat":
            continue
        if reg.min is not None:
            yield reg.name, reg.min - reg.scale
        if reg.max is not None:
            yield reg.name, reg.max + reg.scale
        if reg.scale < 1.0 or reg.min != reg.max:
            base = reg.min if reg.min is not None else 0.0
            yield reg.name, base + reg.scale / 2  # between two steps
        yield reg.name, math.nan
        yield reg.name, math.inf


def test_register_values_out_of_range_are_refused_and_not_applied(record: Record) -> None:
    with sim_station("--clock", "lockstep", "--no-rtu") as ends:
        link = tcp_link(*ends.modbus_tcp, timeout_s=1.0)
        control = SimControl(ends.control)
        supply = InverterSupply(link, ends.supply_unit)
        head = ServoForceHead(link, ends.head_unit)
        try:
            truth0 = control.truth()
            for dev in (supply, head):
                before = dev.read_all()
                for name, value in _bad_values(dev):
                    record.cases += 1
                    record.faults += 1
                    # through the driver's typed setter where it has one
                    with pytest.raises(RegisterValueError) as info:
                        if isinstance(getattr(type(dev), name, None), Reg):
                            setattr(dev, name, value)
                        else:
                            dev.write(name, value)
                    assert name in str(info.value), str(info.value)
                # words the driver would never send, straight on the wire: the station refuses
                for reg in dev.regmap.registers:
                    if not reg.writable or reg.name == "heartbeat" or reg.max is None:
                        continue
                    raw = round(reg.max / reg.scale) + 1
                    if raw > 0xFFFF:
                        continue  # every word is in range: nothing to refuse
                    record.cases += 1
                    record.faults += 1
                    with pytest.raises(DeviceRefusedError):
                        link.write(dev.unit, reg.address, [raw])
                after = dev.read_all()
                changed = {k for k in before if before[k] != after[k] and k != "status"}
                assert not changed, f"{type(dev).__name__}: {changed} changed"
            truth = control.truth()
            # not a single command got through: no ARM, no FIRE, the head never left home
            assert truth["weld_count"] == truth0["weld_count"] and truth["fire_times_s"] == []
            assert not truth["armed"] and truth["homed"]
            # read-only registers refuse writes before anything is sent
            with pytest.raises(RegisterValueError, match="read-only"):
                supply.write("weld_count", 0)
        finally:
            control.close()
            link.close()
