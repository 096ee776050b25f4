"""The broker's visibility timeout against the tasks' time limits and the outboxes'
grace (belonging/settings.py, docs/operations.md "Scaling"). The redelivery itself is
tests/faults/test_worker_killed_mid_part.py; this needs no service."""

from analytics import outbox
from belonging import settings as production
from belonging.celery import app
from research import jobs

OPTIONS = production.CELERY_BROKER_TRANSPORT_OPTIONS
TIMEOUT = production.VISIBILITY_TIMEOUT_DEFAULT
SWEEP = OPTIONS["unacked_restore_interval"] * OPTIONS["unacked_restore_throttle"]


def late_tasks():
    """{name: hard time limit} of the tasks acknowledged late (redelivered if a worker
    dies), with the app's default limit for those that declare none."""
    app.loader.import_default_modules()
    return {name: task.time_limit or app.conf.task_time_limit
            for name, task in app.tasks.items()
            if not name.startswith("celery.") and (task.acks_late or app.conf.task_acks_late)}


def test_the_default_timeout_is_the_one_the_settings_use_and_sweeps_every_ten_seconds():
    assert OPTIONS["visibility_timeout"] == TIMEOUT == 2400  # without the variable set
    assert SWEEP == 10


def test_no_running_publish_task_is_handed_out_twice():
    limits = late_tasks()
    publishing = {n: s for n, s in limits.items() if n.startswith("analytics.tasks.publish")}
    assert set(publishing) == {"analytics.tasks.publish_wave", "analytics.tasks.publish_school",
                               "analytics.tasks.publish_finish"}
    assert max(publishing.values()) < TIMEOUT


def test_only_the_export_outlives_the_timeout_and_its_second_delivery_is_refused():
    """A run_export copy delivered while the first still runs finds the job claimed
    (research.jobs.claim_job); tests/research covers the claim."""
    over = {n for n, s in late_tasks().items() if s >= TIMEOUT}
    assert over <= {"research.tasks.run_export", "surveys.tasks.apply_retention"}


def test_redelivery_comes_before_the_outboxes_presume_a_task_lost():
    assert TIMEOUT + SWEEP < outbox.SENT_GRACE.total_seconds()
    assert TIMEOUT + SWEEP < jobs.SENT_GRACE.total_seconds()
