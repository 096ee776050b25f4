"""The login page's language switch in a real Chromium: it works with JavaScript turned
off (a plain POST form to Django's set_language), and with JavaScript on Chromium
reports no Content Security Policy violation (the form's POST and its redirect are
checked against `form-action 'self'`)."""

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
                          (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.fixture(scope="module")
def chromium():
    """A browser of this module's own, closed with it (see tests/browser/conftest.py for
    why Django's async-unsafe switch lives only as long as the browser)."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(chromium, **options):
    ctx = chromium.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                               **options)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    page.console_messages = []
    page.on("console", lambda m: page.console_messages.append(m.text))
    return ctx, page


def switch_to(page, name):
    with page.expect_navigation():
        page.click(f"form.language-switch button:has-text('{name}')")


def test_the_switch_works_with_javascript_off(chromium, live_server):
    ctx, page = open_page(chromium, java_script_enabled=False)
    try:
        page.goto(f"{live_server.url}/login/?next=/results/")
        assert page.inner_text("h1") == "Log in"
        switch_to(page, "Español")
        assert page.url == f"{live_server.url}/login/?next=/results/"
        assert page.inner_text("h1") == "Iniciar sesión"
        assert page.get_attribute("html", "lang") == "es"
        assert page.is_disabled("form.language-switch button[value=es]")
        # The next page keeps the language: a wrong password is refused in Spanish.
        page.fill("#id_username", "nobody")
        page.fill("#id_password", "wrong password")
        page.click("main form.card button[type=submit]")
        assert "El usuario y la contraseña no coinciden." in page.inner_text("main")
        switch_to(page, "English")
        assert page.inner_text("h1") == "Log in"
        assert not [m for m in page.console_messages if "Content Security Policy" in m]
    finally:
        ctx.close()


def test_the_switch_raises_no_csp_violation_and_is_accessible(chromium, live_server):
    ctx, page = open_page(chromium)
    ctx.add_init_script(LISTEN)
    try:
        response = page.goto(f"{live_server.url}/login/")
        assert "form-action 'self'" in response.headers["content-security-policy"]
        switch_to(page, "Español")
        assert page.inner_text("h1") == "Iniciar sesión"
        assert page.evaluate("() => window.__csp") == []
        assert not [m for m in page.console_messages if "Content Security Policy" in m]
        assert axe_violations(page) == []
        screenshot(page, "login-language-switch-es")
    finally:
        ctx.close()
