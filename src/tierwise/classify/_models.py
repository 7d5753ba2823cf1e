"""The interface of model-based and cluster-based methods (``method: model`` in a scheme).

A model method turns the feature table into a label key (and optionally a score) per customer,
as Ibis expressions, so it runs on every engine like the built-in methods. ``tierwise.models``
registers its methods (P(alive), CLV, behaviour clusters) here; a project can register its own.

>>> def big_spender(t, dim):  # doctest: +SKIP
...     cut = dim.params.get("cut", 1000)
...     return ModelOutput(label=ibis.ifelse(t.monetary_total >= cut, "big", "small"))
>>> register_model("big_spender", big_spender)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir

from tierwise.errors import SchemeError
from tierwise.scheme._model import ModelDimension


@dataclass(frozen=True)
class ModelOutput:
    """A model's answer per customer: a label key (NULL means insufficient data) and a score."""

    label: ir.StringValue
    score: ir.NumericValue | None = None


ModelMethod = Callable[[ir.Table, ModelDimension], ModelOutput]

_REGISTRY: dict[str, ModelMethod] = {}


def register_model(name: str, method: ModelMethod) -> None:
    """Make ``method: model`` with ``model: name`` available to schemes."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"Model name {name!r} must be letters, digits and _.")
    _REGISTRY[name] = method


def registered_models() -> list[str]:
    return sorted(_REGISTRY)


def model_method(name: str, where: str) -> ModelMethod:
    method = _REGISTRY.get(name)
    if method is None:
        known = ", ".join(registered_models()) or "none yet"
        raise SchemeError(
            f"Scheme error at {where}.model: model {name!r} is not available (registered: {known})."
        )
    return method


__all__ = ["ModelMethod", "ModelOutput", "model_method", "register_model", "registered_models"]
