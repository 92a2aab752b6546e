"""Shared helpers for the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEDULES = REPO / "configs" / "schedules"

# Qt must never look for a display in the tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def schedules_dir() -> Path:
    return SCHEDULES
