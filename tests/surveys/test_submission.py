"""A student's submission: stored exactly once, whole, or refused with a clear message."""

import json
import threading
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys import services
from surveys.instruments import load_file
from surveys.models import Response, Series, Session
from tests.conftest import INSTRUMENTS, answers_for


@pytest.fixture
def session(open_wave, world):
    return services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])


def post(client, session, body, raw=None):
    url = f"/api/v1/sessions/{session.public_id}/responses/"
    data = raw if raw is not None else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def body(world, value=3, **extra):
    payload = {"client_id": str(uuid.uuid4()), "language": "en",
               "demographics": {"gender": "girl"},
               "answers": answers_for(world["instrument"], value)}
    payload.update(extra)
    return payload


def test_a_valid_response_is_stored_with_its_answers(client, world, session):
    response = post(client, session, body(world, 4))
    assert response.status_code == 201
    stored = Response.objects.get()
    assert stored.class_group == world["classes"]["7A"]
    assert stored.year_level == 7 and stored.gender == "girl"
    assert [stored.answers()[i] for i in range(1, 7)] == [4] * 6
    assert stored.answers()[7] is None


def test_the_same_response_sent_twice_is_acknowledged_and_stored_once(client, world, session):
    payload = body(world)
    assert post(client, session, payload).status_code == 201
    again = post(client, session, payload)
    assert again.status_code == 200
    assert again.json() == {"client_id": payload["client_id"], "stored": False}
    assert Response.objects.count() == 1


def test_skipped_items_are_stored_as_no_answer(client, world, session):
    payload = body(world)
    payload["answers"] = {"PISA2018.ST034Q03TA": 2}
    assert post(client, session, payload).status_code == 201
    answers = Response.objects.get().answers()
    assert answers[3] == 2 and answers[1] is None


@pytest.mark.parametrize("value", [0, 5, -1, "x", 2.5, True])
def test_a_value_outside_the_scale_is_refused_and_nothing_stored(client, world, session, value):
    payload = body(world)
    payload["answers"]["PISA2018.ST034Q01TA"] = value
    response = post(client, session, payload)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert Response.objects.count() == 0


@pytest.mark.parametrize("change, field", [
    ({"client_id": "not-a-uuid"}, "client_id"),
    ({"answers": {"NOT.AN.ITEM": 1}}, "answers"),
    ({"answers": "all good"}, "answers"),
    ({"demographics": {"gender": "robot"}}, "gender"),
    ({"demographics": {"religion": "x"}}, "demographics"),
])
def test_malformed_fields_are_named_in_the_error(client, world, session, change, field):
    payload = body(world)
    payload.update(change)
    response = post(client, session, payload)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert Response.objects.count() == 0


def test_a_missing_client_id_is_refused(client, world, session):
    payload = body(world)
    del payload["client_id"]
    assert post(client, session, payload).status_code == 400


def test_unknown_top_level_fields_are_refused(client, world, session):
    assert post(client, session, body(world, email="a@b.c")).status_code == 400
    assert Response.objects.count() == 0


