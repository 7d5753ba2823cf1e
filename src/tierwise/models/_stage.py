"""The model stage of a classification: fit on compressed statistics, score where the data is.

Between the features and the scheme's labels, the models a scheme reads are fitted and their
outputs become features (``p_alive``, ``expected_purchases``, ``expected_spend``, ``clv``,
``churn_score``, ``behaviour_cluster``), so rules, scores and bands use them like any other.

- Fitting pulls only small statistics from the engine: unique (frequency, recency, T) rows with
  their counts for BG/NBD, unique (frequency, monetary_value) rows for Gamma-Gamma, a fixed-size
  deterministic sample for the clusters.
- Scoring runs on the engine. P(alive) and the expected spend are closed forms, written as
  expressions. The expected purchases and the CLV need the Gaussian hypergeometric function,
  which no engine has; but given P(alive) they depend on (frequency, T) only (eq. 10 of Fader,
  Hardie & Lee 2005 is ``P(alive) × K(x, T, t)``), so a table of the unique (frequency, T)
  pairs is scored once in numpy and joined back.
- A model that cannot be fitted (too few customers, no repeat buyers, no convergence) leaves its
  outputs unavailable: every dimension that reads one uses its ``fallback``, and the report
  says why in words.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import polars as pl

from tierwise.features._catalog import MODEL_FEATURES
from tierwise.models._base import ModelFitError
from tierwise.models._bgnbd import BetaGeo
from tierwise.models._gamma import GammaGamma
from tierwise.scheme._model import Scheme, _Dimension
from tierwise.scheme._validate import referenced_features

Executor = Callable[[ir.Table], pl.DataFrame]

#: model output → the model that makes it (a failed model makes all its outputs unavailable)
PRODUCERS: dict[str, tuple[str, ...]] = {
    "p_alive": ("bgnbd",),
    "expected_purchases": ("bgnbd",),
    "expected_spend": ("gamma_gamma",),
    "clv": ("bgnbd", "gamma_gamma"),
    "churn_score": ("bgnbd",),
    "behaviour_cluster": ("clusters",),
}

#: churn score weights (0-100 in all): not alive, overdue against the own rhythm, open
#: complaints, negative feedback, falling spend
CHURN_WEIGHTS: dict[str, float] = {
    "not_alive": 45.0,
    "overdue": 25.0,
    "complaints": 15.0,
    "negative": 5.0,
    "falling_spend": 10.0,
}

_WORDS = {
    "skipped_small": (
        "有购买记录的客户只有 {n} 位（少于 {min} 位），未拟合模型",
        "only {n} customers have purchases (fewer than {min}), so the model was not fitted",
    ),
    "skipped_repeat": (
        "复购客户只有 {n} 位（少于 {min} 位），未拟合消费金额模型",
        "only {n} customers bought again (fewer than {min}), so the spend model was not fitted",
    ),
    "degenerate_spend": (
        "消费金额模型参数 p={p}、q={q}（p+q≤1）意味着客单价没有有限的期望值，未使用",
        "the spend model's p={p}, q={q} (p+q <= 1) give spend per order no finite expected "
        "value, so it is not used",
    ),
    "fallback": (
        "{dim} 需要的模型输出 {features} 不可用，改用后备规则：{why}",
        "{dim} needs {features}, which is unavailable, so it uses its fallback rules: {why}",
    ),
    "no_fallback": (
        "{dim} 需要的模型输出 {features} 不可用，且未定义后备规则，客户归为数据不足：{why}",
        "{dim} needs {features}, which is unavailable, and has no fallback: customers get "
        "insufficient data: {why}",
    ),
}


def words(key: str, **params: Any) -> dict[str, str]:
    zh, en = _WORDS[key]
    return {"zh": zh.format(**params), "en": en.format(**params)}


@dataclass
class ModelStatus:
    """What happened to one model in this run."""

    name: str
    fitted: bool
    #: zh/en words for why it was not fitted (None when fitted)
    reason: dict[str, str] | None = None
    state: dict[str, Any] | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "fitted": self.fitted,
            "reason": self.reason,
            "state": self.state,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class Enriched:
    """The features with the model outputs, the scheme as it will run, and the report."""

    table: ir.Table
    scheme: Scheme
    models: dict[str, ModelStatus] = field(default_factory=dict)
    #: dimension → zh/en words on why it used its fallback (or insufficient data)
    fallbacks: dict[str, dict[str, str]] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        settings = self.scheme.models
        return {
            "models": {name: status.as_dict() for name, status in self.models.items()},
            "fallbacks": self.fallbacks,
            "horizon_days": settings.horizon_days,
            "clv_horizon_days": settings.clv_horizon_days,
            "discount_rate": settings.discount_rate,
        }


def needed_outputs(scheme: Scheme) -> set[str]:
    """The model outputs a scheme's dimensions read (fallbacks excluded: they are the plan B)."""
    wanted: set[str] = set()
    for dim in scheme.dimensions.values():
        wanted |= referenced_features(dim) & set(MODEL_FEATURES)
    return wanted


