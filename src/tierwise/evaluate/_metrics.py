"""Per-tier performance of a snapshot, over time, and the Pareto curve.

Inputs are per-customer results that already left the engine (a snapshot's labels and its
features file), so this is columnar Polars work on one row per customer, never transactions.

Definitions (also in the report's notes):

* revenue: ``revenue_365d`` (the year before the snapshot); gross profit: ``gross_profit_total``;
* complaint rate: share of the tier's customers with at least one complaint;
* satisfaction: mean of ``feedback_score_mean`` over customers who gave a scored feedback;
* growth: the tier's customer count against the previous snapshot's (−1…∞);
* retention: of the customers in the tier at the previous snapshot, the share who bought again
  after it (``last_order_day`` later than its as-of date); churn rate = 1 − retention.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Final

import polars as pl
import sqlalchemy as sa

from tierwise.classify._store import scheme_for_snapshot, snapshot_dir
from tierwise.errors import NotFoundError
from tierwise.store.labelset import labels_at
from tierwise.store.tables import labels, snapshots

REVENUE: Final = "revenue_365d"
PROFIT: Final = "gross_profit_total"
_NEEDED: Final = (
    REVENUE, PROFIT, "complaints_total", "feedback_score_mean", "clv", "last_order_day",
)  # fmt: skip


def _col(features: pl.DataFrame, name: str) -> pl.Expr:
    if name in features.columns:
        return pl.col(name)
    return pl.lit(None, dtype=pl.Float64).alias(name)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def tier_metrics(
    tiers: pl.DataFrame,
    features: pl.DataFrame,
    *,
    order: list[str] | None = None,
    previous: pl.DataFrame | None = None,
    previous_as_of: date | None = None,
) -> list[dict[str, Any]]:
    """One row per tier: customers, revenue and gross-profit share, complaint rate, satisfaction,
    average CLV; with ``previous`` (the tiers of the snapshot before) also growth, retention and
    churn rate.

    ``tiers``: ``customer_pk``, ``label``; ``features``: one row per customer.

    >>> t = pl.DataFrame({"customer_pk": [1, 2], "label": ["A", "B"]})
    >>> f = pl.DataFrame({"customer_pk": [1, 2], "revenue_365d": [30.0, 10.0]})
    >>> [r["revenue_share"] for r in tier_metrics(t, f)]
    [0.75, 0.25]
    """
    feats = features.select(
        pl.col("customer_pk").cast(pl.Int64), *[_col(features, c) for c in _NEEDED]
    )
    frame = tiers.select(pl.col("customer_pk").cast(pl.Int64), "label").join(
        feats, on="customer_pk", how="left"
    )
    per = frame.group_by("label").agg(
        pl.len().alias("customers"),
        pl.col(REVENUE).fill_null(0).sum().cast(pl.Float64).alias("revenue"),
        pl.col(PROFIT).fill_null(0).sum().cast(pl.Float64).alias("gross_profit"),
        (pl.col("complaints_total").fill_null(0) > 0).mean().alias("complaint_rate"),
        pl.col("feedback_score_mean").cast(pl.Float64).mean().alias("satisfaction"),
        pl.col("clv").cast(pl.Float64).mean().alias("avg_clv"),
    )
    totals = per.select(pl.col("customers", "revenue", "gross_profit").sum()).row(0, named=True)
    before: dict[str, dict[str, Any]] = {}
    if previous is not None:
        prev = previous.select(pl.col("customer_pk").cast(pl.Int64), "label").join(
            feats.select("customer_pk", "last_order_day"), on="customer_pk", how="left"
        )
        bought = pl.col("last_order_day").cast(pl.Date) > pl.lit(previous_as_of, dtype=pl.Date)
        agg = prev.group_by("label").agg(
            pl.len().alias("n"), bought.fill_null(False).mean().alias("retention")
        )
        before = {r["label"]: r for r in agg.to_dicts()}
    rows = {r["label"]: r for r in per.to_dicts()}
    keys = [k for k in (order or []) if k in rows or k in before]
    keys += sorted(k for k in {*rows, *before} if k not in keys)
    out: list[dict[str, Any]] = []
    for key in keys:  # one row per tier (a handful), not per customer
        r = rows.get(key, {"customers": 0, "revenue": 0.0, "gross_profit": 0.0})
        row: dict[str, Any] = {
            "tier": key,
            "customers": int(r["customers"]),
            "customer_share": _ratio(r["customers"], totals["customers"]),
            "revenue": float(r["revenue"]),
            "revenue_share": _ratio(r["revenue"], totals["revenue"]),
            "gross_profit": float(r["gross_profit"]),
            "gross_profit_share": _ratio(r["gross_profit"], totals["gross_profit"]),
            "complaint_rate": r.get("complaint_rate"),
            "satisfaction": r.get("satisfaction"),
            "avg_clv": r.get("avg_clv"),
        }
        if previous is not None:
            b = before.get(key)
            row["growth"] = None if b is None else _ratio(r["customers"] - b["n"], b["n"])
            row["retention"] = None if b is None else b["retention"]
            row["churn_rate"] = None if b is None else 1.0 - b["retention"]
        out.append(row)
    return out


def pareto(
    features: pl.DataFrame, *, column: str = REVENUE, points: int = 20
) -> list[dict[str, float]]:
    """Share of ``column`` from the top x % of customers, at ``points`` evenly spaced x.

    >>> f = pl.DataFrame({"revenue_365d": [60.0, 30.0, 10.0, 0.0]})
    >>> [(p["top_share"], p["value_share"]) for p in pareto(f, points=4)]
    [(0.25, 0.6), (0.5, 0.9), (0.75, 1.0), (1.0, 1.0)]
    """
    values = features.select(pl.col(column).fill_null(0).cast(pl.Float64).clip(lower_bound=0))
    n = values.height
    total = float(values.to_series().sum()) if n else 0.0
    if n == 0 or total == 0:
        return []
    cum = values.sort(column, descending=True).select(pl.col(column).cum_sum()).to_series()
    at = [max(1, -(-n * i // points)) for i in range(1, points + 1)]  # ceil(n·i/points)
    picked = cum.gather([a - 1 for a in at]).to_list()
    return [
        {"top_share": i / points, "value_share": round(float(v) / total, 6)}
        for i, v in zip(range(1, points + 1), picked, strict=True)
    ]


def snapshot_tiers(conn: sa.Connection, *, snapshot_id: int, dimension: str) -> pl.DataFrame:
    """``customer_pk``, ``label`` of one dimension in a stored snapshot."""
    q = sa.select(labels.c.customer_pk, labels.c.label).where(
        labels_at(conn, snapshot_id), labels.c.dimension == dimension
    )
    return pl.DataFrame(
        [tuple(r) for r in conn.execute(q)],
        schema={"customer_pk": pl.Int64, "label": pl.String},
        orient="row",
    )


def snapshot_features(
    data_dir: Path, snapshot_id: int, columns: list[str] | None = None
) -> pl.DataFrame:
    """A snapshot's features file (only ``columns`` that exist, with ``customer_pk``)."""
    path = snapshot_dir(data_dir, snapshot_id) / "features.parquet"
    if not path.exists():
        raise NotFoundError(
            f"Snapshot {snapshot_id} has no features file ({path}); classify again to write it."
        )
    if columns is None:
        return pl.read_parquet(path)
    have = pl.read_parquet_schema(path)
    return pl.read_parquet(path, columns=["customer_pk", *[c for c in columns if c in have]])


