"""One measure family of the disclosure audit (see `analytics.audit`) as a program
over every group, and the intervals shown values stand for."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from .audit_lp import _reduce, _Rows, _Solver, holds
from .audit_model import EPS, _mean_key, mean_places, top_share
from .audit_pool import Pool

# ------------------------------------------------------------------------ families


class _Program:
    """The program of a set of families audited together (a component score and its
    items: `_Model.links`; else one family): columns the hidden sizes, then each
    family's block (`_block`), with the rows tying a component's total to its items'
    totals in each group (`_link_rows`). Built once, shared by the set's families."""

    def __init__(self, model, counts, fams, pool=None, lone=None):
        self.model, self.counts, self.fams = model, counts, fams
        h = len(counts.hidden)
        self.pool = pool or Pool(h)  # whole solutions found (`audit_pool`)
        self.lb, self.ub, self.integ = [1.0] * h, [np.inf] * h, [1] * h
        rows = _Rows()
        self.blocks = {f: self._block(f, rows) for f in fams}
        if len(fams) > 1:
            _link_rows(model, counts, self.blocks, fams, rows)
        self.prog, self.keep, self.fixed = _reduce(rows.program(self.lb, self.ub, self.integ), h)
        self.where = np.full(len(self.lb), -1)
        self.where[self.keep] = np.arange(len(self.keep))
        # witness -> {(item family, cell): answers} (`audit_values._lone_shared`), shared
        # by the set's items; the memo's, kept across audits of this program, if given
        self.lone = {} if lone is None else lone

    def _block(self, fam, rows):
        """The columns and rows of one family: {group: (answer count, [option counts]
        or [total])}."""
        keys, cols = self.model.families[fam], {}
        scale = self.model.specs[keys[0]].get("scale")
        for name in _nodes(self.model, fam):
            cols[name] = self._add_node(name, keys, scale, rows)
        for parent, kids in self.model.relations:
            if parent in cols and all(c in cols for c in kids):
                for j in range(1 + len(cols[parent][1])):
                    coeffs = defaultdict(float, {_col(cols, parent, j): 1.0})
                    for c in kids:
                        coeffs[_col(cols, c, j)] -= 1.0
                    rows.add(coeffs, 0.0, 0.0)
        for name in cols:
            self._add_entries(name, keys, cols, rows)
        return cols

    def _new(self, lb, ub, whole):
        self.lb.append(lb)
        self.ub.append(ub)
        self.integ.append(int(whole))
        return len(self.lb) - 1

    def _add_node(self, name, keys, scale, rows):
        node = self.model.nodes[name]
        answers = {e["n"] for k in keys for e in node.entries.get(k, [])}
        if len(answers) > 1:
            fam = self.model.specs[keys[0]]["family"]
            raise ValueError(f"{name}: the measures of {fam} give different answer counts")
        cap = np.inf if node.n is None else float(node.n)
        n_col = self._new(*((answers.pop(),) * 2 if answers else (0.0, cap)), True)
        if node.n is None:
            rows.add({n_col: 1.0, self.counts.index[name]: -1.0}, -np.inf, 0.0)
        if scale:
            vals = [self._new(0.0, np.inf, True) for _ in scale]
            rows.add({n_col: -1.0, **{c: 1.0 for c in vals}}, 0.0, 0.0)
        else:
            spec = self.model.specs[keys[0]]
            vals = [self._new(-np.inf, np.inf, spec.get("integral", False))]
            rows.add({vals[0]: 1.0, n_col: -spec["lo"]}, 0.0, np.inf)
            rows.add({vals[0]: 1.0, n_col: -spec["hi"]}, -np.inf, 0.0)
        return n_col, vals

    def _add_entries(self, name, keys, cols, rows):
        for key in keys:
            spec = self.model.specs[key]
            whole = bool(spec.get("scale")) or spec.get("integral", False)
            for entry in self.model.nodes[name].entries.get(key, []):
                interval = _interval(self.model.banding, spec, entry)
                low, high = _total_bounds(interval, entry["n"], whole)
                rows.add(_expr(self.model, cols, name, key), low, high)


