"""Reliability of a scale in one wave: Cronbach's alpha with a Feldt CI, McDonald's omega total.

Pure NumPy/SciPy, no Django. Pass the KEYED matrix of one scale (``scoring.keyed``), rows =
students, columns = items, nan = skipped: both coefficients assume every item points the same
way, and a reverse-keyed item left unflipped pulls them down.

Both estimators use complete cases only (listwise deletion) and report how many rows they
used, because the Feldt interval's width depends on that n. Degenerate inputs (too few items
or cases, an item or the total with no variance, a singular correlation matrix) give a result
whose value is None and whose ``reason`` says why, so a publish run can report "not
estimable" for a small group instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

# factanal's (and factor_analyzer's) lower bound on a uniqueness: a Heywood case stops here
# rather than at 0, where the likelihood is undefined.
MIN_UNIQUENESS = 0.005


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha with its Feldt confidence interval, on ``n_used`` complete cases."""

    alpha: float | None
    ci_low: float | None
    ci_high: float | None
    n_used: int
    n_items: int
    ci: float = 0.95
    reason: str | None = None


@dataclass(frozen=True)
class OmegaResult:
    """McDonald's omega total from a one-factor ML model on ``n_used`` complete cases.

    ``loadings`` are standardised, signed so that their sum is positive. ``heywood`` is True
    when some uniqueness sits at its lower bound (an item loading near 1), which makes the
    estimate less trustworthy.
    """

    omega: float | None
    loadings: tuple[float, ...] | None
    n_used: int
    n_items: int
    heywood: bool = False
    reason: str | None = None


def complete_cases(matrix) -> np.ndarray:
    """Rows of the matrix with no missing value (listwise deletion)."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError("expected a 2-D (students, items) matrix")
    return matrix[~np.isnan(matrix).any(axis=1)]


def cronbach_alpha(matrix, ci: float = 0.95) -> AlphaResult:
    """Cronbach's alpha on complete cases, with the Feldt (1965) confidence interval.

    alpha = k/(k-1) * (1 - sum of item variances / variance of the total). The interval uses
    the number of complete cases actually used (not the rows passed in):
    lower = 1 - (1 - alpha) * F(1 - (1-ci)/2; n-1, (n-1)(k-1)) and
    upper = 1 - (1 - alpha) * F((1-ci)/2; n-1, (n-1)(k-1)), F = F-distribution quantile.
    """
    data = complete_cases(matrix)
    n, k = data.shape
    reason = _alpha_degenerate(data)
    if reason:
        return AlphaResult(None, None, None, n, k, ci, reason)
    cov = np.cov(data, rowvar=False, ddof=1)
    alpha = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - ci) / 2
    low = 1 - (1 - alpha) * stats.f.ppf(1 - tail, df1, df2)
    high = 1 - (1 - alpha) * stats.f.ppf(tail, df1, df2)
    return AlphaResult(float(alpha), float(low), float(high), n, k, ci)


def _alpha_degenerate(data: np.ndarray) -> str | None:
    n, k = data.shape
    if k < 2:
        return "alpha needs at least 2 items"
    if n < 2:
        return "alpha needs at least 2 complete cases"
    if np.var(data.sum(axis=1)) == 0:
        return "the total score has no variance"
    return None


def omega_total(matrix) -> OmegaResult:
    """McDonald's omega total from a one-factor model fitted by maximum likelihood.

    The model is fitted to the correlation matrix of complete cases, as R's ``factanal``
    does. With standardised loadings lambda: omega = (sum lambda)^2 / ((sum lambda)^2 +
    sum(1 - lambda^2)). Returns a result with omega None and a reason for fewer than 3
    items, no more complete cases than items, an item without variance, or a singular
    correlation matrix.
    """
    data = complete_cases(matrix)
    n, k = data.shape
    reason = _omega_degenerate(data)
    if reason:
        return OmegaResult(None, None, n, k, reason=reason)
    corr = np.corrcoef(data, rowvar=False)
    fit = _fit_one_factor(corr)
    if not _converged(fit):
        return OmegaResult(None, None, n, k, reason=f"factor model did not converge: {fit.message}")
    loadings = _loadings(fit.x, corr)
    total = loadings.sum() ** 2
    omega = total / (total + np.sum(1 - loadings**2))
    heywood = bool(np.any(fit.x <= MIN_UNIQUENESS * (1 + 1e-9)))
    return OmegaResult(float(omega), tuple(map(float, loadings)), n, k, heywood)


def _omega_degenerate(data: np.ndarray) -> str | None:
    n, k = data.shape
    if k < 3:
        # One factor with two indicators is not identified.
        return "omega needs at least 3 items"
    if n <= k:
        return "omega needs more complete cases than items"
    if np.any(np.var(data, axis=0) == 0):
        return "an item has no variance"
    if np.linalg.eigvalsh(np.corrcoef(data, rowvar=False))[0] <= 1e-10:
        return "the correlation matrix is singular"
    return None


def _scaled(psi: np.ndarray, corr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of Psi^-1/2 R Psi^-1/2, largest eigenvalue first."""
    scale = 1 / np.sqrt(psi)
    values, vectors = np.linalg.eigh(corr * np.outer(scale, scale))
    return values[::-1], vectors[:, ::-1]


