"""PostgreSQL restarted while a student answers: the student sees a friendly retry
message, keeps the answers, and once the database is back the response is stored
exactly once.

The machine's shared PostgreSQL is never touched: the test creates its own cluster
(initdb, trust auth, PG_PORT), migrates it, and runs gunicorn against it; Chromium
answers the survey there. The cluster is stopped with `-m immediate` (a crash, as far
as the application can tell) after the answers are given and before they are sent.
The server is `runserver` (DEBUG=1), which also serves the survey's script; gunicorn
would need a static file server in front.
"""

import json
import re
import subprocess
import sys
import urllib.request

import psycopg2
import pytest

from benchmarks.servers import free_port
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, answer, new_context
from tests.conftest import ROOT
from tests.faults.conftest import PG_PORT, app_environment, stop_process, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.browser]

DB = "belonging_fault"


def seed(env):
    result = subprocess.run([sys.executable, "-m", "tests.faults.seed_private"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


class Server:
    def __init__(self, env, log_path):
        self.port = free_port()
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def __enter__(self):
        def ready():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/live/",
                                            timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                return False
        wait_for(ready, 60, "the live server")
        return self

    def __exit__(self, *exc):
        stop_process(self.proc)
        self.log.close()


def stored():
    conn = psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="postgres", dbname=DB)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT client_id::text FROM surveys_response")
        rows = [r[0] for r in cur.fetchall()]
    conn.close()
    return rows


@pytest.fixture
def chromium():
    """A browser of this test's own (the browser tests' one is scoped to their package)."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_a_student_keeps_the_answers_through_a_database_restart(
        chromium, private_postgres, tmp_path):
    subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", DB],
                   check=True)
    env = app_environment(DATABASE_URL=private_postgres.url(DB), CELERY_BROKER_URL="",
                          REDIS_URL="")
    fixture = seed(env)
    keys = fixture["items"]
    with Server(env, tmp_path / "server.log") as live:
        context = new_context(chromium)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"http://127.0.0.1:{live.port}/s/{fixture['code']}/")
        answer(page, "band-gender", "girl")
        page.click("#next")
        for key, value in zip(keys[:3], ("4", "3", "2"), strict=True):
            answer(page, f"item-{key}", value)
        page.click("#next")

        private_postgres.stop()  # mid-survey: the database crashes
        for key, value in zip(keys[3:], ("1", "2", "3"), strict=True):
            answer(page, f"item-{key}", value)
        page.click("#next")
        page.click("#send")
        status = page.locator("#send-status")
        status.filter(has_text="Trying again").wait_for()
        assert "saved on this device" in status.inner_text()
        page.wait_for_timeout(2500)  # at least one more refused attempt
        state = page.evaluate("(k) => JSON.parse(localStorage.getItem(k))",
                              f"belonging:{fixture['session']}")
        assert state["pending"] is True and state["payload"]["answers"][keys[0]] == 4

        private_postgres.start()
        page.wait_for_url(re.compile(r"/thanks/"), timeout=90_000)
        context.close()
    assert stored() == [state["client_id"]]
