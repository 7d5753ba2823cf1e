"""Drift between two snapshots: tier sizes, input features' distributions (population
stability index) and the models' calibration, each against a configurable threshold.

Calibration is judged twice on what customers did between the snapshots: the older snapshot's
expected purchases against the purchase days added since, and its P(alive)-based churn risk —
the predicted share of customers without a purchase in the gap, per churn-risk band (or P(alive)
band), against the share observed — with the BG/NBD state the older snapshot fitted.

PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over bins cut at the older snapshot's quantiles (Siddiqi 2006,
"Credit Risk Scorecards", ch. 8: < 0.1 stable, 0.1–0.25 some shift, > 0.25 a large shift);
missing values form a bin of their own, empty bins count as 0.0001 so the log stays finite.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import polars as pl

from tierwise.evaluate._backtest import _bgnbd, _predicted, calibration_error

EPS: Final = 1e-4
FEATURES: Final = (
    "recency_days", "frequency", "monetary_mean", "revenue_365d", "interactions_90d",
    "tenure_days", "p_alive", "clv",
)  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    #: relative change of a tier's customer count (0.2: ±20 %)
    tier_size: float = 0.2
    #: population stability index of a feature
    psi: float = 0.25
    #: |actual / predicted − 1| of the older snapshot's expected purchases
    calibration: float = 0.2
    #: customer-weighted mean |predicted − observed| share of inactive customers per band
    churn: float = 0.1
    #: tiers smaller than this are not judged on their size
    min_customers: int = 30


def psi(expected: pl.Series, actual: pl.Series, *, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (older) values.

    >>> s = pl.Series([float(i) for i in range(100)])
    >>> psi(s, s)
    0.0
    """
    e = expected.cast(pl.Float64)
    a = actual.cast(pl.Float64)
    finite = e.drop_nulls().drop_nans()
    if finite.len() == 0:
        return 0.0
    qs = np.unique(np.quantile(finite.to_numpy(), np.linspace(0, 1, bins + 1)[1:-1]))
    edges = qs.tolist()

    def shares(s: pl.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
        values = s.drop_nulls().drop_nans().to_numpy()
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        missing = s.len() - len(values)
        full = np.append(counts, missing).astype(np.float64)
        return np.asarray(np.maximum(full / max(s.len(), 1), EPS), dtype=np.float64)

    pe, pa = shares(e), shares(a)
    return round(float(np.sum((pa - pe) * np.log(pa / pe))), 6)


def _warning(
    kind: str, subject: str, value: float, limit: float, zh: str, en: str
) -> dict[str, Any]:
    return {"kind": kind, "subject": subject, "value": round(value, 6), "threshold": limit,
            "zh": zh, "en": en}  # fmt: skip


def drift(
    old_features: pl.DataFrame,
    new_features: pl.DataFrame,
    *,
    old_tiers: dict[str, int],
    new_tiers: dict[str, int],
    old_as_of: date | None = None,
    new_as_of: date | None = None,
    horizon_days: int = 90,
    features: tuple[str, ...] = FEATURES,
    thresholds: Thresholds | None = None,
    models: Mapping[str, Any] | None = None,
    old_risk: pl.DataFrame | None = None,
    risk_order: list[str] | None = None,
) -> dict[str, Any]:
    """Everything that moved beyond its threshold between two snapshots, with the measures.

    ``old_tiers``/``new_tiers``: customers per tier of one dimension; ``models``: the older
    snapshot's model report (``models.json``), whose BG/NBD state predicts inactivity;
    ``old_risk``: its churn-risk labels (``customer_pk``, ``label``) in ``risk_order``.
    """
    th = thresholds or Thresholds()
    warnings: list[dict[str, Any]] = []
    sizes = []
    for tier in sorted({*old_tiers, *new_tiers}):  # one per tier (a handful)
        before, after = old_tiers.get(tier, 0), new_tiers.get(tier, 0)
        change = (after - before) / before if before else math.inf if after else 0.0
        sizes.append({"tier": tier, "before": before, "after": after, "change": change})
        if max(before, after) >= th.min_customers and abs(change) > th.tier_size:
            pct = "∞" if math.isinf(change) else f"{change:+.0%}"
            warnings.append(_warning(
                "tier_size", tier, change if math.isfinite(change) else 1e9, th.tier_size,
                f"层级 {tier} 的客户数变化 {pct}（{before} → {after}），超过阈值 ±{th.tier_size:.0%}。",
                f"Tier {tier} changed size by {pct} ({before} → {after}), beyond ±{th.tier_size:.0%}.",
            ))  # fmt: skip
    psis = {}
    for name in features:  # one per feature (a handful)
        if name in old_features.columns and name in new_features.columns:
            value = psi(old_features.get_column(name), new_features.get_column(name))
            psis[name] = value
            if value > th.psi:
                warnings.append(_warning(
                    "psi", name, value, th.psi,
                    f"特征 {name} 的分布偏移（PSI = {value:.3f}，阈值 {th.psi}）。",
                    f"Feature {name} shifted (PSI = {value:.3f}, threshold {th.psi}).",
                ))  # fmt: skip
    calibration = _calibration(old_features, new_features, old_as_of, new_as_of, horizon_days)
    if calibration is not None and calibration["ratio"] is not None:
        gap = abs(calibration["ratio"] - 1.0)
        if gap > th.calibration:
            r = calibration["ratio"]
            warnings.append(_warning(
                "calibration", "expected_purchases", gap, th.calibration,
                f"上期模型的预期购买与实际相差 {r - 1:+.0%}（实际/预测 = {r:.2f}），超过阈值 ±{th.calibration:.0%}：请检查模型。",
                f"Last snapshot's expected purchases were off by {r - 1:+.0%} (actual/predicted = {r:.2f}), beyond ±{th.calibration:.0%}: check the models.",
            ))  # fmt: skip
    churn = None
    if old_as_of is not None and new_as_of is not None and models is not None:
        churn = churn_calibration(
            old_features, new_features, gap_days=(new_as_of - old_as_of).days, models=models,
            risk=old_risk, order=risk_order,
        )  # fmt: skip
    if churn is not None and churn["error"] is not None and churn["error"] > th.churn:
        e, p, o = churn["error"], churn["predicted_inactive"], churn["observed_inactive"]
        warnings.append(_warning(
            "churn_calibration", "p_alive", e, th.churn,
            f"上期模型预测 {p:.0%} 的客户在两次快照之间不会购买，实际为 {o:.0%}；各风险段平均相差 {e:.0%}，超过阈值 {th.churn:.0%}：请检查流失风险模型。",
            f"Last snapshot's model predicted {p:.0%} of customers would not buy between the snapshots; {o:.0%} did not. The risk bands are off by {e:.0%} on average, beyond {th.churn:.0%}: check the churn-risk model.",
        ))  # fmt: skip
    return {"tier_sizes": sizes, "psi": psis, "calibration": calibration,
            "churn_calibration": churn, "warnings": warnings, "thresholds": th.__dict__}  # fmt: skip


#: P(alive) bands when there are no churn-risk labels to group by
ALIVE_BANDS: Final = (0.2, 0.4, 0.6, 0.8)


def churn_calibration(
    old: pl.DataFrame,
    new: pl.DataFrame,
    *,
    gap_days: int,
    models: Mapping[str, Any],
    risk: pl.DataFrame | None = None,
    order: list[str] | None = None,
) -> dict[str, Any] | None:
    """The older snapshot's predicted inactivity over the gap against what customers did.

    Predicted: P(no purchase in the next ``gap_days`` | x, t_x, T) under the older snapshot's
    BG/NBD fit (dead, or alive and silent: the same formula as the backtest's churn
    calibration); observed: no purchase day added by the newer snapshot. Customers with a
    purchase in the older snapshot and present in both, grouped by their churn-risk label
    (``risk``) or else by P(alive) band; None without a fitted BG/NBD or the columns it needs.

    >>> churn_calibration(pl.DataFrame(), pl.DataFrame(), gap_days=90, models={}) is None
    True
    """
    model = _bgnbd(dict(models))
    need = {"customer_pk", "frequency", "recency", "T", "purchase_days"}
    if model is None or gap_days <= 0 or not need <= set(old.columns):
        return None
    if not {"customer_pk", "purchase_days"} <= set(new.columns):
        return None
    cols = ["customer_pk", "frequency", "recency", "T", "purchase_days"]
    cols += ["p_alive"] if "p_alive" in old.columns else []
    frame = (
        old.select(cols)
        .filter(pl.col("purchase_days").fill_null(0) > 0)
        .join(
            new.select("customer_pk", pl.col("purchase_days").alias("after")),
            on="customer_pk",
        )
    )
    if frame.height == 0:
        return None
    frame = _predicted(frame, model, gap_days).with_columns(
        (pl.col("after").fill_null(0) <= pl.col("purchase_days")).alias("inactive")
    )
    if risk is not None:
        frame = frame.join(
            risk.select(pl.col("customer_pk").cast(pl.Int64), pl.col("label").alias("band")),
            on="customer_pk",
            how="inner",
        )
        by = "churn_risk"
    else:
        alive = pl.col("p_alive") if "p_alive" in frame.columns else 1.0 - pl.col("pred_inactive")
        edges = [0.0, *ALIVE_BANDS, 1.0]
        names = [f"{lo:.1f}–{hi:.1f}" for lo, hi in itertools.pairwise(edges)]
        index = pl.sum_horizontal([(alive >= edge).cast(pl.Int8) for edge in ALIVE_BANDS])
        band = index.replace_strict(list(range(len(names))), names, return_dtype=pl.String)
        frame = frame.with_columns(
            pl.when(alive.is_null())
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(band)
            .alias("band")
        )
        by = "p_alive"
    frame = frame.filter(pl.col("band").is_not_null() & pl.col("pred_inactive").is_not_null())
    if frame.height == 0:
        return None
    agg = frame.group_by("band").agg(
        pl.len().alias("customers"),
        pl.col("pred_inactive").mean().alias("predicted_inactive"),
        pl.col("inactive").mean().alias("observed_inactive"),
    )
    ranks = {k: i for i, k in enumerate(order or [])}
    rows = sorted(agg.to_dicts(), key=lambda r: (ranks.get(r["band"], len(ranks)), r["band"]))
    rows = [
        r | {k: round(float(r[k]), 6) for k in ("predicted_inactive", "observed_inactive")}
        for r in rows
    ]
    error = calibration_error(rows, "predicted_inactive", "observed_inactive")
    return {
        "by": by,
        "days": gap_days,
        "customers": frame.height,
        "predicted_inactive": round(float(frame.select(pl.col("pred_inactive").mean()).item()), 6),
        "observed_inactive": round(float(frame.select(pl.col("inactive").mean()).item()), 6),
        "error": None if error is None else round(error, 6),
        "bands": rows,
    }


def _calibration(
    old: pl.DataFrame,
    new: pl.DataFrame,
    old_as_of: date | None,
    new_as_of: date | None,
    horizon: int,
) -> dict[str, Any] | None:
    """The older snapshot's expected purchases (scaled to the gap between the snapshots) against
    the purchase days customers added by the newer one."""
    need = {"customer_pk", "expected_purchases", "purchase_days"}
    if (
        old_as_of is None
        or new_as_of is None
        or not need <= set(old.columns)
        or "purchase_days" not in new.columns
    ):
        return None
    gap = (new_as_of - old_as_of).days
    if gap <= 0:
        return None
    joined = (
        old.select("customer_pk", "expected_purchases", pl.col("purchase_days").alias("before"))
        .join(new.select("customer_pk", pl.col("purchase_days").alias("after")), on="customer_pk")
        .filter(pl.col("expected_purchases").is_not_null())
    )
    if joined.height == 0:
        return None
    predicted = float(joined.get_column("expected_purchases").sum()) * gap / horizon
    actual = float(
        (joined.get_column("after").fill_null(0) - joined.get_column("before").fill_null(0)).sum()
    )
    return {"customers": joined.height, "days": gap, "predicted": round(predicted, 4),
            "actual": actual, "ratio": None if predicted == 0 else round(actual / predicted, 6)}  # fmt: skip


__all__ = ["ALIVE_BANDS", "FEATURES", "Thresholds", "churn_calibration", "drift", "psi"]
