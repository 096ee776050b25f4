"""A Celery worker killed (SIGKILL) in the middle of publishing a wave.

To kill it at the worst moment, deterministically and without faking the pipeline,
the test holds a row lock that only the last step needs: the publishing user's row,
which the `wave.published` audit event references. Django's foreign keys are checked
at commit, so the worker blocks in the COMMIT of the transaction that has written
the snapshot, the wave's status and the audit event. While it waits, nothing of the
publication may be visible. Then the worker is SIGKILLed: its COMMIT had already
reached PostgreSQL, which completes or drops it whole (never part of it). A new
worker is started and the broker delivers the unacknowledged task again (acks_late,
a short visibility timeout for the new worker): the run finishes, with exactly one
snapshot, the one a clean publication of the same responses gives.
"""

import time

import psycopg2
import pytest
from django.contrib.auth.models import User
from django.db import connection

from analytics.models import PublishRun, Snapshot
from analytics.publishing import publish, request_publish
from belonging.celery import app
from surveys import services
from surveys.models import Membership
from tests.faults.conftest import app_environment, wait_for
from tests.surveys.lifecycle_helpers import fill

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def side_connection():
    db = connection.settings_dict
    conn = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"],
                            dbname=db["NAME"])
    return conn


def blocked_commit(conn):
    """The pid of a backend of the test database whose COMMIT waits on a lock (Django's
    foreign keys are checked at commit), or None."""
    with conn.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query = 'COMMIT'")
        row = cur.fetchone()
    return row[0] if row else None


def backend_alive(conn, pid):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        return cur.fetchone()[0] == 1


def visible_state(client, world, wave):
    client.force_login(world["leader"])
    wave.refresh_from_db()
    return {
        "snapshots": Snapshot.objects.filter(wave=wave).count(),
        "status": wave.status,
        "dashboard": client.get(f"/waves/{wave.public_id}/dashboard/").status_code,
        "api": client.get(f"/api/v1/waves/{wave.public_id}/snapshot/").status_code,
    }


NOTHING = {"snapshots": 0, "status": "closed", "dashboard": 404, "api": 404}
EVERYTHING = {"snapshots": 1, "status": "published", "dashboard": 200, "api": 200}


@pytest.fixture
def closed_wave(world):
    leader, wave = world["leader"], world["wave"]
    services.open_wave(wave, by=leader)
    for i, name in enumerate(("7A", "7B", "8A")):
        fill(wave, world["classes"][name], 15, by=leader, offset=i)
    services.close_wave(wave, by=leader)
    return wave


def test_a_worker_killed_while_storing_the_snapshot_leaves_nothing_half_written(
        client, world, closed_wave, workers):
    wave = closed_wave
    publisher = User.objects.create_user("publisher")
    Membership.objects.create(user=publisher, role="leader", school=world["school"])
    previous_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    lock, watch = side_connection(), side_connection()
    watch.autocommit = True
    try:
        run = request_publish(wave, by=publisher)  # queued in Redis; no worker runs yet
        with lock.cursor() as cur:  # held until lock.rollback()
            cur.execute("SELECT id FROM auth_user WHERE id = %s FOR UPDATE", (publisher.id,))
        first = workers(app_environment())
        pid = wait_for(lambda: blocked_commit(watch), 120,
                       "the worker to block committing the snapshot's transaction")
        run.refresh_from_db()
        assert run.status == PublishRun.Status.RUNNING
        # Snapshot, status and audit event are written but not committed: invisible.
        assert visible_state(client, world, wave) == NOTHING

        first.kill()
        killed_at = time.monotonic()
        lock.rollback()
        wait_for(lambda: not backend_alive(watch, pid), 30, "the killed worker's backend")
        # Its COMMIT had reached PostgreSQL, which completes it whole: all or nothing.
        assert visible_state(client, world, wave) in (NOTHING, EVERYTHING)
        run.refresh_from_db()
        assert run.status == PublishRun.Status.RUNNING  # the worker died before saying so

        # A new worker takes the unacknowledged task once its visibility timeout passed.
        time.sleep(max(0.0, 6 - (time.monotonic() - killed_at)))
        workers(app_environment(CELERY_VISIBILITY_TIMEOUT="5"), name="restarted")
        wait_for(lambda: PublishRun.objects.get(pk=run.pk).status in ("done", "failed"), 120,
                 "the restarted worker to finish the publication")
    finally:
        app.conf.task_always_eager = previous_eager
        lock.close()
        watch.close()
    run.refresh_from_db()
    assert run.status == "done", run.error
    assert visible_state(client, world, wave) == EVERYTHING
    snapshot = Snapshot.objects.get(wave=wave)
    school = next(g for g in snapshot.data["groups"] if g["key"] == "school")
    assert snapshot.version == 1 and school["n"] == 45
    # A clean publication of the same responses gives the very same snapshot.
    assert publish(wave.id).pk == snapshot.pk
    assert Snapshot.objects.filter(wave=wave).count() == 1
