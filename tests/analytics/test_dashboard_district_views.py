"""A district-wide wave's dashboards: the district level for the district admin, each
school's part for its leader and teachers, the district page and the results lists. The
wave is published once for the module and only read by its tests (conftest.module_rows)."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import Snapshot, summary_of
from tests.analytics.dashboard_pages import (
    dashboard_url,
    page,
    parse,
    shared_publication,
    snapshot_of,
)
from tests.analytics.dashboard_seed import publish_district_wave

pytestmark = pytest.mark.django_db


published, world, district_wave = shared_publication(publish_district_wave, "district_wave")


def test_a_district_wide_wave_shows_the_district_level_to_the_district_admin(
        client, world, district_wave):
    status, html = page(client, world["district_admin"], dashboard_url(district_wave))
    assert status == 200
    data = snapshot_of(district_wave)
    top = next(g for g in data["groups"] if g["key"] == "district")
    assert "Whole district" in html and "By school" in html
    # A component score can be hidden where it would pin a part's band through its
    # items (docs/design.md; which one, or all, depends on tie-breaks between equally
    # good cells, by random ids): the scores shown are on the page, the others marked.
    shown = [c["display"] for c in top["components"].values() if c["display"]]
    assert all(display in html for display in shown)
    if len(shown) < len(top["components"]):
        assert "Not shown" in html
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
    # The district row leads every chart that has it: those of the scores it shows.
    top = next(g for g in snap.data["groups"] if g["key"] == "district")
    with_district = [c for c in charts["district"] if "Whole district" in c["groups"]]
    assert all(c["groups"][0] == "Whole district" for c in with_district)
    assert bool(with_district) == any(c["display"] for c in top["components"].values())


def test_district_wide_waves_are_listed_for_the_schools_they_cover(client, world, district_wave):
    for persona in ("leader", "teacher", "district_admin", "other_leader"):
        _, html = page(client, world[persona], "/results/")
        assert dashboard_url(district_wave) in html, persona
        assert "Riverside (district-wide)" in html
    _, html = page(client, world["researcher"], "/results/")
    assert dashboard_url(district_wave) not in html


def test_the_district_page_reads_each_documents_summary_not_the_document(
        client, world, district_wave):
    """At 500 schools the page parses 500 summaries of a few KB, not 500 documents of a
    few hundred KB each (docs/performance.md, "The district page")."""
    snap = Snapshot.objects.filter(wave=district_wave).order_by("-version").first()
    for doc in [snap, *snap.parts.all()]:
        assert doc.summary == summary_of(doc.data)
        assert [g["key"] for g in doc.summary["groups"]] in (["school"], ["district"])
    client.force_login(world["district_admin"])
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/districts/{world['district'].public_id}/results/").status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if '"analytics_snapshot' in q["sql"]]
    assert len(reads) >= 3
    assert not any('."data"' in sql or '."published"' in sql for sql in reads)
