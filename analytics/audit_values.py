"""Conditions (b) and (b') of the disclosure audit (see `analytics.audit`): the
values of small hidden cells stay spread, other hidden cells are not proven unanimous."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .audit_family import _Family
from .audit_lp import _joint, _Solver
from .audit_model import EPS, MEAN_STEP, PERCENT_STEP, Finding, _where

# ------------------------------------------------------------------------ (b) values


def _value_findings(fam, witnesses, store=None):
    """(b) for small cells; every other hidden cell must not be proven unanimous.
    `store` (from the memo, under the family's program digest) keeps each cell's
    results at its own witness (`_cell_by_cell`) for later audits of the same program."""
    strict = [c for c in fam.hidden_cells if fam.model.checked(c, fam.keys)]
    ranges = {c: {} for c in strict}
    rest = _lone_cells(fam, strict, witnesses, ranges)
    rest += [c for c in strict if c not in rest and not ranges[c]]
    answers = _cell_by_cell(fam, rest, witnesses, ranges, {} if store is None else store)
    failing = [c for c in strict if answers.get(c, (0, 1))[1] < 1 or not _all_wide(fam, ranges[c])]
    sure = [c for c in failing if fam.model.sure(c)]
    small = sure + _small_cells(fam, [c for c in failing if c not in sure])
    out = []
    for c in small:
        if answers.get(c, (0, 1))[1] < 1:
            out.append(Finding(c, fam.keys[0], "value",
                               f"nobody in it can have answered {fam.fam}: that is revealed"))
        else:
            out += [_value_finding(fam, c, key, ranges[c].get(key)) for key in fam.keys
                    if not _wide(fam, key, ranges[c].get(key))]
    passed = set(strict) - set(failing)
    return out + _unanimous(fam, [c for c in fam.hidden_cells if c not in passed
                                  and c not in small and fam.model.audited(c)], witnesses)


def _unanimous(fam, cells, witnesses):
    """(b') A hidden cell that is not small may be narrowed, but must not be proven
    unanimous: everyone giving one answer (an option share pinned to 100%, a mean to
    an end of its scale), which a shown value's band would have hidden (rule 4). One
    sample solution clears most cells; the rest ask whether another answer fits."""
    if not cells:
        return []
    sizes = witnesses.found[0] if witnesses.found else np.zeros(0)
    sample, out = fam.sample(sizes), []
    alike = _alike(fam, cells, sample) if fam.scale and sample is not None else {}
    fits = _others_fit(fam, alike, sizes)
    for c in cells:
        n_col, vals = fam.cols[c]
        if sample is None or sample[n_col] < 1:
            continue  # a cell that may hold no answer shows no unanimous answer
        if fam.scale:
            if c not in alike or c in fits:
                continue
            j = alike[c]
            key = next((k for k in fam.keys if fam.model.specs[k]["weights"] == [
                int(i == j) for i in range(len(vals))]), fam.keys[0])
        else:
            spec, key = fam.model.specs[fam.keys[0]], fam.keys[0]
            mean = sample[vals[0]] / sample[n_col]
            if spec["lo"] + EPS < mean < spec["hi"] - EPS or _other_fits(fam, c, sizes, mean):
                continue
        out.append(Finding(c, key, "value", "everyone in it gave the same answer, and that "
                           f"can be worked out (by {_where(fam.model, c)})"))
    return out


def _alike(fam, cells, sample):
    """{cell: the one answer everyone in it gave in the sample solution}, for the cells
    whose answers there are all one option."""
    out = {}
    for c in cells:
        n_col, vals = fam.cols[c]
        if sample[n_col] >= 1 and sum(sample[v] > 0.5 for v in vals) == 1:
            out[c] = int(np.argmax(sample[vals]))
    return out


def _others_fit(fam, alike, sizes):
    """The cells of `alike` ({cell: answer}) in which some solution has another answer:
    one program asks every cell not yet shown to for any other answer at once, until its
    solution shows none (it is then optimal: no cell left can have one)."""
    fits, todo = set(), dict(alike)

    def differs(x, cells):
        return {c for c in cells
                if sum(x[v] for j, v in enumerate(fam.cols[c][1]) if j != alike[c]) > 0.5}

    while todo:
        cost = {v: -1.0 for c, a in todo.items() for j, v in enumerate(fam.cols[c][1]) if j != a}
        x = fam.run([fam.task(sizes, cost)], lambda x, now=tuple(todo): bool(differs(x, now)))[0]
        got = set() if x is None else differs(x, todo)
        if not got:
            return fits
        fits |= got
        todo = {c: a for c, a in todo.items() if c not in got}
    return fits


def _other_fits(fam, cell, sizes, answer):
    """For a continuous measure: whether some solution (with answers in the cell) has a
    mean departing from `answer`, the end value found."""
    n_col, vals = fam.cols[cell]
    sign = 1.0 if answer > fam.model.specs[fam.keys[0]]["lo"] + EPS else -1.0

    def departs(x):
        return abs(x[vals[0]] - answer * x[n_col]) > EPS * max(1.0, x[n_col])

    x = fam.run([fam.task(sizes, {vals[0]: sign, n_col: -sign * answer}, {n_col: 1.0})],
                departs)[0]
    return x is not None and departs(x)


def _lone_cells(fam, cells, witnesses, ranges):
    """Cells of groups of size 1 in some witness, checked together per witness (those
    with most such groups first); returns the cells left for `_cell_by_cell`."""
    rest = list(cells)
    for w in _lone_order(witnesses):
        here = _lone_at(fam, rest, w)
        if here:
            _merge(ranges, _lone_shared(fam, here, w, witnesses) if fam.scale
                   else _lone_generic(fam, here, w))
            rest = [c for c in rest if c not in here]
    return rest


def _lone_order(witnesses):
    return sorted(witnesses.found, key=lambda w: -int(np.sum(w == 1)))


def _lone_at(fam, cells, w):
    index = fam.counts.index
    return [c for c in cells if c in index and w[index[c]] == 1]


def _lone_shared(fam, cells, w, witnesses):
    """`_lone` at witness w for the cells of every item of a linked set at once (they
    share one program: `audit_family._Program`), by a solver of its own, kept on the
    program by witness: the program's table outlives the audit when the memo holds it
    (`audit._families`), and a later audit with other witnesses asks only for the pairs
    it lacks. The same answers as each item's own `_lone`: each pair's proven answers
    are exact, whatever else was asked with it."""
    table = fam.program.lone.setdefault(w.tobytes(), {})
    if any((fam.fam, c) not in table for c in cells):
        wanted = [*_lone_table_pairs(fam, w, witnesses), *((fam, c) for c in cells)]
        pairs = {(f.fam, c): (f, c) for f, c in wanted if (f.fam, c) not in table}
        runner = _Family(fam.model, fam.counts, fam.fam, fam.program)
        got = _lone_pairs(runner, list(pairs.values()), w)
        table.update({(f.fam, c): answers for (f, c), answers in got.items()})
    return _lone_ranges(fam, {c: table[(fam.fam, c)] for c in cells})


def _lone_table_pairs(fam, w, witnesses):
    """(item family, cell) for the checked hidden cells of every item of fam's program
    that `_lone_cells` checks at witness w."""
    order, pairs = _lone_order(witnesses), []
    for name in fam.program.fams:
        other = fam if name == fam.fam else _Family(fam.model, fam.counts, name, fam.program)
        if not other.scale:
            continue
        strict = [c for c in other.hidden_cells if fam.model.checked(c, other.keys)]
        for c in _lone_at(other, strict, w):  # the cells `_lone_cells` leaves to w
            i = other.counts.index[c]
            if next(v for v in order if v[i] == 1).tobytes() == w.tobytes():
                pairs.append((other, c))
    return pairs


def _lone(fam, cells, sizes, cap=False):
    """What a cell answered by one respondent can show (`_lone_pairs` for one item;
    `cap`: each cell held to at most one answer, one cell at a time)."""
    if not fam.scale:
        return _lone_generic(fam, cells, sizes)
    ub = {fam.cols[c][0]: 1.0 for c in cells} if cap else None
    got = _lone_pairs(fam, [(fam, c) for c in cells], sizes, ub)
    return _lone_ranges(fam, {c: answers for (_, c), answers in got.items()})


def _lone_ranges(fam, proven):
    return {c: {key: _spread([fam.model.specs[key]["weights"][j] for j in got])
                for key in fam.keys} for c, got in proven.items() if got}


def _lone_pairs(runner, pairs, sizes, ub=None):
    """The answers each (item family, cell) pair of one respondent can give: per answer,
    one program (solved by `runner`, whose program holds every pair's columns) asks every
    pair still unproven to hold it at once; pairs that get it are proven and the rest
    asked again, until a program proves none (then none can hold it: its solution is
    optimal)."""
    proven = {p: set() for p in pairs}
    for x in runner.pooled(sizes, ub=ub):  # solutions found before prove some at once
        _note_answers(pairs, proven, x)
    for j in range(max((len(f.scale) for f, _ in pairs), default=0)):
        todo = [(f, c) for f, c in pairs if j < len(f.scale) and j not in proven[(f, c)]]
        while todo:
            task = runner.task(sizes, {f.cols[c][1][j]: -1.0 for f, c in todo}, ub=ub)
            x = runner.run([task], lambda x, todo=todo, j=j: _holds_answer(todo, j, x))[0]
            if x is None:
                break
            _note_answers(pairs, proven, x)
            if all(j not in proven[p] for p in todo):
                break
            todo = [p for p in todo if j not in proven[p]]
    return proven


def _note_answers(pairs, proven, x):
    """The answer of each pair's cell where x gives it one respondent."""
    for f, c in pairs:
        n_col, vals = f.cols[c]
        if round(x[n_col]) == 1:
            proven[(f, c)].add(int(np.argmax([x[v] for v in vals])))


def _holds_answer(pairs, j, x):
    return any(round(x[f.cols[c][0]]) == 1 and x[f.cols[c][1][j]] > 0.5 for f, c in pairs)


def _lone_generic(fam, cells, sizes):
    """For a continuous measure: one answer per cell, toward the least and then the
    greatest sum; each solution witnesses a value for every cell in it. A solution that,
    with those seen before (kept ones first), spreads every cell a step wide settles
    them (`enough`); a cell still narrow gets its exact range (its least and greatest
    value), so what is reported narrow is exact and the finding is the same whichever
    solutions were seen (an audit with a memo and one without agree)."""
    one = {fam.cols[c][0]: 1.0 for c in cells}
    total = {fam.cols[c][1][0]: 1.0 for c in cells}
    seen = fam.pooled(sizes, lb=one, ub=one)
    for sign in (1.0, -1.0):
        if seen and _lone_all_wide(fam, cells, seen):
            break
        task = fam.task(sizes, {k: sign * v for k, v in total.items()}, one, one)
        x = fam.run([task], lambda x: _lone_all_wide(fam, cells, seen + [x]))[0]
        if x is None:
            return {}
        seen.append(x)
    got, key = _lone_spreads(fam, cells, seen), fam.keys[0]
    for c in [c for c in cells if not _wide(fam, key, got[c][key])]:
        col = fam.cols[c][1][0]
        ends = fam.run([fam.task(sizes, {col: s}, one, one) for s in (1.0, -1.0)])
        if any(x is None for x in ends):  # unsolved in time: looked at cell by cell
            del got[c]
        else:
            got[c] = {key: _spread([x[col] for x in ends])}
    return got


def _lone_spreads(fam, cells, xs):
    return {c: {fam.keys[0]: _spread([x[fam.cols[c][1][0]] for x in xs])} for c in cells}


def _lone_all_wide(fam, cells, xs):
    return all(_wide(fam, fam.keys[0], r[fam.keys[0]])
               for r in _lone_spreads(fam, cells, xs).values())


def _cell_by_cell(fam, cells, witnesses, ranges, store):
    """The remaining cells, each at its own witness: its answer-count range, then one
    respondent's answers, then the fewest and most answers it can have. Each cell's
    results depend only on the program, the cell and its witness (the answer counts and
    a narrow range are exact, a wide one is witnessed; the cells come with no range of
    their own yet: `_value_findings`), so `store` keeps them under (witness, cell) and a
    later audit of the same program reuses them for the cells whose witness it shares:
    the same findings."""
    sizes = {c: _sizes_for(fam, witnesses, c) for c in cells}
    at = {c: (sizes[c].tobytes(), c) for c in cells}
    todo = [c for c in cells if at[c] not in store]
    answers = _answer_ranges(fam, todo, sizes) if todo else {}
    for c in todo:
        if answers[c][0] <= 1 <= answers[c][1]:
            _merge(ranges, _lone(fam, [c], sizes[c], cap=True))
    extra = [(c, n) for c in todo if answers[c][1] >= 1 and not _all_wide(fam, ranges[c])
             for n in sorted({max(answers[c][0], 1), answers[c][1]} - {1})]
    _merge(ranges, _fixed_ranges(fam, extra, sizes))
    for c in todo:
        store[at[c]] = (answers[c], dict(ranges[c]))
    for c in cells:
        answers[c], ranges[c] = store[at[c]][0], dict(store[at[c]][1])
    return answers


def _sizes_for(fam, witnesses, cell):
    i = fam.counts.index.get(cell)
    if i is not None:
        return min(witnesses.found, key=lambda w: w[i])
    return witnesses.found[0] if witnesses.found else np.zeros(0)


def _answer_ranges(fam, cells, sizes):
    """Each cell's fewest and most answers at its witness: a kept solution at the
    least or the greatest count its bounds allow settles that end (it is optimal);
    the solver finds the others."""
    tasks = [fam.task(sizes[c], {fam.cols[c][0]: s}) for c in cells for s in (1.0, -1.0)]
    xs = [None] * len(tasks)
    for i, c in enumerate(cells):
        xs[2 * i:2 * i + 2] = _at_bounds(fam, fam.cols[c][0], tasks[2 * i], sizes[c])
    ask = [i for i, x in enumerate(xs) if x is None]
    for i, x in zip(ask, fam.run([tasks[i] for i in ask]), strict=True):
        xs[i] = x
    out = {}
    for i, c in enumerate(cells):
        low, high, col = xs[2 * i], xs[2 * i + 1], fam.cols[c][0]
        out[c] = (1, 0) if low is None or high is None else (round(low[col]), round(high[col]))
    return out


def _at_bounds(fam, col, task, sizes):
    """Kept solutions with the column at its least and at its greatest allowed value
    (None where none is), the bounds those of the task with the hidden sizes fixed."""
    at = fam.where[col]
    if at < 0 or task[1][at] > task[2][at]:
        return [None, None]
    ends = (task[1][at], task[2][at])
    found = [None, None]
    for x in fam.pooled(sizes):
        for side, end in enumerate(ends):
            if found[side] is None and abs(x[col] - end) < EPS:
                found[side] = x
    return found


def _fixed_ranges(fam, cell_counts, sizes):
    """Each measure's range for cells held at a given answer count: first from whole
    solutions found near each end without `milp` (or already found: kept on the
    program with that count, or for another measure of the cell at that count), which
    settle a measure when they are at least a step apart (two real solutions: the
    range is wide); the others by `_settle`. A range reported narrow is always the
    exact one."""
    tasks, what, xs = [], [], []
    for c, n in cell_counts:
        at = {fam.cols[c][0]: float(n)}
        pool = fam.pooled(sizes[c], lb=at, ub=at)  # kept solutions with n answers there
        for key in fam.keys:
            expr = fam.expr(c, key)
            tasks += [fam.task(sizes[c], {k: s * v for k, v in expr.items()}, at, at)
                      for s in (1.0, -1.0)]
            what.append((c, n, key, expr))
            xs += _ends(fam, key, expr, n, pool, tasks[-2:])
    out = defaultdict(dict)
    for i, (_, n, key, expr) in enumerate(what):
        if not _wide(fam, key, _values_range(xs[2 * i:2 * i + 2], expr, n)):
            xs[2 * i:2 * i + 2] = _settle(fam, key, expr, n, tasks[2 * i:2 * i + 2],
                                          xs[2 * i:2 * i + 2])
    for i, (c, n, key, expr) in enumerate(what):
        rng = _values_range(xs[2 * i:2 * i + 2], expr, n)
        if rng is not None:
            out[c][key] = rng
    return out


def _ends(fam, key, expr, n, pool, tasks):
    """Two whole solutions near a measure's least and greatest value: two of `pool`
    (the cell's solutions so far) when they are a step apart, else found now (added)."""
    if pool:
        values = [_value(x, expr, n) for x in pool]
        ends = [pool[int(np.argmin(values))], pool[int(np.argmax(values))]]
        if _wide(fam, key, _values_range(ends, expr, n)):
            return ends
    found = fam.run(tasks, exact=False)
    pool += [x for x in found if x is not None]
    return found


def _settle(fam, key, expr, n, tasks, found):
    """A measure's range at a fixed count that the whole solutions found so far leave
    narrow: its greatest value, then its least, each asked with what would show the
    range a step wide at last (`enough`: a solution that far from the other end's best
    value so far), so the solver stops at the first such solution (the relaxation's
    rounding, a dive, the fractional rest, `milp`'s first) instead of proving an
    optimum. A range that stays narrow has both ends optimal: the exact one, as
    before."""
    step, seen = _step(fam.model.specs[key]), [x for x in found if x is not None]
    lowest = min(seen, key=lambda x: _value(x, expr, n), default=None)
    low = np.inf if lowest is None else _value(lowest, expr, n)
    high = fam.run([tasks[1]], enough=lambda x: _value(x, expr, n) >= low + step - EPS)[0]
    if high is None:
        return [None, None]
    top = _value(high, expr, n)
    if top >= low + step - EPS:
        return [lowest, high]
    least = fam.run([tasks[0]], enough=lambda x: _value(x, expr, n) <= top - step + EPS)[0]
    return [least, high]


def _values_range(xs, expr, n):
    if any(x is None for x in xs):
        return None
    return _spread([_value(x, expr, n) for x in xs])


def _value(x, expr, n):
    """A measure's value in a solution: its total ({column: coefficient}) over n."""
    return sum(x[k] * v for k, v in expr.items()) / n


def _small_cells(fam, cells):
    """Of `cells`, those that could hold fewer than k answers (one the publication
    proves to hold k or more is not a small cell: its value was publishable)."""
    if not cells:
        return []
    prog = _joint(fam.counts, [fam])
    solver, out = _Solver(prog), []
    for c in cells:
        cost, at = np.zeros(prog.A.shape[1]), fam.where[fam.cols[c][0]]
        if at >= 0:
            cost[at] = 1.0
        x = solver.solve(cost, prog.lb, prog.ub)
        if x is None or fam.expand(x)[fam.cols[c][0]] < fam.model.k - 0.5:
            out.append(c)
    return out


def _spread(values):
    return float(min(values)), float(max(values))


def _merge(ranges, more):
    for cell, by_key in more.items():
        for key, (low, high) in by_key.items():
            old = ranges[cell].get(key, (low, high))
            ranges[cell][key] = (min(old[0], low), max(old[1], high))


def _step(spec):
    return min(PERCENT_STEP if spec["kind"] == "percent" else MEAN_STEP, spec["hi"] - spec["lo"])


def _wide(fam, key, rng):
    return rng is not None and rng[1] - rng[0] >= _step(fam.model.specs[key]) - EPS


def _all_wide(fam, ranges):
    return all(_wide(fam, key, ranges.get(key)) for key in fam.keys)


def _value_finding(fam, cell, key, rng):
    if rng is None:
        return Finding(cell, key, "value", "no value it could have is witnessed")
    spec = fam.model.specs[key]
    if spec["kind"] == "percent":
        low, high = f"{100 * rng[0]:.0f}%", f"{100 * rng[1]:.0f}%"
        step = f"{100 * _step(spec):.0f}%"
    else:
        low, high, step = f"{rng[0]:.2f}", f"{rng[1]:.2f}", f"{_step(spec):g} scale point"
    return Finding(cell, key, "value", f"can be narrowed to {low}..{high}, less than "
                   f"{step} wide (by {_where(fam.model, cell)})", rng)
