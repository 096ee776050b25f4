"""Condition (a) of the disclosure audit (see `analytics.audit`): the hidden groups'
sizes, whole-number witnesses of them, and the sizes ruled out."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy import sparse

from .audit_lp import _joint, _Program, _Rows, _solve, _Solver
from .audit_memo import built
from .audit_model import EPS, Finding, _ranges, _where

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
        self.by_families = set()  # (group, size) ruled out only with families' programs
        need = {(i, size) for i in cover for size in range(counts.floor[i], k)}
        self.needed = set(need)
        for size in range(1, k) if cover else ():
            self._try(counts.prog, {i: max(size, counts.floor[i]) for i in cover}, need)
        self.cover(counts.prog, need)
        if not self.found and counts.hidden:  # the value checks need one witness at least
            x = _near(counts.prog, len(counts.hidden), {}, anchor)
            self.found += [] if x is None else [x]

    def cover(self, prog, need, by_families=False):
        """Meets the needed (group, size) pairs with `prog` (its first columns the
        sizes): each program aims every group at a size it still needs (the others
        near `anchor`: `_anchor`); a size its own program cannot reach
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
                    if by_families:
                        self.by_families.add((i, size))
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


def _witnesses(model, counts, families, verify, memo=None, keys=None, sizes=None):
    """Witness sizes every family also meets. The sizes alone usually suffice; the
    witnesses a family rejects are replaced by ones found together with the rejecting
    families, and only new witnesses are checked again, until none is rejected. With
    a memo (repair rounds), whether a family with the same program accepts a witness
    is taken from earlier audits (it is exact either way), and the last round's
    witnesses are kept when they still serve (`_kept`)."""
    cover = [i for name, i in counts.index.items() if model.checked(name)]
    if not verify or not counts.hidden:
        return _Witnesses(counts, model.k, cover, None)
    kept = _kept(counts, families, memo, keys, (sizes, tuple(cover)))
    if kept is not None:
        return kept
    found = _Witnesses(counts, model.k, cover, _anchor(counts))
    fresh, joint = list(found.found), []
    while fresh:
        bad, rejecting = set(), []
        for f in families:
            ok = _accepts(f, fresh, memo, (keys or {}).get(f))
            bad |= {id(w) for w, good in zip(fresh, ok, strict=True) if not good}
            rejecting += [f] if not all(ok) and f not in joint else []
        if not bad:
            break
        joint += rejecting
        lost = found.drop({j for j, w in enumerate(found.found) if id(w) in bad}, cover)
        fresh = found.cover(_joint(counts, joint), lost, by_families=True)
    if memo is not None:
        memo.witnesses = ((sizes, tuple(cover)), found)
    return found


def _kept(counts, families, memo, keys, key):
    """The last round's witnesses, if the sizes program and the groups whose sizes they
    must cover (`key`) are the same and every family still accepts each of them (a
    repair only relaxes a family's program, so they usually do: the families it did
    not touch answer from the memo). Sizes that only the families' programs ruled out
    are asked again of all of them together; if one has become possible, the witnesses
    are found afresh. So the sizes ruled out (a) are exactly those of a fresh audit;
    the values (b) are computed at these witnesses, which keeps every unchanged
    family's findings, and `disclosure.suppress` ends with a fresh audit all the same."""
    if memo is None or memo.witnesses is None or memo.witnesses[0] != key:
        return None
    found = memo.witnesses[1]
    if not all(all(_accepts(f, found.found, memo, keys.get(f))) for f in families):
        return None
    if found.by_families:
        prog = _joint(counts, [built(f) for f in families])
        for i, size in sorted(found.by_families):
            x = _near(prog, len(counts.hidden), {i: size}, found.anchor)
            if x is not None and int(x[i]) == size:
                return None
    return found


def _anchor(counts):
    """Sizes the relaxation of the sizes program meets: an aim only, for the sizes no
    witness aims at. Of the sizes alone, so that it moves only when the sizes program
    does: a round that hides only measures keeps it, hence the first witnesses, which
    the next round keeps (`_kept`) and the closing audit, finding them afresh, finds
    again (its (b) findings then come from the memo). An anchor that every family's
    relaxation also met moved with any family's change, so a closing audit found other
    witnesses and checked every family's values again at them."""
    p = counts.prog
    x = _solve(_Program(p.A, p.rlo, p.rhi, p.lb, p.ub, 0 * p.integ))
    return None if x is None else np.round(x[:len(counts.hidden)])


def _accepts(fam, witnesses, memo, key):
    """Whether the family has a solution at each witness (a memo stores the answers
    under the family's program digest)."""
    if memo is None or key is None:
        return _accepted(fam, witnesses)
    ask = [w for w in witnesses if memo.get(memo.accepts, (key, w.tobytes())) is None]
    for w, ok in zip(ask, _accepted(fam, ask), strict=True):
        memo.accepts[(key, w.tobytes())] = ok
    return [memo.accepts[(key, w.tobytes())] for w in witnesses]


def _accepted(fam, witnesses):
    """Whether the family has a solution at each witness: a kept one that solves its
    program now (`_Family.pooled`), else one solved for (and then kept)."""
    return [bool(fam.pooled(w)) or fam.run([fam.task(w)])[0] is not None for w in witnesses]


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
