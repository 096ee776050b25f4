"""The disclosure audit: proves by integer linear programming that nothing published
lets anyone learn more about a suppressed cell than the dashboard says of it
(DESIGN "Privacy: part of correctness", rule 3).

Pure NumPy/SciPy, no Django. Input is what `disclosure.publish` released (one or
more publications, "units"), never the true values.

The attacker model, stated so docs/privacy.md can repeat it:

* The attacker knows every published number of every unit passed in, the scale of
  every measure, the banding schedule, that each relation holds (parent = disjoint
  union of children), that counts are whole numbers, that every listed group has at
  least one respondent, and that an item's answer is one of its scale's options
  (so an item's mean, % favorable and option shares are linear in the answer
  counts of its options). A shown value stands for the interval it rounds from
  (means to 2 decimals, whole percentages, bands "x or more"/"x or less") and, when
  it is not banded, for "not in a band".
* Suppressed cells all carry the same marker, so the attacker cannot tell a small
  group from one hidden to protect it: a hidden group's size is any whole number
  >= 1 the relations allow.

The two conditions checked for every hidden cell:

(a) count: every size 1..k-1 of every hidden group stays consistent with everything
    published (exact: one integer program per size, reusing solutions).
(b) value: over the sizes the cell could have, the values of each of its measures
    consistent with everything published span at least one scale point for a mean
    (capped at the scale's width) and 20 percentage points for a proportion, so a
    proportion is never pinned to 0 or 1 (20 points is the widest band a shown
    group gets, so a hidden cell says no more than the smallest shown one). An
    item's answer count is published for shown cells; for a hidden cell the audit
    looks at the smallest answer count the publication allows (usually a single
    respondent, whose possible answers must then differ) and at the largest.

Soundness: (a) is exact. For (b) every range the audit reports wide is witnessed
by whole-number solutions of the full system (so an attacker cannot rule them
out); the audit fixes the other hidden groups' sizes to one consistent choice while
it looks at a cell, which can only make ranges narrower. Errors are therefore on
the side of a finding, never of a pass. Not modelled: links between different
measures other than an item's own mean, % favorable and options (for instance a
component score as the mean of its items), and answers given as decimals are
treated as continuous (component scores).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

EPS = 1e-7
MEAN_STEP = 1.0  # (b): a hidden mean must span at least one scale point
PERCENT_STEP = 0.2  # (b): a hidden proportion must span at least 20 percentage points
DEFAULT_BANDING = ((300, 0.99), (100, 0.98), (40, 0.95), (20, 0.90), (0, 0.80))


@dataclass(frozen=True)
class Finding:
    """One way a hidden cell leaks: `condition` is "count" (a) or "value" (b)."""

    group: str
    measure: str | None
    condition: str
    detail: str
    feasible: tuple[float, float] | None = None

    def __str__(self):
        return f"{self.condition} of {self.group}" + (
            f" / {self.measure}" if self.measure else "") + f": {self.detail}"


def audit(published, relations, k=None, *, also=(), same=()):
    """Findings for everything published together (empty list = safe to publish).

    `published` is one publication (the output of `disclosure.publish`) with its
    `relations`; `also` holds further (publication, relations) pairs published about
    the same wave (other units, earlier publications); `same` lists pairs of
    ((unit index, group key), (unit index, group key)) naming the same respondents,
    unit 0 being `published` and unit i the i-th entry of `also`. Units that share
    no respondents are audited separately, which is exact.
    """
    units = [(published, relations)] + [tuple(u) for u in also]
    findings = []
    for members in _linked_units(len(units), same):
        model = _Model([units[i] for i in members], members, same, k)
        findings += _audit_model(model)
    return findings


def _linked_units(count, same):
    parent = list(range(count))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (ua, _), (ub, _) in same:
        parent[root(ua)] = root(ub)
    groups = defaultdict(list)
    for i in range(count):
        groups[root(i)].append(i)
    return sorted(groups.values())


# --------------------------------------------------------------------------- model


@dataclass
class _Node:
    name: str
    n: int | None = None
    entries: dict | None = None  # measure key -> list of shown entries
    families: set | None = None


class _Model:
    """Nodes (groups, merged across units), relations, measure specs and families."""

    def __init__(self, units, indices, same, k):
        self.k = int(k if k is not None else max(p.get("k", 10) for p, _ in units))
        self.banding = tuple(tuple(b) for b in units[0][0].get("banding", DEFAULT_BANDING))
        alias = _aliases(units, indices, same)
        self.nodes, self.relations, self.specs = {}, [], {}
        for (pub, rels), index in zip(units, indices, strict=True):
            self._add_unit(pub, rels, lambda key, i=index: alias(i, key))
        children = {c for _, kids in self.relations for c in kids}
        self.top = {name for name in self.nodes if name not in children}
        self.families = defaultdict(list)
        for key, spec in sorted(self.specs.items()):
            self.families[spec["family"]].append(key)

    def _add_unit(self, pub, rels, name_of):
        families = {spec["family"] for spec in pub.get("measures", {}).values()}
        for key, spec in pub.get("measures", {}).items():
            if self.specs.setdefault(key, spec) != spec:
                raise ValueError(f"measure {key} has different scales in two publications")
        for key, entry in pub["groups"].items():
            node = self.nodes.setdefault(name_of(key), _Node(name_of(key), None, {}, set()))
            node.families |= families
            if not entry.get("suppressed"):
                self._add_shown(node, entry)
        for parent, kids in rels:
            self.relations.append((name_of(parent), [name_of(c) for c in kids]))

    @staticmethod
    def _add_shown(node, entry):
        if node.n is not None and node.n != entry["n"]:
            raise ValueError(f"{node.name} is published with two different sizes")
        node.n = int(entry["n"])
        for key, value in entry.get("measures", {}).items():
            if not value.get("suppressed"):
                node.entries.setdefault(key, []).append(value)

    def top_share(self, n):
        return next(share for least, share in self.banding if n >= least)


def _aliases(units, indices, same):
    """Maps (unit index, key) to a node name: unit keys as they are for the first
    unit, "label/key" for the others; groups named in `same` share one name."""
    labels = {i: "" if pos == 0 else f"{pub.get('unit') or f'unit{i}'}/"
              for pos, (i, (pub, _)) in enumerate(zip(indices, units, strict=True))}
    merged = {}
    for a, b in same:
        if a[0] in labels and b[0] in labels:
            first, second = sorted([a, b])
            merged[second] = merged.get(first, first)

    def name(i, key):
        unit, key = merged.get((i, key), (i, key))
        return labels[unit] + key

    return name


# ------------------------------------------------------------------- solver helpers


@dataclass
class _Program:
    """min c.x  s.t.  rlo <= A x <= rhi,  lb <= x <= ub,  x[integ] whole."""

    A: sparse.csr_matrix
    rlo: np.ndarray
    rhi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integ: np.ndarray


def _solve(prog, cost=None, lb=None, ub=None):
    """Optimal x, or None when infeasible (or not solved in time: a finding, never a pass)."""
    size = prog.A.shape[1]
    cost = np.zeros(size) if cost is None else cost
    lb = prog.lb if lb is None else lb
    ub = prog.ub if ub is None else ub
    if np.any(lb > ub + EPS):
        return None
    cons = [LinearConstraint(prog.A, prog.rlo, prog.rhi)] if prog.A.shape[0] else []
    res = milp(cost, constraints=cons, integrality=prog.integ, bounds=Bounds(lb, ub),
               options={"time_limit": 20.0})
    return res.x if res.status == 0 else None


def _batch(prog, tasks):
    """Solves independent copies of `prog` in one program. Each task is
    (cost, lb, ub); returns the optimal x of each copy, None where infeasible."""
    if not tasks:
        return []
    size = prog.A.shape[1]
    whole = _Program(
        sparse.block_diag([prog.A] * len(tasks), format="csr"),
        np.tile(prog.rlo, len(tasks)), np.tile(prog.rhi, len(tasks)),
        np.concatenate([t[1] for t in tasks]), np.concatenate([t[2] for t in tasks]),
        np.tile(prog.integ, len(tasks)),
    )
    x = _solve(whole, np.concatenate([t[0] for t in tasks]))
    if x is not None:
        return [x[i * size:(i + 1) * size] for i in range(len(tasks))]
    return [_solve(prog, *task) for task in tasks]


class _Rows:
    """Accumulates sparse constraint rows."""

    def __init__(self):
        self.data, self.rows, self.cols, self.lo, self.hi = [], [], [], [], []

    def add(self, coeffs, lo, hi):
        row = len(self.lo)
        for col, value in coeffs.items():
            if value:
                self.data.append(value)
                self.rows.append(row)
                self.cols.append(col)
        self.lo.append(lo)
        self.hi.append(hi)

    def program(self, lb, ub, integ):
        shape = (len(self.lo), len(lb))
        A = sparse.csr_matrix((self.data, (self.rows, self.cols)), shape=shape)
        return _Program(A, np.array(self.lo, float), np.array(self.hi, float),
                        np.array(lb, float), np.array(ub, float), np.array(integ, float))


# ------------------------------------------------------------------- (a) counts


class _Counts:
    """Hidden group sizes: whole numbers >= 1 tied by the relations."""

    def __init__(self, model):
        self.hidden = sorted(name for name, node in model.nodes.items() if node.n is None)
        self.index = {name: i for i, name in enumerate(self.hidden)}
        rows = _Rows()
        for parent, kids in model.relations:
            coeffs, const = defaultdict(float), 0.0
            for name, sign in [(parent, 1.0)] + [(c, -1.0) for c in kids]:
                if model.nodes[name].n is None:
                    coeffs[self.index[name]] += sign
                else:
                    const += sign * model.nodes[name].n
            if any(coeffs.values()):
                rows.add(coeffs, -const, -const)
            elif abs(const) > EPS:
                raise ValueError(f"published sizes break the relation {parent}")
        size = len(self.hidden)
        self.prog = rows.program([1.0] * size, [np.inf] * size, [1] * size)

        self.floor = self._structural_floor(model)

    def _structural_floor(self, model):
        """Smallest size of each hidden group knowing only the relations and that every
        listed group has a respondent: what the list of groups says anyway."""
        names = sorted(model.nodes)
        index = {name: i for i, name in enumerate(names)}
        rows = _Rows()
        for parent, kids in model.relations:
            coeffs = defaultdict(float, {index[parent]: 1.0})
            for c in kids:
                coeffs[index[c]] -= 1.0
            rows.add(coeffs, 0.0, 0.0)
        prog = rows.program([1.0] * len(names), [np.inf] * len(names), [1] * len(names))
        tasks = []
        for name in self.hidden:
            cost = np.zeros(len(names))
            cost[index[name]] = 1.0
            tasks.append((cost, prog.lb, prog.ub))
        xs = _batch(prog, tasks)
        return [round(x[index[name]]) for x, name in zip(xs, self.hidden, strict=True)]

    def witness(self, fixed):
        lb, ub = self.prog.lb.copy(), self.prog.ub.copy()
        for i, value in fixed.items():
            lb[i] = ub[i] = value
        x = _solve(self.prog, lb=lb, ub=ub)
        return None if x is None else np.round(x)


class _Witnesses:
    """Consistent whole-number sizes for the hidden groups, found per (group, size)."""

    def __init__(self, counts, k, find):
        self.counts, self.k, self.found = counts, k, []
        self.missing = {}
        for i in range(len(counts.hidden)):
            self._cover(i, find)

    def _cover(self, i, find):
        missing = []
        for size in range(self.counts.floor[i], self.k):
            if self.has(i, size):
                continue
            x = find(i, size)
            if x is None:
                missing.append(size)
            else:
                self.found.append(x)
        self.missing[i] = missing

    def has(self, i, size):
        return any(w[i] == size for w in self.found)

    def smallest(self, i):
        """The witness giving hidden group i its smallest size."""
        return min(self.found, key=lambda w: w[i])


def _count_findings(model, counts, witnesses):
    out = []
    for name, i in counts.index.items():
        missing = witnesses.missing[i]
        if not missing or len(missing) == model.k - counts.floor[i]:
            continue  # nothing ruled out, or the publication proves k or more: not small
        sizes = sorted({int(w[i]) for w in witnesses.found})
        where = _relations_text(model, name)
        out.append(Finding(
            name, None, "count",
            f"sizes {_ranges(missing)} are ruled out, so 'fewer than {model.k}' is narrowed"
            f" (by {where})", (sizes[0], sizes[-1]) if sizes else None))
    return out


def _relations_text(model, name):
    rels = [f"{p}=({len(kids)} groups)" for p, kids in model.relations
            if name == p or name in kids]
    return ", ".join(rels[:3]) or "no relation"


def _ranges(values):
    parts, start = [], None
    for v, nxt in zip(values, values[1:] + [None], strict=True):
        start = v if start is None else start
        if nxt != v + 1:
            parts.append(f"{start}" if start == v else f"{start}-{v}")
            start = None
    return ", ".join(parts)


# ------------------------------------------------------------------- families


class _Family:
    """The program of one family of measures (an item's mean, % favorable and option
    shares, or one other measure) over every group. Columns: the hidden group sizes,
    then per group its answer count N and either its answer count per option (items)
    or its total (other measures)."""

    def __init__(self, model, counts, fam):
        self.model, self.counts, self.fam = model, counts, fam
        self.keys = model.families[fam]
        self.scale = model.specs[self.keys[0]].get("scale")
        self.nodes = sorted(n for n, node in model.nodes.items() if fam in node.families)
        hidden = len(counts.hidden)
        self.lb, self.ub, self.integ = [1.0] * hidden, [np.inf] * hidden, [1] * hidden
        self.cols, self.rows = {}, _Rows()
        for name in self.nodes:
            self._add_node(name)
        self._add_relations()
        for name in self.nodes:
            self._add_entries(name)
        self.prog = self.rows.program(self.lb, self.ub, self.integ)
        self.hidden_cells = [n for n in self.nodes if not self._shown(n)]

    def _new(self, lb, ub, whole):
        self.lb.append(lb)
        self.ub.append(ub)
        self.integ.append(1 if whole else 0)
        return len(self.lb) - 1

    def _shown(self, name):
        return any(k in self.model.nodes[name].entries for k in self.keys)

    def _add_node(self, name):
        node = self.model.nodes[name]
        counts = {e["n"] for k in self.keys for e in node.entries.get(k, [])}
        if len(counts) > 1:
            raise ValueError(f"{name}: the measures of {self.fam} give different answer counts")
        if counts:
            fixed = float(counts.pop())
            n_col = self._new(fixed, fixed, True)
        else:
            n_col = self._new(0.0, np.inf if node.n is None else float(node.n), True)
        if node.n is None:
            self.rows.add({n_col: 1.0, self.counts.index[name]: -1.0}, -np.inf, 0.0)
        if self.scale:
            vals = [self._new(0.0, np.inf, True) for _ in self.scale]
            self.rows.add({n_col: -1.0, **{c: 1.0 for c in vals}}, 0.0, 0.0)
        else:
            spec = self.model.specs[self.keys[0]]
            vals = [self._new(-np.inf, np.inf, spec.get("integral", False))]
            self.rows.add({vals[0]: 1.0, n_col: -spec["lo"]}, 0.0, np.inf)
            self.rows.add({vals[0]: 1.0, n_col: -spec["hi"]}, -np.inf, 0.0)
        self.cols[name] = (n_col, vals)

    def _add_relations(self):
        present = set(self.nodes)
        for parent, kids in self.model.relations:
            if parent not in present or not all(c in present for c in kids):
                continue
            for j in range(1 + len(self.cols[parent][1])):
                coeffs = defaultdict(float)
                for name, sign in [(parent, 1.0)] + [(c, -1.0) for c in kids]:
                    coeffs[self._col(name, j)] += sign
                self.rows.add(coeffs, 0.0, 0.0)

    def _col(self, name, j):
        n_col, vals = self.cols[name]
        return n_col if j == 0 else vals[j - 1]

    def task(self, sizes, cost=None, lb=None, ub=None):
        """A (cost, lb, ub) for `_batch`: hidden sizes fixed to `sizes`, plus overrides."""
        h = len(self.counts.hidden)
        low, high, vec = self.prog.lb.copy(), self.prog.ub.copy(), np.zeros(len(self.prog.lb))
        low[:h] = high[:h] = sizes
        for col, value in (lb or {}).items():
            low[col] = value
        for col, value in (ub or {}).items():
            high[col] = value
        for col, value in (cost or {}).items():
            vec[col] += value
        return vec, low, high

    def expr(self, name, key):
        """The measure's total in a group, as {column: coefficient}."""
        vals = self.cols[name][1]
        if not self.scale:
            return {vals[0]: 1.0}
        weights = self.model.specs[key]["weights"]
        return {c: float(w) for c, w in zip(vals, weights, strict=True) if w}

    def _add_entries(self, name):
        for key in self.keys:
            spec = self.model.specs[key]
            whole = bool(self.scale) or spec.get("integral", False)
            for entry in self.model.nodes[name].entries.get(key, []):
                low, high = _total_bounds(_interval(self.model, spec, entry), entry["n"], whole)
                self.rows.add(self.expr(name, key), low, high)


