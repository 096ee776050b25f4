import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from analytics.change import (
    GroupSummary,
    mean_difference,
    minimum_detectable_change,
    percent_favorable_difference,
    season_caution,
    season_of,
    standard_error_of_measurement,
    wilson_interval,
)


def summary(values):
    values = np.asarray(values, dtype=float)
    return GroupSummary(len(values), float(values.mean()), float(values.std(ddof=1)))


# --- mean differences -----------------------------------------------------------------------


@pytest.mark.parametrize(("n_a", "n_b", "sd_b"), [(40, 55, 0.6), (12, 300, 1.1), (200, 15, 0.3)])
def test_mean_difference_interval_matches_scipys_welch_test(n_a, n_b, sd_b):
    rng = np.random.default_rng(n_a + n_b)
    a = rng.normal(2.8, 0.5, n_a)
    b = rng.normal(3.0, sd_b, n_b)
    reference = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    ours = mean_difference(summary(a), summary(b))
    assert ours.difference == pytest.approx(b.mean() - a.mean(), abs=1e-12)
    assert ours.ci_low == pytest.approx(reference.low, abs=1e-9)
    assert ours.ci_high == pytest.approx(reference.high, abs=1e-9)


def test_change_is_detectable_only_when_the_interval_excludes_zero():
    wide = mean_difference(GroupSummary(20, 3.0, 0.8), GroupSummary(20, 3.1, 0.8))
    clear = mean_difference(GroupSummary(400, 3.0, 0.6), GroupSummary(400, 3.2, 0.6))
    assert wide.ci_low < 0 < wide.ci_high and wide.detectable is False
    assert clear.ci_low > 0 and clear.detectable is True


def test_a_design_effect_widens_the_interval_by_its_square_root():
    a, b = GroupSummary(100, 3.0, 0.6), GroupSummary(120, 3.2, 0.7)
    plain = mean_difference(a, b)
    clustered = mean_difference(a, b, design_effect=2.0)
    assert clustered.ci_high - clustered.ci_low == pytest.approx(
        math.sqrt(2) * (plain.ci_high - plain.ci_low)
    )
    with pytest.raises(ValueError):
        mean_difference(a, b, design_effect=0.5)


def test_mdc95_is_196_root_two_sem():
    assert standard_error_of_measurement(0.5, 0.84) == pytest.approx(0.2)
    assert minimum_detectable_change(0.5, 0.84) == pytest.approx(1.96 * math.sqrt(2) * 0.2)
    assert minimum_detectable_change(0.5, 1.0) == 0.0


def test_a_group_change_can_be_detectable_yet_below_the_individual_mdc():
    # The dashboard's verdict for a group is the interval; MDC is individual-level context.
    result = mean_difference(
        GroupSummary(500, 2.9, 0.6), GroupSummary(500, 3.05, 0.6), reliability=0.8
    )
    assert result.detectable is True
    assert result.mdc95 == pytest.approx(1.96 * math.sqrt(2) * 0.6 * math.sqrt(0.2))
    assert result.exceeds_mdc is False


def test_mdc_is_left_out_for_an_unusable_reliability():
    a, b = GroupSummary(30, 3.0, 0.6), GroupSummary(30, 3.1, 0.6)
    assert mean_difference(a, b).mdc95 is None
    negative_alpha = mean_difference(a, b, reliability=-0.2)
    assert negative_alpha.mdc95 is None and negative_alpha.exceeds_mdc is None


def test_two_waves_without_any_variation_have_no_interval_but_a_reason():
    result = mean_difference(GroupSummary(10, 4.0, 0.0), GroupSummary(12, 4.0, 0.0))
    assert result.difference == 0.0
    assert result.ci_low is None and result.detectable is None
    assert "no variation" in result.reason


def test_a_wave_without_a_standard_deviation_is_rejected():
    with pytest.raises(ValueError):
        mean_difference(GroupSummary(1, 3.0, 0.0), GroupSummary(20, 3.0, 0.5))


# --- % favorable differences ----------------------------------------------------------------


def test_percent_favorable_difference_reproduces_newcombes_published_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80, method 10 gives
    # +0.0524 to +0.3339.
    result = percent_favorable_difference(48 / 80, 80, 56 / 70, 70)
    assert result.difference == pytest.approx(0.2)
    assert round(result.ci_low, 4) == 0.0524
    assert round(result.ci_high, 4) == 0.3339


@pytest.mark.parametrize(
    ("fav_a", "n_a", "fav_b", "n_b"), [(5, 56, 0, 29), (9, 10, 3, 10), (120, 200, 150, 210)]
)
def test_percent_favorable_difference_matches_statsmodels_newcombe(fav_a, n_a, fav_b, n_b):
    ref_low, ref_high = confint_proportions_2indep(
        fav_b, n_b, fav_a, n_a, method="newcomb", compare="diff"
    )
    result = percent_favorable_difference(fav_a / n_a, n_a, fav_b / n_b, n_b)
    assert result.ci_low == pytest.approx(ref_low, abs=1e-9)
    assert result.ci_high == pytest.approx(ref_high, abs=1e-9)


def test_wilson_interval_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    low, high = wilson_interval(7 / 25, 25)
    assert (low, high) == pytest.approx(proportion_confint(7, 25, method="wilson"), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 400), st.integers(1, 400), st.floats(0, 1), st.floats(0, 1))
def test_percent_favorable_interval_stays_within_minus_one_and_one_and_holds_the_estimate(
    n_a, n_b, p_a, p_b
):
    result = percent_favorable_difference(p_a, n_a, p_b, n_b)
    assert -1 - 1e-12 <= result.ci_low <= result.difference <= result.ci_high <= 1 + 1e-12


def test_a_design_effect_on_percent_favorable_acts_as_a_smaller_sample():
    clustered = percent_favorable_difference(0.6, 200, 0.7, 200, design_effect=2.0)
    smaller = percent_favorable_difference(0.6, 100, 0.7, 100)
    assert (clustered.ci_low, clustered.ci_high) == pytest.approx((smaller.ci_low, smaller.ci_high))


def test_percent_favorable_outside_zero_and_one_is_rejected():
    with pytest.raises(ValueError):
        percent_favorable_difference(60.0, 100, 0.7, 100)


# --- seasons --------------------------------------------------------------------------------


def test_waves_from_the_same_season_need_no_caution():
    assert season_caution("spring", "spring") is None
    assert season_caution("fall", "Autumn") is None


def test_autumn_against_spring_carries_the_seasonal_caution():
    caution = season_caution("autumn", "spring")
    assert "different seasons" in caution
    assert "Huang" in caution and "more favorable in autumn" in caution


def test_an_unrecorded_season_also_carries_a_caution():
    assert "not recorded" in season_caution(None, "spring")


def test_an_unknown_season_name_is_an_error():
    with pytest.raises(ValueError):
        season_caution("monsoon", "spring")


@pytest.mark.parametrize(
    ("day", "southern", "season"),
    [
        (date(2024, 10, 1), False, "autumn"),
        (date(2024, 4, 15), False, "spring"),
        (date(2024, 1, 31), False, "winter"),
        (date(2024, 4, 15), True, "autumn"),
        (date(2024, 10, 1), True, "spring"),
        (date(2024, 7, 1), True, "winter"),
    ],
)
def test_season_of_a_date_depends_on_the_hemisphere(day, southern, season):
    assert season_of(day, southern_hemisphere=southern) == season
