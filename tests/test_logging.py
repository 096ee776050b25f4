"""Logs are JSON lines with a request id, and never carry answers, student numbers or
pseudonyms (DESIGN.md, minimisation; docs/security.md, "Logs").

The scan runs representative flows with every logger at DEBUG (except what
settings.LOGGING keeps above it on purpose: SQL with its parameters) and Django's DEBUG
on, writes the records through the production formatter into a file, and searches every
record for the student numbers, their pseudonyms (per series and re-keyed for an
agreement) and the answer payloads. The worker test does the same for a real Celery
worker's output."""

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import date

import pytest
from django.conf import settings
from django.db import connection

from belonging.logs import JsonFormatter, RequestIdFilter
from surveys import services
from surveys.models import Wave
from surveys.pseudonyms import normalise_number, rekey, series_pseudonym
from tests.conftest import ROOT

# Student numbers nobody could mistake for anything else in a log.
NUMBERS = [f"ZK{4100 + i}Q{i % 7}" for i in range(24)]
AGREEMENT = "logscanagreement"


@pytest.fixture
def log_file(tmp_path, settings):
    """Every record, as production writes it, into a file; every logger at DEBUG except
    SQL, which settings.LOGGING holds at INFO on purpose."""
    assert settings.LOGGING["loggers"]["django.db.backends"]["level"] == "INFO"
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
        if not name.startswith("django.db")]
    levels = {lg: lg.level for lg in loggers}
    for lg in loggers:
        if lg.level > logging.DEBUG:
            lg.setLevel(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    settings.DEBUG = True  # Django would now log SQL, if the configuration let it
    yield path
    logging.getLogger().removeHandler(handler)
    handler.close()
    for lg, level in levels.items():
        lg.setLevel(level)


def linked_session(world, name="Linked 2026"):
    series = services.create_series(world["school"], by=world["leader"], name=name,
                                    instrument=world["instrument"], mode="linked",
                                    demographics=["gender"], min_cell_size=10)
    wave = services.create_wave(series, by=world["leader"], label="Autumn", season="autumn",
                                starts_on=date(2026, 9, 15))
    wave = services.open_wave(wave, by=world["leader"])
    return services.open_session(wave, world["classes"]["7A"], by=world["teacher"])


def answers(instrument, i):
    return {item.key: 1 + (i + item.position) % 4 for item in instrument.items.all()}


def submit(client, session, number, payload_answers, **extra):
    body = {"client_id": str(uuid.uuid4()), "language": "en",
            "demographics": {"gender": ["girl", "boy"][len(number) % 2]},
            "answers": payload_answers, "student_number": number, **extra}
    return client.post(f"/api/v1/sessions/{session.public_id}/responses/",
                       data=json.dumps(body), content_type="application/json")


def run_flows(client, world, session, numbers=NUMBERS):
    """Submissions (accepted, repeated, malformed, too large), publishing through the
    leader's button, the dashboard and API, a failed login; returns the payloads sent."""
    instrument = world["instrument"]
    sent = []
    for i, number in enumerate(numbers):
        payload = answers(instrument, i)
        sent.append(payload)
        assert submit(client, session, number, payload).status_code == 201
    assert submit(client, session, numbers[0], sent[0]).status_code == 409  # second answer
    assert submit(client, session, numbers[1], {"no.such.item": 3}).status_code == 400
    assert submit(client, session, numbers[2], sent[2], extra_field=numbers[2]).status_code \
        == 400
    assert submit(client, session, numbers[3], sent[3],
                  language="x" * 20_000).status_code == 413
    client.post("/login/", {"username": "leader", "password": numbers[4]})
    client.force_login(world["leader"])
    wave = session.wave
    assert client.post(f"/waves/{wave.public_id}/close/").status_code == 302
    assert client.post(f"/waves/{wave.public_id}/publish/").status_code == 302
    return sent


def export_csv(world, wave, tmp_path):
    """The research export, with re-keyed pseudonyms, where the exporters exist."""
    exporters = pytest.importorskip("analytics.exporters")
    scope = exporters.ExportScope(agreement_id=AGREEMENT, wave_ids=(wave.id,),
                                  school_ids=(world["school"].id,), k=10,
                                  include_pseudonyms=True, max_suppressed_share=0.5)
    return exporters.export(scope, "csv", tmp_path / "export")


def secrets_of(series, numbers, payloads):
    """Every string that must never appear in a log."""
    found = {}
    for number in numbers:
        pseudonym = series_pseudonym(series, number)
        found[number] = "student number"
        found[normalise_number(number)] = "student number"
        found[pseudonym] = "pseudonym"
        found[rekey(pseudonym, f"agreement:{AGREEMENT}")] = "re-keyed pseudonym"
    for payload in payloads:
        found[json.dumps(payload)] = "answers (JSON)"
        found[str(payload)] = "answers (repr)"
    return found


def answer_pairs(payloads):
    """`"item key": value` as JSON or a Python repr would write one answer."""
    keys = "|".join(re.escape(k) for k in payloads[0])
    return re.compile(rf"""["']({keys})["']\s*:\s*\d""")


def scan(text, secrets, pairs):
    leaks = [f"{what}: {value}" for value, what in secrets.items() if value in text]
    leaks += [f"answer: {m.group(0)}" for m in pairs.finditer(text)]
    return leaks


def test_logs_of_submitting_publishing_and_exporting_carry_no_student_data(
        client, world, log_file, tmp_path, django_capture_on_commit_callbacks):
    session = linked_session(world)
    with django_capture_on_commit_callbacks(execute=True):
        payloads = run_flows(client, world, session)
    wave = Wave.objects.get(pk=session.wave_id)
    assert wave.status == Wave.Status.PUBLISHED
    assert client.get(f"/waves/{wave.public_id}/dashboard/").status_code == 200
    assert client.get(f"/api/v1/waves/{wave.public_id}/snapshot/").status_code == 200
    result = export_csv(world, wave, tmp_path)

    text = log_file.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    secrets = secrets_of(wave.series, NUMBERS, payloads)
    assert not scan(text, secrets, answer_pairs(payloads))
    # The scan is not vacuous: the flows were logged, with their request ids...
    assert len(records) > 20
    assert {"time", "level", "logger", "message", "request_id"} <= set(records[0])
    # Tasks (run here after the requests, when the captured on-commit callbacks fire)
    # carry an id too: their own.
    tasks = [r for r in records if r["logger"] == "celery.app.trace"]
    assert tasks and all(r["request_id"] != "-" for r in tasks)
    warned = [r for r in records if r["logger"] == "django.request"]
    assert {r.get("status_code") for r in warned} >= {400, 409, 413}
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in warned)
    # ...and it would find them: the exported file carries the re-keyed pseudonyms.
    exported = "".join(open(f.path, errors="replace").read() for f in result.files)
    assert scan(exported, secrets, answer_pairs(payloads))


