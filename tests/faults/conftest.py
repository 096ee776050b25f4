"""Fault tests: real processes are killed and real services stopped.

Nothing here touches the machine's shared PostgreSQL or Redis servers: a test that
stops Redis starts its own redis-server on REDIS_PORT, and a test that restarts
PostgreSQL creates its own cluster (initdb) on PG_PORT, in a temporary directory.
Celery workers and gunicorn run as subprocesses in their own process groups and are
stopped (or killed) by the pid this module started, never by name.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT

REDIS_PORT = 6391
PG_PORT = 5499
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stop_process(proc, sig=signal.SIGTERM, timeout=20):
    """Signal the process group this module started, then wait (KILL if it lingers)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class PrivateRedis:
    """A redis-server of this test's own, without persistence, on REDIS_PORT."""

    def __init__(self, workdir):
        self.workdir, self.proc = workdir, None

    def url(self, db):
        return f"redis://127.0.0.1:{REDIS_PORT}/{db}"

    def up(self):
        try:
            return redis.Redis(port=REDIS_PORT, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def start(self):
        if self.up():
            raise RuntimeError(f"port {REDIS_PORT} is taken by another redis-server")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self.up, 20, "the private redis-server")

    def stop(self):
        stop_process(self.proc)
        assert not self.up()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.proc is not None:
        stop_process(server.proc)


class PrivatePostgres:
    """A PostgreSQL 15 cluster of this test's own (initdb, trust auth) on PG_PORT. As
    root, the server runs as the `postgres` system user (PostgreSQL refuses root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="belonging-fault-pg-"))
        self.data = self.dir / "data"
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(self.dir, "postgres", "postgres")

    def url(self, name):
        return f"postgres://postgres@127.0.0.1:{PG_PORT}/{name}"

    def _run(self, *cmd):
        result = subprocess.run([*self.prefix, *cmd], capture_output=True, text=True,
                                timeout=120)
        if result.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {result.stdout}{result.stderr}")
        return result.stdout

    def init(self):
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self):
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                  "-w", "-t", "60", "-o",
                  f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off",
                  "start")

    def stop(self, mode="immediate"):
        """`immediate` is a crash as far as clients can tell: no goodbye to anyone."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self):
        result = subprocess.run([*self.prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.data),
                                 "status"], capture_output=True)
        return result.returncode == 0

    def destroy(self):
        if self.data.exists() and self.running():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    cluster = PrivatePostgres()
    cluster.init()
    cluster.start()
    yield cluster
    cluster.destroy()


def database_url():
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def app_environment(**overrides):
    """The environment of a web or worker subprocess: the demo-style settings module
    (belonging.settings with DEBUG=1), the test database, nothing from pytest."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE="belonging.settings", DEBUG="1",
               DATABASE_URL=database_url(), PYTHONPATH=str(ROOT), LOG_LEVEL="INFO")
    env.update(overrides)
    return env


class Worker:
    """`celery -A belonging worker --pool=solo` as a subprocess with its own log."""

    def __init__(self, env, log_path):
        self.env, self.log_path, self.proc = env, log_path, None

    def start(self):
        self.log = open(self.log_path, "a")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "belonging", "worker", "--pool=solo",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_for(lambda: self.ready() or self.proc.poll() is not None, 60, "a celery worker")
        if self.proc.poll() is not None:
            raise RuntimeError(f"the worker exited; see {self.log_path}")
        return self

    def ready(self):
        return " ready." in Path(self.log_path).read_text()

    def kill(self):
        """SIGKILL: no warm shutdown, nothing acknowledged, nothing cleaned up."""
        stop_process(self.proc, signal.SIGKILL)
        self.log.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc)
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def workers(tmp_path):
    """Start workers with `workers(env)`; all are stopped at the end."""
    started = []

    def start(env, name="worker"):
        worker = Worker(env, tmp_path / f"{name}-{len(started)}.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
