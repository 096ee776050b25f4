"""The disclosure audit's linear and integer programs (see `analytics.audit`):
building them, presolving by bound propagation, solving by HiGHS."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .audit_model import EPS

DIVE_STEPS = 5  # relaxations a dive may solve before `milp` is asked (docs/performance.md)
# A failed dive costs up to DIVE_STEPS relaxations, more than `milp` itself on a
# linked program of a thousand columns, where most dives fail; a solver stops diving
# once its failed dives outnumber its successful ones by DIVE_GIVE_UP (docs/performance.md).
DIVE_GIVE_UP = 1

# ------------------------------------------------------------------------ programs


@dataclass
class _Program:
    """min c.x  subject to  rlo <= A x <= rhi,  lb <= x <= ub,  x whole where integ."""

    A: sparse.csr_matrix
    rlo: np.ndarray
    rhi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integ: np.ndarray

    def highs(self, core):
        """The program as a HiGHS model for `_highs_mip`: `_highs_lp` with the
        integrality per column, as `milp` builds it; kept for the next call."""
        model = self.__dict__.get("_highs")
        if model is None:
            model = _highs_lp(self, core)
            model.integrality_ = [core.HighsVarType(int(i)) for i in self.integ]
            self.__dict__["_highs"] = model
        return model


def _highs_lp(prog, core):
    """The program's relaxation as a HiGHS model, built as `milp` builds it (the matrix
    by columns): no cost, the program's bounds."""
    A, lp = sparse.csc_array(prog.A), core.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = A.shape[1], A.shape[0]
    lp.a_matrix_.format_ = core.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = A.indptr, A.indices
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    lp.row_lower_ = np.atleast_1d(prog.rlo).astype(np.float64)
    lp.row_upper_ = np.atleast_1d(prog.rhi).astype(np.float64)
    lp.col_cost_ = np.zeros(A.shape[1])
    lp.col_lower_, lp.col_upper_ = prog.lb.astype(np.float64), prog.ub.astype(np.float64)
    return lp


def _solve(prog, cost=None, lb=None, ub=None, first=False):
    """Optimal x by `milp`, or None if infeasible (or unsolved in time: then the
    caller reports a finding, never a pass). `first`: the first whole solution its
    search finds, optimal or not (no gap asked for)."""
    cost = np.zeros(prog.A.shape[1]) if cost is None else cost
    lb, ub = prog.lb if lb is None else lb, prog.ub if ub is None else ub
    if np.any(lb > ub + EPS):
        return None
    if not len(cost):  # every column fixed: feasible iff the rows hold at zero
        ok = np.all(prog.rlo <= EPS) and np.all(prog.rhi >= -EPS)
        return np.zeros(0) if ok else None
    options = {"time_limit": 20.0, **({"mip_rel_gap": 1e12} if first else {})}
    x = _highs_mip(prog, cost, lb, ub, options)
    if x is not NotImplemented:
        return x
    cons = [LinearConstraint(prog.A, prog.rlo, prog.rhi)] if prog.A.shape[0] else []
    res = milp(cost, constraints=cons, integrality=prog.integ, bounds=Bounds(lb, ub),
               options=options)
    return res.x if res.status == 0 else None


def _highs_mip(prog, cost, lb, ub, options):
    """`milp`'s own call of HiGHS (the same model, options and a new solver each time,
    so the same answers), without SciPy's wrapper around it, which converts the
    program and reads back duals and a basis in Python on every call (about 3 ms of
    each `milp` call on the audit's programs: docs/performance.md). The model's matrix,
    rows and integrality are built once per program (`_Program.highs`). Returns
    NotImplemented when SciPy's bundled HiGHS interface (private) is not usable; then
    `milp` is called."""
    try:
        from scipy.optimize._highspy import _core
        model = prog.highs(_core)
        model.col_cost_ = np.asarray(cost, dtype=np.float64)
        model.col_lower_ = np.asarray(lb, dtype=np.float64)
        model.col_upper_ = np.asarray(ub, dtype=np.float64)
        highs, settings = _core._Highs(), _core.HighsOptions()
        settings.log_to_console = False
        for key, value in options.items():
            setattr(settings, key, value)
        highs.passOptions(settings)
        if highs.passModel(model) == _core.HighsStatus.kError:
            return NotImplemented
    except Exception:  # noqa: BLE001 - any trouble with the private interface: use milp
        return NotImplemented
    if highs.run() == _core.HighsStatus.kError:
        return None
    if highs.getModelStatus() != _core.HighsModelStatus.kOptimal:
        return None
    return np.array(highs.getSolution().col_value)


