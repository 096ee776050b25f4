"""Receiving a student's response: validate everything, store exactly once.

The browser makes a UUID per response (the idempotency key) and retries until
the server acknowledges. A repeat of a stored UUID is acknowledged, never stored
again; a response is stored whole or not at all.

Two paths, one behaviour (docs/performance.md, "Submitting responses"):

- `submit_to(public_id, payload)`, the API's: validation reads per-process caches
  (the series settings of a session, the item rules of an instrument); on
  PostgreSQL one statement then stores the response only if the session still
  accepts it and the cached settings still hold (`surveys.fastinsert`). Anything
  that statement does not store (a repeat, a closed session, a refusal, changed
  settings, active consent in an anonymous series) goes to the reference path.
- `submit(session, payload)`, the reference path, also used by the no-JS form:
  look the UUID up, check the session, validate, check consent, insert.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access, consent, fastinsert
from .demographics import DEMOGRAPHIC_BANDS, band_values
from .models import Instrument, Item, OptOut, Response, Series, Session, Wave
from .pseudonyms import series_pseudonym

MAX_PAYLOAD_BYTES = 16_384
# Answers queued offline may arrive shortly after the teacher closed the session.
SUBMIT_GRACE = timedelta(minutes=30)
ALLOWED_KEYS = {"client_id", "language", "demographics", "answers", "student_number"}
MAX_CACHED_SESSIONS = 4096


class SubmissionError(Exception):
    def __init__(self, message, status=400, field=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Rules:
    """What validating a response needs to know about its session's series. Cached per
    session; the fast insert stores a response only while the series still matches."""

    series_id: int
    series_public_id: str
    instrument_id: int
    mode: str
    consent_mode: str
    languages: tuple
    demographics: tuple

    @classmethod
    def of(cls, series):
        return cls(series.id, series.public_id, series.instrument_id, series.mode,
                   series.consent_mode, tuple(series.languages), tuple(series.demographics))

    @property
    def linked(self):
        return self.mode == Series.Mode.LINKED

    @property
    def active_consent(self):
        return self.consent_mode == Series.Consent.ACTIVE


@dataclass
class CleanSubmission:
    client_id: uuid.UUID
    language: str
    demographics: dict
    values: dict = field(default_factory=dict)  # column -> value or None
    pseudonym: str | None = None


@lru_cache(maxsize=256)
def item_rules(instrument_id):
    """{item key: (column, min, max)} of one instrument. Cached per process: a version a
    wave uses never changes (surveys/instruments.py refuses), and only an open wave takes
    answers. Saving or deleting an instrument or item in this process clears the cache."""
    instrument = Instrument.objects.only("definition").get(pk=instrument_id)
    return {
        item.key: (item.column, instrument.scales[item.scale]["min"],
                   instrument.scales[item.scale]["max"])
        for item in Item.objects.filter(instrument_id=instrument_id).only(
            "key", "position", "scale")
    }


def _forget_instruments(**_kwargs):
    item_rules.cache_clear()


for _model in (Instrument, Item):
    post_save.connect(_forget_instruments, sender=_model, dispatch_uid=f"rules-{_model.__name__}")
    post_delete.connect(_forget_instruments, sender=_model,
                        dispatch_uid=f"rules-del-{_model.__name__}")

_session_rules = {}  # session public_id -> Rules


def _remember(public_id, session):
    if len(_session_rules) >= MAX_CACHED_SESSIONS:
        _session_rules.clear()
    rules = _session_rules[public_id] = Rules.of(session.wave.series)
    return rules


def _client_id(payload):
    try:
        return uuid.UUID(str(payload.get("client_id", "")))
    except ValueError:
        raise SubmissionError(_("This response has no valid identifier. Please reload the page."),
                              field="client_id") from None


def _demographics(asked, raw):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SubmissionError(_("The answers about you were not understood."), field="demographics")
    if set(raw) - set(asked):
        raise SubmissionError(_("This survey does not ask about that."), field="demographics")
    clean = {}
    for band in asked:
        value = raw.get(band) or ""
        if value and value not in band_values(band):
            label = DEMOGRAPHIC_BANDS[band]["label"]
            raise SubmissionError(_("Please choose one of the options for: %(q)s") % {"q": label},
                                  field=band)
        clean[band] = value
    return clean


def _answers(instrument_id, raw):
    if not isinstance(raw, dict):
        raise SubmissionError(_("Your answers were not understood. Please try again."),
                              field="answers")
    rules = item_rules(instrument_id)
    if set(raw) - rules.keys():
        raise SubmissionError(_("Some answers do not belong to this survey."), field="answers")
    values = {}
    for key, (column, low, high) in rules.items():
        value = raw.get(key)
        if value is None or value == "":
            values[column] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise SubmissionError(_("An answer is not one of the options."), field=key)
        if not low <= int(value) <= high:
            raise SubmissionError(_("An answer is not one of the options."), field=key)
        values[column] = int(value)
    return values


def _pseudonym(rules, payload):
    if not rules.linked:
        return None
    number = payload.get("student_number")
    if not isinstance(number, str) or not number.strip() or len(number) > 64:
        raise SubmissionError(_("Please type your student number."), field="student_number")
    return series_pseudonym(Series(public_id=rules.series_public_id), number)


def _check_consent(rules, pseudonym):
    if pseudonym is None:
        return
    records = OptOut.objects.filter(series_id=rules.series_id, pseudonym=pseudonym)
    if records.filter(kind=OptOut.Kind.OPT_OUT).exists():
        raise SubmissionError(
            _("Your family has asked that you do not take part in this survey. "
              "Thank you: you do not need to do anything."), status=403)
    if rules.active_consent and not records.filter(kind=OptOut.Kind.CONSENT).exists():
        raise SubmissionError(
            _("We do not have permission from your family for this survey yet. "
              "Please tell your teacher."), status=403)


def clean(rules, payload):
    """Validate a payload against a series' Rules. Returns a CleanSubmission."""
    if not isinstance(payload, dict):
        raise SubmissionError(_("Your answers were not understood. Please try again."))
    if set(payload) - ALLOWED_KEYS:
        raise SubmissionError(_("Your answers were not understood. Please try again."))
    language = payload.get("language") if payload.get("language") in rules.languages else "en"
    return CleanSubmission(
        client_id=_client_id(payload),
        language=language,
        demographics=_demographics(rules.demographics, payload.get("demographics")),
        values=_answers(rules.instrument_id, payload.get("answers")),
        pseudonym=_pseudonym(rules, payload),
    )


