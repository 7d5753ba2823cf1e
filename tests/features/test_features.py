"""Hand-computed features of the toy data set (tests/conftest.py), on every engine.

C1 buys on 2024-01-10 (two orders, 100 + 50), 2024-03-10 (200) and 2024-06-20 (300), refunds
300 on 2024-06-25 and buys 999 on 2024-07-05, after the as-of date 2024-06-30. C2 bought once,
1000 on 2023-06-30. C3 is a prospect with an open lead; C4 only buys after the as-of date; C5
is created after it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from tierwise.features import build_features
from toydata import toy_tables

AS_OF = date(2024, 6, 30)


# computed once per engine (a Spark query costs seconds); each test reads the same frame
_COMPUTED: dict[str, dict[str, dict[str, Any]]] = {}


@pytest.fixture
def features(engine_name: str, make_analytics: Any) -> dict[str, dict[str, Any]]:
    if engine_name not in _COMPUTED:
        analytics = make_analytics(toy_tables())
        frame = pl.from_arrow(analytics.backend.to_pyarrow(build_features(analytics.tables, AS_OF)))
        assert isinstance(frame, pl.DataFrame)
        _COMPUTED[engine_name] = {row["customer_id"]: row for row in frame.iter_rows(named=True)}
    return _COMPUTED[engine_name]


def test_rfm_in_the_btyd_convention(features: dict[str, dict[str, Any]]) -> None:
    c1 = features["C1"]
    # three purchase days (two orders on 2024-01-10 are one occasion)
    assert (c1["purchase_days"], c1["frequency"], c1["orders_total"]) == (3, 2, 4)
    # 2024-01-10 → 2024-06-20 = 162 days; → 2024-06-30 = 172; 2024-06-20 → 2024-06-30 = 10
    assert (c1["recency"], c1["T"], c1["recency_days"]) == (162, 172, 10)
    assert c1["monetary_total"] == 650.0
    assert c1["monetary_mean"] == pytest.approx(162.5)  # 650 / 4 orders
    assert c1["monetary_value"] == pytest.approx(250.0)  # (200 + 300) / 2 repeat days


def test_single_buyer(features: dict[str, dict[str, Any]]) -> None:
    c2 = features["C2"]
    assert (c2["purchase_days"], c2["frequency"], c2["recency"]) == (1, 0, 0)
    assert (c2["T"], c2["recency_days"]) == (366, 366)  # 2024 is a leap year
    assert c2["monetary_value"] == 0.0
    assert c2["orders_365d"] == 0  # 2023-06-30 is 366 days back


def test_windows_rhythm_trend_refunds(features: dict[str, dict[str, Any]]) -> None:
    c1 = features["C1"]
    assert (c1["orders_90d"], c1["revenue_90d"]) == (1, 300.0)
    assert (c1["orders_365d"], c1["revenue_365d"]) == (4, 650.0)
    assert c1["median_gap_days"] == pytest.approx(81.0)  # gaps 60 and 102
    assert c1["last_gap_days"] == 102
    assert c1["rhythm_ratio"] == pytest.approx(10 / 81)
    assert c1["spend_trend"] == pytest.approx(1.0)  # everything in the last 180 days
    assert (c1["refund_orders"], c1["refund_amount"]) == (1, 300.0)
    assert c1["refund_rate"] == pytest.approx(0.2)  # 1 refunded of 5 orders
    assert c1["gross_profit_total"] == pytest.approx(40.0)
    assert c1["categories_bought"] == 2


def test_interactions_feedback_referrals_leads(features: dict[str, dict[str, Any]]) -> None:
    c1, c2, c3 = features["C1"], features["C2"], features["C3"]
    assert (c1["interactions_90d"], c1["calls_365d"], c1["visits_365d"]) == (3, 1, 1)
    assert (c1["web_events_90d"], c1["interaction_recency_days"]) == (1, 1)
    assert c1["last_activity_days"] == 1
    assert c2["interactions_total"] == 1  # the visit of 2024-07-02 is after the as-of date
    assert (c1["feedback_scored"], c1["feedback_score_mean"]) == (1, 5.0)
    assert (c2["complaints_total"], c2["complaints_open"], c2["complaints_service"]) == (1, 1, 1)
    assert c2["feedback_score_mean"] == pytest.approx(1.0)  # NPS 2 on the 1-5 scale
    assert c2["sentiment_mean"] == pytest.approx(-0.8)
    assert (c1["referrals_made"], c1["referrals_converted"]) == (2, 1)
    assert (c3["leads_open"], c3["lead_stage"], c3["lead_needs"]) == (1, "报价", "价格敏感")
    assert c3["lead_signals"] == "索要报价,预约演示"
    assert c2["decision_days_median"] == pytest.approx(45.0)
    assert c2["leads_won"] == 1


def test_attributes_and_the_as_of_rule(features: dict[str, dict[str, Any]]) -> None:
    assert "C5" not in features  # created after the as-of date
    assert features["C4"]["purchase_days"] == 0  # its only order is after the as-of date
    assert features["C4"]["monetary_total"] == 0.0
    assert features["C1"]["location"] == "上海"
    assert features["C2"]["location"] == "广东"  # 广东省 without the suffix
    assert features["C3"]["location"] == "美国"
    assert features["C1"]["age_years"] == 33
    assert features["C1"]["tenure_days"] == 546  # 2023-01-01 → 2024-06-30


def test_an_order_after_the_as_of_date_changes_nothing(make_analytics: Any) -> None:
    import pyarrow as pa

    data = toy_tables()
    before = make_analytics(data)
    base = pl.from_arrow(before.backend.to_pyarrow(build_features(before.tables, AS_OF)))
    orders = data["orders"]
    assert isinstance(orders, pa.Table)
    extra = pa.table(
        {
            c: [v]
            for c, v in zip(
                orders.column_names,
                [
                    99,
                    2,
                    "O99",
                    __import__("datetime").datetime(2024, 7, 1, 0, 0),
                    5000.0,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    "paid",
                ],
                strict=True,
            )
        }
    ).cast(orders.schema)
    data["orders"] = pa.concat_tables([orders, extra])
    after = make_analytics(data)
    changed = pl.from_arrow(after.backend.to_pyarrow(build_features(after.tables, AS_OF)))
    assert isinstance(changed, pl.DataFrame) and isinstance(base, pl.DataFrame)
    assert changed.sort("customer_pk").equals(base.sort("customer_pk"))
