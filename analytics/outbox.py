"""PublishRun rows are the outbox of publishing: a request is committed to PostgreSQL
first, then sent to the broker. If Redis is down at that moment the request is not
lost: the run stays `queued` with an empty step, and the beat task
`analytics.tasks.resend_publish_runs` sends it again once the broker is back.

A run that was sent but is still queued long after (a Redis restarted without
persistence loses its queue) is sent once more; publishing is idempotent (the same
responses give the same snapshot), so a duplicate message costs time, never data.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from .models import PublishRun

log = logging.getLogger(__name__)

SENT = "sent to a worker"
RESENT = "sent to a worker again"
# A run not sent yet gets this long for its own on-commit send before the sweep tries.
UNSENT_GRACE = timedelta(seconds=60)
# A sent run still queued after this long is presumed lost by the broker.
SENT_GRACE = timedelta(hours=1)


def send(run_id, wave_id, previous=""):
    """Send one run to the broker; True when the broker took it. The run's step records
    that it was sent (`previous` is the step it had)."""
    from .tasks import publish_wave

    try:
        publish_wave.delay(wave_id, run_id)
    except (OperationalError, OSError):
        log.warning("Broker unavailable: publish run %s stays queued and will be sent again.",
                    run_id)
        return False
    # Only a run no worker has touched yet: with eager tasks it is already done.
    PublishRun.objects.filter(pk=run_id, status=PublishRun.Status.QUEUED,
                              step=previous).update(step=RESENT if previous else SENT)
    return True


def send_on_commit(run):
    transaction.on_commit(lambda: send(run.id, run.wave_id))


def pending(now=None):
    now = now or timezone.now()
    queued = PublishRun.objects.filter(status=PublishRun.Status.QUEUED)
    unsent = queued.filter(step="", created_at__lte=now - UNSENT_GRACE)
    lost = queued.filter(step=SENT, created_at__lte=now - SENT_GRACE)
    return (unsent | lost).order_by("created_at", "id")


def resend_pending(now=None):
    """Send every pending run (once more for a lost one); returns how many the broker
    took."""
    return sum(send(run.id, run.wave_id, previous=run.step) for run in pending(now))
