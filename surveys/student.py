"""The student's pages: join by code, answer, thanks. No account, no tracking.

The survey page is one form that works without JavaScript (every question on one
page, posted to this view). With JavaScript (static/js/survey.js) it is shown a
page at a time: the notice and the questions about the student, then the items a
few per page, then a review before sending. Every string the script shows is
rendered here, translated, into a json_script block: no inline script, no JS
catalogue. Student pages never use csrf_token, so Django sets no cookie.
"""

import uuid

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from . import access, pagecache, ratelimit, submission
from .demographics import DEMOGRAPHIC_BANDS
from .forms import JoinForm

# Items per page on a phone. Pictorial forms are for young children: one question
# (read aloud, three faces) per page.
ITEMS_PER_PAGE = 3
PICTORIAL_ITEMS_PER_PAGE = 1

# Each language's name in that language, for the switch (never translated).
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
ALL_LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _language(request, series=None):
    """The page language: ?lang=, else the posted form's, else the browser's, within
    the series' languages."""
    allowed = list(series.languages) if series and series.languages else ALL_LANGUAGES
    for wanted in (request.GET.get("lang"), request.POST.get("language"),
                   translation.get_language_from_request(request)):
        if wanted in allowed:
            return wanted
    return "en" if "en" in allowed else allowed[0]


def _language_links(languages, current, **params):
    return [
        {"code": code, "name": LANGUAGE_NAMES.get(code, code), "current": code == current,
         "href": "?" + urlencode({**params, "lang": code})}
        for code in languages
    ] if len(languages) > 1 else []


@never_cache
@ratelimit.limit_code_entry  # counts wrong codes only; see surveys/ratelimit.py
def join(request):
    language = _language(request)
    with translation.override(language):
        form = JoinForm(request.GET if "code" in request.GET else None)
        if form.is_valid():
            code = form.cleaned_data["code"].strip().upper()
            try:
                access.get_open_session_by_code(code)
            except Http404:
                form.add_error("code", _("That code is not open. Check it with your teacher."))
            else:
                target = f"/s/{code}/"
                if request.GET.get("lang") == language:
                    target += "?" + urlencode({"lang": language})
                return redirect(target)
        return render(request, "student/join.html", _join_context(form, language))


def _join_context(form, language):
    return {"form": form, "language": language,
            "language_links": _language_links(ALL_LANGUAGES, language)}


def _checked(posted, name, value):
    return bool(posted) and posted.get(name) == str(value)


def _client_id(posted):
    """The posted response id survives a refused no-JS post, so a resend is the
    same response; otherwise a fresh one (the script prefers its own, kept on the
    device)."""
    try:
        return uuid.UUID(str((posted or {}).get("client_id", "")))
    except ValueError:
        return uuid.uuid4()


def _pages(items, per_page):
    """Consecutive items that share a stem, in chunks of `per_page`."""
    pages, current = [], []
    for item in items:
        if current and (len(current) == per_page or current[-1]["stem"] != item["stem"]):
            pages.append(current)
            current = []
        current.append(item)
    if current:
        pages.append(current)
    total = len(items)
    numbered = []
    for number, page_items in enumerate(pages, start=2):
        first, last = page_items[0]["number"], page_items[-1]["number"]
        if first == last:
            heading = _("Question %(n)s of %(total)s") % {"n": first, "total": total}
        else:
            heading = _("Questions %(first)s to %(last)s of %(total)s") % {
                "first": first, "last": last, "total": total}
        numbered.append({"number": number, "heading": heading, "items": page_items,
                         "stem": page_items[0]["stem"]})
    return numbered


