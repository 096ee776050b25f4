"""Shared fixtures. Tests run on PostgreSQL when DATABASE_URL points at it (CI
always does), with migrations. The personas follow healthchecks' alice/bob/charlie:
a leader, a teacher and a district admin of Riverside, and a leader of another
school who must never see Riverside's data."""

import copy
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from surveys import services
from surveys.instruments import load_file
from surveys.models import ClassGroup, District, Membership, School

ROOT = Path(__file__).resolve().parent.parent
INSTRUMENTS = ROOT / "surveys" / "instruments"
Role = Membership.Role
REQUIRE_SERVICES = os.environ.get("BELONGING_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    """Tests that need Redis and a worker, or Chromium, run wherever those exist.
    Locally without them they are deselected with a visible note; in CI
    (BELONGING_REQUIRE_SERVICES=1) a missing service is an error, never a skip."""
    missing = {}
    if not os.environ.get("CELERY_BROKER_URL"):
        missing["worker"] = "CELERY_BROKER_URL is not set"
    if not shutil.which("chromium"):
        missing["browser"] = "Debian's chromium is not installed"
    if not shutil.which("redis-server") or not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        missing["faults"] = "redis-server or PostgreSQL 15's initdb is not installed"
    if REQUIRE_SERVICES and missing:
        raise pytest.UsageError(f"CI needs every service: {missing}")
    keep, drop = [], []
    for item in items:
        (drop if any(m in item.keywords for m in missing) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        reasons = "; ".join(f"{k}: {v}" for k, v in missing.items())
        print(f"\nDeselected {len(drop)} tests ({reasons}).", file=sys.stderr)


@pytest.fixture
def pulse(db):
    return load_file(INSTRUMENTS / "belonging-pulse-1.0.yaml")


def make_user(username, role, *, school=None, district=None):
    user = User.objects.create_user(username, password="correct horse battery")
    Membership.objects.create(user=user, role=role, school=school, district=district)
    return user


@pytest.fixture
def world(db, pulse):
    """Riverside district: Hilltop school (years 7 and 8, three classes) and
    Lakeside school; one user per role, plus a leader of Lakeside."""
    return build_world(pulse)


def build_world(pulse):
    district = District.objects.create(name="Riverside", min_cell_size=10)
    hilltop = School.objects.create(district=district, name="Hilltop")
    lakeside = School.objects.create(district=district, name="Lakeside")
    classes = {
        name: ClassGroup.objects.create(school=hilltop, name=name, year_level=year, enrolment=30)
        for name, year in [("7A", 7), ("7B", 7), ("8A", 8)]
    }
    other_class = ClassGroup.objects.create(school=lakeside, name="9Z", year_level=9, enrolment=25)
    teacher = make_user("teacher", Role.TEACHER, school=hilltop)
    classes["7A"].teachers.add(teacher)
    w = {
        "district": district, "school": hilltop, "other_school": lakeside,
        "classes": classes, "other_class": other_class, "teacher": teacher,
        "leader": make_user("leader", Role.LEADER, school=hilltop),
        "district_admin": make_user("district_admin", Role.DISTRICT_ADMIN, district=district),
        "researcher": make_user("researcher", Role.RESEARCHER, school=hilltop),
        "other_leader": make_user("other_leader", Role.LEADER, school=lakeside),
        "instrument": pulse,
    }
    w["series"] = services.create_series(
        hilltop, by=w["leader"], name="Belonging 2026", instrument=pulse,
        demographics=["gender"], min_cell_size=10,
    )
    w["wave"] = services.create_wave(w["series"], by=w["leader"], label="Autumn 2026",
                                     season="autumn", starts_on=date(2026, 9, 15))
    return w


@pytest.fixture
def open_wave(world):
    services.open_wave(world["wave"], by=world["leader"])
    world["wave"].refresh_from_db()
    return world["wave"]


def answers_for(instrument, value):
    return {item.key: value for item in instrument.items.all()}


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery -A belonging worker` on the test database and Redis."""
    from django.db import connection

    from belonging.celery import app

    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    db = connection.settings_dict
    env.update(DEBUG="1", DATABASE_URL=(
        f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "belonging", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    deadline = time.time() + 60
    while time.time() < deadline and not app.control.ping(timeout=1):
        if proc.poll() is not None:
            raise RuntimeError(proc.stdout.read().decode())
    yield proc
    app.conf.task_always_eager = previous
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def module_rows(django_db_setup, django_db_blocker):
    """Rows built once for a module, as Django's `setUpTestData` builds them for a class:
    a transaction open for the whole module and rolled back at its end. Each test's own
    transaction (the `db` fixture) nests inside it as a savepoint, so what a test writes
    is undone after it and the next test sees the rows as built. Only for modules whose
    tests all use `db` (a `transactional_db` test or a live server would flush or miss
    them). Use: `with module_rows(): ...build...`, then hand each test `fresh(objects)`."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as TestCase marks its own: durable blocks may nest
        outer.__enter__()
    yield django_db_blocker.unblock
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def fresh(objects):
    """A deep copy of objects built by `module_rows`, so that a test changing an instance
    in memory (`refresh_from_db`, a status set by a service) leaves the next test's alone."""
    return copy.deepcopy(objects)


def dump_rows():
    """The users and every row of the project's apps, as Django's JSON serializer writes
    them (primary keys included)."""
    from django.apps import apps
    from django.core import serializers

    models = [User] + [m for label in ("surveys", "analytics", "research")
                       for m in apps.get_app_config(label).get_models()
                       if m._meta.managed and not m._meta.proxy]
    rows = [obj for model in models for obj in model._base_manager.order_by("pk")]
    return serializers.serialize("json", rows)


def restore_rows(text):
    """Rows of `dump_rows` written back, row for row, into an emptied database. The
    sequences were not reset by the flush, so new rows get keys above them."""
    from django.core.cache import cache
    from django.db import connection

    connection.creation.deserialize_db_from_string(text)
    cache.clear()  # no page rendered from the same rows in an earlier test is served


_KEPT = {}


def kept(name, build):
    """What `build()` returns, built by the first test that asks and restored for each
    later one. For live-server tests (a `transactional_db` flushes the database after each
    test, so `module_rows` cannot keep rows): the first test builds and dumps its rows,
    each later one reloads them, identical to the key, into its empty database, and gets a
    fresh copy of the built objects."""
    if name in _KEPT:
        text, objects = _KEPT[name]
        restore_rows(text)
    else:
        objects = build()
        _KEPT[name] = (dump_rows(), objects)
    return fresh(objects)