def _interval(model, spec, entry):
    """The per-respondent value interval a shown entry stands for: (low, high, and the
    band limits an unbanded value lies strictly inside, else None)."""
    pct = spec["kind"] == "percent"
    unit = 100.0 if pct else 1.0
    lo, hi = spec["lo"], spec["hi"]
    top = model.top_share(int(entry["n"]))
    band_low, band_high = lo + (1 - top) * (hi - lo), lo + top * (hi - lo)
    if entry.get("band") == "top":
        return max(entry["bound"] / unit, band_high), hi, None
    if entry.get("band") == "bottom":
        return lo, min(entry["bound"] / unit, band_low), None
    half = (0.5 if pct else 0.005) / unit
    value = entry["value"] / unit
    return value - half, value + half, (band_low, band_high)


def _total_bounds(interval, n, whole):
    """Bounds on a group's total from its value interval; whole totals are rounded
    inwards and kept strictly inside the band limits."""
    low, high, limits = interval
    low, high = low * n, high * n
    if not whole:
        if limits:
            low, high = max(low, limits[0] * n), min(high, limits[1] * n)
        return low, high
    low, high = math.ceil(low - EPS), math.floor(high + EPS)
    if limits:
        low = max(low, math.floor(limits[0] * n + EPS) + 1)
        high = min(high, math.ceil(limits[1] * n - EPS) - 1)
    return float(low), float(high)


