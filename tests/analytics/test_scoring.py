from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.scoring import (
    COMPONENTS,
    ItemSpec,
    component_percent_favorable,
    component_scores,
    distribution,
    item_percent_favorable,
    keyed,
    not_validated_key,
    percent_favorable_from_distribution,
    reverse,
    scale_scores,
)

nan = np.nan


def agree4(key, component="perceptions", reverse_keyed=False, validated=True):
    return ItemSpec(key, component, 1, 4, reverse_keyed, (3, 4), validated)


# --- strategies -----------------------------------------------------------------------------


@st.composite
def scale_and_matrix(draw, max_items=8, max_students=12):
    """A scale (lo..hi), specs on it with random keying, and a matrix of codes with gaps."""
    lo = draw(st.integers(0, 2))
    hi = draw(st.integers(lo + 1, lo + 6))
    k = draw(st.integers(1, max_items))
    n = draw(st.integers(0, max_students))
    flips = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    specs = [ItemSpec(f"i{j}", "perceptions", lo, hi, f, (hi,)) for j, f in enumerate(flips)]
    cell = st.one_of(st.none(), st.integers(lo, hi))
    rows = draw(st.lists(st.lists(cell, min_size=k, max_size=k), min_size=n, max_size=n))
    matrix = np.array([[nan if v is None else v for v in row] for row in rows], dtype=float)
    return lo, hi, specs, matrix.reshape(n, k)


# --- reverse keying -------------------------------------------------------------------------


def test_reverse_maps_each_end_of_the_scale_to_the_other_and_keeps_nan():
    assert reverse([1, 2, 3, 4, nan], 1, 4)[:4].tolist() == [4, 3, 2, 1]
    assert np.isnan(reverse([nan], 1, 4)[0])
    assert reverse([1, 5], 1, 5).tolist() == [5, 1]


@settings(max_examples=60, deadline=None)
@given(scale_and_matrix())
def test_reversing_twice_is_the_identity(case):
    lo, hi, _, matrix = case
    np.testing.assert_array_equal(reverse(reverse(matrix, lo, hi), lo, hi), matrix)


def test_keyed_flips_only_reverse_keyed_columns_and_leaves_the_input_alone():
    specs = [agree4("a"), agree4("b", reverse_keyed=True)]
    raw = np.array([[1.0, 1.0], [4.0, nan]])
    out = keyed(raw, specs)
    np.testing.assert_array_equal(out, [[1.0, 4.0], [4.0, nan]])
    np.testing.assert_array_equal(raw, [[1.0, 1.0], [4.0, nan]])


@pytest.mark.parametrize("bad", [0.0, 5.0, 2.5, 99.0])
def test_codes_outside_the_integer_scale_are_rejected(bad):
    with pytest.raises(ValueError, match="outside"):
        keyed(np.array([[1.0, bad]]), [agree4("a"), agree4("b")])


def test_a_matrix_whose_width_differs_from_the_specs_is_rejected():
    with pytest.raises(ValueError):
        scale_scores(np.ones((3, 2)), [agree4("a")])


def test_item_spec_rejects_unknown_components_and_favorable_codes_off_the_scale():
    with pytest.raises(ValueError):
        ItemSpec("x", "happiness", 1, 4, False, (3, 4))
    with pytest.raises(ValueError):
        ItemSpec("x", "perceptions", 1, 4, False, (4, 5))


# --- scale scores and the 80% rule ----------------------------------------------------------


def test_scale_score_is_the_mean_of_answered_keyed_items():
    specs = [agree4(f"i{j}", reverse_keyed=j == 0) for j in range(5)]
    matrix = np.array([[1, 4, 4, 4, 4], [4, 1, 1, 1, nan], [nan, nan, 3, 3, 3]], dtype=float)
    result = scale_scores(matrix, specs)
    assert result.scores[0] == 4.0
    assert result.scores[1] == 1.0  # 4 of 5 answered is exactly 80%: counts
    assert np.isnan(result.scores[2])  # 3 of 5 is 60%: excluded
    assert (result.n_students, result.n_excluded, result.n_scored) == (3, 1, 2)
    assert result.share_excluded == pytest.approx(1 / 3)


def test_twelve_of_fifteen_items_meets_the_eighty_percent_rule():
    # 0.8 * 15 is 12.000000000000002 in floating point; 12 answers must still count.
    specs = [agree4(f"i{j}") for j in range(15)]
    row = np.array([[3.0] * 12 + [nan] * 3])
    assert scale_scores(row, specs).scores[0] == 3.0


def test_pisa_six_items_need_five_answers():
    specs = [agree4(f"i{j}") for j in range(6)]
    five = np.array([[2, 2, 2, 2, 2, nan]])
    four = np.array([[2, 2, 2, 2, nan, nan]])
    assert scale_scores(five, specs).scores[0] == 2.0
    assert np.isnan(scale_scores(four, specs).scores[0])


def test_exclusion_share_of_an_empty_group_is_undefined_not_zero():
    result = scale_scores(np.empty((0, 2)), [agree4("a"), agree4("b")])
    assert result.n_students == 0
    assert result.share_excluded is None


def test_a_student_with_no_answers_is_excluded_even_with_a_lenient_min_share():
    result = scale_scores(np.array([[nan, nan]]), [agree4("a"), agree4("b")], min_share=0.01)
    assert np.isnan(result.scores[0])
    assert result.n_excluded == 1


@settings(max_examples=80, deadline=None)
@given(scale_and_matrix())
def test_scale_scores_stay_within_the_scale(case):
    lo, hi, specs, matrix = case
    scores = scale_scores(matrix, specs).scores
    valid = scores[~np.isnan(scores)]
    assert np.all((valid >= lo) & (valid <= hi))


