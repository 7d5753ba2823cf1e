"""Association rules and recommendations on hand-computed toy baskets, on every engine."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import ibis
import polars as pl
import pytest

from tierwise.engine import arrow_schema, from_arrow
from tierwise.errors import DataError
from tierwise.models._rules import association_rules, reason, recommend, recommend_one

# tests/models has a conftest of its own, which shadows the name ``conftest``
_spec = importlib.util.spec_from_file_location(
    "tierwise_tests_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
toy_tables = _root.toy_tables

AS_OF = dt.date(2024, 6, 30)
CATEGORY = {"A": "coffee", "B": "coffee", "C": "tools", "D": "tea", "E": "tea"}

# (customer, product, status, day, amount): baskets up to AS_OF are
# 1 {A,B,C}  2 {A,B}  3 {A,C}  4 {B,C}  5 {A,B}  6 {D}   (N = 6)
LINES = [
    (1, "A", "paid", "2024-01-05", 10.0),
    (1, "B", "paid", "2024-01-05", 20.0),
    (1, "C", "paid", "2024-03-01", 30.0),
    (1, "A", "paid", "2024-04-01", 10.0),  # bought twice: still one customer
    (2, "A", "paid", "2024-02-01", 10.0),
    (2, "B", "pending", "2024-02-02", 20.0),
    (3, "A", "paid", "2024-02-01", 12.0),
    (3, "C", None, "2024-06-30", 30.0),  # a blank status is paid; the as-of day counts
    (4, "B", "paid", "2024-05-01", 20.0),
    (4, "C", "paid", "2024-05-01", 30.0),
    (4, "A", "paid", "2024-07-01", 10.0),  # after the as-of date
    (5, "A", "paid", "2024-03-03", 10.0),
    (5, "B", "paid", "2024-03-03", 25.0),
    (5, "D", "refunded", "2024-03-03", -5.0),  # not a purchase
    (6, "D", "paid", "2024-01-01", 5.0),
    (6, "A", "cancelled", "2024-01-02", 10.0),  # not a purchase
]


def toy_orders() -> dict[str, object]:
    data = toy_tables()
    schema = arrow_schema("orders")
    cols: dict[str, list[Any]] = {f.name: [] for f in schema}
    for i, (pk, product, status, day, amount) in enumerate(LINES, start=1):
        row = {
            "id": i,
            "customer_pk": pk,
            "order_id": f"O{i}",
            "ordered_at": dt.datetime.fromisoformat(day + " 10:00"),
            "amount": amount,
            "product_id": product,
            "category": CATEGORY[product],
            "status": status,
        }
        for f in schema:
            cols[f.name].append(row.get(f.name))
    data["orders"] = pl.DataFrame(cols).to_arrow().cast(schema)
    return data


def orders() -> ibis.Table:
    return from_arrow(toy_orders()).tables["orders"]


def all_rules(**kw: Any) -> pl.DataFrame:
    args: dict[str, Any] = {"min_support": 0.0, "min_confidence": 0.0, "min_pair_customers": 1}
    return association_rules(orders(), as_of=AS_OF, **(args | kw))


def test_support_confidence_and_lift_of_the_toy_baskets() -> None:
    rules = all_rules()
    # n_A = 4, n_B = 4, n_C = 3; n_AB = 3, n_AC = 2, n_BC = 2; D pairs with nothing
    assert rules.select("antecedent", "consequent").rows() == [
        ("A", "B"),  # lift 1.125, confidence 3/4
        ("B", "A"),
        ("C", "A"),  # lift 1.0, confidence 2/3
        ("C", "B"),
        ("A", "C"),  # lift 1.0, confidence 2/4
        ("B", "C"),
    ]
    ab = rules.row(0, named=True)
    assert ab["pair_customers"] == 3
    assert (ab["antecedent_customers"], ab["consequent_customers"], ab["customers"]) == (4, 4, 6)
    assert ab["support"] == pytest.approx(3 / 6)
    assert ab["confidence"] == pytest.approx(3 / 4)
    assert ab["lift"] == pytest.approx((3 / 4) / (4 / 6))
    ca = rules.row(2, named=True)
    assert (ca["pair_customers"], ca["antecedent_customers"]) == (2, 3)
    assert ca["confidence"] == pytest.approx(2 / 3)
    assert ca["lift"] == pytest.approx(1.0)


def test_thresholds_apply_to_confidence_lift_pairs_and_items() -> None:
    assert all_rules(min_lift=1.01).select("antecedent", "consequent").rows() == [
        ("A", "B"),
        ("B", "A"),
    ]
    assert all_rules(min_confidence=0.6).height == 4  # A→B, B→A, C→A, C→B
    assert all_rules(min_pair_customers=3).height == 2  # only A and B together 3 times
    assert all_rules(min_support=0.4).height == 2  # 0.4 × 6 = 2.4 customers
    # the two most frequent items are A and B (4 customers each; C has 3)
    assert set(all_rules(max_items=2).get_column("consequent")) == {"A", "B"}


def test_lookback_keeps_only_recent_orders() -> None:
    # the 90 days after 2024-04-01 (as the 90-day features count): baskets 3 {C}  4 {B,C}
    rules = all_rules(lookback_days=90)
    assert rules.select("antecedent", "consequent", "pair_customers").rows() == [
        ("B", "C", 1),
        ("C", "B", 1),
    ]
    assert rules.get_column("customers").to_list() == [2, 2]


def test_rules_by_category() -> None:
    # baskets: 1 {coffee, tools} 2 {coffee} 3 {coffee, tools} 4 {coffee, tools} 5 {coffee} 6 {tea}
    rules = all_rules(item="category")
    assert rules.select("antecedent", "consequent", "confidence").rows() == [
        ("tools", "coffee", 1.0),
        ("coffee", "tools", 3 / 5),
    ]


def test_no_purchases_before_the_date_give_an_empty_rule_table() -> None:
    rules = association_rules(orders(), as_of=dt.date(2023, 12, 31))
    assert rules.height == 0
    assert rules.schema == pl.Schema(
        {
            "antecedent": pl.String,
            "consequent": pl.String,
            "support": pl.Float64,
            "confidence": pl.Float64,
            "lift": pl.Float64,
            "pair_customers": pl.Int64,
            "antecedent_customers": pl.Int64,
            "consequent_customers": pl.Int64,
            "customers": pl.Int64,
        }
    )
    assert recommend(orders(), rules, as_of=AS_OF).to_polars().height == 0


def test_an_unknown_item_column_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no column 'sku'"):
        association_rules(orders(), as_of=AS_OF, item="sku")


# hand-written rules: C is reached from A (lift 2, confidence .5) and from B (lift 2, .6);
# D and E tie on lift and confidence
RULES = pl.DataFrame(
    {
        "antecedent": ["A", "B", "A", "B", "D"],
        "consequent": ["C", "C", "D", "E", "A"],
        "confidence": [0.5, 0.6, 0.4, 0.4, 0.9],
        "lift": [2.0, 2.0, 1.5, 1.5, 3.0],
    }
)


def recs(**kw: Any) -> list[tuple[Any, ...]]:
    out = recommend(orders(), RULES, as_of=AS_OF, **kw).to_polars()
    return out.sort(["customer_pk", "rank"]).rows()


def test_recommendations_skip_owned_items_and_rank_ties_by_item() -> None:
    assert recs(top_n=3) == [
        # 1 owns A, B, C: D (1.5, .4 from A) and E (1.5, .4 from B) tie: D first
        (1, 1, "D", "A", 0.4, 1.5),
        (1, 2, "E", "B", 0.4, 1.5),
        # 2 owns A, B: C's best reason is B (same lift, higher confidence)
        (2, 1, "C", "B", 0.6, 2.0),
        (2, 2, "D", "A", 0.4, 1.5),
        (2, 3, "E", "B", 0.4, 1.5),
        # 3 owns A and C
        (3, 1, "D", "A", 0.4, 1.5),
        # 4 owns B and C (A is after the as-of date)
        (4, 1, "E", "B", 0.4, 1.5),
        (5, 1, "C", "B", 0.6, 2.0),
        (5, 2, "D", "A", 0.4, 1.5),  # D was refunded: not owned
        (5, 3, "E", "B", 0.4, 1.5),
        # 6 owns D; the cancelled A is not owned, so A is recommended
        (6, 1, "A", "D", 0.9, 3.0),
    ]


def test_top_n_and_a_customer_subset() -> None:
    only = ibis.memtable({"customer_pk": [2, 6]})
    assert recs(top_n=1, customers=only) == [(2, 1, "C", "B", 0.6, 2.0), (6, 1, "A", "D", 0.9, 3.0)]


def test_allowed_categories_per_customer_from_the_orders() -> None:
    allowed = ibis.memtable({"customer_pk": [2, 2, 5], "category": ["tea", "tools", "tea"]})
    # E was never sold, so its category is unknown: not in any allowed set
    assert recs(allowed=allowed) == [
        (2, 1, "C", "B", 0.6, 2.0),
        (2, 2, "D", "A", 0.4, 1.5),
        (5, 1, "D", "A", 0.4, 1.5),
    ]


def test_tier_policy_by_category_price_and_none() -> None:
    products = ibis.memtable(
        {
            "product_id": ["A", "B", "C", "D", "E"],
            "category": ["coffee", "coffee", "tools", "tea", "tea"],
            "price": [10.0, 20.0, 50.0, 500.0, 80.0],
        }
    )
    labels = ibis.memtable({"customer_pk": [1, 2, 3, 6], "tier": ["A", "B", "D", "Z"]})
    policy = {
        "A": "all",
        "B": {"categories": ["tea"], "max_price": 100},
        "D": "none",
        "*": {"categories": ["tools", "coffee"]},  # unlisted tiers (Z) and no label (4, 5)
    }
    assert recs(policy=policy, labels=labels, products=products) == [
        (1, 1, "D", "A", 0.4, 1.5),
        (1, 2, "E", "B", 0.4, 1.5),
        (2, 1, "E", "B", 0.4, 1.5),  # tea at most 100: not D (500), not C (tools)
        (5, 1, "C", "B", 0.6, 2.0),
        (6, 1, "A", "D", 0.9, 3.0),
    ]


def test_max_price_from_the_orders_highest_unit_price() -> None:
    labels = ibis.memtable({"customer_pk": [5], "tier": ["C"]})
    # unit prices seen: C 30, D 5 (the refund line is not a sale), E never sold (unknown)
    assert recs(policy={"C": {"max_price": 30}, "*": "none"}, labels=labels) == [
        (5, 1, "C", "B", 0.6, 2.0),
        (5, 2, "D", "A", 0.4, 1.5),
    ]


def test_a_bad_policy_names_the_tier() -> None:
    labels = ibis.memtable({"customer_pk": [1], "tier": ["A"]})
    with pytest.raises(DataError, match="tier 'A'"):
        recs(policy={"A": {"colour": "red"}}, labels=labels)
    with pytest.raises(DataError, match="needs labels"):
        recs(policy={"A": "all"})


def test_recommend_one_customer() -> None:
    out = recommend_one(orders(), RULES, 2, as_of=AS_OF, top_n=2)
    assert out.select("rank", "item", "antecedent").rows() == [(1, "C", "B"), (2, "D", "A")]


def test_recommend_one_prices_items_from_every_customers_orders() -> None:
    """Customer 5 never bought C or D: their prices come from the other customers' lines."""
    labels = ibis.memtable({"customer_pk": [5], "tier": ["C"]})
    policy = {"C": {"max_price": 30}, "*": "none"}
    out = recommend_one(orders(), RULES, 5, as_of=AS_OF, policy=policy, labels=labels)
    assert out.select("rank", "item", "antecedent").rows() == [(1, "C", "B"), (2, "D", "A")]


