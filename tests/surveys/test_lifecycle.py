"""Retention: raw responses, consent records and their pseudonyms are deleted after a
series' retention period, in batches, with a count-only audit event; published
snapshots stay byte-identical, and a wave whose raw data is gone is never republished."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import PublishRun, Snapshot
from analytics.publishing import publish, request_publish
from surveys import consent, lifecycle, services
from surveys.models import AuditEvent, OptOut, Response, Wave
from surveys.tasks import apply_retention
from tests.surveys.lifecycle_helpers import closed_wave, linked_series

NOW = datetime(2027, 12, 1, 9, 0, tzinfo=UTC)


def close_at(wave, when):
    Wave.objects.filter(pk=wave.pk).update(closed_at=when)


@pytest.fixture
def expired(world):
    """A linked series, one published wave closed 13 months before NOW, with opt-outs."""
    series = linked_series(world)
    classes = [world["classes"]["7A"], world["classes"]["7B"]]
    wave = closed_wave(series, world["leader"], classes, 12, numbers=True)
    publish(wave.id)
    consent.record(series, classes[0], by=world["leader"], student_number="OUT-1")
    consent.record(series, classes[0], by=world["leader"], student_number="OUT-2")
    close_at(wave, NOW - timedelta(days=396))
    return series, wave


def snapshot_bytes(client, world, wave):
    client.force_login(world["leader"])
    api = client.get(f"/api/v1/waves/{wave.public_id}/snapshot/")
    assert api.status_code == 200
    snapshot = Snapshot.objects.get(wave=wave)
    stored = json.dumps([snapshot.data, snapshot.audit, snapshot.fingerprint,
                         snapshot.version, snapshot.created_at.isoformat()], sort_keys=True)
    return stored, api.content


def test_an_expired_series_loses_its_responses_and_consent_records(world, expired):
    series, wave = expired
    assert Response.objects.filter(wave=wave).count() == 24
    assert OptOut.objects.filter(series=series).count() == 2
    done = lifecycle.apply_retention(NOW)
    assert done == {series.public_id: {"responses": 24, "consent_records": 2}}
    assert not Response.objects.filter(wave__series=series).exists()
    assert not OptOut.objects.filter(series=series).exists()
    # Nothing left to do the next day.
    assert lifecycle.apply_retention(NOW + timedelta(days=1)) == {}


def test_the_retention_audit_event_holds_counts_only(world, expired):
    series, wave = expired
    pseudonyms = set(Response.objects.filter(wave=wave).values_list("pseudonym", flat=True))
    lifecycle.apply_retention(NOW)
    event = AuditEvent.objects.get(action=lifecycle.RETENTION)
    assert event.target == series.public_id and event.school == world["school"]
    assert event.actor is None
    assert event.detail == {"responses": 24, "consent_records": 2, "waves": [wave.public_id],
                            "district": world["district"].public_id}
    text = json.dumps(event.detail)
    assert not any(p in text for p in pseudonyms)
    assert "OUT-1" not in text


def test_the_published_snapshot_and_its_api_output_are_byte_identical(client, world, expired):
    _series, wave = expired
    before = snapshot_bytes(client, world, wave)
    lifecycle.apply_retention(NOW)
    assert not Response.objects.filter(wave=wave).exists()
    assert snapshot_bytes(client, world, wave) == before


def test_a_series_within_its_retention_period_is_kept(world, expired):
    series, wave = expired
    close_at(wave, NOW - timedelta(days=300))
    assert lifecycle.apply_retention(NOW) == {}
    series.retention_months = 6
    series.save()
    assert series.public_id in lifecycle.apply_retention(NOW)


def test_a_series_with_an_open_or_draft_wave_is_kept(world, expired):
    series, _wave = expired
    draft = services.create_wave(series, by=world["leader"], label="Next", season="spring",
                                 starts_on=NOW.date())
    assert lifecycle.apply_retention(NOW) == {}
    services.open_wave(draft, by=world["leader"])
    assert lifecycle.apply_retention(NOW) == {}
    assert Response.objects.filter(wave__series=series).count() == 24


def test_other_series_are_untouched(world, expired):
    other = closed_wave(world["series"], world["leader"], [world["classes"]["8A"]], 5)
    lifecycle.apply_retention(NOW)
    assert Response.objects.filter(wave=other).count() == 5


def test_deletion_runs_in_batches(world, expired):
    _series, wave = expired
    with CaptureQueriesContext(connection) as ctx:
        deleted = lifecycle.delete_in_batches(Response.objects.filter(wave=wave), batch=10)
    assert deleted == 24
    deletes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 10 + 10 + 4 ids


def test_a_wave_whose_raw_data_is_gone_is_never_published_again(world, expired):
    _series, wave = expired
    lifecycle.apply_retention(NOW)
    with pytest.raises(services.ServiceError, match="deleted"):
        request_publish(wave, by=world["leader"])
    with pytest.raises(services.ServiceError):
        publish(wave.id)
    assert Snapshot.objects.filter(wave=wave).count() == 1
    assert not PublishRun.objects.filter(wave=wave).exists()


def test_a_new_wave_of_a_retained_series_publishes_normally(world, expired):
    series, _wave = expired
    lifecycle.apply_retention(NOW)
    later = closed_wave(series, world["leader"], [world["classes"]["7A"]], 12,
                        label="Autumn 2028", numbers=True)
    snapshot = publish(later.id)
    assert snapshot.version == 1


def test_months_are_calendar_months():
    jan31 = datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert lifecycle.add_months(jan31, 1) == datetime(2027, 2, 28, 12, tzinfo=UTC)
    assert lifecycle.add_months(jan31, 12) == datetime(2028, 1, 31, 12, tzinfo=UTC)
    assert lifecycle.add_months(datetime(2027, 11, 30, tzinfo=UTC), 3) == \
        datetime(2028, 2, 29, tzinfo=UTC)


def test_the_daily_beat_entry_runs_the_retention_task(world, expired):
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values()
               if e["task"] == "surveys.tasks.apply_retention"]
    assert len(entries) == 1 and entries[0]["schedule"] == 86400.0
    series, wave = expired
    close_at(wave, timezone.now() - timedelta(days=400))
    assert apply_retention.delay().get() == {series.public_id: {"responses": 24,
                                                                "consent_records": 2}}
