"""A teacher's lesson in a real browser: log in through the login form, see their own
classes and the open waves, open a session, show its code, QR code and projector view,
watch the participation count rise without reloading while students submit through
the real student endpoint (never seeing what they answered), then close the session
so that its code no longer lets anyone in. axe-core checks every teacher page;
screenshots go to test-artifacts/."""

import json
import re
import uuid
from datetime import date

import pytest
import segno

from surveys import services
from surveys.models import CODE_ALPHABET, CODE_LENGTH, Response, Session
from tests.browser.conftest import axe_violations, new_context, screenshot
from tests.conftest import answers_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/conftest.py make_user
# Values and a band nobody else uses, so the pages can be searched for them.
ANSWER_VALUE = 4
GENDER = "another"
DESKTOP = {"width": 1280, "height": 800}


def log_in(page, base, username):
    page.goto(f"{base}/login/?next=/teach/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/teach/")


def student_submits(request, base, session):
    """One student's response through the API the survey page uses, from a browser
    context of its own (no teacher cookie)."""
    body = {"client_id": str(uuid.uuid4()), "language": "en",
            "demographics": {"gender": GENDER},
            "answers": answers_for(session.wave.series.instrument, ANSWER_VALUE)}
    reply = request.post(f"{base}/api/v1/sessions/{session.public_id}/responses/",
                         data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert reply.status == 201, reply.text()


def qr_path(url):
    """The modules of the QR code segno draws for a URL (the SVG path's outline)."""
    svg = segno.make(url, error="m").svg_inline(scale=5)
    return re.search(r' d="([^"]+)"', svg).group(1)


def wait_for_count(page, expected):
    """The poll (static/js/participation.js, every 4 s) shows the new count."""
    page.wait_for_function(
        "(n) => document.getElementById('count').textContent.trim() === String(n)",
        arg=expected, timeout=15_000)


def answer_texts(session):
    """Everything that would give an answer away: each option label of the scale the
    students used for ANSWER_VALUE, and the band they gave."""
    instrument = session.wave.series.instrument
    labels = set()
    for scale in instrument.scales.values():
        for language_labels in scale["labels"].values():
            index = ANSWER_VALUE - scale["min"]
            if 0 <= index < len(language_labels):
                labels.add(language_labels[index])
    return labels | {GENDER, "In another way"}


def assert_no_answers(page, session, polled):
    """Neither the page nor what its script fetches carries an answer."""
    text = page.inner_text("body")
    html = page.content()
    for shown in answer_texts(session):
        assert shown not in text and f'"{shown}"' not in html, shown
    for key in answers_for(session.wave.series.instrument, ANSWER_VALUE):
        assert key not in html
    assert polled, "the page never polled the participation count"
    for url in set(polled):
        reply = page.request.get(url)  # with the teacher's cookie, as the script asks
        assert reply.status == 200
        assert set(reply.json()) == {"session", "status", "responses"}


@pytest.fixture
def draft_wave(world):
    """A wave not open yet: not offered to the teacher."""
    return services.create_wave(world["series"], by=world["leader"], label="Spring 2027",
                                season="spring", starts_on=date(2027, 3, 1))


def test_a_teacher_runs_a_session_from_login_to_close(
    chromium, live_server, world, open_wave, draft_wave
):
    base = live_server.url
    teacher_ctx = new_context(chromium, **DESKTOP)
    student_ctx = new_context(chromium)
    page = teacher_ctx.new_page()
    page.set_default_timeout(10_000)
    polled = []
    page.on("request", lambda r: polled.append(r.url) if "/api/v1/" in r.url else None)
    found = {}
    try:
        log_in(page, base, "teacher")
        rows = page.locator("table.data tbody tr")
        assert rows.count() == 1  # 7A only: the teacher's one class, the one open wave
        row = rows.first.inner_text()
        assert "7A" in row and "Belonging 2026: Autumn 2026" in row
        body = page.inner_text("main")
        for not_theirs in ("7B", "8A", "9Z", "Spring 2027"):
            assert not_theirs not in body
        found["teacher-home"] = axe_violations(page)
        screenshot(page, "teacher-home")

        page.click("button:has-text('Open a session for 7A')")
        page.wait_for_url("**/teach/sessions/**")
        session = Session.objects.get(class_group=world["classes"]["7A"], wave=open_wave)
        code = page.inner_text(".card .code").strip()
        assert code == session.code and len(code) == CODE_LENGTH == 7
        assert set(code) <= set(CODE_ALPHABET)
        assert page.inner_text("main").count("/join/") >= 1
        qr = page.locator(".qr svg")
        assert qr.is_visible() and qr.bounding_box()["width"] >= 100
        assert qr.locator("path").get_attribute("d") == qr_path(f"{base}/s/{code}/")
        assert page.inner_text("#count").strip() == "0"
        found["teacher-session"] = axe_violations(page)
        screenshot(page, "teacher-session")

        page.evaluate("() => { window.notReloaded = true; }")
        student_submits(student_ctx.request, base, session)
        student_submits(student_ctx.request, base, session)
        wait_for_count(page, 2)
        assert page.evaluate("() => window.notReloaded === true")
        assert_no_answers(page, session, polled)
        screenshot(page, "teacher-session-2-answered")

        page.click("a:has-text('Show on the projector')")
        page.wait_for_url("**/projector/")
        assert page.inner_text(".code.huge").strip() == code
        assert page.inner_text("h1 .addr").strip() == f"{base}/join/"
        assert page.locator(".qr svg").bounding_box()["width"] >= 200
        assert page.inner_text("#count").strip() == "2"
        page.evaluate("() => { window.notReloaded = true; }")
        student_submits(student_ctx.request, base, session)
        wait_for_count(page, 3)
        assert page.evaluate("() => window.notReloaded === true")
        assert_no_answers(page, session, polled)
        found["teacher-projector"] = axe_violations(page)
        screenshot(page, "teacher-projector")

        page.go_back()
        page.wait_for_url(f"**/teach/sessions/{session.public_id}/")
        page.click("button:has-text('Close this session')")
        page.wait_for_selector("text=Session closed.")
        assert page.inner_text("#status").strip() == "Closed"
        assert page.locator("button:has-text('Close this session')").count() == 0
        found["teacher-session-closed"] = axe_violations(page)
        screenshot(page, "teacher-session-closed")

        student = student_ctx.new_page()
        student.goto(f"{base}/join/")
        student.fill("#id_code", code)
        student.click("form.join button[type=submit]")
        student.wait_for_selector("#code-error")
        assert "not open" in student.inner_text("#code-error")
        assert student.goto(f"{base}/s/{code}/").status == 404
        screenshot(student, "student-join-closed-code")
    finally:
        teacher_ctx.close()
        student_ctx.close()
    session.refresh_from_db()
    assert session.status == Session.Status.CLOSED
    assert Response.objects.filter(session=session).count() == 3
    assert {name: problems for name, problems in found.items() if problems} == {}
