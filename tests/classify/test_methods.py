"""Every classification method on hand-checkable toy cases, on every engine.

Toy customers (tests/conftest.py, as of 2024-06-30): C1 bought 4 orders on 3 days for 650,
last 10 days ago; C2 bought once for 1000, 366 days ago; C3 and C4 have no orders before the
as-of date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tierwise.classify import Prior, run
from tierwise.errors import SchemeError
from tierwise.scheme import default_scheme, load_scheme
from toydata import toy_tables

AS_OF = date(2024, 6, 30)
# the methods on DuckDB and PostgreSQL; Spark's agreement is test_engines.py (a Spark run costs
# a minute)
pytestmark = pytest.mark.parametrize(
    "engine_name", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
LABELS = "labels: [{key: low, zh: 低, en: Low}, {key: mid, zh: 中, en: Mid}, {key: high, zh: 高, en: High}]"


def _scheme(body: str) -> Any:
    return load_scheme(f"name: toy\ndimensions:\n  d:\n    title: {{zh: 测试, en: Test}}\n{body}")


def _labels(analytics: Any, scheme: Any, prior: Prior | None = None) -> dict[str, str]:
    result = run(analytics, scheme, as_of=AS_OF, prior=prior)
    wide = result.wide()
    return dict(
        zip(wide.get_column("customer_id").to_list(), wide.get_column("d").to_list(), strict=True)
    )


@pytest.fixture
def toy(make_analytics: Any) -> Any:
    return make_analytics(toy_tables())


def test_bands_by_thresholds_lower_bound_inclusive(toy: Any) -> None:
    scheme = _scheme(f"""    method: bands
    feature: monetary_total
    cut: {{by: thresholds, points: [650, 1000]}}
    {LABELS}
""")
    # 650 is >= the first cut: mid; 1000 reaches the second: high; 0 low
    assert _labels(toy, scheme) == {"C1": "mid", "C2": "high", "C3": "low", "C4": "low"}


def test_bands_lower_is_better_and_insufficient(toy: Any) -> None:
    scheme = _scheme(f"""    method: bands
    feature: recency_days
    higher_is_better: false
    cut: {{by: thresholds, points: [30, 365]}}
    {LABELS}
    insufficient: purchase_days == 0
""")
    # recency 10 < 30: best class (high); 366 >= 365: worst (low)
    assert _labels(toy, scheme) == {
        "C1": "high",
        "C2": "low",
        "C3": "insufficient",
        "C4": "insufficient",
    }


def test_quantiles_share_ties(toy: Any) -> None:
    scheme = _scheme(f"""    method: bands
    feature: orders_total
    cut: {{by: quantiles, probs: [0.5, 0.9]}}
    {LABELS}
""")
    # orders_total 4, 1, 0, 0 → ranks (ties share the lower rank) 3, 2, 0, 0 of n-1 = 3:
    # percent ranks 1.0, 0.667, 0, 0
    assert _labels(toy, scheme) == {"C1": "high", "C2": "mid", "C3": "low", "C4": "low"}


def test_natural_breaks(toy: Any) -> None:
    scheme = _scheme("""    method: bands
    feature: monetary_total
    cut: {by: jenks, classes: 2}
    labels: [{key: small, zh: 小, en: Small}, {key: big, zh: 大, en: Big}]
""")
    # values 0, 0, 650, 1000: the best split is {0, 0} | {650, 1000}
    assert _labels(toy, scheme) == {"C1": "big", "C2": "big", "C3": "small", "C4": "small"}


def test_weighted_score_of_quintiles(toy: Any) -> None:
    scheme = _scheme("""    method: score
    components:
      - {feature: recency_days, weight: 0.5, higher_is_better: false, symbol: R}
      - {feature: monetary_total, weight: 0.5, symbol: M}
    cut: {by: thresholds, points: [3.0, 4.5]}
    labels: [{key: C, zh: C, en: C}, {key: B, zh: B, en: B}, {key: A, zh: A, en: A}]
    insufficient: purchase_days == 0
