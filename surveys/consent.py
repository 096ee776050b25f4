"""Opt-outs and consent, and the participation they imply (docs/privacy.md, "Consent").

Who may take part depends on the series' consent mode:

- passive: parents may opt out; staff record the students who opted out;
- active: parents must opt in; staff record the students who have consent.

Linked series: a record holds the student's series pseudonym, derived here from the
student number the moment staff type it. The number itself is never stored, logged or
audited, and submission refuses a pseudonym that may not take part.

Anonymous series: the server cannot tell students apart, so a record is a count per
class (OptOut rows with an empty pseudonym). Opt-outs then only correct participation
rates (the teacher does not give the code to an opted-out student); consents cap the
number of responses a class may send in each wave (`claim_anonymous_place`).

Every operation writes an audit event with counts only: no number, no pseudonym.
"""

from django.db.models import Count
from django.utils.translation import gettext as _

from .models import ClassGroup, OptOut, Response, Series
from .pseudonyms import normalise_number, series_pseudonym
from .services import ServiceError, audit

MAX_NUMBER_LENGTH = 64  # the same bound submission applies to a typed student number


def kind_for(series):
    """What staff record in this series: opt-outs (passive) or consents (active)."""
    if series.consent_mode == Series.Consent.ACTIVE:
        return OptOut.Kind.CONSENT
    return OptOut.Kind.OPT_OUT


def _check_scope(series, class_group):
    """A class of the series' school, or of any school of a district-wide series'
    district (who may act on which class is surveys.access's answer, not this one's)."""
    if not series.covers(class_group.school):
        raise ServiceError(_("That class is not in a school this series surveys."))


def _pseudonym(series, student_number):
    if series.mode != Series.Mode.LINKED:
        # Hashing a number in an anonymous series would create a link nobody agreed to.
        raise ServiceError(_("This series is anonymous: record a number of students instead."))
    if not isinstance(student_number, str) or len(student_number) > MAX_NUMBER_LENGTH \
            or not normalise_number(student_number):
        raise ServiceError(_("Type the student number (up to 64 characters)."))
    return series_pseudonym(series, student_number)


def _check_count(series, class_group, count):
    if series.mode == Series.Mode.LINKED:
        raise ServiceError(_("This series is linked: record each student by student number."))
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ServiceError(_("Type a number of students (1 or more)."))


def _audit(by, action, series, class_group, count):
    # Filed under the class's school, so each school's log (and the district's) shows it.
    audit(by, action, school=class_group.school, target=class_group.public_id,
          series=series.public_id, kind=kind_for(series), count=count)


def record(series, class_group, *, by, student_number=None, count=None):
    """Record opted-out (passive) or consenting (active) students of one class.

    Linked series take one student number; anonymous series take a count. Returns the
    number of records added (0 when that student was already recorded for the class)."""
    _check_scope(series, class_group)
    kind = kind_for(series)
    if student_number is not None:
        pseudonym = _pseudonym(series, student_number)
        _row, created = OptOut.objects.get_or_create(
            series=series, class_group=class_group, kind=kind, pseudonym=pseudonym,
            defaults={"recorded_by": by},
        )
        added = int(created)
    else:
        _check_count(series, class_group, count)
        _check_room(series, class_group, kind, count)
        OptOut.objects.bulk_create(
            [OptOut(series=series, class_group=class_group, kind=kind, recorded_by=by)
             for _i in range(count)])
        added = count
    if added:
        _audit(by, f"{kind}.recorded", series, class_group, added)
    return added


def _check_room(series, class_group, kind, count):
    """Counts cannot exceed the class's enrolment (when the enrolment is known)."""
    if not class_group.enrolment:
        return
    already = OptOut.objects.filter(series=series, class_group=class_group, kind=kind).count()
    if already + count > class_group.enrolment:
        raise ServiceError(
            _("That would record %(n)s students, but the class has %(e)s enrolled.")
            % {"n": already + count, "e": class_group.enrolment})


