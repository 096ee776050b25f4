"""Condition (c) of the disclosure audit (see `analytics.audit`): a banded value
stays a band."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .audit_family import _interval, _total_bounds
from .audit_lp import _joint, _relaxed, _Solver
from .audit_model import EPS, Finding, _where

# ------------------------------------------------------------------------ (c) bands

# How far a relaxed range must miss a band's end (or one respondent off it) to prove
# the band pinned without `milp`: far above the solver's tolerances (1e-7), far below
# the least step of a whole total (one answer).
PINNED_MARGIN = 1e-4


def _band_findings(fams, counts):
    """(c) A shown value published as a band ("10% or less", "3.70 or more") must stay
    a band: what is published must leave possible both the band's end (nobody, or
    everyone, at that answer: 0% / 100%, or the end of the scale) and a value one
    respondent away from it (one answer at that option, or one fewer than all; a mean
    one scale point of one respondent off the end). Otherwise the other shares (which
    add up to the answer count), the mean or the relations pin it, and the band hides
    nothing (rule 4: a unanimous group never shows 100% or 0%). Exact: a band is open
    when whole-number solutions of everything published witness both values (found
    for many bands at once, `_prove`); for any other band, the least and the greatest
    total its measure can have decide, and are reported: first over the relaxation,
    whose range holds every whole solution's (a band it leaves pinned is pinned, and
    that outer range is reported), then, where that leaves it open, exactly
    (`_expr_range`). `fams`: the families of one
    program (`audit_family._Program`, a family or a linked set), checked together."""
    entries = {at: (fam, entry) for fam in fams for at, entry in _banded(fam).items()}
    if not entries:
        return []
    prog = _joint(counts, [fams[0]])
    solver, out = _Solver(prog), []
    ends = {at: _band_end(fam.model.specs[at[1]], entry) for at, (fam, entry) in entries.items()}
    relaxed = {at: _relaxed_range(fam, solver, prog, fam.expr(*at))
               for at, (fam, _) in entries.items()}
    proven, found = _prove(solver, prog, {
        (at, side): (*_linear(fam, prog, fam.expr(*at)), *_target(*ends[at], side))
        for at, (fam, _) in entries.items() for side in ("end", "off")
        if _maybe_open(relaxed[at], ends[at])},
        _kept(fams[0], solver, prog))
    for x in found:
        fams[0].program.pool.add(fams[0].expand(x))
    for (name, key), (fam, entry) in sorted(entries.items(), key=lambda e: e[0]):
        if ((name, key), "end") in proven and ((name, key), "off") in proven:
            continue
        rng = relaxed[(name, key)]
        if rng is None or _band_open(rng, *ends[(name, key)], margin=PINNED_MARGIN):
            rng = _expr_range(fam, solver, prog, fam.expr(name, key))
            if rng is not None and _band_open(rng, *ends[(name, key)]):
                continue
        out.append(_band_finding(fam, name, key, entry, rng))
    return out


def _maybe_open(rng, ends):
    """Whether a band may be open: its relaxed range (None: not solved) does not pin it.
    A band the relaxation pins is pinned (no whole solution can witness it), so no
    program is aimed at it (`_prove`): the last program of a search that witnesses
    nothing more is solved to its optimum, the costliest step on a large program."""
    return rng is None or _band_open(rng, *ends, margin=PINNED_MARGIN)


def _banded(fam):
    entries = {}
    for name in filter(fam.model.audited, fam.nodes):
        for key in fam.keys:
            for entry in fam.model.nodes[name].entries.get(key, []):
                if entry.get("band") in ("top", "bottom") and "total" not in entry:
                    entries.setdefault((name, key), entry)
    return entries


def _band_end(spec, entry):
    """The band's end as a total, and the step one respondent away from it."""
    n, width = float(entry["n"]), min(1.0, spec["hi"] - spec["lo"])
    if entry["band"] == "bottom":
        return spec["lo"] * n, width
    return spec["hi"] * n, -width


def _target(end, step, side):
    """(sign, bound): a solution x witnesses `side` when sign * total(x) <= bound; the
    same tolerance as `_band_open`."""
    tol = 1e-6 * max(1.0, abs(end))
    at = end if side == "end" else end + step
    if (step > 0) == (side == "end"):
        return 1.0, at + tol
    return -1.0, -(at - tol)


def _linear(fam, prog, expr):
    """A measure's total as (cost over the program's columns, constant)."""
    cost, const = np.zeros(prog.A.shape[1]), 0.0
    for col, coef in expr.items():
        if fam.where[col] >= 0:
            cost[fam.where[col]] += coef
        else:
            const += coef * fam.fixed[col]
    return cost, const


def _kept(fam, solver, prog):
    """The whole solutions kept on the family's program (`audit_pool`), at any witness,
    that solve the joint program (sizes free) now: its columns are the program's."""
    return [x[fam.keep] for x in fam.program.pool.all()
            if fam.reducible(x) and solver.holds(x[fam.keep], prog.lb, prog.ub)]