# ------------------------------------------------------------------- driver


def _audit_model(model):
    counts = _Counts(model)
    families = [_Family(model, counts, fam) for fam in model.families]
    witnesses = _consistent_witnesses(model, counts, families)
    findings = _count_findings(model, counts, witnesses)
    if counts.hidden and not witnesses.found:
        return findings
    for fam in families:
        findings += _value_findings(fam, witnesses)
    return findings


def _consistent_witnesses(model, counts, families):
    """Witness sizes that every family can also meet. Usually the sizes alone
    suffice; a family that rejects one joins the sizes in one program, until none do."""
    joint = []
    while True:
        witnesses = _Witnesses(counts, model.k, _finder(counts, joint))
        rejected = [f for f in families if f not in joint and not _accepts(f, witnesses.found)]
        if not rejected:
            return witnesses
        joint += rejected


def _accepts(fam, found):
    return all(x is not None for x in _batch(fam.prog, [fam.task(w) for w in found]))


def _finder(counts, joint):
    if not joint:
        return lambda i, size: counts.witness({i: size})
    prog, size_cols = _joint_program(counts, joint), len(counts.hidden)

    def find(i, size):
        lb, ub = prog.lb.copy(), prog.ub.copy()
        lb[i] = ub[i] = size
        x = _solve(prog, lb=lb, ub=ub)
        return None if x is None else np.round(x[:size_cols])

    return find


