"""The dashboards as each role gets them (server-rendered HTML, no browser): what is and
is not there, that every number comes from the published snapshot, that a hidden group
shows no number, and that pages stay CSP-clean (no inline code or styles)."""

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import dashboards, practices
from analytics.models import Snapshot
from tests.analytics.dashboard_seed import publish_core_waves, publish_district_wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def waves(world):
    """Two published waves (trends, change)."""
    return publish_core_waves(world)


@pytest.fixture
def wave1(world):
    """One published wave, for what does not need an earlier one (half the publishing)."""
    return publish_core_waves(world, count=1)


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    return response.status_code, response.content.decode()


def snapshot_of(wave):
    return Snapshot.objects.filter(wave=wave).order_by("-version").first().data


class Rows(HTMLParser):
    """Table rows by their data-group attribute: the text of their <td> cells."""

    def __init__(self):
        super().__init__()
        self.rows, self.current, self.in_td = [], None, False
        self.scripts, self.inline_styles, self.handlers = [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.inline_styles += "style" in attrs
        self.handlers += any(name.startswith("on") for name in attrs)
        if tag == "script":
            self.scripts.append(attrs)
        if tag == "tr" and "data-group" in attrs:
            self.current = {"group": attrs["data-group"], "cls": attrs.get("class", ""),
                            "cells": ""}
            self.rows.append(self.current)
        self.in_td = self.in_td or (tag == "td" and self.current is not None)

    def handle_endtag(self, tag):
        if tag == "td":
            self.in_td = False
        if tag == "tr":
            self.current = None

    def handle_data(self, data):
        if self.in_td and self.current is not None:
            self.current["cells"] += data


def parse(html):
    parser = Rows()
    parser.feed(html)
    return parser


def dashboard_url(wave):
    return f"/waves/{wave.public_id}/dashboard/"


def test_the_leader_sees_cards_trends_equity_items_participation_and_practices(
        client, world, waves):
    status, html = page(client, world["leader"], dashboard_url(waves[-1]))
    assert status == 200
    data = snapshot_of(waves[-1])
    school = next(g for g in data["groups"] if g["key"] == "school")
    for section in ("components-h", "trends-h", "breakdown-h", "equity-h", "items-h",
                    "practices-h", "favorable-def", "participation", "caution-def"):
        assert f'id="{section}"' in html
    for comp in ("perceptions", "competencies", "motivations", "opportunities"):
        assert school["components"][comp]["display"] in html
    assert f"{data['participation']['responses']} responses from " \
           f"{data['participation']['enrolment']} enrolled students" in html
    assert "Change since Spring 2026" in html
    assert "Hilltop" in html and "district-wide" not in html
    assert "% favorable is the share of valid answers" in html
    # Trends list both published waves, oldest first.
    assert html.index("<th scope=\"row\">Spring 2026</th>") < \
        html.index("<th scope=\"row\">Autumn 2026</th>")


def test_a_hidden_group_shows_no_number_anywhere_on_the_page(client, world, wave1):
    data = snapshot_of(wave1[-1])
    hidden = [g["key"] for g in data["groups"] if g["suppressed"]]
    assert "class:" + world["classes"]["8A"].public_id in hidden  # 4 answers < k
    _, html = page(client, world["leader"], dashboard_url(wave1[-1]))
    rows = [r for r in parse(html).rows if r["group"] in hidden]
    assert len(rows) >= 2 * len(hidden)  # in the breakdowns and in the equity view
    for row in rows:
        assert "is-suppressed" in row["cls"]
        assert "Not shown" in row["cells"]
        assert not re.search(r"\d", row["cells"].replace(f"fewer than {data['k']}", "")), row


def test_the_equity_gap_is_the_difference_of_two_published_means(client, world, wave1):
    data = snapshot_of(wave1[-1])
    school = next(g for g in data["groups"] if g["key"] == "school")
    comps = dashboards.measured_components(data)
    view = dashboards.equity(data["groups"], school, comps)
    checked = 0
    for row in view["rows"]:
        for comp, cell in zip(comps, row["cells"], strict=True):
            published = dashboards.component_cell(row["group"], comp["key"])
            if published is None:
                assert cell is None  # hidden wherever the group's cell is not published
                continue
            expected = round(published["value"] - school["components"][comp["key"]]["value"], 2)
            assert cell["diff"] == expected
            assert cell["ci"][0] <= cell["diff"] <= cell["ci"][1]
            checked += 1
    assert checked > 0


def test_the_gap_of_a_group_that_is_the_whole_school_is_zero_with_no_spread():
    cell = {"value": 3.1, "sd": 0.7, "n": 40}
    assert dashboards.gap(cell, dict(cell)) == {"diff": 0.0, "ci": [0.0, 0.0], "clear": False}


def test_the_gap_interval_allows_for_the_group_being_part_of_the_school():
    group, school = {"value": 3.5, "sd": 1.0, "n": 20}, {"value": 3.0, "sd": 1.0, "n": 100}
    result = dashboards.gap(group, school)
    # Var = 1/20 + 1/100 - 2/100 = 0.04 -> half-width 1.96 * 0.2 = 0.392
    assert result["ci"] == [round(0.5 - 0.392, 2), round(0.5 + 0.392, 2)]
    assert result["clear"] is True


COMPS = [{"key": k, "component": k, "validated": True, "lo": 1, "hi": hi, "items": ["x"]}
         for k, hi in (("perceptions", 4), ("competencies", 5), ("motivations", 7),
                       ("opportunities", 4))]


def school_with(values, favorable):
    return {"key": "school", "suppressed": False, "components": {
        c["key"]: {"value": v, "favorable": f} for c, v, f in zip(COMPS, values, favorable,
                                                                   strict=True)}}


def test_the_weakest_component_is_the_lowest_published_favorable_share():
    school = school_with([3.0, 4.0, 6.0, 3.5], [70, 55, 60, 80])
    weakest = dashboards.weakest_component(school, COMPS)
    assert (weakest["key"], weakest["basis"]) == ("competencies", "favorable")


def test_without_every_favorable_share_the_mean_is_placed_on_its_own_scale():
    # Raw means would pick perceptions (2.5); on their scales motivations (3 of 1-7) is lowest.
    school = school_with([2.5, 3.0, 3.0, 3.0], [60, None, 50, 70])
    weakest = dashboards.weakest_component(school, COMPS)
    assert (weakest["key"], weakest["basis"]) == ("motivations", "scale")
    assert weakest["values"]["motivations"] == 33


def test_no_component_is_called_weakest_when_one_is_hidden():
    school = school_with([3.0, 4.0, 6.0, 3.5], [70, 55, 60, 80])
    school["components"]["opportunities"]["value"] = None
    assert dashboards.weakest_component(school, COMPS) is None


def test_the_practices_shown_are_those_of_the_weakest_component_with_sources(
        client, world, wave1):
    data = snapshot_of(wave1[-1])
    school = next(g for g in data["groups"] if g["key"] == "school")
    weakest = dashboards.weakest_component(school, dashboards.measured_components(data))
    _, html = page(client, world["leader"], dashboard_url(wave1[-1]))
    suggested = practices.for_component(weakest["key"])
    assert f"Suggested practices: {weakest['key']}" in html
    for practice in suggested["practices"]:
        assert practice["title"] in html
    for ref in suggested["references"]:
        assert ref["full"].split("(")[0].strip().replace("&", "&amp;") in html


def test_every_practice_cites_a_known_source():
    doc = practices.load()
    for comp in ("perceptions", "competencies", "motivations", "opportunities"):
        entry = practices.for_component(comp)
        assert entry["practices"] and entry["references"]
        assert all(p["sources"] for p in doc["components"][comp]["practices"])


def test_a_practice_without_a_source_is_refused():
    doc = {"references": {"a": {"short": "A 2020", "full": "A. (2020). T."}},
           "components": {c: {"meaning": "m", "practices": [{"title": "t", "text": "x",
                                                              "sources": ["a"]}]}
                          for c in ("perceptions", "competencies", "motivations",
                                    "opportunities")}}
    practices.check(doc)
    doc["components"]["motivations"]["practices"][0]["sources"] = []
    with pytest.raises(practices.PracticesError, match="motivations"):
        practices.check(doc)


def test_the_teacher_sees_only_the_classes_they_teach(client, world, wave1):
    status, html = page(client, world["teacher"], dashboard_url(wave1[-1]))
    assert status == 200
    data = snapshot_of(wave1[-1])
    own = "class:" + world["classes"]["7A"].public_id
    groups = {r["group"] for r in parse(html).rows}
    assert groups == {own}
    for other in ("Class 7B", "Class 8A", "Whole school", "Year 7", "Gender: girl"):
        assert other not in html
    for section in ("components-h", "trends-h", "equity-h", "practices-h", "participation"):
        assert f'id="{section}"' not in html
    assert f"{data['participation']['enrolment']} enrolled" not in html


def test_the_teacher_cannot_pick_another_class_for_the_item_chart(client, world, wave1):
    other = "class:" + world["classes"]["7B"].public_id
    _, html = page(client, world["teacher"], dashboard_url(wave1[-1]) + f"?group={other}")
    assert "Class 7B" not in html


@pytest.mark.parametrize("persona", ["researcher", "other_leader"])
def test_other_roles_get_404(client, world, wave1, persona):
    status, _ = page(client, world[persona], dashboard_url(wave1[-1]))
    assert status == 404


def test_chart_data_travels_as_json_and_pages_carry_no_inline_code(client, world, waves):
    _, html = page(client, world["leader"], dashboard_url(waves[-1]))
    parsed = parse(html)
    assert parsed.inline_styles == 0 and parsed.handlers == 0
    for attrs in parsed.scripts:
        assert attrs.get("src") or attrs.get("type") == "application/json", attrs
    charts = json.loads(re.search(
        r'<script id="dashboard-charts" type="application/json">(.*?)</script>', html,
        re.S).group(1))
    assert {t["id"] for t in charts["trends"]} == {f"trend-{c}" for c in
                                                     ("perceptions", "competencies",
                                                      "motivations", "opportunities")}
    assert all(len(t["values"]) == 2 for t in charts["trends"])
    assert 'media="print"' in html and "css/print.css" in html
    assert 'id="print-report"' in html and "vendor/chartjs/chart.umd.min.js" in html


def page_queries(client, url):
    """Queries of a GET rendering the page (the page cache emptied first), then of a GET
    served from the page cache."""
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as miss:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as hit:
        assert client.get(url).status_code == 200
    return len(miss), len(hit)


def test_the_dashboard_query_count_does_not_grow_with_waves(client, world):
    waves = publish_core_waves(world, count=1)
    client.force_login(world["leader"])
    client.get(dashboard_url(waves[0]))  # warm the session and caches
    one = page_queries(client, dashboard_url(waves[0]))
    more = publish_core_waves(world, count=2, seed=3)
    two = page_queries(client, dashboard_url(more[-1]))
    assert two == one
    assert one[1] < one[0]  # the cached page reads no document


def test_the_district_admin_sees_schools_side_by_side(client, world, wave1):
    url = f"/districts/{world['district'].public_id}/results/"
    status, html = page(client, world["district_admin"], url)
    assert status == 200
    data = snapshot_of(wave1[-1])
    school = next(g for g in data["groups"] if g["key"] == "school")
    assert "Hilltop" in html and wave1[-1].label in html
    assert school["components"]["motivations"]["display"] in html
    assert "No published results yet: Lakeside." in html
    assert 'data-school="' + world["other_school"].public_id not in html
    for persona in ("leader", "teacher", "researcher", "other_leader"):
        assert page(client, world[persona], url)[0] == 404


def test_each_role_finds_its_dashboards_on_the_results_page(client, world, wave1):
    for persona in ("leader", "teacher", "district_admin"):
        _, html = page(client, world[persona], "/results/")
        assert dashboard_url(wave1[-1]) in html
    for persona in ("researcher", "other_leader"):
        _, html = page(client, world[persona], "/results/")
        assert dashboard_url(wave1[-1]) not in html


@pytest.fixture
def district_wave(world):
    return publish_district_wave(world)


def test_a_district_wide_wave_shows_the_district_level_to_the_district_admin(
        client, world, district_wave):
    status, html = page(client, world["district_admin"], dashboard_url(district_wave))
    assert status == 200
    data = snapshot_of(district_wave)
    top = next(g for g in data["groups"] if g["key"] == "district")
    assert "Whole district" in html and "By school" in html
    assert top["components"]["perceptions"]["display"] in html
    assert "gap to the whole district" in html.lower()
    assert f"?school={world['school'].public_id}" in html


def test_a_leader_sees_only_their_schools_part_of_a_district_wide_wave(
        client, world, district_wave):
    status, html = page(client, world["leader"], dashboard_url(district_wave))
    assert status == 200
    assert "Hilltop (its part of a district-wide wave)" in html
    assert "Whole school" in html and "Whole district" not in html and "Class 9Z" not in html
    part = Snapshot.objects.get(wave=district_wave).part_for(world["school"]).data
    school = next(g for g in part["groups"] if g["key"] == "school")
    trend = re.search(r'id="trend-table-perceptions">(.*?)</table>', html, re.S).group(1)
    assert "Autumn 2026" in trend and school["components"]["perceptions"]["display"] in trend
    other = dashboard_url(district_wave) + f"?school={world['other_school'].public_id}"
    assert page(client, world["leader"], other)[0] == 404
    status, html = page(client, world["teacher"], dashboard_url(district_wave))
    assert status == 200
    assert {r["group"] for r in parse(html).rows} == {
        "class:" + world["classes"]["7A"].public_id}


def test_the_district_page_puts_each_schools_part_beside_the_district_row(
        client, world, district_wave):
    url = f"/districts/{world['district'].public_id}/results/"
    status, html = page(client, world["district_admin"], url)
    assert status == 200
    snap = Snapshot.objects.filter(wave=district_wave).order_by("-version").first()
    for part in snap.parts.select_related("school"):
        school = next(g for g in part.data["groups"] if g["key"] == "school")
        assert f'data-school="{part.school.public_id}"' in html
        if not school["suppressed"]:
            assert school["components"]["perceptions"]["display"] in html
    assert 'data-school="district"' in html and "Whole district" in html
    charts = json.loads(re.search(
        r'<script id="dashboard-charts" type="application/json">(.*?)</script>', html,
        re.S).group(1))
    assert charts["district"][0]["groups"][0] == "Whole district"


def test_the_item_answers_can_be_shown_for_a_published_group_only(client, world, wave1):
    data = snapshot_of(wave1[-1])
    shown = next(g for g in data["groups"] if g["kind"] == "class" and not g["suppressed"])
    hidden = "class:" + world["classes"]["8A"].public_id
    _, html = page(client, world["leader"], dashboard_url(wave1[-1]) + f"?group={shown['key']}")
    assert f"Shares of answers for <strong>{shown['label']}</strong>" in html
    _, html = page(client, world["leader"], dashboard_url(wave1[-1]) + f"?group={hidden}")
    assert "Shares of answers for <strong>Whole school</strong>" in html


def test_district_wide_waves_are_listed_for_the_schools_they_cover(client, world, district_wave):
    for persona in ("leader", "teacher", "district_admin", "other_leader"):
        _, html = page(client, world[persona], "/results/")
        assert dashboard_url(district_wave) in html, persona
        assert "Riverside (district-wide)" in html
    _, html = page(client, world["researcher"], "/results/")
    assert dashboard_url(district_wave) not in html


ITEM = {"key": "q1", "text": {"en": "I feel like I belong at school."}, "lo": 1, "hi": 4,
        "labels": {"en": ["Strongly disagree", "Disagree", "Agree", "Strongly agree"]},
        "reverse_keyed": False}
DOC = {"components": [{"key": "perceptions", "component": "perceptions", "validated": True,
                       "lo": 1, "hi": 4, "items": ["q1"]}], "items": [ITEM]}


def test_a_banded_share_is_listed_as_its_band_and_not_drawn():
    options = {"1": {"value": None, "display": "5% or less"}, "2": {"value": 20,
                                                                 "display": "20%"},
               "3": {"value": 45, "display": "45%"}, "4": None}
    group = {"key": "school", "suppressed": False,
             "items": {"q1": {"options": options, "favorable": {"display": "77%"}}}}
    dist = dashboards.item_distributions(DOC, group)
    shares = dist[0]["rows"][0]["shares"]
    assert [s["display"] for s in shares] == ["5% or less", "20%", "45%", None]
    chart = dashboards.chart_data([], None, dist)["items"][0]
    assert chart["shares"] == [[None], [20], [45], [None]]  # nothing drawn for 1 and 4


def test_a_trend_point_is_hidden_where_a_wave_did_not_publish_the_group():
    def doc(label, cell):
        return {"wave": {"label": label, "season": "autumn"}, "groups": [
            {"key": "school", "suppressed": False, "components": {"perceptions": cell}}]}
    shown = {"value": 2.9, "display": "2.90", "ci95": 0.1, "n": 40, "favorable": 70}
    hidden = {"value": None, "display": None}
    rows = dashboards.trends([doc("A", shown), doc("B", hidden)], DOC["components"])
    first, second = rows[0]["points"]
    assert first["ci"] == [2.8, 3.0] and first["display"] == "2.90"
    assert second == {"wave": "B", "season": "autumn", "hidden": True}
    assert dashboards.chart_data(rows, None, [])["trends"][0]["values"] == [2.9, None]


def test_the_district_page_query_count_does_not_grow_with_schools(client, world, wave1):
    from datetime import date

    from analytics.publishing import publish
    from surveys import services
    from tests.analytics.dashboard_seed import answer

    url = f"/districts/{world['district'].public_id}/results/"
    client.force_login(world["district_admin"])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    other = {"leader": world["other_leader"], "school": world["other_school"],
             "classes": {"7A": world["other_class"]}}
    series = services.create_series(world["other_school"], by=world["other_leader"],
                                    name="Pulse", instrument=world["instrument"],
                                    demographics=["gender"])
    wave = services.create_wave(series, by=world["other_leader"], label="Autumn",
                                season="autumn", starts_on=date(2026, 10, 1))
    wave = services.open_wave(wave, by=world["other_leader"])
    answer(wave, other, np.random.default_rng(1), 0.0, sizes={"7A": 25})
    services.close_wave(wave, by=world["other_leader"])
    publish(wave.id)
    with CaptureQueriesContext(connection) as two:
        html = client.get(url).content.decode()
    assert 'data-school="' + world["other_school"].public_id in html
    assert len(two) == len(one)


def test_when_the_whole_school_is_hidden_no_gap_and_no_weakest_component_appear():
    school = {"key": "school", "suppressed": True, "reason": "fewer than 10 respondents"}
    group = {"key": "year:7", "suppressed": False, "caution": False, "components": {
        c["key"]: {"value": 3.0, "display": "3.00", "sd": 0.5, "n": 12} for c in COMPS}}
    view = dashboards.equity([school, group], school, COMPS)
    assert [r["cells"] for r in view["rows"]] == [[None] * 4]
    assert view["rows"][0]["hidden"]
    assert dashboards.weakest_component(school, COMPS) is None
    assert dashboards.participation({"participation": {"enrolment": 30,
                                                       "responses": None}}) is None


def test_the_teacher_sees_their_class_cards_with_its_published_change(client, world, waves):
    from analytics.templatetags.dashboard import signed

    data = snapshot_of(waves[-1])
    own = "class:" + world["classes"]["7A"].public_id
    group = next(g for g in data["groups"] if g["key"] == own)
    _, html = page(client, world["teacher"], dashboard_url(waves[-1]))
    cards = re.search(r'<section class="report-section" aria-labelledby="own-h">(.*?)</section>',
                      html, re.S).group(1)
    assert "Class 7A" in cards
    for cell in group["components"].values():
        assert cell["display"] in cards
    published = data["change"]["groups"][own]  # 7A is shown in both waves
    assert published
    for change in published.values():
        assert f"95% CI {signed(change['ci'][0])} to {signed(change['ci'][1])}" in cards
    for key, changes in data["change"]["groups"].items():
        if key != own:
            for change in changes.values():
                assert f"95% CI {signed(change['ci'][0])} to {signed(change['ci'][1])}" \
                    not in cards or change["ci"] in [c["ci"] for c in published.values()]
