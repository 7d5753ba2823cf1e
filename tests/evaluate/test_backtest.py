"""Backtest: no leakage across the as-of date; calibration on data from known BG/NBD
parameters; two schemes side by side."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from tierwise.engine import arrow_schema, from_arrow
from tierwise.evaluate import backtest, calibration_error, compare
from tierwise.scheme import default_scheme, load_scheme

AS_OF = dt.date(2024, 6, 30)
HORIZON = 180
TRUE = {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 3.0}


def _frame(table: str, cols: dict[str, list[Any]]) -> pa.Table:
    schema = arrow_schema(table)
    n = len(next(iter(cols.values())))
    full = {f.name: cols.get(f.name, [None] * n) for f in schema}
    return pl.DataFrame(full).to_arrow().cast(schema)


def simulated(n: int, seed: int = 11) -> dict[str, pa.Table]:
    """Purchase paths from BG/NBD with ``TRUE`` (days): first purchase 60–720 days before
    ``AS_OF``, simulated on to ``AS_OF + HORIZON``; one order row per purchase day."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"], n)
    p = rng.beta(TRUE["a"], TRUE["b"], n)
    start = AS_OF.toordinal() - rng.integers(60, 720, n)
    end = AS_OF.toordinal() + HORIZON
    who: list[int] = []
    days: list[int] = []
    for i in range(n):  # test data only: product code never loops over customers
        t, seen = float(start[i]), {int(start[i])}
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t >= end + 1:
                break
            seen.add(int(t))
            if rng.random() < p[i]:  # drops out after this purchase
                break
        for d in sorted(seen):
            who.append(i + 1)
            days.append(d)
    customers = _frame(
        "customers",
        {
            "id": list(range(1, n + 1)),
            "customer_pk": list(range(1, n + 1)),
            "customer_id": [f"C{i}" for i in range(1, n + 1)],
            "created_at": [dt.datetime(2022, 1, 1)] * n,
        },
    )
    orders = _frame(
        "orders",
        {
            "id": list(range(1, len(days) + 1)),
            "customer_pk": who,
            "order_id": [f"O{i}" for i in range(1, len(days) + 1)],
            "ordered_at": [dt.datetime.fromordinal(d).replace(hour=10) for d in days],
            "amount": rng.gamma(6.0, 20.0, len(days)).round(2).tolist(),
            "gross_profit": [10.0] * len(days),
            "status": ["paid"] * len(days),
        },
    )
    empty = {
        k: arrow_schema(k).empty_table() for k in ("interactions", "feedback", "referrals", "leads")
    }
    return {"customers": customers, "orders": orders, **empty}


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return simulated(3000)


@pytest.fixture(scope="module")
def result(tables: dict[str, pa.Table]) -> Any:
    return backtest(from_arrow(tables), default_scheme(), as_of=AS_OF, horizon_days=HORIZON)


def test_a_planted_future_order_changes_no_label_or_feature_but_counts_in_the_outcomes(
    make_analytics: Any,
) -> None:
    data = simulated(400, seed=3)
    base = backtest(make_analytics(data), default_scheme(), as_of=AS_OF, horizon_days=HORIZON)
    orders = pl.from_arrow(data["orders"])
    assert isinstance(orders, pl.DataFrame)
    planted = orders.head(1).with_columns(
        pl.lit(10**9, dtype=pl.Int64).alias("id"),
        pl.lit("FUTURE").alias("order_id"),
        pl.lit(dt.datetime(2024, 7, 1, 0, 0)).alias("ordered_at"),  # the first day after
        pl.lit(99_999.0).alias("amount"),
    )
    pk = int(planted.item(0, "customer_pk"))
    leaked = dict(data) | {
        "orders": pl.concat([orders, planted]).to_arrow().cast(arrow_schema("orders"))
    }
    got = backtest(make_analytics(leaked), default_scheme(), as_of=AS_OF, horizon_days=HORIZON)
    assert got.result is not None and base.result is not None
    key = ["customer_pk", "dimension"]
    assert got.result.labels.sort(key).equals(base.result.labels.sort(key))
    assert got.result.features.equals(base.result.features)
    assert got.frame is not None and base.frame is not None
    after = got.frame.filter(pl.col("customer_pk") == pk).row(0, named=True)
    before = base.frame.filter(pl.col("customer_pk") == pk).row(0, named=True)
    assert after["revenue_after"] == pytest.approx(before["revenue_after"] + 99_999.0)
    assert after["orders_after"] == before["orders_after"] + 1
    # a last-day-of-the-horizon order counts; one a day later does not
    edge = planted.with_columns(
        pl.lit("EDGE").alias("order_id"),
        pl.lit(dt.datetime(2024, 12, 28, 23, 0)).alias("ordered_at"),  # AS_OF + 181 days
    )
    late = dict(data) | {
        "orders": pl.concat([orders, edge]).to_arrow().cast(arrow_schema("orders"))
    }
    beyond = backtest(make_analytics(late), default_scheme(), as_of=AS_OF, horizon_days=HORIZON)
    assert beyond.frame is not None
    row = beyond.frame.filter(pl.col("customer_pk") == pk).row(0, named=True)
    assert row["revenue_after"] == pytest.approx(before["revenue_after"])


