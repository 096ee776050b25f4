"""The school and district home pages list every wave of every series with its latest
publish run: the number of queries must not grow with the waves or their runs."""

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import PublishRun
from surveys import services
from surveys.models import Wave


def count_queries(client, user, url):
    client.force_login(user)
    client.get(url)  # warm per-process caches (sessions, permissions)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def add_waves(series, by, count, runs_each, first=0):
    """`count` more closed waves, each asked to publish `runs_each` times (the earlier
    runs failed), so each has a latest run to show."""
    for i in range(first, first + count):
        wave = services.create_wave(series, by=by, label=f"Extra {series.pk}-{i}",
                                    season="spring", starts_on=date(2027, 1 + i, 1))
        Wave.objects.filter(pk=wave.pk).update(status=Wave.Status.CLOSED)
        for r in range(runs_each):
            last = r == runs_each - 1
            PublishRun.objects.create(
                wave=wave, status=PublishRun.Status.QUEUED if last else PublishRun.Status.FAILED,
                error="" if last else f"run {r} failed")


def school_url(world):
    return f"/schools/{world['school'].public_id}/"


def district_url(world):
    return f"/districts/{world['district'].public_id}/"


def test_the_school_home_reads_the_latest_runs_in_queries_that_do_not_grow(client, world):
    few, _ = count_queries(client, world["leader"], school_url(world))
    add_waves(world["series"], world["leader"], 4, runs_each=3)
    many, page = count_queries(client, world["leader"], school_url(world))
    assert many == few, (few, many)
    # Each of the new waves shows its latest run (queued), not an earlier failure.
    assert page.count("Publishing: queued") == 4
    assert "run 0 failed" not in page


def test_the_district_home_reads_the_latest_runs_in_queries_that_do_not_grow(client, world):
    admin = world["district_admin"]
    series = services.create_series(
        None, district=world["district"], by=admin, name="District pulse",
        instrument=world["instrument"], demographics=["gender"], min_cell_size=10)
    add_waves(series, admin, 1, runs_each=1)
    few, _ = count_queries(client, admin, district_url(world))
    add_waves(series, admin, 4, runs_each=2, first=1)
    many, page = count_queries(client, admin, district_url(world))
    assert many == few, (few, many)
    assert page.count("Publishing: queued") == 5
    assert "run 0 failed" not in page
