"""The end of raw data: retention, and what deletion means for publishing.

Raw responses are the only copy of what each student answered; published snapshots
are aggregates, suppressed and audited. Deleting raw responses never touches a
snapshot (DESIGN.md, privacy rule 8). What deletion must prevent is a *new* snapshot
of a wave that was already published: the difference between the two would reveal
what was deleted. So every deletion writes an audit event naming the waves it
touched, and `check_publishable` refuses to publish such a wave again
(docs/privacy.md, "Retention and erasure").

Retention (`apply_retention`): a series whose waves are all closed or published, the
last closed more than `Series.retention_months` ago, loses its raw responses and its
consent and opt-out records (those hold the linked pseudonyms; without responses they
protect nothing). Deletion runs in batches of BATCH ids, one short transaction each,
so it never holds locks for long; the audit event (counts only) is written first, so
a run stopped half-way is finished by the next one.
"""

import logging

from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AuditEvent, OptOut, Response, Series, Wave
from .services import ServiceError, audit

log = logging.getLogger(__name__)

BATCH = 5000

RETENTION = "data.retention_deleted"
ERASED_STUDENT = "data.erased_student"
ERASED_WAVE = "data.erased_wave"
DELETIONS = (RETENTION, ERASED_STUDENT, ERASED_WAVE)
# Deletions after which nothing of the wave is left to publish.
WHOLE_WAVE = (RETENTION, ERASED_WAVE)


def add_months(moment, months):
    """The same day and time `months` later (the last day of a shorter month)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(moment)


def delete_in_batches(queryset, batch=BATCH):
    """Delete the rows of `queryset` BATCH ids at a time; returns how many went."""
    model = queryset.model
    total = 0
    while True:
        ids = list(queryset.order_by("id").values_list("id", flat=True)[:batch])
        if not ids:
            return total
        with transaction.atomic():
            deleted, _detail = model.objects.filter(id__in=ids).delete()
        total += deleted


def deletion_events(wave):
    """The audit events of deletions that touched this wave's raw responses."""
    events = AuditEvent.objects.filter(action__in=DELETIONS, target=wave.series.public_id)
    return [e for e in events if wave.public_id in e.detail.get("waves", [])]


def check_publishable(wave, since=None):
    """Raise ServiceError when publishing this wave (again) could reveal deleted data.

    Called before a publication is enqueued, and again with the wave row locked just
    before its snapshot is stored, with `since` the moment the run was requested: a
    deletion after it means the run may have computed from rows now deleted."""
    from analytics.models import Snapshot

    events = deletion_events(wave)
    if since is not None and any(e.created_at >= since for e in events):
        raise ServiceError(_("Responses of this wave were deleted while it was being "
                             "published. Nothing was published."))
    if any(e.action in WHOLE_WAVE for e in events):
        raise ServiceError(_("The raw responses of this wave were deleted, so it cannot be "
                             "published any more. Published results stay as they are."))
    if events and Snapshot.objects.filter(wave=wave).exists():
        raise ServiceError(_(
            "Responses were erased from this wave after it was published. Publishing it "
            "again would let anyone compare the two versions and learn the erased answers, "
            "so it is refused. The published results stay as they are."))


def deletion_audit(by, action, series, waves, *, school=None, **counts):
    """One audit event per deletion: the series, the waves touched, counts only."""
    return audit(by, action, school=school if school is not None else series.school,
                 target=series.public_id, waves=sorted(w.public_id for w in waves),
                 district=series.owner_district.public_id, **counts)


def lock_waves(waves):
    """Lock the waves' rows (in id order, so two deletions cannot deadlock), which
    serialises a deletion with the moment a publication stores its snapshot."""
    return list(Wave.objects.select_for_update().filter(pk__in=[w.pk for w in waves])
                .order_by("id"))


# --- retention ------------------------------------------------------------------------


def retention_ends(series, last_closed):
    return add_months(last_closed, series.retention_months)


def expired_series(now=None):
    """Series past retention that still hold raw responses or consent records: every
    wave closed or published, the last closed more than retention_months ago."""
    now = now or timezone.now()
    unfinished = Wave.objects.filter(series=OuterRef("pk"),
                                     status__in=[Wave.Status.DRAFT, Wave.Status.OPEN])
    responses = Response.objects.filter(wave__series=OuterRef("pk"))
    consents = OptOut.objects.filter(series=OuterRef("pk"))
    candidates = (
        Series.objects.annotate(last_closed=Max("waves__closed_at"))
        .filter(last_closed__isnull=False)
        .filter(~Exists(unfinished))
        .filter(Exists(responses) | Exists(consents))
        .select_related("school__district", "district")
    )
    return [s for s in candidates if retention_ends(s, s.last_closed) <= now]


def retain_series(series, *, by=None):
    """Delete one expired series' raw responses and consent records. Returns counts."""
    waves = list(series.waves.all())
    with transaction.atomic():
        lock_waves(waves)
        counts = {
            "responses": Response.objects.filter(wave__series=series).count(),
            "consent_records": OptOut.objects.filter(series=series).count(),
        }
        deletion_audit(by, RETENTION, series, waves, **counts)
    delete_in_batches(Response.objects.filter(wave__series=series))
    delete_in_batches(OptOut.objects.filter(series=series))
    return counts


def apply_retention(now=None, *, by=None):
    """The daily job: retain every expired series. Returns {series public id: counts}."""
    done = {}
    for series in expired_series(now):
        done[series.public_id] = retain_series(series, by=by)
        log.info("Retention: deleted the raw data of series %s (%s responses, %s consent "
                 "records).", series.public_id, done[series.public_id]["responses"],
                 done[series.public_id]["consent_records"])
    return done


def retention_status(series, now=None):
    """For pages: when the series' raw data is due for deletion (None while a wave is
    still draft or open, or no wave has closed)."""
    waves = list(series.waves.all())
    if not waves or any(w.status in (Wave.Status.DRAFT, Wave.Status.OPEN) for w in waves):
        return None
    closed = [w.closed_at for w in waves if w.closed_at]
    return retention_ends(series, max(closed)) if closed else None

