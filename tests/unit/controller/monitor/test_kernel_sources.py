"""The monitor kernel's entry module carries the SHA-256 of the kernel modules it compiles in.

numba's cache checks a cached function against the file that defines it, and nothing else: an
edit to a pass module alone would leave monitor_block and monitor_record compiled from the old
pass in __pycache__. The hash in kernels.py changes that file along with them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from controller.monitor import kernels
from tests.helpers.sources import sources_sha256

HERE = Path(kernels.__file__).parent
# the kernel modules that kernels.py compiles in, in the order SOURCES_SHA256 hashes them
SOURCES = ("layout", "jit", "setdown", "events", "burn", "samples", "checks", "envelope")


def _kernel_imports(name: str) -> set[str]:
    """Return the modules of controller/monitor/ that module name imports (their names)."""
    tree = ast.parse((HERE / f"{name}.py").read_bytes())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("controller.monitor."):
                found.add(node.module.removeprefix("controller.monitor."))
            elif node.module == "controller.monitor":
                found |= {alias.name for alias in node.names}
    return found


def test_the_entry_module_carries_the_hash_of_the_kernel_modules() -> None:
    want = sources_sha256([HERE / f"{name}.py" for name in SOURCES])
    assert want == kernels.SOURCES_SHA256, (
        f"a kernel module changed and kernels.py did not: numba's cache would run the old "
        f'kernel. Set SOURCES_SHA256 = "{want}" in {kernels.__file__}'
    )


def test_the_hash_covers_every_module_the_kernel_is_compiled_from() -> None:
    seen: set[str] = set()
    todo = ["kernels"]
    while todo:
        for name in _kernel_imports(todo.pop()) - seen:
            seen.add(name)
            todo.append(name)
    assert seen - {"kernels"} == set(SOURCES)
