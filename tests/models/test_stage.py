"""The model stage of a classification: model outputs as features, fallbacks, explanations.

Data: purchase histories simulated from known BG/NBD parameters, turned into order rows, so
the whole path (features → compressed statistics → fit → engine scoring) is exercised.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import polars as pl
import pytest

from tierwise.classify import run
from tierwise.engine import arrow_schema, from_arrow
from tierwise.models import BetaGeo
from tierwise.models._clv import clv
from tierwise.models._explain import churn_reasons, model_notes
from tierwise.models._gamma import GammaGamma
from tierwise.models._simulate import simulate_bgnbd
from tierwise.models._stage import needed_outputs
from tierwise.scheme import default_scheme, load_scheme

AS_OF = dt.date(2024, 6, 30)
TRUE = {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 3.0}


def _frame(table: str, cols: dict[str, list[Any]]) -> Any:
    schema = arrow_schema(table)
    n = len(next(iter(cols.values())))
    full = {f.name: cols.get(f.name, [None] * n) for f in schema}
    return pl.DataFrame(full).to_arrow().cast(schema)


def simulated_tables(n: int = 1500, seed: int = 7) -> dict[str, Any]:
    """Customers whose purchase days follow BG/NBD with ``TRUE`` (in days), as order rows."""
    rng = np.random.default_rng(seed)
    big_t = rng.integers(60, 720, n).astype(float)
    s = simulate_bgnbd(n, TRUE, T=big_t, seed=seed)
    x = s.get_column("frequency").to_numpy().astype(int)
    tx = np.floor(s.get_column("recency").to_numpy()).astype(int)
    x = np.minimum(x, tx)  # x repeat days need x distinct days in (first, first + t_x]
    tx = np.where(x == 0, 0, tx)
    days: list[int] = []
    who: list[int] = []
    for i in range(n):  # test data only: product code never loops over customers
        first = AS_OF.toordinal() - int(big_t[i])
        picks = (
            []
            if x[i] == 0
            else sorted(rng.choice(np.arange(1, tx[i]), x[i] - 1, replace=False).tolist())
            if x[i] > 1
            else []
        )
        repeat = [*picks, int(tx[i])] if x[i] > 0 else []
        for d in [0, *repeat]:
            days.append(first + d)
            who.append(i + 1)
    amount = rng.gamma(6.0, 20.0, len(days))
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
            "amount": amount.round(2).tolist(),
            "status": ["paid"] * len(days),
        },
    )
    empty = {
        k: arrow_schema(k).empty_table() for k in ("interactions", "feedback", "referrals", "leads")
    }
    return {"customers": customers, "orders": orders, **empty}


@pytest.fixture(scope="module")
def tables() -> dict[str, Any]:
    return simulated_tables()


@pytest.fixture(scope="module")
def result(tables: dict[str, Any]) -> Any:
    return run(from_arrow(tables), default_scheme(), as_of=AS_OF)


def test_the_default_scheme_reads_every_model_output() -> None:
    assert needed_outputs(default_scheme()) == {
        "clv",
        "p_alive",
        "churn_score",
        "behaviour_cluster",
    }


def test_engine_scores_equal_the_models_own_numbers(result: Any) -> None:
    report = result.models["models"]
    assert report["bgnbd"]["fitted"] and report["gamma_gamma"]["fitted"]
    f = result.features.filter(pl.col("purchase_days") > 0)
    x, tx, big_t = (
        f.get_column(c).cast(pl.Float64).to_numpy() for c in ("frequency", "recency", "T")
    )
    bg = BetaGeo.from_dict(report["bgnbd"]["state"])
    gg = GammaGamma.from_dict(report["gamma_gamma"]["state"])
    np.testing.assert_allclose(
        f.get_column("p_alive").to_numpy(), bg.p_alive(x, tx, big_t), rtol=1e-9
    )
    np.testing.assert_allclose(
        f.get_column("expected_purchases").to_numpy(),
        bg.expected_purchases(90.0, x, tx, big_t),
        rtol=1e-6,
        atol=1e-6,
    )
    repeat = x > 0
    m = f.get_column("monetary_value").to_numpy()
    np.testing.assert_allclose(
        f.get_column("expected_spend").to_numpy()[repeat],
        gg.expected_spend(x, m)[repeat],
        rtol=1e-6,
    )
    monthly = 1.1 ** (30 / 365) - 1
    want = clv(bg, gg, x, tx, big_t, m, horizon=365.0, discount_rate=monthly, step=30.0)
    np.testing.assert_allclose(
        f.get_column("clv").to_numpy()[repeat], want[repeat], rtol=1e-5, atol=0.01
    )


def test_bgnbd_in_days_recovers_the_simulated_parameters(result: Any) -> None:
    params = result.models["models"]["bgnbd"]["state"]["params"]
    # 1,500 customers: loose, but far tighter than the distance between plausible models
    assert params["r"] == pytest.approx(TRUE["r"], rel=0.35)
    assert params["alpha"] == pytest.approx(TRUE["alpha"], rel=0.45)
    assert params["b"] / (params["a"] + params["b"]) == pytest.approx(
        TRUE["b"] / (TRUE["a"] + TRUE["b"]), rel=0.25
    )


def test_model_dimensions_use_the_models_and_no_fallback(result: Any) -> None:
    assert result.models["fallbacks"] == {}
    labels = result.wide()
    assert set(labels.get_column("behaviour_cluster").unique()) - {"insufficient"} <= {
        f"c{i}" for i in range(1, 9)
    }
    assert "CLV" in {c.symbol for c in result.scheme.dimensions["value_tier"].components}


def test_too_few_customers_fall_back_to_rules_and_say_why(toy_data: dict[str, Any]) -> None:
    out = run(from_arrow(toy_data), default_scheme(), as_of=AS_OF)
    report = out.models
    assert not report["models"]["bgnbd"]["fitted"]
    assert "fewer than 200" in report["models"]["bgnbd"]["reason"]["en"]
    assert "少于 200" in report["models"]["bgnbd"]["reason"]["zh"]
    assert set(report["fallbacks"]) == {
        "value_tier",
        "lifecycle",
        "churn_risk",
        "behaviour_cluster",
    }
    assert "fallback" in report["fallbacks"]["lifecycle"]["en"]
    assert "数据不足" in report["fallbacks"]["behaviour_cluster"]["zh"]
    # the fallbacks are the rule-based dimensions: R, F, M alone
    assert [c.symbol for c in out.scheme.dimensions["value_tier"].components] == ["R", "F", "M"]
    assert set(out.wide().get_column("behaviour_cluster")) == {"insufficient"}
    assert out.features.get_column("p_alive").null_count() == out.features.height


def test_a_scheme_without_model_outputs_runs_no_model(toy_data: dict[str, Any]) -> None:
    plain = default_scheme().model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    plain["dimensions"] = {k: v for k, v in plain["dimensions"].items() if k in ("rfm_segment",)}
    scheme = load_scheme(__import__("yaml").safe_dump(plain))
    out = run(from_arrow(toy_data), scheme, as_of=AS_OF)
    assert out.models == {}
    assert "p_alive" not in out.features.columns


def test_clusters_keep_their_keys_across_runs(tables: dict[str, Any], result: Any) -> None:
    again = run(from_arrow(tables), default_scheme(), as_of=AS_OF, previous_models=result.models)
    first = result.models["models"]["clusters"]["state"]
    second = again.models["models"]["clusters"]["state"]
    assert first["keys"] == second["keys"]
    assert first["descriptions"] == second["descriptions"]
    assert (
        again.wide()
        .get_column("behaviour_cluster")
        .equals(result.wide().get_column("behaviour_cluster"))
    )


def test_churn_reasons_name_the_largest_parts_in_words() -> None:
    row = {
        "frequency": 4,
        "p_alive": 0.2,
        "recency_days": 200,
        "rhythm_ratio": 4.0,
        "median_gap_days": 50,
        "complaints_open": 1,
        "negative_share": 0.0,
        "spend_trend": 0.1,
    }
    # not alive 45×0.8 = 36, overdue 25×1 = 25, complaints 15×0.5 = 7.5; the rest 0
    assert churn_reasons(row, lang="en") == [
        "probability alive only 20%",
        "4.0× their own purchase interval (50 days) since the last order",
        "1 open complaint(s)",
    ]
    assert churn_reasons(row, lang="zh")[0] == "存活概率仅 20%"


def test_explanations_carry_the_cluster_description_and_churn_reasons(result: Any) -> None:
    scheme = result.scheme
    row = (
        result.features.filter(pl.col("frequency") >= 2)
        .sort("churn_score", descending=True)
        .row(0, named=True)
    )
    notes = model_notes(scheme, row, result.models, lang="en")
    descriptions = result.models["models"]["clusters"]["state"]["descriptions"]
    assert notes["behaviour_cluster"] == descriptions[row["behaviour_cluster"]]["en"]
    assert notes["churn_risk"].startswith("main reasons: ")
    assert not math.isnan(row["churn_score"])


def test_every_engine_scores_the_models_as_duckdb_does(
    make_analytics: Any, engine_name: str, tables: dict[str, Any], result: Any
) -> None:
    mine = run(make_analytics(tables), default_scheme(), as_of=AS_OF)
    cols = ["customer_pk", "p_alive", "expected_purchases", "expected_spend", "clv", "churn_score"]
    ref = result.features.select(cols).sort("customer_pk")
    got = mine.features.select(cols).sort("customer_pk")
    for col in cols[1:]:
        np.testing.assert_allclose(
            got.get_column(col).fill_null(-1.0).to_numpy(),
            ref.get_column(col).fill_null(-1.0).to_numpy(),
            rtol=1e-9,
            atol=1e-6,
            err_msg=f"{engine_name}: {col}",
        )
    assert (
        mine.features.sort("customer_pk").get_column("behaviour_cluster").to_list()
        == result.features.sort("customer_pk").get_column("behaviour_cluster").to_list()
    )
    assert mine.models["models"]["bgnbd"]["state"]["params"] == pytest.approx(
        result.models["models"]["bgnbd"]["state"]["params"], rel=1e-9
    )
    assert mine.result_hash() == result.result_hash(), engine_name