def remove(series, class_group, *, by, student_number=None, count=None):
    """Undo records of one class: a mistake, or a family that changed its mind.
    Returns the number of records removed."""
    _check_scope(series, class_group)
    kind = kind_for(series)
    rows = OptOut.objects.filter(series=series, class_group=class_group, kind=kind)
    if student_number is not None:
        removed, _detail = rows.filter(pseudonym=_pseudonym(series, student_number)).delete()
    else:
        _check_count(series, class_group, count)
        ids = list(rows.filter(pseudonym="").order_by("-id").values_list("id", flat=True)[:count])
        removed, _detail = OptOut.objects.filter(id__in=ids).delete()
    if removed:
        _audit(by, f"{kind}.removed", series, class_group, removed)
    return removed


def recorded_counts(series, classes):
    """{class id: number of records of the series' kind} for the given classes."""
    rows = (OptOut.objects.filter(series=series, class_group__in=classes, kind=kind_for(series))
            .values("class_group").annotate(n=Count("id")))
    return {row["class_group"]: row["n"] for row in rows}


def participation(wave, classes=None):
    """Per class: {enrolment, opted_out, eligible, responses, rate}. Counts only, never
    answers, so it may be shown while the wave is open (DESIGN.md, privacy rule 1).

    opted_out is the opt-outs recorded (passive), or the enrolled students without a
    recorded consent (active); eligible = enrolment - opted_out; rate = responses /
    eligible, None when nobody is eligible. A rate above 1 means the enrolment is out of
    date (or, in an anonymous passive series, an opted-out student answered)."""
    series = wave.series
    if classes is None:
        classes = ClassGroup.objects.filter(school__in=series.schools())
    classes = list(classes)
    recorded = recorded_counts(series, classes)
    answered = dict(Response.objects.filter(wave=wave, class_group__in=classes)
                    .values("class_group").annotate(n=Count("id")).values_list("class_group", "n"))
    result = {}
    for class_group in classes:
        n = recorded.get(class_group.id, 0)
        enrolment = class_group.enrolment
        if series.consent_mode == Series.Consent.ACTIVE:
            eligible = min(n, enrolment) if enrolment else n
        else:
            eligible = max(enrolment - n, 0)
        responses = answered.get(class_group.id, 0)
        result[class_group] = {
            "enrolment": enrolment, "opted_out": max(enrolment - eligible, 0),
            "eligible": eligible, "responses": responses,
            "rate": responses / eligible if eligible else None,
        }
    return result


COUNTS = ("enrolment", "opted_out", "eligible", "responses")


def _summed(rows):
    total = {key: sum(row[key] for row in rows) for key in COUNTS}
    total["rate"] = total["responses"] / total["eligible"] if total["eligible"] else None
    return total


def participation_by_school(wave, schools=None):
    """The class counts of `participation` summed per school (the wave's schools, or the
    given ones) and over them all (the whole district, for a district-wide wave):
    {"schools": [{"school": ..., counts and rate}], "total": {counts and rate}}. The
    rates come from the summed counts, never from averaging class rates."""
    schools = list(wave.series.schools() if schools is None else schools)
    classes = ClassGroup.objects.filter(school__in=schools).select_related("school")
    per_school = {school.id: [] for school in schools}
    for class_group, numbers in participation(wave, classes).items():
        per_school[class_group.school_id].append(numbers)
    rows = [{"school": school, **_summed(per_school[school.id])} for school in schools]
    return {"schools": rows, "total": _summed(rows)}


def claim_anonymous_place(session):
    """In an anonymous series with active consent, accept a response only while the class
    has sent fewer responses in this wave than it has recorded consents.

    Call inside the transaction that stores the response: the class row is locked, so
    two students sending the last place at once cannot both take it."""
    from .submission import SubmissionError  # submission calls this; avoid an import cycle

    series = session.wave.series
    if series.mode != Series.Mode.ANONYMOUS or series.consent_mode != Series.Consent.ACTIVE:
        return
    list(ClassGroup.objects.select_for_update().filter(pk=session.class_group_id)
         .values_list("pk", flat=True))
    consents = OptOut.objects.filter(series=series, class_group_id=session.class_group_id,
                                     kind=OptOut.Kind.CONSENT).count()
    sent = Response.objects.filter(wave_id=session.wave_id,
                                   class_group_id=session.class_group_id).count()
    if sent >= consents:
        raise SubmissionError(
            _("Your class has already sent as many answers as the families who gave "
              "permission. Please tell your teacher."), status=409)
