"""Reliability estimates checked against independent implementations to 1e-6.

References (test-only, GPL, never imported by product code): pingouin for Cronbach's alpha
and its Feldt interval, factor_analyzer for the one-factor ML loadings behind omega. A
closed-form case (data whose correlation matrix is exactly one-factor) checks omega without
any optimiser at all.
"""

import functools
import warnings

import numpy as np
import pandas as pd
import pingouin
import pingouin.reliability
import pytest
import scipy.optimize
from factor_analyzer import FactorAnalyzer
from factor_analyzer import factor_analyzer as fa_module

from analytics.reliability import MIN_UNIQUENESS, complete_cases, cronbach_alpha, omega_total


def likert_sample(seed, n=250, loadings=(0.8, 0.7, 0.6, 0.75, 0.5, 0.65)):
    """Fixed 1..5 item data from a one-factor model, rounded like real answers."""
    rng = np.random.default_rng(seed)
    trait = rng.standard_normal(n)
    columns = [lam * trait + np.sqrt(1 - lam**2) * rng.standard_normal(n) for lam in loadings]
    return np.clip(np.round(np.column_stack(columns) * 1.3 + 3), 1, 5)


class _NumpyWithoutRound:
    """numpy, except that round() returns its input unrounded.

    pingouin rounds the CI it returns to 3 decimals for display. Swapping this in for the
    ``np`` of pingouin's reliability module lets us compare with pingouin's own arithmetic
    at full precision; everything else it calls is the real numpy.
    """

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def round(values, decimals=0):
        return np.asarray(values, dtype=float)


@pytest.fixture
def unrounded_pingouin(monkeypatch):
    monkeypatch.setattr(pingouin.reliability, "np", _NumpyWithoutRound())
    return pingouin


def with_gaps(data, seed, share=0.05):
    rng = np.random.default_rng(seed)
    gappy = data.copy()
    gappy[rng.random(data.shape) < share] = np.nan
    return gappy


# --- Cronbach's alpha -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_alpha_and_feldt_interval_match_pingouin_on_complete_data(seed, unrounded_pingouin):
    data = likert_sample(seed)
    ours = cronbach_alpha(data, ci=0.95)
    ref_alpha, (ref_low, ref_high) = unrounded_pingouin.cronbach_alpha(pd.DataFrame(data))
    assert ours.alpha == pytest.approx(ref_alpha, abs=1e-6)
    assert ours.ci_low == pytest.approx(ref_low, abs=1e-6)
    assert ours.ci_high == pytest.approx(ref_high, abs=1e-6)
    assert (ours.n_used, ours.n_items) == data.shape


def test_alpha_interval_matches_pingouin_at_the_precision_pingouin_prints():
    data = likert_sample(4)
    ours = cronbach_alpha(data, ci=0.90)
    _, (ref_low, ref_high) = pingouin.cronbach_alpha(pd.DataFrame(data), ci=0.90)
    assert abs(ours.ci_low - ref_low) <= 5e-4 + 1e-12
    assert abs(ours.ci_high - ref_high) <= 5e-4 + 1e-12


def test_alpha_reproduces_pingouins_published_example():
    # pingouin's documentation: this bundled long-format data set gives
    # (0.5917188485995826, array([0.195, 0.84 ])).
    long = pingouin.read_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", columns="Items", values="Scores").to_numpy(dtype=float)
    ours = cronbach_alpha(wide)
    assert ours.alpha == pytest.approx(0.5917188485995826, abs=1e-12)
    assert round(ours.ci_low, 3) == 0.195
    assert round(ours.ci_high, 3) == 0.84


def test_alpha_with_missing_answers_uses_complete_cases_and_their_number(unrounded_pingouin):
    data = with_gaps(likert_sample(5), seed=5)
    complete = data[~np.isnan(data).any(axis=1)]
    assert 0 < len(complete) < len(data)
    ours = cronbach_alpha(data)
    ref_alpha, (ref_low, ref_high) = unrounded_pingouin.cronbach_alpha(pd.DataFrame(complete))
    assert ours.n_used == len(complete)
    assert ours.alpha == pytest.approx(ref_alpha, abs=1e-6)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ref_low, ref_high), abs=1e-6)


def test_alpha_interval_is_wider_than_one_that_counts_dropped_rows(unrounded_pingouin):
    # pingouin's listwise mode takes n before dropping incomplete rows, so its interval is
    # too narrow; ours uses the rows actually used.
    data = with_gaps(likert_sample(6), seed=6, share=0.08)
    ours = cronbach_alpha(data)
    ref_alpha, (ref_low, ref_high) = unrounded_pingouin.cronbach_alpha(
        pd.DataFrame(data), nan_policy="listwise"
    )
    assert ours.alpha == pytest.approx(ref_alpha, abs=1e-9)
    assert ours.ci_low < ref_low
    assert ours.ci_high > ref_high


def test_alpha_interval_contains_alpha_and_narrows_with_more_cases():
    small, large = cronbach_alpha(likert_sample(7, n=60)), cronbach_alpha(likert_sample(7, n=600))
    for result in (small, large):
        assert result.ci_low < result.alpha < result.ci_high
    assert large.ci_high - large.ci_low < small.ci_high - small.ci_low


