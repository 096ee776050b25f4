"""Publishing a wave: one part per school, then the wave level, then the snapshot
written whole.

`request_publish` is what a leader's click calls; it enqueues the Celery task on
commit. The work is split so that Celery can spread it (analytics.tasks):
`start` lists the schools, `school_part` computes, suppresses, audits and stores one
school's part (invisible until a snapshot lists it), and `finish` builds the district
level over the parts (district-wide series) and writes the snapshot, the wave's
status and the audit event in one transaction. `publish` runs the same steps in
process (tests, the demo, a shell).

Idempotent: a part is stored under a fingerprint of everything it is computed from,
so a rerun after a crash reuses the parts already written and recomputes the rest;
the snapshot is stored under a fingerprint of its content, so publishing the same
responses again is a no-op.
"""

import hashlib
import json
from collections import defaultdict

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from surveys.lifecycle import check_publishable
from surveys.models import Response, School, Wave
from surveys.services import ServiceError, audit

from . import snapshot as build
from .models import (
    LOST,
    PARTS_DONE,
    REFUSED,
    SCHOOLS_DONE,
    STOPPED,
    TIMED_OUT,
    PublishRun,
    Snapshot,
    SnapshotPart,
    time_left,
)
from .snapshot import DisclosureAuditFailed

WAVE_RELATED = ("series__school__district", "series__district", "series__instrument")
# A refusal recorded as a run's error, in English: PublishRun.shown translates it.
REOPENED = gettext_noop("The wave was reopened while it was being published, so these "
                        "results could miss answers. Nothing was published: publish it "
                        "again once it is closed.")


def request_publish(wave, *, by):
    from . import outbox

    with transaction.atomic():
        wave = (Wave.objects.select_for_update(of=("self",)).select_related(*WAVE_RELATED)
                .get(pk=wave.pk))
        if wave.status not in (Wave.Status.CLOSED, Wave.Status.PUBLISHED):
            raise ServiceError(_("Close the wave before publishing: no results during "
                                 "fieldwork."))
        _check_not_running(wave)
        check_publishable(wave)  # raw data deleted (retention, erasure): surveys/lifecycle
        run = PublishRun.objects.create(wave=wave, requested_by=by,
                                        wave_opened_at=wave.opened_at)
        audit(by, "wave.publish_requested", school=wave.series.school,
              target=wave.public_id, run=run.public_id)
        outbox.send_on_commit(run)  # a broker that is down loses nothing: analytics/outbox
    return run


def _check_not_running(wave):
    """One run at a time: a second would compute every part again beside the first. A
    run that is no longer `active` though unfinished (no end a day after it was asked
    for) is marked failed, as lost: should its parts still end, they do not go on to
    the wave level (`_part_done`)."""
    unfinished = list(wave.publish_runs.filter(
        status__in=[PublishRun.Status.QUEUED, PublishRun.Status.RUNNING]))
    PublishRun.objects.filter(pk__in=[r.pk for r in unfinished if not r.active]).update(
        status=PublishRun.Status.FAILED, step="failed", finished_at=timezone.now(),
        error=LOST)  # recorded in English: PublishRun.shown translates it
    active = next((r for r in unfinished if r.active), None)
    if active is not None:
        raise ServiceError(_("This wave is already being published (%(progress)s%% done); "
                             "the results appear when that finishes.")
                           % {"progress": active.progress})


def _progress(run, status=None, progress=None, step=None, error=None):
    if run is None:
        return
    fields = {"status": status, "progress": progress, "step": step, "error": error}
    changes = {k: v for k, v in fields.items() if v is not None}
    if status in (PublishRun.Status.DONE, PublishRun.Status.FAILED):
        changes["finished_at"] = timezone.now()
    PublishRun.objects.filter(pk=run.pk).update(**changes)


