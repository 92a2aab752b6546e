"""Station configs (configs/stations/*.toml): which devices, over what, with which schedule, and
where the station's QA log is.

A station's qa_log is a postgresql:// URL, an absolute path, or a path relative to the data
folder: `MICROWELD_DATA_DIR`, else `$XDG_DATA_HOME/microweld`, else `~/.local/share/microweld`
(so `qa/sim.sqlite`, the simulated station's, is the same file whichever folder a command is
run from). A QA log given on the command line is a path as typed, relative to where you stand.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, TypeAdapter, field_validator, model_validator

from controller.qa.mes import check_opcua_url, unsecured_problem
from controller.qa.seal import data_dir
from controller.qa.stores import QaUrl, check_qa_log, qa_target
from controller.qa.text import name_problem
from drivers.config.files import config_path
from drivers.config.loader import ConfigError, Strict, parse_model

# where the station's QA log is: a SQLite file, or postgresql://user@host:port/database
QaLogField = Annotated[str, AfterValidator(check_qa_log)]
OpcUaField = Annotated[str, AfterValidator(check_opcua_url)]


class _Station(Strict):
    """What every station config has: its schedule, window and electrode counts."""

    schedule: str
    window: str | None = None
    electrode_warning: int = Field(5000, ge=1, description="welds before a dressing warning")
    electrode_limit: int = Field(6000, ge=1, description="welds after which welding stops")
    shifts: list[str] = Field(
        ["06:00", "14:00", "22:00"],
        min_length=1,
        description="when each shift starts, local time HH:MM, every day (the yield counters)",
    )
    reply_timeout_ms: float = Field(
        500.0, ge=10.0, le=10_000.0, description="a device's reply timeout between welds, ms"
    )
    weld_reply_timeout_ms: float = Field(
        100.0,
        ge=5.0,
        le=1_000.0,
        description="the reply timeout while a weld runs, ms: after a lost link the safe "
        "state goes out this long after the last good reply",
    )
    # twice the cycle's heartbeat period (50 ms) at least, so one late beat does not trip it
    watchdog_ms: float = Field(
        150.0, ge=100.0, le=10_000.0, description="the devices' heartbeat watchdog, ms"
    )
    qa_log: QaLogField = Field(
        description="the QA log: a postgresql:// URL or a SQLite file (relative: in the data "
        "folder)"
    )
    mes_opcua: OpcUaField | None = Field(
        None,
        description="publish every logged weld on an OPC UA server at this endpoint, e.g. "
        "opc.tcp://127.0.0.1:4840/microweld/ (needs the mes extra; none by default)",
    )
    mes_security: Literal["none", "sign_encrypt"] = Field(
        "none",
        description='"sign_encrypt": Basic256Sha256 with Sign & Encrypt only, users from '
        "`microweld mes-user` (needed for an endpoint off this machine's loopback)",
    )

    @field_validator("shifts")
    @classmethod
    def _clock_times(cls, value: list[str]) -> list[str]:
        for text in value:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
                raise ValueError(f"{text!r} is not a time of day HH:MM (e.g. 06:00)")
        return value

    # a warning past the limit could never be shown: welding stops first
    @model_validator(mode="after")
    def _warning_before_limit(self) -> _Station:
        if self.electrode_warning > self.electrode_limit:
            raise ValueError(
                f"electrode_warning ({self.electrode_warning}) is above electrode_limit "
                f"({self.electrode_limit}): the warning would never be shown"
            )
        return self

    # never served in the clear beyond this machine
    @model_validator(mode="after")
    def _mes_secured_off_loopback(self) -> _Station:
        why = unsecured_problem(self.mes_opcua) if self.mes_opcua else ""
        if why and self.mes_security == "none":
            raise ValueError(f"mes_opcua: {why}")
        return self

    def qa_location(self, given: str | None = None) -> Path | QaUrl:
        """Return the QA log to use: the one given (a command line's, as typed), else the
        station's own (a relative path is in the data folder)."""
        if given:
            return qa_target(given)
        target = qa_target(self.qa_log)
        if isinstance(target, Path) and not target.expanduser().is_absolute():
            return data_dir() / target
        return target.expanduser() if isinstance(target, Path) else target


def _a_name(value: str) -> str:
    if why := name_problem(value):
        raise ValueError(f"a station name {why}")
    return value


# a station's name goes on every record it logs
StationName = Annotated[str, AfterValidator(_a_name)]


class SimStation(_Station):
    """The simulated station, started as a child process on loopback."""

    name: StationName = "sim"
    kind: Literal["sim"] = "sim"
    clock: Literal["lockstep", "paced"] = "lockstep"
    # refused here, not by the simulator once started (numpy refuses negative seeds)
    seed: int = Field(0, ge=0)
    tip_wear: bool = Field(
        False, description="the simulated tip wears weld by weld (the schedule's rate per weld)"
    )
    # The simulator shares a small machine with the controller (the GUI, the tests): a stall of
    # a few hundred ms there is load, not a cut cable, so its defaults are roomier than the
    # hardware's. The reliability battery holds the hardware's (100 ms, 150 ms) to the goals.
    reply_timeout_ms: float = Field(1000.0, ge=10.0, le=10_000.0)
    weld_reply_timeout_ms: float = Field(500.0, ge=5.0, le=1_000.0)
    watchdog_ms: float = Field(500.0, ge=100.0, le=10_000.0)
    qa_log: QaLogField = "qa/sim.sqlite"


class _Hardware(_Station):
    """Real devices: which supply model, their units, where the QA log goes."""

    name: StationName
    supply_model: Literal["cd_supply", "inverter_supply"]
    supply_unit: int = Field(1, ge=1, le=247)
    head_unit: int = Field(2, ge=1, le=247)

    # supply and head at one unit address of one bus: every request would reach both devices
    # (or the wrong one)
    @model_validator(mode="after")
    def _distinct_units(self) -> _Hardware:
        if self.supply_unit == self.head_unit:
            raise ValueError(
                f"supply_unit and head_unit are both {self.supply_unit}: "
                "two devices on one bus need two unit addresses"
            )
        return self


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


# any station, told apart by its `kind`
AnyStation = Annotated[SimStation | TcpStation | RtuStation, Field(discriminator="kind")]


class StationFile(Strict):
    """Any station config (the loader sees a file's top level as this `station` table)."""

    station: AnyStation


def station_schema() -> dict[str, Any]:
    """Return the JSON schema of a station file, whose top level is the station itself (not
    StationFile's wrapping table): one of the kinds, by `kind`."""
    schema = TypeAdapter(AnyStation).json_schema()
    return {"title": "Station", **schema}


def load_station(name_or_path: str) -> SimStation | TcpStation | RtuStation:
    """Load a station by name (configs/stations/NAME.toml) or by path."""
    path = config_path("stations", name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        why = f"cannot read: {exc.strerror or exc}"
        if isinstance(exc, FileNotFoundError) and path.suffix != Path(name_or_path).suffix:
            # a name, not a file: say which names there are
            known = sorted(p.stem for p in path.parent.glob("*.toml"))
            why = f"no station {name_or_path!r}; the stations are: {', '.join(known)}"
        raise ConfigError(str(path), [("(file)", why)]) from None
    try:
        return parse_model(StationFile, {"station": data}, str(path)).station
    except ConfigError as exc:
        # the loader sees the file wrapped in a [station] table the file does not have: name
        # the fields as the file writes them
        problems = [(_unwrap(f), r) for f, r in exc.problems]
        raise ConfigError(exc.source, problems) from None


def _unwrap(field: str) -> str:
    if field == "station":
        return "(top level)"
    return field.removeprefix("station.")


def schedule_path(name: str) -> Path:
    """Return the file of a schedule given by name or path."""
    return config_path("schedules", name)


def window_path(name: str) -> Path:
    """Return the file of a window given by name or path."""
    return config_path("windows", name)


def recipe_window(
    window: str | None, schedule: str | None, schedule_name: str, station_window: str | None
) -> str | None:
    """Return the window to judge by (None: none): the one asked for ("none": none); else,
    for a schedule asked for, its own (the window named after it, if there is one: a
    schedule and its window go together); else the station's."""
    if window is not None:
        return None if window == "none" else window
    if schedule is not None:
        return schedule_name if window_path(schedule_name).exists() else None
    return station_window
