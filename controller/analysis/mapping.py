"""Process-window mapping: the sweep's grid, the schedule at each point, and what the map says.

Pure logic (no station, no files): `microweld map` (controller/mapcmd.py) runs the points
through the full controller on simulated stations and hands the welds back here. The
simulator's ground truth (joint strength, defect class) is used for the map only; the PASS
region is the controller's own verdicts against the window.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivers.config.loader import parse_model
from drivers.config.schedule import CDSettings, Schedule, apply_overrides

# short names for the schedule fields a process engineer sweeps; anything else by its dotted
# path in the schedule file (supply.squeeze_ms, head.force_n, ...)
_SETPOINT_UNIT = {
    "current": ("current_a", "A"),
    "voltage": ("voltage_v", "V"),
    "power": ("power_w", "W"),
}
_DECIMALS = {"A": 0, "V": 3, "W": 0, "ms": 2, "N": 2}  # the steps the devices take


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its name as given, its schedule field, unit and values."""

    name: str
    field: str  # dotted path in the schedule file
    unit: str
    values: tuple[float, ...]

    @property
    def label(self) -> str:
        """Return 'name (unit)' for tables and plots."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


def _field_of(name: str, schedule: Schedule) -> tuple[str, str]:
    """Return (dotted schedule field, unit) of a swept name, or raise ValueError saying why."""
    sup = schedule.supply
    if name in _SETPOINT_UNIT:  # the weld pulse's setpoint
        if isinstance(sup, CDSettings):
            if name == "voltage":
                return "supply.charge_voltage_v", "V"
            raise ValueError(f"schedule {schedule.name} is a CD supply: vary voltage (its charge)")
        if sup.mode != name:
            unit = _SETPOINT_UNIT[sup.mode][1]
            raise ValueError(
                f"schedule {schedule.name} is in {sup.mode} mode: vary {sup.mode} ({unit}), "
                f"not {name}"
            )
        suffix, unit = _SETPOINT_UNIT[name]
        return f"supply.weld1_{suffix}", unit
    if name in ("time_ms", "weld_ms"):
        if isinstance(sup, CDSettings):
            raise ValueError(
                f"schedule {schedule.name} is a CD supply: its pulse width is set by the tap, "
                "not a time; vary voltage or supply.* fields"
            )
        return "supply.weld1_ms", "ms"
    if name in ("force_n", "force"):
        return "head.force_n", "N"
    if "." in name:
        field_value(schedule, name)  # there, and a number
        last = name.rsplit(".", 1)[1]
        unit = last.rsplit("_", 1)[1] if "_" in last else ""
        return name, {"a": "A", "v": "V", "w": "W", "n": "N"}.get(unit, unit)
    raise ValueError(
        f"unknown parameter {name!r}: current, voltage or power (the supply's mode), time_ms, "
        "force_n, or a dotted schedule field such as supply.squeeze_ms"
    )


def field_value(schedule: Schedule, path: str) -> float:
    """Return the number at a dotted path of the schedule (supply.weld1_ms); raise ValueError
    if there is none."""
    node: Any = schedule.model_dump()
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"the schedule has no field {path}")
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise ValueError(f"{path} is not a number in the schedule")
    return float(node)


def nominal(schedule: Schedule, axes: list[Axis]) -> tuple[float, ...]:
    """Return the schedule's own value of each swept field."""
    return tuple(field_value(schedule, a.field) for a in axes)


def _numbers(text: str) -> tuple[float, ...]:
    """Return the values of 'lo:hi:n' (n evenly spaced, ends included) or 'a,b,c'."""
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
            if n < 1 or (n == 1 and lo != hi) or not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError
            return tuple(float(v) for v in np.linspace(lo, hi, n))
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{text!r}: expected LO:HI:N (N points, ends included) or A,B,C") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{text!r}: expected finite numbers")
    return values


def parse_vary(spec: str, schedule: Schedule) -> Axis:
    """Return the axis of one `--vary NAME=LO:HI:N` (or NAME=A,B,C) for this schedule."""
    name, sep, text = spec.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"--vary {spec}: expected NAME=LO:HI:N, e.g. voltage=1.6:2.6:11")
    path, unit = _field_of(name, schedule)
    digits = _DECIMALS.get(unit, 6)
    values = tuple(round(v, digits) for v in _numbers(text.strip()))
    if len(set(values)) != len(values):
        raise ValueError(f"--vary {spec}: values repeat once rounded to the device's step")
    return Axis(name, path, unit, values)


def variant(schedule: Schedule, axes: list[Axis], values: tuple[float, ...]) -> Schedule:
    """Return the schedule with each axis's field set to its value (validated: a value the
    schedule refuses raises ConfigError naming the field)."""
    data = schedule.model_dump()
    sets = [f"{a.field}={v!r}" for a, v in zip(axes, values, strict=True)]
    at = ", ".join(f"{a.name}={v:g}" for a, v in zip(axes, values, strict=True))
    source = f"{schedule.name} at {at}"
    return parse_model(Schedule, apply_overrides(data, sets, source), source)


