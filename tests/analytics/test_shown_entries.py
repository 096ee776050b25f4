"""`disclosure.publish` keeps each measure's shown entry in the decision, since every
round of `suppress` publishes again (docs/performance.md, "Shown entries and JSON
text"): what it publishes must be what a fresh decision publishes."""

import copy

from analytics.disclosure import Decision, measure_specs, publish
from tests.analytics.test_disclosure import ITEMS, K, build, mixed, students


def _groups():
    people = mixed("7A", 14) + students("7B", 12, [4]) + mixed("8A", 11, year=8)
    return build(people, dims=("class", "year"), n_items=1)[0]


def _fresh(groups, hidden_groups=(), hidden_measures=()):
    decision = Decision(specs=measure_specs(groups, ITEMS))
    decision.hidden_groups |= set(hidden_groups)
    decision.hidden_measures |= set(hidden_measures)
    return decision


def test_a_kept_entry_is_the_entry_a_fresh_decision_publishes():
    groups = _groups()
    decision = _fresh(groups)
    first = publish(groups, decision, K)
    as_it_was = copy.deepcopy(first)
    decision.hidden_measures.add(("class:7A", "item:Q0:mean"))
    decision.hidden_groups.add("class:8A")
    second = publish(groups, decision, K)
    assert second == publish(groups, _fresh(groups, {"class:8A"},
                                            {("class:7A", "item:Q0:mean")}), K)
    assert second["groups"]["class:7A"]["measures"]["item:Q0:mean"]["suppressed"]
    # The first publication is not changed by what the second hides.
    assert first == as_it_was == publish(groups, _fresh(groups), K)
    assert not first["groups"]["class:7A"]["measures"]["item:Q0:mean"].get("suppressed")


def test_a_decision_used_with_other_groups_of_the_same_keys_publishes_their_values():
    groups = _groups()
    decision = _fresh(groups)
    publish(groups, decision, K)
    people = students("7A", 14, [2]) + students("7B", 12, [3]) + students("8A", 11, [1], year=8)
    other = build(people, dims=("class", "year"), n_items=1)[0]
    assert [g.key for g in other] == [g.key for g in groups]
    assert publish(other, decision, K) == publish(other, _fresh(other), K)
    assert publish(other, decision, K) != publish(groups, _fresh(groups), K)
