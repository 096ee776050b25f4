"""Fixtures for the research workflow: a published Hilltop wave with enough responses
for k = 10, an agreement for the `world` researcher, and a private export directory.

`published` publishes per test. A module whose tests only read the world and its
published wave (they add agreements, jobs and tokens of their own, never change or
publish those rows) overrides `world` and `published` with `published_copy`: the wave
is then published once for the module (`published_once`, conftest.module_rows) and
each test gets its own copy. Tests that change them live in test_changed_world.py;
transactional ones (test_job_locks.py) cannot share."""

import uuid
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from analytics.publishing import publish
from research import services as research
from surveys import services
from surveys.instruments import load_file
from surveys.models import Membership, Response
from tests.conftest import INSTRUMENTS, build_world, fresh


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.BELONGING_EXPORT_DIR = tmp_path / "exports"
    return settings.BELONGING_EXPORT_DIR


def add_responses(wave, by, class_groups, per_class):
    """`per_class` answered responses in each class: varied answers and genders."""
    rows = []
    for class_group in class_groups:
        session = services.open_session(wave, class_group, by=by)
        for i in range(per_class):
            answers = {f"v{p:02d}": (i + p) % 4 + 1 for p in range(1, 7)}
            rows.append(Response(
                client_id=uuid.uuid4(), wave=wave, session=session, class_group=class_group,
                school=class_group.school, year_level=class_group.year_level,
                gender=["girl", "boy"][i % 2], **answers))
    Response.objects.bulk_create(rows)


def publish_wave(world, wave, per_class=15):
    leader = world["leader"]
    services.open_wave(wave, by=leader)
    add_responses(wave, leader, world["classes"].values(), per_class)
    services.close_wave(wave, by=leader)
    publish(wave.id)
    wave.refresh_from_db()
    return wave


@pytest.fixture
def published(world):
    return publish_wave(world, world["wave"])


@pytest.fixture(scope="module")
def published_once(module_rows):
    """The world and its wave published, built once for the module."""
    with module_rows():
        world = build_world(load_file(INSTRUMENTS / "belonging-pulse-1.0.yaml"))
        return world, publish_wave(world, world["wave"])


@pytest.fixture
def published_copy(db, published_once):
    """A test's own copy of `published_once` (one copy: its world's wave is its wave)."""
    return fresh(published_once)


def today():
    return timezone.localdate()


def make_agreement(world, waves, *, by=None, researcher=None, **terms):
    terms.setdefault("k", 10)
    terms.setdefault("purpose", "Belonging across the move to secondary school.")
    terms.setdefault("starts_on", today())
    terms.setdefault("expires_on", today() + timedelta(days=90))
    return research.create_agreement(
        by=by or world["leader"], researcher=researcher or world["researcher"],
        schools=[world["school"]], waves=waves, **terms)


@pytest.fixture
def agreement(world, published):
    return make_agreement(world, [published])


@pytest.fixture
def other_researcher(world):
    user = User.objects.create_user("other_researcher", password="correct horse battery")
    Membership.objects.create(user=user, role=Membership.Role.RESEARCHER,
                              school=world["other_school"])
    return user


def draft_wave(world, label="Spring 2027"):
    return services.create_wave(world["series"], by=world["leader"], label=label,
                                season="spring", starts_on=date(2027, 3, 1))
