"""Domain operations: plain functions taking the objects and the acting user.
Each writes an audit event. Views and the API call these, never the ORM directly
for writes."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AuditEvent, Membership, Series, Session, Wave, new_access_code


class ServiceError(Exception):
    """A refused operation, with a message fit to show the person who asked."""


def audit(actor, action, *, school=None, target="", **detail):
    return AuditEvent.objects.create(
        actor=actor if (actor is not None and actor.is_authenticated) else None,
        action=action,
        school=school,
        target=str(target)[:120],
        detail=detail,
    )


def set_role(user, role, *, school=None, district=None, by):
    membership, created = Membership.objects.get_or_create(
        user=user, role=role, school=school, district=district
    )
    audit(
        by,
        "role.granted",
        school=school,
        target=user.username,
        role=role,
        district=district.public_id if district else None,
    )
    return membership


def revoke_role(membership, *, by):
    audit(by, "role.revoked", school=membership.school, target=membership.user.username,
          role=membership.role)
    membership.delete()


def create_series(school, *, by, name, instrument, district=None, **options):
    """A school's series, or with `district` (and no school) a district-wide series
    covering every school of the district."""
    if (school is None) == (district is None):
        raise ServiceError(_("A series belongs to one school or to one district."))
    owner = district or school.district
    if not instrument.enabled:
        raise ServiceError(_("This instrument is switched off until its terms of use are cleared."))
    options.setdefault("min_cell_size", owner.min_cell_size)
    options.setdefault("languages", ["en", "es"])
    if options["min_cell_size"] < owner.min_cell_size:
        raise ServiceError(
            _("The minimum group size cannot be below the district's (%(k)s).")
            % {"k": owner.min_cell_size}
        )
    _check_languages(instrument, options["languages"])
    series = Series.objects.create(school=school, district=district, name=name,
                                   instrument=instrument, **options)
    audit(by, "series.created", school=school, target=series.public_id, name=name,
          district=district.public_id if district else None)
    return series


def _check_languages(instrument, languages):
    offered = instrument.definition.get("languages", ["en"])
    if not languages or any(code not in offered for code in languages):
        raise ServiceError(
            _("Choose languages the instrument offers (%(offered)s).")
            % {"offered": ", ".join(offered)})


def create_district_series(district, *, by, name, instrument, **options):
    """A district-wide series: every school of the district (and any school added to it
    later) is surveyed by its waves. Audited as `series.created` with the district."""
    return create_series(None, district=district, by=by, name=name, instrument=instrument,
                         **options)


def create_wave(series, *, by, label, season, starts_on):
    wave = Wave.objects.create(series=series, label=label, season=season, starts_on=starts_on)
    audit(by, "wave.created", school=series.school, target=wave.public_id, label=label,
          **_district_detail(series))
    return wave


def _district_detail(series):
    """A district-wide series' events carry no school: the district's public id files
    them in the district's audit log (access.audit_events_for_district)."""
    return {"district": series.district.public_id} if series.district_wide else {}


def _transition(given, allowed_from, to, *, by, action):
    with transaction.atomic():
        wave = Wave.objects.select_for_update().get(pk=given.pk)
        if wave.status not in allowed_from:
            raise ServiceError(
                _("This wave is %(status)s; it cannot be %(action)s.")
                % {"status": wave.get_status_display().lower(), "action": action}
            )
        wave.status = to
        if to == Wave.Status.OPEN:
            wave.opened_at = timezone.now()
        if to == Wave.Status.CLOSED:
            wave.closed_at = timezone.now()
        wave.save()
        audit(by, f"wave.{action}", school=wave.series.school, target=wave.public_id,
              **_district_detail(wave.series))
    # Keep the caller's object true to the row, so a stale status cannot mislead it.
    given.status, given.opened_at, given.closed_at = wave.status, wave.opened_at, wave.closed_at
    return wave


def open_wave(wave, *, by):
    return _transition(wave, {Wave.Status.DRAFT, Wave.Status.CLOSED}, Wave.Status.OPEN,
                       by=by, action="opened")


def close_wave(wave, *, by):
    wave = _transition(wave, {Wave.Status.OPEN}, Wave.Status.CLOSED, by=by, action="closed")
    for session in wave.sessions.filter(status=Session.Status.OPEN):
        close_session(session, by=by)
    return wave


def end_of_school_day(now=None):
    now = timezone.localtime(now or timezone.now())
    end = timezone.make_aware(
        datetime.combine(now.date(), time(settings.BELONGING_SCHOOL_DAY_ENDS)), now.tzinfo
    )
    return end if end > now else now + timedelta(hours=1)


def open_session(wave, class_group, *, by):
    if wave.status != Wave.Status.OPEN:
        raise ServiceError(_("Sessions can only be opened while the wave is open."))
    if not wave.series.covers(class_group.school):
        raise ServiceError(_("That class is not in a school this wave covers."))
    existing = wave.sessions.filter(class_group=class_group, status=Session.Status.OPEN).first()
    if existing:
        return existing
    for _attempt in range(20):
        try:
            with transaction.atomic():
                session = Session.objects.create(
                    wave=wave, class_group=class_group, code=new_access_code(),
                    opened_by=by, closes_at=end_of_school_day(),
                )
        except IntegrityError:
            continue  # an open session already holds that code; draw another
        audit(by, "session.opened", school=class_group.school, target=session.public_id,
              class_group=class_group.public_id)
        return session
    raise ServiceError(_("Could not allocate an access code; please try again."))


def close_session(session, *, by, reason="closed by teacher"):
    updated = Session.objects.filter(pk=session.pk, status=Session.Status.OPEN).update(
        status=Session.Status.CLOSED, closed_at=timezone.now()
    )
    if updated:
        audit(by, "session.closed", school=session.class_group.school,
              target=session.public_id, reason=reason)
    session.refresh_from_db()
    return session


def close_expired_sessions(now=None):
    now = now or timezone.now()
    expired = Session.objects.filter(status=Session.Status.OPEN, closes_at__lte=now)
    count = 0
    for session in expired.select_related("class_group__school"):
        close_session(session, by=None, reason="end of school day")
        count += 1
    return count
