"""Thin Celery tasks: take ids, call plain functions (which also run synchronously)."""

from celery import shared_task

from . import publishing


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1800, time_limit=2000)
def publish_wave(wave_id, run_id=None):
    snapshot = publishing.publish(wave_id, run_id)
    return {"wave_id": wave_id, "snapshot_version": snapshot.version}