""")
    result = run(toy, scheme, as_of=AS_OF)
    got = {r["customer_id"]: (r["d"], r["d_score"]) for r in result.wide().iter_rows(named=True)}
    # recency among C1..C4: only C1 (10) and C2 (366) are non-null; R: C1 5, C2 1.
    # monetary 650, 1000, 0, 0 → ranks 2, 3, 0, 0 of 3 → quintiles 4, 5, 1, 1.
    # C1: 0.5×5 + 0.5×4 = 4.5 → A; C2: 0.5×1 + 0.5×5 = 3.0 → B
    assert got["C1"] == ("A", 4.5)
    assert got["C2"] == ("B", 3.0)
    assert got["C3"][0] == "insufficient"


def test_rules_disjoint_with_catch_all(toy: Any) -> None:
    scheme = _scheme(f"""    method: rules
    rules:
      - {{label: high, when: orders_total >= 4}}
      - {{label: mid, when: orders_total >= 1 and orders_total < 4}}
    otherwise: low
    {LABELS}
""")
    assert _labels(toy, scheme) == {"C1": "high", "C2": "mid", "C3": "low", "C4": "low"}


def test_overlapping_rules_are_an_error(toy: Any) -> None:
    scheme = _scheme(f"""    method: rules
    rules:
      - {{label: high, when: orders_total >= 1}}
      - {{label: mid, when: monetary_total > 500}}
    otherwise: low
    {LABELS}
""")
    with pytest.raises(SchemeError, match=r"dimensions\.d\.rules: rules overlap for 2 customer"):
        _labels(toy, scheme)


def test_first_match_declares_a_priority_list(toy: Any) -> None:
    scheme = _scheme(f"""    method: rules
    first_match: true
    rules:
      - {{label: high, when: monetary_total > 800}}
      - {{label: mid, when: orders_total >= 1}}
    otherwise: low
    {LABELS}
""")
    assert _labels(toy, scheme) == {"C1": "mid", "C2": "high", "C3": "low", "C4": "low"}


def test_multi_label_rules(toy: Any) -> None:
    scheme = _scheme("""    method: rules
    multi: true
    rules:
      - {label: service, when: complaints_service > 0 or lead_needs contains '售后'}
      - {label: price, when: lead_needs contains '价格'}
      - {label: loyal, when: orders_total >= 2}
    otherwise: none
    labels:
      - {key: price, zh: 价格, en: Price}
      - {key: service, zh: 服务, en: Service}
      - {key: loyal, zh: 忠诚, en: Loyal}
      - {key: none, zh: 无, en: None}
""")
    # labels joined in the order they are listed, whatever the rule order
    assert _labels(toy, scheme) == {"C1": "loyal", "C2": "service", "C3": "price", "C4": "none"}


def test_mapping_groups_values(toy: Any) -> None:
    scheme = _scheme("""    method: mapping
    feature: location
    groups: {east: [上海, 江苏], south: [广东], na: [美国, USA]}
    otherwise: other
    labels:
      - {key: east, zh: 华东, en: East}
      - {key: south, zh: 华南, en: South}
      - {key: na, zh: 北美, en: North America}
      - {key: other, zh: 其他, en: Other}
    insufficient: is_null(location)
""")
    assert _labels(toy, scheme) == {"C1": "east", "C2": "south", "C3": "na", "C4": "insufficient"}


def test_rfm_score_map(toy: Any) -> None:
    row = "[lost, lost, mid, high, high]"
    scheme = _scheme(f"""    method: rfm
    score_map: {{"5": {row}, "4": {row}, "3": {row}, "2": {row}, "1": [lost, lost, lost, lost, lost]}}
    labels: [{{key: high, zh: 高, en: High}}, {{key: mid, zh: 中, en: Mid}}, {{key: lost, zh: 失, en: Lost}}]
    insufficient: purchase_days == 0
""")
    result = run(toy, scheme, as_of=AS_OF)
    got = {r["customer_id"]: (r["d"], r["d_score"]) for r in result.wide().iter_rows(named=True)}
    # R: C1 5, C2 1. F (frequency 2, 0, 0, 0): C1 5, others 1. M: C1 4, C2 5.
    # C1: FM = (5 + 4 + 1) // 2 = 5 → high, score 554; C2: R1 → lost, score 115
    assert got["C1"] == ("high", 554.0)
    assert got["C2"] == ("lost", 115.0)
    assert got["C4"][0] == "insufficient"


def test_grid_combines_final_labels(toy: Any) -> None:
    scheme = load_scheme(f"""name: toy
