"""Holdout assignment: reproducible, of the requested share, the same on the engine."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import numpy as np
import polars as pl
import pytest

from tierwise.errors import DataError
from tierwise.evaluate import holdout, holdout_expr, holdout_mask, holdout_uplift

PKS = np.arange(1, 10_001, dtype=np.int64)


@pytest.mark.parametrize("share", [0.05, 0.1, 0.2, 0.5])
def test_holdout_is_of_the_requested_share_at_10k_customers(share: float) -> None:
    mask = holdout_mask(PKS, "A", share, seed=3)
    assert abs(mask.mean() - share) <= 0.02


def test_holdout_is_reproducible_nested_and_differs_by_tier_and_seed() -> None:
    a = holdout_mask(PKS, "A", 0.1, seed=3)
    assert np.array_equal(a, holdout_mask(PKS, "A", 0.1, seed=3))
    assert not np.array_equal(a, holdout_mask(PKS, "B", 0.1, seed=3))
    assert not np.array_equal(a, holdout_mask(PKS, "A", 0.1, seed=4))
    wider = holdout_mask(PKS, "A", 0.2, seed=3)
    assert np.all(wider[a])  # a larger share only adds customers
    assert [holdout(int(pk), "A", 0.1, seed=3) for pk in PKS[:50]] == a[:50].tolist()
    # a scheme hash (hex) serves as a seed
    assert holdout_mask(PKS, "A", 0.1, seed="ab12" * 16).mean() == pytest.approx(0.1, abs=0.02)


def test_the_engine_expression_agrees_with_numpy() -> None:
    con = ibis.duckdb.connect()
    t = con.create_table("c", pl.DataFrame({"customer_pk": PKS}).to_arrow())
    got = con.to_pyarrow(
        t.select("customer_pk", h=holdout_expr(t.customer_pk, "A", 0.1, seed=3)).order_by(
            "customer_pk"
        )
    )
    assert got.column("h").to_pylist() == holdout_mask(PKS, "A", 0.1, seed=3).tolist()


def test_a_share_out_of_range_is_refused_with_what_to_do() -> None:
    with pytest.raises(DataError, match=r"0\.7.*0\.\.0\.5"):
        holdout(1, "A", 0.7)


def test_holdout_uplift_of_treated_over_held_out_customers() -> None:
    pks = PKS[:2000]
    mask = holdout_mask(pks, "A", 0.2, seed=0)
    # treated customers bought again after 2024-03-31, held-out ones did not
    feats = pl.DataFrame(
        {
            "customer_pk": pks,
            "last_order_day": [date(2024, 1, 1) if m else date(2024, 5, 1) for m in mask],
            "revenue_365d": [10.0 if m else 30.0 for m in mask],
        }
    )
    tiers = pl.DataFrame({"customer_pk": pks, "label": ["A"] * len(pks)})
    (row,) = holdout_uplift(tiers, feats, shares={"A": 0.2}, since=date(2024, 3, 31))
    assert row["holdout"] == int(mask.sum()) and row["treated"] == len(pks) - int(mask.sum())
    assert row["retention_uplift"] == pytest.approx(1.0)
    assert row["revenue_uplift"] == pytest.approx(20.0)


def test_the_store_clause_agrees_with_numpy(engine: Any) -> None:
    import sqlalchemy as sa

    from tierwise.evaluate import holdout_clause

    pks = PKS[:2000]
    keys = sa.Table("holdout_keys", sa.MetaData(), sa.Column("pk", sa.BigInteger()))
    with engine.begin() as conn:
        keys.create(conn)
        conn.execute(keys.insert(), [{"pk": int(p)} for p in pks])
        query = sa.select(keys.c.pk, holdout_clause(keys.c.pk, "A", 0.1, seed=3).label("h"))
        rows = dict(conn.execute(query).all())
    got = [bool(rows[int(p)]) for p in pks]
    assert got == holdout_mask(pks, "A", 0.1, seed=3).tolist() and any(got)
