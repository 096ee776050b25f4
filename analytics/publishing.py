"""Publishing a wave: compute, suppress, audit, and write the snapshot whole.

`request_publish` is what a leader's click calls; it enqueues the Celery task on
commit. `publish` is the plain function the task runs (and tests and the demo
call directly). Nothing is visible until the snapshot, the wave's status and the
audit event are committed together.
"""

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from surveys.models import Wave
from surveys.services import ServiceError, audit

from .models import PublishRun, Snapshot
from .snapshot import DisclosureAuditFailed, build_snapshot


def request_publish(wave, *, by):
    from .tasks import publish_wave

    if wave.status not in (Wave.Status.CLOSED, Wave.Status.PUBLISHED):
        raise ServiceError("Close the wave before publishing: no results during fieldwork.")
    run = PublishRun.objects.create(wave=wave, requested_by=by)
    audit(by, "wave.publish_requested", school=wave.series.school, target=wave.public_id,
          run=run.public_id)
    transaction.on_commit(lambda: publish_wave.delay(wave.id, run.id))
    return run


def _progress(run, status=None, progress=None, step=None, error=None):
    if run is None:
        return
    fields = {"status": status, "progress": progress, "step": step, "error": error}
    changes = {k: v for k, v in fields.items() if v is not None}
    if status in (PublishRun.Status.DONE, PublishRun.Status.FAILED):
        changes["finished_at"] = timezone.now()
    PublishRun.objects.filter(pk=run.pk).update(**changes)


def fingerprint(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def publish(wave_id, run_id=None):
    """Build and store the wave's snapshot. Idempotent: the same responses give the
    same snapshot, and a rerun after a crash starts cleanly."""
    wave = Wave.objects.select_related("series__school__district", "series__instrument").get(
        pk=wave_id)
    run = PublishRun.objects.filter(pk=run_id).first() if run_id else None
    _progress(run, status=PublishRun.Status.RUNNING, progress=5, step="aggregating")
    try:
        data, audit_report = build_snapshot(wave, progress=lambda p, s: _progress(run, progress=p,
                                                                                   step=s))
    except DisclosureAuditFailed as err:
        _fail(wave, run, f"The disclosure audit refused this snapshot: {err}")
        raise
    return _store(wave, run, data, audit_report)


def _fail(wave, run, message):
    _progress(run, status=PublishRun.Status.FAILED, error=message[:2000], step="failed")
    audit(run.requested_by if run else None, "wave.publish_failed", school=wave.series.school,
          target=wave.public_id, reason=message[:500])


def _store(wave, run, data, audit_report):
    digest = fingerprint({k: v for k, v in data.items() if k != "published_at"})
    with transaction.atomic():
        locked = Wave.objects.select_for_update().get(pk=wave.pk)
        latest = Snapshot.objects.filter(wave=locked).order_by("-version").first()
        if latest is not None and latest.fingerprint == digest:
            snapshot = latest  # nothing changed: publishing again is a no-op
        else:
            snapshot = Snapshot.objects.create(
                wave=locked, version=(latest.version + 1) if latest else 1,
                data=data, audit=audit_report, fingerprint=digest,
            )
            audit(run.requested_by if run else None, "wave.published",
                  school=locked.series.school, target=locked.public_id,
                  snapshot_version=snapshot.version)
        if locked.status != Wave.Status.PUBLISHED:
            locked.status = Wave.Status.PUBLISHED
            locked.save(update_fields=["status"])
    _progress(run, status=PublishRun.Status.DONE, progress=100, step="published")
    return snapshot


def latest_snapshot(wave):
    return Snapshot.objects.filter(wave=wave).order_by("-version").first()


def latest_snapshot_before(wave):
    """The newest snapshot of the series' previous published wave, if any."""
    return (
        Snapshot.objects.filter(wave__series=wave.series, wave__starts_on__lt=wave.starts_on)
        .order_by("-wave__starts_on", "-version")
        .first()
    )
