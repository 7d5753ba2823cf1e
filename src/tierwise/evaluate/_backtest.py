"""Backtest: classify as of a past date, then compare with what customers really did.

Classification uses only events before the end of ``as_of`` (``classify.run`` computes every
feature as of that day); outcomes use only purchase days in ``(as_of, as_of + horizon]``,
counted on the engine (one GROUP BY over the per-day roll-up of the order lines) and fetched
as one row per customer. Calibration predictions come from the models the run fitted: the
BG/NBD state of its report, evaluated over the backtest horizon on the unique
(frequency, recency, T) rows, never customer by customer.

CLV calibration: ``clv`` is the discounted value over ``scheme.models.clv_horizon_days``; it is
compared with the actual spend in the horizon after scaling by ``horizon / clv_horizon`` (exact
when the two horizons are equal, up to the discounting; a linear approximation otherwise). The
undiscounted ``expected_spend × E[purchases over the horizon]`` is reported beside it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

import ibis
import polars as pl

from tierwise.classify._run import RunResult, run
from tierwise.engine import Analytics
from tierwise.errors import DataError
from tierwise.features._orders import order_days
from tierwise.models import BetaGeo
from tierwise.scheme._model import Scheme

DECILES: Final = 10
CHURN: Final = "churn_risk"


@dataclass
class Backtest:
    as_of: date
    horizon_days: int
    dimension: str
    scheme_name: str
    #: per tier (best first): customers, revenue, orders, purchase days, active share, lift
    tiers: list[dict[str, Any]]
    top_tier: str | None
    top_lift: float | None
    #: True when revenue per customer falls tier by tier (A > B > C …)
    ordered: bool
    churn: list[dict[str, Any]]
    purchases: list[dict[str, Any]]
    clv: list[dict[str, Any]]
    notes: dict[str, str] = field(default_factory=dict)
    #: one row per customer: the tier, model outputs and the outcomes in the horizon
    frame: pl.DataFrame | None = field(default=None, repr=False)
    result: RunResult | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "horizon_days": self.horizon_days,
            "outcome_period": [
                (self.as_of + timedelta(days=1)).isoformat(),
                (self.as_of + timedelta(days=self.horizon_days)).isoformat(),
            ],
            "dimension": self.dimension,
            "scheme": self.scheme_name,
            "tiers": self.tiers,
            "top_tier": self.top_tier,
            "top_lift": self.top_lift,
            "ordered": self.ordered,
            "churn_calibration": self.churn,
            "purchase_calibration": self.purchases,
            "clv_calibration": self.clv,
            "notes": self.notes,
        }


def outcomes(analytics: Analytics, *, as_of: date, horizon_days: int) -> pl.DataFrame:
    """Per customer with a purchase in ``(as_of, as_of + horizon]``: revenue, orders, purchase
    days and gross profit (computed on the engine)."""
    if horizon_days < 1:
        raise DataError(f"--horizon {horizon_days}: use a number of days of at least 1, e.g. 180.")
    days = analytics.tables.get("order_days")
    d = order_days(analytics.tables["orders"]) if days is None else days
    _within_data(analytics, d, as_of=as_of, horizon_days=horizon_days)
    start, end = ibis.date(as_of), ibis.date(as_of + timedelta(days=horizon_days))
    d = d.filter(d.occasion, d.day > start, d.day <= end)
    agg = d.group_by("customer_pk").aggregate(
        revenue_after=d.day_amount.sum().cast("float64"),
        orders_after=d.day_orders.sum().cast("int64"),
        purchase_days_after=d.count().cast("int64"),
        gross_profit_after=d.day_profit.sum().cast("float64"),
    )
    frame = pl.from_arrow(analytics.backend.to_pyarrow(agg))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.col("customer_pk").cast(pl.Int64))


def _within_data(analytics: Analytics, d: Any, *, as_of: date, horizon_days: int) -> None:
    """Refuse a horizon that ends after the data's last order day: purchases not yet seen
    would count as none, and every tier would look like it churned."""
    found = analytics.backend.to_pyarrow(d.day.max().name("last").as_table())[0][0].as_py()
    if found is None:
        return  # no orders at all: every outcome is truly zero
    last = found.date() if hasattr(found, "date") else found
    end = as_of + timedelta(days=horizon_days)
    if end > last:
        latest = last - timedelta(days=horizon_days)
        raise DataError(
            f"A backtest from --as-of {as_of} over --horizon {horizon_days} days ends {end}, "
            f"after the last order in the data ({last}): outcomes not yet seen would count as "
            f"zero. Use --as-of {latest} or earlier, or a shorter --horizon.",
            key="eval.horizon_past_data", as_of=str(as_of), horizon=horizon_days,
            end=str(end), last=str(last), latest=str(latest),
        )  # fmt: skip


def _bgnbd(models: dict[str, Any]) -> BetaGeo | None:
    entry = (models.get("models") or {}).get("bgnbd") or {}
    if not entry.get("fitted"):
        return None
    return BetaGeo.from_dict(entry["state"])


def _predicted(frame: pl.DataFrame, model: BetaGeo | None, horizon: int) -> pl.DataFrame:
    """``pred_purchases`` and ``pred_inactive`` over the horizon, on unique (x, t_x, T) rows."""
    if model is None or not {"frequency", "recency", "T"} <= set(frame.columns):
        return frame.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("pred_purchases"),
            pl.lit(None, dtype=pl.Float64).alias("pred_inactive"),
        )
    keys = ["frequency", "recency", "T"]
    unique = frame.select(pl.col(keys).cast(pl.Float64)).drop_nulls().unique()
    x, tx, big_t = (unique.get_column(c).to_numpy() for c in keys)
    expected = model.expected_purchases(horizon, x, tx, big_t)
    alive = model.p_alive(x, tx, big_t)
    r, alpha = float(model.params_["r"]), float(model.params_["alpha"])
    # alive at T and no purchase in (T, T+h]: the posterior Gamma(r+x, α+T) rate gives
    # E[exp(-λh)] = ((α+T)/(α+T+h))^(r+x); a dead customer buys nothing (FHL 2005, §2)
    silent = ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x)
    inactive = 1.0 - alive + alive * silent
    unique = unique.with_columns(
        pl.Series("pred_purchases", expected), pl.Series("pred_inactive", inactive)
    )
    return frame.with_columns(pl.col(keys).cast(pl.Float64)).join(unique, on=keys, how="left")


def _deciles(frame: pl.DataFrame, by: str, predicted: str, actual: str) -> list[dict[str, Any]]:
    f = frame.filter(pl.col(by).is_not_null() & pl.col(predicted).is_not_null())
    if f.height == 0:
        return []
    # deciles by rank (ties broken by customer_pk: stable on every run)
    f = f.sort(by, "customer_pk").with_columns(
        (pl.int_range(pl.len()) * DECILES // pl.len() + 1).alias("decile")
    )
    agg = (
        f.group_by("decile")
        .agg(
            pl.len().alias("customers"),
            pl.col(predicted).mean().alias("predicted"),
            pl.col(actual).mean().alias("actual"),
        )
        .sort("decile")
    )
    return [
        {k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}
        for r in agg.to_dicts()
    ]


def _order(scheme: Scheme, dimension: str) -> list[str]:
    dim = scheme.dimensions.get(dimension)
    return [] if dim is None else list(reversed(dim.keys()))


def backtest(
    analytics: Analytics,
    scheme: Scheme,
    *,
    as_of: date,
    horizon_days: int,
    dimension: str = "value_tier",
) -> Backtest:
    """Classify as of ``as_of`` with ``scheme`` and compare with the next ``horizon_days``.

    >>> bt = backtest(analytics, default_scheme(), as_of=date(2024, 6, 30), horizon_days=180)  # doctest: +SKIP
    >>> bt.top_lift  # doctest: +SKIP
    2.7
    """
    if dimension not in scheme.dimensions:
        raise DataError(
            f"Dimension {dimension!r} is not in scheme {scheme.name!r}; use one of "
            f"{', '.join(scheme.dimensions)}."
        )
    out = outcomes(analytics, as_of=as_of, horizon_days=horizon_days)
    result = run(analytics, scheme, as_of=as_of)
    wide = result.labels.filter(pl.col("dimension").is_in([dimension, CHURN])).pivot(
        on="dimension", index="customer_pk", values="label"
    )
    if CHURN not in wide.columns:
        wide = wide.with_columns(pl.lit(None, dtype=pl.String).alias(CHURN))
    cols = [c for c in ("frequency", "recency", "T", "clv", "expected_spend", "churn_score",
                        "purchase_days") if c in result.features.columns]  # fmt: skip
    frame = (
        result.features.select("customer_pk", *cols)
        .join(wide.rename({dimension: "tier", CHURN: "risk"}), on="customer_pk", how="left")
        .join(out, on="customer_pk", how="left")
        .with_columns(
            pl.col("revenue_after", "gross_profit_after").fill_null(0.0),
            pl.col("orders_after", "purchase_days_after").fill_null(0),
        )
    )
    used = result.scheme or scheme
    model = _bgnbd(result.models)
    frame = _predicted(frame, model, horizon_days)
    mean_rev = float(frame.get_column("revenue_after").sum()) / max(frame.height, 1)
    per = frame.group_by("tier").agg(
        pl.len().alias("customers"),
        pl.col("revenue_after").sum().alias("revenue"),
        pl.col("revenue_after").mean().alias("revenue_per_customer"),
        pl.col("orders_after").mean().alias("orders_per_customer"),
        pl.col("gross_profit_after").sum().alias("gross_profit"),
        (pl.col("purchase_days_after") > 0).mean().alias("active_share"),
    )
    rows = {r["tier"]: r for r in per.to_dicts()}
    order = [k for k in _order(used, dimension) if k in rows]
    order += sorted((k for k in rows if k not in order), key=str)
    tiers = [
        rows[k] | {"lift": None if mean_rev == 0 else rows[k]["revenue_per_customer"] / mean_rev}
        for k in order
    ]
    ranked = set(_order(used, dimension))  # the scheme's tiers, not `insufficient`
    rpc = [t["revenue_per_customer"] for t in tiers if t["tier"] in ranked]
    history = (
        frame.filter(pl.col("purchase_days").fill_null(0) > 0)
        if "purchase_days" in frame.columns
        else frame
    )
    churn_rows = (
        history.filter(pl.col("risk").is_not_null())
        .group_by("risk")
        .agg(
            pl.len().alias("customers"),
            pl.col("churn_score").mean().alias("churn_score")
            if "churn_score" in history.columns
            else pl.lit(None, dtype=pl.Float64).alias("churn_score"),
            pl.col("pred_inactive").mean().alias("predicted_inactive"),
            (pl.col("purchase_days_after") == 0).mean().alias("observed_inactive"),
        )
        .to_dicts()
    )
    churn_order = _order(used, CHURN)
    churn_rows.sort(key=lambda r: churn_order.index(r["risk"]) if r["risk"] in churn_order else 99)
    clv_h = int(used.models.clv_horizon_days)
    frame = frame.with_columns(
        (pl.col("clv") * horizon_days / clv_h).alias("pred_clv_scaled")
        if "clv" in frame.columns
        else pl.lit(None, dtype=pl.Float64).alias("pred_clv_scaled"),
        (pl.col("expected_spend") * pl.col("pred_purchases")).alias("pred_spend")
        if "expected_spend" in frame.columns
        else pl.lit(None, dtype=pl.Float64).alias("pred_spend"),
    )
    clv = _deciles(frame, "pred_clv_scaled", "pred_clv_scaled", "revenue_after")
    spend = {
        r["decile"]: r["predicted"]
        for r in _deciles(frame, "pred_clv_scaled", "pred_spend", "revenue_after")
    }
    clv = [r | {"predicted_spend": spend.get(r["decile"])} for r in clv]
    top = tiers[0] if tiers else None
    return Backtest(
        as_of=as_of,
        horizon_days=horizon_days,
        dimension=dimension,
        scheme_name=used.name,
        tiers=tiers,
        top_tier=None if top is None else top["tier"],
        top_lift=None if top is None else top["lift"],
        ordered=all(a >= b for a, b in itertools.pairwise(rpc)),
        churn=churn_rows,
        purchases=_deciles(history, "pred_purchases", "pred_purchases", "purchase_days_after"),
        clv=clv,
        notes={
            "clv": f"clv × {horizon_days}/{clv_h} (linear scaling of the {clv_h}-day CLV)",
            "bgnbd": "fitted" if model is not None else "not fitted: no purchase calibration",
        },
        frame=frame,
        result=result,
    )


def calibration_error(
    rows: list[dict[str, Any]], predicted: str = "predicted", actual: str = "actual"
) -> float | None:
    """Customer-weighted mean absolute gap between predicted and actual (lower is better)."""
    pairs = [
        (r["customers"], r[predicted], r[actual]) for r in rows if r.get(predicted) is not None
    ]
    n = sum(p[0] for p in pairs)
    if n == 0:
        return None
    return float(sum(w * abs(p - a) for w, p, a in pairs) / n)


def compare(
    analytics: Analytics,
    scheme_a: Scheme,
    scheme_b: Scheme,
    *,
    as_of: date,
    horizon_days: int,
    dimension: str = "value_tier",
) -> dict[str, Any]:
    """Two schemes backtested on the same data and period, side by side, with a verdict."""
    results = {
        key: backtest(analytics, s, as_of=as_of, horizon_days=horizon_days, dimension=dimension)
        for key, s in (("a", scheme_a), ("b", scheme_b))
    }
    summary: dict[str, Any] = {}
    for key, bt in results.items():
        summary[key] = {
            "scheme": bt.scheme_name,
            "top_tier": bt.top_tier,
            "top_lift": bt.top_lift,
            "ordered": bt.ordered,
            "purchase_error": calibration_error(bt.purchases),
            "churn_error": calibration_error(bt.churn, "predicted_inactive", "observed_inactive"),
        }
    la, lb = (summary[k]["top_lift"] or 0.0 for k in ("a", "b"))
    better = "a" if (summary["a"]["ordered"], la) >= (summary["b"]["ordered"], lb) else "b"
    name = summary[better]["scheme"]
    verdict = {
        "better": better,
        "zh": f"方案「{name}」的顶层提升更高（{max(la, lb):.2f} 对 {min(la, lb):.2f}）"
        + (
            "，且各层收入依次递减。" if summary[better]["ordered"] else "，但各层收入并未依次递减。"
        ),
        "en": f"Scheme “{name}” has the higher top-tier lift ({max(la, lb):.2f} vs {min(la, lb):.2f})"
        + (
            " and revenue falls tier by tier."
            if summary[better]["ordered"]
            else ", though revenue does not fall tier by tier."
        ),
    }
    return {
        "as_of": as_of.isoformat(),
        "horizon_days": horizon_days,
        "a": results["a"].to_dict(),
        "b": results["b"].to_dict(),
        "summary": summary,
        "verdict": verdict,
    }


__all__ = ["Backtest", "backtest", "calibration_error", "compare", "outcomes"]
