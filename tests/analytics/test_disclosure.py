"""Suppression, banding and publication (DESIGN rules 2-4): every way a small cell
leaks, shown on a naive publication that the audit refuses and on `suppress`'s
publication that it accepts."""

from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from analytics.audit import audit
from analytics.disclosure import (
    Decision,
    Group,
    ItemScale,
    Measure,
    band_mean,
    band_percent,
    change_allowed,
    measure_specs,
    publish,
    suppress,
)
from analytics.snapshot import exact_unit

K = 10
ITEMS = {f"Q{i}": ItemScale(reverse=False, favorable=frozenset({3, 4})) for i in range(4)}


@dataclass
class Student:
    cls: str
    answers: list
    year: int = 7
    gender: str = "girl"
    extra: dict = field(default_factory=dict)


def students(cls, count, answers, year=7, gender="girl"):
    return [Student(cls, list(answers), year, gender) for _ in range(count)]


def memberships(s, dims):
    keys = ["school"]
    if "class" in dims:
        keys.append(f"class:{s.cls}")
    if "year" in dims:
        keys.append(f"year:{s.year}")
    if "gender" in dims:
        keys.append(f"gender:{s.gender}")
    if "cross" in dims:
        keys.append(f"year:{s.year}|gender:{s.gender}")
    return keys


def measures_of(members, n_items):
    out = {}
    scores = [sum(a for a in s.answers if a) / len([a for a in s.answers if a])
              for s in members if any(s.answers)]
    out["component:perceptions"] = Measure(len(scores), float(sum(scores)), 1, 4)
    for i in range(n_items):
        given = [s.answers[i] for s in members if s.answers[i] is not None]
        out[f"item:Q{i}:mean"] = Measure(len(given), float(sum(given)), 1, 4)
        out[f"item:Q{i}:favorable"] = Measure(len(given), float(sum(a >= 3 for a in given)), 0, 1)
        for v in range(1, 5):
            out[f"item:Q{i}:option:{v}"] = Measure(len(given), float(given.count(v)), 0, 1)
    return out


def build(people, dims=("class", "year"), n_items=1):
    """Groups and relations the way analytics.snapshot builds them."""
    by = defaultdict(list)
    for s in people:
        for key in memberships(s, dims):
            by[key].append(s)
    groups = [Group(key, len(ms), measures_of(ms, n_items)) for key, ms in sorted(by.items())]
    return groups, relations_for(set(by), people, dims)


def relations_for(present, people, dims):
    def having(prefix):
        return sorted(k for k in present if k.startswith(prefix) and "|" not in k)

    rels = [("school", having(p)) for p in ("class:", "year:", "gender:")
            if p[:-1] in dims and having(p)]
    cross = sorted(k for k in present if "|" in k)
    for y in having("year:") if "year" in dims else []:
        if "class" in dims:
            rels.append((y, sorted({f"class:{s.cls}" for s in people if f"year:{s.year}" == y})))
        if cross:
            rels.append((y, [c for c in cross if c.startswith(y + "|")]))
    for g in having("gender:") if cross else []:
        rels.append((g, [c for c in cross if c.endswith("|" + g)]))
    return rels


def naive(groups, k=K):
    """Primary suppression only: what a dashboard without complementary suppression shows."""
    decision = Decision(specs=measure_specs(groups, ITEMS))
    decision.hidden_groups = {g.key for g in groups if g.n < k}
    decision.small = set(decision.hidden_groups)
    return decision


def leaks(groups, relations, decision, k=K):
    return audit(publish(groups, decision, k), relations, k, small=decision.small)


def safe(groups, relations, k=K, **kw):
    decision = suppress(groups, relations, k, items=ITEMS, **kw)
    assert leaks(groups, relations, decision, k) == []
    return decision


MIXED = [[1], [2], [3], [3], [4]]


def mixed(cls, count, year=7, gender="girl"):
    return [Student(cls, MIXED[i % 5], year, gender) for i in range(count)]


# ------------------------------------------------------------------ banding (rule 4)


@pytest.mark.parametrize("n, top", [(10, 80), (19, 80), (20, 90), (39, 90), (40, 95), (99, 95),
                                    (100, 98), (299, 98), (300, 99), (5000, 99)])
def test_percentages_are_top_coded_by_group_size(n, top):
    assert band_percent(1.0, n) == {"band": "top", "bound": top, "display": f"{top}% or more"}
    assert band_percent(0.0, n)["display"] == f"{100 - top}% or less"
    assert band_percent(top / 100, n)["band"] == "top"