def test_invalid_json_gets_a_readable_400(client, session):
    response = post(client, session, None, raw="{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_an_oversized_payload_is_refused(client, world, session):
    payload = body(world, language="x" * 20_000)
    assert post(client, session, payload).status_code == 413
    assert Response.objects.count() == 0


def test_an_unknown_session_is_a_404(client, world, session):
    response = client.post("/api/v1/sessions/nope/responses/", data=json.dumps(body(world)),
                           content_type="application/json")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_a_session_closed_long_ago_refuses_new_responses(client, world, session):
    services.close_session(session, by=world["teacher"])
    Session.objects.filter(pk=session.pk).update(closed_at=timezone.now() - timedelta(hours=2))
    response = post(client, session, body(world))
    assert response.status_code == 410
    assert "closed" in response.json()["detail"]
    assert Response.objects.count() == 0


def test_answers_queued_offline_are_accepted_just_after_the_session_closed(client, world, session):
    services.close_session(session, by=world["teacher"])
    assert post(client, session, body(world)).status_code == 201


def test_a_response_already_stored_is_acknowledged_even_after_the_wave_closed(
    client, world, session
):
    payload = body(world)
    assert post(client, session, payload).status_code == 201
    services.close_wave(world["wave"], by=world["leader"])
    assert post(client, session, payload).status_code == 200
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_of_one_response_store_exactly_one_row(world, session):
    from django.test import Client

    payload = json.dumps(body(world))
    url = f"/api/v1/sessions/{session.public_id}/responses/"
    statuses = []

    def send():
        statuses.append(Client().post(url, data=payload, content_type="application/json")
                        .status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses).count(201) == 1
    assert set(statuses) <= {200, 201}
    assert Response.objects.count() == 1


def _statements_of_one_submission(client, session, payload):
    """The SQL one accepted submission runs (savepoints of the test's own transaction
    left out: outside a test they do not exist)."""
    with CaptureQueriesContext(connection) as ctx:
        response = post(client, session, payload)
    assert response.status_code == 201, response.json()
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def _session_of(world, instrument, mode="anonymous"):
    series = services.create_series(world["school"], by=world["leader"],
                                    name=f"{mode} {instrument}", instrument=instrument,
                                    mode=mode, demographics=["gender"])
    wave = services.create_wave(series, by=world["leader"], label="Autumn", season="autumn",
                                starts_on=date(2026, 9, 15))
    wave = services.open_wave(wave, by=world["leader"])
    return services.open_session(wave, world["classes"]["7A"], by=world["teacher"])


@pytest.mark.parametrize("mode", ["anonymous", "linked"])
def test_an_accepted_submission_runs_the_same_queries_whatever_the_items_and_prior_responses(
    client, world, mode
):
    core = load_file(INSTRUMENTS / "belonging-core-1.0.yaml")
    sessions = {n: _session_of(world, instrument, mode)
                for n, instrument in ((6, world["instrument"]), (17, core))}
    counts = []
    for n, session in sessions.items():
        instrument = session.wave.series.instrument
        assert len(answers_for(instrument, 2)) == n

        def payload(number, instrument=instrument):
            extra = {"student_number": f"S{number:04d}"} if mode == "linked" else {}
            return {"client_id": str(uuid.uuid4()), "demographics": {"gender": "boy"},
                    "answers": answers_for(instrument, 2), **extra}

        post(client, session, payload(0))  # the first one fills the per-process caches
        counts.append(len(_statements_of_one_submission(client, session, payload(1))))
        for number in range(2, 32):
            assert post(client, session, payload(number)).status_code == 201
        statements = _statements_of_one_submission(client, session, payload(99))
        counts.append(len(statements))
    assert Response.objects.count() == 2 * 33
    assert len(set(counts)) == 1, counts
    if connection.vendor == "postgresql":  # the prepared INSERT ... SELECT, nothing else
        assert counts[0] == 1 and statements[0].startswith("EXECUTE belonging_submit")


def test_a_response_checked_against_settings_that_changed_since_is_checked_again(
    client, world, session
):
    assert post(client, session, body(world)).status_code == 201  # caches the series' settings
    Series.objects.filter(pk=session.wave.series_id).update(demographics=[])
    response = post(client, session, body(world))  # still asks gender: no longer asked
    assert response.status_code == 400
    assert response.json()["field"] == "demographics"
    assert Response.objects.count() == 1


def test_a_prepared_statement_the_connection_lost_is_prepared_again(client, world, session):
    """A pooler's DISCARD ALL drops prepared statements: nothing is lost meanwhile."""
    assert post(client, session, body(world)).status_code == 201
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
    assert post(client, session, body(world)).status_code == 201  # by the reference path
    third = body(world)
    with CaptureQueriesContext(connection) as ctx:
        assert post(client, session, third).status_code == 201
    if connection.vendor == "postgresql":
        assert [q["sql"].split()[0] for q in ctx.captured_queries
                if "SAVEPOINT" not in q["sql"]] == ["PREPARE", "EXECUTE"]
    assert Response.objects.count() == 3
