"""An export through Redis and a real Celery worker process (not eager mode): the API
answers 202, then 409 with progress while the worker runs, then the file."""

import time

import pytest

from research.models import ApiToken, ExportJob
from tests.research.conftest import make_agreement, publish_wave

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_export_dir(export_dir, monkeypatch):
    """The worker process reads its settings from the environment: same directory."""
    monkeypatch.setenv("BELONGING_EXPORT_DIR", str(export_dir))
    return export_dir


def test_a_real_worker_runs_an_export_requested_through_the_api(
        client, world, shared_export_dir, celery_worker_process):
    wave = publish_wave(world, world["wave"])
    agreement = make_agreement(world, [wave])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(world['researcher'], 's')[1]}"}
    response = client.post(f"/api/v1/agreements/{agreement.public_id}/exports/",
                           {"format": "sav"}, content_type="application/json", **headers)
    assert response.status_code == 202  # sent to Redis on commit
    seen = []
    deadline = time.time() + 90
    while time.time() < deadline:
        answer = client.get(response["Location"], **headers)
        seen.append(answer.status_code)
        if answer.status_code != 409:
            break
        assert answer.json()["status"] in ("created", "running")
        time.sleep(0.2)
    job = ExportJob.objects.get()
    assert seen[-1] == 200, (seen, job.error)
    assert seen[0] == 409  # the request returned before the worker finished
    assert job.status == "done" and job.started_at and job.finished_at
    assert b"".join(answer.streaming_content)[:4] == b"PK\x03\x04"  # the .sav and its report
