"""One classification run on an engine: features → labels → settled labels, with timings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis.expr.types as ir
import polars as pl

from tierwise.classify._compile import Compiled, compile_scheme, label_col, score_col
from tierwise.classify._post import Outcome, Prior, settle
from tierwise.engine import Analytics
from tierwise.features import ATTRIBUTES, build_features
from tierwise.ingest._hash import set_digest
from tierwise.scheme._model import Scheme


@dataclass
class RunResult:
    as_of: date
    engine: str
    #: one row per customer: features, then ``<dim>__label`` / ``__score`` raw columns
    features: pl.DataFrame
    outcome: Outcome
    cuts: dict[str, list[float]]
    timings: dict[str, float] = field(default_factory=dict)
    #: the scheme as it ran: dimensions whose model outputs were unavailable use their fallback
    scheme: Scheme | None = None
    #: the model stage's report: each model's fit (state, or why not) and the fallbacks used
    models: dict[str, Any] = field(default_factory=dict)
    _hash: str | None = field(default=None, repr=False)

    @property
    def labels(self) -> pl.DataFrame:
        return self.outcome.labels

    def wide(self) -> pl.DataFrame:
        """customer_id, then each dimension's final label (and score where it has one)."""
        labels = self.outcome.labels
        wide = labels.pivot(on="dimension", index="customer_pk", values="label", sort_columns=False)
        scored = labels.filter(pl.col("score").is_not_null())
        if scored.height:
            scores = scored.pivot(on="dimension", index="customer_pk", values="score")
            scores = scores.rename({c: f"{c}_score" for c in scores.columns if c != "customer_pk"})
            wide = wide.join(scores, on="customer_pk", how="left")
        ids = self.features.select("customer_pk", "customer_id", "name")
        return ids.join(wide, on="customer_pk", how="left").sort("customer_pk")

    def dimension_counts(self) -> dict[str, dict[str, int]]:
        counts = (
            self.outcome.labels.group_by("dimension", "label")
            .len()
            .sort("dimension", "len", "label", descending=[False, True, False])
        )
        out: dict[str, dict[str, int]] = {}
        for dim, label, n in counts.iter_rows():
            out.setdefault(dim, {})[label] = int(n)
        return out

    def result_hash(self) -> str:
        """Identical for identical inputs and scheme, on every engine (cached)."""
        if self._hash is None:
            canon = self.outcome.labels.select(
                "customer_pk", "dimension", "label", pl.col("score").round(6), "source"
            )
            self._hash = set_digest(canon)
        return self._hash