class _Solver:
    """Solves one program again and again under new bounds and costs: its relaxation
    first, warm started from the last basis, taken when whole where it must be (or
    when its rounding satisfies everything and meets the relaxation's bound, or
    `enough` says it proves what is asked); else `milp`. Exact either way. The warm
    start uses SciPy's bundled HiGHS object, a private interface; without it every
    solve goes to `milp`, slower but the same answers."""

    def __init__(self, prog):
        self.prog, self.whole, self.highs = prog, prog.integ > 0, _warm_highs(prog)
        self.dives = 0  # successful dives minus failed ones (`_dive`)

    def solve(self, cost, lb, ub, enough=None, exact=True, seeds=()):
        """An optimal whole solution, or None if there is none. With `exact=False`, any
        whole solution the rounding or the dive finds on the way to the optimum, or
        None when they find none (`milp` is never asked): for a caller that checks
        what the solution proves and asks again exactly when it proves too little.
        `seeds`: whole solutions found before, taken like the rounding when they meet
        every row and bound and the relaxation's bound (or `enough`); not with
        `exact=False`, whose caller has looked at them already and wants new ones."""
        if np.any(lb > ub + EPS):
            return None
        status, x = _relaxed(self.highs, cost, lb, ub) if self.highs else ("other", None)
        if status == "infeasible":
            return None
        if status == "optimal":
            bound = self._bound(cost, x) if exact else np.inf

            def takes(r):
                return r is not None and self._takes(r, lb, ub, cost, bound, enough)

            # Kept solutions are looked at only when the rounding fails (`seeds` is lazy).
            for r in itertools.chain((self._round(x),), seeds if exact else ()):
                if takes(r):
                    return r
            settles = enough is not None or not cost.any()  # any fitting solution answers
            if (settles or not exact) and self.dives > -DIVE_GIVE_UP:
                r = self._dive(cost, x, lb, ub, takes)
                self.dives += 1 if r is not None else -1
                if r is not None:
                    return r
            if exact and settles:
                r = self._rest(cost, x, lb, ub)
                if takes(r):
                    return r
        if exact and enough is not None:
            # The first whole solution `milp` finds often proves what is asked; if not,
            # the optimum is asked for (the question may be whether any solution does).
            r = _solve(self.prog, cost, lb, ub, first=True)
            if r is None or (self.holds(r, lb, ub) and enough(r)):
                return r
        return _solve(self.prog, cost, lb, ub) if exact else None

    def _rest(self, cost, x, lb, ub):
        """For a question any fitting solution settles (a feasibility question, or one
        `enough` can): `milp`'s first whole solution with the whole columns the
        relaxation left whole held there, so only the fractional rest is searched (a
        much smaller program; a neighbourhood search known as RENS). None if that rest
        has none; a solution it finds is one of the whole program."""
        held = self.whole & (np.abs(x - np.round(x)) < 1e-9)
        low, high = lb.copy(), ub.copy()
        low[held] = high[held] = np.round(x[held])
        return _solve(self.prog, cost, low, high, first=True)

    def _bound(self, cost, x):
        """What no whole solution's cost is below, from the relaxation's optimum x: a
        cost with whole coefficients on whole columns only is whole at every whole
        solution, so its relaxed optimum rounds up. One within 1e-4 above a whole number
        rounds down, as if it were the solver's error: a lower bound only ever leaves
        more to `milp`, never takes a worse solution."""
        low = cost @ x
        used = cost != 0
        if np.all(self.whole[used]) and np.allclose(cost[used], np.round(cost[used])):
            return math.ceil(low - 1e-4) + 1e-7
        return low + 1e-7

    def _takes(self, r, lb, ub, cost, bound, enough):
        return self.holds(r, lb, ub) and (cost @ r <= bound or (enough is not None and enough(r)))

    def _round(self, x):
        r = x.copy()
        r[self.whole] = np.round(r[self.whole])
        return r

    def _dive(self, cost, x, lb, ub, takes, steps=DIVE_STEPS):
        """A cheap try at a whole solution when the relaxation's is not (for a
        feasibility question, or one `enough` can settle): the first fractional whole
        column is held at its nearest whole value (else the other side) and the
        relaxation solved again, warm, up to `steps` times, until its rounding is a
        solution `takes` accepts (every constraint checked, and taken as optimal only
        when it meets the first relaxation's bound). None if it finds none."""
        lb, ub = lb.copy(), ub.copy()
        for step in range(steps):
            frac = self.whole & (np.abs(x - np.round(x)) > 1e-9)
            r = self._round(x)
            if (step or not frac.any()) and takes(r):
                return r
            if not frac.any():
                return None
            j = np.flatnonzero(frac)[0]  # one column a step: nearest, else the other side
            near = np.round(x[j])
            for value in (near, np.floor(x[j]) if near > x[j] else np.ceil(x[j])):
                low, high = lb[j], ub[j]
                lb[j] = ub[j] = min(max(value, low), high)
                status, y = _relaxed(self.highs, cost, lb, ub)
                if status == "optimal":
                    x = y
                    break
                lb[j], ub[j] = low, high
            else:
                return None
        return None

    def holds(self, x, lb, ub):
        return holds(self.prog, x, lb, ub)


