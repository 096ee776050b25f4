"""A Celery worker killed (SIGKILL, its whole process group) while a per-school
`publish_school` task is suppressing and auditing its school's part, and the broker's
redelivery of that task within the bound docs/operations.md states.

A district-wide wave of two schools is published by one worker (`--pool=solo`, so the
parts run one after the other). The first school's part is written; the second is being
built when the worker is killed. The moment is found without faking anything: the part
task looks its part up by fingerprint (`SELECT ... LIMIT 1`), then only computes
(rollup, suppression, audit) before it touches the database again. The test kills the
worker once its connection has sat idle after that lookup, and proves afterwards that
the part had not been stored. Nothing of the run may be visible: no snapshot, no part
listed by a snapshot, the wave not published, no numbers on the dashboards or the API.

A new worker with a short visibility timeout (through CELERY_VISIBILITY_TIMEOUT) is
started; Redis hands it the killed task, the run completes, and the snapshot is the
one a clean, in-process build of the same responses gives. The two workers' logs give
when the killed task was delivered and when it was delivered again: never before the
visibility timeout, and within it plus the restore sweep (10 s, belonging/settings.py)
plus a stated margin for starting a worker on a loaded machine.
"""

import json
import re
import uuid
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from analytics import snapshot as build
from analytics.models import PublishRun, Snapshot, SnapshotPart
from analytics.publishing import previous_document, publish, request_publish
from analytics.simulate import simulate_wave
from belonging.celery import app
from surveys import services
from surveys.models import AuditEvent, ClassGroup, Response
from tests.analytics.dashboard_seed import item_specs
from tests.faults.conftest import app_environment, wait_for
from tests.faults.test_worker_killed import backend_alive, side_connection
from tests.surveys.lifecycle_helpers import fill

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

VISIBILITY = 20  # seconds, the restarted worker's CELERY_VISIBILITY_TIMEOUT
SWEEP = 10  # belonging/settings.py: unacked_restore_interval, throttle 1
MARGIN = 20  # starting a worker and its event loop's timers on 2 shared, loaded cores
RECEIVED = re.compile(r"^Task analytics\.tasks\.publish_school\[([0-9a-f-]+)\] received$")


def district_wave(world):
    """A closed district-wide wave: Hilltop small (3 classes), Lakeside (created second,
    so its part is built second) with 12 classes, three of them of 4 students, whose
    suppression and audit take seconds."""
    admin, lakeside = world["district_admin"], world["other_school"]
    series = services.create_series(None, district=world["district"], by=admin,
                                    name="District pulse", instrument=world["instrument"],
                                    demographics=["gender"])
    wave = services.create_wave(series, by=admin, label="Autumn 2026", season="autumn",
                                starts_on=date(2026, 10, 1))
    wave = services.open_wave(wave, by=admin)
    for i, name in enumerate(("7A", "7B", "8A")):
        fill(wave, world["classes"][name], 12, by=admin, offset=i)
    rng, specs, rows = np.random.default_rng(3), item_specs(series.instrument), []
    for year in (9, 10, 11):
        for letter in "ABCD":
            cg = ClassGroup.objects.create(school=lakeside, name=f"{year}{letter}",
                                           year_level=year, enrolment=28)
            session = services.open_session(wave, cg, by=admin)
            for i, values in enumerate(simulate_wave(specs, 4 if letter == "D" else 25,
                                                     rng=rng)):
                rows.append(Response(
                    client_id=uuid.uuid4(), wave=wave, session=session, class_group=cg,
                    school=lakeside, year_level=year, gender=("girl", "boy", "another")[i % 3],
                    **{f"v{j + 1:02d}": None if np.isnan(v) else int(v)
                       for j, v in enumerate(values)}))
    Response.objects.bulk_create(rows)
    return services.close_wave(wave, by=admin)


