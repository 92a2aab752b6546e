"""configs/variation.toml: loaded, range-checked, every citation resolved, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.config.files import ENV
from drivers.config.loader import ConfigError
from drivers.config.variation import FILE_NAME, load_variation, variation_path

SHIPPED = Path(__file__).resolve().parents[4] / "configs" / FILE_NAME


def _with(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / FILE_NAME
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_shipped_file_loads_with_every_source_on() -> None:
    var = load_variation(SHIPPED)
    assert var.off == () and all(var.on(name) for name, _ in var.entries())
    assert var.wire_diameter.tolerance_mm(0.100) == 0.003
    assert var.wire_diameter.tolerance_mm(0.400) == 0.005
    assert not var.switched_off("head_force").on("head_force")
    with pytest.raises(ValueError, match="frozen"):
        var.head_force.sd_pct = 2.0  # shared by every weld: never changed in place


@pytest.mark.parametrize(
    ("old", "new", "field", "says"),
    [
        ("sd_pct = 1.0", "sd_pct = -1.0", "head_force.sd_pct", "greater than or equal"),
        ("sd_pct = 1.0", "sd_pct = 0.1", "head_force", "6 σ"),
        ("sigma_ln = 0.3", 'sigma_ln = "0.3"', "surface_film.sigma_ln", "not a string"),
        ("off = []", 'off = ["wire_size"]', "off[0]", "wire_diameter"),
        (
            "margin_mm = 0.02",
            "margin_mm = 0.02\nspan_mm = 1",
            "wire_offset.span_mm",
            "unknown field",
        ),
        ("Thornton1996", "Thornton1999", "surface_film.source", "not a key of [references]"),
        ("up_to_mm = 0.125", "up_to_mm = 2.0", "wire_diameter", "ascend"),
    ],
)
def test_a_bad_file_is_refused_naming_the_field(tmp_path, old, new, field, says) -> None:
    with pytest.raises(ConfigError) as exc:
        load_variation(_with(tmp_path, old, new))
    text = str(exc.value)
    assert FILE_NAME in text and field in text and says in text, text


def test_a_config_folder_without_its_own_file_uses_the_shipped_one(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV, str(tmp_path))
    assert variation_path() == SHIPPED
    (tmp_path / FILE_NAME).write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    assert variation_path() == tmp_path / FILE_NAME
