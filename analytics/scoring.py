"""Scale scores, component scores and "% favorable" for one wave's response matrix.

Pure functions over NumPy arrays; no Django. Conventions shared with the rest of the system:

* A response matrix is a 2-D float array: rows are students, columns are items, ``np.nan``
  marks a skipped item. Values are the app's raw codes on the item's scale (integers
  ``scale_min..scale_max``, higher = more agreement).
* ``ItemSpec`` describes one column. ``favorable`` lists favorable categories on the *keyed*
  value, i.e. after reverse keying, so "Disagree" with "I feel like an outsider" counts as
  favorable once that item is flipped.

Rules from DESIGN.md "Measurement" that this module enforces:

* reverse-keyed items are flipped, x' = (min + max) - x;
* a student's scale score is the mean of the answered keyed items, and only counts if at
  least 80% of the scale's items were answered; the share excluded is reported;
* the four components are scored separately and never summed into a total;
* items the project wrote itself (``validated=False``) never enter a validated component
  score. They are scored as a separate scale under the key ``"<component> (not validated)"``
  (see ``not_validated_key``), so a dashboard can show them apart and labelled;
* an item's % favorable is the share of valid answers in its favorable categories; a
  component's % favorable is the mean of its items' values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

COMPONENTS = ("perceptions", "competencies", "motivations", "opportunities")
DEFAULT_MIN_SHARE = 0.8


@dataclass(frozen=True)
class ItemSpec:
    """How to score one item (one column of a response matrix)."""

    key: str
    component: str
    scale_min: int
    scale_max: int
    reverse_keyed: bool
    favorable: tuple[int, ...]
    validated: bool = True

    def __post_init__(self):
        if self.component not in COMPONENTS:
            raise ValueError(f"{self.key}: unknown component {self.component!r}")
        if self.scale_min >= self.scale_max:
            raise ValueError(f"{self.key}: scale_min must be below scale_max")
        if not set(self.favorable) <= set(range(self.scale_min, self.scale_max + 1)):
            raise ValueError(f"{self.key}: favorable categories outside the scale")


@dataclass(frozen=True)
class ScaleScores:
    """Per-student scale scores for one scale, with the exclusion count the dashboard reports.

    ``scores[i]`` is nan when student ``i`` answered less than the required share of items.
    ``share_excluded`` is None when there are no students (a share of nobody is undefined).
    """

    scores: np.ndarray
    item_keys: tuple[str, ...]
    n_students: int
    n_excluded: int
    share_excluded: float | None

    @property
    def n_scored(self) -> int:
        return self.n_students - self.n_excluded


def not_validated_key(component: str) -> str:
    """The result key under which a component's not-validated items are scored on their own."""
    return f"{component} (not validated)"


def reverse(values, lo: int, hi: int) -> np.ndarray:
    """Reverse-key values on a lo..hi scale: x' = (lo + hi) - x; nan stays nan."""
    return (lo + hi) - np.asarray(values, dtype=float)


def _check_matrix(matrix, specs: Sequence[ItemSpec]) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] != len(specs):
        raise ValueError(f"expected a (students, {len(specs)}) matrix, got {matrix.shape}")
    for j, spec in enumerate(specs):
        _check_codes(matrix[:, j], spec.scale_min, spec.scale_max, spec.key)
    return matrix


def _check_codes(column: np.ndarray, lo: int, hi: int, key: str) -> None:
    # An out-of-range code (say a "prefer not to say" sentinel leaking into the answers)
    # would silently shift every mean, so it is an error rather than data.
    valid = column[~np.isnan(column)]
    bad = (valid < lo) | (valid > hi) | (valid != np.round(valid))
    if bad.any():
        raise ValueError(f"{key}: values outside the integer scale {lo}..{hi}: {valid[bad][:5]}")


def keyed(matrix, specs: Sequence[ItemSpec]) -> np.ndarray:
    """Return a copy of the matrix with every reverse-keyed column flipped."""
    out = _check_matrix(matrix, specs).copy()
    for j, spec in enumerate(specs):
        if spec.reverse_keyed:
            out[:, j] = reverse(out[:, j], spec.scale_min, spec.scale_max)
    return out


def _row_means(keyed_matrix: np.ndarray, min_share: float) -> tuple[np.ndarray, np.ndarray]:
    answered = ~np.isnan(keyed_matrix)
    n_answered = answered.sum(axis=1)
    totals = np.where(answered, keyed_matrix, 0.0).sum(axis=1)
    # Compare the exact ratio, not n_answered >= min_share * n_items: 0.8 * 15 is
    # 12.000000000000002 in floating point, which would wrongly exclude 12 of 15.
    # At least one answer is needed whatever min_share says.
    ok = (n_answered > 0) & (n_answered / keyed_matrix.shape[1] >= min_share)
    safe = np.where(ok, n_answered, 1)
    return np.where(ok, totals / safe, np.nan), ok