def test_a_unanimous_group_never_shows_100_or_0_percent():
    for n in (10, 25, 60, 150, 400):
        assert "value" not in band_percent(1.0, n)
        assert "value" not in band_percent(0.0, n)
        assert band_percent(0.999, n).get("value") != 100


def test_middle_percentages_are_whole_numbers():
    assert band_percent(0.634, 50) == {"value": 63, "display": "63%"}
    assert band_percent(0.635, 50)["value"] == 64


def test_a_unanimous_mean_is_banded_like_a_percentage():
    assert band_mean(4.0, 25, 1, 4) == {"band": "top", "bound": 3.7, "display": "3.70 or more"}
    assert band_mean(1.0, 12, 1, 4)["band"] == "bottom"
    assert band_mean(2.876, 25, 1, 4) == {"value": 2.88, "display": "2.88"}


# ------------------------------------------------------------------ publication


def test_hidden_cells_carry_one_marker_and_no_number():
    groups, rels = build(mixed("a", 4) + mixed("b", 25) + mixed("c", 30))
    decision = safe(groups, rels)
    out = publish(groups, decision, K)
    hidden = [out["groups"][key] for key in decision.hidden_groups]
    assert hidden and all(h == hidden[0] and set(h) == {"suppressed", "reason"} for h in hidden)
    assert not any(isinstance(v, int | float) for h in hidden for v in h.values()
                   if not isinstance(v, bool))


def test_shown_groups_show_exact_size_rounded_values_and_answer_counts():
    groups, rels = build(mixed("a", 12) + mixed("b", 25))
    out = publish(groups, safe(groups, rels), K)
    school = out["groups"]["school"]
    assert school["n"] == 37
    # an item's mean of fewer than 300 answers is published to one decimal (2.54 true)
    assert school["measures"]["item:Q0:mean"] == {"value": 2.5, "display": "2.5", "n": 37}
    assert school["measures"]["item:Q0:option:3"]["value"] == 38
    assert out["measures"]["item:Q0:mean"]["weights"] == [1, 2, 3, 4]


# ------------------------------------------------------------------ worked leaks


def test_a_line_with_one_hidden_cell_gives_it_away_and_suppress_hides_a_second():
    groups, rels = build(mixed("a", 4) + mixed("b", 20) + mixed("c", 25))
    found = leaks(groups, rels, naive(groups))
    assert any(f.group == "class:a" and f.condition == "count" for f in found)
    decision = safe(groups, rels)
    assert decision.hidden_groups == {"class:a", "class:b"}
    assert "complementary" in decision.reasons["class:b"]


def test_hidden_cells_summing_under_k_narrow_each_other():
    groups, rels = build(mixed("a", 3) + mixed("b", 4) + mixed("c", 30) + mixed("d", 28))
    found = leaks(groups, rels, naive(groups))
    assert any(f.group == "class:a" and "7-9" in f.detail for f in found)
    decision = safe(groups, rels)
    assert {"class:a", "class:b"} < decision.hidden_groups
    assert sum(g.n for g in groups if g.key in decision.hidden_groups) >= K


def test_school_minus_the_large_bands_gives_away_a_small_band():
    people = mixed("a", 30, gender="girl") + mixed("b", 28, gender="boy")
    people += mixed("b", 3, gender="nonbinary")
    groups, rels = build(people, dims=("gender",))
    found = leaks(groups, rels, naive(groups))
    assert [f.group for f in found if f.condition == "count"] == ["gender:nonbinary"]
    decision = safe(groups, rels)
    assert "gender:boy" in decision.hidden_groups and "school" not in decision.hidden_groups


def test_district_minus_schools_gives_away_a_small_school():
    schools = {"a": 6, "b": 40, "c": 55}
    groups = []
    for key, n in schools.items():
        g, _ = build(mixed(key, n), dims=())
        groups.append(Group(f"school:{key}", n, g[0].measures))
    total = {m: Measure(sum(x.measures[m].n for x in groups), sum(x.measures[m].total
                                                                  for x in groups), v.lo, v.hi)
             for m, v in groups[0].measures.items()}
    groups.append(Group("district", sum(schools.values()), total))
    rels = [("district", [f"school:{s}" for s in schools])]
    assert any(f.group == "school:a" for f in leaks(groups, rels, naive(groups)))
    assert safe(groups, rels).hidden_groups == {"school:a", "school:b"}


