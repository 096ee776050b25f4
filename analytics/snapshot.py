"""Building a wave's snapshot: groups and their sums -> suppression -> audit ->
the published numbers the dashboards, API and reports read.

Groups (the predefined breakdowns, DESIGN.md rule 5): the school, each class,
each year level, each demographic band the series asks, and year level by
gender band. Their linear relations (a school is the union of its classes, of
its year levels, of its bands...) go to the disclosure audit with them.
"""

import math

from surveys.models import ClassGroup

from . import aggregation, disclosure
from .audit import audit as run_audit


class DisclosureAuditFailed(Exception):
    pass


def _class_key(public_id):
    return f"class:{public_id}"


def grain_keys(row, classes, bands):
    cls = classes[row["class_group_id"]]
    keys = ["school", _class_key(cls.public_id), f"year:{row['year_level']}"]
    for band in bands:
        if row[band]:
            keys.append(f"{band}:{row[band]}")
    if "gender" in bands and row["gender"]:
        keys.append(f"year:{row['year_level']}|gender:{row['gender']}")
    return keys


def relations_for(group_keys, classes_by_year, bands):
    """The linear relations among the groups that exist (parent = union of children)."""
    present = set(group_keys)
    years = sorted(k for k in present if k.startswith("year:") and "|" not in k)
    rels = [("school", sorted(k for k in present if k.startswith("class:"))), ("school", years)]
    for year_key in years:
        y = int(year_key.split(":")[1])
        rels.append((year_key, sorted(_class_key(c) for c in classes_by_year.get(y, []))))
    for band in bands:
        rels.append(("school", sorted(k for k in present if k.startswith(f"{band}:"))))
    if "gender" in bands:
        cross = [k for k in present if "|gender:" in k]
        for year_key in years:
            rels.append((year_key, sorted(k for k in cross if k.startswith(year_key + "|"))))
        for gkey in sorted(k for k in present if k.startswith("gender:")):
            rels.append((gkey, sorted(k for k in cross if k.endswith("|" + gkey))))
    return [(p, [c for c in kids if c in present]) for p, kids in rels if p in present and kids]


def measures_for(acc, spec):
    measures = {}
    for ci, (name, infos) in enumerate(spec.components.items()):
        lo, hi = infos[0].lo, infos[0].hi
        measures[f"component:{name}"] = disclosure.Measure(
            n=int(acc[f"c{ci}_n"]), total=acc[f"c{ci}_sum"], lo=lo, hi=hi)
    for index, info in enumerate(spec.items):
        n = int(acc[f"i{index}_n"])
        measures[f"item:{info.key}:mean"] = disclosure.Measure(
            n=n, total=acc[f"i{index}_sum"], lo=info.lo, hi=info.hi)
        measures[f"item:{info.key}:favorable"] = disclosure.Measure(
            n=n, total=acc[f"i{index}_fav"], lo=0, hi=1)
        for value in range(info.lo, info.hi + 1):
            measures[f"item:{info.key}:option:{value}"] = disclosure.Measure(
                n=n, total=acc[f"i{index}_o{value}"], lo=0, hi=1)
    return measures


def spread(acc, spec):
    """SD and 95% CI half-widths of each component mean, from the sums of squares."""
    out = {}
    for ci, name in enumerate(spec.components):
        n, s, sq = acc[f"c{ci}_n"], acc[f"c{ci}_sum"], acc[f"c{ci}_sq"]
        if n < 2:
            continue
        var = max((sq - s * s / n) / (n - 1), 0.0)
        sd = math.sqrt(var)
        out[f"component:{name}"] = {"sd": round(sd, 2), "ci95": round(1.96 * sd / math.sqrt(n), 2)}
    return out


def school_unit(wave, school, spec, bands):
    """Groups, relations and spreads for one school of a wave."""
    rows = aggregation.fetch_grain(spec, wave.id, school.id)
    classes = {c.id: c for c in ClassGroup.objects.filter(school=school)}
    sums = aggregation.rollup(rows, lambda row: grain_keys(row, classes, bands))
    groups = [
        disclosure.Group(key=key, n=int(acc["n"]), measures=measures_for(acc, spec))
        for key, acc in sorted(sums.items())
    ]
    by_year = {}
    for c in classes.values():
        by_year.setdefault(c.year_level, []).append(c.public_id)
    relations = relations_for([g.key for g in groups], by_year, bands)
    spreads = {key: spread(acc, spec) for key, acc in sums.items()}
    return groups, relations, spreads, classes


def build_snapshot(wave, progress=lambda pct, step: None):
    """The whole snapshot for a wave, or DisclosureAuditFailed."""
    from .presentation import present

    series = wave.series
    spec = aggregation.Spec.for_instrument(series.instrument)
    bands = [b for b in series.demographics if b in ("gender", "home_language")]
    k = series.k
    items = {i.key: disclosure.ItemScale(reverse=i.reverse, favorable=frozenset(i.favorable))
             for i in spec.items}
    dropped = []
    while True:
        groups, relations, spreads, classes = school_unit(wave, series.school, spec, bands)
        progress(40, "suppressing")
        try:
            decision = disclosure.suppress(groups, relations, k, items=items)
            break
        except RuntimeError:
            if not bands:
                raise DisclosureAuditFailed("no safe publication exists even for the school "
                                            "and its classes") from None
            # No suppression pattern protects every cell with this breakdown: publish
            # the coarser breakdowns rather than nothing, and say so.
            dropped.append(bands.pop())
    published = disclosure.publish(groups, decision, k)
    progress(70, "auditing")
    # suppress() iterates until its own audit passes; this independent run is the gate
    # that refuses a snapshot, whatever produced the decision.
    findings = run_audit(published, relations, k, small=decision.small)
    if findings:
        raise DisclosureAuditFailed("; ".join(str(f) for f in findings[:5]))
    progress(85, "writing")
    data = present(wave, spec, published, decision, spreads, classes, k)
    data["dropped_breakdowns"] = dropped
    report = {"k": k, "hidden_groups": len(decision.hidden_groups),
              "hidden_measures": len(decision.hidden_measures), "findings": 0,
              "rounds": decision.rounds, "notes": list(decision.notes),
              "dropped_breakdowns": dropped}
    return data, report
