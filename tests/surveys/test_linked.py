"""Linked mode: a student types their student number; only a per-series pseudonym is
kept, the number is never stored or logged, one response per pseudonym and wave."""

import json
import logging
import uuid
from datetime import date

import pytest
from django.apps import apps
from django.db import connection

from surveys import consent, services
from surveys.models import Response
from surveys.pseudonyms import series_pseudonym
from tests.conftest import answers_for


def linked(world, name="Linked 2026", consent_mode="passive"):
    series = services.create_series(world["school"], by=world["leader"], name=name,
                                    instrument=world["instrument"], mode="linked",
                                    consent_mode=consent_mode, demographics=["gender"])
    wave = services.create_wave(series, by=world["leader"], label="Autumn", season="autumn",
                                starts_on=date(2026, 9, 15))
    wave = services.open_wave(wave, by=world["leader"])
    return services.open_session(wave, world["classes"]["7A"], by=world["teacher"])


@pytest.fixture
def session(world):
    return linked(world)


def send(client, session, number, **extra):
    body = {"client_id": str(uuid.uuid4()), "language": "en",
            "demographics": {"gender": "prefer_not"},
            "answers": answers_for(session.wave.series.instrument, 3),
            "student_number": number, **extra}
    return client.post(f"/api/v1/sessions/{session.public_id}/responses/",
                       data=json.dumps(body), content_type="application/json")


def everything_stored():
    """Every column of every row of every model (auto-created M2M tables included),
    as text. Fails if the database holds a table no model describes, so nothing
    escapes the scan."""
    models = apps.get_models(include_auto_created=True)
    tables = set(connection.introspection.table_names())
    assert tables - {m._meta.db_table for m in models} <= {"django_migrations"}
    rows = []
    for model in models:
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model._base_manager.values_list(*fields):
            rows.append(" ".join(json.dumps(v, default=str) for v in row))
    return "\n".join(rows)


@pytest.fixture
def sql_logged():
    """Log every SQL statement too, so the log scan also covers what reached the database."""
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = previous


def test_a_student_number_is_never_stored_or_logged(client, world, session, caplog, sql_logged):
    numbers = {"answers": "QX7731ZK", "opted_out": "OPT99173W", "form": "FRM55820J"}
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")  # "django" stops at INFO
    client.force_login(world["teacher"])
    url = f"/teach/consent/{session.wave.series.public_id}/{session.class_group.public_id}/"
    assert client.post(url, {"action": "record",
                             "student_number": numbers["opted_out"]}).status_code == 302
    client.logout()
    assert send(client, session, numbers["answers"]).status_code == 201
    assert send(client, session, numbers["answers"]).status_code == 409
    assert send(client, session, numbers["opted_out"]).status_code == 403
    form = {"client_id": str(uuid.uuid4()), "band-gender": "girl",
            "student_number": numbers["form"],
            **{f"item-{k}": "2" for k in answers_for(world["instrument"], 2)}}
    assert client.post(f"/s/{session.code}/", form).status_code == 302
    stored = everything_stored()
    for number in numbers.values():
        assert number not in stored
        assert number.lower() not in stored.lower()
        assert number not in caplog.text
    # The scan sees what is stored: the pseudonyms are there, so it would see a number.
    assert series_pseudonym(session.wave.series, numbers["answers"]) in stored
    assert series_pseudonym(session.wave.series, numbers["opted_out"]) in stored
    assert "INSERT INTO" in caplog.text  # SQL was logged, and carried no number


def test_a_second_response_from_one_student_in_a_wave_is_refused_with_409(client, session):
    assert send(client, session, "AB 123").status_code == 201
    again = send(client, session, "ab123")  # the same number, typed differently
    assert again.status_code == 409
    assert "already answered" in again.json()["detail"]
    assert "tell your teacher" in again.json()["detail"]
    assert Response.objects.count() == 1


def test_the_same_number_gets_another_pseudonym_in_another_series(client, world, session):
    other = linked(world, name="Linked too")
    assert send(client, session, "N4711").status_code == 201
    assert send(client, other, "N4711").status_code == 201
    first = Response.objects.get(wave=session.wave).pseudonym
    second = Response.objects.get(wave=other.wave).pseudonym
    assert first != second
    assert first == series_pseudonym(session.wave.series, "N4711")
    assert second == series_pseudonym(other.wave.series, "N4711")


def test_the_pseudonym_is_stable_across_waves_of_a_series(client, world, session):
    assert send(client, session, "N4711").status_code == 201
    services.close_wave(session.wave, by=world["leader"])
    spring = services.create_wave(session.wave.series, by=world["leader"], label="Spring",
                                  season="spring", starts_on=date(2027, 3, 1))
    spring = services.open_wave(spring, by=world["leader"])
    later = services.open_session(spring, world["classes"]["7A"], by=world["teacher"])
    assert send(client, later, "N4711").status_code == 201
    autumn, spring_row = Response.objects.order_by("id")
    assert autumn.pseudonym == spring_row.pseudonym
    assert autumn.wave_id != spring_row.wave_id


def test_an_opted_out_student_gets_a_friendly_403_and_nothing_is_stored(client, world, session):
    consent.record(session.wave.series, session.class_group, by=world["teacher"],
                   student_number="N4711")
    refused = send(client, session, "N4711")
    assert refused.status_code == 403
    assert "Your family has asked that you do not take part" in refused.json()["detail"]
    assert "you do not need to do anything" in refused.json()["detail"]
    assert not Response.objects.exists()
    assert send(client, session, "N4712").status_code == 201


def test_with_active_consent_only_recorded_students_may_answer(client, world):
    session = linked(world, consent_mode="active")
    refused = send(client, session, "N4711")
    assert refused.status_code == 403
    assert "permission from your family" in refused.json()["detail"]
    assert not Response.objects.exists()
    consent.record(session.wave.series, session.class_group, by=world["teacher"],
                   student_number="n 4711")
    assert send(client, session, "N4711").status_code == 201


def test_a_missing_student_number_is_asked_for_and_nothing_stored(client, session):
    response = send(client, session, "   ")
    assert response.status_code == 400
    assert response.json()["field"] == "student_number"
    assert not Response.objects.exists()
