"""The disclosure audit (DESIGN "Privacy: part of correctness", rule 3): integer
linear programs over everything published prove that nobody learns more about a
suppressed cell than the dashboard says of it. Pure NumPy/SciPy; its input is what
`disclosure.publish` released, never the true values.

Attacker model. The attacker knows every published number of every publication
passed in; each measure's scale and how an item's mean, % favorable and option
shares follow from its answers; the banding schedule; that each relation holds
(parent = disjoint union of children); that counts are whole numbers and that every
listed group has a respondent. A shown value stands for the interval it rounds from
(2 decimals, or 1 for an item's mean of fewer than 300 answers: `audit_model.mean_places`;
whole percent; or its band) and, when unbanded, for "not in a band". Rounding is half
up and exact for whole totals (`disclosure._half_up`), so a value v stands for totals
whose value lies in [v - half, v + half): the upper end shows the next value.
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
which can only narrow ranges: errors fall on the side of a finding.
A component score is tied to its items' totals in every group (`audit_family._link_rows`:
exact when everyone answered everything, within what partial and unscored students can
move it otherwise). Not modelled: other links between different measures, and the
whole-number grain of decimal answers (component scores are treated as continuous).
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from .audit_bands import _band_findings
from .audit_family import _Family, _Program
from .audit_memo import (
    AuditMemo,
    Lazy,
    built,
    counts_key,
    family_key,
    memo_values,
    witnesses_key,
)
from .audit_model import DEFAULT_BANDING, Finding, _Model
from .audit_pool import Pool
from .audit_sizes import _count_findings, _Counts, _witnesses
from .audit_values import _value_findings

__all__ = ["DEFAULT_BANDING", "AuditMemo", "Finding", "View", "audit"]


class View(NamedTuple):
    """Another audit of the same publication (unit 0) with other units: `also` and
    `same` as `audit` takes them, and `skip`, the groups of unit 0 whose cells this
    view does not check (the audit they are checked in holds them). Each view must be
    sound for the cells it checks: what it states about the respondents is at least
    what everything published together states (a unit replaced by its true totals,
    `analytics.snapshot.exact_unit`, states more), so a cell it finds safe is safe."""

    also: tuple
    same: tuple
    skip: frozenset = frozenset()
    # With `keep`, unit 0 is audited here as those of its groups only (`_view_unit`):
    # each relation whose parent is kept loses the children left out and gains one group,
    # "rest:<parent>", standing for all of them with the totals `rest` gives it
    # ((parent, row) pairs; rows as `analytics.snapshot.exact_unit` makes them). Sound
    # when every child left out is known exactly in this view: then their sum is all
    # they state about the kept groups, and the view's programs need not hold them.
    keep: frozenset = frozenset()
    rest: tuple = ()


def audit(published, relations, k=None, *, also=(), same=(), values=True, small=None,
          memo=None, skip=(), views=()):
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
    on the sizes alone. `memo` (an `audit_memo.AuditMemo`, for the repair rounds of
    `disclosure.suppress` only) reuses the findings of families whose programs are
    unchanged since an earlier audit with it. `skip`: groups of unit 0 whose cells are
    not checked here; nor are those of a unit marked `"checked": False`, but for groups
    that are also unit 0's. `views`: more audits of unit 0 (`View`), each with its own units,
    whose findings are added (with a memo of its own, `AuditMemo.view`): a cell
    checked in a view that is sound for it need not be audited with everything at once,
    and is not: a group of unit 0 that a view checks is skipped here.
    """
    units = [(published, relations)] + [tuple(u) for u in also]
    findings, skip = [], set(skip) | _viewed(published, views)
    for members in _linked_units(len(units), same):
        model = _Model([units[i] for i in members], members, same, k, small, skip)
        findings += _audit_model(model, values, memo)
    for j, view in enumerate(views):
        pub, rels, mine, unchecked = _view_unit(published, relations, small, view)
        findings += audit(pub, rels, k, also=view.also, same=view.same, values=values,
                          small=mine, skip=unchecked, memo=None if memo is None else memo.view(j))
    return findings


def _viewed(published, views):
    """The groups of unit 0 that one of the views checks (`View`)."""
    return {key for v in views for key in (v.keep or published["groups"]) if key not in v.skip}


