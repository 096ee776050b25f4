"""One measure family of the disclosure audit (see `analytics.audit`) as a program
over every group, and the intervals shown values stand for."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from .audit_lp import _reduce, _Rows, _Solver
from .audit_model import EPS, mean_places, top_share

# ------------------------------------------------------------------------ families


class _Family:
    """One family of measures (an item's mean, % favorable and option shares, or one
    other measure) over every group, as a program. Columns: the hidden sizes, then per
    group its answer count and either its count per option (items) or its total."""

    def __init__(self, model, counts, fam):
        self.model, self.counts, self.fam = model, counts, fam
        self.keys = model.families[fam]
        self.scale = model.specs[self.keys[0]].get("scale")
        self.nodes = sorted(n for n, node in model.nodes.items() if fam in node.families)
        h = len(counts.hidden)
        self.lb, self.ub, self.integ = [1.0] * h, [np.inf] * h, [1] * h
        self.cols, rows = {}, _Rows()
        for name in self.nodes:
            self._add_node(name, rows)
        present = set(self.nodes)
        for parent, kids in model.relations:
            if parent in present and all(c in present for c in kids):
                for j in range(1 + len(self.cols[parent][1])):
                    coeffs = defaultdict(float, {self._col(parent, j): 1.0})
                    for c in kids:
                        coeffs[self._col(c, j)] -= 1.0
                    rows.add(coeffs, 0.0, 0.0)
        for name in self.nodes:
            self._add_entries(name, rows)
        self.hidden_cells = [n for n in self.nodes
                             if not any(k in model.nodes[n].entries for k in self.keys)]
        self.prog, self.keep, self.fixed = _reduce(rows.program(self.lb, self.ub, self.integ), h)
        self.where = np.full(len(self.lb), -1)
        self.where[self.keep] = np.arange(len(self.keep))
        self.solver = None

    def _new(self, lb, ub, whole):
        self.lb.append(lb)
        self.ub.append(ub)
        self.integ.append(int(whole))
        return len(self.lb) - 1

    def _col(self, name, j):
        return self.cols[name][0] if j == 0 else self.cols[name][1][j - 1]

    def _add_node(self, name, rows):
        node = self.model.nodes[name]
        answers = {e["n"] for k in self.keys for e in node.entries.get(k, [])}
        if len(answers) > 1:
            raise ValueError(f"{name}: the measures of {self.fam} give different answer counts")
        cap = np.inf if node.n is None else float(node.n)
        n_col = self._new(*((answers.pop(),) * 2 if answers else (0.0, cap)), True)
        if node.n is None:
            rows.add({n_col: 1.0, self.counts.index[name]: -1.0}, -np.inf, 0.0)
        if self.scale:
            vals = [self._new(0.0, np.inf, True) for _ in self.scale]
            rows.add({n_col: -1.0, **{c: 1.0 for c in vals}}, 0.0, 0.0)
        else:
            spec = self.model.specs[self.keys[0]]
            vals = [self._new(-np.inf, np.inf, spec.get("integral", False))]
            rows.add({vals[0]: 1.0, n_col: -spec["lo"]}, 0.0, np.inf)
            rows.add({vals[0]: 1.0, n_col: -spec["hi"]}, -np.inf, 0.0)
        self.cols[name] = (n_col, vals)

    def _add_entries(self, name, rows):
        for key in self.keys:
            spec = self.model.specs[key]
            whole = bool(self.scale) or spec.get("integral", False)
            for entry in self.model.nodes[name].entries.get(key, []):
                interval = _interval(self.model.banding, spec, entry)
                low, high = _total_bounds(interval, entry["n"], whole)
                rows.add(self.expr(name, key), low, high)

    def expr(self, name, key):
        """A measure's total in a group, as {column: coefficient}."""
        vals = self.cols[name][1]
        if not self.scale:
            return {vals[0]: 1.0}
        weights = self.model.specs[key]["weights"]
        return {c: float(w) for c, w in zip(vals, weights, strict=True) if w}

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
        return [None if x is None else self.expand(x)
                for x in (self.solver.solve(*t, enough=check, exact=exact) for t in tasks)]

    def expand(self, x):
        full = self.fixed.copy()
        full[self.keep] = x
        return full


def _interval(banding, spec, entry):
    """The per-respondent value interval a shown entry stands for, with the band
    limits an unbanded value lies strictly inside (else None). An entry carrying its
    exact `total` (never published: analytics.snapshot passes one to ask whether a
    publication stays safe when a group's totals become known exactly) stands for it."""
    if "total" in entry:
        value = entry["total"] / entry["n"]
        return value, value, None
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
