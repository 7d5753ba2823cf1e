"""The stateful steps after the engine: hysteresis, approvals, overrides, grids, change events.

They work on per-customer results (one row per customer and dimension), never on transactions,
so they run in Polars whatever the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from tierwise.classify._compile import OVERLAP, OVERLAP_MODEL, down_col, label_col, score_col
from tierwise.errors import SchemeError
from tierwise.scheme._model import (
    INSUFFICIENT,
    GridDimension,
    ModelDimension,
    RulesDimension,
    Scheme,
    _Ordered,
)

LONG_SCHEMA = {
    "customer_pk": pl.Int64,
    "dimension": pl.String,
    "label": pl.String,
    "score": pl.Float64,
    "source": pl.String,
    "since": pl.Date,
}


@dataclass
class Prior:
    """What the store knows before this run: the published labels and the managers' decisions."""

    labels: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={
                "customer_pk": pl.Int64,
                "dimension": pl.String,
                "label": pl.String,
                "since": pl.Date,
            }
        )
    )
    overrides: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"customer_pk": pl.Int64, "dimension": pl.String, "label": pl.String}
        )
    )
    #: the latest published snapshot in publication order (None: none yet) and, when read for
    #: publishing, its stored rows (``store.labelset.STORED``), which the new snapshot's are
    #: written against
    head: int | None = None
    stored: pl.DataFrame | None = None
    #: open or decided downgrade requests: id, customer_pk, dimension, from_label, to_label, state
    pending: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={
                "id": pl.Int64,
                "customer_pk": pl.Int64,
                "dimension": pl.String,
                "from_label": pl.String,
                "to_label": pl.String,
                "state": pl.String,
            }
        )
    )


@dataclass
class Outcome:
    labels: pl.DataFrame  # LONG_SCHEMA
    changes: pl.DataFrame
    #: downgrades of protected labels waiting for approval (customer_pk, dimension, from, to)
    new_pending: pl.DataFrame
    #: ids of approved requests applied by this run
    applied: list[int]


def _check_overlaps(scheme: Scheme, result: pl.DataFrame) -> None:
    for name, dim in scheme.dimensions.items():
        if not isinstance(dim, RulesDimension) or dim.multi or dim.first_match:
            continue
        bad = result.filter(pl.col(label_col(name)) == OVERLAP)
        if bad.height:
            ids = ", ".join(str(x) for x in bad.get_column("customer_id").head(3).to_list())
            raise SchemeError(
                f"Scheme error at dimensions.{name}.rules: rules overlap for {bad.height} "
                f"customer(s) (e.g. {ids}). Make the rules disjoint, or declare "
                "first_match: true to make their order a priority list."
            )


def _check_model_labels(scheme: Scheme, result: pl.DataFrame) -> None:
    for name, dim in scheme.dimensions.items():
        if not isinstance(dim, ModelDimension):
            continue
        bad = result.filter(pl.col(label_col(name)) == OVERLAP_MODEL)
        if bad.height:
            raise SchemeError(
                f"Scheme error at dimensions.{name}: model {dim.model!r} gave {bad.height} "
                f"customer(s) a label that is not listed (listed: {', '.join(dim.keys())})."
            )


def _long(result: pl.DataFrame, name: str, as_of: date) -> pl.DataFrame:
    score = pl.col(score_col(name)) if score_col(name) in result.columns else pl.lit(None)
    return result.select(
        pl.col("customer_pk").cast(pl.Int64),
        pl.lit(name).alias("dimension"),
        pl.col(label_col(name)).alias("label"),
        score.cast(pl.Float64).alias("score"),
        pl.when(pl.col(label_col(name)) == INSUFFICIENT)
        .then(pl.lit("insufficient"))
        .otherwise(pl.lit("rule"))
        .alias("source"),
        pl.lit(as_of).alias("since"),
    )


