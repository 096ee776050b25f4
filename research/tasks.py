"""Thin Celery tasks: take ids, call the plain functions in research.jobs."""

from celery import shared_task

from . import jobs


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=3000, time_limit=3600)
def run_export(job_id):
    job = jobs.run_job(job_id)
    return {"job_id": job_id, "status": job.status if job else "not run (already taken)"}


@shared_task
def delete_expired_exports():
    return {"deleted": jobs.delete_expired_files()}


@shared_task
def resend_export_jobs():
    return {"sent": jobs.resend_pending()}
