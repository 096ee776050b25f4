"""The district's audit split by part (analytics.snapshot.split_whole): parts that enter
it whole (neither their school's exact totals nor the district bound made them safe)
are each audited in a view of their own, beside the other schools' true totals, so
that its cost grows with such parts, not with their square. The whole, audited
together (the district's publication and every part whole), still leaks nothing."""

import random

import pytest

from analytics import disclosure
from analytics.audit import View, audit
from analytics.disclosure import Group
from analytics.snapshot import SPLIT_GROUPS, district_links, exact_unit, split_whole
from tests.analytics.test_disclosure import ITEMS, K, build
from tests.analytics.test_district_bound import (
    DIMS,
    district_of,
    part_of,
    school_people,
    stored,
    top,
)


def plain_part(groups, relations, school_id):
    """A part made without a thought for the district level (robust_top False): the
    part of a school neither attempt could protect."""
    decision = disclosure.suppress(groups, relations, K, items=ITEMS)
    return stored(groups, relations, decision, school_id, robust=False)


def district(seed, plain=3, large=True):
    """`plain` small schools whose parts enter whole, and a large one (exact-safe)."""
    rng = random.Random(seed)
    schools = [build(school_people(rng, rng.randint(24, 40)), dims=DIMS, n_items=2)
               for _ in range(plain)]
    if large:
        schools.append(build(school_people(rng, 600), dims=("class",), n_items=2))
    row = district_of(schools)
    parts = [plain_part(g, r, i) for i, (g, r) in enumerate(schools[:plain], 1)]
    parts += [part_of(*schools[plain], row, plain + 1)] if large else []
    keys = {p.school_id: f"school:S{p.school_id}" for p in parts}
    rows = [Group(keys[i], top(g).n, top(g).measures) for i, (g, _) in enumerate(schools, 1)]
    return parts, keys, rows + [row], [("district", sorted(keys.values()))]


def suppress(rows, relations, links, views):
    also, same, hidden = links
    return disclosure.suppress(rows, relations, K, items=ITEMS, also=also, same=same,
                               hidden=hidden, views=views)


def attacker(parts, keys, rows, relations, decision):
    """Everything published, audited together: the district and every part whole."""
    published = disclosure.publish(rows, decision, K)
    whole = [(dict(p.published, unit=f"S{p.school_id}", small=p.audit["small"]), p.relations)
             for p in parts]
    same = [((0, keys[p.school_id]), (i, "school")) for i, p in enumerate(parts, 1)]
    return audit(published, relations, K, small=decision.small, also=whole, same=same)


def test_each_part_entering_whole_gets_a_view_of_its_own():
    parts, keys, rows, _ = district(4)
    also, same, _ = district_links(parts, keys, rows, K)
    assert [bool(u.get("hypothetical")) for u, _ in also] == [False, False, False, True]
    main, views = split_whole(also, same, rows, K, 0)
    # The main audit keeps them whole, for the district's cells, and leaves theirs.
    assert [u.get("checked") for u, _ in main] == [False, False, False, None]
    assert [dict(u, checked=None) for u, _ in main[:3]] == [
        dict(u, checked=None) for u, _ in also[:3]] and main[3] == also[3]
    assert len(views) == 3
    whole = next(r for r in rows if r.key == "district")
    for view, key in zip(views, ["school:S1", "school:S2", "school:S3"], strict=True):
        # The part whole, the district and its school's row, and the other schools
        # together as their true totals: the district's less its school's.
        assert view.also == (also[int(key[-1]) - 1],)
        assert view.same == (((0, key), (1, "school")),)
        assert view.keep == {"district", key} and view.skip == {"district"}
        (parent, rest), = view.rest
        school = next(r for r in rows if r.key == key)
        assert parent == "district" and rest["n"] == whole.n - school.n
        for m, entry in rest["measures"].items():
            assert entry == {"n": whole.measures[m].n - school.measures[m].n,
                             "total": whole.measures[m].total - school.measures[m].total}


def every_school_exact(also, same, rows, k):
    """The views as they were before `View.keep`: the district's publication whole, the
    part whole and every other school as its own true totals (`exact_unit`)."""
    by_key, order = {r.key: r for r in rows}, {i: key for (_, key), (i, _) in same}
    views = []
    for view in split_whole(also, same, rows, k, 0)[1]:
        (_, mine), _ = view.same[0]
        others = [j for j in sorted(order) if order[j] != mine]
        units = view.also + tuple((exact_unit(by_key[order[j]], k, also[j - 1][0]["measures"],
                                              f"exact:{j}"), []) for j in others)
        links = view.same + tuple(((0, order[j]), (n, "school"))
                                  for n, j in enumerate(others, start=2))
        views.append(View(units, links, frozenset(by_key) - {mine}))
    return views


@pytest.mark.parametrize(("seed", "leaks"), [(3, False), (5, False), (8, True), (10, True)])
def test_a_view_with_the_rest_as_one_row_finds_what_every_school_exact_finds(seed, leaks):
    """The other schools, each known exactly, state together only their sum: a view
    holding that sum as one row finds the same cells as one holding every school, on
    publications with leaks (the parts' views ignored) and without."""
    parts, keys, rows, relations = district(seed)
    also, same, hidden = district_links(parts, keys, rows, K)
    main, views = split_whole(also, same, rows, K, 0)
    before = every_school_exact(also, same, rows, K)
    skip, found = {r.key for r in rows}, []
    for decision in (suppress(rows, relations, (main, same, hidden), ()),
                     suppress(rows, relations, (main, same, hidden), views)):
        published = disclosure.publish(rows, decision, K)
        found.append([{(f.group, f.measure, f.condition) for f in audit(
            published, relations, K, small=decision.small, skip=skip, views=v)}
            for v in (views, before)])
    (blind, blind_before), (seen, seen_before) = found
    assert blind == blind_before and bool(blind) == leaks
    assert seen == seen_before == set() and len(before[0].also) == len(parts)


