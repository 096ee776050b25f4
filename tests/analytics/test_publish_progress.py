"""A district wave's publication as its admin follows it: the share of the work done,
each school's part weighed by the seconds the school's last part took (the longest
parts are queued first, so counting parts would understate it), and the time left at
the pace so far."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from analytics.models import PublishRun, SnapshotPart
from analytics.publishing import _part_done, share_done, start, time_left
from surveys import services
from surveys.models import School

from .dashboard_seed import stored_part
from .test_district_publish import field_and_close, open_district_wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def fielded(world):
    """Riverside's district wave over Hilltop, Lakeside, Brookside and Creekside."""
    return field_and_close(world, open_district_wave(world))


def test_progress_weighs_each_school_by_its_last_part_and_tells_the_time_left(
        world, fielded, client):
    schools = {s.name: s for s in School.objects.all()}
    earlier = services.create_wave(fielded.series, by=world["district_admin"],
                                   label="Spring", season="spring", starts_on=date(2026, 3, 1))
    stored_part(earlier, schools["Lakeside"], "a", sql=0.5, audit=40.0)
    stored_part(earlier, schools["Creekside"], "a", audit=62.0)
    run = PublishRun.objects.create(wave=fielded)
    order = start(fielded.id, run.id)
    run.refresh_from_db()
    assert run.expected == {str(schools["Lakeside"].id): 40.5,
                            str(schools["Creekside"].id): 62.0}
    assert run.started_at is not None and run.step == "schools: 0 of 4 done"

    PublishRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - timedelta(seconds=300))
    run.refresh_from_db()
    assert _part_done(run, stored_part(fielded, schools["Creekside"], "b", audit=1.0)) is False
    run.refresh_from_db()
    # Creekside's 62 s of 205 (Hilltop and Brookside, with no earlier part, count as
    # the mean, 51.25 s each): 30% of the parts' 80%; 300 s x 70 / 30 left.
    assert run.progress == 5 + 24
    assert run.step == "schools: 1 of 4 done, about 12 min left"
    client.force_login(world["district_admin"])
    page = client.get(f"/districts/{world['district'].public_id}/").content.decode()
    assert "Publishing: running 29% (schools: 1 of 4 done, about 12 min left)" in page

    others = [s for s in order if s != schools["Creekside"].id]
    done = [_part_done(run, stored_part(fielded, School.objects.get(pk=s), "c")) for s in others]
    run.refresh_from_db()
    assert done == [False, False, True]  # the last part goes on to the wave level
    assert (run.progress, run.step) == (85, "schools: 4 of 4 done")


def test_without_earlier_parts_every_school_weighs_alike():
    assert share_done({}, {7, 9}, 4) == 0.5
    assert share_done({"7": 30.0}, {7}, 2) == 0.5  # the other counts as the mean
    assert share_done({"7": 30.0, "9": 10.0}, {7}, 2) == 0.75
    assert share_done({"7": 30.0, "9": 10.0}, {7, 9}, 2) == 1.0
    assert share_done({"7": 0.0, "9": 0.0}, {7}, 2) == 0.5  # no time to weigh by


def test_a_part_with_no_time_recorded_counts_as_no_earlier_part(world, fielded):
    from analytics.publishing import part_seconds

    lake = School.objects.get(name="Lakeside")
    stored_part(fielded, lake, "a", audit=30.0)
    assert part_seconds(fielded, [lake.id]) == {lake.id: 30.0}
    SnapshotPart.objects.create(wave=fielded, school=lake, fingerprint="b", data={},
                                published={}, relations=[], audit={"small": []})
    assert part_seconds(fielded, [lake.id]) == {}


def test_the_time_left_reads_as_a_rough_estimate():
    assert time_left(12) == "under a minute left"
    assert time_left(691.9) == "about 12 min left"
    assert time_left(89 * 60) == "about 89 min left"
    assert time_left(6480) == "about 1.8 hours left"


def test_the_run_is_read_through_the_api_by_who_sees_it_on_their_page(world, fielded, client):
    """GET /api/v1/waves/<id>/publishing/ (static/js/publishing.js polls it): the
    district admin, and a leader of a school the wave covers, as their pages show it."""
    url = f"/api/v1/waves/{fielded.public_id}/publishing/"
    client.force_login(world["district_admin"])
    answer = client.get(url)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Nobody has asked to publish this wave yet."}
    PublishRun.objects.create(wave=fielded, status="failed", error="an older run")
    run = PublishRun.objects.create(wave=fielded, status="running", progress=29,
                                    step="schools: 1 of 4 done, about 12 min left")
    body = client.get(url).json()
    assert {k: body[k] for k in ("status", "progress", "step", "error", "finished_at")} == {
        "status": "running", "progress": 29, "error": "", "finished_at": None,
        "step": "schools: 1 of 4 done, about 12 min left"}
    assert body["requested_at"] == run.created_at.isoformat().replace("+00:00", "Z")
    client.force_login(world["leader"])
    assert client.get(url).json()["progress"] == 29
    client.force_login(world["teacher"])
    assert client.get(url).status_code == 403
