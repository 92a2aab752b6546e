"""The kernel's vector layouts: every slot named once, with a unit and a meaning, indices 0..N-1."""

from __future__ import annotations

import re

import pytest

from firmware_sim import kernel as K

PROCESSES = {"resistor", "thermocompression", "direct"}
# what a slot without a unit may be: a count, a flag, a code or an index (not a ratio: "1")
UNITLESS = re.compile(r"(count|flag|code|index)\b")


def _meanings(meaning: str | dict[str, str]) -> list[str]:
    return list(meaning.values()) if isinstance(meaning, dict) else [meaning]


@pytest.mark.parametrize(
    ("layout", "size"), [(K.PARAMS, K.N_PARAMS), (K.STATE, K.N_STATE)], ids=["params", "state"]
)
def test_every_slot_is_named_once_with_its_unit_and_meaning(layout: K.Layout, size: int) -> None:
    rows = layout.rows()
    assert len(rows) == size == len(layout)
    assert [getattr(K, name) for name, _, _ in rows] == list(range(size))
    for name, unit, meaning in rows:
        assert isinstance(unit, str), name
        if isinstance(meaning, dict):
            assert set(meaning) == PROCESSES, f"{name}: one meaning per process kind"
        for text in _meanings(meaning):
            assert text.strip(), f"{name} has no meaning"
            if not unit:
                assert UNITLESS.match(text), f"{name} has no unit: say it is a count or flag"


def test_rows_refuse_a_slot_without_a_name_with_two_or_a_stray_index() -> None:
    space: dict[str, object] = {}
    layout = K.Layout("X_", space)
    space["X_A"] = layout.slot("s", "a time")
    layout.slot("m", "a length nobody named")
    with pytest.raises(ValueError, match=r"slot 1 has names \[\]"):
        layout.rows()
    space["X_B"] = space["X_C"] = 1
    with pytest.raises(ValueError, match="slot 1 has names"):
        layout.rows()
    del space["X_C"]
    space["X_STRAY"] = 7
    with pytest.raises(ValueError, match="outside the table"):
        layout.rows()
    del space["X_STRAY"]
    assert layout.rows() == [("X_A", "s", "a time"), ("X_B", "m", "a length nobody named")]
