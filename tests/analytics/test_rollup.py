"""aggregation.rollup: the breakdowns' sums from the finest grain, the same floats as
adding each group's rows one after another (a component's sums are fractions, and a
published mean rounds them: a different order of additions could move a value across a
rounding boundary between two runs of the same data)."""

import random
from collections import defaultdict
from decimal import Decimal

from analytics.aggregation import GRAIN, rollup


def _rows(rng, count):
    rows = []
    for _ in range(count):
        row = {"class_group_id": rng.randint(1, 6), "year_level": rng.choice((7, 8)),
               "gender": rng.choice(("girl", "boy", None)), "home_language": None,
               "n": rng.randint(1, 9)}
        row["c0_sum"] = Decimal(rng.randint(1, 40)) / Decimal(3)  # as PostgreSQL's numeric
        row["c0_sq"] = rng.random() * 50
        row["i0_o1"] = None if rng.random() < 0.2 else rng.randint(0, 5)
        rows.append(row)
    return rows


def _keys(row):
    keys = ["school", f"class:{row['class_group_id']}", f"year:{row['year_level']}"]
    return keys + ([f"gender:{row['gender']}"] if row["gender"] else [])


def _loop(rows):
    groups = defaultdict(lambda: defaultdict(float))
    for row in rows:
        for key in _keys(row):
            for name, value in row.items():
                if name not in GRAIN and value is not None:
                    groups[key][name] += float(value)
    return groups


def test_the_sums_are_those_of_adding_each_groups_rows_in_order():
    rng = random.Random(5)
    for _ in range(20):
        rows = _rows(rng, rng.randint(1, 60))
        got, want = rollup(rows, _keys), _loop(rows)
        assert set(got) == set(want)
        for key, sums in want.items():
            assert {name: got[key][name] for name in ("n", "c0_sum", "c0_sq", "i0_o1")} \
                == {name: sums[name] for name in ("n", "c0_sum", "c0_sq", "i0_o1")}


def test_a_sum_with_no_answers_reads_as_zero_and_no_rows_give_no_groups():
    rows = [{**dict.fromkeys(GRAIN), "class_group_id": 1, "year_level": 7, "n": 2,
             "i0_o1": None}]
    got = rollup(rows, _keys)
    assert got["school"]["n"] == 2.0 and got["school"]["i0_o1"] == 0.0
    assert got["school"]["never_summed"] == 0.0
    assert rollup([], _keys) == {}
