"""The audit's reuse between repair rounds (analytics/audit_memo.py): in every round of
`suppress`, the audit with the memo rules out exactly the sizes (a) and pins exactly
the bands (c) a full audit of the same publication does, while auditing fewer
families; its values (b) are looked at the last round's witnesses, so `suppress` ends
with a closing audit at fresh witnesses that reuses only results computed from the same
inputs (the same findings as an audit without a memo), and the snapshot's gate trusts
only a publication whose digest that audit passed."""

import random

import pytest

from analytics import audit as audit_module
from analytics import audit_values, disclosure
from analytics import snapshot as build_module
from analytics.audit import audit
from tests.analytics.test_disclosure import ITEMS, K, Student, build

GENDERS = ("girl", "boy", "nonbinary")


def school(seed, classes=7):
    rng = random.Random(seed)
    people = []
    for c in range(classes):
        size = rng.choice([2, 3, 6, 9, 14, 22, 27])
        unanimous = rng.choice([None, None, 4, 1])
        for i in range(size):
            answers = [unanimous or rng.choice([1, 2, 3, 3, 4, 4, None]) for _ in range(2)]
            people.append(Student(f"c{c}", answers, 7 + c % 3,
                                  GENDERS[rng.choice([0, 0, 1, 1, 2])] if i else "girl"))
    return build(people, dims=("class", "year", "gender", "cross"), n_items=2)


def plain(findings):
    return [(f.group, f.measure, f.condition, f.detail, f.feasible) for f in findings]


def test_every_repair_round_rules_out_and_pins_what_a_full_audit_does(monkeypatch):
    rounds, computed = [], []
    real_values = audit_module._value_findings

    def counting(fam, witnesses, store=None):
        computed[-1] += 1
        return real_values(fam, witnesses, store)

    def both(published, relations, k=None, memo=None, **kw):
        closing = memo is not None and memo.exact
        computed.append(0)
        found = audit(published, relations, k, memo=memo, **kw)
        reused = computed[-1]
        computed.append(0)
        full = audit(published, relations, k, **kw)
        rounds.append(("closing" if closing else "round", plain(found), plain(full), reused,
                       computed[-1]))
        return found

    monkeypatch.setattr(audit_module, "_value_findings", counting)
    monkeypatch.setattr(disclosure, "audit", both)
    for seed in range(3):
        groups, rels = school(seed)
        decision = disclosure.suppress(groups, rels, K, items=ITEMS)
        published = disclosure.publish(groups, decision, K)
        assert rounds[-1][:3] == ("closing", [], [])  # the last audit: closing, and it passed
        assert decision.audited == disclosure.audit_digest(published, rels, K, (), (),
                                                           decision.small)
        assert audit(published, rels, K, small=decision.small) == []
    closing = [r for r in rounds if r[0] == "closing"]
    assert all(with_memo == full for _, with_memo, full, _, _ in closing)  # every finding
    assert any(reused < full_count for _, _, _, reused, full_count in closing)
    memo_rounds = [r for r in rounds if r[0] == "round"]
    assert len(memo_rounds) >= 6
    for _, with_memo, full, _, _ in memo_rounds:
        exact = [f for f in with_memo if f[2] in ("count", "band")]
        assert exact == [f for f in full if f[2] in ("count", "band")]
    assert any(reused < full_count for _, _, _, reused, full_count in memo_rounds)
    assert any(with_memo for _, with_memo, _, _, _ in memo_rounds)  # some round found something


def test_the_gate_trusts_only_the_publication_the_full_audit_passed(monkeypatch):
    groups, rels = school(1)
    decision = disclosure.suppress(groups, rels, K, items=ITEMS)
    published = disclosure.publish(groups, decision, K)
    calls = []
    real = build_module.run_audit

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "run_audit", counted)
    assert build_module.gate(published, rels, K, decision) == [] and not calls
    complementary = sorted(g for g in decision.hidden_groups if g not in decision.small)
    assert complementary  # hidden only to protect a small class
    # a group whose showing again leaks (suppression is greedy: not every one does)
    leaky, shown_again = next(
        (pub, again) for again in (
            disclosure.Decision(**{**vars(decision),
                                   "hidden_groups": decision.hidden_groups - {g}})
            for g in complementary)
        for pub in [disclosure.publish(groups, again, K)]
        if real(pub, rels, K, small=decision.small))
    calls.clear()
    assert build_module.gate(leaky, rels, K, shown_again) and calls  # audited in full
    calls.clear()
    assert build_module.gate(published, rels, K, disclosure.Decision(
        **{**vars(decision), "audited": ""})) == [] and calls  # never audited: audited now


@pytest.mark.parametrize("seed", [0, 2])
def test_kept_witnesses_are_dropped_when_the_sizes_change(seed):
    groups, rels = school(seed)
    memo = audit_module.AuditMemo()
    first = disclosure.suppress(groups, rels, K, items=ITEMS)
    published = disclosure.publish(groups, first, K)
    audit(published, rels, K, small=first.small, memo=memo)
    assert memo.witnesses is not None
    kept = memo.witnesses
    audit(published, rels, K, small=first.small, memo=memo)
    assert memo.witnesses is kept  # same program: the same witnesses, not sought again
    more = disclosure.Decision(**{**vars(first), "hidden_groups": first.hidden_groups | {
        min(g.key for g in groups if g.key.startswith("class:")
            and g.key not in first.hidden_groups)}})
    audit(disclosure.publish(groups, more, K), rels, K, small=first.small, memo=memo)
    assert memo.witnesses is not kept and memo.witnesses[0] != kept[0]


