"""Shared helpers for the tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgserver import PgServer, PgUnavailableError, start_server

REPO = Path(__file__).resolve().parents[1]
SCHEDULES = REPO / "configs" / "schedules"

# Qt must never look for a display in the tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def schedules_dir() -> Path:
    return SCHEDULES


# --- the QA log on both backends (issue 8): a PostgreSQL server started for the test run -----


def _postgres_required() -> bool:
    """In CI (and under scripts/test) a missing server fails the tests instead of skipping."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("MICROWELD_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server on a free loopback port for the whole run, stopped at its end."""
    try:
        server = start_server()
    except PgUnavailableError as exc:
        why = str(exc)
    else:
        try:
            yield server
        finally:
            server.stop()
        return
    if _postgres_required():
        pytest.fail(f"{why}\n(required: CI or MICROWELD_REQUIRE_POSTGRES=1)", pytrace=False)
    pytest.skip(f"no PostgreSQL server for the tests: {why}")


@pytest.fixture(params=["sqlite", "postgres"])
def qa_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty QA log on each backend, as a station's qa_log names it: a SQLite file's
    path, or the URL of a new database on the test server."""
    if request.param == "sqlite":
        return str(tmp_path / "qa.sqlite")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()
