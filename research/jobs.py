"""Sending, running and serving export jobs, and deleting their files when they expire.

A job moves created -> running -> done | failed. `claim_job` takes the row lock with
SKIP LOCKED, so of two runners (a redelivered Celery message, a second worker) only
one ever moves a job to running; the other finds it locked, running or finished and
returns without doing anything.

Created jobs are their own outbox (as analytics/outbox.py does for publishing): the
job is committed first, then sent to the broker; if Redis is down the job stays
`created` and the beat task sends it again. Sending twice is harmless (the lock above).
"""

import logging
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_noop
from kombu.exceptions import OperationalError

from surveys import access
from surveys.services import audit

from .models import DOWNLOAD_WINDOW, ExportJob
from .services import export_dir, refuse

log = logging.getLogger(__name__)

# A job still "running" this long after it started lost its worker (the task's hard
# time limit is shorter): the periodic clean-up marks it failed so it is not stuck.
STALE_AFTER = timedelta(hours=2)
SENT = "sent to a worker"
# A job not sent yet gets this long for its own on-commit send before the sweep tries;
# a sent job still waiting after SENT_GRACE is presumed lost by the broker.
UNSENT_GRACE = timedelta(seconds=60)
SENT_GRACE = timedelta(hours=1)


def send(job_id, previous=""):
    """Send one job to the broker; True when the broker took it."""
    from .tasks import run_export

    try:
        run_export.delay(job_id)
    except (OperationalError, OSError):
        log.warning("Broker unavailable: export job %s stays waiting and will be sent again.",
                    job_id)
        return False
    ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.CREATED, step=previous
                             ).update(step=SENT)
    return True


def send_on_commit(job):
    transaction.on_commit(lambda: send(job.id))


def resend_pending(now=None):
    """Send again the jobs that never reached a worker; returns how many the broker took."""
    now = now or timezone.now()
    waiting = ExportJob.objects.filter(status=ExportJob.Status.CREATED)
    unsent = waiting.filter(step="", created_at__lte=now - UNSENT_GRACE)
    lost = waiting.filter(step=SENT, created_at__lte=now - SENT_GRACE)
    return sum(send(job.id, previous=job.step) for job in (unsent | lost).order_by("id"))


def claim_job(job_id):
    """Move a created job to running and return it; None if another runner has it."""
    with transaction.atomic():
        # Lock the job row only (`of`): a lock on its agreement (another job's claim, a
        # revocation) must not make this job look taken.
        job = (ExportJob.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("agreement").filter(pk=job_id).first())
        if job is None or job.status != ExportJob.Status.CREATED:
            return None
        job.status = ExportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.step = "starting"
        job.save(update_fields=["status", "started_at", "step"])
    return job


def job_dir(job):
    return export_dir() / job.agreement.public_id / job.public_id


def _progress_for(job):
    def progress(pct, step=""):
        ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
            progress=max(0, min(99, int(pct))), step=str(step)[:120])
    return progress


def run_job(job_id):
    """Run one export. Returns the finished job, or None when another runner has it."""
    from analytics.exporters import ExportRefused, export

    job = claim_job(job_id)
    if job is None:
        log.info("export job %s is locked, running or finished; not running it again", job_id)
        return None
    reason = job.agreement.inactive_reason()
    if reason:
        return fail_job(job, reason)
    out = job_dir(job)
    out.mkdir(parents=True, exist_ok=True)
    try:
        result = export(job.agreement.scope(), job.format, str(out), _progress_for(job))
    except ExportRefused as err:
        shutil.rmtree(out, ignore_errors=True)
        return fail_job(job, str(err))
    except Exception as err:
        shutil.rmtree(out, ignore_errors=True)
        log.exception("export job %s failed", job.public_id)
        fail_job(job, f"The export stopped with an internal error ({type(err).__name__}). "
                      f"The operators can find it in the worker log under job {job.public_id}.")
        raise
    return finish_job(job, result, out)


def fail_job(job, message):
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.FAILED, error=message[:2000], step="failed", finished_at=now)
    audit(job.requested_by, "export.failed", target=job.agreement.public_id,
          job=job.public_id, format=job.format, reason=message[:500])
    job.refresh_from_db()
    return job


def _bundle(job, files, out):
    """One download per job: a single file as it is, several in one zip."""
    if len(files) == 1:
        return Path(files[0].path), files[0].name, files[0].media_type
    name = f"belonging-{job.agreement.public_id}-{job.format}.zip"
    target = out / name
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.write(f.path, arcname=f.name)
    for f in files:
        Path(f.path).unlink()
    return target, name, "application/zip"


def finish_job(job, result, out):
    if not result.files:
        return fail_job(job, "The export produced no file.")
    path, name, media_type = _bundle(job, result.files, out)
    relative = path.resolve().relative_to(export_dir().resolve())
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, progress=100, step="ready", file_path=str(relative),
        file_name=name, media_type=media_type, rows=result.rows, report=result.report,
        finished_at=now, expires_at=now + DOWNLOAD_WINDOW)
    audit(job.requested_by, "export.completed", target=job.agreement.public_id,
          job=job.public_id, format=job.format, file=name, rows=result.rows)
    job.refresh_from_db()
    return job


# --- downloads ----------------------------------------------------------------------


def researcher_job(user, public_id):
    """The door for a researcher's job, auditing a miss (someone else's, or none)."""
    try:
        return access.get_export_for_researcher(user, public_id)
    except Http404:
        audit(user, "export.refused", target="", job=str(public_id)[:40],
              reason="no such export for this user")
        raise


def open_download(user, public_id):
    """(job, path) for a finished job's file, or (job, None) while it is not ready or
    failed. Checked at every download: an agreement revoked or expired since the job
    ran stops it (403), and so does the end of the download window (410)."""
    job = researcher_job(user, public_id)
    agreement = job.agreement
    inactive = agreement.inactive_message()
    if inactive:
        refuse(user, agreement.public_id, inactive[0], params=inactive[1], job=job.public_id)
    if job.status != ExportJob.Status.DONE:
        return job, None
    path = export_dir() / job.file_path if job.file_path else None
    if job.link_expired() or path is None or not path.is_file():
        refuse(user, agreement.public_id, gettext_noop(
            "This download link has expired (links last 24 hours); request the export "
            "again."), status=410, job=job.public_id)
    audit(user, "export.downloaded", target=agreement.public_id, job=job.public_id,
          file=job.file_name)
    return job, path


# --- clean-up -----------------------------------------------------------------------


def delete_job_files(job, *, reason):
    shutil.rmtree(job_dir(job), ignore_errors=True)
    ExportJob.objects.filter(pk=job.pk).update(file_path="", files_deleted_at=timezone.now())
    audit(None, "export.files_deleted", target=job.agreement.public_id, job=job.public_id,
          file=job.file_name, reason=reason)


def delete_expired_files(now=None):
    """Delete the files of jobs whose link expired or whose agreement ended; mark jobs
    that lost their worker as failed. Returns how many jobs' files were deleted."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ended = (Q(expires_at__lte=now) | Q(agreement__revoked_at__isnull=False)
             | Q(agreement__expires_on__lt=today))
    jobs = ExportJob.objects.exclude(file_path="").filter(ended).select_related("agreement")
    count = 0
    for job in jobs:
        delete_job_files(job, reason="download window or agreement ended")
        count += 1
    stale = ExportJob.objects.filter(status=ExportJob.Status.RUNNING,
                                     started_at__lt=now - STALE_AFTER)
    for job in stale.select_related("agreement"):
        fail_job(job, "The export was interrupted (its worker stopped). Request it again.")
    return count
