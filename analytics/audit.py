"""The disclosure audit (DESIGN "Privacy: part of correctness", rule 3): integer
linear programs over everything published prove that nobody learns more about a
suppressed cell than the dashboard says of it. Pure NumPy/SciPy; its input is what
`disclosure.publish` released, never the true values.

Attacker model. The attacker knows every published number of every publication
passed in; each measure's scale and how an item's mean, % favorable and option
shares follow from its answers; the banding schedule; that each relation holds
(parent = disjoint union of children); that counts are whole numbers and that every
listed group has a respondent. A shown value stands for the interval it rounds from
(2 decimals, whole percent, or its band) and, when unbanded, for "not in a band".
Every hidden cell carries the same marker, so its size is any whole number >= 1 the
relations allow.

Conditions, for every small hidden cell (fewer than k respondents or answers):
(a) count: every size from the least its listed parts imply (usually 1) to k-1 stays
    possible. Exact: whole-number sizes that fit every measure are found for each.
(b) value: over the answer counts it could have, the values of each measure stay
    spread: a mean over at least one scale point (at most the scale's width), a
    proportion over at least 20 percentage points (the widest band a shown group
    gets), so never pinned to 0 or 1. Looked at where the cell's answers are fewest
    (usually one respondent, whose possible answers must differ) and most.
(b') every other hidden cell (hidden only to protect one) may be narrowed but must not
    be proven unanimous: an option share pinned to 100%, or a mean to an end of its
    scale, which a shown value's band would have hidden (rule 4).
Every range reported wide is witnessed by whole-number solutions of everything
published; the other hidden sizes are held at one consistent choice meanwhile,
which can only narrow ranges: errors fall on the side of a finding. Not modelled:
links between different measures other than an item's own mean, % favorable and
options (a component score as the mean of its items), and the whole-number grain of
decimal answers (component scores are treated as continuous).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

EPS = 1e-7
MEAN_STEP = 1.0  # (b): a hidden mean spans at least one scale point
PERCENT_STEP = 0.2  # (b): a hidden proportion spans at least 20 percentage points
DEFAULT_BANDING = ((300, 0.99), (100, 0.98), (40, 0.95), (20, 0.90), (0, 0.80))


@dataclass(frozen=True)
class Finding:
    """One way a hidden cell leaks: `condition` is "count" (a) or "value" (b);
    `feasible` is the range the attacker can narrow it to."""

    group: str
    measure: str | None
    condition: str
    detail: str
    feasible: tuple[float, float] | None = None

    def __str__(self):
        what = f"{self.group} / {self.measure}" if self.measure else self.group
        return f"{self.condition} of {what}: {self.detail}"


def audit(published, relations, k=None, *, also=(), same=(), values=True, small=None):
    """Findings about everything published together (an empty list: safe to publish).

    `published` and `relations` are unit 0; `also` holds more (publication, relations)
    pairs about the same wave (other units, earlier publications; a unit may list its
    own small cells under "small", checked then as `small` checks unit 0's); `same` pairs
    ((unit, group key), (unit, group key)) that are the same respondents. Units that
    share none are audited apart (exact). Groups of unit i > 0 are named
    "<its 'unit' label or unit{i}>/<key>". `small` names the cells to protect: group
    keys and (group, measure) pairs of unit 0 with fewer than k respondents or answers
    (`Decision.small`); without it, and for the other units, every hidden cell that
    could be small is checked: safe, but stricter and slower. `values=False` checks (a)
    on the sizes alone.
    """
    units = [(published, relations)] + [tuple(u) for u in also]
    findings = []
    for members in _linked_units(len(units), same):
        model = _Model([units[i] for i in members], members, same, k, small)
        findings += _audit_model(model, values)
    return findings


def _linked_units(count, same):
    parent = list(range(count))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for (ua, _), (ub, _) in same:
        parent[root(ua)] = root(ub)
    groups = defaultdict(list)
    for i in range(count):
        groups[root(i)].append(i)
    return sorted(groups.values())


# ------------------------------------------------------------------------ model


@dataclass
class _Node:
    name: str
    n: int | None
    entries: dict  # measure key -> shown entries
    families: set


class _Model:
    """Groups (merged across units), relations, measure specs and families."""

    def __init__(self, units, indices, same, k, small):
        self.k = int(k if k is not None else max(p.get("k", 10) for p, _ in units))
        self.small = None if small is None else {
            tuple(x) if isinstance(x, tuple | list) else x for x in small}
        self.banding = tuple(tuple(b) for b in units[0][0].get("banding", DEFAULT_BANDING))
        name = _aliases(units, indices, same)
        self.nodes, self.relations, self.specs = {}, [], {}
        for (pub, rels), i in zip(units, indices, strict=True):
            self._add_unit(pub, rels, lambda key, i=i: name(i, key))
        self.own = {name(0, key) for key in units[0][0]["groups"]} if indices[0] == 0 else set()
        for (pub, _), i in zip(units, indices, strict=True):
            if i and self.small is not None and pub.get("small") is not None:
                self._own_small(pub, lambda key, i=i: name(i, key))
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
                if node.n not in (None, entry["n"]):
                    raise ValueError(f"{node.name} is published with two sizes")
                node.n = int(entry["n"])
                for m, value in entry.get("measures", {}).items():
                    if not value.get("suppressed"):
                        node.entries.setdefault(m, []).append(value)
        for parent, kids in rels:
            names = [name_of(parent)] + [name_of(c) for c in kids]
            if any(n not in self.nodes for n in names):
                raise ValueError(f"relation {parent} names a group that is not published")
            self.relations.append((names[0], names[1:]))

    def _own_small(self, pub, name_of):
        """Another unit that lists its own small cells (`"small"`, as `Decision.small`,
        never published) is checked on those, as unit 0 is on `small`."""
        self.own |= {name_of(key) for key in pub["groups"]}
        self.small |= {(name_of(x[0]), x[1]) if isinstance(x, tuple | list) else name_of(x)
                       for x in pub["small"]}

    def top_share(self, n):
        return next(share for least, share in self.banding if n >= least)

    def checked(self, name, keys=()):
        """Whether a hidden cell is checked: named in `small`, or `small` not given, or
        it belongs to another unit (whose small cells `small` does not name)."""
        return (self.small is None or name not in self.own or name in self.small
                or any((name, key) in self.small for key in keys))

    def sure(self, name):
        """Whether a checked cell is known to be small (else "proven large" exempts it)."""
        return self.small is not None and name in self.own


def _aliases(units, indices, same):
    labels = {i: "" if i == 0 else f"{pub.get('unit') or f'unit{i}'}/"
              for i, (pub, _) in zip(indices, units, strict=True)}
    merged = {}
    for a, b in same:
        if a[0] in labels and b[0] in labels:
            first, second = sorted([tuple(a), tuple(b)])
            merged[second] = merged.get(first, first)

    def name(i, key):
        unit, key = merged.get((i, key), (i, key))
        return labels[unit] + key

    return name


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


def _solve(prog, cost=None, lb=None, ub=None):
    """Optimal x by `milp`, or None if infeasible (or unsolved in time: then the
    caller reports a finding, never a pass)."""
    cost = np.zeros(prog.A.shape[1]) if cost is None else cost
    lb, ub = prog.lb if lb is None else lb, prog.ub if ub is None else ub
    if np.any(lb > ub + EPS):
        return None
    if not len(cost):  # every column fixed: feasible iff the rows hold at zero
        ok = np.all(prog.rlo <= EPS) and np.all(prog.rhi >= -EPS)
        return np.zeros(0) if ok else None
    cons = [LinearConstraint(prog.A, prog.rlo, prog.rhi)] if prog.A.shape[0] else []
    res = milp(cost, constraints=cons, integrality=prog.integ, bounds=Bounds(lb, ub),
               options={"time_limit": 20.0})
    return res.x if res.status == 0 else None


class _Solver:
    """Solves one program again and again under new bounds and costs: its relaxation
    first, warm started from the last basis, taken when whole where it must be (or
    when its rounding satisfies everything and meets the relaxation's bound, or
    `enough` says it proves what is asked); else `milp`. Exact either way. The warm
    start uses SciPy's bundled HiGHS object, a private interface; without it every
    solve goes to `milp`, slower but the same answers."""

    def __init__(self, prog):
        self.prog, self.whole, self.highs = prog, prog.integ > 0, _warm_highs(prog)

    def solve(self, cost, lb, ub, enough=None):
        if np.any(lb > ub + EPS):
            return None
        status, x = _relaxed(self.highs, cost, lb, ub) if self.highs else ("other", None)
        if status == "infeasible":
            return None
        if status == "optimal":
            r = x.copy()
            r[self.whole] = np.round(r[self.whole])
            if self._holds(r, lb, ub) and (cost @ r <= cost @ x + 1e-7
                                           or (enough is not None and enough(r))):
                return r
        return _solve(self.prog, cost, lb, ub)

    def _holds(self, x, lb, ub):
        act = self.prog.A @ x
        return bool(np.all(x >= lb - EPS) and np.all(x <= ub + EPS)
                    and np.all(act >= self.prog.rlo - EPS) and np.all(act <= self.prog.rhi + EPS))


def _warm_highs(prog):
    try:
        from scipy.optimize._highspy import _core
        h = _core._Highs()
        h.setOptionValue("output_flag", False)
        inf, A, lp = h.getInfinity(), prog.A.tocsc(), _core.HighsLp()
        lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
        lp.col_cost_ = np.zeros(A.shape[1])
        lp.col_lower_, lp.col_upper_ = np.clip(prog.lb, -inf, inf), np.clip(prog.ub, -inf, inf)
        lp.row_lower_, lp.row_upper_ = np.clip(prog.rlo, -inf, inf), np.clip(prog.rhi, -inf, inf)
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (
            A.indptr, A.indices, A.data)
        return (h, _core, inf) if h.passModel(lp) == _core.HighsStatus.kOk else None
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


# ------------------------------------------------------------------------ (a) sizes


class _Counts:
    """The hidden groups' sizes: whole numbers >= 1 tied by the relations."""

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
        h = len(self.hidden)
        self.prog = rows.program([1.0] * h, [np.inf] * h, [1] * h)
        self.floor = self._floor(model)

    def _floor(self, model):
        """Each hidden group's least size knowing only the relations and that listed
        groups have respondents: what the list of groups says anyway."""
        names = sorted(model.nodes)
        at, rows = {name: i for i, name in enumerate(names)}, _Rows()
        for parent, kids in model.relations:
            coeffs = defaultdict(float, {at[parent]: 1.0})
            for c in kids:
                coeffs[at[c]] -= 1.0
            rows.add(coeffs, 0.0, 0.0)
        prog = rows.program([1.0] * len(names), [np.inf] * len(names), [1] * len(names))
        solver, out = _Solver(prog), []
        for name in self.hidden:
            cost = np.zeros(len(names))
            cost[at[name]] = 1.0
            out.append(round(solver.solve(cost, prog.lb, prog.ub)[at[name]]))
        return out


class _Witnesses:
    """Whole-number sizes for the hidden groups, enough that each size a small group
    may have (floor..k-1) is met by one of them, or is shown impossible."""

    def __init__(self, counts, k, cover, anchor):
        self.counts, self.anchor, self.found, self.missing = counts, anchor, [], defaultdict(list)
        need = {(i, size) for i in cover for size in range(counts.floor[i], k)}
        self.needed = set(need)
        for size in range(1, k) if cover else ():
            self._try(counts.prog, {i: max(size, counts.floor[i]) for i in cover}, need)
        self.cover(counts.prog, need)
        if not self.found and counts.hidden:  # the value checks need one witness at least
            x = _near(counts.prog, len(counts.hidden), {}, anchor)
            self.found += [] if x is None else [x]

    def cover(self, prog, need):
        """Meets the needed (group, size) pairs with `prog` (its first columns the
        sizes): each program aims every group at a size it still needs (the others
        near `anchor`, sizes every family meets); a size its own program cannot reach
        is impossible. Returns the witnesses added."""
        start = len(self.found)
        while need:
            aims = {}
            for i, size in sorted(need):
                aims.setdefault(i, size)
            if self._try(prog, aims, need):
                continue
            for i, size in aims.items():
                if not self._try(prog, {i: size}, need):
                    need.discard((i, size))
                    self.missing[i].append(size)
        return self.found[start:]

    def _try(self, prog, aims, need):
        x = _near(prog, len(self.counts.hidden), aims, self.anchor)
        got = set() if x is None else {(i, int(x[i])) for i in aims} & need
        if got:
            self.found.append(x)
            need -= got
        return bool(got)

    def drop(self, bad, cover):
        """Removes witnesses some family rejects; returns the pairs only they met."""
        keep = [w for j, w in enumerate(self.found) if j not in bad]
        met = {(i, int(w[i])) for w in keep for i in cover}
        lost = {(i, int(self.found[j][i])) for j in bad for i in cover} - met
        self.found = keep
        return lost & self.needed


def _near(prog, h, aims, anchor):
    """Whole sizes (the first h columns) nearest, in sum of distances, to `aims`
    ({column: size}); the others near `anchor` only as a tie-break."""
    rows, cols = prog.A.shape
    goal = dict(aims) if anchor is None else {
        **{i: anchor[i] for i in range(h)}, **aims}
    m, at = len(goal), list(goal)
    pick = sparse.csr_matrix((np.ones(m), (range(m), at)), shape=(m, cols))
    eye = sparse.identity(m, format="csr")
    A = sparse.vstack([sparse.hstack([prog.A, sparse.csr_matrix((rows, m))]),
                       sparse.hstack([pick, -eye]), sparse.hstack([-pick, -eye])], format="csr")
    t = np.array([goal[c] for c in at], float)
    finite = np.abs(np.concatenate([prog.rlo, prog.rhi]))
    big = 2 * float(finite[np.isfinite(finite)].max(initial=0)) + 100
    weight = np.array([1.0 if c in aims else 1.0 / (1.0 + m * big) for c in at])
    ext = _Program(A, np.concatenate([prog.rlo, np.full(2 * m, -np.inf)]),
                   np.concatenate([prog.rhi, t, -t]), np.concatenate([prog.lb, np.zeros(m)]),
                   np.concatenate([prog.ub, np.full(m, np.inf)]),
                   np.concatenate([prog.integ, np.zeros(m)]))
    x = _solve(ext, np.concatenate([np.zeros(cols), weight]))
    return None if x is None else np.round(x[:h])


def _witnesses(model, counts, families, verify):
    """Witness sizes every family also meets. The sizes alone usually suffice; the
    witnesses a family rejects are replaced by ones found together with the rejecting
    families, and only new witnesses are checked again, until none is rejected."""
    cover = [i for name, i in counts.index.items() if model.checked(name)]
    anchor = None
    if verify and counts.hidden and families:  # an aim only: the relaxation will do
        prog = _joint(counts, families)
        x = _solve(_Program(prog.A, prog.rlo, prog.rhi, prog.lb, prog.ub, 0 * prog.integ))
        anchor = None if x is None else np.round(x[:len(counts.hidden)])
    found = _Witnesses(counts, model.k, cover, anchor)
    fresh, joint = list(found.found), []
    while verify and fresh:
        bad, rejecting = set(), []
        for f in families:
            xs = f.run([f.task(w) for w in fresh])
            bad |= {id(w) for w, x in zip(fresh, xs, strict=True) if x is None}
            rejecting += [f] if any(x is None for x in xs) and f not in joint else []
        if not bad:
            break
        joint += rejecting
        lost = found.drop({j for j, w in enumerate(found.found) if id(w) in bad}, cover)
        fresh = found.cover(_joint(counts, joint), lost)
    return found


def _count_findings(model, counts, witnesses):
    out = []
    for name, i in counts.index.items():
        missing = witnesses.missing.get(i, [])
        if not missing or len(missing) == model.k - counts.floor[i]:
            continue  # nothing ruled out, or proven to hold k or more: not a small cell
        sizes = sorted({int(w[i]) for w in witnesses.found} - set(missing))
        out.append(Finding(name, None, "count", f"sizes {_ranges(missing)} are ruled out, so "
                           f"'fewer than {model.k}' is narrowed (by {_where(model, name)})",
                           (sizes[0], sizes[-1]) if sizes else None))
    return out


def _where(model, name):
    rels = [f"{p}=({len(kids)} groups)" for p, kids in model.relations if name in (p, *kids)]
    return ", ".join(rels[:3]) or "no relation"


def _ranges(values):
    parts, start = [], None
    for v, nxt in zip(values, values[1:] + [None], strict=True):
        start = v if start is None else start
        if nxt != v + 1:
            parts.append(f"{start}" if start == v else f"{start}-{v}")
            start = None
    return ", ".join(parts)


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
                low, high = _total_bounds(_interval(self.model, spec, entry), entry["n"], whole)
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

    def run(self, tasks, enough=None):
        """Solves tasks; each answer is None or every column's value. `enough(x)` may
        accept a whole solution that is not optimal but proves what is asked."""
        self.solver = self.solver or _Solver(self.prog)
        check = None if enough is None else (lambda x: enough(self.expand(x)))
        return [None if x is None else self.expand(x)
                for x in (self.solver.solve(*t, enough=check) for t in tasks)]

    def expand(self, x):
        full = self.fixed.copy()
        full[self.keep] = x
        return full


def _interval(model, spec, entry):
    """The per-respondent value interval a shown entry stands for, with the band
    limits an unbanded value lies strictly inside (else None). An entry carrying its
    exact `total` (never published: analytics.snapshot passes one to ask whether a
    publication stays safe when a group's totals become known exactly) stands for it."""
    if "total" in entry:
        value = entry["total"] / entry["n"]
        return value, value, None
    unit, lo, hi = (100.0 if spec["kind"] == "percent" else 1.0), spec["lo"], spec["hi"]
    top = model.top_share(int(entry["n"]))
    band_low, band_high = lo + (1 - top) * (hi - lo), lo + top * (hi - lo)
    if entry.get("band") == "top":
        return max(entry["bound"] / unit, band_high), hi, None
    if entry.get("band") == "bottom":
        return lo, min(entry["bound"] / unit, band_low), None
    half = (0.5 if unit == 100.0 else 0.005) / unit
    return entry["value"] / unit - half, entry["value"] / unit + half, (band_low, band_high)


def _total_bounds(interval, n, whole):
    """Bounds on a total from its value interval; whole totals are rounded inwards and
    kept strictly inside the band limits."""
    low, high, limits = interval
    low, high = low * n, high * n
    if not whole:
        return (max(low, limits[0] * n), min(high, limits[1] * n)) if limits else (low, high)
    low, high = math.ceil(low - EPS), math.floor(high + EPS)
    if limits:
        low = max(low, math.floor(limits[0] * n + EPS) + 1)
        high = min(high, math.ceil(limits[1] * n - EPS) - 1)
    return float(low), float(high)


# ------------------------------------------------------------------------ (b) values


def _audit_model(model, values):
    counts = _Counts(model)
    families = [_Family(model, counts, fam) for fam in model.families]
    witnesses = _witnesses(model, counts, families, values)
    findings = _count_findings(model, counts, witnesses)
    if values and (witnesses.found or not counts.hidden):
        for fam in families:
            findings += _value_findings(fam, witnesses)
    if values:
        for fam in families:
            findings += _band_findings(fam, counts)
    return findings


def _value_findings(fam, witnesses):
    """(b) for small cells; every other hidden cell must not be proven unanimous."""
    strict = [c for c in fam.hidden_cells if fam.model.checked(c, fam.keys)]
    ranges = {c: {} for c in strict}
    rest = _lone_cells(fam, strict, witnesses, ranges)
    rest += [c for c in strict if c not in rest and not ranges[c]]
    answers = _cell_by_cell(fam, rest, witnesses, ranges)
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
    return out + _unanimous(fam, [c for c in fam.hidden_cells
                                  if c not in passed and c not in small], witnesses)


def _unanimous(fam, cells, witnesses):
    """(b') A hidden cell that is not small may be narrowed, but must not be proven
    unanimous: everyone giving one answer (an option share pinned to 100%, a mean to
    an end of its scale), which a shown value's band would have hidden (rule 4). One
    sample solution clears most cells; the rest ask whether another answer fits."""
    if not cells:
        return []
    sizes = witnesses.found[0] if witnesses.found else np.zeros(0)
    sample, out = fam.run([fam.task(sizes)])[0], []
    for c in cells:
        n_col, vals = fam.cols[c]
        if sample is None or sample[n_col] < 1:
            continue  # a cell that may hold no answer shows no unanimous answer
        if fam.scale:
            j = int(np.argmax(sample[vals]))
            if sum(sample[v] > 0.5 for v in vals) > 1 or _other_fits(fam, c, sizes, j):
                continue
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


def _other_fits(fam, cell, sizes, answer):
    """Whether some solution (with answers in the cell) has one differing from `answer`
    (an option index, or for a continuous measure the end value found)."""
    n_col, vals = fam.cols[cell]
    if fam.scale:
        cost = {v: -1.0 for j, v in enumerate(vals) if j != answer}
        x = fam.run([fam.task(sizes, cost, {n_col: 1.0})])[0]
        return x is not None and sum(x[v] for j, v in enumerate(vals) if j != answer) > 0.5
    sign = 1.0 if answer > fam.model.specs[fam.keys[0]]["lo"] + EPS else -1.0
    x = fam.run([fam.task(sizes, {vals[0]: sign, n_col: -sign * answer}, {n_col: 1.0})])[0]
    return x is not None and abs(x[vals[0]] - answer * x[n_col]) > EPS * max(1.0, x[n_col])


def _lone_cells(fam, cells, witnesses, ranges):
    """Cells of groups of size 1 in some witness, checked together per witness (those
    with most such groups first); returns the cells left for `_cell_by_cell`."""
    index, rest = fam.counts.index, list(cells)
    for w in sorted(witnesses.found, key=lambda w: -int(np.sum(w == 1))):
        here = [c for c in rest if c in index and w[index[c]] == 1]
        if here:
            _merge(ranges, _lone(fam, here, w))
            rest = [c for c in rest if c not in here]
    return rest


def _lone(fam, cells, sizes, cap=False):
    """What a cell answered by one respondent can show. Items: per answer, one program
    asks every cell still unproven to hold it at once; cells that get it are proven and
    the rest asked again, until a program proves none (then none can hold it)."""
    if not fam.scale:
        return _lone_generic(fam, cells, sizes)
    ub = {fam.cols[c][0]: 1.0 for c in cells} if cap else None
    proven = {c: set() for c in cells}
    for j in range(len(fam.scale)):
        todo = [c for c in cells if j not in proven[c]]
        while todo:
            task = fam.task(sizes, {fam.cols[c][1][j]: -1.0 for c in todo}, ub=ub)
            x = fam.run([task], lambda x, todo=todo, j=j: _holds_answer(fam, todo, j, x))[0]
            if x is None:
                break
            for c in cells:
                n_col, vals = fam.cols[c]
                if round(x[n_col]) == 1:
                    proven[c].add(int(np.argmax([x[v] for v in vals])))
            if all(j not in proven[c] for c in todo):
                break
            todo = [c for c in todo if j not in proven[c]]
    return {c: {key: _spread([fam.model.specs[key]["weights"][j] for j in got])
                for key in fam.keys} for c, got in proven.items() if got}


def _holds_answer(fam, cells, j, x):
    return any(round(x[fam.cols[c][0]]) == 1 and x[fam.cols[c][1][j]] > 0.5 for c in cells)


def _lone_generic(fam, cells, sizes):
    """For a continuous measure: one answer per cell, the least and the greatest sum
    (each solution witnesses a value for every cell in it)."""
    one = {fam.cols[c][0]: 1.0 for c in cells}
    total = {fam.cols[c][1][0]: 1.0 for c in cells}
    xs = fam.run([fam.task(sizes, {k: s * v for k, v in total.items()}, one, one)
                  for s in (1.0, -1.0)])
    if any(x is None for x in xs):
        return {}
    return {c: {fam.keys[0]: _spread([x[fam.cols[c][1][0]] for x in xs])} for c in cells}


def _cell_by_cell(fam, cells, witnesses, ranges):
    """The remaining cells, each at its own witness: its answer-count range, then one
    respondent's answers, then the fewest and most answers it can have."""
    sizes = {c: _sizes_for(fam, witnesses, c) for c in cells}
    answers = _answer_ranges(fam, cells, sizes)
    for c in cells:
        if answers[c][0] <= 1 <= answers[c][1]:
            _merge(ranges, _lone(fam, [c], sizes[c], cap=True))
    extra = [(c, n) for c in cells if answers[c][1] >= 1 and not _all_wide(fam, ranges[c])
             for n in sorted({max(answers[c][0], 1), answers[c][1]} - {1})]
    _merge(ranges, _fixed_ranges(fam, extra, sizes))
    return answers


def _sizes_for(fam, witnesses, cell):
    i = fam.counts.index.get(cell)
    if i is not None:
        return min(witnesses.found, key=lambda w: w[i])
    return witnesses.found[0] if witnesses.found else np.zeros(0)


def _answer_ranges(fam, cells, sizes):
    tasks = [fam.task(sizes[c], {fam.cols[c][0]: s}) for c in cells for s in (1.0, -1.0)]
    xs, out = fam.run(tasks), {}
    for i, c in enumerate(cells):
        low, high, col = xs[2 * i], xs[2 * i + 1], fam.cols[c][0]
        out[c] = (1, 0) if low is None or high is None else (round(low[col]), round(high[col]))
    return out


def _fixed_ranges(fam, cell_counts, sizes):
    """Each measure's range for cells held at a given answer count."""
    tasks = []
    for c, n in cell_counts:
        at = {fam.cols[c][0]: float(n)}
        for key in fam.keys:
            expr = fam.expr(c, key)
            tasks += [fam.task(sizes[c], {k: s * v for k, v in expr.items()}, at, at)
                      for s in (1.0, -1.0)]
    xs, out, i = fam.run(tasks), defaultdict(dict), 0
    for c, n in cell_counts:
        for key in fam.keys:
            if xs[i] is not None and xs[i + 1] is not None:
                expr = fam.expr(c, key)
                out[c][key] = _spread([sum(x[k] * v for k, v in expr.items()) / n
                                       for x in xs[i:i + 2]])
            i += 2
    return out


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


# ------------------------------------------------------------------------ (c) bands


def _band_findings(fam, counts):
    """(c) A shown value published as a band ("10% or less", "3.70 or more") must stay
    a band: what is published must leave possible both the band's end (nobody, or
    everyone, at that answer: 0% / 100%, or the end of the scale) and a value one
    respondent away from it (one answer at that option, or one fewer than all; a mean
    one scale point of one respondent off the end). Otherwise the other shares (which
    add up to the answer count), the mean or the relations pin it, and the band hides
    nothing (rule 4: a unanimous group never shows 100% or 0%). Exact: the least and
    the greatest total the band's measure can have, over everything published."""
    entries = {}
    for name in fam.nodes:
        for key in fam.keys:
            for entry in fam.model.nodes[name].entries.get(key, []):
                if entry.get("band") in ("top", "bottom") and "total" not in entry:
                    entries.setdefault((name, key), entry)
    if not entries:
        return []
    prog = _joint(counts, [fam])
    solver, out = _Solver(prog), []
    for (name, key), entry in sorted(entries.items()):
        spec, n = fam.model.specs[key], float(entry["n"])
        rng = _expr_range(fam, solver, prog, fam.expr(name, key))
        if entry["band"] == "bottom":
            end, step = spec["lo"] * n, min(1.0, spec["hi"] - spec["lo"])
        else:
            end, step = spec["hi"] * n, -min(1.0, spec["hi"] - spec["lo"])
        if rng is not None and _band_open(rng, end, step):
            continue
        out.append(_band_finding(fam, name, key, entry, rng))
    return out


def _expr_range(fam, solver, prog, expr):
    """The least and greatest value of a measure's total ({column: coefficient} over
    the family's full columns) over the program with the hidden sizes free."""
    cost, const = np.zeros(prog.A.shape[1]), 0.0
    for col, coef in expr.items():
        if fam.where[col] >= 0:
            cost[fam.where[col]] += coef
        else:
            const += coef * fam.fixed[col]
    if not cost.any():
        return const, const
    xs = [solver.solve(sign * cost, prog.lb, prog.ub) for sign in (1.0, -1.0)]
    if any(x is None for x in xs):
        return None
    return const + float(cost @ xs[0]), const + float(cost @ xs[1])


def _band_open(rng, end, step):
    """Whether [low, high] reaches both the band's end and one respondent off it."""
    low, high = rng
    tol = 1e-6 * max(1.0, abs(end))
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
