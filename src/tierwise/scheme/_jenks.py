"""Fisher-Jenks natural breaks: the optimal 1-D partition into contiguous classes.

Fisher (1958), "On grouping for maximum homogeneity", JASA 53(284); Jenks (1977), "Optimal
data classification for choropleth maps". Dynamic programming over the sorted distinct
values minimises the total within-class (weighted) sum of squared deviations exactly, so it
is 1-D k-means without the local optima. The classifier calls it on a compressed weighted
histogram pulled from the engine (distinct values, or quantile bins with counts as weights),
never on raw rows.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from tierwise.errors import DataError

MAX_DISTINCT: Final = 10_000
# Partitions whose costs differ by less than this share of the data's spread are tied; float
# rounding must not decide between them, or equal inputs could give different breaks.
_TIE_TOLERANCE: Final = 1e-12


def jenks_breaks(
    values: npt.ArrayLike,
    n_classes: int,
    *,
    weights: npt.ArrayLike | None = None,
) -> list[float]:
    """Natural breaks of ``values`` into ``n_classes`` classes.

    Returns the inner breaks: ``breaks[i]`` is the largest value of class ``i`` (an inclusive
    upper bound) for every class but the last. A value ``v`` belongs to class ``i`` when
    ``breaks[i-1] < v <= breaks[i]``, taking ``breaks[-1]`` as minus infinity and
    ``breaks[n-1]`` as plus infinity; with NumPy, ``np.searchsorted(breaks, v, side="left")``.

    - With fewer distinct values (of positive weight) than ``n_classes``, every distinct value
      gets its own class: the result has ``distinct - 1`` breaks, so it may be shorter than
      ``n_classes - 1`` (and is empty for a single distinct value or ``n_classes == 1``).
    - ``weights`` (default 1 each) count how often each value occurs; a value with weight
      ``k`` acts exactly like ``k`` copies of it. Values of weight 0 are ignored.
    - NaN values are ignored (with their weights).
    - Among equally good partitions (within float rounding), the last class is made as large
      as possible, then the one before it, and so on, so ties are broken deterministically.

    Cost is O(n_classes · d²) time and O(n_classes · d) memory for ``d`` distinct values, so
    pass a histogram of at most a few thousand values (the limit is ``MAX_DISTINCT``).

    >>> jenks_breaks([1, 2, 3, 10, 11, 12, 50, 51], 3)
    [3.0, 12.0]
    """
    points, masses = _histogram(values, weights)
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
        raise DataError(f"n_classes must be a whole number, got {n_classes!r}.")
    if n_classes < 1:
        raise DataError(f"n_classes must be at least 1, got {n_classes}.")
    k = min(int(n_classes), len(points))
    if k == 1:
        return []
    if k == len(points):
        return [float(v) for v in points[:-1]]
    starts = _optimal_starts(points, masses, k)
    return [float(points[s - 1]) for s in starts[1:]]


def _histogram(
    values: npt.ArrayLike, weights: npt.ArrayLike | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Sorted distinct values and their total weights, NaN and zero weights dropped."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise DataError(f"values must be one-dimensional, got shape {x.shape}.")
    if weights is None:
        w = np.ones_like(x)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != x.shape:
            raise DataError(
                f"weights must match values one to one, got {w.shape[0] if w.ndim == 1 else w.shape} "
                f"weights for {x.shape[0]} values."
            )
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"weights must be finite and non-negative, got {w[first]} at position {first}."
            )
    keep = ~np.isnan(x)
    if np.isinf(x[keep]).any():
        raise DataError("values must be finite; drop or cap the infinite values first.")
    keep &= w > 0
    if not keep.any():
        raise DataError(
            "jenks_breaks needs at least one value (ignoring NaN and zero weights), got none."
        )
    points, inverse = np.unique(x[keep], return_inverse=True)
    masses = np.bincount(inverse, weights=w[keep], minlength=len(points))
    if len(points) > MAX_DISTINCT:
        raise DataError(
            f"jenks_breaks got {len(points):,} distinct values; the limit is {MAX_DISTINCT:,}. "
            "Pass a histogram instead (quantile bins as values, their counts as weights)."
        )
    return points, masses.astype(np.float64)


def _optimal_starts(x: npt.NDArray[np.float64], w: npt.NDArray[np.float64], k: int) -> list[int]:
    """Start index of each of the ``k`` classes in the cheapest partition of sorted ``x``."""
    d = len(x)
    scale = float(w.sum()) * float(x[-1] - x[0]) ** 2
    tolerance = _TIE_TOLERANCE * scale
    # best[c, j]: least cost of points 0..j in c + 1 classes; start[c, j]: where the last begins.
    best = np.full((k, d), np.inf)
    start = np.zeros((k, d), dtype=np.int64)
    for j in range(d):
        cost = _costs_ending_at(x, w, j)
        best[0, j] = cost[0]
        for c in range(1, min(k, j + 1)):
            # The last class is points i..j with i >= c, after c classes on points 0..i-1.
            candidates = best[c - 1, c - 1 : j] + cost[c : j + 1]
            lowest = candidates.min()
            # The first near-minimum is the earliest start: the largest last class.
            chosen = int(np.flatnonzero(candidates <= lowest + tolerance)[0])
            best[c, j] = candidates[chosen]
            start[c, j] = c + chosen
    starts = [0] * k
    end = d - 1
    for c in range(k - 1, 0, -1):
        starts[c] = int(start[c, end])
        end = starts[c] - 1
    return starts


def _costs_ending_at(
    x: npt.NDArray[np.float64], w: npt.NDArray[np.float64], j: int
) -> npt.NDArray[np.float64]:
    """Weighted sum of squared deviations of points i..j, for every i <= j.

    Values are shifted by ``x[j]`` first: the sums then stay within a class's own range,
    which keeps the usual ``Σw·x² - (Σw·x)²/Σw`` from cancelling catastrophically.
    """
    shifted = x[: j + 1] - x[j]
    weight = w[: j + 1]
    # Suffix sums over i..j, by reversing, summing and reversing back.
    total = np.cumsum(weight[::-1])[::-1]
    linear = np.cumsum((weight * shifted)[::-1])[::-1]
    square = np.cumsum((weight * shifted * shifted)[::-1])[::-1]
    cost: npt.NDArray[np.float64] = np.maximum(square - linear * linear / total, 0.0)
    return cost


__all__ = ["MAX_DISTINCT", "jenks_breaks"]
