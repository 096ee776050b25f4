"""Publishing through Redis and a real Celery worker process (not eager mode)."""

import time
import uuid

import pytest

from analytics.models import PublishRun, Snapshot
from analytics.publishing import request_publish
from surveys import services
from surveys.models import Response
from tests.analytics.dashboard_seed import closed_alike_district_wave

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_publishes_a_closed_wave(world, celery_worker_process):
    leader, wave = world["leader"], world["wave"]
    services.open_wave(wave, by=leader)
    rows = []
    for name in ("7A", "7B"):
        session = services.open_session(wave, world["classes"][name], by=leader)
        rows += [Response(client_id=uuid.uuid4(), wave=wave, session=session,
                          class_group=session.class_group, school=world["school"],
                          year_level=7, gender="boy", v01=1 + i % 4, v02=2, v03=3, v04=2,
                          v05=3, v06=1 + (i * 7) % 4) for i in range(15)]
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=leader)
    run = request_publish(wave, by=leader)  # enqueued on commit, to Redis
    deadline = time.time() + 90
    while time.time() < deadline:
        run.refresh_from_db()
        if run.status in ("done", "failed"):
            break
        time.sleep(0.5)
    assert run.status == "done", run.error
    snapshot = Snapshot.objects.get(wave=wave)
    school = next(g for g in snapshot.data["groups"] if g["key"] == "school")
    assert school["n"] == 30
    wave.refresh_from_db()
    assert wave.status == "published"
    assert PublishRun.objects.get(pk=run.pk).progress == 100


def test_a_real_worker_fans_a_district_wave_out_per_school(world, celery_worker_process):
    """publish_wave -> one publish_school task per school (through Redis) -> the task
    completing the set enqueues publish_finish; the snapshot lists every part."""
    wave = closed_alike_district_wave(world)
    admin = world["district_admin"]
    run = request_publish(wave, by=admin)
    deadline = time.time() + 120
    while time.time() < deadline:
        run.refresh_from_db()
        if run.status in ("done", "failed"):
            break
        time.sleep(0.5)
    assert run.status == "done", run.error
    assert run.schools_total == 2 and run.parts.count() == 2
    snapshot = Snapshot.objects.get(wave=wave)
    assert snapshot.parts.count() == 2
    district = next(g for g in snapshot.data["groups"] if g["key"] == "district")
    assert district["n"] == 40
