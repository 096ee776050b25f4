"""Published snapshots and the runs that build them.

A snapshot is written whole, inside one transaction, after the disclosure
audit passes; dashboards, the API and reports read snapshots only.
"""

from django.db import models

from surveys.models import PublicIdModel, Wave


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

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"publish {self.wave_id} {self.status}"


class Snapshot(models.Model):
    """The frozen, suppressed aggregates of a published wave."""

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="snapshots")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    audit = models.JSONField(default=dict)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the responses the snapshot was computed from."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "version"], name="unique_snapshot_version")
        ]

    def __str__(self):
        return f"snapshot {self.wave_id} v{self.version}"