def _joint_program(counts, fams):
    """The sizes and several families in one program (their size columns shared)."""
    h = len(counts.hidden)
    widths = [f.prog.A.shape[1] - h for f in fams]
    total = h + sum(widths)
    blocks, start = [sparse.hstack([counts.prog.A, sparse.csr_matrix(
        (counts.prog.A.shape[0], total - h))])], h
    for f, w in zip(fams, widths, strict=True):
        A = f.prog.A.tocsc()
        blocks.append(sparse.hstack([A[:, :h], sparse.csr_matrix((A.shape[0], start - h)),
                                     A[:, h:], sparse.csr_matrix((A.shape[0], total - start - w))]))
        start += w
    cat = np.concatenate
    return _Program(sparse.vstack(blocks, format="csr"),
                    cat([counts.prog.rlo] + [f.prog.rlo for f in fams]),
                    cat([counts.prog.rhi] + [f.prog.rhi for f in fams]),
                    cat([counts.prog.lb] + [f.prog.lb[h:] for f in fams]),
                    cat([counts.prog.ub] + [f.prog.ub[h:] for f in fams]),
                    cat([counts.prog.integ] + [f.prog.integ[h:] for f in fams]))


# ------------------------------------------------------------------- (b) values


def _value_findings(fam, witnesses):
    cells = _small_cells(fam)
    if not cells:
        return []
    sizes = {c: _sizes_for(fam, witnesses, c) for c in cells}
    answers = _answer_ranges(fam, cells, sizes)
    ranges = {c: {} for c in cells}
    _merge(ranges, _lone_ranges(fam, [c for c in cells if answers[c][0] <= 1 <= answers[c][1]],
                                sizes))
    extra = [(c, n) for c in cells if not _all_wide(fam, ranges[c])
             for n in sorted({max(answers[c][0], 1), answers[c][1]} - {1})
             if answers[c][1] >= 1]
    _merge(ranges, _fixed_ranges(fam, extra, sizes))
    out = []
    for c in cells:
        if answers[c][1] < 1:
            out.append(Finding(c, fam.keys[0], "value",
                               f"nobody in it can have answered {fam.fam}: that is revealed"))
            continue
        out += [_value_finding(fam, c, key, ranges[c].get(key)) for key in fam.keys
                if not _wide(fam, key, ranges[c].get(key))]
    return out


