"""Erasure on request: one student's responses in a linked series (by the pseudonym of
the number the school gives) or a whole wave's raw data. Published snapshots never
change, and a wave published before an erasure is never published again."""

import json
import logging
from datetime import date

import pytest

from analytics.models import PublishRun, Snapshot
from analytics.publishing import publish, request_publish
from surveys import erasure, lifecycle, services
from surveys.models import AuditEvent, Response
from surveys.pseudonyms import series_pseudonym
from tests.surveys.lifecycle_helpers import closed_wave, fill, linked_series

NUMBER = "7A-004"  # a student of 7A in closed_wave(..., numbers=True)


@pytest.fixture
def linked(world):
    """A linked series with two closed waves answered by the same 24 students."""
    series = linked_series(world)
    classes = [world["classes"]["7A"], world["classes"]["7B"]]
    autumn = closed_wave(series, world["leader"], classes, 12, numbers=True)
    spring = closed_wave(series, world["leader"], classes, 12, label="Spring",
                         starts_on=date(2027, 3, 1), numbers=True)
    return series, autumn, spring


def url(world, *parts):
    return "/".join(["", "schools", world["school"].public_id, "erasure", *parts, ""])


def snapshot_state(client, world, wave):
    client.force_login(world["leader"])
    api = client.get(f"/api/v1/waves/{wave.public_id}/snapshot/").content
    rows = list(Snapshot.objects.filter(wave=wave).values_list("version", "data", "fingerprint"))
    return json.dumps(rows, sort_keys=True, default=str), api


def test_erasing_a_student_deletes_their_responses_in_every_wave(world, linked):
    series, autumn, spring = linked
    pseudonym = series_pseudonym(series, NUMBER)
    assert Response.objects.filter(pseudonym=pseudonym).count() == 2
    deleted = erasure.erase_student(series, world["school"], " 7a-004 ", by=world["leader"])
    assert deleted == 2
    assert not Response.objects.filter(pseudonym=pseudonym).exists()
    assert Response.objects.filter(wave__series=series).count() == 46


def test_the_erasure_audit_event_names_no_student(world, linked, caplog):
    series, autumn, spring = linked
    caplog.set_level(logging.DEBUG)
    erasure.erase_student(series, world["school"], NUMBER, by=world["leader"])
    event = AuditEvent.objects.get(action=lifecycle.ERASED_STUDENT)
    assert event.actor == world["leader"] and event.target == series.public_id
    assert event.detail == {"responses": 2, "district": world["district"].public_id,
                            "waves": sorted([autumn.public_id, spring.public_id])}
    pseudonym = series_pseudonym(series, NUMBER)
    everything = json.dumps([list(e) for e in AuditEvent.objects.values_list(
        "action", "target", "detail")]) + caplog.text
    assert NUMBER not in everything and pseudonym not in everything


def test_no_match_deletes_nothing_and_says_so_in_the_audit(world, linked):
    series, *_ = linked
    assert erasure.erase_student(series, world["school"], "NOBODY-1", by=world["leader"]) == 0
    assert Response.objects.filter(wave__series=series).count() == 48
    event = AuditEvent.objects.get(action=erasure.NO_MATCH)
    assert event.detail == {} and event.target == series.public_id


def test_an_anonymous_series_cannot_be_searched_by_number(world):
    with pytest.raises(services.ServiceError, match="anonymous"):
        erasure.erase_student(world["series"], world["school"], NUMBER, by=world["leader"])


def test_erasure_leaves_the_published_snapshot_and_refuses_republishing(client, world, linked):
    series, autumn, _spring = linked
    publish(autumn.id)
    before = snapshot_state(client, world, autumn)
    erasure.erase_student(series, world["school"], NUMBER, by=world["leader"])
    assert snapshot_state(client, world, autumn) == before
    autumn.refresh_from_db()
    with pytest.raises(services.ServiceError, match="compare the two versions"):
        request_publish(autumn, by=world["leader"])
    assert not PublishRun.objects.filter(wave=autumn).exists()
    with pytest.raises(services.ServiceError):
        publish(autumn.id)  # the worker's path refuses too
    assert snapshot_state(client, world, autumn) == before


def test_a_wave_not_yet_published_publishes_without_the_erased_student(world, linked):
    series, _autumn, spring = linked
    erasure.erase_student(series, world["school"], NUMBER, by=world["leader"])
    snapshot = publish(spring.id)
    school = next(g for g in snapshot.data["groups"] if g["key"] == "school")
    assert school["n"] == 23