def _loadings(psi: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """The ML loadings given uniquenesses (Joreskog 1967), signed so their sum is positive."""
    values, vectors = _scaled(psi, corr)
    loadings = np.sqrt(psi) * vectors[:, 0] * np.sqrt(max(values[0] - 1, 0.0))
    return loadings if loadings.sum() >= 0 else -loadings


def _objective(psi: np.ndarray, corr: np.ndarray) -> tuple[float, np.ndarray]:
    """ML discrepancy concentrated on the uniquenesses, and its analytic gradient.

    Same function as R's factanal (FAfn/FAgr) for one factor: minus the sum over the
    non-leading eigenvalues e of log(e) - e, minus 1, plus the number of items; gradient
    diag(lambda lambda' + Psi - R) / psi^2.
    """
    values, _ = _scaled(psi, corr)
    rest = values[1:]
    value = -np.sum(np.log(rest) - rest) - 1 + len(psi)
    loadings = _loadings(psi, corr)
    gradient = (loadings**2 + psi - np.diag(corr)) / psi**2
    return float(value), gradient


def _fit_one_factor(corr: np.ndarray) -> optimize.OptimizeResult:
    # Start from 1 - squared multiple correlation, as factanal and factor_analyzer do.
    start = np.clip(1 / np.diag(np.linalg.inv(corr)), MIN_UNIQUENESS, 1.0)
    # The analytic gradient and tolerances far below scipy's defaults take the optimiser to
    # a gradient of about 1e-9 (loadings ~1e-8 from the optimum), so omega does not depend
    # on where a looser, finite-difference optimiser would have happened to stop.
    return optimize.minimize(
        _objective,
        start,
        args=(corr,),
        jac=True,
        method="L-BFGS-B",
        bounds=[(MIN_UNIQUENESS, 1.0)] * len(start),
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000},
    )


def _converged(fit: optimize.OptimizeResult) -> bool:
    """Judge convergence by the projected gradient (KKT), not by the optimiser's message.

    With tolerances this tight L-BFGS-B can end on a failed line search at the optimum,
    which it reports as failure; a gradient pushing only into an active bound is fine.
    """
    at_low = (fit.x <= MIN_UNIQUENESS) & (fit.jac > 0)
    at_high = (fit.x >= 1.0) & (fit.jac < 0)
    projected = np.where(at_low | at_high, 0.0, fit.jac)
    return bool(np.all(np.isfinite(fit.x)) and np.max(np.abs(projected)) < 1e-6)
