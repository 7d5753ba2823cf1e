"""Fisher-Jenks natural breaks: toy cases checked by hand, brute force, weights."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.errors import DataError
from tierwise.scheme._jenks import MAX_DISTINCT, jenks_breaks

TOY = [1, 2, 3, 10, 11, 12, 50, 51]


def test_three_obvious_groups() -> None:
    # {1,2,3} {10,11,12} {50,51}: SSD 2 + 2 + 0.5 = 4.5; moving any point across a gap costs
    # far more (e.g. {1..12} {50} {51}: 125.5).
    assert jenks_breaks(TOY, 3) == [3.0, 12.0]


def test_two_groups() -> None:
    # {1..12} {50,51}: 125.5 + 0.5 = 126, against 2 + 1874.8 for {1,2,3} {10..51}.
    assert jenks_breaks(TOY, 2) == [12.0]


def test_breaks_are_inclusive_upper_bounds() -> None:
    breaks = jenks_breaks(TOY, 3)
    classes = np.searchsorted(breaks, TOY, side="left").tolist()
    assert classes == [0, 0, 0, 1, 1, 1, 2, 2]


def test_one_class_has_no_breaks() -> None:
    assert jenks_breaks(TOY, 1) == []


def test_as_many_classes_as_values_puts_each_value_alone() -> None:
    assert jenks_breaks(TOY, 8) == [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 50.0]


def test_fewer_distinct_values_than_classes_gives_fewer_breaks() -> None:
    assert jenks_breaks([5, 5, 7], 4) == [5.0]
    assert jenks_breaks([5, 5, 5], 3) == []
    assert jenks_breaks(TOY, 20) == [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 50.0]


def test_tie_makes_the_last_class_as_large_as_possible() -> None:
    # {1} {2,3} and {1,2} {3} both cost 0.5.
    assert jenks_breaks([1, 2, 3], 2) == [1.0]
    # {0} {1,2} {3,4} / {0,1} {2} {3,4} / {0,1} {2,3} {4} ... tie at 1.0; last class first.
    assert jenks_breaks([0, 1, 2, 3, 4], 3) == [0.0, 2.0]


def test_weights_can_move_a_break() -> None:
    # Unweighted: {0,4} {10} costs 8, {0} {4,10} costs 18.
    assert jenks_breaks([0, 4, 10], 2) == [4.0]
    # Weights 100, 2, 1: {0,4} {10} costs 100·2/102·16 = 31.37, {0} {4,10} costs
    # 2·1/3·36 = 24.
    assert jenks_breaks([0, 4, 10], 2, weights=[100, 2, 1]) == [0.0]


def test_nan_is_ignored() -> None:
    assert jenks_breaks([1, math.nan, 2, 10], 2) == [2.0]
    assert jenks_breaks([1, math.nan, 2, 10], 2, weights=[1, 1000, 1, 1]) == [2.0]


def test_zero_weights_are_ignored() -> None:
    assert jenks_breaks([1, 2, 100], 2, weights=[1, 1, 0]) == [1.0]


def test_order_of_input_does_not_matter() -> None:
    assert jenks_breaks(list(reversed(TOY)), 3) == [3.0, 12.0]
    assert jenks_breaks(np.array(TOY, dtype=np.int32), 3) == [3.0, 12.0]


def test_a_large_histogram_is_quick_enough() -> None:
    rng = np.random.default_rng(7)
    values = np.round(rng.lognormal(mean=5, sigma=1, size=2000), 2)
    breaks = jenks_breaks(values, 7, weights=rng.integers(1, 500, size=2000))
    assert len(breaks) == 6
    assert breaks == sorted(breaks)
    assert all(b in set(values.tolist()) for b in breaks)


@pytest.mark.parametrize(
    ("values", "n_classes", "weights", "message"),
    [
        (
            [],
            3,
            None,
            "jenks_breaks needs at least one value (ignoring NaN and zero weights), got none.",
        ),
        (
            [math.nan, math.nan],
            3,
            None,
            "jenks_breaks needs at least one value (ignoring NaN and zero weights), got none.",
        ),
        (
            [1, 2],
            2,
            [0, 0],
            "jenks_breaks needs at least one value (ignoring NaN and zero weights), got none.",
        ),
        ([1, 2], 2, [1, -1], "weights must be finite and non-negative, got -1.0 at position 1."),
        (
            [1, 2],
            2,
            [1, math.inf],
            "weights must be finite and non-negative, got inf at position 1.",
        ),
        ([1, 2], 2, [1], "weights must match values one to one, got 1 weights for 2 values."),
        ([1, math.inf], 2, None, "values must be finite; drop or cap the infinite values first."),
        ([[1, 2]], 2, None, "values must be one-dimensional, got shape (1, 2)."),
        ([1, 2], 0, None, "n_classes must be at least 1, got 0."),
        ([1, 2], 2.5, None, "n_classes must be a whole number, got 2.5."),
        ([1, 2], True, None, "n_classes must be a whole number, got True."),
    ],
)
def test_bad_input_is_refused(
    values: list[object], n_classes: int, weights: list[float] | None, message: str
) -> None:
    with pytest.raises(DataError) as caught:
        jenks_breaks(values, n_classes, weights=weights)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_too_many_distinct_values_asks_for_a_histogram() -> None:
    with pytest.raises(DataError, match="got 10,001 distinct values; the limit is 10,000"):
        jenks_breaks(np.arange(MAX_DISTINCT + 1), 3)


# --- brute force ------------------------------------------------------------------------------


def _ssd(x: np.ndarray, w: np.ndarray) -> float:
    mean = float((w * x).sum() / w.sum())
    return float((w * (x - mean) ** 2).sum())


def _brute_force(
    values: list[int], weights: list[int], n_classes: int
) -> tuple[list[float], float]:
    """Every way to cut the sorted distinct values, with jenks_breaks's tie rule."""
    points = np.array(sorted(set(values)), dtype=float)
    masses = np.array(
        [sum(w for v, w in zip(values, weights, strict=True) if v == p) for p in points]
    )
    k = min(n_classes, len(points))
    scale = masses.sum() * (points[-1] - points[0]) ** 2
    found: list[tuple[float, tuple[int, ...]]] = []
    for cuts in itertools.combinations(range(1, len(points)), k - 1):
        edges = (0, *cuts, len(points))
        cost = sum(_ssd(points[a:b], masses[a:b]) for a, b in itertools.pairwise(edges))
        found.append((cost, cuts))
    best = min(cost for cost, _ in found)
    # Among (near) ties: the last class as large as possible, i.e. its start as low as
    # possible, then the one before it, and so on.
    ties = [cuts for cost, cuts in found if cost <= best + 1e-12 * scale]
    cuts = min(ties, key=lambda c: tuple(reversed(c)))
    return [float(points[c - 1]) for c in cuts], best


