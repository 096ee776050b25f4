"""A shown value published as a band ("10% or less", "95% or more", "3.70 or more") must
stay a band: the other published numbers of the same answers (option shares add up to
100%; the mean and % favorable follow from the option counts) and the relations must
leave both the band's end (0, or everyone) and a value one respondent off it possible.

The attacker here is written out by hand, independently of the audit: it enumerates
every vector of option counts of a group that `publish` would have shown exactly as it
did, so it knows everything the group's own published numbers say."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from analytics.audit import audit
from analytics.disclosure import band_mean, band_percent, publish, suppress
from tests.analytics.test_audit import hide
from tests.analytics.test_disclosure import ITEMS, K, build, students
from tests.analytics.test_disclosure_properties import FAST, dims_for, schools

OPTIONS = (1, 2, 3, 4)
FAVORABLE = (3, 4)


def class_of(counts, cls="a", year=7):
    """Students of one class answering Q0 with these counts of options 1..4."""
    people = []
    for value, count in zip(OPTIONS, counts, strict=True):
        people += students(cls, count, [value], year)
    return people


def shown(entry):
    return None if entry is None or entry.get("suppressed") else entry["display"]


def consistent(entries, n, counts):
    """Whether `publish` would show these entries for a group with these option counts."""
    def same(key, display):
        return shown(entries.get(key)) in (None, display)

    if not all(same(f"item:Q0:option:{v}", band_percent(c / n, n)["display"])
               for v, c in zip(OPTIONS, counts, strict=True)):
        return False
    mean = sum(v * c for v, c in zip(OPTIONS, counts, strict=True)) / n
    favorable = sum(c for v, c in zip(OPTIONS, counts, strict=True) if v in FAVORABLE) / n
    places = 1 if n < 300 else 2  # an item's mean: one decimal under 300 answers
    return (same("item:Q0:mean", band_mean(mean, n, 1, 4, places)["display"])
            and same("item:Q0:favorable", band_percent(favorable, n)["display"]))


def feasible_counts(published, group):
    """Every option-count vector of `group` its own published numbers allow (each
    shown share is tried over the counts it could round from, a band over its band)."""
    entry = published["groups"][group]
    n, entries = entry["n"], entry["measures"]
    answers = next((e["n"] for key, e in sorted(entries.items())
                    if key.startswith("item:Q0:") and "n" in e), n)
    per_option = []
    for v in OPTIONS:
        e = entries.get(f"item:Q0:option:{v}")
        per_option.append([c for c in range(answers + 1)
                           if shown(e) in (None, band_percent(c / answers, answers)["display"])])
    return [c for c in itertools.product(*per_option)
            if sum(c) == answers and consistent(entries, answers, c)]


def banded_options(published, group):
    entries = published["groups"][group]["measures"]
    return [v for v in OPTIONS if (entries.get(f"item:Q0:option:{v}") or {}).get("band")]


def pinned_bands(published, group):
    """Banded option shares of `group` whose count its own numbers pin to one value, or
    that cannot be at the band's end, or cannot be one respondent off it."""
    entries = published["groups"][group]["measures"]
    vectors = feasible_counts(published, group)
    out = []
    for v in banded_options(published, group):
        values = {c[v - 1] for c in vectors}
        answers = entries[f"item:Q0:option:{v}"]["n"]
        end = 0 if entries[f"item:Q0:option:{v}"]["band"] == "bottom" else answers
        off = (lambda c: c >= 1) if end == 0 else (lambda c: c <= answers - 1)  # noqa: B023
        if end not in values or not any(off(c) for c in values):
            out.append((v, sorted(values)))
    return out


def one_class(counts):
    groups, rels = build(class_of(counts), dims=("class",))
    return groups, rels


# ------------------------------------------------------------------ worked examples


def test_the_rest_of_the_shares_pins_a_banded_share_on_a_naive_publication():
    # 26 students: 2 chose "strongly disagree" (8%, banded "10% or less"); the other three
    # shares are exact, and 26 - 23 = 2. Without the band check nothing is hidden.
    groups, rels = one_class([2, 3, 10, 11])
    naive = publish(groups, hide(groups, [], small=[]), K)
    assert naive["groups"]["school"]["measures"]["item:Q0:option:1"]["display"] == "10% or less"
    assert pinned_bands(naive, "school") == [(1, [2])]
    found = audit(naive, rels, K, small=set())
    assert ("school", "item:Q0:option:1", "band") in {(f.group, f.measure, f.condition)
                                                       for f in found}


