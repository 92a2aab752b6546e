"""Fail on a source module over 500 lines, a function over 80 lines, or an import cycle.

    python scripts/check_structure.py [--root DIR] [PACKAGE ...]

The packages (default: the project's controller, drivers, firmware_sim, gui and bench) are
read from DIR (default: the repository). The tests are not held to these sizes: a scenario
reads best whole. A cycle is looked for in the imports between modules (grimp, which the
import-linter contracts use too) that run: one made only for type checking (under
`if TYPE_CHECKING:`) is not an import at run time, and a module may name its caller's type so.
"""

from __future__ import annotations

import argparse
import ast
import graphlib
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
PACKAGES = ("controller", "drivers", "firmware_sim", "gui", "bench")


def _modules(root: Path, packages: list[str]) -> Iterator[Path]:
    for package in packages:
        yield from sorted((root / package).rglob("*.py"))


def size_problems(path: Path, shown: Path) -> list[str]:
    """Return what is too long in one module: itself, or any of its functions."""
    text = path.read_text(encoding="utf-8")
    problems = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        problems.append(f"{shown}: {lines} lines (at most {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                problems.append(
                    f"{shown}:{node.lineno}: {node.name}() is {length} lines "
                    f"(at most {MAX_FUNCTION_LINES})"
                )
    return problems


def cycle_problems(root: Path, packages: list[str]) -> list[str]:
    """Return an import cycle between the packages' modules, if there is one."""
    sys.path.insert(0, str(root))
    try:
        graph = grimp.build_graph(*packages, cache_dir=None, exclude_type_checking_imports=True)
    finally:
        sys.path.remove(str(root))
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        return ["import cycle: " + " -> ".join(reversed(cycle))]
    return []


def main(argv: list[str] | None = None) -> int:
    """Check the packages; print each problem; return 1 if there is any."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("packages", nargs="*", default=list(PACKAGES))
    args = ap.parse_args(argv)
    root: Path = args.root.resolve()
    problems = []
    for path in _modules(root, args.packages):
        problems += size_problems(path, path.relative_to(root))
    problems += cycle_problems(root, args.packages)
    for line in problems:
        print(line)
    count = sum(1 for _ in _modules(root, args.packages))
    print(f"{count} modules: " + (f"{len(problems)} problem(s)" if problems else "no problem"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
