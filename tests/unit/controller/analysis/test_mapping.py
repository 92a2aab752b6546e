"""Process-window mapping as pure logic: the grid, the schedule at each point, the lobe and its
suggested operating point."""

from __future__ import annotations

import numpy as np
import pytest

from controller.analysis.mapping import (
    MappedWeld,
    Point,
    centre,
    grid,
    lobe,
    parse_vary,
    report_lines,
    variant,
)
from drivers.config.loader import ConfigError
from drivers.config.schedule import load_schedule
from tests.helpers.paths import REPO

TC = load_schedule(REPO / "configs" / "schedules" / "tc_inverter_cu100_pb200.toml")
CD = load_schedule(REPO / "configs" / "schedules" / "tc_cd_cu100_pb200.toml")


def test_vary_names_the_schedule_field_and_its_unit() -> None:
    v = parse_vary("voltage=1.5:2.5:11", TC)
    assert (v.field, v.unit) == ("supply.weld1_voltage_v", "V")
    assert v.values[0] == 1.5 and v.values[-1] == 2.5 and len(v.values) == 11
    assert v.values[6] == 2.1  # rounded to the supply's 1 mV step, not 2.1000000000000005
    assert parse_vary("time_ms=20,24", TC).field == "supply.weld1_ms"
    assert parse_vary("force_n=8:16:3", TC).values == (8.0, 12.0, 16.0)
    assert parse_vary("supply.squeeze_ms=2,5", TC).unit == "ms"
    assert parse_vary("voltage=100:200:3", CD).field == "supply.charge_voltage_v"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("current=100:200:3", "voltage mode: vary voltage (V), not current"),
        ("voltage", "expected NAME=LO:HI:N"),
        ("voltage=1:2", "expected LO:HI:N"),
        ("voltage=1:2:0", "expected LO:HI:N"),
        ("voltage=1,nan", "finite"),
        ("voltage=2.1001,2.1002", "repeat once rounded"),
        ("speed=1:2:3", "unknown parameter 'speed'"),
        ("supply.nothing=1,2", "no field supply.nothing"),
        ("supply.mode=1,2", "not a number"),
    ],
)
def test_a_bad_vary_says_why(spec: str, says: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_vary(spec, TC)
    assert says in str(err.value)


def test_a_cd_schedule_has_no_weld_time_to_vary() -> None:
    with pytest.raises(ValueError, match="pulse width is set by the tap"):
        parse_vary("time_ms=1,2", CD)


def test_each_point_is_the_schedule_with_its_values_validated() -> None:
    axes = [parse_vary("voltage=1.9,2.1", TC), parse_vary("force_n=10,12", TC)]
    at = variant(TC, axes, (2.1, 12.0))
    assert at.digest() == TC.digest()  # the nominal point is the schedule itself
    other = variant(TC, axes, (1.9, 10.0))
    assert (other.supply.weld1_voltage_v, other.head.force_n) == (1.9, 10.0)
    with pytest.raises(ConfigError, match="weld1_voltage_v"):
        variant(TC, [parse_vary("voltage=50,200", TC)], (200.0,))


def test_the_grid_repeats_each_cell_with_the_same_parts() -> None:
    axes = [parse_vary("voltage=1.9,2.1,2.3", TC), parse_vary("time_ms=20,24", TC)]
    pts = grid(axes, 2)
    assert len(pts) == 12 and len({(p.cell, p.repeat) for p in pts}) == 12
    # repeat k of every cell welds part k: neighbours differ by their parameters only
    assert {p.part for p in pts if p.repeat == 1} == {1}
    assert pts[0].cell == (0, 0) and pts[2].cell == (1, 0)  # the first axis fastest


def _weld(cell: tuple[int, int], axes_values: list[tuple[float, ...]], verdict: str, defect: str,
          pct: float = 80.0) -> MappedWeld:  # fmt: skip
    values = tuple(v[i] for v, i in zip(axes_values, cell, strict=True))
    truth = {"jbf_pct_of_wire": pct, "defect": defect}
    return MappedWeld(Point(cell, values, 0), verdict, [], {}, 1.0, defect, truth)


def test_the_lobe_and_its_centre() -> None:
    axes = [parse_vary("voltage=1:5:5", TC), parse_vary("time_ms=10:50:5", TC)]
    vals = [a.values for a in axes]
    welds = []
    for i in range(5):
        for j in range(5):
            defect = "enamel_residue" if i == 0 else "over_deformation" if i == 4 else "none"
            weak = 30.0 if j == 0 else 80.0  # the shortest time makes weak joints
            verdict = "PASS" if (i, j) in ((2, 2), (2, 3)) else "FAIL"
            welds.append(_weld((i, j), vals, verdict, defect, weak))
    lb = lobe(axes, welds, min_jbf_pct=50.0)
    assert lb.defect[0, 2] == "enamel_residue" and lb.defect[2, 0] == "weak_joint"
    assert lb.sound.sum() == 3 * 4
    assert not lb.defects_in_pass()
    c = centre(lb)
    assert c is not None
    # the sound block is voltage 2..4 x time 20..50: its middle, away from the defects
    assert c.values[0] == 3.0 and c.values[1] in (30.0, 40.0)
    volt, time = c.margins
    assert (volt.down, volt.up) == (1.0, 1.0)  # to 2 V and 4 V, then a defect
    assert time.up is None  # sound up to the map's edge: nothing known past it
    assert lb.pass_frac[2, 2] == 1.0 and np.isnan(lb.jbf_n).sum() == 0


def test_no_sound_cell_means_no_suggestion() -> None:
    axes = [parse_vary("voltage=1,2", TC)]
    welds = [_weld((i,), [axes[0].values], "FAIL", "wire_cut") for i in range(2)]  # type: ignore[arg-type]
    assert centre(lobe(axes, welds)) is None


def test_a_margin_of_no_room_says_so_and_never_minus_zero() -> None:
    axes = [parse_vary("voltage=1:3:3", TC)]
    vals = [axes[0].values]
    # 1 V unsound, 2 and 3 V sound: the centre, 2 V, is one step from a defect below
    welds = [
        _weld((i,), vals, "PASS", "enamel_residue" if i == 0 else "none")  # type: ignore[arg-type]
        for i in range(3)
    ]
    lb = lobe(axes, welds)
    lines = report_lines(TC, lb, welds, 1.0)
    (drift,) = [line for line in lines if "may drift" in line]
    assert "-0 V" not in drift
    assert "voltage may drift less than -1 V (the next value, 1, is unsound)" in drift
