"""Load TOML into pydantic models; refuse bad files with the file, the field and the reason."""

from __future__ import annotations

import copy
import math
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base for every config model: unknown keys are refused, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    # A config value is what its file says: no boolean for a number, no quoted number, no
    # non-finite scalar. pydantic's lax mode would turn `force_n = true` into 1.0, `force_n =
    # "12"` into 12.0, `enamel_grade = true` into 1, `missing_wire = "yes"` into true, and let
    # `inf`/`nan` through every field bounded on one side only (or not at all).
    # (A model validator, not a field one: pydantic allows none on a union's `kind` tag.)
    @model_validator(mode="before")
    @classmethod
    def _no_silent_coercion(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        errors: list[InitErrorDetails] = []
        for name, value in data.items():
            info = cls.model_fields.get(name) if isinstance(name, str) else None
            if info is None:
                continue
            kinds = _scalar_kinds(info.annotation)
            why = ""
            if isinstance(value, bool):
                if kinds and bool not in kinds:
                    why = f"expected {_kind_text(kinds)}, not a boolean"
            elif kinds == {bool}:
                if not isinstance(value, bool):  # "yes" and 1 were read as true
                    why = f"expected true or false, not {type(value).__name__}"
            elif isinstance(value, str):
                if kinds and str not in kinds and kinds & {int, float}:
                    why = f"expected {_kind_text(kinds)}, not a string"
            elif isinstance(value, float) and not math.isfinite(value) and kinds:
                why = "expected a finite number"
            if why:
                err = PydanticCustomError("config_type", why)
                errors.append(InitErrorDetails(type=err, loc=(name,), input=value))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return data


def _scalar_kinds(annotation: Any) -> set[type]:
    """Return the scalar types a field annotation accepts (empty: not a scalar field)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _scalar_kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: set[type] = set()
        for arg in typing.get_args(annotation):
            out |= _scalar_kinds(arg)
        return out
    if origin is typing.Literal:
        return {type(v) for v in typing.get_args(annotation)}
    if annotation in (bool, int, float, str):
        return {annotation}
    if annotation is Any:
        return {bool, int, float, str}
    return set()


def _kind_text(kinds: set[type]) -> str:
    if kinds & {int, float}:
        return "a number"
    if str in kinds:
        return "a string"
    return "a value of another type"


class ConfigError(ValueError):
    """A config file was refused; the message names the file, each bad field and why."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {field}: {reason}" for field, reason in problems]
        super().__init__("invalid config\n  " + "\n  ".join(lines))


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def _in_file(data: Any, loc: tuple[int | str, ...], missing: bool) -> tuple[int | str, ...]:
    """Return the error location as the file spells it.

    pydantic puts a tagged union's tag in the location ("supply.inverter.weld1_ms" for [supply]
    weld1_ms), naming a key the file does not have; a segment that is not a key of the data at
    that point (but for the last one of a missing field) is such a tag and is left out.
    """
    out: list[int | str] = []
    node = data
    for k, item in enumerate(loc):
        last = k == len(loc) - 1
        if isinstance(node, dict):
            if item in node:
                node = node[item]
            elif not (last and missing):
                continue  # a union tag
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            node = node[item]
        else:
            node = None
        out.append(item)
    return tuple(out)


def _masked(value: object) -> object:
    """Return value with the password of a URL in it (scheme://user:password@host) hidden:
    a refused QA-log or MES URL is echoed back in the error, which goes to screens and logs."""
    if isinstance(value, str):
        return re.sub(r"(://[^/:@\s]*:)[^@/\s]*@", r"\1***@", value)
    return value


def parse_model(model: type[M], data: dict[str, Any], source: str = "<data>") -> M:
    """Validate a mapping against a model; raise ConfigError naming source, field and reason,
    every problem at once (REVEAL_ROUNDS)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, data)
    # pydantic stops a table at its first kind of failure (a value of the wrong type stops
    # the table's other checks; a cross-field check runs only once its fields are good):
    # the fields found bad are taken out and the rest checked again, so that one look shows
    # them all. A problem of a table holding a bad field is its consequence, not news.
    trial = copy.deepcopy(data)
    for _ in range(REVEAL_ROUNDS):
        for field, _reason in problems:
            _drop(trial, field)
        try:
            model.model_validate(trial)
            break
        except ValidationError as again:
            seen = [f for f, _ in problems]
            news = [
                (f, r)
                for f, r in _problems(again, trial)
                if not any(f == s or s.startswith(f + ".") for s in seen)
            ]
        if not news:
            break
        problems += news
    raise ConfigError(source, problems) from None


REVEAL_ROUNDS = 4  # checks again after taking bad fields out (each round may reveal more)


def _problems(exc: ValidationError, data: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (field as the file spells it, reason) for each of pydantic's errors."""
    problems = []
    for err in exc.errors():
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown field (not allowed here; check the spelling)"
        elif (
            "input" in err
            and err["type"] not in ("missing",)
            # a whole table as "got" would drown the reason
            and not isinstance(err["input"], dict | list)
        ):
            reason = f"{reason} (got {_masked(err['input'])!r})"
        loc = _in_file(data, tuple(err["loc"]), err["type"] == "missing")
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc += (str(err.get("ctx", {}).get("discriminator", "")).strip("'"),)
        problems.append((_field_path(loc), reason))
    return problems


def _drop(data: dict[str, Any], field: str) -> None:
    """Take a dotted field out of nested tables (a path that is not there is left alone)."""
    *path, last = field.split(".")
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def load_model(model: type[M], path: str | Path) -> M:
    """Read a TOML file into a model; raise ConfigError naming the file, field and reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [("(file)", f"cannot read: {exc.strerror or exc}")]) from None
    return model_from_text(model, text, str(path))


def model_from_text(model: type[M], text: str, source: str) -> M:
    """Parse TOML text into a model; raise ConfigError naming `source`, the field and reason."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [("(syntax)", f"not valid TOML: {exc}")]) from None
    return parse_model(model, data, source)
