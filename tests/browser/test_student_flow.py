"""A student's way through the survey in a real browser: by keyboard alone, through
a lost connection, a reload and a change of language, with nothing loaded from
other hosts and no cookie set. Each test checks what the database stored."""

import json
import re
import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from surveys import services
from surveys.models import Response, Session
from tests.browser.conftest import answer, axe_violations, heading, item_keys, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THANKS = re.compile(r"/thanks/")


def stored_answers(response, count):
    answers = response.answers()
    return [answers[i] for i in range(1, count + 1)]


def local_state(page, session):
    return page.evaluate("(key) => JSON.parse(localStorage.getItem(key))",
                         f"belonging:{session.public_id}")


# ---- (b) keyboard only ---------------------------------------------------------------

def focused(page, selector):
    return page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)",
                         selector)


def tab_to(page, selector, limit=40):
    """Press Tab until the element matching `selector` has the focus, and check that
    the focus is visible there."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, selector):
            outline = page.evaluate(
                "() => { const s = getComputedStyle(document.activeElement);"
                " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
            assert outline[0] != "none" and outline[1] >= 2, f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_student_completes_the_survey_by_keyboard_alone(page, live_server, pulse_session):
    keys = item_keys(pulse_session)
    page.goto(f"{live_server.url}/join/")
    tab_to(page, "#id_code")
    page.keyboard.type(pulse_session.code.lower())
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/s/{pulse_session.code}/**")

    # Page 1: the notice, then gender. Space picks the first option, arrows move on.
    assert heading(page) == "Before you start"
    tab_to(page, "input[name='band-gender']")
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # girl -> boy -> another -> prefer_not
    tab_to(page, "#next")
    page.keyboard.press("Enter")
    assert focused(page, "section.page:not([hidden]) h2"), "focus moves to the new page"
    assert heading(page) == "Questions 1 to 3 of 6"
    assert page.locator("#progress-text").inner_text() == "Page 2 of 4"

    # Items 1-3: 4, 2, 3.
    for key, downs in zip(keys[:3], (3, 1, 2), strict=True):
        tab_to(page, f"input[name='item-{key}']")
        page.keyboard.press("Space")
        for _ in range(downs):
            page.keyboard.press("ArrowDown")
    tab_to(page, "#next")
    page.keyboard.press("Enter")
    screenshot(page, "keyboard-items")

    # Items 4-6: answer 4 and 6, Tab straight past 5.
    tab_to(page, f"input[name='item-{keys[3]}']")
    page.keyboard.press("Space")
    tab_to(page, f"input[name='item-{keys[5]}']")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    assert page.locator("#next").inner_text() == "Check my answers"
    tab_to(page, "#next")
    page.keyboard.press("Enter")

    # The review lists the skipped item; change item 2 from its row.
    assert heading(page) == "Check your answers"
    rows = page.locator("#review-list li")
    assert rows.count() == 7
    assert "Skipped" in rows.nth(5).inner_text()
    assert "Disagree" in rows.nth(2).inner_text()
    screenshot(page, "keyboard-review")
    tab_to(page, "#review-list li:nth-child(3) button.change")
    page.keyboard.press("Enter")
    assert focused(page, f"input[name='item-{keys[1]}'][value='2']")
    page.keyboard.press("ArrowDown")  # 2 -> 3
    tab_to(page, "#next")
    page.keyboard.press("Enter")
    tab_to(page, "#next")
    page.keyboard.press("Enter")
    assert "Agree" in page.locator("#review-list li").nth(2).inner_text()
    tab_to(page, "#send")
    page.keyboard.press("Enter")
    page.wait_for_url(THANKS)

    response = Response.objects.get()
    assert response.session_id == pulse_session.id
    assert response.gender == "prefer_not"
    assert stored_answers(response, 6) == [4, 3, 3, 1, None, 2]
    assert local_state(page, pulse_session) is None  # cleared after acknowledgment


# ---- (c) offline round trip -----------------------------------------------------------

def test_answers_given_offline_are_sent_once_when_the_connection_returns(
    page, context, live_server, pulse_session
):
    keys = item_keys(pulse_session)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.goto(f"{live_server.url}/s/{pulse_session.code}/")
    answer(page, "band-gender", "boy")
    page.click("#next")
    answer(page, f"item-{keys[0]}", "1")
    answer(page, f"item-{keys[1]}", "2")

    context.set_offline(True)
    page.locator("#send-status").filter(has_text="You can keep answering").wait_for()
    answer(page, f"item-{keys[2]}", "3")
    page.click("#next")
    for key, value in zip(keys[3:], ("4", "1", "2"), strict=True):
        answer(page, f"item-{key}", value)
    page.click("#next")
    page.click("#send")
    status = page.locator("#send-status")
    status.filter(has_text="saved on this device").wait_for()
    assert "will be sent" in status.inner_text()
    screenshot(page, "offline-waiting")
    assert axe_violations(page) == []
    page.wait_for_timeout(1500)  # at least one retry while offline
    assert Response.objects.count() == 0
    assert local_state(page, pulse_session)["pending"] is True

    context.set_offline(False)
    page.wait_for_url(THANKS)
    response = Response.objects.get()
    assert response.gender == "boy"
    assert stored_answers(response, 6) == [1, 2, 3, 4, 1, 2]
    ids = {json.loads(r.post_data)["client_id"] for r in posts if "/responses/" in r.url}
    assert ids == {str(response.client_id)}, "every retry carries the same response id"


def test_a_refusal_is_shown_and_not_retried_but_a_server_error_is(
    page, live_server, pulse_session
):
    keys = item_keys(pulse_session)
    calls = []

    def refuse(route):
        calls.append(route.request.url)
        if len(calls) == 1:
            route.fulfill(status=503, body="busy")
        else:
            route.fulfill(status=410, content_type="application/json",
                          body=json.dumps({"detail": "This survey session has closed."}))

    page.route("**/responses/", refuse)
    page.goto(f"{live_server.url}/s/{pulse_session.code}/")
    page.click("#next")
    answer(page, f"item-{keys[0]}", "2")
    page.click("#next")
    page.click("#next")
    page.click("#send")
    alert = page.locator("#form-error[role=alert]")
    alert.filter(has_text="This survey session has closed.").wait_for()
    page.wait_for_timeout(2500)
    assert len(calls) == 2, "a 5xx is retried; a 4xx is shown and not retried"
    assert page.locator("#send").is_enabled()
    assert axe_violations(page) == []
    screenshot(page, "refused")
    assert local_state(page, pulse_session)["pending"] is False
    assert local_state(page, pulse_session)["values"] == {f"item-{keys[0]}": "2"}

    page.unroute("**/responses/")
    page.click("#send")
    page.wait_for_url(THANKS)
    assert stored_answers(Response.objects.get(), 1) == [2]


# ---- (d) reload ----------------------------------------------------------------------

def test_a_reload_resumes_at_the_same_page_with_the_answers_and_the_id(
    context, live_server, pulse_session
):
    # An http LAN is not a secure context: no crypto.randomUUID there.
    context.add_init_script("delete Crypto.prototype.randomUUID;")
    page = context.new_page()
    keys = item_keys(pulse_session)
    page.goto(f"{live_server.url}/s/{pulse_session.code}/")
    answer(page, "band-gender", "girl")
    page.click("#next")
    answer(page, f"item-{keys[0]}", "4")
    answer(page, f"item-{keys[1]}", "3")
    answer(page, f"item-{keys[2]}", "1")
    page.click("#q-2 button.clear")  # changed my mind: skip item 2 after all
    assert page.locator("#q-2 button.clear").is_hidden()
    page.click("#next")
    answer(page, f"item-{keys[3]}", "2")
    client_id = local_state(page, pulse_session)["client_id"]
    assert uuid.UUID(client_id).version == 4

    page.reload()
    assert heading(page) == "Questions 4 to 6 of 6"
    assert page.is_checked(f"input[name='item-{keys[3]}'][value='2']")
    assert page.locator("#resume").is_visible()
    screenshot(page, "reload-resumed")
    page.click("#back")
    assert page.is_checked(f"input[name='item-{keys[0]}'][value='4']")
    assert page.is_checked(f"input[name='item-{keys[2]}'][value='1']")
    assert not page.locator(f"input[name='item-{keys[1]}']:checked").count()
    page.click("#next")
    page.click("#next")
    page.click("#send")
    page.wait_for_url(THANKS)
    response = Response.objects.get()
    assert str(response.client_id) == client_id
    assert response.gender == "girl"
    assert stored_answers(response, 6) == [4, None, 1, 2, None, None]


def test_starting_again_clears_the_answers_and_makes_a_new_id(page, live_server, pulse_session):
    keys = item_keys(pulse_session)
    page.goto(f"{live_server.url}/s/{pulse_session.code}/")
    page.click("#next")
    answer(page, f"item-{keys[0]}", "4")
    first_id = local_state(page, pulse_session)["client_id"]
    page.reload()
    page.click("#start-over")
    assert heading(page) == "Before you start"
    assert local_state(page, pulse_session)["values"] == {}
    assert local_state(page, pulse_session)["client_id"] != first_id
    page.click("#next")
    assert not page.locator(f"input[name='item-{keys[0]}']:checked").count()


# ---- (e) language switch -------------------------------------------------------------

def test_switching_to_spanish_keeps_the_answers_and_the_page(page, live_server, pulse_session):
    keys = item_keys(pulse_session)
    page.goto(f"{live_server.url}/s/{pulse_session.code}/")
    assert page.get_attribute("html", "lang") == "en"
    answer(page, "band-gender", "another")
    page.click("#next")
    answer(page, f"item-{keys[0]}", "3")
    answer(page, f"item-{keys[1]}", "4")
    client_id = local_state(page, pulse_session)["client_id"]

    page.click("a[hreflang=es]")
    page.wait_for_url("**?lang=es")
    assert page.get_attribute("html", "lang") == "es"
    assert page.locator("h1").inner_text() == "Pulso de pertenencia"
    assert heading(page) == "Preguntas 1 a 3 de 6"
    assert page.locator("#progress-text").inner_text() == "Página 2 de 4"
    assert page.is_checked(f"input[name='item-{keys[0]}'][value='3']")
    assert page.is_checked(f"input[name='item-{keys[1]}'][value='4']")
    assert "Muy de acuerdo" in page.locator("#q-2").inner_text()
    assert page.locator("#next").inner_text() == "Siguiente"
    screenshot(page, "spanish-items")
    page.click("#next")
    answer(page, f"item-{keys[5]}", "1")
    page.click("#next")
    assert heading(page) == "Revisa tus respuestas"
    assert "Omitida" in page.locator("#review-list").inner_text()
    assert "De otra manera" in page.locator("#review-list").inner_text()
    page.click("#send")
    page.wait_for_url(THANKS)
    assert page.locator("h1").inner_text() == "¡Gracias!"
    response = Response.objects.get()
    assert str(response.client_id) == client_id
    assert response.language == "es" and response.gender == "another"
    assert stored_answers(response, 6) == [3, 4, None, None, None, 1]


def close_long_ago(session):
    Session.objects.filter(pk=session.pk).update(
        status="closed", closed_at=timezone.now() - timedelta(hours=2))


def test_a_refusal_from_the_server_comes_in_the_students_language(
    page, live_server, pulse_session
):
    page.goto(f"{live_server.url}/s/{pulse_session.code}/?lang=es")
    page.click("#next")
    page.click("#next")
    page.click("#next")
    close_long_ago(pulse_session)
    page.click("#send")
    alert = page.locator("#form-error[role=alert]")
    alert.filter(has_text="Esta sesión de la encuesta ya se cerró").wait_for()
    assert Response.objects.count() == 0


# ---- (f) nothing from other hosts, no cookies ----------------------------------------

def test_student_pages_load_nothing_from_other_hosts_and_set_no_cookie(
    page, context, live_server, pulse_session
):
    host = urlsplit(live_server.url).netloc
    requests, set_cookies = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: set_cookies.extend(
        [r.url] if r.header_value("set-cookie") else []))
    page.goto(f"{live_server.url}/join/")
    page.fill("#id_code", "ZZZZZZ")
    page.click("form.join button[type=submit]")
    page.fill("#id_code", pulse_session.code)
    page.click("form.join button[type=submit]")
    page.wait_for_url(f"**/s/{pulse_session.code}/**")
    page.click("a[hreflang=es]")
    page.wait_for_url("**?lang=es")
    answer(page, "band-gender", "girl")
    page.click("#next")
    page.click("#next")
    page.click("#next")
    page.click("#send")
    page.wait_for_url(THANKS)
    page.wait_for_load_state("networkidle")

    assert requests, "the pages made requests"
    elsewhere = [u for u in requests if urlsplit(u).scheme not in ("http", "https")
                 or urlsplit(u).netloc != host]
    assert elsewhere == []
    assert set_cookies == []
    assert context.cookies() == []
    assert Response.objects.count() == 1


# ---- read aloud and pictorial faces ----------------------------------------------------

SPEECH_STUB = """
window.__spoken = [];
window.__cancelled = 0;
const fake = {
  speak(u) { window.__spoken.push({text: u.text, lang: u.lang}); },
  cancel() { window.__cancelled += 1; },
  getVoices() { return []; }, speaking: false, pending: false,
  addEventListener() {}, removeEventListener() {}
};
Object.defineProperty(window, 'speechSynthesis', {value: fake, configurable: true});
if (!window.SpeechSynthesisUtterance) {
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
}
"""


def test_the_primary_form_reads_aloud_by_default_and_shows_faces(
    context, live_server, primary_session
):
    context.add_init_script(SPEECH_STUB)
    page = context.new_page()
    keys = item_keys(primary_session)
    page.goto(f"{live_server.url}/s/{primary_session.code}/")
    assert page.is_checked("#read-aloud")
    page.click("#notice button.speak")
    spoken = page.evaluate("window.__spoken")
    assert spoken[-1]["lang"] == "en" and "voluntary" in spoken[-1]["text"]

    page.click("#next")  # a new page is read as it shows
    spoken = page.evaluate("window.__spoken")
    assert spoken[-1] == {"lang": "en", "text": "Choose the face that shows your answer. "
                          "Do you feel you are part of your class? No. Sometimes. Yes."}
    fieldset = page.locator("#q-1")
    assert fieldset.locator("svg.face").count() == 3
    assert fieldset.get_by_role("radio", name="Sometimes").count() == 1
    fieldset.get_by_role("radio", name="Yes").check()
    fieldset.locator("button.speak").click()
    assert page.evaluate("window.__spoken.length") == len(spoken) + 1
    screenshot(page, "primary-faces")

    page.click("a[hreflang=es]")
    page.wait_for_url("**?lang=es")
    assert page.is_checked(f"input[name='item-{keys[0]}'][value='3']")
    page.locator("#q-1 button.speak").click()
    spoken = page.evaluate("window.__spoken")
    assert spoken[-1]["lang"] == "es"
    assert spoken[-1]["text"].endswith("¿Sientes que eres parte de tu clase? No. A veces. Sí.")

    page.uncheck("#read-aloud")  # switched off: no buttons, nothing read
    assert page.locator("#q-1 button.speak").is_hidden()
    count = page.evaluate("window.__spoken.length")
    page.click("#next")
    assert page.evaluate("window.__spoken.length") == count
    page.reload()
    assert not page.is_checked("#read-aloud")  # the choice is kept


def test_the_pulse_form_offers_reading_aloud_switched_off(context, live_server, pulse_session):
    context.add_init_script(SPEECH_STUB)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{pulse_session.code}/")
    page.click("#next")
    assert not page.is_checked("#read-aloud")
    assert page.locator("#q-1 button.speak").is_hidden()
    assert page.locator("svg.face").count() == 0
    page.check("#read-aloud")
    assert page.locator("#q-1 button.speak").is_visible()


# ---- without the script: the plain form post ---------------------------------------

def test_without_the_script_the_form_posts_and_a_refusal_keeps_the_answers(
    context, live_server, pulse_session
):
    context.route("**/survey.js", lambda route: route.abort())
    page = context.new_page()
    keys = item_keys(pulse_session)
    page.goto(f"{live_server.url}/s/{pulse_session.code}/")
    assert page.locator("fieldset").count() == 7 and page.locator("#next").is_hidden()
    client_id = page.input_value("input[name=client_id]")
    answer(page, "band-gender", "girl")
    for key in keys[:5]:
        answer(page, f"item-{key}", "2")
    close_long_ago(pulse_session)
    page.click("#send")
    page.locator("#form-error[role=alert]").filter(has_text="has closed").wait_for()
    assert page.input_value("input[name=client_id]") == client_id
    assert page.is_checked(f"input[name='item-{keys[4]}'][value='2']")
    assert page.is_checked("input[name='band-gender'][value='girl']")
    assert Response.objects.count() == 0

    Session.objects.filter(pk=pulse_session.pk).update(status="open", closed_at=None)
    page.click("#send")
    page.wait_for_url(THANKS)
    response = Response.objects.get()
    assert str(response.client_id) == client_id and response.gender == "girl"
    assert stored_answers(response, 6) == [2, 2, 2, 2, 2, None]


# ---- linked series: the student number ------------------------------------------------

def test_a_linked_series_asks_for_the_student_number_first(page, live_server, world):
    series = services.create_series(world["school"], by=world["leader"], name="Linked 2026",
                                    instrument=world["instrument"], mode="linked",
                                    demographics=["gender", "home_language"])
    wave = services.create_wave(series, by=world["leader"], label="Linked autumn",
                                season="autumn", starts_on=date(2026, 9, 1))
    services.open_wave(wave, by=world["leader"])
    wave.refresh_from_db()
    session = services.open_session(wave, world["classes"]["8A"], by=world["leader"])
    page.goto(f"{live_server.url}/s/{session.code}/")
    page.click("#next")
    alert = page.locator("#form-error[role=alert]")
    alert.filter(has_text="Please type your student number.").wait_for()
    assert page.evaluate("document.activeElement.id") == "student_number"
    assert page.get_attribute("#student_number", "aria-invalid") == "true"
    assert axe_violations(page) == []
    screenshot(page, "linked-number-missing")
    page.fill("#student_number", "S-1234")
    answer(page, "band-home_language", "prefer_not")
    page.click("#next")
    assert alert.is_hidden()
    page.click("#next")
    page.click("#next")
    assert "S-1234" in page.locator("#review-list").inner_text()
    page.click("#send")
    page.wait_for_url(THANKS)
    response = Response.objects.get()
    assert response.pseudonym and "1234" not in response.pseudonym
    assert response.home_language == "prefer_not" and response.gender == ""
