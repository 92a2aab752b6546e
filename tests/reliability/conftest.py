"""The reliability battery: each test says what it ran through `record`.

Short form by default (CI); the long form with MICROWELD_RELIABILITY=long (`microweld
reliability --long`). With MICROWELD_RELIABILITY_REPORT=FILE each test appends one JSON line:
its name, cases run, faults injected, failures, worst latency and its outcome.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import controller.weld.bench
from controller.weld.simstation import Endpoints, sim_station
from tests.reliability.battery import Record


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Iterator[Record]:
    rec = Record()
    t0 = time.monotonic()
    yield rec
    out = os.environ.get("MICROWELD_RELIABILITY_REPORT")
    if not out:
        return
    rep = getattr(request.node, "rep_call", None)
    line: dict[str, Any] = {
        "test": request.node.name,
        "cases": rec.cases,
        "faults": rec.faults,
        "failures": rec.failures,
        "worst_ms": rec.worst_ms,
        "seconds": round(time.monotonic() - t0, 2),
        "outcome": rep.outcome if rep is not None else "error",
        "notes": rec.notes,
    }
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    rep = yield
    if rep.when == "call":
        item.rep_call = rep  # type: ignore[attr-defined]
    return rep


@pytest.fixture
def tapped(monkeypatch: pytest.MonkeyPatch) -> list[Endpoints]:
    """Let a WeldSession start its simulated station as usual, and note where it listens."""
    seen: list[Endpoints] = []

    @contextmanager
    def tap(*args: str, **kw: Any) -> Iterator[Endpoints]:
        with sim_station(*args, **kw) as ends:
            seen.append(ends)
            yield ends

    monkeypatch.setattr(controller.weld.bench, "sim_station", tap)
    return seen