def holds(prog, x, lb, ub):
    """Whether x (over the program's columns) meets its rows and the bounds."""
    act = prog.A @ x
    return bool(np.all(x >= lb - EPS) and np.all(x <= ub + EPS)
                and np.all(act >= prog.rlo - EPS) and np.all(act <= prog.rhi + EPS))


def _warm_highs(prog):
    try:
        from scipy.optimize._highspy import _core
        h = _core._Highs()
        h.setOptionValue("output_flag", False)
        # Primal simplex: each solve changes the costs (and some bounds) from the last
        # optimal basis, which stays primal feasible under a new cost, where HiGHS's
        # default, dual simplex, starts from a dual infeasible one. The same optimal
        # values; where several points are optimal it may return another, which only
        # orders what the audit tries (docs/performance.md, "Primal simplex").
        h.setOptionValue("simplex_strategy", 4)
        ok = h.passModel(_highs_lp(prog, _core)) == _core.HighsStatus.kOk
        return (h, _core, h.getInfinity()) if ok else None
    except Exception:  # noqa: BLE001 - any trouble with the private interface: use milp
        return None


def _relaxed(highs, cost, lb, ub):
    h, core, inf = highs
    cols = np.arange(len(cost), dtype=np.int32)
    h.changeColsBounds(len(cols), cols, np.clip(lb, -inf, inf), np.clip(ub, -inf, inf))
    h.changeColsCost(len(cols), cols, cost)
    h.run()
    status = h.getModelStatus()
    if status == core.HighsModelStatus.kOptimal:
        return "optimal", np.array(h.getSolution().col_value)
    return ("infeasible", None) if status == core.HighsModelStatus.kInfeasible else ("other", None)


