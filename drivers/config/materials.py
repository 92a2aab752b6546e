"""Materials database: range-checked models for configs/materials.toml, every value sourced."""

from __future__ import annotations

import difflib
import functools
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, overload

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from drivers.config.files import materials_path
from drivers.config.loader import Strict, load_model, model_from_text
from drivers.config.references import (
    Citation,
    Reference,
    RefKey,
    Source,
    bracketed_keys,
    parse_citation,
)

# Ranges are physical plausibility bounds, not tolerances: they catch sign errors, unit slips
# (g/cm³ for kg/m³, GPa for MPa, ppm for 1/K) and typos, and refuse them with the field's name.
Density = Annotated[float, Field(gt=100.0, le=25_000.0, description="kg/m³ at 20 °C")]
SpecificHeat = Annotated[float, Field(gt=50.0, le=5_000.0, description="J/(kg·K) at 20 °C")]
Conductivity = Annotated[float, Field(gt=0.01, le=500.0, description="W/(m·K) at 20 °C")]
Resistivity = Annotated[float, Field(ge=1.0e-9, le=1.0e-5, description="Ω·m at 20 °C")]
TempCoeff = Annotated[float, Field(ge=0.0, le=0.01, description="1/K, R = R20·(1 + α·(T − 20))")]
TempC = Annotated[float, Field(gt=-100.0, le=3_500.0, description="°C")]
Youngs = Annotated[float, Field(gt=0.1, le=600.0, description="GPa")]
Poisson = Annotated[float, Field(gt=0.0, lt=0.5)]
Cte = Annotated[float, Field(gt=0.0, le=1.0e-4, description="1/K, linear, near 20 °C")]
StressMpa = Annotated[float, Field(gt=0.0, le=3_000.0, description="MPa")]
HardeningN = Annotated[float, Field(ge=0.0, le=1.0)]
LatentHeat = Annotated[float, Field(gt=0.0, le=1_000.0, description="J/g")]
VapourHeat = Annotated[float, Field(gt=100.0, le=20_000.0, description="J/g, at the boiling point")]
BoilC = Annotated[float, Field(gt=100.0, le=6_000.0, description="°C, at 1 atm")]
RhoSlope = Annotated[float, Field(ge=0.0, le=1.0e-8, description="Ω·m/K")]
BuildUm = Annotated[float, Field(gt=0.0, le=200.0, description="µm, radial")]
WtPct = Annotated[float, Field(gt=0.0, le=100.0, description="mass %")]
Activation = Annotated[float, Field(gt=5.0, le=1_000.0, description="kJ/mol")]
Avrami = Annotated[float, Field(gt=0.2, le=5.0)]
StressExponent = Annotated[float, Field(ge=1.0, le=15.0)]

# IEC 60085 thermal classes: a value off this list is a typo, not a new class.
ThermalClass = Literal[90, 105, 120, 130, 155, 180, 200, 220, 240, 250]

Kind = Literal["wires", "enamels", "terminals", "coatings", "electrodes", "phases", "substrates"]