def fresh_witnesses(groups, rels, decision):
    memo = audit_module.AuditMemo()
    audit(disclosure.publish(groups, decision, K), rels, K, small=decision.small, memo=memo)
    return [w.tolist() for w in memo.witnesses[1].found]


def test_witnesses_found_afresh_mostly_stay_when_only_measures_are_hidden():
    """Witness sizes aim at an anchor of the sizes program alone (`audit_sizes._anchor`):
    hiding measures in shown groups leaves the sizes program, so a fresh search finds the
    same witnesses unless a family then rejects one, and the closing audit can reuse the
    rounds' values. On these 30 cases 26 keep their witnesses; with an anchor of every
    family's relaxation too (before 2026-12-06, session 13), 12 did."""
    same = total = 0
    for seed in range(6):
        groups, rels = school(seed)
        decision = disclosure.suppress(groups, rels, K, items=ITEMS)
        before = fresh_witnesses(groups, rels, decision)
        for g in groups:
            if g.key in decision.hidden_groups or not g.key.startswith(("class:", "year:")):
                continue
            more = disclosure.Decision(**{**vars(decision), "hidden_measures": (
                decision.hidden_measures | {(g.key, m) for m in g.measures})})
            after = fresh_witnesses(groups, rels, more)
            same, total = same + (after == before), total + 1
    assert total == 30 and same >= 24


def test_results_at_a_shared_witness_are_reused_by_a_later_audit(monkeypatch):
    """Each remaining cell's checks at its witness (`audit_values._cell_by_cell`) and one
    respondent's answers at a witness (`_lone_shared`) are kept in the memo under the
    program's digest: a closing audit whose fresh witnesses differ from the rounds' asks
    only for what it lacks, and still finds what an audit without a memo finds."""
    closing, asked = [], []
    real_cells, real_pairs = audit_values._cell_by_cell, audit_values._lone_pairs

    def cells(fam, cells, witnesses, ranges, store):
        sizes = [audit_values._sizes_for(fam, witnesses, c).tobytes() for c in cells]
        asked[-1][0] += len(cells)
        asked[-1][1] += sum((w, c) in store for w, c in zip(sizes, cells, strict=True))
        return real_cells(fam, cells, witnesses, ranges, store)

    def pairs(runner, todo, sizes, ub=None):
        asked[-1][2] += len(todo)
        return real_pairs(runner, todo, sizes, ub)

    def both(published, relations, k=None, memo=None, **kw):
        asked.append([0, 0, 0])
        found = audit(published, relations, k, memo=memo, **kw)
        if memo is not None and memo.exact:
            with_memo = asked[-1]
            asked.append([0, 0, 0])
            full = audit(published, relations, k, **kw)
            closing.append((plain(found), plain(full), with_memo, asked[-1]))
        return found

    monkeypatch.setattr(audit_values, "_cell_by_cell", cells)
    monkeypatch.setattr(audit_values, "_lone_pairs", pairs)
    monkeypatch.setattr(disclosure, "audit", both)
    for seed in (5, 6, 7):  # 12 classes: closing audits that find other witnesses
        groups, rels = school(seed, classes=12)
        disclosure.suppress(groups, rels, K, items=ITEMS)
    assert len(closing) >= 4 and all(with_memo == full for with_memo, full, _, _ in closing)
    # Some closing audit found cells at witnesses the rounds had used, and reused them.
    assert any(memo_counts[1] > 0 for _, _, memo_counts, _ in closing)
    # Without the memo nothing is stored, so nothing is reused.
    assert all(fresh[1] == 0 for _, _, _, fresh in closing)


def test_an_audit_whose_findings_are_forgotten_asks_its_solvers_nothing_again(monkeypatch):
    """With the families' findings dropped from the memo, a second audit of the same
    publication computes every family's findings again, but from the kept results at
    its witnesses: no cell is checked and no respondent's answers are asked again."""
    groups, rels = school(5, classes=12)
    decision = disclosure.suppress(groups, rels, K, items=ITEMS)
    published = disclosure.publish(groups, decision, K)
    asked = {"pairs": 0, "cells": 0}
    real_pairs, real_ranges = audit_values._lone_pairs, audit_values._answer_ranges

    def pairs(runner, todo, sizes, ub=None):
        asked["pairs"] += len(todo)
        return real_pairs(runner, todo, sizes, ub)

    def ranges(fam, cells, sizes):
        asked["cells"] += len(cells)
        return real_ranges(fam, cells, sizes)

    monkeypatch.setattr(audit_values, "_lone_pairs", pairs)
    monkeypatch.setattr(audit_values, "_answer_ranges", ranges)
    memo = audit_module.AuditMemo()
    memo.exact = True
    first = audit(published, rels, K, small=decision.small, memo=memo)
    assert asked["pairs"] > 0 and asked["cells"] > 0
    asked.update(pairs=0, cells=0)
    memo.values.clear()
    memo.witnesses = None
    again = audit(published, rels, K, small=decision.small, memo=memo)
    assert asked == {"pairs": 0, "cells": 0}
    assert plain(again) == plain(first) == plain(audit(published, rels, K, small=decision.small))
