"""Whole solutions kept for reuse by the disclosure audit (see `analytics.audit`).

Every whole solution a family's solver finds is a solution of its program (`audit_family.
_Program`) at the hidden sizes in its first columns, whatever the question that found
it. Kept by those sizes, it can answer later questions for free: whether the program
has a solution at a witness (`audit_sizes._accepted`), a sample for (b'), answers one
respondent can give (`audit_values._lone_pairs`), band ends (`audit_bands._prove`).

With a memo, a program's pool lives on across the repair rounds of one `suppress` call
while the sizes program is the same (`AuditMemo.pools`): a round only hides more, so a
solution of an earlier round's program is usually still one. Nothing is taken on
trust: a kept solution is used only once it is checked against the current program
and the question's bounds (`_Family.pooled`), so every result stays what the solver
would prove (it changes which solution is seen first, never what is concluded).
"""

from __future__ import annotations

import numpy as np

KEEP = 40  # solutions kept per set of hidden sizes (the latest)


class Pool:
    def __init__(self, hidden):
        self.hidden = hidden  # how many of the first columns are hidden sizes
        self.by = {}  # the sizes (bytes) -> full solutions found at them

    def add(self, x):
        at = self.by.setdefault(_key(x[:self.hidden]), [])
        if not any(np.array_equal(x, y) for y in at):
            at.append(x)
            del at[:-KEEP]

    def at(self, sizes):
        return list(self.by.get(_key(sizes), ()))

    def all(self):
        return [x for xs in self.by.values() for x in xs]


def _key(sizes):
    return np.round(np.asarray(sizes, float)).tobytes()
