"""A district admin creates a district-wide series and its wave in Chromium (errors
first, then the real thing), the wave reaches a teacher of each school, and a school's
leader records opt-outs for their own classes in it. axe-core finds no WCAG A/AA
violation on the new pages; screenshots go to test-artifacts/."""

import pytest

from surveys.models import OptOut, Series
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_dashboards import logged_in

from ..conftest import Role, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_series_form(page, world):
    page.fill("#id_name", "District belonging 2027")
    page.select_option("#id_instrument", str(world["instrument"].pk))
    page.select_option("#id_mode", "anonymous")
    page.select_option("#id_consent_mode", "passive")
    page.fill("#id_min_cell_size", "12")
    page.get_by_label("Gender").check()
    page.fill("#id_retention_months", "18")


def test_a_district_admin_creates_a_district_series_and_a_wave(chromium, live_server, world):
    context, page = logged_in(chromium, live_server, world["district_admin"])
    try:
        page.goto(f"{live_server.url}/districts/{world['district'].public_id}/")
        page.get_by_role("link", name="New district-wide series").click()
        page.wait_for_url("**/series/new/")
        assert axe_violations(page) == []
        # Submitted with a k below the district's and no name: errors, nothing created.
        page.fill("#id_min_cell_size", "5")
        page.get_by_role("button", name="Create district-wide series").click()
        alert = page.get_by_role("alert")
        assert "The series was not created" in alert.inner_text()
        assert "below the district's (10)" in page.locator("main").inner_text()
        assert page.locator("#id_name").get_attribute("aria-invalid") == "true"
        assert axe_violations(page) == []
        screenshot(page, "district-series-errors")
        assert not Series.objects.filter(district__isnull=False).exists()

        fill_series_form(page, world)
        page.get_by_role("button", name="Create district-wide series").click()
        page.wait_for_selector("h1:has-text('District belonging 2027')")
        series = Series.objects.get(name="District belonging 2027")
        assert (series.district, series.min_cell_size, series.retention_months) == (
            world["district"], 12, 18)
        assert "Hilltop, Lakeside" in page.locator("dl.settings").inner_text()
        assert axe_violations(page) == []

        page.fill("#id_label", "Spring 2027")
        page.select_option("#id_season", "spring")
        page.get_by_role("button", name="Create wave").click()  # no start date
        assert "The wave was not created" in page.get_by_role("alert").inner_text()
        assert axe_violations(page) == []
        page.fill("#id_starts_on", "2027-03-15")
        page.get_by_role("button", name="Create wave").click()
        page.get_by_role("button", name="Open Spring 2027").click()
        page.get_by_role("button", name="Close Spring 2027").wait_for()  # back on the page
        assert page.url.endswith(f"/series/{series.public_id}/")
        assert series.waves.get().status == "open"
        participation = page.get_by_role("table", name="Spring 2027 (open)")
        assert "Whole district" in participation.inner_text()
        assert axe_violations(page) == []
        screenshot(page, "district-series")
    finally:
        context.close()
    wave = series.waves.get()

    lake_teacher = make_user("lake_teacher", Role.TEACHER, school=world["other_school"])
    world["other_class"].teachers.add(lake_teacher)
    context, page = logged_in(chromium, live_server, lake_teacher)
    try:
        page.goto(f"{live_server.url}/teach/")
        page.get_by_role("button", name="Open a session for 9Z").click()
        page.wait_for_url("**/teach/sessions/**")
        assert wave.sessions.get().class_group == world["other_class"]
    finally:
        context.close()

    context, page = logged_in(chromium, live_server, world["leader"])
    try:
        page.goto(f"{live_server.url}/teach/consent/")
        block = page.locator("section.card", has_text="District belonging 2027")
        assert "Hilltop, district-wide" in block.inner_text()
        assert "9Z" not in block.inner_text()
        assert axe_violations(page) == []
        block.get_by_role("link", name="7B").click()
        page.fill("#id_count", "2")
        page.get_by_role("button", name="Record as opted out").click()
        assert "Recorded 2 students." in page.locator("main").inner_text()
        assert OptOut.objects.filter(series=series, class_group=world["classes"]["7B"]
                                     ).count() == 2
        # Lakeside's class in the same series: the same 404 as for a class that does not exist.
        response = page.goto(f"{live_server.url}/teach/consent/{series.public_id}/"
                             f"{world['other_class'].public_id}/")
        assert response.status == 404
    finally:
        context.close()