def _prove(solver, prog, targets, seeds=()):
    """The targets ({id: (cost, constant, sign, bound)}) that whole-number solutions
    witness, and the solutions found: what `seeds` (solutions found before) witness,
    then each phase (the bands' ends, then one respondent off) aims one program at
    every target not yet witnessed, keeps what its solution witnesses and asks again
    for the rest, until a solution witnesses none. Every solution is checked against
    everything published (`_Solver`), so a target is only ever proven, never assumed;
    the others go to the exact range."""
    ids = list(targets)
    if not ids:
        return set(), []
    costs = sparse.csr_matrix(np.vstack([targets[t][0] for t in ids]))
    const, sign, bound = (np.array([targets[t][i] for t in ids], float) for i in (1, 2, 3))

    def meets(xs):
        values = costs @ np.column_stack(xs) + const[:, None]
        return (sign[:, None] * values <= bound[:, None]).any(axis=1)

    done = meets(list(seeds)) if len(seeds) else np.zeros(len(ids), bool)
    found = []
    for side in ("end", "off"):
        todo = np.array([t[1] == side for t in ids]) & ~done
        while todo.any():
            cost = costs[todo].T @ sign[todo]
            x = solver.solve(cost, prog.lb, prog.ub,
                             enough=lambda r, todo=todo: bool(meets([r])[todo].any()))
            met = np.zeros(len(ids), bool) if x is None else meets([x])
            if not (met & todo).any():
                break
            found.append(x)
            done |= met
            todo &= ~met
    return {ids[i] for i in np.flatnonzero(done)}, found


def _expr_range(fam, solver, prog, expr):
    """The least and greatest value of a measure's total ({column: coefficient} over
    the family's full columns) over the program with the hidden sizes free."""
    cost, const = _linear(fam, prog, expr)
    if not cost.any():
        return const, const
    xs = [solver.solve(sign * cost, prog.lb, prog.ub) for sign in (1.0, -1.0)]
    if any(x is None for x in xs):
        return None
    return const + float(cost @ xs[0]), const + float(cost @ xs[1])


def _relaxed_range(fam, solver, prog, expr):
    """The least and greatest value of a measure's total over the program's linear
    relaxation (whole numbers not required), or None when it is not solved: a range
    that holds every whole-number solution's, so a band it leaves pinned is pinned
    (the common case: then no `milp` is needed). Only where the relaxation leaves the
    band open is the exact range (`_expr_range`) asked for."""
    cost, const = _linear(fam, prog, expr)
    if not cost.any():
        return const, const
    if solver.highs is None:
        return None
    ends = [_relaxed(solver.highs, sign * cost, prog.lb, prog.ub) for sign in (1.0, -1.0)]
    if any(status != "optimal" for status, _ in ends):
        return None
    return const + float(cost @ ends[0][1]), const + float(cost @ ends[1][1])


def _band_open(rng, end, step, margin=0.0):
    """Whether [low, high] reaches both the band's end and one respondent off it
    (`margin`: further than the tolerance it may miss by and still count as reaching)."""
    low, high = rng
    tol = 1e-6 * max(1.0, abs(end)) + margin
    if step > 0:
        return low <= end + tol and high >= end + step - tol
    return high >= end - tol and low <= end + step + tol


def _band_finding(fam, name, key, entry, rng):
    shown = f"shown as '{entry.get('display', entry['band'])}'"
    if rng is None:
        return Finding(name, key, "band", f"{shown}, but no value it could have is witnessed")
    n, spec = float(entry["n"]), fam.model.specs[key]
    low, high = rng[0] / n, rng[1] / n
    if spec["kind"] == "percent":
        what = f"{rng[0]:g}..{rng[1]:g} of {n:g} answers ({100 * low:.0f}%..{100 * high:.0f}%)"
    else:
        what = f"{low:.2f}..{high:.2f}"
    return Finding(name, key, "band", f"{shown}, but what is published pins it to {what}, "
                   f"so the band hides nothing (by {_where(fam.model, name)} and the "
                   f"other {fam.fam} values)", (low, high))


# ------------------------------------------------------- one group's item, no relations


def band_open_within(entries, specs, key, banding, limit=200_000):
    """Whether, within one group's item alone (its published entries by measure key,
    None for a hidden one; no relations), the banded `key` can still reach its band's
    end and one respondent off it. A cheap necessary test for suppression's choice of
    what to hide beside a band (`disclosure._band_partners`); the audit decides. None
    when more than `limit` answer counts would have to be tried."""
    def bounds(k):
        if entries[k] is None:
            return 0, n
        low, high = _total_bounds(_interval(banding, specs[k], entries[k]), n, True)
        return int(low), int(high)

    n = int(entries[key]["n"])
    options = [bounds(k) for _, k in
               sorted((specs[k]["weights"].index(1), k) for k in entries if ":option:" in k)]
    rules = [(specs[k]["weights"], bounds(k)) for k, e in entries.items()
             if e is not None and ":option:" not in k]
    if any(lo > hi for lo, hi in options) or _combinations(options) > limit:
        return None
    totals = [_total(specs[key]["weights"], c) for c in _counts(options, n)
              if all(lo - EPS <= _total(w, c) <= hi + EPS for w, (lo, hi) in rules)]
    if not totals:
        return False
    return _band_open((min(totals), max(totals)), *_band_end(specs[key], entries[key]))


def _total(weights, counts):
    return sum(w * c for w, c in zip(weights, counts, strict=True))


def _combinations(bounds):
    out = 1
    for lo, hi in bounds[:-1]:
        out *= hi - lo + 1
    return out


def _counts(bounds, n):
    """Every whole answer count per option within its bounds that adds up to n."""
    if len(bounds) == 1:
        lo, hi = bounds[0]
        if lo <= n <= hi:
            yield (n,)
        return
    rest_lo = sum(lo for lo, _ in bounds[1:])
    rest_hi = sum(hi for _, hi in bounds[1:])
    lo, hi = bounds[0]
    for c in range(max(lo, n - rest_hi), min(hi, n - rest_lo) + 1):
        for tail in _counts(bounds[1:], n - c):
            yield (c, *tail)
