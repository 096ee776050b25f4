"""A part whose school's exact totals would pin its small cells is made safe against
what the district level can tell about them: the district row and every other school's
exact totals (analytics.district_bound). Such a part enters the district's audit as its
school's true totals, so that audit stays the size of the district table; and the
whole, audited together (the district's publication and every part whole), leaks
nothing."""

import random
from types import SimpleNamespace

import pytest

from analytics import disclosure, district_bound
from analytics.audit import audit
from analytics.disclosure import Group, Measure
from analytics.snapshot import EXACT_FIRST_FROM, attempts, district_links, exact_school
from tests.analytics.test_disclosure import ITEMS, K, Student, build

DIMS = ("class", "year", "gender", "cross")
PATIENCE = 15


def school_people(rng, n):
    """Two classes (one a year level), genders 45/45/10: a few "another" students."""
    people = []
    for i in range(n):
        cls = "a" if i < n // 2 else "b"
        gender = rng.choices(["girl", "boy", "another"], [45, 45, 10])[0]
        base = rng.choice([2, 3, 3, 4])
        answers = [max(1, min(4, base + rng.choice([-1, 0, 0, 1]))) for _ in range(2)]
        people.append(Student(cls, answers, 7 if cls == "a" else 8, gender))
    return people


def district_of(schools):
    tops = [next(g for g in groups if g.key == "school") for groups, _ in schools]
    measures = {key: Measure(sum(t.measures[key].n for t in tops),
                             sum(t.measures[key].total for t in tops), m.lo, m.hi)
                for key, m in tops[0].measures.items()}
    return Group("district", sum(t.n for t in tops), measures)


def wave(seed):
    """Two small schools and a large one (whose part is not needed: only its totals)."""
    rng = random.Random(seed)
    schools = [build(school_people(rng, rng.randint(24, 40)), dims=DIMS, n_items=2)
               for _ in range(2)]
    schools.append(build(school_people(rng, 600), dims=("class",), n_items=2))
    return schools, district_of(schools)


def top(groups):
    return next(g for g in groups if g.key == "school")


def attempt(groups, relations, links, patience=PATIENCE):
    also, same = links or ((), ())
    return disclosure.suppress(groups, relations, K, items=ITEMS, also=also, same=same,
                               patience=patience if links else None)


def test_the_district_row_and_the_rest_bound_the_schools_total():
    """60% of 50 answers is exactly 30: with the rest's 18 known, the school's 12."""
    def group(key, n, fav):
        return Group(key, n, {"item:Q0:favorable": Measure(n, float(fav), 0, 1)})

    school, district = group("school", 20, 12), group("district", 50, 30)
    specs = disclosure.measure_specs([school, district], ITEMS)
    assert district_bound.ranges(school, district, K, specs) == {"item:Q0:favorable": (12, 12)}
    # 50% of 400 answers is 198 to 201 (whole percent, half up): the school's 10 +- 2.
    school, district = group("school", 20, 10), group("district", 400, 200)
    lo, hi = district_bound.ranges(school, district, K, specs)["item:Q0:favorable"]
    assert (lo, hi) == (8, 11)


def test_the_unit_bounds_every_answered_measure_and_is_never_published():
    schools, district = wave(4)
    groups, _ = schools[0]
    specs = disclosure.measure_specs(groups, ITEMS)
    (unit, rels), = district_bound.links(top(groups), district, K, specs)[0]
    row = unit["groups"]["school"]
    assert unit["hypothetical"] and rels == [] and set(row["measures"]) == set(top(groups).measures)
    for key, entry in row["measures"].items():
        lo, hi = entry["range"]
        assert entry["n"] == top(groups).measures[key].n
        assert lo - 1e-9 <= top(groups).measures[key].total <= hi + 1e-9
    with pytest.raises(ValueError, match="'school' group"):
        district_bound.links(district, district, K, specs)


@pytest.mark.parametrize("seed", [4, 5, 13])
def test_a_part_exact_totals_cannot_protect_is_protected_within_the_district_bound(seed):
    schools, district = wave(seed)
    groups, relations = schools[0]
    specs = disclosure.measure_specs(groups, ITEMS)
    with pytest.raises(RuntimeError, match="cannot make the publication safe"):
        attempt(groups, relations, exact_school(groups, K, specs))
    links = district_bound.links(top(groups), district, K, specs)
    decision = attempt(groups, relations, links)
    published = disclosure.publish(groups, decision, K)
    assert audit(published, relations, K, small=decision.small, also=links[0],
                 same=links[1]) == []


def tried(groups, district):
    specs = disclosure.measure_specs(groups, ITEMS)
    return ["none" if links is None else "bound" if bound else "exact"
            for links, bound in attempts(groups, K, specs, lambda: district)]


def test_a_small_school_tries_the_bound_only_and_a_large_one_its_exact_totals_first():
    schools, district = wave(4)
    assert top(schools[0][0]).n < EXACT_FIRST_FROM <= top(schools[2][0]).n
    assert tried(schools[0][0], district) == ["bound", "none"]
    assert tried(schools[2][0], district) == ["exact", "bound", "none"]
    small_cell = build(school_people(random.Random(1), 8), dims=DIMS, n_items=2)[0]
    assert tried(small_cell, district) == ["none"]  # fewer than k: the district's to protect