def published_snapshots(conn: sa.Connection, *, limit: int | None = None) -> list[sa.Row[Any]]:
    """Published snapshots, oldest first (the last ``limit`` of them)."""
    q = (
        sa.select(snapshots)
        .where(snapshots.c.state == "published")
        .order_by(snapshots.c.as_of.desc(), snapshots.c.id.desc())
    )
    if limit is not None:
        q = q.limit(limit)
    return list(reversed(conn.execute(q).all()))


def performance(
    conn: sa.Connection,
    *,
    data_dir: Path,
    dimension: str = "value_tier",
    limit: int | None = 12,
) -> list[dict[str, Any]]:
    """Tier metrics per published snapshot (oldest first), with growth and retention from the
    snapshot before; the latest snapshot also carries its Pareto curve."""
    snaps = published_snapshots(conn, limit=limit)
    out: list[dict[str, Any]] = []
    prev: tuple[pl.DataFrame, date] | None = None
    for i, snap in enumerate(snaps):  # one step per snapshot (a dozen), not per customer
        scheme = scheme_for_snapshot(conn, snapshot=snap)
        dim = scheme.dimensions.get(dimension)
        order = list(reversed(dim.keys())) if dim is not None else None
        tiers = snapshot_tiers(conn, snapshot_id=snap.id, dimension=dimension)
        feats = snapshot_features(data_dir, snap.id, list(_NEEDED))
        entry: dict[str, Any] = {
            "snapshot_id": int(snap.id),
            "as_of": snap.as_of.isoformat(),
            "tiers": tier_metrics(
                tiers,
                feats,
                order=order,
                previous=None if prev is None else prev[0],
                previous_as_of=None if prev is None else prev[1],
            ),
        }
        if i == len(snaps) - 1:
            entry["pareto"] = pareto(feats)
        out.append(entry)
        prev = (tiers, snap.as_of)
    return out


__all__ = [
    "pareto",
    "performance",
    "published_snapshots",
    "snapshot_features",
    "snapshot_tiers",
    "tier_metrics",
]
