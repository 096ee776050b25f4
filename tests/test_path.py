"""The whole path, as people do it: a leader opens a wave, a teacher opens a session,
students answer without accounts, the teacher watches the count, the leader closes
and publishes, and the dashboard shows suppressed results."""

import json
import re
import uuid

import pytest

from analytics.models import Snapshot
from surveys.models import AuditEvent, Response, Session, Wave
from tests.conftest import answers_for


def submit(client, session, instrument, value, gender="girl"):
    payload = {"client_id": str(uuid.uuid4()), "language": "en",
               "demographics": {"gender": gender}, "answers": answers_for(instrument, value)}
    return client.post(f"/api/v1/sessions/{session.public_id}/responses/",
                       data=json.dumps(payload), content_type="application/json")


def login(client, user):
    client.force_login(user)
    return client


def open_session_as_teacher(client, world, wave, class_name):
    cg = world["classes"][class_name]
    response = client.post("/teach/sessions/open/", {"wave": wave.public_id,
                                                     "class": cg.public_id})
    assert response.status_code == 302
    return Session.objects.get(wave=wave, class_group=cg, status="open")


@pytest.fixture
def fielded(client, world):
    """A wave answered by 12 students in 7A, 11 in 8A and 3 in 7B."""
    leader, teacher = world["leader"], world["teacher"]
    wave = world["wave"]
    login(client, leader).post(f"/waves/{wave.public_id}/open/")
    assert Wave.objects.get(pk=wave.pk).status == "open"
    world["classes"]["7B"].teachers.add(teacher)
    world["classes"]["8A"].teachers.add(teacher)
    login(client, teacher)
    sessions = {name: open_session_as_teacher(client, world, wave, name)
                for name in ("7A", "7B", "8A")}
    client.logout()
    for name, count in (("7A", 12), ("7B", 3), ("8A", 11)):
        for i in range(count):
            value = 3 + (i % 2) if name != "8A" else 1 + (i % 3)
            gender = "girl" if i % 2 else "boy"
            assert submit(client, sessions[name], world["instrument"], value, gender) \
                .status_code == 201
    return wave, sessions


def test_the_teacher_sees_a_code_and_the_count_but_never_answers(client, world, fielded):
    wave, sessions = fielded
    login(client, world["teacher"])
    page = client.get(f"/teach/sessions/{sessions['7A'].public_id}/").content.decode()
    assert sessions["7A"].code in page
    assert "<svg" in page  # the QR code
    count = client.get(f"/api/v1/sessions/{sessions['7A'].public_id}/participation/").json()
    assert count == {"session": sessions["7A"].public_id, "status": "open", "responses": 12}
    assert "PISA2018" not in page and "Strongly" not in page


def test_results_are_not_visible_while_the_wave_is_open(client, world, fielded):
    wave, _ = fielded
    login(client, world["leader"])
    assert client.get(f"/waves/{wave.public_id}/dashboard/").status_code == 404
    response = client.post(f"/waves/{wave.public_id}/publish/", follow=True)
    assert "Close the wave before publishing" in response.content.decode()
    assert not Snapshot.objects.exists()


def close_and_publish(client, wave, capture):
    client.post(f"/waves/{wave.public_id}/close/")
    with capture(execute=True):  # the task is enqueued on commit
        client.post(f"/waves/{wave.public_id}/publish/")


def test_publishing_shows_the_school_and_hides_small_classes(
    client, world, fielded, django_capture_on_commit_callbacks
):
    wave, _ = fielded
    login(client, world["leader"])
    close_and_publish(client, wave, django_capture_on_commit_callbacks)
    wave.refresh_from_db()
    assert wave.status == "published"
    assert AuditEvent.objects.filter(action="wave.published", target=wave.public_id).exists()
    page = client.get(f"/waves/{wave.public_id}/dashboard/").content.decode()
    assert "Whole school" in page
    assert "fewer than 10 responses" in page
    table = page.split('id="breakdown-h"')[1]
    row_7b = re.search(r"Class 7B</th>(.*?)</tr>", table, re.S).group(1)
    assert "fewer than 10" in row_7b
    text = re.sub(r"<[^>]+>", " ", row_7b).replace("10", "")
    assert not re.search(r"\d", text), row_7b  # no count, no mean, no percentage