def _small_cells(fam):
    """Hidden cells that could hold fewer than k answers (a cell the publication proves
    to hold k or more is not a small cell: its value was publishable)."""
    cells = fam.hidden_cells
    prog = _joint_program(fam.counts, [fam])
    tasks = []
    for c in cells:
        cost = np.zeros(prog.A.shape[1])
        cost[fam.cols[c][0]] = 1.0
        tasks.append((cost, prog.lb, prog.ub))
    xs = _batch(prog, tasks)
    return [c for c, x in zip(cells, xs, strict=True)
            if x is None or x[fam.cols[c][0]] < fam.model.k - 0.5]


def _sizes_for(fam, witnesses, cell):
    index = fam.counts.index.get(cell)
    if index is not None:
        return witnesses.smallest(index)
    return witnesses.found[0] if witnesses.found else np.zeros(0)


def _answer_ranges(fam, cells, sizes):
    """Smallest and largest answer count of each hidden cell (at its witness sizes)."""
    tasks = []
    for c in cells:
        col = fam.cols[c][0]
        tasks += [fam.task(sizes[c], {col: 1.0}), fam.task(sizes[c], {col: -1.0})]
    xs = _batch(fam.prog, tasks)
    out = {}
    for i, c in enumerate(cells):
        low, high = xs[2 * i], xs[2 * i + 1]
        col = fam.cols[c][0]
        out[c] = (1, 0) if low is None or high is None else (
            round(low[col]), round(high[col]))
    return out


