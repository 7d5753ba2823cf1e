"""Holdout groups: a random, reproducible share of a tier that gets no proactive contact.

The draw is an integer hash of (customer, tier, seed), the same arithmetic as the
engine-neutral ``stable_hash`` of the clustering sample, so the Ibis expression (any engine),
the numpy function and the single-customer function agree bit for bit: act/ can skip holdout
customers in SQL, the report can find them again in a features frame.
"""

from __future__ import annotations

import zlib
from datetime import date
from typing import Any, Final

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import polars as pl
import sqlalchemy as sa

from tierwise.errors import DataError
from tierwise.models._cluster_sample import stable_hash

BUCKETS: Final = 10_000  # shares are honoured to 0.01 %
_P: Final = 2_147_483_629


def holdout_seed(tier: str, seed: int | str = 0) -> int:
    """One integer seed per (tier, seed); a scheme hash (hex text) may serve as the seed."""
    base = int(seed[:12], 16) if isinstance(seed, str) else int(seed)
    return (base + zlib.crc32(tier.encode())) % _P


def _check(share: float) -> None:
    if not 0.0 <= share <= 0.5:
        raise DataError(
            f"Holdout share {share!r} is outside 0..0.5; use e.g. 0.1 for a 10 % holdout."
        )


def _threshold(share: float) -> int:
    _check(share)
    return round(share * BUCKETS)


def holdout_expr(
    customer_pk: ir.IntegerValue, tier: str, share: float, seed: int | str = 0
) -> ir.BooleanValue:
    """True for the customers of ``tier`` held out (an Ibis expression, any engine)."""
    h = stable_hash(customer_pk, holdout_seed(tier, seed))
    return (h % BUCKETS) < ibis.literal(_threshold(share))


def _hash_np(pk: npt.NDArray[np.int64], seed: int) -> npt.NDArray[np.int64]:
    # the arithmetic of tierwise.models._cluster_sample.stable_hash, in int64 (products < 2^62)
    s = (seed * 48_271 + 12_345) % _P
    x = ((pk.astype(np.int64) % _P) + _P) % _P
    h1 = (x * 1_103_515_245 + s) % _P
    h2 = (h1 * h1 + 2_654_435_761 % _P) % _P
    return np.asarray((h2 * 69_069 + h1) % _P, dtype=np.int64)


def holdout_clause(
    customer_pk: sa.ColumnElement[int], tier: str, share: float, seed: int | str = 0
) -> sa.ColumnElement[bool]:
    """``holdout`` as a SQLAlchemy condition on the store (SQLite and PostgreSQL): the same
    integer arithmetic in 64-bit SQL integers, so act can leave holdout customers out of a
    set-based statement."""
    _check(share)
    if share == 0:
        return sa.false()
    s = (holdout_seed(tier, seed) * 48_271 + 12_345) % _P
    p = sa.literal(_P, sa.BigInteger())
    x = ((sa.cast(customer_pk, sa.BigInteger()) % p) + p) % p
    h1 = (x * 1_103_515_245 + s) % p
    h2 = (h1 * h1 + 2_654_435_761 % _P) % p
    h = (h2 * 69_069 + h1) % p
    return (h % BUCKETS) < _threshold(share)


def holdout_mask(
    customer_pk: npt.ArrayLike, tier: str, share: float, seed: int | str = 0
) -> npt.NDArray[np.bool_]:
    """``holdout`` over an array of customer keys (vectorised).

    >>> holdout_mask([1, 2, 3], "A", 0.0).tolist()
    [False, False, False]
    """
    pk = np.asarray(customer_pk, dtype=np.int64)
    h = _hash_np(pk, holdout_seed(tier, seed))
    return np.asarray((h % BUCKETS) < _threshold(share), dtype=np.bool_)


def holdout(customer_pk: int, tier: str, share: float, seed: int | str = 0) -> bool:
    """Whether this customer of ``tier`` is in the holdout (gets no proactive contact).

    Reproducible: the same customer, tier, share and seed always give the same answer, and a
    larger share only adds customers to the holdout.

    >>> holdout(42, "A", 0.5, seed=7) == holdout(42, "A", 0.5, seed=7)
    True
    """
    return bool(holdout_mask([customer_pk], tier, share, seed)[0])


def holdout_uplift(
    tiers: pl.DataFrame,
    features: pl.DataFrame,
    *,
    shares: dict[str, float],
    since: date,
    seed: int | str = 0,
) -> list[dict[str, Any]]:
    """Treated against held-out customers of each tier with a holdout share.

    ``tiers``: ``customer_pk``, ``label`` when the playbook applied (an earlier snapshot);
    ``features``: a later snapshot's features. Retention: bought after ``since``; revenue:
    ``revenue_365d``. Uplift = treated − holdout (retention in points, revenue per customer).
    """
    feats = features.select(
        pl.col("customer_pk").cast(pl.Int64),
        (pl.col("last_order_day").cast(pl.Date) > pl.lit(since, dtype=pl.Date))
        .fill_null(False)
        .alias("bought"),
        pl.col("revenue_365d").fill_null(0).cast(pl.Float64).alias("revenue"),
    )
    out: list[dict[str, Any]] = []
    for tier, share in shares.items():  # one pass per tier with a holdout (a handful)
        members = tiers.filter(pl.col("label") == tier).select(pl.col("customer_pk").cast(pl.Int64))
        if members.height == 0 or share <= 0:
            continue
        mask = holdout_mask(members.get_column("customer_pk").to_numpy(), tier, share, seed)
        frame = members.with_columns(pl.Series("holdout", mask)).join(
            feats, on="customer_pk", how="left"
        )
        agg = {
            bool(r["holdout"]): r
            for r in frame.group_by("holdout")
            .agg(
                pl.len().alias("n"),
                pl.col("bought").fill_null(False).mean().alias("retention"),
                pl.col("revenue").fill_null(0).mean().alias("revenue"),
            )
            .to_dicts()
        }
        held, treated = agg.get(True), agg.get(False)
        row: dict[str, Any] = {
            "tier": tier,
            "share": share,
            "holdout": 0 if held is None else int(held["n"]),
            "treated": 0 if treated is None else int(treated["n"]),
            "retention_holdout": None if held is None else held["retention"],
            "retention_treated": None if treated is None else treated["retention"],
            "revenue_holdout": None if held is None else held["revenue"],
            "revenue_treated": None if treated is None else treated["revenue"],
        }
        both = held is not None and treated is not None
        row["retention_uplift"] = (
            treated["retention"] - held["retention"] if both and held and treated else None
        )
        row["revenue_uplift"] = (
            treated["revenue"] - held["revenue"] if both and held and treated else None
        )
        out.append(row)
    return out


__all__ = [
    "holdout",
    "holdout_clause",
    "holdout_expr",
    "holdout_mask",
    "holdout_seed",
    "holdout_uplift",
]
