"""Order features per customer, as of a date: RFM in the BTYD convention, windows, rhythm, trend.

Purchase *occasions* are distinct calendar days with a paid order (several orders or lines on one
day are one occasion, as in Fader, Hardie & Lee 2005 and lifetimes' ``summary_data_from_
transaction_data``): ``frequency`` counts repeat occasions, ``recency`` is first → last occasion
and ``T`` first occasion → the as-of date, all in days. ``monetary_value`` is the mean value of
the repeat occasions (the Gamma-Gamma input); ``monetary_mean`` is revenue per order.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from tierwise.features._lines import PAID, REFUND, is_paid, is_purchase, refund_value


def _days(later: ir.Value, earlier: ir.Value) -> ir.IntegerValue:
    """Whole days between two dates (engine-neutral: epoch-day arithmetic)."""
    return (later.cast("date").epoch_days() - earlier.cast("date").epoch_days()).cast("int64")


#: columns of ``order_days`` (DuckDB's copy stores the table; tierwise.engine._copy)
DAY_COLUMNS = (
    "customer_pk",
    "day",
    "occasion",
    "day_lines",
    "day_amount",
    "day_orders",
    "day_refund_orders",
    "day_refund",
    "day_profit",
    "day_categories",
    "prev_day",
    "next_day",
)


def _firsts(o: ir.Table, member: ir.BooleanValue, key: str, name: str) -> ir.Table:
    """Per (customer, day): how many distinct ``key`` values have their first member line
    that day. Summed over the days up to any as-of date, that is the distinct count of the
    lines before it (a value's first day is before the cut whenever any of its days is)."""
    m = o.filter(member & o[key].notnull())
    first = m.group_by(["customer_pk", key]).aggregate(day=m.day.min())
    return first.group_by(["customer_pk", "day"]).aggregate(**{name: first.count()})


def order_days(orders: ir.Table) -> ir.Table:
    """Order lines rolled up per (customer, calendar day): the step every order feature starts
    from, and about half the work of RFM (ARCHITECTURE.md).

    Exact for any as-of date, because the as-of cut falls between days: a day is wholly before
    or wholly after it. ``occasion`` marks days with a purchase line; ``prev_day`` and
    ``next_day`` link each occasion to the customer's previous and next ones (the gaps), so a
    feature query needs no window.
    """
    o = orders.filter(orders.ordered_at.notnull())
    paid = is_paid(o)
    amount = o.amount.fill_null(0.0)
    o = o.mutate(
        _paid=paid,
        _purchase=is_purchase(o),
        day=o.ordered_at.cast("date"),
        _amount=ibis.ifelse(paid & (amount > 0), amount, 0.0),
        _refund=refund_value(o),
    )
    d = o.group_by(["customer_pk", "day"]).aggregate(
        _buys=o.count(where=o._purchase),
        day_lines=o.count(),
        # _amount is 0 off the purchase lines, so the sum over the day is theirs
        day_amount=o._amount.sum(),
        day_orders=o.order_id.nunique(where=o._purchase),
        day_refund=o._refund.sum(),
        day_profit=o.gross_profit.sum(where=o._paid),
    )
    # orders refunded and categories bought are distinct over all days: counted on the day
    # each one first appears
    for part in (
        _firsts(o, o._refund > 0, "order_id", "day_refund_orders"),
        _firsts(o, o._paid, "category", "day_categories"),
    ):
        d = d.left_join(part, ["customer_pk", "day"]).select(
            d, *[part[c] for c in part.columns if c not in ("customer_pk", "day")]
        )
    occasion = d._buys > 0
    # partitioned by the flag as well: the previous and next *occasions*
    window = ibis.window(group_by=[d.customer_pk, occasion], order_by=d.day)
    none = ibis.null("date")
    return d.select(
        "customer_pk",
        "day",
        occasion=occasion,
        day_lines=d.day_lines,
        day_amount=d.day_amount,
        day_orders=d.day_orders,
        day_refund_orders=d.day_refund_orders.fill_null(0),
        day_refund=d.day_refund,
        day_profit=d.day_profit,
        day_categories=d.day_categories.fill_null(0),
        prev_day=ibis.ifelse(occasion, d.day.lag().over(window), none),
        next_day=ibis.ifelse(occasion, d.day.lead().over(window), none),
    )


def order_features(orders: ir.Table, as_of: date, *, days: ir.Table | None = None) -> ir.Table:
    """One row per customer with at least one order line before the end of ``as_of``.

    ``days`` is ``order_days(orders)`` when the engine holds it already (DuckDB's copy).
    """
    cut = ibis.date(as_of)
    d = order_days(orders) if days is None else days
    d = d.filter(d.day <= cut)
    occ, day = d.occasion, d.day
    gap = _days(day, d.prev_day)  # NULL on the first occasion and off the occasions
    # a later occasion beyond the as-of date does not exist yet
    last = occ & (d.next_day.isnull() | (d.next_day > cut))
    d90, d180, d365 = (cut - ibis.interval(days=n) for n in (90, 180, 365))
    d360 = cut - ibis.interval(days=360)
    # the order counts and amounts are 0 on days without an occasion; a customer without any
    # occasion gets NULLs (filled below), as before
    t = d.group_by("customer_pk").aggregate(
        order_lines=d.day_lines.sum().cast("int64"),
        refund_orders=d.day_refund_orders.sum().cast("int64"),
        refund_amount=d.day_refund.sum(),
        gross_profit_total=d.day_profit.sum(),
        categories_bought=d.day_categories.sum().cast("int64"),
        first_order_day=day.min(where=occ),
        last_order_day=day.max(where=occ),
        purchase_days=d.count(where=occ),
        orders_total=d.day_orders.sum(where=occ),
        monetary_total=d.day_amount.sum(where=occ),
        median_gap_days=gap.median(),
        orders_90d=d.day_orders.sum(where=occ & (day > d90)),
        revenue_90d=d.day_amount.sum(where=occ & (day > d90)),
        orders_365d=d.day_orders.sum(where=occ & (day > d365)),
        revenue_365d=d.day_amount.sum(where=occ & (day > d365)),
        revenue_last_180d=d.day_amount.sum(where=occ & (day > d180)),
        revenue_prev_180d=d.day_amount.sum(where=occ & (day > d360) & (day <= d180)),
        first_day_amount=d.day_amount.sum(where=occ & d.prev_day.isnull()),
        last_gap_days=gap.max(where=last),
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


__all__ = ["DAY_COLUMNS", "PAID", "REFUND", "order_days", "order_features"]
