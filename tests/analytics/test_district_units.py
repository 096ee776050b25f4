"""How a school's part enters the district level's audit (analytics.snapshot):
`exact_school` states the school's true totals only for families whose school-row values
are shown unbanded, and `part_units` sends the district level the school row alone for
those families and the whole part for the rest."""

from types import SimpleNamespace

from analytics import disclosure
from analytics.audit import audit
from analytics.snapshot import _stated_families, exact_school, part_units
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


def all_families_stated(groups, specs):
    """The hypothesis as it was before families were chosen: every school-row total."""
    top = next(g for g in groups if g.key == "school")
    entries = {key: {"n": m.n, "total": m.total} for key, m in top.measures.items()}
    pub = {"k": K, "banding": [list(b) for b in disclosure.BANDING], "unit": "exact",
           "measures": specs, "groups": {"school": {"suppressed": False, "n": top.n,
                                                    "measures": entries}}}
    return [(pub, [])], [((0, "school"), (1, "school"))]


def test_exact_totals_leave_out_a_family_the_school_row_shows_as_a_band():
    groups, _ = mixed_school()
    specs = disclosure.measure_specs(groups, ITEMS)
    school = next(g for g in groups if g.key == "school")
    assert "band" in disclosure.shown_value(school.measures["item:Q0:option:4"],
                                            specs["item:Q0:option:4"])
    links = exact_school(groups, K, specs)
    assert _stated_families(links) == ["component:perceptions", "item:Q1"]
    stated = links[0][0][0]["groups"]["school"]["measures"]
    assert not any(key.startswith("item:Q0:") for key in stated)


def test_a_small_school_states_no_totals():
    people = students("a", K - 1, [3, 4])
    groups, _ = build(people, dims=("class",), n_items=2)
    specs = disclosure.measure_specs(groups, ITEMS)
    assert exact_school(groups, K, specs) is None


def test_the_school_row_keeps_a_banded_item_it_would_lose_to_exact_totals():
    groups, relations = mixed_school()
    specs = disclosure.measure_specs(groups, ITEMS)
    q0 = {key for key in specs if key.startswith("item:Q0:")}

    def hidden_in_school_row(links):
        also, same = links
        decision = disclosure.suppress(groups, relations, K, items=ITEMS, also=also,
                                       same=same)
        published = disclosure.publish(groups, decision, K)
        assert audit(published, relations, K, small=decision.small, also=also,
                     same=same) == []
        return {key for g, key in decision.hidden_measures if g == "school"}

    # Stating the banded family's true totals pins its band whatever is hidden nearby:
    # the school row loses the whole item. Stating only the unbanded families keeps it.
    assert q0 <= hidden_in_school_row(all_families_stated(groups, specs))
    assert not q0 <= hidden_in_school_row(exact_school(groups, K, specs))


def fake_part(published, audit_report, relations=()):
    return SimpleNamespace(published=published, audit=audit_report, relations=list(relations),
                           school=SimpleNamespace(public_id="S1"))


def two_family_publication(hide_in_school=()):
    specs = {"item:Q0:mean": {"family": "item:Q0"}, "item:Q1:mean": {"family": "item:Q1"}}

    def entry(group, key):
        if (group, key) in hide_in_school:
            return {"suppressed": True}
        return {"n": 20, "value": 2.5}

    groups = {g: {"suppressed": False, "n": 20,
                  "measures": {key: entry(g, key) for key in specs}}
              for g in ("school", "class:a")}
    return {"k": K, "measures": specs, "groups": groups}


def test_a_part_enters_by_its_school_row_for_stated_families_and_whole_for_the_rest():
    relations = [["school", ["class:a"]]]
    part = fake_part(two_family_publication(),
                     {"robust_top": True, "robust_families": ["item:Q0"],
                      "small": ["class:b", ["class:a", "item:Q1:mean"],
                                ["class:a", "item:Q0:mean"]]}, relations)
    (row, row_rels), (whole, whole_rels) = part_units(part)
    assert set(row["groups"]) == {"school"} and row_rels == []
    assert set(row["measures"]) == {"item:Q0:mean"}
    assert set(whole["groups"]) == {"school", "class:a"} and whole_rels == relations
    assert set(whole["measures"]) == {"item:Q1:mean"}
    assert set(whole["groups"]["class:a"]["measures"]) == {"item:Q1:mean"}
    assert whole["small"] == [["class:a", "item:Q1:mean"]]


def test_a_family_the_school_row_hides_enters_whole():
    part = fake_part(two_family_publication({("school", "item:Q0:mean")}),
                     {"robust_top": True, "robust_families": ["item:Q0", "item:Q1"],
                      "small": []}, [["school", ["class:a"]]])
    (row, _), (whole, _) = part_units(part)
    assert set(row["measures"]) == {"item:Q1:mean"}
    assert set(whole["measures"]) == {"item:Q0:mean"}


def test_a_part_written_before_families_were_reported_and_one_never_robust():
    old = fake_part(two_family_publication(), {"robust_top": True, "small": []})
    (row, _), = part_units(old)
    assert set(row["groups"]) == {"school"} and len(row["measures"]) == 2
    small = fake_part(two_family_publication(), {"robust_top": False, "small": []},
                      [["school", ["class:a"]]])
    (whole, rels), = part_units(small)
    assert set(whole["groups"]) == {"school", "class:a"} and rels == [["school", ["class:a"]]]
