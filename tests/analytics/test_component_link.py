"""A component score is the mean of its items' keyed answers per student, so in every
group its total is tied to the items' totals: m S = T_1 + ... + T_m when everyone
answered everything. The audit models that tie (`audit_family._link_rows`); without
it, a class's component score (two decimals) and its other items' shares gave an
item's total exactly, and with the school's shares pinned "10% or less" bands to 0.

The attacker in the first test is written out by hand, independently of the audit:
it enumerates the option counts each class's own numbers allow and keeps the
combinations the component scores and the school's numbers agree with."""

import itertools
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.audit import audit
from analytics.audit_family import _Family
from analytics.audit_model import _Model
from analytics.audit_sizes import _Counts
from analytics.disclosure import (
    Group,
    ItemScale,
    band_mean,
    band_percent,
    measure_specs,
    publish,
    suppress,
)
from tests.analytics.test_disclosure import (
    K,
    Student,
    build,
    measures_of,
    memberships,
    relations_for,
)
from tests.analytics.test_disclosure_properties import FAST

OPTIONS = (1, 2, 3, 4)
UNLINKED = {f"Q{i}": ItemScale(False, frozenset({3, 4})) for i in range(3)}
LINKED = {f"Q{i}": ItemScale(False, frozenset({3, 4}), "component:perceptions")
          for i in range(3)}
SCORED_AT_80 = {f"Q{i}": ItemScale(False, frozenset({3, 4}), "component:perceptions", 0.8)
                for i in range(3)}


def answers(counts):
    return [v for v, c in zip(OPTIONS, counts, strict=True) for _ in range(c)]


def two_classes():
    """Two classes of 30 answering Q0..Q2; nobody chose 1 on Q1 or Q2, so a class's
    share of 1 is the band "10% or less"."""
    spec = {"a": ([1, 9, 12, 8], [0, 7, 12, 11], [0, 9, 11, 10]),
            "b": ([3, 7, 10, 10], [0, 6, 17, 7], [0, 10, 13, 7])}
    people = []
    for cls, items in spec.items():
        for row in zip(*(answers(c) for c in items), strict=True):
            people.append(Student(cls, list(row)))
    return people


def shown(entry):
    return None if entry is None or entry.get("suppressed") else entry["display"]


def item_options(entry, item, n):
    """(total, count of 1) for every option-count vector of an item that the group's own
    shown numbers of it allow."""
    out = set()
    for counts in itertools.product(range(n + 1), repeat=3):
        full = (*counts, n - sum(counts))
        if full[3] < 0:
            continue
        total = sum(v * c for v, c in zip(OPTIONS, full, strict=True))
        shows = {f"item:{item}:option:{v}": band_percent(c / n, n)["display"]
                 for v, c in zip(OPTIONS, full, strict=True)}
        shows[f"item:{item}:mean"] = band_mean(total / n, n, 1, 4, 1)["display"]
        shows[f"item:{item}:favorable"] = band_percent((full[2] + full[3]) / n, n)["display"]
        if all(shown(entry.get(k)) in (None, d) for k, d in shows.items()):
            out.add((total, full[0]))
    return out


def attacker_ones(out):
    """The counts of answer 1 on Q1 and Q2 in each class that everything published
    allows (every student answered every item, as every n shows)."""
    a, b, school = (out["groups"][g]["measures"] for g in ("class:a", "class:b", "school"))
    q0 = {t for t, _ in item_options(school, "Q0", 60)}  # the school's Q0 total
    sums = {}
    for key, m in (("a", a), ("b", b)):
        score = float(m["component:perceptions"]["display"])
        sums[key] = {s for s in range(3 * 30 * 1, 3 * 30 * 4 + 1)
                     if band_mean(s / 90, 90, 1, 4, 2)["display"] == f"{score:.2f}"}
    seen = set()
    for (ta1, a1), (ta2, a2), (tb1, b1), (tb2, b2) in itertools.product(
            item_options(a, "Q1", 30), item_options(a, "Q2", 30),
            item_options(b, "Q1", 30), item_options(b, "Q2", 30)):
        for sa, sb in itertools.product(sums["a"], sums["b"]):
            if (sa - ta1 - ta2) + (sb - tb1 - tb2) in q0:
                seen.add((a1, a2, b1, b2))
    return seen


