"""Published snapshots and the runs that build them.

A wave's publication is built in parts, one per school (each in its own task), then
the wave level; a snapshot is written, inside one transaction, only after every part
is written and the wave level's audit passes. Parts are invisible until a snapshot
lists them; dashboards, the API and reports read snapshots only.
"""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from surveys.models import PublicIdModel, School, Wave

from . import wording
from .fields import DocumentField

# A run neither done nor failed this long after it was asked for is taken as lost (a
# 500-school wave takes about 3.5 hours on one worker: docs/operations.md).
RUN_LOST_AFTER = timedelta(hours=24)
# A run's progress once its school parts are all written (the wave level follows).
PARTS_DONE = 85

# A run's step and error are recorded in English (the REST API gives them as recorded);
# the pages show them in the reader's language (`PublishRun.shown`, and
# static/js/publishing.js with `page_strings`).
UNDER_A_MINUTE = gettext_noop("under a minute left")
MINUTES_LEFT = gettext_noop("about %(minutes)s min left")
HOURS_LEFT = gettext_noop("about %(hours)s hours left")
LONGER = gettext_noop("taking longer than last time")
SCHOOLS_DONE = gettext_noop("schools: %(done)s of %(total)s done")
STEPS = (gettext_noop("computing"), gettext_noop("suppressing"), gettext_noop("auditing"),
         gettext_noop("writing"), gettext_noop("district level"),
         gettext_noop("suppressing the district level"),
         gettext_noop("auditing the district level"), gettext_noop("failed"),
         gettext_noop("published"), UNDER_A_MINUTE, LONGER)
STEP_TEMPLATES = (SCHOOLS_DONE, MINUTES_LEFT, HOURS_LEFT)
# Why a run failed, as recorded by analytics.publishing.
LOST = gettext_noop("Taken as lost: it had not ended a day after it was asked for.")
REFUSED = gettext_noop("The disclosure audit refused this snapshot: %(reason)s")
STOPPED = gettext_noop("Publishing stopped (%(error)s): %(detail)s")
TIMED_OUT = gettext_noop("Publishing took longer than its time limit and was stopped, so "
                         "nothing was published. Publishing again reuses the schools "
                         "already done.")


def time_left(seconds):
    """What a leader reads of an estimate: the time left at the pace so far."""
    if seconds < 60:
        return UNDER_A_MINUTE
    if seconds < 90 * 60:
        return MINUTES_LEFT % {"minutes": round(seconds / 60)}
    return HOURS_LEFT % {"hours": f"{seconds / 3600:.1f}"}


def shown_step(step):
    """A recorded step ("schools: 3 of 16 done, about 4 min left") in the active language."""
    parts = [gettext(part) if part in STEPS else wording.reword(part, STEP_TEMPLATES)
             for part in (step or "").split(", ")]
    return ", ".join(parts) if step else step


def shown_error(error):
    """Why a run failed, as recorded, in the active language: a refusal from
    analytics.publishing or surveys.lifecycle; other text (an exception's) as recorded."""
    if not error or wording.english():
        return error
    translated = gettext(error)  # a refusal recorded whole, as its English msgid
    return translated if translated != error else wording.reword(error, (REFUSED, STOPPED))


LINE = gettext_noop("Publishing: %(status)s %(progress)s%%")
WITH_STEP = gettext_noop("%(line)s (%(step)s)")
FAILED_LINE = gettext_noop("Publishing failed: %(error)s")


def statuses():
    return {"queued": gettext("queued"), "running": gettext("running"),
            "failed": gettext("failed"), "done": gettext("done")}


def page_strings():
    """What static/js/publishing.js needs to show a run read from the API (recorded in
    English) in the page's language, as `PublishRun.shown` does."""
    return {"failed": gettext(FAILED_LINE), "line": gettext(LINE),
            "with_step": gettext(WITH_STEP), "statuses": statuses(),
            "steps": {step: gettext(step) for step in STEPS},
            "templates": [[t, gettext(t)] for t in STEP_TEMPLATES],
            "errors": [[e, gettext(e)] for e in (LOST, REFUSED, STOPPED, TIMED_OUT)]}


