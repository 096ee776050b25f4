"""Submission benchmark: the real response endpoint against a bare-Django baseline.

    .venv/bin/python benchmarks/submit.py [--seconds 60] [--connections 8] [--workers 4]

What it does (docs/performance.md, "Submitting responses"):

1. Drops and creates a PostgreSQL database (default belonging_bench), migrates it, loads
   the benchmark-only instrument benchmarks/bench-20-1.0.yaml (20 items, 4 points) and
   creates a district, school, series, open wave and one open session per endpoint.
2. Starts gunicorn (sync workers) on 127.0.0.1 with benchmarks.settings: production
   settings (DEBUG=0) plus a BASELINE endpoint (benchmarks/urls.py) that inserts the same
   Response row with the ORM in one transaction, without validation or idempotency.
3. Loads each endpoint from a separate process, wrk with benchmarks/submit.lua: a fresh
   uuid4 client_id and random answers 1..4 per request; on the real endpoint a small
   share of requests re-send an acknowledged response (must be answered 200, not stored).
   After a short warm-up of each, the two endpoints take turns: --rounds rounds of
   seconds/rounds each, baseline first in odd rounds and real first in even ones, so a
   neighbour's load on the machine falls on both alike.
4. Reconciles every acknowledgement with the rows stored, prints throughput, latency,
   errors, the ratio real/baseline and the issue's target; stops gunicorn.

Loopback only; everything it starts is stopped when it ends, also on Ctrl-C. Needs wrk
(`apt-get install -y wrk`) and a PostgreSQL superuser (--postgres). Exit status 0 when
the target is met, 1 when it is missed, 2 when the benchmark could not run.
"""

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import BenchError  # noqa: E402
from benchmarks.servers import CpuSample, Gunicorn, Postgres, free_port  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HERE = REPO / "benchmarks"
INSTRUMENT_FILE = HERE / "bench-20-1.0.yaml"
LUA_SCRIPT = HERE / "submit.lua"

# The target (issue 4, point 10).
TARGET_RATIO = 0.70
TARGET_P95_MS = 100.0

ENDPOINTS = ("baseline", "real")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=int, default=60, help="load per endpoint (default 60)")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--rounds", type=int, default=3,
                   help="turns each endpoint takes; --seconds is split between them (default 3)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up seconds per endpoint")
    p.add_argument("--repeat", type=float, default=0.02,
                   help="share of real-endpoint requests that re-send an acknowledged "
                        "response (default 0.02)")
    p.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES",
                                                        "postgres://postgres@127.0.0.1:5432"),
                   help="PostgreSQL server (loopback) and a user that may create databases")
    p.add_argument("--database", default="belonging_bench",
                   help="database to drop and create (default belonging_bench)")
    p.add_argument("--profile", type=int, default=0, metavar="SECONDS",
                   help="after the measured runs, load the real endpoint for SECONDS more "
                        "under py-spy, then time each step of a submission on its own, and "
                        "print where the time goes")
    p.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy",
                   help="py-spy executable for --profile (pip install py-spy)")
    p.add_argument("--keep-logs", action="store_true",
                   help="keep the wrk logs and the gunicorn log (path printed)")
    args = p.parse_args(argv)
    if min(args.seconds, args.connections, args.workers, args.threads, args.rounds) < 1:
        p.error("--seconds, --connections, --workers, --threads and --rounds must be positive")
    if args.warmup < 0 or args.profile < 0:
        p.error("--warmup and --profile cannot be negative")
    if not 0 <= args.repeat <= 0.5:
        p.error("--repeat must be between 0 and 0.5")
    if not args.database.replace("_", "").isalnum() or "bench" not in args.database:
        p.error("--database must be a plain name containing 'bench' (it is dropped)")
    args.threads = min(args.threads, args.connections)
    args.rounds = min(args.rounds, args.seconds)
    args.slice = args.seconds // args.rounds  # wrk takes whole seconds
    return args


# --- environment and database -------------------------------------------------------


def bench_environment(args):
    """Production settings (DEBUG=0) with throw-away keys, over plain HTTP on loopback."""
    return {
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PSEUDONYM_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"{args.postgres.rstrip('/')}/{args.database}",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }


def build_fixture():
    """A school with one open session per run kind, so each one's rows can be counted."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from surveys import instruments, services
    from surveys.models import ClassGroup, District, School

    call_command("migrate", verbosity=0, interactive=False)
    instrument = instruments.load_file(INSTRUMENT_FILE)
    user = get_user_model().objects.create_user("bench", password=None)
    district = District.objects.create(name="Benchmark district")
    school = School.objects.create(district=district, name="Benchmark school")
    series = services.create_series(
        school, by=user, name="Benchmark series", instrument=instrument,
        languages=["en"], demographics=["gender", "home_language"],
    )
    wave = services.create_wave(series, by=user, label="Benchmark wave", season="autumn",
                                starts_on=date.today())
    services.open_wave(wave, by=user)
    sessions = {}
    for n, kind in enumerate(("warm-baseline", "warm-real", "baseline", "real"), start=1):
        cg = ClassGroup.objects.create(school=school, name=f"Bench {n} ({kind})",
                                       year_level=7 + n % 4, enrolment=30)
        sessions[kind] = services.open_session(wave, cg, by=user)
    item_keys = list(instrument.items.order_by("position").values_list("key", flat=True))
    return sessions, item_keys


# --- runs of load -------------------------------------------------------------------


@dataclass
class Run:
    endpoint: str  # baseline | real
    label: str
    session: object
    seconds: int
    repeat: float
    summary: dict = field(default_factory=dict)
    lines: list = field(default_factory=list)
    cpu: dict = field(default_factory=dict)

    @property
    def path(self):
        pid = self.session.public_id
        if self.endpoint == "baseline":
            return f"/bench/baseline/{pid}/responses/"
        return f"/api/v1/sessions/{pid}/responses/"


def run_wrk(run, args, port, item_keys, workdir, server, pg):
    out = Path(workdir) / run.label
    out.mkdir()
    env = {**os.environ, "BENCH_OUT": str(out), "BENCH_ITEMS": ",".join(item_keys),
           "BENCH_REPEAT": str(run.repeat)}
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{run.seconds}s",
           "--latency", "-s", str(LUA_SCRIPT), f"http://127.0.0.1:{port}{run.path}"]
    print(f"... {run.label}: {run.endpoint}, {run.seconds} s", file=sys.stderr, flush=True)
    before = CpuSample.take(server, pg)
    with open(out / "wrk.txt", "w") as log:
        try:
            subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, check=True,
                           timeout=run.seconds + 60)
        except subprocess.CalledProcessError as exc:
            raise BenchError(f"wrk failed ({exc.returncode}); see {out / 'wrk.txt'}") from None
    run.cpu = before.until(CpuSample.take(server, pg))
    try:
        run.summary = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"wrk left no usable summary ({exc}); see {out / 'wrk.txt'}") from None
    for log_file in sorted(out.glob("thread-*.log")):
        run.lines += [line.split() for line in log_file.read_text().splitlines() if line]
    return run


def schedule(args, sessions):
    runs = []
    if args.warmup:
        runs += [Run(e, f"warm-{e}", sessions[f"warm-{e}"], args.warmup,
                     args.repeat if e == "real" else 0.0) for e in ENDPOINTS]
    for r in range(1, args.rounds + 1):
        order = ENDPOINTS if r % 2 else tuple(reversed(ENDPOINTS))
        runs += [Run(e, f"round{r}-{e}", sessions[e], args.slice,
                     args.repeat if e == "real" else 0.0) for e in order]
    return runs


# --- reconciliation and report ------------------------------------------------------


def _merged_quantile(runs, q):
    """The q-quantile (0..1) of several runs' latencies, from each run's 1,000 quantiles
    weighted by its number of requests."""
    points = []
    for run in runs:
        quantiles = run.summary["quantiles_us"]
        weight = run.summary["requests"] / len(quantiles)
        points += [(value, weight) for value in quantiles]
    points.sort()
    total = sum(w for _, w in points)
    seen = 0.0
    for value, weight in points:
        seen += weight
        if seen >= q * total:
            return value / 1000
    return points[-1][0] / 1000 if points else 0.0


def reconcile(runs, session):
    """All runs of one endpoint against the rows stored for its session."""
    from django.db.models import Count

    from surveys.models import Response

    rows = Response.objects.filter(session=session)
    row_ids = {str(cid) for cid in rows.values_list("client_id", flat=True)}
    row_count = rows.count()
    repeated_rows = rows.values("client_id").annotate(n=Count("id")).filter(n__gt=1).count()
    lines = [line for run in runs for line in run.lines]
    statuses, stored, other_2xx = {}, [], 0
    repeats = {"answered": 0, "acknowledged": 0}
    for status, cid, flag, kind in lines:
        statuses[status] = statuses.get(status, 0) + 1
        if kind == "repeat":
            repeats["answered"] += 1
            repeats["acknowledged"] += status == "200" and flag == "false"
        if status == "201" and flag == "true":
            stored.append(cid)  # a repeat answered 201 shows up as a duplicate below
        elif not (status == "200" and flag == "false" and kind == "repeat") \
                and status.startswith("2"):
            other_2xx += 1
    acknowledged = {cid for status, cid, *_ in lines if status.startswith("2") and cid != "-"}
    non_2xx = sum(n for s, n in statuses.items() if not s.startswith("2"))
    sock = {k: sum(run.summary["errors"][k] for run in runs)
            for k in ("connect", "read", "write", "timeout")}
    seconds = sum(run.summary["duration_us"] for run in runs) / 1e6
    cpu = {k: sum(run.cpu[k] for run in runs) for k in runs[0].cpu}
    per_round = [sum(1 for s, _, f, _ in run.lines if s == "201" and f == "true")
                 / (run.summary["duration_us"] / 1e6) for run in runs]
    return {
        "requests": len(lines),
        "seconds": seconds,
        "stored_acks": len(stored),
        "stored_per_s": len(stored) / seconds,
        "per_round": per_round,
        "requests_per_s": len(lines) / seconds,
        "repeats_sent": sum(run.summary["repeats_sent"] for run in runs),
        "repeats_answered": repeats["answered"],
        "repeats_acked": repeats["acknowledged"],
        "other_2xx": other_2xx,
        "statuses": statuses,
        "non_2xx": non_2xx,
        "socket_errors": sum(sock.values()),
        "socket_detail": sock,
        "rows": row_count,
        "acknowledged": len(acknowledged),
        "lost": len(acknowledged - row_ids),
        # a second 201 for one client_id, or two rows with one client_id
        "duplicated": len(stored) - len(set(stored)) + repeated_rows,
        "unacknowledged_rows": len(row_ids - acknowledged),
        "latency_ms": {
            "p50": _merged_quantile(runs, 0.50), "p95": _merged_quantile(runs, 0.95),
            "p99": _merged_quantile(runs, 0.99),
            "max": max(run.summary["latency_us"]["max"] for run in runs) / 1000,
        },
        "cpu": cpu,
    }


def machine_description(pg_description, args):
    import django
    import gunicorn

    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    wrk = wrk.split("[")[0].split("Copyright")[0].strip() or "wrk"
    return [
        f"machine: {os.cpu_count()} cores ({cpu}{mem}), {platform.system()} "
        f"{platform.release()}",
        f"software: Python {platform.python_version()}, Django {django.get_version()}, "
        f"gunicorn {gunicorn.__version__}, {pg_description}",
        f"server: gunicorn {args.workers} sync workers, benchmarks.settings (DEBUG=0), "
        "127.0.0.1",
        f"load: {wrk} (separate process), {args.threads} threads, {args.connections} "
        f"connections; {args.rounds * args.slice} s per endpoint in {args.rounds} turns of "
        f"{args.slice} s, after {args.warmup} s warm-up each",
        f"real endpoint: {args.repeat:.0%} of requests re-send an acknowledged response",
    ]


def report(results, header):
    base, real = results["baseline"], results["real"]
    ratio = real["stored_per_s"] / base["stored_per_s"] if base["stored_per_s"] else 0.0
    out = [f"belonging submission benchmark, {datetime.now():%Y-%m-%d %H:%M}", *header, ""]
    out.append(f"{'endpoint':<10} {'requests':>9} {'stored/s':>9} {'req/s':>7} "
               f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
               f"{'non-2xx':>7} {'sock err':>8}")
    for name, r in (("baseline", base), ("real", real)):
        lat = r["latency_ms"]
        out.append(f"{name:<10} {r['requests']:>9,} {r['stored_per_s']:>9.1f} "
                   f"{r['requests_per_s']:>7.1f} {lat['p50']:>7.1f} {lat['p95']:>7.1f} "
                   f"{lat['p99']:>7.1f} {lat['max']:>7.1f} {r['non_2xx']:>7} "
                   f"{r['socket_errors']:>8}")
    rounds = [r / b if b else 0.0 for r, b in zip(real["per_round"], base["per_round"],
                                                     strict=True)]
    out.append(f"ratio real/baseline (stored responses/s): {ratio:.2f}  "
               f"(per turn: {' '.join(f'{x:.2f}' for x in rounds)})")
    out.append("")
    out.append("CPU ms per request (app = gunicorn workers, db = PostgreSQL, load = wrk; "
               "other = everything else on the machine, share of all cores):")
    for name, r in (("baseline", base), ("real", real)):
        cpu, n = r["cpu"], max(r["requests"], 1)
        other = max(0.0, cpu["busy"] - cpu["app"] - cpu["db"] - cpu["load"])
        out.append(f"  {name:<9} app {cpu['app'] * 1000 / n:5.2f}  db {cpu['db'] * 1000 / n:5.2f}"
                   f"  load {cpu['load'] * 1000 / n:5.2f}  all cores busy "
                   f"{cpu['busy'] / cpu['total']:.0%}, other {other / cpu['total']:.0%}")
    totals = {name: (r["cpu"]["app"] + r["cpu"]["db"] + r["cpu"]["load"]) / max(r["requests"], 1)
              for name, r in (("baseline", base), ("real", real))}
    if totals["real"]:
        out.append(f"  CPU-cost ratio baseline/real: {totals['baseline'] / totals['real']:.2f} "
                   "(what the throughput ratio tends to when the cores are the limit)")
    out.append("")
    out.append("acknowledged vs stored (rows of each endpoint's session):")
    for name, r in (("baseline", base), ("real", real)):
        extra = ""
        if name == "real":
            extra = (f"; repeats sent {r['repeats_sent']:,}, answered "
                     f"{r['repeats_answered']:,} (the rest in flight when wrk stopped), "
                     f"all as 200 stored=false: "
                     f"{'yes' if r['repeats_acked'] == r['repeats_answered'] else 'NO'}")
        out.append(f"  {name:<9} stored (201) {r['stored_acks']:,}{extra}; distinct client_ids "
                   f"acknowledged {r['acknowledged']:,}; rows {r['rows']:,} "
                   f"({r['unacknowledged_rows']} in flight when wrk stopped, never "
                   f"acknowledged); lost {r['lost']}; duplicated {r['duplicated']}")
        if r["non_2xx"] or r["socket_errors"] or r["other_2xx"]:
            out.append(f"            statuses {r['statuses']}, socket errors "
                       f"{r['socket_detail']}, other 2xx {r['other_2xx']}")
    checks = [
        (f"real >= {TARGET_RATIO:.0%} of baseline throughput", ratio >= TARGET_RATIO,
         f"{ratio:.0%}"),
        (f"real p95 < {TARGET_P95_MS:.0f} ms", real["latency_ms"]["p95"] < TARGET_P95_MS,
         f"{real['latency_ms']['p95']:.1f} ms"),
        ("zero errors (non-2xx, socket), both endpoints",
         not any(r["non_2xx"] or r["socket_errors"] for r in (base, real)),
         f"{sum(r['non_2xx'] + r['socket_errors'] for r in (base, real))}"),
        ("zero lost, zero duplicated, every answered repeat 200 stored=false",
         not any(r["lost"] or r["duplicated"] for r in (base, real))
         and real["repeats_acked"] == real["repeats_answered"],
         f"lost {base['lost'] + real['lost']}, duplicated "
         f"{base['duplicated'] + real['duplicated']}, repeats "
         f"{real['repeats_acked']}/{real['repeats_answered']}"),
    ]
    out.append("")
    out.append("target (issue 4, point 10):")
    for label, ok, value in checks:
        out.append(f"  [{'ok' if ok else 'MISSED'}] {label}: {value}")
    met = all(ok for _, ok, _ in checks)
    out.append(f"TARGET {'MET' if met else 'MISSED'}")
    return "\n".join(out), met


# --- main ---------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    env = bench_environment(args)
    os.environ.update(env)
    pg = Postgres(args)
    workdir = tempfile.mkdtemp(prefix="belonging-bench-")
    # Ctrl-C and TERM unwind through the `with` and `finally` blocks, which stop gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        pg.recreate()
        import django

        django.setup()
        from django.db import connections

        sessions, item_keys = build_fixture()
        connections.close_all()
        runs = schedule(args, sessions)
        port = free_port()
        with Gunicorn(env, port, args.workers, Path(workdir) / "gunicorn.log") as server:
            for run in runs:
                run_wrk(run, args, port, item_keys, workdir, server, pg)
            if args.profile:
                from benchmarks import profiling

                extra = Run("real", "profile", sessions["warm-real"], args.profile, args.repeat)
                stacks = profiling.record(
                    args.py_spy, server.proc.pid, args.profile, workdir,
                    lambda: run_wrk(extra, args, port, item_keys, workdir, server, pg))
        results = {
            e: reconcile([r for r in runs if r.endpoint == e and not r.label.startswith("warm")],
                         sessions[e])
            for e in ENDPOINTS
        }
        text, met = report(results, machine_description(pg.describe(), args))
        print(text)
        if args.profile:
            print()
            print(profiling.summarise(stacks, REPO))
            print()
            print(profiling.step_costs(sessions["warm-real"], item_keys))
        connections.close_all()
    finally:
        pg.close()
        if args.keep_logs:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:  # gunicorn and wrk are already stopped by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)