def _lone_ranges(fam, cells, sizes):
    """Values of each measure for a cell answered by a single respondent."""
    if fam.scale:
        return _lone_answers(fam, cells, sizes)
    return _fixed_ranges(fam, [(c, 1) for c in cells], sizes)


def _lone_answers(fam, cells, sizes):
    tasks = []
    for c in cells:
        n_col, vals = fam.cols[c]
        tasks += [fam.task(sizes[c], {v: -1.0}, ub={n_col: 1.0}) for v in vals]
    xs = _batch(fam.prog, tasks)
    width, out = len(fam.scale), {}
    for i, c in enumerate(cells):
        vals = fam.cols[c][1]
        possible = [j for j, v in enumerate(vals)
                    if xs[i * width + j] is not None and xs[i * width + j][v] > 0.5]
        if possible:
            out[c] = {key: _spread([fam.model.specs[key]["weights"][j] for j in possible])
                      for key in fam.keys}
    return out


def _fixed_ranges(fam, cell_counts, sizes):
    """Range of each measure's mean for cells held at a given answer count."""
    tasks = []
    for c, n in cell_counts:
        fixed = {fam.cols[c][0]: float(n)}
        for key in fam.keys:
            expr = fam.expr(c, key)
            tasks.append(fam.task(sizes[c], expr, lb=fixed, ub=fixed))
            tasks.append(fam.task(sizes[c], {k: -v for k, v in expr.items()}, lb=fixed, ub=fixed))
    xs, out, i = _batch(fam.prog, tasks), {}, 0
    for c, n in cell_counts:
        for key in fam.keys:
            low, high = xs[i], xs[i + 1]
            i += 2
            if low is not None and high is not None:
                expr = fam.expr(c, key)
                values = [sum(x[k] * v for k, v in expr.items()) / n for x in (low, high)]
                out.setdefault(c, {})[key] = _spread(values)
    return out


