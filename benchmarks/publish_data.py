"""Data for benchmarks/publish.py: a district-wide wave generated in PostgreSQL with
INSERT ... SELECT generate_series, and the floor query over a wide copy of it.

Groups are drawn to look like schools: about 30 classes a school over six year levels,
class sizes around the mean the requested total implies with a few small classes
(2 to 9 students), gender girl/boy/another/prefer_not at 47/46/4/3 %, home language
yes/no/prefer_not at 24/72/4 %. A student's answers follow one latent trait (a class
effect plus a normal student effect) through item thresholds, with 2% of answers
skipped, so that groups differ and cells are rarely unanimous, as in real waves.
"""

import dataclasses
import random
from datetime import date

from django.db import connection, transaction

INSTRUMENT = "bench-20"
YEARS = (7, 8, 9, 10, 11, 12)


def class_sizes(schools, classes, responses, rng):
    """Sizes of every class of every school, summing to `responses`: one class in ten
    small (2-9 students), the others spread around the mean that leaves."""
    total = schools * classes
    small = [rng.randint(2, 9) if rng.random() < 0.1 else 0 for _ in range(total)]
    big = [i for i, s in enumerate(small) if not s]
    mean = (responses - sum(small)) / len(big)
    sizes = list(small)
    for i in big:
        sizes[i] = max(10, int(rng.gauss(mean, mean * 0.25)))
    drift = responses - sum(sizes)
    for j in range(abs(drift)):  # spread the rounding over the big classes
        sizes[big[j % len(big)]] += 1 if drift > 0 else -1
    return [sizes[s * classes:(s + 1) * classes] for s in range(schools)]


