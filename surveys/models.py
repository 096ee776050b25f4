"""Organisation, instruments, series, waves, sessions and responses.

Every object a URL can name carries a random `public_id`; integer keys never
leave the server. Reading a school's data goes through `surveys.access`.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Answers are stored one column per item position (v01..v24): aggregating
# columns directly is 4-5x faster than one row per answer in PostgreSQL
# (shared/research/limits.md) and still portable to SQLite for the demo.
MAX_ITEMS = 24
ANSWER_COLUMNS = [f"v{i:02d}" for i in range(1, MAX_ITEMS + 1)]

# Access codes avoid look-alike characters (0/O, 1/I/L, 2/Z, 5/S, 8/B).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 7


def default_k():
    """The minimum cell size a new district or series starts with (env-configurable)."""
    return settings.BELONGING_DEFAULT_K


def new_public_id():
    return secrets.token_urlsafe(9)


def new_access_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class PublicIdModel(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)

    class Meta:
        abstract = True


class District(PublicIdModel):
    name = models.CharField(max_length=200)
    min_cell_size = models.PositiveSmallIntegerField(
        default=default_k,
        validators=[
            MinValueValidator(settings.BELONGING_MIN_K),
            MaxValueValidator(settings.BELONGING_MAX_K),
        ],
        help_text="k: the smallest group any number is published for (5 to 30).",
    )

    def __str__(self):
        return self.name


class School(PublicIdModel):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)

    def __str__(self):
        return self.name


class ClassGroup(PublicIdModel):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classes")
    name = models.CharField(max_length=100)
    year_level = models.PositiveSmallIntegerField()
    enrolment = models.PositiveIntegerField(default=0)
    teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="taught_classes"
    )

    class Meta:
        ordering = ["year_level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="unique_class_name_per_school")
        ]

    def __str__(self):
        return f"{self.name} ({self.school})"


class Membership(models.Model):
    class Role(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        LEADER = "leader", _("School leader")
        DISTRICT_ADMIN = "district_admin", _("District admin")
        RESEARCHER = "researcher", _("Researcher")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(school__isnull=False, district__isnull=True)
                    | models.Q(school__isnull=True, district__isnull=False)
                ),
                name="membership_one_scope",
            )
        ]

    def __str__(self):
        return f"{self.user} {self.role} {self.school or self.district}"


class Instrument(models.Model):
    """One immutable version of an instrument, loaded from surveys/instruments/."""

    key = models.CharField(max_length=80)
    version = models.CharField(max_length=20)
    title = models.JSONField(help_text="Title per language code.")
    definition = models.JSONField(help_text="The whole validated instrument file.")
    checksum = models.CharField(max_length=64)
    licence = models.TextField(blank=True)
    enabled = models.BooleanField(
        default=True, help_text="Switch off an instrument whose terms of use are not cleared."
    )
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="unique_instrument_version")
        ]

    def __str__(self):
        return f"{self.key} v{self.version}"

    @property
    def scales(self):
        return self.definition["scales"]

    def title_in(self, language):
        return self.title.get(language) or self.title.get("en") or self.key


class Item(models.Model):
    class Component(models.TextChoices):
        PERCEPTIONS = "perceptions", _("Perceptions")
        COMPETENCIES = "competencies", _("Competencies")
        MOTIVATIONS = "motivations", _("Motivations")
        OPPORTUNITIES = "opportunities", _("Opportunities")

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ITEMS)]
    )
    key = models.CharField(max_length=80)
    component = models.CharField(max_length=20, choices=Component.choices)
    subscale = models.CharField(max_length=80)
    scale = models.CharField(max_length=40, help_text="Key of the instrument's response scale.")
    reverse_keyed = models.BooleanField(default=False)
    validated = models.BooleanField(default=True)
    text = models.JSONField(help_text="Item text per language code.")
    provenance = models.JSONField(default=dict)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "position"], name="unique_item_position"),
            models.UniqueConstraint(fields=["instrument", "key"], name="unique_item_key"),
        ]

    def __str__(self):
        return self.key

    @property
    def column(self):
        return ANSWER_COLUMNS[self.position - 1]

    def text_in(self, language):
        return self.text.get(language) or self.text["en"]


class Series(PublicIdModel):
    class Mode(models.TextChoices):
        ANONYMOUS = "anonymous", _("Anonymous")
        LINKED = "linked", _("Linked across waves by pseudonym")

    class Consent(models.TextChoices):
        PASSIVE = "passive", _("Parents may opt out")
        ACTIVE = "active", _("Parents must opt in")

    # A series belongs to one school, or (district-wide) to a district and covers every
    # school of it; exactly one of the two is set (the constraint below).
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="series"
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="series",
        help_text="Set for a district-wide series, which covers every school of the district.",
    )
    name = models.CharField(max_length=200)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="series")
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.ANONYMOUS)
    consent_mode = models.CharField(max_length=10, choices=Consent.choices, default=Consent.PASSIVE)
    min_cell_size = models.PositiveSmallIntegerField(
        default=default_k,
        validators=[
            MinValueValidator(settings.BELONGING_MIN_K),
            MaxValueValidator(settings.BELONGING_MAX_K),
        ],
    )
    languages = models.JSONField(default=list, help_text='e.g. ["en", "es"]')
    demographics = models.JSONField(
        default=list, help_text='Bands asked of students, from DEMOGRAPHIC_BANDS, e.g. ["gender"]'
    )
    retention_months = models.PositiveSmallIntegerField(default=12)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "series"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(school__isnull=False, district__isnull=True)
                    | models.Q(school__isnull=True, district__isnull=False)
                ),
                name="series_one_scope",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def district_wide(self):
        return self.school_id is None

    @property
    def owner_district(self):
        """The district the series belongs to, directly or through its school."""
        return self.district if self.district_wide else self.school.district

    def covers(self, school):
        """Whether the series surveys this school."""
        if self.district_wide:
            return school.district_id == self.district_id
        return school.id == self.school_id

    def schools(self):
        """The schools the series surveys, by name."""
        if self.district_wide:
            return School.objects.filter(district_id=self.district_id).order_by("name", "id")
        return School.objects.filter(pk=self.school_id)

    @property
    def k(self):
        """The effective minimum cell size: never below the district's."""
        return max(self.min_cell_size, self.owner_district.min_cell_size)


