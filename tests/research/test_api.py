"""The research API with a token: 202 with the job's URL, 409 with progress until the
file is ready, then the file; 410 for a failed job (with its reason) or an expired
link; 403 outside the agreement; 404 for someone else's; all audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from research import jobs
from research import services as research
from research.models import Agreement, ApiToken, ExportJob, hash_token
from surveys.models import AuditEvent
from tests.research.conftest import today
from tests.research.test_jobs import finished


@pytest.fixture
def world(published_copy):
    """The world and wave published once for this module (its tests only read them):
    tests/research/conftest.published_once."""
    return published_copy[0]


@pytest.fixture
def published(published_copy):
    return published_copy[1]


@pytest.fixture
def token(world):
    return ApiToken.issue(world["researcher"], "laptop")[1]


def auth(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_export(client, agreement, raw, fmt="csv"):
    return client.post(f"/api/v1/agreements/{agreement.public_id}/exports/",
                       {"format": fmt}, content_type="application/json", **auth(raw))


def test_only_the_tokens_hash_is_stored(world, token):
    row = ApiToken.objects.get()
    assert row.key_hash == hash_token(token) and token not in row.key_hash
    assert token.startswith("blg_") and row.hint == token[:10]


def test_request_202_then_409_with_progress_then_the_file(client, world, agreement, token):
    response = post_export(client, agreement, token)
    assert response.status_code == 202
    job = ExportJob.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/exports/{job.public_id}/"
    assert response.json()["status"] == "created"

    waiting = client.get(response["Location"], **auth(token))
    assert waiting.status_code == 409
    assert waiting.json()["status"] == "created" and waiting.json()["progress"] == 0
    assert waiting["Retry-After"] == "1"

    claimed = jobs.claim_job(job.id)
    jobs._progress_for(claimed)(40, "generalising quasi-identifiers")
    running = client.get(response["Location"], **auth(token)).json()
    assert (running["status"], running["progress"], running["step"]) == (
        "running", 40, "generalising quasi-identifiers")

    finished(claimed)
    ready = client.get(response["Location"], **auth(token))
    assert ready.status_code == 200
    job.refresh_from_db()
    assert ready["Content-Disposition"] == f'attachment; filename="{job.file_name}"'
    assert b"".join(ready.streaming_content)[:4] == b"PK\x03\x04"  # the CSV and its report
    assert AuditEvent.objects.filter(action="export.downloaded").count() == 1
    assert ApiToken.objects.get().last_used_at is not None


def test_a_failed_job_answers_410_with_its_reason(client, world, agreement, token):
    post_export(client, agreement, token)
    job = jobs.claim_job(ExportJob.objects.get().id)
    jobs.fail_job(job, "k = 10 cannot be met without dropping: class, year level.")
    response = client.get(f"/api/v1/exports/{job.public_id}/", **auth(token))
    assert response.status_code == 410
    assert response.json()["status"] == "failed"
    assert response.json()["detail"] == ("k = 10 cannot be met without dropping: class, "
                                         "year level.")


def test_an_expired_link_answers_410(client, world, agreement, token):
    job = finished(jobs.claim_job(research.request_export(
        agreement, by=world["researcher"], fmt="csv").id))
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    response = client.get(f"/api/v1/exports/{job.public_id}/", **auth(token))
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]


def test_outside_the_agreement_is_403_with_a_message_and_audited(client, world, agreement,
                                                                 token):
    Agreement.objects.filter(pk=agreement.pk).update(expires_on=today() - timedelta(days=1))
    response = post_export(client, agreement, token)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("This agreement expired on")
    assert AuditEvent.objects.filter(action="export.refused",
                                     target=agreement.public_id).count() == 1


def test_a_bad_format_is_a_400_with_the_choices(client, world, agreement, token):
    response = post_export(client, agreement, token, fmt="xlsx")
    assert response.status_code == 400
    assert "csv, parquet, sav, dta, codebook, summary" in response.json()["detail"]


def test_someone_elses_token_finds_nothing(client, world, agreement, token, other_researcher):
    job = research.request_export(agreement, by=world["researcher"], fmt="csv")
    other = ApiToken.issue(other_researcher, "theirs")[1]
    assert post_export(client, agreement, other).status_code == 404
    assert client.get(f"/api/v1/exports/{job.public_id}/", **auth(other)).status_code == 404
    assert client.get(f"/api/v1/exports/{job.public_id}/status/",
                      **auth(other)).status_code == 404
    assert client.get("/api/v1/agreements/", **auth(other)).json() == []
    refused = AuditEvent.objects.filter(action="export.refused", actor=other_researcher)
    assert refused.count() == 3
    assert ExportJob.objects.count() == 1


def test_bad_or_revoked_tokens_are_refused(client, world, agreement, token):
    assert post_export(client, agreement, "blg_not-a-token").status_code == 401
    ApiToken.objects.update(revoked_at=timezone.now())
    response = post_export(client, agreement, token)
    assert response.status_code == 401
    assert response.json()["detail"] == "The token is not valid or was revoked."


def test_a_research_token_opens_nothing_but_the_research_endpoints(client, world, token):
    assert client.get("/api/v1/agreements/", **auth(token)).status_code == 200
    assert client.get("/api/v1/waves/", **auth(token)).status_code in (401, 403)


def test_agreements_and_jobs_are_listed_for_the_researcher(client, world, agreement, token):
    research.request_export(agreement, by=world["researcher"], fmt="sav")
    listed = client.get("/api/v1/agreements/", **auth(token)).json()
    assert [a["public_id"] for a in listed] == [agreement.public_id]
    assert listed[0]["active"] is True and listed[0]["k"] == 10
    exports = client.get(f"/api/v1/agreements/{agreement.public_id}/exports/",
                         **auth(token)).json()
    assert [j["format"] for j in exports] == ["sav"]


def test_the_schema_describes_the_research_endpoints(client, world):
    client.force_login(world["leader"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/agreements/{public_id}/exports/" in text
    assert "researchToken" in text
