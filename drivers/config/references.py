"""Citations and the documents they cite: how the materials file says where each value comes
from, so that the repository alone tells a reader (configs/materials.toml, [references])."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from drivers.config.loader import Strict

# A citation names a document of the file's own [references], so that the repository alone
# tells a reader where a value comes from: "<key> <locator>" (He2006 table 3), "derived: ..."
# (computed here from the inputs it names: [key] for a document, or a field of the entry) or
# "estimate: ...". A [key] anywhere in a citation or a note names a further reference.
DERIVED = "derived:"
ESTIMATE = "estimate:"
_KEY = r"[A-Za-z][A-Za-z0-9_-]*"  # a TOML bare key, so that [references.<key>] needs no quotes
_KEY_RE = re.compile(_KEY)
_BRACKETED_KEY_RE = re.compile(rf"\[({_KEY})\]")


@dataclass(frozen=True)
class Citation:
    """One parsed citation: its kind, the document it leads with, its text, every key named."""

    kind: Literal["document", "derived", "estimate"]
    key: str | None  # the leading reference of a document citation
    text: str  # a document citation's locator, else what follows "derived:" or "estimate:"
    keys: tuple[str, ...]  # every reference named, the leading one first, each once


def bracketed_keys(text: str) -> list[str]:
    """Return the reference keys a text names as [key], in order, each once."""
    return list(dict.fromkeys(_BRACKETED_KEY_RE.findall(text)))


def parse_citation(text: str) -> Citation:
    """Parse one citation; ValueError says what is wrong with its form."""
    stripped = text.strip()
    if stripped.startswith(DERIVED) or stripped.startswith(ESTIMATE):
        derived = stripped.startswith(DERIVED)
        prefix = DERIVED if derived else ESTIMATE
        body = stripped[len(prefix) :].strip()
        if not body:
            raise ValueError(f"{prefix!r} needs text saying how the value was reached")
        keys = tuple(bracketed_keys(body))
        return Citation("derived" if derived else "estimate", None, body, keys)
    head, _, rest = stripped.partition(" ")
    if not _KEY_RE.fullmatch(head):
        raise ValueError(
            f"begins with {head!r}, not a reference key: cite '<key> <locator>' with <key> a "
            f"table of [references], or begin with {DERIVED!r} or {ESTIMATE!r}"
        )
    locator = rest.strip()
    if not any(ch.isalnum() for ch in locator):
        raise ValueError(
            f"cites {head!r} without a locator: say where in it (table, section, page or entry)"
        )
    return Citation("document", head, locator, tuple(dict.fromkeys([head, *bracketed_keys(rest)])))


def _citation_form(text: str) -> str:
    # a Source's validator: the form only (which keys exist is the whole file's to say)
    parse_citation(text)
    return text


Source = Annotated[
    str,
    Field(min_length=3, description="'<reference key> <locator>', 'derived: …' or 'estimate: …'"),
    AfterValidator(_citation_form),
]
RefKey = Annotated[str, Field(pattern=rf"^{_KEY}$")]
# A year, or "n.d." where the document carries no date or the revision used was never recorded
# (checked by Reference._year: one message, not one per member of a union).
Year = int | str
Text = Annotated[str, Field(min_length=1)]


class Reference(Strict):
    """One cited document, with what a reader needs to find it: who, what, where and when."""

    kind: Literal["article", "book", "standard", "datasheet"]
    title: Annotated[str, Field(min_length=3)]
    title_original: Text | None = Field(None, description="title in the document's language")
    authors: list[Text] = Field(default_factory=list)
    editors: list[Text] = Field(default_factory=list)
    publisher: Text | None = None
    journal: Text | None = None
    year: Year
    edition: Text | None = None
    volume: Text | None = None
    issue: Text | None = None
    pages: Text | None = None
    article_id: Text | None = Field(None, description="article number printed on the paper")
    number: Text | None = Field(None, description="standard or publication number")
    doi: Annotated[str, Field(pattern=r"^10\.\d{4,9}/\S+$")] | None = None
    language: Text | None = Field(None, description="if not English")
    note: Text | None = None

    @field_validator("year")
    @classmethod
    def _year(cls, value: int | str) -> int | str:
        if isinstance(value, str) and value != "n.d.":
            raise ValueError("expected a year (a number, e.g. 2006), or 'n.d.' for no date")
        if isinstance(value, int) and not 1800 <= value <= 2100:
            raise ValueError(f"year {value} is not between 1800 and 2100")
        return value

    @model_validator(mode="after")
    def _findable(self) -> Reference:
        if not (self.authors or self.publisher):
            raise ValueError("a reference needs authors or a publisher")
        if self.kind == "article" and (not self.journal or not self.authors):
            raise ValueError("an article needs its authors and its journal")
        if self.kind == "article" and not isinstance(self.year, int):
            raise ValueError("an article needs its year (not 'n.d.')")
        if self.kind == "standard" and not self.number:
            raise ValueError("a standard needs its number")
        return self
