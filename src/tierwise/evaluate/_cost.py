"""Cost to serve per tier against its gross profit.

Interactions in the window (count per kind × a configurable cost per kind, and service hours
from ``duration_min`` × an hourly rate), visits among them, and discounts when the orders carry
a ``discount`` column, against the gross profit of the paid order lines in the same window.
Everything is summed on the engine per customer; only per-customer sums leave it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final

import ibis
import polars as pl

from tierwise.engine import Analytics
from tierwise.errors import DataError
from tierwise.features._lines import is_paid
from tierwise.scheme._model import DEFAULT_COSTS, EvaluationSettings

#: default cost per interaction by kind (the currency of the data); anything else: ``other``
COSTS: Final[dict[str, float]] = DEFAULT_COSTS
HOURLY_RATE: Final = EvaluationSettings().hourly_rate


def _fetch(analytics: Analytics, expr: ibis.Table) -> pl.DataFrame:
    frame = pl.from_arrow(analytics.backend.to_pyarrow(expr))
    assert isinstance(frame, pl.DataFrame)
    return frame


def cost_to_serve(
    analytics: Analytics,
    tiers: pl.DataFrame,
    *,
    as_of: date,
    days: int = 365,
    costs: Mapping[str, float] | None = None,
    hourly_rate: float = HOURLY_RATE,
    order: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Per tier: interactions, visits, service hours, discounts, cost, gross profit, margin
    after service (gross profit − cost) and cost per unit of gross profit.

    ``tiers``: ``customer_pk``, ``label``; the window is the ``days`` before the end of ``as_of``.
    """
    prices = dict(COSTS if costs is None else costs)
    bad = {k: v for k, v in prices.items() if v < 0}
    if bad or hourly_rate < 0:
        raise DataError(
            f"Costs must be 0 or more (got {bad or {'hourly_rate': hourly_rate}}); fix the cost "
            "settings. / 成本不能为负数（收到 "
            f"{bad or {'hourly_rate': hourly_rate}}），请修改成本设置。"
        )
    end = ibis.timestamp(as_of + timedelta(days=1))
    start = ibis.timestamp(as_of + timedelta(days=1 - days))
    i = analytics.tables["interactions"]
    i = i.filter(i.occurred_at >= start, i.occurred_at < end)
    known = [k for k in prices if k != "other"]
    kind = ibis.ifelse(i.kind.isin(known), i.kind, "other") if known else ibis.literal("other")
    i = i.mutate(_kind=kind)
    per_kind = i.group_by(["customer_pk", "_kind"]).aggregate(
        n=i.count().cast("int64"), minutes=i.duration_min.fill_null(0.0).sum().cast("float64")
    )
    o = analytics.tables["orders"]
    o = o.filter(o.ordered_at >= start, o.ordered_at < end, is_paid(o))
    sums: dict[str, Any] = {"gross_profit": o.gross_profit.fill_null(0.0).sum().cast("float64")}
    if "discount" in o.columns:  # orders.discount (optional: NULL when a file has none)
        sums["discounts"] = o.discount.fill_null(0.0).sum().cast("float64")
    money = o.group_by("customer_pk").aggregate(**sums)
    price = pl.DataFrame(
        {"_kind": list(prices), "price": [float(v) for v in prices.values()]},
        schema={"_kind": pl.String, "price": pl.Float64},
    )
    inter = (
        _fetch(analytics, per_kind)
        .with_columns(pl.col("customer_pk").cast(pl.Int64))
        .join(price, on="_kind", how="left")
        .group_by("customer_pk")
        .agg(
            pl.col("n").sum().alias("interactions"),
            pl.col("n").filter(pl.col("_kind") == "visit").sum().alias("visits"),
            (pl.col("minutes").sum() / 60.0).alias("service_hours"),
            (pl.col("n") * pl.col("price").fill_null(0.0)).sum().alias("contact_cost"),
        )
    )
    m = _fetch(analytics, money).with_columns(pl.col("customer_pk").cast(pl.Int64))
    if "discounts" not in m.columns:
        m = m.with_columns(pl.lit(0.0).alias("discounts"))
    frame = (
        tiers.select(pl.col("customer_pk").cast(pl.Int64), "label")
        .join(inter, on="customer_pk", how="left")
        .join(m, on="customer_pk", how="left")
        .fill_null(0)
    )
    per = frame.group_by("label").agg(
        pl.len().alias("customers"),
        pl.col("interactions", "visits", "service_hours", "contact_cost", "discounts").sum(),
        pl.col("gross_profit").sum(),
    )
    rows = {r["label"]: r for r in per.to_dicts()}
    keys = [k for k in (order or []) if k in rows] + sorted(
        k for k in rows if k not in (order or [])
    )
    out = []
    for k in keys:  # one row per tier
        r = rows[k]
        cost = (
            float(r["contact_cost"])
            + float(r["service_hours"]) * hourly_rate
            + float(r["discounts"])
        )
        gp = float(r["gross_profit"])
        out.append(
            {
                "tier": k,
                "customers": int(r["customers"]),
                "interactions": int(r["interactions"]),
                "visits": int(r["visits"]),
                "service_hours": round(float(r["service_hours"]), 4),
                "discounts": round(float(r["discounts"]), 2),
                "cost": round(cost, 2),
                "cost_per_customer": round(cost / max(int(r["customers"]), 1), 4),
                "gross_profit": round(gp, 2),
                "margin_after_service": round(gp - cost, 2),
                "cost_to_profit": None if gp <= 0 else round(cost / gp, 6),
            }
        )
    return out


__all__ = ["COSTS", "HOURLY_RATE", "cost_to_serve"]
