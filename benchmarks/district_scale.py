"""How the district level's cost grows with the district (benchmarks/publish.py
--district-only --copies 1,2,4): the last snapshot's parts of a generated wave, each
school repeated --copies times under new ids with the same true totals, and the
district level built over them in this process.

Each copy is a school like its original: its part, its small cells and its totals. A
part made safe within the district bound was bounded with the district's totals as they
were; the copies' district is larger, so such a part is taken as bounded with the new
totals (its digest rewritten), as the part would be if its district were that size.
The district's SQL is replaced by the copied totals; everything else is
`snapshot.build_district` as published. Prints, for each size, CPU and wall seconds,
the parts whole and apart, the measures hidden, and the seconds per school against the
first size's (the baseline of the same run).
"""

import copy
import time
from unittest import mock

SCHOOL_ID_STEP = 10**6


def copied(parts, totals, copies):
    """The parts and their schools' totals, each school `copies` times (the first under
    its own ids). Returns (parts, totals)."""
    out, sums = [], {}
    for c in range(copies):
        for part in parts:
            twin, school = copy.copy(part), copy.copy(part.school)
            if c:
                school.public_id = f"{part.school.public_id}c{c}"
                school.name = f"{part.school.name} (copy {c})"
            twin.school_id = part.school_id + c * SCHOOL_ID_STEP
            twin._state.fields_cache["school"] = school
            twin.audit = dict(part.audit)
            out.append(twin)
            sums[twin.school_id] = totals[part.school_id]
    return out, sums


def rebound(parts, keys, totals, spec):
    """A part bounded with the original district's totals taken as bounded with these
    (the copies' district), so that it enters as its totals, as it would in a district
    of this size."""
    from analytics import district_bound, snapshot

    groups, _ = snapshot.district_groups(spec, totals, keys)
    now = district_bound.digest(next(g for g in groups if g.key == "district"))
    for part in parts:
        if "district_bound" in part.audit:
            part.audit["district_bound"] = now


def build(wave, spec, parts, totals):
    """The district level over these parts and totals; (CPU s, wall s, report)."""
    from analytics import aggregation, snapshot
    from analytics.publishing import previous_document

    keys = {p.school_id: f"school:{p.school.public_id}" for p in parts}
    rebound(parts, keys, totals, spec)
    wall, started = time.perf_counter(), time.process_time()
    with mock.patch.object(aggregation, "fetch_school_totals", lambda spec, wave_id: totals):
        _, report = snapshot.build_district(wave, parts, previous_document(wave))
    return time.process_time() - started, time.perf_counter() - wall, report


def district_level_scaling(wave, sizes):
    """Lines of the report: the district level at each number of copies."""
    from analytics import aggregation, snapshot
    from benchmarks.profiling import latest_parts

    parts = latest_parts(wave)
    spec, _, _ = snapshot.series_setup(wave.series)
    totals = aggregation.fetch_school_totals(spec, wave.id)
    lines = ["schools  cpu s  wall s  parts whole / apart  hidden measures  cpu s a school "
             "(x first)"]
    base = None
    for copies in sizes:
        some, sums = copied(parts, totals, copies)
        cpu, wall, report = build(wave, spec, some, sums)
        each = cpu / len(some)
        base = base or each
        lines.append(f"{len(some):7d}  {cpu:5.1f}  {wall:6.1f}  {report['parts_whole']:5d} / "
                     f"{report['parts_apart']:<5d}  {report['hidden_measures']:15d}  "
                     f"{each:.2f} ({each / base:.2f}x)")
    return "\n".join(lines)
