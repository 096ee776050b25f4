"""The linear-programming audit (DESIGN rule 3) on hand-made publications: what it
treats as published, and the two conditions it proves for every hidden cell."""

import random
import time

from analytics.audit import audit
from analytics.disclosure import Decision, Group, Measure, measure_specs, publish, suppress
from tests.analytics.test_disclosure import ITEMS, K, Student, build, mixed, students


def hide(groups, keys, measures=(), small=None):
    decision = Decision(specs=measure_specs(groups, ITEMS))
    decision.hidden_groups = set(keys)
    decision.hidden_measures = set(measures)
    decision.small = set(keys) if small is None else set(small)
    return decision


def findings(groups, rels, decision, **kw):
    return audit(publish(groups, decision, K), rels, K, small=decision.small, **kw)


def options_only(key, n, counts):
    return Group(key, n, {f"item:Q0:option:{v}": Measure(n, float(c), 0, 1)
                          for v, c in zip(range(1, 5), counts, strict=True)})


def test_a_family_of_option_shares_alone_is_audited_too():
    groups = [options_only("school", 30, [4, 6, 10, 10]), options_only("class:a", 4, [0, 1, 2, 1]),
              options_only("class:b", 26, [4, 5, 8, 9])]
    rels = [("school", ["class:a", "class:b"])]
    assert findings(groups, rels, hide(groups, ["class:a", "class:b"])) == []
    pinned = findings(groups, rels, hide(groups, ["class:a"]))
    assert {(f.group, f.condition) for f in pinned} >= {("class:a", "count"), ("class:a", "value")}


def test_banded_shares_stand_for_their_whole_bands():
    # class:b's 4% "strongly disagree" and 0% "disagree" are both banded "10% or less", and
    # so are the school's: which of the pool's two low answers is which stays open, and
    # the hidden pool {a, c} may hold a "strongly disagree". (The school's two banded
    # shares add up to 2 of 40, so each can still be 0 and 1 or more: condition (c).)
    groups = [options_only("school", 40, [1, 1, 20, 18]),
              options_only("class:a", 5, [0, 1, 2, 2]),
              options_only("class:b", 25, [1, 0, 13, 11]),
              options_only("class:c", 10, [0, 0, 5, 5])]
    rels = [("school", ["class:a", "class:b", "class:c"])]
    decision = hide(groups, ["class:a", "class:c"], small=["class:a"])
    entry = publish(groups, decision, K)["groups"]["class:b"]["measures"]["item:Q0:option:1"]
    assert entry["band"] == "bottom"
    assert not [f for f in findings(groups, rels, decision) if f.measure == "item:Q0:option:1"]


def test_one_banded_share_among_exact_ones_is_worked_out_from_the_rest():
    # the shares add up to 100%: with the other three exact, the banded one is exact too
    groups = [options_only("school", 40, [1, 9, 15, 15]), options_only("class:a", 5, [0, 2, 2, 1]),
              options_only("class:b", 25, [1, 5, 10, 9]), options_only("class:c", 10, [0, 2, 3, 5])]
    rels = [("school", ["class:a", "class:b", "class:c"])]
    found = findings(groups, rels, hide(groups, ["class:a", "class:c"], small=["class:a"]))
    assert ("class:a", "item:Q0:option:1") in {(f.group, f.measure) for f in found}


def test_an_exact_share_next_to_the_pool_does_pin_it():
    groups = [options_only("school", 40, [4, 9, 14, 13]), options_only("class:a", 5, [0, 2, 2, 1]),
              options_only("class:b", 25, [4, 5, 9, 7]), options_only("class:c", 10, [0, 2, 3, 5])]
    rels = [("school", ["class:a", "class:b", "class:c"])]
    found = findings(groups, rels, hide(groups, ["class:a", "class:c"], small=["class:a"]))
    assert ("class:a", "item:Q0:option:1") in {(f.group, f.measure) for f in found}
    assert all(f.feasible == (0.0, 0.0) for f in found if f.measure == "item:Q0:option:1")


def test_a_pool_that_all_agreed_pins_the_proportion_at_one():
    people = students("a", 4, [4]) + students("b", 8, [3]) + mixed("c", 30)
    groups, rels = build(people, dims=("class",))
    found = findings(groups, rels, hide(groups, ["class:a", "class:b"], small=["class:a"]))
    fav = [f for f in found if f.measure == "item:Q0:favorable"]
    assert fav and fav[0].feasible == (1.0, 1.0)
    assert not [f for f in found if f.measure == "item:Q0:mean"]  # a lone answer: 3 or 4


def test_two_differently_unanimous_classes_protect_each_other():
    people = students("a", 4, [2]) + students("b", 8, [4]) + mixed("c", 30)
    groups, rels = build(people, dims=("class",))
    found = findings(groups, rels, hide(groups, ["class:a", "class:b"]))
    assert not [f for f in found if f.measure in ("item:Q0:mean", "item:Q0:favorable")]


def test_count_findings_list_the_sizes_ruled_out_and_the_relation():
    groups, rels = build(mixed("a", 3) + mixed("b", 4) + mixed("c", 30))
    found = findings(groups, rels, hide(groups, ["class:a", "class:b"]))
    a = next(f for f in found if f.group == "class:a" and f.condition == "count")
    assert "sizes 7-9 are ruled out" in a.detail and "school" in a.detail
    assert a.feasible == (1, 6)


