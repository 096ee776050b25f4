"""The wave dashboard's page cache (analytics/dashboard_cache.py): a body rendered for one
viewer's scope is never served to a viewer with other rights, a page from the cache is
the page a miss renders, and a new snapshot is rendered afresh. Real PostgreSQL and
Django's configured cache (local memory in the tests).

The world and one published core wave are built once for the module
(conftest.module_rows): what a test adds or changes (a teacher, a snapshot, a school's
name, a district wave) is rolled back with its transaction, and the cache is emptied
around each test, so every test starts from the wave as published."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import Snapshot
from tests.analytics.dashboard_seed import publish_core_waves, publish_district_wave
from tests.conftest import Role, make_user

from .dashboard_pages import dashboard_url, parse, shared_publication

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


published, world, wave1 = shared_publication(
    lambda world: publish_core_waves(world, count=1)[-1], "wave1")


def get(client, user, url):
    """(status, html, queries) of one GET as `user`."""
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response.status_code, response.content.decode(), len(ctx.captured_queries)


def rows(html):
    return {r["group"] for r in parse(html).rows}


def class_key(world, name):
    return "class:" + world["classes"][name].public_id


def test_a_teacher_never_gets_a_page_cached_for_another_scope(client, world, wave1):
    url = dashboard_url(wave1)
    other = make_user("teacher_7b", Role.TEACHER, school=world["school"])
    world["classes"]["7B"].teachers.add(other)
    _, leader_html, _ = get(client, world["leader"], url)
    assert "Whole school" in leader_html and "Class 7A" in leader_html
    for _ in range(2):  # the second round is served from the cache
        _, html, _ = get(client, world["teacher"], url)
        assert rows(html) == {class_key(world, "7A")}
        assert "Whole school" not in html and "Class 7B" not in html
        _, html, _ = get(client, other, url)
        assert rows(html) == {class_key(world, "7B")}
        assert "Whole school" not in html and "Class 7A" not in html
    # The teacher's second GET was a hit (no document read), so the cache was in play.
    _, _, miss = get(client, world["teacher"], url + "?group=made-up")
    _, _, hit = get(client, world["teacher"], url)
    assert hit < miss


def test_a_teacher_given_a_second_class_sees_it_at_once(client, world, wave1):
    url = dashboard_url(wave1)
    _, html, _ = get(client, world["teacher"], url)
    assert rows(html) == {class_key(world, "7A")}
    world["classes"]["7B"].teachers.add(world["teacher"])
    _, html, _ = get(client, world["teacher"], url)
    assert rows(html) == {class_key(world, "7A"), class_key(world, "7B")}
    world["classes"]["7B"].teachers.remove(world["teacher"])
    _, html, _ = get(client, world["teacher"], url)
    assert rows(html) == {class_key(world, "7A")}


def test_a_cached_district_part_is_not_served_past_the_access_check(client, world):
    wave = publish_district_wave(world)
    part = dashboard_url(wave) + f"?school={world['school'].public_id}"
    status, html, _ = get(client, world["leader"], part)
    assert status == 200 and "Whole school" in html
    assert get(client, world["other_leader"], part)[0] == 404
    status, html, _ = get(client, world["teacher"], part)
    assert status == 200 and rows(html) == {class_key(world, "7A")}
    status, html, _ = get(client, world["district_admin"], dashboard_url(wave))
    assert status == 200 and "Whole district" in html


def without_csrf(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.mark.parametrize("persona", ["leader", "teacher"])
def test_a_page_from_the_cache_is_the_page_a_miss_renders(client, world, wave1, persona):
    url = dashboard_url(wave1)
    for query in ("", f"?group={class_key(world, '7A')}"):
        _, rendered, miss = get(client, world[persona], url + query)
        _, cached, hit = get(client, world[persona], url + query)
        assert hit < miss
        assert without_csrf(cached) == without_csrf(rendered)


def test_a_group_the_viewer_may_not_see_is_rendered_but_never_kept(client, world, wave1):
    url = dashboard_url(wave1) + "?group=class:" + world["classes"]["7B"].public_id
    counts = [get(client, world["teacher"], url)[2] for _ in range(2)]
    assert counts[0] == counts[1]  # both rendered from the snapshot
    assert "Class 7B" not in get(client, world["teacher"], url)[1]


def test_a_new_snapshot_of_the_wave_is_rendered_afresh(client, world, wave1):
    url = dashboard_url(wave1)
    _, html, _ = get(client, world["leader"], url)
    assert "snapshot 1 published" in html
    old = Snapshot.objects.get(wave=wave1)
    data = old.data
    school = next(g for g in data["groups"] if g["key"] == "school")
    school["label"] = "The whole school, republished"
    Snapshot.objects.create(wave=wave1, version=2, data=data, audit={},
                            fingerprint="republished")
    _, html, _ = get(client, world["leader"], url)
    assert "snapshot 2 published" in html and "The whole school, republished" in html


def test_renaming_the_school_shows_the_new_name(client, world, wave1):
    url = dashboard_url(wave1)
    assert "Hilltop" in get(client, world["leader"], url)[1]
    world["school"].name = "Hilltop College"
    world["school"].save()
    assert "Hilltop College" in get(client, world["leader"], url)[1]