def test_a_deletion_during_a_publication_refuses_its_snapshot(world, linked):
    series, autumn, _spring = linked
    run = PublishRun.objects.create(wave=autumn, requested_by=world["leader"])
    erasure.erase_student(series, world["school"], NUMBER, by=world["leader"])
    with pytest.raises(services.ServiceError, match="while it was being published"):
        lifecycle.check_publishable(autumn, since=run.created_at)


def test_erasing_a_wave_deletes_its_raw_data_only(client, world, linked):
    _series, autumn, spring = linked
    publish(autumn.id)
    before = snapshot_state(client, world, autumn)
    assert erasure.erase_wave(autumn, world["school"], by=world["leader"]) == 24
    assert not Response.objects.filter(wave=autumn).exists()
    assert Response.objects.filter(wave=spring).count() == 24
    assert snapshot_state(client, world, autumn) == before
    event = AuditEvent.objects.get(action=lifecycle.ERASED_WAVE)
    assert event.detail["responses"] == 24 and event.detail["waves"] == [autumn.public_id]
    with pytest.raises(services.ServiceError, match="deleted"):
        request_publish(autumn, by=world["leader"])


def test_an_open_wave_cannot_be_erased(world, open_wave):
    fill(open_wave, world["classes"]["7A"], 3, by=world["leader"])
    with pytest.raises(services.ServiceError, match="Close the wave"):
        erasure.erase_wave(open_wave, world["school"], by=world["leader"])
    assert Response.objects.filter(wave=open_wave).count() == 3


# --- pages -------------------------------------------------------------------------


def test_the_erasure_page_lists_what_can_be_erased(client, world, linked):
    series, autumn, spring = linked
    client.force_login(world["leader"])
    page = client.get(url(world)).content.decode()
    assert f"erasure/series/{series.public_id}/" in page
    assert f"erasure/waves/{autumn.public_id}/" in page
    # The anonymous series has no number search.
    assert f"erasure/series/{world['series'].public_id}/" not in page


def test_a_student_erasure_needs_the_number_twice_and_the_confirmation(client, world, linked):
    series, *_ = linked
    client.force_login(world["leader"])
    target = url(world, "series", series.public_id)
    assert client.get(target).status_code == 200
    for form in ({"student_number": NUMBER, "again": NUMBER},
                 {"student_number": NUMBER, "again": "7A-005", "confirm": "on"}):
        response = client.post(target, form)
        assert response.status_code == 400
        assert NUMBER.encode() not in response.content
    assert Response.objects.filter(wave__series=series).count() == 48
    response = client.post(target, {"student_number": NUMBER, "again": NUMBER,
                                    "confirm": "on"}, follow=True)
    assert "Deleted 2 response(s)" in response.content.decode()
    assert NUMBER.encode() not in response.content
    assert Response.objects.filter(wave__series=series).count() == 46


def test_an_unknown_number_gets_a_message_that_reveals_nothing_more(client, world, linked):
    series, *_ = linked
    client.force_login(world["leader"])
    response = client.post(url(world, "series", series.public_id),
                           {"student_number": "X-1", "again": "X-1", "confirm": "on"},
                           follow=True)
    text = response.content.decode()
    assert "No response was found for that number in this series at your school." in text
    assert "X-1" not in text


def test_a_wave_erasure_page_confirms_with_the_count(client, world, linked):
    _series, autumn, _spring = linked
    client.force_login(world["leader"])
    target = url(world, "waves", autumn.public_id)
    assert "Erase 24 raw responses" in client.get(target).content.decode()
    assert client.post(target, {}).status_code == 400
    assert Response.objects.filter(wave=autumn).count() == 24
    response = client.post(target, {"confirm": "on"}, follow=True)
    assert "Deleted 24 raw response(s) of Autumn" in response.content.decode()
    assert not Response.objects.filter(wave=autumn).exists()


@pytest.mark.parametrize("persona", ["teacher", "district_admin", "researcher", "other_leader"])
def test_only_the_schools_leader_reaches_the_erasure_pages(client, world, linked, persona):
    series, autumn, _spring = linked
    client.force_login(world[persona])
    for target in (url(world), url(world, "series", series.public_id),
                   url(world, "waves", autumn.public_id)):
        assert client.get(target).status_code == 404
    assert client.post(url(world, "waves", autumn.public_id),
                       {"confirm": "on"}).status_code == 404
    assert Response.objects.filter(wave=autumn).count() == 24
