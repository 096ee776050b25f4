"""Class sessions: short codes without look-alike characters, one open session per
class and wave, closing by the teacher or by itself at the end of the school day."""

from datetime import timedelta

from django.utils import timezone

from surveys import services
from surveys.models import CODE_ALPHABET, CODE_LENGTH, AuditEvent, Session
from surveys.tasks import close_expired_sessions


def test_codes_use_no_look_alike_characters(open_wave, world):
    session = services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])
    assert len(session.code) == CODE_LENGTH
    assert set(session.code) <= set(CODE_ALPHABET)
    assert not set("0O1IL5S8B2Z") & set(CODE_ALPHABET)


def test_opening_twice_returns_the_open_session(open_wave, world):
    first = services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])
    again = services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])
    assert first.pk == again.pk
    assert AuditEvent.objects.filter(action="session.opened").count() == 1


def test_sessions_cannot_open_in_a_draft_wave(world):
    try:
        services.open_session(world["wave"], world["classes"]["7A"], by=world["teacher"])
    except services.ServiceError as err:
        assert "wave is open" in str(err)
    else:
        raise AssertionError("a draft wave accepted a session")


def test_a_forgotten_session_closes_itself_at_the_end_of_the_day(open_wave, world):
    session = services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])
    assert session.closes_at > timezone.now()
    assert close_expired_sessions() == 0
    Session.objects.filter(pk=session.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert close_expired_sessions() == 1
    session.refresh_from_db()
    assert session.status == "closed"
    event = AuditEvent.objects.get(action="session.closed")
    assert event.detail["reason"] == "end of school day" and event.actor is None


def test_closing_the_wave_closes_its_sessions(open_wave, world):
    session = services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])
    services.close_wave(open_wave, by=world["leader"])
    session.refresh_from_db()
    assert session.status == "closed"