@dataclass(frozen=True)
class Point:
    """One weld of the sweep: its grid cell, its repeat and the part put under the electrode."""

    cell: tuple[int, ...]  # index along each axis
    values: tuple[float, ...]
    repeat: int

    @property
    def part(self) -> int:
        """Return the simulated part welded here (its drawn wire, enamel and noise): repeat k
        of every cell welds part k, wherever it runs, so neighbouring cells differ by their
        parameters only (common random numbers) and the map is the same for any number of
        workers."""
        return self.repeat


def grid(axes: list[Axis], repeat: int) -> list[Point]:
    """Return every point of the sweep, each repeated `repeat` times (the first axis fastest)."""
    if not axes:
        raise ValueError("nothing to vary: give at least one --vary")
    if repeat < 1:
        raise ValueError("--repeat must be at least 1")
    out: list[Point] = []
    for cell in itertools.product(*(range(len(a.values)) for a in reversed(axes))):
        idx = tuple(reversed(cell))
        vals = tuple(a.values[i] for a, i in zip(axes, idx, strict=True))
        for r in range(repeat):
            out.append(Point(idx, vals, r))
    return out


@dataclass
class MappedWeld:
    """What one point's weld gave: the controller's verdict and features, and the truth."""

    point: Point
    verdict: str
    reasons: list[str]
    features: dict[str, float | None]
    jbf_n: float | None  # ground truth: joint breaking force
    defect: str  # ground truth: the defect class ("none" for a good joint)
    truth: dict[str, Any] = field(default_factory=dict)


# the defects the map must keep out of the PASS region come first in the legend
DEFECT_ORDER = (
    "none",
    "weak_joint",  # the map's own class: no defect, but a joint below the minimum strength
    "enamel_residue",
    "over_deformation",
    "coating_remelt",
    "electrode_stick",
    "wire_cut",
    "expulsion",
    "missing_wire",
    "not_fired",
)


@dataclass
class Lobe:
    """The map over the grid: per cell, the share of PASS, the mean joint strength and the
    most frequent defect."""

    axes: list[Axis]
    pass_frac: np.ndarray  # (n1, n2, ...) share of the cell's welds the controller passed
    jbf_n: np.ndarray  # mean joint strength, N (NaN where none fired)
    defect: np.ndarray  # the most frequent class (object array of str; weak_joint included)
    sound: np.ndarray  # every weld of the cell free of defects and strong enough (the truth)
    min_jbf_pct: float

    def defects_in_pass(self) -> Counter[str]:
        """Return the classes other than none found in cells the controller passes, with how
        many cells (a window should pass none of them)."""
        passing = np.nan_to_num(self.pass_frac, nan=0.0) >= 0.5
        return Counter(str(d) for d in self.defect[passing] if d != "none")


def classify(w: MappedWeld, min_jbf_pct: float) -> str:
    """Return the weld's class: the simulator's defect, or weak_joint for a joint with none
    but weaker than min_jbf_pct of the wire, or none."""
    if w.defect != "none":
        return w.defect
    pct = w.truth.get("jbf_pct_of_wire")
    return "weak_joint" if pct is None or float(pct) < min_jbf_pct else "none"


def lobe(axes: list[Axis], welds: list[MappedWeld], min_jbf_pct: float = 50.0) -> Lobe:
    """Return the lobe of a finished sweep; a sound joint is free of defects and at least
    min_jbf_pct as strong as the wire."""
    shape = tuple(len(a.values) for a in axes)
    passed = np.zeros(shape)
    count = np.zeros(shape)
    jbf_sum = np.zeros(shape)
    jbf_n = np.zeros(shape)
    defects: dict[tuple[int, ...], Counter[str]] = {}
    sound = np.ones(shape, dtype=bool)
    for w in welds:
        c = w.point.cell
        count[c] += 1
        passed[c] += w.verdict == "PASS"
        if w.jbf_n is not None:
            jbf_sum[c] += w.jbf_n
            jbf_n[c] += 1
        kind = classify(w, min_jbf_pct)
        defects.setdefault(c, Counter())[kind] += 1
        sound[c] &= kind == "none"
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(count > 0, passed / np.maximum(count, 1), np.nan)
        jbf = np.where(jbf_n > 0, jbf_sum / np.maximum(jbf_n, 1), np.nan)
    defect = np.full(shape, "", dtype=object)
    for c, k in defects.items():
        # the worst-ranked defect among the most frequent ones: a tie does not hide a defect
        top = max(k.values())
        defect[c] = max((d for d, n in k.items() if n == top), key=_rank)
    sound &= count > 0
    return Lobe(axes, frac, jbf, defect, sound, min_jbf_pct)


def _rank(defect: str) -> int:
    return DEFECT_ORDER.index(defect) if defect in DEFECT_ORDER else len(DEFECT_ORDER)


@dataclass(frozen=True)
class Margin:
    """How far one parameter may drift from the operating point before a defect (or a joint
    too weak)."""

    axis: Axis
    down: float | None  # room below (in the axis's unit); None: to the edge of the map
    up: float | None


@dataclass(frozen=True)
class Centre:
    """The suggested operating point and its drift margins."""

    cell: tuple[int, ...]
    values: tuple[float, ...]
    margins: list[Margin]


