"""Publish runs as a leader meets them: one at a time (a second click would compute
every part again beside the first), and a wave reopened while it was being published
is not published by that run: it stays open, and the run says why."""

from datetime import date, timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone, translation

from analytics import publishing
from analytics.models import TIMED_OUT, PublishRun, Snapshot, page_strings
from analytics.publishing import request_publish, start
from surveys import services
from surveys.services import ServiceError
from tests.analytics.dashboard_seed import closed_district_series, closed_wave, stored_part

pytestmark = pytest.mark.django_db

SIZES = {"7A": 12, "7B": 12}


@pytest.fixture
def closed(world):
    return closed_wave(world, SIZES, seed=5)


def test_a_second_request_while_one_runs_is_refused_and_says_how_far_it_is(
        world, closed, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = request_publish(closed, by=world["leader"])
    PublishRun.objects.filter(pk=first.pk).update(status="running", progress=40)
    with pytest.raises(ServiceError, match=r"already being published \(40% done\)"):
        request_publish(closed, by=world["leader"])
    client.force_login(world["leader"])
    page = client.post(f"/waves/{closed.public_id}/publish/", follow=True)
    assert "This wave is already being published (40% done)" in page.content.decode()
    assert PublishRun.objects.filter(wave=closed).count() == 1

    # A run with no end a day after it was asked for is taken as lost.
    PublishRun.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        second = request_publish(closed, by=world["leader"])
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == "done" and Snapshot.objects.filter(wave=closed).count() == 1
    assert first.status == "failed" and first.error.startswith("Taken as lost")
    assert len(callbacks) == 1  # the first run's task, never executed here


@pytest.mark.parametrize("closed_again", [False, True])
def test_a_wave_reopened_while_it_was_being_published_is_not_published(
        world, closed, closed_again, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        run = request_publish(closed, by=world["leader"])
    services.open_wave(closed, by=world["leader"])  # before a worker takes the run
    if closed_again:  # new answers could have come in meanwhile
        services.close_wave(closed, by=world["leader"])
    with pytest.raises(ServiceError, match="reopened while it was being published"):
        callbacks[0]()
    run.refresh_from_db()
    closed.refresh_from_db()
    assert run.status == "failed" and run.error.startswith("The wave was reopened")
    assert closed.status == ("closed" if closed_again else "open")
    assert not Snapshot.objects.filter(wave=closed).exists()
    if closed_again:
        with django_capture_on_commit_callbacks(execute=True):
            again = request_publish(closed, by=world["leader"])
        again.refresh_from_db()
        closed.refresh_from_db()
        assert again.status == "done" and closed.status == "published"


def test_the_pages_offer_no_second_publish_while_a_run_is_active(world, client):
    """The district page and the series page (where the district admin clicked) show
    the run and no Publish button while it runs; once it has failed, both are back."""
    admin = world["district_admin"]
    series, wave = closed_district_series(world)
    run = PublishRun.objects.create(wave=wave, status="running", progress=12,
                                    step="schools: 0 of 4 done")
    district = world["district"].public_id
    pages = [f"/districts/{district}/", f"/districts/{district}/series/{series.public_id}/"]
    client.force_login(admin)
    for url in pages:
        page = client.get(url).content.decode()
        assert "Publishing: running 12% (schools: 0 of 4 done)" in page
        assert "Publish Autumn</button>" not in page
    PublishRun.objects.filter(pk=run.pk).update(status="failed", error="worker lost")
    for url in pages:
        page = client.get(url).content.decode()
        assert "Publishing failed: worker lost" in page and "Publish Autumn</button>" in page


def test_a_school_series_part_tells_its_step_and_the_time_left_by_its_last_part(
        world, closed, client):
    hilltop = world["school"]
    earlier = services.create_wave(world["series"], by=world["leader"], label="Spring",
                                   season="spring", starts_on=date(2026, 3, 1))
    stored_part(earlier, hilltop, "a", sql=0.5, audit=179.5)
    run = PublishRun.objects.create(wave=closed)
    assert start(closed.id, run.id) == [hilltop.id]
    run.refresh_from_db()
    assert run.expected == {str(hilltop.id): 180.0}
    assert (run.progress, run.step) == (5, "computing")

    # The part's own step, 100 s into the 180 its last part took: 5 + 80 x 56%.
    PublishRun.objects.filter(pk=run.pk).update(
        progress=40, step="suppressing", started_at=timezone.now() - timedelta(seconds=100))
    run.refresh_from_db()
    assert run.live == {"progress": 49, "step": "suppressing, about 1 min left"}
    client.force_login(world["leader"])
    page = client.get(f"/schools/{hilltop.public_id}/").content.decode()
    assert "Publishing: running 49% (suppressing, about 1 min left)" in page
    body = client.get(f"/api/v1/waves/{closed.public_id}/publishing/").json()
    assert (body["progress"], body["step"]) == (49, "suppressing, about 1 min left")

    PublishRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - timedelta(seconds=200))
    run.refresh_from_db()
    assert run.live == {"progress": 81, "step": "suppressing, taking longer than last time"}
    # Once the part is written, what the run recorded is shown as it is.
    PublishRun.objects.filter(pk=run.pk).update(progress=85, step="schools: 1 of 1 done")
    run.refresh_from_db()
    assert run.live == {"progress": 85, "step": "schools: 1 of 1 done"}


def test_without_a_last_part_or_with_several_schools_the_run_shows_what_it_recorded(
        world, closed):
    run = PublishRun.objects.create(wave=closed)
    start(closed.id, run.id)
    PublishRun.objects.filter(pk=run.pk).update(
        progress=40, step="suppressing", started_at=timezone.now() - timedelta(seconds=60))
    run.refresh_from_db()
    assert run.expected == {}
    assert run.live == {"progress": 40, "step": "suppressing"}
    PublishRun.objects.filter(pk=run.pk).update(
        schools_total=2, expected={"1": 50.0, "2": 10.0}, step="schools: 1 of 2 done")
    run.refresh_from_db()
    assert run.live == {"progress": 40, "step": "schools: 1 of 2 done"}


def test_a_school_series_part_records_its_steps_on_the_run(world, closed, monkeypatch):
    """In the Celery path too (one `publish_school` task), not only in process."""
    steps = []
    real = publishing._progress

    def spy(run, **fields):
        steps.append(fields.get("step"))
        real(run, **fields)

    monkeypatch.setattr(publishing, "_progress", spy)
    run = PublishRun.objects.create(wave=closed)
    start(closed.id, run.id)
    part, last = publishing.school_part(closed.id, run.id, world["school"].id)
    assert last is True
    assert steps[:3] == ["suppressing", "auditing", "writing"]
    run.refresh_from_db()
    assert (run.progress, run.step) == (85, "schools: 1 of 1 done")


def test_a_run_stopped_by_its_time_limit_says_so_in_the_readers_language(
        world, closed, monkeypatch):
    """A task past its soft time limit (analytics.tasks) fails the run with words a
    leader can act on, not the exception's name."""
    def too_long(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(publishing.build, "build_part", too_long)
    run_id = publishing.new_run(closed.id)
    with pytest.raises(SoftTimeLimitExceeded):
        publishing.publish(closed.id, run_id)
    run = PublishRun.objects.get(pk=run_id)
    assert run.status == "failed" and run.error == TIMED_OUT
    assert not Snapshot.objects.filter(wave=closed).exists()
    assert run.shown["text"] == f"Publishing failed: {TIMED_OUT}"
    with translation.override("es"):
        assert "tardó más que su tiempo límite" in run.shown["text"]
        assert [TIMED_OUT, run.shown["text"].split(": ", 1)[1]] in page_strings()["errors"]
