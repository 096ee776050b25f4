"""District burst: 100 schools start the survey within ten minutes.

    .venv/bin/python benchmarks/burst.py [--schools 100] [--students 30] [--window 600]
                                         [--compress 10] [--workers 4] [--threads 64]
                                         [--stop-after SECONDS]

What it does (docs/performance.md, "District burst"):

1. Drops and creates a PostgreSQL database (default belonging_burst), migrates it, and
   creates one district of --schools schools, each with one open session per class of
   30 students (the benchmark-only 20-item instrument, benchmarks/bench-20-1.0.yaml).
2. Starts gunicorn (sync workers, production settings, Redis as the cache that the
   code-entry rate limiter uses) with benchmarks/submit.py's Gunicorn class.
3. Plays the arrival pattern: each school starts at a uniformly random moment in the
   --window (600 s: ten minutes), its classes within two minutes of that, each student
   within a minute of their class; a student joins by code (GET /join/?code=, which
   redirects), loads the survey page, answers for 5 to 11 minutes, and submits, retrying
   like the survey page does (same client_id, on 5xx or a dropped connection). Every
   duration is divided by --compress (10: the ten minutes play in 60 s; the answering
   time shrinks alike, so the submissions arrive as densely as in the real pattern, 10
   times faster).
4. Reports throughput, latency percentiles per step, errors, how late the load generator
   started students (if it could not keep up, the server was not the only limit), and
   the rows stored against the responses acknowledged: lost and duplicated. A progress
   line goes to stderr every minute. With --stop-after, no student starts or submits
   after that many seconds of load (requests under way finish, with their retries), and
   the report covers what was done, saying how many students were never served.

Loopback only; gunicorn is stopped when it ends. Exit status 0 when nothing was lost,
duplicated or failed, 1 otherwise, 2 when the benchmark could not run.
"""

import argparse
import heapq
import http.client
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import BenchError  # noqa: E402
from benchmarks.servers import Gunicorn, Postgres, free_port  # noqa: E402
from benchmarks.submit import INSTRUMENT_FILE  # noqa: E402

GENDERS = ("girl", "boy", "another", "prefer_not")
HOME_LANGUAGES = ("yes", "no", "prefer_not")
CLASS_SIZE = 30


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--schools", type=int, default=100)
    p.add_argument("--students", type=int, default=30, help="students per school (default 30)")
    p.add_argument("--window", type=int, default=600, help="seconds in which schools start")
    p.add_argument("--compress", type=float, default=10.0,
                   help="divide every duration by this (default 10: 600 s play in 60 s)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    p.add_argument("--threads", type=int, default=64, help="load generator threads")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--stop-after", type=float, default=None,
                   help="stop starting and submitting after this many seconds of load")
    p.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES",
                                                        "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--database", default="belonging_burst")
    p.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL",
                                                     "redis://127.0.0.1:6379/15"))
    args = p.parse_args(argv)
    if min(args.schools, args.students, args.window, args.workers, args.threads) < 1 \
            or args.compress <= 0 or (args.stop_after is not None and args.stop_after <= 0):
        p.error("every number must be positive")
    if not args.database.replace("_", "").isalnum() or "burst" not in args.database:
        p.error("--database must be a plain name containing 'burst' (it is dropped)")
    return args