class _Rows:
    def __init__(self):
        self.data, self.rows, self.cols, self.lo, self.hi = [], [], [], [], []

    def add(self, coeffs, lo, hi):
        for col, value in coeffs.items():
            if value:
                self.data.append(value)
                self.rows.append(len(self.lo))
                self.cols.append(col)
        self.lo.append(lo)
        self.hi.append(hi)

    def program(self, lb, ub, integ):
        A = sparse.csr_matrix((self.data, (self.rows, self.cols)), shape=(len(self.lo), len(lb)))
        return _Program(A, np.array(self.lo, float), np.array(self.hi, float),
                        np.array(lb, float), np.array(ub, float), np.array(integ, float))


def _propagate(prog, rounds=30):
    """Bounds each row implies on each column, iterated (a presolve): true of every
    solution, so applied once for all later programs."""
    A = prog.A.tocoo()
    r, c, a = A.row, A.col, A.data
    lb, ub, whole, m = prog.lb.copy(), prog.ub.copy(), prog.integ > 0, len(prog.rlo)
    for _ in range(rounds):
        low, high = np.where(a > 0, a * lb[c], a * ub[c]), np.where(a > 0, a * ub[c], a * lb[c])
        new_lb, new_ub = lb.copy(), ub.copy()
        for act, bound, side in ((low, prog.rhi, 1), (high, prog.rlo, -1)):
            finite = np.isfinite(act)
            rest = np.bincount(r, np.where(finite, act, 0.0), m)[r] - np.where(finite, act, 0.0)
            ok = (np.bincount(r, ~finite, m)[r] - ~finite == 0) & np.isfinite(bound[r])
            limit = (bound[r] - rest) / a
            upper, lower = ok & ((a > 0) == (side == 1)), ok & ((a > 0) != (side == 1))
            np.minimum.at(new_ub, c[upper], limit[upper])
            np.maximum.at(new_lb, c[lower], limit[lower])
        new_lb = np.where(whole, np.ceil(new_lb - 1e-6), new_lb)
        new_ub = np.where(whole, np.floor(new_ub + 1e-6), new_ub)
        if np.allclose(new_lb, lb) and np.allclose(new_ub, ub):
            break
        lb, ub = np.maximum(lb, new_lb), np.minimum(ub, new_ub)
    return lb, ub


def _reduce(prog, keep_first):
    """Drops the columns propagation fixes (not the first `keep_first`): returns the
    smaller program, the kept columns and every column's fixed value."""
    lb, ub = _propagate(prog)
    fixed = np.abs(ub - lb) < 1e-9
    fixed[:keep_first] = False
    value, keep = np.where(fixed, lb, 0.0), np.flatnonzero(~fixed)
    shift, A = prog.A @ value, prog.A[:, keep].tocsr()
    used = np.diff(A.indptr) > 0
    return _Program(A[used], (prog.rlo - shift)[used], (prog.rhi - shift)[used],
                    lb[keep], ub[keep], prog.integ[keep]), keep, value


def _joint(counts, fams):
    """The sizes and some families as one program (their size columns shared)."""
    h, cat = len(counts.hidden), np.concatenate
    widths = [f.prog.A.shape[1] - h for f in fams]
    total, start = h + sum(widths), h
    blocks = [sparse.hstack([counts.prog.A, sparse.csr_matrix((counts.prog.A.shape[0],
                                                               total - h))])]
    for f, w in zip(fams, widths, strict=True):
        A = f.prog.A.tocsc()
        blocks.append(sparse.hstack([A[:, :h], sparse.csr_matrix((A.shape[0], start - h)),
                                     A[:, h:], sparse.csr_matrix((A.shape[0], total - start - w))]))
        start += w
    progs = [counts.prog] + [f.prog for f in fams]

    def cols(attr):
        return cat([getattr(counts.prog, attr)] + [getattr(f.prog, attr)[h:] for f in fams])

    return _Program(sparse.vstack(blocks, format="csr"), cat([p.rlo for p in progs]),
                    cat([p.rhi for p in progs]), cols("lb"), cols("ub"), cols("integ"))
