"""How a school's part enters the district level's audit (analytics.snapshot): a part
audited with its school's true totals stated (`exact_school`) enters the district's
audit as those true totals, the most anything can tell about them; any other part
enters whole, with its relations."""

from types import SimpleNamespace

from analytics import disclosure
from analytics.audit import audit
from analytics.snapshot import district_links, exact_school
from tests.analytics.test_disclosure import ITEMS, K, build, students


def mixed_school():
    """45 students in three classes: Q0 nearly unanimous (the school row's share of the
    top answer is a band), Q1 spread over every option."""
    people = []
    for cls, spread in (("a", [1, 2, 3, 4]), ("b", [2, 3, 4, 1]), ("c", [3, 4, 1, 2])):
        for i in range(15):
            q0 = 3 if (cls, i) == ("a", 0) else 4
            people += students(cls, 1, [q0, spread[i % 4]])
    return build(people, dims=("class",), n_items=2)


def test_exact_totals_state_every_measure_of_a_large_school():
    groups, _ = mixed_school()
    specs = disclosure.measure_specs(groups, ITEMS)
    (unit, rels), = exact_school(groups, K, specs)[0]
    school = next(g for g in groups if g.key == "school")
    stated = unit["groups"]["school"]["measures"]
    assert rels == [] and set(stated) == set(school.measures)
    assert all(stated[m] == {"n": v.n, "total": v.total} for m, v in school.measures.items())


def test_a_small_school_states_no_totals():
    people = students("a", K - 1, [3, 4])
    groups, _ = build(people, dims=("class",), n_items=2)
    specs = disclosure.measure_specs(groups, ITEMS)
    assert exact_school(groups, K, specs) is None


def test_with_exact_totals_the_school_row_hides_an_item_it_would_show_as_a_band():
    """The price of a district level that needs only the schools' totals: a band in the
    school row would be pinned by them, so the school row hides the item, and the
    audit with the totals stated passes."""
    groups, relations = mixed_school()
    specs = disclosure.measure_specs(groups, ITEMS)
    also, same = exact_school(groups, K, specs)
    decision = disclosure.suppress(groups, relations, K, items=ITEMS, also=also, same=same)
    published = disclosure.publish(groups, decision, K)
    assert audit(published, relations, K, small=decision.small, also=also, same=same) == []
    row = published["groups"]["school"]["measures"]
    assert all(row[m].get("suppressed") for m in specs if m.startswith("item:Q0:"))
    assert not any(row[m].get("suppressed") for m in specs if m.startswith("item:Q1:"))
    # Without the totals stated the school row keeps the item, banded.
    plain = disclosure.suppress(groups, relations, K, items=ITEMS)
    shown = disclosure.publish(groups, plain, K)["groups"]["school"]["measures"]
    assert shown["item:Q0:option:4"].get("band") == "top"


def fake_part(published, audit_report, relations=(), school_id=1):
    return SimpleNamespace(published=published, audit=audit_report, relations=list(relations),
                           school_id=school_id, school=SimpleNamespace(public_id=f"S{school_id}"))


def test_a_robust_part_enters_the_district_audit_as_its_schools_true_totals():
    groups, relations = mixed_school()
    specs = disclosure.measure_specs(groups, ITEMS)
    also, same = exact_school(groups, K, specs)
    decision = disclosure.suppress(groups, relations, K, items=ITEMS, also=also, same=same)
    published = disclosure.publish(groups, decision, K)
    part = fake_part(published, {"robust_top": True, "small": []}, relations)
    school = next(g for g in groups if g.key == "school")
    row = disclosure.Group("school:S1", school.n, school.measures)
    (unit, rels), = district_links([part], {1: "school:S1"}, [row], K)[0]
    assert rels == [] and set(unit["groups"]) == {"school"}
    assert unit["groups"]["school"]["measures"]["item:Q0:mean"]["total"] == \
        school.measures["item:Q0:mean"].total
    # What the part hides in its school row is hidden in the district's row for it.
    _, same, hidden = district_links([part], {1: "school:S1"}, [row], K)
    assert same == [((0, "school:S1"), (1, "school"))]
    assert ("school:S1", "item:Q0:mean") in hidden


def test_a_part_of_a_small_school_enters_whole():
    people = students("a", K - 1, [3, 4])
    groups, relations = build(people, dims=("class",), n_items=2)
    decision = disclosure.suppress(groups, relations, K, items=ITEMS)
    published = disclosure.publish(groups, decision, K)
    part = fake_part(published, {"robust_top": False, "small": ["school"]}, relations)
    row = disclosure.Group("school:S1", K - 1, {})
    also, _, hidden = district_links([part], {1: "school:S1"}, [row], K)
    (unit, rels), = also
    assert set(unit["groups"]) == set(published["groups"]) and rels == relations
    assert unit["small"] == ["school"] and hidden == ["school:S1"]
