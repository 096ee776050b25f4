"""Receiving a student's response: validate everything, store exactly once.

The browser makes a UUID per response (the idempotency key) and retries until
the server acknowledges. A repeat of a stored UUID is acknowledged, never stored
again; a response is stored whole or not at all.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import consent
from .demographics import DEMOGRAPHIC_BANDS, band_values
from .models import OptOut, Response, Series, Session, Wave
from .pseudonyms import series_pseudonym

MAX_PAYLOAD_BYTES = 16_384
# Answers queued offline may arrive shortly after the teacher closed the session.
SUBMIT_GRACE = timedelta(minutes=30)
ALLOWED_KEYS = {"client_id", "language", "demographics", "answers", "student_number"}


class SubmissionError(Exception):
    def __init__(self, message, status=400, field=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass
class CleanSubmission:
    client_id: uuid.UUID
    language: str
    demographics: dict
    values: dict = field(default_factory=dict)  # column -> value or None
    pseudonym: str | None = None


def _client_id(payload):
    try:
        return uuid.UUID(str(payload.get("client_id", "")))
    except ValueError:
        raise SubmissionError(_("This response has no valid identifier. Please reload the page."),
                              field="client_id") from None


def _demographics(series, raw):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SubmissionError(_("The answers about you were not understood."), field="demographics")
    unknown = set(raw) - set(series.demographics)
    if unknown:
        raise SubmissionError(_("This survey does not ask about that."), field="demographics")
    clean = {}
    for band in series.demographics:
        value = raw.get(band) or ""
        if value and value not in band_values(band):
            label = DEMOGRAPHIC_BANDS[band]["label"]
            raise SubmissionError(_("Please choose one of the options for: %(q)s") % {"q": label},
                                  field=band)
        clean[band] = value
    return clean


def _answers(instrument, raw):
    if not isinstance(raw, dict):
        raise SubmissionError(_("Your answers were not understood. Please try again."),
                              field="answers")
    items = {item.key: item for item in instrument.items.all()}
    unknown = set(raw) - set(items)
    if unknown:
        raise SubmissionError(_("Some answers do not belong to this survey."), field="answers")
    values = {}
    for key, item in items.items():
        value = raw.get(key)
        if value is None or value == "":
            values[item.column] = None
            continue
        scale = instrument.scales[item.scale]
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise SubmissionError(_("An answer is not one of the options."), field=key)
        if not scale["min"] <= int(value) <= scale["max"]:
            raise SubmissionError(_("An answer is not one of the options."), field=key)
        values[item.column] = int(value)
    return values


def _pseudonym(series, payload):
    if series.mode != Series.Mode.LINKED:
        return None
    number = payload.get("student_number")
    if not isinstance(number, str) or not number.strip() or len(number) > 64:
        raise SubmissionError(_("Please type your student number."), field="student_number")
    return series_pseudonym(series, number)


def _check_consent(series, class_group, pseudonym):
    if pseudonym is None:
        return
    records = OptOut.objects.filter(series=series, pseudonym=pseudonym)
    if records.filter(kind=OptOut.Kind.OPT_OUT).exists():
        raise SubmissionError(
            _("Your family has asked that you do not take part in this survey. "
              "Thank you: you do not need to do anything."), status=403)
    if series.consent_mode == Series.Consent.ACTIVE and not records.filter(
        kind=OptOut.Kind.CONSENT
    ).exists():
        raise SubmissionError(
            _("We do not have permission from your family for this survey yet. "
              "Please tell your teacher."), status=403)


def clean(session, payload):
    if not isinstance(payload, dict):
        raise SubmissionError(_("Your answers were not understood. Please try again."))
    if set(payload) - ALLOWED_KEYS:
        raise SubmissionError(_("Your answers were not understood. Please try again."))
    series = session.wave.series
    language = payload.get("language") if payload.get("language") in series.languages else "en"
    return CleanSubmission(
        client_id=_client_id(payload),
        language=language,
        demographics=_demographics(series, payload.get("demographics")),
        values=_answers(series.instrument, payload.get("answers")),
        pseudonym=_pseudonym(series, payload),
    )


def session_accepts(session, now=None):
    now = now or timezone.now()
    if session.wave.status != Wave.Status.OPEN:
        return False
    if session.status == Session.Status.OPEN:
        return True
    return session.closed_at is not None and now - session.closed_at <= SUBMIT_GRACE


def find_existing(client_id):
    return Response.objects.filter(client_id=client_id).first()


def submit(session, payload):
    """Store one response. Returns (response, created)."""
    client_id = _client_id(payload if isinstance(payload, dict) else {})
    existing = find_existing(client_id)
    if existing is not None:
        return _acknowledge(existing, session)
    if not session_accepts(session):
        raise SubmissionError(_("This survey session has closed. Please ask your teacher."),
                              status=410)
    data = clean(session, payload)
    _check_consent(session.wave.series, session.class_group, data.pseudonym)
    return _store(session, data)


def _acknowledge(existing, session):
    if existing.session_id != session.id:
        raise SubmissionError(_("This response was already sent from another session."),
                              status=409)
    return existing, False


def _store(session, data):
    cg = session.class_group
    try:
        with transaction.atomic():
            consent.claim_anonymous_place(session)  # anonymous + active consent: cap per class
            response = Response.objects.create(
                client_id=data.client_id, wave_id=session.wave_id, session=session,
                class_group=cg, school_id=cg.school_id, year_level=cg.year_level,
                gender=data.demographics.get("gender", ""),
                home_language=data.demographics.get("home_language", ""),
                language=data.language, pseudonym=data.pseudonym, **data.values,
            )
    except IntegrityError:
        existing = find_existing(data.client_id)
        if existing is not None:  # the same response, sent twice at once
            return _acknowledge(existing, session)
        raise SubmissionError(
            _("Someone with this student number has already answered this survey. "
              "If that was not you, please tell your teacher."), status=409) from None
    return response, True
