"""Whole solutions kept for reuse (analytics/audit_pool.py): a kept solution answers a
question only where it still solves the program within the question's bounds, and
suppression's repair rounds, which carry them over, reach the findings of an audit
without a memo (tests/analytics/test_audit_memo.py checks every finding) while asking
the solver fewer questions."""

import numpy as np

from analytics import audit_lp
from analytics.audit_family import _Family
from analytics.audit_pool import Pool
from analytics.disclosure import suppress
from tests.analytics.test_audit_memo import school
from tests.analytics.test_audit_solver import naive_audit
from tests.analytics.test_disclosure import ITEMS, K


def scaled_family_with_a_sample():
    counts, families, witnesses = naive_audit(1)
    w = witnesses.found[0]
    fam = next(f for f in families if f.scale and f.hidden_cells)
    return fam, w, fam.sample(w)


def test_a_sample_is_kept_and_found_again_by_every_family_of_the_program():
    from analytics.audit_model import _Model
    from analytics.audit_sizes import _Counts
    from analytics.disclosure import publish
    from tests.analytics.test_component_link import LINKED, two_classes
    from tests.analytics.test_disclosure import build

    groups, rels = build(two_classes(), dims=("class",), n_items=3)
    decision = suppress(groups, rels, K, items=LINKED)
    model = _Model([(publish(groups, decision, K), rels)], [0], (), K, decision.small)
    counts = _Counts(model)
    fam = _Family(model, counts, "item:Q1")
    w = np.ones(len(counts.hidden))
    x = fam.sample(w)
    assert x is not None
    assert len(fam.program.fams) > 1  # the item, its component score and its partners
    for name in fam.program.fams:
        other = _Family(fam.model, fam.counts, name, fam.program)
        assert any(np.array_equal(x, y) for y in other.pooled(w))
        assert other.sample(w) is not None


def test_a_kept_solution_is_found_at_its_own_hidden_sizes_only():
    fam, w, x = scaled_family_with_a_sample()
    assert x is not None and len(w)
    assert any(np.array_equal(x, y) for y in fam.pooled(w))
    assert fam.pooled(w + 1) == []  # other sizes: nothing kept there


def test_a_kept_solution_that_breaks_the_program_or_the_bounds_is_not_used():
    fam, w, x = scaled_family_with_a_sample()
    fam.program.pool = Pool(len(fam.counts.hidden))
    cell = fam.hidden_cells[0]
    n_col, vals = fam.cols[cell]
    broken = x.copy()
    broken[vals[0]] += 1  # one more answer at option 1 than the cell's answer count
    fam.program.pool.add(broken)
    assert fam.pooled(w) == []
    fam.program.pool.add(x)
    assert len(fam.pooled(w)) == 1
    assert fam.pooled(w, ub={n_col: x[n_col] - 1}) == []  # a bound it breaks
    assert len(fam.pooled(w, lb={n_col: x[n_col]})) == 1


def test_repair_rounds_ask_the_solver_less_with_the_solutions_they_carry(monkeypatch):
    calls = []
    real = audit_lp._Solver.solve
    monkeypatch.setattr(audit_lp._Solver, "solve",
                        lambda *a, **kw: calls.append(1) or real(*a, **kw))
    groups, rels = school(4)
    carried = suppress(groups, rels, K, items=ITEMS)
    with_pool = len(calls)

    # The same suppression with every kept solution forgotten as soon as it is kept.
    monkeypatch.setattr(Pool, "add", lambda self, x: None)
    calls.clear()
    forgotten = suppress(groups, rels, K, items=ITEMS)
    assert forgotten.hidden_groups == carried.hidden_groups
    assert forgotten.hidden_measures == carried.hidden_measures
    assert with_pool < len(calls)
