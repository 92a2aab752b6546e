"""The tests' common ground: the test tiers' switches, an isolated data folder for every test,
and a PostgreSQL server for the QA-log tests.

Tiers (folders): unit/ (pure logic, the numba kernels, the QA log on its backends), protocol/
(byte-exact frames), integration/ (the controller against the simulated station over the real
protocols), hardware/ (real devices; only with --device-address), reliability/ (the battery;
`microweld reliability`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.pgserver import PgServer, PgUnavailableError, start_server

# Qt must never look for a display in the tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test writes a QA log into the data folder of whoever runs them: one folder for the run (the
# module-scoped fixtures' sessions), and one of its own for each test (data_folder below).
RUN_DATA = tempfile.mkdtemp(prefix="microweld-test-data-")
os.environ["MICROWELD_DATA_DIR"] = RUN_DATA


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove the run's data folder."""
    shutil.rmtree(RUN_DATA, ignore_errors=True)


@pytest.fixture(autouse=True)
def data_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give each test a data folder of its own (a station's relative qa_log is in it)."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("MICROWELD_DATA_DIR", str(folder))
    return folder


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the hardware tier's switch and its settings (see tests/hardware/conftest.py)."""
    group = parser.getgroup("hardware", "the hardware tier (tests/hardware)")
    group.addoption(
        "--device-address",
        default=None,
        help="run the hardware tier against the devices here: tcp://HOST:PORT (Modbus TCP) or a "
        "serial port or pyserial URL (Modbus RTU)",
    )
    group.addoption(
        "--supply-model",
        choices=("cd_supply", "inverter_supply"),
        default="inverter_supply",
        help="the supply's register map (inverter_supply)",
    )
    group.addoption("--supply-unit", type=int, default=1, help="the supply's Modbus unit (1)")
    group.addoption("--head-unit", type=int, default=2, help="the force head's Modbus unit (2)")
    group.addoption("--baudrate", type=int, default=115200, help="RTU only (115200)")


# --- the QA log on both backends: a PostgreSQL server started for the test run ----------------


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
