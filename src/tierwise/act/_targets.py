"""Target lists: the customers of a segment (any filter over labels and features), with headers
and label words in zh or en, ready for `write_table` (which neutralises formulas).

Headers follow `export_customers` (tierwise.access): dimension columns are titled by the
scheme and their label keys become the scheme's words (multi-labels joined); other columns take
the caller's ``headers`` or the feature catalogue's names; a dimension whose title equals
another column's header gets a "（分级）" / " (class)" suffix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

from tierwise.act._export import _FORMULA
from tierwise.classify._explain import label_text
from tierwise.errors import DataError
from tierwise.features import feature_name
from tierwise.scheme import INSUFFICIENT, Scheme

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Range:
    """Inclusive bounds on a numeric or date column; ``None`` leaves a side open.

    >>> Range(min=1000)
    Range(min=1000, max=None)
    """

    min: float | date | None = None
    max: float | date | None = None


Filter = Mapping[str, Sequence[str] | Range]


def _dimension_suffix(lang: str) -> str:
    return "（分级）" if lang == "zh" else " (class)"


def dimension_headers(
    scheme: Scheme, dimensions: Sequence[str], taken: set[str], lang: str
) -> dict[str, str]:
    """Titles for dimension columns, suffixed where another column already has that header."""
    titles = {d: scheme.dimensions[d].title.get(lang) for d in dimensions}
    return {d: t + _dimension_suffix(lang) if t in taken else t for d, t in titles.items()}


def _condition(scheme: Scheme, column: str, rule: Sequence[str] | Range) -> pl.Expr:
    col = pl.col(column)
    if isinstance(rule, Range):
        expr = pl.lit(True)
        if rule.min is not None:
            expr &= col >= rule.min
        if rule.max is not None:
            expr &= col <= rule.max
        return expr & col.is_not_null()
    if isinstance(rule, str):
        raise DataError(
            f'Filter on "{column}" must list the allowed values (got the text "{rule}"): '
            f'write ["{rule}"].'
        )
    allowed = list(rule)
    dim = scheme.dimensions.get(column)
    if dim is None:
        return col.cast(pl.String).is_in(allowed)
    unknown = sorted(set(allowed) - {*dim.keys(), INSUFFICIENT})
    if unknown:
        raise DataError(
            f'Filter on dimension "{column}" names unknown label(s) {", ".join(unknown)}: '
            f"its labels are {', '.join(dim.keys())}.",
            key="err.target_label", dimension=column, labels=", ".join(unknown),
            known=", ".join(dim.keys()),
        )  # fmt: skip
    # multi-label cells ("vip+at_risk") match when any of their labels is allowed
    return col.str.split("+").list.set_intersection(pl.lit(allowed)).list.len() > 0


def target_list(
    customers: pl.DataFrame,
    *,
    scheme: Scheme,
    filters: Filter | None = None,
    columns: Sequence[str] | None = None,
    lang: Lang = "zh",
    headers: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """The customers matching every entry of ``filters`` (a dimension -> allowed label keys; a
    feature -> allowed values or a `Range`), as ``columns`` (default: ``customer_id``,
    ``name`` and the scheme's dimensions present), sorted by ``customer_id`` when present.

    ``customers`` has one row per customer, a column per dimension holding its label key, and
    any profile or feature columns (a column named like a dimension is that dimension). Write the result with ``write_table(frame, path)``.

    >>> target_list(frame, scheme=default_scheme(), filters={"value_tier": ["A", "B"],
    ...     "monetary_value": Range(min=1000)}, lang="en")  # doctest: +SKIP
    """
    filters = filters or {}
    missing = [c for c in [*filters, *(columns or [])] if c not in customers.columns]
    if missing:
        raise DataError(
            f"Target list: no column {', '.join(sorted(set(missing)))} in the customers "
            f"(they have {', '.join(customers.columns)})."
        )
    dims_present = [d for d in scheme.dimensions if d in customers.columns]
    if columns is None:
        columns = [c for c in ("customer_id", "name") if c in customers.columns] + dims_present
    conditions = [_condition(scheme, c, rule) for c, rule in filters.items()]
    frame = customers.filter(*conditions) if conditions else customers
    if "customer_id" in frame.columns:
        frame = frame.sort("customer_id", maintain_order=True)
    frame = frame.select(columns)

    dims = [c for c in columns if c in scheme.dimensions]
    words = [
        pl.col(d).replace_strict(
            {k: label_text(scheme.dimensions[d], k, lang) for k in frame[d].drop_nulls().unique()},
            default=None,
            return_dtype=pl.String,
        )
        for d in dims
        if frame.schema[d] == pl.String
    ]
    frame = frame.with_columns(words) if words else frame
    names = {c: (headers or {}).get(c) or feature_name(c, lang) for c in columns if c not in dims}
    names |= dimension_headers(scheme, dims, set(names.values()), lang)
    # a header is a cell too: a scheme title such as "=cmd" must not run when opened
    safe = {c: "'" + h if re.match(_FORMULA, h) else h for c, h in names.items()}
    return frame.rename(safe)


__all__ = ["Range", "dimension_headers", "target_list"]
