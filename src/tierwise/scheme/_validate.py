"""Semantic checks beyond the model: rules parse, and every feature a scheme names exists."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from tierwise._said import Said
from tierwise.errors import SchemeError
from tierwise.features._catalog import FEATURES, MODEL_FEATURES
from tierwise.scheme._expr import ExpressionError, parse
from tierwise.scheme._expr_engines import to_ibis
from tierwise.scheme._io import load_scheme
from tierwise.scheme._model import (
    BandsDimension,
    GridDimension,
    MappingDimension,
    ModelDimension,
    RFMDimension,
    RulesDimension,
    Scheme,
    ScoreDimension,
)
from tierwise.scheme._playbook import _not_label, check_playbooks
from tierwise.scheme._said import SchemeProblems, at


def _unknown(name: str, where: str) -> str | None:
    if name in FEATURES or name.startswith("attr_"):
        return None
    close = ", ".join(difflib.get_close_matches(name, list(FEATURES), n=3))
    if close:
        detail = Said(f"unknown feature {name!r}. Did you mean {close}?",
                      key="scheme.check.unknown_feature_close", name=repr(name), close=close)  # fmt: skip
    else:
        detail = Said(f"unknown feature {name!r}. `tierwise scheme features` lists them.",
                      key="scheme.check.unknown_feature", name=repr(name))  # fmt: skip
    return at(where, detail)


_TYPES = {"text": "string", "date": "date"}


def _feature_table() -> Any:
    """An unbound table with every feature's type: rules are type-checked without a query."""
    import ibis

    return ibis.table(
        {name: _TYPES.get(unit, "float64") for name, (_, _, unit) in FEATURES.items()},
        name="features",
    )


def check_scheme(scheme: Scheme) -> list[str]:
    """Every problem found, as messages naming the YAML path; empty when the scheme is sound.

    Each is a `tierwise.scheme._said.Located` (its catalogue key and params, and its path)."""
    errors: list[str] = []

    def rule(text: str, where: str) -> None:
        try:
            expr = parse(text)
        except ExpressionError as error:
            errors.append(at(where, error.said))
            return
        unknown = [e for n in sorted(expr.names()) if (e := _unknown(n, where))]
        errors.extend(unknown)
        if unknown:
            return
        try:
            value = to_ibis(expr, _feature_table())
        except ExpressionError as error:
            errors.append(at(where, error.said))
            return
        if not value.type().is_boolean():
            errors.append(at(where, Said(
                f"{text!r} is a {value.type()} value, not a condition (compare it, e.g. "
                "`... > 0`).", key="scheme.check.not_condition", rule=repr(text),
                type=str(value.type()),
            )))  # fmt: skip

    def dimension(name: str, dim: Any, base: str) -> None:
        if dim.insufficient:
            rule(dim.insufficient, f"{base}.insufficient")
        if isinstance(dim, ScoreDimension):
            for i, comp in enumerate(dim.components):
                if err := _unknown(comp.feature, f"{base}.components[{i}].feature"):
                    errors.append(err)
        elif isinstance(dim, BandsDimension | MappingDimension):
            if err := _unknown(dim.feature, f"{base}.feature"):
                errors.append(err)
        elif isinstance(dim, RFMDimension):
            for part in ("recency", "frequency", "monetary"):
                if err := _unknown(getattr(dim, part), f"{base}.{part}"):
                    errors.append(err)
        elif isinstance(dim, RulesDimension):
            for i, r in enumerate(dim.rules):
                rule(r.when, f"{base}.rules[{i}].when")
        elif isinstance(dim, GridDimension):
            for axis in ("rows", "columns"):
                ref = scheme.dimensions[getattr(dim, axis)]
                allowed = {*ref.keys(), "insufficient"}
                for row, cells in dim.cells.items():
                    if axis == "rows" and row not in allowed:
                        errors.append(at(f"{base}.cells.{row}", _not_label(row, dim.rows)))
                    if axis == "columns":
                        errors.extend(
                            at(f"{base}.cells.{row}.{col}", _not_label(col, dim.columns))
                            for col in cells
                            if col not in allowed
                        )

    for name, dim in scheme.dimensions.items():
        dimension(name, dim, f"dimensions.{name}")
        fallback = dim.fallback_dimension()
        if fallback is not None:
            dimension(name, fallback, f"dimensions.{name}.fallback")
    for i, feature in enumerate(scheme.models.clusters.features):
        if feature in MODEL_FEATURES:
            errors.append(at(f"models.clusters.features[{i}]", Said(
                f"{feature!r} is a model output; clusters are found on the customers' own "
                "features.", key="scheme.check.cluster_model_output", feature=repr(feature),
            )))  # fmt: skip
        elif err := _unknown(feature, f"models.clusters.features[{i}]"):
            errors.append(err)
    if scheme.playbooks is not None:
        errors.extend(check_playbooks(scheme))
    return errors


def _names_in(text: str) -> frozenset[str]:
    try:
        return parse(text).names()
    except ExpressionError:  # reported, with its place, where the rule is compiled or checked
        return frozenset()


def referenced_features(dim: Any) -> set[str]:
    """Every feature a dimension reads (its fallback aside)."""
    names: set[str] = set()
    if dim.insufficient:
        names |= _names_in(dim.insufficient)
    if isinstance(dim, ScoreDimension):
        names |= {c.feature for c in dim.components}
    elif isinstance(dim, BandsDimension | MappingDimension):
        names.add(dim.feature)
    elif isinstance(dim, RFMDimension):
        names |= {dim.recency, dim.frequency, dim.monetary}
    elif isinstance(dim, RulesDimension):
        for r in dim.rules:
            names |= _names_in(r.when)
    elif isinstance(dim, ModelDimension):
        names |= set(MODEL_INPUTS.get(dim.model, ()))
    return names


#: model methods of ``method: model`` dimensions → the model outputs they read
MODEL_INPUTS: dict[str, tuple[str, ...]] = {"behaviour_clusters": ("behaviour_cluster",)}


def load_checked(source: str | Path) -> Scheme:
    """Load a scheme and refuse it, with every problem listed, unless it is sound."""
    scheme = load_scheme(source)
    errors = check_scheme(scheme)
    if errors:
        raise SchemeProblems([e for e in errors if isinstance(e, Said)])
    return scheme


def validate_scheme(source: str | Path) -> dict[str, Any]:
    """A report for `tierwise scheme validate`: valid, errors (English `Said` lines, said in
    the reader's language by `tierwise.scheme._said.say_line`), name and dimensions."""
    try:
        scheme = load_scheme(source)
    except SchemeError as error:
        lines = getattr(error, "problems", None) or str(error).splitlines()
        return {"valid": False, "errors": lines, "name": None, "dimensions": []}
    errors = check_scheme(scheme)
    return {
        "valid": not errors,
        "errors": errors,
        "name": scheme.name,
        "dimensions": list(scheme.dimensions),
    }


__all__ = [
    "MODEL_INPUTS",
    "check_scheme",
    "load_checked",
    "referenced_features",
    "validate_scheme",
]
