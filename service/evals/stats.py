"""Confidence intervals and sample sizes for eval measurements, in the standard library only.

Spec evals take a handful of invocations per spec, so their intervals are
Student-t intervals for the *trimmed* mean (Yuen's: the trimmed mean with the
winsorized variance, ``kept - 1`` degrees of freedom), which stay honest at
small samples where a bootstrap percentile interval is too narrow. Concurrency
steps have thousands of latencies and are judged by their p99, so theirs is the
distribution-free order-statistic interval of that quantile (ranks from the
binomial distribution, no resampling, deterministic).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

LEVEL = 0.95
POWER = 0.8
# FC bills whole milliseconds (x-fc-invocation-duration rounded up): differences
# at or below this are the clock's, not the spec's.
TIMER_RESOLUTION_MS = 1.0
T_METHOD = "t"
ORDER_METHOD = "order-statistic"
T_METHOD_TEXT = "Student-t interval of the trimmed mean with Yuen's winsorized variance"
ORDER_METHOD_TEXT = "distribution-free order-statistic interval of the p99"


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1) < 1e-14:
            break
    return result


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_fraction(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom (bisection on the CDF)."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def trimmed_interval(values: list[int] | list[float], trim: float) -> dict[str, Any] | None:
    """The 95% interval of the trimmed mean (the figure a spec is judged by) of durations
    (so never below zero); None below two kept samples, where no spread can be measured."""
    ordered = sorted(values)
    n = len(ordered)
    cut = int(n * trim)
    kept = ordered[cut : n - cut]
    if len(kept) < 2:
        return None
    mean = sum(kept) / len(kept)
    winsorized = [ordered[cut]] * cut + kept + [ordered[n - cut - 1]] * cut
    w_mean = sum(winsorized) / n
    w_var = sum((v - w_mean) ** 2 for v in winsorized) / (n - 1)
    stderr = math.sqrt((n - 1) * w_var / (len(kept) * (len(kept) - 1)))
    half = t_quantile(1 - (1 - LEVEL) / 2, len(kept) - 1) * stderr
    return {
        "level": LEVEL,
        "method": T_METHOD,
        "low": round(max(0.0, mean - half), 2),  # a duration: never below zero
        "high": round(mean + half, 2),
        "stderr": round(stderr, 4),
        "samples": n,
    }


def quantile_interval(values: list[float], q: float) -> dict[str, Any] | None:
    """The 95% interval of the q-quantile from the order statistics; ``capped`` when the
    sample is too small for its upper end (then ``high`` is the slowest value seen)."""
    n = len(values)
    if n < 2:
        return None
    ordered = sorted(values)
    z = NormalDist().inv_cdf(1 - (1 - LEVEL) / 2)
    spread = z * math.sqrt(n * q * (1 - q))
    low_rank = max(1, math.floor(n * q - spread))
    high_rank = math.ceil(n * q + spread) + 1
    return {
        "level": LEVEL,
        "method": ORDER_METHOD,
        "low": round(ordered[low_rank - 1], 2),
        "high": round(ordered[min(n, high_rank) - 1], 2),
        "capped": high_rank > n,
        "samples": n,
    }


def overlap(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two intervals overlap; a missing interval (one sample) overlaps anything:
    without a spread nothing can be told apart from it."""
    if a is None or b is None:
        return True
    return bool(a["low"] <= b["high"] and b["low"] <= a["high"])


def invocations_to_separate(
    difference_ms: float, a: dict[str, Any], b: dict[str, Any], trim: float
) -> int | None:
    """Invocations per spec after which the two 95% intervals stop overlapping in 80% of
    runs, if the observed difference and spread are real; None when the difference is at
    or below the timer's resolution (no number of runs separates those)."""
    if abs(difference_ms) <= TIMER_RESOLUTION_MS:
        return None
    # Spread of one invocation's contribution: stderr = sqrt(per_run / samples).
    per_run_a = a["stderr"] ** 2 * a["samples"]
    per_run_b = b["stderr"] ** 2 * b["samples"]
    if per_run_a == per_run_b == 0:
        return 2
    z_power = NormalDist().inv_cdf(POWER)
    n = 2
    for _ in range(60):
        kept = max(2, n - 2 * int(n * trim))
        t = t_quantile(1 - (1 - LEVEL) / 2, kept - 1)
        # The intervals' half-widths add up; the difference must clear them with power.
        needed = (
            t * (math.sqrt(per_run_a) + math.sqrt(per_run_b))
            + z_power * math.sqrt(per_run_a + per_run_b)
        ) / abs(difference_ms)
        following = max(2, math.ceil(needed**2))
        if following == n:
            break
        n = following
    return n
