"""Aggregation in the database: one SQL query per school computes, at the finest
grain (class x gender band x home-language band), every sum the snapshot needs;
Python then rolls those few rows up into the predefined breakdowns.

The SQL is portable (CASE, COUNT, SUM only), so the SQLite demo runs the same
pipeline as PostgreSQL. Answers live one column per item (see surveys.models),
which PostgreSQL aggregates at about 20 million answers a second on this kind of
machine (shared/research/limits.md).
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from django.db import connection

from surveys.models import Response

COMPONENTS = ("perceptions", "competencies", "motivations", "opportunities")
GRAIN = ("class_group_id", "year_level", "gender", "home_language")


@dataclass(frozen=True)
class ItemInfo:
    key: str
    column: str
    component: str
    lo: int
    hi: int
    reverse: bool
    favorable: tuple
    validated: bool


@dataclass
class Spec:
    """What to aggregate for one instrument, derived from its Item rows."""

    items: list
    components: dict = field(default_factory=dict)  # measure name -> [ItemInfo]
    min_share: float = 0.8

    @classmethod
    def for_instrument(cls, instrument):
        scales = instrument.scales
        items = []
        for item in instrument.items.all():
            scale = scales[item.scale]
            items.append(ItemInfo(
                key=item.key, column=item.column, component=item.component,
                lo=scale["min"], hi=scale["max"], reverse=item.reverse_keyed,
                favorable=tuple(scale["favorable"]), validated=item.validated,
            ))
        scoring = instrument.definition.get("scoring", {})
        spec = cls(items=items, min_share=scoring.get("min_answered_share", 0.8))
        for info in items:
            name = info.component if info.validated else f"{info.component}:not_validated"
            spec.components.setdefault(name, []).append(info)
        return spec

    @cached_property
    def layout(self):
        """Each published measure as (key, sum holding its n, sum holding its total, lo,
        hi), from the sums `build_query` names: a component's score, then per item its
        mean, % favorable and the share of each option."""
        out = [(f"component:{name}", f"c{ci}_n", f"c{ci}_sum", infos[0].lo, infos[0].hi)
               for ci, (name, infos) in enumerate(self.components.items())]
        for index, info in enumerate(self.items):
            n, key = f"i{index}_n", f"item:{info.key}"
            out += [(f"{key}:mean", n, f"i{index}_sum", info.lo, info.hi),
                    (f"{key}:favorable", n, f"i{index}_fav", 0, 1)]
            out += [(f"{key}:option:{v}", n, f"i{index}_o{v}", 0, 1)
                    for v in range(info.lo, info.hi + 1)]
        return out


def _q(name):
    return connection.ops.quote_name(name)


def keyed_sql(info):
    col = _q(info.column)
    return f"({info.lo + info.hi} - {col})" if info.reverse else col


def component_score_sql(infos, min_share):
    """A student's component score: the mean of answered keyed items when at least
    min_share of the component's items were answered (DESIGN.md), else NULL."""
    answered = " + ".join(f"(CASE WHEN {_q(i.column)} IS NULL THEN 0 ELSE 1 END)" for i in infos)
    total = " + ".join(f"COALESCE({keyed_sql(i)}, 0)" for i in infos)
    need = math.ceil(min_share * len(infos) - 1e-9)
    return f"(CASE WHEN ({answered}) >= {need} THEN 1.0 * ({total}) / ({answered}) END)"


def _item_columns(info, index):
    k, col = keyed_sql(info), _q(info.column)
    fav = ", ".join(str(v) for v in info.favorable)
    cols = [
        (f"COUNT({col})", f"i{index}_n"),
        (f"SUM({k})", f"i{index}_sum"),
        (f"SUM({k} * {k})", f"i{index}_sq"),
        (f"SUM(CASE WHEN {k} IN ({fav}) THEN 1 ELSE 0 END)", f"i{index}_fav"),
    ]
    for value in range(info.lo, info.hi + 1):
        cols.append((f"SUM(CASE WHEN {col} = {value} THEN 1 ELSE 0 END)", f"i{index}_o{value}"))
    return cols


def build_query(spec, group=GRAIN, one_school=True):
    """The sums of every measure per `group` row, for one school (`one_school`: the
    query takes wave and school ids) or for the whole wave (wave id only)."""
    inner = [_q(c) for c in group] + [_q(i.column) for i in spec.items]
    outer = [(_q(c), c) for c in group] + [("COUNT(*)", "n")]
    for ci, infos in enumerate(spec.components.values()):
        inner.append(f"{component_score_sql(infos, spec.min_share)} AS c{ci}")
        outer += [(f"COUNT(c{ci})", f"c{ci}_n"), (f"SUM(c{ci})", f"c{ci}_sum"),
                  (f"SUM(c{ci} * c{ci})", f"c{ci}_sq")]
    for index, info in enumerate(spec.items):
        outer += _item_columns(info, index)
    table = _q(Response._meta.db_table)
    select = ", ".join(f"{expr} AS {alias}" for expr, alias in outer)
    where = "wave_id = %s AND school_id = %s" if one_school else "wave_id = %s"
    return (
        f"SELECT {select} FROM (SELECT {', '.join(inner)} FROM {table} "
        f"WHERE {where}) t GROUP BY {', '.join(_q(c) for c in group)}"
    )


def _fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_grain(spec, wave_id, school_id):
    """Rows of the finest grain for one school of one wave, as dicts."""
    return _fetch(build_query(spec), [wave_id, school_id])


def fetch_school_totals(spec, wave_id):
    """One row of sums per school of the wave (for the district level), by school id."""
    rows = _fetch(build_query(spec, group=("school_id",), one_school=False), [wave_id])
    return {row.pop("school_id"): row for row in rows}


def rollup(rows, key_of):
    """Sum grain rows into groups; key_of(row) returns the group keys a row belongs to.
    Returns {group key: {sum name: value}} (a missing sum reads as 0). Each group's sums
    add its rows in their order, one after another, so they are the same floats as a
    loop over the rows would give (a component's sums are fractions)."""
    if not rows:
        return {}
    names = [name for name in rows[0] if name not in GRAIN]
    values = np.array([[row[name] for name in names] for row in rows], dtype=float)
    values[np.isnan(values)] = 0.0  # NULL: nothing to add
    members = defaultdict(list)
    for index, row in enumerate(rows):
        for key in key_of(row):
            members[key].append(index)
    return {key: defaultdict(float, zip(names, values[index].sum(axis=0).tolist(), strict=True))
            for key, index in members.items()}


def fetch_keyed_matrix(spec, wave_id, school_id):
    """Keyed answers for reliability: one row per response, None for skipped."""
    cols = ", ".join(keyed_sql(i) for i in spec.items)
    table = _q(Response._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {table} WHERE wave_id = %s AND school_id = %s",
                       [wave_id, school_id])
        return cursor.fetchall()
