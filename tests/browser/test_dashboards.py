"""The dashboards in a real browser, as each role gets them: what is and is not visible,
axe-core's WCAG A/AA check on every dashboard page, charts drawn under a strict CSP
(and tables standing alone without JavaScript), the printed report as a PDF, and
screenshots in test-artifacts/ for people to look at."""

import re

import pytest

from analytics.models import Snapshot, SnapshotPart
from surveys.instruments import load_file
from surveys.models import School
from tests.analytics.dashboard_seed import publish_core_waves, publish_district_wave
from tests.browser.conftest import ARTIFACTS, axe_violations, new_context, screenshot
from tests.conftest import INSTRUMENTS, build_world, kept

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "object-src 'none'; base-uri 'none'")
WATCH_CSP = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct horse battery"  # tests.conftest.make_user


@pytest.fixture
def world(transactional_db, request):
    """The world, with the published core waves a test asks for (`waves`: two, `wave1`:
    one, where trends are not looked at) published once for the whole session and
    restored row for row for each later test that asks for the same (conftest.kept)."""
    count = 2 if "waves" in request.fixturenames else 1 if "wave1" in request.fixturenames \
        else 0
    if not count:
        return build_world(load_file(INSTRUMENTS / "belonging-pulse-1.0.yaml"))
    world, request.node.core_waves = kept(f"dashboards-core-{count}", lambda: with_waves(count))
    return world


def with_waves(count):
    world = build_world(load_file(INSTRUMENTS / "belonging-pulse-1.0.yaml"))
    return world, publish_core_waves(world, count=count)


@pytest.fixture
def waves(world, request):
    return request.node.core_waves


@pytest.fixture
def wave1(world, request):
    return request.node.core_waves


def logged_in(chromium, live_server, user, **options):
    """A browser context logged in through the login form (which works without
    JavaScript too), watching for CSP violations."""
    context = new_context(chromium, **{**DESKTOP, **options})
    context.add_init_script(WATCH_CSP)
    context.route(re.compile(r".*/(dashboard|results)/(\?.*)?$"), with_strict_csp)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return context, page


def with_strict_csp(route):
    """Serve the page with a strict CSP even where the settings do not send one yet."""
    response = route.fetch()
    headers = dict(response.headers)
    headers.setdefault("content-security-policy", STRICT_CSP)
    route.fulfill(response=response, headers=headers)


def csp_violations(page):
    return page.evaluate("() => window.__csp")


def drawn_charts(page):
    """Charts Chart.js drew: a canvas with pixels in a shown container."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-chart] canvas'))
        .filter((c) => c.width > 0 && c.height > 0 && !c.closest('[hidden]')).length""")


def column_values(page, name):
    """The schools' numbers in the district table's column `name`, top to bottom (the
    whole district's row left out)."""
    return page.evaluate("""(name) => {
        const table = document.querySelector('table.district');
        const index = Array.from(table.tHead.rows[0].cells)
            .findIndex((th) => th.textContent.includes(name));
        return Array.from(table.tBodies[0].rows)
            .filter((row) => !row.classList.contains('district-row'))
            .map((row) => parseFloat(row.cells[index].getAttribute('data-value')));
    }""", name)


def equity_axes(page):
    """The value axis title of each equity chart drawn."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '[data-chart=equity] canvas')).map((canvas) => {
          const options = Chart.getChart(canvas).options;
          return options.scales[options.indexAxis === 'y' ? 'x' : 'y'].title.text;
        })""")


def item_bars(page):
    """Per item chart: whether its published numbers have a "rest" (a share not drawn
    on its own), and the datasets Chart.js drew."""
    return page.evaluate("""() => {
        const items = JSON.parse(document.getElementById('dashboard-charts').textContent).items;
        return items.map((spec) => {
          const box = document.querySelector(`[data-chart-id="${spec.id}"] canvas`);
          return [spec.rest.some((v) => v !== null),
                  window.Chart.getChart(box).data.datasets.map((d) => d.label)];
        });
    }""")


def suppressed_texts(page):
    return page.locator("tr.is-suppressed td").all_inner_texts()


def test_the_leader_dashboard_draws_charts_beside_tables_and_passes_axe(
        chromium, live_server, world, waves):
    context, page = logged_in(chromium, live_server, world["leader"])
    try:
        page.goto(f"{live_server.url}/waves/{waves[-1].public_id}/dashboard/")
        for heading in ("The four components of belonging", "Trends across waves",
                        "Breakdowns", "Equity: each group's gap to the whole school",
                        "How students answered each question", "Suggested practices"):
            assert page.get_by_role("heading", name=re.compile(re.escape(heading))).count()
        assert page.locator(".components article").count() == 4
        assert drawn_charts(page) >= 4 + 1 + 1  # trends, equity, item distributions
        assert set(equity_axes(page)) == {"Gap to the school mean"}
        bars = item_bars(page)
        assert bars and all(("Not shown separately" in labels) == rest for rest, labels in bars)
        assert any(rest for rest, _ in bars)  # the fixture school has banded shares
        rest_columns = page.locator("#items-h ~ .chart-grid th", has_text="Not shown separately")
        assert rest_columns.count() == sum(rest for rest, _ in bars)  # same number in tables
        assert page.locator("#print-report").is_visible()
        assert csp_violations(page) == []
        k = 10
        texts = suppressed_texts(page)
        assert texts and all(not re.search(r"\d", t.replace(f"fewer than {k}", ""))
                             for t in texts)
        assert page.locator("tr.is-suppressed", has_text="Class 8A").count() >= 1
        assert axe_violations(page) == []
        screenshot(page, "dashboard-leader")
    finally:
        context.close()