def test_sql_with_parameters_is_not_logged_even_at_debug(client, world, log_file):
    session = linked_session(world)
    assert connection.queries_logged  # DEBUG is on: Django records every query...
    assert submit(client, session, NUMBERS[0], answers(world["instrument"], 0)) \
        .status_code == 201
    text = log_file.read_text()
    assert "INSERT INTO" not in text and "SELECT" not in text  # ...but never logs them
    assert series_pseudonym(session.wave.series, NUMBERS[0]) not in text
    # What the configuration prevents: with that logger at DEBUG the statement storing
    # the response is logged with its answers, and only the formatter's redaction keeps
    # the pseudonym out.
    sql = logging.getLogger("django.db.backends")
    sql.setLevel(logging.DEBUG)
    try:
        submit(client, session, NUMBERS[1], answers(world["instrument"], 1))
    finally:
        sql.setLevel(logging.INFO)
    text = log_file.read_text()
    assert '"django.db.backends"' in text and "[redacted]" in text
    assert series_pseudonym(session.wave.series, NUMBERS[1]) not in text


def test_a_task_run_eagerly_inside_a_request_keeps_its_request_id(db, log_file):
    from belonging.logs import request_id
    from surveys.tasks import close_expired_sessions

    token = request_id.set("feedface" * 4)
    try:
        close_expired_sessions.delay()  # eager in the tests, as in the embedded demo
    finally:
        request_id.reset(token)
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    traced = [r for r in records if r["logger"] == "celery.app.trace"]
    assert traced and {r["request_id"] for r in traced} == {"feedface" * 4}


