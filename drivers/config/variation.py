"""The part-to-part spread of the simulated welds: configs/variation.toml, every source cited.

Each table of the file is one source of spread (a quantity that differs from one part, or one
weld, to the next), with its distribution, its parameters (units in every name) and its source,
cited as configs/materials.toml cites (`<key> <locator>`, `derived: …` or `estimate: …`, keys of
that file's [references]). Only the simulator (firmware_sim) draws from it; the draw itself is in
firmware_sim/spread.py. `off` names sources switched off: their quantity stays nominal.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

import configs
from drivers.config.files import config_dir
from drivers.config.loader import ConfigError, Strict, model_from_text
from drivers.config.materials import Materials, load_materials
from drivers.config.references import Source, parse_citation

FILE_NAME = "variation.toml"
SourceName = Literal[
    "wire_diameter",
    "enamel_build",
    "terminal_thickness",
    "surface_film",
    "wire_offset",
    "head_force",
    "tip_heat",
]
# How many standard deviations a truncated normal may reach at most (past ±6σ is a typo).
_MAX_SIGMAS = 6.0
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Frozen(Strict):
    """A part of the file, shared by every weld that draws from it: never changed in place
    (switched_off and model_copy give changed copies)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)


class _Entry(_Frozen):
    """One source of spread: what the file says of every one of them."""

    source: Source
    sources: dict[str, Source] = Field(default_factory=dict, description="per-field citations")
    note: str | None = None

    def citations(self) -> list[tuple[str, str]]:
        """Return (field, citation) of the entry's source and of each of its sources."""
        return [("source", self.source)] + [(f"sources.{k}", v) for k, v in self.sources.items()]


class ToleranceRow(_Frozen):
    """One row of a dimensional tolerance table: nominal sizes up to a bound, their tolerance."""

    up_to_mm: float = Field(gt=0.0, le=100.0, description="largest nominal size of the row, mm")
    tolerance_mm: float = Field(gt=0.0, le=1.0, description="± tolerance on the size, mm")


class Toleranced(_Entry):
    """A size held to a standard's tolerance: normal, truncated to the band, σ a share of it."""

    distribution: Literal["truncated_normal"] = "truncated_normal"
    sd_of_tolerance: Fraction = Field(
        description="1σ as a share of the ± tolerance (1/3: a process just capable, Cp = 1)"
    )
    rows: tuple[ToleranceRow, ...] = Field(
        min_length=1, description="rows by nominal size, ascending"
    )

    @model_validator(mode="after")
    def _ascending(self) -> Toleranced:
        bounds = [r.up_to_mm for r in self.rows]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError(f"rows must ascend in up_to_mm (got {bounds})")
        return self

    def tolerance_mm(self, nominal_mm: float) -> float:
        """Return the ± tolerance of the first row that holds the nominal size (else the last)."""
        for row in self.rows:
            if nominal_mm <= row.up_to_mm + 1e-12:
                return row.tolerance_mm
        return self.rows[-1].tolerance_mm


class Banded(_Entry):
    """A quantity between a standard's minimum and maximum: normal about the nominal, σ a share
    of the band, truncated to it (the band itself comes from the materials file)."""

    distribution: Literal["truncated_normal"] = "truncated_normal"
    sd_of_band: Fraction = Field(description="1σ as a share of max − min (1/6: ±3σ fill it)")


class Films(_Entry):
    """Surface films: log-normal factors about 1 on the film resistances (and, with the same
    deviate, on the bare-metal contact conductance), truncated at ±limit σ of their log."""

    distribution: Literal["lognormal"] = "lognormal"
    sigma_ln: float = Field(ge=0.0, le=2.0, description="σ of ln(film resistance factor)")
    conductance_sigma_ln: float = Field(
        ge=0.0, le=2.0, description="σ of ln(contact conductance factor), thermocompression"
    )
    limit_sd: float = Field(gt=0.0, le=_MAX_SIGMAS, description="truncation, in σ of ln")


