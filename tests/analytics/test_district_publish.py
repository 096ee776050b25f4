"""A district-wide series: one wave surveys every school of the district. Publishing
builds one part per school (its own suppression and audit) and then the district
level (the district and each school as a row), audited together with every part; the
snapshot appears only when all of it is written, and a rerun after a failure reuses
the parts already written.

The tests here build and publish waves of their own. Those that only read the one
publication of `fielded` (its parts and district level, the audit of all of it, what
each role gets) are in test_district_published.py, published once for that module."""

import uuid
from datetime import date

import numpy as np
import pytest

from analytics import district_bound
from analytics import snapshot as build
from analytics.audit import audit
from analytics.models import PublishRun, Snapshot, SnapshotPart
from analytics.publishing import latest_snapshot, part_seconds, publish, request_publish
from surveys import services
from surveys.models import ClassGroup, Response, School

from ..conftest import Role, make_user
from .dashboard_seed import closed_alike_district_wave, stored_part


@pytest.fixture
def district_wave(world):
    return open_district_wave(world)


def open_district_wave(world):
    """Riverside's district-wide wave over Hilltop (3 classes), Lakeside (1 class) and
    two small schools with fewer than k responses each."""
    district, admin = world["district"], world["district_admin"]
    for name, size in (("Brookside", 6), ("Creekside", 9)):
        school = School.objects.create(district=district, name=name)
        ClassGroup.objects.create(school=school, name=f"{name[0]}1", year_level=7,
                                  enrolment=size + 2)
    series = services.create_series(None, district=district, by=admin, name="District pulse",
                                    instrument=world["instrument"], demographics=["gender"])
    wave = services.create_wave(series, by=admin, label="Autumn", season="autumn",
                                starts_on=date(2026, 10, 1))
    services.open_wave(wave, by=admin)
    return wave


# How answers vary by school: by name, not by database id (whose sequence differs from
# one test order to another, and with it the publication and its cost).
SHIFTS = {"Hilltop": 0.0, "Lakeside": 0.3, "Brookside": 0.6, "Creekside": 0.0}


def field(wave, admin, sizes, rng):
    """`sizes` maps a class to how many students answer; answers vary by school."""
    rows = []
    for cg, count in sizes.items():
        session = services.open_session(wave, cg, by=admin)
        shift = SHIFTS[cg.school.name]
        for i in range(count):
            values = np.clip(np.round(rng.normal(2.5 + shift, 0.9, 6)), 1, 4).astype(int)
            rows.append(Response(client_id=uuid.uuid4(), wave=wave, session=session,
                                 class_group=cg, school=cg.school, year_level=cg.year_level,
                                 gender="girl" if i % 2 else "boy",
                                 **{f"v{j + 1:02d}": int(v) for j, v in enumerate(values)}))
    Response.objects.bulk_create(rows)


def sizes_for(world, brook=6, creek=9):
    small = {cg.school.name: cg for cg in ClassGroup.objects.filter(
        school__name__in=["Brookside", "Creekside"]).select_related("school")}
    return {world["classes"]["7A"]: 24, world["classes"]["7B"]: 22, world["classes"]["8A"]: 3,
            world["other_class"]: 25, small["Brookside"]: brook, small["Creekside"]: creek}


@pytest.fixture
def fielded(world, district_wave):
    return field_and_close(world, district_wave)


def field_and_close(world, wave):
    field(wave, world["district_admin"], sizes_for(world), np.random.default_rng(11))
    services.close_wave(wave, by=world["district_admin"])
    return wave


def groups_of(data):
    return {g["key"]: g for g in data["groups"]}


def everything_published(snap):
    """The district level and every part, whole, with their links: the attacker's view."""
    parts = list(snap.parts.select_related("school").order_by("school__name"))
    also = [(dict(p.published, unit=p.school.public_id, small=p.audit["small"]), p.relations)
            for p in parts]
    same = [((0, f"school:{p.school.public_id}"), (i, "school"))
            for i, p in enumerate(parts, start=1)]
    return snap.audit["published"], snap.audit["relations"], also, same, snap.audit["small"]


def test_one_small_school_alone_hides_the_district_total(world, district_wave):
    field(district_wave, world["district_admin"], sizes_for(world, brook=4, creek=0),
          np.random.default_rng(3))
    services.close_wave(district_wave, by=world["district_admin"])
    snap = publish(district_wave.id)
    rows = groups_of(snap.data)
    assert rows["district"]["suppressed"]  # else district - shown schools = Brookside
    pub, rels, also, same, small = everything_published(snap)
    assert audit(pub, rels, snap.data["k"], also=also, same=same, small=small) == []


