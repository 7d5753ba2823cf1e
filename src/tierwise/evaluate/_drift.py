"""Drift between two snapshots: tier sizes, input features' distributions (population
stability index) and the models' calibration, each against a configurable threshold.

PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over bins cut at the older snapshot's quantiles (Siddiqi 2006,
"Credit Risk Scorecards", ch. 8: < 0.1 stable, 0.1–0.25 some shift, > 0.25 a large shift);
missing values form a bin of their own, empty bins count as 0.0001 so the log stays finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import polars as pl

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
) -> dict[str, Any]:
    """Everything that moved beyond its threshold between two snapshots, with the measures.

    ``old_tiers``/``new_tiers``: customers per tier of one dimension.
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
    return {"tier_sizes": sizes, "psi": psis, "calibration": calibration, "warnings": warnings,
            "thresholds": th.__dict__}  # fmt: skip


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


__all__ = ["FEATURES", "Thresholds", "drift", "psi"]
