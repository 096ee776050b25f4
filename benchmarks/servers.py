"""Processes and accounting the load benchmarks share (benchmarks/submit.py,
benchmarks/burst.py, the fault tests): a maintenance connection to PostgreSQL, gunicorn
in its own process group, free ports, and CPU seconds by process from /proc."""

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks import BenchError

REPO = Path(__file__).resolve().parent.parent


class Postgres:
    """A maintenance connection (database `postgres`): recreates the benchmark database
    and names the server processes working for it, for the CPU accounting."""

    def __init__(self, args):
        import psycopg2

        url = urlsplit(args.postgres)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise BenchError(f"--postgres must be on loopback, not {url.hostname}")
        self.database = args.database
        try:
            self.conn = psycopg2.connect(
                host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                password=url.password, dbname="postgres")
        except psycopg2.OperationalError as exc:
            raise BenchError(f"cannot reach PostgreSQL at {args.postgres}: {exc}") from None
        self.conn.autocommit = True

    def query(self, sql, params=()):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def recreate(self):
        with self.conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{self.database}"')

    def describe(self):
        version = self.query("SELECT version()")[0][0].split(" on ")[0]
        sync = self.query("SHOW synchronous_commit")[0][0]
        buffers = self.query("SHOW shared_buffers")[0][0]
        return f"{version} (synchronous_commit {sync}, shared_buffers {buffers})"

    def pids(self):
        """Backends on the benchmark database, and the server's own background processes
        (WAL writer, checkpointer...), not other databases' backends."""
        rows = self.query("SELECT pid FROM pg_stat_activity WHERE datname = %s OR datname IS NULL",
                          (self.database,))
        return [pid for (pid,) in rows]

    def close(self):
        self.conn.close()


# --- processes ----------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn in its own process group; stopped (TERM, then KILL) on exit."""

    def __init__(self, env, port, workers, log_path):
        self.port, self.workers, self.log_path = port, workers, log_path
        self.env = {**os.environ, **env}
        self.proc = None

    def __enter__(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "belonging.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "--worker-class", "sync", "--worker-tmp-dir", "/dev/shm",
             "--timeout", "30", "--graceful-timeout", "5"],
            cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/health/ready/"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.proc.returncode}); see {self.log_path}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200 and len(self.worker_pids()) == self.workers:
                        return
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not become ready in {timeout} s; see {self.log_path}")

    def worker_pids(self):
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)  # the group we started
                self.proc.wait(timeout=5)
        self.log.close()
        return False


# --- CPU accounting -----------------------------------------------------------------


def _proc_cpu_seconds(pid):
    """utime + stime of one process, in seconds (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_jiffies():
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class CpuSample:
    app: dict
    db: dict
    machine: tuple
    children: float

    @classmethod
    def take(cls, server, pg):
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            app={pid: _proc_cpu_seconds(pid) for pid in server.worker_pids()},
            db={pid: _proc_cpu_seconds(pid) for pid in pg.pids()},
            machine=_machine_jiffies(),
            children=usage.ru_utime + usage.ru_stime,
        )

    def until(self, later):
        """CPU seconds spent by the app (gunicorn workers), the database (its processes for
        the benchmark database), the load (wrk: the only child waited for meanwhile), all
        cores together (busy), and their capacity over the interval (total)."""
        def spent(before, after):
            return sum(v - before.get(pid, 0.0) for pid, v in after.items())

        tick = os.sysconf("SC_CLK_TCK")
        return {
            "app": spent(self.app, later.app),
            "db": spent(self.db, later.db),
            "load": later.children - self.children,
            "busy": (later.machine[0] - self.machine[0]) / tick,
            "total": (later.machine[1] - self.machine[1]) / tick,
        }
