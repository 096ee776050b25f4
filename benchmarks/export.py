"""Research export benchmark: the export pipeline against a bare SQL-to-Parquet baseline.

    .venv/bin/python benchmarks/export.py [--responses 1000000] [--schools 500]
        [--classes 30] [--formats parquet,sav] [--k 10] [--reuse] [--rounds 1]

What it does (docs/performance.md, "Research exports"):

1. Drops and creates a PostgreSQL database (default belonging_bench_export), migrates
   it, loads the benchmark-only instrument benchmarks/bench-20-1.0.yaml (20 items, 4
   points) and generates one wave of --responses responses over --schools schools with
   INSERT ... SELECT generate_series (benchmarks/publish_data.py: class sizes, gender and
   home-language shares and answers drawn to look like real waves). --reuse keeps a
   database generated before with the same size.
2. Runs each measurement in a child process of its own, so its peak memory (ru_maxrss
   from os.wait4 on that child) is its own:
   - baseline: the same rows (the wave's responses, every column the export reads) from
     one SQL query through a server-side cursor, 50,000 rows a fetch, converted to typed
     columns by the same code as the export, each chunk written as a Parquet row group
     with pyarrow (zstd), nothing else;
   - each format: analytics.exporters.export() with k = --k over every school: the plan
     (grain query, generalisation, suppression), then streaming, scoring, codes and
     writing, and the k/l measurement on the output.
   The baseline runs first and again after each round of the formats (--rounds, default
   1); a format's ratio is against the faster of the two baselines run just before and
   just after it, so a neighbour's load that comes and goes moves both. With several
   rounds the median ratio of each format is judged.
3. Prints rows/s, seconds, CPU seconds of the measured work in the child process (its
   own user + system time; PostgreSQL's work is in the server's processes, not in it)
   and peak memory of each,
   the ratio export/baseline and the targets (peak memory under 1 GiB; within 3x of the
   baseline). Exit status 0 when both are met for every format, 1 when one is missed, 2
   when the benchmark could not run.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import BenchError  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO = 3.0
TARGET_MIB = 1024
CHUNK = 50_000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--responses", type=int, default=1_000_000)
    p.add_argument("--schools", type=int, default=500)
    p.add_argument("--classes", type=int, default=30, help="classes per school")
    p.add_argument("--formats", default="parquet,sav")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--database", default="belonging_bench_export")
    p.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    p.add_argument("--reuse", action="store_true", help="keep the generated database")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat the formats, each round followed by a baseline")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def environment(args):
    return {
        "DJANGO_SETTINGS_MODULE": "belonging.settings", "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "PSEUDONYM_KEY": os.environ.get("BENCH_PSEUDONYM_KEY") or secrets.token_hex(32),
        "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"{args.postgres.rstrip('/')}/{args.database}",
        "PYTHONPATH": str(REPO),
    }


def prepare(args):
    """Generate the wave (or find it with --reuse); returns its id."""
    from benchmarks import publish_data
    from benchmarks.publish import recreate_database
    from surveys.instruments import load_file
    from surveys.models import Response, Wave

    if args.reuse:
        wave = Wave.objects.filter(series__name="Benchmark").first()
        if wave and Response.objects.filter(wave=wave).count() == args.responses:
            return wave.id
        raise BenchError("--reuse: no generated wave of that size in the database")
    recreate_database(args)
    load_file(REPO / "benchmarks" / "bench-20-1.0.yaml")
    started = time.perf_counter()
    wave = publish_data.seed(args.schools, args.classes, args.responses)
    print(f"generated {Response.objects.filter(wave=wave).count():,} responses in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return wave.id


def scope(wave_id, k):
    from analytics.exporters import ExportScope
    from surveys.models import Wave

    wave = Wave.objects.select_related("series").get(pk=wave_id)
    schools = tuple(s.id for s in wave.series.schools())
    return ExportScope(agreement_id="bench", wave_ids=(wave_id,), school_ids=schools, k=k)


def baseline(the_scope, out):
    """The same rows, one SQL query, chunked into Parquet row groups: the floor. It reads
    them exactly as the export does (analytics.exporters.source.stream: server-side
    cursor, 50,000 rows a fetch, typed columns) and writes them as they come."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from django.db import transaction

    from analytics.exporters import source

    layout = source.load_layout(the_scope)
    rows, writer = 0, None
    with transaction.atomic():
        for wave_source in layout.waves:
            for chunk in source.stream(wave_source, layout.school_ids, CHUNK):
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(out, table.schema, compression="zstd")
                writer.write_table(table)
                rows += len(chunk)
    if writer is not None:
        writer.close()
    return rows