class _Family:
    """One family of measures (an item's mean, % favorable and option shares, or one
    other measure) over every group, as a program: the program of its linked set
    (`_Program`, shared with the set's other families, given or built here), with its
    own columns `cols` ({group: (answer count, [option counts] or [total])}); its
    findings are about its own measures."""

    def __init__(self, model, counts, fam, program=None):
        self.model, self.counts, self.fam = model, counts, fam
        self.program = program or _Program(model, counts, model.linked(fam))
        self.keys = model.families[fam]
        self.scale = model.specs[self.keys[0]].get("scale")
        self.nodes = _nodes(model, fam)
        self.cols = self.program.blocks[fam]
        self.hidden_cells = [n for n in self.nodes
                             if not any(k in model.nodes[n].entries for k in self.keys)]
        self.prog, self.keep, self.fixed = self.program.prog, self.program.keep, self.program.fixed
        self.where = self.program.where
        self.solver = None

    def expr(self, name, key):
        """A measure's total in a group, as {column: coefficient}."""
        return _expr(self.model, self.cols, name, key)

    def task(self, sizes, cost=None, lb=None, ub=None):
        """(cost, lb, ub) on the reduced program from full-column dicts, hidden sizes
        fixed to `sizes`; a bound that a fixed column breaks makes it infeasible."""
        h = len(self.counts.hidden)
        low, high, vec = self.prog.lb.copy(), self.prog.ub.copy(), np.zeros(len(self.prog.lb))
        low[:h] = high[:h] = sizes
        for bounds, up in ((lb or {}, False), (ub or {}, True)):
            for col, value in bounds.items():
                at, side = self.where[col], high if up else low
                if at >= 0:
                    side[at] = min(side[at], value) if up else max(side[at], value)
                elif (self.fixed[col] > value + EPS) if up else (self.fixed[col] < value - EPS):
                    return vec, np.ones_like(low), np.zeros_like(high)
        for col, value in (cost or {}).items():
            if self.where[col] >= 0:
                vec[self.where[col]] += value
        return vec, low, high

    def run(self, tasks, enough=None, exact=True):
        """Solves tasks; each answer is None or every column's value. `enough(x)` may
        accept a whole solution that is not optimal but proves what is asked;
        `exact=False` takes any whole solution found near the optimum, or None
        (`_Solver.solve`)."""
        self.solver = self.solver or _Solver(self.prog)
        check = None if enough is None else (lambda x: enough(self.expand(x)))
        out = [None if x is None else self.expand(x)
               for x in (self.solver.solve(*t, enough=check, exact=exact, seeds=self._seeds(t))
                         for t in tasks)]
        for x in out:
            if x is not None:
                self.program.pool.add(x)
        return out

    def _seeds(self, task):
        """The kept solutions at a task's hidden sizes, as reduced columns, lazily: the
        solver looks at them only when its rounding fails (and checks each against the
        task's bounds and rows before taking it)."""
        sizes = task[1][:len(self.counts.hidden)]
        return (x[self.keep] for x in self.program.pool.at(sizes) if self.reducible(x))

    def sample(self, sizes):
        """A solution of the program with the hidden sizes fixed to `sizes` (None if it
        has none): one found before (by any family of the program: `pooled`), else one
        solved for. Any solution serves: what is concluded from it is checked exactly."""
        found = self.pooled(sizes)
        return found[0] if found else self.run([self.task(sizes)])[0]

    def pooled(self, sizes, lb=None, ub=None):
        """The kept solutions (`audit_pool`) at these hidden sizes that solve the
        program now, within the bounds ({column: value}) given."""
        _, low, high = self.task(sizes, lb=lb, ub=ub)
        return [x for x in self.program.pool.at(sizes)
                if self.reducible(x) and holds(self.prog, x[self.keep], low, high)]

    def reducible(self, x):
        """Whether a full solution agrees with the columns presolve fixed, so that its
        kept columns `x[keep]` stand for it in the reduced program."""
        gone = self.where < 0
        return len(x) == len(self.fixed) and np.allclose(x[gone], self.fixed[gone])

    def expand(self, x):
        full = self.fixed.copy()
        full[self.keep] = x
        return full


def _nodes(model, fam):
    return sorted(n for n, node in model.nodes.items() if fam in node.families)


def _col(cols, name, j):
    return cols[name][0] if j == 0 else cols[name][1][j - 1]


def _expr(model, cols, name, key):
    vals, spec = cols[name][1], model.specs[key]
    if not spec.get("scale"):
        return {vals[0]: 1.0}
    return {c: float(w) for c, w in zip(vals, spec["weights"], strict=True) if w}


