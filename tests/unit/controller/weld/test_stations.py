"""Where config files are read from, and where a station's QA log is, from any folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.qa.stores import QaUrl
from controller.weld.stations import SimStation, data_dir, load_station, recipe_window
from drivers.config.files import config_dir, config_path, materials_path
from tests.helpers.paths import REPO


def test_the_shipped_configs_are_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROWELD_CONFIG_DIR", raising=False)
    assert config_dir() == REPO / "configs"
    assert config_path("stations", "sim") == REPO / "configs" / "stations" / "sim.toml"
    assert config_path("schedules", "x/y.toml") == Path("x/y.toml")  # a path is a path
    assert materials_path() == REPO / "configs" / "materials.toml"


def test_a_config_folder_of_ones_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MICROWELD_CONFIG_DIR", str(tmp_path))
    assert config_path("windows", "w") == tmp_path / "windows" / "w.toml"
    with pytest.raises(ValueError, match=str(tmp_path / "stations" / "sim.toml")):
        load_station("sim")  # refused naming the file it looked for


def test_the_data_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MICROWELD_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d"
    monkeypatch.delenv("MICROWELD_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "microweld"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".local" / "share" / "microweld"


def test_a_relative_qa_log_is_in_the_data_folder_wherever_one_stands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_folder: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert SimStation(schedule="s").qa_location() == data_folder / "qa" / "sim.sqlite"
    assert SimStation(schedule="s", qa_log="/var/qa.sqlite").qa_location() == Path("/var/qa.sqlite")
    url = "postgresql://qa@127.0.0.1:5432/welds"
    assert SimStation(schedule="s", qa_log=url).qa_location() == QaUrl(url)
    # one given on the command line is a path as typed: relative to where one stands
    assert SimStation(schedule="s").qa_location("mine.sqlite") == Path("mine.sqlite")


def test_a_schedule_asked_for_brings_its_own_window() -> None:
    # (the shipped configs: every shipped schedule has a window of its name)
    assert recipe_window(None, None, "tc_inverter_cu100_pb200", "station-win") == "station-win"
    assert recipe_window(None, "tc_cd_cu100_pb200", "tc_cd_cu100_pb200", "x") == "tc_cd_cu100_pb200"
    assert recipe_window(None, "my.toml", "no_such_schedule_window", "x") is None
    assert recipe_window("none", "tc_cd_cu100_pb200", "tc_cd_cu100_pb200", "x") is None
    assert recipe_window("w2", None, "tc_cd_cu100_pb200", "x") == "w2"