def test_the_parts_are_queued_the_likely_longest_first(world, fielded):
    """Workers take parts one at a time in queue order: the longest first, so that none
    runs alone at the end. A part's audit grows with the small cells it protects: the
    most classes under k first (Hilltop's 8A has 3 students; Brookside and Creekside
    are under k, hidden whole, so their classes do not count), then the most responses
    (Lakeside's 25, then Creekside's 9 before Brookside's 6, though created after it)."""
    from analytics.publishing import wave_school_ids

    names = dict(School.objects.values_list("id", "name"))
    assert [names[i] for i in wave_school_ids(fielded)] == [
        "Hilltop", "Lakeside", "Creekside", "Brookside"]


def test_more_small_classes_come_before_more_responses():
    """As in the publishing benchmark, where the school with the fewest responses but
    8 classes under k took 74 s to audit and the others 22-27 s."""
    from analytics.publishing import longest_first

    sizes = {1: [40] * 22 + [5] * 8, 2: [70] * 28 + [6, 7], 3: [75] * 28 + [6, 7],
             4: [3, 4], 5: [12, 13]}
    assert longest_first(sizes, 10) == [1, 3, 2, 5, 4]


def test_a_school_whose_last_part_took_longest_is_queued_first(world, fielded):
    """What a school's last part took (an earlier publication of this wave, or of an
    earlier wave of the series) tells its next part's time better than its small cells
    do. Schools with no earlier part come first, by their small cells (any of them
    could be long); then the others, the slowest last time first."""
    from analytics.publishing import wave_school_ids

    schools = {s.name: s for s in School.objects.all()}
    earlier = services.create_wave(fielded.series, by=world["district_admin"],
                                   label="Spring", season="spring",
                                   starts_on=date(2026, 3, 1))

    def part(wave, name, fingerprint, **seconds):
        stored_part(wave, schools[name], fingerprint, **seconds)

    part(earlier, "Lakeside", "a", sql=0.5, audit=40.0)
    part(earlier, "Creekside", "a", sql=0.5, audit=9.0)
    part(fielded, "Creekside", "b", sql=0.5, suppress=1.5, audit=60.0)  # newer: this one
    assert part_seconds(fielded, [s.id for s in schools.values()]) == {
        schools["Lakeside"].id: 40.5, schools["Creekside"].id: 62.0}
    names = {s.id: name for name, s in schools.items()}
    assert [names[i] for i in wave_school_ids(fielded)] == [
        "Hilltop", "Brookside", "Creekside", "Lakeside"]

    other = services.create_series(None, district=world["district"],
                                   by=world["district_admin"], name="Other",
                                   instrument=world["instrument"], demographics=[])
    elsewhere = services.create_wave(other, by=world["district_admin"], label="Autumn",
                                     season="autumn", starts_on=date(2026, 10, 1))
    part(elsewhere, "Hilltop", "c", audit=1.0)  # another series: not this one's history
    part(fielded, "Brookside", "d", audit=99.0)
    assert [names[i] for i in wave_school_ids(fielded)] == [
        "Hilltop", "Brookside", "Creekside", "Lakeside"]
    part(fielded, "Hilltop", "e", audit=50.0)
    assert [names[i] for i in wave_school_ids(fielded)] == [
        "Brookside", "Creekside", "Hilltop", "Lakeside"]


def test_known_part_times_order_after_the_schools_without_one():
    from analytics.publishing import longest_first

    sizes = {1: [40] * 22 + [5] * 8, 2: [70] * 28 + [6, 7], 3: [75] * 28 + [6, 7],
             4: [3, 4], 5: [12, 13]}
    assert longest_first(sizes, 10, {1: 5.0, 3: 30.0, 4: 12.0}) == [2, 5, 3, 4, 1]
    assert longest_first(sizes, 10, {}) == longest_first(sizes, 10)


def test_a_failing_school_task_leaves_nothing_visible_and_a_rerun_publishes(
    world, fielded, monkeypatch, django_capture_on_commit_callbacks, client
):
    real = build.build_part

    def dies_on_lakeside(inp, progress=None):
        if inp.school.name == "Lakeside":
            raise RuntimeError("worker lost")
        return real(inp, progress)

    monkeypatch.setattr(build, "build_part", dies_on_lakeside)
    admin = world["district_admin"]
    with pytest.raises(RuntimeError, match="worker lost"):
        with django_capture_on_commit_callbacks(execute=True):
            run = request_publish(fielded, by=admin)
    run = PublishRun.objects.get(wave=fielded)
    assert run.status == "failed" and "worker lost" in run.error
    assert latest_snapshot(fielded) is None and not Snapshot.objects.exists()
    fielded.refresh_from_db()
    assert fielded.status == "closed"
    written = set(SnapshotPart.objects.values_list("pk", flat=True))
    assert written  # some schools finished before the failure: staged, not visible
    client.force_login(world["leader"])
    assert client.get(f"/waves/{fielded.public_id}/dashboard/").status_code == 404
    assert client.get(f"/api/v1/waves/{fielded.public_id}/snapshot/").status_code == 404

    monkeypatch.setattr(build, "build_part", real)
    with django_capture_on_commit_callbacks(execute=True):
        run = request_publish(fielded, by=admin)
    run.refresh_from_db()
    assert run.status == "done" and run.progress == 100
    snap = latest_snapshot(fielded)
    assert written <= set(snap.parts.values_list("pk", flat=True))  # reused, not redone
    assert snap.parts.count() == 4
    again = publish(fielded.id)
    assert again.pk == snap.pk  # idempotent
    seconds = part_seconds(fielded, School.objects.values_list("id", flat=True))
    assert len(seconds) == 4 and all(s > 0 for s in seconds.values())  # the next order