def _failed(name: str, error: ModelFitError) -> ModelStatus:
    return ModelStatus(
        name,
        False,
        {
            "zh": error.text("zh"),
            "en": error.text("en") + f" ({error.detail})" if error.detail else error.text("en"),
        },
    )


# -- BG/NBD and Gamma-Gamma --------------------------------------------------------------------


def _fit_bgnbd(
    t: ir.Table, execute: Executor, scheme: Scheme
) -> tuple[ModelStatus, BetaGeo | None]:
    buyers = t.filter(t.purchase_days > 0)
    stats = execute(
        buyers.group_by(["frequency", "recency", "T"]).aggregate(n_customers=buyers.count())
    )
    n = int(stats.get_column("n_customers").sum()) if stats.height else 0
    minimum = scheme.models.min_customers
    if n < minimum:
        return ModelStatus("bgnbd", False, words("skipped_small", n=n, min=minimum)), None
    # T = 0 (first purchase on the as-of day) carries no information about the rates; sorted,
    # because engines return groups in any order and the fit sums in row order
    stats = stats.filter(pl.col("T") > 0).sort("frequency", "recency", "T")
    try:
        model = BetaGeo().fit(stats)
    except ModelFitError as error:
        return _failed("bgnbd", error), None
    return ModelStatus("bgnbd", True, state=model.to_dict()), model


def _fit_gamma(
    t: ir.Table, execute: Executor, scheme: Scheme
) -> tuple[ModelStatus, GammaGamma | None]:
    repeat = t.filter((t.frequency > 0) & (t.monetary_value > 0))
    stats = execute(
        repeat.group_by(["frequency", "monetary_value"]).aggregate(n_customers=repeat.count())
    )
    # engines sum a customer's orders in different orders: the mean differs in its last bits,
    # which would make the groups (and the fit) differ; one millionth of a unit does not matter
    stats = (
        stats.with_columns(pl.col("monetary_value").cast(pl.Float64).round(6))
        .group_by("frequency", "monetary_value")
        .agg(pl.col("n_customers").sum())
        .sort("frequency", "monetary_value")
    )
    n = int(stats.get_column("n_customers").sum()) if stats.height else 0
    minimum = scheme.models.min_repeat_buyers
    if n < minimum:
        return ModelStatus("gamma_gamma", False, words("skipped_repeat", n=n, min=minimum)), None
    try:
        model = GammaGamma().fit(stats)
    except ModelFitError as error:
        return _failed("gamma_gamma", error), None
    p, q = model.params_["p"], model.params_["q"]
    if p + q <= 1.0:
        reason = words("degenerate_spend", p=f"{p:.3g}", q=f"{q:.3g}")
        return ModelStatus("gamma_gamma", False, reason, state=model.to_dict()), None
    return ModelStatus("gamma_gamma", True, state=model.to_dict()), model


