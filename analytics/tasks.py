"""Thin Celery tasks: take ids, call plain functions (which also run synchronously).

Publishing fans out: `publish_wave` starts the run and enqueues one `publish_school`
per school (a group, spread over every worker); the task that completes the run's set
of parts enqueues `publish_finish`, which builds the district level, writes the
snapshot and enqueues `warm_pages` (the wave's dashboard and its district's page
rendered into the page cache: analytics.warming). The completion is decided under a
row lock on the run (analytics.publishing), so the wave level is enqueued once, and no
result backend is needed. The publishing tasks are acknowledged late: a task whose
worker dies is delivered again, and finds the parts already written by their
fingerprints.
"""

from celery import group, shared_task

from . import publishing, warming

LIMITS = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**LIMITS, soft_time_limit=300, time_limit=360)
def publish_wave(wave_id, run_id=None):
    run_id = run_id or publishing.new_run(wave_id)
    school_ids = publishing.start(wave_id, run_id)
    if not school_ids:
        publish_finish.delay(wave_id, run_id)
    else:
        group(publish_school.si(wave_id, run_id, sid) for sid in school_ids).apply_async()
    return {"wave_id": wave_id, "schools": len(school_ids)}


@shared_task(**LIMITS, soft_time_limit=1800, time_limit=2000)
def publish_school(wave_id, run_id, school_id):
    part, last = publishing.school_part(wave_id, run_id, school_id)
    if last:
        publish_finish.delay(wave_id, run_id)
    return {"school_id": school_id, "part": part.pk}


@shared_task(**LIMITS, soft_time_limit=1800, time_limit=2000)
def publish_finish(wave_id, run_id):
    snapshot = publishing.finish(wave_id, run_id)
    warm_pages.delay(snapshot.pk)
    return {"wave_id": wave_id, "snapshot_version": snapshot.version}


@shared_task(soft_time_limit=300, time_limit=360)
def warm_pages(snapshot_id):
    """The published wave's slowest pages rendered into the page cache (analytics.warming):
    not acknowledged late, since a lost warming only leaves a page to its first request."""
    return {"snapshot_id": snapshot_id, "pages": warming.warm_pages(snapshot_id)}


@shared_task(soft_time_limit=120, time_limit=180)
def resend_publish_runs():
    """Beat task: send again the publish requests the broker did not take (outbox)."""
    from . import outbox

    return outbox.resend_pending()
