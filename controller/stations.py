"""Station configs (configs/stations/*.toml): which devices, over what, with which schedule."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from drivers.config.loader import ConfigError, Strict, parse_model

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


class _Station(Strict):
    """What every station config has: its schedule, window and electrode counts."""

    schedule: str
    window: str | None = None
    electrode_warning: int = Field(5000, ge=1, description="welds before a dressing warning")
    electrode_limit: int = Field(6000, ge=1, description="welds after which welding stops")


class SimStation(_Station):
    """The simulated station, started as a child process on loopback."""

    name: str = "sim"
    kind: Literal["sim"] = "sim"
    clock: Literal["lockstep", "paced"] = "lockstep"
    seed: int = 0
    qa_log: str = "qa/sim.sqlite"


class _Hardware(_Station):
    """Real devices: which supply model, their units, where the QA log goes."""

    name: str
    supply_model: Literal["cd_supply", "inverter_supply"]
    supply_unit: int = Field(1, ge=1, le=247)
    head_unit: int = Field(2, ge=1, le=247)
    qa_log: str


class TcpStation(_Hardware):
    """Real devices behind Modbus TCP, stream on a TCP port."""

    kind: Literal["modbus_tcp"] = "modbus_tcp"
    host: str
    modbus_port: int = Field(502, ge=1, le=65535)
    stream_port: int = Field(ge=1, le=65535)


class RtuStation(_Hardware):
    """Real devices on one RS-485 line (Modbus RTU), stream on a serial port."""

    kind: Literal["modbus_rtu"] = "modbus_rtu"
    serial_port: str
    baudrate: int = Field(115200, ge=1200, le=4_000_000)
    stream_port: str


class StationFile(Strict):
    """Any station config."""

    station: Annotated[SimStation | TcpStation | RtuStation, Field(discriminator="kind")]


def load_station(name_or_path: str) -> SimStation | TcpStation | RtuStation:
    """Load a station by name (configs/stations/NAME.toml) or by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = CONFIGS / "stations" / f"{name_or_path}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [("(file)", f"cannot read: {exc.strerror or exc}")]) from None
    return parse_model(StationFile, {"station": data}, str(path)).station


def schedule_path(name: str) -> Path:
    """Return the file of a schedule given by name or path."""
    p = Path(name)
    return p if p.suffix == ".toml" else CONFIGS / "schedules" / f"{name}.toml"


def window_path(name: str) -> Path:
    """Return the file of a window given by name or path."""
    p = Path(name)
    return p if p.suffix == ".toml" else CONFIGS / "windows" / f"{name}.toml"
