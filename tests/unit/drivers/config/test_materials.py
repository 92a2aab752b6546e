"""Tests for the materials database: the shipped file, its sources, and refusal of bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.config.files import materials_path
from drivers.config.loader import ConfigError
from drivers.config.materials import Materials, load_materials, materials_schema
from drivers.config.references import bracketed_keys, parse_citation
from drivers.config.variation import load_variation

SHIPPED_TEXT = materials_path().read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def mats() -> Materials:
    return load_materials()


def _mutated(header: str, old: str, new: str) -> str:
    """Return the shipped TOML with `old` replaced by `new` in the first line after `header`."""
    start = SHIPPED_TEXT.index(header + "\n")
    at = SHIPPED_TEXT.index(old, start)
    # The replacement must land inside the intended table, not a later one.
    assert "\n[" not in SHIPPED_TEXT[start + len(header) : at]
    return SHIPPED_TEXT[:at] + new + SHIPPED_TEXT[at + len(old) :]


def _refused(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "materials.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_materials(path)
    assert str(path) in str(info.value)
    return info.value


# --- the shipped file ------------------------------------------------------------------------


def test_shipped_file_loads_from_default_and_explicit_path(mats: Materials) -> None:
    assert load_materials(materials_path()) == mats
    for kind in ("wires", "enamels", "terminals", "coatings", "electrodes"):
        assert getattr(mats, kind), f"{kind} is empty"


def test_required_entries_present(mats: Materials) -> None:
    expected = {
        "wires": {"Cu", "Ni", "316LVM", "Pt-10Ir"},
        "enamels": {"polyurethane", "polyesterimide", "polyimide"},
        "terminals": {"phosphor_bronze", "Cu", "Ni"},
        "coatings": {"Sn", "Sn-2.0Ag-0.5Cu-7.5Bi", "SnBi36Ag0.5"},
        "electrodes": {"Mo", "W", "CuCrZr"},
        "phases": {"Sn_rich"},
        "substrates": {"FR-4", "Cu_pad"},
    }
    for kind, names in expected.items():
        assert names <= set(getattr(mats, kind)), kind


# --- provenance: what the file records, not what lies beside the checkout ----------------------


def _citations(mats: Materials) -> list[tuple[str, str]]:
    """Return (dotted field, citation) for every value of every entry."""
    out = []
    for kind, name, material in mats.entries():
        for field in material.value_fields():
            out.append((f"{kind}.{name}.{field}", material.source_of(field)))
    return out


def test_every_value_has_a_citation(mats: Materials) -> None:
    citations = _citations(mats)
    assert citations
    for where, text in citations:
        citation = parse_citation(text)  # raises on a malformed one
        assert citation.text.strip(), f"{where}: {text!r} says nothing"


def test_every_cited_key_is_a_reference(mats: Materials) -> None:
    cited = set()
    for where, text in _citations(mats):
        keys = parse_citation(text).keys
        assert set(keys) <= set(mats.references), f"{where} cites {keys} ({text!r})"
        cited.update(keys)
    for kind, name, material in mats.entries():
        keys = bracketed_keys(material.note or "")
        assert set(keys) <= set(mats.references), f"{kind}.{name}.note cites {keys}"
        cited.update(keys)
    assert cited == mats.cited_references()
    # configs/variation.toml cites this file's references too
    for _, entry in load_variation(materials=mats).entries():
        for _, text in entry.citations():
            cited.update(parse_citation(text).keys)
        cited.update(bracketed_keys(entry.note or ""))
    # A reference nothing cites is stale, or an entry lost its citation.
    assert set(mats.references) == cited, f"never cited: {sorted(set(mats.references) - cited)}"


def test_document_citations_have_a_locator(mats: Materials) -> None:
    documents = 0
    for where, text in _citations(mats):
        citation = parse_citation(text)
        if citation.kind != "document":
            continue
        documents += 1
        assert citation.key in mats.references, where
        assert any(ch.isalnum() for ch in citation.text), f"{where}: no locator in {text!r}"
        assert citation.text != citation.key, where
    assert documents, "no value cites a document at all"


def test_derived_values_name_their_inputs(mats: Materials) -> None:
    for kind, name, material in mats.entries():
        for field in material.value_fields():
            citation = material.citation_of(field)
            if citation.kind != "derived":
                continue
            fields = set(type(material).model_fields)
            named = citation.keys or [w for w in citation.text.split() if w.strip("(),") in fields]
            assert named, f"{kind}.{name}.{field}: {citation.text!r} names no input"


def test_every_reference_is_findable(mats: Materials) -> None:
    assert mats.references
    for key, ref in mats.references.items():
        assert ref.authors or ref.publisher, f"{key}: neither authors nor a publisher"
        assert len(ref.title.strip()) >= 3, f"{key}: no title"
        assert ref.year == "n.d." or isinstance(ref.year, int), f"{key}: no year"
        if ref.kind == "article":
            assert ref.journal and isinstance(ref.year, int), key
            # a reader needs one of these to find a paper in its journal
            assert ref.doi or ref.pages or ref.article_id or ref.note, key
        if ref.kind == "standard":
            assert ref.number and ref.publisher, key


def test_nothing_points_outside_the_repository() -> None:
    # The old citations named files in ../shared (papers, DESIGN.md) that a clone alone never has.
    for bad in ("../shared", "shared/papers", "papers/0", "DESIGN.md"):
        assert bad not in SHIPPED_TEXT, bad


def test_papers_are_cited_by_key(mats: Materials) -> None:
    c = mats.get("coatings", "Sn-2.0Ag-0.5Cu-7.5Bi")
    assert c.references_of("solidus_c") == ["He2006"]
    assert c.citation_of("yield_mpa").text.startswith("table 4")
    he = mats.reference("He2006")
    assert he.article_id == "1004-0609(2006)02-0315-07"
    assert he.language and "Chinese" in he.language
    assert mats.get("phases", "Sn_rich").references_of("yield_mpa") == ["Liu2022"]
    assert mats.get("wires", "Cu").references_of("uts_mpa") == ["Cui2021"]
    assert mats.reference("Cui2021").doi == "10.1007/s40194-021-01082-7"
    with pytest.raises(KeyError, match=r"known references: .*He2006"):
        mats.reference("papers/001")


def test_solidus_not_above_liquidus_everywhere(mats: Materials) -> None:
    checked = 0
    for kind, name, material in mats.entries():
        solidus = getattr(material, "solidus_c", None)
        liquidus = getattr(material, "liquidus_c", None)
        if solidus is not None and liquidus is not None:
            assert solidus <= liquidus, f"{kind}.{name}"
            checked += 1
    assert checked >= 10


def test_enamel_softens_before_it_decomposes_and_builds_grow(mats: Materials) -> None:
    for name, enamel in mats.enamels.items():
        assert enamel.softening_c < enamel.decomposition_c, name
        assert enamel.build_um(1) < enamel.build_um(2) < enamel.build_um(3), name
        assert enamel.grade_build_wire_mm == pytest.approx(0.100)
    assert mats.enamels["polyurethane"].solderable
    assert mats.enamels["polyurethane"].thermal_class_c in (155, 180)
    assert mats.enamels["polyesterimide"].thermal_class_c in (180, 200)
    assert mats.enamels["polyimide"].thermal_class_c in (220, 240)
    assert mats.enamels["polyimide"].decomposition_c >= 500.0
    with pytest.raises(KeyError, match="known grades"):
        mats.enamels["polyurethane"].build_um(4)


# --- values from He2006 and Liu2022 are exactly those papers' numbers -------------------------


def test_sn_ag_cu_bi_coating_matches_he2006(mats: Materials) -> None:
    c = mats.get("coatings", "Sn-2.0Ag-0.5Cu-7.5Bi")
    assert (c.solidus_c, c.liquidus_c) == (189.0, 213.0)
    assert c.density_kg_m3 == 7560.0
    assert c.specific_heat_j_kgk == 245.0
    assert c.conductivity_w_mk == 29.4
    assert c.latent_heat_j_g == 59.4
    assert c.youngs_gpa == 52.5
    assert c.poisson == 0.30
    assert c.cte_per_k == 25e-6
    assert c.yield_mpa == 85.3
    assert c.references_of("yield_mpa") == ["He2006"]
    assert "table 4" in c.source_of("yield_mpa")


def test_pad_and_fr4_match_he2006(mats: Materials) -> None:
    pad = mats.get("substrates", "Cu_pad")
    assert (pad.density_kg_m3, pad.specific_heat_j_kgk, pad.conductivity_w_mk) == (
        8800.0,
        385.0,
        389.0,
    )
    assert (pad.youngs_gpa, pad.poisson, pad.cte_per_k) == (126.0, 0.34, 16.6e-6)
    fr4 = mats.get("substrates", "FR-4")
    assert (fr4.density_kg_m3, fr4.specific_heat_j_kgk, fr4.conductivity_w_mk) == (
        1500.0,
        1000.0,
        0.301,
    )


def test_sn_rich_phase_matches_liu2022(mats: Materials) -> None:
    p = mats.get("phases", "Sn_rich")
    assert (p.youngs_gpa, p.hardness_gpa, p.yield_mpa, p.hardening_n) == (
        61.1,
        0.37,
        31.51,
        0.3096,
    )
    # The paper writes the law as 61100*eps and 31.51*(1 + 1939.07*eps_p)^0.3096.
    assert p.youngs_gpa * 1e3 == pytest.approx(61100.0)
    assert round(p.youngs_gpa * 1e3 / p.yield_mpa, 2) == 1939.07
    eps_p = 0.02
    assert p.flow_stress_mpa(eps_p) == pytest.approx(31.51 * (1 + 1939.07 * eps_p) ** 0.3096, 1e-6)
    assert p.flow_stress_mpa(0.0) == pytest.approx(31.51)
    assert p.elastic_stress_mpa(31.51 / 61100.0) == pytest.approx(31.51)


# --- physics checks on the data --------------------------------------------------------------


def test_copper_wire_breaks_at_1_40_n(mats: Materials) -> None:
    cu = mats.get("wires", "Cu")
    force = cu.breaking_force_n(0.1)
    assert force == pytest.approx(1.40, rel=0.03)
    # Cui2021: a 1.17 N joint is 83.7 % of the wire's own strength.
    assert force * 0.837 == pytest.approx(1.17, rel=0.03)


def test_copper_electrical_data(mats: Materials) -> None:
    cu = mats.get("wires", "Cu")
    assert cu.resistivity_ohm_m == pytest.approx(1.72e-8, rel=1e-3)
    assert cu.temp_coeff_per_k == pytest.approx(0.0039, abs=1e-4)
    assert cu.resistivity_at_ohm_m(120.0) == pytest.approx(1.72e-8 * (1 + 0.00393 * 100), 1e-9)


def test_coating_melting_points(mats: Materials) -> None:
    assert mats.get("coatings", "Sn").solidus_c == pytest.approx(232.0, abs=0.5)
    snbi = mats.get("coatings", "SnBi36Ag0.5")
    assert 135.0 <= snbi.solidus_c <= 140.0
    assert 165.0 <= snbi.liquidus_c <= 185.0
    # Bi lowers the melting range far below tin's, which bounds the interface temperature.
    assert snbi.liquidus_c < mats.get("coatings", "Sn").solidus_c


def test_electrode_tips_resistance_rises_with_temperature(mats: Materials) -> None:
    for name in ("Mo", "W"):
        tip = mats.get("electrodes", name)
        assert 0.0044 <= tip.temp_coeff_per_k <= 0.0048, name
        assert tip.resistivity_at_ohm_m(520.0) > 3.0 * tip.resistivity_ohm_m
    assert mats.get("electrodes", "CuCrZr").softening_c is not None


def test_hardening_law_reproduces_uts(mats: Materials) -> None:
    for kind in ("wires", "terminals"):
        for name, metal in getattr(mats, kind).items():
            assert metal.necking_uts_mpa() == pytest.approx(metal.uts_mpa, rel=0.02), name
            assert metal.flow_stress_mpa(0.0) == pytest.approx(metal.yield_mpa)
            assert metal.flow_stress_mpa(0.2) > metal.flow_stress_mpa(0.05)


def test_get_lists_known_names(mats: Materials) -> None:
    assert mats.get("terminals", "phosphor_bronze").youngs_gpa > 0
    with pytest.raises(KeyError, match=r"unknown wires material 'Au'.*Cu"):
        mats.get("wires", "Au")
    with pytest.raises(KeyError, match="known kinds: wires"):
        mats.get("wire", "Cu")


def test_schema_exports() -> None:
    schema = materials_schema()
    assert {"wires", "enamels", "terminals", "coatings", "electrodes"} <= set(schema["properties"])


# --- bad files are refused with the file, the dotted field and the reason -------------------


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    text = _mutated(
        "[wires.Cu]", "density_kg_m3 = 8890.0", 'density_kg_m3 = 8890.0\ncolour = "red"'
    )
    err = _refused(tmp_path, text)
    assert "wires.Cu.colour" in str(err)
    assert "unknown field" in str(err)


def test_negative_density_is_refused(tmp_path: Path) -> None:
    text = _mutated("[wires.Cu]", "density_kg_m3 = 8890.0", "density_kg_m3 = -8890.0")
    err = _refused(tmp_path, text)
    assert "wires.Cu.density_kg_m3" in str(err)
    assert "greater than" in str(err)
    assert "-8890.0" in str(err)


def test_solidus_above_liquidus_is_refused(tmp_path: Path) -> None:
    text = _mutated('[coatings."SnBi36Ag0.5"]', "solidus_c = 138.0", "solidus_c = 190.0")
    err = _refused(tmp_path, text)
    assert "coatings.SnBi36Ag0.5.liquidus_c" in str(err)
    assert "below solidus_c 190.0" in str(err)


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    text = _mutated("[wires.Cu]", "density_kg_m3 = 8890.0", "density_kg_m3 = = 8890.0")
    err = _refused(tmp_path, text)
    assert "(syntax)" in str(err)
    assert "not valid TOML" in str(err)


def test_other_cross_field_checks_are_refused(tmp_path: Path) -> None:
    uts = _refused(tmp_path, _mutated("[wires.Ni]", "uts_mpa = 462.0", "uts_mpa = 100.0"))
    assert "wires.Ni.uts_mpa" in str(uts)
    enamel = _refused(
        tmp_path,
        _mutated("[enamels.polyimide]", "decomposition_c = 500.0", "decomposition_c = 300.0"),
    )
    assert "enamels.polyimide.decomposition_c" in str(enamel)
    sources = _refused(
        tmp_path,
        _mutated("[electrodes.W.sources]", "temp_coeff_per_k =", "temp_coef_per_k ="),
    )
    assert "electrodes.W.sources" in str(sources)
    assert "temp_coef_per_k" in str(sources)


def test_unit_slip_is_refused(tmp_path: Path) -> None:
    # g/cm³ typed for kg/m³, and ppm typed for 1/K, are the likely slips.
    err = _refused(
        tmp_path, _mutated("[electrodes.Mo]", "density_kg_m3 = 10220.0", "density_kg_m3 = 10.22")
    )
    assert "electrodes.Mo.density_kg_m3" in str(err)
    err = _refused(tmp_path, _mutated("[electrodes.Mo]", "cte_per_k = 4.8e-6", "cte_per_k = 4.8"))
    assert "electrodes.Mo.cte_per_k" in str(err)


# --- citations are checked against the file's own [references] --------------------------------


def test_unknown_reference_is_refused(tmp_path: Path) -> None:
    text = _mutated(
        '[coatings."Sn-2.0Ag-0.5Cu-7.5Bi".sources]',
        'yield_mpa = "He2006 table 4',
        'yield_mpa = "Hee2006 table 4',
    )
    err = _refused(tmp_path, text)
    assert "coatings.Sn-2.0Ag-0.5Cu-7.5Bi.sources.yield_mpa" in str(err)
    assert "'Hee2006', which is not a key of [references]" in str(err)
    assert "did you mean 'He2006'" in str(err)


def test_unknown_reference_in_a_default_source_derived_text_or_note_is_refused(
    tmp_path: Path,
) -> None:
    source = _refused(
        tmp_path, _mutated("[substrates.FR-4]", 'source = "He2006', 'source = "Zhao2006')
    )
    assert "substrates.FR-4.source" in str(source)
    derived = _refused(
        tmp_path, _mutated("[wires.Pt-10Ir.sources]", "([CRC]: Pt 168", "([CRC2]: Pt 168")
    )
    assert "wires.Pt-10Ir.sources.youngs_gpa" in str(derived)
    assert "'CRC2'" in str(derived)
    note = _refused(
        tmp_path, _mutated("[electrodes.Mo]", "[Li2020] section 2", "[Li2021] section 2")
    )
    assert "electrodes.Mo.note" in str(note)


def test_a_paper_file_name_is_refused(tmp_path: Path) -> None:
    # The old form: a private file name is no reference a reader can look up.
    text = _mutated(
        "[substrates.Cu_pad]", 'source = "He2006 table 3"', 'source = "papers/001_x.txt table 3"'
    )
    err = _refused(tmp_path, text)
    assert "substrates.Cu_pad.source" in str(err)
    assert "not a reference key" in str(err)


def test_a_citation_without_locator_is_refused(tmp_path: Path) -> None:
    old = 'source = "Liu2022 table 1 and section 2.2.3"'
    for bare in ('source = "Liu2022"', 'source = "Liu2022 ()"'):
        err = _refused(tmp_path, _mutated("[phases.Sn_rich]", old, bare))
        assert "phases.Sn_rich.source" in str(err)
        assert "without a locator" in str(err)


def test_a_derived_value_without_inputs_is_refused(tmp_path: Path) -> None:
    text = _mutated(
        '[coatings."SnBi36Ag0.5".sources]',
        'density_kg_m3 = "derived: ideal mixing of [CRC] densities',
        'density_kg_m3 = "derived: ideal mixing of densities',
    )
    err = _refused(tmp_path, text)
    assert "coatings.SnBi36Ag0.5.sources.density_kg_m3" in str(err)
    assert "names no input" in str(err)


def test_a_bad_reference_is_refused(tmp_path: Path) -> None:
    unknown = _refused(
        tmp_path,
        _mutated("[references.He2006]", 'kind = "article"', 'kind = "article"\nisbn = "x"'),
    )
    assert "references.He2006.isbn" in str(unknown)
    assert "unknown field" in str(unknown)
    no_year = _refused(tmp_path, _mutated("[references.He2006]", "year = 2006\n", ""))
    assert "references.He2006.year" in str(no_year)
    quoted = _refused(tmp_path, _mutated("[references.He2006]", "year = 2006", 'year = "2006"'))
    assert "references.He2006.year" in str(quoted)
    no_publisher = _refused(tmp_path, _mutated("[references.CRC]", 'publisher = "CRC Press"\n', ""))
    assert "references.CRC" in str(no_publisher)
    assert "authors or a publisher" in str(no_publisher)


# --- reading it again ------------------------------------------------------------------------


def test_a_text_is_parsed_once_and_every_caller_gets_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drivers.config.materials as module

    parsed: list[str] = []
    parse = module.model_from_text

    def counting(model: type[Materials], text: str, source: str) -> Materials:
        parsed.append(source)
        return parse(model, text, source)

    monkeypatch.setattr(module, "model_from_text", counting)
    module._parsed.cache_clear()
    path = tmp_path / "materials.toml"
    path.write_text(SHIPPED_TEXT, encoding="utf-8")

    first, second = load_materials(path), load_materials(path)
    assert parsed == [str(path)]
    assert first == second and first is not second
    first.wires["Cu"].density_kg_m3 = 9000.0  # a caller's change stays its own
    assert load_materials(path).wires["Cu"].density_kg_m3 == 8890.0

    # The same length, so neither the size nor a coarse clock could tell the edit apart.
    path.write_text(SHIPPED_TEXT.replace("density_kg_m3 = 8890.0", "density_kg_m3 = 8891.0", 1))
    assert load_materials(path).wires["Cu"].density_kg_m3 == 8891.0
    assert parsed == [str(path), str(path)]
    module._parsed.cache_clear()
