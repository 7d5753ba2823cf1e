"""Simulated customers with known parameters: for parameter-recovery tests and benchmarks."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import polars as pl

from tierwise.models._base import FloatArray


def simulate_bgnbd(
    n: int,
    params: Mapping[str, float],
    T: float | npt.ArrayLike,
    seed: int | None = None,
) -> pl.DataFrame:
    """``n`` customers drawn from the BG/NBD model (FHL 2005): ``frequency, recency, T``.

    Each customer has λ ~ Gamma(r, rate α) and p ~ Beta(a, b); purchases while alive form a
    Poisson process; after each repeat purchase the customer drops out with probability p. Drawn
    without a per-customer loop: the number of Poisson events in (0, T] is N ~ Poisson(λT), the
    purchase after which the customer drops out is D ~ Geometric(p), so x = min(N, D); given N,
    event times are N uniform order statistics, so the x-th is T · Beta(x, N − x + 1).

    >>> s = simulate_bgnbd(3, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39, seed=0)
    >>> s.columns
    ['frequency', 'recency', 'T']
    """
    rng = np.random.default_rng(seed)
    big_t = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    events = rng.poisson(lam * big_t)
    drop_after = rng.geometric(np.clip(p, 1e-300, 1.0))
    x = np.minimum(events, drop_after)
    k = np.maximum(x, 1)
    recency = np.where(x > 0, big_t * rng.beta(k, np.maximum(events - k + 1, 1)), 0.0)
    return pl.DataFrame({"frequency": x.astype(np.int64), "recency": recency, "T": big_t})


def simulate_spend(
    frequency: npt.ArrayLike,
    params: Mapping[str, float],
    seed: int | None = None,
) -> FloatArray:
    """Mean repeat-transaction value under the Gamma-Gamma model (0 where frequency is 0).

    ν ~ Gamma(q, rate γ) per customer; each transaction is Gamma(p, rate ν), so the sum of x of
    them is Gamma(p·x, rate ν).

    >>> simulate_spend([0, 2], {"p": 6.0, "q": 4.0, "gamma": 15.0}, seed=0)[0]
    np.float64(0.0)
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(params["q"], 1.0 / params["gamma"], x.shape)
    total = rng.gamma(np.maximum(params["p"] * x, 1e-300), 1.0 / nu)
    return np.asarray(np.where(x > 0, total / np.maximum(x, 1), 0.0), dtype=np.float64)
