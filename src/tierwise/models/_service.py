"""The models for people: fit and show them, forecast revenue per tier, recommend products.

Each function here is what one CLI command (and API route) calls: `tierwise models fit|show`,
`tierwise forecast`, `tierwise recommend`.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from tierwise.models._base import Model, ModelFitError
from tierwise.models._bgnbd import BetaGeo
from tierwise.models._gamma import GammaGamma
from tierwise.models._pareto import ParetoNBD
from tierwise.models._summary import DAYS_PER_UNIT, compress, rfm_summary

TimeUnit = str


def _fit_one(model: Model, data: pl.DataFrame) -> dict[str, Any]:
    try:
        fitted = model.fit(data)  # type: ignore[attr-defined]
    except ModelFitError as error:
        return {
            "model": type(model).__name__,
            "fitted": False,
            "reason": {"zh": error.text("zh"), "en": str(error)},
        }
    return {"fitted": True, **fitted.summary()}


def fit_summary(summary: pl.DataFrame, *, time_unit: TimeUnit) -> dict[str, Any]:
    """BG/NBD, Pareto/NBD and Gamma-Gamma fitted on one ``rfm_summary`` (any time unit).

    Returns each model's parameters, standard errors and log-likelihood, or why it was not
    fitted; plus the data's size.
    """
    rfm = compress(summary.filter(pl.col("T") > 0))
    repeat = summary.filter(pl.col("frequency") > 0)
    spend = (
        compress(repeat.filter(pl.col("monetary_value") > 0), ("frequency", "monetary_value"))
        if "monetary_value" in summary.columns
        else None
    )
    out: dict[str, Any] = {
        "time_unit": time_unit,
        "customers": summary.height,
        "repeat_buyers": repeat.height,
        "bgnbd": _fit_one(BetaGeo(), rfm),
        "pareto_nbd": _fit_one(ParetoNBD(), rfm),
    }
    if spend is not None:
        out["gamma_gamma"] = _fit_one(GammaGamma(), spend)
    return out


def fit_file(orders: Path | Any, *, as_of: date, time_unit: TimeUnit = "D") -> dict[str, Any]:
    """`tierwise models fit --orders FILE --as-of DATE`: the orders file (read and cleaned as by
    `tierwise import`) summarised as of ``as_of`` (which ends the calibration period)."""
    from tierwise.classify._files import load

    frame = load({"orders": orders}).frames["orders"]
    paid = frame.filter(
        ~pl.col("status").fill_null("paid").is_in(["refunded", "cancelled", "returned"])
        & (pl.col("amount").fill_null(0.0) >= 0)
    ).select("customer_id", "ordered_at", "amount")
    summary = rfm_summary(
        paid,
        customer_id="customer_id",
        datetime="ordered_at",
        monetary_value="amount",
        observation_end=as_of,
        time_unit=time_unit,  # type: ignore[arg-type]
    )
    return {"as_of": as_of.isoformat(), "source": str(orders)} | fit_summary(
        summary, time_unit=time_unit
    )


def fit_features(features: pl.DataFrame, *, time_unit: TimeUnit = "D") -> dict[str, Any]:
    """The same fit on a snapshot's features (``frequency``, ``recency``, ``T`` in days)."""
    scale = DAYS_PER_UNIT[time_unit]
    buyers = features.filter(pl.col("purchase_days") > 0).select(
        pl.col("frequency"),
        (pl.col("recency").cast(pl.Float64) / scale).alias("recency"),
        (pl.col("T").cast(pl.Float64) / scale).alias("T"),
        pl.col("monetary_value").cast(pl.Float64),
    )
    return fit_summary(buyers, time_unit=time_unit)


# -- forecast ------------------------------------------------------------------------------------


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


__all__ = [
    "fit_features",
    "fit_file",
    "fit_summary",
    "forecast_frame",
    "lead_expectations",
]


# -- against the store ---------------------------------------------------------------------------