def _cost(values: list[int], weights: list[int], breaks: list[float]) -> float:
    x, w = np.array(values, dtype=float), np.array(weights, dtype=float)
    classes = np.searchsorted(breaks, x, side="left")
    return sum(_ssd(x[classes == c], w[classes == c]) for c in np.unique(classes))


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.integers(min_value=-20, max_value=20), st.integers(min_value=1, max_value=5)),
        min_size=1,
        max_size=9,
    ),
    st.integers(min_value=1, max_value=5),
)
def test_agrees_with_brute_force(pairs: list[tuple[int, int]], n_classes: int) -> None:
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    expected, best = _brute_force(values, weights, n_classes)
    breaks = jenks_breaks(values, n_classes, weights=weights)
    assert breaks == expected
    assert _cost(values, weights, breaks) == pytest.approx(best, rel=1e-9, abs=1e-9)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            st.integers(min_value=1, max_value=6),
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(min_value=1, max_value=6),
)
def test_weight_k_is_k_copies(pairs: list[tuple[float, int]], n_classes: int) -> None:
    repeated = [v for v, count in pairs for _ in range(count)]
    assert jenks_breaks(repeated, n_classes) == jenks_breaks(
        [v for v, _ in pairs], n_classes, weights=[c for _, c in pairs]
    )


@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=False, width=32), min_size=1, max_size=40),
    st.integers(min_value=1, max_value=8),
)
def test_breaks_are_increasing_input_values(values: list[float], n_classes: int) -> None:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        with pytest.raises(DataError):
            jenks_breaks(values, n_classes)
        return
    breaks = jenks_breaks(values, n_classes)
    assert len(breaks) == min(n_classes, len(set(finite))) - 1
    assert breaks == sorted(set(breaks))
    assert set(breaks) <= set(finite)
    assert all(b < max(finite) for b in breaks)
