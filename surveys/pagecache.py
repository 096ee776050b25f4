"""The survey page as rendered for a session and language, kept per worker process.

Every student of a session loads the same page (the same items, scales, stems and
strings in their language); only the response id (`client_id`) differs, a fresh uuid4
per load. In a district-wide start thousands of students load it within minutes, and
rendering it (about 13 ms for 20 items) was most of a page load's work. So the page
is rendered once per (session, language, what the page shows of the series) with a
placeholder id, kept in a small per-process table, and each load swaps a fresh id in.

Only pages for visitors without an account and without pending messages are kept:
those are the only parts of the base template that differ between visitors (student
pages never use csrf_token). The key holds everything the page shows that can change
while a session is open (the series' mode, bands and languages; an instrument version
never changes once a wave uses it, surveys/instruments.py), so a change is a new key.
A refused no-JavaScript post, which shows the student's own answers, is never kept.
docs/performance.md, "District burst".
"""

import uuid
from collections import OrderedDict
from threading import Lock

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.template.loader import render_to_string

PLACEHOLDER = "c11e0000-0000-4000-8000-00000000c11e"
LIMIT = 128  # pages kept per process (a worker serves a few schools' sessions at once)

_pages = OrderedDict()
_lock = Lock()


def cacheable(request):
    return not request.user.is_authenticated and not len(get_messages(request))


def page_key(session, language):
    series = session.wave.series
    return (session.pk, session.public_id, session.code, language, series.instrument_id,
            series.mode, tuple(series.demographics), tuple(series.languages))


def survey_page(request, session, language, context_for):
    """The survey page response; `context_for(client_id)` builds the template context."""
    if not cacheable(request):
        context = context_for(uuid.uuid4())
        return HttpResponse(render_to_string("student/survey.html", context, request))
    key = page_key(session, language)
    with _lock:
        html = _pages.get(key)
        if html is not None:
            _pages.move_to_end(key)
    if html is None:
        html = render_to_string("student/survey.html", context_for(PLACEHOLDER), request)
        with _lock:
            _pages[key] = html
            while len(_pages) > LIMIT:
                _pages.popitem(last=False)
    return HttpResponse(html.replace(PLACEHOLDER, str(uuid.uuid4())))


def clear():
    with _lock:
        _pages.clear()