def _view_unit(published, relations, small, view):
    """Unit 0 as a view audits it: whole, or its `keep` groups with a "rest" group for
    the children each kept relation leaves out (`View`). Returns (published,
    relations, small, skip); the rest groups are never checked."""
    if not view.keep:
        return published, relations, small, view.skip
    rest, groups, rels = dict(view.rest), {}, []
    for key, entry in published["groups"].items():
        if key in view.keep:
            groups[key] = entry
    for parent, kids in relations:
        if parent not in view.keep:
            continue
        kept = [kid for kid in kids if kid in view.keep]
        if len(kept) < len(kids):
            groups[f"rest:{parent}"] = rest[parent]
            kept.append(f"rest:{parent}")
        rels.append((parent, kept))
    if small is not None:
        small = {c for c in small if (c if isinstance(c, str) else c[0]) in view.keep}
    skip = frozenset(view.skip) | {key for key in groups if key.startswith("rest:")}
    return dict(published, groups=groups), rels, small, skip


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


def _audit_model(model, values, memo=None):
    counts = _Counts(model)
    sizes = counts_key(counts) if memo is not None else None
    families, keys = _families(model, counts, sizes, memo)
    witnesses = _witnesses(model, counts, _one_per_program(model, families), values, memo,
                           keys, sizes)
    findings = _count_findings(model, counts, witnesses)
    if values and (witnesses.found or not counts.hidden):
        seen = witnesses_key(witnesses) if memo is not None else None
        for fam, name in zip(families, model.families, strict=True):
            findings += memo_values(
                memo, (keys[fam], seen),
                lambda name=name: (family_key(model, name, sizes, alone=True), seen),
                lambda fam=fam: _value_findings(_fresh(fam), witnesses,
                                                _store(memo, "cells", keys[fam])))
    if values:
        for fams in _by_program(model, families):
            findings += _reuse(memo, "bands", tuple(keys[f] for f in fams),
                               lambda fams=fams: _band_findings([built(f) for f in fams],
                                                                counts))
    return findings


def _families(model, counts, sizes, memo=None):
    """The families' programs and their memo keys (`sizes`: the sizes program's digest,
    None without a memo). The families of a linked set share one program (`_Program`).
    With a memo a family is built only when a result of it is not stored
    (`audit_memo.family_key`), and a program keeps the solutions found by the
    program of its linked set in earlier rounds with the same sizes (`audit_pool`)."""
    programs, names = {}, {}

    def key(name):  # a family's digest; its linked set's first family's names the program
        if name not in names:
            names[name] = family_key(model, name, sizes)
        return names[name]

    def program(fam):
        linked = model.linked(fam)
        if linked not in programs:
            pool = lone = None
            if sizes is not None:
                pool = memo.pools.setdefault((sizes, linked), Pool(len(counts.hidden)))
                lone = memo.lone.setdefault(key(linked[0]), {})
            programs[linked] = Lazy(lambda: _Program(model, counts, linked, pool, lone))
        return programs[linked]

    if sizes is None:
        families = [_Family(model, counts, fam, built(program(fam))) for fam in model.families]
        return families, dict.fromkeys(families)
    families = [Lazy(lambda fam=fam: _Family(model, counts, fam, built(program(fam))))
                for fam in model.families]
    return families, {f: key(fam) for f, fam in zip(families, model.families, strict=True)}


def _by_program(model, families):
    """The families grouped by the program they share (a linked set, or one family)."""
    groups = {}
    for fam, name in zip(families, model.families, strict=True):
        groups.setdefault(model.linked(name), []).append(fam)
    return list(groups.values())


def _one_per_program(model, families):
    """One family of each shared program: the families of a linked set accept the same
    witnesses (their program is one), so one asks for all."""
    return [fams[0] for fams in _by_program(model, families)]


def _fresh(fam):
    """The family with a solver of its own for its findings: the same findings with a
    memo or without (the witness checks may have used the first solver or not)."""
    fam = built(fam)
    fam.solver = None
    return fam


def _store(memo, name, key):
    """The memo's results of one program kept across audits (None without a memo)."""
    return None if memo is None else getattr(memo, name).setdefault(key, {})


def _reuse(memo, store, key, compute):
    if memo is None:
        return compute()
    return list(memo.cached(getattr(memo, store), key, compute))
