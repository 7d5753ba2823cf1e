"""Per-tier metrics, the Pareto curve, PSI and cost to serve on hand-computed toy data."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import polars as pl
import pytest

from tierwise.evaluate import cost_to_serve, pareto, psi, tier_metrics
from tierwise.evaluate._drift import Thresholds, drift
from toydata import toy_tables

TIERS = pl.DataFrame({"customer_pk": [1, 2, 3, 4], "label": ["A", "A", "B", "B"]})
FEATURES = pl.DataFrame(
    {
        "customer_pk": [1, 2, 3, 4],
        "revenue_365d": [600.0, 200.0, 150.0, 50.0],  # total 1000
        "gross_profit_total": [200.0, 100.0, 50.0, 50.0],  # total 400
        "complaints_total": [1, 0, 0, 0],
        "feedback_score_mean": [4.0, None, 2.0, 3.0],
        "clv": [1000.0, 500.0, 100.0, None],
        "last_order_day": [date(2024, 6, 1), date(2024, 1, 5), date(2024, 5, 1), None],
    }
)


def test_tier_metrics_match_the_hand_computed_toy() -> None:
    # the tiers a snapshot before (as of 2024-03-31): A = {1, 3}, B = {2}; 4 is new since
    before = pl.DataFrame({"customer_pk": [1, 3, 2], "label": ["A", "A", "B"]})
    rows = tier_metrics(
        TIERS, FEATURES, order=["A", "B"], previous=before, previous_as_of=date(2024, 3, 31)
    )
    a, b = rows
    assert (a["tier"], a["customers"], a["customer_share"]) == ("A", 2, 0.5)
    assert a["revenue_share"] == pytest.approx(0.8)  # (600 + 200) / 1000
    assert a["gross_profit_share"] == pytest.approx(0.75)  # (200 + 100) / 400
    assert a["complaint_rate"] == pytest.approx(0.5)  # customer 1 of 2
    assert a["satisfaction"] == pytest.approx(4.0)  # customer 2 gave no score
    assert a["avg_clv"] == pytest.approx(750.0)  # (1000 + 500) / 2
    assert a["growth"] == pytest.approx(0.0)  # 2 then 2
    # earlier A = {1, 3}: both bought after 2024-03-31 (06-01, 05-01)
    assert (a["retention"], a["churn_rate"]) == (1.0, 0.0)
    assert b["revenue_share"] == pytest.approx(0.2) and b["complaint_rate"] == 0.0
    assert b["satisfaction"] == pytest.approx(2.5)  # (2 + 3) / 2
    assert b["avg_clv"] == pytest.approx(100.0)  # customer 4 has none
    assert b["growth"] == pytest.approx(1.0)  # 1 → 2
    # earlier B = {2}: last bought 2024-01-05, before 03-31: churned
    assert (b["retention"], b["churn_rate"]) == (0.0, 1.0)


def test_pareto_curve_of_the_toy() -> None:
    # sorted 600, 200, 150, 50: the top 25 % hold 60 %, the top half 80 %, three quarters 95 %
    curve = pareto(FEATURES, points=4)
    assert [(p["top_share"], p["value_share"]) for p in curve] == [
        (0.25, 0.6),
        (0.5, 0.8),
        (0.75, 0.95),
        (1.0, 1.0),
    ]


def test_psi_by_hand_and_on_a_shift() -> None:
    # bins at the older median 0.5: older shares 0.5 | 0.5, newer 0.25 | 0.75 (no missing bin:
    # 0.0001 each): (0.25 − 0.5)·ln(0.5) + (0.75 − 0.5)·ln(1.5) = 0.27465
    value = psi(pl.Series([0.0, 0.0, 1.0, 1.0]), pl.Series([0.0, 1.0, 1.0, 1.0]), bins=2)
    assert value == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5), abs=1e-6)
    old = pl.Series([float(i % 100) for i in range(5000)])
    assert psi(old, old) == 0.0
    assert psi(old, old + 40.0) > 0.25


def test_drift_warns_on_tier_size_and_feature_shift_in_both_languages() -> None:
    old = pl.DataFrame(
        {"customer_pk": list(range(1000)), "revenue_365d": [float(i) for i in range(1000)]}
    )
    new = old.with_columns(pl.col("revenue_365d") * 3)
    out = drift(
        old, new, old_tiers={"A": 100, "B": 900}, new_tiers={"A": 150, "B": 850},
        features=("revenue_365d",), thresholds=Thresholds(tier_size=0.2, psi=0.25),
    )  # fmt: skip
    kinds = {(w["kind"], w["subject"]) for w in out["warnings"]}
    assert kinds == {("tier_size", "A"), ("psi", "revenue_365d")}  # B moved −5.6 %: quiet
    assert all(w["zh"] and w["en"] for w in out["warnings"])
    assert "+50%" in next(w["en"] for w in out["warnings"] if w["subject"] == "A")


def test_cost_to_serve_of_the_toy_tables(make_analytics: Any) -> None:
    analytics = make_analytics(toy_tables())
    tiers = pl.DataFrame({"customer_pk": [1, 2, 3], "label": ["A", "B", "B"]})
    rows = cost_to_serve(analytics, tiers, as_of=date(2024, 6, 30), order=["A", "B"])
    a, b = rows
    # C1 in the year to 2024-06-30: a call (15), a visit (200), a web_visit (the customer's own
    # doing: 0); paid lines' gross profit 30 + 10 (the refunded line is not paid)
    assert (a["interactions"], a["visits"], a["cost"], a["gross_profit"]) == (3, 1, 215.0, 40.0)
    assert a["margin_after_service"] == -175.0 and a["cost_to_profit"] == pytest.approx(5.375)
    # C2: one email (2) on 2023-12-01; the visit of 2024-07-02 is after the as-of date
    assert (b["customers"], b["interactions"], b["visits"], b["cost"]) == (2, 1, 0, 2.0)
    assert b["gross_profit"] == 0.0 and b["cost_to_profit"] is None


def test_two_proportions_by_hand() -> None:
    from tierwise.evaluate import confidence_words, two_proportions

    # 30/100 vs 50/100: pooled 0.4, se = sqrt(0.4·0.6·0.02) = 0.069282, z = 0.2/0.069282 = 2.8868,
    # two-sided p = erfc(2.8868/√2) = 0.00389
    assert two_proportions(30, 100, 50, 100) == pytest.approx(0.003892, abs=1e-6)
    assert confidence_words(0.0039)["en"].startswith("high confidence")
    assert confidence_words(0.03)["zh"].startswith("中等置信度")
    assert confidence_words(0.4)["en"].startswith("low confidence")
    assert two_proportions(1, 0, 1, 10) is None
