"""Behaviour clusters in a classification run: fitted on a sample, assigned on the engine.

The cluster dimension lists its label keys (``c1`` … ``c8`` in the default scheme); a cluster
that matches none of the previous run's gets the smallest key no other cluster holds, so keys
never run past the labels the scheme declares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis.expr.types as ir
import polars as pl

from tierwise.classify._models import ModelOutput, register_model
from tierwise.models._base import ModelFitError
from tierwise.models._cluster import BehaviourClusters, sample_features
from tierwise.scheme._model import ModelDimension, Scheme

Executor = Callable[[ir.Table], pl.DataFrame]
MODEL = "behaviour_clusters"


def _label_keys(scheme: Scheme) -> list[str]:
    for dim in scheme.dimensions.values():
        if isinstance(dim, ModelDimension) and dim.model == MODEL:
            return dim.keys()
    return []


def _fit_keys(model: BehaviourClusters, keys: list[str]) -> None:
    """Keys outside the declared labels take the smallest free declared ones."""
    taken = {k for k in model.keys_ if k in keys}
    free = [k for k in keys if k not in taken]
    renamed = {k: (k if k in keys else free.pop(0)) for k in model.keys_}
    model.keys_ = [renamed[k] for k in model.keys_]
    model.descriptions_ = {renamed.get(k, k): v for k, v in model.descriptions_.items()}


def fit_clusters(
    t: ir.Table, execute: Executor, scheme: Scheme, *, previous: dict[str, Any] | None
) -> tuple[Any, Callable[[ir.Table], ir.Table] | None]:
    """(status, assign) where ``assign(features)`` gives customer_pk and cluster key."""
    from tierwise.models._stage import ModelStatus, words

    settings = scheme.models.clusters
    keys = _label_keys(scheme)
    buyers = t.filter(t.purchase_days > 0)
    sample = sample_features(buyers, settings.features, settings.sample_size, settings.seed)
    minimum = scheme.models.min_customers
    if sample.height < minimum:
        return ModelStatus(
            "clusters", False, words("skipped_small", n=sample.height, min=minimum)
        ), None
    k_max = min(settings.k_max, len(keys)) if keys else settings.k_max
    model = BehaviourClusters(
        features=tuple(settings.features),
        k_min=min(settings.k_min, k_max),
        k_max=k_max,
        sample_size=settings.sample_size,
        random_state=settings.seed,
    )
    prior = ((previous or {}).get("models", {}).get("clusters") or {}).get("state")
    try:
        model.fit(sample, previous=prior if prior and prior.get("keys") else None)
    except ModelFitError as error:
        return ModelStatus(
            "clusters", False, {"zh": error.text("zh"), "en": error.text("en")}
        ), None
    if keys:
        _fit_keys(model, keys)
    state = model.to_dict()
    state["k"] = model.k_
    state["descriptions"] = model.descriptions_

    def assign(features: ir.Table) -> ir.Table:
        buyers_only = features.filter(features.purchase_days > 0)
        return model.assign(buyers_only)

    return ModelStatus("clusters", True, state=state), assign


def _cluster_method(t: ir.Table, dim: ModelDimension) -> ModelOutput:
    return ModelOutput(label=t.behaviour_cluster)


register_model(MODEL, _cluster_method)

__all__ = ["MODEL", "fit_clusters"]