def test_expected_purchases_are_calibrated_on_data_from_known_parameters(result: Any) -> None:
    deciles = result.purchases
    assert len(deciles) == 10 and sum(d["customers"] for d in deciles) > 2500
    predicted = sum(d["customers"] * d["predicted"] for d in deciles)
    actual = sum(d["customers"] * d["actual"] for d in deciles)
    assert actual == pytest.approx(predicted, rel=0.1)
    for d in deciles:  # each decile within 25 % (or 0.1 purchase for the quiet ones)
        assert abs(d["actual"] - d["predicted"]) <= max(0.25 * d["predicted"], 0.1), d
    assert [d["predicted"] for d in deciles] == sorted(d["predicted"] for d in deciles)
    assert calibration_error(deciles) < 0.2


def test_churn_risk_bands_are_calibrated_and_ordered(result: Any) -> None:
    bands = {r["risk"]: r for r in result.churn}
    assert set(bands) == {"low", "mid", "high"}
    for r in bands.values():
        assert abs(r["predicted_inactive"] - r["observed_inactive"]) < 0.08, r
    observed = [bands[k]["observed_inactive"] for k in ("low", "mid", "high")]
    assert observed == sorted(observed)


def test_the_top_tier_outperforms_and_revenue_falls_tier_by_tier(result: Any) -> None:
    tiers = {r["tier"]: r for r in result.tiers}
    assert result.top_tier == "A" and result.top_lift > 1.5
    assert result.ordered
    assert tiers["A"]["revenue_per_customer"] > tiers["B"]["revenue_per_customer"]
    assert sum(r["customers"] for r in result.tiers) == 3000
    data = result.to_dict()
    assert data["outcome_period"] == ["2024-07-01", "2024-12-27"]
    assert len(data["clv_calibration"]) == 10


def test_two_schemes_are_backtested_side_by_side(tables: dict[str, pa.Table]) -> None:
    scheme = default_scheme()
    text = scheme.model_dump(mode="json")
    text["name"] = "Flat"
    # a renamed copy: the same tiers, so the two sides must agree number for number
    flat = load_scheme(_yaml(text))
    out = compare(from_arrow(tables), scheme, flat, as_of=AS_OF, horizon_days=HORIZON)
    assert out["summary"]["a"]["scheme"] == scheme.name and out["summary"]["b"]["scheme"] == "Flat"
    assert out["verdict"]["better"] in ("a", "b") and out["verdict"]["zh"] and out["verdict"]["en"]
    # (float sums may differ in the last digits between two runs: compared to 1e-9)
    for a, b in zip(out["a"]["tiers"], out["b"]["tiers"], strict=True):
        assert a["tier"] == b["tier"] and a["customers"] == b["customers"]
        assert a["revenue_per_customer"] == pytest.approx(b["revenue_per_customer"], rel=1e-9)
    lifts = out["summary"]["a"]["top_lift"], out["summary"]["b"]["top_lift"]
    assert lifts[0] == pytest.approx(lifts[1], rel=1e-9) and lifts[0] > 1.5


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True)
