"""Every student page, as a phone shows it: no WCAG 2.2 A/AA violation that axe-core
finds, no horizontal scrolling at 320 px (WCAG 1.4.10, the same as 1280 px at 400%
zoom), and a screenshot in test-artifacts/ for people to look at."""

import pytest

from tests.browser.conftest import answer, axe_violations, item_keys, new_context, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check_page(page, name, width, found):
    found[name] = axe_violations(page)
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll > width:
        found[name].append(f"horizontal scroll: {scroll}px wide in a {width}px viewport")
    screenshot(page, name)


def test_every_student_page_passes_axe_and_fits_a_small_phone(
    chromium, live_server, pulse_session, primary_session
):
    width = 320
    context = new_context(chromium, width=width, height=700)
    page = context.new_page()
    page.set_default_timeout(10_000)
    found = {}
    base = live_server.url
    try:
        page.goto(f"{base}/join/")
        check_page(page, f"{width}-join", width, found)
        page.fill("#id_code", "ZZZZZZ")
        page.click("form.join button[type=submit]")
        page.wait_for_selector("#code-error")
        check_page(page, f"{width}-join-error", width, found)

        page.goto(f"{base}/s/{pulse_session.code}/")
        check_page(page, f"{width}-survey-notice", width, found)
        answer(page, "band-gender", "girl")
        page.click("#next")
        answer(page, f"item-{item_keys(pulse_session)[0]}", "3")
        check_page(page, f"{width}-survey-items", width, found)
        page.click("#next")
        page.click("#next")
        page.wait_for_selector("#review-list li")
        check_page(page, f"{width}-survey-review", width, found)
        page.click("#send")
        page.wait_for_url("**/thanks/**")
        check_page(page, f"{width}-thanks", width, found)

        page.goto(f"{base}/s/{pulse_session.code}/?lang=es")
        page.click("#next")
        check_page(page, f"{width}-survey-items-es", width, found)

        page.goto(f"{base}/s/{primary_session.code}/")
        check_page(page, f"{width}-primary-notice", width, found)
        page.click("#next")
        answer(page, f"item-{item_keys(primary_session)[0]}", "3")
        check_page(page, f"{width}-primary-item", width, found)
        for _ in item_keys(primary_session):
            page.click("#next")
        page.wait_for_selector("#review-list li")
        check_page(page, f"{width}-primary-review", width, found)
    finally:
        context.close()
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_the_survey_without_its_script_passes_axe_and_fits_320px(
    chromium, live_server, pulse_session
):
    """The page as it is when survey.js does not run (blocked, old browser). The
    browser's own JavaScript stays on only so that axe-core can run."""
    context = new_context(chromium, width=320, height=700)
    context.route("**/survey.js", lambda route: route.abort())
    page = context.new_page()
    found = {}
    try:
        page.goto(f"{live_server.url}/s/{pulse_session.code}/")
        assert page.locator("fieldset").count() == 7  # every question on one page
        assert page.locator("#next").is_hidden() and page.locator("#send").is_visible()
        check_page(page, "320-survey-no-javascript", 320, found)
    finally:
        context.close()
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_the_page_that_pauses_code_guessing_passes_axe_and_fits_320px(
    chromium, live_server, world
):
    """surveys/ratelimit.py: after a run of well-formed codes that no session has,
    joining from this network pauses. The pause page is a student page too."""
    from django.core.cache import cache

    from surveys.models import CODE_ALPHABET, CODE_LENGTH

    context = new_context(chromium, width=320, height=700, locale="es-ES")
    page = context.new_page()
    found = {}
    cache.clear()
    try:
        status = None
        for i in range(12):
            a, b = CODE_ALPHABET[i], CODE_ALPHABET[-1 - i]
            code = a + b + "Q" * (CODE_LENGTH - 4) + a + b
            status = page.goto(f"{live_server.url}/join/?code={code}").status
            if status == 429:
                break
        assert status == 429
        assert page.get_attribute("html", "lang") == "es"
        check_page(page, "320-slow-down-es", 320, found)
    finally:
        cache.clear()
        context.close()
    assert {name: problems for name, problems in found.items() if problems} == {}
