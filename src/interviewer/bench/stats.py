"""Confidence intervals for the bench summary: Wilson for rates, order statistics for percentiles.

Both are distribution-free and exact enough at the sizes we run (tens to thousands of sessions). A
percentile's interval is the pair of order statistics whose ranks bracket n·p with the binomial's normal
approximation (Hahn & Meeker); with too few samples for a 95% interval the bound is None, not a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of a success rate (None, None without trials)."""
    if n <= 0:
        return None, None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Linear interpolation between order statistics (numpy's default), on sorted values."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentile_ci(ordered: Sequence[float], p: float, z: float = Z95) -> tuple[float | None, float | None]:
    """Distribution-free interval of the p-th percentile from order statistics; a bound the sample cannot
    support (it would need a rank below 1 or above n) is None."""
    n = len(ordered)
    if n == 0:
        return None, None
    spread = z * math.sqrt(n * p * (1 - p))
    lower_rank = math.floor(n * p - spread)  # 1-based ranks
    upper_rank = math.ceil(n * p + spread) + 1
    lower = ordered[lower_rank - 1] if 1 <= lower_rank <= n else None
    upper = ordered[upper_rank - 1] if 1 <= upper_rank <= n else None
    return lower, upper


def describe(values: Sequence[float], quantiles: Sequence[float] = (0.5, 0.95, 0.99)) -> dict[str, object]:
    """n, mean, and each quantile with its 95% interval."""
    ordered = sorted(values)
    out: dict[str, object] = {"n": len(ordered), "mean": sum(ordered) / len(ordered) if ordered else None}
    for q in quantiles:
        key = f"p{round(q * 100)}"
        low, high = percentile_ci(ordered, q)
        out[key] = percentile(ordered, q)
        out[f"{key}_ci95"] = [low, high]
    out["max"] = ordered[-1] if ordered else None
    return out


def rate(successes: int, n: int) -> dict[str, object]:
    low, high = wilson(successes, n)
    return {"k": successes, "n": n, "rate": successes / n if n else None, "ci95": [low, high]}
