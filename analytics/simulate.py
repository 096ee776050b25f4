"""Synthetic demo data from a stated latent-trait model, and what that model implies.

Pure NumPy/SciPy, no Django. The data serve demos, load tests and a check that the whole
pipeline (``scoring.scale_scores`` -> ``reliability.cronbach_alpha`` -> ``change``) recovers
known truths. The model, stated in full:

* Each student has one latent trait per component of the framework (perceptions,
  competencies, motivations, opportunities). The four traits are standard normal with a
  common correlation ``component_correlation`` (0.5 by default). A wave's latent mean is
  ``latent_shift`` (0 for a baseline wave; a float for every component, or a mapping per
  component), so the true change between two waves is the difference of their shifts, in
  latent SD units.
* Items follow Samejima's graded response model on the KEYED value: for an item with
  categories lo..hi, discrimination a and increasing thresholds b_1..b_(hi-lo),
  P(keyed >= lo + c | theta) = 1 / (1 + exp(-a (theta - b_c))). Reverse-keyed items are
  generated on the keyed value and then reversed, so raw codes look like real answers.
* Default item parameters (``GradedResponseModel``): the j-th item of the instrument gets
  discrimination ``discriminations[j % 3]`` = 1.4, 1.8 or 2.2, and thresholds evenly spaced
  from -2.0 to 1.0 plus a shift of 0.0, +0.3 or -0.3 (``threshold_shifts[j % 3]``). The
  thresholds sit below zero on average because belonging surveys lean favorable. Explicit
  per-item parameters can be given in ``items``.
* Each answer is skipped independently with probability ``skip_rate`` (missing completely at
  random, 3% by default).

Model-implied values are computed analytically by Gauss-Hermite quadrature over the latent
trait (``expected_scale_mean``, ``expected_alpha``), not by simulation, so they are exact to
quadrature error (below 1e-10 with the default 121 nodes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from .scoring import COMPONENTS, ItemSpec, reverse

QUADRATURE_NODES = 121


@dataclass(frozen=True)
class ItemParameters:
    """Graded response model parameters of one item (thresholds on the latent scale)."""

    discrimination: float
    thresholds: tuple[float, ...]

    def __post_init__(self):
        if self.discrimination <= 0:
            raise ValueError("discrimination must be positive")
        if np.any(np.diff(self.thresholds) <= 0):
            raise ValueError("thresholds must increase")


@dataclass(frozen=True)
class GradedResponseModel:
    """The stated generating model; see the module docstring for its meaning."""

    component_correlation: float = 0.5
    discriminations: tuple[float, ...] = (1.4, 1.8, 2.2)
    threshold_span: tuple[float, float] = (-2.0, 1.0)
    threshold_shifts: tuple[float, ...] = (0.0, 0.3, -0.3)
    items: Mapping[str, ItemParameters] = field(default_factory=dict)

    def parameters(self, specs: Sequence[ItemSpec]) -> list[ItemParameters]:
        """Each item's parameters: an explicit entry in ``items``, else the stated default."""
        params = [self.items.get(s.key) or self._default(j, s) for j, s in enumerate(specs)]
        for spec, p in zip(specs, params, strict=True):
            if len(p.thresholds) != spec.scale_max - spec.scale_min:
                raise ValueError(f"{spec.key}: need one threshold per step of its scale")
        return params

    def _default(self, j: int, spec: ItemSpec) -> ItemParameters:
        first, last = self.threshold_span
        shift = self.threshold_shifts[j % len(self.threshold_shifts)]
        points = np.linspace(first, last, spec.scale_max - spec.scale_min) + shift
        a = self.discriminations[j % len(self.discriminations)]
        return ItemParameters(a, tuple(float(b) for b in points))

    def latent_correlation(self) -> np.ndarray:
        """The 4x4 correlation matrix of the component traits, in ``COMPONENTS`` order."""
        rho = self.component_correlation
        return (1 - rho) * np.eye(len(COMPONENTS)) + rho


DEFAULT_MODEL = GradedResponseModel()


def _shifts(latent_shift: float | Mapping[str, float]) -> np.ndarray:
    if isinstance(latent_shift, Mapping):
        unknown = set(latent_shift) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}")
        return np.array([latent_shift.get(c, 0.0) for c in COMPONENTS])
    return np.full(len(COMPONENTS), float(latent_shift))


def simulate_latent(
    n_students: int,
    *,
    rng: np.random.Generator,
    latent_shift: float | Mapping[str, float] = 0.0,
    model: GradedResponseModel = DEFAULT_MODEL,
) -> np.ndarray:
    """Draw (n_students, 4) latent traits, columns in ``COMPONENTS`` order."""
    chol = np.linalg.cholesky(model.latent_correlation())
    return rng.standard_normal((n_students, len(COMPONENTS))) @ chol.T + _shifts(latent_shift)


