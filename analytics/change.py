"""Change between two waves, per component and group, with its uncertainty.

Pure NumPy/SciPy, no Django. Inputs are the aggregates a snapshot already holds (n, mean, SD
of scale scores; % favorable and its n), because the publish pipeline aggregates in SQL.
Every difference is "later wave minus earlier wave" (``b - a``).

What the dashboard shows for a group's trend (DESIGN: "every trend shows its uncertainty"):

* the difference with its 95% confidence interval, and "detectable" = the CI excludes zero.
  This is the right yardstick for a group mean or a group % favorable;
* the minimum detectable change (MDC95 = 1.96 * sqrt(2) * SEM, SEM = SD * sqrt(1 - r)) is
  reported alongside, as context only. It answers a different question, "is one student's
  change larger than measurement error?" (Jacobson & Truax 1991), and is far too strict for
  a mean of many students; only linked-mode views of individual change should use it as the
  verdict.

Assumptions worth knowing:

* The two waves are treated as independent samples. In linked mode many students answer
  both waves; their positive wave-to-wave correlation makes the true SE smaller, so the
  interval here is conservative (too wide), never too narrow.
* Students are clustered in classes. ``design_effect`` (>= 1) inflates the variance for that;
  the default 1 assumes simple random sampling, which understates uncertainty when class
  effects are strong.
* Waves from different seasons differ systematically (``season_caution``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from scipy import stats

Z95 = 1.96
SEASONS = ("autumn", "winter", "spring", "summer")


@dataclass(frozen=True)
class GroupSummary:
    """Aggregates of one group's scale scores in one wave (SD with ddof=1)."""

    n: int
    mean: float
    sd: float


@dataclass(frozen=True)
class Change:
    """A between-wave difference (b - a) with its confidence interval.

    ``detectable`` is True when the interval excludes zero. ``mdc95`` and ``exceeds_mdc`` are
    filled for mean differences when a reliability was given (see the module docstring for
    which one the dashboard shows). ``reason`` explains an interval that cannot be computed.
    """

    difference: float
    ci_low: float | None
    ci_high: float | None
    detectable: bool | None
    ci: float = 0.95
    mdc95: float | None = None
    exceeds_mdc: bool | None = None
    reason: str | None = None


def standard_error_of_measurement(sd: float, reliability: float) -> float:
    """SEM = SD * sqrt(1 - reliability)."""
    if not 0 <= reliability <= 1:
        raise ValueError("reliability must be within [0, 1]")
    return sd * math.sqrt(1 - reliability)


def minimum_detectable_change(sd: float, reliability: float, z: float = Z95) -> float:
    """MDC = z * sqrt(2) * SEM; with z = 1.96 this is MDC95 (Jacobson & Truax 1991)."""
    return z * math.sqrt(2) * standard_error_of_measurement(sd, reliability)


def mean_difference(
    a: GroupSummary,
    b: GroupSummary,
    *,
    ci: float = 0.95,
    reliability: float | None = None,
    design_effect: float = 1.0,
) -> Change:
    """Difference in mean score (b - a) with a Welch confidence interval from aggregates.

    SE = sqrt(deff * (sd_a^2/n_a + sd_b^2/n_b)), Welch-Satterthwaite degrees of freedom
    (unchanged by a common design effect). When ``reliability`` is given (the earlier wave's
    alpha, as a reliable-change index uses the baseline) and lies within [0, 1], the MDC95
    from wave a's SD is reported too. Both SDs zero leaves the interval undefined: a result
    with a reason.
    """
    _check_summary(a)
    _check_summary(b)
    if design_effect < 1:
        raise ValueError("design_effect must be at least 1")
    va, vb = a.sd**2 / a.n, b.sd**2 / b.n
    diff = float(b.mean - a.mean)
    # A negative alpha (possible in tiny or incoherent groups) gives no meaningful SEM.
    usable = reliability is not None and 0 <= reliability <= 1
    mdc = minimum_detectable_change(a.sd, reliability) if usable else None
    exceeds = bool(abs(diff) > mdc) if mdc is not None else None
    if va + vb == 0:
        reason = "no variation in either wave"
        return Change(diff, None, None, None, ci, mdc, exceeds, reason)
    se = math.sqrt(design_effect * (va + vb))
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    half = float(stats.t.ppf(1 - (1 - ci) / 2, df)) * se
    low, high = diff - half, diff + half
    return Change(diff, low, high, low > 0 or high < 0, ci, mdc, exceeds)