def p_alive_expr(t: ir.Table, params: dict[str, float]) -> ir.FloatingValue:
    """BG/NBD P(alive | x, t_x, T) (Fader, Hardie & Lee 2005, eq. 11) as an engine expression.

    ``1 / (1 + [x > 0] · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))``, in logs and clipped so that no
    engine overflows ``exp``.
    """
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x = t.frequency.cast("float64")
    log_odds = (
        ibis.literal(math.log(a))
        - (x + (b - 1.0)).ln()
        + (x + r) * ((t["T"].cast("float64") + alpha) / (t.recency.cast("float64") + alpha)).ln()
    )
    odds = ibis.least(log_odds, 700.0).exp()
    return ibis.ifelse(x > 0, 1.0 / (1.0 + odds), 1.0)


#: the CLV sums expected purchases month by month (30-day steps)
CLV_STEP_DAYS = 30


def _discount_steps(scheme: Scheme) -> list[tuple[float, float]]:
    """(end of step k in days, discount factor of step k) for the CLV sum.

    As ``tierwise.models.clv`` with ``step=30`` and the monthly rate of the yearly
    ``discount_rate``: purchases of step k are discounted by ``(1 + yearly)^(-30k/365)`` (the
    last step may be shorter than 30 days; it is discounted as a whole step).
    """
    horizon = scheme.models.clv_horizon_days
    yearly = scheme.models.discount_rate
    steps = math.ceil(horizon / CLV_STEP_DAYS)
    return [
        (float(min(k * CLV_STEP_DAYS, horizon)), (1.0 + yearly) ** (-k * CLV_STEP_DAYS / 365.0))
        for k in range(1, steps + 1)
    ]


def _purchase_factors(
    t: ir.Table, execute: Executor, model: BetaGeo, scheme: Scheme
) -> pl.DataFrame:
    """Per unique (frequency, T): K at the horizon and the discounted CLV sum of K.

    K(x, T, t) = E[purchases in (T, T+t] | x, t_x, T] / P(alive | x, t_x, T), which does not
    depend on t_x: so the model's own conditional expectation, evaluated at any t_x (here T)
    and divided by P(alive) there, gives it.
    """
    pairs = execute(t.filter(t.purchase_days > 0).select("frequency", "T").distinct())
    x = pairs.get_column("frequency").cast(pl.Float64).to_numpy()
    big_t = np.maximum(pairs.get_column("T").cast(pl.Float64).to_numpy(), 1e-9)
    alive = model.p_alive(x, big_t, big_t)

    def k(days: float) -> Any:
        return np.asarray(model.expected_purchases(days, x, big_t, big_t)) / alive

    k_h = k(float(scheme.models.horizon_days))
    clv_sum = np.zeros_like(x)
    previous = np.zeros_like(x)
    for end, factor in _discount_steps(scheme):
        current = k(end)
        clv_sum += factor * (current - previous)
        previous = current
    return pairs.with_columns(
        pl.Series("_k_horizon", k_h, dtype=pl.Float64),
        pl.Series("_k_clv", clv_sum, dtype=pl.Float64),
    )


def _expected_spend_expr(t: ir.Table, params: dict[str, float]) -> ir.FloatingValue:
    """Gamma-Gamma E[M | x, m̄] = (γ + x·m̄)·p / (p·x + q − 1) (Fader, Hardie & Lee 2005b, eq. 5).

    A customer with no repeat purchase would get the population mean γp/(q−1), which ignores
    the one order we saw and does not exist when q ≤ 1 (a heavy tail, common in B2B/B2C mixes):
    their first order counts as the one observation instead (x = 1, m̄ = its value).
    """
    p, q, gamma = (params[k] for k in ("p", "q", "gamma"))
    repeat = t.frequency > 0
    x = ibis.ifelse(repeat, t.frequency.cast("float64"), 1.0)
    m = ibis.ifelse(repeat, t.monetary_value.cast("float64"), t.monetary_mean.cast("float64"))
    return (gamma + x * m.fill_null(0.0)) * p / (x * p + (q - 1.0))


