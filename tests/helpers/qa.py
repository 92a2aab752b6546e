"""The QA-log tests' helpers: a log seen from outside its QaLog (a second connection of the
backend's own driver, as another station or QA's tools would see it), and a writer process.

`python -m tests.helpers.qa TARGET STATION COUNT [PAUSE_S]` opens the log, prints "ready", waits
for a line on its input (so several writers start at once), then records COUNT welds, PAUSE_S
apart, printing each id once its record is committed: what a station would show as a final
verdict.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from typing import Any

from controller.qa.log import QaLog
from controller.qa.stores import is_url
from tests.helpers.records import weld_record


def backend(target: str) -> str:
    """Return "postgres" for a server's URL, "sqlite" for a file."""
    return "postgres" if is_url(target) else "sqlite"


def connect(target: str) -> Any:
    """Return a connection of the backend's own driver, apart from any QaLog (autocommit)."""
    if backend(target) == "postgres":
        import psycopg

        return psycopg.connect(target, autocommit=True)
    return sqlite3.connect(target, isolation_level=None)


def count_welds(target: str) -> int:
    """Return how many welds another connection sees committed."""
    db = connect(target)
    try:
        return int(db.execute("SELECT COUNT(*) FROM welds").fetchone()[0])
    finally:
        db.close()


def integrity_error(target: str) -> type[Exception]:
    """Return the driver's error for a broken constraint."""
    if backend(target) == "postgres":
        import psycopg

        return psycopg.IntegrityError
    return sqlite3.IntegrityError


def main(argv: list[str]) -> int:
    target, station, count = argv[0], argv[1], int(argv[2])
    pause_s = float(argv[3]) if len(argv) > 3 else 0.0
    log = QaLog(target)
    print("ready", flush=True)
    sys.stdin.readline()
    for k in range(count):
        rec = weld_record(k, station=station, part_id=f"{station}-{k:04d}", supply_weld_count=k + 1)
        print(log.record(rec), flush=True)
        time.sleep(pause_s)
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