def test_without_javascript_the_tables_stand_alone(chromium, live_server, world, waves):
    context, page = logged_in(chromium, live_server, world["leader"],
                              java_script_enabled=False)
    try:
        page.goto(f"{live_server.url}/waves/{waves[-1].public_id}/dashboard/")
        assert page.locator("canvas").count() == 0
        assert page.locator("[data-chart]").first.is_hidden()
        assert page.locator("#print-report").is_hidden()  # printing needs the browser menu
        assert page.locator("table.data").count() >= 8
        assert page.locator("#equity-table tbody tr").count() > 0
        screenshot(page, "dashboard-leader-no-javascript")
    finally:
        context.close()


def test_the_printed_report_has_pages_no_navigation_and_the_same_suppression(
        chromium, live_server, world, waves):
    context, page = logged_in(chromium, live_server, world["leader"])
    try:
        page.goto(f"{live_server.url}/waves/{waves[-1].public_id}/dashboard/")
        shown = page.locator("tr.is-suppressed").count()
        page.emulate_media(media="print")
        assert page.locator("header.top").is_hidden()
        assert page.locator("nav.toc").is_hidden()
        assert page.locator("#print-report").is_hidden()
        assert page.locator("tr.is-suppressed").count() == shown
        assert drawn_charts(page) >= 6
        breaks = page.evaluate("""() => Array.from(document.querySelectorAll(
            'section.report-section')).map((s) => getComputedStyle(s).breakBefore)""")
        assert breaks[0] == "auto" and set(breaks[1:]) == {"page"}
        screenshot(page, "dashboard-leader-print")
        ARTIFACTS.mkdir(exist_ok=True)
        pdf = page.pdf(path=str(ARTIFACTS / "dashboard-report.pdf"), format="A4",
                       print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages >= len(breaks), pages
        assert b"%PDF" in pdf[:8]
    finally:
        context.close()


def test_the_teacher_sees_only_their_own_class(chromium, live_server, world, wave1):
    context, page = logged_in(chromium, live_server, world["teacher"])
    try:
        page.goto(f"{live_server.url}/")
        page.get_by_role("link", name="Published results and dashboards").click()
        page.get_by_role("link", name=f"Dashboard for {wave1[-1].label}").click()
        page.wait_for_url(f"**/waves/{wave1[-1].public_id}/dashboard/")
        body = page.locator("main").inner_text()
        assert "You see the published results of the classes you teach" in body
        for hidden in ("Class 7B", "Class 8A", "Whole school", "Year 7", "Gender: girl",
                       "Equity", "Trends across waves", "Suggested practices"):
            assert hidden not in body, hidden
        assert page.locator("table.breakdown tbody tr").count() == 1
        assert "Class 7A" in page.locator("table.breakdown").inner_text()
        assert csp_violations(page) == []
        assert axe_violations(page) == []
        screenshot(page, "dashboard-teacher")
    finally:
        context.close()


def test_the_district_admin_sees_schools_side_by_side(chromium, live_server, world, wave1):
    context, page = logged_in(chromium, live_server, world["district_admin"])
    try:
        page.goto(f"{live_server.url}/districts/{world['district'].public_id}/")
        page.get_by_role("link", name="Schools side by side: published results").click()
        page.wait_for_url("**/results/")
        table = page.locator("table.district")
        assert "Hilltop" in table.inner_text() and wave1[-1].label in table.inner_text()
        assert "Lakeside" not in table.inner_text()  # nothing published there
        assert page.locator("#not-yet").inner_text() == "No published results yet: Lakeside."
        assert drawn_charts(page) == 4
        assert csp_violations(page) == []
        assert axe_violations(page) == []
        screenshot(page, "dashboard-district")
        table.get_by_role("link", name="Hilltop").click()
        page.wait_for_url(f"**/waves/{wave1[-1].public_id}/dashboard/")
        assert page.locator(".components article").count() == 4
        assert axe_violations(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("persona", ["researcher", "other_leader"])
def test_other_roles_see_no_dashboard(chromium, live_server, world, wave1, persona):
    context, page = logged_in(chromium, live_server, world[persona])
    try:
        for url in (f"/waves/{wave1[-1].public_id}/dashboard/",
                    f"/districts/{world['district'].public_id}/results/"):
            response = page.goto(live_server.url + url)
            assert response.status == 404
            assert "Hilltop" not in page.locator("body").inner_text()
        page.goto(f"{live_server.url}/results/")
        assert "No published results are visible to you yet." in page.locator("main").inner_text()
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_district_wide_wave_district_level_and_a_schools_part(chromium, live_server, world):
    wave = publish_district_wave(world)
    context, page = logged_in(chromium, live_server, world["district_admin"])
    try:
        page.goto(f"{live_server.url}/waves/{wave.public_id}/dashboard/")
        assert page.get_by_role(
            "heading", name="Equity: each group's gap to the whole district").count() == 1
        assert page.locator("table.breakdown[data-kind='school']").count() == 1
        assert drawn_charts(page) >= 2
        assert set(equity_axes(page)) == {"Gap to the district mean"}
        assert csp_violations(page) == []
        assert axe_violations(page) == []
        screenshot(page, "dashboard-district-level")
        page.get_by_role("link", name="Hilltop").first.click()
        page.wait_for_url(f"**?school={world['school'].public_id}")
        assert "Hilltop (its part of a district-wide wave)" in page.locator("main").inner_text()
        assert axe_violations(page) == []
        page.goto(f"{live_server.url}/districts/{world['district'].public_id}/results/")
        assert page.locator("tr.district-row", has_text="Whole district").count() == 1
        assert axe_violations(page) == []
        screenshot(page, "dashboard-district-wide-table")
    finally:
        context.close()
    context, page = logged_in(chromium, live_server, world["other_leader"])
    try:
        page.goto(f"{live_server.url}/waves/{wave.public_id}/dashboard/")
        body = page.locator("main").inner_text()
        assert "Lakeside (its part of a district-wide wave)" in body and "Hilltop" not in body
        response = page.goto(f"{live_server.url}/waves/{wave.public_id}/dashboard/"
                             f"?school={world['school'].public_id}")
        assert response.status == 404
    finally:
        context.close()


def copy_parts(wave, count):
    """`count` more schools in the wave's district, each showing a copy of a published
    part (under its own school) in the wave's snapshot: a district of many schools
    without publishing them."""
    snapshot = Snapshot.objects.filter(wave=wave).order_by("-version").first()
    parts, copies = list(snapshot.parts.all()), []
    for i in range(count):
        model = parts[i % len(parts)]
        school = School.objects.create(district=wave.series.district, name=f"Copy {i:02d}")
        copies.append(SnapshotPart(wave=wave, school=school, fingerprint=f"copy{i}",
                                   data=model.data, published=model.published,
                                   relations=model.relations, summary=model.summary))
    snapshot.parts.add(*SnapshotPart.objects.bulk_create(copies))


def test_a_district_of_many_schools_ranks_them_in_one_wide_chart(chromium, live_server, world):
    wave = publish_district_wave(world)
    copy_parts(wave, 30)
    context, page = logged_in(chromium, live_server, world["district_admin"])
    try:
        page.goto(f"{live_server.url}/districts/{world['district'].public_id}/results/")
        rows = page.locator("table.district tbody tr")
        assert rows.count() == 1 + 2 + 30  # the district, Hilltop, Lakeside, the copies
        drawn = page.evaluate("""() => Array.from(document.querySelectorAll(
            '[data-chart=district] canvas')).map((canvas) => {
              const chart = Chart.getChart(canvas);
              return {axis: chart.config.options.indexAxis, labels: chart.data.labels,
                      values: chart.data.datasets[0].data,
                      ranked: canvas.parentNode.classList.contains('chart-ranked'),
                      wide: canvas.closest('figure').classList.contains('wide'),
                      label: canvas.getAttribute('aria-label')};
            })""")
        assert drawn
        for chart in drawn:
            assert chart["axis"] == "x" and chart["ranked"] and chart["wide"]
            assert chart["values"] == sorted(chart["values"])
            # The whole district is among them where it shows this score (tie-breaks by
            # random ids decide whether a district score is hidden: see above).
            assert len([x for x in chart["labels"] if x != "Whole district"]) == 32
            assert "ranked from the lowest to the highest" in chart["label"]
        # Sorted by a component's mean, lowest first, then highest first; the whole
        # district's row stays first and the schools are all still there.
        header = page.locator("table.district th", has_text="Perceptions")
        for order in ("ascending", "descending"):
            header.get_by_role("button").click()
            assert header.get_attribute("aria-sort") == order
            assert rows.first.get_attribute("data-school") == "district"
            shown = column_values(page, "Perceptions")
            assert len(shown) == 32
            assert shown == sorted(shown, reverse=order == "descending")
        page.emulate_media(media="print")  # the sorted headers print, their buttons do not
        assert header.get_by_role("button").is_visible()
        assert not page.locator("#print-report").is_visible()
        page.emulate_media(media="screen")
        assert csp_violations(page) == []
        assert axe_violations(page) == []
        screenshot(page, "dashboard-district-many-schools")
    finally:
        context.close()
