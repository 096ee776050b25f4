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


def test_highs_is_called_as_milp_calls_it():
    """`audit_lp._highs_mip` (HiGHS without SciPy's wrapper, the model kept on the
    program) gives `milp`'s very answers: the same solution to the last bit, the same
    infeasibility, optimal or first-found, whatever the program was asked before."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from analytics.audit_lp import _highs_mip

    rng, compared, infeasible = np.random.default_rng(11), 0, 0
    for _ in range(40):
        prog = random_program(rng, rows=int(rng.integers(1, 8)), cols=int(rng.integers(2, 10)))
        prog.integ[rng.integers(len(prog.integ))] = 0.0  # a continuous column too
        prog.ub[rng.integers(len(prog.ub))] = np.inf
        for _ in range(4):
            cost = rng.integers(-2, 3, prog.A.shape[1]).astype(float)
            lb = prog.lb.copy()
            lb[rng.integers(len(lb))] = rng.integers(0, 12)
            options = {"time_limit": 20.0, **({"mip_rel_gap": 1e12} if rng.random() < 0.5 else {})}
            res = milp(cost, constraints=[LinearConstraint(prog.A, prog.rlo, prog.rhi)],
                       integrality=prog.integ, bounds=Bounds(lb, prog.ub), options=dict(options))
            got = _highs_mip(prog, cost, lb, prog.ub, options)
            assert got is not NotImplemented
            if res.status == 0:
                assert np.array_equal(got, res.x)
                compared += 1
            else:
                assert got is None
                infeasible += 1
    assert compared and infeasible


def exact_band_findings(fam, counts):
    """The band check as it was: the least and greatest total of every banded value, by
    `milp`; {(group, measure): the range of a pinned one's value}."""
    prog = _joint(counts, [fam])
    out = {}
    for (name, key), entry in audit_bands._banded(fam).items():
        cost, const = audit_bands._linear(fam, prog, fam.expr(name, key))
        xs = [_solve(prog, sign * cost) for sign in (1.0, -1.0)]
        rng = None if any(x is None for x in xs) else tuple(const + float(cost @ x) for x in xs)
        end = audit_bands._band_end(fam.model.specs[key], entry)
        if rng is None or not audit_bands._band_open(rng, *end):
            out[(name, key)] = rng and tuple(v / entry["n"] for v in rng)
    return out


def band_findings(family, counts):
    return {(f.group, f.measure): f.feasible
            for f in audit_bands._band_findings([family], counts)}


def same_ranges(got, exact):
    """The same bands pinned; each range reported holds the exact one (a band the
    relaxation pins is reported with the relaxation's range, which holds every whole
    solution's)."""
    return got.keys() == exact.keys() and all(
        (got[k] is None) == (exact[k] is None) and (
            got[k] is None or (got[k][0] <= exact[k][0] + 1e-9 and got[k][1] >= exact[k][1] - 1e-9))
        for k in got)


def test_the_band_prover_finds_exactly_the_pinned_bands(monkeypatch):
    """...and most pinned bands are proven pinned by the relaxation's range, without
    their exact range (two `milp` calls each)."""
    asked, exact_range = [], audit_bands._expr_range
    monkeypatch.setattr(audit_bands, "_expr_range",
                        lambda *a: asked.append(1) or exact_range(*a))
    cases = [school(seed, classes=5) for seed in range(4)]
    pinned = 0
    for groups, rels in cases:
        for decision in (naive(groups), suppress(groups, rels, K, items=ITEMS)):
            model = _Model([(publish(groups, decision, K), rels)], [0], (), K, decision.small)
            counts = _Counts(model)
            for fam in model.families:
                family = _Family(model, counts, fam)
                got = band_findings(family, counts)
                assert same_ranges(got, exact_band_findings(family, counts))
                pinned += len(got)
    assert pinned > 0  # the cases do pin some bands
    assert len(asked) < pinned / 2


def test_bands_a_component_score_pins_are_found_with_their_exact_ranges():
    """The case of tests/analytics/test_component_link.py: published without the link,
    audited with it, two classes' "10% or less" bands are pinned (to 0)."""
    from analytics.disclosure import measure_specs
    from tests.analytics.test_component_link import LINKED, UNLINKED, two_classes

    groups, rels = build(two_classes(), dims=("class",), n_items=3)
    decision = suppress(groups, rels, K, items=UNLINKED)
    out = publish(groups, decision, K)
    out["measures"] = measure_specs(groups, LINKED)
    model = _Model([(out, rels)], [0], (), K, decision.small)
    counts = _Counts(model)
    for fam in ("item:Q1", "item:Q2"):
        family = _Family(model, counts, fam)
        got = band_findings(family, counts)
        assert got and same_ranges(got, exact_band_findings(family, counts))


def test_a_solution_asked_for_with_enough_proves_it_or_is_optimal(monkeypatch):
    """With `enough`, a failed rounding goes to `milp` for its first whole solution
    (no dive here), and to the optimum only when that one proves nothing."""
    import analytics.audit_lp as audit_lp

    firsts, solve = [], audit_lp._solve
    monkeypatch.setattr(audit_lp, "_solve",
                        lambda *a, first=False: firsts.append(first) or solve(*a, first=first))
    rng = np.random.default_rng(11)
    for _ in range(60):
        prog = random_program(rng)
        solver = _Solver(prog)
        solver.dives = -10  # diving given up
        for _ in range(4):
            cost = rng.integers(-2, 3, prog.A.shape[1]).astype(float)
            exact = solve(prog, cost, prog.lb, prog.ub)
            goal = float(rng.integers(-8, 8))
            got = solver.solve(cost, prog.lb, prog.ub, enough=lambda x, c=cost, g=goal: c @ x <= g)
            assert (exact is None) == (got is None)
            if got is not None:
                assert np.allclose(got, np.round(got)) and solver.holds(got, prog.lb, prog.ub)
                assert cost @ got <= goal or abs(cost @ got - cost @ exact) < 1e-6
    assert True in firsts and False in firsts  # first solutions taken, and optima asked


def test_kept_solutions_are_taken_only_when_optimal(monkeypatch):
    """`seeds`: solutions kept on a family's program are taken when they meet the
    relaxation's bound, rounded up when the cost is whole on whole columns (a whole
    solution's cost is then whole), not when fractional weights make the bound exact
    only as it is. Asked as `_lone_pairs` asks (cells holding one answer), on the
    audit's own programs: each answer is `milp`'s optimum, and some came without it."""
    import analytics.audit_lp as audit_lp

    asked, solve = [], audit_lp._solve
    monkeypatch.setattr(audit_lp, "_solve", lambda *a, **k: asked.append(1) or solve(*a, **k))
    rng, compared, without = np.random.default_rng(13), 0, 0
    for family, cells, sizes in cells_at_witnesses(range(3)):
        for c in cells if family.scale else ():
            for weight in (1.0, 0.37):
                j = rng.integers(len(family.scale))
                task = family.task(sizes[c], {family.cols[d][1][j]: -weight
                                              for d in cells if d == c or rng.random() < 0.5})
                exact, before = solve(family.prog, *task), len(asked)
                got = family.run([task])[0]
                without += weight == 1.0 and len(asked) == before
                compared += 1
                assert (exact is None) == (got is None)
                if got is not None:
                    assert family.solver.holds(got[family.keep], *task[1:])
                    assert abs(task[0] @ got[family.keep] - task[0] @ exact) < 1e-6
    assert compared and without


def test_a_kept_solution_is_taken_at_the_rounded_bound_and_no_worse(monkeypatch):
    """min -x, 2x <= 3, x whole in 0..3: the relaxation's 1.5 rounds to 2, which breaks
    the row; its bound -1.5 rounds up to -1, so the kept x = 1 is optimal and taken
    without `milp`; a kept x = 0 is one worse and never taken; with a fractional weight
    the bound is not rounded and `milp` is asked; `exact=False` takes no kept one."""
    import analytics.audit_lp as audit_lp

    asked, solve = [], audit_lp._solve
    monkeypatch.setattr(audit_lp, "_solve", lambda *a, **k: asked.append(1) or solve(*a, **k))
    prog = _Program(sparse.csr_matrix([[2.0]]), np.array([-np.inf]), np.array([3.0]),
                    np.zeros(1), np.full(1, 3.0), np.ones(1))
    solver = _Solver(prog)
    solver.dives = -10  # diving given up
    one, zero = np.ones(1), np.zeros(1)
    assert solver.solve(-one, prog.lb, prog.ub, seeds=[zero, one]) == one and not asked
    assert solver.solve(-one, prog.lb, prog.ub, seeds=[zero]) == one and len(asked) == 1
    assert solver.solve(-0.37 * one, prog.lb, prog.ub, seeds=[one]) == one and len(asked) == 2
    # Asked for a new solution without `milp`: the kept ones are what the caller has seen.
    assert solver.solve(-one, prog.lb, prog.ub, seeds=[one], exact=False) is None


def test_a_whole_cost_rounds_the_relaxed_bound_up():
    prog = random_program(np.random.default_rng(3))
    solver = _Solver(prog)
    x = np.full(prog.A.shape[1], 0.5)
    whole, halves = np.zeros(len(x)), np.zeros(len(x))
    whole[:3], halves[:3] = 1.0, 0.5
    assert solver._bound(whole, x) == 2 + 1e-7  # 1.5 relaxed: no whole solution below 2
    assert solver._bound(halves, x) == 0.75 + 1e-7
    solver.whole[0] = False  # a continuous column in the cost: no rounding
    assert solver._bound(whole, x) == 1.5 + 1e-7


def test_without_milp_the_solver_returns_only_real_whole_solutions(monkeypatch):
    import analytics.audit_lp as audit_lp

    def no_milp(*args, **kwargs):
        raise AssertionError("milp asked in the inexact mode")

    rng, found, none = np.random.default_rng(9), 0, 0
    for _ in range(60):
        prog = random_program(rng)
        solver = _Solver(prog)
        for _ in range(4):
            cost = rng.integers(-2, 3, prog.A.shape[1]).astype(float)
            exact = _solve(prog, cost, prog.lb, prog.ub)
            monkeypatch.setattr(audit_lp, "_solve", no_milp)
            got = solver.solve(cost, prog.lb, prog.ub, exact=False)
            monkeypatch.undo()
            if got is None:
                none += 1
                continue
            found += 1
            assert exact is not None  # found only where a whole solution exists
            assert np.allclose(got, np.round(got)) and solver.holds(got, prog.lb, prog.ub)
            assert cost @ got >= cost @ exact - 1e-6  # never better than the optimum
    assert found and none  # some found without milp; where none is, the caller asks milp


def exact_fixed_ranges(fam, cell_counts, sizes):
    """Each measure's range at a fixed answer count, both ends by `milp`."""
    out = {}
    for c, n in cell_counts:
        at = {fam.cols[c][0]: float(n)}
        for key in fam.keys:
            expr = fam.expr(c, key)
            xs = [_solve(fam.prog, *fam.task(sizes[c], {k: s * v for k, v in expr.items()},
                                             at, at)) for s in (1.0, -1.0)]
            if all(x is not None for x in xs):
                vals = [sum(fam.expand(x)[k] * v for k, v in expr.items()) / n for x in xs]
                out[(c, key)] = (min(vals), max(vals))
    return out


def naive_audit(seed):
    """A 5-class school with only its small cells hidden: the audit's sizes program,
    families and witness sizes."""
    from analytics.audit_sizes import _witnesses

    groups, rels = school(seed, classes=5)
    decision = naive(groups)
    model = _Model([(publish(groups, decision, K), rels)], [0], (), K, decision.small)
    counts = _Counts(model)
    families = [_Family(model, counts, fam) for fam in model.families]
    return counts, families, _witnesses(model, counts, families, True)


def cells_at_witnesses(seeds):
    """(family, its hidden cells, each cell's witness sizes) of `naive_audit`'s schools."""
    from analytics import audit_values

    for seed in seeds:
        counts, families, witnesses = naive_audit(seed)
        for family in families:
            cells = [c for c in family.hidden_cells if c in counts.index]
            yield family, cells, {c: audit_values._sizes_for(family, witnesses, c) for c in cells}


def test_fixed_count_ranges_are_wide_or_exact():
    from analytics import audit_values

    checked = narrow = 0
    for family, cells, sizes in cells_at_witnesses(range(4)):
        pairs = [(c, n) for c in cells for n in (1, 2, 3)]
        got = audit_values._fixed_ranges(family, pairs, sizes)
        exact = exact_fixed_ranges(family, pairs, sizes)
        assert {(c, key) for c in got for key in got[c]} == set(exact)
        for (c, key), (low, high) in exact.items():
            mine = got[c][key]
            assert low - 1e-6 <= mine[0] <= mine[1] <= high + 1e-6  # real solutions
            if audit_values._wide(family, key, mine):
                checked += 1
            else:
                narrow += 1
                assert np.allclose(mine, (low, high))  # a narrow range is the exact one
    assert checked and narrow


def test_a_range_left_narrow_is_settled_by_a_solution_a_step_away_or_exactly():
    """`audit_values._settle`, given the least end's solution only (as `_ends` may
    leave it): the greatest end is asked with "a solution a step above the least" as
    enough (so the solver may stop before an optimum), and the result is two real
    solutions, a step apart exactly when the exact range is that wide, and the exact
    range when it is narrower."""
    from analytics import audit_values
    from analytics.audit_lp import holds

    wide_seen = narrow_seen = 0
    for family, cells, sizes in cells_at_witnesses(range(4)):
        asked = recording_enough(family)
        for c in cells:
            for n in (2, 3):
                at = {family.cols[c][0]: float(n)}
                for key in family.keys:
                    expr = family.expr(c, key)
                    tasks = [family.task(sizes[c], {k: s * v for k, v in expr.items()}, at, at)
                             for s in (1.0, -1.0)]
                    ends = [_solve(family.prog, *t) for t in tasks]
                    if any(x is None for x in ends):
                        continue
                    ends = [family.expand(x) for x in ends]
                    exact = [sum(x[k] * v for k, v in expr.items()) / n for x in ends]
                    asked.clear()
                    got = audit_values._settle(family, key, expr, n, tasks, [ends[0], None])
                    wide = audit_values._wide(family, key, tuple(exact))
                    assert asked[0](ends[1]) == wide and not asked[0](ends[0])
                    for x in got:
                        assert holds(family.prog, x[family.keep], tasks[0][1], tasks[0][2])
                    mine = audit_values._values_range(got, expr, n)
                    assert exact[0] - 1e-6 <= mine[0] <= mine[1] <= exact[1] + 1e-6
                    assert audit_values._wide(family, key, mine) == wide
                    if not wide:
                        assert np.allclose(mine, exact)
                    wide_seen += wide
                    narrow_seen += not wide
    assert wide_seen and narrow_seen


def recording_enough(family):
    """The `enough` each later `family.run` call is given."""
    asked, real_run = [], family.run

    def run(tasks, enough=None, **kwargs):
        asked.append(enough)
        return real_run(tasks, enough, **kwargs)

    family.run = run
    return asked


def counting_runs(family):
    """The number of tasks each later `family.run` call is given."""
    asked, real_run = [], family.run

    def run(tasks, *args, **kwargs):
        asked.append(len(tasks))
        return real_run(tasks, *args, **kwargs)

    family.run = run
    return asked


def test_answer_count_ranges_are_exact_with_kept_solutions_or_without():
    """`audit_values._answer_ranges`: a cell's fewest and most answers at its witness,
    asked once with nothing kept and again with the first run's solutions kept (an end
    a kept solution reaches is taken from it), equal `milp`'s each time."""
    from analytics import audit_values

    compared = reused = 0
    for family, cells, sizes in cells_at_witnesses(range(3)):
        exact = {}
        for c in cells:
            n_col = family.cols[c][0]
            xs = [_solve(family.prog, *family.task(sizes[c], {n_col: s})) for s in (1.0, -1.0)]
            exact[c] = ((1, 0) if any(x is None for x in xs)
                        else tuple(round(family.expand(x)[n_col]) for x in xs))
        first = audit_values._answer_ranges(family, cells, sizes)
        asked = counting_runs(family)
        again = audit_values._answer_ranges(family, cells, sizes)
        assert first == again == exact
        compared += len(cells)
        reused += 2 * len(cells) - sum(asked)
    assert compared and reused  # some ends came from kept solutions


def test_another_answer_fits_exactly_where_milp_finds_one():
    """`audit_values._others_fit` asks many cells at once whether a solution gives one
    of them another answer than the sample's; each cell's answer is checked by `milp`."""
    from analytics import audit_values

    fits = lone = 0
    for seed in range(4):
        counts, families, witnesses = naive_audit(seed)
        sizes = witnesses.found[0]
        for family in (f for f in families if f.scale):
            sample = family.run([family.task(sizes)])[0]
            alike = audit_values._alike(family, family.hidden_cells, sample)
            got = audit_values._others_fit(family, alike, sizes)
            for c, answer in alike.items():
                n_col, vals = family.cols[c]
                cost = {v: -1.0 for j, v in enumerate(vals) if j != answer}
                x = _solve(family.prog, *family.task(sizes, cost, {n_col: 1.0}))
                other = x is not None and -(np.asarray(family.task(sizes, cost)[0]) @ x) > 0.5
                assert (c in got) == other, (seed, family.fam, c)
                fits, lone = fits + other, lone + (not other)
    assert fits and lone  # both answers occur


def test_warm_relaxations_reach_linprogs_optimum_solve_after_solve():
    """`_relaxed` goes on from the last basis with primal simplex (`_warm_highs`): every
    solve of a sequence of costs and bounds reaches the optimum a fresh `linprog` finds,
    or says infeasible where it does."""
    from scipy.optimize import linprog

    from analytics.audit_lp import _relaxed, _warm_highs

    rng = np.random.default_rng(11)
    for _ in range(40):
        prog = random_program(rng, rows=8, cols=12)
        highs = _warm_highs(prog)
        assert highs[0].getOptions().simplex_strategy == 4
        for _ in range(6):
            cost = rng.integers(-3, 4, prog.A.shape[1]).astype(float)
            lb, ub = prog.lb.copy(), prog.ub.copy()
            lb[rng.integers(prog.A.shape[1])] = rng.integers(0, 9)
            status, x = _relaxed(highs, cost, lb, ub)
            A = prog.A.toarray()
            fresh = linprog(cost, A_ub=np.vstack([A, -A]),
                            b_ub=np.concatenate([prog.rhi, -prog.rlo]),
                            bounds=list(zip(lb, ub, strict=True)), method="highs")
            assert (status == "infeasible") == (fresh.status == 2)
            if status == "optimal":
                assert abs(cost @ x - fresh.fun) < 1e-6
                act = prog.A @ x
                assert np.all(act >= prog.rlo - 1e-7) and np.all(act <= prog.rhi + 1e-7)