def test_a_banded_zero_is_revealed_as_nobody_on_a_naive_publication():
    groups, rels = one_class([0, 5, 10, 11])

    naive = publish(groups, hide(groups, [], small=[]), K)
    assert pinned_bands(naive, "class:a") == [(1, [0])]  # "nobody strongly disagreed"
    found = [f for f in audit(naive, rels, K, small=set()) if f.condition == "band"]
    assert {(f.group, f.measure) for f in found} >= {("class:a", "item:Q0:option:1")}
    assert all(f.feasible == (0.0, 0.0) for f in found if f.measure == "item:Q0:option:1")


def test_a_group_whose_every_value_is_banded_keeps_its_bands_open():
    # all 26 chose "strongly agree": every share, the mean and % favorable are banded,
    # and together they still allow 24, 25 or 26 "strongly agree": nothing to find
    groups, rels = one_class([0, 0, 0, 26])
    naive = publish(groups, hide(groups, [], small=[]), K)
    assert naive["groups"]["school"]["measures"]["item:Q0:option:4"]["display"] == "90% or more"
    assert pinned_bands(naive, "school") == []
    assert [f for f in audit(naive, rels, K, small=set()) if f.condition == "band"] == []


def test_a_unanimous_class_is_revealed_by_the_school_minus_the_other_class():
    # class a: all 25 "strongly agree" (banded "90% or more"); the school's exact 58%
    # (35 of 60) minus class b's exact 29% (10 of 35) leaves 25 of 25
    people = class_of([0, 0, 0, 25], "a") + class_of([5, 10, 10, 10], "b")
    groups, rels = build(people, dims=("class",))
    naive = publish(groups, hide(groups, [], small=[]), K)
    assert naive["groups"]["class:a"]["measures"]["item:Q0:option:4"]["display"] == "90% or more"
    found = [f for f in audit(naive, rels, K, small=set()) if f.condition == "band"]
    pinned = {(f.group, f.measure): f.feasible for f in found}
    assert pinned[("class:a", "item:Q0:option:4")] == (1.0, 1.0)
    decision = suppress(groups, rels, K, items=ITEMS)
    out = publish(groups, decision, K)
    assert audit(out, rels, K, small=decision.small) == []
    assert pinned_bands(out, "class:a") == [] if not out["groups"]["class:a"].get(
        "suppressed") else True


def test_suppress_leaves_every_band_of_the_worked_examples_open():
    for counts in ([2, 3, 10, 11], [0, 5, 10, 11], [0, 0, 0, 26], [1, 1, 12, 12], [0, 2, 2, 22]):
        groups, rels = one_class(counts)
        decision = suppress(groups, rels, K, items=ITEMS)
        out = publish(groups, decision, K)
        assert audit(out, rels, K, small=decision.small) == []
        for group in ("school", "class:a"):
            if not out["groups"][group].get("suppressed"):
                assert pinned_bands(out, group) == [], (counts, group)


def test_a_banded_share_pinned_through_the_relations_is_caught():
    # class a's 1 of 25 (4%, banded "10% or less") is also the school's exact 6 of 60
    # (10%) minus class b's exact 5 of 35 (14%)
    people = class_of([1, 4, 10, 10], "a") + class_of([5, 10, 10, 10], "b")
    groups, rels = build(people, dims=("class",))

    naive = publish(groups, hide(groups, [], small=[]), K)
    assert naive["groups"]["class:a"]["measures"]["item:Q0:option:1"].get("band") == "bottom"
    found = [f for f in audit(naive, rels, K, small=set()) if f.condition == "band"]
    assert ("class:a", "item:Q0:option:1") in {(f.group, f.measure) for f in found}
    decision = suppress(groups, rels, K, items=ITEMS)
    assert audit(publish(groups, decision, K), rels, K, small=decision.small) == []


# ------------------------------------------------------------------ property


@FAST
@given(schools(max_classes=4), st.booleans())
def test_after_suppression_no_banded_share_is_pinned_by_its_own_group(people, cross):
    groups, rels = build(people, dims=dims_for(cross))
    decision = suppress(groups, rels, K, items=ITEMS)
    out = publish(groups, decision, K)
    for key, entry in out["groups"].items():
        if entry.get("suppressed") or "item:Q0:option:1" not in entry["measures"]:
            continue
        assert pinned_bands(out, key) == [], key

