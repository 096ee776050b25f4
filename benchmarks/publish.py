"""Publishing benchmark: a district-wide wave published end to end by real Celery
workers, against the floor of one SQL query computing the same groupings.

    .venv/bin/python benchmarks/publish.py [--schools 500] [--responses 1000000]
        [--classes 30] [--workers 1,2] [--queue history|guess|both] [--gets 200]
        [--reuse] [--audit-only] [--district-only]
        [--steps] [--gets-only] [--cache-url redis://127.0.0.1:6379/N]

What it does (docs/performance.md, "Publishing"):

1. Drops and creates a PostgreSQL database (default belonging_bench_publish), migrates
   it, loads the benchmark-only instrument benchmarks/bench-20-1.0.yaml (20 items,
   4 points) and generates a district-wide wave of --responses responses over --schools
   schools with INSERT ... SELECT generate_series (benchmarks/publish_data.py).
   --reuse keeps a database generated before with the same sizes (migrated first).
2. The floor: a wide copy of the answers (one row per response, one smallint column per
   item, keyed) and the best of three runs of one GROUPING SETS query computing count,
   mean and % favorable per item and per component for every breakdown.
3. For each worker count: starts that many `celery -A belonging worker --concurrency 1`
   processes on Redis (--broker), clears earlier snapshots, enqueues publish_wave for
   the wave and times it until the run is done; stops the workers. Every run computes
   every part; how the parts are queued is --queue (benchmarks/publish_queue.py): after
   the first run, by default, by the seconds the run before's parts took, as a
   re-publication is, and the first run's parts are replayed through each order.
   The parts' reports give the seconds spent in SQL, suppression, the audit (the audit
   rounds inside suppression and its closing full audit) and writing the document;
   each part's audit seconds (min / mean / max) and the district level's are printed.
4. Dashboard: --gets GETs of one school's part of the wave with Django's test client
   (in this process, production settings), p50/p95 and the number of queries; then as
   many GETs with the cache emptied before each ("cold": the page rendered from the
   snapshot every time) and their queries. The cache is the settings' default: local
   memory in this process, or Redis with --cache-url (that Redis database is emptied).
   Then the same two series of GETs of the district admin's page of every school side
   by side (/districts/<id>/results/: a row per school from each part's summary).
--gets-only (with --reuse) replaces steps 2-3: the GETs of the wave as last published.
--audit-only replaces steps 2-4: each school's suppression (each attempt the part makes)
and audit gate, timed in this process (benchmarks/profiling.py `school_audit_costs`).
--district-only (with --reuse, after a run without it) replaces steps 2-4: the district
level over the last snapshot's parts, built in this process with the parts that enter
it whole audited all at once and each apart (benchmarks/profiling.py
`district_level_costs`); with --copies 1,2,4, instead, over the parts with each school
copied that many times, to see how its cost grows with the district
(benchmarks/district_scale.py).
--steps replaces steps 3-4: each step of each school's part timed in this process, ms per
school, the audit apart, against the floor's share of one school
(benchmarks/publish_steps.py).
Prints each time, the ratios against the floor and the issue's targets. Exit status 0
when every target is met, 1 when one is missed, 2 when the benchmark could not run.
"""

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import BenchError, publish_queue  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"no_audit": 2.0, "with_audit": 4.0, "speedup": 1.6, "p95_ms": 100.0}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--schools", type=int, default=500)
    p.add_argument("--classes", type=int, default=30, help="classes per school")
    p.add_argument("--responses", type=int, default=1_000_000)
    p.add_argument("--workers", default="1,2", help="worker counts to time, e.g. 1,2")
    p.add_argument("--queue", choices=["history", "guess", "both"], default="history",
                   help="how the parts are queued after the first run: by the run before's "
                   "part times, by the guess from small cells, or both, each timed "
                   "(benchmarks/publish_queue.py)")
    p.add_argument("--gets", type=int, default=200, help="dashboard GETs for the p95")
    p.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per publish")
    p.add_argument("--database", default="belonging_bench_publish")
    p.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    p.add_argument("--broker", default="redis://127.0.0.1:6379/8")
    p.add_argument("--reuse", action="store_true", help="keep the generated database")
    p.add_argument("--audit-only", action="store_true",
                   help="only time each school's suppression and audit gate, in this process")
    p.add_argument("--district-only", action="store_true",
                   help="with --reuse: only time the district level over the last "
                   "snapshot's parts, its whole parts audited at once and apart")
    p.add_argument("--copies", default="",
                   help="with --district-only: the district level over the parts with each "
                   "school copied this many times, e.g. 1,2,4 (benchmarks/district_scale.py)")
    p.add_argument("--steps", action="store_true",
                   help="time each step of each school's part in this process (ms per "
                   "school, the audit apart) against the floor")
    p.add_argument("--gets-only", action="store_true",
                   help="with --reuse: only time the dashboard GETs of the last publication")
    p.add_argument("--cache-url", default="",
                   help="Redis URL for Django's cache (emptied by the cold GETs); "
                   "default: local memory")
    return p.parse_args(argv)


