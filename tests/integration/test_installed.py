"""microweld installed as a package (not from the source tree) welds from any folder: the config
files travel in it, and the QA log is where the station says, whichever folder you stand in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.config.files import ENV as CONFIG_ENV
from tests.helpers.paths import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the project's own packages (no dependencies: the test environment has them) into
    a folder of their own, as pip installs them from a wheel."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    src = build / "src"
    # from a copy: a build leaves its files in the tree it builds from
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__"))
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, src]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return target


def _tomls(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*.toml")}


def _env(site: Path, data: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROWELD_")}
    return {**env, "PYTHONPATH": str(site), "MICROWELD_DATA_DIR": str(data), **more}


def _microweld(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "controller.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


def test_the_installed_package_runs_from_itself(installed: Path, tmp_path: Path) -> None:
    code = "import configs, controller, drivers, firmware_sim; print(configs.__file__)"
    env = _env(installed, tmp_path)
    cmd = [sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert Path(out.stdout.strip()).is_relative_to(installed), out.stdout + out.stderr
    shipped = {
        p.relative_to(installed / "configs") for p in (installed / "configs").rglob("*.toml")
    }
    in_tree = {p.relative_to(REPO / "configs") for p in (REPO / "configs").rglob("*.toml")}
    assert shipped == in_tree


def test_a_run_from_another_folder_logs_where_the_station_says(
    installed: Path, tmp_path: Path
) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = _microweld(["run", "--count", "1", "--png", ""], elsewhere, _env(installed, data))
    assert out.returncode == 0, out.stdout + out.stderr
    log = data / "qa" / "sim.sqlite"  # the sim station's qa_log, in the data folder
    assert f"QA log: {log}" in out.stdout.splitlines()[0]
    assert log.is_file() and not any(elsewhere.iterdir())


def test_a_config_dir_of_ones_own_is_read_by_every_process(installed: Path, tmp_path: Path) -> None:
    mine = tmp_path / "configs"
    shutil.copytree(REPO / "configs", mine, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    station = (mine / "stations" / "sim.toml").read_text()
    (mine / "stations" / "mine.toml").write_text(station.replace("qa/sim.sqlite", "qa/mine.sqlite"))
    env = _env(installed, tmp_path / "data")
    args = ["--config-dir", str(mine), "run", "--station", "mine", "--count", "1"]
    ok = _microweld(args, tmp_path, env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (tmp_path / "data" / "qa" / "mine.sqlite").is_file()
    # the simulated station, a process of its own, reads the folder too (the materials are the
    # simulator's alone): broken there, they stop it, naming the file
    (mine / "materials.toml").write_text("wires = 3\n")
    env[CONFIG_ENV] = str(mine)
    bad = _microweld(["run", "--station", "mine", "--count", "1"], tmp_path, env)
    assert bad.returncode != 0
    assert str(mine / "materials.toml") in bad.stdout + bad.stderr
