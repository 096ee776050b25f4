"""Opt-outs and consent: recorded by the right staff, as pseudonyms or counts, audited
without identifiers; participation from them; the anonymous active-consent cap."""

import json
import threading
import uuid
from datetime import date

import pytest
from django.db import connection, transaction

from surveys import consent, services
from surveys.models import AuditEvent, OptOut, Response
from surveys.pseudonyms import series_pseudonym
from surveys.services import ServiceError
from surveys.submission import SubmissionError

NUMBER = "S20260417"


def login(client, user):
    client.force_login(user)
    return client


def linked_series(world, consent_mode="passive", name="Linked 2026"):
    return services.create_series(world["school"], by=world["leader"], name=name,
                                  instrument=world["instrument"], mode="linked",
                                  consent_mode=consent_mode, demographics=[])


def page(series, class_group):
    return f"/teach/consent/{series.public_id}/{class_group.public_id}/"


def add_responses(wave, class_group, n):
    session = services.open_session(wave, class_group, by=None)
    Response.objects.bulk_create([
        Response(client_id=uuid.uuid4(), wave=wave, session=session, class_group=class_group,
                 school=class_group.school, year_level=class_group.year_level)
        for _i in range(n)])
    return session


def test_a_teacher_records_opt_outs_as_a_count_in_an_anonymous_series(client, world):
    series, seven_a = world["series"], world["classes"]["7A"]
    response = login(client, world["teacher"]).post(
        page(series, seven_a), {"action": "record", "count": "3"})
    assert response.status_code == 302
    rows = OptOut.objects.filter(series=series, class_group=seven_a)
    assert rows.count() == 3
    assert set(rows.values_list("kind", "pseudonym", "recorded_by")) == {
        ("opt_out", "", world["teacher"].pk)}
    event = AuditEvent.objects.get(action="opt_out.recorded")
    assert event.detail == {"series": series.public_id, "kind": "opt_out", "count": 3}
    assert event.target == seven_a.public_id and event.actor == world["teacher"]


def test_in_a_linked_series_only_the_pseudonym_of_the_number_is_kept(client, world):
    series, seven_a = linked_series(world), world["classes"]["7A"]
    login(client, world["teacher"]).post(page(series, seven_a),
                                         {"action": "record", "student_number": NUMBER})
    row = OptOut.objects.get(series=series)
    assert row.pseudonym == series_pseudonym(series, NUMBER) and row.kind == "opt_out"
    audit_text = json.dumps(list(AuditEvent.objects.values("target", "detail")))
    assert NUMBER not in audit_text and row.pseudonym not in audit_text
    shown = client.get(page(series, seven_a)).content.decode()
    assert NUMBER not in shown and row.pseudonym not in shown


def test_recording_one_student_twice_keeps_one_record(world):
    series, seven_a = linked_series(world), world["classes"]["7A"]
    assert consent.record(series, seven_a, by=world["teacher"], student_number=NUMBER) == 1
    assert consent.record(series, seven_a, by=world["teacher"],
                          student_number=f" {NUMBER.lower()} ") == 0
    assert OptOut.objects.count() == 1
    assert AuditEvent.objects.filter(action="opt_out.recorded").count() == 1


def test_records_can_be_removed_again(client, world):
    series, seven_a = linked_series(world), world["classes"]["7A"]
    consent.record(series, seven_a, by=world["teacher"], student_number=NUMBER)
    login(client, world["teacher"]).post(page(series, seven_a),
                                         {"action": "remove", "student_number": NUMBER})
    assert not OptOut.objects.exists()
    consent.record(world["series"], seven_a, by=world["teacher"], count=4)
    assert consent.remove(world["series"], seven_a, by=world["teacher"], count=3) == 3
    assert OptOut.objects.count() == 1
    removed = AuditEvent.objects.filter(action="opt_out.removed").values_list("detail", flat=True)
    assert sorted(d["count"] for d in removed) == [1, 3]


def test_counts_cannot_exceed_the_enrolment(world):
    seven_a = world["classes"]["7A"]  # 30 enrolled
    consent.record(world["series"], seven_a, by=world["teacher"], count=28)
    with pytest.raises(ServiceError, match="30 enrolled"):
        consent.record(world["series"], seven_a, by=world["teacher"], count=3)
    assert OptOut.objects.count() == 28


@pytest.mark.parametrize("mode, kwargs", [
    ("anonymous", {"student_number": NUMBER}),  # never hash a number in an anonymous series
    ("linked", {"count": 2}),
    ("anonymous", {"count": 0}),
    ("linked", {"student_number": "   "}),
    ("linked", {"student_number": "9" * 65}),
])
def test_the_wrong_kind_of_record_is_refused(world, mode, kwargs):
    series = linked_series(world) if mode == "linked" else world["series"]
    with pytest.raises(ServiceError):
        consent.record(series, world["classes"]["7A"], by=world["leader"], **kwargs)
    assert not OptOut.objects.exists()


def test_a_class_of_another_school_is_refused_by_the_domain_operation(world):
    with pytest.raises(ServiceError):
        consent.record(world["series"], world["other_class"], by=world["leader"], count=1)


@pytest.mark.parametrize("persona, target, expected", [
    ("teacher", "7A", 200),
    ("teacher", "7B", 404),  # a class the teacher does not teach
    ("leader", "8A", 200),
    ("other_leader", "7A", 404),  # a leader of another school
    ("district_admin", "7A", 404),  # sees participation, does not record opt-outs
    ("researcher", "7A", 404),
])
def test_who_may_open_and_post_the_consent_page(client, world, persona, target, expected):
    url = page(world["series"], world["classes"][target])
    login(client, world[persona])
    assert client.get(url).status_code == expected
    posted = client.post(url, {"action": "record", "count": "1"})
    assert posted.status_code == (302 if expected == 200 else 404)
    assert OptOut.objects.count() == (1 if expected == 200 else 0)