def _latest(settings: Any, store: Any) -> tuple[Any, Path]:
    from tierwise.classify import _store
    from tierwise.errors import NotFoundError

    with store.connect() as conn:
        snap = _store.latest_snapshot(conn)
    if snap is None:
        raise NotFoundError(
            "Nothing is classified yet: run `tierwise classify` first.",
            key="models.no_snapshot",
        )
    return snap, _store.snapshot_dir(settings.data_dir, snap.id)


def _features(folder: Path, columns: list[str] | None = None) -> pl.DataFrame:
    from tierwise.errors import NotFoundError

    path = folder / "features.parquet"
    if not path.exists():
        raise NotFoundError(
            f"The features of this snapshot are missing ({path}); run `tierwise classify`.",
            key="models.no_features",
        )
    return pl.read_parquet(path, columns=columns)


def show_models(settings: Any, store: Any) -> dict[str, Any]:
    """The models of the latest classification: parameters, errors, fallbacks."""
    from tierwise.classify import _store

    snap, folder = _latest(settings, store)
    report = _store.read_models(folder)
    return {"snapshot_id": snap.id, "as_of": snap.as_of.isoformat(), **report}


def fit_store(settings: Any, store: Any, *, time_unit: TimeUnit = "D") -> dict[str, Any]:
    """`tierwise models fit`: BG/NBD, Pareto/NBD and Gamma-Gamma on the latest snapshot's
    customers (as of its date), with standard errors and log-likelihoods."""
    snap, folder = _latest(settings, store)
    features = _features(folder, ["purchase_days", "frequency", "recency", "T", "monetary_value"])
    return {"snapshot_id": snap.id, "as_of": snap.as_of.isoformat()} | fit_features(
        features, time_unit=time_unit
    )


