"""The audit's reuse between repair rounds (analytics/audit_memo.py) changes no
result: in every round of `suppress`, the audit with the memo reports exactly what a
full audit of the same publication reports, while auditing fewer families."""

import random

from analytics import audit as audit_module
from analytics import disclosure
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


def test_every_repair_round_reports_what_a_full_audit_reports(monkeypatch):
    rounds, computed = [], []
    real_values = audit_module._value_findings

    def counting(fam, witnesses):
        computed[-1] += 1
        return real_values(fam, witnesses)

    def both(published, relations, k=None, **kw):
        computed.append(0)
        with_memo = audit(published, relations, k, **kw)
        reused = computed[-1]
        kw.pop("memo", None)
        computed.append(0)
        full = audit(published, relations, k, **kw)
        rounds.append((plain(with_memo), plain(full), reused, computed[-1]))
        return with_memo

    monkeypatch.setattr(audit_module, "_value_findings", counting)
    monkeypatch.setattr(disclosure, "audit", both)
    for seed in range(3):
        groups, rels = school(seed)
        decision = disclosure.suppress(groups, rels, K, items=ITEMS)
        assert audit(disclosure.publish(groups, decision, K), rels, K,
                     small=decision.small) == []
    assert len(rounds) >= 6
    for with_memo, full, _, _ in rounds:
        assert with_memo == full
    assert any(reused < full_count for _, _, reused, full_count in rounds)
    assert any(with_memo for with_memo, _, _, _ in rounds)  # some round found something
