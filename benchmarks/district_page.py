"""The district page of every school side by side, with a district-wide wave of many
schools: the page as served, and how its rows are read (each part's and snapshot's
`summary`) against reading the same rows out of the whole documents with JSON paths
(the baseline: the page's reads before the summaries), measured in this run.

    .venv/bin/python benchmarks/district_page.py --schools 4 --responses 4000 \
        --database benchd [--copies 500] [--gets 50] [--repeat 10]

Uses a wave generated and published by benchmarks/publish.py with the same sizes (as
its --reuse). In a transaction rolled back at the end, the wave's published parts are
copied to new schools of its district until the snapshot lists --copies parts (each a
real part's documents, under another school), so the page shows --copies rows without
publishing that many schools. Then --gets GETs of the page (p50 / p95, its queries),
as served (its body from the page cache) and with the cache emptied before each;
the first GETs of the district page and the district level's dashboard after
publishing, with the pages warmed by the worker (analytics/warming.py) and without
(the baseline), and the warming's own time; and --repeat times each of the two ways
of reading the rows, alternately (median ms).
docs/performance.md, "The district page".
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import BenchError, publish  # noqa: E402


def main(argv=None):
    from django.db import transaction

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--copies", type=int, default=500)
    extra.add_argument("--gets", type=int, default=50)
    ours, rest = extra.parse_known_args(argv)
    wave, repeat = publish.reused_wave(rest, repeat=10)
    with transaction.atomic():
        snapshot = _copied_parts(wave, ours.copies)
        timed = publish.district_page(wave, ours.gets)
        print(f"district page, {snapshot.parts.count()} schools side by side: "
              + publish.gets_line(timed))
        timed = district_level(wave, ours.gets)
        print(f"the district level's dashboard, {snapshot.parts.count()} school rows: "
              + publish.gets_line(timed))
        _first_gets(wave, snapshot, ours.gets)
        _reads(snapshot, repeat)
        transaction.set_rollback(True)
    return 0


def _copied_parts(wave, copies):
    """The wave's newest snapshot, listing `copies` parts: its own and copies of them
    under new schools of the district (rolled back with the transaction)."""
    from analytics.models import Snapshot, SnapshotPart
    from surveys.models import School

    snapshot = Snapshot.objects.filter(wave=wave).order_by("-version").first()
    if snapshot is None:
        raise BenchError("the wave is not published: run benchmarks/publish.py first")
    parts = list(snapshot.parts.all())
    copies_made = []
    for i in range(copies - len(parts)):
        school = School.objects.create(district=wave.series.district, name=f"Copy {i:04d}")
        model = parts[i % len(parts)]
        copies_made.append(SnapshotPart(
            wave=wave, school=school, fingerprint=f"copy{i}", data=model.data,
            published=model.published, relations=model.relations, audit=model.audit,
            summary=model.summary))
    snapshot.parts.add(*SnapshotPart.objects.bulk_create(copies_made, batch_size=50))
    return snapshot


def district_level(wave, gets):
    """The district admin's dashboard of the wave's district level, its document given
    a row for each school copied (each a copy of a real school's row): the breakdown
    and equity tables and charts have a row per school."""
    from analytics.models import Snapshot

    snapshot = Snapshot.objects.filter(wave=wave).order_by("-version").first()
    data = snapshot.data
    rows = [g for g in data["groups"] if g.get("kind") == "school"]
    for i, school in enumerate(wave.series.district.schools.filter(name__startswith="Copy ")):
        key = f"school:{school.public_id}"
        data["groups"].append({**rows[i % len(rows)], "key": key, "label": school.name})
        data["schools"].append({"public_id": school.public_id, "name": school.name,
                                "key": key})
    Snapshot.objects.filter(pk=snapshot.pk).update(data=data)
    user = publish.bench_user("bench.district", role="district_admin",
                              district=wave.series.district)
    return publish.page_timings(user, f"/waves/{wave.public_id}/dashboard/", gets)


def _first_gets(wave, snapshot, gets):
    """The first GET of the district page and of the district level's dashboard after
    publishing: rendered by that GET (the baseline, as before warming) against warmed
    by the worker (`analytics.warming.warm_pages`, which `publish_finish` enqueues),
    the cache emptied before each of `gets` rounds; and the warming's own time."""
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from analytics import warming

    district = wave.series.district
    client = Client()
    client.force_login(publish.bench_user("bench.district", role="district_admin",
                                          district=district))
    urls = [f"/districts/{district.public_id}/results/", f"/waves/{wave.public_id}/dashboard/"]
    cold, warm, warming_ms = [], [], []
    for _ in range(gets):
        cache.clear()
        cold.append(_both(client, urls))
        cache.clear()
        started = time.perf_counter()
        warming.warm_pages(snapshot.pk)
        warming_ms.append(1000 * (time.perf_counter() - started))
        warm.append(_both(client, urls))
    p95 = [statistics.quantiles(t, n=20)[-1] if len(t) > 1 else t[0] for t in (cold, warm)]
    print(f"first GETs after publishing (both pages): rendered by the GET (baseline) p50 "
          f"{statistics.median(cold):.1f} ms, p95 {p95[0]:.1f} ms; warmed p50 "
          f"{statistics.median(warm):.1f} ms, p95 {p95[1]:.1f} ms: {p95[0] / p95[1]:.1f}x "
          f"faster at p95; the warming (both pages, {len(settings.LANGUAGES)} "
          f"languages) {statistics.median(warming_ms):.1f} ms in the worker")


def _both(client, urls):
    started = time.perf_counter()
    for url in urls:
        if (status := client.get(url).status_code) != 200:
            raise BenchError(f"{url} answered {status}")
    return 1000 * (time.perf_counter() - started)


def _reads(snapshot, repeat):
    """The parts' rows read from their summaries against from their documents' JSON
    paths (the wave, components, participation and first group of each document)."""
    from django.db.models.fields.json import KeyTransform

    from analytics.dashboards import slim

    parts = snapshot.parts.select_related("school")
    ways = {
        "summaries": lambda: [p.summary for p in slim(parts)],
        "documents' JSON paths (baseline)": lambda: list(parts.defer(
            "data", "published", "relations", "audit", "summary").annotate(
            doc_wave=KeyTransform("wave", "data"),
            doc_components=KeyTransform("components", "data"),
            doc_participation=KeyTransform("participation", "data"),
            doc_top=KeyTransform("0", KeyTransform("groups", "data")))),
    }
    times = {name: [] for name in ways}
    for _ in range(repeat):
        for name, read in ways.items():
            started = time.perf_counter()
            read()
            times[name].append(1000 * (time.perf_counter() - started))
    new, old = (statistics.median(t) for t in times.values())
    print(f"the rows of {parts.count()} parts: summaries {new:.1f} ms, documents' JSON "
          f"paths (baseline) {old:.1f} ms: {old / new:.1f}x faster")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as err:
        print(f"benchmark could not run: {err}", file=sys.stderr)
        sys.exit(2)