def test_the_component_score_pins_item_bands_when_the_audit_ignores_it():
    groups, rels = build(two_classes(), dims=("class",), n_items=3)
    decision = suppress(groups, rels, K, items=UNLINKED)
    out = publish(groups, decision, K)
    assert shown(out["groups"]["class:a"]["measures"]["item:Q1:option:1"]) == "10% or less"
    assert audit(out, rels, K, small=decision.small) == []  # the unlinked audit passed
    assert attacker_ones(out) == {(0, 0, 0, 0)}  # yet nobody chose 1: the bands say nothing
    out["measures"] = measure_specs(groups, LINKED)
    found = {(f.group, f.measure) for f in audit(out, rels, K, small=decision.small)
             if f.condition == "band"}
    assert ("class:a", "item:Q1:option:1") in found
    assert ("class:b", "item:Q2:option:1") in found


def test_suppression_with_the_link_leaves_no_band_the_attacker_can_pin():
    groups, rels = build(two_classes(), dims=("class",), n_items=3)
    decision = suppress(groups, rels, K, items=LINKED)
    out = publish(groups, decision, K)
    assert audit(out, rels, K, small=decision.small) == []
    banded = [g for g in ("class:a", "class:b")
              if shown(out["groups"][g]["measures"].get("item:Q1:option:1")) == "10% or less"]
    if banded:  # a band still shown must be open: some count other than 0 fits
        assert any(ones != (0, 0, 0, 0) for ones in attacker_ones(out))
    for g in ("class:a", "class:b", "school"):  # the headline scores stay shown
        assert shown(out["groups"][g]["measures"]["component:perceptions"]) is not None


# ------------------------------------------------------- the truth fits every program


def truth(model, counts, fam, by):
    """Every column of a family's program at the true values."""
    n = len(fam.fixed)
    x = [0.0] * n
    for i, name in enumerate(counts.hidden):
        x[i] = by[name].n
    for block_fam, cols in fam.program.blocks.items():
        keys = model.families[block_fam]
        for name, (n_col, vals) in cols.items():
            measures = by[name].measures
            x[n_col] = measures[keys[0]].n
            if model.specs[keys[0]].get("scale"):
                options = [k for k in keys if ":option:" in k]
                for col, key in zip(vals, sorted(options, key=lambda k: int(k.rsplit(":", 1)[1])),
                                    strict=True):
                    x[col] = measures[key].total
            else:
                x[vals[0]] = measures[keys[0]].total
    return x


def assert_truth_fits(out, rels, by):
    model = _Model([(out, rels)], [0], (), K, None)
    counts = _Counts(model)
    for name in model.families:
        fam = _Family(model, counts, name)
        x = truth(model, counts, fam, by)
        for col, value in enumerate(fam.fixed):
            if fam.where[col] < 0:
                assert abs(x[col] - value) < 1e-6, (name, col)
        kept = [x[c] for c in fam.keep]
        row = fam.prog.A @ kept
        assert all(row >= fam.prog.rlo - 1e-6) and all(row <= fam.prog.rhi + 1e-6), name


@st.composite
def skipping_classes(draw):
    people = []
    for c in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(1, 25))):
            row = [draw(st.sampled_from([1, 2, 3, 4, 4, None])) for _ in range(3)]
            people.append(Student(f"c{c}", row, 7 + c % 2))
    return people


def build_scored(people, need):
    """`build` with the component counted over the students who answered at least
    `need` of the three items, as analytics.aggregation scores them."""
    by = defaultdict(list)
    for s in people:
        for key in memberships(s, ("class", "year")):
            by[key].append(s)
    groups = []
    for key, members in sorted(by.items()):
        measures = measures_of(members, 3)
        scored = [s for s in members if sum(a is not None for a in s.answers) >= need]
        measures["component:perceptions"] = measures_of(scored, 3)["component:perceptions"]
        groups.append(Group(key, len(members), measures))
    return groups, relations_for(set(by), people, ("class", "year"))


@FAST
@given(skipping_classes(), st.sampled_from([(LINKED, 1), (SCORED_AT_80, 3)]))
def test_the_true_answers_satisfy_every_row_of_every_family_with_skipped_items(people, rule):
    items, need = rule
    groups, rels = build_scored(people, need)
    decision = suppress(groups, rels, K, items=items)
    out = publish(groups, decision, K)
    assert audit(out, rels, K, small=decision.small) == []
    assert_truth_fits(out, rels, {g.key: g for g in groups})


