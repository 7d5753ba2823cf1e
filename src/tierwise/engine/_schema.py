"""The analytic schema: the columns every engine sees, whatever holds the data.

The store keeps more (row hashes, batch ids, raw external ids); analytics need a narrow, typed
projection keyed by the internal ``customer_pk``. DuckDB's copy, PostgreSQL views and Spark
tables all present exactly these columns, so one Ibis code path runs on each of them.
"""

from __future__ import annotations

from typing import Final

#: table -> ((column, DuckDB type), ...); ``id`` is the store row id (for incremental sync)
ANALYTIC: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "customers": (
        ("id", "BIGINT"),
        ("customer_pk", "BIGINT"),
        ("customer_id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("gender", "VARCHAR"),
        ("birthday", "DATE"),
        ("age", "INTEGER"),
        ("age_band", "VARCHAR"),
        ("income_band", "VARCHAR"),
        ("industry", "VARCHAR"),
        ("company_size", "VARCHAR"),
        ("country", "VARCHAR"),
        ("province", "VARCHAR"),
        ("city", "VARCHAR"),
        ("source", "VARCHAR"),
        ("owner", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("tags", "VARCHAR"),
    ),
    "orders": (
        ("id", "BIGINT"),
        ("customer_pk", "BIGINT"),
        ("order_id", "VARCHAR"),
        ("ordered_at", "TIMESTAMP"),
        ("amount", "DOUBLE"),
        ("gross_profit", "DOUBLE"),
        ("discount", "DOUBLE"),
        ("quantity", "DOUBLE"),
        ("product_id", "VARCHAR"),
        ("category", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("status", "VARCHAR"),
    ),
    "interactions": (
        ("id", "BIGINT"),
        ("customer_pk", "BIGINT"),
        ("occurred_at", "TIMESTAMP"),
        ("kind", "VARCHAR"),
        ("direction", "VARCHAR"),
        ("duration_min", "DOUBLE"),
    ),
    "feedback": (
        ("id", "BIGINT"),
        ("customer_pk", "BIGINT"),
        ("received_at", "TIMESTAMP"),
        ("kind", "VARCHAR"),
        ("score", "DOUBLE"),
        ("sentiment", "DOUBLE"),
        ("category", "VARCHAR"),
        ("status", "VARCHAR"),
        ("resolved_at", "TIMESTAMP"),
    ),
    "referrals": (
        ("id", "BIGINT"),
        ("referrer_pk", "BIGINT"),
        ("referred_pk", "BIGINT"),
        ("referred_at", "TIMESTAMP"),
        ("converted", "BOOLEAN"),
    ),
    "leads": (
        ("id", "BIGINT"),
        ("customer_pk", "BIGINT"),
        ("created_at", "TIMESTAMP"),
        ("stage", "VARCHAR"),
        ("source", "VARCHAR"),
        ("expected_value", "DOUBLE"),
        ("intent_signals", "VARCHAR"),
        ("needs", "VARCHAR"),
        ("decided_at", "TIMESTAMP"),
        ("outcome", "VARCHAR"),
    ),
}

#: columns that Parquet files written before they existed may lack (read as NULL there)
OPTIONAL: Final[frozenset[tuple[str, str]]] = frozenset({("orders", "discount")})

#: store column that feeds an analytic column, where the names differ
STORE_SOURCE: Final[dict[tuple[str, str], str]] = {("customers", "customer_pk"): "id"}


def columns(table: str) -> tuple[str, ...]:
    return tuple(name for name, _ in ANALYTIC[table])


__all__ = ["ANALYTIC", "OPTIONAL", "STORE_SOURCE", "columns"]