def centre(lb: Lobe) -> Centre | None:
    """Return the sound cell farthest from any unsound one (each axis scaled to its span; the
    map's edge counts as unsound: nothing is known past it), or None if no cell is sound."""
    sound = lb.sound
    if not sound.any():
        return None
    shape = sound.shape
    span = np.array([max(n - 1, 1) for n in shape], dtype=float)
    cells = np.indices(shape).reshape(len(shape), -1).T.astype(float)  # in sound.ravel()'s order
    flags = sound.ravel()
    unit = cells / span  # each axis scaled to its span
    good, bad = unit[flags], unit[~flags]
    # the distance of each sound cell to the nearest unsound one and to the edge past the map
    edge = np.minimum(cells[flags] + 1, np.array(shape) - cells[flags]) / span
    d = edge.min(axis=1)
    if len(bad):
        d = np.minimum(d, np.sqrt(((good[:, None, :] - bad[None, :, :]) ** 2).sum(-1)).min(1))
    # ties: the cell nearer the middle of the map
    off_middle = np.sqrt(((good - 0.5) ** 2).sum(-1))
    pick = int(np.lexsort((off_middle, -d))[0])
    cell = tuple(int(i) for i in cells[flags][pick])
    margins = []
    for k, axis in enumerate(lb.axes):
        room: list[float | None] = []
        for step in (-1, 1):
            i = cell[k]
            while 0 <= i + step < shape[k] and sound[(*cell[:k], i + step, *cell[k + 1 :])]:
                i += step
            edge = i + step < 0 or i + step >= shape[k]
            room.append(None if edge else abs(axis.values[i] - axis.values[cell[k]]))
        margins.append(Margin(axis, room[0], room[1]))
    values = tuple(a.values[i] for a, i in zip(lb.axes, cell, strict=True))
    return Centre(cell, values, margins)


def contains(axis: Axis, value: float) -> bool:
    """Return True if value lies within the axis's range."""
    return min(axis.values) <= value <= max(axis.values)


def nearest(axis: Axis, value: float) -> int:
    """Return the index of the axis value nearest to value."""
    return int(np.argmin([abs(v - value) for v in axis.values]))


def check_grid(schedule: Schedule, axes: list[Axis]) -> None:
    """Raise ConfigError if a corner of the grid makes a schedule the supply cannot take
    (checked before a single weld runs; the fields' ranges are boxes, so corners suffice)."""
    for corner in itertools.product(*((min(a.values), max(a.values)) for a in axes)):
        variant(schedule, axes, corner)


def report_lines(
    schedule: Schedule, lb: Lobe, welds: list[MappedWeld], seconds: float
) -> list[str]:
    """Return the summary lines: rate, the PASS region, the nominal point, the suggestion."""
    axes = lb.axes
    lines = [f"{len(welds)} welds in {seconds:.1f} s ({len(welds) / max(seconds, 1e-9):.1f}/s)"]
    passed = sum(w.verdict == "PASS" for w in welds)
    lines.append(f"PASS {passed} of {len(welds)} welds")
    bad = lb.defects_in_pass()
    lines.append(
        "defects inside the PASS region (truth): "
        + (", ".join(f"{d} in {n} cells" for d, n in bad.items()) if bad else "none")
    )
    nom = nominal(schedule, axes)
    at = ", ".join(f"{a.name} {v:g} {a.unit}" for a, v in zip(axes, nom, strict=True))
    if all(contains(a, v) for a, v in zip(axes, nom, strict=True)):
        lines.append(f"the schedule's own point ({at}) is in the map")
    else:
        lines.append(f"the schedule's own point ({at}) lies outside the map")
    c = centre(lb)
    if c is None:
        lines.append(
            f"no cell is sound (free of defects, joints >= {lb.min_jbf_pct:g} % of the wire): "
            "no operating point to suggest"
        )
        return lines
    at = ", ".join(f"{a.name} {v:g} {a.unit}" for a, v in zip(axes, c.values, strict=True))
    inside = "inside" if lb.pass_frac[c.cell] >= 0.5 else "outside"
    lines.append(
        f"suggested operating point (the sound cell farthest from any unsound one): {at}; "
        f"{inside} the window's PASS region"
    )
    for m, value in zip(c.margins, c.values, strict=True):
        down, up = _drift(m.axis, value, m.down, -1), _drift(m.axis, value, m.up, +1)
        lines.append(f"  {m.axis.name} may drift {down} / {up} before a defect or a weak joint")
    return lines


def _drift(axis: Axis, at: float, room: float | None, sign: int) -> str:
    """Return how far a parameter may drift one way, as the margins line says it."""
    if room is None:
        return "to the map's edge"
    mark = "+" if sign > 0 else "-"
    if room > 0:
        return f"{mark}{room:g} {axis.unit}"
    # the very next value that way is unsound: less than one step of the map (never "-0 V")
    values = sorted(axis.values)
    i = values.index(at) + sign
    step = abs(values[i] - at)
    return f"less than {mark}{step:g} {axis.unit} (the next value, {values[i]:g}, is unsound)"