def environment(args):
    """Production settings (DEBUG=0) with throw-away keys, tasks through Redis."""
    return {
        "DJANGO_SETTINGS_MODULE": "belonging.settings", "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50), "PSEUDONYM_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "testserver,127.0.0.1", "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"{args.postgres.rstrip('/')}/{args.database}",
        "CELERY_BROKER_URL": args.broker, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO),
        **({"REDIS_URL": args.cache_url} if args.cache_url else {}),
    }


def recreate_database(args):
    import psycopg2

    conn = psycopg2.connect(f"{args.postgres.rstrip('/')}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{args.database}"')
    conn.close()
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"])


def run(cmd):
    done = subprocess.run(cmd, cwd=REPO, env=os.environ, capture_output=True, text=True)
    if done.returncode:
        raise BenchError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


def reused_wave(argv, repeat=30):
    """For the benchmarks of one part (part_storage.py, part_text.py): the wave generated
    with these sizes before (as --reuse), and their own --repeat."""
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--repeat", type=int, default=repeat, help="runs of each")
    ours, rest = extra.parse_known_args(argv)
    args = parse_args(rest + ["--reuse"])
    os.environ.update(environment(args))
    import django

    django.setup()
    return prepare(args), ours.repeat


def prepare(args):
    """The wave to publish: generated now, or (--reuse) found in the database."""
    from surveys.instruments import load_file
    from surveys.models import Response, Wave

    if args.reuse or args.gets_only:
        # A database generated by an older checkout gets this one's migrations.
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"])
        wave = Wave.objects.filter(series__name="Benchmark").first()
        if wave and Response.objects.filter(wave=wave).count() == args.responses:
            return wave
        raise BenchError("--reuse: no generated wave of that size in the database")
    from benchmarks import publish_data

    recreate_database(args)
    load_file(REPO / "benchmarks" / "bench-20-1.0.yaml")
    started = time.perf_counter()
    wave = publish_data.seed(args.schools, args.classes, args.responses)
    print(f"generated {Response.objects.filter(wave=wave).count():,} responses in "
          f"{time.perf_counter() - started:.1f} s")
    return wave


def measure_floor(wave):
    from analytics.aggregation import Spec
    from benchmarks import publish_data

    spec = Spec.for_instrument(wave.series.instrument)
    publish_data.make_wide(wave.id, spec)
    seconds, rows = publish_data.run_floor(spec)
    print(f"floor: one GROUPING SETS query over the wide copy: {seconds:.2f} s "
          f"({rows:,} groups)")
    return seconds


class Workers:
    """`count` real Celery worker processes, --concurrency 1 each, stopped on exit."""

    def __init__(self, count):
        self.count, self.procs = count, []

    def __enter__(self):
        from belonging.celery import app

        for i in range(self.count):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "belonging", "worker", "--concurrency",
                 "1", "-n", f"bench{i}@%h", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--loglevel", "WARNING"],
                cwd=REPO, env=os.environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        deadline = time.time() + 90
        while time.time() < deadline:
            if len(app.control.ping(timeout=1) or []) >= self.count:
                return self
            if any(p.poll() is not None for p in self.procs):
                raise BenchError(self.procs[0].stderr.read().decode()[-2000:])
        raise BenchError("the Celery workers did not answer within 90 s")

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def check_broker_idle(url):
    """Two benchmarks on one broker database take each other's tasks, and each worker
    runs them against its own database (a part of another wave, or a run started
    again): refuse to publish through a broker that holds tasks already."""
    import redis

    conn = redis.Redis.from_url(url)
    waiting = conn.llen("celery") + conn.hlen("unacked")
    if waiting:
        raise BenchError(f"the broker {url} holds {waiting} task(s): another benchmark "
                         "may be using it; wait for it to end, or pass another --broker")


def publish_once(wave, workers, order, timeout):
    """Seconds from enqueueing publish_wave until the run is done, and the steps; the
    parts queued in `order` (benchmarks/publish_queue.py)."""
    from analytics.models import PublishRun
    from analytics.tasks import publish_wave

    publish_queue.reset(wave, order)
    with Workers(workers):
        run = PublishRun.objects.create(wave=wave)
        started = time.perf_counter()
        publish_wave.delay(wave.id, run.id)
        while time.perf_counter() - started < timeout:
            run.refresh_from_db()
            if run.status in ("done", "failed"):
                break
            time.sleep(0.2)
        took = time.perf_counter() - started
    if run.status != "done":
        raise BenchError(f"publishing with {workers} worker(s): {run.status} {run.error}")
    return took, steps(wave)


def steps(wave):
    """Seconds per step summed over the parts and the district level (CPU-busy time:
    with two workers the parts' times overlap)."""
    from analytics.publishing import latest_snapshot

    snap = latest_snapshot(wave)
    total, parts = {}, [p.audit for p in snap.parts.all()]
    for report in [snap.audit] + parts:
        for name, value in (report.get("seconds") or {}).items():
            total[name] = total.get(name, 0.0) + value
    total["part_audit"] = sorted((r.get("seconds") or {}).get("audit", 0.0) for r in parts)
    total["district"] = snap.audit.get("seconds") or {} if wave.series.district_wide else {}
    return total


def dashboard(wave, gets):
    """p50/p95 in ms of one school's dashboard of the published wave, and its queries:
    as served (the cache warm after the first GET), then with the cache emptied before
    every GET (the page rendered from the snapshot each time); then the same of the
    district page (`district_page`)."""
    school = wave.series.schools().first()
    user = bench_user("bench.leader", role="leader", school=school)
    url = f"/waves/{wave.public_id}/dashboard/?school={school.public_id}"
    return page_timings(user, url, gets) + district_page(wave, gets)


def district_page(wave, gets):
    """The same of the district admin's page of the schools side by side (at 500
    schools, 500 rows read from the parts' summaries)."""
    district = wave.series.district
    user = bench_user("bench.district", role="district_admin", district=district)
    return page_timings(user, f"/districts/{district.public_id}/results/", gets)


def bench_user(username, **membership):
    from django.contrib.auth.models import User

    from surveys.models import Membership

    user, _ = User.objects.get_or_create(username=username)
    Membership.objects.get_or_create(user=user, **membership)
    return user


def page_timings(user, url, gets):
    """(p50 ms, p95 ms, queries) of `gets` GETs of `url` as `user`, the page cache
    warm, then the same with it emptied before each GET."""
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    client.force_login(user)
    if (status := client.get(url).status_code) != 200:
        raise BenchError(f"{url} answered {status}")
    return (_timed_gets(client, url, gets, before=None)
            + _timed_gets(client, url, gets, before=cache.clear))


def _timed_gets(client, url, gets, before):
    """(p50 ms, p95 ms, queries of one more GET) of `gets` GETs, `before` each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(gets):
        if before:
            before()
        started = time.perf_counter()
        client.get(url)
        times.append(1000 * (time.perf_counter() - started))
    if before:
        before()
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    cuts = statistics.quantiles(times, n=20)
    return statistics.median(times), cuts[18], len(ctx.captured_queries)


def report(floor, timings, page):
    ok = True
    print("\nworkers  queue    publish s  sql s  suppress s  audit s  write s  audit share"
          "  no-audit/floor  with-audit/floor")
    for (workers, order), (took, st) in timings.items():
        busy = sum(v for v in st.values() if isinstance(v, float))
        share = st.get("audit", 0.0) / busy if busy else 0.0
        no_audit = took * (1 - share)
        print(f"{workers:7d}  {order:7s}  {took:9.1f}  {st.get('sql', 0):5.1f}"
              f"  {st.get('suppress', 0):10.1f}  {st.get('audit', 0):7.1f}"
              f"  {st.get('present', 0):7.1f}  {share:11.0%}"
              f"  {no_audit / floor:14.1f}x  {took / floor:15.1f}x")
        ok &= no_audit / floor <= TARGETS["no_audit"] and took / floor <= TARGETS["with_audit"]
    for (workers, order), (_, st) in timings.items():
        report_parts(f"{workers} worker(s), {order}", st["part_audit"], st["district"])
    return ok & report_speedups(timings) & report_dashboard(page)


def report_speedups(timings):
    """Each run with two workers against the first run with one."""
    ok, one = True, next((t for (w, _), (t, _) in timings.items() if w == 1), None)
    for (workers, order), (took, _) in timings.items():
        if workers == 2 and one:
            print(f"two workers ({order} queue) against one: {one / took:.2f}x faster "
                  f"(target >= {TARGETS['speedup']}x)")
            ok &= one / took >= TARGETS["speedup"]
    return ok


def report_parts(label, part_audit, district):
    """Each school part's audit seconds (what scales out over workers) and the district
    level's, the serial step after the parts."""
    if not part_audit:
        return
    print(f"{label}: a part's audit {part_audit[0]:.1f} / "
          f"{statistics.mean(part_audit):.1f} / {part_audit[-1]:.1f} s (min / mean / max "
          f"over {len(part_audit)} parts); district level: {district.get('audit', 0):.2f} s "
          f"audit, {district.get('sql', 0):.2f} s SQL")


def report_dashboard(page):
    print("dashboard of one school: " + gets_line(page[:6]))
    print("district page, the schools side by side: " + gets_line(page[6:]))
    return page[1] < TARGETS["p95_ms"] and page[7] < TARGETS["p95_ms"]


def gets_line(timed):
    p50, p95, queries, cold50, cold95, cold_queries = timed
    return (f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, {queries} queries (target p95 < "
            f"{TARGETS['p95_ms']:.0f} ms); cache emptied before each GET: p50 "
            f"{cold50:.1f} ms, p95 {cold95:.1f} ms, {cold_queries} queries")


def main(argv=None):
    args = parse_args(argv)
    os.environ.update(environment(args))
    import django

    django.setup()
    from belonging.celery import app

    app.conf.task_always_eager = False
    print(f"publish benchmark: {args.responses:,} responses, 20 items, {args.schools} "
          f"schools x {args.classes} classes; {os.cpu_count()} CPUs")
    wave = prepare(args)
    if args.audit_only:
        from benchmarks.profiling import school_audit_costs

        print(school_audit_costs(wave))
        return 0
    if args.district_only and args.copies:
        from benchmarks.district_scale import district_level_scaling

        print(district_level_scaling(wave, [int(c) for c in args.copies.split(",")]))
        return 0
    if args.district_only:
        from benchmarks.profiling import district_level_costs

        print(district_level_costs(wave))
        return 0
    if args.gets_only:
        return 0 if report_dashboard(dashboard(wave, args.gets)) else 1
    floor = measure_floor(wave)
    if args.steps:
        from benchmarks.publish_steps import school_step_costs

        print(school_step_costs(wave, floor))
        return 0
    check_broker_idle(args.broker)
    timings, counts = {}, [int(w) for w in args.workers.split(",")]
    for workers, order in publish_queue.runs(counts, args.queue):
        timings[workers, order] = publish_once(wave, workers, order, args.timeout)
        print(f"published with {workers} worker(s), parts queued by the {order}, in "
              f"{timings[workers, order][0]:.1f} s")
        if len(timings) == 1:
            print(publish_queue.report(wave, counts))
    page = dashboard(wave, args.gets)
    ok = report(floor, timings, page)
    print(f"targets: no audit <= {TARGETS['no_audit']}x floor, with audit <= "
          f"{TARGETS['with_audit']}x, two workers >= {TARGETS['speedup']}x, dashboard p95 < "
          f"{TARGETS['p95_ms']:.0f} ms: {'all met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as err:
        print(f"benchmark could not run: {err}", file=sys.stderr)
        sys.exit(2)
