"""A publication followed live in Chromium: the district page polls the wave's run
(static/js/publishing.js) and shows its progress and the time left as the workers
report them, then reloads once the wave is published, with the dashboard link."""


import pytest
from playwright.sync_api import expect

from analytics.models import PublishRun
from surveys.models import Wave
from tests.analytics.dashboard_seed import closed_district_series
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_dashboards import csp_violations, logged_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_district_page_follows_a_publication_until_it_is_published(
        chromium, live_server, world):
    admin = world["district_admin"]
    series, wave = closed_district_series(world)
    run = PublishRun.objects.create(wave=wave, status="running", progress=29,
                                    step="schools: 1 of 4 done, about 12 min left")
    context, page = logged_in(chromium, live_server, admin)
    try:
        page.goto(f"{live_server.url}/districts/{world['district'].public_id}/")
        status = page.get_by_role("status").filter(has_text="Publishing")
        expect(status).to_have_text(
            "Publishing: running 29% (schools: 1 of 4 done, about 12 min left)")
        assert page.get_by_label("Publishing Autumn").get_attribute("value") == "29"
        assert page.get_by_role("link", name="Dashboard").count() == 0
        assert page.get_by_role("button", name="Publish Autumn").count() == 0  # one run
        assert axe_violations(page) == []
        screenshot(page, "district-publishing")

        PublishRun.objects.filter(pk=run.pk).update(
            progress=65, step="schools: 3 of 4 done, under a minute left")
        expect(status).to_have_text(
            "Publishing: running 65% (schools: 3 of 4 done, under a minute left)")
        expect(page.get_by_label("Publishing Autumn")).to_have_js_property("value", 65)

        PublishRun.objects.filter(pk=run.pk).update(status="done", progress=100,
                                                    step="published")
        Wave.objects.filter(pk=wave.pk).update(status=Wave.Status.PUBLISHED)
        page.get_by_role("link", name="Dashboard").wait_for()  # reloaded
        page.goto(f"{live_server.url}/districts/{world['district'].public_id}/series/"
                  f"{series.public_id}/")
        assert page.locator(".run").count() == 0  # done: nothing left to follow
        assert page.locator(".run").count() == 0
        assert csp_violations(page) == []
    finally:
        context.close()


def test_a_failed_publication_stops_polling_and_says_why(chromium, live_server, world):
    leader = world["leader"]
    wave = world["wave"]
    Wave.objects.filter(pk=wave.pk).update(status=Wave.Status.CLOSED)
    run = PublishRun.objects.create(wave=wave, status="running", progress=40,
                                    step="suppressing")
    context, page = logged_in(chromium, live_server, leader)
    try:
        page.goto(f"{live_server.url}/schools/{world['school'].public_id}/")
        status = page.get_by_role("status").filter(has_text="Publishing")
        expect(status).to_have_text("Publishing: running 40% (suppressing)")
        PublishRun.objects.filter(pk=run.pk).update(
            status="failed", step="failed",
            error="The disclosure audit refused this snapshot: Hilltop: a cell")
        expect(status).to_have_text("Publishing failed: The disclosure audit refused this "
                                    "snapshot: Hilltop: a cell")
        expect(page.get_by_label("Publishing Autumn")).to_be_hidden()
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_page_answering_a_form_is_loaded_again_by_get_when_published(
        chromium, live_server, world):
    """The series page as the answer to a New wave form with errors: when the run ends
    the page is fetched again (GET), never posted again."""
    admin = world["district_admin"]
    series, wave = closed_district_series(world)
    run = PublishRun.objects.create(wave=wave, status="running", progress=50)
    context, page = logged_in(chromium, live_server, admin)
    try:
        page.goto(f"{live_server.url}/districts/{world['district'].public_id}/series/"
                  f"{series.public_id}/")
        page.fill("#id_label", "Spring")
        page.get_by_role("button", name="Create wave").click()  # no start date: 400
        assert "The wave was not created" in page.get_by_role("alert").inner_text()
        PublishRun.objects.filter(pk=run.pk).update(status="done", progress=100)
        Wave.objects.filter(pk=wave.pk).update(status=Wave.Status.PUBLISHED)
        page.get_by_role("link", name="Dashboard").wait_for()
        assert page.get_by_role("alert").count() == 0  # fetched, not the form sent again
        assert series.waves.count() == 1
    finally:
        context.close()
