"""The sample a behaviour-cluster model is fitted on, and the scores that choose its k.

``sample_features`` draws the same customers on every engine (an engine-neutral hash of the
key, ``stable_hash``, orders them), and ``silhouettes`` scores several labellings of one sample
in one pass over its pairwise distances. `tierwise.models._cluster` fits and applies the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import polars as pl
from numpy.typing import NDArray

from tierwise.errors import DataError

Array = NDArray[np.float64]


def stable_hash(pk: ir.IntegerValue, seed: int) -> ir.IntegerValue:
    """A pseudo-random int64 per key, the same on every engine.

    Engines' own hash functions differ (DuckDB, PostgreSQL and Spark each have theirs), so this
    is plain int64 arithmetic modulo a prime below 2³¹: every product stays below 2⁶², no
    overflow anywhere. The square makes it non-linear, so sequential keys (store ids, in
    creation order) do not come out in a lattice. Not cryptographic; it need only look random.
    """
    p = 2_147_483_629  # prime
    s = (seed * 48_271 + 12_345) % p
    x = ((pk.cast("int64") % p) + p) % p  # int64 throughout, whatever the key type
    h1 = (x * 1_103_515_245 + s) % p
    h2 = (h1 * h1 + 2_654_435_761 % p) % p
    return ((h2 * 69_069 + h1) % p).cast("int64")


def sample_features(
    features: ir.Table, columns: Sequence[str], n: int, seed: int = 0
) -> pl.DataFrame:
    """``n`` customers' ``columns`` (and ``customer_pk``), the same customers on every engine.

    The sample is drawn on the engine (order by an engine-neutral hash of ``customer_pk`` and
    ``seed``, limit ``n``); only those rows are fetched, sorted by ``customer_pk``.

    >>> sample_features(build_features(tables, as_of), DEFAULT_FEATURES, 50_000)  # doctest: +SKIP
    """
    wanted = ["customer_pk", *[c for c in columns if c != "customer_pk"]]
    missing = [c for c in wanted if c not in features.columns]
    if missing:
        raise DataError(
            f"The feature table has no column {missing[0]!r}: build it with "
            "tierwise.features.build_features, or choose other features.",
            key="models.cluster.missing_column",
            column=missing[0],
        )
    t = features.select(*wanted)
    t = t.mutate(_h=stable_hash(t.customer_pk, seed))
    picked = t.order_by([t._h, t.customer_pk]).limit(n).drop("_h")
    out: pl.DataFrame = picked.to_polars()
    return out.sort("customer_pk")


def silhouettes(
    points: Array, labelings: Mapping[int, npt.NDArray[np.intp]], chunk: int = 1024
) -> dict[int, float]:
    """The mean silhouette of each labelling of the same ``points`` (scikit-learn's
    ``silhouette_score``, Euclidean), sharing one pass over the pairwise distances.

    Every k is scored on the same rows, so the distances are computed once, a block of rows at
    a time, and multiplied by all the labellings' one-hot matrices together: for six k on 5,000
    rows 0.3 s instead of 1.9 s for six calls of scikit-learn's. A point alone in its cluster
    scores 0, as there.
    """
    if not labelings:
        return {}
    x = np.asarray(points, dtype=np.float64)
    n = len(x)
    ks = list(labelings)
    onehots = [np.eye(int(labelings[k].max()) + 1)[labelings[k]] for k in ks]
    allhot = np.hstack(onehots)  # n x (sum of the cluster counts)
    sums = np.empty((n, allhot.shape[1]))
    sq = np.einsum("ij,ij->i", x, x)
    for start in range(0, n, chunk):
        block = x[start : start + chunk]
        d2 = sq[start : start + chunk, None] + sq[None, :] - 2.0 * (block @ x.T)
        sums[start : start + chunk] = np.sqrt(np.maximum(d2, 0.0)) @ allhot
    out: dict[int, float] = {}
    col = 0
    for k, hot in zip(ks, onehots, strict=True):
        labels = labelings[k]
        part = sums[:, col : col + hot.shape[1]]
        col += hot.shape[1]
        size = hot.sum(axis=0)
        rows = np.arange(n)
        own = size[labels]
        a = part[rows, labels] / np.maximum(own - 1, 1)
        mean = part / np.where(size > 0, size, np.inf)
        mean[rows, labels] = np.inf
        mean[:, size == 0] = np.inf
        b = mean.min(axis=1)
        s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
        out[k] = float(s.mean())
    return out


__all__ = ["sample_features", "silhouettes", "stable_hash"]
