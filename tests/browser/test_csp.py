"""Every kind of page works under the strict Content Security Policy: Chromium loads
it (and runs its scripts) without reporting a single violation, and the header is
there. Violations are collected two ways: the page's own `securitypolicyviolation`
events (listened for from a script Playwright installs before the page's scripts run)
and Chromium's console messages."""

import uuid

import pytest
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice

from analytics.publishing import publish
from surveys import services, submission
from tests.browser.conftest import (
    answer,
    axe_violations,
    item_keys,
    new_context,
    screenshot,
)
from tests.conftest import answers_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/conftest.py make_user
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
                    + ` at ${e.sourceFile || ''}:${e.lineNumber || ''}`);
});
"""


@pytest.fixture
def watched(chromium, live_server):
    """A desktop browser context that records every CSP violation and console error."""
    ctx = new_context(chromium, width=1280, height=900)
    ctx.add_init_script(LISTEN)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text else None)
    yield page
    ctx.close()


def visit(page, url):
    """Loads a page, lets its scripts run, and asserts the CSP header and no violation."""
    response = page.goto(url)
    assert response.ok, (url, response.status)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, url
    page.wait_for_load_state("networkidle")
    assert_clean(page, url)
    return response


def assert_clean(page, where):
    violations = page.evaluate("() => window.__csp")
    reported = [m for m in page.console_errors if "Content Security Policy" in m]
    assert not violations and not reported, (where, violations, reported)


def log_in(page, base, username, next_url="/"):
    page.goto(f"{base}/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    assert_clean(page, "login")


def published_wave(world):
    """The fixture wave with 26 responses (two classes of 13), closed and published."""
    wave = services.open_wave(world["wave"], by=world["leader"])
    for name in ("7A", "7B"):
        session = services.open_session(wave, world["classes"][name], by=world["leader"])
        for i in range(13):
            submission.submit_to(session.public_id, {
                "client_id": str(uuid.uuid4()), "language": "en",
                "demographics": {"gender": ["girl", "boy"][i % 2]},
                "answers": answers_for(world["instrument"], 1 + i % 4)})
        services.close_session(session, by=world["leader"])
    services.close_wave(wave, by=world["leader"])
    publish(wave.id)
    wave.refresh_from_db()
    return wave


def test_student_pages_run_under_the_policy(watched, live_server, pulse_session):
    page, base = watched, live_server.url
    visit(page, f"{base}/join/")
    page.fill("#id_code", pulse_session.code)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/s/{pulse_session.code}/**")
    page.wait_for_load_state("networkidle")
    assert_clean(page, "survey")
    # The survey's script pages through the form, reviews and sends.
    answer(page, "band-gender", "girl")
    page.click("#next")
    for key in item_keys(pulse_session)[:3]:
        answer(page, f"item-{key}", "3")
    page.click("#next")
    page.click("#next")  # items 4-6 skipped: on to the review
    page.click("#send")
    page.wait_for_url("**/thanks/**")
    page.wait_for_load_state("networkidle")
    assert_clean(page, "thanks")
    screenshot(page, "csp-thanks")
    visit(page, f"{base}/s/{pulse_session.code}/?lang=es")


def test_teacher_pages_run_under_the_policy(watched, live_server, pulse_session):
    page, base = watched, live_server.url
    log_in(page, base, "teacher", "/teach/")
    visit(page, f"{base}/teach/")
    visit(page, f"{base}/teach/sessions/{pulse_session.public_id}/")
    # The participation script polls; wait for one poll to have run.
    with page.expect_response(lambda r: "/participation/" in r.url and "/api/" in r.url,
                              timeout=15_000):
        pass
    assert_clean(page, "session after a poll")
    visit(page, f"{base}/teach/sessions/{pulse_session.public_id}/projector/")
    visit(page, f"{base}/teach/consent/")


def test_leader_pages_run_under_the_policy(watched, live_server, world):
    page, base = watched, live_server.url
    wave = published_wave(world)
    log_in(page, base, "leader")
    visit(page, f"{base}/")
    visit(page, f"{base}/schools/{world['school'].public_id}/")
    visit(page, f"{base}/waves/{wave.public_id}/dashboard/")
    screenshot(page, "csp-dashboard")
    visit(page, f"{base}/account/security/?enrol=1")  # the QR code is inline SVG
    assert page.locator(".qr svg").count() == 1
    screenshot(page, "csp-two-factor-enrolment")
    assert not axe_violations(page)


def test_login_pages_and_the_second_step_run_under_the_policy(watched, live_server, world):
    page, base = watched, live_server.url
    visit(page, f"{base}/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", "not the password")
    page.click("main form button[type=submit]")
    assert_clean(page, "failed login")
    TOTPDevice.objects.create(user=world["leader"], name="app", confirmed=True)
    log_in(page, base, "leader")
    page.wait_for_url("**/login/code/")
    assert_clean(page, "code step")
    screenshot(page, "csp-login-code")
    assert not axe_violations(page)
    visit(page, f"{base}/login/code/")


def test_district_and_admin_pages_run_under_the_policy(watched, live_server, world):
    page, base = watched, live_server.url
    User.objects.create_superuser("operator", password=PASSWORD)
    log_in(page, base, "district_admin")
    visit(page, f"{base}/districts/{world['district'].public_id}/")
    page.context.clear_cookies()
    log_in(page, base, "operator", "/admin/")
    page.wait_for_url("**/admin/")
    assert_clean(page, "admin index")
    visit(page, f"{base}/admin/auth/user/")
    visit(page, f"{base}/admin/auth/user/{User.objects.get(username='leader').pk}/change/")


def test_the_api_answers_carry_the_policy_too(watched, live_server, world):
    page, base = watched, live_server.url
    reply = page.request.get(f"{base}/api/schema/")
    assert "default-src 'self'" in reply.headers["content-security-policy"]
    assert reply.text().startswith("openapi")


def test_the_api_docs_run_under_the_policy_from_this_host_only(watched, live_server, world):
    page, base = watched, live_server.url
    hosts = set()
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    log_in(page, base, "leader")
    visit(page, f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # rendered the schema
    assert_clean(page, "api docs")
    assert hosts == {base.split("/")[2]}, hosts
