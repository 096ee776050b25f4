"""Building a wave's publication: groups and their sums -> suppression -> audit ->
the published numbers the dashboards, API and reports read.

A wave is published in parts: one per school (`school_input`, `build_part`), each of
which a Celery task can build on its own, then the wave level (`build_district`) for
a district-wide series. Groups of a school part (the predefined breakdowns, DESIGN.md
rule 5): the school, each class, each year level, each demographic band the series
asks, and year level by gender band. The district level: the district and each school
as a row. Their linear relations (a school is the union of its classes, of its year
levels, of its bands...; the district of its schools) go to the disclosure audit.
"""

import functools
import hashlib
import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from surveys.models import ClassGroup

from . import aggregation, disclosure, district_bound, jsontext
from .audit import View
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
    return {key: disclosure.Measure(n=int(acc[n]), total=acc[total], lo=lo, hi=hi)
            for key, n, total, lo, hi in spec.layout}


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


@dataclass
class SchoolInput:
    """Everything one school's part is computed from; `fingerprint` digests all of it."""

    wave: object
    school: object
    spec: object
    bands: list
    items: dict
    k: int
    rows: list
    classes: dict
    previous: dict | None = None
    fingerprint: str = field(default="")
    seconds: dict = field(default_factory=dict)


def digest(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def series_setup(series):
    spec = aggregation.Spec.for_instrument(series.instrument)
    bands = [b for b in series.demographics if b in ("gender", "home_language")]
    # Each item knows its component: the audit ties a component score to its items
    # (docs/design.md, "A component score is tied to its items in the audit").
    component = {i.key: f"component:{name}" for name, infos in spec.components.items()
                 for i in infos}
    items = {i.key: disclosure.ItemScale(reverse=i.reverse, favorable=frozenset(i.favorable),
                                         component=component[i.key], min_share=spec.min_share)
             for i in spec.items}
    return spec, bands, items


def school_input(wave, school, previous=None, setup=None):
    """One school's grain rows and settings (one SQL query), and their fingerprint.
    `previous` is the school's document in the series' previous published wave."""
    spec, bands, items = setup or series_setup(wave.series)
    started = time.perf_counter()
    rows = aggregation.fetch_grain(spec, wave.id, school.id)
    classes = {c.id: c for c in ClassGroup.objects.filter(school=school)}
    inp = SchoolInput(wave, school, spec, bands, items, wave.series.k, rows, classes, previous)
    inp.seconds["sql"] = time.perf_counter() - started
    inp.fingerprint = digest({
        "rows": _rows_digest(rows),
        "classes": sorted((c.id, c.public_id, c.name, c.year_level, c.enrolment)
                          for c in classes.values()),
        "k": inp.k, "bands": bands, "school": (school.public_id, school.name),
        "instrument": (wave.series.instrument.key, wave.series.instrument.version),
        "wave": (wave.public_id, wave.label, wave.season, wave.starts_on, wave.series.name),
        "previous": (previous or {}).get("published_at"),
    })
    return inp


def _rows_digest(rows):
    """The grain rows in a fixed order: their columns once, then each row's values by
    `repr` (exact for the Decimal sums PostgreSQL returns; a third of the time of
    digesting them as JSON with sorted keys, docs/performance.md "Writing a part")."""
    h = hashlib.sha256(repr(list(rows[0]) if rows else []).encode())
    for row in sorted(rows, key=lambda r: json.dumps([r[c] for c in aggregation.GRAIN])):
        h.update(repr(tuple(row.values())).encode())
    return h.hexdigest()


def school_unit(inp, bands):
    """Groups, relations and spreads of one school, with these demographic bands."""
    sums = aggregation.rollup(inp.rows, lambda row: grain_keys(row, inp.classes, bands))
    groups = [
        disclosure.Group(key=key, n=int(acc["n"]), measures=measures_for(acc, inp.spec))
        for key, acc in sorted(sums.items())
    ]
    by_year = {}
    for c in inp.classes.values():
        by_year.setdefault(c.year_level, []).append(c.public_id)
    relations = relations_for([g.key for g in groups], by_year, bands)
    spreads = {key: spread(acc, inp.spec) for key, acc in sums.items()}
    return groups, relations, spreads


@dataclass
class Built:
    data: dict
    report: dict
    published: dict
    relations: list


def exact_school(groups, k, spec_measures):
    """The whole school's true totals as an extra "publication" (never published): a
    part suppressed and audited with it stays safe whatever else becomes known about
    the school's totals, such as what the district level implies. None when the school
    or a measure of it is small: those are protected at the district level instead.
    A school-row value shown as a band would be pinned by the true totals, so the
    school row hides such an item (the price of a district level that needs only the
    school's totals, `district_links`)."""
    top = next((g for g in groups if g.key == "school"), None)
    if top is None or small_row(top, k):
        return None
    return [(exact_unit(top, k, spec_measures), [])], [((0, "school"), (1, "school"))]


def small_row(group, k):
    """Whether a school's row holds a small cell: fewer than k students, or a measure
    with fewer than k answers (protected at the district level, not by its part)."""
    return group.n < k or any(m.n < k for m in group.measures.values())


def rest_row(whole, part):
    """The true size and totals of a group less one of its parts, as a row of
    `exact_unit`: what the other parts, each known exactly, state together."""
    none = disclosure.Measure(0, 0.0, 0, 0)
    return _exact_row(whole.n - part.n, {
        m: (v.n - part.measures.get(m, none).n, v.total - part.measures.get(m, none).total)
        for m, v in whole.measures.items()})


def _exact_row(n, totals):
    """A row of true values ({measure: (answers, total)}): entries carrying `total`
    stand for exactly that value (analytics/audit_family.py)."""
    entries = {m: {"n": answers, "total": total} for m, (answers, total) in totals.items()}
    return {"suppressed": False, "n": n, "measures": entries}


def exact_unit(group, k, spec_measures, label="exact"):
    """A group's true size and totals as the "school" of a unit of an audit (entries
    carrying `total` stand for exactly that value; analytics/audit_family.py), marked
    hypothetical: never published."""
    row = _exact_row(group.n, {m: (v.n, v.total) for m, v in group.measures.items()})
    return {"k": k, "banding": [list(b) for b in disclosure.BANDING], "unit": label,
            "hypothetical": True, "measures": spec_measures, "groups": {"school": row}}


# Repairs a finding may stay through in the attempt robust to the school's true totals
# before it is given up for the attempt without them (`Repair.stuck`): the attempts that
# succeeded kept a finding at most 7 rounds on the generated waves measured, one that
# could not succeed kept the same findings 41 rounds (docs/performance.md, "A robust
# attempt that cannot succeed").
ROBUST_PATIENCE = 15


def _suppress_part(inp, progress):
    """Suppression with the series' bands, dropping bands (finest last) when no pattern
    can protect every cell with them: coarser breakdowns rather than nothing. A part of
    a district-wide wave is made robust to what the district level can tell about its
    school's totals when that is possible (`_attempts`); a school's own series
    publishes no level above the school, so it is not asked to be. Returns the groups,
    relations, spreads, dropped bands, decision, the links it was audited with and the
    digest of the district's totals they hold (`district_bound`), if any."""
    bands, dropped = list(inp.bands), []
    district = functools.cache(lambda: _district_row(inp))  # its SQL only if asked
    while True:
        groups, relations, spreads = school_unit(inp, bands)
        progress(40, "suppressing")
        specs = disclosure.measure_specs(groups, inp.items) if groups else {}
        for links, bound in _attempts(inp, groups, specs, district):
            also, same = links or ((), ())
            try:
                decision = disclosure.suppress(
                    groups, relations, inp.k, items=inp.items, also=also, same=same,
                    specs=specs, patience=ROBUST_PATIENCE if links else None)
                return groups, relations, spreads, dropped, decision, links, bound
            except RuntimeError:
                continue
        if not bands:
            raise DisclosureAuditFailed("no safe publication exists even for the school "
                                        "and its classes")
        dropped.append(bands.pop())


# A school of fewer respondents than this is made safe within the district bound only,
# without trying its exact totals first. Measured (docs/performance.md, "Small schools
# try the district bound only"): on 10 primary schools of about 150 students, where 9
# failed the exact attempt, their parts took 312.7 CPU s against 557.8 s, hiding as
# many cells (one school 97 measures against 111); on 4 schools of about 1,000 the exact
# totals first were faster than the bound first (122.9 against 153.7 CPU s), hiding
# 3-7% more.
EXACT_FIRST_FROM = 500


def _attempts(inp, groups, specs, district):
    """The links a part is tried with (`attempts`): a school's own series publishes no
    level above the school, so it is not asked to be robust to one."""
    if not inp.wave.series.district_id:
        return iter([(None, None)])
    return attempts(groups, inp.k, specs, district)


def attempts(groups, k, specs, district):
    """The links a part of a district-wide wave is tried with, each with the digest of
    the district totals it holds: in a school of EXACT_FIRST_FROM respondents or more,
    its school's true totals (`exact_school`); then what the district row
    (`district()`) and the other schools' exact totals imply about them
    (`district_bound`, for a school whose small cells only its own row's rounding
    protects); else none (the part then enters the district's audit whole, as a school
    with a small cell in its row does at once). Each robust attempt is given up after
    ROBUST_PATIENCE repairs."""
    school = next((g for g in groups if g.key == "school"), None)
    if school is not None and not small_row(school, k):
        if school.n >= EXACT_FIRST_FROM:
            yield exact_school(groups, k, specs), None
        row = district()
        yield district_bound.links(school, row, k, specs), district_bound.digest(row)
    yield None, None


def _district_row(inp):
    """The district's group as the district level computes it (`district_groups`),
    from the wave's responses now."""
    totals = aggregation.fetch_school_totals(inp.spec, inp.wave.id)
    groups, _ = district_groups(inp.spec, totals, {sid: f"school:{sid}" for sid in sorted(totals)})
    return next(g for g in groups if g.key == "district")


def build_part(inp, progress=lambda pct, step: None):
    """One school's document, suppressed and audited, or DisclosureAuditFailed."""
    from .presentation import present

    clock = _Clock(inp.seconds)
    groups, relations, spreads, dropped, decision, links, bound = _suppress_part(
        inp, progress)
    also, same = links or ((), ())
    clock.lap("suppress")
    published = disclosure.publish(groups, decision, inp.k)
    progress(70, "auditing")
    findings = gate(published, relations, inp.k, decision, also, same)
    clock.lap("audit")
    if findings:
        raise DisclosureAuditFailed(f"{inp.school.name}: "
                                    + "; ".join(str(f) for f in findings[:5]))
    progress(85, "writing")
    data = present(inp.wave, inp.spec, published, decision, spreads, inp.classes, inp.k,
                   school_id=inp.school.id, previous=inp.previous)
    data["dropped_breakdowns"] = dropped
    data["level"] = "school"
    data["school"] = {"public_id": inp.school.public_id, "name": inp.school.name}
    clock.lap("present")
    report = dict(_report(inp.k, decision, dropped), small=_small(decision),
                  seconds=clock.done(decision), robust_top=links is not None)
    if bound is not None:
        report["district_bound"] = bound
    return Built(data, report, _plain(published),
                 [[p, list(kids)] for p, kids in relations])


def gate(published, relations, k, decision, also=(), same=(), views=()):
    """The audit that refuses a snapshot, whatever produced the decision: `suppress`
    ends with a full audit (`AuditMemo.exact`: what an audit without a memo finds) of
    what it decided, and records its digest; a publication with that digest passed
    exactly this audit, and any other is audited here, in full; with its `views`
    (`split_whole`)."""
    if decision.audited and decision.audited == disclosure.audit_digest(
            published, relations, k, also, same, decision.small, views):
        return []
    return run_audit(published, relations, k, small=decision.small, also=also, same=same,
                     views=views)


class _Clock:
    """Seconds per step, for the report (benchmarks/publish.py sums them): the audit
    rounds inside suppression are counted as audit, not as suppression."""

    def __init__(self, seconds):
        self.seconds, self.last = dict(seconds), time.perf_counter()

    def lap(self, name):
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self.last
        self.last = now

    def done(self, decision):
        inner = decision.audit_seconds
        self.seconds["suppress"] = self.seconds.get("suppress", 0.0) - inner
        self.seconds["audit"] = self.seconds.get("audit", 0.0) + inner
        return {k: round(v, 4) for k, v in self.seconds.items()}


def _report(k, decision, dropped=()):
    return {"k": k, "hidden_groups": len(decision.hidden_groups),
            "hidden_measures": len(decision.hidden_measures), "findings": 0,
            "rounds": decision.rounds, "notes": list(decision.notes),
            "dropped_breakdowns": list(dropped)}


def _small(decision):
    """The cells with fewer than k respondents or answers, for later audits (kept with
    the report, never published: which hidden cells are small is itself a secret)."""
    return _plain(sorted(decision.small, key=lambda c: (c,) if isinstance(c, str) else c))


def _plain(value):
    """As stored and read back (JSON), so publications compare equal however made."""
    return jsontext.plain(value)


def build_snapshot(wave, progress=lambda pct, step: None):
    """The document of a school series' wave (one part), or DisclosureAuditFailed."""
    from .publishing import previous_document

    school = wave.series.school
    built = build_part(school_input(wave, school, previous_document(wave, school)), progress)
    return built.data, built.report


# ------------------------------------------------------------------- district level


def _robust(part, district_digest):
    """Whether a part stays safe whatever the district level implies about its school's
    totals: it was suppressed and audited with them known exactly (`exact_school`), or
    with what the district's totals as they are now imply (`district_bound`)."""
    top = part.published["groups"].get("school")
    bound = part.audit.get("district_bound")
    return (bool(part.audit.get("robust_top")) and bool(top) and not top.get("suppressed")
            and bound in (None, district_digest))


def district_links(parts, keys, groups, k, bound_whole=False):
    """What the district level is audited and suppressed with: each school's part as
    another publication whose "school" group is the same respondents as the district's
    row for it (`same`), and the cells the part hides there (`hidden`). The district
    relation involves only the schools' totals. A part proven safe even with its
    school's totals known exactly, or with all the district can tell about them
    (`_robust`: `exact_school`, `district_bound`), enters as those true totals (never
    published: the most anything, its own inside included, can tell about them), so
    the district's audit stays the size of the district table. Any other part (a small
    school, one with a small school-level measure, or one whose district totals have
    changed since) enters whole, with its relations; with `bound_whole`, so does a part
    made safe within the district bound."""
    also, same, hidden = [], [], []
    by_key = {g.key: g for g in groups}
    # A bounded part enters as its totals only against the district's totals it was
    # bounded with; `bound_whole` matches none.
    known = "district" in by_key and not bound_whole
    now = district_bound.digest(by_key["district"]) if known else None
    for i, part in enumerate(parts, start=1):
        pub, key = part.published, keys[part.school_id]
        if _robust(part, now):
            label = f"exact:{part.school.public_id}"
            also.append((exact_unit(by_key[key], k, pub["measures"], label), []))
        else:
            also.append((dict(pub, unit=part.school.public_id, small=part.audit.get("small")),
                         part.relations))
        same.append(((0, key), (i, "school")))
        top = pub["groups"]["school"]
        if top.get("suppressed"):
            hidden.append(key)
        else:
            hidden += [(key, m) for m, e in top["measures"].items() if e.get("suppressed")]
    return also, same, hidden


def district_groups(spec, totals, keys):
    """The district and each school as a row, from each school's sums (one SQL query).
    Returns the groups and their sums."""
    sums = {}
    for school_id, key in keys.items():
        sums[key] = defaultdict(float, {name: float(value) for name, value
                                        in totals[school_id].items() if value is not None})
    district = defaultdict(float)
    for acc in sums.values():
        for name, value in acc.items():
            district[name] += value
    sums["district"] = district
    groups = [disclosure.Group(key, int(acc["n"]), measures_for(acc, spec))
              for key, acc in sums.items()]
    return groups, sums


# The groups that parts entering the district's audit whole may hold together before
# that audit is split (`split_whole`): two parts of small primary schools (35 to 41
# groups each) took 28 s at once, three (115 groups) 470 s at once and 106 s split
# (docs/performance.md, "The district's audit split by part").
SPLIT_GROUPS = 100


def split_whole(also, same, groups, k, most=SPLIT_GROUPS):
    """The district's audit split so that its cost grows with the parts that enter it
    whole, not with their square (every cell of every such part checked over one
    program holding them all). Each such part whose school's row holds no small cell
    is checked in a view of its own (`audit.View`): the district's row and its school's
    row, the part whole and every other school as its true totals (the most anything
    can tell about them), which state together only their sum, so the view holds that
    sum as one row (`rest_row`) and its cost does not grow with the district; it checks
    the part's cells and its school's row.
    Sound, as each view states at least what everything published together does;
    stricter, as a cell only another school's uncertainty protects counts as
    unprotected (hiding the district row's value always settles it). The main audit
    keeps such parts whole, for the district's own cells, but leaves their cells and
    their school rows to their views (`"checked": False`; `audit` skips what a view
    checks). Returns (also, views): unchanged, with none,
    unless two or more parts would be split off holding more than `most` groups."""
    by_key, rows = {g.key: g for g in groups}, {i: key for (_, key), (i, _) in same}
    alone = [i for i, key in rows.items()
             if not also[i - 1][0].get("hypothetical") and not small_row(by_key[key], k)]
    if len(alone) < 2 or sum(len(also[i - 1][0]["groups"]) for i in alone) <= most:
        return also, ()
    # Every other school is known exactly in a view, so all it needs of them is their
    # sum: the district's true totals less this school's (`audit.View` `keep`, `rest`).
    views = [View((also[i - 1],), (((0, rows[i]), (1, "school")),), frozenset({"district"}),
                  frozenset({"district", rows[i]}),
                  (("district", rest_row(by_key["district"], by_key[rows[i]])),))
             for i in alone]
    main = [(dict(pub, checked=False), rels) if i in alone else (pub, rels)
            for i, (pub, rels) in enumerate(also, start=1)]
    return main, tuple(views)


def _suppress_district(parts, keys, groups, relations, k, items):
    """The district level's decision and the links it was audited with. A part made
    safe within the district bound (`district_bound`) enters as its true totals first;
    those state the district row exactly when every school is such a part, so a
    district cell that must be hidden could not be: then such parts enter whole, as
    they did before they could be bounded. Parts entering whole are audited apart
    (`split_whole`). Returns (decision, also, same, views)."""
    bounded = any("district_bound" in p.audit for p in parts)
    for whole in (False, True) if bounded else (False,):
        also, same, hidden = district_links(parts, keys, groups, k, bound_whole=whole)
        also, views = split_whole(also, same, groups, k, SPLIT_GROUPS)
        try:
            return disclosure.suppress(
                groups, relations, k, items=items, also=also, same=same, hidden=hidden,
                views=views), also, same, views
        except RuntimeError as err:
            failure = err
    raise DisclosureAuditFailed(f"district level: {failure}") from None


def build_district(wave, parts, previous=None, progress=lambda pct, step: None):
    """The district level of a district-wide wave, over its schools' written parts:
    suppressed with the parts' hidden cells mirrored and their shown rows kept, and
    audited together with every part. Returns (data, report) or DisclosureAuditFailed."""
    spec, _, items = series_setup(wave.series)
    k = wave.series.k
    keys = {p.school_id: f"school:{p.school.public_id}" for p in parts}
    clock = _Clock({})
    totals = aggregation.fetch_school_totals(spec, wave.id)
    clock.lap("sql")
    groups, sums = district_groups(spec, totals, keys)
    relations = [("district", sorted(keys.values()))] if keys else []
    progress(88, "suppressing the district level")
    decision, also, same, views = _suppress_district(parts, keys, groups, relations, k, items)
    clock.lap("suppress")
    published = _plain(disclosure.publish(groups, decision, k))
    progress(92, "auditing the district level")
    findings = gate(published, relations, k, decision, also, same, views)
    clock.lap("audit")
    if findings:
        raise DisclosureAuditFailed("district level: "
                                    + "; ".join(str(f) for f in findings[:5]))
    spreads = {key: spread(acc, spec) for key, acc in sums.items()}
    # The district's publication and relations go with the report, so the whole
    # snapshot (district level and every part) can be audited again later.
    data = present_district(wave, spec, published, spreads, parts, previous, k)
    clock.lap("present")
    # How many parts its audit took whole (the rest as their true totals), and how many
    # of those apart (`split_whole`): what its cost grows with.
    report = dict(_report(k, decision), published=published, small=_small(decision),
                  relations=[[p, list(kids)] for p, kids in relations],
                  seconds=clock.done(decision), parts_apart=len(views),
                  parts_whole=sum(not u.get("hypothetical") for u, _ in also))
    return data, report


def present_district(wave, spec, published, spreads, parts, previous, k):
    from .presentation import (
        KIND_ORDER,
        change_since,
        component_entries,
        district_basis,
        group_entry,
        item_entries,
        pooled_spreads,
    )

    components, items = component_entries(spec), item_entries(wave.series.instrument, spec)
    names = {f"school:{p.school.public_id}": p.school.name for p in parts}
    spreads = pooled_spreads(spreads, published, district_basis(published))
    groups = []
    for key, pub in published["groups"].items():
        entry = group_entry(key, pub, spreads, components, items, {}, k)
        entry["kind"], entry["label"] = ("district", "Whole district") if key == "district" \
            else ("school", names[key])
        groups.append(entry)
    groups.sort(key=lambda g: (KIND_ORDER.get(g["kind"], 9), g["label"]))
    top = next((g for g in groups if g["key"] == "district"), None)
    shown = top is not None and not top["suppressed"]
    enrolment = sum(c.enrolment for p in parts for c in p.school.classes.all())
    return {
        "schema": 1, "level": "district", "k": k,
        "published_at": timezone.now().isoformat(),
        "wave": {"public_id": wave.public_id, "label": wave.label, "season": wave.season,
                 "starts_on": wave.starts_on.isoformat(), "series": wave.series.name,
                 "instrument": {"key": wave.series.instrument.key,
                                "version": wave.series.instrument.version,
                                "title": wave.series.instrument.title}},
        "district": {"public_id": wave.series.district.public_id,
                     "name": wave.series.district.name},
        "schools": [{"public_id": p.school.public_id, "name": p.school.name,
                     "key": f"school:{p.school.public_id}"} for p in parts],
        "components": components, "items": items, "groups": groups,
        "participation": {"enrolment": enrolment, "responses": top["n"] if shown else None},
        "reliability": {}, "change": change_since(previous, groups, components),
    }
