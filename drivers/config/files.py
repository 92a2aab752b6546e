"""Where the config files are: those shipped with the package, or a folder of your own.

`MICROWELD_CONFIG_DIR` names a folder laid out as the shipped one (`devices/`, `schedules/`,
`stations/`, `windows/`, `materials.toml`); `microweld --config-dir DIR` sets it for one command
and for the simulated station that command starts. Without it, the files installed with the
package (the `configs` folder of a source checkout) are used. A name that ends in `.toml` is a
file's path, anything else a file of that name in its folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import configs

ENV = "MICROWELD_CONFIG_DIR"
Kind = Literal["devices", "schedules", "stations", "windows"]


def config_dir() -> Path:
    """Return the folder the config files are read from."""
    chosen = os.environ.get(ENV, "").strip()
    return Path(chosen).expanduser() if chosen else Path(configs.__file__).resolve().parent


def config_path(kind: Kind, name: str | Path) -> Path:
    """Return the file of a config given by name (config_dir()/kind/NAME.toml) or by path."""
    path = Path(name)
    return path if path.suffix == ".toml" else config_dir() / kind / f"{name}.toml"


def materials_path() -> Path:
    """Return the materials database file."""
    return config_dir() / "materials.toml"