@settings(max_examples=80, deadline=None)
@given(scale_and_matrix(), st.sampled_from([0.5, 0.75, 0.8, 1.0]))
def test_eighty_percent_rule_scores_exactly_the_students_who_answered_enough(case, min_share):
    lo, hi, specs, matrix = case
    result = scale_scores(matrix, specs, min_share)
    k = len(specs)
    for row, score in zip(matrix, result.scores, strict=True):
        answered = [
            (lo + hi - v) if spec.reverse_keyed else v
            for v, spec in zip(row, specs, strict=True)
            if not np.isnan(v)
        ]
        if answered and Fraction(len(answered), k) >= Fraction(min_share).limit_denominator():
            assert score == pytest.approx(sum(answered) / len(answered))
        else:
            assert np.isnan(score)
    assert result.n_excluded == int(np.isnan(result.scores).sum())


# --- components -----------------------------------------------------------------------------


def test_components_are_scored_apart_and_unmeasured_ones_are_none_not_zero():
    specs = [agree4("p1"), agree4("p2"), agree4("o1", "opportunities")]
    matrix = np.array([[4, 4, 1], [2, 2, 1]], dtype=float)
    result = component_scores(matrix, specs)
    assert set(result) == set(COMPONENTS)
    assert result["perceptions"].scores.tolist() == [4.0, 2.0]
    assert result["opportunities"].scores.tolist() == [1.0, 1.0]
    assert result["competencies"] is None
    assert result["motivations"] is None


def test_not_validated_items_never_enter_the_validated_component_score():
    specs = [agree4("p1"), agree4("p2"), agree4("own", validated=False)]
    matrix = np.array([[4, 4, 1], [2, 2, 1]], dtype=float)
    result = component_scores(matrix, specs)
    assert result["perceptions"].item_keys == ("p1", "p2")
    assert result["perceptions"].scores.tolist() == [4.0, 2.0]
    apart = result[not_validated_key("perceptions")]
    assert apart.item_keys == ("own",)
    assert apart.scores.tolist() == [1.0, 1.0]


def test_a_component_with_only_not_validated_items_is_not_measured_as_validated():
    specs = [agree4("own", "motivations", validated=False)]
    result = component_scores(np.array([[3.0]]), specs)
    assert result["motivations"] is None
    assert result[not_validated_key("motivations")].scores.tolist() == [3.0]


def test_no_total_across_components_is_reported():
    specs = [agree4(f"x{j}", c) for j, c in enumerate(COMPONENTS)]
    result = component_scores(np.full((2, 4), 3.0), specs)
    assert set(result) == set(COMPONENTS)


def test_the_eighty_percent_rule_applies_within_each_component():
    specs = [agree4("p1"), agree4("p2"), agree4("o1", "opportunities")]
    result = component_scores(np.array([[4, nan, 2]]), specs)
    assert np.isnan(result["perceptions"].scores[0])
    assert result["perceptions"].n_excluded == 1
    assert result["opportunities"].scores[0] == 2.0


# --- distribution and % favorable -----------------------------------------------------------


def test_distribution_counts_each_scale_point_including_empty_ones():
    assert distribution([1, 1, 4, nan, 2], 1, 4) == {1: 2, 2: 1, 3: 0, 4: 1}
    assert distribution([], 1, 5) == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}


def test_percent_favorable_is_the_share_of_valid_answers_in_favorable_categories():
    assert item_percent_favorable([1, 2, 3, 4, nan], agree4("a")) == 0.5
    assert item_percent_favorable([3, 3, 4, 2], agree4("a")) == 0.75


def test_percent_favorable_of_a_reverse_keyed_item_counts_disagreement():
    outsider = agree4("feels_like_outsider", reverse_keyed=True)
    # Raw 1 and 2 (disagree with "I feel like an outsider") are favorable once keyed.
    assert item_percent_favorable([1, 2, 2, 4], outsider) == 0.75


def test_percent_favorable_without_valid_answers_is_none():
    assert item_percent_favorable([nan, nan], agree4("a")) is None
    assert percent_favorable_from_distribution({1: 0, 2: 0, 3: 0, 4: 0}, agree4("a")) is None


def test_percent_favorable_from_counts_matches_the_per_answer_definition():
    spec = agree4("a", reverse_keyed=True)
    column = [1, 1, 2, 3, 4, 4, nan]
    counts = distribution(column, 1, 4)
    assert percent_favorable_from_distribution(counts, spec) == item_percent_favorable(column, spec)


@settings(max_examples=80, deadline=None)
@given(scale_and_matrix(max_items=1, max_students=30), st.data())
def test_percent_favorable_stays_within_zero_and_one(case, data):
    lo, hi, specs, matrix = case
    favorable = data.draw(st.sets(st.integers(lo, hi)))
    spec = ItemSpec("a", "perceptions", lo, hi, specs[0].reverse_keyed, tuple(favorable))
    share = item_percent_favorable(matrix[:, 0], spec)
    if np.isnan(matrix[:, 0]).all():
        assert share is None
    else:
        assert 0 <= share <= 1


def test_component_percent_favorable_is_the_mean_of_its_items_values():
    specs = [agree4("p1"), agree4("p2"), agree4("p3"), agree4("own", validated=False)]
    matrix = np.array([[4, 1, nan, 4], [4, 1, nan, 4], [4, 4, nan, 1], [1, 1, nan, 1]], dtype=float)
    result = component_percent_favorable(matrix, specs)
    # p1 75%, p2 25%, p3 has no answers and is left out: (0.75 + 0.25) / 2
    assert result["perceptions"] == pytest.approx(0.5)
    assert result[not_validated_key("perceptions")] == pytest.approx(0.5)
    assert result["competencies"] is None