def session_accepts(session, now=None):
    now = now or timezone.now()
    if session.wave.status != Wave.Status.OPEN:
        return False
    if session.status == Session.Status.OPEN:
        return True
    return session.closed_at is not None and now - session.closed_at <= SUBMIT_GRACE


def find_existing(client_id):
    return Response.objects.filter(client_id=client_id).only(
        "id", "client_id", "session_id").first()


def submit_to(public_id, payload):
    """The API's submission into the session with this public id: the one-statement
    insert when it applies, else the reference path. Returns (client_id, created).
    Raises Http404 for an unknown session, SubmissionError for a refusal."""
    rules = _session_rules.get(public_id)
    session = None
    if rules is None:
        session = access.get_session_for_student(public_id)
        rules = _remember(public_id, session)
    if fastinsert.applies(rules):
        try:
            data = clean(rules, payload)
        except SubmissionError:
            data = None  # the reference path says why (or acknowledges a stored repeat)
        if data is not None and fastinsert.insert(public_id, rules, data, timezone.now(),
                                                  SUBMIT_GRACE):
            return data.client_id, True
    if session is None:
        session = access.get_session_for_student(public_id)
        _remember(public_id, session)
    return submit(session, payload)


def submit(session, payload):
    """Store one response in a session already looked up. Returns (client_id, created)."""
    client_id = _client_id(payload if isinstance(payload, dict) else {})
    existing = find_existing(client_id)
    if existing is not None:
        return _acknowledge(existing, session)
    if not session_accepts(session):
        raise SubmissionError(_("This survey session has closed. Please ask your teacher."),
                              status=410)
    rules = Rules.of(session.wave.series)
    data = clean(rules, payload)
    _check_consent(rules, data.pseudonym)
    return _store(session, data)


def _acknowledge(existing, session):
    if existing.session_id != session.id:
        raise SubmissionError(_("This response was already sent from another session."),
                              status=409)
    return existing.client_id, False


def _store(session, data):
    cg = session.class_group
    try:
        with transaction.atomic():
            consent.claim_anonymous_place(session)  # anonymous + active consent: cap per class
            Response.objects.create(
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
    return data.client_id, True
