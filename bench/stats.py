"""Latency summaries: nearest-rank percentiles, in milliseconds."""

import math
from collections.abc import Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], p: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(seconds: Sequence[float]) -> dict[str, Any]:
    """count, p50, p95, p99, max and mean of the latencies, in ms."""
    ordered = sorted(seconds)
    ms = [round(1000 * v, 2) for v in ordered]
    return {
        "count": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": ms[-1] if ms else math.nan,
        "mean_ms": round(sum(ms) / len(ms), 2) if ms else math.nan,
    }