def test_a_unanimous_hidden_pool_pins_its_mean_and_suppress_breaks_it():
    people = students("a", 4, [3]) + students("b", 6, [3]) + mixed("c", 30)
    groups, rels = build(people, dims=("class",))
    decision = naive(groups)
    assert decision.hidden_groups == {"class:a", "class:b"}
    found = leaks(groups, rels, decision)
    assert not [f for f in found if f.condition == "count"]
    pinned = {(f.group, f.measure) for f in found if f.condition == "value"}
    assert ("class:a", "item:Q0:mean") in pinned and ("class:a", "item:Q0:option:3") in pinned
    decision = safe(groups, rels)
    assert ("class:c", "item:Q0:mean") in decision.hidden_measures
    assert ("school", "item:Q0:mean") not in decision.hidden_measures


def test_a_two_way_table_needs_a_hidden_rectangle():
    people = (mixed("a", 30, 7, "girl") + mixed("a", 3, 7, "boy")
              + mixed("b", 26, 8, "girl") + mixed("b", 24, 8, "boy"))
    groups, rels = build(people, dims=("year", "gender", "cross"))
    found = leaks(groups, rels, naive(groups))
    assert any(f.group == "year:7|gender:boy" for f in found)
    hidden = safe(groups, rels).hidden_groups
    assert {"year:7|gender:boy", "year:7|gender:girl", "year:8|gender:boy",
            "year:8|gender:girl"} <= hidden
    assert not hidden & {"school", "year:7", "year:8", "gender:girl", "gender:boy"}


def test_a_small_school_in_a_district_whose_schools_publish_their_own_dashboards():
    own = {}
    for key, n in {"a": 6, "b": 40, "c": 55}.items():
        g, r = build(mixed(key, n), dims=())
        own[key] = (g, r, publish(g, suppress(g, r, K, items=ITEMS), K))
    groups = [Group(f"school:{key}", g[0].n, g[0].measures) for key, (g, _, _) in own.items()]
    total = {m: Measure(sum(x.measures[m].n for x in groups),
                        sum(x.measures[m].total for x in groups), v.lo, v.hi)
             for m, v in groups[0].measures.items()}
    groups.append(Group("district", 101, total))
    rels = [("district", [g.key for g in groups[:-1]])]
    also = [(pub, r) for _, r, pub in own.values()]
    same = [((0, f"school:{key}"), (i + 1, "school")) for i, key in enumerate(own)]
    decision = suppress(groups, rels, K, items=ITEMS, also=also, same=same)
    # hiding school:b would not help: its own dashboard shows it. The district goes.
    assert decision.hidden_groups == {"school:a", "district"}
    assert any("district" in note for note in decision.notes)
    out = publish(groups, decision, K)
    assert audit(out, rels, K, also=also, same=same, small=decision.small) == []
    naive_out = publish(groups, naive(groups), K)
    assert audit(naive_out, rels, K, also=also, same=same, small={"school:a"})


def test_an_item_few_answered_in_a_shown_class_is_hidden_with_a_partner():
    people = [Student("a", [None]) for _ in range(16)] + students("a", 4, [4])
    people += mixed("b", 25) + mixed("c", 22)
    groups, rels = build(people, dims=("class",))
    decision = safe(groups, rels)
    assert "class:a" not in decision.hidden_groups
    assert ("class:a", "item:Q0:mean") in decision.hidden_measures
    assert len({g for g, m in decision.hidden_measures if m == "item:Q0:mean"}) >= 2


# ------------------------------------------------------------------ waves


def test_change_is_allowed_only_for_cells_shown_in_both_waves():
    first, rels = build(mixed("a", 4) + mixed("b", 25) + mixed("c", 30))
    second, rels2 = build(mixed("a", 12) + mixed("b", 25) + mixed("c", 3))
    before = publish(first, safe(first, rels), K)
    after = publish(second, safe(second, rels2), K)
    assert change_allowed(before, after, "school", "item:Q0:mean")
    assert not change_allowed(before, after, "class:a", "item:Q0:mean")  # hidden before
    assert not change_allowed(before, after, "class:c", "item:Q0:mean")  # hidden after
    assert not change_allowed(before, after, "class:z", "item:Q0:mean")  # not a group
    for key in before["groups"]:
        if change_allowed(before, after, key, "item:Q0:mean"):
            assert not before["groups"][key].get("suppressed")
            assert not after["groups"][key].get("suppressed")


def test_change_is_not_allowed_across_different_scales():
    groups, rels = build(mixed("a", 25) + mixed("b", 25))
    before = publish(groups, safe(groups, rels), K)
    after = publish(groups, safe(groups, rels), K)
    after["measures"]["item:Q0:mean"] = {**after["measures"]["item:Q0:mean"], "hi": 5}
    assert not change_allowed(before, after, "school", "item:Q0:mean")


# ------------------------------------------------------------------ inputs