def fingerprint(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _load(wave_id, run_id):
    wave = Wave.objects.select_related(*WAVE_RELATED).get(pk=wave_id)
    run = PublishRun.objects.filter(pk=run_id).first() if run_id else None
    return wave, run


def new_run(wave_id):
    """A run for a publication nobody clicked for (a shell, a script): progress and the
    parts' bookkeeping live on it."""
    return PublishRun.objects.create(wave_id=wave_id).id


def wave_school_ids(wave):
    return wave_queue(wave)[0]


def wave_queue(wave):
    """(school ids, {school: seconds its last part took}): the schools a wave publishes
    a part for, a school series' school; for a district-wide series, each school of
    the district with responses in the wave, the likely longest part first. Workers
    take parts in this order, one at a time (`CELERY_WORKER_PREFETCH_MULTIPLIER = 1`),
    so the longest parts start first and none is left to run alone at the end
    (longest-processing-time-first scheduling). How long a part will take is best told
    by how long the school's last part took (`part_seconds`); a school without one is
    guessed from its small cells. A school series' one part is told the same way, for
    the time left its leader reads."""
    if not wave.series.district_wide:
        school = wave.series.school_id
        return [school], part_seconds(wave, [school])  # its time left (PublishRun.live)
    sizes = class_sizes(wave)
    seconds = part_seconds(wave, sizes)
    return longest_first(sizes, wave.series.k, seconds), seconds


def class_sizes(wave):
    """{school: [responses in each class]} of a district-wide wave's schools."""
    rows = (Response.objects.filter(wave=wave, school__district_id=wave.series.district_id)
            .values_list("school_id", "class_group_id").annotate(n=Count("id")))
    sizes = defaultdict(list)
    for school, _class, n in rows:
        sizes[school].append(n)
    return sizes


def part_seconds(wave, school_ids):
    """{school: seconds} that each school's newest part in the wave's series took to
    build (its report's steps summed): an earlier publication of this wave, or of an
    earlier wave. The cost of a part is mostly its audit, which depends on where the
    small cells fall more than on any count of them (docs/operations.md), and a school
    changes little from one wave to the next."""
    rows = (SnapshotPart.objects.filter(wave__series_id=wave.series_id,
                                        school_id__in=list(school_ids))
            .order_by("created_at", "id").values_list("school_id", "audit__seconds"))
    seconds = {}
    for school, steps in rows:  # oldest first: the newest part's steps stay
        took = sum(v for v in (steps or {}).values() if isinstance(v, (int, float)))
        if took > 0:
            seconds[school] = took
        else:
            seconds.pop(school, None)  # no time recorded: as if no earlier part
    return seconds


def longest_first(sizes, k, seconds=None):
    """School ids ({school: responses in each class}) by how long their parts likely
    take, longest first. Schools with no earlier part (`seconds`) come first, since
    any of them could be long: the most classes under k (none in a school under k,
    hidden whole), then the most responses, then the id. Then the others, by the
    seconds their last part took."""
    seconds = seconds or {}

    def key(school):
        total = sum(sizes[school])
        small = sum(n < k for n in sizes[school]) if total >= k else 0
        return school in seconds, -seconds.get(school, 0.0), -small, -total, school

    return sorted(sizes, key=key)


def start(wave_id, run_id=None):
    """Marks the run as started and returns the ids of the schools to build parts for.
    A run started again (its task redelivered after a worker died) starts afresh; the
    parts it had written are found again by their fingerprints."""
    wave, run = _load(wave_id, run_id)
    school_ids, expected = wave_queue(wave)
    if run is not None:
        run.parts.clear()
        PublishRun.objects.filter(pk=run.pk).update(
            schools_total=len(school_ids), finishing=False, status=PublishRun.Status.RUNNING,
            progress=5, step=_parts_step(0, len(school_ids), 0, None),
            started_at=timezone.now(), expected={str(s): t for s, t in expected.items()})
    return school_ids


def school_part(wave_id, run_id, school_id, progress=None):
    """Builds (or reuses) one school's part and records it on the run. Returns the part
    and whether this call completed the run's set of parts (then the caller goes on to
    `finish`). A failure marks the run failed, with its reason, and is raised again."""
    wave, run = _load(wave_id, run_id)
    if progress is None and run is not None and run.schools_total == 1:
        progress = _step_recorder(run)  # a school series: its one part's steps
    try:
        part = _part(wave, School.objects.get(pk=school_id), progress)
    except Exception as err:
        _fail(wave, run, _failure_message(err))
        raise
    return part, _part_done(run, part)


def _step_recorder(run):
    return lambda pct, step: _progress(run, progress=pct, step=step)


def _failure_message(err):
    """Recorded in English, whoever's request ran the task: PublishRun.shown translates."""
    if isinstance(err, DisclosureAuditFailed):
        return REFUSED % {"reason": err}
    if isinstance(err, SoftTimeLimitExceeded):  # a task's soft_time_limit (analytics.tasks)
        return TIMED_OUT
    return STOPPED % {"error": type(err).__name__, "detail": err}


def _part(wave, school, progress=None):
    inp = build.school_input(wave, school, previous_document(wave, school))
    part = SnapshotPart.objects.filter(wave=wave, school=school,
                                       fingerprint=inp.fingerprint).first()
    if part is not None:
        return part  # written before (an earlier run, or one a dead worker left)
    built = build.build_part(inp, progress or (lambda pct, step: None))
    part, _ = SnapshotPart.objects.get_or_create(
        wave=wave, school=school, fingerprint=inp.fingerprint,
        defaults={"data": built.data, "published": built.published,
                  "relations": built.relations, "audit": built.report})
    return part


def _part_done(run, part):
    if run is None:
        return False
    with transaction.atomic():
        locked = PublishRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == PublishRun.Status.FAILED:
            return False
        locked.parts.add(part)
        done_ids = set(locked.parts.values_list("school_id", flat=True))
        done, total = len(done_ids), locked.schools_total
        last = done >= total and not locked.finishing
        share = share_done(locked.expected, done_ids, total)
        PublishRun.objects.filter(pk=run.pk).update(
            progress=5 + int((PARTS_DONE - 5) * share), finishing=locked.finishing or last,
            step=_parts_step(done, total, share, locked.started_at))
    return last


def share_done(expected, done_ids, total):
    """The share of a run's work its finished parts hold: each school weighs the
    seconds its last part took (`expected`), a school without one the mean of those,
    every school alike when none has one. The longest parts are queued first, so
    counting parts would understate the work done early in the run."""
    mean = sum(expected.values()) / len(expected) if expected else 0.0
    whole = sum(expected.values()) + mean * max(total - len(expected), 0)
    if whole <= 0:
        return len(done_ids) / max(total, 1)
    return min(sum(expected.get(str(s), mean) for s in done_ids) / whole, 1.0)


def _parts_step(done, total, share, started_at):
    if total == 1 and not done:
        return "computing"  # a school series: its part's own steps follow
    step = SCHOOLS_DONE % {"done": done, "total": total}
    if started_at is None or not 0 < share < 1:
        return step
    elapsed = (timezone.now() - started_at).total_seconds()
    return f"{step}, {time_left(elapsed * (1 - share) / share)}"


def finish(wave_id, run_id=None, parts=None):
    """The wave level and the snapshot, over the run's parts (or the given ones)."""
    wave, run = _load(wave_id, run_id)
    if parts is None:
        parts = list(run.parts.all()) if run else []
    parts = sorted(parts, key=lambda p: (p.school.name, p.school_id))
    try:
        data, report = _wave_level(wave, run, parts)
    except Exception as err:
        _fail(wave, run, _failure_message(err))
        raise
    try:
        with translation.override("en"):  # a refusal is recorded in English (`_fail`)
            return _store(wave, run, data, report, parts)
    except ServiceError as err:  # refused by surveys.lifecycle.check_publishable
        _fail(wave, run, str(err))
        raise


def _wave_level(wave, run, parts):
    if not wave.series.district_wide:
        if len(parts) != 1:
            raise RuntimeError(f"a school series' wave needs one part, not {len(parts)}")
        return parts[0].data, parts[0].audit
    _progress(run, step="district level")
    return build.build_district(
        wave, parts, previous_document(wave),
        progress=lambda pct, step: _progress(run, progress=pct, step=step))


def publish(wave_id, run_id=None):
    """Build and store the wave's snapshot in this process: every school's part, then
    the wave level. The Celery tasks run the same steps spread over workers."""
    school_ids = start(wave_id, run_id)
    parts = [school_part(wave_id, run_id, sid)[0] for sid in school_ids]
    return finish(wave_id, run_id, parts)


def _fail(wave, run, message):
    _progress(run, status=PublishRun.Status.FAILED, error=message[:2000], step="failed")
    audit(run.requested_by if run else None, "wave.publish_failed", school=wave.series.school,
          target=wave.public_id, reason=message[:500])


def _store(wave, run, data, audit_report, parts):
    digest = fingerprint({"data": {k: v for k, v in data.items() if k != "published_at"},
                          "parts": sorted(p.fingerprint for p in parts)})
    with transaction.atomic():
        locked = Wave.objects.select_for_update().get(pk=wave.pk)
        # Raw data deleted before or while this run computed: never (re)publish it.
        check_publishable(locked, since=run.created_at if run else None)
        _check_not_reopened(locked, run)
        latest = Snapshot.objects.filter(wave=locked).order_by("-version").first()
        if latest is not None and latest.fingerprint == digest:
            snapshot = latest  # nothing changed: publishing again is a no-op
        else:
            snapshot = Snapshot.objects.create(
                wave=locked, version=(latest.version + 1) if latest else 1,
                data=data, audit=audit_report, fingerprint=digest,
            )
            snapshot.parts.set(parts)
            audit(run.requested_by if run else None, "wave.published",
                  school=locked.series.school, target=locked.public_id,
                  snapshot_version=snapshot.version, schools=len(parts))
        if locked.status != Wave.Status.PUBLISHED:
            locked.status = Wave.Status.PUBLISHED
            locked.save(update_fields=["status"])
        # Parts no snapshot lists and no live run is building from (a dead run's
        # parts whose inputs changed since) are replaced: drop them.
        (SnapshotPart.objects.filter(wave=locked, snapshots__isnull=True)
         .exclude(runs__status__in=[PublishRun.Status.QUEUED, PublishRun.Status.RUNNING])
         .exclude(pk__in=[p.pk for p in parts]).delete())
    _progress(run, status=PublishRun.Status.DONE, progress=100, step="published")
    return snapshot


def _check_not_reopened(wave, run):
    """A wave reopened since the run was asked for may have new answers that the run
    did not read, and is in fieldwork (no results): nothing is published, and the wave
    stays open."""
    asked = run.wave_opened_at if run is not None else None
    if wave.status == Wave.Status.OPEN or (asked is not None and wave.opened_at != asked):
        raise ServiceError(REOPENED)  # recorded in English (`_fail`); shown translated


def latest_snapshot(wave):
    return Snapshot.objects.filter(wave=wave).order_by("-version").first()


def latest_snapshot_before(wave):
    """The newest snapshot of the series' previous published wave, if any."""
    return (
        Snapshot.objects.filter(wave__series=wave.series, wave__starts_on__lt=wave.starts_on)
        .order_by("-wave__starts_on", "-version")
        .first()
    )


def previous_document(wave, school=None):
    """The document change is reported against: the previous published wave's whole
    document (school series; the district level with no school) or that school's part
    of it (district-wide series)."""
    previous = latest_snapshot_before(wave)
    if previous is None:
        return None
    if school is None or not wave.series.district_wide:
        return previous.data
    part = previous.part_for(school)
    return part.data if part else None


def document_for(snapshot, school=None):
    """What a snapshot shows: its document, or (district-wide waves) one school's part."""
    if school is None or not snapshot.wave.series.district_wide:
        return snapshot.data
    part = snapshot.part_for(school)
    return part.data if part else None