class PublishRun(PublicIdModel):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="publish_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=80, blank=True, default="")
    error = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    schools_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True,
                                      help_text="When a worker started its parts.")
    wave_opened_at = models.DateTimeField(
        null=True, blank=True, help_text="The wave's opened_at when publishing was asked "
        "for: another one when its snapshot is written means it was reopened meanwhile.")
    expected = models.JSONField(
        default=dict, blank=True, help_text="Seconds each school's last part took "
        "({school id: seconds}), by which progress and the time left are reckoned.")
    parts = models.ManyToManyField("SnapshotPart", blank=True, related_name="runs",
                                   help_text="The school parts this run has written or reused.")
    finishing = models.BooleanField(
        default=False, help_text="Set by the task that completed the parts and enqueued "
        "the wave level, so it is enqueued once.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"publish {self.wave_id} {self.status}"

    @property
    def active(self):
        """Queued or running, and not taken as lost: no other run may start."""
        return (self.status in (self.Status.QUEUED, self.Status.RUNNING)
                and self.created_at >= timezone.now() - RUN_LOST_AFTER)

    @property
    def live(self):
        """{"progress", "step"} as the pages show them now. A run of one school's part
        records only the part's steps (suppressing, auditing, writing), minutes apart;
        while it computes, how far it has got is reckoned at each reading from the
        seconds that school's last part took (`expected`), as a multi-school run's
        finished parts are (analytics.publishing.share_done)."""
        took = self._one_part_seconds()
        if took is None:
            return {"progress": self.progress, "step": self.step}
        elapsed = (timezone.now() - self.started_at).total_seconds()
        left = took - elapsed
        when = time_left(left) if left > 0 else LONGER
        reckoned = 5 + int((PARTS_DONE - 5) * min(elapsed / took, 0.95))
        return {"progress": max(self.progress, reckoned),
                "step": f"{self.step}, {when}" if self.step else when}

    @property
    def shown(self):
        """{"progress", "text"}: the run's line as the pages show it, in the reader's
        language ("Publishing: running 40% (suppressing)")."""
        if self.status == self.Status.FAILED:
            return {"progress": self.progress,
                    "text": gettext(FAILED_LINE) % {"error": shown_error(self.error)}}
        live = self.live
        line = gettext(LINE) % {"status": statuses().get(self.status, self.status),
                                "progress": live["progress"]}
        if live["step"]:
            line = gettext(WITH_STEP) % {"line": line, "step": shown_step(live["step"])}
        return {"progress": live["progress"], "text": line}

    def _one_part_seconds(self):
        """The seconds this run's one part is expected to take, while it computes."""
        if (self.status != self.Status.RUNNING or self.schools_total != 1
                or self.started_at is None or self.progress >= PARTS_DONE):
            return None
        took = next(iter(self.expected.values()), None) if len(self.expected) == 1 else None
        return took if took and took > 0 else None


def runs_listed(lookup="publish_runs"):
    """A prefetch of waves' runs for the pages that list waves with their latest run
    (`_publish_run.html`), without each run's `expected` (a number per school of a
    district run): `live` reads it only for a running run of one school's part."""
    return models.Prefetch(lookup, queryset=PublishRun.objects.defer("expected"))


TOP_LEVELS = ("school", "district")


def summary_of(document):
    """What the side-by-side tables and the trends read of a published document: its
    wave, components, participation and top-level groups (the whole school, or the
    whole district) with their component cells but not their items. Kept beside the
    document (`summary`, about 2 kB), so a district page of 500 schools reads 500 of
    these rather than parsing 500 documents of about 250 kB."""
    if not document:
        return {}
    return {"wave": document.get("wave"), "components": document.get("components"),
            "participation": document.get("participation"),
            "groups": [{k: v for k, v in g.items() if k != "items"}
                       for g in document.get("groups") or [] if g["key"] in TOP_LEVELS]}


class _Summarised(models.Model):
    """A published document (`data`) with its summary, written with it."""

    summary = DocumentField(default=dict, blank=True,
                            help_text="summary_of(data): what the district page and the "
                            "trends read, without parsing the whole document.")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.summary = summary_of(self.data)
        super().save(*args, **kwargs)


class Snapshot(_Summarised):
    """The frozen, suppressed aggregates of a published wave."""

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="snapshots")
    version = models.PositiveIntegerField()
    data = DocumentField()
    audit = DocumentField(default=dict)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the published content (without its timestamp)."
    )
    parts = models.ManyToManyField("SnapshotPart", blank=True, related_name="snapshots")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "version"], name="unique_snapshot_version")
        ]

    def __str__(self):
        return f"snapshot {self.wave_id} v{self.version}"

    def part_for(self, school):
        """One school's published part (of a district-wide wave), or None."""
        return self.parts.filter(school=school).first()


class SnapshotPart(_Summarised):
    """One school's suppressed, audited tables of a wave, written by that school's task.
    Nobody sees a part until a Snapshot lists it. `fingerprint` is a digest of
    everything the part was computed from, so a rerun reuses a part already written."""

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="snapshot_parts")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    fingerprint = models.CharField(max_length=64)
    data = DocumentField(help_text="The school's snapshot document.")
    published = DocumentField(help_text="What disclosure.publish released: the audit's input.")
    relations = DocumentField()
    audit = DocumentField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wave", "school", "fingerprint"],
                                    name="unique_snapshot_part")
        ]

    def __str__(self):
        return f"part {self.wave_id}/{self.school_id}"
