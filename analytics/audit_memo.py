"""What the repair rounds of `disclosure.suppress` reuse from one audit to the next
(see `analytics.audit`): a round usually hides a few more cells in a few families,
and every other family's program is then the same as in the round before.

Stored, each under a digest of everything it is computed from: whether a family
accepts a witness (sizes), and each family's findings of (b) (with the witnesses)
and (c). Reuse changes no result: acceptance is exact; the witnesses depend on the
sizes program, its anchor (`audit_sizes._anchor`, from the sizes alone) and those
acceptances; and each family's findings are computed by a solver created for them
alone, so the same program and witnesses give the same findings in any audit. An
audit with a memo therefore reports what one without it reports
(tests/analytics/test_audit_memo.py); the gate in `analytics.snapshot` audits
without one all the same.
"""

from __future__ import annotations

import hashlib


class AuditMemo:
    """Results of earlier audits in one `suppress` call."""

    def __init__(self):
        self.accepts, self.values, self.bands = {}, {}, {}

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


def family_key(fam, counts_digest, banded):
    """Everything a family's findings are computed from, besides the witnesses."""
    p, model = fam.prog, fam.model
    cells = [(c, model.checked(c, fam.keys), model.sure(c)) for c in fam.hidden_cells]
    return digest(fam.fam, counts_digest, model.k, p.A, p.rlo, p.rhi, p.lb, p.ub, p.integ,
                  fam.keep, fam.fixed, sorted(fam.cols.items()), cells,
                  sorted(banded.items()), [(k, model.specs[k]) for k in fam.keys])


def witnesses_key(witnesses):
    return digest(len(witnesses.found), *witnesses.found)
