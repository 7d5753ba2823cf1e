"""The scikit-learn contract and the errors: NotFittedError before fit, ModelFitError with its
reason, input coercion, persistence round trips, parameter recovery on simulated data."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierwise.errors import DataError, TierwiseError
from tierwise.models import (
    FIT_REASONS,
    BetaGeo,
    GammaGamma,
    ModelFitError,
    NotFittedError,
    ParetoNBD,
    clv,
    compress,
    simulate_bgnbd,
    simulate_spend,
)

TRUE_BG = {"r": 0.4, "alpha": 6.0, "a": 0.7, "b": 2.5}
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}


@pytest.mark.parametrize(
    ("model", "method", "args"),
    [
        (BetaGeo(), "p_alive", ([1], [1.0], [2.0])),
        (BetaGeo(), "expected_purchases", (5, [1], [1.0], [2.0])),
        (BetaGeo(), "expected_purchases_new", (5,)),
        (BetaGeo(), "p_purchases", (1, 5)),
        (ParetoNBD(), "p_alive", ([1], [1.0], [2.0])),
        (ParetoNBD(), "expected_purchases", (5, [1], [1.0], [2.0])),
        (GammaGamma(), "expected_spend", ([1], [10.0])),
        (BetaGeo(), "summary", ()),
    ],
)
def test_methods_before_fit_raise_not_fitted(
    model: Any, method: str, args: tuple[Any, ...]
) -> None:
    with pytest.raises(NotFittedError, match=rf"call fit\(summary\) before {method}\(\)") as info:
        getattr(model, method)(*args)
    assert isinstance(info.value, TierwiseError) and info.value.key == "models.not_fitted"


def test_init_only_stores_hyperparameters() -> None:
    m = BetaGeo(penalizer=0.01, tol=1e-8, max_iter=50)
    assert m.get_params() == {"penalizer": 0.01, "tol": 1e-8, "max_iter": 50}
    assert not hasattr(m, "params_")
    assert repr(m) == "BetaGeo(penalizer=0.01, tol=1e-08, max_iter=50)"


EMPTY = {"frequency": np.array([]), "recency": np.array([]), "T": np.array([]),
         "monetary_value": np.array([])}  # fmt: skip
NO_REPEAT = {"frequency": [0] * 50, "recency": [0.0] * 50, "T": [30.0] * 50,
             "monetary_value": [0.0] * 50}  # fmt: skip


@pytest.mark.parametrize(
    ("model", "data", "reason"),
    [
        (BetaGeo(), EMPTY, "too_few_customers"),
        (ParetoNBD(), EMPTY, "too_few_customers"),
        (GammaGamma(), EMPTY, "no_repeat_buyers"),
        (BetaGeo(), NO_REPEAT, "no_repeat_buyers"),
        (ParetoNBD(), NO_REPEAT, "no_repeat_buyers"),
        (GammaGamma(), NO_REPEAT, "no_repeat_buyers"),
        (GammaGamma(), {"frequency": [2, 0], "monetary_value": [5.0, 0.0]}, "too_few_customers"),
    ],
)
def test_fit_failures_carry_their_reason(model: Any, data: Any, reason: str) -> None:
    with pytest.raises(ModelFitError) as info:
        model.fit(data)
    err = info.value
    assert err.reason == reason and err.key == f"models.fit.{reason}"
    assert isinstance(err, TierwiseError)
    assert FIT_REASONS[reason]["en"] in str(err)
    assert err.text("zh") == FIT_REASONS[reason]["zh"] and err.text("en") != err.text("zh")


def test_non_convergence_is_a_fit_error(cdnow_compressed: pl.DataFrame) -> None:
    with pytest.raises(ModelFitError, match="max_iter=2") as info:
        BetaGeo(max_iter=2).fit(cdnow_compressed)
    assert info.value.reason == "no_convergence"
    assert "不收敛" in info.value.text("zh") or "未收敛" in info.value.text("zh")


def test_non_finite_likelihood_is_a_fit_error() -> None:
    from tierwise.models._base import maximise

    def broken(phi: np.ndarray) -> tuple[float, np.ndarray]:
        return float("nan"), np.zeros_like(phi)

    with pytest.raises(ModelFitError, match="not a finite number") as info:
        maximise(broken, np.zeros(2), 10.0, model="BetaGeo", penalizer=0.0, tol=1e-9, max_iter=10)
    assert info.value.reason == "non_finite_likelihood"


def test_customers_first_seen_on_the_last_day_are_allowed(cdnow_summary: pl.DataFrame) -> None:
    # T = 0: first purchase on observation_end; adds nothing to the likelihood, alive for sure
    base = cdnow_summary.select("frequency", "recency", "T")
    extra = pl.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [0.0, 0.0]})
    with_new = pl.concat([base, extra.cast(base.schema)])
    a, b = BetaGeo().fit(base), BetaGeo().fit(with_new)
    assert b.params_ == pytest.approx(a.params_, rel=1e-6) and b.n_customers_ == 2359
    assert b.p_alive(0, 0.0, 0.0).tolist() == [1.0]
    assert (
        ParetoNBD.from_dict(ParetoNBD().fit(compress(base)).to_dict()).p_alive(0, 0.0, 0.0)[0]
        == 1.0
    )


def test_every_reason_has_zh_and_en() -> None:
    assert set(FIT_REASONS) == {
        "too_few_customers",
        "no_repeat_buyers",
        "no_convergence",
        "non_finite_likelihood",
    }
    assert all(set(words) == {"zh", "en"} and all(words.values()) for words in FIT_REASONS.values())


def test_bad_input_names_the_column_and_value() -> None:
    with pytest.raises(DataError, match=r'"recency" has 1 values that break "0 <= recency <= T"'):
        BetaGeo().fit({"frequency": [1, 2], "recency": [5.0, 1.0], "T": [4.0, 3.0]})
    with pytest.raises(DataError, match=r"missing: T"):
        BetaGeo().fit({"frequency": [1], "recency": [1.0]})
    with pytest.raises(DataError, match=r'"frequency" has 1 missing or non-finite values'):
        BetaGeo().fit({"frequency": [1, None], "recency": [1.0, 1.0], "T": [3.0, 3.0]})
    with pytest.raises(DataError, match=r"Cannot read columns from a list"):
        BetaGeo().fit([1, 2, 3])
    with pytest.raises(DataError, match="repeat buyers with a value <= 0"):
        GammaGamma().fit({"frequency": [1, 2, 3, 1], "monetary_value": [3.0, -1.0, 2.0, 4.0]})


def test_any_dataframe_like_input_gives_the_same_fit(cdnow_compressed: pl.DataFrame) -> None:
    want = BetaGeo().fit(cdnow_compressed).params_
    as_dict = {c: cdnow_compressed.get_column(c).to_numpy() for c in cdnow_compressed.columns}
    for data in (
        cdnow_compressed.lazy(),
        cdnow_compressed.to_arrow(),
        cdnow_compressed.to_pandas(),
        as_dict,
    ):
        got = BetaGeo().fit(data).params_
        assert got == pytest.approx(want, rel=1e-12), type(data)
    assert isinstance(cdnow_compressed.to_arrow(), pa.Table)


@pytest.mark.parametrize("model_cls", [BetaGeo, ParetoNBD, GammaGamma])
def test_to_dict_from_dict_round_trip(model_cls: Any, cdnow_summary: pl.DataFrame) -> None:
    model = model_cls(penalizer=0.0, max_iter=500).fit(cdnow_summary, time_unit="W")
    text = json.dumps(model.to_dict())  # JSON-safe
    again = model_cls.from_dict(json.loads(text))
    assert again.to_dict() == model.to_dict()
    assert again.params_ == model.params_ and again.se_ == model.se_
    assert again.get_params() == model.get_params() and again.time_unit_ == "W"
    assert again.summary() == model.summary()
    x = np.array([0, 1, 5])
    if model_cls is GammaGamma:
        assert (
            again.expected_spend(x, [0, 10, 20]).tolist()
            == model.expected_spend(x, [0, 10, 20]).tolist()
        )
    else:
        args = (x, [0.0, 10.0, 20.0], [30.0, 30.0, 30.0])
        assert again.p_alive(*args).tolist() == model.p_alive(*args).tolist()
    # an unfitted model round-trips too; another model's dict is refused
    assert model_cls.from_dict(model_cls().to_dict()).get_params() == model_cls().get_params()
    other = GammaGamma if model_cls is not GammaGamma else BetaGeo
    with pytest.raises(DataError, match=f"not a {other.__name__}"):
        other.from_dict(model.to_dict())


def test_summary_is_a_small_table(cdnow_compressed: pl.DataFrame) -> None:
    s = BetaGeo().fit(cdnow_compressed).summary()
    assert set(s) == {"model", "params", "se", "loglik", "n_customers", "converged", "time_unit"}
    assert set(s["params"]) == set(s["se"]) == {"r", "alpha", "a", "b"}
    assert s["n_customers"] == 2357 and s["loglik"] < 0


def test_bgnbd_recovers_simulated_parameters() -> None:
    T = np.random.default_rng(11).uniform(20, 60, 40_000)
    data = simulate_bgnbd(40_000, TRUE_BG, T=T, seed=12)
    m = BetaGeo().fit(data)
    for k, v in TRUE_BG.items():
        assert abs(m.params_[k] - v) < 3.5 * m.se_[k], (k, m.params_[k], m.se_[k])
        assert m.se_[k] < 0.25 * v  # the check is not vacuous


def _simulate_pareto(n: int, params: dict[str, float], T: float, seed: int) -> pl.DataFrame:
    """Pareto/NBD customers: λ ~ Gamma(r, α), lifetime ~ Exp(μ), μ ~ Gamma(s, β); purchases
    are Poisson(λ) over the active part of (0, T]; the last one is the maximum of N uniforms."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    mu = rng.gamma(params["s"], 1 / params["beta"], n)
    active = np.minimum(rng.exponential(1 / mu), T)
    x = rng.poisson(lam * active)
    recency = np.where(x > 0, active * rng.beta(np.maximum(x, 1), 1), 0.0)
    return pl.DataFrame({"frequency": x, "recency": recency, "T": np.full(n, T)})