dimensions:
  tier:
    title: {{zh: 等级, en: Tier}}
    method: bands
    feature: monetary_total
    cut: {{by: thresholds, points: [1, 1000]}}
    {LABELS}
  active:
    title: {{zh: 活跃, en: Active}}
    method: rules
    rules: [{{label: "yes", when: recency_days <= 30}}]
    otherwise: "no"
    labels: [{{key: "yes", zh: 是, en: "Yes"}}, {{key: "no", zh: 否, en: "No"}}]
  d:
    title: {{zh: 优先级, en: Priority}}
    method: grid
    rows: tier
    columns: active
    cells: {{high: {{"yes": p1, "no": p2}}, mid: {{"yes": p1, "no": p3}}}}
    otherwise: p3
    labels: [{{key: p1, zh: 一, en: P1}}, {{key: p2, zh: 二, en: P2}}, {{key: p3, zh: 三, en: P3}}]
""")
    assert _labels(toy, scheme) == {"C1": "p1", "C2": "p2", "C3": "p3", "C4": "p3"}


def test_default_scheme_labels_every_customer_in_every_dimension(toy: Any) -> None:
    scheme = default_scheme()
    result = run(toy, scheme, as_of=AS_OF)
    counts = result.labels.group_by("dimension").len()
    assert set(counts.get_column("dimension")) == set(scheme.dimensions)
    assert counts.get_column("len").to_list() == [4] * len(scheme.dimensions)
    wide = {r["customer_id"]: r for r in result.wide().iter_rows(named=True)}
    assert wide["C3"]["lifecycle"] == "prospect"
    assert wide["C3"]["purchase_intent"] == "high"  # 报价 stage, quote requested
    assert wide["C2"]["feedback"] == "negative"  # an open complaint
    assert wide["C2"]["decision_speed"] == "slow"  # 45 days
    assert wide["C1"]["referral"] == "referrer"
    assert wide["C1"]["region"] == "east"


def test_same_inputs_same_hash(toy: Any) -> None:
    first = run(toy, default_scheme(), as_of=AS_OF)
    second = run(toy, default_scheme(), as_of=AS_OF)
    assert first.result_hash() == second.result_hash()
    assert first.labels.equals(second.labels)


def test_model_methods_plug_in(toy: Any) -> None:
    import ibis

    from tierwise.classify import ModelOutput, register_model

    def big_spender(t: Any, dim: Any) -> ModelOutput:
        cut = dim.params["cut"]
        label = ibis.cases(
            (t.purchase_days == 0, ibis.null("string")),
            (t.monetary_total >= cut, "big"),
            else_="small",
        )
        return ModelOutput(label=label, score=t.monetary_total / cut)

    register_model("toy_big_spender", big_spender)
    scheme = _scheme("""    method: model
    model: toy_big_spender
    params: {cut: 800}
    labels: [{key: small, zh: 小, en: Small}, {key: big, zh: 大, en: Big}]
""")
    result = run(toy, scheme, as_of=AS_OF)
    got = {r["customer_id"]: (r["d"], r["d_score"]) for r in result.wide().iter_rows(named=True)}
    assert got["C1"] == ("small", 650 / 800)
    assert got["C2"] == ("big", 1000 / 800)
    assert got["C3"][0] == "insufficient"
    missing = _scheme("""    method: model
    model: no_such_model
    labels: [{key: a, zh: a, en: a}]
""")
    with pytest.raises(SchemeError, match="model 'no_such_model' is not available"):
        run(toy, missing, as_of=AS_OF)


def test_a_rule_that_is_not_a_condition_names_its_place(toy: Any) -> None:
    scheme = _scheme(f"""    method: rules
    rules:
      - {{label: high, when: 2 * orders_total}}
    otherwise: low
    {LABELS}
""")
    with pytest.raises(
        SchemeError, match=r"at dimensions\.d\.rules\[0\]\.when: '2 \* orders_total' is a"
    ):
        _labels(toy, scheme)
    broken = _scheme(f"""    method: rules
    rules:
      - {{label: high, when: orders_total > }}
    otherwise: low
    {LABELS}
""")
    with pytest.raises(SchemeError, match=r"at dimensions\.d\.rules\[0\]\.when: Expression error"):
        _labels(toy, broken)
