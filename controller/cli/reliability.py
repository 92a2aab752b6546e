"""`microweld reliability [--long]`: run the reliability battery and print what it found.

The battery lives in tests/reliability (pytest, hypothesis): the short form is what CI runs,
the long form raises every count (10^5 fuzz cases, 1,000 dropped FIRE replies, 10,000 soak
welds...). Each test writes one line of a report; this prints them as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BATTERY = REPO / "tests" / "reliability"
COLUMNS = ("test", "cases", "faults", "failures", "worst ms", "s", "result")


def table(rows: list[dict[str, Any]]) -> str:
    """Return the report lines as a text table (one row per test)."""
    cells = [
        (
            r["test"],
            f"{r['cases']:,}",
            f"{r['faults']:,}",
            str(r["failures"]),
            "—" if r["worst_ms"] is None else f"{r['worst_ms']:.1f}",
            f"{r['seconds']:.1f}",
            r["outcome"],
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [COLUMNS, *cells]) for i in range(len(COLUMNS))]
    right = {1, 2, 3, 4, 5}

    def line(c: tuple[str, ...]) -> str:
        return "  ".join(
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(c, widths, strict=True))
        )

    out = [line(COLUMNS), "  ".join("-" * w for w in widths)]
    out += [line(c) for c in cells]
    # what a test measured beyond its counts (a memory figure, a latency's context)
    notes = [f"  {r['test']}: {n}" for r in rows for n in r.get("notes", [])]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


def cmd_reliability(args: argparse.Namespace) -> int:
    """Run the battery (short or long form), print the table; exit 1 if anything failed."""
    if not BATTERY.exists():
        print(
            f"error: {BATTERY} not found; the battery runs from a source checkout", file=sys.stderr
        )
        return 2
    try:
        import hypothesis  # noqa: F401
        import pytest  # noqa: F401
    except ImportError:
        print("error: the battery needs the test extra: pip install -e '.[test]'", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.jsonl"
        env = dict(os.environ)
        env["MICROWELD_RELIABILITY"] = "long" if args.long else "short"
        env["MICROWELD_RELIABILITY_REPORT"] = str(report)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        cmd = [sys.executable, "-m", "pytest", str(BATTERY), "-m", "reliability", "-q"]
        cmd += ["-k", args.k] if args.k else []
        rc = subprocess.call(cmd, cwd=REPO, env=env)
        rows = [json.loads(x) for x in report.read_text().splitlines()] if report.exists() else []
    print()
    print(f"reliability battery, {'long' if args.long else 'short'} form:")
    print(table(rows) if rows else "(no test reported)")
    failed = [r["test"] for r in rows if r["outcome"] != "passed" or r["failures"]]
    if failed or rc != 0:
        print(f"\nFAILED: {', '.join(failed) or 'see the pytest output above'}")
        return 1
    print(f"\nall {len(rows)} passed")
    return 0


def add_parser(sub: Any) -> None:
    """Add `reliability` to the command line."""
    p = sub.add_parser(
        "reliability",
        help="run the reliability battery (tests/reliability) and print a table of what it found",
    )
    p.add_argument("--long", action="store_true", help="the long form (hours), not CI's short one")
    p.add_argument("-k", metavar="EXPR", help="only the tests whose names match (pytest -k)")
    p.set_defaults(func=cmd_reliability)