def test_a_series_of_another_school_with_ones_own_class_is_a_404(client, world):
    lakeside = services.create_series(world["other_school"], by=world["other_leader"],
                                      name="Lakeside", instrument=world["instrument"])
    login(client, world["leader"])
    assert client.get(page(lakeside, world["classes"]["7A"])).status_code == 404
    login(client, world["other_leader"])
    assert client.get(page(lakeside, world["classes"]["7A"])).status_code == 404


def test_staff_pages_need_a_login(client, world):
    response = client.get(page(world["series"], world["classes"]["7A"]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/teach/consent/").status_code == 302


def test_the_overview_lists_only_the_classes_one_may_record_for(client, world, open_wave):
    add_responses(open_wave, world["classes"]["7A"], 4)
    add_responses(open_wave, world["classes"]["7B"], 2)
    # Class names are matched as element text: random public ids in links may hold "7B".
    teacher_page = login(client, world["teacher"]).get("/teach/consent/").content.decode()
    assert ">7A</a>" in teacher_page and ">7B<" not in teacher_page
    assert world["classes"]["7B"].public_id not in teacher_page
    leader_page = login(client, world["leader"]).get("/teach/consent/").content.decode()
    assert ">7A</a>" in leader_page and ">7B</a>" in leader_page
    other = login(client, world["other_leader"]).get("/teach/consent/").content.decode()
    assert ">7A<" not in other and "Belonging 2026" not in other


def test_participation_uses_enrolment_minus_opt_outs(world, open_wave):
    seven_a, seven_b = world["classes"]["7A"], world["classes"]["7B"]
    consent.record(world["series"], seven_a, by=world["teacher"], count=3)
    add_responses(open_wave, seven_a, 9)
    rows = consent.participation(open_wave)
    assert rows[seven_a] == {"enrolment": 30, "opted_out": 3, "eligible": 27,
                             "responses": 9, "rate": 9 / 27}
    assert rows[seven_b] == {"enrolment": 30, "opted_out": 0, "eligible": 30,
                             "responses": 0, "rate": 0.0}
    assert world["other_class"] not in rows


def test_participation_in_active_consent_counts_only_consenting_students(world):
    series = services.create_series(world["school"], by=world["leader"], name="Opt-in",
                                    instrument=world["instrument"], consent_mode="active")
    wave = services.create_wave(series, by=world["leader"], label="W1", season="autumn",
                                starts_on=date(2026, 9, 1))
    wave = services.open_wave(wave, by=world["leader"])
    seven_a = world["classes"]["7A"]
    consent.record(series, seven_a, by=world["teacher"], count=12)
    add_responses(wave, seven_a, 6)
    rows = consent.participation(wave, [seven_a, world["classes"]["8A"]])
    assert rows[seven_a] == {"enrolment": 30, "opted_out": 18, "eligible": 12,
                             "responses": 6, "rate": 0.5}
    assert rows[world["classes"]["8A"]]["rate"] is None  # nobody has consent yet


def test_the_consent_page_shows_participation_counts_during_fieldwork(client, world, open_wave):
    seven_a = world["classes"]["7A"]
    consent.record(world["series"], seven_a, by=world["teacher"], count=5)
    add_responses(open_wave, seven_a, 10)
    html = login(client, world["teacher"]).get(page(world["series"], seven_a)).content.decode()
    assert "<td>25</td><td>10</td>" in html and "40%" in html


def store_if_room(session, value=3):
    """What submission._store does once it calls claim_anonymous_place (see the report)."""
    with transaction.atomic():
        consent.claim_anonymous_place(session)
        return Response.objects.create(
            client_id=uuid.uuid4(), wave_id=session.wave_id, session=session,
            class_group=session.class_group, school=session.class_group.school,
            year_level=session.class_group.year_level, v01=value)


@pytest.fixture
def opt_in_session(world):
    series = services.create_series(world["school"], by=world["leader"], name="Opt-in",
                                    instrument=world["instrument"], consent_mode="active")
    wave = services.create_wave(series, by=world["leader"], label="W1", season="autumn",
                                starts_on=date(2026, 9, 1))
    wave = services.open_wave(wave, by=world["leader"])
    return services.open_session(wave, world["classes"]["7A"], by=world["teacher"])


def test_an_anonymous_opt_in_class_sends_no_more_responses_than_consents(world, opt_in_session):
    consent.record(opt_in_session.wave.series, world["classes"]["7A"], by=world["teacher"],
                   count=2)
    store_if_room(opt_in_session)
    store_if_room(opt_in_session)
    with pytest.raises(SubmissionError) as refused:
        store_if_room(opt_in_session)
    assert refused.value.status == 409
    assert "permission" in refused.value.message and "teacher" in refused.value.message
    assert Response.objects.count() == 2


def test_the_cap_does_not_apply_to_passive_or_linked_series(world, open_wave):
    session = services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])
    store_if_room(session)  # anonymous passive: no consent recorded, still accepted
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_students_racing_for_the_last_places_never_exceed_the_consents(world, opt_in_session):
    consent.record(opt_in_session.wave.series, world["classes"]["7A"], by=world["teacher"],
                   count=5)
    outcomes = []

    def send():
        try:
            store_if_room(opt_in_session)
            outcomes.append("stored")
        except SubmissionError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["stored"] * 5
    assert Response.objects.filter(session=opt_in_session).count() == 5