def test_the_snapshot_counts_and_means_match_the_responses(
    client, world, fielded, django_capture_on_commit_callbacks
):
    wave, _ = fielded
    login(client, world["leader"])
    close_and_publish(client, wave, django_capture_on_commit_callbacks)
    data = client.get(f"/api/v1/waves/{wave.public_id}/snapshot/").json()
    groups = {g["key"]: g for g in data["groups"]}
    assert groups["school"]["n"] == Response.objects.filter(wave=wave).count() == 26
    # Half the items are reverse keyed, so every student's keyed mean is
    # (v + v + v + (5-v) + (5-v) + (5-v)) / 6 = 2.5 whatever v they gave.
    assert groups["school"]["components"]["perceptions"]["value"] == 2.5
    item = groups["school"]["items"]["PISA2018.ST034Q03TA"]
    values = [3 + (i % 2) for i in range(12)] + [3 + (i % 2) for i in range(3)] \
        + [1 + (i % 3) for i in range(11)]
    assert item["mean"]["value"] == round(sum(values) / 26, 1)  # one decimal under 300
    hidden = groups[f"class:{world['classes']['7B'].public_id}"]
    assert hidden["suppressed"] and "n" not in hidden and "components" not in hidden


def test_publishing_twice_gives_the_same_snapshot(client, world, fielded):
    from analytics.publishing import publish

    wave, _ = fielded
    login(client, world["leader"])
    client.post(f"/waves/{wave.public_id}/close/")
    first = publish(wave.id)
    second = publish(wave.id)
    assert first.pk == second.pk and Snapshot.objects.filter(wave=wave).count() == 1


def test_a_student_with_a_wrong_code_gets_a_clear_message(client, world, fielded):
    page = client.get("/join/?code=ZZZZZZ")
    assert "That code is not open" in page.content.decode()
    ok = client.get(f"/join/?code={fielded[1]['7A'].code.lower()}")
    assert ok.status_code == 302 and ok["Location"] == f"/s/{fielded[1]['7A'].code}/"


def test_the_student_page_renders_items_as_radio_groups(client, world, fielded):
    page = client.get(f"/s/{fielded[1]['7A'].code}/").content.decode()
    assert page.count("<fieldset") == 6 + 1  # six items and the gender question
    assert "I feel like I belong at school." in page
    assert "Prefer not to say" in page


def test_the_student_form_works_without_javascript(client, world, fielded):
    session = fielded[1]["7A"]
    form = {"client_id": str(uuid.uuid4()), "band-gender": "prefer_not"}
    form.update({f"item-{k}": "2" for k in answers_for(world["instrument"], 2)})
    response = client.post(f"/s/{session.code}/", form)
    assert response.status_code == 302
    assert Response.objects.filter(client_id=form["client_id"], gender="prefer_not").exists()
    again = client.post(f"/s/{session.code}/", {**form, "item-PISA2018.ST034Q01TA": "9"})
    assert again.status_code == 302  # the same response id: acknowledged, not stored twice
    assert Response.objects.filter(client_id=form["client_id"]).count() == 1


def test_a_closed_session_code_no_longer_joins(client, world, fielded):
    session = fielded[1]["7A"]
    login(client, world["teacher"]).post(f"/teach/sessions/{session.public_id}/close/")
    client.logout()
    page = client.get(f"/s/{session.code}/")
    assert page.status_code == 404
    assert "That code is not open" in page.content.decode()


def test_failed_logins_and_role_changes_are_audited(client, world):
    from surveys import services
    from surveys.models import Membership

    client.post("/login/", {"username": "leader", "password": "wrong"})
    assert AuditEvent.objects.filter(action="login.failed", target="leader").exists()
    services.set_role(world["other_leader"], Membership.Role.TEACHER, school=world["school"],
                      by=world["leader"])
    event = AuditEvent.objects.get(action="role.granted")
    assert event.actor == world["leader"] and event.target == "other_leader"