def churn_score_expr(t: ir.Table) -> ir.FloatingValue:
    """0-100: weighted evidence of churn (see ``CHURN_WEIGHTS``; each part lies in [0, 1]).

    BG/NBD says a customer with no repeat purchase is alive for sure (death can only follow a
    purchase), which is no evidence at all: for them "not alive" is the share of a year since
    the one purchase.
    """
    w = CHURN_WEIGHTS
    one_timer = ibis.least(t.recency_days.cast("float64") / 365.0, 1.0)
    not_alive = ibis.ifelse(t.frequency > 0, 1.0 - t.p_alive, one_timer)
    overdue = ibis.ifelse(
        t.frequency >= 2,
        ibis.greatest(ibis.least((t.rhythm_ratio.fill_null(0.0) - 1.0) / 3.0, 1.0), 0.0),
        0.0,
    )
    complaints = ibis.least(t.complaints_open.cast("float64"), 2.0) / 2.0
    negative = t.negative_share.cast("float64").fill_null(0.0)
    falling = ibis.greatest(ibis.least(-t.spend_trend.fill_null(0.0), 1.0), 0.0)
    score = (
        w["not_alive"] * not_alive
        + w["overdue"] * overdue
        + w["complaints"] * complaints
        + w["negative"] * negative
        + w["falling_spend"] * falling
    )
    # not rounded: engines round halves differently, and the same inputs must give the same
    # value (and label) on every engine
    return ibis.ifelse(t.purchase_days > 0, score, ibis.null("float64"))


# -- the stage -----------------------------------------------------------------------------------


def _unavailable_reason(outputs: set[str], models: dict[str, ModelStatus]) -> dict[str, str]:
    failed = [
        models[m]
        for o in sorted(outputs)
        for m in PRODUCERS[o]
        if m in models and not models[m].fitted
    ]
    seen: list[ModelStatus] = []
    for status in failed:
        if status not in seen:
            seen.append(status)
    reasons = [s.reason or {"zh": "", "en": ""} for s in seen]
    return {
        "zh": "；".join(r["zh"] for r in reasons),
        "en": "; ".join(r["en"] for r in reasons),
    }


def _with_fallbacks(
    scheme: Scheme, unavailable: set[str], models: dict[str, ModelStatus]
) -> tuple[Scheme, dict[str, dict[str, str]]]:
    dims: dict[str, Any] = {}
    notes: dict[str, dict[str, str]] = {}
    for name, dim in scheme.dimensions.items():
        missing = referenced_features(dim) & unavailable
        if not missing:
            dims[name] = dim
            continue
        why = _unavailable_reason(missing, models)
        fallback = dim.fallback_dimension()
        features = ", ".join(sorted(missing))
        if fallback is not None:
            dims[name] = fallback
            w = words("fallback", dim=name, features=features, why="")
        else:
            dims[name] = _insufficient_for_all(dim)
            w = words("no_fallback", dim=name, features=features, why="")
        notes[name] = {lang: w[lang] + why[lang] for lang in ("zh", "en")}
    return scheme.model_copy(update={"dimensions": dims}), notes


def _insufficient_for_all(dim: _Dimension) -> _Dimension:
    return dim.model_copy(update={"insufficient": "true"})


def apply_fallbacks(scheme: Scheme, fallbacks: dict[str, Any]) -> Scheme:
    """``scheme`` as a run that used these fallbacks ran it (explanations of its snapshot)."""
    if not fallbacks:
        return scheme
    dims: dict[str, Any] = {}
    for name, dim in scheme.dimensions.items():
        if name in fallbacks:
            dims[name] = dim.fallback_dimension() or _insufficient_for_all(dim)
        else:
            dims[name] = dim
    return scheme.model_copy(update={"dimensions": dims})


