"""Seed the demo: a district with two schools, one login per role, and a series with
three published waves of synthetic responses drawn from a stated latent-trait model
(analytics.simulate), plus an open wave so a teacher can run a session, a
district-wide series with two published waves over both schools, and an active
research agreement for the researcher over Hilltop's published waves."""

from datetime import date, timedelta

import numpy as np
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from analytics.publishing import publish
from analytics.scoring import ItemSpec
from analytics.simulate import simulate_wave
from research import services as research
from research.models import Agreement
from surveys import services
from surveys.models import (
    ClassGroup,
    District,
    Instrument,
    Membership,
    Response,
    School,
    Wave,
)

Role = Membership.Role
PASSWORD = "belonging-demo"
SCHOOLS = {
    "Hilltop Secondary": [
        ("7A", 7, 28),
        ("7B", 7, 27),
        ("8A", 8, 29),
        ("8B", 8, 26),
        ("9A", 9, 30),
        ("9C", 9, 7),
    ],
    "Lakeside Secondary": [("7L", 7, 25), ("8L", 8, 24), ("9L", 9, 26)],
}
WAVES = [
    ("Autumn 2025", "autumn", date(2025, 10, 6), 0.0),
    ("Spring 2026", "spring", date(2026, 3, 16), 0.15),
    ("Autumn 2026", "autumn", date(2026, 10, 5), 0.30),
]
GENDERS = (["girl", "boy", "another", "prefer_not"], [0.47, 0.47, 0.03, 0.03])


def item_specs(instrument):
    specs = []
    for item in instrument.items.all():
        scale = instrument.scales[item.scale]
        specs.append(
            ItemSpec(
                item.key,
                item.component,
                scale["min"],
                scale["max"],
                item.reverse_keyed,
                tuple(scale["favorable"]),
                item.validated,
            )
        )
    return specs


