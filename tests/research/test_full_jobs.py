"""End to end with the real exporter: one job per format requested through the API with
a token, run by (eager) Celery on commit, downloaded and read back. A k the data cannot
meet, which fails the job with the exporter's reason instead of a file:
test_changed_world."""

import io
import json
import zipfile

import pandas as pd
import pyreadstat
import pytest

from research.models import ApiToken, ExportJob
from surveys.models import AuditEvent
from tests.research.conftest import make_agreement

FORMATS = ["csv", "parquet", "sav", "dta", "codebook", "summary"]


@pytest.fixture
def world(published_copy):
    """The world and wave published once for this module (its tests only read them):
    tests/research/conftest.published_once."""
    return published_copy[0]


@pytest.fixture
def published(published_copy):
    return published_copy[1]


def run_through_api(client, agreement, token, fmt, capture):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    with capture(execute=True):
        response = client.post(f"/api/v1/agreements/{agreement.public_id}/exports/",
                               {"format": fmt}, content_type="application/json", **headers)
    assert response.status_code == 202
    return client.get(response["Location"], **headers)


def members(download):
    body = b"".join(download.streaming_content)
    if not download["Content-Disposition"].endswith('.zip"'):
        name = download["Content-Disposition"].split('filename="')[1].rstrip('"')
        return {name: body}
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def data_frame(fmt, files, tmp_path):
    """The response rows of a response-level export, read back by a library."""
    (name, body), = [(n, b) for n, b in files.items() if n.endswith(f".{fmt}")]
    path = tmp_path / name
    path.write_bytes(body)
    if fmt == "csv":
        return pd.read_csv(path), None
    if fmt == "parquet":
        return pd.read_parquet(path), None
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    return reader(str(path))


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_full_job_per_format(client, world, published, fmt, tmp_path,
                                 django_capture_on_commit_callbacks):
    agreement = make_agreement(world, [published])
    token = ApiToken.issue(world["researcher"], "script")[1]
    download = run_through_api(client, agreement, token, fmt,
                               django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE, job.error
    assert download.status_code == 200, download.content
    assert download["Content-Disposition"].startswith("attachment;")
    files = members(download)
    text = b"".join(files.values())
    for secret in (world["school"].name.encode(), world["school"].public_id.encode(),
                   published.public_id.encode()):
        assert secret not in text  # opaque, agreement-specific codes only
    if fmt in ("csv", "parquet", "sav", "dta"):
        frame, meta = data_frame(fmt, files, tmp_path)
        assert len(frame) == job.rows > 0
        assert not {"client_id", "pseudonym", "session", "submitted_at"} & set(frame.columns)
        if meta is not None:  # SPSS and Stata keep their labels
            assert meta.column_labels and any(meta.column_labels)
            assert meta.variable_value_labels
    if fmt == "codebook":
        assert any(name.endswith(".json") for name in files)
        assert any(name.endswith(".md") for name in files)
        codebook = json.loads(next(b for n, b in files.items() if n.endswith(".json")))
        assert "PISA2018.ST034Q01TA" in json.dumps(codebook)
    events = [e.action for e in AuditEvent.objects.filter(target=agreement.public_id)
              .order_by("id")]
    assert events == ["agreement.created", "export.requested", "export.completed",
                      "export.downloaded"]


def test_audit_details_carry_no_answers_or_identifiers(
        client, world, published, django_capture_on_commit_callbacks):
    agreement = make_agreement(world, [published])
    token = ApiToken.issue(world["researcher"], "script")[1]
    run_through_api(client, agreement, token, "csv", django_capture_on_commit_callbacks)
    allowed = {"job", "format", "file", "rows", "reason", "researcher", "schools", "waves",
               "k", "expires_on", "include_pseudonyms"}
    for event in AuditEvent.objects.filter(action__startswith="export."):
        assert set(event.detail) <= allowed, (event.action, event.detail)