def test_a_memo_reuses_nothing_whose_linked_family_changed():
    """Suppression's rounds reuse a family's findings while its program is unchanged
    (`audit_memo.family_key`); a linked family's program holds its component's other
    items, so showing more of another item must make it be audited afresh."""
    import copy

    from analytics.audit import AuditMemo

    groups, rels = build(two_classes(), dims=("class",), n_items=3)
    decision = suppress(groups, rels, K, items=UNLINKED)
    shown = publish(groups, decision, K)
    shown["measures"] = measure_specs(groups, LINKED)
    less = copy.deepcopy(shown)  # the school's Q0 hidden too: Q1's own numbers the same
    for key in list(less["groups"]["school"]["measures"]):
        if key.startswith("item:Q0:"):
            less["groups"]["school"]["measures"][key] = {"suppressed": True, "reason": "x"}
    memo = AuditMemo()
    earlier = audit(less, rels, K, small=decision.small, memo=memo)
    fresh = audit(shown, rels, K, small=decision.small)
    assert {f.measure for f in fresh} - {f.measure for f in earlier}  # Q0 pins more
    reused = audit(shown, rels, K, small=decision.small, memo=memo)
    assert sorted(map(repr, reused)) == sorted(map(repr, fresh))


# ------------------------------------------- one respondent's answers, found per set


def linked_schools(seeds=range(3)):
    """Suppressed schools whose two items share a component score: for each, the audit's
    model, sizes, the linked set (the component's family, then its items), their shared
    program and the witness sizes it accepts."""
    from analytics.audit_family import _Program
    from analytics.audit_sizes import _witnesses
    from tests.analytics.test_audit_memo import school

    items = {f"Q{i}": ItemScale(False, frozenset({3, 4}), "component:perceptions")
             for i in range(2)}
    for seed in seeds:
        groups, rels = school(seed)
        decision = suppress(groups, rels, K, items=items)
        model = _Model([(publish(groups, decision, K), rels)], [0], (), K, decision.small)
        counts, linked = _Counts(model), model.linked("item:Q0")
        program = _Program(model, counts, linked)
        witnesses = _witnesses(model, counts, [_Family(model, counts, linked[0], program)], True)
        yield model, counts, linked, program, witnesses


def test_the_lone_answers_of_a_linked_set_found_together_are_each_items_own():
    """`audit_values._lone_shared` asks the lone cells of every item of a component at
    once; what each cell can answer must be what the item's own `_lone` finds."""
    from analytics import audit_values as values

    compared = 0
    for model, counts, linked, program, witnesses in linked_schools():
        for name in linked[1:]:
            fam = _Family(model, counts, name, program)
            rest = [c for c in fam.hidden_cells if model.checked(c, fam.keys)]
            for w in values._lone_order(witnesses):
                here = values._lone_at(fam, rest, w)
                own = values._lone(_Family(model, counts, name, program), here, w)
                assert values._lone_shared(fam, here, w, witnesses) == own
                compared += sum(1 for c in here if own.get(c))
                rest = [c for c in rest if c not in here]
    assert compared >= 20


def test_a_lone_component_score_is_wide_exactly_when_its_exact_range_is():
    """`audit_values._lone_generic`: the values one respondent's component score can take
    in each lone cell, from solutions that settle every cell a step wide when they can;
    a cell still narrow gets its exact range. Every value it reports is one a solution
    gives (inside the cell's exact range by `milp`); a cell is reported wide exactly when
    that range is a step wide, and a narrow one with that range, whatever solutions were
    kept before (asked again with more kept, the answer is the same): an audit with a
    memo and one without agree. (Here every lone score spans the scale; the property
    tests of test_disclosure_properties meet narrow ones, audited with a memo and
    without.)"""
    from analytics import audit_values as values

    step, compared = 1.0, 0
    for model, counts, linked, program, witnesses in linked_schools():
        fam = _Family(model, counts, linked[0], program)
        rest = [c for c in fam.hidden_cells if model.checked(c, fam.keys)]
        for w in values._lone_order(witnesses):
            here = values._lone_at(fam, rest, w)
            rest = [c for c in rest if c not in here]
            if not here:
                continue
            got = values._lone_generic(fam, here, w)
            ends = [lone_solved(fam, here, w, {fam.cols[c][1][0]: s for c in here})
                    for s in (1.0, -1.0)]
            assert (not got) == (ends[0] is None)
            for c in here if got else ():
                col, (low, high) = fam.cols[c][1][0], got[c][fam.keys[0]]
                exact = [lone_solved(fam, here, w, {col: s})[col] for s in (1.0, -1.0)]
                assert exact[0] - 1e-6 <= low <= high <= exact[1] + 1e-6
                if exact[1] - exact[0] < step - 1e-9:
                    assert (low, high) == pytest.approx(tuple(exact), abs=1e-6)
                else:
                    assert high - low >= step - 1e-9
                compared += 1
            for x in ends:  # kept now, as an earlier round would have kept them
                fam.program.pool.add(x)
            again = values._lone_generic(fam, here, w)
            for c in here if got else ():
                ranges = [r[c][fam.keys[0]] for r in (got, again)]
                assert len({r[1] - r[0] >= step - 1e-9 for r in ranges}) == 1
                assert (ranges[0] == pytest.approx(ranges[1])
                        or ranges[0][1] - ranges[0][0] >= step - 1e-9)
    assert compared >= 10


