"""Opt-outs and consent in a district-wide series: a class of any school of the district
belongs to it, each school's staff record for their own school's classes only (404 for
another school's class, even in the same series), and participation (enrolment minus
opt-outs) adds up per school and over the district."""

import uuid
from datetime import date

import pytest

from surveys import consent, services
from surveys.models import AuditEvent, ClassGroup, District, OptOut, Response, School
from surveys.services import ServiceError

from ..conftest import Role, make_user


@pytest.fixture
def district_series(world):
    return services.create_series(None, district=world["district"], by=world["district_admin"],
                                  name="District pulse", instrument=world["instrument"])


@pytest.fixture
def district_wave(world, district_series):
    wave = services.create_wave(district_series, by=world["district_admin"], label="Autumn",
                                season="autumn", starts_on=date(2026, 10, 1))
    return services.open_wave(wave, by=world["district_admin"])


def page(series, class_group):
    return f"/teach/consent/{series.public_id}/{class_group.public_id}/"


def add_responses(wave, class_group, n):
    session = services.open_session(wave, class_group, by=None)
    Response.objects.bulk_create([
        Response(client_id=uuid.uuid4(), wave=wave, session=session, class_group=class_group,
                 school=class_group.school, year_level=class_group.year_level)
        for _i in range(n)])


def test_each_schools_leader_records_for_their_own_classes_in_a_district_series(
        client, world, district_series):
    client.force_login(world["leader"])
    hilltop_class, lakeside_class = world["classes"]["8A"], world["other_class"]
    assert client.get(page(district_series, hilltop_class)).status_code == 200
    posted = client.post(page(district_series, hilltop_class), {"action": "record", "count": "2"})
    assert posted.status_code == 302
    client.force_login(world["other_leader"])
    posted = client.post(page(district_series, lakeside_class), {"action": "record", "count": "3"})
    assert posted.status_code == 302
    counts = consent.recorded_counts(district_series, [hilltop_class, lakeside_class])
    assert counts == {hilltop_class.id: 2, lakeside_class.id: 3}
    # Each school's audit log carries its own school's records (counts only).
    events = AuditEvent.objects.filter(action="opt_out.recorded").order_by("id")
    assert [(e.school, e.detail["count"]) for e in events] == [
        (world["school"], 2), (world["other_school"], 3)]


@pytest.mark.parametrize("persona, target", [
    ("leader", "other_class"),        # Hilltop's leader, Lakeside's class, same series
    ("other_leader", "7A"),           # Lakeside's leader, Hilltop's class
    ("teacher", "7B"),                # a Hilltop teacher, a class they do not teach
    ("teacher", "other_class"),
    ("district_admin", "7A"),         # sees participation, does not record opt-outs
    ("researcher", "7A"),
])
def test_another_schools_class_is_a_404_even_in_the_same_district_series(
        client, world, district_series, persona, target):
    class_group = world["other_class"] if target == "other_class" else world["classes"][target]
    client.force_login(world[persona])
    assert client.get(page(district_series, class_group)).status_code == 404
    posted = client.post(page(district_series, class_group), {"action": "record", "count": "1"})
    assert posted.status_code == 404
    assert not OptOut.objects.exists() and not AuditEvent.objects.filter(
        action__startswith="opt_out").exists()


def test_a_teacher_records_for_the_class_they_teach_in_a_district_series(
        client, world, district_series):
    client.force_login(world["teacher"])
    assert client.post(page(district_series, world["classes"]["7A"]),
                       {"action": "record", "count": "1"}).status_code == 302
    assert OptOut.objects.get().class_group == world["classes"]["7A"]


def test_the_domain_operation_refuses_a_class_of_another_district(world, district_series):
    elsewhere = District.objects.create(name="Elsewhere", min_cell_size=10)
    far = ClassGroup.objects.create(school=School.objects.create(district=elsewhere, name="Far"),
                                    name="1F", year_level=7, enrolment=20)
    with pytest.raises(ServiceError, match="not in a school this series surveys"):
        consent.record(district_series, far, by=world["leader"], count=1)
    assert consent.record(district_series, world["other_class"], by=world["other_leader"],
                          count=1) == 1


