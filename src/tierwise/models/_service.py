"""The models for people: fit and show them, recommend products.

Each function here is what one CLI command (and API route) calls: `tierwise models fit|show`,
`tierwise recommend` (`tierwise forecast`: ``_forecast``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

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


def fit_orders(orders: Path | Any, *, as_of: date, time_unit: TimeUnit = "D") -> dict[str, Any]:
    """BG/NBD, Pareto/NBD and Gamma-Gamma on an orders file or DataFrame (pandas, Polars,
    Arrow), read and cleaned as by `tierwise import`, summarised as of ``as_of`` (which ends
    the calibration period): what `tierwise models fit --orders FILE --as-of DATE` prints.

    >>> fit_orders("cdnow.csv", as_of=date(1997, 9, 30), time_unit="W")  # doctest: +SKIP
    {'as_of': '1997-09-30', ..., 'bgnbd': {'fitted': True, 'params': {'r': 0.2426, ...}}}
    """
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
            path=str(path),
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

    from tierwise.store.labelset import labels_at
    from tierwise.store.tables import labels

    with store.connect() as conn:
        rows = conn.execute(
            sa.select(labels.c.customer_pk, labels.c.label).where(
                labels_at(conn, snapshot_id), labels.c.dimension == dimension
            )
        ).all()
    return pl.DataFrame(
        {"customer_pk": [r[0] for r in rows], "tier": [r[1] for r in rows]},
        schema={"customer_pk": pl.Int64, "tier": pl.String},
    )


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
#: item, category, price of every product (for the playbooks' recommendation policies)
CATALOGUE_FILE = "catalogue.parquet"


def _mined(settings: Any, store: Any, snap: Any, folder: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The snapshot's co-purchase rules and item catalogue: mined on the engine (as of the
    snapshot's date) the first time they are asked for, then read from beside the snapshot."""
    from tierwise.engine import connect
    from tierwise.models._rules import association_rules, item_catalogue

    paths = folder / RULES_FILE, folder / CATALOGUE_FILE
    if all(p.exists() for p in paths):
        return pl.read_parquet(paths[0]), pl.read_parquet(paths[1])
    with connect(settings, store) as analytics:
        orders = analytics.tables["orders"]
        rules = association_rules(orders, as_of=snap.as_of)
        catalogue = item_catalogue(orders, products=analytics.tables.get("products")).to_polars()
    for frame, path in ((rules, paths[0]), (catalogue, paths[1])):
        part = path.with_suffix(".part")
        frame.write_parquet(part)
        part.replace(path)  # a reader never sees half a file
    return rules, catalogue


def _orders_of(store: Any, pk: int, as_of: date) -> pl.DataFrame:
    """The columns `recommend` reads, of one customer's order lines up to ``as_of``."""
    import sqlalchemy as sa

    from tierwise.store.tables import orders

    cols = ("customer_pk", "ordered_at", "status", "amount", "quantity", "product_id", "category")
    end = datetime.combine(as_of + timedelta(days=1), time())
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(*(orders.c[c] for c in cols)).where(
                orders.c.customer_pk == pk, orders.c.ordered_at < end
            )
        ).all()
    schema: dict[str, pl.DataType] = {
        "customer_pk": pl.Int64(), "ordered_at": pl.Datetime("us"), "status": pl.String(),
        "amount": pl.Float64(), "quantity": pl.Float64(), "product_id": pl.String(),
        "category": pl.String(),
    }  # fmt: skip
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


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
    from tierwise.errors import DataError
    from tierwise.models._rules import reason, recommend_one

    if not 1 <= top <= 50:
        raise DataError(
            f"--top must be between 1 and 50 (got {top}).", key="models.bad_top", value=top
        )
    snap, folder = _latest(settings, store)
    with store.connect() as conn:
        pk = _store.customer_pk(conn, customer_id=customer_id)
        scheme = _store.scheme_for_snapshot(conn, snapshot=snap)
    dimension, policy = tier_policy(scheme)
    tier = None
    if dimension is not None:
        tiers = _tiers(store, snap.id, dimension).filter(pl.col("customer_pk") == pk)
        tier = tiers.get_column("tier")[0] if tiers.height else None
    rules, catalogue = _mined(settings, store, snap, folder)
    extra: dict[str, Any] = {}
    if dimension is not None:
        labels = ibis.memtable(
            pl.DataFrame({"customer_pk": [pk], "tier": [tier or "insufficient"]}).to_arrow()
        )
        extra = {"policy": policy, "labels": labels, "catalogue": ibis.memtable(catalogue)}
    # one customer's orders, read from the store and scored in process: no engine round trip
    mine = _orders_of(store, pk, snap.as_of)
    found = recommend_one(ibis.memtable(mine), rules, pk, as_of=snap.as_of, top_n=top, **extra)
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


__all__ = [
    "fit_features",
    "fit_orders",
    "fit_store",
    "fit_summary",
    "recommend_store",
    "show_models",
    "tier_policy",
]