def _tiers(store: Any, snapshot_id: int, dimension: str) -> pl.DataFrame:
    import sqlalchemy as sa

    from tierwise.store.tables import labels

    with store.connect() as conn:
        rows = conn.execute(
            sa.select(labels.c.customer_pk, labels.c.label).where(
                labels.c.snapshot_id == snapshot_id, labels.c.dimension == dimension
            )
        ).all()
    return pl.DataFrame(
        {"customer_pk": [r[0] for r in rows], "tier": [r[1] for r in rows]},
        schema={"customer_pk": pl.Int64, "tier": pl.String},
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
        raise DataError(f"--days must be between 1 and 3650 (got {days}).", key="models.bad_days")
    if not 0 < level < 1:
        raise DataError(f"--level must lie between 0 and 1 (got {level}).", key="models.bad_level")
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


def tier_policy(scheme: Any) -> tuple[str | None, dict[str, Any]]:
    """(dimension, policy) from the scheme's playbooks: per tier the categories a rep may
    recommend (``["*"]`` any, ``[]`` none); tiers without a playbook may get anything."""
    playbooks = getattr(scheme, "playbooks", None)
    if playbooks is None:
        return None, {}
    policy: dict[str, Any] = {}
    for tier, book in playbooks.tiers.items():
        cats = list(book.recommendations)
        policy[tier] = "all" if "*" in cats else ({"categories": cats} if cats else "none")
    policy.setdefault("*", "all")
    return str(playbooks.dimension), policy


RULES_FILE = "rules.parquet"


def recommend_store(
    settings: Any, store: Any, *, customer_id: str, top: int = 3, lang: str = "en"
) -> dict[str, Any]:
    """`tierwise recommend CUSTOMER_ID`: products the customer has not bought, by co-purchase
    lift, allowed by their tier's playbook, each with its reason in words.

    The co-purchase rules are mined on the engine once per snapshot (as of its date) and kept
    beside it.
    """
    import ibis

    from tierwise.classify import _store
    from tierwise.engine import connect
    from tierwise.errors import DataError
    from tierwise.models._rules import association_rules, reason, recommend_one

    if not 1 <= top <= 50:
        raise DataError(f"--top must be between 1 and 50 (got {top}).", key="models.bad_top")
    snap, folder = _latest(settings, store)
    with store.connect() as conn:
        pk = _store.customer_pk(conn, customer_id=customer_id)
        scheme = _store.scheme_for_snapshot(conn, snapshot=snap)
    dimension, policy = tier_policy(scheme)
    tier = None
    if dimension is not None:
        tiers = _tiers(store, snap.id, dimension).filter(pl.col("customer_pk") == pk)
        tier = tiers.get_column("tier")[0] if tiers.height else None
    with connect(settings, store) as analytics:
        orders = analytics.tables["orders"]
        path = folder / RULES_FILE
        if path.exists():
            rules = pl.read_parquet(path)
        else:
            rules = association_rules(orders, as_of=snap.as_of)
            rules.write_parquet(path)
        extra: dict[str, Any] = {}
        if dimension is not None:
            labels = ibis.memtable(
                pl.DataFrame({"customer_pk": [pk], "tier": [tier or "insufficient"]}).to_arrow()
            )
            extra = {"policy": policy, "labels": labels}
        products = analytics.tables.get("products")
        if products is not None:
            extra["products"] = products
        found = recommend_one(orders, rules, pk, as_of=snap.as_of, top_n=top, **extra)
        names = _product_names(
            store,
            found.get_column("item").to_list() + found.get_column("antecedent").to_list()
            if found.height
            else [],
        )
    items = [
        {
            "rank": int(r["rank"]),
            "product": r["item"],
            "name": names.get(str(r["item"])),
            "because_of": r["antecedent"],
            "confidence": round(float(r["confidence"]), 4),
            "lift": round(float(r["lift"]), 3),
            "reason": reason(r, lang, names),
        }
        for r in found.to_dicts()
    ]
    blocked = dimension is not None and policy.get(tier or "", policy.get("*")) == "none"
    return {
        "customer_id": customer_id,
        "snapshot_id": snap.id,
        "as_of": snap.as_of.isoformat(),
        "tier": tier,
        "policy": policy.get(tier or "", policy.get("*")) if dimension else "all",
        "rules": rules.height,
        "recommendations": items,
        "note": _recommend_note(items, blocked, rules.height, lang),
    }


def _product_names(store: Any, ids: list[Any]) -> dict[str, str]:
    """Names from the store's products, else the names its orders carry."""
    import sqlalchemy as sa

    from tierwise.store.tables import orders, products

    wanted = sorted({str(i) for i in ids})
    if not wanted:
        return {}
    with store.connect() as conn:
        names = dict(
            conn.execute(
                sa.select(products.c.product_id, products.c.name).where(
                    products.c.product_id.in_(wanted), products.c.name.is_not(None)
                )
            ).all()
        )
        rest = [i for i in wanted if i not in names]
        if rest:
            names |= dict(
                conn.execute(
                    sa.select(orders.c.product_id, sa.func.max(orders.c.product_name))
                    .where(orders.c.product_id.in_(rest), orders.c.product_name.is_not(None))
                    .group_by(orders.c.product_id)
                ).all()
            )
    return {str(k): str(v) for k, v in names.items()}


def _recommend_note(items: list[Any], blocked: bool, rules: int, lang: str) -> str | None:
    zh = lang == "zh"
    if items:
        return None
    if blocked:
        return (
            "该客户所在等级的服务方案不主动推荐产品"
            if zh
            else "this customer's tier playbook allows no recommendations"
        )
    if rules == 0:
        return (
            "共同购买的客户太少，尚无可用的关联规则"
            if zh
            else "too few customers bought together to find co-purchase rules yet"
        )
    return (
        "该客户买过的产品没有足够强的关联产品"
        if zh
        else "nothing the customer bought has a strong enough co-purchase partner"
    )


__all__ += ["fit_store", "forecast_store", "recommend_store", "show_models", "tier_policy"]
