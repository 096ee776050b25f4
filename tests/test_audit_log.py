"""The audit log page: a leader sees their school's events, a district admin their
district's; filterable by kind of action, user and dates; paginated; only safe fields
are rendered (no answers, no identifiers, no free-text reasons)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys import erasure, services
from surveys.models import AuditEvent, District, School
from surveys.pseudonyms import series_pseudonym
from tests.conftest import make_user
from tests.surveys.lifecycle_helpers import closed_wave, linked_series


def school_url(world):
    return f"/schools/{world['school'].public_id}/audit/"


def district_url(world):
    return f"/districts/{world['district'].public_id}/audit/"


def page(client, who, url, **params):
    client.force_login(who)
    response = client.get(url, params)
    return response.status_code, response.content.decode()


@pytest.fixture
def history(world):
    """Events of both schools of Riverside, and one of another district."""
    leader = world["leader"]
    services.open_wave(world["wave"], by=leader)
    services.close_wave(world["wave"], by=leader)
    services.set_role(world["teacher"], "leader", school=world["school"], by=leader)
    services.audit(world["other_leader"], "wave.opened", school=world["other_school"],
                   target="lakeside-wave")
    elsewhere = School.objects.create(district=District.objects.create(name="Far"), name="Far")
    services.audit(None, "wave.opened", school=elsewhere, target="far-wave")
    services.audit(None, "login.failed", target="typed-secret-username")
    return world


def test_a_leader_sees_their_schools_events_only(client, history):
    status, text = page(client, history["leader"], school_url(history))
    assert status == 200
    assert "wave.opened" in text and "wave.closed" in text and "role.granted" in text
    assert "Autumn 2026" in text  # the wave named by its label, not its id
    assert "other_leader" not in text and "far-wave" not in text


def test_a_district_admin_sees_every_school_of_the_district(client, history):
    status, text = page(client, history["district_admin"], district_url(history))
    assert status == 200
    assert "Hilltop" in text and "Lakeside" in text and "other_leader" in text
    assert "Far" not in text.replace("Far from", "")  # another district's school
    assert "typed-secret-username" not in text


def test_filters_by_kind_user_and_dates(client, history):
    leader = history["leader"]
    _, text = page(client, leader, school_url(history), kind="role")
    assert "role.granted" in text and "wave.opened" not in text
    _, text = page(client, history["district_admin"], district_url(history), user="other_leader")
    assert "wave.opened" in text and "role.granted" not in text
    AuditEvent.objects.filter(action="wave.closed").update(
        created_at=timezone.now() - timedelta(days=10))
    today = timezone.now().date()
    _, text = page(client, leader, school_url(history), since=today.isoformat())
    assert "wave.opened" in text and "wave.closed" not in text
    _, text = page(client, leader, school_url(history),
                   until=(today - timedelta(days=5)).isoformat())
    assert "wave.closed" in text and "wave.opened" not in text


def test_a_reversed_date_range_is_a_readable_400(client, history):
    status, text = page(client, history["leader"], school_url(history),
                        since="2026-12-01", until="2026-11-01")
    assert status == 400 and "The start date is after the end date." in text
    status, _ = page(client, history["leader"], school_url(history), since="not-a-date")
    assert status == 400


def test_the_log_is_paginated(client, world):
    AuditEvent.objects.bulk_create([
        AuditEvent(action="session.opened", school=world["school"], target=f"s{i}")
        for i in range(118)])
    assert AuditEvent.objects.filter(school=world["school"]).count() == 120  # + the fixture's
    _, first = page(client, world["leader"], school_url(world))
    assert "1–50 of 120" in first and "Page 1 of 3" in first
    _, third = page(client, world["leader"], school_url(world), page=3)
    assert "101–120 of 120" in third


def test_no_answers_identifiers_or_free_text_reach_the_page(client, world):
    series = linked_series(world)
    wave = closed_wave(series, world["leader"], [world["classes"]["7A"]], 12, numbers=True)
    erasure.erase_student(series, world["school"], "7A-001", by=world["leader"])
    pseudonym = series_pseudonym(series, "7A-001")
    services.audit(None, "wave.publish_failed", school=world["school"], target=wave.public_id,
                   reason="audit finding: class:x mean 3.14 determined")
    services.audit(world["leader"], "data.erased_student", school=world["school"],
                   target=series.public_id, waves=[wave.public_id], responses=1,
                   pseudonym=pseudonym, answers={"v01": 4})
    _, text = page(client, world["leader"], school_url(world))
    assert "data.erased_student" in text and "responses: 1" in text and "waves: 1" in text
    for secret in ("7A-001", pseudonym, "3.14", "v01", wave.public_id):
        assert secret not in text


@pytest.mark.parametrize("persona", ["teacher", "researcher", "other_leader"])
def test_other_roles_get_404(client, world, persona):
    assert page(client, world[persona], school_url(world))[0] == 404
    assert page(client, world[persona], district_url(world))[0] == 404


def test_a_leader_cannot_open_the_district_log(client, world):
    assert page(client, world["leader"], district_url(world))[0] == 404
    other = make_user("far_admin", "district_admin",
                      district=District.objects.create(name="Far"))
    assert page(client, other, district_url(world))[0] == 404


def test_the_school_and_district_pages_link_the_log_and_erasure(client, world):
    _, school = page(client, world["leader"], f"/schools/{world['school'].public_id}/")
    assert school_url(world) in school and "/erasure/" in school
    _, as_admin = page(client, world["district_admin"], f"/schools/{world['school'].public_id}/")
    assert school_url(world) in as_admin and "/erasure/" not in as_admin
    home = f"/districts/{world['district'].public_id}/"
    _, district = page(client, world["district_admin"], home)
    assert district_url(world) in district
