"""Load TOML into pydantic models; refuse bad files with the file, the field and the reason."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base for every config model: unknown keys are refused, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


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


def parse_model(model: type[M], data: dict[str, Any], source: str = "<data>") -> M:
    """Validate a mapping against a model; raise ConfigError naming source, field and reason."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            reason = err["msg"]
            if err["type"] == "extra_forbidden":
                reason = "unknown field (not allowed here; check the spelling)"
            elif "input" in err and err["type"] not in ("missing",):
                reason = f"{reason} (got {err['input']!r})"
            problems.append((_field_path(tuple(err["loc"])), reason))
        raise ConfigError(source, problems) from None


def load_model(model: type[M], path: str | Path) -> M:
    """Read a TOML file into a model; raise ConfigError naming the file, field and reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [("(file)", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [("(syntax)", f"not valid TOML: {exc}")]) from None
    return parse_model(model, data, str(path))
