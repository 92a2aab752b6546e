"""Process windows: scalar limits and envelopes a weld must stay inside, and teaching them.

A window file (configs/windows/*.toml) names the schedule it was taught for (name and hash), the
monitor settings, a [min, max] per feature with its unit, and per-channel envelopes against time
since the current started. Judging returns PASS or FAIL with every reason, not only the first.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from drivers.config.loader import Strict, load_model

Action = Literal["none", "stop", "inhibit"]
FEATURES = {
    "weld_time_ms": "ms",
    "energy_j": "J",
    "peak_current_a": "A",
    "rms_current_a": "A",
    "r_end_mohm": "mΩ",
    "r_peak_mohm": "mΩ",
    "setdown_um": "µm",
    "setdown_pct": "%",
    "burn_through_ms": "ms",
    "peak_force_n": "N",
}
CHANNELS = ("r_mohm", "current_a", "voltage_v", "power_w", "force_n", "setdown_um")


class Limit(Strict):
    """Allowed range of one feature (either bound may be left open)."""

    min: float | None = None
    max: float | None = None
    action: Action = Field("none", description="what a violation does beyond FAIL")

    @model_validator(mode="after")
    def _order(self) -> Limit:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Band(Strict):
    """Lower and upper band of one channel, one value per envelope step (NaN: no band)."""

    lo: list[float]
    hi: list[float]

    @model_validator(mode="after")
    def _shape(self) -> Band:
        if len(self.lo) != len(self.hi):
            raise ValueError(f"lo has {len(self.lo)} points and hi {len(self.hi)}")
        for a, b in zip(self.lo, self.hi, strict=True):
            if not (math.isnan(a) or math.isnan(b)) and a > b:
                raise ValueError(f"band crosses itself ({a} > {b})")
        return self


class Envelope(Strict):
    """Bands against time since the current started, at a fixed step."""

    step_ms: float = Field(0.1, gt=0.0, le=10.0, description="time between band points, ms")
    r_mohm: Band | None = None
    current_a: Band | None = None
    voltage_v: Band | None = None
    power_w: Band | None = None
    force_n: Band | None = None
    setdown_um: Band | None = None


class MonitorSettings(Strict):
    """How the monitor reads a weld and when it may stop it."""

    gate_a: float = Field(20.0, gt=0.0, description="|I| above which R is taken, A")
    r_gate_a: float = Field(
        100.0, ge=0.0, description="|I| above which R counts for its peak and end value, A"
    )
    contact_n: float = Field(0.1, gt=0.0, description="force that means contact, N")
    firing_n: float = Field(11.0, gt=0.0, description="firing force, N")
    wire_diameter_um: float = Field(100.0, gt=0.0, description="for set-down in %, µm")
    burn_velocity_um_ms: float = Field(
        3.2, gt=0.0, description="peak set-down speed that shows a burn-through, µm/ms"
    )
    burn_fraction: float = Field(
        0.6, gt=0.0, lt=1.0, description="share of the peak speed that marks its start"
    )
    velocity_window: int = Field(10, ge=1, le=64, description="samples for the set-down speed")
    expulsion_jump_um: float = Field(5.0, ge=0.0, description="set-down jump with an R crest")
    expulsion_r_drop_pct: float = Field(
        5.0, gt=0.0, le=100.0, description="fall of R from its peak that marks the crest, %"
    )
    setdown_target_um: float = Field(0.0, ge=0.0, description="stop at this set-down (0: off)")
    r_drop_pct: float = Field(0.0, ge=0.0, le=100.0, description="stop on this R drop (0: off)")
    energy_max_j: float = Field(0.0, ge=0.0, description="stop at this energy (0: off)")
    time_max_ms: float = Field(0.0, ge=0.0, description="stop after this weld time (0: off)")


class Window(Strict):
    """A process window for one schedule."""

    name: str = Field(min_length=1)
    schedule: str = Field(min_length=1)
    schedule_hash: str = ""
    taught_from: int = Field(0, ge=0, description="number of welds it was taught from")
    k_sigma: float = Field(0.0, ge=0.0)
    command: str = Field("", description="the command that made this window")
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    limits: dict[str, Limit] = Field(default_factory=dict)
    envelope: Envelope = Field(default_factory=Envelope)

    @model_validator(mode="after")
    def _known(self) -> Window:
        unknown = sorted(set(self.limits) - set(FEATURES))
        if unknown:
            raise ValueError(f"unknown features {unknown}; known: {sorted(FEATURES)}")
        return self

    def digest(self) -> str:
        """Return a short SHA-256 of the window (for the QA log)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_window(path: str | Path) -> Window:
    """Read a window file; a bad one is refused with the file, the field and the reason."""
    return load_model(Window, path)


def judge(
    window: Window,
    features: dict[str, float | None],
    envelope_violation: str | None = None,
    events: Sequence[str] = (),
) -> list[str]:
    """Return every reason the weld is outside the window (an empty list means PASS)."""
    reasons: list[str] = []
    for name, lim in window.limits.items():
        value = features.get(name)
        unit = FEATURES[name]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            reasons.append(f"{name}: not measured (expected {_range(lim, unit)})")
            continue
        if lim.min is not None and value < lim.min:
            v, b = _apart(value, lim.min)
            reasons.append(f"{name} {v} {unit} below {b} {unit}")
        if lim.max is not None and value > lim.max:
            v, b = _apart(value, lim.max)
            reasons.append(f"{name} {v} {unit} above {b} {unit}")
    if envelope_violation:
        reasons.append(envelope_violation)
    reasons += [f"event: {e}" for e in events]
    return reasons


def _apart(value: float, bound: float) -> tuple[str, str]:
    """Return value and bound with as few significant figures (4 at least) as tell them apart:
    at 4 always, a weld just outside read "206.1 A below 206.1 A"."""
    for digits in range(4, 13):
        v, b = f"{value:.{digits}g}", f"{bound:.{digits}g}"
        if v != b:
            break
    return v, b


def _range(lim: Limit, unit: str) -> str:
    lo = "-∞" if lim.min is None else f"{lim.min:.4g}"
    hi = "+∞" if lim.max is None else f"{lim.max:.4g}"
    return f"{lo}..{hi} {unit}"