def building_second_part(conn, wave_id):
    """The worker's backend pid while it computes the wave's second part: one part is
    stored, and its connection has been idle for 0.2 s after the last query before
    suppression and audit: the part's fingerprint lookup, or, in a school smaller than
    `snapshot.EXACT_FIRST_FROM` (Lakeside here), the wave's per-school totals that
    the district bound is computed from (`snapshot._district_row`; matched by its
    start, since PostgreSQL keeps only the first 1 kB of a query's text)."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM analytics_snapshotpart WHERE wave_id = %s",
                    (wave_id,))
        if cur.fetchone()[0] != 1:
            return None
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'idle' "
                    "AND ((query LIKE '%%FROM \"analytics_snapshotpart\"%%fingerprint%%' "
                    "AND query LIKE '%%LIMIT 1') "
                    "OR query LIKE 'SELECT \"school_id\" AS school_id, COUNT(*) AS n,%%') "
                    "AND now() - state_change > interval '200 milliseconds'")
        row = cur.fetchone()
    return row[0] if row else None


def visible_state(client, world, wave):
    wave.refresh_from_db()
    state = {"snapshots": Snapshot.objects.filter(wave=wave).count(),
             "listed parts": SnapshotPart.objects.filter(wave=wave,
                                                         snapshots__isnull=False).count(),
             "status": wave.status}
    for persona in ("district_admin", "leader", "other_leader"):
        client.force_login(world[persona])
        state[persona] = (client.get(f"/waves/{wave.public_id}/dashboard/").status_code,
                          client.get(f"/api/v1/waves/{wave.public_id}/snapshot/").status_code)
    return state


NOTHING = {"snapshots": 0, "listed parts": 0, "status": "closed",
           "district_admin": (404, 404), "leader": (404, 404), "other_leader": (404, 404)}


def deliveries(log_path):
    """{task id: [when it was received, ...]} from a worker's log (JSON lines)."""
    found = {}
    for line in Path(log_path).read_text().splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        match = RECEIVED.match(entry.get("message", ""))
        if match:
            found.setdefault(match.group(1), []).append(datetime.fromisoformat(entry["time"]))
    return found


def clean_build(wave):
    """The parts and the district level built again in this process, from scratch."""
    parts = {}
    for part in SnapshotPart.objects.filter(wave=wave).select_related("school"):
        inp = build.school_input(wave, part.school, previous_document(wave, part.school))
        parts[part.school_id] = build.build_part(inp)
    return parts


def without_time(doc):
    return {k: v for k, v in doc.items() if k != "published_at"}


def test_a_worker_killed_while_auditing_a_part_leaves_nothing_and_is_redelivered(
        client, world, workers):
    wave = district_wave(world)
    previous_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    watch = side_connection()
    watch.autocommit = True
    try:
        run = request_publish(wave, by=world["district_admin"])
        victim = workers(app_environment(), name="victim")
        pid = wait_for(lambda: building_second_part(watch, wave.id), 300,
                       "the worker to be building the second school's part", interval=0.02)
        victim.kill()
        wait_for(lambda: not backend_alive(watch, pid), 30, "the killed worker's backend")
        # Killed while computing: the second part was never stored, nothing is listed.
        assert SnapshotPart.objects.filter(wave=wave).count() == 1
        assert visible_state(client, world, wave) == NOTHING
        assert PublishRun.objects.get(pk=run.pk).status == PublishRun.Status.RUNNING

        survivor = workers(app_environment(CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY)),
                           name="survivor")
        wait_for(lambda: PublishRun.objects.get(pk=run.pk).status in ("done", "failed"), 600,
                 "the restarted worker to finish the publication")
    finally:
        app.conf.task_always_eager = previous_eager
        watch.close()
    run.refresh_from_db()
    assert run.status == "done", run.error

    # The killed task was delivered again, not before the visibility timeout, and within
    # the bound docs/operations.md states (timeout + sweep), plus the stated margin.
    first, again = deliveries(victim.log_path), deliveries(survivor.log_path)
    killed = [task_id for task_id in first if task_id in again]
    assert len(first) == 2 and len(killed) == 1, (first, again)
    waited = (again[killed[0]][0] - first[killed[0]][-1]).total_seconds()
    assert VISIBILITY - 0.5 <= waited <= VISIBILITY + SWEEP + MARGIN, waited

    snapshot = Snapshot.objects.get(wave=wave)
    wave.refresh_from_db()
    assert wave.status == "published"
    assert snapshot.version == 1 and snapshot.parts.count() == 2
    assert AuditEvent.objects.filter(action="wave.published", target=wave.public_id).count() == 1
    for persona in ("district_admin", "leader", "other_leader"):
        client.force_login(world[persona])
        assert client.get(f"/waves/{wave.public_id}/dashboard/").status_code == 200, persona

    # The snapshot equals a clean build of the same responses, part by part and level.
    fresh = clean_build(wave)
    for part in snapshot.parts.all():
        assert part.published == build._plain(fresh[part.school_id].published)
        assert without_time(part.data) == without_time(build._plain(fresh[part.school_id].data))
    parts = sorted(snapshot.parts.select_related("school"), key=lambda p: p.school.name)
    district, _ = build.build_district(wave, parts, previous_document(wave))
    assert without_time(snapshot.data) == without_time(build._plain(district))
    # And publishing again (what a clean run of the same responses gives) is a no-op.
    assert publish(wave.id).pk == snapshot.pk
    assert Snapshot.objects.filter(wave=wave).count() == 1