def test_pareto_nbd_recovers_simulated_parameters() -> None:
    truth = {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}
    m = ParetoNBD().fit(_simulate_pareto(8_000, truth, T=52.0, seed=13))
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 3.5 * m.se_[k], (k, m.params_[k], m.se_[k])
    assert m.se_["r"] < 0.25 * truth["r"]


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    freq = simulate_bgnbd(30_000, TRUE_BG, T=60.0, seed=14).get_column("frequency").to_numpy()
    spend = simulate_spend(freq, TRUE_GG, seed=15)
    m = GammaGamma().fit({"frequency": freq, "monetary_value": spend})
    assert m.n_customers_ == int((freq > 0).sum())
    for k, v in TRUE_GG.items():
        assert abs(m.params_[k] - v) < 3.5 * m.se_[k], (k, m.params_[k], m.se_[k])
    # the population mean p·γ/(q−1) is well identified even where p, q, γ are not
    assert m.mean_spend() == pytest.approx(6.0 * 15.0 / 3.0, rel=0.03)


def test_penalizer_shrinks_towards_one(cdnow_compressed: pl.DataFrame) -> None:
    free = BetaGeo().fit(cdnow_compressed).params_
    shrunk = BetaGeo(penalizer=0.1).fit(cdnow_compressed).params_
    assert abs(np.log(shrunk["alpha"])) < abs(np.log(free["alpha"]))


