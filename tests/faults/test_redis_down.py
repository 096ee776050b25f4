"""Redis stopped while students submit, and readiness while it is down.

gunicorn runs against the test database with its broker and cache on a private
redis-server (never the machine's shared one). With Redis stopped: students still
join, load the survey and submit (PostgreSQL is the source of truth; the code-entry
rate limit lets students through when the cache is down), /health/ready/ says 503,
and a leader's publish request is kept as a queued PublishRun instead of being lost.
With Redis back, the outbox's beat task sends it again and a worker publishes.
"""

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta

import pytest

from analytics.models import PublishRun, Snapshot
from benchmarks.servers import Gunicorn, free_port
from surveys import services
from surveys.models import Response
from tests.conftest import answers_for
from tests.faults.conftest import app_environment, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class Browser:
    """A tiny HTTP client with cookies, against the live gunicorn."""

    def __init__(self, base):
        self.base, self.jar = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method, path, data=None, headers=None):
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with self.opener.open(req, timeout=20) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def submit(self, session, instrument, value):
        body = {"client_id": str(uuid.uuid4()), "language": "en",
                "demographics": {"gender": "girl" if value % 2 else "boy"},
                "answers": answers_for(instrument, 1 + value % 4)}
        return self.request("POST", f"/api/v1/sessions/{session.public_id}/responses/",
                            json.dumps(body).encode(), {"Content-Type": "application/json"})

    def post_form(self, path, page):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.request(
            "GET", page)[1]).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode()
        return self.request("POST", path, data, {"Referer": self.base + page})


@pytest.fixture
def server(private_redis, tmp_path):
    env = app_environment(CELERY_BROKER_URL=private_redis.url(0),
                          REDIS_URL=private_redis.url(1))
    with Gunicorn(env, free_port(), 2, tmp_path / "gunicorn.log") as live:
        yield live, env


def test_students_submit_while_redis_is_down_and_publishing_catches_up(
        client, world, open_wave, private_redis, server, workers):
    live, env = server
    web = Browser(f"http://127.0.0.1:{live.port}")
    leader, instrument = world["leader"], world["instrument"]
    session = services.open_session(open_wave, world["classes"]["7A"], by=leader)
    assert web.request("GET", "/health/ready/")[0] == 200
    acknowledged = [web.submit(session, instrument, i)[0] for i in range(6)]

    private_redis.stop()
    status, body = web.request("GET", "/health/ready/")
    assert status == 503 and json.loads(body)["checks"] == {"database": True, "broker": False}
    assert web.request("GET", "/health/live/")[0] == 200
    assert web.request("GET", f"/join/?code={session.code}")[0] == 200  # redirected, then 200
    assert web.request("GET", f"/s/{session.code}/")[0] == 200
    acknowledged += [web.submit(session, instrument, i)[0] for i in range(6, 20)]
    assert acknowledged == [201] * 20
    assert Response.objects.filter(session=session).count() == 20

    services.close_wave(open_wave, by=leader)
    client.force_login(leader)  # a real session row; gunicorn shares the database
    web.jar.set_cookie(http.cookiejar.Cookie(
        0, "sessionid", client.cookies["sessionid"].value, None, False, "127.0.0.1", False,
        False, "/", True, False, None, True, None, None, {}))
    school_page = f"/schools/{world['school'].public_id}/"
    status, _ = web.post_form(f"/waves/{open_wave.public_id}/publish/", school_page)
    assert status == 200  # redirected back to the school page, not a server error
    run = PublishRun.objects.get(wave=open_wave)
    assert (run.status, run.step) == ("queued", "")  # kept: the broker did not take it

    private_redis.start()
    assert web.request("GET", "/health/ready/")[0] == 200
    workers({**env, "DJANGO_SETTINGS_MODULE": "belonging.settings"})
    # Two minutes later the beat task finds the run still unsent and sends it again.
    PublishRun.objects.filter(pk=run.pk).update(created_at=run.created_at - timedelta(minutes=2))
    _send_beat_task(env)
    wait_for(lambda: PublishRun.objects.get(pk=run.pk).status in ("done", "failed"), 120,
             "the publication to catch up")
    run.refresh_from_db()
    assert run.status == "done", run.error
    snapshot = Snapshot.objects.get(wave=open_wave)
    assert next(g for g in snapshot.data["groups"] if g["key"] == "school")["n"] == 20


def _send_beat_task(env):
    """What celery beat does every minute: send resend_publish_runs to the broker."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    subprocess.run([sys.executable, "-m", "celery", "-A", "belonging", "call",
                    "analytics.tasks.resend_publish_runs"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)