class Command(BaseCommand):
    help = "Load demo schools, users and three published waves (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed, **options):
        if District.objects.filter(name="Riverside District").exists():
            self.stdout.write("Demo data already present.")
        else:
            instrument = (
                Instrument.objects.filter(key="belonging-core").first()
                or Instrument.objects.filter(key="belonging-pulse").first()
            )
            if instrument is None:
                raise CommandError("Load instruments first: manage.py load_instruments")
            self._seed(instrument, np.random.default_rng(seed))
        self._print_logins()

    def _seed(self, instrument, rng):
        with transaction.atomic():
            district = District.objects.create(name="Riverside District", min_cell_size=10)
            admin = self._user("district.admin", Role.DISTRICT_ADMIN, district=district)
            schools = [self._school(district, name, classes) for name, classes in SCHOOLS.items()]
            hilltop = schools[0]
            leader = User.objects.get(username="leader.hilltop")
            series = services.create_series(
                hilltop,
                by=leader,
                name="Belonging 2025-27",
                instrument=instrument,
                demographics=["gender"],
                min_cell_size=10,
            )
        specs = item_specs(instrument)
        for label, season, starts_on, shift in WAVES:
            wave = self._wave(series, leader, label, season, starts_on)
            self._responses(wave, specs, rng, shift, leader)
            services.close_wave(wave, by=leader)
            publish(wave.id)
        district_waves = self._district_wave(admin, instrument, specs, rng)
        self._agreement(admin, hilltop, [*series.waves.all(), *district_waves])
        live = services.create_wave(
            series, by=leader, label="Spring 2027", season="spring", starts_on=date(2027, 3, 15)
        )
        services.open_wave(live, by=leader)
        self.stdout.write(f"Seeded {Response.objects.count()} responses; admin {admin}.")

    def _district_wave(self, admin, instrument, specs, rng):
        """A district-wide series over both schools, two published waves (so each
        school's part and the district level show a trend): a part per school and the
        district level each (analytics.publishing)."""
        series = services.create_district_series(
            admin.memberships.get().district, by=admin,
            name="District belonging 2026", instrument=instrument, demographics=[],
        )
        waves = []
        for label, season, starts_on, shift in (
                ("Spring 2026", "spring", date(2026, 3, 23), 0.05),
                ("Autumn 2026", "autumn", date(2026, 10, 12), 0.2)):
            wave = self._wave(series, admin, label, season, starts_on)
            self._responses(wave, specs, rng, shift, admin)
            services.close_wave(wave, by=admin)
            publish(wave.id)
            waves.append(wave)
        return waves

    def _agreement(self, admin, hilltop, waves):
        """The researcher's active agreement: Hilltop's published waves (its own series
        and its part of the district-wide one), k = 10, for a year from today."""
        today = timezone.localdate()
        return research.create_agreement(
            by=admin, researcher=User.objects.get(username="researcher"), schools=[hilltop],
            waves=Wave.objects.filter(pk__in=[w.pk for w in waves],
                                      status=Wave.Status.PUBLISHED),
            purpose="Demo: how belonging changes across the year levels of Hilltop.",
            starts_on=today, expires_on=today + timedelta(days=365), k=10,
        )

    def _school(self, district, name, classes):
        school = School.objects.create(district=district, name=name)
        slug = name.split()[0].lower()
        self._user(f"leader.{slug}", Role.LEADER, school=school)
        teacher = self._user(f"teacher.{slug}", Role.TEACHER, school=school)
        for index, (cname, year, enrolment) in enumerate(classes):
            cg = ClassGroup.objects.create(
                school=school, name=cname, year_level=year, enrolment=enrolment
            )
            if index < 2:
                cg.teachers.add(teacher)
        if slug == "hilltop":
            self._user("researcher", Role.RESEARCHER, school=school)
        return school

    def _user(self, username, role, **scope):
        user = User.objects.create_user(username, password=PASSWORD)
        Membership.objects.create(user=user, role=role, **scope)
        return user

    def _wave(self, series, leader, label, season, starts_on):
        wave = services.create_wave(
            series, by=leader, label=label, season=season, starts_on=starts_on
        )
        return services.open_wave(wave, by=leader)

    def _responses(self, wave, specs, rng, shift, leader):
        rows = []
        for cg in ClassGroup.objects.filter(school__in=wave.series.schools()):
            session = services.open_session(wave, cg, by=leader)
            n = int(rng.binomial(cg.enrolment, 0.88))
            matrix = simulate_wave(specs, n, rng=rng, latent_shift=shift)
            genders = rng.choice(GENDERS[0], size=n, p=GENDERS[1])
            for values, gender in zip(matrix, genders, strict=True):
                answers = {
                    f"v{j + 1:02d}": (None if np.isnan(v) else int(v)) for j, v in enumerate(values)
                }
                rows.append(
                    Response(
                        client_id=_uuid(rng),
                        wave=wave,
                        session=session,
                        class_group=cg,
                        school_id=cg.school_id,
                        year_level=cg.year_level,
                        gender=str(gender),
                        **answers,
                    )
                )
            services.close_session(session, by=leader)
        Response.objects.bulk_create(rows, batch_size=500)
        Response.objects.filter(wave=wave).update(
            submitted_at=timezone.make_aware(
                timezone.datetime.combine(wave.starts_on, timezone.datetime.min.time())
            )
            + timedelta(hours=10)
        )

    def _print_logins(self):
        self.stdout.write(f"\nDemo logins (password for all: {PASSWORD})")
        for m in Membership.objects.select_related("user", "school", "district").order_by("id"):
            scope = m.school or m.district
            self.stdout.write(f"  {m.user.username:18} {m.get_role_display():16} {scope}")
        for agreement in Agreement.objects.filter(researcher__username="researcher"):
            self.stdout.write(
                f"  researcher's agreement {agreement.public_id}: "
                f"{agreement.waves.count()} published waves of Hilltop, k = {agreement.k}, "
                f"until {agreement.expires_on} (export them from /research/)"
            )
        self.stdout.write(
            "Students: open http://127.0.0.1:8000/join/ and enter a session code "
            "(log in as teacher.hilltop to open one)."
        )


def _uuid(rng):
    import uuid

    return uuid.UUID(bytes=rng.bytes(16), version=4)
