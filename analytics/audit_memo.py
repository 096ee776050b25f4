"""What the repair rounds of `disclosure.suppress` reuse from one audit to the next
(see `analytics.audit`): a round usually hides a few more cells in a few families,
and every other family's program is then the same as in the round before.

Stored, each under a digest of everything it is computed from: whether a family
accepts a witness (sizes), and each family's findings of (b) (with the witnesses)
and (c). Reuse changes no result: acceptance is exact, and each family's findings
are exact (which solutions the solvers happen to find on the way, a shared (b')
sample among them, changes only how fast), so the same program and witnesses give
the same findings in any audit. Two things make a repair round's audit differ
from one without a memo in (b): it keeps the last round's witnesses (`audit_sizes._kept`),
and a family that found nothing is taken as clean when only its linked partners lost
entries (`memo_values`). `disclosure.suppress` therefore closes with an audit in `exact`
mode: witnesses found afresh and neither shortcut, only results computed from the same
inputs reused, which reports what an audit without a memo reports
(tests/analytics/test_audit_memo.py). (The witnesses aim at sizes the relaxation of
the sizes program meets, `audit_sizes._anchor`, so a round that hides only measures
keeps them unless a family rejects one; a round that hides a group may move them, and
then the (b) findings of every family are computed again.)
"""

from __future__ import annotations

import hashlib

from . import jsontext


class AuditMemo:
    """Results of earlier audits in one `suppress` call."""

    def __init__(self):
        self.accepts, self.values, self.bands = {}, {}, {}
        self.values_clean = {}  # (own key, witnesses) -> True: found nothing (`memo_values`)
        self.witnesses = None  # (sizes program digest, the last round's witnesses)
        self.pools = {}  # (sizes program digest, linked set) -> `audit_pool.Pool`
        # Results at one witness, under the program's digest (`family_key`): one
        # respondent's answers (`audit_values._lone_shared`) and each remaining cell's
        # checks (`audit_values._cell_by_cell`): exact, so reused in `exact` mode too.
        self.lone, self.cells = {}, {}
        self.exact = False  # the closing audit: reuse only what was computed from the same inputs
        self.views = {}  # view number -> its own memo (`analytics.audit.View`)

    def view(self, j):
        """The memo of the audit's view j: its programs are its own; it closes with
        this one (`closing`)."""
        if j not in self.views:
            self.views[j] = AuditMemo()
            self.views[j].exact = self.exact
        return self.views[j]

    def closing(self, exact):
        """Enter (True) or leave the closing audit: witnesses found afresh, only results
        computed from the same inputs reused; so for every view's memo."""
        if exact:
            self.witnesses = None
        self.exact = exact
        for memo in self.views.values():
            memo.closing(exact)

    def get(self, store, key):
        return store.get(key)

    def cached(self, store, key, compute):
        found = self.get(store, key)
        if found is None:
            found = store[key] = compute()
        return found


def digest(*parts):
    """A digest of arrays, sparse matrices and plain values."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        if hasattr(part, "indptr"):
            for a in (part.data, part.indices, part.indptr):
                h.update(a.tobytes())
            h.update(repr(part.shape).encode())
        elif hasattr(part, "tobytes"):
            h.update(part.tobytes())
            h.update(repr(part.shape).encode())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


def counts_key(counts):
    p = counts.prog
    return digest(tuple(counts.hidden), p.A, p.rlo, p.rhi, p.lb, p.ub, p.integ)


def family_key(model, fam, counts_digest, alone=False):
    """Everything a family's program and findings are computed from, besides the
    witnesses: its groups' sizes and shown entries, which of its hidden cells are
    checked and known small, the relations, its scales, k and the banding; and the
    same of the families linked to it (`_Model.links`), whose columns its program holds
    (`alone`: of the family only, for `memo_values`)."""
    rows, scales = [], []
    for linked in (fam,) if alone else model.linked(fam):
        keys = model.families[linked]
        names = sorted(n for n, node in model.nodes.items() if linked in node.families)
        rows.append([(n, model.nodes[n].n, [model.nodes[n].entries.get(k) for k in keys],
                      model.checked(n, keys), model.sure(n), model.audited(n)) for n in names])
        scales.append([(k, model.specs[k]) for k in keys])
    return digest(fam, counts_digest, model.k, model.banding, model.relations, rows, scales)


def memo_values(memo, key, own, compute):
    """A family's (b) findings: reused when its whole program and the witnesses are
    those of an earlier round (`key`); and, when an earlier round found none with the
    family's own entries and cells the same and the same witnesses (`own()`, digested
    only when `key` misses), none, except in the closing audit (`exact`). The second
    holds because within one `suppress` call the rounds only hide more: with the same
    sizes program a linked family can only have lost entries, which widens every range
    and unanimity and size it could narrow, so no finding can appear. Only computed
    findings are stored under `key`."""
    if memo is None:
        return compute()
    found = memo.values.get(key)
    if found is None:
        alone = own()
        if memo.values_clean.get(alone) and not memo.exact:
            return []
        found = memo.values[key] = compute()
        if not found:
            memo.values_clean[alone] = True
    return list(found)


class Lazy:
    """A family's program built on first use: a repair round needs few of them."""

    __slots__ = ("_built", "_make")

    def __init__(self, make):
        object.__setattr__(self, "_make", make)
        object.__setattr__(self, "_built", None)

    def get(self):
        if self._built is None:
            object.__setattr__(self, "_built", self._make())
        return self._built

    def __getattr__(self, name):
        return getattr(self.get(), name)

    def __setattr__(self, name, value):
        setattr(self.get(), name, value)


def built(fam):
    return fam.get() if isinstance(fam, Lazy) else fam


def witnesses_key(witnesses):
    return digest(len(witnesses.found), *witnesses.found)


def audit_digest(published, relations, k, also=(), same=(), small=(), views=()):
    """A digest of everything an audit is given: a decision whose `audited` equals the
    digest of what is about to be written passed a full audit (`AuditMemo.exact`) of exactly
    that (`analytics.snapshot` audits again whatever else it writes), with its `views`
    (`analytics.audit.View`)."""
    plain = {"published": published, "relations": relations, "k": k, "also": also,
             "same": same, "small": sorted(map(repr, small or ())),
             "views": [[v.also, v.same, sorted(v.skip), sorted(v.keep), v.rest]
                       for v in views]}
    text = jsontext.dumps(plain, sort_keys=True, default=repr)
    return hashlib.blake2b(text, digest_size=20).hexdigest()