def part_of(groups, relations, district, school_id):
    """A part as `snapshot._suppress_part` makes it, trying `snapshot.attempts` in turn."""
    specs = disclosure.measure_specs(groups, ITEMS)
    for links, bound in attempts(groups, K, specs, lambda: district):
        try:
            decision = attempt(groups, relations, links)
        except RuntimeError:
            continue
        return stored(groups, relations, decision, school_id, links is not None, bound)
    raise AssertionError("no attempt succeeded")


def stored(groups, relations, decision, school_id, robust, bound=None):
    """A part as the district level reads it (`SnapshotPart`'s published, audit and
    relations), of school `S<school_id>`."""
    report = {"robust_top": robust, "small": sorted(
        decision.small, key=lambda c: (c,) if isinstance(c, str) else c)}
    if bound is not None:
        report["district_bound"] = bound
    return SimpleNamespace(published=disclosure.publish(groups, decision, K), audit=report,
                           relations=relations, school_id=school_id,
                           school=SimpleNamespace(public_id=f"S{school_id}"))


def district_level(schools, district):
    parts = [part_of(groups, rels, district, i) for i, (groups, rels) in enumerate(schools, 1)]
    keys = {p.school_id: f"school:S{p.school_id}" for p in parts}
    rows = [Group(keys[i], top(g).n, top(g).measures) for i, (g, _) in enumerate(schools, 1)]
    rows.append(district)
    relations = [("district", sorted(keys.values()))]
    also, same, hidden = district_links(parts, keys, rows, K)
    decision = disclosure.suppress(rows, relations, K, items=ITEMS, also=also, same=same,
                                   hidden=hidden)
    return parts, keys, rows, relations, decision, also


@pytest.mark.parametrize("seed", [4, 13])
def test_the_district_level_takes_a_bounded_part_as_its_totals_and_the_whole_leaks_nothing(seed):
    schools, district = wave(seed)
    parts, keys, rows, relations, decision, also = district_level(schools, district)
    assert parts[0].audit.get("district_bound") == district_bound.digest(district)
    assert all(p.audit["robust_top"] for p in parts)
    assert all(set(unit["groups"]) == {"school"} and rels == [] for unit, rels in also)
    # What an attacker holds: the district's publication and every part, whole.
    published = disclosure.publish(rows, decision, K)
    whole = [(dict(p.published, unit=f"S{p.school_id}", small=p.audit["small"]), p.relations)
             for p in parts]
    same = [((0, keys[p.school_id]), (i, "school")) for i, p in enumerate(parts, 1)]
    assert audit(published, relations, K, small=decision.small, also=whole, same=same) == []


def test_a_bounded_part_enters_whole_when_the_districts_totals_have_changed():
    schools, district = wave(4)
    groups, relations = schools[0]
    part = part_of(groups, relations, district, 1)
    assert "district_bound" in part.audit
    moved = Group("district", district.n + 1, district.measures)
    row = Group("school:S1", top(groups).n, top(groups).measures)
    (unit, rels), = district_links([part], {1: "school:S1"}, [row, moved], K)[0]
    assert rels == relations and set(unit["groups"]) == set(part.published["groups"])
    (unit, rels), = district_links([part], {1: "school:S1"}, [row, district], K)[0]
    assert set(unit["groups"]) == {"school"} and rels == []


def test_a_bounded_part_enters_whole_when_the_district_level_asks_it_to():
    """The district level's second try (`snapshot._suppress_district`): when its parts as
    their totals leave a district cell that cannot be hidden, bounded parts enter whole,
    while a part safe with its exact totals still enters as them."""
    schools, district = wave(4)
    bounded = part_of(*schools[0], district, 1)
    exact = part_of(*schools[2], district, 3)
    assert "district_bound" in bounded.audit and "district_bound" not in exact.audit
    keys = {1: "school:S1", 3: "school:S3"}
    rows = [Group(keys[i], top(schools[j][0]).n, top(schools[j][0]).measures)
            for i, j in ((1, 0), (3, 2))] + [district]
    also, _, _ = district_links([bounded, exact], keys, rows, K, bound_whole=True)
    assert set(also[0][0]["groups"]) == set(bounded.published["groups"])
    assert set(also[1][0]["groups"]) == {"school"} and "total" in next(
        iter(also[1][0]["groups"]["school"]["measures"].values()))


@pytest.mark.parametrize("seed", [4, 5])
def test_the_bound_says_more_than_the_part_itself(seed):
    """Suppressed without the bound, the school row shows an option share as a band
    ("10% or less") that the district row and the other schools' totals narrow: the
    audit with the bound refuses that publication, and the part suppressed with it
    passes (the test above)."""
    schools, district = wave(seed)
    groups, relations = schools[0]
    specs = disclosure.measure_specs(groups, ITEMS)
    plain = disclosure.suppress(groups, relations, K, items=ITEMS)
    published = disclosure.publish(groups, plain, K)
    assert audit(published, relations, K, small=plain.small) == []
    also, same = district_bound.links(top(groups), district, K, specs)
    found = audit(published, relations, K, small=plain.small, also=also, same=same)
    assert [(f.group, f.condition) for f in found] == [("school", "band")]
