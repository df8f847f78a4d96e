"""Summaries of repeated measurements: percentiles, means, shares.

Percentiles interpolate linearly between order statistics (numpy's default), so with few
rounds p95 lies between the two slowest samples instead of jumping to the maximum, and
p50 <= p95 always holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Distribution:
    n: int
    mean: float
    p50: float
    p95: float
    min: float
    max: float


def _present(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None]


def percentile(values: Iterable[float | None], q: float) -> float | None:
    present = _present(values)
    return float(np.percentile(present, q)) if present else None


def distribution(values: Iterable[float | None]) -> Distribution | None:
    """None for no measurements, so an empty column never shows a made-up zero."""
    present = _present(values)
    if not present:
        return None
    array = np.asarray(present)
    return Distribution(
        n=len(present),
        mean=float(array.mean()),
        p50=float(np.percentile(array, 50)),
        p95=float(np.percentile(array, 95)),
        min=float(array.min()),
        max=float(array.max()),
    )


def mean(values: Iterable[float | bool | None]) -> float | None:
    present = _present(values)
    return sum(present) / len(present) if present else None
