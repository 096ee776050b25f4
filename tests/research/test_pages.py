"""The agreements page for district admins and leaders, the researcher's exports page
(progress, failures, downloads, tokens) and the home-page links."""

import re
from datetime import timedelta

import pytest

from research import jobs
from research import services as research
from research.models import Agreement, ApiToken, ExportJob
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


def form_data(world, wave, **changes):
    data = {"researcher": world["researcher"].pk, "schools": [world["school"].pk],
            "waves": [wave.pk], "purpose": "Transition study", "starts_on": today(),
            "expires_on": today() + timedelta(days=60), "k": 10}
    data.update(changes)
    return data


def test_a_leader_creates_an_agreement_on_the_page(client, world, published):
    client.force_login(world["leader"])
    page = client.get("/research/agreements/")
    assert page.status_code == 200
    assert "researcher" in page.content.decode()  # the researcher is offered
    assert published.label in page.content.decode()
    response = client.post("/research/agreements/", form_data(world, published))
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert agreement.granted_by == world["leader"] and agreement.k == 10
    listed = client.get("/research/agreements/").content.decode()
    assert agreement.public_id in listed and f"Revoke agreement {agreement.public_id}" in listed


@pytest.mark.parametrize("changes, message", [
    ({"k": 9}, "k cannot be below 10"),
    ({"k": 3}, "Ensure this value is greater than or equal to 5"),
    ({"expires_on": "2020-01-01"}, "The expiry date must be in the future"),
    ({"purpose": ""}, "This field is required"),
    ({"include_pseudonyms": "on"}, "only for waves of a linked series"),
])
def test_bad_agreements_get_a_400_with_a_clear_error(client, world, published, changes,
                                                     message):
    client.force_login(world["leader"])
    response = client.post("/research/agreements/", form_data(world, published, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Agreement.objects.exists()


def test_another_schools_leader_cannot_pick_hilltop(client, world, published):
    client.force_login(world["other_leader"])
    response = client.post("/research/agreements/", form_data(world, published))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Agreement.objects.exists()


def test_revoking_on_the_page(client, world, agreement):
    client.force_login(world["district_admin"])
    response = client.post(f"/research/agreements/{agreement.public_id}/revoke/")
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.revoked_at is not None
    client.force_login(world["other_leader"])
    assert client.post(f"/research/agreements/{agreement.public_id}/revoke/").status_code == 404


def test_researcher_page_shows_agreements_progress_and_failures(client, world, agreement):
    running = jobs.claim_job(research.request_export(agreement, by=world["researcher"],
                                                     fmt="csv").id)
    jobs._progress_for(running)(35, "writing rows")
    failed = jobs.claim_job(research.request_export(agreement, by=world["researcher"],
                                                    fmt="sav").id)
    jobs.fail_job(failed, "k = 10 cannot be met unless year level is dropped.")
    client.force_login(world["researcher"])
    html = client.get("/research/").content.decode()
    assert agreement.purpose in html
    assert re.search(r'<progress max="100" value="35"', html)
    assert "Running: writing rows" in html
    assert "k = 10 cannot be met unless year level is dropped." in html
    assert f'data-status-url="/api/v1/exports/{running.public_id}/status/"' in html
    assert '<script src="/static/js/exports.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert " style=" not in html and " onclick=" not in html


def test_requesting_and_downloading_on_the_page(client, world, agreement,
                                                django_capture_on_commit_callbacks):
    client.force_login(world["researcher"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/research/agreements/{agreement.public_id}/exports/",
                               {"format": "csv"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE, job.error  # eager Celery ran the real export
    html = client.get("/research/").content.decode()
    link = f'href="/research/exports/{job.public_id}/download/"'
    assert link in html and f"Download {job.file_name}" in html
    report = job.report  # what the exporter generalised or suppressed, summarised
    assert f"{report['records_out']} of {report['records_in']} records kept" in html
    download = client.get(f"/research/exports/{job.public_id}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert AuditEvent.objects.filter(action="export.downloaded").count() == 1


def test_a_refused_request_shows_why_on_the_page(client, world, agreement):
    Agreement.objects.filter(pk=agreement.pk).update(expires_on=today() - timedelta(days=1))
    client.force_login(world["researcher"])
    response = client.post(f"/research/agreements/{agreement.public_id}/exports/",
                           {"format": "csv"})
    assert response.status_code == 403
    assert "This agreement expired on" in response.content.decode()


def test_a_revoked_agreements_download_is_refused_on_the_page(client, world, agreement):
    job = finished(jobs.claim_job(research.request_export(
        agreement, by=world["researcher"], fmt="csv").id))
    research.revoke_agreement(agreement, by=world["leader"])
    client.force_login(world["researcher"])
    response = client.get(f"/research/exports/{job.public_id}/download/")
    assert response.status_code == 403
    assert "This agreement was revoked on" in response.content.decode()


def test_a_token_is_shown_once_and_can_be_revoked(client, world):
    client.force_login(world["researcher"])
    response = client.post("/research/tokens/", {"name": "laptop"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw = re.search(r'<code class="token">(blg_[\w-]+)</code>', response.content.decode())[1]
    token = ApiToken.objects.get()
    assert token.key_hash != raw and raw not in client.get("/research/").content.decode()
    response = client.post(f"/research/tokens/{token.public_id}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/agreements/",
                      HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_home_links_the_research_pages_by_role(client, world):
    for persona, present, absent in [
        ("leader", "Research data-sharing agreements", "My research agreements"),
        ("district_admin", "Research data-sharing agreements", "My research agreements"),
        ("researcher", "My research agreements and exports", "data-sharing agreements"),
        ("teacher", None, "Research"),
    ]:
        client.force_login(world[persona])
        html = client.get("/").content.decode()
        if present:
            assert present in html, persona
        assert absent not in html, persona
    client.force_login(world["researcher"])
    assert "no school role yet" not in client.get("/").content.decode()