class Material(Strict):
    """Base of every entry: a default source, per-field overrides, and a free-text note."""

    source: Source
    sources: dict[str, Source] = Field(default_factory=dict)
    note: str | None = None

    @field_validator("sources")
    @classmethod
    def _sources_name_fields(cls, value: dict[str, str]) -> dict[str, str]:
        known = set(cls.model_fields) - {"source", "sources", "note"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(
                f"sources names no field of this entry: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        return value

    def source_of(self, field: str) -> str:
        """Return the citation for one field: its own entry in `sources`, else `source`."""
        if field not in type(self).model_fields:
            raise KeyError(f"{type(self).__name__} has no field {field!r}")
        return self.sources.get(field, self.source)

    def citation_of(self, field: str) -> Citation:
        """Return the parsed citation for one field (see source_of)."""
        return parse_citation(self.source_of(field))

    def references_of(self, field: str) -> list[str]:
        """Return the keys of the references one field's citation names, the leading one first."""
        return list(self.citation_of(field).keys)

    def value_fields(self) -> list[str]:
        """Return the fields that hold a value (not None), citations and note excepted."""
        skip = {"source", "sources", "note"}
        return [
            f for f in type(self).model_fields if f not in skip and getattr(self, f) is not None
        ]


class Thermal(Material):
    """Bulk thermal properties shared by every material with mass."""

    density_kg_m3: Density
    specific_heat_j_kgk: SpecificHeat
    conductivity_w_mk: Conductivity

    @property
    def diffusivity_m2_s(self) -> float:
        """Return the thermal diffusivity k/(ρ·cp), m²/s."""
        return self.conductivity_w_mk / (self.density_kg_m3 * self.specific_heat_j_kgk)


def _check_liquidus(value: float | None, info: ValidationInfo) -> float | None:
    solidus = info.data.get("solidus_c")
    if value is not None and solidus is not None and value < solidus:
        raise ValueError(
            f"liquidus_c {value} °C is below solidus_c {solidus} °C (need solidus <= liquidus)"
        )
    return value


def _check_uts(value: float | None, info: ValidationInfo) -> float | None:
    yield_mpa = info.data.get("yield_mpa")
    if value is not None and yield_mpa is not None and value < yield_mpa:
        raise ValueError(f"uts_mpa {value} MPa is below yield_mpa {yield_mpa} MPa")
    return value


def _check_composition(value: dict[str, float] | None) -> dict[str, float] | None:
    # 0.5 % slack: papers round each element to 0.1 %.
    if value is not None and abs(sum(value.values()) - 100.0) > 0.5:
        raise ValueError(f"composition sums to {sum(value.values()):.2f} %, not 100 %")
    return value


class Metal(Thermal):
    """A conductor: thermal, electrical and elastic properties and its melting range."""

    resistivity_ohm_m: Resistivity
    temp_coeff_per_k: TempCoeff
    solidus_c: TempC
    liquidus_c: TempC
    youngs_gpa: Youngs
    poisson: Poisson
    cte_per_k: Cte
    # what bounds a node of it in a weld that melts it (direct welding)
    latent_heat_j_g: LatentHeat | None = None
    boiling_c: BoilC | None = None
    vaporization_j_g: VapourHeat | None = None

    @field_validator("liquidus_c")
    @classmethod
    def _liquidus_not_below_solidus(cls, value: float, info: ValidationInfo) -> float | None:
        return _check_liquidus(value, info)

    def resistivity_at_ohm_m(self, temp_c: float) -> float:
        """Return the resistivity at temp_c (linear in T about 20 °C), Ω·m."""
        return self.resistivity_ohm_m * (1.0 + self.temp_coeff_per_k * (temp_c - 20.0))


def _flow_stress(yield_mpa: float, youngs_gpa: float, n: float, plastic_strain: float) -> float:
    if plastic_strain < 0.0:
        raise ValueError(f"plastic strain must be >= 0 (got {plastic_strain})")
    return yield_mpa * (1.0 + youngs_gpa * 1e3 * plastic_strain / yield_mpa) ** n


class Structural(Metal):
    """A metal that is deformed in the weld: adds yield, UTS and power-law hardening."""

    yield_mpa: StressMpa
    uts_mpa: StressMpa
    hardening_n: HardeningN

    @field_validator("uts_mpa")
    @classmethod
    def _uts_not_below_yield(cls, value: float, info: ValidationInfo) -> float | None:
        return _check_uts(value, info)

    def flow_stress_mpa(self, plastic_strain: float) -> float:
        """Return σ = σy·(1 + E·εp/σy)^n at 20 °C for a true plastic strain, MPa."""
        return _flow_stress(self.yield_mpa, self.youngs_gpa, self.hardening_n, plastic_strain)

    def necking_uts_mpa(self) -> float:
        """Return the engineering UTS where the hardening law meets Considère's condition, MPa."""
        # dσ/dε = σ gives 1 + a·ε = n·a (a = E/σy); below n·a = 1 it necks at first yield.
        a = self.youngs_gpa * 1e3 / self.yield_mpa
        if self.hardening_n * a <= 1.0:
            return self.yield_mpa
        eps_u = self.hardening_n - 1.0 / a
        return self.yield_mpa * (self.hardening_n * a) ** self.hardening_n * math.exp(-eps_u)

    def breaking_force_n(self, diameter_mm: float) -> float:
        """Return the tensile breaking force of a round wire of diameter_mm (UTS × area), N."""
        if diameter_mm <= 0.0:
            raise ValueError(f"diameter must be > 0 mm (got {diameter_mm})")
        return self.uts_mpa * math.pi * diameter_mm**2 / 4.0


class Wire(Structural):
    """A wire conductor (bare metal; the enamel is a separate entry). The optional resistivity
    points replace the linear law above the Curie point and through melting (direct welding).
    The optional kinetics say how time at temperature changes it: its softening
    (recrystallisation and grain growth, JMAK with an Arrhenius rate) down to softened_uts_mpa,
    and its power-law creep."""

    curie_c: TempC | None = None
    resistivity_curie_ohm_m: Resistivity | None = None
    resistivity_solid_melt_ohm_m: Resistivity | None = None
    resistivity_liquid_ohm_m: Resistivity | None = None
    resistivity_liquid_slope_ohm_m_k: RhoSlope | None = None
    softening_activation_kj_mol: Activation | None = None
    softening_avrami_n: Avrami | None = None
    softened_uts_mpa: StressMpa | None = None
    creep_activation_kj_mol: Activation | None = None
    creep_stress_exponent: StressExponent | None = None


class Terminal(Structural):
    """A terminal, lead frame or foil the wire is welded onto."""


class Electrode(Metal):
    """An electrode or thermocompression tip material."""

    softening_c: TempC | None = None


class Coating(Thermal):
    """A plating or solder coating; its melting range bounds the allowed interface temperature."""

    solidus_c: TempC
    liquidus_c: TempC
    latent_heat_j_g: LatentHeat
    youngs_gpa: Youngs | None = None
    poisson: Poisson | None = None
    cte_per_k: Cte | None = None
    yield_mpa: StressMpa | None = None
    composition_wt_pct: dict[str, WtPct] | None = None

    @field_validator("liquidus_c")
    @classmethod
    def _liquidus_not_below_solidus(cls, value: float, info: ValidationInfo) -> float | None:
        return _check_liquidus(value, info)

    @field_validator("composition_wt_pct")
    @classmethod
    def _composition_sums_to_100(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return _check_composition(value)


class Phase(Material):
    """A single phase with a measured elastic-plastic law (nanoindentation)."""

    youngs_gpa: Youngs
    hardness_gpa: Annotated[float, Field(gt=0.0, le=100.0, description="GPa")]
    poisson: Poisson
    yield_mpa: StressMpa
    hardening_n: HardeningN
    composition_wt_pct: dict[str, WtPct] | None = None

    @field_validator("composition_wt_pct")
    @classmethod
    def _composition_sums_to_100(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return _check_composition(value)

    def flow_stress_mpa(self, plastic_strain: float) -> float:
        """Return σ = σy·(1 + E·εp/σy)^n for a plastic strain, MPa."""
        return _flow_stress(self.yield_mpa, self.youngs_gpa, self.hardening_n, plastic_strain)

    def elastic_stress_mpa(self, strain: float) -> float:
        """Return σ = E·ε on the elastic branch (valid while σ <= σy), MPa."""
        return self.youngs_gpa * 1e3 * strain


# TOML keys are strings; int (lax) turns "1" into 1, and the range refuses grade 4.
Grade = Annotated[int, Field(ge=1, le=3)]


class Enamel(Thermal):
    """A magnet-wire enamel: thermal class, softening and decomposition, and grade builds."""

    thermal_class_c: ThermalClass
    softening_c: TempC
    decomposition_c: TempC
    solderable: bool
    standard: str | None = None
    grade_build_wire_mm: Annotated[float, Field(gt=0.0, le=5.0)] = 0.100
    grade_build_um: dict[Grade, BuildUm]
    grade_build_min_um: dict[Grade, BuildUm]
    grade_build_max_um: dict[Grade, BuildUm]

    @field_validator("decomposition_c")
    @classmethod
    def _decomposes_above_softening(cls, value: float, info: ValidationInfo) -> float:
        softening = info.data.get("softening_c")
        if softening is not None and value <= softening:
            raise ValueError(f"decomposition_c {value} °C is not above softening_c {softening} °C")
        return value

    @field_validator("grade_build_um", "grade_build_min_um", "grade_build_max_um")
    @classmethod
    def _all_grades(cls, value: dict[int, float]) -> dict[int, float]:
        if set(value) != {1, 2, 3}:
            raise ValueError(f"needs grades 1, 2 and 3 (got {sorted(value)})")
        builds = [value[g] for g in (1, 2, 3)]
        if builds != sorted(builds):
            raise ValueError(f"build must grow with grade (got {builds} µm for grades 1, 2, 3)")
        return value

    @field_validator("grade_build_max_um")
    @classmethod
    def _min_nominal_max(cls, value: dict[int, float], info: ValidationInfo) -> dict[int, float]:
        low = info.data.get("grade_build_min_um")
        mid = info.data.get("grade_build_um")
        if low is None or mid is None:
            return value
        for g in (1, 2, 3):
            if not low[g] <= mid[g] <= value[g]:
                raise ValueError(
                    f"grade {g}: need min <= nominal <= max (got {low[g]}, {mid[g]}, {value[g]} µm)"
                )
        return value

    def build_um(self, grade: int) -> float:
        """Return the nominal radial enamel build for a grade (1, 2 or 3), µm."""
        for known, build in self.grade_build_um.items():
            if known == grade:
                return build
        raise KeyError(f"no enamel grade {grade!r}; known grades: 1, 2, 3")


class Substrate(Thermal):
    """A board or pad material around the joint (FR-4, Cu pad) with optional elastic data."""

    youngs_gpa: Youngs | None = None
    poisson: Poisson | None = None
    cte_per_k: Cte | None = None
    cte_z_per_k: Cte | None = None


AnyMaterial = Wire | Enamel | Terminal | Coating | Electrode | Phase | Substrate


# A reference's key is what a citation names, so it is a TOML bare key: [references.He2006].
class Materials(Strict):
    """The whole materials file: one table of named materials per kind, and the documents cited."""

    references: dict[RefKey, Reference]
    wires: dict[str, Wire]
    enamels: dict[str, Enamel]
    terminals: dict[str, Terminal]
    coatings: dict[str, Coating]
    electrodes: dict[str, Electrode]
    phases: dict[str, Phase] = Field(default_factory=dict)
    substrates: dict[str, Substrate] = Field(default_factory=dict)

    @overload
    def get(self, kind: Literal["wires"], name: str) -> Wire: ...
    @overload
    def get(self, kind: Literal["enamels"], name: str) -> Enamel: ...
    @overload
    def get(self, kind: Literal["terminals"], name: str) -> Terminal: ...
    @overload
    def get(self, kind: Literal["coatings"], name: str) -> Coating: ...
    @overload
    def get(self, kind: Literal["electrodes"], name: str) -> Electrode: ...
    @overload
    def get(self, kind: Literal["phases"], name: str) -> Phase: ...
    @overload
    def get(self, kind: Literal["substrates"], name: str) -> Substrate: ...
    @overload
    def get(self, kind: str, name: str) -> AnyMaterial: ...

    def get(self, kind: str, name: str) -> AnyMaterial:
        """Return one material by kind ("wires", "enamels", …) and name; KeyError lists known."""
        kinds: tuple[str, ...] = get_args(Kind)
        if kind not in kinds:
            raise KeyError(f"unknown material kind {kind!r}; known kinds: {', '.join(kinds)}")
        table: dict[str, Any] = getattr(self, kind)
        if name not in table:
            known = ", ".join(sorted(table)) or "(none)"
            raise KeyError(f"unknown {kind} material {name!r}; known {kind}: {known}")
        material: AnyMaterial = table[name]
        return material

    def reference(self, key: str) -> Reference:
        """Return one cited document by its key; KeyError lists the known keys."""
        if key not in self.references:
            known = ", ".join(sorted(self.references)) or "(none)"
            raise KeyError(f"unknown reference {key!r}; known references: {known}")
        return self.references[key]

    def entries(self) -> list[tuple[str, str, Material]]:
        """Return every (kind, name, material) in the file, in file order."""
        kinds: tuple[str, ...] = get_args(Kind)
        return [(k, n, m) for k in kinds for n, m in getattr(self, k).items()]

    def cited_references(self) -> set[str]:
        """Return the keys of every reference an entry's citation or note names."""
        cited: set[str] = set()
        for _, _, material in self.entries():
            for _, text in _citation_texts(material):
                cited.update(_keys_named(text, is_note=False))
            cited.update(bracketed_keys(material.note or ""))
        return cited

    @model_validator(mode="after")
    def _citations_resolve(self) -> Materials:
        # Here, not on each entry: only the whole file knows its [references]. Each problem is
        # reported at its own field, as pydantic reports a field's range.
        errors: list[InitErrorDetails] = []

        def refuse(loc: tuple[str, ...], text: str, why: str) -> None:
            err = PydanticCustomError("citation", why)
            errors.append(InitErrorDetails(type=err, loc=loc, input=text))

        for kind, name, material in self.entries():
            inputs = set(type(material).model_fields) - {"source", "sources", "note"}
            texts = [*_citation_texts(material), (("note",), material.note or "")]
            for loc, text in texts:
                is_note = loc == ("note",)
                for key in _keys_named(text, is_note):
                    if key not in self.references:
                        refuse((kind, name, *loc), text, self._unknown_key(key))
                if not is_note and parse_citation(text).kind == "derived":
                    words = set(re.findall(r"\w+", text))
                    if not bracketed_keys(text) and not words & inputs:
                        refuse(
                            (kind, name, *loc),
                            text,
                            "a derived value names no input: cite a document as [key] or name "
                            "the field of this entry it is computed from",
                        )
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def _unknown_key(self, key: str) -> str:
        close = difflib.get_close_matches(key, list(self.references), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"cites {key!r}, which is not a key of [references]{hint}"


def _citation_texts(material: Material) -> list[tuple[tuple[str, ...], str]]:
    """Return (location in the entry, text) of the entry's source and each of its sources."""
    return [(("source",), material.source)] + [
        (("sources", field), text) for field, text in material.sources.items()
    ]


def _keys_named(text: str, is_note: bool) -> list[str]:
    """Return the reference keys a citation (or, as [key] only, a note) names."""
    return bracketed_keys(text) if is_note else list(parse_citation(text).keys)


def load_materials(path: str | Path | None = None) -> Materials:
    """Read the materials file (default: the repo's configs/materials.toml); ConfigError if bad.

    Each weld the simulator prepares on its own reads the file, and parsing it and checking its
    citations costs several times the rest of the weld's set-up: one text is parsed once, and
    every caller gets a copy of its own to change.
    """
    path = Path(materials_path() if path is None else path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return load_model(Materials, path)  # refuses, naming the file and why it cannot be read
    return _parsed(str(path), text).model_copy(deep=True)


def material_problems(
    named: list[tuple[str, Kind, str | None]], path: str | Path | None = None
) -> list[tuple[str, str]]:
    """Return (field, reason) for each (field, kind, name) whose material the materials file
    lacks (None or "": none asked for)."""
    mats = load_materials(path) if path is not None else _default()
    problems = []
    for field, kind, name in named:
        table: dict[str, Any] = getattr(mats, kind)
        if name and name not in table:  # ("" or None: no material of that kind)
            known = ", ".join(sorted(table))
            problems.append((field, f"no {kind} material {name!r} in the materials file: {known}"))
    return problems


def _default() -> Materials:
    path = materials_path()
    try:
        return _parsed(str(path), path.read_text(encoding="utf-8"))  # (read, not changed)
    except OSError:
        return load_materials(path)


@functools.lru_cache(maxsize=4)
def _parsed(source: str, text: str) -> Materials:
    return model_from_text(Materials, text, source)


def materials_schema() -> dict[str, Any]:
    """Return the JSON schema of the materials file."""
    return Materials.model_json_schema()
