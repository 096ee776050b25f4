"""Dashboard page cost on an already seeded database (e.g. the demo on PostgreSQL):
queries, HTML size and render time of the leader dashboard and the district page.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/belonging \\
        .venv/bin/python benchmarks/dashboard_page.py [--requests 30]

Times are the Django test client's (rendering only, no network, no gunicorn), so they
are what the page itself costs; docs/dashboards.md records a run.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "belonging.settings")


def measure(client, url, requests):
    from django.db import connection

    client.get(url)  # warm per-process caches
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return (f"{url}: status {response.status_code}, {len(queries)} queries, "
            f"{len(response.content) / 1024:.0f} KB, median {statistics.median(times):.1f} ms, "
            f"p95 {p95:.1f} ms over {requests} requests")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--leader", default="leader.hilltop")
    parser.add_argument("--admin", default="district.admin")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    from analytics.models import Snapshot

    snapshot = Snapshot.objects.filter(wave__series__school__isnull=False).select_related(
        "wave__series__school__district").order_by("-wave__starts_on", "-version").first()
    if snapshot is None:
        sys.exit("No published school snapshot: seed the demo first (make demo-setup).")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=args.leader))
    print(measure(client, f"/waves/{snapshot.wave.public_id}/dashboard/", args.requests))
    client.force_login(User.objects.get(username=args.admin))
    district = snapshot.wave.series.school.district
    print(measure(client, f"/districts/{district.public_id}/results/", args.requests))


if __name__ == "__main__":
    main()