def _sorted_by_key(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` ordered by ``customer_pk`` and flagged sorted, gathered a column at a time.

    Each source column is released once its sorted copy exists, so the peak is the frame plus
    a column or two rather than two frames (the 854,701 × 125 result of the 10M-order
    benchmark is 920 MB). Each column is made contiguous first: the engine's result comes in
    chunks, and a gather across chunks is slow (that result: 6.1 s gathered column by column
    as it comes, 3.6 s as one frame, 1.1 s made contiguous first; bench/README.md, classify).
    """
    pk = frame.get_column("customer_pk")
    if not pk.is_sorted():
        order = pk.arg_sort()
        del pk
        columns = frame.get_columns()
        del frame
        for i, column in enumerate(columns):
            columns[i] = column.rechunk().gather(order)
            del column
        frame = pl.DataFrame(columns)
    return frame.with_columns(pl.col("customer_pk").set_sorted())


def _execute(analytics: Analytics, expr: ir.Table) -> pl.DataFrame:
    table = analytics.backend.to_pyarrow(expr)
    return pl.from_arrow(table)  # type: ignore[return-value]


#: working columns of the compiled table that nothing after the engine reads: ranks, counts,
#: class indexes, percent ranks, normalised mapping keys and raw model answers (labels, scores, components, R/F/M and
#: the hysteresis labels stay: settle and the explanations read them)
_WORKING = ("__cls", "__dcls", "__fm", "__pr", "__model", "__key")


def _internal(column: str) -> bool:
    return column.startswith(("_rk_", "_n_")) or column.endswith(_WORKING)


def run(
    analytics: Analytics,
    scheme: Scheme,
    *,
    as_of: date,
    prior: Prior | None = None,
    previous_models: dict[str, Any] | None = None,
) -> RunResult:
    """Classify every customer on ``analytics`` as of ``as_of`` with ``scheme``.

    ``previous_models``: the model report of the run before (cluster identities follow it).
    """
    from tierwise.models._stage import enrich, needed_outputs

    timings: dict[str, float] = {}
    started = time.monotonic()
    features = build_features(analytics.tables, as_of)
    customers = analytics.tables["customers"]
    attributes = customers.select("customer_pk", *ATTRIBUTES)

    def execute(e: ir.Table) -> pl.DataFrame:
        return _execute(analytics, e)

    materialised = False
    report: dict[str, Any] = {}
    if needed_outputs(scheme):
        # the models read the features several times (their statistics, the scoring pairs):
        # materialised once, without the customers' own text columns, which are joined back
        base = features.drop(*ATTRIBUTES).cache()
        timings["features"] = time.monotonic() - started
        mark = time.monotonic()
        enriched = enrich(base, execute, scheme, as_of=as_of, previous=previous_models)
        features = enriched.table.left_join(attributes, "customer_pk").select(
            enriched.table, *[attributes[c] for c in ATTRIBUTES]
        )
        scheme, report, materialised = enriched.scheme, enriched.report(), True
        timings["models"] = time.monotonic() - mark
    mark = time.monotonic()
    compiled: Compiled = compile_scheme(
        scheme, features, execute, attributes=attributes, materialised=materialised
    )
    timings["features" if not materialised else "ranks"] = time.monotonic() - (
        started if not materialised else mark
    )
    mark = time.monotonic()
    table = compiled.table
    # sorted here rather than by the engine: a sort of the wide result there costs seconds.
    # A gather by the key's order, not `DataFrame.sort`: 1.9 s against 2.7-3.8 s for the
    # 854,701 × 125 result of the 10M-order benchmark (bench/README.md, classify)
    # The sorted flag is set either way: settle's joins on the key use it (0.35 s against 0.9 s).
    # No name holds the unsorted frame here: its columns are freed while they are gathered
    frame = _sorted_by_key(
        _execute(analytics, table.drop(*[c for c in table.columns if _internal(c)]))
    )
    timings["labels"] = time.monotonic() - mark
    mark = time.monotonic()
    outcome = settle(scheme, frame, prior or Prior(), as_of)
    timings["settle"] = time.monotonic() - mark
    timings["total"] = time.monotonic() - started
    return RunResult(
        as_of=as_of,
        engine=analytics.engine,
        features=frame,
        outcome=outcome,
        cuts=compiled.cuts,
        timings={k: round(v, 4) for k, v in timings.items()},
        scheme=scheme,
        models=report,
    )


def raw_columns(scheme: Scheme) -> list[str]:
    cols = []
    for name in scheme.dimensions:
        cols += [label_col(name), score_col(name)]
    return cols


def summary(result: RunResult) -> dict[str, Any]:
    return {
        "as_of": result.as_of.isoformat(),
        "engine": result.engine,
        "customers": result.features.height,
        "dimensions": result.dimension_counts(),
        "hash": result.result_hash(),
        "timings": result.timings,
        **({"models": model_summary(result.models)} if result.models else {}),
    }


def model_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The models part of a summary: fitted or not (and why), parameters, fallbacks used."""
    out: dict[str, Any] = {}
    for name, status in report.get("models", {}).items():
        state = status.get("state") or {}
        out[name] = {
            "fitted": status["fitted"],
            "reason": status.get("reason"),
            **({"params": state["params"]} if "params" in state else {}),
            **({"se": state["se"]} if "se" in state else {}),
            **({"loglik": state["loglik"]} if "loglik" in state else {}),
            **({k: state[k] for k in ("k", "descriptions") if k in state}),
        }
    return {"fitted": out, "fallbacks": report.get("fallbacks", {})}


__all__ = ["RunResult", "model_summary", "raw_columns", "run", "summary"]