def survey_context(session, language, errors=None, posted=None, client_id=None):
    series = session.wave.series
    instrument = series.instrument
    definition = instrument.definition
    presentation = definition.get("presentation", {})
    pictorial = bool(presentation.get("pictorial", False))
    faces = presentation.get("faces") or []
    stems = definition.get("stems", {})
    stem_of = {i.get("key"): i.get("stem") for i in definition.get("items", [])}
    items = []
    for number, item in enumerate(instrument.items.all(), start=1):
        scale = instrument.scales[item.scale]
        labels = scale["labels"].get(language) or scale["labels"]["en"]
        values = range(scale["min"], scale["max"] + 1)
        name = f"item-{item.key}"
        stem = stems.get(stem_of.get(item.key), {})
        items.append({
            "key": item.key, "name": name, "number": number, "text": item.text_in(language),
            "stem": stem.get(language) or stem.get("en") or "",
            "options": [
                {"value": v, "label": lab, "checked": _checked(posted, name, v),
                 "face": faces[i] if pictorial and i < len(faces) else ""}
                for i, (v, lab) in enumerate(zip(values, labels, strict=True))
            ],
        })
    bands = [{
        "key": key, "name": f"band-{key}", "label": DEMOGRAPHIC_BANDS[key]["label"],
        "options": [{"value": value, "label": label,
                     "checked": _checked(posted, f"band-{key}", value)}
                    for value, label in DEMOGRAPHIC_BANDS[key]["options"]],
    } for key in series.demographics]
    pages = _pages(items, PICTORIAL_ITEMS_PER_PAGE if pictorial else ITEMS_PER_PAGE)
    page_count = len(pages) + 2  # the notice first, the review last
    return {
        "session": session, "series": series, "items": items, "bands": bands,
        "pages": pages, "page_count": page_count, "review_number": page_count,
        "language": language, "languages": series.languages,
        "language_links": _language_links(series.languages, language),
        "title": instrument.title_in(language),
        "pictorial": pictorial,
        "read_aloud_default": bool(presentation.get("read_aloud_default", False)),
        "linked": series.mode == series.Mode.LINKED,
        "student_number": (posted or {}).get("student_number", ""),
        "client_id": client_id or _client_id(posted), "errors": errors or {},
        "posted": posted or {},
        "js_strings": _js_strings(),
    }


def _js_strings():
    """Everything survey.js may say, in the page language."""
    return {
        "page": _("Page %(n)s of %(total)s"),
        "next": _("Next"),
        "check": _("Check my answers"),
        "sending": _("Sending your answers…"),
        "sent": _("Your answers have been received."),
        "retrying": _("Your answers are saved on this device. Trying again to send them…"),
        "offline": _("You are offline. Your answers are saved on this device and will be "
                     "sent as soon as the connection is back. Please keep this page open."),
        "offline_answering": _("You are offline. You can keep answering: your answers are "
                               "saved on this device."),
        "back_online": _("Back online. Sending your answers…"),
        "skipped": _("Skipped"),
        "not_answered": _("Not answered"),
        "change": _("Change"),
        "answered": _("You answered %(n)s of %(total)s questions."),
        "skipped_count": _("Skipped: %(n)s. You can go back to any question, or send "
                           "your answers as they are."),
        "error": _("Something went wrong (error %(status)s). Your answers are still on "
                   "this device. Please tell your teacher."),
        "need_number": _("Please type your student number."),
        "student_number": _("Your student number"),
    }


def _not_open(request, code, language):
    form = JoinForm(initial={"code": code})
    form.errors["code"] = form.error_class(
        [_("That code is not open. Check it with your teacher.")])
    return render(request, "student/join.html", _join_context(form, language), status=404)


def _session_for_post(request, code):
    """The session a no-JS form was answered in. Like the API, a form sent shortly
    after the teacher closed the session is still taken (submission.SUBMIT_GRACE),
    so the page names it by public id as well as by code."""
    try:
        return access.get_open_session_by_code(code)
    except Http404:
        session = access.get_session_for_student(request.POST.get("session", ""))
        if session.code != (code or "").strip().upper():
            raise Http404("No session has that code.") from None
        return session


@never_cache
@csrf_exempt  # students have no login; the idempotency key and the session id guard the write
@ratelimit.limit_code_entry  # the QR link is a way to try codes too
def survey(request, code):
    try:
        if request.method == "POST":
            session = _session_for_post(request, code)
        else:
            session = access.get_open_session_by_code(code)
    except Http404:
        language = _language(request)
        with translation.override(language):
            return _not_open(request, code, language)
    language = _language(request, session.wave.series)
    with translation.override(language):
        if request.method == "POST":
            return _post_form(request, session, language)
        return pagecache.survey_page(
            request, session, language,
            lambda client_id: survey_context(session, language, client_id=client_id))


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
    return redirect(f"/s/{session.code}/thanks/?" + urlencode({"lang": language}))


@never_cache
def thanks(request, code):
    language = _language(request)
    with translation.override(language):
        return render(request, "student/thanks.html", {
            "language": language, "language_links": _language_links(ALL_LANGUAGES, language),
        })
