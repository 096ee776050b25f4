"""Linked series (issue 6, point 5): a student contributes one row per wave and the
re-keyed pseudonym joins them, so k counts distinct students over their whole sequence of
(wave, quasi-identifiers), and l is checked per student. Verified on the written files,
grouped by pseudonym here (pycanon counts rows)."""

import uuid
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pycanon import anonymity as canon

from analytics.exporters import ExportScope, anonymity, export
from surveys import services
from surveys.models import ClassGroup, Response, Series
from surveys.pseudonyms import series_pseudonym

from .test_exporters import quasi_identifiers, read_back

# (student numbers, wave-1 class, wave-2 class or None when absent)
COHORTS = [
    (range(0, 20), "7A", "8A"),    # year 7 -> 8
    (range(20, 40), "7B", "8B"),   # year 7 -> 8
    (range(40, 60), "8A", "9A"),   # year 8 -> 9
    (range(60, 64), "7A", "9A"),   # year 7 -> 9: 4 students, each row in a big group
    (range(64, 67), "8A", None),   # year 8, then gone: 3 students
]


def linked_world(world):
    Series.objects.filter(pk=world["series"].pk).update(mode=Series.Mode.LINKED)
    world["series"].refresh_from_db()
    for name, year in (("8B", 8), ("9A", 9)):
        world["classes"][name] = ClassGroup.objects.create(
            school=world["school"], name=name, year_level=year, enrolment=30)
    second = services.create_wave(world["series"], by=world["leader"], label="Autumn 2027",
                                  season="autumn", starts_on=date(2027, 9, 14))
    rng = np.random.default_rng(7)
    field(world, world["wave"], {n: first for numbers, first, _ in COHORTS for n in numbers},
          rng)
    field(world, second, {n: then for numbers, _, then in COHORTS for n in numbers if then},
          rng)
    return second


def field(world, wave, class_of, rng):
    leader = world["leader"]
    services.open_wave(wave, by=leader)
    sessions = {name: services.open_session(wave, world["classes"][name], by=leader)
                for name in sorted(set(class_of.values()))}
    rows = []
    for number, name in class_of.items():
        session = sessions[name]
        rows.append(Response(
            client_id=uuid.uuid4(), wave=wave, session=session,
            class_group=session.class_group, school=world["school"],
            year_level=session.class_group.year_level,
            pseudonym=series_pseudonym(wave.series, f"S{number}"),
            gender=["girl", "boy"][number % 2], language="en",
            **{f"v{j + 1:02d}": int(v) for j, v in enumerate(rng.integers(1, 5, 6))}))
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=leader)


def per_student(frame):
    """One row per pseudonym: the sequence of (wave, quasi-identifiers) over the waves it
    answered, and its band of each score in each wave."""
    qis = quasi_identifiers(frame)
    bands = [c for c in frame.columns if c.startswith("band_")]
    rows = frame[["pseudonym", *qis, *bands]].astype(str)
    rows["cell"] = rows[qis].agg("|".join, axis=1)
    students = rows.sort_values("cell").groupby("pseudonym").agg(sequence=("cell", " ; ".join))
    for band in bands:
        by_wave = rows.pivot(index="pseudonym", columns="wave", values=band)
        by_wave.columns = [f"{band}@{w}" for w in by_wave.columns]
        students = students.join(by_wave.fillna("(absent)"))
    return students.reset_index(drop=True)


def linked_scope(world, waves, k=10, pseudonyms=True):
    return ExportScope(agreement_id="agr-linked", wave_ids=tuple(w.id for w in waves),
                       school_ids=(world["school"].id,), k=k,
                       include_pseudonyms=pseudonyms)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sav", "dta"])
def test_k_and_l_count_distinct_students_over_their_sequence(world, tmp_path, fmt):
    second = linked_world(world)
    result = export(linked_scope(world, [world["wave"], second]), fmt, str(tmp_path))
    frame = read_back(result)
    assert frame["pseudonym"].str.len().eq(64).all()
    assert not frame.duplicated(["pseudonym", "wave"]).any()
    students = per_student(frame)
    sensitive = [c for c in students.columns if c.startswith("band_")]
    assert canon.k_anonymity(students, ["sequence"]) >= 10
    assert canon.l_diversity(students, ["sequence"], sensitive) >= 2
    report = result.report
    assert report["counted_in"] == "students" and report["measured"]["counted_in"] == "students"
    assert report["measured"]["k"] == canon.k_anonymity(students, ["sequence"])
    assert report["students_in"] == 67
    assert report["students_in"] - report["students_removed"] == len(students)
    # Each student keeps one sequence: a removed student is removed from every wave.
    waves_seen = frame.groupby("pseudonym")["wave"].nunique()
    assert len(frame) == waves_seen.sum() == result.rows


def test_counting_rows_would_release_a_sequence_of_fewer_than_k_students(world, tmp_path):
    second = linked_world(world)
    waves = [world["wave"], second]
    rows = read_back(export(linked_scope(world, waves, pseudonyms=False), "csv",
                            str(tmp_path / "rows")))
    # Without pseudonyms the rows cannot be joined, and counted per row they are safe:
    # the 4 students who went from year 7 to year 9 hide among 40 and 24 others.
    assert set(rows["year_level"]) == {"7", "8", "9"}
    assert rows.groupby(quasi_identifiers(rows)).size().min() >= 10
    # With pseudonyms, those 4 form a sequence of their own and may not be released so.
    linked = read_back(export(linked_scope(world, waves), "csv", str(tmp_path / "linked")))
    sizes = per_student(linked)["sequence"].value_counts()
    assert sizes.min() >= 10
    skipped = [s for s in sizes.index if "|7|" in s.split(" ; ")[0]
               and len(s.split(" ; ")) == 2 and "|9|" in s.split(" ; ")[1]]
    assert skipped == []


def grain(rows):
    columns = [*anonymity.RAW_KEY, "pseudonym", "band_p", "n"]
    return pd.DataFrame(rows, columns=columns)


def test_the_plan_counts_students_not_rows():
    # X: 8 students in class 10 then 11; Y: 8 in class 20 then 21; Z: 3 in class 10 then
    # 21. Counted per row every group holds 8 or 11 records; the 3 of Z share a
    # sequence nobody else has.
    rows = []
    for s, (first, then) in enumerate([(10, 11)] * 8 + [(20, 21)] * 8 + [(10, 21)] * 3):
        band = 1 + s % 3
        rows.append((1, 1, first, 7, "girl", "no", f"p{s}", band, 1))
        rows.append((2, 1, then, 8, "girl", "no", f"p{s}", band, 1))
    by_row = anonymity.plan(grain(rows).drop(columns="pseudonym"), ["p"], k=8,
                            max_share=0.5)
    assert by_row.level == 0 and by_row.report["records_removed"] == 0
    by_student = anonymity.plan(grain(rows), ["p"], k=8, max_share=0.5)
    assert by_student.level == 0 and by_student.report["counted_in"] == "students"
    assert by_student.report["students_in"] == 19
    assert by_student.report["students_removed"] == 3
    assert by_student.report["records_removed"] == 6
    lookup = by_student.lookup
    z = lookup["pseudonym"].isin(["p16", "p17", "p18"])
    assert not lookup.loc[z, "keep"].any() and lookup.loc[~z, "keep"].all()