def enrich(
    features: ir.Table,
    execute: Executor,
    scheme: Scheme,
    *,
    as_of: date,
    previous: dict[str, Any] | None = None,
) -> Enriched:
    """The features with every model output ``scheme`` reads, and the scheme as it will run.

    ``features`` should be materialised (``.cache()``): each fit reads it once.
    """
    import time

    wanted = needed_outputs(scheme)
    if not wanted:
        return Enriched(features, scheme)
    # a scheme that reads one model output gets them all: explanations and the forecast show
    # P(alive), expected purchases, spend and CLV whichever of them the labels use
    wanted |= {"p_alive", "expected_purchases", "expected_spend", "clv", "churn_score"}
    models: dict[str, ModelStatus] = {}
    t = features
    columns: dict[str, ir.Value]
    bg: BetaGeo | None = None
    gg: GammaGamma | None = None
    if wanted & {"p_alive", "expected_purchases", "clv", "churn_score"}:
        started = time.monotonic()
        models["bgnbd"], bg = _fit_bgnbd(t, execute, scheme)
        models["bgnbd"].seconds = time.monotonic() - started
    if wanted & {"expected_spend", "clv"}:
        started = time.monotonic()
        models["gamma_gamma"], gg = _fit_gamma(t, execute, scheme)
        models["gamma_gamma"].seconds = time.monotonic() - started
    if "behaviour_cluster" in wanted:
        from tierwise.models._clusters_stage import fit_clusters

        started = time.monotonic()
        models["clusters"], assign = fit_clusters(t, execute, scheme, previous=previous)
        models["clusters"].seconds = time.monotonic() - started
        if assign is not None:
            assigned = assign(t)
            t = t.left_join(assigned, "customer_pk").select(t, behaviour_cluster=assigned.cluster)

    buyer = t.purchase_days > 0
    columns = {}
    if bg is not None:
        alive = p_alive_expr(t, bg.params_)
        columns["p_alive"] = ibis.ifelse(buyer, alive, ibis.null("float64"))
    if gg is not None:
        columns["expected_spend"] = ibis.ifelse(
            buyer, _expected_spend_expr(t, gg.params_), ibis.null("float64")
        )
    if columns:
        t = t.mutate(**columns)
    if bg is not None and wanted & {"expected_purchases", "clv"}:
        factors = _purchase_factors(features, execute, bg, scheme)
        table = ibis.memtable(factors.to_arrow())
        # engines register an in-memory table when a query that reads it executes; a cached
        # (materialised) table that reads it is not such a query on PySpark: register it now
        execute(table.limit(1))
        joined = t.left_join(table, [t.frequency == table.frequency, t["T"] == table["T"]]).select(
            t, table._k_horizon, table._k_clv
        )
        t = joined.mutate(expected_purchases=joined.p_alive * joined._k_horizon)
        if gg is not None:
            t = t.mutate(clv=t.p_alive * t._k_clv * t.expected_spend)
        t = t.drop("_k_horizon", "_k_clv")
    if bg is not None and "churn_score" in wanted:
        t = t.mutate(churn_score=churn_score_expr(t))
    unavailable = {
        o for o in MODEL_FEATURES if any(m in models and not models[m].fitted for m in PRODUCERS[o])
    }
    missing = {o: ibis.null(_dtype(o)) for o in MODEL_FEATURES if o not in t.columns}
    if missing:
        t = t.mutate(**missing)
    effective, notes = _with_fallbacks(scheme, unavailable & wanted, models)
    return Enriched(t, effective, models, notes)


def _dtype(feature: str) -> str:
    return "string" if MODEL_FEATURES[feature][2] == "text" else "float64"


__all__ = [
    "CHURN_WEIGHTS",
    "Enriched",
    "ModelStatus",
    "apply_fallbacks",
    "churn_score_expr",
    "enrich",
    "needed_outputs",
    "p_alive_expr",
]
