"""`microweld map` end to end: the points through the controller on simulated stations in
lockstep (two local processes, or a Dask cluster), the same map whichever process welds which
point, and a bad sweep refused before any weld."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest

from controller.cli.main import main
from drivers.config.schedule import load_schedule
from tests.helpers.paths import REPO

TC = load_schedule(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")
CD = load_schedule(REPO / "configs" / "schedules" / "tc_cd_cu100_pb200.toml")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_map_runs_the_points_through_the_controller(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["map", "tc_inverter_cu100_pb200", "--vary", "voltage=2.1,3.6", "--vary",
            "time_ms=24,30", "--repeat", "2", "--quiet"]  # fmt: skip
    scratch = Path(tempfile.gettempdir() if not Path("/dev/shm").is_dir() else "/dev/shm")
    before = set(scratch.glob("*/map.sqlite"))
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    # the workers' scratch logs go with them (pool workers skip atexit: they were left behind)
    assert set(scratch.glob("*/map.sqlite")) <= before
    out = capsys.readouterr().out
    rows = _rows(tmp_path / "two" / "tc_inverter_cu100_pb200_map.csv")
    assert len(rows) == 8
    png = tmp_path / "two" / "tc_inverter_cu100_pb200_map.png"
    assert png.stat().st_size > 20_000
    by = {(r["voltage (V)"], r["time_ms (ms)"], r["repeat"]): r for r in rows}
    # the calibration point passes the shipped window and makes a sound joint
    for rep in ("0", "1"):
        nominal = by[("2.1", "24", rep)]
        assert nominal["verdict"] == "PASS" and nominal["defect (truth)"] == "none"
        assert float(nominal["jbf_pct_of_wire (truth)"]) > 50.0
        # far too hot: the wire is cut or over-deformed, and the controller does not pass it
        hot = by[("3.6", "30", rep)]
        assert hot["defect (truth)"] in ("wire_cut", "over_deformation", "electrode_stick")
        assert hot["verdict"] != "PASS" and hot["reasons"]
    assert "defects inside the PASS region (truth): none" in out
    # one process or two: the same welds (each point welds its own part, whoever runs it)
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "one")]) == 0
    assert _rows(tmp_path / "one" / "tc_inverter_cu100_pb200_map.csv") == rows


def test_map_refuses_a_bad_sweep_before_welding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["map", "tc_inverter_cu100_pb200", "--vary", "voltage=1:200:3", "--out",
                 str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "weld1_voltage_v" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_map_refuses_a_voltage_the_supply_cannot_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["map", "tc_inverter_cu100_pb200", "--vary", "voltage=1:9:3", "--out",
                 str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "9 V is more than this supply can give" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_map_on_a_dask_cluster_gives_the_same_welds(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="the cluster extra (dask) is not installed")
    args = ["map", "tc_inverter_cu100_pb200", "--vary", "voltage=2.1,2.4", "--quiet"]
    assert main([*args, "--executor", "dask", "--out", str(tmp_path / "dask")]) == 0
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    name = "tc_inverter_cu100_pb200_map.csv"
    assert _rows(tmp_path / "dask" / name) == _rows(tmp_path / "local" / name)