def seed(schools, classes, responses, seed_value=7):
    """District, schools, classes, a district-wide series and its closed wave with one
    closed session per class; returns the wave. Responses come from `fill`."""
    from surveys import services
    from surveys.models import ClassGroup, District, Instrument, School, Session, Wave

    rng = random.Random(seed_value)
    sizes = class_sizes(schools, classes, responses, rng)
    with transaction.atomic():
        district = District.objects.create(name="Benchmark district", min_cell_size=10)
        made = School.objects.bulk_create(
            [School(district=district, name=f"School {i:03d}") for i in range(schools)])
        groups = ClassGroup.objects.bulk_create([
            ClassGroup(school=school, name=f"{YEARS[c % 6]}{chr(65 + c // 6)}",
                       year_level=YEARS[c % 6], enrolment=size + max(1, size // 10))
            for school, row in zip(made, sizes, strict=True) for c, size in enumerate(row)])
        series = services.create_series(
            None, district=district, by=None, name="Benchmark",
            instrument=Instrument.objects.get(key=INSTRUMENT),
            demographics=["gender", "home_language"], languages=["en"])
        wave = Wave.objects.create(series=series, label="Autumn", season="autumn",
                                   starts_on=date(2026, 10, 1), status=Wave.Status.CLOSED)
        Session.objects.bulk_create([
            Session(wave=wave, class_group=cg, code=f"B{i:06d}", status=Session.Status.CLOSED,
                    closes_at="2026-10-01T15:00Z") for i, cg in enumerate(groups)])
    fill(wave, [s for row in sizes for s in row], groups)
    return wave


def _answer_sql(item):
    """Item `item`'s answer from the row's latent trait: thresholds shift by item, 2% NULL."""
    shift = (item % 5 - 2) * 0.25
    return (f"CASE WHEN random() < 0.02 THEN NULL ELSE LEAST(4, GREATEST(1, "
            f"round(2.6 + {shift} + theta + 0.8 * (random() - 0.5) * 2.0)))::smallint END")


def fill(wave, sizes, groups):
    """Every response in one INSERT ... SELECT over generate_series, the same on every
    run of the same sizes."""
    from surveys.models import Response

    cols = ", ".join(f"v{j:02d}" for j in range(1, 21))
    answers = ", ".join(_answer_sql(j) for j in range(1, 21))
    sql = f"""
        INSERT INTO {Response._meta.db_table} (client_id, wave_id, session_id, class_group_id,
            school_id, year_level, gender, home_language, language, submitted_at, {cols})
        SELECT md5(random()::text || b.n || b.sid)::uuid, b.wave_id, b.sid, b.cgid,
            b.school_id, b.year_level,
            CASE WHEN r1 < 0.47 THEN 'girl' WHEN r1 < 0.93 THEN 'boy'
                 WHEN r1 < 0.97 THEN 'another' ELSE 'prefer_not' END,
            CASE WHEN r2 < 0.24 THEN 'yes' WHEN r2 < 0.96 THEN 'no' ELSE 'prefer_not' END,
            'en', now(), {answers}
        FROM (SELECT s.id AS sid, s.wave_id, cg.id AS cgid, cg.school_id, cg.year_level, g.n
              FROM surveys_session s
              JOIN surveys_classgroup cg ON cg.id = s.class_group_id
              JOIN unnest(%s::bigint[], %s::int[]) AS z(class_id, size) ON z.class_id = cg.id
              CROSS JOIN LATERAL generate_series(1, z.size) AS g(n)
              WHERE s.wave_id = %s
              ORDER BY cg.id, g.n) AS b
        CROSS JOIN LATERAL (SELECT random() AS r1, random() AS r2,
            ((b.cgid * 7919) %% 13 - 6) * 0.05
            + (random() + random() + random() + random() - 2.0) * 0.9 AS theta
            WHERE b.n > 0) AS x
    """
    with connection.cursor() as cursor:
        # The same answers on every run (so figures of different runs compare): a seeded
        # random() and one process drawing it in one order.
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(sql, [[g.id for g in groups], sizes, wave.id])
        cursor.execute("RESET max_parallel_workers_per_gather")
        cursor.execute(f"ANALYZE {Response._meta.db_table}")


# ----------------------------------------------------------------------- the floor

BREAKDOWNS = ("(school_id)", "(school_id, class_group_id)", "(school_id, year_level)",
              "(school_id, gender)", "(school_id, home_language)",
              "(school_id, year_level, gender)", "()")


def make_wide(wave_id, spec):
    """The same answers, one row per response and one smallint column per item, keyed
    (reverse-keyed items flipped) as the publication reads them."""
    from analytics.aggregation import keyed_sql

    keyed = ", ".join(f"{keyed_sql(i)}::smallint AS {i.column}" for i in spec.items)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_wide")
        cursor.execute(f"""CREATE TABLE bench_wide AS SELECT school_id, class_group_id,
            year_level, gender, home_language, {keyed} FROM surveys_response
            WHERE wave_id = %s""", [wave_id])
        cursor.execute("ANALYZE bench_wide")


def floor_sql(spec):
    """Count, mean and % favorable per item and per component, for every breakdown
    (district, each school, class, year level, gender, home language, year x gender),
    in one query over the wide table."""
    from analytics.aggregation import component_score_sql

    outer = ["COUNT(*)"]
    inner = ["school_id", "class_group_id", "year_level", "gender", "home_language"]
    for info in spec.items:
        col, fav = info.column, ", ".join(str(v) for v in info.favorable)
        inner.append(col)
        outer += [f"COUNT({col})", f"AVG({col})",
                  f"AVG(CASE WHEN {col} IN ({fav}) THEN 1.0 ELSE 0.0 END)"]
    for ci, infos in enumerate(spec.components.values()):
        plain = [dataclasses.replace(i, reverse=False) for i in infos]  # already keyed
        inner.append(f"{component_score_sql(plain, spec.min_share)} AS c{ci}")
        outer += [f"COUNT(c{ci})", f"AVG(c{ci})",
                  f"AVG(CASE WHEN c{ci} >= 2.5 THEN 1.0 ELSE 0.0 END)"]
    return (f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM bench_wide) t "
            f"GROUP BY GROUPING SETS ({', '.join(BREAKDOWNS)})")


def run_floor(spec, repeats=3):
    """The best of `repeats` runs of the floor query, in seconds, and its row count."""
    import time

    sql, best, rows = floor_sql(spec), None, 0
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 2")
        for _ in range(repeats):
            start = time.perf_counter()
            cursor.execute(sql)
            rows = len(cursor.fetchall())
            took = time.perf_counter() - start
            best = took if best is None else min(best, took)
    return best, rows
