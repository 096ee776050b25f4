"""Data-sharing agreements, the export jobs run under them, and researchers' API tokens.

An agreement names a researcher, the schools and published waves they may receive
de-identified response-level data for, the purpose, the dates it is valid, its k and
whether re-keyed pseudonyms may be included. Reading goes through `surveys.access`;
changes go through `research.services`, which writes the audit events.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from analytics.exporters.scope import ExportScope
from surveys.models import District, PublicIdModel, School, Series, Wave

# A finished job's file may be downloaded for this long, then it is deleted.
DOWNLOAD_WINDOW = timedelta(hours=24)


class Agreement(PublicIdModel):
    researcher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreements"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Every school of an agreement is in this district; its k is never below the district's.
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="agreements")
    schools = models.ManyToManyField(School, related_name="agreements")
    waves = models.ManyToManyField(Wave, related_name="agreements")
    purpose = models.TextField()
    starts_on = models.DateField()
    expires_on = models.DateField(help_text="Last day on which exports may be requested "
                                            "and downloaded.")
    k = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(settings.BELONGING_MIN_K),
                    MaxValueValidator(settings.BELONGING_MAX_K)],
        help_text="Every combination of quasi-identifiers is shared by at least k records.",
    )
    include_pseudonyms = models.BooleanField(
        default=False, help_text="Linked series only: pseudonyms re-keyed for this agreement."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"agreement {self.public_id} ({self.researcher})"

    def inactive_message(self, today=None):
        """Why no export may be requested or downloaded now, as (English message with
        %(day)s, its parameters), or None while active."""
        today = today or timezone.localdate()
        if self.revoked_at is not None:
            return (gettext_noop("This agreement was revoked on %(day)s."),
                    {"day": str(timezone.localdate(self.revoked_at))})
        if today > self.expires_on:
            return gettext_noop("This agreement expired on %(day)s."), {"day": str(self.expires_on)}
        if today < self.starts_on:
            return gettext_noop("This agreement starts on %(day)s."), {"day": str(self.starts_on)}
        return None

    def inactive_reason(self, today=None):
        """The reason in English (the API, the audit log and a failed job's error), or ""
        while active."""
        found = self.inactive_message(today)
        return found[0] % found[1] if found else ""

    @property
    def inactive_reason_text(self):
        """The reason in the active language, for the pages."""
        found = self.inactive_message()
        return gettext(found[0]) % found[1] if found else ""

    @property
    def is_active(self):
        return not self.inactive_reason()

    def linked(self):
        return self.waves.filter(series__mode=Series.Mode.LINKED).exists()

    def scope(self):
        """What the exporters may read: published waves and schools of this agreement."""
        waves = self.waves.filter(status=Wave.Status.PUBLISHED).order_by("id")
        return ExportScope(
            agreement_id=self.public_id,
            wave_ids=tuple(waves.values_list("id", flat=True)),
            school_ids=tuple(self.schools.order_by("id").values_list("id", flat=True)),
            k=self.k,
            include_pseudonyms=self.include_pseudonyms and self.linked(),
        )


class ExportJob(PublicIdModel):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        PARQUET = "parquet", "Parquet"
        SAV = "sav", "SPSS (.sav)"
        DTA = "dta", "Stata (.dta)"
        CODEBOOK = "codebook", _("Codebook")
        SUMMARY = "summary", _("Wave summary")

    class Status(models.TextChoices):
        CREATED = "created", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=10, choices=Format.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=120, blank=True, default="")
    error = models.TextField(blank=True, default="", help_text="Shown to the researcher.")
    # Relative to settings.BELONGING_EXPORT_DIR; "" before the job is done and once deleted.
    file_path = models.CharField(max_length=300, blank=True, default="")
    file_name = models.CharField(max_length=200, blank=True, default="")
    media_type = models.CharField(max_length=100, blank=True, default="")
    rows = models.PositiveIntegerField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    files_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["expires_at"], name="exportjob_expires")]

    def __str__(self):
        return f"export {self.public_id} {self.format} {self.status}"

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def link_expired(self, now=None):
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at


def hash_token(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(PublicIdModel):
    """A researcher's API token. Only its SHA-256 is stored (the token is 256 random
    bits, so a fast hash suffices); the token itself is shown once, when created.
    It authenticates only the research export endpoints."""

    PREFIX = "blg_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="research_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"token {self.hint}… of {self.user}"

    @classmethod
    def issue(cls, user, name):
        """Create a token; returns (token row, the raw token to show once)."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_token(raw),
                                   hint=raw[:10])
        return token, raw
