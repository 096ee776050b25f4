"""The student's pages: join by code, answer, thanks. No account, no tracking."""

import uuid

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from . import access, submission
from .demographics import DEMOGRAPHIC_BANDS
from .forms import JoinForm


def _language(request, series=None):
    wanted = request.GET.get("lang") or request.POST.get("language") or translation.get_language()
    allowed = series.languages if series else ["en", "es"]
    return wanted if wanted in allowed else (allowed[0] if allowed else "en")


@never_cache
def join(request):
    form = JoinForm(request.GET or None)
    if form.is_valid():
        code = form.cleaned_data["code"].strip().upper()
        try:
            access.get_open_session_by_code(code)
        except Http404:
            form.add_error("code", _("That code is not open. Check it with your teacher."))
        else:
            return redirect("student-survey", code=code)
    return render(request, "student/join.html", {"form": form})


def survey_context(session, language, errors=None, posted=None):
    series = session.wave.series
    instrument = series.instrument
    items = []
    for item in instrument.items.all():
        scale = instrument.scales[item.scale]
        labels = scale["labels"].get(language) or scale["labels"]["en"]
        values = range(scale["min"], scale["max"] + 1)
        items.append({
            "key": item.key, "text": item.text_in(language),
            "options": [{"value": v, "label": lab} for v, lab in zip(values, labels, strict=True)],
        })
    bands = [{"key": key, "label": DEMOGRAPHIC_BANDS[key]["label"],
              "options": DEMOGRAPHIC_BANDS[key]["options"]} for key in series.demographics]
    return {
        "session": session, "series": series, "items": items, "bands": bands,
        "language": language, "languages": series.languages,
        "title": instrument.title_in(language),
        "pictorial": instrument.definition.get("presentation", {}).get("pictorial", False),
        "linked": series.mode == series.Mode.LINKED,
        "client_id": uuid.uuid4(), "errors": errors or {}, "posted": posted or {},
    }


@never_cache
@csrf_exempt  # students have no login; the idempotency key and the session id guard the write
def survey(request, code):
    try:
        session = access.get_open_session_by_code(code)
    except Http404:
        form = JoinForm(initial={"code": code})
        form.errors["code"] = form.error_class(
            [_("That code is not open. Check it with your teacher.")])
        return render(request, "student/join.html", {"form": form}, status=404)
    language = _language(request, session.wave.series)
    with translation.override(language):
        if request.method == "POST":
            return _post_form(request, session, language)
        return render(request, "student/survey.html", survey_context(session, language))


def _post_form(request, session, language):
    """The no-JavaScript path: the same validation and idempotency as the API."""
    series = session.wave.series
    payload = {
        "client_id": request.POST.get("client_id", ""),
        "language": language,
        "demographics": {b: request.POST.get(f"band-{b}", "") for b in series.demographics},
        "answers": {item.key: request.POST.get(f"item-{item.key}") or None
                    for item in series.instrument.items.all()},
    }
    if series.mode == series.Mode.LINKED:
        payload["student_number"] = request.POST.get("student_number", "")
    try:
        submission.submit(session, payload)
    except submission.SubmissionError as err:
        context = survey_context(session, language, errors={"form": err.message},
                                 posted=request.POST)
        return render(request, "student/survey.html", context, status=err.status)
    return redirect(f"/s/{session.code}/thanks/?lang={language}")


@never_cache
def thanks(request, code):
    language = request.GET.get("lang") if request.GET.get("lang") in ("en", "es") else "en"
    with translation.override(language):
        return render(request, "student/thanks.html", {"language": language})
