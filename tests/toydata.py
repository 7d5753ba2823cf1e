"""The toy data set of the feature and classification tests (hand-computed expectations).

In its own module, not in conftest: test directories with a conftest of their own would hide
``conftest``'s name from ``from conftest import ...``.
"""

from __future__ import annotations

# --- analytics engines on a hand-made toy data set -------------------------------------------
#
# ``toy_tables`` is small enough to check on paper (tests/features/test_features.py does);
# ``analytics`` puts it on DuckDB, PostgreSQL (a throwaway schema) or local Spark, so one test
# body runs on every engine.

TOY_AS_OF = "2024-06-30"


def toy_tables() -> dict[str, object]:
    import datetime as dt

    import polars as pl

    from tierwise.engine import arrow_schema

    def ts(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text)

    def frame(table: str, rows: list[dict[str, object]]) -> object:
        schema = arrow_schema(table)
        cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
        return pl.DataFrame(cols).to_arrow().cast(schema) if rows else schema.empty_table()

    customers = [
        {
            "id": 1,
            "customer_pk": 1,
            "customer_id": "C1",
            "name": "张伟",
            "kind": "person",
            "province": "上海",
            "country": "中国",
            "created_at": ts("2023-01-01 09:00"),
            "age": 33,
        },
        {
            "id": 2,
            "customer_pk": 2,
            "customer_id": "C2",
            "name": "Acme Ltd",
            "kind": "company",
            "province": "广东省",
            "industry": "制造业",
            "created_at": ts("2023-01-01 09:00"),
        },
        {
            "id": 3,
            "customer_pk": 3,
            "customer_id": "C3",
            "name": "李娜",
            "kind": "person",
            "country": "美国",
            "created_at": ts("2024-04-01 09:00"),
        },
        {
            "id": 4,
            "customer_pk": 4,
            "customer_id": "C4",
            "name": "王芳",
            "kind": "person",
            "created_at": ts("2024-01-01 09:00"),
        },
        {
            "id": 5,
            "customer_pk": 5,
            "customer_id": "C5",
            "name": "Late Co",
            "kind": "company",
            "created_at": ts("2024-08-01 09:00"),
        },
    ]
    orders = [
        {
            "id": 1,
            "customer_pk": 1,
            "order_id": "O1",
            "ordered_at": ts("2024-01-10 10:00"),
            "amount": 100.0,
            "status": "paid",
            "category": "A",
            "gross_profit": 30.0,
        },
        {
            "id": 2,
            "customer_pk": 1,
            "order_id": "O2",
            "ordered_at": ts("2024-01-10 15:00"),
            "amount": 50.0,
            "status": "paid",
            "category": "B",
            "gross_profit": 10.0,
        },
        {
            "id": 3,
            "customer_pk": 1,
            "order_id": "O3",
            "ordered_at": ts("2024-03-10 10:00"),
            "amount": 200.0,
            "status": "paid",
            "category": "A",
        },
        {
            "id": 4,
            "customer_pk": 1,
            "order_id": "O4",
            "ordered_at": ts("2024-06-20 10:00"),
            "amount": 300.0,
            "status": "paid",
            "category": "A",
        },
        {
            "id": 5,
            "customer_pk": 1,
            "order_id": "O5",
            "ordered_at": ts("2024-06-25 10:00"),
            "amount": -300.0,
            "status": "refunded",
            "category": "A",
        },
        # after the as-of date: must change nothing
        {
            "id": 6,
            "customer_pk": 1,
            "order_id": "O6",
            "ordered_at": ts("2024-07-05 10:00"),
            "amount": 999.0,
            "status": "paid",
            "category": "C",
        },
        {
            "id": 7,
            "customer_pk": 2,
            "order_id": "O7",
            "ordered_at": ts("2023-06-30 10:00"),
            "amount": 1000.0,
            "status": "paid",
            "category": "B",
        },
        {
            "id": 8,
            "customer_pk": 4,
            "order_id": "O8",
            "ordered_at": ts("2024-07-01 10:00"),
            "amount": 80.0,
            "status": "paid",
            "category": "A",
        },
    ]
    interactions = [
        {"id": 1, "customer_pk": 1, "occurred_at": ts("2024-06-01 10:00"), "kind": "call"},
        {"id": 2, "customer_pk": 1, "occurred_at": ts("2024-05-15 10:00"), "kind": "visit"},
        {"id": 3, "customer_pk": 1, "occurred_at": ts("2024-06-29 10:00"), "kind": "web_visit"},
        {"id": 4, "customer_pk": 2, "occurred_at": ts("2023-12-01 10:00"), "kind": "email"},
        {"id": 5, "customer_pk": 2, "occurred_at": ts("2024-07-02 10:00"), "kind": "visit"},
    ]
    feedback = [
        {
            "id": 1,
            "customer_pk": 1,
            "received_at": ts("2024-06-21 10:00"),
            "kind": "review",
            "score": 5.0,
            "sentiment": 0.8,
        },
        {
            "id": 2,
            "customer_pk": 2,
            "received_at": ts("2024-02-01 10:00"),
            "kind": "complaint",
            "category": "物流",
            "status": "open",
            "sentiment": -0.8,
        },
        {
            "id": 3,
            "customer_pk": 2,
            "received_at": ts("2024-03-01 10:00"),
            "kind": "nps",
            "score": 2.0,
        },
    ]
    referrals = [
        {
            "id": 1,
            "referrer_pk": 1,
            "referred_pk": 3,
            "referred_at": ts("2024-04-01 10:00"),
            "converted": False,
        },
        {
            "id": 2,
            "referrer_pk": 1,
            "referred_pk": 2,
            "referred_at": ts("2023-01-01 10:00"),
            "converted": True,
        },
    ]
    leads = [
        {
            "id": 1,
            "customer_pk": 3,
            "created_at": ts("2024-05-01 10:00"),
            "stage": "报价",
            "intent_signals": "索要报价,预约演示",
            "needs": "价格敏感",
            "outcome": "open",
            "expected_value": 5000.0,
        },
        {
            "id": 2,
            "customer_pk": 2,
            "created_at": ts("2023-05-01 10:00"),
            "stage": "赢单",
            "decided_at": ts("2023-06-15 10:00"),
            "outcome": "won",
            "needs": "重视售后",
        },
    ]
    return {
        "customers": frame("customers", customers),
        "orders": frame("orders", orders),
        "interactions": frame("interactions", interactions),
        "feedback": frame("feedback", feedback),
        "referrals": frame("referrals", referrals),
        "leads": frame("leads", leads),
    }