class Normal(_Entry):
    """A relative deviation: normal about the nominal, truncated at ±limit."""

    distribution: Literal["truncated_normal"] = "truncated_normal"
    sd_pct: float = Field(ge=0.0, le=50.0, description="1σ, % of the nominal")
    limit_pct: float = Field(gt=0.0, le=100.0, description="truncation, ± % of the nominal")

    @model_validator(mode="after")
    def _limit_reaches(self) -> Normal:
        if self.sd_pct > 0 and self.limit_pct / self.sd_pct > _MAX_SIGMAS:
            raise ValueError(f"limit_pct is over {_MAX_SIGMAS:g} σ: a typo in sd_pct?")
        return self


class Offset(_Entry):
    """The wire's placement along its axis under the tip: normal offset, truncated; past a
    margin the tip face overhangs the terminal's edge and the contact length shrinks by it."""

    distribution: Literal["truncated_normal"] = "truncated_normal"
    sd_mm: float = Field(ge=0.0, le=1.0, description="1σ of the offset, mm")
    limit_mm: float = Field(gt=0.0, le=2.0, description="truncation, ± mm (the fixture's stop)")
    margin_mm: float = Field(
        ge=0.0, le=2.0, description="offset the terminal takes before the tip overhangs it, mm"
    )


class TipHeat(_Entry):
    """The tip's (electrodes') heat carried from one weld to the next: not drawn; it decays over
    the idle time with the tip's own time constant (heat capacity / sink conductance)."""

    distribution: Literal["carried"] = "carried"
    production_rate_per_min: float = Field(
        gt=0.0, le=600.0, description="welds per minute: fire to fire, 60 / rate seconds"
    )


class Variation(_Frozen):
    """The whole variation file: one table per source of spread, and the ones switched off."""

    off: tuple[SourceName, ...] = Field((), description="sources kept nominal")
    wire_diameter: Toleranced
    enamel_build: Banded
    terminal_thickness: Toleranced
    surface_film: Films
    wire_offset: Offset
    head_force: Normal
    tip_heat: TipHeat

    def on(self, name: SourceName) -> bool:
        """Return True if that source of spread is drawn (not in `off`)."""
        return name not in self.off

    def switched_off(self, *names: SourceName) -> Variation:
        """Return a copy with these sources switched off as well."""
        return self.model_copy(update={"off": tuple(sorted({*self.off, *names}))})

    def entries(self) -> list[tuple[str, _Entry]]:
        """Return every (source name, entry) in file order."""
        return [(n, getattr(self, n)) for n in type(self).model_fields if n != "off"]


def variation_path() -> Path:
    """Return the variation file: the config folder's own, else the one shipped."""
    mine = config_dir() / FILE_NAME
    return mine if mine.is_file() else Path(configs.__file__).resolve().parent / FILE_NAME


def load_variation(path: str | Path | None = None, materials: Materials | None = None) -> Variation:
    """Read the variation file (default: variation_path()); ConfigError names the file, the
    field and why, also for a citation whose key the materials file's [references] lacks."""
    path = Path(variation_path() if path is None else path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [("(file)", f"cannot read: {exc.strerror or exc}")]) from None
    refs = frozenset((materials or load_materials()).references)
    return _parsed(str(path), text, refs)  # (frozen: one copy serves every caller)


@functools.lru_cache(maxsize=4)
def _parsed(source: str, text: str, refs: frozenset[str]) -> Variation:
    # Each weld the station prepares needs the file: it is parsed once per text.
    variation = model_from_text(Variation, text, source)
    problems = []
    for name, entry in variation.entries():
        for where, text_ in entry.citations():
            for key in parse_citation(text_).keys:
                if key not in refs:
                    problems.append(
                        (f"{name}.{where}", f"cites {key!r}, which is not a key of [references]")
                    )
    if problems:
        raise ConfigError(source, problems)
    return variation
