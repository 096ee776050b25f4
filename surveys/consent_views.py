"""Staff pages for opt-outs and consent, with participation counts.

A teacher records for the classes they teach, a school leader for every class of the
school (permission RECORD_OPTOUTS, through surveys.access: 404 for anything else).
Student numbers arrive only in POST bodies (never in a URL, so never in an access
log), are turned into pseudonyms by surveys.consent at once, and are never shown
again: after a POST the page redirects, so the number is not even re-rendered.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from . import access, consent
from .models import OptOut, Series, Wave
from .permissions import RECORD_OPTOUTS, VIEW_PARTICIPATION
from .services import ServiceError


class NumberForm(forms.Form):
    student_number = forms.CharField(max_length=consent.MAX_NUMBER_LENGTH)


class CountForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=5000)


def _words(series):
    """The page's heading and its record button, for what this series records."""
    if consent.kind_for(series) == OptOut.Kind.CONSENT:
        return {"title": _("Students with parental consent"),
                "record": _("Record as with consent")}
    return {"title": _("Students whose parents opted out"), "record": _("Record as opted out")}


def _rate_text(rate):
    return _("not known") if rate is None else f"{round(rate * 100)}%"


def _participation_rows(series, classes):
    """Counts per wave (not drafts) and class: never answers, so fine during fieldwork."""
    rows = []
    for wave in series.waves.exclude(status=Wave.Status.DRAFT).order_by("-starts_on", "-id"):
        for class_group, numbers in consent.participation(wave, classes).items():
            rows.append({"wave": wave, "class": class_group, **numbers,
                         "rate_text": _rate_text(numbers["rate"]),
                         "over": numbers["responses"] > numbers["eligible"]})
    return rows


@login_required
def consent_home(request):
    blocks = []
    for school in access.schools_for_user(request.user, RECORD_OPTOUTS):
        classes = list(access.classes_for_user(request.user, school, RECORD_OPTOUTS))
        visible = set(access.classes_for_user(request.user, school, VIEW_PARTICIPATION))
        # The school's own series and its district's district-wide ones: in those, the
        # classes listed are still only this school's (the ones the user may record for).
        for series in access.series_covering(school).select_related("district").order_by(
                "name", "id"):
            recorded = consent.recorded_counts(series, classes)
            blocks.append({
                "series": series, "school": school, "words": _words(series),
                "classes": [{"class": c, "recorded": recorded.get(c.id, 0)} for c in classes],
                "participation": _participation_rows(series, [c for c in classes
                                                              if c in visible]),
            })
    return render(request, "teach/consent_index.html", {"blocks": blocks})


@login_required
@require_http_methods(["GET", "POST"])
def consent_class(request, series_id, class_id):
    # 404 unless the user may record for this class and the series surveys its school.
    series, class_group = access.get_series_class_for_user(request.user, series_id, class_id,
                                                           RECORD_OPTOUTS)
    if request.method == "POST":
        _apply(request, series, class_group)
        return redirect("consent-class", series_id=series.public_id,
                        class_id=class_group.public_id)
    linked = series.mode == Series.Mode.LINKED
    return render(request, "teach/consent.html", {
        "series": series, "class_group": class_group, "linked": linked,
        "active": consent.kind_for(series) == OptOut.Kind.CONSENT,
        "words": _words(series),
        "recorded": consent.recorded_counts(series, [class_group]).get(class_group.id, 0),
        "participation": _participation_rows(series, [class_group]),
        "form": NumberForm() if linked else CountForm(),
    })


OPERATIONS = {"record": consent.record, "remove": consent.remove}


def _apply(request, series, class_group):
    operation = OPERATIONS.get(request.POST.get("action"))
    linked = series.mode == Series.Mode.LINKED
    form = NumberForm(request.POST) if linked else CountForm(request.POST)
    if operation is None or not form.is_valid():
        messages.error(request, _("Type a student number.") if linked
                       else _("Type a number of students (1 or more)."))
        return
    value = ({"student_number": form.cleaned_data["student_number"]} if linked
             else {"count": form.cleaned_data["count"]})
    try:
        changed = operation(series, class_group, by=request.user, **value)
    except ServiceError as err:
        messages.error(request, str(err))
        return
    messages.success(request, _outcome(request.POST["action"], linked, changed))


def _outcome(action, linked, changed):
    if action == "record":
        if linked and not changed:
            return _("That student was already recorded for this class.")
        return ngettext("Recorded %(n)s student.", "Recorded %(n)s students.",
                        changed) % {"n": changed}
    if linked and not changed:
        return _("No record for that student number in this class.")
    return ngettext("Removed %(n)s record.", "Removed %(n)s records.", changed) % {"n": changed}
