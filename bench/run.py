"""Run the benchmarks: each bench_*.py module has `run() -> list[Figure]`; print and save them.

Usage: python bench/run.py [--only NAME ...]   (NAME is the module name without bench_)
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.figure import Figure  # noqa: E402


def discover() -> list[str]:
    """Return the benchmark names found in bench/ (bench_NAME.py)."""
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; return the exit code."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    args = ap.parse_args(argv)
    names = discover()
    chosen = args.only or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        print(
            f"error: no benchmark {', '.join(unknown)}; known: {', '.join(names)}", file=sys.stderr
        )
        return 2
    figures: list[Figure] = []
    for name in chosen:
        print(f"[{name}] running ...", flush=True)
        t0 = time.perf_counter()
        module = importlib.import_module(f"bench.bench_{name}")
        for fig in module.run():
            print("  " + fig.line(), flush=True)
            figures.append(fig)
        print(f"[{name}] done in {time.perf_counter() - t0:.1f} s", flush=True)
    out = HERE / "last.json"
    out.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": {
                    "python": platform.python_version(),
                    "cpu": platform.processor(),
                    "system": platform.platform(),
                },
                "figures": [f.as_dict() for f in figures],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