def test_school_staff_run_sessions_but_only_the_district_manages_the_wave(
    world, district_wave, client
):
    lakeside_teacher = make_user("lake_teacher", Role.TEACHER, school=world["other_school"])
    world["other_class"].teachers.add(lakeside_teacher)
    client.force_login(lakeside_teacher)
    response = client.post("/teach/sessions/open/", {"wave": district_wave.public_id,
                                                     "class": world["other_class"].public_id})
    assert response.status_code == 302
    assert district_wave.sessions.filter(class_group=world["other_class"]).exists()
    client.force_login(world["leader"])
    assert client.post(f"/waves/{district_wave.public_id}/close/").status_code == 404
    client.force_login(world["district_admin"])
    assert client.post(f"/waves/{district_wave.public_id}/close/").status_code == 302
    district_wave.refresh_from_db()
    assert district_wave.status == "closed"


def test_a_series_belongs_to_a_school_or_a_district_not_both(world):
    from django.db import IntegrityError, transaction

    from surveys.models import Series

    with pytest.raises(services.ServiceError):
        services.create_series(world["school"], district=world["district"], by=None, name="x",
                               instrument=world["instrument"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Series.objects.create(school=world["school"], district=world["district"], name="x",
                              instrument=world["instrument"])


def test_a_district_hides_its_component_score_when_with_its_schools_it_pins_an_item(
        world, monkeypatch):
    """Two single-class schools whose students all answered every item alike: the
    district's two-decimal score for a component, with the schools' own scores, gives a
    school's sum of that component's item totals (the audit's component link), and with
    the items' shares pins a "10% or less" band. Parts that cannot be made safe within
    the district bound (here: as if it could not be stated) enter the district's audit
    whole; nothing else at the district level is left to hide, so suppression's last
    resort hides the district's component score."""
    monkeypatch.setattr(district_bound, "links", lambda *args: None)
    wave = closed_alike_district_wave(world)
    publish(wave.id)
    snap = latest_snapshot(wave)
    district = snap.audit["published"]["groups"]["district"]
    assert district["measures"]["component:perceptions"].get("suppressed")
    assert any("component:perceptions hidden for district: last resort" in note
               for note in snap.audit["notes"])
    assert snap.audit["parts_whole"] == 2
    assert whole_audit(snap, wave) == []


def test_parts_entering_whole_checked_each_in_a_view_of_their_own_leak_nothing(
        world, monkeypatch):
    """The same two parts, the district's audit split by part however small they are
    (`snapshot.split_whole`): each part's cells checked beside the other school's true
    totals, the district's own cells with both parts whole; everything published,
    audited together, leaks nothing."""
    monkeypatch.setattr(district_bound, "links", lambda *args: None)
    monkeypatch.setattr(build, "SPLIT_GROUPS", 0)
    wave = closed_alike_district_wave(world)
    publish(wave.id)
    snap = latest_snapshot(wave)
    assert snap.audit["parts_whole"] == 2 and snap.audit["parts_apart"] == 2
    assert whole_audit(snap, wave) == []


def whole_audit(snap, wave):
    """The district's publication audited with every part whole: what anyone holds."""
    parts = list(SnapshotPart.objects.filter(wave=wave).select_related("school"))
    also = [(dict(p.published, unit=p.school.public_id), p.relations) for p in parts]
    same = [((0, f"school:{p.school.public_id}"), (i, "school"))
            for i, p in enumerate(parts, start=1)]
    return audit(snap.audit["published"], snap.audit["relations"], also=also, same=same)


def test_alike_schools_made_safe_within_the_district_bound_leave_the_district_its_score(world):
    """The same two schools, each made safe against the district row and the other
    school's exact totals (analytics.district_bound: their exact totals would pin their
    bands): the district's score no longer gives a school's band away, so the district
    shows it, and everything published, audited whole, leaks nothing. Taken as their
    totals, the two schools would state the district row exactly, and a district cell
    that must be hidden could not be: the district level takes them whole instead."""
    wave = closed_alike_district_wave(world)
    publish(wave.id)
    snap = latest_snapshot(wave)
    parts = list(SnapshotPart.objects.filter(wave=wave))
    assert len(parts) == 2 and all("district_bound" in p.audit for p in parts)
    district = snap.audit["published"]["groups"]["district"]
    assert not district["measures"]["component:perceptions"].get("suppressed")
    assert snap.audit["parts_whole"] == 2
    assert whole_audit(snap, wave) == []
