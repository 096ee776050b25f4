"""The only door to a school's data.

Every view and API endpoint reaches schools, classes, waves and sessions through
these functions. Each answers Http404 whether the object is missing or the user
may not see it, so nobody can probe for another school's objects.
"""

from django.db.models import Q
from django.http import Http404

from .models import ClassGroup, District, Membership, School, Session, Wave
from .permissions import (
    CLASS_SCOPED,
    EXPORT,
    MANAGE_AGREEMENTS,
    MANAGE_WAVES,
    ROLE_PERMISSIONS,
    VIEW_DISTRICT,
)

Role = Membership.Role


def _memberships(user):
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_belonging_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("school"))
        user._belonging_memberships = cached
    return cached


def user_permissions_anywhere(user):
    perms = set()
    for m in _memberships(user):
        perms |= ROLE_PERMISSIONS[m.role]
    return perms


def school_roles(user, school):
    """The roles a user holds for one school (directly, or through its district)."""
    roles = set()
    for m in _memberships(user):
        if m.school_id == school.id:
            roles.add(m.role)
        elif m.district_id is not None and m.district_id == school.district_id:
            roles.add(m.role)
    return roles


def school_permissions(user, school):
    perms = set()
    for role in school_roles(user, school):
        perms |= ROLE_PERMISSIONS[role]
    return perms


def _school_wide(user, school, need):
    """True when the permission covers every class (not only a teacher's own)."""
    for role in school_roles(user, school):
        if need in ROLE_PERMISSIONS[role] and not (role == Role.TEACHER and need in CLASS_SCOPED):
            return True
    return False


def can_on_class(user, class_group, need):
    if need not in school_permissions(user, class_group.school):
        return False
    if _school_wide(user, class_group.school, need):
        return True
    return class_group.teachers.filter(pk=user.pk).exists()


def schools_for_user(user, need):
    granting = [m for m in _memberships(user) if need in ROLE_PERMISSIONS[m.role]]
    ids = [m.school_id for m in granting if m.school_id]
    districts = [m.district_id for m in granting if m.district_id]
    return School.objects.filter(Q(id__in=ids) | Q(district_id__in=districts)).order_by("name")


def classes_for_user(user, school, need):
    """The classes of one school a user may act on: all of them, or a teacher's own."""
    qs = ClassGroup.objects.filter(school=school)
    if _school_wide(user, school, need):
        return qs
    if need in school_permissions(user, school):
        return qs.filter(teachers=user)
    return qs.none()


def get_district_for_user(user, public_id, need):
    district = District.objects.filter(public_id=public_id).first()
    if district is None:
        raise Http404("No such district.")
    allowed = any(
        m.district_id == district.id and need in ROLE_PERMISSIONS[m.role]
        for m in _memberships(user)
    )
    if not allowed:
        raise Http404("No such district.")
    return district


def get_school_for_user(user, public_id, need):
    school = School.objects.select_related("district").filter(public_id=public_id).first()
    if school is None:
        raise Http404("No such school.")
    if need not in school_permissions(user, school):
        raise Http404("No such school.")
    return school


def get_class_for_user(user, public_id, need):
    class_group = ClassGroup.objects.select_related("school__district").filter(
        public_id=public_id
    ).first()
    if class_group is None:
        raise Http404("No such class.")
    if not can_on_class(user, class_group, need):
        raise Http404("No such class.")
    return class_group


def district_permissions(user, district_id):
    """Permissions a user holds through a district membership (not a school's)."""
    perms = set()
    for m in _memberships(user):
        if m.district_id is not None and m.district_id == district_id:
            perms |= ROLE_PERMISSIONS[m.role]
    return perms


# Acting on a district-wide series as a whole (opening, closing, publishing its waves)
# needs a district membership; school staff reach only their own school's part of it.
DISTRICT_WIDE_ONLY = {MANAGE_WAVES, VIEW_DISTRICT}


