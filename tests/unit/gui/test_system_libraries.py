"""README.md names the Debian packages the GUI needs in a real window: every system library
that Qt's xcb platform plugin and the Qt libraries it loads need (their ELF NEEDED entries),
found neither in PySide6's wheel nor in the base system, is in a package the README names."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

# in every Debian system: the C and C++ runtimes, zlib and zstd (dpkg itself needs them)
BASE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1"}
# the plugin, and the Qt libraries of the wheel that the GUI loads with it
QT_FILES = (
    "plugins/platforms/libqxcb.so",
    "lib/libQt6XcbQpa.so.6",
    "lib/libQt6Gui.so.6",
    "lib/libQt6Widgets.so.6",
    "lib/libQt6Core.so.6",
    "lib/libQt6OpenGL.so.6",
    "lib/libQt6DBus.so.6",
)


def _readme_packages() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"sudo apt-get install (libegl1[^\n]*)", text)
    assert found, "README.md names no packages for the GUI's window"
    return set(found.group(1).split())


def _needed(qt: Path) -> dict[str, str]:
    """Return each library a Qt file needs that is outside the wheel, and where it is."""
    outside: dict[str, str] = {}
    for name in QT_FILES:
        elf = qt / name
        dynamic = subprocess.run(["readelf", "-d", str(elf)], capture_output=True, text=True)
        needed = re.findall(r"\(NEEDED\).*\[(.+)\]", dynamic.stdout)
        where = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.getoutput(f"ldd {elf}"), re.M))
        # (the dynamic loader, ld-linux, is libc6's and has no `=>` line)
        outside |= {
            lib: where[lib] for lib in needed if lib in where and "site-packages" not in where[lib]
        }
    return outside


def _owner(path: str) -> str:
    """Return the Debian package that installed path ("" if none did)."""
    found = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    return found.stdout.partition(":")[0] if found.returncode == 0 else ""


@pytest.mark.skipif(
    not (shutil.which("readelf") and shutil.which("dpkg") and shutil.which("ldd")),
    reason="needs readelf, ldd and dpkg (a Debian machine)",
)
def test_the_readme_names_every_package_a_real_qt_window_needs() -> None:
    qt = Path(pytest.importorskip("PySide6").__file__).parent / "Qt"
    listed = _readme_packages()
    missing = {}
    for lib, path in _needed(qt).items():
        owner = _owner(path) or _owner(str(Path(path).resolve()))  # (merged /usr: either name)
        if owner not in listed | BASE:
            missing[lib] = owner or "(no package: not installed here?)"
    assert missing == {}
