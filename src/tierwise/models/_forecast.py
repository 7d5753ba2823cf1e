"""Revenue of the next N days per tier: the customers' models plus open leads, with an interval.

What `tierwise forecast` calls (``forecast_store``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from tierwise.models._bgnbd import BetaGeo
from tierwise.models._gamma import GammaGamma
from tierwise.models._service import _features, _latest, _tiers


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def forecast_frame(
    features: pl.DataFrame,
    tiers: pl.DataFrame,
    report: dict[str, Any],
    *,
    days: int,
    leads: pl.DataFrame | None = None,
    level: float = 0.9,
) -> list[dict[str, Any]]:
    """Expected revenue of the next ``days`` per tier, with a ``level`` interval.

    Existing customers: expected purchases (BG/NBD, conditional on each one's history) ×
    expected spend (Gamma-Gamma). Open leads: expected value × win probability (the share of
    decided leads that were won). The interval treats customers as independent compound
    Poisson sums — Var ≈ E[purchases] · spend² · (1 + 1/p), p the Gamma-Gamma shape of single
    orders — and leads as Bernoulli; it leaves out the uncertainty of the parameters
    themselves, so read it as a lower bound on the spread.
    """
    models = report.get("models", {})
    bg_state = (models.get("bgnbd") or {}).get("state")
    gg_state = (models.get("gamma_gamma") or {}).get("state")
    if not (models.get("bgnbd", {}).get("fitted") and models.get("gamma_gamma", {}).get("fitted")):
        from tierwise.errors import DataError

        why = "; ".join(
            (s.get("reason") or {}).get("en", "")
            for n, s in models.items()
            if n in ("bgnbd", "gamma_gamma") and not s.get("fitted")
        )
        raise DataError(
            "The latest classification has no fitted BG/NBD and Gamma-Gamma models, so there is "
            f"nothing to forecast from ({why or 'the scheme reads no model output'}). "
            "Classify with a scheme that uses them (the default does) and enough customers.",
            key="models.forecast.no_models",
            why=why or "-",
        )
    bg = BetaGeo.from_dict(bg_state or {})
    gg = GammaGamma.from_dict(gg_state or {})
    f = (
        features.filter(pl.col("purchase_days") > 0)
        .join(tiers, on="customer_pk", how="left")
        .with_columns(pl.col("tier").fill_null("insufficient"))
    )
    pairs = f.select("frequency", "T").unique()
    x = pairs.get_column("frequency").cast(pl.Float64).to_numpy()
    big_t = np.maximum(pairs.get_column("T").cast(pl.Float64).to_numpy(), 1e-9)
    k = bg.expected_purchases(float(days), x, big_t, big_t) / bg.p_alive(x, big_t, big_t)
    pairs = pairs.with_columns(pl.Series("_k", k))
    f = f.join(pairs, on=["frequency", "T"], how="left")
    shape = 1.0 + 1.0 / gg.params_["p"]
    f = f.with_columns((pl.col("p_alive") * pl.col("_k")).alias("_n"))
    f = f.with_columns(
        (pl.col("_n") * pl.col("expected_spend")).alias("_rev"),
        (pl.col("_n") * pl.col("expected_spend") ** 2 * shape).alias("_var"),
    )
    per = f.group_by("tier").agg(
        customers=pl.len(),
        expected_purchases=pl.col("_n").sum(),
        revenue=pl.col("_rev").sum(),
        variance=pl.col("_var").sum(),
    )
    rows = {r["tier"]: r for r in per.to_dicts()}
    lead_rows: dict[str, dict[str, float]] = {}
    if leads is not None and leads.height:
        lead_rows = {r["tier"]: r for r in leads.to_dicts()}
    z = _z(level)
    out = []
    for tier in sorted(set(rows) | set(lead_rows), key=lambda t: (t == "insufficient", t)):
        r = rows.get(tier, {})
        lr = lead_rows.get(tier, {})
        revenue = float(r.get("revenue") or 0.0)
        lead_value = float(lr.get("expected") or 0.0)
        variance = float(r.get("variance") or 0.0) + float(lr.get("variance") or 0.0)
        total = revenue + lead_value
        spread = z * math.sqrt(variance)
        out.append(
            {
                "tier": tier,
                "customers": int(r.get("customers") or 0),
                "expected_purchases": round(float(r.get("expected_purchases") or 0.0), 2),
                "revenue_customers": round(revenue, 2),
                "open_leads": int(lr.get("leads") or 0),
                "revenue_leads": round(lead_value, 2),
                "revenue": round(total, 2),
                "low": round(max(total - spread, 0.0), 2),
                "high": round(total + spread, 2),
                "variance": variance,
            }
        )
    return out


def lead_expectations(leads: pl.DataFrame, tiers: pl.DataFrame) -> pl.DataFrame:
    """Per tier: open leads, Σ p·value and Σ p(1−p)·value², with p the won share of decided
    leads (all leads' history; 0.2 when nothing was decided yet)."""
    decided = leads.filter(pl.col("outcome").is_in(["won", "lost"]))
    won = decided.filter(pl.col("outcome") == "won").height
    p = won / decided.height if decided.height else 0.2
    open_ = (
        leads.filter(pl.col("outcome").fill_null("open") == "open")
        .join(tiers, on="customer_pk", how="left")
        .with_columns(pl.col("tier").fill_null("insufficient"))
    )
    value = pl.col("expected_value").fill_null(0.0)
    return open_.group_by("tier").agg(
        leads=pl.len(),
        expected=(value * p).sum(),
        variance=(value**2 * p * (1 - p)).sum(),
    )


def _open_leads(store: Any) -> pl.DataFrame:
    import sqlalchemy as sa

    from tierwise.store.tables import leads

    with store.connect() as conn:
        rows = conn.execute(
            sa.select(leads.c.customer_pk, leads.c.outcome, leads.c.expected_value)
        ).all()
    return pl.DataFrame(
        {
            "customer_pk": [r[0] for r in rows],
            "outcome": [r[1] for r in rows],
            "expected_value": [None if r[2] is None else float(r[2]) for r in rows],
        },
        schema={"customer_pk": pl.Int64, "outcome": pl.String, "expected_value": pl.Float64},
    )


def forecast_store(
    settings: Any, store: Any, *, days: int = 90, by: str = "value_tier", level: float = 0.9
) -> dict[str, Any]:
    """`tierwise forecast --days 90`: expected revenue per tier of the latest classification."""
    from tierwise.classify import _store
    from tierwise.errors import DataError

    if not 1 <= days <= 3650:
        raise DataError(
            f"--days must be between 1 and 3650 (got {days}).", key="err.forecast_days", value=days
        )
    if not 0 < level < 1:
        raise DataError(
            f"--level must lie between 0 and 1 (got {level}).", key="models.bad_level", value=level
        )
    snap, folder = _latest(settings, store)
    report = _store.read_models(folder)
    features = _features(
        folder,
        ["customer_pk", "purchase_days", "frequency", "recency", "T", "p_alive", "expected_spend"]
        if report
        else None,
    )
    tiers = _tiers(store, snap.id, by)
    if tiers.height == 0:
        raise DataError(
            f"The latest classification has no dimension {by!r}; choose one it has "
            "(e.g. value_tier).",
            key="models.forecast.no_dimension",
            value=by,
        )
    rows = forecast_frame(
        features,
        tiers,
        report,
        days=days,
        leads=lead_expectations(_open_leads(store), tiers),
        level=level,
    )
    total = {
        "revenue": round(sum(r["revenue"] for r in rows), 2),
        "revenue_customers": round(sum(r["revenue_customers"] for r in rows), 2),
        "revenue_leads": round(sum(r["revenue_leads"] for r in rows), 2),
    }
    # independent tiers: variances add
    spread = math.sqrt(sum(r["variance"] for r in rows))
    z = _z(level)
    total |= {
        "low": round(max(total["revenue"] - z * spread, 0.0), 2),
        "high": round(total["revenue"] + z * spread, 2),
    }
    return {
        "snapshot_id": snap.id,
        "as_of": snap.as_of.isoformat(),
        "days": days,
        "by": by,
        "level": level,
        "tiers": rows,
        "total": total,
    }


__all__ = ["forecast_frame", "forecast_store", "lead_expectations"]
