"""Co-purchase association rules and product recommendations, computed on the engine.

A *basket* is the set of distinct items a customer has bought (paid or pending lines with an
amount of 0 or more, as the order features count purchases; refunded and cancelled lines are
not purchases) up to the end of the as-of date. Rules have one item on each side, ``X → Y``
("customers who bought X also bought Y"): that is what a recommendation reason can say in one
sentence, and pairs are the part of market-basket analysis that scales (one self-join of the
baskets restricted to the ``max_items`` most frequent items).

Measures over N baskets (customers), with n_X customers who bought X and n_XY who bought both:
support = n_XY / N, confidence = n_XY / n_X, lift = confidence / (n_Y / N) (Agrawal, Imieliński
& Swami 1993; Brin et al. 1997 for lift). Only the counts leave the engine; the ratios are
computed from those integers in Polars, so every engine gives bit-identical rules.

>>> rules = association_rules(analytics.tables["orders"], as_of=date(2024, 6, 30))  # doctest: +SKIP
>>> recommend(analytics.tables["orders"], rules, as_of=date(2024, 6, 30)).to_polars()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final, Literal

import ibis
import ibis.expr.types as ir
import polars as pl

from tierwise.errors import DataError
from tierwise.features._lines import is_purchase

#: columns of ``association_rules``' result, in order
RULE_COLUMNS: Final = (
    "antecedent",
    "consequent",
    "support",
    "confidence",
    "lift",
    "pair_customers",
    "antecedent_customers",
    "consequent_customers",
    "customers",
)
#: a tier policy entry: ``"none"``, ``"all"``, or ``{"categories": [...], "max_price": x}``
#: (either key or both)
TierPolicy = Literal["none", "all"] | Mapping[str, Any]
#: the policy key that covers customers whose tier is not listed (or who have none)
OTHER_TIERS: Final = "*"


def baskets(
    orders: ir.Table, *, as_of: date, item: str = "product_id", lookback_days: int | None = None
) -> ir.Table:
    """Distinct ``(customer_pk, item)`` of the purchases up to the end of ``as_of``.

    >>> baskets(tables["orders"], as_of=date(2024, 6, 30)).to_polars()  # doctest: +SKIP
    """
    if item not in orders.columns:
        raise DataError(
            f"The orders have no column {item!r} to mine rules on: use item='product_id' "
            "or item='category'.",
            key="models.rules.missing_item",
            column=item,
        )
    day = orders.ordered_at.cast("date")
    keep = is_purchase(orders) & orders[item].notnull() & (day <= ibis.date(as_of))
    if lookback_days is not None:
        keep = keep & (day > ibis.date(as_of) - ibis.interval(days=lookback_days))
    o = orders.filter(keep)
    return o.select("customer_pk", item=o[item].cast("string")).distinct()


def association_rules(
    orders: ir.Table,
    *,
    as_of: date,
    item: str = "product_id",
    min_support: float = 0.001,
    min_confidence: float = 0.05,
    min_lift: float = 1.0,
    min_pair_customers: int = 3,
    max_items: int = 2000,
    lookback_days: int | None = None,
) -> pl.DataFrame:
    """Single-item rules ``antecedent → consequent`` with support, confidence and lift.

    A rule is kept when ``pair_customers >= max(min_pair_customers, min_support × N)``,
    ``pair_customers >= min_confidence × antecedent_customers`` and ``lift >= min_lift``
    (the thresholds are applied to the counts on the engine). Sorted by lift, confidence and
    support (all descending), then antecedent and consequent: the order is total.

    >>> association_rules(tables["orders"], as_of=date(2024, 6, 30), min_support=0.01)  # doctest: +SKIP
    shape: (2, 9) antecedent consequent support confidence lift pair_customers ...
    """
    b = baskets(orders, as_of=as_of, item=item, lookback_days=lookback_days)
    n_total = b.customer_pk.nunique().as_scalar()
    counts = b.group_by("item").aggregate(n=b.count())
    # an item below the support threshold cannot be in a pair above it (Apriori's pruning)
    floor = ibis.greatest(
        ibis.literal(float(min_pair_customers)), n_total.cast("float64") * min_support
    )
    frequent = counts.filter(counts.n.cast("float64") >= floor)
    top = frequent.order_by([frequent.n.desc(), frequent.item]).limit(max_items)
    kept = b.semi_join(top, "item")
    left = kept.select(customer_pk="customer_pk", antecedent="item")
    right = kept.select(customer_pk="customer_pk", consequent="item")
    pairs = left.join(right, "customer_pk").filter(lambda t: t.antecedent != t.consequent)
    pc = pairs.group_by(["antecedent", "consequent"]).aggregate(pair_customers=pairs.count())
    pc = pc.filter(pc.pair_customers.cast("float64") >= floor)
    ant = top.select(antecedent="item", antecedent_customers="n")
    con = top.select(consequent="item", consequent_customers="n")
    r = pc.join(ant, "antecedent").join(con, "consequent")
    r = r.mutate(customers=n_total)
    pair = r.pair_customers.cast("float64")
    r = r.filter(
        (pair >= r.antecedent_customers.cast("float64") * min_confidence)
        & (
            pair * r.customers.cast("float64")
            >= r.antecedent_customers.cast("float64")
            * r.consequent_customers.cast("float64")
            * min_lift
        )
    )
    counted = r.select(
        "antecedent",
        "consequent",
        *[r[c].cast("int64").name(c) for c in RULE_COLUMNS[5:]],
    ).to_polars()
    return _measures(counted)


def _measures(counted: pl.DataFrame) -> pl.DataFrame:
    n = pl.col("customers").cast(pl.Float64)
    out = counted.with_columns(
        pl.col("antecedent").cast(pl.String),
        pl.col("consequent").cast(pl.String),
        *[pl.col(c).cast(pl.Int64) for c in RULE_COLUMNS[5:]],
    ).with_columns(
        support=pl.col("pair_customers") / n,
        confidence=pl.col("pair_customers") / pl.col("antecedent_customers"),
    )
    out = out.with_columns(lift=pl.col("confidence") / (pl.col("consequent_customers") / n))
    return out.select(RULE_COLUMNS).sort(
        ["lift", "confidence", "support", "antecedent", "consequent"],
        descending=[True, True, True, False, False],
    )


def _rules_table(rules: pl.DataFrame | ir.Table) -> ir.Table:
    cols = ("antecedent", "consequent", "confidence", "lift")
    if isinstance(rules, pl.DataFrame):
        missing = [c for c in cols if c not in rules.columns]
        if missing:
            raise DataError(
                f"The rules have no column {missing[0]!r}: pass association_rules(...)'s result.",
                key="models.rules.bad_rules",
                column=missing[0],
            )
        r = ibis.memtable(rules.select(cols).to_arrow())
    else:
        r = rules.select(*cols)
    # two total orders of the (small) rule table, as integers: the best rule per item is then
    # a min() aggregate rather than a window over every candidate, and no engine compares floats
    # to rank: _by_reason = lift, confidence (descending), antecedent; _by_item = lift,
    # confidence (descending), consequent
    by_reason = [r.lift.desc(), r.confidence.desc(), r.antecedent, r.consequent]
    by_item = [r.lift.desc(), r.confidence.desc(), r.consequent, r.antecedent]
    return r.mutate(
        _by_reason=ibis.row_number().over(order_by=by_reason),
        _by_item=ibis.row_number().over(order_by=by_item),
    )


def item_catalogue(
    orders: ir.Table, item: str = "product_id", products: ir.Table | None = None
) -> ir.Table:
    """``item``, ``category``, ``price`` per item, for policies.

    From ``products`` (``product_id``, ``category``, ``price``) when given; otherwise from the
    orders: the alphabetically first category the item was sold under, and its highest unit
    price (amount / quantity) — a max, so every engine agrees to the bit.
    """
    if item == "category":
        o = orders.filter(orders.category.notnull())
        unit = o.amount / o.quantity.nullif(0.0).fill_null(1.0)
        c = o.group_by(item=o.category.cast("string")).aggregate(price=unit.max())
        return c.mutate(category=c.item)
    if products is not None:
        return products.select(
            item=products.product_id.cast("string"),
            category=products.category.cast("string"),
            price=products.price.cast("float64"),
        )
    o = orders.filter(orders[item].notnull() & is_purchase(orders))
    unit = o.amount / o.quantity.nullif(0.0).fill_null(1.0)
    return o.group_by(item=o[item].cast("string")).aggregate(
        category=o.category.cast("string").min(), price=unit.max()
    )


def _policy_filter(
    t: ir.Table, policy: Mapping[str, TierPolicy], tiers: Sequence[str]
) -> ir.BooleanValue:
    """Whether each candidate (with ``_tier``, ``_category``, ``_price``) is allowed."""
    known = [tier for tier in tiers if tier != OTHER_TIERS]
    key = ibis.ifelse(t._tier.isin(known) if known else ibis.literal(False), t._tier, OTHER_TIERS)
    allowed: ir.BooleanValue = ibis.literal(False)
    for tier in tiers:
        rule = _allowance(t, policy[tier], tier)
        allowed = allowed | ((key == tier) & rule)
    if OTHER_TIERS not in policy:
        allowed = allowed | (key == OTHER_TIERS)
    return allowed


def _allowance(t: ir.Table, rule: TierPolicy, tier: str) -> ir.BooleanValue:
    if rule == "none":
        return ibis.literal(False)
    if rule == "all":
        return ibis.literal(True)
    if not isinstance(rule, Mapping) or not set(rule) <= {"categories", "max_price"} or not rule:
        raise DataError(
            f"Recommendation policy of tier {tier!r}: use 'none', 'all' or a mapping with "
            f"'categories' and/or 'max_price' (got {rule!r}).",
            key="models.rules.bad_policy",
            tier=tier,
            value=repr(rule),
        )
    ok: ir.BooleanValue = ibis.literal(True)
    if "categories" in rule:
        cats = [str(c) for c in rule["categories"]]
        ok = ok & (t._category.isin(cats) if cats else ibis.literal(False))
    if "max_price" in rule:
        ok = ok & (t._price <= float(rule["max_price"]))
    return ok.fill_null(False)


def recommend(
    orders: ir.Table,
    rules: pl.DataFrame | ir.Table,
    *,
    as_of: date,
    top_n: int = 3,
    item: str = "product_id",
    customers: ir.Table | None = None,
    allowed: ir.Table | None = None,
    policy: Mapping[str, TierPolicy] | None = None,
    labels: ir.Table | None = None,
    products: ir.Table | None = None,
    catalogue: ir.Table | None = None,
) -> ir.Table:
    """Per customer the ``top_n`` items they have not bought, with the rule that suggests each.

    Columns: ``customer_pk``, ``rank`` (1 = best), ``item``, ``antecedent`` (the item they
    bought that gives the reason), ``confidence``, ``lift``. An item is scored by the best
    rule leading to it from the customer's basket: highest lift, then confidence, then the
    antecedent; items rank by that score, ties by item id.

    Restrictions (all optional, combined):

    - ``customers``: a table with ``customer_pk``: only these customers.
    - ``allowed``: a table ``(customer_pk, category)``: each customer's allowed categories.
    - ``policy`` with ``labels`` ``(customer_pk, tier)``: per tier ``"none"`` (no
      recommendations), ``"all"``, or ``{"categories": [...], "max_price": 500}``; the key
      ``"*"`` covers unlisted tiers and customers without a label (unrestricted if absent).
      Categories and prices come from ``catalogue`` (``item, category, price``, as
      ``item_catalogue`` returns), else from ``products`` (``product_id, category, price``), else
      from the orders (see ``item_catalogue``).

    >>> recommend(orders, rules, as_of=d, policy={"D": "none", "C": {"max_price": 100}},
    ...           labels=labels).to_polars()  # doctest: +SKIP
    """
    if top_n < 1:
        raise DataError(
            f"top_n must be at least 1 (got {top_n}).", key="models.rules.bad_top_n", value=top_n
        )
    if (policy is None) != (labels is None):
        raise DataError(
            "A recommendation policy needs labels (customer_pk, tier), and labels a policy.",
            key="models.rules.policy_without_labels",
        )
    owned = baskets(orders, as_of=as_of, item=item)
    if customers is not None:
        owned = owned.semi_join(customers.select("customer_pk"), "customer_pk")
    r = _rules_table(rules)
    cand = owned.join(r, owned.item == r.antecedent).select(
        owned.customer_pk, item=r.consequent, _by_reason=r._by_reason
    )
    cand = cand.anti_join(owned, ["customer_pk", "item"])
    # the best reason per (customer, item)
    best = cand.group_by(["customer_pk", "item"]).aggregate(_by_reason=cand._by_reason.min())
    # restrictions depend on the item only, so they apply after the reduction (fewer rows)
    if allowed is not None or policy is not None:
        found = catalogue if catalogue is not None else item_catalogue(orders, item, products)
        cat = found.select(item="item", _category="category", _price="price")
        best = best.left_join(cat, "item").select(best, "_category", "_price")
        if allowed is not None:
            a = allowed.select("customer_pk", _category=allowed.category.cast("string"))
            best = best.semi_join(a, ["customer_pk", "_category"])
        if policy is not None and labels is not None:
            lab = labels.select("customer_pk", _tier=labels.tier.cast("string"))
            best = best.left_join(lab, "customer_pk").select(best, "_tier")
            best = best.filter(_policy_filter(best, policy, sorted(policy)))
    best = best.select("customer_pk", "item", "_by_reason")
    best = best.join(r, "_by_reason").select(
        best.customer_pk, best.item, r.antecedent, r.confidence, r.lift, r._by_item
    )
    # then the best items per customer
    by_customer = ibis.window(group_by=best.customer_pk, order_by=best._by_item)
    ranked = best.mutate(rank=(ibis.row_number().over(by_customer) + 1).cast("int64"))
    ranked = ranked.filter(ranked["rank"] <= top_n)
    return ranked.select("customer_pk", "rank", "item", "antecedent", "confidence", "lift")


def recommend_one(
    orders: ir.Table,
    rules: pl.DataFrame | ir.Table,
    customer_pk: int,
    *,
    as_of: date,
    top_n: int = 3,
    **restrictions: Any,
) -> pl.DataFrame:
    """``recommend`` for one customer, filtered to them before anything else; sorted by rank.

    Categories and prices for a policy come from every order (or ``products``), not only the
    customer's: the items worth suggesting are the ones they have not bought.

    >>> recommend_one(orders, rules, 42, as_of=date(2024, 6, 30))  # doctest: +SKIP
    """
    if restrictions.get("catalogue") is None and (
        restrictions.get("policy") is not None or restrictions.get("allowed") is not None
    ):
        item = restrictions.get("item", "product_id")
        restrictions["catalogue"] = item_catalogue(orders, item, restrictions.pop("products", None))
    mine = orders.filter(orders.customer_pk == customer_pk)
    labels = restrictions.pop("labels", None)
    if labels is not None:
        restrictions["labels"] = labels.filter(labels.customer_pk == customer_pk)
    out: pl.DataFrame = recommend(mine, rules, as_of=as_of, top_n=top_n, **restrictions).to_polars()
    return out.sort("rank")


def reason(
    row: Mapping[str, Any], lang: str = "en", product_names: Mapping[str, str] | None = None
) -> str:
    """The sentence behind one recommendation (a row of ``recommend``), in zh or en.

    >>> reason({"antecedent": "P1", "item": "P2", "confidence": 0.62, "lift": 3.14}, "zh",
    ...        {"P1": "咖啡豆", "P2": "磨豆机"})
    '买过 咖啡豆 的客户有 62% 也买了 磨豆机（提升度 3.1）'
    >>> reason({"antecedent": "P1", "item": "P2", "confidence": 0.62, "lift": 3.14})
    '62% of customers who bought P1 also bought P2 (lift 3.1)'
    """
    names = product_names or {}
    x = names.get(str(row["antecedent"]), str(row["antecedent"]))
    y = names.get(str(row["item"]), str(row["item"]))
    pct = round(float(row["confidence"]) * 100)
    lift = f"{float(row['lift']):.1f}"
    if lang == "zh":
        return f"买过 {x} 的客户有 {pct}% 也买了 {y}（提升度 {lift}）"
    return f"{pct}% of customers who bought {x} also bought {y} (lift {lift})"


__all__ = [
    "OTHER_TIERS",
    "RULE_COLUMNS",
    "TierPolicy",
    "association_rules",
    "baskets",
    "item_catalogue",
    "reason",
    "recommend",
    "recommend_one",
]
