"""The simulator follows its stated model, and the pipeline recovers what the model implies."""

import numpy as np
import pytest

from analytics.change import GroupSummary, mean_difference
from analytics.reliability import cronbach_alpha
from analytics.scoring import COMPONENTS, ItemSpec, keyed, scale_scores
from analytics.simulate import (
    DEFAULT_MODEL,
    GradedResponseModel,
    ItemParameters,
    category_probabilities,
    expected_alpha,
    expected_scale_mean,
    simulate_latent,
    simulate_wave,
)

# A PISA-like perceptions scale (4-point, two reverse-keyed items) plus one 5-point item in
# each other component, so every code path of the simulator runs.
PERCEPTIONS = [ItemSpec(f"p{j}", "perceptions", 1, 4, j in (0, 3), (3, 4)) for j in range(6)]
OTHERS = [ItemSpec(f"{c[:3]}1", c, 1, 5, False, (4, 5)) for c in COMPONENTS[1:]]
SPECS = PERCEPTIONS + OTHERS


def test_the_same_seed_gives_the_same_wave_and_another_seed_a_different_one():
    first = simulate_wave(SPECS, 200, rng=np.random.default_rng(3))
    again = simulate_wave(SPECS, 200, rng=np.random.default_rng(3))
    other = simulate_wave(SPECS, 200, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other, equal_nan=True)


def test_simulated_answers_are_codes_on_each_items_scale_with_random_skips():
    data = simulate_wave(SPECS, 5000, rng=np.random.default_rng(5), skip_rate=0.03)
    for j, spec in enumerate(SPECS):
        valid = data[~np.isnan(data[:, j]), j]
        assert set(np.unique(valid)) <= set(range(spec.scale_min, spec.scale_max + 1))
    # 45,000 cells at 3%: the binomial SD of the share is 0.0008.
    assert np.isnan(data).mean() == pytest.approx(0.03, abs=0.004)


def test_no_skip_rate_gives_complete_data():
    data = simulate_wave(SPECS, 300, rng=np.random.default_rng(6), skip_rate=0.0)
    assert not np.isnan(data).any()


def test_reverse_keyed_items_come_out_reversed():
    data = simulate_wave(PERCEPTIONS, 3000, rng=np.random.default_rng(7), skip_rate=0.0)
    raw = np.corrcoef(data, rowvar=False)
    assert raw[0, 1] < 0 and raw[0, 3] > 0  # p0 and p3 both reversed, p1 not
    assert np.all(np.corrcoef(keyed(data, PERCEPTIONS), rowvar=False) > 0)


def test_category_frequencies_follow_the_graded_response_model():
    spec = PERCEPTIONS[1]
    params = DEFAULT_MODEL.parameters([spec])[0]
    n = 40_000
    data = simulate_wave([spec], n, rng=np.random.default_rng(8), skip_rate=0.0)
    nodes, weights = np.polynomial.hermite_e.hermegauss(121)
    expected = weights / weights.sum() @ category_probabilities(nodes, params)
    observed = np.bincount(data[:, 0].astype(int) - 1, minlength=4) / n
    # Each share has a binomial SD of at most 0.0025 at this n.
    np.testing.assert_allclose(observed, expected, atol=0.01)


def test_category_probabilities_are_a_distribution_that_rises_with_the_trait():
    params = ItemParameters(1.7, (-1.0, 0.0, 1.2))
    probs = category_probabilities(np.linspace(-4, 4, 9), params)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert np.all(probs >= 0)
    assert np.all(np.diff(probs @ np.arange(1, 5)) > 0)


def test_latent_traits_have_the_stated_means_and_correlation():
    theta = simulate_latent(50_000, rng=np.random.default_rng(9), latent_shift={"motivations": 0.5})
    np.testing.assert_allclose(theta.mean(axis=0), [0, 0, 0.5, 0], atol=0.02)
    corr = np.corrcoef(theta, rowvar=False)
    np.testing.assert_allclose(corr, DEFAULT_MODEL.latent_correlation(), atol=0.02)


def test_explicit_item_parameters_override_the_defaults():
    model = GradedResponseModel(items={"p1": ItemParameters(1.0, (-0.5, 0.0, 0.5))})
    params = model.parameters(PERCEPTIONS)
    assert params[1] == ItemParameters(1.0, (-0.5, 0.0, 0.5))
    assert params[0] == DEFAULT_MODEL.parameters(PERCEPTIONS)[0]
    with pytest.raises(ValueError):
        GradedResponseModel(items={"p1": ItemParameters(1.0, (0.0,))}).parameters(PERCEPTIONS)


def test_model_implied_values_are_per_scale():
    with pytest.raises(ValueError):
        expected_alpha(SPECS)
    with pytest.raises(ValueError):
        expected_scale_mean([PERCEPTIONS[0], OTHERS[0]])


def scored_summary(matrix):
    scores = scale_scores(matrix, PERCEPTIONS).scores
    scores = scores[~np.isnan(scores)]
    return GroupSummary(len(scores), float(scores.mean()), float(scores.std(ddof=1)))


def test_pipeline_recovers_the_model_implied_reliability_and_change():
    rng = np.random.default_rng(2024)
    shift = 0.25  # stated true change: a quarter of a latent SD
    before = simulate_wave(PERCEPTIONS, 20_000, rng=rng)
    after = simulate_wave(PERCEPTIONS, 20_000, rng=rng, latent_shift=shift)

    alpha = cronbach_alpha(keyed(before, PERCEPTIONS))
    # About 16,700 complete cases: alpha's sampling SD is about 0.0025, so 0.01 is 4 SD.
    assert alpha.alpha == pytest.approx(expected_alpha(PERCEPTIONS), abs=0.01)
    assert alpha.ci_low <= expected_alpha(PERCEPTIONS) <= alpha.ci_high

    true_change = expected_scale_mean(PERCEPTIONS, shift) - expected_scale_mean(PERCEPTIONS)
    change = mean_difference(scored_summary(before), scored_summary(after))
    assert change.ci_low <= true_change <= change.ci_high
    assert change.detectable is True
    assert scored_summary(before).mean == pytest.approx(expected_scale_mean(PERCEPTIONS), abs=0.02)


def test_a_shift_in_one_component_leaves_the_others_alone():
    rng = np.random.default_rng(11)
    base = simulate_wave(SPECS, 20_000, rng=rng, skip_rate=0.0)
    moved = simulate_wave(SPECS, 20_000, rng=rng, skip_rate=0.0, latent_shift={"perceptions": 1})
    perceptions = slice(0, len(PERCEPTIONS))
    others = slice(len(PERCEPTIONS), None)
    gain = keyed(moved, SPECS)[:, perceptions].mean() - keyed(base, SPECS)[:, perceptions].mean()
    assert gain > 0.3
    np.testing.assert_allclose(
        moved[:, others].mean(axis=0), base[:, others].mean(axis=0), atol=0.05
    )


def test_expected_alpha_grows_with_discrimination():
    weak = GradedResponseModel(discriminations=(0.8,))
    strong = GradedResponseModel(discriminations=(2.5,))
    assert expected_alpha(PERCEPTIONS, model=weak) < expected_alpha(PERCEPTIONS, model=strong)
