"""The school dashboard and the snapshot API read one published snapshot: the number
of database queries they make must not grow with the data (more classes, more
students, more groups, more waves; on the district page, more schools).

The world and one published core wave at Hilltop are built once for the module
(conftest.module_rows); each test adds what it measures against (schools, waves), and
that is rolled back with its transaction."""

import uuid
from datetime import date

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.publishing import publish
from surveys import services
from surveys.models import ClassGroup, Response, School
from tests.analytics.dashboard_pages import dashboard_url, shared_publication
from tests.analytics.dashboard_seed import answer, publish_core_waves

from ..conftest import Role, make_user

# The world and one published core wave at Hilltop, built once for this module.
published, world, wave1 = shared_publication(
    lambda world: publish_core_waves(world, count=1), "wave1")


def published_school(world, name, classes, per_class, rng):
    """A school with `classes` classes of `per_class` students, one published wave."""
    school = School.objects.create(district=world["district"], name=name)
    leader = make_user(f"leader_{name}", Role.LEADER, school=school)
    groups = [ClassGroup.objects.create(school=school, name=f"C{i}", year_level=7 + i % 4,
                                        enrolment=per_class + 2) for i in range(classes)]
    series = services.create_series(school, by=leader, name="Pulse",
                                    instrument=world["instrument"], demographics=["gender"])
    wave = services.create_wave(series, by=leader, label="Autumn", season="autumn",
                                starts_on=date(2026, 10, 1))
    services.open_wave(wave, by=leader)
    rows = []
    for cg in groups:
        session = services.open_session(wave, cg, by=leader)
        for i in range(per_class):
            values = np.clip(np.round(rng.normal(2.6, 0.9, 6)), 1, 4).astype(int)
            rows.append(Response(client_id=uuid.uuid4(), wave=wave, session=session,
                                 class_group=cg, school=school, year_level=cg.year_level,
                                 gender="girl" if i % 2 else "boy",
                                 **{f"v{j + 1:02d}": int(v) for j, v in enumerate(values)}))
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=leader)
    publish(wave.id)
    return leader, wave


def count_queries(client, user, url):
    """Queries of a GET with the page cache emptied (the dashboard rendered from the
    snapshot), and of the next GET (the dashboard's body from the page cache)."""
    client.force_login(user)
    client.get(url)  # warm per-process caches (instrument rules, sessions)
    counts = []
    for clear in (True, False):
        if clear:
            cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    return tuple(counts)


@pytest.mark.parametrize("path", ["/waves/{}/dashboard/", "/api/v1/waves/{}/snapshot/"])
def test_queries_do_not_grow_with_the_data(client, world, path):
    rng = np.random.default_rng(5)
    small_leader, small = published_school(world, "Small", 2, 12, rng)
    large_leader, large = published_school(world, "Large", 8, 28, rng)
    few = count_queries(client, small_leader, path.format(small.public_id))
    many = count_queries(client, large_leader, path.format(large.public_id))
    assert few == many, (few, many)
    rendered, cached = many
    if path.startswith("/api/"):
        assert rendered == cached <= 5  # session, user, wave, memberships, snapshot
    else:
        # session, user, wave, memberships, snapshot (its document deferred), the
        # series' snapshot ids; rendering reads the document and the trend's documents.
        assert (rendered, cached) == (8, 6)


def page_queries(client, url):
    """Queries of a GET rendering the page (the page cache emptied first), then of a GET
    served from the page cache."""
    cache.clear()
    with CaptureQueriesContext(connection) as miss:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as hit:
        assert client.get(url).status_code == 200
    return len(miss), len(hit)


def test_the_dashboard_query_count_does_not_grow_with_waves(client, world, wave1):
    client.force_login(world["leader"])
    client.get(dashboard_url(wave1[0]))  # warm the session and caches
    one = page_queries(client, dashboard_url(wave1[0]))
    more = publish_core_waves(world, count=2, seed=3)
    two = page_queries(client, dashboard_url(more[-1]))
    assert two == one
    assert one[1] < one[0]  # the cached page reads no document


def test_the_district_page_query_count_does_not_grow_with_schools(client, world, wave1):
    url = f"/districts/{world['district'].public_id}/results/"
    client.force_login(world["district_admin"])
    client.get(url)
    cache.clear()  # rendered from the summaries, not the page cache
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
    # Not emptied: another snapshot shown is another key (analytics/dashboard_cache.py).
    with CaptureQueriesContext(connection) as two:
        html = client.get(url).content.decode()
    assert 'data-school="' + world["other_school"].public_id in html
    assert len(two) == len(one)
    with CaptureQueriesContext(connection) as warm:
        again = client.get(url).content.decode()
    body = '<p class="hint">Only schools'  # the cached body, without the CSRF token
    assert again.split(body)[1] == html.split(body)[1]
    assert len(warm) < len(one)  # from the page cache: no snapshot read
