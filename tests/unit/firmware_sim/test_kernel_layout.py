"""The kernel's vector layouts: every slot named once, with a unit and a meaning, indices 0..N-1;
the digest that keeps the cached kernel in step with its modules; the notice when it is not."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from firmware_sim import kernel as K
from firmware_sim.cli import kernel_cached
from firmware_sim.kernel import weld
from tests.helpers.sources import sources_sha256

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


def test_the_entry_module_holds_the_digest_of_the_other_kernel_modules() -> None:
    # numba checks only the entry file before it reuses the compiled `advance` (see weld.py)
    package = Path(weld.__file__).parent
    now = sources_sha256([p for p in sorted(package.glob("*.py")) if p.name != "weld.py"])
    assert now == weld.SOURCES_SHA256, (
        f"a kernel module changed: set SOURCES_SHA256 = {now!r} in {weld.__file__}"
    )


@pytest.mark.skipif("NUMBA_CACHE_DIR" in os.environ, reason="numba caches outside the tree")
def test_the_notice_looks_for_the_index_numba_writes(tmp_path: Path) -> None:
    # importing the kernel compiled `advance` or loaded it: either way its index is there
    names = [p.name for p in (Path(weld.__file__).parent / "__pycache__").glob("*.nbi")]
    assert any(name.startswith("weld.advance-") for name in names)
    entry = tmp_path / "weld.py"
    entry.write_text("")
    os.utime(entry, (0.0, 0.0))
    (tmp_path / "__pycache__").mkdir()
    for name in names:
        (tmp_path / "__pycache__" / name).write_bytes(b"")
    assert kernel_cached(entry)


def test_an_index_counts_for_this_python_until_the_module_is_rewritten(tmp_path: Path) -> None:
    entry = tmp_path / "weld.py"
    entry.write_text("")
    assert not kernel_cached(entry)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "weld.advance-12.py27.nbi").write_bytes(b"")
    assert not kernel_cached(entry)
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    index = tmp_path / "__pycache__" / f"weld.advance-12.{tag}.nbi"
    index.write_bytes(b"")
    assert kernel_cached(entry)
    later = index.stat().st_mtime + 5.0
    os.utime(entry, (later, later))
    assert not kernel_cached(entry)