def environment(args):
    return {
        "DJANGO_SETTINGS_MODULE": "belonging.settings", "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50), "PSEUDONYM_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"{args.postgres.rstrip('/')}/{args.database}",
        "REDIS_URL": args.redis, "CELERY_BROKER_URL": "", "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }


def build_district(args):
    """The district, its schools and one open session per class; returns the codes of
    the classes by school."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from surveys import instruments, services
    from surveys.models import ClassGroup, District, School

    call_command("migrate", verbosity=0, interactive=False)
    instrument = instruments.load_file(INSTRUMENT_FILE)
    user = get_user_model().objects.create_user("burst", password=None)
    district = District.objects.create(name="Burst district")
    schools = []
    for s in range(args.schools):
        school = School.objects.create(district=district, name=f"School {s:03d}")
        series = services.create_series(school, by=user, name="Belonging", instrument=instrument,
                                        languages=["en"], demographics=["gender",
                                                                        "home_language"])
        wave = services.create_wave(series, by=user, label="Autumn", season="autumn",
                                    starts_on=date.today())
        services.open_wave(wave, by=user)
        sizes = [CLASS_SIZE] * (args.students // CLASS_SIZE)
        if args.students % CLASS_SIZE:
            sizes.append(args.students % CLASS_SIZE)
        classes = []
        for c, size in enumerate(sizes):
            cg = ClassGroup.objects.create(school=school, name=f"{7 + c % 4}{chr(65 + c)}",
                                           year_level=7 + c % 4, enrolment=size)
            classes.append((services.open_session(wave, cg, by=user).code, size))
        schools.append(classes)
    keys = list(instrument.items.order_by("position").values_list("key", flat=True))
    return schools, keys


def plan(args, schools, rng):
    """(start time, answering time) per student, in compressed seconds, with its code."""
    students = []
    for classes in schools:
        school_start = rng.uniform(0, args.window)
        for code, size in classes:
            class_start = school_start + rng.uniform(0, 120)
            for _ in range(size):
                start = class_start + rng.uniform(0, 60)
                students.append({"code": code, "start": start / args.compress,
                                 "think": rng.uniform(300, 660) / args.compress})
    students.sort(key=lambda s: s["start"])
    return students


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {"join": [], "page": [], "submit": []}
        self.errors = {"join": {}, "page": {}, "submit": {}}
        self.acknowledged, self.created, self.retries, self.lag = [], [], 0, []
        self.gave_up = 0

    def note(self, step, ms, status):
        with self.lock:
            self.latency[step].append(ms)
            ok = {"join": (302,), "page": (200,), "submit": (200, 201)}[step]
            if status not in ok:
                self.errors[step][str(status)] = self.errors[step].get(str(status), 0) + 1


def request(port, method, path, body=None):
    """One request on a new connection (a student's device). (status, headers, body, ms);
    status is the exception's name when the connection failed."""
    began = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.headers, data, (time.perf_counter() - began) * 1000
    except OSError as exc:
        return type(exc).__name__, {}, b"", (time.perf_counter() - began) * 1000
    finally:
        conn.close()


def start_student(port, keys, s, clock, rec, rng):
    """Join and load the page now; schedule the submission for when they finish."""
    rec.lag.append(max(0.0, clock.now() - s["start"]))
    status, headers, _, ms = request(port, "GET", f"/join/?code={s['code']}")
    rec.note("join", ms, status)
    if status != 302:
        return
    status, _, page, ms = request(port, "GET", headers["Location"])
    rec.note("page", ms, status)
    match = re.search(rb'data-submit-url="([^"]+)"', page) if status == 200 else None
    if match is None:
        return
    body = json.dumps({
        "client_id": str(uuid.uuid4()), "language": "en",
        "demographics": {"gender": rng.choice(GENDERS),
                         "home_language": rng.choice(HOME_LANGUAGES)},
        "answers": {k: rng.randint(1, 4) for k in keys}})
    path = match.group(1).decode()
    clock.at(clock.now() + s["think"], lambda: submit(port, path, body, rec))


def submit(port, path, body, rec):
    """As the survey page does: the same body again on 5xx or a dropped connection."""
    client_id = json.loads(body)["client_id"]
    for attempt in range(6):
        status, _, data, ms = request(port, "POST", path, body.encode())
        rec.note("submit", ms, status)
        if status in (200, 201):
            with rec.lock:
                rec.acknowledged.append(client_id)
                if status == 201:
                    rec.created.append(client_id)
            return
        if isinstance(status, int) and status < 500 and status != 429:
            return  # refused: the page would show the message
        with rec.lock:
            rec.retries += 1
        time.sleep(min(30, 2 ** attempt) / 10)
    with rec.lock:
        rec.gave_up += 1


class Clock:
    """Events at compressed times, run on a thread pool: students start, and submit
    when they have finished answering (no thread waits while a student answers)."""

    def __init__(self, threads, stop_after=None):
        self.t0, self.heap, self.seq = time.monotonic(), [], itertools.count()
        self.cv, self.outstanding = threading.Condition(), 0
        self.pool = ThreadPoolExecutor(max_workers=threads)
        self.stop_after, self.dropped = stop_after or float("inf"), 0

    def now(self):
        return time.monotonic() - self.t0

    def at(self, when, fn):
        with self.cv:
            heapq.heappush(self.heap, (when, next(self.seq), fn))
            self.outstanding += 1
            self.cv.notify()

    def _done(self, future):
        with self.cv:
            self.outstanding -= 1
            self.dropped += future.cancelled()
            self.cv.notify()

    def run(self):
        """Runs the events due until none is left or --stop-after has passed; then
        drops what is not started yet (queued or scheduled) and waits for the rest."""
        with self.cv:
            while self.outstanding and self.now() < self.stop_after:
                if not self.heap:
                    self.cv.wait(timeout=min(60.0, self.stop_after - self.now()))
                    continue
                when, _, fn = self.heap[0]
                if when > self.now():
                    self.cv.wait(timeout=min(when, self.stop_after) - self.now())
                    continue
                heapq.heappop(self.heap)
                self.pool.submit(fn).add_done_callback(self._done)
            self.stopped = bool(self.outstanding)
        self.pool.shutdown(wait=True, cancel_futures=True)
        with self.cv:  # events still scheduled, and any a finishing student added
            self.dropped += len(self.heap)
            self.heap.clear()


def progress(clock, rec, total, done):
    """Every minute to stderr: students started, the generator's lag, requests so far."""
    while not done.wait(60):
        with rec.lock:
            started, lag = len(rec.lag), rec.lag[-1] if rec.lag else 0.0
            requests = sum(len(v) for v in rec.latency.values())
            errors = sum(sum(e.values()) for e in rec.errors.values())
            acked = len(rec.acknowledged)
        print(f"... {clock.now():.0f} s: started {started:,}/{total:,} (lag {lag:.1f} s), "
              f"{requests:,} requests, {errors:,} errors, {acked:,} acknowledged",
              file=sys.stderr, flush=True)


def run_load(args, port, students, keys):
    rec = Recorder()
    rng = random.Random(args.seed + 1)
    clock = Clock(args.threads, args.stop_after)
    for s in students:
        student_rng = random.Random(rng.random())
        clock.at(s["start"], lambda s=s, r=student_rng: start_student(port, keys, s, clock,
                                                                       rec, r))
    done = threading.Event()
    threading.Thread(target=progress, args=(clock, rec, len(students), done),
                     daemon=True).start()
    clock.run()
    done.set()
    return rec, clock


def quantile(values, q):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def reconcile(rec):
    from django.db.models import Count

    from surveys.models import Response

    rows = Response.objects.all()
    stored = set(str(c) for c in rows.values_list("client_id", flat=True))
    dup_rows = rows.values("client_id").annotate(n=Count("id")).filter(n__gt=1).count()
    acked = set(rec.acknowledged)
    return {"rows": rows.count(), "acknowledged": len(acked),
            "lost": len(acked - stored), "unacknowledged_rows": len(stored - acked),
            "duplicated": dup_rows + len(rec.created) - len(set(rec.created))}


def stop_line(args, clock, rec, students):
    if not clock.stopped:
        return []
    return [f"STOPPED after {args.stop_after:g} s of load (--stop-after): "
            f"{len(rec.lag):,} of {len(students):,} students started; {clock.dropped:,} "
            "starts or submissions not made; every figure covers only what was done"]


def report(args, rec, clock, result, students):
    seconds = clock.now()
    requests_total = sum(len(v) for v in rec.latency.values())
    out = [f"belonging district burst, {datetime.now():%Y-%m-%d %H:%M}",
           f"{args.schools} schools x {args.students} students = {len(students):,} students; "
           f"schools start within {args.window} s, compressed {args.compress:g}x "
           f"(played in {args.window / args.compress:.0f} s, answering "
           f"{300 / args.compress:.0f}-{660 / args.compress:.0f} s)",
           f"server: gunicorn {args.workers} sync workers, DEBUG=0, PostgreSQL, Redis cache; "
           f"load: {args.threads} threads on this machine ({os.cpu_count()} cores)", "",
           f"elapsed {seconds:.1f} s, {requests_total:,} requests, "
           f"{requests_total / seconds:.1f} req/s, {len(rec.created) / seconds:.1f} "
           "responses stored/s on average", "",
           f"{'step':<8} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
           f"{'max ms':>8}  errors"]
    out[4:4] = stop_line(args, clock, rec, students)
    for step, values in rec.latency.items():
        out.append(f"{step:<8} {len(values):>9,} {quantile(values, .5):>8.1f} "
                   f"{quantile(values, .95):>8.1f} {quantile(values, .99):>8.1f} "
                   f"{max(values, default=0):>8.1f}  {rec.errors[step] or 'none'}")
    out += ["", f"submission retries {rec.retries}, gave up {rec.gave_up}; start lag of the "
            f"load generator p95 {quantile(rec.lag, .95):.2f} s, "
            f"max {max(rec.lag, default=0):.2f} s",
            f"acknowledged {result['acknowledged']:,}, rows {result['rows']:,}, lost "
            f"{result['lost']}, duplicated {result['duplicated']}, rows never acknowledged "
            f"{result['unacknowledged_rows']}"]
    ok = not (result["lost"] or result["duplicated"] or rec.gave_up
              or result["acknowledged"] != len(students))
    verdict = ("every student stored once" if ok else "INCOMPLETE: stopped (see above)"
               if clock.stopped and not (result["lost"] or result["duplicated"])
               else "PROBLEMS (see above)")
    out.append(f"VERDICT: {verdict}")
    return "\n".join(out), ok


def main(argv=None):
    args = parse_args(argv)
    env = environment(args)
    os.environ.update(env)
    pg = Postgres(args)
    workdir = tempfile.mkdtemp(prefix="belonging-burst-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        pg.recreate()
        import django

        django.setup()
        from django.db import connections

        schools, keys = build_district(args)
        students = plan(args, schools, random.Random(args.seed))
        connections.close_all()
        port = free_port()
        print(f"... {len(students):,} students over {args.window / args.compress:.0f} s",
              file=sys.stderr, flush=True)
        with Gunicorn(env, port, args.workers, Path(workdir) / "gunicorn.log"):
            rec, clock = run_load(args, port, students, keys)
        text, ok = report(args, rec, clock, reconcile(rec), students)
        print(text)
        connections.close_all()
    finally:
        pg.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(2)
