"""Staff pages: home, the teacher's classes and sessions, the leader's series and waves."""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.models import runs_listed

from . import access, services
from .forms import SeriesForm, WaveForm
from .models import Membership, Series, Session, Wave
from .permissions import ERASE_DATA, MANAGE_WAVES, RUN_SESSIONS, VIEW_DISTRICT, VIEW_RESULTS

Role = Membership.Role


@login_required
def home(request):
    user = request.user
    return render(request, "home.html", {
        "teach": access.schools_for_user(user, RUN_SESSIONS).exists(),
        "schools": access.schools_for_user(user, VIEW_RESULTS),
        "districts": [m.district for m in user.memberships.filter(role=Role.DISTRICT_ADMIN)],
    })


@login_required
def teacher_home(request):
    rows = []
    for school in access.schools_for_user(request.user, RUN_SESSIONS):
        waves = Wave.objects.filter(_covering(school), status=Wave.Status.OPEN)
        for class_group in access.classes_for_user(request.user, school, RUN_SESSIONS):
            for wave in waves:
                session = wave.sessions.filter(class_group=class_group,
                                               status=Session.Status.OPEN).first()
                rows.append({"class": class_group, "wave": wave, "session": session})
    return render(request, "teach/home.html", {"rows": rows})


@login_required
@require_POST
def open_session(request):
    wave = access.get_wave_for_user(request.user, request.POST.get("wave", ""), RUN_SESSIONS)
    class_group = access.get_class_for_user(request.user, request.POST.get("class", ""),
                                            RUN_SESSIONS)
    try:
        session = services.open_session(wave, class_group, by=request.user)
    except services.ServiceError as err:
        messages.error(request, str(err))
        return redirect("teacher-home")
    return redirect("session-detail", public_id=session.public_id)


def _join_url(request, session):
    return request.build_absolute_uri(reverse("student-survey", args=[session.code]))


@login_required
def session_detail(request, public_id, projector=False):
    session = access.get_session_for_user(request.user, public_id, RUN_SESSIONS)
    join_url = _join_url(request, session)
    qr = segno.make(join_url, error="m")
    return render(request, "teach/projector.html" if projector else "teach/session.html", {
        "session": session,
        "join_url": join_url,
        "join_address": request.build_absolute_uri(reverse("student-join")),
        "qr_svg": qr.svg_inline(scale=8 if projector else 5, title=_("QR code to join")),
        "count": session.responses.count(),
    })


@login_required
@require_POST
def close_session(request, public_id):
    session = access.get_session_for_user(request.user, public_id, RUN_SESSIONS)
    services.close_session(session, by=request.user)
    messages.success(request, _("Session closed."))
    return redirect("session-detail", public_id=session.public_id)


def _covering(school, prefix="series__"):
    """Series (or, with the prefix, waves) that survey this school: its own series and
    its district's district-wide series."""
    return Q(**{f"{prefix}school": school}) | Q(**{f"{prefix}district_id": school.district_id})


@login_required
def school_home(request, public_id):
    school = access.get_school_for_user(request.user, public_id, VIEW_RESULTS)
    can_manage = MANAGE_WAVES in access.school_permissions(request.user, school)
    # District-wide series are listed too (read-only here: the district manages them).
    series = (Series.objects.filter(_covering(school, prefix="")).order_by("district_id", "id")
              .select_related("instrument", "school__district", "district")
              .prefetch_related("waves", runs_listed("waves__publish_runs")))
    return render(request, "school/home.html", {
        "school": school, "series_list": series, "can_manage": can_manage,
        "series_form": SeriesForm(), "wave_form": WaveForm(),
        "can_erase": ERASE_DATA in access.school_permissions(request.user, school),
    })


@login_required
@require_POST
def create_series(request, public_id):
    school = access.get_school_for_user(request.user, public_id, MANAGE_WAVES)
    form = SeriesForm(request.POST)
    if form.is_valid():
        try:
            services.create_series(school, by=request.user, **form.series_options())
            messages.success(request, _("Series created."))
        except services.ServiceError as err:
            messages.error(request, str(err))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("school-home", public_id=school.public_id)


@login_required
@require_POST
def create_wave(request, public_id):
    series = access.get_series_for_user(request.user, public_id, MANAGE_WAVES)
    form = WaveForm(request.POST)
    if form.is_valid():
        services.create_wave(series, by=request.user, **form.cleaned_data)
        messages.success(request, _("Wave created."))
    else:
        messages.error(request, form.errors.as_text())
    if series.district_wide:
        return redirect("district-home", public_id=series.district.public_id)
    return redirect("school-home", public_id=series.school.public_id)


WAVE_ACTIONS = {"open": services.open_wave, "close": services.close_wave}


@login_required
@require_POST
def wave_action(request, public_id, action):
    wave = access.get_wave_for_user(request.user, public_id, MANAGE_WAVES)
    try:
        if action == "publish":
            from analytics.publishing import request_publish

            request_publish(wave, by=request.user)
            messages.success(request, _("Publishing has started."))
        elif action in WAVE_ACTIONS:
            WAVE_ACTIONS[action](wave, by=request.user)
        else:
            messages.error(request, _("Unknown action."))
    except services.ServiceError as err:
        messages.error(request, str(err))
    if wave.series.district_wide and request.POST.get("back") == "series":
        # Back to the series' page the district admin came from (district_views).
        return redirect("district-series", public_id=wave.series.district.public_id,
                        series_id=wave.series.public_id)
    if wave.series.district_wide:
        return redirect("district-home", public_id=wave.series.district.public_id)
    return redirect("school-home", public_id=wave.series.school.public_id)


@login_required
def district_home(request, public_id):
    district = access.get_district_for_user(request.user, public_id, VIEW_DISTRICT)
    return render(request, "district/home.html", {
        "district": district, "schools": district.schools.order_by("name"),
        "series_list": district.series.select_related("instrument", "district")
        .prefetch_related("waves", runs_listed("waves__publish_runs")),
        "can_manage": MANAGE_WAVES in access.district_permissions(request.user, district.id),
    })
