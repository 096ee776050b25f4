"""The dashboard of the later of two published core waves: trends over both, the change
since the earlier one (the teacher's class cards too), chart data as JSON. The two waves
are published once for the module and only read by its tests (conftest.module_rows)."""

import json
import re

import pytest

from tests.analytics.dashboard_pages import (
    dashboard_url,
    page,
    parse,
    shared_publication,
    snapshot_of,
)
from tests.analytics.dashboard_seed import publish_core_waves

pytestmark = pytest.mark.django_db


# Two published waves (trends, change).
published, world, waves = shared_publication(publish_core_waves, "waves")


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