def test_relations_that_do_not_add_up_are_refused():
    groups, rels = build(mixed("a", 12) + mixed("b", 25))
    with pytest.raises(ValueError, match="not the sum"):
        suppress(groups, [("school", ["class:a"])], K, items=ITEMS)
    with pytest.raises(ValueError, match="between 5 and 30"):
        suppress(groups, rels, 4, items=ITEMS)


def test_item_links_are_read_off_the_options_when_the_data_tells():
    people = [Student("a", [v]) for v, count in ((1, 1), (2, 2), (3, 4), (4, 8))
              for _ in range(count)]
    groups, _ = build(people, dims=())
    specs = measure_specs(groups)
    assert specs["item:Q0:favorable"]["weights"] == [0, 0, 1, 1]
    assert specs["item:Q0:mean"]["weights"] == [1, 2, 3, 4]
    ambiguous, _ = build([Student("a", [v]) for v in (1, 2, 2, 3, 4, 4, 4)] * 3, dims=())
    with pytest.raises(ValueError, match="favorable"):
        measure_specs(ambiguous)


def test_a_reverse_keyed_item_links_its_mean_to_flipped_options():
    people = [Student("a", [v]) for v in (1, 1, 2, 3, 4)] * 3
    groups, _ = build(people, dims=())
    flipped = [Group(g.key, g.n, {**g.measures, "item:Q0:mean": Measure(
        g.measures["item:Q0:mean"].n, 5 * g.measures["item:Q0:mean"].n
        - g.measures["item:Q0:mean"].total, 1, 4)}) for g in groups]
    specs = measure_specs(flipped, {"Q0": ItemScale(True, frozenset({1, 2}))})
    assert specs["item:Q0:mean"]["weights"] == [4, 3, 2, 1]
    with pytest.raises(ValueError, match="mean"):
        measure_specs(flipped, {"Q0": ItemScale(False, frozenset({3, 4}))})


def test_an_answer_nobody_gave_still_ends_in_a_safe_publication():
    """Found by the property tests: nobody chose option 2, and the exact shares make
    that derivable for a one-student class through the gender table, which is not
    next to the class. Suppression widens its search until the audit passes."""
    people = (students("c0", 10, [1], 9) + students("c1", 7, [3], 8) + students("c2", 1, [1], 7)
              + students("c3", 7, [1], 8) + students("c3", 9, [1], 8, "boy")
              + students("c0", 1, [1], 9, "boy"))
    groups, rels = build(people, dims=("class", "year", "gender", "cross"))
    decision = safe(groups, rels)
    # the last shown group's item (whose "100% agree", banded, the rest pinned too)
    assert {("gender:girl", f"item:Q0:option:{v}") for v in range(1, 5)} <= \
        decision.hidden_measures


def test_hidden_cells_mirrored_from_another_publication_are_hidden_here():
    """`suppress(hidden=...)` hides what another publication of the same respondents
    hides, a measure this one lacks included (it has no family here: nothing to keep)."""
    people = mixed("7A", 14) + mixed("7B", 12) + mixed("8A", 15, year=8)
    groups, relations = build(people)
    mirrored = [("class:7A", "item:Q0:mean"), ("class:7A", "item:Q9:mean")]
    decision = safe(groups, relations, hidden=mirrored)
    assert ("class:7A", "item:Q0:mean") in decision.hidden_measures
    assert "suppressed" in publish(groups, decision, K)["groups"]["class:7A"]["measures"][
        "item:Q0:mean"]


def test_an_item_nobody_in_a_shown_group_answered_is_hidden_and_audited():
    """Every student of class b skipped Q1 (answers may be partial): its measures have
    no answers, so no value; they are hidden, and the audit reads a true total of
    nobody (a school's row in the district's audit, `exact_unit`) as zero."""
    people = students("a", 12, [3, 4]) + students("b", 6, [2, None]) + students("b", 6, [3, None])
    groups, relations = build(people, dims=("class",), n_items=2)
    b = next(g for g in groups if g.key == "class:b")
    assert b.n == 12 and b.measures["item:Q1:mean"].n == 0
    decision = safe(groups, relations)
    shown = publish(groups, decision, K)
    assert all(shown["groups"]["class:b"]["measures"][f"item:Q1:{m}"]["suppressed"]
               for m in ("mean", "favorable", "option:1", "option:4"))
    exact = exact_unit(b, K, shown["measures"])
    assert exact["groups"]["school"]["measures"]["item:Q1:mean"] == {"n": 0, "total": 0.0}
    assert audit(shown, relations, K, small=decision.small, also=[(exact, [])],
                 same=[((0, "class:b"), (1, "school"))]) == []