def _check_summary(s: GroupSummary) -> None:
    if s.n < 2:
        raise ValueError("each wave needs n >= 2 for a standard deviation")
    if s.sd < 0 or not math.isfinite(s.sd) or not math.isfinite(s.mean):
        raise ValueError("mean and sd must be finite, sd non-negative")


def wilson_interval(p: float, n: float, ci: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion p observed on n answers."""
    z = float(stats.norm.ppf(1 - (1 - ci) / 2))
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def percent_favorable_difference(
    p_a: float, n_a: int, p_b: float, n_b: int, *, ci: float = 0.95, design_effect: float = 1.0
) -> Change:
    """Difference in % favorable (b - a, as proportions) with Newcombe's hybrid score CI.

    Newcombe (1998, method 10) combines the two Wilson intervals; unlike the Wald interval it
    stays within [-1, 1] and keeps its coverage near 0% and 100%, where small groups often
    are, so no continuity correction is needed. A design effect divides each n (effective
    sample size).

    For an item, n is its number of valid answers. For a component % favorable (a mean of
    item shares) pass the number of students answering its items (the smallest item n to be
    safe): each student's favorable share lies in [0, 1], so its variance is at most
    p(1 - p), and treating the component as one proportion on n students is conservative.
    """
    for p, n in ((p_a, n_a), (p_b, n_b)):
        if not 0 <= p <= 1 or n < 1:
            raise ValueError("proportions must be within [0, 1] with n >= 1")
    if design_effect < 1:
        raise ValueError("design_effect must be at least 1")
    low_a, high_a = wilson_interval(p_a, n_a / design_effect, ci)
    low_b, high_b = wilson_interval(p_b, n_b / design_effect, ci)
    diff = float(p_b - p_a)
    low = diff - math.sqrt((p_b - low_b) ** 2 + (high_a - p_a) ** 2)
    high = diff + math.sqrt((high_b - p_b) ** 2 + (p_a - low_a) ** 2)
    return Change(diff, low, high, low > 0 or high < 0, ci)


def season_of(day: date, *, southern_hemisphere: bool = False) -> str:
    """Meteorological season of a date (Sep-Nov autumn in the north, spring in the south)."""
    north = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring"}
    north |= {6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}
    season = north[day.month]
    if southern_hemisphere:
        season = SEASONS[(SEASONS.index(season) + 2) % 4]
    return season


def season_caution(season_a: str | None, season_b: str | None) -> str | None:
    """A caution for the dashboard when two waves come from different seasons, else None.

    Huang et al. (2023, School Psychology Review, doi:10.1080/2372966X.2023.2176160) found
    school-climate ratings systematically more favorable in autumn than in spring across 26
    secondary schools (d = .25 to .47), so a change between seasons is partly seasonal.
    "fall" is accepted for "autumn". An unknown season also earns a caution.
    """
    a, b = _season(season_a), _season(season_b)
    if a is None or b is None:
        return (
            "The season of one of these waves is not recorded, so seasonal differences "
            "cannot be ruled out when comparing them."
        )
    if a == b:
        return None
    return (
        f"These waves come from different seasons ({a} and {b}). Students' ratings of school "
        "climate tend to be more favorable in autumn than in spring (Huang et al., 2023), so "
        "part of this change may be seasonal. Compare waves from the same season where possible."
    )


def _season(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    value = "autumn" if value == "fall" else value
    if value not in SEASONS:
        raise ValueError(f"unknown season {value!r}")
    return value
