"""Erasure pages for a school's leader: choose, confirm, erase (surveys.erasure).

The student number travels only in a POST body, is typed twice as the confirmation,
and is never shown back, stored or logged. Messages say what happened in as few
words as the leader needs: whether anything was deleted and how much.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import access, erasure
from .lifecycle import retention_status
from .models import Series, Wave
from .permissions import ERASE_DATA
from .services import ServiceError


class StudentErasureForm(forms.Form):
    student_number = forms.CharField(label=gettext_lazy("Student number"), max_length=64,
                                     strip=False, widget=forms.PasswordInput(render_value=False))
    again = forms.CharField(label=gettext_lazy("Type it again"), max_length=64, strip=False,
                            widget=forms.PasswordInput(render_value=False))
    confirm = forms.BooleanField(label=gettext_lazy(
        "I understand that this student's responses are deleted for good."))

    def clean(self):
        data = super().clean()
        if data.get("student_number") != data.get("again"):
            raise forms.ValidationError(_("The two numbers differ. Type the same number twice."))
        return data


class WaveErasureForm(forms.Form):
    confirm = forms.BooleanField(label=gettext_lazy(
        "I understand that these raw responses are deleted for good."))


def _series_of(school):
    scope = Series.objects.filter(school=school) | Series.objects.filter(
        district_id=school.district_id, school__isnull=True)
    return scope.select_related("instrument").prefetch_related("waves").order_by("name")


@login_required
def erasure_home(request, public_id):
    school = access.get_school_for_user(request.user, public_id, ERASE_DATA)
    rows = [{"series": s, "deletion_due": retention_status(s),
             "waves": [w for w in s.waves.all()
                       if w.status in (Wave.Status.CLOSED, Wave.Status.PUBLISHED)]}
            for s in _series_of(school)]
    return render(request, "school/erasure.html", {"school": school, "rows": rows})


@login_required
def erase_student(request, public_id, series_id):
    school, series = access.get_school_series_for_user(request.user, public_id, series_id,
                                                       ERASE_DATA)
    form = StudentErasureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                deleted = erasure.erase_student(series, school, form.cleaned_data["student_number"],
                                                by=request.user)
            except ServiceError as err:
                form.add_error(None, str(err))
            else:
                _report_student(request, deleted)
                return redirect("erasure-home", public_id=school.public_id)
        status = 400
    return render(request, "school/erasure_student.html",
                  {"school": school, "series": series, "form": form}, status=status)


def _report_student(request, deleted):
    if deleted:
        messages.success(request, _("Deleted %(n)s response(s) given under that student "
                                    "number. Published results are unchanged.") % {"n": deleted})
    else:
        messages.info(request, _("No response was found for that number in this series at "
                                 "your school. Nothing was deleted."))


@login_required
def erase_wave(request, public_id, wave_id):
    school, wave = access.get_school_wave_for_user(request.user, public_id, wave_id, ERASE_DATA)
    form = WaveErasureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                deleted = erasure.erase_wave(wave, school, by=request.user)
            except ServiceError as err:
                form.add_error(None, str(err))
            else:
                messages.success(request, _("Deleted %(n)s raw response(s) of %(wave)s. "
                                            "Published results are unchanged.")
                                 % {"n": deleted, "wave": wave.label})
                return redirect("erasure-home", public_id=school.public_id)
        status = 400
    return render(request, "school/erasure_wave.html", {
        "school": school, "wave": wave, "form": form,
        "count": erasure.erasable_responses(wave, school).count(),
    }, status=status)
