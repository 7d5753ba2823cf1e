"""Hysteresis, minimum days in a tier, protected tiers, overrides and change events.

The engine's raw output is written by hand here: ``t__label`` is the class of the score,
``t__down`` the class of the score with the 0.5 margin in the customer's favour.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from tierwise.classify import Prior, settle
from tierwise.scheme import load_scheme

AS_OF = date(2024, 6, 30)
SCHEME = load_scheme("""
name: toy
dimensions:
  t:
    title: {zh: 等级, en: Tier}
    method: bands
    feature: monetary_total
    cut: {by: thresholds, points: [1, 2, 3]}
    labels:
      - {key: D, zh: D, en: D}
      - {key: C, zh: C, en: C}
      - {key: B, zh: B, en: B}
      - {key: A, zh: A, en: A}
    hysteresis: {margin: 0.5, min_days: 30, protected: [A]}
""")


def _result(rows: list[tuple[int, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "customer_pk": pl.Int64,
            "t__label": pl.String,
            "t__down": pl.String,
            "t__score": pl.Float64,
        },
        orient="row",
    ).with_columns(customer_id=pl.format("C{}", pl.col("customer_pk")))


def _prior(rows: list[tuple[int, str, date]], **kw: pl.DataFrame) -> Prior:
    labels = (
        pl.DataFrame(
            rows,
            schema={"customer_pk": pl.Int64, "label": pl.String, "since": pl.Date},
            orient="row",
        )
        .with_columns(dimension=pl.lit("t"))
        .select("customer_pk", "dimension", "label", "since")
    )
    return Prior(labels=labels, **kw)


def _final(outcome: object) -> dict[int, tuple[str, str]]:
    labels = outcome.labels  # type: ignore[attr-defined]
    return {r["customer_pk"]: (r["label"], r["source"]) for r in labels.iter_rows(named=True)}


LONG_AGO = date(2024, 1, 1)


def test_hysteresis_margin_and_upgrades() -> None:
    result = _result(
        [
            (1, "C", "B", 1.8),  # was B; 1.8 is within 0.5 of the cut 2: stays B
            (2, "C", "C", 1.2),  # was B; 1.2 + 0.5 < 2: goes down to C
            (3, "D", "C", 0.9),  # was B; 0.9 + 0.5 reaches C only: softened to C, not D
            (4, "A", "A", 3.1),  # was C; upgrades happen at once
            (5, "B", "B", 2.5),  # new customer
        ]
    )
    prior = _prior([(1, "B", LONG_AGO), (2, "B", LONG_AGO), (3, "B", LONG_AGO), (4, "C", LONG_AGO)])
    outcome = settle(SCHEME, result, prior, AS_OF)
    assert _final(outcome) == {
        1: ("B", "hysteresis"),
        2: ("C", "rule"),
        3: ("C", "hysteresis"),
        4: ("A", "rule"),
        5: ("B", "rule"),
    }
    kinds = {r["customer_pk"]: r["kind"] for r in outcome.changes.iter_rows(named=True)}
    assert kinds == {2: "downgrade", 3: "downgrade", 4: "upgrade", 5: "new"}


def test_minimum_days_in_a_tier_hold_a_downgrade() -> None:
    result = _result([(1, "C", "C", 1.0), (2, "C", "C", 1.0)])
    prior = _prior([(1, "B", date(2024, 6, 10)), (2, "B", date(2024, 5, 31))])
    # 20 days in B: held; 30 days: free to go down
    assert _final(settle(SCHEME, result, prior, AS_OF)) == {
        1: ("B", "hysteresis"),
        2: ("C", "rule"),
    }


def test_since_is_carried_while_the_label_stays() -> None:
    result = _result([(1, "B", "B", 2.2), (2, "A", "A", 3.5)])
    prior = _prior([(1, "B", LONG_AGO), (2, "B", LONG_AGO)])
    labels = settle(SCHEME, result, prior, AS_OF).labels
    since = dict(zip(labels.get_column("customer_pk"), labels.get_column("since"), strict=True))
    assert since == {1: LONG_AGO, 2: AS_OF}


def _pending(rows: list[tuple[int, int, str, str, str]]) -> pl.DataFrame:
    return (
        pl.DataFrame(
            rows,
            schema={
                "id": pl.Int64,
                "customer_pk": pl.Int64,
                "from_label": pl.String,
                "to_label": pl.String,
                "state": pl.String,
            },
            orient="row",
        )
        .with_columns(dimension=pl.lit("t"))
        .select("id", "customer_pk", "dimension", "from_label", "to_label", "state")
    )


def test_protected_tier_waits_for_approval() -> None:
    result = _result(
        [(1, "B", "B", 2.1), (2, "B", "B", 2.1), (3, "B", "B", 2.1), (4, "B", "B", 2.1)]
    )
    prior = _prior(
        [(i, "A", LONG_AGO) for i in (1, 2, 3, 4)],
        pending=_pending(
            [
                (10, 2, "A", "B", "approved"),
                (11, 3, "A", "B", "rejected"),
                (12, 4, "A", "B", "pending"),
            ]
        ),
    )
    outcome = settle(SCHEME, result, prior, AS_OF)
    assert _final(outcome) == {
        1: ("A", "pending"),
        2: ("B", "rule"),
        3: ("A", "pending"),
        4: ("A", "pending"),
    }
    # a new request only for 1: 2 was approved, 3 rejected, 4 is already waiting
    assert outcome.new_pending.select("customer_pk", "from_label", "to_label").rows() == [
        (1, "A", "B")
    ]
    assert outcome.applied == [10]


def test_override_wins_and_is_an_event() -> None:
    result = _result([(1, "B", "B", 2.2), (2, "D", "D", 0.2)])
    prior = _prior(
        [(1, "B", LONG_AGO), (2, "D", LONG_AGO)],
        overrides=pl.DataFrame({"customer_pk": [2], "dimension": ["t"], "label": ["A"]}),
    )
    outcome = settle(SCHEME, result, prior, AS_OF)
    assert _final(outcome) == {1: ("B", "rule"), 2: ("A", "override")}
    assert outcome.changes.select(
        "customer_pk", "old_label", "new_label", "kind", "source"
    ).rows() == [(2, "D", "A", "upgrade", "override")]


@pytest.mark.parametrize("labels", [["C", "C"], ["insufficient", "insufficient"]])
def test_without_prior_there_is_no_hysteresis(labels: list[str]) -> None:
    result = _result([(1, labels[0], labels[1], 1.5)])
    outcome = settle(SCHEME, result, Prior(), AS_OF)
    assert _final(outcome)[1][0] == labels[0]
    assert outcome.changes.get_column("kind").to_list() == ["new"]


def test_the_engine_result_is_sorted_by_key_with_its_rows_intact() -> None:
    from tierwise.classify._run import _sorted_by_key

    raw = pl.DataFrame(
        {
            "customer_pk": [30, 10, 20],
            "customer_id": ["c30", "c10", "c20"],
            "t__label": ["A", None, "C"],
            "t__score": [3.5, 0.2, 1.1],
        }
    )
    out = _sorted_by_key(raw.clone())
    assert out.get_column("customer_pk").flags["SORTED_ASC"]
    assert out.rows() == sorted(raw.rows())
    assert out.columns == raw.columns and out.schema == raw.schema
    already = _sorted_by_key(raw.sort("customer_pk"))
    assert already.rows() == out.rows()
    assert already.get_column("customer_pk").flags["SORTED_ASC"]
