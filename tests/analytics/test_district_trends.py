"""Trends of a district-wide series across two published waves: a school's part of the
newer wave shows that school's trend, read from its parts of the earlier waves
(SnapshotPart), with the same suppression (a wave whose part hid the school shows no
number); the district level shows the district's trend."""

import json
import re
import uuid
from datetime import date

import numpy as np
import pytest
from django.core.cache import cache

from analytics.models import Snapshot
from analytics.publishing import publish
from analytics.simulate import simulate_wave
from surveys import services
from surveys.instruments import load_file
from surveys.models import ClassGroup, Response, School
from tests.analytics.dashboard_seed import item_specs

from ..conftest import INSTRUMENTS, Role, build_world, fresh, make_user

pytestmark = pytest.mark.django_db

# Per wave, responses per class: Brookside is under k (10) in the first wave, so its
# part hides its whole-school row there; with Creekside also small, the two together
# hold 15, so the district total is still shown (test_district_published).
WAVES = [("Autumn 2026", "autumn", date(2026, 10, 1), 0.0,
          {"7A": 24, "7B": 22, "8A": 3, "9Z": 25, "B1": 6, "C1": 9}),
         ("Spring 2027", "spring", date(2027, 3, 15), 0.5,
          {"7A": 25, "7B": 21, "8A": 4, "9Z": 22, "B1": 12, "C1": 11})]


def classes(world):
    found = {**world["classes"], "9Z": world["other_class"]}
    for name in ("Brookside", "Creekside"):
        school = School.objects.create(district=world["district"], name=name)
        found[f"{name[0]}1"] = ClassGroup.objects.create(school=school, name=f"{name[0]}1",
                                                         year_level=7, enrolment=20)
    return found


def field(wave, by, sizes, rng, shift):
    specs = item_specs(wave.series.instrument)
    rows = []
    for cg, n in sizes:
        session = services.open_session(wave, cg, by=by)
        for i, values in enumerate(simulate_wave(specs, n, rng=rng, latent_shift=shift)):
            rows.append(Response(client_id=uuid.uuid4(), wave=wave, session=session,
                                 class_group=cg, school=cg.school, year_level=cg.year_level,
                                 gender="girl" if i % 2 else "boy",
                                 **{f"v{j + 1:02d}": None if np.isnan(v) else int(v)
                                    for j, v in enumerate(values)}))
    Response.objects.bulk_create(rows)


@pytest.fixture(scope="module")
def published(module_rows):
    """The world and the two published waves, built and published once for this module
    (every test here only reads them): conftest.module_rows."""
    with module_rows():
        world = build_world(load_file(INSTRUMENTS / "belonging-pulse-1.0.yaml"))
        return world, publish_two_waves(world)


@pytest.fixture
def world(db, published):
    cache.clear()  # no page rendered by an earlier test of the same rows is served
    return fresh(published[0])


@pytest.fixture
def two_waves(db, published):
    return fresh(published[1])


def publish_two_waves(world):
    admin, by_name = world["district_admin"], classes(world)
    series = services.create_district_series(world["district"], by=admin, name="District pulse",
                                             instrument=world["instrument"],
                                             demographics=["gender"])
    rng = np.random.default_rng(7)
    waves = []
    for label, season, starts_on, shift, sizes in WAVES:
        wave = services.create_wave(series, by=admin, label=label, season=season,
                                    starts_on=starts_on)
        wave = services.open_wave(wave, by=admin)
        field(wave, admin, [(by_name[c], n) for c, n in sizes.items()], rng, shift)
        services.close_wave(wave, by=admin)
        publish(wave.id)
        wave.refresh_from_db()
        waves.append(wave)
    return waves


def trend_rows(html, key):
    """{wave label: the first cell's text} of one component's trend table."""
    table = re.search(rf'id="trend-table-{key}">(.*?)</table>', html, re.S).group(1)
    return dict(re.findall(r'<th scope="row">([^<]+)</th>\s*<td[^>]*>([^<]*)</td>', table))