class Wave(PublicIdModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        PUBLISHED = "published", _("Published")

    class Season(models.TextChoices):
        AUTUMN = "autumn", _("Autumn")
        WINTER = "winter", _("Winter")
        SPRING = "spring", _("Spring")
        SUMMER = "summer", _("Summer")

    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="waves")
    label = models.CharField(max_length=100)
    season = models.CharField(max_length=10, choices=Season.choices)
    starts_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_on", "id"]

    def __str__(self):
        return f"{self.series} / {self.label}"


class Session(PublicIdModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="sessions")
    class_group = models.ForeignKey(ClassGroup, on_delete=models.PROTECT, related_name="sessions")
    code = models.CharField(max_length=CODE_LENGTH, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closes_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(status="open"),
                name="unique_open_session_code",
            )
        ]

    def __str__(self):
        return f"{self.class_group.name} {self.code}"


class Response(models.Model):
    """One student's submission. `client_id` is the idempotency key the browser makes."""

    client_id = models.UUIDField(unique=True)
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="responses")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="responses")
    class_group = models.ForeignKey(ClassGroup, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    year_level = models.PositiveSmallIntegerField()
    gender = models.CharField(max_length=12, blank=True, default="")
    home_language = models.CharField(max_length=12, blank=True, default="")
    language = models.CharField(max_length=8, default="en")
    # NULL (not "") in anonymous mode, so the per-wave uniqueness applies to pseudonyms only.
    pseudonym = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    submitted_at = models.DateTimeField(auto_now_add=True)
    locals().update(
        {col: models.SmallIntegerField(null=True, blank=True) for col in ANSWER_COLUMNS}
    )

    class Meta:
        indexes = [models.Index(fields=["wave", "school"], name="response_wave_school")]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "pseudonym"],
                condition=models.Q(pseudonym__isnull=False),
                name="one_response_per_pseudonym_per_wave",
            )
        ]

    def __str__(self):
        return f"response {self.client_id}"

    def answers(self):
        return {i + 1: getattr(self, col) for i, col in enumerate(ANSWER_COLUMNS)}


class OptOut(models.Model):
    """A recorded parental opt-out (passive consent) or opt-in (active consent)."""

    class Kind(models.TextChoices):
        OPT_OUT = "opt_out", _("Opted out")
        CONSENT = "consent", _("Consent given")

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="consents")
    class_group = models.ForeignKey(ClassGroup, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    pseudonym = models.CharField(max_length=64, blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.kind} {self.class_group_id}"


class AuditEvent(models.Model):
    """Who did what, when. Never carries answers or student identifiers."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60, db_index=True)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=120, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"
