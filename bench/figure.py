"""One measured figure of a benchmark, with its unit and goal."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Figure:
    """A benchmark result: `name value unit (goal ...)`."""

    name: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None

    def line(self) -> str:
        """Return the one-line form printed by `microweld bench`."""
        goal = ""
        if self.goal:
            verdict = "" if self.met is None else (", met" if self.met else ", NOT met")
            goal = f" (goal {self.goal}{verdict})"
        return f"{self.name} {self.value:.4g} {self.unit}{goal}"

    def as_dict(self) -> dict[str, object]:
        """Return the figure as a plain dict for last.json."""
        return asdict(self)