def _series_allowed(user, series, need):
    if not series.district_wide:
        return need in school_permissions(user, series.school)
    if need in district_permissions(user, series.district_id):
        return True
    return need not in DISTRICT_WIDE_ONLY and bool(series_schools_for_user(user, series, need))


def series_schools_for_user(user, series, need):
    """The schools of a series whose part (sessions, results) the user may reach with
    `need`: every school of a district-wide series for the district's staff, their own
    school(s) for a school's staff."""
    if not series.district_wide:
        return [series.school] if need in school_permissions(user, series.school) else []
    if need in district_permissions(user, series.district_id):
        return list(series.schools())
    ids = {m.school_id for m in _memberships(user)
           if m.school_id and need in ROLE_PERMISSIONS[m.role]}
    return list(series.schools().filter(id__in=ids))


def get_wave_for_user(user, public_id, need):
    wave = (
        Wave.objects.select_related("series__school__district", "series__district",
                                    "series__instrument")
        .filter(public_id=public_id)
        .first()
    )
    if wave is None:
        raise Http404("No such wave.")
    if not _series_allowed(user, wave.series, need):
        raise Http404("No such wave.")
    return wave


def get_wave_school_for_user(user, wave, school_public_id, need):
    """One school's part of a wave the user already reached: 404 unless the wave covers
    the school and the user may see that school's part."""
    for school in series_schools_for_user(user, wave.series, need):
        if school.public_id == school_public_id:
            return school
    raise Http404("No such school in this wave.")


