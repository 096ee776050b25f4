"""Browser tests: Debian's Chromium driven by Playwright against a live server.

One browser for all of them (launching is the slow part); a fresh context, with
its own storage and no cookies, per test. Screenshots go to test-artifacts/
(gitignored) for people to look at.
"""

from datetime import date
from pathlib import Path

import axe_playwright_python
import pytest

from surveys import services
from surveys.instruments import load_file
from tests.conftest import INSTRUMENTS, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
AXE_JS = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="package")
def chromium():
    """One browser for the browser tests, closed when they are done (package scope, so
    its event loop is gone before any other tests run).

    Playwright's sync API keeps an event loop in the test thread, and Django refuses
    ORM calls where a loop runs. The tests' own ORM calls (and the database flush
    after each) are plain synchronous code between browser steps, so they are allowed
    while the browser is up, and only then: `check --deploy` in other tests rightly
    refuses the variable."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_context(chromium, width=PHONE["width"], height=PHONE["height"], **options):
    options.setdefault("locale", "en-US")
    return chromium.new_context(viewport={"width": width, "height": height}, **options)


@pytest.fixture
def context(chromium, live_server):
    ctx = new_context(chromium)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def pulse_session(open_wave, world):
    """An open session of the pulse series (six items, asks gender) for class 7A."""
    return services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])


@pytest.fixture
def primary_session(world):
    """An open session of a series on the primary form (faces, read aloud)."""
    instrument = load_file(INSTRUMENTS / "belonging-primary-1.0.yaml")
    series = services.create_series(world["school"], by=world["leader"], name="Primary 2026",
                                    instrument=instrument, demographics=[])
    wave = services.create_wave(series, by=world["leader"], label="Spring 2026",
                                season="spring", starts_on=date(2026, 3, 2))
    services.open_wave(wave, by=world["leader"])
    wave.refresh_from_db()
    return services.open_session(wave, world["classes"]["7B"], by=world["leader"])


def axe_violations(page):
    """axe-core's WCAG 2.0/2.1/2.2 A and AA violations on the page as it is now, once
    it has loaded: right after a click that submits a form, the next page may not have
    its stylesheet yet, and unstyled controls (the skip link beside the brand, small
    inputs) fail target-size, a flaky failure about a page no one sees."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: an injected inline <script> would be
        # (rightly) refused by the pages' Content Security Policy.
        page.evaluate(AXE_JS + "\n;undefined")
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"]
    ]


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def item_keys(session):
    return list(session.wave.series.instrument.items.values_list("key", flat=True))


def answer(page, name, value):
    page.check(f"input[name='{name}'][value='{value}']")


def heading(page):
    """The heading of the page of the survey now shown."""
    return page.locator("section.page:not([hidden]) h2").inner_text()