def child(args):
    """One measurement, in this (child) process; prints a JSON line."""
    import django

    django.setup()
    the_scope = scope(int(args.reuse_wave), args.k)
    started, cpu = time.perf_counter(), time.process_time()
    if args.child == "baseline":
        rows, report = baseline(the_scope, os.path.join(args.out, "baseline.parquet")), {}
    else:
        from analytics.exporters import export

        result = export(the_scope, args.child, args.out)
        rows, report = result.rows, result.report
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = sum(f.stat().st_size for f in Path(args.out).iterdir())
    print(json.dumps({"rows": rows, "seconds": took, "cpu_s": cpu, "bytes": size,
                      "report": report}))


def measure(args, what, wave_id):
    """Run one measurement in a child process; its output and its own peak RSS."""
    with tempfile.TemporaryDirectory(prefix="bench-export-") as out, \
            tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        cmd = [sys.executable, __file__, "--child", what, "--out", out, "--k", str(args.k),
               "--database", args.database, "--postgres", args.postgres]
        env = dict(os.environ, BENCH_WAVE=str(wave_id))
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if proc.returncode:
        raise BenchError(f"{what} failed:\n{errors[-3000:]}")
    line = json.loads(output.strip().splitlines()[-1])
    line["peak_mib"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    return line


def print_run(name, run, base):
    ratio = run["seconds"] / base["seconds"]
    print(f"{name:<16}{run['rows']:>11,}{run['seconds']:>9.1f}{run['cpu_s']:>7.1f}"
          f"{run['rows'] / run['seconds']:>10,.0f}{run['peak_mib']:>10.0f}"
          f"{run['bytes'] / 1e6:>8.1f}{ratio:>7.2f}")
    return ratio


def report(baselines, rounds, formats):
    """baselines: n + 1 runs; rounds: n dicts {format: run}, round i between baselines i
    and i + 1. Each format is judged on its median ratio over the rounds."""
    print(f"\n{'run':<16}{'rows':>11}{'seconds':>9}{'CPU s':>7}{'rows/s':>10}"
          f"{'peak MiB':>10}{'MB out':>8}{'ratio':>7}")
    fastest = min(baselines, key=lambda r: r["seconds"])
    print_run("baseline", baselines[0], fastest)
    ratios = {name: [] for name in formats}
    for index, runs in enumerate(rounds):
        base = min(baselines[index:index + 2], key=lambda r: r["seconds"])
        for name, run in runs.items():
            ratios[name].append(print_run(name, run, base))
        print_run("baseline again", baselines[index + 1], fastest)
    ok = True
    for name in formats:
        peak = max(r[name]["peak_mib"] for r in rounds)
        median = statistics.median(ratios[name])
        ok &= peak < TARGET_MIB and median <= TARGET_RATIO
        r = rounds[0][name]["report"]
        print(f"{name}: median ratio {median:.2f} of {len(rounds)} (against the adjacent "
              f"baselines), peak {peak:.0f} MiB; generalisations {r['generalisations']}; "
              f"removed {r['records_removed']:,}, locally suppressed "
              f"{r['records_locally_suppressed']}; measured {r['measured']}")
    print(f"targets: peak < {TARGET_MIB} MiB and <= {TARGET_RATIO}x the baseline: "
          f"{'met' if ok else 'MISSED'}")
    return ok


def main(argv=None):
    args = parse_args(argv)
    os.environ.update(environment(args))
    if args.child:
        args.reuse_wave = os.environ["BENCH_WAVE"]
        return child(args)
    import django

    django.setup()
    print(f"export benchmark: {args.responses:,} responses, 20 items, {args.schools} "
          f"schools x {args.classes} classes, k = {args.k}; {os.cpu_count()} CPUs",
          flush=True)
    wave_id = prepare(args)
    formats = [f for f in args.formats.split(",") if f]
    baselines, rounds = [measure(args, "baseline", wave_id)], []
    for _ in range(args.rounds):
        rounds.append({})
        for fmt in formats:
            rounds[-1][fmt] = measure(args, fmt, wave_id)
            print(f"{fmt}: {rounds[-1][fmt]['seconds']:.1f} s", flush=True)
        baselines.append(measure(args, "baseline", wave_id))
        print(f"baseline: {baselines[-1]['seconds']:.1f} s", flush=True)
    return 0 if report(baselines, rounds, formats) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as err:
        print(f"benchmark could not run: {err}", file=sys.stderr)
        sys.exit(2)