def scale_scores(
    matrix, specs: Sequence[ItemSpec], min_share: float = DEFAULT_MIN_SHARE
) -> ScaleScores:
    """Score one scale: per student, the mean of answered keyed items (80% rule).

    A student counts only when answered / len(specs) >= min_share; otherwise the score is
    nan and the student is counted in ``n_excluded``. Returns a ``ScaleScores``.
    """
    if not specs:
        raise ValueError("a scale needs at least one item")
    if not 0 < min_share <= 1:
        raise ValueError("min_share must be in (0, 1]")
    scores, ok = _row_means(keyed(matrix, specs), min_share)
    n_students = scores.shape[0]
    n_excluded = int(n_students - ok.sum())
    share = n_excluded / n_students if n_students else None
    keys = tuple(spec.key for spec in specs)
    return ScaleScores(scores, keys, n_students, n_excluded, share)


def _scales(specs: Sequence[ItemSpec]) -> dict[str, list[int]]:
    """Column indices per result key: validated items by component, the rest apart."""
    scales: dict[str, list[int]] = {}
    for j, spec in enumerate(specs):
        key = spec.component if spec.validated else not_validated_key(spec.component)
        scales.setdefault(key, []).append(j)
    return scales


def component_scores(
    matrix, specs: Sequence[ItemSpec], min_share: float = DEFAULT_MIN_SHARE
) -> dict[str, ScaleScores | None]:
    """Score each component of the framework separately from its validated items.

    The result always has the four component keys; a component without validated items maps
    to None ("not measured", never zero). Not-validated items are scored as their own scale
    under ``not_validated_key(component)``, present only when such items exist. No total
    across components is computed, because no validation supports one.
    """
    matrix = _check_matrix(matrix, specs)
    result: dict[str, ScaleScores | None] = dict.fromkeys(COMPONENTS)
    for key, columns in _scales(specs).items():
        subset = [specs[j] for j in columns]
        result[key] = scale_scores(matrix[:, columns], subset, min_share)
    return result


def distribution(column, lo: int, hi: int) -> dict[int, int]:
    """Count the valid answers at each scale point lo..hi (raw codes; nan ignored)."""
    column = np.asarray(column, dtype=float)
    _check_codes(column, lo, hi, "column")
    valid = column[~np.isnan(column)].astype(int)
    counts = np.bincount(valid - lo, minlength=hi - lo + 1)
    return {lo + i: int(c) for i, c in enumerate(counts)}


def percent_favorable_from_distribution(counts: Mapping[int, int], spec: ItemSpec) -> float | None:
    """Share of valid answers in the favorable categories, from raw-code counts.

    This is the one definition of an item's % favorable; ``item_percent_favorable`` calls it,
    and the SQL aggregation can call it on counts it already has. Returns None when there
    are no valid answers (an undefined share, not 0%).
    """
    total = sum(counts.values())
    if total == 0:
        return None
    # favorable is stated on the keyed value; map each raw code to its keyed value first.
    fav = sum(n for code, n in counts.items() if _keyed_code(code, spec) in spec.favorable)
    return fav / total


def _keyed_code(code: int, spec: ItemSpec) -> int:
    return spec.scale_min + spec.scale_max - code if spec.reverse_keyed else code


def item_percent_favorable(column, spec: ItemSpec) -> float | None:
    """Share (0..1) of an item's valid answers that are favorable; None without valid answers."""
    counts = distribution(column, spec.scale_min, spec.scale_max)
    return percent_favorable_from_distribution(counts, spec)


def component_percent_favorable(matrix, specs: Sequence[ItemSpec]) -> dict[str, float | None]:
    """A component's % favorable: the mean of its items' % favorable (DESIGN definition).

    Keys follow ``component_scores``: the four components always (None when not measured),
    plus ``not_validated_key(c)`` where not-validated items exist. Items without any valid
    answer have no % favorable and are left out of the mean; a component none of whose
    items has one is None.
    """
    matrix = _check_matrix(matrix, specs)
    result: dict[str, float | None] = dict.fromkeys(COMPONENTS)
    for key, columns in _scales(specs).items():
        shares = [item_percent_favorable(matrix[:, j], specs[j]) for j in columns]
        shares = [s for s in shares if s is not None]
        result[key] = float(np.mean(shares)) if shares else None
    return result
