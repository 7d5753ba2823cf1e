"""Drift of the models' calibration between two snapshots, on customers simulated from known
BG/NBD parameters: the churn risk the older snapshot predicted against what they did since."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest

from tierwise.evaluate import Thresholds, churn_calibration, drift
from tierwise.models import BetaGeo, simulate_bgnbd

TRUE = {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 3.0}  # days
GAP = 90
N = 20_000
SEED = 3


def _models(params: dict[str, float]) -> dict[str, Any]:
    state = {"model": "BetaGeo", "params": params}
    return {"models": {"bgnbd": {"fitted": True, "state": state}}}


def _snapshots() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Customers at the older snapshot (x, t_x, T drawn by ``simulate_bgnbd``) and the purchase
    days they added in the next ``GAP`` days.

    The future needs each customer's own λ, p and whether they were still alive at T:
    ``simulate_bgnbd`` draws λ, p, the purchase events N in (0, T] and the dropout purchase D
    in this order from its seed, so the same draws give them back (and x = min(N, D) checks
    it). Alive at T iff N < D; an alive customer buys in the gap with 1 − exp(−λ·GAP).
    """
    rng0 = np.random.default_rng(7)
    big_t = rng0.integers(30, 720, N).astype(np.float64)
    summary = simulate_bgnbd(N, TRUE, T=big_t, seed=SEED)
    rng = np.random.default_rng(SEED)
    lam = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"], N)
    p = rng.beta(TRUE["a"], TRUE["b"], N)
    events = rng.poisson(lam * big_t)
    drop_after = rng.geometric(np.clip(p, 1e-300, 1.0))
    x = summary.get_column("frequency").to_numpy()
    assert (x == np.minimum(events, drop_after)).all(), "simulate_bgnbd draws in another order"
    alive = events < drop_after
    bought = alive & (rng0.random(N) < 1.0 - np.exp(-lam * GAP))
    model = BetaGeo.from_dict({"model": "BetaGeo", "params": TRUE})
    old = summary.with_columns(
        pl.Series("customer_pk", np.arange(1, N + 1)),
        pl.Series("purchase_days", x + 1),
        pl.Series("p_alive", model.p_alive(x, summary["recency"], big_t)),
    )
    new = pl.DataFrame({"customer_pk": np.arange(1, N + 1), "purchase_days": x + 1 + bought})
    return old, new


@pytest.fixture(scope="module")
def snapshots() -> tuple[pl.DataFrame, pl.DataFrame]:
    return _snapshots()


def test_churn_calibration_holds_per_band_with_the_true_parameters(snapshots: Any) -> None:
    old, new = snapshots
    out = churn_calibration(old, new, gap_days=GAP, models=_models(TRUE))
    assert out is not None and out["by"] == "p_alive" and out["customers"] == N
    assert sum(b["customers"] for b in out["bands"]) == N
    for band in out["bands"]:  # the known process, predicted by its own parameters
        assert band["predicted_inactive"] == pytest.approx(band["observed_inactive"], abs=0.03)
    assert out["error"] < 0.02
    # fewer alive, fewer buyers: inactivity rises as P(alive) falls
    observed = [b["observed_inactive"] for b in out["bands"]]
    assert observed[0] > observed[-1]


def test_a_miscalibrated_model_raises_a_churn_warning_in_both_languages(snapshots: Any) -> None:
    old, new = snapshots
    day = dt.date(2024, 6, 30)
    args: dict[str, Any] = {
        "old_tiers": {}, "new_tiers": {}, "old_as_of": day,
        "new_as_of": day + dt.timedelta(days=GAP), "features": (),
    }  # fmt: skip
    good = drift(old, new, models=_models(TRUE), **args)
    assert good["churn_calibration"]["error"] < 0.02
    assert not [w for w in good["warnings"] if w["kind"] == "churn_calibration"]
    # a model that thinks customers buy three times as often predicts too little inactivity
    fast = TRUE | {"r": TRUE["r"] * 3}
    bad = drift(old, new, models=_models(fast), thresholds=Thresholds(churn=0.05), **args)
    cal = bad["churn_calibration"]
    assert cal["predicted_inactive"] < cal["observed_inactive"] - 0.05
    (warning,) = [w for w in bad["warnings"] if w["kind"] == "churn_calibration"]
    assert warning["value"] == cal["error"] > 0.05 and warning["threshold"] == 0.05
    assert "流失风险" in warning["zh"] and "churn-risk model" in warning["en"]


def test_churn_calibration_by_risk_label_in_the_scheme_order(snapshots: Any) -> None:
    old, new = snapshots
    alive = old.get_column("p_alive")
    risk = old.select(
        "customer_pk",
        pl.when(alive < 0.3).then(pl.lit("high")).when(alive < 0.7).then(pl.lit("mid"))
        .otherwise(pl.lit("low")).alias("label"),
    )  # fmt: skip
    out = churn_calibration(
        old, new, gap_days=GAP, models=_models(TRUE), risk=risk, order=["low", "mid", "high"]
    )
    assert out is not None and out["by"] == "churn_risk"
    assert [b["band"] for b in out["bands"]] == ["low", "mid", "high"]
    inactive = [b["observed_inactive"] for b in out["bands"]]
    assert inactive == sorted(inactive)  # high risk: the most customers without a purchase
    assert out["error"] < 0.03


def test_no_churn_calibration_without_a_fitted_model_or_a_gap(snapshots: Any) -> None:
    old, new = snapshots
    assert churn_calibration(old, new, gap_days=GAP, models={}) is None
    unfitted = {"models": {"bgnbd": {"fitted": False, "state": None}}}
    assert churn_calibration(old, new, gap_days=GAP, models=unfitted) is None
    assert churn_calibration(old, new, gap_days=0, models=_models(TRUE)) is None
    assert churn_calibration(old.drop("T"), new, gap_days=GAP, models=_models(TRUE)) is None