def test_an_exception_log_is_redacted(log_file):
    pseudonym = "ab" * 32
    try:
        raise ValueError(f'duplicate key value: Key (pseudonym)=({pseudonym}) exists')
    except ValueError:
        logging.getLogger("surveys").exception("storing a response failed for %s", pseudonym)
    record = json.loads(log_file.read_text().splitlines()[-1])
    assert pseudonym not in json.dumps(record)
    assert "[redacted]" in record["message"] and "[redacted]" in record["exception"]


def test_extra_attributes_never_reach_the_log(log_file):
    logging.getLogger("surveys").warning("refused", extra={"payload": {"v01": 4},
                                                           "status_code": 400})
    record = json.loads(log_file.read_text().splitlines()[-1])
    assert record["status_code"] == 400 and "payload" not in record and "v01" not in str(record)


# --- the Celery worker -------------------------------------------------------------------


@pytest.fixture
def worker_log(transactional_db, tmp_path):
    """A real worker at LOG_LEVEL=DEBUG on the test database, its output in a file."""
    from belonging.celery import app

    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DEBUG="1", LOG_LEVEL="DEBUG", DATABASE_URL=(
        f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"))
    path = tmp_path / "worker.log"
    with open(path, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "belonging", "worker", "--pool=solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not app.control.ping(timeout=1):
            assert proc.poll() is None, path.read_text()
        yield path
    finally:
        app.conf.task_always_eager = previous
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.worker
def test_worker_logs_carry_no_student_data(client, world, worker_log):
    session = linked_session(world)
    payloads = run_flows(client, world, session, NUMBERS[:12])
    wave = session.wave
    deadline = time.time() + 90
    while time.time() < deadline:
        wave.refresh_from_db()
        if wave.status == Wave.Status.PUBLISHED:
            break
        time.sleep(0.5)
    assert wave.status == Wave.Status.PUBLISHED, worker_log.read_text()[-3000:]
    time.sleep(1)  # the task's last lines
    text = worker_log.read_text()
    assert not scan(text, secrets_of(wave.series, NUMBERS[:12], payloads),
                    answer_pairs(payloads))
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    tasks = [r for r in lines if "publish" in r["message"] and r["logger"].startswith("celery")]
    assert tasks, text[-3000:]  # the worker logged its work, as JSON
    # The task's records carry the request id of the leader's "Publish" request.
    assert any(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in tasks)
    assert settings.LOGGING["formatters"]["json"]["()"] == "belonging.logs.JsonFormatter"


# --- gunicorn ------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_writes_json_lines_and_access_lines_carry_the_request_id(tmp_path):
    """gunicorn started as the image starts it (./gunicorn.conf.py is read by default)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    path = tmp_path / "gunicorn.log"
    sent = "5e0c3c3a-1d7e-4f63-9a43-2f1d0f8c9b21"
    with open(path, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "belonging.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/health/live/?code=QX1",
                                         headers={"X-Request-ID": sent})
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2) as reply:
                    assert reply.headers["X-Request-ID"] == sent
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, path.read_text()
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line, start-up included, is JSON
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert access and access[-1]["request_id"] == sent
    assert access[-1]["message"].startswith("GET /health/live/ 200 ")
    assert access[-1]["status_code"] == 200 and "QX1" not in access[-1]["message"]
    assert any(r["logger"] == "gunicorn.error" for r in records)
