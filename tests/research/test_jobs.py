"""Export jobs: requests and refusals, the created -> running -> done | failed machine,
downloads checked at download time, and the clean-up of files. Row locks seen from
other connections: test_job_locks; requests refused because the wave was closed under
the agreement: test_changed_world."""

import zipfile
from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from analytics.exporters import export
from analytics.exporters.scope import ExportFile, ExportResult
from research import jobs
from research import services as research
from research.models import Agreement, ExportJob
from surveys.models import AuditEvent
from tests.research.conftest import today


@pytest.fixture
def world(published_copy):
    """The world and wave published once for this module (its tests only read them):
    tests/research/conftest.published_once."""
    return published_copy[0]


@pytest.fixture
def published(published_copy):
    return published_copy[1]


def request(agreement, world, fmt="csv"):
    return research.request_export(agreement, by=world["researcher"], fmt=fmt)


def finished(job):
    """Finish a claimed job with the real exporter, step by step as run_job does."""
    out = jobs.job_dir(job)
    result = export(job.agreement.scope(), job.format, str(out), jobs._progress_for(job))
    return jobs.finish_job(job, result, out)


def zip_names(job):
    with zipfile.ZipFile(jobs.export_dir() / job.file_path) as archive:
        return sorted(archive.namelist())


@pytest.fixture
def done_job(world, agreement):
    job = request(agreement, world)
    return finished(jobs.claim_job(job.id))


def test_a_request_creates_a_job_sent_on_commit_and_audited(
        world, agreement, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job = request(agreement, world, "parquet")
    assert job.status == ExportJob.Status.CREATED and job.format == "parquet"
    assert len(callbacks) == 1
    event = AuditEvent.objects.get(action="export.requested")
    assert event.actor == world["researcher"] and event.target == agreement.public_id
    assert event.detail == {"job": job.public_id, "format": "parquet"}


def test_an_unknown_format_is_a_400(world, agreement):
    with pytest.raises(research.ExportDenied, match="Unknown format 'xlsx'") as refused:
        request(agreement, world, "xlsx")
    assert refused.value.status == 400


def test_claiming_moves_created_to_running_once(world, agreement):
    job = request(agreement, world)
    claimed = jobs.claim_job(job.id)
    assert claimed.status == ExportJob.Status.RUNNING and claimed.started_at is not None
    assert jobs.claim_job(job.id) is None  # running: a second runner returns
    finished(claimed)
    assert jobs.claim_job(job.id) is None  # done: likewise
    assert jobs.run_job(job.id) is None
    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE


def test_a_job_under_an_ended_agreement_fails_with_the_reason(world, agreement):
    job = request(agreement, world)
    research.revoke_agreement(agreement, by=world["leader"])
    failed = jobs.run_job(job.id)
    assert failed.status == ExportJob.Status.FAILED
    assert failed.error.startswith("This agreement was revoked on")
    event = AuditEvent.objects.get(action="export.failed")
    assert event.detail["job"] == job.public_id and "revoked" in event.detail["reason"]


def test_a_finished_job_has_its_file_rows_report_and_a_24_hour_link(world, done_job):
    assert done_job.status == ExportJob.Status.DONE and done_job.progress == 100
    name = f"belonging-{done_job.agreement.public_id}-csv"
    assert done_job.file_name == f"{name}.zip" and done_job.rows == 45  # 3 classes x 15
    assert zip_names(done_job) == [f"{name}-report.json", f"{name}.csv"]
    assert done_job.report["records_out"] == 45 and done_job.report["k"] == 10
    assert done_job.expires_at - done_job.finished_at == timedelta(hours=24)
    assert (jobs.export_dir() / done_job.file_path).is_file()
    event = AuditEvent.objects.get(action="export.completed")
    assert event.detail["file"] == done_job.file_name and event.detail["rows"] == 45


def test_one_file_is_offered_as_it_is_several_as_one_zip(world, agreement):
    out = jobs.job_dir(jobs.claim_job(request(agreement, world).id))
    out.mkdir(parents=True)
    (out / "a.csv").write_text("x\n")
    (out / "a.json").write_text("{}")
    job = ExportJob.objects.get()
    one = jobs.finish_job(job, ExportResult(files=[ExportFile(str(out / "a.csv"), "a.csv",
                                                              "text/csv")]), out)
    assert (one.file_name, one.media_type) == ("a.csv", "text/csv")
    two = jobs.finish_job(job, ExportResult(files=[
        ExportFile(str(out / "a.csv"), "a.csv", "text/csv"),
        ExportFile(str(out / "a.json"), "a.json", "application/json")]), out)
    assert two.file_name == f"belonging-{agreement.public_id}-csv.zip"
    assert zip_names(two) == ["a.csv", "a.json"]
    assert sorted(p.name for p in out.iterdir()) == [two.file_name]  # originals removed


def test_download_is_audited_with_the_file(world, done_job):
    job, path = jobs.open_download(world["researcher"], done_job.public_id)
    assert zipfile.is_zipfile(path) and path.name == job.file_name
    event = AuditEvent.objects.get(action="export.downloaded")
    assert event.actor == world["researcher"]
    assert event.target == done_job.agreement.public_id
    assert event.detail == {"job": done_job.public_id, "file": done_job.file_name}


def test_revocation_stops_a_download_at_once_and_deletes_the_file(world, done_job):
    path = jobs.export_dir() / done_job.file_path
    research.revoke_agreement(done_job.agreement, by=world["leader"])
    with pytest.raises(research.ExportDenied, match="revoked") as refused:
        jobs.open_download(world["researcher"], done_job.public_id)
    assert refused.value.status == 403
    assert not path.exists()
    assert ExportJob.objects.get(pk=done_job.pk).file_path == ""
    assert AuditEvent.objects.filter(action="export.refused").count() == 1
    assert not AuditEvent.objects.filter(action="export.downloaded").exists()


def test_an_expired_agreement_stops_a_download_within_the_link_window(world, done_job):
    Agreement.objects.filter(pk=done_job.agreement_id).update(
        expires_on=today() - timedelta(days=1))
    with pytest.raises(research.ExportDenied, match="expired on"):
        jobs.open_download(world["researcher"], done_job.public_id)


def test_an_expired_link_is_gone(world, done_job):
    ExportJob.objects.filter(pk=done_job.pk).update(expires_at=timezone.now())
    with pytest.raises(research.ExportDenied, match="link has expired") as refused:
        jobs.open_download(world["researcher"], done_job.public_id)
    assert refused.value.status == 410


def test_someone_elses_job_is_not_found_and_audited(world, done_job, other_researcher):
    with pytest.raises(Http404):
        jobs.open_download(other_researcher, done_job.public_id)
    with pytest.raises(Http404):
        jobs.open_download(world["leader"], done_job.public_id)
    assert AuditEvent.objects.filter(action="export.refused").count() == 2


def test_clean_up_deletes_expired_files_only(world, agreement):
    keep = finished(jobs.claim_job(request(agreement, world).id))
    old = finished(jobs.claim_job(request(agreement, world).id))
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert jobs.delete_expired_files() == 1
    old.refresh_from_db()
    keep.refresh_from_db()
    assert old.file_path == "" and old.files_deleted_at is not None
    assert not jobs.job_dir(old).exists()
    assert (jobs.export_dir() / keep.file_path).is_file()
    event = AuditEvent.objects.get(action="export.files_deleted")
    assert event.detail["job"] == old.public_id and event.detail["file"] == old.file_name
    assert jobs.delete_expired_files() == 0


def test_clean_up_deletes_files_of_ended_agreements(world, done_job):
    Agreement.objects.filter(pk=done_job.agreement_id).update(
        expires_on=today() - timedelta(days=1))
    assert jobs.delete_expired_files() == 1
    assert not jobs.job_dir(done_job).exists()


def test_clean_up_fails_a_job_that_lost_its_worker(world, agreement):
    job = jobs.claim_job(request(agreement, world).id)
    ExportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=3))
    jobs.delete_expired_files()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "interrupted" in job.error


