"""Erasure on request: one student's responses in a linked series, or a wave's raw data.

A school leader acts for their own school: in a district-wide series, only the
responses given in their school are touched. The student number is turned into the
series pseudonym at once and never stored, logged or audited; the audit event names
the series, the waves touched and a count. Published snapshots never change, and a
wave published before an erasure is never published again (surveys.lifecycle).
"""

from django.db import transaction
from django.utils.translation import gettext as _

from .consent import MAX_NUMBER_LENGTH
from .lifecycle import (
    ERASED_STUDENT,
    ERASED_WAVE,
    delete_in_batches,
    deletion_audit,
    lock_waves,
)
from .models import Response, Series, Wave
from .pseudonyms import normalise_number, series_pseudonym
from .services import ServiceError, audit

NO_MATCH = "data.erasure_no_match"


def _pseudonym(series, student_number):
    if series.mode != Series.Mode.LINKED:
        raise ServiceError(_("This series is anonymous: no response can be traced to a "
                             "student number. You can erase a whole wave's raw data instead."))
    if not isinstance(student_number, str) or len(student_number) > MAX_NUMBER_LENGTH \
            or not normalise_number(student_number):
        raise ServiceError(_("Type the student number (up to 64 characters)."))
    return series_pseudonym(series, student_number)


def erase_student(series, school, student_number, *, by):
    """Delete the responses given in `school` under this student number's pseudonym,
    in every wave of the series. Returns how many were deleted (0: none found)."""
    if not series.covers(school):
        raise ServiceError(_("This series does not survey that school."))
    pseudonym = _pseudonym(series, student_number)
    with transaction.atomic():
        lock_waves(series.waves.all())
        rows = Response.objects.filter(wave__series=series, school=school, pseudonym=pseudonym)
        touched = list(Wave.objects.filter(id__in=rows.values("wave_id")))
        deleted, _detail = rows.delete()
        if deleted:
            deletion_audit(by, ERASED_STUDENT, series, touched, school=school,
                           responses=deleted)
        else:
            audit(by, NO_MATCH, school=school, target=series.public_id)
    return deleted


def erasable_responses(wave, school):
    """The raw responses an erasure of `wave` by `school`'s leader would delete."""
    rows = Response.objects.filter(wave=wave)
    return rows.filter(school=school) if wave.series.district_wide else rows


def erase_wave(wave, school, *, by):
    """Delete a closed or published wave's raw responses (a district-wide wave: those
    given in `school`). The audit event is written first, in the transaction that
    locks the wave, so no publication can slip in between; a deletion stopped half-way
    is finished by running it again. Returns how many were deleted."""
    series = wave.series
    if not series.covers(school):
        raise ServiceError(_("This wave does not survey that school."))
    with transaction.atomic():
        (locked,) = lock_waves([wave])
        if locked.status not in (Wave.Status.CLOSED, Wave.Status.PUBLISHED):
            raise ServiceError(_("Close the wave before erasing its data: students may "
                                 "still be answering."))
        count = erasable_responses(locked, school).count()
        deletion_audit(by, ERASED_WAVE, series, [locked], school=school, responses=count)
    return delete_in_batches(erasable_responses(wave, school))