def _spread(values):
    return (float(min(values)), float(max(values)))


def _merge(ranges, more):
    for cell, by_key in more.items():
        for key, (low, high) in by_key.items():
            old = ranges[cell].get(key)
            ranges[cell][key] = (low, high) if old is None else (
                min(old[0], low), max(old[1], high))


def _step(spec):
    width = spec["hi"] - spec["lo"]
    return min(PERCENT_STEP if spec["kind"] == "percent" else MEAN_STEP, width)


def _wide(fam, key, rng):
    return rng is not None and rng[1] - rng[0] >= _step(fam.model.specs[key]) - EPS


def _all_wide(fam, ranges):
    return all(_wide(fam, key, ranges.get(key)) for key in fam.keys)


def _value_finding(fam, cell, key, rng):
    spec = fam.model.specs[key]
    pct = spec["kind"] == "percent"
    show = (lambda v: f"{100 * v:.0f}%") if pct else (lambda v: f"{v:.2f}")
    step = show(_step(spec)) if pct else f"{_step(spec):g} scale point"
    if rng is None:
        return Finding(cell, key, "value", "no consistent value could be shown for it")
    where = _relations_text(fam.model, cell)
    return Finding(cell, key, "value",
                   f"can be narrowed to {show(rng[0])}..{show(rng[1])}, less than {step} wide"
                   f" (by {where})", rng)