def get_session_for_user(user, public_id, need):
    session = (
        Session.objects.select_related("wave__series__school", "class_group__school__district")
        .filter(public_id=public_id)
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    if not can_on_class(user, session.class_group, need):
        raise Http404("No such session.")
    return session


def get_open_session_by_code(code):
    """The student's door: an open session of an open wave, by its access code."""
    code = (code or "").strip().upper()
    session = (
        Session.objects.select_related(
            "wave__series__instrument", "wave__series__school", "class_group"
        )
        .filter(code=code, status=Session.Status.OPEN, wave__status=Wave.Status.OPEN)
        .first()
    )
    if session is None:
        raise Http404("No open session has that code.")
    return session



def get_session_for_student(public_id):
    """For submissions: the session a student joined, by its public id. Whether it
    still accepts answers is decided by surveys.submission (answers queued offline
    may arrive shortly after the teacher closed it).

    Joins only what a submission reads (session, wave, series, class): the instrument's
    rules come from surveys.submission's per-process cache, and nobody reads the
    district here. Anything else (series.instrument for the no-JS form) loads lazily."""
    session = (
        Session.objects.select_related("wave__series", "class_group")
        .filter(public_id=public_id)
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    return session


def get_series_for_user(user, public_id, need):
    from .models import Series

    series = (Series.objects.select_related("school__district", "district")
              .filter(public_id=public_id).first())
    if series is None:
        raise Http404("No such series.")
    if not _series_allowed(user, series, need):
        raise Http404("No such series.")
    return series


# --- Research agreements and exports ---------------------------------------------------
# A manager (district admin, or a leader for their own school) sees the agreements that
# cover any school they may manage agreements for, and manages those whose schools are
# all theirs. A researcher reaches only their own agreements and jobs; whether the
# agreement is still active is checked by research.services at request and download.


def agreements_for_manager(user):
    from research.models import Agreement

    schools = schools_for_user(user, MANAGE_AGREEMENTS)
    return Agreement.objects.filter(schools__in=schools).distinct()


def can_manage_agreement(user, agreement):
    return all(MANAGE_AGREEMENTS in school_permissions(user, school)
               for school in agreement.schools.select_related("district"))


def get_agreement_for_manager(user, public_id):
    from research.models import Agreement

    agreement = Agreement.objects.filter(public_id=public_id).first()
    if agreement is None or not can_manage_agreement(user, agreement):
        raise Http404("No such agreement.")
    return agreement


def agreements_for_researcher(user):
    from research.models import Agreement

    if EXPORT not in user_permissions_anywhere(user):
        return Agreement.objects.none()
    return Agreement.objects.filter(researcher=user)


def get_agreement_for_researcher(user, public_id):
    agreement = agreements_for_researcher(user).filter(public_id=public_id).first()
    if agreement is None:
        raise Http404("No such agreement.")
    return agreement


def get_export_for_researcher(user, public_id):
    """A job of one of the user's agreements. Whether its file may still be downloaded
    (agreement active, link not expired) is research.services.open_download's answer."""
    from research.models import ExportJob

    if EXPORT not in user_permissions_anywhere(user):
        raise Http404("No such export.")
    job = (ExportJob.objects.select_related("agreement")
           .filter(public_id=public_id, agreement__researcher=user).first())
    if job is None:
        raise Http404("No such export.")
    return job


# --- Erasure and the audit log (surveys.erasure_views, surveys.audit_views) ------------


def get_school_series_for_user(user, school_public_id, series_public_id, need):
    """A series surveying a school (its own, or a district-wide one covering it), reached
    for that school: 404 unless the user holds `need` for the school."""
    from .models import Series

    school = get_school_for_user(user, school_public_id, need)
    series = (Series.objects.select_related("school__district", "district", "instrument")
              .filter(public_id=series_public_id).first())
    if series is None or not series.covers(school):
        raise Http404("No such series.")
    return school, series


def get_series_class_for_user(user, series_public_id, class_public_id, need):
    """A class the user may act on with `need` and a series surveying its school (the
    school's own, or its district's district-wide series): 404 otherwise. In a
    district-wide series each school's staff reach their own school's classes only."""
    from .models import Series

    class_group = get_class_for_user(user, class_public_id, need)
    series = (Series.objects.select_related("school__district", "district")
              .filter(public_id=series_public_id).first())
    if series is None or not series.covers(class_group.school):
        raise Http404("No such series.")
    return series, class_group


def series_covering(school):
    """The series that survey a school: its own and its district's district-wide ones."""
    from .models import Series

    return Series.objects.filter(Q(school=school) | Q(district_id=school.district_id))


def get_district_series_for_user(user, district_public_id, series_public_id, need):
    """A district-wide series of a district the user holds `need` for through a district
    membership (a district admin): 404 for anyone else and for any other series."""
    from .models import Series

    district = get_district_for_user(user, district_public_id, need)
    series = (Series.objects.select_related("district", "instrument")
              .filter(public_id=series_public_id, district=district).first())
    if series is None:
        raise Http404("No such series.")
    return district, series


def get_school_wave_for_user(user, school_public_id, wave_public_id, need):
    """A wave of a series surveying the school, reached for that school (as above)."""
    school = get_school_for_user(user, school_public_id, need)
    wave = (Wave.objects.select_related("series__school__district", "series__district")
            .filter(public_id=wave_public_id).first())
    if wave is None or not wave.series.covers(school):
        raise Http404("No such wave.")
    return school, wave


def _agreement_events(agreements):
    """Research agreements carry no school on their audit events: they are matched by
    the agreement's public id (research app, when installed)."""
    from django.apps import apps

    if not apps.is_installed("research"):
        return Q(pk__in=[])
    from research.models import Agreement

    ids = Agreement.objects.filter(agreements).values("public_id")
    return Q(school__isnull=True, target__in=ids) & (
        Q(action__startswith="export.") | Q(action__startswith="agreement."))


def audit_events_for_school(user, public_id, need):
    """The school and its audit events, with those of research agreements covering it."""
    from .models import AuditEvent

    school = get_school_for_user(user, public_id, need)
    events = AuditEvent.objects.filter(Q(school=school) | _agreement_events(Q(schools=school)))
    return school, events


def audit_events_for_district(user, public_id, need):
    """The district and the audit events of its schools, of the district itself
    (district roles, district-wide series: `detail.district`) and of its agreements."""
    from .models import AuditEvent

    district = get_district_for_user(user, public_id, need)
    events = AuditEvent.objects.filter(
        Q(school__district=district)
        | Q(school__isnull=True, detail__district=district.public_id)
        | _agreement_events(Q(district=district)))
    return district, events
