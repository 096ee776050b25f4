"""Research tests that change the world or its published wave (the district's k,
another wave in the series or at Lakeside, another publication, the wave closed under
an agreement): each builds and publishes its own per test, where the other research
modules share one published once per module (tests/research/conftest.published_once)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from research import jobs
from research import services as research
from research.models import Agreement, ApiToken, ExportJob
from surveys import services
from surveys.models import AuditEvent, Wave
from surveys.services import ServiceError
from tests.research.conftest import draft_wave, make_agreement, publish_wave, today
from tests.research.test_full_jobs import run_through_api
from tests.research.test_jobs import request


def test_k_is_never_below_the_series_or_district_k(world, published):
    world["district"].min_cell_size = 15
    world["district"].save()
    with pytest.raises(ServiceError, match="k cannot be below 15"):
        make_agreement(world, [published], k=12)
    assert make_agreement(world, [published], k=15).k == 15


def test_only_published_waves_of_the_chosen_schools(world, published):
    draft = draft_wave(world)
    with pytest.raises(ServiceError, match="is not published"):
        make_agreement(world, [published, draft])
    with pytest.raises(ServiceError, match="Choose at least one published wave"):
        make_agreement(world, [])
    lakeside = services.create_series(world["other_school"], by=world["other_leader"],
                                      name="Lakeside 2026", instrument=world["instrument"])
    wave = services.create_wave(lakeside, by=world["other_leader"], label="Autumn",
                                season="autumn", starts_on=published.starts_on)
    Wave.objects.filter(pk=wave.pk).update(status=Wave.Status.PUBLISHED)
    wave.refresh_from_db()
    with pytest.raises(ServiceError, match="is not a wave of the chosen schools"):
        research.create_agreement(
            by=world["district_admin"], researcher=world["researcher"],
            schools=[world["school"]], waves=[wave], purpose="x", starts_on=today(),
            expires_on=today() + timedelta(days=30), k=10)


def test_pseudonyms_only_for_linked_series_and_then_in_scope(world):
    linked = services.create_series(world["school"], by=world["leader"], name="Linked",
                                    instrument=world["instrument"], mode="linked",
                                    demographics=["gender"])
    wave = services.create_wave(linked, by=world["leader"], label="Autumn", season="autumn",
                                starts_on=world["wave"].starts_on)
    publish_wave(world, wave)
    agreement = make_agreement(world, [wave], include_pseudonyms=True)
    assert agreement.scope().include_pseudonyms is True


@pytest.mark.parametrize("end, message", [
    (lambda a: Agreement.objects.filter(pk=a.pk).update(
        expires_on=today() - timedelta(days=1)), "This agreement expired on"),
    (lambda a: Agreement.objects.filter(pk=a.pk).update(revoked_at=timezone.now()),
     "This agreement was revoked on"),
    (lambda a: Agreement.objects.filter(pk=a.pk).update(
        starts_on=today() + timedelta(days=1)), "This agreement starts on"),
    (lambda a: Wave.objects.filter(agreements=a).update(status=Wave.Status.CLOSED),
     "Not yet published"),
])
def test_requests_outside_the_agreement_are_refused_and_audited(world, agreement, end,
                                                                 message):
    end(agreement)
    agreement.refresh_from_db()
    with pytest.raises(research.ExportDenied, match=message) as refused:
        request(agreement, world)
    assert refused.value.status == 403
    assert not ExportJob.objects.exists()
    event = AuditEvent.objects.get(action="export.refused")
    assert event.actor == world["researcher"] and event.target == agreement.public_id
    assert message in event.detail["reason"]


def test_a_k_the_data_cannot_meet_fails_the_job_with_the_reason(
        client, world, django_capture_on_commit_callbacks):
    small = publish_wave(world, world["wave"], per_class=4)  # 12 responses
    agreement = make_agreement(world, [small], k=30)
    token = ApiToken.issue(world["researcher"], "script")[1]
    download = run_through_api(client, agreement, token, "parquet",
                               django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED
    assert job.error.startswith("k = 30 cannot be met")
    assert download.status_code == 410
    assert download.json()["detail"] == job.error
    assert not [p for p in jobs.export_dir().rglob("*") if p.is_file()]  # no unsafe file
    failed = AuditEvent.objects.get(action="export.failed")
    assert failed.detail["reason"].startswith("k = 30 cannot be met")