def lone_solved(fam, cells, sizes, cost):
    """`milp`'s optimum with one answer in each cell, every column's value (or None)."""
    from analytics.audit_lp import _solve

    one = {fam.cols[c][0]: 1.0 for c in cells}
    x = _solve(fam.prog, *fam.task(sizes, cost, one, one))
    return None if x is None else fam.expand(x)


def test_a_feasibility_question_is_settled_on_the_fractional_rest_or_by_milp(monkeypatch):
    """`audit_lp._Solver._rest`: with the whole columns the relaxation left whole held
    there, `milp` searches only the rest; what it finds is a solution of the whole
    program, and when it finds none the whole program is asked. Asked as the witness
    checks ask (any solution at these hidden sizes?), on linked programs, and with a
    hidden group's every member answering (or one more than it has: none): the answer
    is `milp`'s every time, and some were settled on the rest."""
    from analytics.audit_lp import _solve, _Solver

    real, settled = _Solver._rest, []

    def rest(self, *args):
        found = real(self, *args)
        settled.append(found is not None)
        return found

    monkeypatch.setattr(_Solver, "_rest", rest)
    compared = none = 0
    for model, counts, linked, program, witnesses in linked_schools():
        family = _Family(model, counts, linked[0], program)
        solver = _Solver(family.prog)
        solver.dives = -10  # diving given up: the rounding, the rest, else milp
        for w in witnesses.found:
            held = [(c, float(w[counts.index[c]]) + extra) for c in family.hidden_cells
                    if c in counts.index for extra in (0.0, 1.0)]  # everyone, one more
            for c, n in [(None, 0.0)] + held:
                task = family.task(w, lb={} if c is None else {family.cols[c][0]: n})
                exact, got = _solve(family.prog, *task), solver.solve(*task)
                assert (exact is None) == (got is None)
                assert got is None or solver.holds(got, *task[1:])
                compared, none = compared + 1, none + (got is None)
    assert compared > none > 0 and any(settled)


def test_a_lone_score_whose_exact_range_is_unsolved_is_left_to_the_cell_by_cell_checks(
        monkeypatch):
    """`_lone_generic`: when a narrow cell's exact ends come back unsolved (`milp` out
    of time), the cell gets no range here, so `_value_findings` looks at it cell by cell
    (and reports a finding if that cannot show it wide) instead of failing."""
    from analytics import audit_values as values

    schools = list(linked_schools(range(1)))  # suppressed before the patch below
    monkeypatch.setattr(values, "_wide", lambda *args: False)  # every lone cell narrow
    checked = 0
    for model, counts, linked, program, witnesses in schools:
        fam = _Family(model, counts, linked[0], program)

        def unsolved_ends(tasks, *args, real=fam.run, **kwargs):
            return [None] * 2 if len(tasks) == 2 else real(tasks, *args, **kwargs)

        fam.run = unsolved_ends
        rest = [c for c in fam.hidden_cells if model.checked(c, fam.keys)]
        for w in values._lone_order(witnesses):
            here = values._lone_at(fam, rest, w)
            rest = [c for c in rest if c not in here]
            if here:
                assert values._lone_generic(fam, here, w) == {}
                checked += len(here)
    assert checked
