"""The codebook and the wave summary exports (the demo's exports are checked with pycanon
in tests/research/test_demo_exports.py)."""

import csv
import json
import uuid
from datetime import date

import numpy as np
import pytest

from analytics.exporters import ExportRefused, ExportScope, export
from analytics.publishing import document_for, latest_snapshot, publish
from surveys import services
from surveys.models import Response

from .test_exporters import field_wave, pycanon_k_l, read_back, scope_for


def test_the_codebook_describes_items_scales_scoring_and_provenance(world, tmp_path):
    result = export(scope_for(world), "codebook", str(tmp_path))
    markdown_file, json_file = result.files
    book = json.loads(open(json_file.path, encoding="utf-8").read())
    instrument = book["instruments"][0]
    assert (instrument["key"], instrument["version"]) == ("belonging-pulse", "1.0")
    items = {i["key"]: i for i in instrument["items"]}
    assert len(items) == 6
    lonely = items["PISA2018.ST034Q06TA"]
    assert lonely["text"]["en"] == "I feel lonely at school."
    assert lonely["reverse_keyed"] is True and lonely["component"] == "perceptions"
    assert lonely["stata_spss_variable"] == "PISA2018_ST034Q06TA"
    assert lonely["provenance"]["citation"].startswith("OECD (2019)")
    assert lonely["labels"]["en"][0] == "Strongly disagree"
    assert [k for k, i in items.items() if i["reverse_keyed"]] == [
        "PISA2018.ST034Q01TA", "PISA2018.ST034Q04TA", "PISA2018.ST034Q06TA"]
    measure = instrument["measures"][0]
    assert measure["score_variable"] == "score_perceptions" and len(measure["items"]) == 6
    assert instrument["min_answered_share"] == 0.8
    assert any("80%" in rule for rule in book["scoring_rules"])
    assert book["privacy"]["k"] == 10 and book["privacy"]["l"] == 2
    assert book["waves"][0]["month"] == "2026-09"
    text = open(markdown_file.path, encoding="utf-8").read()
    assert "I feel lonely at school." in text and "OECD (2019)" in text
    assert "## Scoring rules" in text and "class code dropped" in text
    for secret in (world["wave"].public_id, world["wave"].label, world["school"].name):
        assert secret not in text and secret not in json.dumps(book)


def test_the_wave_summary_reissues_the_published_snapshot(world, tmp_path):
    field_wave(world, world["wave"])
    publish(world["wave"].id)
    snapshot = latest_snapshot(world["wave"])
    result = export(scope_for(world), "summary", str(tmp_path))
    table_file, json_file = result.files
    document = json.loads(open(json_file.path, encoding="utf-8").read())
    wave = document["waves"][0]
    published = snapshot.data["groups"]
    assert len(wave["groups"]) == len(published)
    school = next(g for g in wave["groups"] if g["group"] == "school")
    original = next(g for g in published if g["key"] == "school")
    assert school["n"] == original["n"]
    assert school["components"]["perceptions"]["value"] == \
        original["components"]["perceptions"]["value"]
    assert [g["suppressed"] for g in wave["groups"]] == [g["suppressed"] for g in published]
    hidden = [g for g in wave["groups"] if g["suppressed"]]
    assert all(set(g) == {"group", "kind", "suppressed"} for g in hidden)
    text = open(table_file.path, encoding="utf-8").read() + json.dumps(document)
    secrets = [world["school"].name, world["wave"].label, world["wave"].public_id,
               world["school"].public_id, "Class 7A",
               *(c.public_id for c in world["classes"].values())]
    assert not [s for s in secrets if s in text]
    rows = list(csv.DictReader(open(table_file.path, encoding="utf-8")))
    value = next(r for r in rows if r["group"] == "school" and r["statistic"] == "value"
                 and r["measure"] == "component:perceptions")
    assert float(value["value"]) == original["components"]["perceptions"]["value"]


def test_a_summary_of_an_unpublished_wave_is_refused(world, tmp_path):
    field_wave(world, world["wave"])
    with pytest.raises(ExportRefused, match="no published results"):
        export(scope_for(world), "summary", str(tmp_path))


def district_wave(world, per_class=30):
    """A district-wide wave over Hilltop's three classes and Lakeside's one, published."""
    admin = world["district_admin"]
    series = services.create_series(None, district=world["district"], by=admin,
                                    name="District pulse", instrument=world["instrument"],
                                    demographics=["gender"])
    wave = services.create_wave(series, by=admin, label="District autumn", season="autumn",
                                starts_on=date(2026, 10, 5))
    services.open_wave(wave, by=admin)
    rng, rows = np.random.default_rng(5), []
    for cg in [*world["classes"].values(), world["other_class"]]:
        session = services.open_session(wave, cg, by=admin)
        for i in range(per_class):
            rows.append(Response(
                client_id=uuid.uuid4(), wave=wave, session=session, class_group=cg,
                school=cg.school, year_level=cg.year_level, gender=("girl", "boy")[i % 2],
                **{f"v{j:02d}": int(v) for j, v in enumerate(rng.integers(1, 5, 6), 1)}))
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=admin)
    publish(wave.id)
    return wave


def test_a_district_wide_wave_leaves_only_the_agreement_schools(world, tmp_path):
    wave = district_wave(world)
    hilltop = world["school"]
    scope = ExportScope(agreement_id="agr", wave_ids=(wave.id,), school_ids=(hilltop.id,),
                        k=10)
    summary = json.loads(open(export(scope, "summary", str(tmp_path / "s")).files[1].path,
                              encoding="utf-8").read())
    assert len(summary["waves"]) == 1  # Hilltop's part only, not Lakeside's
    part = document_for(latest_snapshot(wave), hilltop)
    assert [g["suppressed"] for g in summary["waves"][0]["groups"]] == [
        g["suppressed"] for g in part["groups"]]
    rows = read_back(export(scope, "csv", str(tmp_path / "c")))
    assert len(rows) <= 90 and rows["school"].nunique() == 1
    both = ExportScope(agreement_id="agr", wave_ids=(wave.id,), k=10,
                       school_ids=(hilltop.id, world["other_school"].id))
    rows = read_back(export(both, "parquet", str(tmp_path / "p")))
    assert rows["school"].nunique() == 2
    assert pycanon_k_l(rows)[0] >= 10