def _link_rows(model, counts, blocks, linked, rows):
    """In every group, a component's total S (the sum of its students' scores) against
    its m items' keyed totals T_i: a student who answered every item adds m times their
    score to m S and the same to the T_i together; one scored on fewer answers A adds
    (m - A) times their own mean more to m S; one not scored (fewer than `need` answers)
    adds nothing to S and up to need - 1 answers to the T_i. With N_C scored students,
    N_i answers to item i and n students, whatever the answers:
        (m N_C - sum N_i) lo - u <= m S - sum T_i <= (m N_C - sum N_i) hi + u,
    u = (n - N_C)(need - 1)(hi - lo): what the unscored students' answers can move it.
    Every count is a column (a hidden one a variable), so the rows hold in every group,
    shown or hidden; everyone answering everything makes m S = sum T_i exactly."""
    comp, items = linked[0], linked[1:]
    spec = model.specs[model.families[comp][0]]
    m, lo, hi = len(items), spec["lo"], spec["hi"]
    slack = (spec["need"] - 1) * (hi - lo)
    means = [_mean_key(model, f) for f in items]
    for name in blocks[comp]:
        if not all(name in blocks[f] for f in items):
            continue
        n_c, (total,) = blocks[comp][name]
        base = defaultdict(float, {total: float(m)})
        for f, key in zip(items, means, strict=True):
            for col, w in _expr(model, blocks[f], name, key).items():
                base[col] -= w
        size = model.nodes[name].n
        size_col = None if size is not None else counts.index[name]
        for end, sign in ((lo, 1.0), (hi, -1.0)):
            coeffs = defaultdict(float, base)
            coeffs[n_c] -= end * m + sign * slack
            for f in items:
                coeffs[blocks[f][name][0]] += end
            bound = -sign * slack * size if size is not None else 0.0
            if size_col is not None:
                coeffs[size_col] += sign * slack
            if sign > 0:
                rows.add(coeffs, bound, np.inf)
            else:
                rows.add(coeffs, -np.inf, bound)


def _interval(banding, spec, entry):
    """The per-respondent value interval a shown entry stands for, with the band
    limits an unbanded value lies strictly inside (else None). An entry carrying its
    exact `total` (never published: analytics.snapshot passes one to ask whether a
    publication stays safe when a group's totals become known exactly) stands for it;
    one carrying a `range` of totals (never published either: what another level
    implies about them, analytics/district_bound.py) for any total in it, ends included."""
    if "total" in entry:  # nobody answered: a total of 0, whatever the value
        value = entry["total"] / entry["n"] if entry["n"] else 0.0
        return value, value, None
    if "range" in entry:
        return entry["range"][0] / entry["n"], entry["range"][1] / entry["n"], None
    unit, lo, hi = (100.0 if spec["kind"] == "percent" else 1.0), spec["lo"], spec["hi"]
    top = top_share(int(entry["n"]), banding)
    band_low, band_high = lo + (1 - top) * (hi - lo), lo + top * (hi - lo)
    if entry.get("band") == "top":
        return max(entry["bound"] / unit, band_high), hi, None
    if entry.get("band") == "bottom":
        return lo, min(entry["bound"] / unit, band_low), None
    half = 0.005 if unit == 100.0 else 0.5 / 10 ** _places(spec, entry)
    return entry["value"] / unit - half, entry["value"] / unit + half, (band_low, band_high)


def _places(spec, entry):
    """Decimals a shown mean was published to: as its display has them (a publication
    made before `mean_places` changed keeps its own precision), else by the rule."""
    whole, dot, decimals = str(entry.get("display", "")).partition(".")
    if dot and whole.lstrip("-").isdigit() and decimals.isdigit():
        return len(decimals)
    return mean_places(spec, int(entry["n"]))


def _total_bounds(interval, n, whole):
    """Bounds on a total from its value interval; whole totals are rounded inwards and
    kept strictly inside the band limits."""
    low, high, limits = interval
    low, high = low * n, high * n
    if not whole:
        return (max(low, limits[0] * n), min(high, limits[1] * n)) if limits else (low, high)
    low = math.ceil(low - EPS)
    # A rounded value v stands for [v - half, v + half): rounding is half up
    # (`disclosure._half_up`), so a total on the upper end shows the next value. A band
    # or an exact total includes its end.
    high = math.ceil(high - EPS) - 1 if limits else math.floor(high + EPS)
    if limits:
        low = max(low, math.floor(limits[0] * n + EPS) + 1)
        high = min(high, math.ceil(limits[1] * n - EPS) - 1)
    return float(low), float(high)
