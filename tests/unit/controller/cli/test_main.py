"""controller/cli/main.py: every command and every option of `microweld` says what it is for
(`microweld X --help`), the commands it hands over to the simulator and the GUI included;
`schema` writes the schema of every kind of config file."""

from __future__ import annotations

import argparse
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.cli.main import build_parser, main
from controller.weld.stations import load_station
from tests.helpers.paths import CONFIGS


def _undocumented(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
    """Yield each subcommand and option under parser that has no help text."""
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                if not helps.get(name):
                    yield f"{path} {name}"
                yield from _undocumented(child, f"{path} {name}")
            continue
        # a hidden option (a deprecated spelling) is SUPPRESSed on purpose: that is a help
        if not action.help:
            yield f"{path} {'/'.join(action.option_strings) or action.dest}"


def _gui_parser(monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """Return the parser `microweld gui` builds (inside gui.main.main, not a function of its
    own): caught as it parses, before any window."""
    from gui import main as gui_main

    caught: list[argparse.ArgumentParser] = []

    def parse_args(self: argparse.ArgumentParser, *_: object, **__: object) -> None:
        caught.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_args)
    with pytest.raises(SystemExit):
        gui_main.main([])
    return caught[0]


def test_every_command_and_option_has_a_help_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from firmware_sim.cli import build_parser as simulator_parser

    missing = [
        *_undocumented(build_parser(), "microweld"),
        # `sim` and `simulate` are the simulator's own command line, handed over
        *_undocumented(simulator_parser(), "microweld (sim|simulate)"),
        *_undocumented(_gui_parser(monkeypatch), "microweld gui"),
    ]
    assert missing == []


def test_schema_writes_the_station_files_schema_beside_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "station.schema.json" in written and "schedule.schema.json" in written
    assert f"wrote {tmp_path / 'station.schema.json'}" in capsys.readouterr().out
    schema = json.loads((tmp_path / "station.schema.json").read_text())
    kinds = schema["discriminator"]["mapping"]
    assert set(kinds) == {"sim", "modbus_tcp", "modbus_rtu"}
    # a station file's top level is the station itself: every shipped one fits its kind's
    # schema (each key known, every required key there), as the loader reads it
    for path in sorted((CONFIGS / "stations").glob("*.toml")):
        data = tomllib.loads(path.read_text())
        kind = schema["$defs"][kinds[data["kind"]].rpartition("/")[2]]
        assert kind["additionalProperties"] is False
        assert set(data) <= set(kind["properties"]), path.name
        assert set(kind["required"]) <= set(data), path.name
        load_station(str(path))