def test_a_hidden_parent_is_not_held_below_its_listed_parts():
    people = mixed("a", 1) + mixed("b", 1) + mixed("c", 2)
    people += [Student("d", s.answers, 8) for s in mixed("d", 30)]
    groups, rels = build(people, dims=("class", "year"))
    hidden = ["class:a", "class:b", "class:c", "year:7", "class:d", "year:8"]
    decision = hide(groups, hidden, small=["class:a", "class:b", "class:c", "year:7"])
    assert not [f for f in findings(groups, rels, decision) if f.condition == "count"]


def test_a_hidden_group_the_publication_proves_large_is_not_a_small_cell():
    people = mixed("a", 4) + mixed("b", 20) + [Student("c", s.answers, 8) for s in mixed("c", 25)]
    groups, rels = build(people)
    decision = hide(groups, ["class:a", "class:b", "year:8"], small=["class:a"])
    # year:8 is its one shown class: pinned at 25, but 25 is not a small cell
    assert findings(groups, rels, decision) == []
    assert audit(publish(groups, decision, K), rels, K) == []  # every hidden cell suspect


def test_without_small_every_hidden_cell_that_could_be_small_is_checked():
    people = students("a", 4, [3]) + students("b", 6, [3]) + mixed("c", 30)
    groups, rels = build(people, dims=("class",))
    decision = hide(groups, ["class:a", "class:b"], small=["class:a"])
    focused = {(f.group, f.measure) for f in findings(groups, rels, decision)}
    cautious = {(f.group, f.measure) for f in audit(publish(groups, decision, K), rels, K)}
    assert focused and focused < cautious
    assert {g for g, _ in cautious} == {"class:a", "class:b"}


def test_a_large_hidden_cell_may_be_narrowed_but_not_shown_unanimous():
    people = mixed("a", 25) + students("b", 12, [4]) + mixed("c", 30)
    groups, rels = build(people, dims=("class",))
    found = findings(groups, rels, hide(groups, ["class:b"], small=[]))
    assert [(f.group, f.measure) for f in found] == [("class:b", "item:Q0:option:4")]
    assert "everyone in it gave the same answer" in found[0].detail
    people = mixed("a", 25) + students("b", 6, [4]) + students("b", 6, [3]) + mixed("c", 30)
    groups, rels = build(people, dims=("class",))
    assert findings(groups, rels, hide(groups, ["class:b"], small=[])) == []


def test_nobody_answering_in_a_hidden_cell_is_a_finding():
    people = [Student("a", [None]) for _ in range(4)] + students("b", 8, [None])
    people += mixed("c", 30)
    groups, rels = build(people, dims=("class",))
    found = findings(groups, rels, hide(groups, ["class:a", "class:b"]))
    assert any("nobody in it can have answered item:Q0" in f.detail for f in found)


def test_units_without_shared_respondents_are_audited_apart():
    one, rels_one = build(mixed("a", 4) + mixed("b", 20) + mixed("c", 25))
    two, rels_two = build(mixed("x", 30) + mixed("y", 25))
    pub_one = publish(one, hide(one, ["class:a"]), K)
    pub_two = publish(two, hide(two, []), K)
    pub_two["unit"] = "school-2"
    found = audit(pub_two, rels_two, K, also=[(pub_one, rels_one)], small={"unit1/class:a"})
    assert found and {f.group for f in found} == {"unit1/class:a"}
    found = audit(pub_one, rels_one, K, also=[(pub_two, rels_two)], small={"class:a"})
    assert found and {f.group for f in found} == {"class:a"}


def test_the_same_groups_published_twice_are_one_set_of_unknowns():
    groups, rels = build(mixed("a", 4) + mixed("b", 20) + mixed("c", 25))
    pub = publish(groups, hide(groups, ["class:a", "class:b"]), K)
    report = publish(groups, hide(groups, ["class:a", "class:c"]), K)
    assert audit(pub, rels, K, small={"class:a"}) == []
    same = [((0, g.key), (1, g.key)) for g in groups]
    found = audit(pub, rels, K, also=[(report, rels)], same=same, small={"class:a"})
    assert any(f.group == "class:a" and f.condition == "count" for f in found)


def test_a_thirty_class_school_is_audited_quickly():
    rng = random.Random(7)
    people = []
    for c in range(30):
        size = rng.choice([rng.randint(15, 32)] * 9 + [rng.randint(2, 9)])
        for _ in range(size):
            base = rng.choice([2, 3, 3, 3, 4])
            people.append(Student(f"c{c}", [max(1, min(4, base + rng.choice([-1, 0, 0, 1])))
                                            for _ in range(4)], 7 + c % 6,
                                  rng.choices(["girl", "boy", "nonbinary"], [48, 48, 4])[0]))
    groups, rels = build(people, dims=("class", "year", "gender", "cross"), n_items=4)
    decision = suppress(groups, rels, K, items=ITEMS)
    out = publish(groups, decision, K)
    start = time.perf_counter()
    assert audit(out, rels, K, small=decision.small) == []
    assert time.perf_counter() - start < 5.0  # about 0.3 s here; generous for slow CI