def category_probabilities(theta, params: ItemParameters) -> np.ndarray:
    """P(keyed category = lo + c | theta) for c = 0..len(thresholds), one row per theta."""
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    at_least = expit(params.discrimination * (theta[:, None] - np.array(params.thresholds)))
    ones = np.ones((theta.size, 1))
    upper = np.hstack([ones, at_least])
    lower = np.hstack([at_least, np.zeros((theta.size, 1))])
    return upper - lower


def simulate_wave(
    specs: Sequence[ItemSpec],
    n_students: int,
    *,
    rng: np.random.Generator,
    latent_shift: float | Mapping[str, float] = 0.0,
    skip_rate: float = 0.03,
    model: GradedResponseModel = DEFAULT_MODEL,
) -> np.ndarray:
    """One wave's response matrix (raw codes, nan = skipped) drawn from the stated model.

    Deterministic for a given generator state: the same seed gives the same matrix.
    """
    if not 0 <= skip_rate < 1:
        raise ValueError("skip_rate must be within [0, 1)")
    theta = simulate_latent(n_students, rng=rng, latent_shift=latent_shift, model=model)
    uniforms = rng.random((n_students, len(specs)))
    skipped = rng.random((n_students, len(specs))) < skip_rate
    out = np.empty((n_students, len(specs)))
    for j, (spec, params) in enumerate(zip(specs, model.parameters(specs), strict=True)):
        trait = theta[:, COMPONENTS.index(spec.component)]
        at_least = expit(params.discrimination * (trait[:, None] - np.array(params.thresholds)))
        # Inverse-CDF draw: the category is lo plus the number of "at least c" events.
        value = spec.scale_min + (uniforms[:, j, None] < at_least).sum(axis=1)
        out[:, j] = reverse(value, spec.scale_min, spec.scale_max) if spec.reverse_keyed else value
    out[skipped] = np.nan
    return out


def _nodes(shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for an expectation over N(shift, 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    return x + shift, w / w.sum()


def _conditional_moments(specs, model, theta) -> tuple[np.ndarray, np.ndarray]:
    """E[keyed item | theta] and Var[keyed item | theta], shape (items, nodes)."""
    means, variances = [], []
    for spec, params in zip(specs, model.parameters(specs), strict=True):
        probs = category_probabilities(theta, params)
        values = np.arange(spec.scale_min, spec.scale_max + 1)
        mean = probs @ values
        means.append(mean)
        variances.append(probs @ values**2 - mean**2)
    return np.array(means), np.array(variances)


def _one_component(specs: Sequence[ItemSpec], latent_shift) -> float:
    components = {s.component for s in specs}
    if len(components) != 1:
        raise ValueError("model-implied values are per scale: give items of one component")
    return float(_shifts(latent_shift)[COMPONENTS.index(components.pop())])


def expected_scale_mean(
    specs: Sequence[ItemSpec],
    latent_shift: float | Mapping[str, float] = 0.0,
    model: GradedResponseModel = DEFAULT_MODEL,
) -> float:
    """Population mean of ``scale_scores`` for one component's items under the model.

    It is the mean of the items' expected keyed values. Skipping at random does not change
    it: which items a student answered is independent of the trait, and the 80% rule selects
    on the number answered only, so every item weighs equally in expectation.
    """
    theta, weights = _nodes(_one_component(specs, latent_shift))
    means, _ = _conditional_moments(specs, model, theta)
    return float(np.mean(means @ weights))


def expected_alpha(
    specs: Sequence[ItemSpec],
    latent_shift: float | Mapping[str, float] = 0.0,
    model: GradedResponseModel = DEFAULT_MODEL,
) -> float:
    """Population Cronbach's alpha of one component's keyed items under the model.

    Builds the items' covariance matrix exactly: items are independent given the trait, so
    Cov(X_j, X_l) = Cov(E[X_j|theta], E[X_l|theta]) off the diagonal and the diagonal adds
    E[Var(X_j|theta)]. ``cronbach_alpha`` on a large simulated sample converges to it.
    """
    if len(specs) < 2:
        raise ValueError("alpha needs at least 2 items")
    theta, weights = _nodes(_one_component(specs, latent_shift))
    means, variances = _conditional_moments(specs, model, theta)
    centred = means - (means @ weights)[:, None]
    cov = (centred * weights) @ centred.T + np.diag(variances @ weights)
    k = len(specs)
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))