def top_cell(data, key, comp):
    group = next(g for g in data["groups"] if g["key"] == key)
    return None if group.get("suppressed") else group["components"][comp]


def part_data(wave, school):
    return Snapshot.objects.filter(wave=wave).order_by("-version").first().part_for(school).data


def dashboard(client, user, wave, school=None):
    client.force_login(user)
    query = f"?school={school.public_id}" if school else ""
    response = client.get(f"/waves/{wave.public_id}/dashboard/{query}")
    assert response.status_code == 200
    return response.content.decode()


def charts(html):
    return json.loads(re.search(r'<script id="dashboard-charts" type="application/json">(.*?)'
                                r'</script>', html, re.S).group(1))


def test_a_schools_part_shows_that_schools_trend_across_the_district_waves(
        client, world, two_waves):
    first, second = two_waves
    html = dashboard(client, world["leader"], second)
    comps = [c["key"] for c in second.snapshots.first().data["components"] if c.get("items")]
    assert comps
    for comp in comps:
        rows = trend_rows(html, comp)
        expected = {w.label: top_cell(part_data(w, world["school"]), "school", comp)["display"]
                    for w in two_waves}
        assert rows == expected, comp
        # Hilltop's own numbers: neither the district's nor another school's.
        district = top_cell(second.snapshots.first().data, "district", comp)
        assert district["display"] != expected["Spring 2027"]
    assert "different seasons" in html
    trend = next(c for c in charts(html)["trends"] if c["id"] == f"trend-{comps[0]}")
    assert trend["waves"] == ["Autumn 2026", "Spring 2027"]
    assert trend["values"] == [top_cell(part_data(w, world["school"]), "school",
                                        comps[0])["value"] for w in two_waves]
    # The district admin looking at Hilltop's part sees the same trend.
    admin_view = dashboard(client, world["district_admin"], second, world["school"])
    assert trend_rows(admin_view, comps[0]) == trend_rows(html, comps[0])


def test_a_wave_that_hid_the_school_shows_no_number_in_its_trend(client, world, two_waves):
    first, second = two_waves
    brookside = School.objects.get(name="Brookside")
    assert next(g for g in part_data(first, brookside)["groups"]
                if g["key"] == "school")["suppressed"]
    html = dashboard(client, make_user("brook_leader", Role.LEADER, school=brookside), second)
    comp = next(c["key"] for c in second.snapshots.first().data["components"] if c.get("items"))
    table = re.search(rf'id="trend-table-{comp}">(.*?)</table>', html, re.S).group(1)
    hidden_row = re.search(r'Autumn 2026</th>(.*?)</tr>', table, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", hidden_row)
    assert "not published" in text and not re.search(r"\d", text)
    assert trend_rows(html, comp)["Spring 2027"] == top_cell(
        part_data(second, brookside), "school", comp)["display"]
    trend = next(c for c in charts(html)["trends"] if c["id"] == f"trend-{comp}")
    assert trend["values"][0] is None and trend["ci"][0] is None
    # Hilltop's leader still gets 404 for Brookside's part, trends and all.
    client.force_login(world["leader"])
    url = f"/waves/{second.public_id}/dashboard/?school={brookside.public_id}"
    assert client.get(url).status_code == 404


def test_the_district_level_shows_the_district_trend(client, world, two_waves):
    html = dashboard(client, world["district_admin"], two_waves[1])
    assert "Whole district" in html
    comps = [c["key"] for c in two_waves[1].snapshots.first().data["components"]
             if c.get("items")]
    for comp in comps:
        expected = {w.label: top_cell(w.snapshots.first().data, "district", comp)["display"]
                    for w in two_waves}
        assert trend_rows(html, comp) == expected, comp
    # The district page of the older wave shows only waves up to it.
    older = dashboard(client, world["district_admin"], two_waves[0])
    assert set(trend_rows(older, comps[0])) == {"Autumn 2026"}
