"""The audit's solver shortcuts (analytics/audit_lp.py `_Solver`: rounding, the dive)
and its band prover (analytics/audit_bands.py `_prove`) agree with exact answers."""

import numpy as np
from scipy import sparse

from analytics import audit_bands
from analytics.audit_family import _Family
from analytics.audit_lp import _joint, _Program, _solve, _Solver
from analytics.audit_model import _Model
from analytics.audit_sizes import _Counts
from analytics.disclosure import publish, suppress
from tests.analytics.test_audit_memo import school
from tests.analytics.test_disclosure import ITEMS, K, build, naive


def random_program(rng, rows=6, cols=8):
    A = sparse.random(rows, cols, density=0.5, random_state=rng.integers(1 << 30),
                      data_rvs=lambda n: rng.integers(-3, 4, n).astype(float), format="csr")
    x0 = rng.integers(0, 6, cols).astype(float)  # a whole solution exists
    act = A @ x0
    slack = rng.uniform(0, 1.5, rows)
    return _Program(A, act - slack, act + slack, np.zeros(cols), np.full(cols, 9.0),
                    np.ones(cols))


def test_the_solver_finds_whole_optima_and_infeasibility_as_milp_does():
    rng = np.random.default_rng(5)
    for _ in range(60):
        prog = random_program(rng)
        solver = _Solver(prog)
        for _ in range(4):
            cost = rng.integers(-2, 3, prog.A.shape[1]).astype(float)
            lb = prog.lb.copy()
            lb[rng.integers(prog.A.shape[1])] = rng.integers(0, 8)
            exact, got = _solve(prog, cost, lb, prog.ub), solver.solve(cost, lb, prog.ub)
            assert (exact is None) == (got is None)
            if got is not None:
                assert np.allclose(got, np.round(got))
                assert solver.holds(got, lb, prog.ub)
                assert abs(cost @ got - cost @ exact) < 1e-6


def exact_band_findings(fam, counts):
    """The band check as it was: the least and greatest total of every banded value."""
    prog = _joint(counts, [fam])
    solver, out = _Solver(prog), set()
    for (name, key), entry in audit_bands._banded(fam).items():
        rng = audit_bands._expr_range(fam, solver, prog, fam.expr(name, key))
        end = audit_bands._band_end(fam.model.specs[key], entry)
        if rng is None or not audit_bands._band_open(rng, *end):
            out.add((name, key))
    return out


def test_the_band_prover_finds_exactly_the_pinned_bands():
    cases = [school(seed, classes=5) for seed in range(4)]
    pinned = 0
    for groups, rels in cases:
        for decision in (naive(groups), suppress(groups, rels, K, items=ITEMS)):
            model = _Model([(publish(groups, decision, K), rels)], [0], (), K, decision.small)
            counts = _Counts(model)
            for fam in model.families:
                family = _Family(model, counts, fam)
                got = {(f.group, f.measure) for f in audit_bands._band_findings(family, counts)}
                assert got == exact_band_findings(family, counts)
                pinned += len(got)
    assert pinned > 0  # the cases do pin some bands


def test_a_one_class_school_pins_its_bands_and_the_prover_says_so():
    from tests.analytics.test_disclosure import students
    groups, rels = build(students("a", 12, [4]) + students("b", 12, [4]), dims=("class",))
    decision = naive(groups)
    model = _Model([(publish(groups, decision, K), rels)], [0], (), K, decision.small)
    counts = _Counts(model)
    family = _Family(model, counts, "item:Q0")
    assert exact_band_findings(family, counts) == {
        (f.group, f.measure) for f in audit_bands._band_findings(family, counts)}
