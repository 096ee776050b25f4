"""Property tests: random schools (class sizes 1..35 across year levels, tiny bands,
unanimous classes, a respondent added or removed between waves) come out of
`suppress` with a publication the audit accepts and that shows no hidden number; and
the audit agrees with arithmetic where arithmetic is easy."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.audit import audit
from analytics.disclosure import change_allowed, publish, suppress
from tests.analytics.test_audit import hide
from tests.analytics.test_disclosure import ITEMS, K, Student, build

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GENDERS = ("girl", "boy", "nonbinary")


@st.composite
def schools(draw, max_classes=5):
    years = draw(st.integers(1, 3))
    people = []
    for c in range(draw(st.integers(1, max_classes))):
        size = draw(st.integers(1, 35))
        unanimous = draw(st.sampled_from([None, None, None, 1, 3, 4]))
        year = 7 + draw(st.integers(0, years - 1))
        for i in range(size):
            answer = unanimous or draw(st.sampled_from([1, 2, 3, 3, 4, 4, None]))
            gender = GENDERS[draw(st.sampled_from([0, 0, 0, 1, 1, 1, 2]))] if i else "girl"
            people.append(Student(f"c{c}", [answer], year, gender))
    return people


def dims_for(draw_cross):
    return ("class", "year", "gender", "cross") if draw_cross else ("class", "year")


def assert_safe(groups, rels, decision):
    out = publish(groups, decision, K)
    assert audit(out, rels, K, small=decision.small) == []
    marker = {"suppressed": True}
    for key in decision.hidden_groups:
        entry = out["groups"][key]
        assert entry.items() >= marker.items() and "n" not in entry and "measures" not in entry
    for key, measure in decision.hidden_measures:
        entry = out["groups"][key]["measures"][measure]
        assert set(entry) == {"suppressed", "reason"}
    return out


def assert_line_rules(groups, rels, decision):
    """tau-ARGUS's necessary conditions, checked without the audit: under a shown parent
    the hidden parts are 0 or at least 2 and hold at least k respondents together."""
    size = {g.key: g.n for g in groups}
    for parent, kids in rels:
        if parent in decision.hidden_groups:
            continue
        hidden = [c for c in kids if c in decision.hidden_groups]
        assert len(hidden) != 1
        assert not hidden or sum(size[c] for c in hidden) >= K


@FAST
@given(schools(), st.booleans())
def test_a_suppressed_school_passes_the_audit_and_shows_no_hidden_number(people, cross):
    groups, rels = build(people, dims=dims_for(cross))
    decision = suppress(groups, rels, K, items=ITEMS)
    assert_safe(groups, rels, decision)
    assert_line_rules(groups, rels, decision)
    if "school" in decision.hidden_groups:  # only when nothing else works, and said so
        assert any("top-level group school" in note for note in decision.notes)


@FAST
@given(schools(max_classes=4), st.booleans(), st.data())
def test_a_respondent_added_or_removed_between_waves(people, cross, data):
    groups, rels = build(people, dims=dims_for(cross))
    if data.draw(st.booleans()) or len(people) == 1:
        later = people + [Student(people[0].cls, [data.draw(st.sampled_from([1, 2, 3, 4]))],
                                  people[0].year, data.draw(st.sampled_from(GENDERS)))]
    else:
        later = people[:-1]
    groups2, rels2 = build(later, dims=dims_for(cross))
    before = assert_safe(groups, rels, suppress(groups, rels, K, items=ITEMS))
    after = assert_safe(groups2, rels2, suppress(groups2, rels2, K, items=ITEMS))
    for key in before["groups"]:
        for measure in ("item:Q0:mean", "component:perceptions"):
            if change_allowed(before, after, key, measure):
                assert not before["groups"][key].get("suppressed")
                assert not after["groups"][key].get("suppressed")
                assert not before["groups"][key]["measures"][measure].get("suppressed")
                assert not after["groups"][key]["measures"][measure].get("suppressed")


@FAST
@given(st.lists(st.integers(1, 35), min_size=2, max_size=6), st.data())
def test_the_size_check_agrees_with_arithmetic_on_one_relation(sizes, data):
    """Under a shown school, H hidden classes holding s respondents can each be any size
    from 1 to s - H + 1 (H >= 2), or exactly s (H = 1): a small class is safe exactly when
    that range reaches k - 1."""
    people = [Student(f"c{i}", [3], 7) for i, n in enumerate(sizes) for _ in range(n)]
    groups, rels = build(people, dims=("class",))
    chosen = data.draw(st.sets(st.sampled_from(range(len(sizes))), max_size=len(sizes) - 1))
    hidden = [f"class:c{i}" for i in sorted(chosen)]
    small = [key for key, i in zip(hidden, sorted(chosen), strict=True) if sizes[i] < K]
    decision = hide(groups, hidden, small=small)
    found = {f.group for f in audit(publish(groups, decision, K), rels, K, small=small)
             if f.condition == "count"}
    s, h = sum(sizes[i] for i in chosen), len(chosen)
    reach = s if h == 1 else s - h + 1
    expected = set(small) if small and reach < K - 1 or (h == 1 and small) else set()
    assert found == expected
