"""Where a school's part spends its time besides the audit (benchmarks/publish.py
--steps): the steps of `analytics.publishing._part` called one by one in this process,
wall milliseconds per school (mean over the wave's schools), against the floor's share
of one school. Their sum over the floor is the no-audit ratio of one worker without
Celery's own costs; the audit (its rounds inside suppression, the closing audit and
the gate) is shown apart. The part is written inside a transaction that is rolled
back, so the database is left as it was. Only the common path is timed: the series'
bands and the school's exact totals (`snapshot.exact_school`) on the first attempt,
as in every benchmark school; `snapshot._suppress_part`'s fallbacks are not."""

import time
from collections import defaultdict

AUDIT = "audit (rounds, closing audit, gate)"


class _Laps:
    def __init__(self, totals):
        self.totals, self.last = totals, time.perf_counter()

    def __call__(self, name, minus=0.0):
        now = time.perf_counter()
        self.totals[name] += now - self.last - minus
        self.last = now


def school_step_costs(wave, floor_seconds):
    totals, schools = defaultdict(float), list(wave.series.schools())
    for school in schools:
        _one_school(wave, school, totals)
    return _table(totals, len(schools), floor_seconds)


def _one_school(wave, school, totals):
    from analytics import disclosure, publishing, snapshot
    from analytics.presentation import present

    lap = _Laps(totals)
    previous = publishing.previous_document(wave, school)
    lap("previous wave's document")
    inp = snapshot.school_input(wave, school, previous)
    totals["grain SQL"] += inp.seconds["sql"]
    lap("classes and fingerprint", minus=inp.seconds["sql"])
    groups, relations, spreads = snapshot.school_unit(inp, list(inp.bands))
    lap("breakdowns (rollup, measures, spreads)")
    specs = disclosure.measure_specs(groups, inp.items)
    links = snapshot.exact_school(groups, inp.k, specs)
    also, same = links or ((), ())
    lap("measure specs")
    decision = disclosure.suppress(groups, relations, inp.k, items=inp.items, also=also,
                                   same=same, specs=specs)
    totals[AUDIT] += decision.audit_seconds
    lap("suppression without its audit", minus=decision.audit_seconds)
    published = disclosure.publish(groups, decision, inp.k)
    lap("publish (round, band)")
    findings = snapshot.gate(published, relations, inp.k, decision, also, same)
    lap(AUDIT)
    if findings:
        raise RuntimeError(f"{school.name}: the gate refused the part")
    data = present(inp.wave, inp.spec, published, decision, spreads, inp.classes, inp.k,
                   school_id=school.id, previous=previous)
    lap("present (reliability, document)")
    report = dict(snapshot._report(inp.k, decision), small=snapshot._small(decision))
    _write(wave, school, inp.fingerprint, data=data, published=snapshot._plain(published),
           relations=snapshot._plain(relations), audit=report)
    lap("write (JSON, INSERT)")


def _write(wave, school, fingerprint, **fields):
    """The part as `publishing._part` writes it (document, publication, relations and
    audit report), in a transaction rolled back."""
    from django.db import transaction

    from analytics.models import SnapshotPart

    with transaction.atomic():
        SnapshotPart.objects.create(wave=wave, school=school,
                                    fingerprint=fingerprint[:60] + "step", **fields)
        transaction.set_rollback(True)


def _table(totals, schools, floor_seconds):
    per_floor = 1000 * floor_seconds / schools
    lines = [f"per school (mean of {schools}), wall ms; the floor's share of one school: "
             f"{per_floor:.1f} ms"]
    steps = {name: 1000 * seconds / schools for name, seconds in totals.items()}
    audit = steps.pop(AUDIT)
    lines += [f"  {name:<42} {ms:9.1f}" for name, ms in steps.items()]
    rest = sum(steps.values())
    lines.append(f"  {'all but the audit':<42} {rest:9.1f}  ({rest / per_floor:.1f}x the floor's "
                 f"share: the no-audit ratio of one worker, without Celery's costs)")
    lines.append(f"  {AUDIT:<42} {audit:9.1f}")
    return "\n".join(lines)
