"""All features of every customer as of a date: one Ibis expression, one row per customer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import ibis
import ibis.expr.types as ir

from tierwise.features._orders import _days, order_features
from tierwise.features._other import (
    feedback_features,
    interaction_features,
    lead_features,
    referral_features,
)

#: customer attributes carried into the feature table as they are
ATTRIBUTES = (
    "customer_id",
    "name",
    "kind",
    "gender",
    "age",
    "age_band",
    "income_band",
    "industry",
    "company_size",
    "country",
    "province",
    "city",
    "source",
    "owner",
)

# columns of the partial tables that are counts: 0, not NULL, for a customer without such rows
_COUNTS = (
    "order_lines",
    "refund_orders",
    "purchase_days",
    "orders_total",
    "frequency",
    "recency",
    "T",
    "orders_90d",
    "orders_365d",
    "categories_bought",
    "interactions_total",
    "interactions_90d",
    "interactions_365d",
    "web_events_90d",
    "calls_365d",
    "visits_365d",
    "meetings_365d",
    "emails_365d",
    "wechats_365d",
    "smss_365d",
    "feedback_total",
    "feedback_scored",
    "sentiment_n",
    "negative_feedback",
    "complaints_total",
    "complaints_open",
    "complaints_price",
    "complaints_service",
    "complaints_quality",
    "referrals_made",
    "referrals_converted",
    "leads_total",
    "leads_open",
    "leads_won",
    "leads_lost",
)
#: spellings of China in the country column: for these the province is the location
CHINA = (
    "中国",
    "中国大陆",
    "CN",
    "CHN",
    "CHINA",
    "PRC",
    "中华人民共和国",
    "P.R.CHINA",
    "P.R. CHINA",
)
# 广东省 -> 广东, 上海市 -> 上海, 广西壮族自治区 -> 广西 (the mapping lists short names)
_PROVINCE_SUFFIX = "(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$"
_ZERO_AMOUNTS = ("refund_amount", "monetary_total", "revenue_90d", "revenue_365d", "monetary_value")


def build_features(tables: Mapping[str, ir.Table], as_of: date) -> ir.Table:
    """Features of every customer known before the end of ``as_of``.

    >>> build_features(analytics.tables, date(2024, 6, 30)).execute()  # doctest: +SKIP
    """
    c = tables["customers"]
    base = c.select(
        "customer_pk", *ATTRIBUTES, created_day=c.created_at.cast("date"), birthday=c.birthday
    )
    parts = [
        order_features(tables["orders"], as_of, days=tables.get("order_days")),
        interaction_features(tables["interactions"], as_of),
        feedback_features(tables["feedback"], as_of),
        referral_features(tables["referrals"], as_of),
        lead_features(tables["leads"], as_of),
    ]
    t = base
    for part in parts:
        t = t.left_join(part, "customer_pk").select(
            t, *[part[col] for col in part.columns if col != "customer_pk"]
        )
    cut = ibis.date(as_of)
    fills = {col: t[col].fill_null(0).cast("int64") for col in _COUNTS if col in t.columns}
    fills |= {col: t[col].fill_null(0.0) for col in _ZERO_AMOUNTS}
    t = t.mutate(**fills)
    china = t.country.isnull() | t.country.strip().upper().isin(CHINA)
    province = t.province.strip().re_replace(_PROVINCE_SUFFIX, "")
    age_from_birthday = (_days(cut, t.birthday) / 365.25).floor().cast("int64")
    t = t.mutate(
        location=ibis.ifelse(china, province, t.country.strip()),
        age_years=ibis.coalesce(t.age.cast("int64"), age_from_birthday),
    )
    first_seen = ibis.coalesce(t.created_day, t.first_order_day.cast("date"), t.lead_last_day)
    t = t.mutate(
        tenure_days=_days(cut, first_seen),
        last_activity_days=_days(
            cut, ibis.greatest(t.last_order_day.cast("date"), t.last_interaction_day)
        ),
    )
    # customers created after the as-of date did not exist yet
    # unordered: a sort of the wide result costs seconds at a million customers; callers that
    # need an order ask for it once, at the end
    return t.filter(t.created_day.isnull() | (t.created_day <= cut))


__all__ = ["ATTRIBUTES", "build_features"]