def _hysteresis(
    dim: _Ordered,
    name: str,
    result: pl.DataFrame,
    prior: Prior,
    as_of: date,
    pending_out: list[pl.DataFrame],
    applied: list[int],
) -> pl.DataFrame:
    keys = dim.keys()
    index = pl.DataFrame(
        {"_key": keys, "_idx": list(range(len(keys)))}, schema={"_key": pl.String, "_idx": pl.Int64}
    )
    prev = prior.labels.filter(pl.col("dimension") == name).select(
        "customer_pk", pl.col("label").alias("_prev"), pl.col("since").alias("_since")
    )
    df = result.select(
        "customer_pk",
        pl.col(label_col(name)).alias("_raw"),
        pl.col(down_col(name)).alias("_down"),
        pl.col(score_col(name)).alias("score"),
    )
    df = df.join(prev, on="customer_pk", how="left")
    for col, out in (("_raw", "_k"), ("_down", "_d"), ("_prev", "_j")):
        df = df.join(index.rename({"_key": col, "_idx": out}), on=col, how="left")
    h = dim.hysteresis
    assert h is not None
    going_down = (
        pl.col("_k").is_not_null() & pl.col("_j").is_not_null() & (pl.col("_k") < pl.col("_j"))
    )
    target = pl.min_horizontal("_d", "_j")  # the margin may soften or cancel the downgrade
    young = (pl.lit(as_of) - pl.col("_since")).dt.total_days() < h.min_days
    df = df.with_columns(
        pl.when(going_down & young)
        .then(pl.col("_j"))
        .when(going_down)
        .then(target)
        .otherwise(pl.col("_k"))
        .alias("_final"),
    )
    df = df.with_columns(
        pl.when(going_down & (pl.col("_final") != pl.col("_k")))
        .then(pl.lit("hysteresis"))
        .when(pl.col("_raw") == INSUFFICIENT)
        .then(pl.lit("insufficient"))
        .otherwise(pl.lit("rule"))
        .alias("source")
    )
    df = df.join(index.rename({"_key": "_final_key", "_idx": "_final"}), on="_final", how="left")
    if h.protected:
        df = _protect(df, name, h.protected, prior, pending_out, applied)
    return df.select(
        pl.col("customer_pk").cast(pl.Int64),
        pl.lit(name).alias("dimension"),
        pl.coalesce("_final_key", "_raw").alias("label"),
        pl.col("score").cast(pl.Float64),
        "source",
        pl.lit(as_of).alias("since"),
    )


def _protect(
    df: pl.DataFrame,
    name: str,
    protected: list[str],
    prior: Prior,
    pending_out: list[pl.DataFrame],
    applied: list[int],
) -> pl.DataFrame:
    """A downgrade out of a protected label waits for approval; approved ones go through."""
    asks = prior.pending.filter(pl.col("dimension") == name)
    leaving = (
        pl.col("_prev").is_in(protected)
        & pl.col("_final").is_not_null()
        & (pl.col("_final") < pl.col("_j"))
    )
    approved = asks.filter(pl.col("state") == "approved").select(
        "customer_pk", pl.col("from_label").alias("_prev"), pl.col("id").alias("_approved")
    )
    df = df.join(
        approved.unique(["customer_pk", "_prev"], keep="last"),
        on=["customer_pk", "_prev"],
        how="left",
    )
    used = df.filter(leaving & pl.col("_approved").is_not_null()).get_column("_approved")
    applied.extend(int(x) for x in used.to_list())
    held = leaving & pl.col("_approved").is_null()
    rejected = asks.filter(pl.col("state") == "rejected").select(
        "customer_pk",
        pl.col("from_label").alias("_prev"),
        pl.col("to_label").alias("_final_key"),
        pl.lit(True).alias("_rejected"),
    )
    open_asks = asks.filter(pl.col("state") == "pending").select(
        "customer_pk", pl.lit(True).alias("_open")
    )
    waiting = df.filter(held).join(rejected, on=["customer_pk", "_prev", "_final_key"], how="left")
    waiting = waiting.join(open_asks.unique("customer_pk"), on="customer_pk", how="left")
    pending_out.append(
        waiting.filter(pl.col("_rejected").is_null() & pl.col("_open").is_null()).select(
            "customer_pk",
            pl.lit(name).alias("dimension"),
            pl.col("_prev").alias("from_label"),
            pl.col("_final_key").alias("to_label"),
        )
    )
    return df.with_columns(
        pl.when(held).then(pl.col("_prev")).otherwise(pl.col("_final_key")).alias("_final_key"),
        pl.when(held).then(pl.lit("pending")).otherwise(pl.col("source")).alias("source"),
    )


def _grid(dim: GridDimension, name: str, wide: pl.DataFrame, as_of: date) -> pl.DataFrame:
    pairs = [(r, c, v) for r, row in dim.cells.items() for c, v in row.items()]
    cells = pl.DataFrame(
        pairs, schema={"_r": pl.String, "_c": pl.String, "label": pl.String}, orient="row"
    )
    df = wide.select("customer_pk", pl.col(dim.rows).alias("_r"), pl.col(dim.columns).alias("_c"))
    df = df.join(cells, on=["_r", "_c"], how="left")
    return df.select(
        pl.col("customer_pk").cast(pl.Int64),
        pl.lit(name).alias("dimension"),
        pl.col("label").fill_null(dim.otherwise),
        pl.lit(None, pl.Float64).alias("score"),
        pl.lit("rule").alias("source"),
        pl.lit(as_of).alias("since"),
    )


def _override(part: pl.DataFrame, name: str, prior: Prior) -> pl.DataFrame:
    mine = (
        prior.overrides.filter(pl.col("dimension") == name)
        .select("customer_pk", pl.col("label").alias("_override"))
        .unique("customer_pk", keep="last")
    )
    if mine.height == 0:
        return part
    part = part.join(mine, on="customer_pk", how="left")
    return part.with_columns(
        pl.coalesce("_override", "label").alias("label"),
        pl.when(pl.col("_override").is_not_null())
        .then(pl.lit("override"))
        .otherwise(pl.col("source"))
        .alias("source"),
    ).drop("_override")


