"""scripts/check_structure.py: long modules, long functions and import cycles fail the build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import REPO

SCRIPT = REPO / "scripts" / "check_structure.py"


def _check(root: Path, *packages: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(SCRIPT), "--root", str(root), *packages]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _package(root: Path, name: str, modules: dict[str, str]) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text("")
    for module, text in modules.items():
        (root / name / f"{module}.py").write_text(text)


def _function(lines: int) -> str:
    return "def f():\n" + "    x = 1\n" * (lines - 2) + "    return x\n"


def test_a_tree_within_the_limits_passes(tmp_path: Path) -> None:
    _package(tmp_path, "pkg", {"a": "import pkg.b\n" + _function(80), "b": "X = 1\n" * 500})
    proc = _check(tmp_path, "pkg")
    assert proc.returncode == 0, proc.stdout
    assert "3 modules: no problem" in proc.stdout


def test_a_module_over_500_lines_fails_naming_it(tmp_path: Path) -> None:
    _package(tmp_path, "pkg", {"big": "X = 1\n" * 501})
    proc = _check(tmp_path, "pkg")
    assert proc.returncode == 1
    assert "pkg/big.py: 501 lines (at most 500)" in proc.stdout


def test_a_function_over_80_lines_fails_naming_it_and_its_line(tmp_path: Path) -> None:
    _package(tmp_path, "pkg", {"long": "\n\n" + _function(81)})
    proc = _check(tmp_path, "pkg")
    assert proc.returncode == 1
    assert "pkg/long.py:3: f() is 81 lines (at most 80)" in proc.stdout


def test_an_import_cycle_fails_naming_its_modules(tmp_path: Path) -> None:
    _package(
        tmp_path,
        "pkg",
        {"a": "from pkg import b\n", "b": "from pkg import c\n", "c": "import pkg.a\n"},
    )
    proc = _check(tmp_path, "pkg")
    assert proc.returncode == 1
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("import cycle: ")]
    assert set(line.removeprefix("import cycle: ").split(" -> ")) == {"pkg.a", "pkg.b", "pkg.c"}


def test_a_cycle_through_a_late_import_fails_one_for_type_checking_only_does_not(
    tmp_path: Path,
) -> None:
    late = "def f():\n    from pkg import b\n    return b\n"
    _package(tmp_path, "pkg", {"a": late, "b": "import pkg.a\n"})
    assert _check(tmp_path, "pkg").returncode == 1
    typing_only = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg import b\n"
    (tmp_path / "t").mkdir()
    _package(tmp_path / "t", "pkg", {"a": typing_only, "b": "import pkg.a\n"})
    assert _check(tmp_path / "t", "pkg").returncode == 0