def test_reason_in_chinese_and_english_with_product_names() -> None:
    row = {"antecedent": "A", "item": "C", "confidence": 0.6154, "lift": 3.06}
    names = {"A": "咖啡豆", "C": "磨豆机"}
    assert reason(row, "zh", names) == "买过 咖啡豆 的客户有 62% 也买了 磨豆机（提升度 3.1）"
    assert reason(row, "en") == "62% of customers who bought A also bought C (lift 3.1)"


def test_rules_from_association_rules_feed_recommend() -> None:
    rules = all_rules()
    out = recommend(orders(), rules, as_of=AS_OF).to_polars().sort(["customer_pk", "rank"])
    # 2 owns A, B: C from A or B (both lift 1.0, confidence .5): the antecedent breaks the tie
    assert out.select("customer_pk", "item", "antecedent").rows() == [
        (2, "C", "A"),
        (3, "B", "A"),
        (4, "A", "B"),
        (5, "C", "A"),
    ]


def test_every_engine_mines_the_same_rules_and_recommendations(
    make_analytics: Any, engine_name: str
) -> None:
    reference = all_rules()
    mine_orders = make_analytics(toy_orders()).tables["orders"]
    args: dict[str, Any] = {"min_support": 0.0, "min_confidence": 0.0, "min_pair_customers": 1}
    mine = association_rules(mine_orders, as_of=AS_OF, **args)
    assert mine.equals(reference), engine_name
    ref = recommend(orders(), reference, as_of=AS_OF, top_n=2).to_polars()
    got = recommend(mine_orders, mine, as_of=AS_OF, top_n=2).to_polars()
    key = ["customer_pk", "rank"]
    assert got.sort(key).rows() == ref.sort(key).rows()