def test_clv_sums_discounted_steps(cdnow_summary: pl.DataFrame) -> None:
    bg = BetaGeo().fit(compress(cdnow_summary))
    gg = GammaGamma().fit(cdnow_summary)
    x, tx, T, m = (
        cdnow_summary.get_column(c).to_numpy()
        for c in ("frequency", "recency", "T", "monetary_value")
    )
    # no discount, one step: expected purchases × expected spend
    flat = clv(bg, gg, x, tx, T, m, horizon=52, discount_rate=0.0, step=52)
    want = bg.expected_purchases(52, x, tx, T) * gg.expected_spend(x, m)
    assert flat == pytest.approx(want, rel=1e-12)
    # steps without discount add up to the same
    assert clv(bg, gg, x, tx, T, m, horizon=52, discount_rate=0.0, step=4) == pytest.approx(want)
    # by hand for one customer: two steps of 26 weeks at 10 % per step
    e26 = bg.expected_purchases(26, x[:1], tx[:1], T[:1])[0]
    e52 = bg.expected_purchases(52, x[:1], tx[:1], T[:1])[0]
    spend = gg.expected_spend(x[:1], m[:1])[0]
    by_hand = (e26 / 1.1 + (e52 - e26) / 1.1**2) * spend
    got = clv(bg, gg, x[:1], tx[:1], T[:1], m[:1], horizon=52, discount_rate=0.1, step=26)
    assert got[0] == pytest.approx(by_hand, rel=1e-12)
    # a shorter last step: horizon 30, step 26 → steps end at 26 and 30
    e30 = bg.expected_purchases(30, x[:1], tx[:1], T[:1])[0]
    got = clv(bg, gg, x[:1], tx[:1], T[:1], m[:1], horizon=30, discount_rate=0.1, step=26)
    assert got[0] == pytest.approx((e26 / 1.1 + (e30 - e26) / 1.1**2) * spend, rel=1e-12)
    with pytest.raises(DataError, match="discount_rate must be > -1"):
        clv(bg, gg, x, tx, T, m, horizon=52, discount_rate=-2.0)
    # Pareto/NBD works as the transaction model too
    pn = ParetoNBD().fit(compress(cdnow_summary))
    assert np.all(clv(pn, gg, x, tx, T, m, horizon=52, discount_rate=0.01) > 0)


positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)


@given(r=positive, alpha=positive, a=positive, b=positive, penalizer=st.floats(0, 10))
def test_to_dict_round_trip_is_lossless(
    r: float, alpha: float, a: float, b: float, penalizer: float
) -> None:
    state = {
        "model": "BetaGeo",
        "version": 1,
        "hyperparameters": {"penalizer": penalizer, "tol": 1e-12, "max_iter": 1000},
        "params": {"r": r, "alpha": alpha, "a": a, "b": b},
        "se": {"r": None, "alpha": 0.1, "a": None, "b": 1.0},
        "loglik": -1.5,
        "n_customers": 10,
        "converged": True,
        "time_unit": "D",
    }
    model = BetaGeo.from_dict(json.loads(json.dumps(state)))
    assert model.to_dict() == state
    assert BetaGeo.from_dict(model.to_dict()).to_dict() == state