def settle(scheme: Scheme, result: pl.DataFrame, prior: Prior, as_of: date) -> Outcome:
    """Final labels of every customer and dimension, and what changed since the prior."""
    _check_overlaps(scheme, result)
    _check_model_labels(scheme, result)
    parts: list[pl.DataFrame] = []
    pending_out: list[pl.DataFrame] = []
    applied: list[int] = []
    wide = result.select("customer_pk")
    # only the dimensions a grid combines are collected side by side (a join per dimension)
    gridded = {
        d
        for dim in scheme.dimensions.values()
        if isinstance(dim, GridDimension)
        for d in (dim.rows, dim.columns)
    }
    # grids combine the final labels of other dimensions, so they come last
    ordered = sorted(scheme.dimensions.items(), key=lambda kv: isinstance(kv[1], GridDimension))
    for name, dim in ordered:
        if isinstance(dim, GridDimension):
            part = _grid(dim, name, wide, as_of)
        elif isinstance(dim, _Ordered) and dim.hysteresis and prior.labels.height:
            part = _hysteresis(dim, name, result, prior, as_of, pending_out, applied)
        else:
            part = _long(result, name, as_of)
        part = _override(part, name, prior)
        if name in gridded:
            wide = wide.join(
                part.select("customer_pk", pl.col("label").alias(name)),
                on="customer_pk",
                how="left",
            )
        parts.append(part)
    labels = pl.concat(parts, how="vertical_relaxed")
    if prior.labels.height:
        prev = prior.labels.select(
            "customer_pk",
            "dimension",
            pl.col("label").alias("old_label"),
            pl.col("since").alias("_since"),
        )
        joined = labels.join(prev, on=["customer_pk", "dimension"], how="left")
    else:  # a first run: what the join with nothing would give, without the join
        joined = labels.with_columns(
            pl.lit(None, pl.String).alias("old_label"), pl.lit(None, pl.Date).alias("_since")
        )
    labels = joined.with_columns(
        pl.when(pl.col("old_label") == pl.col("label"))
        .then(pl.col("_since"))
        .otherwise(pl.col("since"))
        .alias("since")
    ).select(list(LONG_SCHEMA))
    changes = joined.filter(
        pl.col("old_label").is_null() | (pl.col("old_label") != pl.col("label"))
    )
    changes = _with_kind(scheme, changes).select(
        "customer_pk",
        "dimension",
        "old_label",
        pl.col("label").alias("new_label"),
        "kind",
        "source",
        pl.col("score").alias("new_score"),
    )
    pending = (
        pl.concat(pending_out)
        if pending_out
        else pl.DataFrame(
            schema={
                "customer_pk": pl.Int64,
                "dimension": pl.String,
                "from_label": pl.String,
                "to_label": pl.String,
            }
        )
    )
    return Outcome(labels.cast(LONG_SCHEMA), changes, pending, applied)  # type: ignore[arg-type]


def _with_kind(scheme: Scheme, changes: pl.DataFrame) -> pl.DataFrame:
    """new / upgrade / downgrade (ordered dimensions) / change, by joining label ranks.

    Only the rows with an old label need the ranks (the others are new): on a first run that
    is none, and the joins on a table of every customer and dimension are skipped.
    """
    new = pl.col("old_label").is_null()
    fresh = changes.filter(new).with_columns(pl.lit("new").alias("kind"))
    moved = changes.filter(~new)
    if moved.height == 0:
        return fresh
    ranks = pl.DataFrame(
        [
            (name, key, i)
            for name, dim in scheme.dimensions.items()
            if isinstance(dim, _Ordered)
            for i, key in enumerate(dim.keys())
        ],
        schema={"dimension": pl.String, "_label": pl.String, "_rank": pl.Int64},
        orient="row",
    )
    moved = moved.join(
        ranks.rename({"_label": "old_label", "_rank": "_old"}),
        on=["dimension", "old_label"],
        how="left",
    )
    moved = moved.join(
        ranks.rename({"_label": "label", "_rank": "_new"}), on=["dimension", "label"], how="left"
    )
    kind = (
        pl.when(pl.col("_new") > pl.col("_old"))
        .then(pl.lit("upgrade"))
        .when(pl.col("_new") < pl.col("_old"))
        .then(pl.lit("downgrade"))
        .otherwise(pl.lit("change"))
    )
    moved = moved.with_columns(kind.alias("kind")).drop("_old", "_new")
    return pl.concat([fresh, moved], how="vertical_relaxed")


__all__ = ["LONG_SCHEMA", "Outcome", "Prior", "settle"]