def test_jobs_the_broker_never_got_are_sent_again(world, agreement):
    job = request(agreement, world)  # its on-commit send never ran (test transaction)
    assert jobs.resend_pending() == 0  # within the grace period
    later = timezone.now() + timedelta(minutes=2)
    assert [j.pk for j in ExportJob.objects.filter(status="created", step="")] == [job.pk]
    assert jobs.resend_pending(now=later) == 1


def test_a_researcher_queues_at_most_three_exports_at_once(world, agreement):
    for _ in range(research.MAX_ACTIVE_JOBS):
        request(agreement, world)
    with pytest.raises(research.ExportDenied, match="3 exports waiting or running") as refused:
        request(agreement, world)
    assert refused.value.status == 429
    jobs.fail_job(jobs.claim_job(ExportJob.objects.order_by("id").first().id), "stopped")
    assert request(agreement, world).status == ExportJob.Status.CREATED


def test_the_beat_schedule_runs_the_clean_up_and_resend_tasks(settings, world, done_job):
    from belonging.celery import app
    from research import tasks

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("research.tasks.delete_expired_exports", "research.tasks.resend_export_jobs"):
        assert name in scheduled and name in app.tasks
    ExportJob.objects.filter(pk=done_job.pk).update(expires_at=timezone.now())
    assert tasks.delete_expired_exports.delay().get() == {"deleted": 1}
    assert not jobs.job_dir(done_job).exists()
