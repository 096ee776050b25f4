"""Export jobs' row locks, seen from other PostgreSQL connections (threads): a locked
job is skipped, a lock on the agreement hides none of its jobs, two runners claim and run
a job once. Transactional tests (a test transaction would hide the rows from the other
connections), so each builds and publishes its own world (tests/research/conftest)."""

import threading

import pytest
from django.db import connection, transaction

from research import jobs
from research.models import Agreement, ExportJob
from surveys.models import AuditEvent


def waiting_job(agreement, world, fmt="csv"):
    """A created job no runner was sent (in a transactional test, request_export's
    on-commit send would run it at once with eager Celery)."""
    return ExportJob.objects.create(agreement=agreement, requested_by=world["researcher"],
                                    format=fmt)


@pytest.mark.django_db(transaction=True)
def test_a_locked_job_is_skipped_not_waited_for(world, published):
    from tests.research.conftest import make_agreement

    job = waiting_job(make_agreement(world, [published]), world)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with transaction.atomic():
            ExportJob.objects.select_for_update().get(pk=job.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(10)
        assert jobs.claim_job(job.id) is None  # SKIP LOCKED: returns at once
    finally:
        release.set()
        holder.join()
    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.CREATED


@pytest.mark.django_db(transaction=True)
def test_a_lock_on_the_agreement_does_not_hide_its_jobs(world, published):
    """Only the job row is locked: another job of the same agreement being claimed (or
    the agreement being revoked) holds the agreement row, and this job still runs."""
    from tests.research.conftest import make_agreement

    agreement = make_agreement(world, [published])
    job = waiting_job(agreement, world)
    locked, release = threading.Event(), threading.Event()

    def hold_the_agreement():
        with transaction.atomic():
            Agreement.objects.select_for_update().get(pk=agreement.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_agreement)
    holder.start()
    try:
        assert locked.wait(10)
        assert jobs.claim_job(job.id) is not None
    finally:
        release.set()
        holder.join()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runners_claim_a_job_once(world, published):
    from tests.research.conftest import make_agreement

    agreement = make_agreement(world, [published])
    for _round in range(5):
        job = waiting_job(agreement, world)
        start = threading.Barrier(2)
        claims = []

        def runner(job_id=job.id, start=start, claims=claims):
            start.wait(10)
            claims.append(jobs.claim_job(job_id))
            connection.close()

        threads = [threading.Thread(target=runner) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(claim is not None for claim in claims) == 1
        assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.RUNNING


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runners_run_a_job_once_end_to_end(world, published):
    """The real exporter, two threads on their own PostgreSQL connections: one writes the
    file, the other returns without running; one completion is audited."""
    from tests.research.conftest import make_agreement

    job = waiting_job(make_agreement(world, [published]), world, "parquet")
    start = threading.Barrier(2)
    results = []

    def runner():
        start.wait(10)
        results.append(jobs.run_job(job.id))
        connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ran = [r for r in results if r is not None]
    assert len(results) == 2 and len(ran) == 1
    assert ran[0].status == ExportJob.Status.DONE, ran[0].error
    assert AuditEvent.objects.filter(action="export.completed").count() == 1
    assert [p.name for p in jobs.job_dir(ran[0]).iterdir()] == [ran[0].file_name]
