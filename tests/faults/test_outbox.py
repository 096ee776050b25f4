"""The publish outbox (analytics/outbox.py): which queued runs the beat task sends
again. The broker actually being down is tests/faults/test_redis_down.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import outbox
from analytics.models import PublishRun


@pytest.fixture
def runs(world):
    now = timezone.now()

    def run(step, age, status="queued"):
        r = PublishRun.objects.create(wave=world["wave"], step=step, status=status)
        PublishRun.objects.filter(pk=r.pk).update(created_at=now - age)
        return r.pk

    return now, {
        "unsent_new": run("", timedelta(seconds=10)),
        "unsent_old": run("", timedelta(minutes=2)),
        "sent_recent": run(outbox.SENT, timedelta(minutes=30)),
        "sent_lost": run(outbox.SENT, timedelta(hours=2)),
        "resent_once": run(outbox.RESENT, timedelta(hours=3)),
        "running": run("aggregating", timedelta(hours=2), status="running"),
        "done": run("published", timedelta(hours=2), status="done"),
    }


def test_the_sweep_sends_unsent_runs_and_lost_ones_once(runs):
    now, ids = runs
    pending = {pk for pk in outbox.pending(now).values_list("pk", flat=True)}
    assert pending == {ids["unsent_old"], ids["sent_lost"]}


def test_a_sent_run_is_marked_so_it_is_not_sent_twice(world):
    run = PublishRun.objects.create(wave=world["wave"])
    # Eager in tests: the task runs at once, so the run is one a worker has touched:
    # the "sent" mark must not overwrite its state.
    outbox.send(run.id, run.wave_id)
    run.refresh_from_db()
    assert run.status != "queued" and run.step != outbox.SENT
