"""Order features per customer, as of a date: RFM in the BTYD convention, windows, rhythm, trend.

Purchase *occasions* are distinct calendar days with a paid order (several orders or lines on one
day are one occasion, as in Fader, Hardie & Lee 2005 and lifetimes' ``summary_data_from_
transaction_data``): ``frequency`` counts repeat occasions, ``recency`` is first → last occasion
and ``T`` first occasion → the as-of date, all in days. ``monetary_value`` is the mean value of
the repeat occasions (the Gamma-Gamma input); ``monetary_mean`` is revenue per order.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

PAID = ("paid", "pending")
REFUND = ("refunded", "cancelled")


def _days(later: ir.Value, earlier: ir.Value) -> ir.IntegerValue:
    """Whole days between two dates (engine-neutral: epoch-day arithmetic)."""
    return (later.cast("date").epoch_days() - earlier.cast("date").epoch_days()).cast("int64")


def order_features(orders: ir.Table, as_of: date) -> ir.Table:
    """One row per customer with at least one order line before the end of ``as_of``."""
    end = ibis.timestamp(as_of + timedelta(days=1))
    cut = ibis.date(as_of)
    o = orders.filter(orders.ordered_at < end)
    paid = o.status.isin(PAID) | o.status.isnull()
    amount = o.amount.fill_null(0.0)
    o = o.mutate(
        _paid=paid,
        _day=o.ordered_at.cast("date"),
        _amount=ibis.ifelse(paid & (amount > 0), amount, 0.0),
        _refund=ibis.ifelse(~paid | (amount < 0), amount.abs(), 0.0),
    )
    # (customer, day) first: the occasions, and about half the work (ARCHITECTURE.md)
    days = (
        o.filter(o._paid & (o.amount.fill_null(0.0) >= 0))
        .group_by(["customer_pk", "_day"])
        .aggregate(
            day_amount=o._amount.sum(),
            day_orders=o.order_id.nunique(),
        )
    )
    days = days.mutate(
        _gap=_days(days._day, days._day.lag().over(group_by=days.customer_pk, order_by=days._day)),
    )
    d90, d180, d365 = (cut - ibis.interval(days=n) for n in (90, 180, 365))
    d360 = cut - ibis.interval(days=360)
    per_day = days.group_by("customer_pk").aggregate(
        first_order_day=days._day.min(),
        last_order_day=days._day.max(),
        purchase_days=days._day.count(),
        orders_total=days.day_orders.sum(),
        monetary_total=days.day_amount.sum(),
        median_gap_days=days._gap.median(),
        orders_90d=days.day_orders.sum(where=days._day > d90),
        revenue_90d=days.day_amount.sum(where=days._day > d90),
        orders_365d=days.day_orders.sum(where=days._day > d365),
        revenue_365d=days.day_amount.sum(where=days._day > d365),
        revenue_last_180d=days.day_amount.sum(where=days._day > d180),
        revenue_prev_180d=days.day_amount.sum(where=(days._day > d360) & (days._day <= d180)),
        first_day_amount=days.day_amount.argmin(days._day),
        last_gap_days=days._gap.argmax(days._day),
    )
    lines = o.group_by("customer_pk").aggregate(
        order_lines=o.count(),
        refund_orders=o.order_id.nunique(where=o._refund > 0),
        refund_amount=o._refund.sum(),
        gross_profit_total=o.gross_profit.sum(where=o._paid),
        categories_bought=o.category.nunique(where=o._paid),
    )
    t = lines.left_join(per_day, "customer_pk").select(
        lines, *[per_day[c] for c in per_day.columns if c != "customer_pk"]
    )
    zero = ibis.literal(0, "int64")
    freq = (t.purchase_days.fill_null(0) - 1).clip(lower=0)
    t = t.mutate(
        purchase_days=t.purchase_days.fill_null(0).cast("int64"),
        orders_total=t.orders_total.fill_null(0).cast("int64"),
        monetary_total=t.monetary_total.fill_null(0.0),
        frequency=freq.cast("int64"),
        recency=ibis.ifelse(t.purchase_days > 0, _days(t.last_order_day, t.first_order_day), zero),
        T=ibis.ifelse(t.purchase_days > 0, _days(cut, t.first_order_day), zero),
        recency_days=_days(cut, t.last_order_day),
        monetary_mean=t.monetary_total / t.orders_total.nullif(0),
        monetary_value=ibis.ifelse(
            freq > 0, (t.monetary_total - t.first_day_amount) / freq.cast("float64"), 0.0
        ),
        orders_90d=t.orders_90d.fill_null(0).cast("int64"),
        revenue_90d=t.revenue_90d.fill_null(0.0),
        orders_365d=t.orders_365d.fill_null(0).cast("int64"),
        revenue_365d=t.revenue_365d.fill_null(0.0),
        spend_trend=(t.revenue_last_180d.fill_null(0.0) - t.revenue_prev_180d.fill_null(0.0))
        / (t.revenue_last_180d.fill_null(0.0) + t.revenue_prev_180d.fill_null(0.0)).nullif(0.0),
        refund_rate=t.refund_orders / (t.refund_orders + t.orders_total.fill_null(0)).nullif(0),
    )
    t = t.mutate(
        rhythm_ratio=t.recency_days.cast("float64") / t.median_gap_days.cast("float64").nullif(0.0),
    )
    return t.drop("first_day_amount", "revenue_last_180d", "revenue_prev_180d")


__all__ = ["PAID", "REFUND", "order_features"]