def test_a_school_series_still_refuses_a_class_of_a_sibling_school(client, world):
    # The school series of Hilltop does not cover Lakeside, though both are in Riverside.
    with pytest.raises(ServiceError):
        consent.record(world["series"], world["other_class"], by=world["other_leader"], count=1)
    client.force_login(world["other_leader"])
    assert client.get(page(world["series"], world["other_class"])).status_code == 404


def test_the_overview_lists_the_district_series_with_ones_own_classes_only(
        client, world, district_series):
    client.force_login(world["leader"])
    html = client.get("/teach/consent/").content.decode()
    assert "District pulse" in html and "Hilltop, district-wide" in html
    assert page(district_series, world["classes"]["7A"]) in html
    assert world["other_class"].public_id not in html
    client.force_login(world["other_leader"])
    html = client.get("/teach/consent/").content.decode()
    assert page(district_series, world["other_class"]) in html
    assert "Belonging 2026" not in html  # Hilltop's own series
    assert world["classes"]["7A"].public_id not in html


def test_participation_adds_up_per_school_and_over_the_district(world, district_wave):
    series = district_wave.series
    by = world["district_admin"]
    consent.record(series, world["classes"]["7A"], by=by, count=4)   # 30 enrolled
    consent.record(series, world["other_class"], by=by, count=5)     # 25 enrolled
    add_responses(district_wave, world["classes"]["7A"], 13)
    add_responses(district_wave, world["other_class"], 10)
    rows = consent.participation(district_wave)
    assert set(rows) == {*world["classes"].values(), world["other_class"]}
    assert rows[world["other_class"]] == {"enrolment": 25, "opted_out": 5, "eligible": 20,
                                          "responses": 10, "rate": 0.5}
    summary = consent.participation_by_school(district_wave)
    hilltop, lakeside = summary["schools"]
    assert hilltop["school"] == world["school"] and lakeside["school"] == world["other_school"]
    assert {k: hilltop[k] for k in consent.COUNTS} == {
        "enrolment": 90, "opted_out": 4, "eligible": 86, "responses": 13}
    assert lakeside["rate"] == 0.5
    assert summary["total"] == {"enrolment": 115, "opted_out": 9, "eligible": 106,
                                "responses": 23, "rate": 23 / 106}
    # A school series' participation stays its own school's.
    assert world["other_class"] not in consent.participation(world["wave"])


def test_active_consent_in_a_district_series_counts_consents_per_school(world):
    series = services.create_series(None, district=world["district"], by=world["district_admin"],
                                    name="Opt-in district", instrument=world["instrument"],
                                    consent_mode="active")
    wave = services.create_wave(series, by=world["district_admin"], label="W1", season="autumn",
                                starts_on=date(2026, 9, 1))
    wave = services.open_wave(wave, by=world["district_admin"])
    consent.record(series, world["other_class"], by=world["other_leader"], count=20)
    summary = consent.participation_by_school(wave)
    assert summary["schools"][0]["eligible"] == 0       # Hilltop: nobody has consent yet
    assert summary["schools"][1]["eligible"] == 20 and summary["schools"][1]["opted_out"] == 5
    assert summary["total"]["eligible"] == 20 and summary["total"]["rate"] == 0.0


def test_a_new_school_of_the_district_joins_the_district_series(client, world, district_series):
    northside = School.objects.create(district=world["district"], name="Northside")
    cls = ClassGroup.objects.create(school=northside, name="N1", year_level=7, enrolment=20)
    leader = make_user("north_leader", Role.LEADER, school=northside)
    client.force_login(leader)
    assert client.post(page(district_series, cls), {"action": "record", "count": "1"}
                       ).status_code == 302
    assert client.get(page(district_series, world["classes"]["7A"])).status_code == 404