def test_one_part_whole_or_small_parts_are_not_split():
    """Split only from two parts on, holding more than `most` groups together (here,
    three parts of 13 to 14 groups): a small program costs little at once, and at once
    it hides least."""
    parts, keys, rows, _ = district(4, plain=1)
    also, same, _ = district_links(parts, keys, rows, K)
    assert split_whole(also, same, rows, K, 0) == (also, ())
    parts, keys, rows, _ = district(4)
    also, same, _ = district_links(parts, keys, rows, K)
    size = sum(len(p.published["groups"]) for p in parts[:3])
    assert split_whole(also, same, rows, K) == (also, ()) and size <= SPLIT_GROUPS
    assert split_whole(also, same, rows, K, size) == (also, ())
    assert len(split_whole(also, same, rows, K, size - 1)[1]) == 3


def test_a_school_with_a_small_row_stays_whole_in_the_main_audit():
    """A school under k: its row's hidden cells may be protected by another small
    school's, which its own view would state exactly."""
    parts, keys, rows, _ = district(4)
    tiny = Group("school:S1", K - 1, rows[0].measures)
    also, same, _ = district_links(parts, keys, [tiny] + rows[1:], K)
    main, views = split_whole(also, same, [tiny] + rows[1:], K, 0)
    assert main[0] == also[0] and [u.get("checked") for u, _ in main[1:3]] == [False, False]
    assert [v.also[0] for v in views] == also[1:3]


@pytest.mark.parametrize("seed", [3, 5, 7, 14])
def test_the_district_split_by_part_leaks_nothing_audited_together(seed):
    parts, keys, rows, relations = district(seed)
    also, same, hidden = district_links(parts, keys, rows, K)
    main, views = split_whole(also, same, rows, K, 0)
    decision = suppress(rows, relations, (main, same, hidden), views)
    assert attacker(parts, keys, rows, relations, decision) == []


@pytest.mark.parametrize("seed", [8, 10])
def test_the_views_check_the_parts_cells(seed):
    """The main audit leaves the parts' cells to their views: decided without the views,
    the district shows what, with the other schools' totals known, narrows hidden
    cells inside a part (a subgroup's option share); with them, it hides more."""
    parts, keys, rows, relations = district(seed)
    also, same, hidden = district_links(parts, keys, rows, K)
    main, views = split_whole(also, same, rows, K, 0)

    def inside(decision):
        published = disclosure.publish(rows, decision, K)
        return [f for f in audit(published, relations, K, small=(), skip={r.key for r in rows},
                                 views=views) if "/" in f.group]

    blind = suppress(rows, relations, (main, same, hidden), ())
    assert inside(blind) and {f.condition for f in inside(blind)} == {"value"}
    seen = suppress(rows, relations, (main, same, hidden), views)
    assert inside(seen) == [] and seen.hidden_measures > blind.hidden_measures
    assert attacker(parts, keys, rows, relations, seen) == []


def one_hidden():
    """A line with one hidden cell, "a", which leaks: (published, relations, decision)."""
    rows = [Group(key, n, {}) for key, n in (("all", 30), ("a", 3), ("b", 27))]
    decision = disclosure.Decision(specs={})
    decision.hidden_groups.add("a")
    decision.small.add("a")
    return disclosure.publish(rows, decision, K), [("all", ["a", "b"])], decision


def test_a_skipped_group_is_not_checked():
    """`skip` leaves a group's cells to another audit: a line with one hidden cell
    leaks it, unless that cell's group is skipped."""
    published, relations, decision = one_hidden()
    assert audit(published, relations, K, small=decision.small)
    assert audit(published, relations, K, small=decision.small, skip={"a"}) == []
    again = View((), (), frozenset())
    assert audit(published, relations, K, small=decision.small, skip={"a"}, views=[again])


def test_a_group_a_view_checks_is_checked_there_only():
    """The main audit skips what a view checks: a leak is reported once, by the view
    that checks it, not again by the main audit."""
    published, relations, decision = one_hidden()
    alone = audit(published, relations, K, small=decision.small)
    assert alone and {f.group for f in alone} == {"a"}
    again = View((), (), frozenset())
    assert audit(published, relations, K, small=decision.small, views=[again]) == alone
    elsewhere = View((), (), frozenset({"a"}))
    assert audit(published, relations, K, small=decision.small, views=[elsewhere]) == alone


def test_a_unit_marked_unchecked_leaves_its_cells_to_another_audit():
    rows = [Group(key, n, {}) for key, n in (("all", 30), ("a", 3), ("b", 27))]
    decision = disclosure.Decision(specs={})
    decision.hidden_groups.add("a")
    other = disclosure.publish(rows, decision, K)
    mine = disclosure.publish([Group("all", 30, {})], disclosure.Decision(specs={}), K)
    same = [((0, "all"), (1, "all"))]
    assert audit(mine, [], K, small=(), also=[(other, [("all", ["a", "b"])])], same=same)
    unchecked = dict(other, checked=False)
    assert audit(mine, [], K, small=(), also=[(unchecked, [("all", ["a", "b"])])],
                 same=same) == []
