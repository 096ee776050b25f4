"""The only door to a school's data.

Every view and API endpoint reaches schools, classes, waves and sessions through
these functions. Each answers Http404 whether the object is missing or the user
may not see it, so nobody can probe for another school's objects.
"""

from django.db.models import Q
from django.http import Http404

from .models import ClassGroup, District, Membership, School, Session, Wave
from .permissions import CLASS_SCOPED, ROLE_PERMISSIONS

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


def get_wave_for_user(user, public_id, need):
    wave = (
        Wave.objects.select_related("series__school__district", "series__instrument")
        .filter(public_id=public_id)
        .first()
    )
    if wave is None:
        raise Http404("No such wave.")
    if need not in school_permissions(user, wave.series.school):
        raise Http404("No such wave.")
    return wave


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

    series = Series.objects.select_related("school__district").filter(public_id=public_id).first()
    if series is None:
        raise Http404("No such series.")
    if need not in school_permissions(user, series.school):
        raise Http404("No such series.")
    return series