@pytest.mark.parametrize(
    ("matrix", "reason"),
    [
        (np.ones((10, 1)), "2 items"),
        (np.array([[1.0, 2.0]]), "2 complete cases"),
        (np.array([[1.0, np.nan], [np.nan, 2.0], [3.0, np.nan]]), "2 complete cases"),
        (np.full((10, 3), 2.0), "no variance"),
    ],
)
def test_alpha_of_degenerate_data_is_none_with_a_reason(matrix, reason):
    result = cronbach_alpha(matrix)
    assert result.alpha is None
    assert result.ci_low is None and result.ci_high is None
    assert reason in result.reason


def test_complete_cases_drops_every_row_with_a_gap():
    matrix = np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, 4.0]])
    np.testing.assert_array_equal(complete_cases(matrix), [[1.0, 2.0], [3.0, 4.0]])


# --- McDonald's omega -----------------------------------------------------------------------


def reference_loadings(data):
    with warnings.catch_warnings():
        # factor_analyzer warns about a scikit-learn argument rename and about rotation
        # being skipped for one factor; neither affects the fit.
        warnings.simplefilter("ignore")
        fitted = FactorAnalyzer(n_factors=1, rotation=None, method="ml").fit(data)
    loadings = fitted.loadings_.ravel()
    return loadings if loadings.sum() >= 0 else -loadings


def omega_from(loadings):
    total = loadings.sum() ** 2
    return total / (total + np.sum(1 - loadings**2))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_omega_matches_factor_analyzer_ml_to_1e6(seed):
    data = likert_sample(seed)
    ours = omega_total(data)
    reference = reference_loadings(data)
    assert ours.omega == pytest.approx(omega_from(reference), abs=1e-6)
    # factor_analyzer stops L-BFGS-B at scipy's default tolerance with finite-difference
    # gradients, up to ~7e-7 short of the optimum on these loadings, so they get a looser
    # bound here; ours runs with the analytic gradient to a gradient near 1e-9, and the
    # next test shows the loadings agree to 1e-6 once the reference is run to convergence.
    np.testing.assert_allclose(ours.loadings, reference, atol=1e-5)
    assert (ours.n_used, ours.n_items) == data.shape


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_loadings_match_factor_analyzer_when_its_optimiser_runs_to_convergence(seed, monkeypatch):
    # Same reference objective and normalisation, only a tighter stopping rule.
    tight = functools.partial(scipy.optimize.minimize, tol=1e-14)
    monkeypatch.setattr(fa_module, "minimize", tight)
    data = likert_sample(seed)
    ours = omega_total(data)
    reference = reference_loadings(data)
    np.testing.assert_allclose(ours.loadings, reference, atol=1e-6)
    assert ours.omega == pytest.approx(omega_from(reference), abs=1e-7)


def exactly_one_factor_data(loadings, n=200, seed=0):
    """Data whose sample correlation matrix is exactly lambda lambda' + diag(1 - lambda^2)."""
    rng = np.random.default_rng(seed)
    target = np.outer(loadings, loadings)
    np.fill_diagonal(target, 1.0)
    noise = rng.standard_normal((n, len(loadings)))
    noise -= noise.mean(axis=0)
    whitened = noise @ np.linalg.inv(np.linalg.cholesky(np.cov(noise, rowvar=False))).T
    return whitened @ np.linalg.cholesky(target).T * 1.7 + 3.0


def test_omega_of_an_exact_one_factor_structure_matches_the_closed_form():
    loadings = np.array([0.8, 0.7, 0.6, 0.5, 0.75])
    result = omega_total(exactly_one_factor_data(loadings))
    np.testing.assert_allclose(result.loadings, loadings, atol=1e-8)
    expected = loadings.sum() ** 2 / (loadings.sum() ** 2 + np.sum(1 - loadings**2))
    assert result.omega == pytest.approx(expected, abs=1e-9)
    assert result.heywood is False


def test_omega_uses_complete_cases_only():
    data = with_gaps(likert_sample(14), seed=14)
    complete = data[~np.isnan(data).any(axis=1)]
    gappy, clean = omega_total(data), omega_total(complete)
    assert gappy.n_used == len(complete)
    assert gappy.omega == clean.omega


def test_loadings_are_signed_so_that_they_sum_positive():
    result = omega_total(-likert_sample(15))
    assert sum(result.loadings) > 0
    assert result.omega == pytest.approx(omega_total(likert_sample(15)).omega, abs=1e-9)


def test_an_item_loading_at_one_is_flagged_as_a_heywood_case():
    data = likert_sample(16, n=300).astype(float)
    data[:, 1] = data[:, 0] + np.random.default_rng(16).normal(0, 0.01, len(data))
    result = omega_total(data)
    assert result.heywood is True
    assert result.loadings[0] ** 2 == pytest.approx(1 - MIN_UNIQUENESS, abs=0.01)
    assert 0 < result.omega <= 1


@pytest.mark.parametrize(
    ("matrix", "reason"),
    [
        (likert_sample(17)[:, :2], "at least 3 items"),
        (likert_sample(17)[:6], "more complete cases than items"),
        (np.column_stack([likert_sample(17)[:, :3], np.full(250, 2.0)]), "no variance"),
        (
            np.column_stack([likert_sample(17)[:, :3], likert_sample(17)[:, :2].sum(axis=1)]),
            "singular",
        ),
    ],
)
def test_omega_of_degenerate_data_is_none_with_a_reason(matrix, reason):
    result = omega_total(matrix)
    assert result.omega is None
    assert result.loadings is None
    assert reason in result.reason
