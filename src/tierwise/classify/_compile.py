"""Scheme → Ibis: every dimension's raw label (and score) as columns of the feature table.

Runs unchanged on DuckDB, PostgreSQL and Spark. Population statistics are computed without
engine-specific quantile functions: a percent rank is ``rank / (n - 1)`` over the non-null
values with ties sharing the lower rank (so equal values always get the same score), and
natural breaks are computed in numpy on a compressed histogram (at most ``JENKS_BINS`` rows)
that is pulled from the engine. Stateful steps (hysteresis, approvals, overrides, grids) follow
in ``_post`` on the per-customer result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import polars as pl

from tierwise.classify._models import model_method
from tierwise.errors import SchemeError
from tierwise.scheme._expr import parse
from tierwise.scheme._expr_engines import to_ibis
from tierwise.scheme._jenks import jenks_breaks
from tierwise.scheme._model import (
    INSUFFICIENT,
    BandsDimension,
    Cut,
    MappingDimension,
    ModelDimension,
    RFMDimension,
    RulesDimension,
    Scheme,
    ScoreDimension,
)

QUINTILES = (0.2, 0.4, 0.6, 0.8)
JENKS_BINS = 1000
OVERLAP = "__overlap__"
#: a model answered with a label key the scheme does not list
OVERLAP_MODEL = "__unknown_model_label__"

Executor = Callable[[ir.Table], pl.DataFrame]


@dataclass
class Compiled:
    """The feature table with label columns, plus what the run learned (e.g. jenks breaks)."""

    table: ir.Table
    #: dimension -> effective cut points (thresholds, or breaks found by jenks)
    cuts: dict[str, list[float]] = field(default_factory=dict)


def label_col(dim: str) -> str:
    return f"{dim}__label"


def score_col(dim: str) -> str:
    return f"{dim}__score"


def down_col(dim: str) -> str:
    """Label a customer would have with the hysteresis margin in their favour."""
    return f"{dim}__down"


def _rank_name(feature: str, higher_is_better: bool) -> str:
    return f"_rk_{feature}_{'hi' if higher_is_better else 'lo'}"


def _ranks(t: ir.Table, specs: set[tuple[str, bool]]) -> dict[str, ir.Value]:
    """0-based min rank of each non-null value (ties share the lower rank; 1 = best later)."""
    cols: dict[str, ir.Value] = {}
    for feature, hib in sorted(specs):
        value = t[feature].cast("float64")
        key = value if hib else value.negate()
        cols[_rank_name(feature, hib)] = ibis.ifelse(
            value.isnull(),
            ibis.null("int64"),
            ibis.rank().over(order_by=[value.isnull(), key]).cast("int64"),
        )
    return cols


def _with_ranks(
    features: ir.Table,
    specs: set[tuple[str, bool]],
    attributes: ir.Table | None,
    *,
    materialised: bool = False,
) -> ir.Table:
    """The features, materialised, with every rank and non-null count as plain columns.

    Windows sort whatever rows they carry: the ranks are computed on a narrow table (key and
    the ranked values) and materialised with the counts (a one-row aggregate, not a window);
    the wide features are materialised once and joined to them in the queries that follow
    (a join on the key costs far less than writing the wide table a second time). Columns
    that ``attributes`` holds as they are (the customers' own text columns) are not written
    at all: writing text is most of the cost of materialising, and they are joined back.
    """
    kept = [] if attributes is None else [c for c in attributes.columns if c != "customer_pk"]
    kept = [c for c in kept if c in features.columns]
    base = features.drop(*kept) if kept else features
    if not materialised:
        base = base.cache()
    wanted = sorted({f for f, _ in specs})
    parts: list[ir.Table] = []
    if specs:
        narrow = base.select("customer_pk", *wanted)
        counts = base.aggregate(**{f"_n_{f}": base[f].count().cast("int64") for f in wanted})
        parts.append(
            narrow.select("customer_pk", **_ranks(narrow, specs)).cross_join(counts).cache()
        )
    if kept:
        assert attributes is not None
        parts.append(attributes.select("customer_pk", *kept))
    t = base
    for part in parts:
        t = t.left_join(part, "customer_pk").select(
            t, *[part[c] for c in part.columns if c != "customer_pk"]
        )
    extra = [c for c in t.columns if c not in features.columns]
    return t.select(*features.columns, *extra)  # the features' own column order


def _percent_rank(t: ir.Table, feature: str, higher_is_better: bool) -> ir.FloatingValue:
    """Percent rank in [0, 1] of non-null values (1 = best), ties sharing the lower rank."""
    rank, n = t[_rank_name(feature, higher_is_better)], t[f"_n_{feature}"]
    pr = rank.cast("float64") / (n - 1).nullif(0).cast("float64")
    return ibis.ifelse(rank.isnull(), ibis.null("float64"), pr.fill_null(1.0))


def _quintile(t: ir.Table, feature: str, higher_is_better: bool) -> ir.IntegerValue:
    """1-5: one more for each of 20/40/60/80 % the percent rank reaches, in exact integers."""
    rank, n = t[_rank_name(feature, higher_is_better)], t[f"_n_{feature}"]
    steps = ibis.least((rank * 5) // (n - 1).nullif(0), 4).fill_null(4)
    return ibis.ifelse(rank.isnull(), ibis.null("int64"), (steps + 1).cast("int64"))


def _rank_specs(scheme: Scheme) -> set[tuple[str, bool]]:
    specs: set[tuple[str, bool]] = set()
    for dim in scheme.dimensions.values():
        if isinstance(dim, ScoreDimension):
            specs |= {
                (c.feature, c.higher_is_better) for c in dim.components if c.scale == "quintile"
            }
        elif isinstance(dim, RFMDimension):
            specs |= {(dim.recency, False), (dim.frequency, True), (dim.monetary, True)}
        elif isinstance(dim, BandsDimension) and dim.cut.by == "quantiles":
            specs.add((dim.feature, dim.higher_is_better))
    return specs


def _classes(value: ir.NumericValue, cut: Cut, points: list[float]) -> ir.IntegerValue:
    cls = ibis.literal(0, "int64")
    for p in points:
        hit = value > p if cut.by == "jenks" else value >= p
        cls = cls + ibis.ifelse(hit, 1, 0)
    return ibis.ifelse(value.isnull(), ibis.null("int64"), cls)


def _keyed(cls: ir.IntegerValue, keys: list[str]) -> ir.StringValue:
    return ibis.cases(*[(cls == i, k) for i, k in enumerate(keys)], else_=ibis.null("string"))


def _rule(t: ir.Table, text: str, where: str) -> ir.BooleanValue:
    try:
        value = to_ibis(parse(text), t)
    except ValueError as error:  # ExpressionError included: add where the rule is
        raise SchemeError(f"Scheme error at {where}: {error}", key="scheme.compile.rule",
                          where=where, error=str(error)) from None  # fmt: skip
    if not value.type().is_boolean():
        raise SchemeError(
            f"Scheme error at {where}: {text!r} is a {value.type()} value, not a "
            "condition (compare it, e.g. `... > 0`).",
            key="scheme.compile.not_condition",
            where=where,
            text=repr(text),
            type=str(value.type()),
        )
    return value


def _key_col(dim: str) -> str:
    return f"{dim}__key"


def _cls_col(dim: str) -> str:
    return f"{dim}__cls"


def _dcls_col(dim: str) -> str:
    return f"{dim}__dcls"


def _unknown(where: str, feature: str) -> SchemeError:
    return SchemeError(
        f"Scheme error at {where}: unknown feature {feature!r}; "
        "`tierwise scheme features` lists them.",
        key="scheme.compile.unknown_feature",
        where=where,
        feature=repr(feature),
    )


class _Compiler:
    """Three projections, each over the previous one's columns, so no expression is inlined
    into another (engines plan small expressions far faster than one huge one):

    1. values: component scores, weighted scores, percent ranks, R/F/M;
    2. classes: class index of every ordered value, with and without the hysteresis margin;
    3. labels: label keys, rules, mappings, score maps and the insufficient-data rule.
    """

    def __init__(self, scheme: Scheme, execute: Executor) -> None:
        self.scheme, self.execute = scheme, execute
        self.cuts: dict[str, list[float]] = {}

    def _require(self, t: ir.Table, feature: str, where: str) -> None:
        if feature not in t.columns:
            raise _unknown(where, feature)

    # -- stage 1 -----------------------------------------------------------------------------
    def values(self, name: str, t: ir.Table) -> dict[str, ir.Value]:
        dim = self.scheme.dimensions[name]
        where = f"dimensions.{name}"
        cols: dict[str, ir.Value] = {}
        if isinstance(dim, ScoreDimension):
            total: ir.NumericValue = ibis.literal(0.0, "float64")
            for i, comp in enumerate(dim.components):
                self._require(t, comp.feature, f"{where}.components[{i}].feature")
                if comp.scale == "quintile":
                    part = _quintile(t, comp.feature, comp.higher_is_better).cast("float64")
                else:
                    col = t[comp.feature].cast("float64")
                    part = col if comp.higher_is_better else col.negate()
                cols[f"{name}__c{i}"] = part
                total = total + part.fill_null(0.0) * comp.weight
            weight = sum(c.weight for c in dim.components)
            cols[score_col(name)] = (total / weight).round(4)
        elif isinstance(dim, BandsDimension):
            self._require(t, dim.feature, f"{where}.feature")
            cols[score_col(name)] = t[dim.feature].cast("float64")
            if dim.cut.by == "quantiles":
                cols[f"{name}__pr"] = _percent_rank(t, dim.feature, dim.higher_is_better)
        elif isinstance(dim, RFMDimension):
            for part in ("recency", "frequency", "monetary"):
                self._require(t, getattr(dim, part), f"{where}.{part}")
            r = _quintile(t, dim.recency, False)
            f = _quintile(t, dim.frequency, True)
            m = _quintile(t, dim.monetary, True)
            cols |= {
                f"{name}__r": r,
                f"{name}__f": f,
                f"{name}__m": m,
                score_col(name): (r * 100 + f * 10 + m).cast("float64"),
            }
        elif isinstance(dim, MappingDimension):
            self._require(t, dim.feature, f"{where}.feature")
        elif isinstance(dim, ModelDimension):
            output = model_method(dim.model, where)(t, dim)
            cols[f"{name}__model"] = output.label
            if output.score is not None:
                cols[score_col(name)] = output.score.cast("float64")
        return cols

    # -- stage 2 -----------------------------------------------------------------------------
    def _points(self, t: ir.Table, value: ir.NumericValue, cut: Cut) -> list[float]:
        if cut.by == "thresholds":
            assert cut.points is not None
            return list(cut.points)
        if cut.by == "quantiles":
            assert cut.probs is not None
            return list(cut.probs)
        assert cut.classes is not None
        # a compressed histogram: the max value and count of each of JENKS_BINS rank bins
        probe = t.select(_v=value).filter(ibis._._v.notnull())
        rank = ibis.rank().over(order_by=probe._v)
        n = probe._v.count().over(ibis.window())
        probe = probe.mutate(_b=(rank * (JENKS_BINS - 1)) // (n - 1).nullif(0))
        hist = probe.group_by("_b").aggregate(v=probe._v.max(), n=probe.count())
        frame = self.execute(hist)
        if frame.height == 0:
            return []
        values = frame.get_column("v").cast(pl.Float64).to_numpy()
        weights = frame.get_column("n").cast(pl.Float64).to_numpy()
        order = np.argsort(values, kind="stable")
        return [float(b) for b in jenks_breaks(values[order], cut.classes, weights=weights[order])]

    def classes(self, name: str, t: ir.Table) -> dict[str, ir.Value]:
        dim = self.scheme.dimensions[name]
        if isinstance(dim, MappingDimension):
            return {_key_col(name): t[dim.feature].cast("string").strip().lower()}
        if not isinstance(dim, ScoreDimension | BandsDimension):
            if isinstance(dim, RFMDimension):
                f, m = t[f"{name}__f"], t[f"{name}__m"]
                return {f"{name}__fm": ((f + m + 1) // 2).cast("int64")}
            return {}
        higher = dim.higher_is_better if isinstance(dim, BandsDimension) else True
        measured: ir.NumericValue = t[score_col(name)]
        if dim.cut.by == "quantiles":
            measured, higher = t[f"{name}__pr"], True
        points = self._points(t, measured, dim.cut)
        self.cuts[name] = points
        n = len(points) + 1
        margin = dim.hysteresis.margin if dim.hysteresis else 0.0
        raw = _classes(measured, dim.cut, points)
        down = _classes(measured + margin if higher else measured - margin, dim.cut, points)
        if not higher:
            raw, down = (n - 1) - raw, (n - 1) - down
        return {_cls_col(name): raw, _dcls_col(name): down}

    # -- stage 3 -----------------------------------------------------------------------------
    def labels(self, name: str, t: ir.Table) -> dict[str, ir.Value]:
        dim = self.scheme.dimensions[name]
        where = f"dimensions.{name}"
        if isinstance(dim, ScoreDimension | BandsDimension):
            keys = dim.keys()
            return {
                label_col(name): _keyed(t[_cls_col(name)], keys),
                down_col(name): _keyed(t[_dcls_col(name)], keys),
            }
        if isinstance(dim, RFMDimension):
            r, fm = t[f"{name}__r"], t[f"{name}__fm"]
            cases = [
                ((r == int(rk)) & (fm == j + 1), key)
                for rk, row in dim.score_map.items()
                for j, key in enumerate(row)
            ]
            return {label_col(name): ibis.cases(*cases, else_=ibis.null("string"))}
        if isinstance(dim, RulesDimension):
            hits = [
                _rule(t, rule.when, f"{where}.rules[{i}].when") for i, rule in enumerate(dim.rules)
            ]
            if dim.multi:
                order = {k: i for i, k in enumerate(dim.keys())}
                ranked = sorted(zip(dim.rules, hits, strict=True), key=lambda p: order[p[0].label])
                joined: ir.StringValue = ibis.literal("")
                for rule, hit in ranked:
                    joined = joined.concat(ibis.ifelse(hit, rule.label + "+", ""))
                label = joined.re_replace(r"\+$", "").nullif("").fill_null(dim.otherwise)
            elif dim.first_match:
                label = ibis.cases(
                    *[(hit, rule.label) for rule, hit in zip(dim.rules, hits, strict=True)],
                    else_=dim.otherwise,
                )
            else:
                count = ibis.literal(0, "int64")
                for hit in hits:
                    count = count + ibis.ifelse(hit, 1, 0)
                label = ibis.cases(
                    (count > 1, OVERLAP),
                    *[(hit, rule.label) for rule, hit in zip(dim.rules, hits, strict=True)],
                    else_=dim.otherwise,
                )
            return {label_col(name): label}
        if isinstance(dim, MappingDimension):
            # one CASE over the values (the first group listing a value wins) on the
            # normalised value of stage 2: engines turn long IN lists into a join each, which
            # cost more than the rest of the labels, and would normalise it once per WHEN
            value = t[_key_col(name)]
            lookup: dict[str, str] = {}
            for key, values in dim.groups.items():
                for v in values:
                    lookup.setdefault(v.strip().casefold(), key)
            return {
                label_col(name): value.substitute(lookup, else_=dim.otherwise)
                if lookup
                else ibis.literal(dim.otherwise)
            }
        if isinstance(dim, ModelDimension):
            value = t[f"{name}__model"]
            known = ibis.ifelse(value.isin(dim.keys()), value, OVERLAP_MODEL)
            return {label_col(name): ibis.ifelse(value.isnull(), ibis.null("string"), known)}
        return {}  # grids are combined from final labels in _post


def compile_scheme(
    scheme: Scheme,
    features: ir.Table,
    execute: Executor,
    *,
    attributes: ir.Table | None = None,
    materialised: bool = False,
) -> Compiled:
    """The feature table with ``<dim>__label`` (and ``__score``, ``__down``) columns.

    ``execute`` runs a small Ibis query (natural-breaks histograms) on the same engine.
    ``attributes`` (``customer_pk`` and columns the features carry unchanged, e.g. the
    customers table) lets those columns be joined back instead of materialised.
    ``materialised``: the features (but for ``attributes``) are already a materialised table,
    or cheap expressions over one (the model stage's outputs), and are not written again.
    """
    compiler = _Compiler(scheme, execute)
    specs = _rank_specs(scheme)
    unknown = sorted({f for f, _ in specs} - set(features.columns))
    if unknown:
        raise SchemeError(
            f"Scheme error: unknown feature(s) {', '.join(map(repr, unknown))}; "
            "`tierwise scheme features` lists them.",
            key="scheme.compile.unknown_features",
            features=", ".join(map(repr, unknown)),
        )
    # one materialised table holds the features and every rank: the label expressions that
    # follow are plain scalar code over its columns (no window is repeated inside them)
    t = _with_ranks(features, specs, attributes, materialised=materialised)
    names = list(scheme.dimensions)
    stage: dict[str, ir.Value] = {}
    for name in names:
        stage |= compiler.values(name, t)
    t = t.mutate(**stage) if stage else t
    stage = {}
    for name in names:
        stage |= compiler.classes(name, t)
    t = t.mutate(**stage) if stage else t
    stage = {}
    for name in names:
        cols = compiler.labels(name, t)
        if not cols:
            continue
        dim = scheme.dimensions[name]
        thin = (
            _rule(t, dim.insufficient, f"dimensions.{name}.insufficient")
            if dim.insufficient
            else ibis.literal(False)
        )
        for col in (label_col(name), down_col(name)):
            if col in cols:
                cols[col] = ibis.ifelse(thin, INSUFFICIENT, cols[col].fill_null(INSUFFICIENT))
        stage |= cols
    t = t.mutate(**stage)
    return Compiled(t, compiler.cuts)


__all__ = ["OVERLAP", "Compiled", "compile_scheme", "down_col", "label_col", "score_col"]
