"""Pages rendered into the page cache when a wave is published (analytics/warming.py):
the page a leader then gets is the warmed body, which is the body a request renders,
in each language; access is checked as before; an older snapshot is not warmed. Real
PostgreSQL, Celery's tasks run eagerly as the tests configure them, and Django's
configured cache (local memory in the tests)."""

import pytest
from django.core.cache import cache
from django.utils import translation

from analytics import dashboard_cache, dashboards, district_tables, warming
from analytics.models import Snapshot
from analytics.publishing import request_publish
from tests.analytics.dashboard_seed import closed_wave, publish_district_wave

pytestmark = pytest.mark.django_db

MARK = "<p>served from the page cache</p>"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def dashboard_key(snapshot, school, language):
    with translation.override(language):
        return dashboard_cache.page_key(snapshot, school, None, "",
                                        dashboards.series_snapshot_ids(snapshot.wave))


def district_key(district, language):
    schools = list(district.schools.order_by("name").values_list("id", "name"))
    with translation.override(language):
        return dashboard_cache.district_key(district, district_tables.newest(district), schools)


def page(client, user, url, language="en"):
    client.force_login(user)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    return response.status_code, response.content.decode()


@pytest.fixture
def published(world, django_capture_on_commit_callbacks):
    """Hilltop's pulse wave published as a leader asks for it: the tasks, then warming."""
    wave = closed_wave(world, {"7A": 12, "7B": 12})
    with django_capture_on_commit_callbacks(execute=True):
        request_publish(wave, by=world["leader"])
    return Snapshot.objects.get(wave=wave)


def test_publishing_warms_the_dashboard_and_the_district_page_in_each_language(
        client, world, published):
    for language in ("en", "es"):
        assert dashboard_cache.read(dashboard_key(published, world["school"], language))
        assert dashboard_cache.read(district_key(world["district"], language)) is not None
    spanish = dashboard_cache.read(dashboard_key(published, world["school"], "es"))["body"]
    english = dashboard_cache.read(dashboard_key(published, world["school"], "en"))["body"]
    assert spanish != english


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_warmed_body_is_the_body_a_request_renders(client, world, published, language):
    warmed = dashboard_cache.read(dashboard_key(published, world["school"], language))["body"]
    warmed_district = dashboard_cache.read(district_key(world["district"], language))
    cache.clear()
    url = f"/waves/{published.wave.public_id}/dashboard/"
    status, html = page(client, world["leader"], url, language)
    assert status == 200 and warmed in html
    status, html = page(client, world["district_admin"],
                        f"/districts/{world['district'].public_id}/results/", language)
    assert status == 200 and warmed_district in html


def test_a_leader_is_served_the_warmed_body(client, world, published):
    dashboard_cache.store(dashboard_key(published, world["school"], "en"),
                          {"title": "Warmed", "body": MARK})
    status, html = page(client, world["leader"], f"/waves/{published.wave.public_id}/dashboard/")
    assert status == 200 and MARK in html


def test_warming_changes_nobody_s_access(client, world, published):
    url = f"/waves/{published.wave.public_id}/dashboard/"
    assert page(client, world["other_leader"], url)[0] == 404
    assert page(client, world["researcher"], url)[0] == 404
    status, html = page(client, world["teacher"], url)
    assert status == 200 and "Whole school" not in html  # a teacher sees their classes
    assert page(client, world["other_leader"],
                f"/districts/{world['district'].public_id}/results/")[0] == 404


def test_an_older_snapshot_is_not_warmed(world, published):
    Snapshot.objects.filter(pk=published.pk).update(version=2)
    older = Snapshot.objects.create(wave=published.wave, version=1, data=published.data,
                                    audit={}, fingerprint="older")
    cache.clear()
    assert warming.warm_pages(older.pk) == 0
    assert dashboard_cache.read(dashboard_key(older, world["school"], "en")) is None
    assert warming.warm_pages(published.pk) == 4


def test_a_district_wide_wave_warms_its_district_level(client, world):
    wave = publish_district_wave(world)
    snapshot = Snapshot.objects.get(wave=wave)
    assert dashboard_cache.read(dashboard_key(snapshot, None, "en")) is None  # publish() alone
    assert warming.warm_pages(snapshot.pk) == 4
    for language, whole in (("en", "Whole district"), ("es", "Todo el distrito")):
        warmed = dashboard_cache.read(dashboard_key(snapshot, None, language))["body"]
        status, html = page(client, world["district_admin"],
                            f"/waves/{wave.public_id}/dashboard/", language)
        assert status == 200 and warmed in html and whole in warmed

