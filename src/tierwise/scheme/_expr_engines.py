"""Rules compiled for the engines: Ibis (DuckDB, PostgreSQL, Spark) and Polars, with the null
semantics of `tierwise.scheme._expr` (a rule's final unknown counts as false).
"""

from __future__ import annotations

import difflib
import functools
import operator
from collections.abc import Callable
from typing import Any, Final, NoReturn

import ibis
import ibis.expr.types as ir
import polars as pl

from tierwise._said import Said
from tierwise.scheme._expr import (
    _ORDER_OPS,
    Arithmetic,
    Boolean,
    Call,
    Compare,
    CompareOp,
    Contains,
    Expr,
    FunctionName,
    In,
    Logical,
    Name,
    Neg,
    Not,
    Null,
    Number,
    String,
    _clip,
    _kind,
    _whole_error,
    to_text,
)

# --- Ibis -----------------------------------------------------------------------------------

_CATEGORY_WORDS: Final = {
    "boolean": Said("true/false", key="expr.kind.boolean"),
    "number": Said("a number", key="expr.kind.number"),
    "text": Said("text", key="expr.kind.text"),
    "date": Said("a date", key="expr.kind.date"),
    "timestamp": Said("a timestamp", key="expr.kind.timestamp"),
    "null": Said("null", key="expr.kind.null"),
}
_COMPARE_FUNCTIONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


_NEEDS_WORDS: Final = {
    "number": "a number",
    "boolean": "a true/false value",
    "booleans": "true/false values",
    "numbers": "numbers",
    "text": "text",
    "numbers_or_dates": "numbers or dates",
}


def _needs(op: str, what: str) -> Said:
    """``"<op>" needs <what>``, with its catalogue key ``expr.typed_needs.<what>``."""
    return Said(f'"{op}" needs {_NEEDS_WORDS[what]}', key=f"expr.typed_needs.{what}", op=op)


def _category(value: ir.Value) -> str:
    dtype = value.type()
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_string():
        return "text"
    if dtype.is_date():
        return "date"
    if dtype.is_timestamp():
        return "timestamp"
    if dtype.is_null():
        return "null"
    return str(dtype)


def _null_test(value: ir.Value, *, negated: bool) -> ir.Value:
    if value.type().is_boolean():
        # Ibis 12 renders isnull(~x) as "NOT (x) IS NULL", which SQL reads as
        # NOT ((x) IS NULL); a cast puts any negation inside parentheses (int32: PostgreSQL
        # has no boolean to smallint cast).
        value = value.cast("int32")
    return value.notnull() if negated else value.isnull()


class _IbisCompiler:
    def __init__(self, root: Expr, table: ibis.Table) -> None:
        self.root = root
        self.table = table
        self.columns: tuple[str, ...] = tuple(table.columns)

    def fail(self, reason: Said) -> NoReturn:
        raise _whole_error(to_text(self.root), reason)

    def describe(self, expr: Expr, value: ir.Value) -> Said:
        category = _category(value)
        word = _CATEGORY_WORDS.get(category, category)
        text, dtype = _clip(to_text(expr)), str(value.type())
        return Said(f"{text} ({word}, {dtype})", key="expr.typed", expr=text, kind=word,
                    type=dtype)  # fmt: skip

    def need(self, expr: Expr, value: ir.Value, categories: tuple[str, ...], what: Said) -> None:
        if _category(value) not in categories:
            got = self.describe(expr, value)
            self.fail(Said(f"{what}, got {got}", key="expr.typed_needs", what=what, got=got))

    def compile(self, expr: Expr) -> ir.Value:
        match expr:
            case Number(value=value):
                return ibis.literal(value, type="int64" if isinstance(value, int) else "float64")
            case String(value=value):
                return ibis.literal(value, type="string")
            case Boolean(value=value):
                return ibis.literal(value, type="boolean")
            case Null():
                return ibis.null()
            case Name(name=name):
                return self.column(name)
            case Neg(operand=operand):
                value = self.compile(operand)
                self.need(operand, value, ("number",), _needs("-", "number"))
                return -value
            case Not(operand=operand):
                value = self.compile(operand)
                self.need(operand, value, ("boolean",), _needs("not", "boolean"))
                return ~value
            case Logical(op=op, left=left, right=right):
                lv, rv = self.compile(left), self.compile(right)
                for side, value in ((left, lv), (right, rv)):
                    self.need(side, value, ("boolean",), _needs(op, "booleans"))
                return (lv & rv) if op == "and" else (lv | rv)
            case Compare(op=op, left=left, right=right):
                return self.comparison(op, left, right)
            case Arithmetic(op=op, left=left, right=right):
                lv, rv = self.compile(left), self.compile(right)
                for side, value in ((left, lv), (right, rv)):
                    self.need(side, value, ("number",), _needs(op, "numbers"))
                if op == "+":
                    return lv + rv
                if op == "-":
                    return lv - rv
                if op == "*":
                    return lv * rv
                # Float division everywhere (integer division truncates on some engines) and
                # null instead of an error or infinity for a zero divisor.
                return lv.cast("float64") / rv.cast("float64").nullif(0)
            case Contains(text=text, part=part):
                tv, pv = self.compile(text), self.compile(part)
                for side, value in ((text, tv), (part, pv)):
                    self.need(side, value, ("text",), _needs("contains", "text"))
                return tv.contains(pv)
            case In(operand=operand, values=values, negated=negated):
                value = self.compile(operand)
                wanted = "number" if isinstance(values[0], Number) else "text"
                keyword = "not in" if negated else "in"
                holds = "numbers" if wanted == "number" else "text"
                what = Said(f'"{keyword}" with a list of {holds} needs {holds}',
                            key=f"expr.typed_needs.in_{holds}", op=keyword)  # fmt: skip
                self.need(operand, value, (wanted,), what)
                items = [v.value for v in values]
                return value.notin(items) if negated else value.isin(items)
            case Call(func=func, args=args):
                return self.call(func, args)
            case _:
                raise TypeError(f"not an expression node: {expr!r}")

    def column(self, name: str) -> ir.Value:
        if name in self.columns:
            return self.table[name]
        same_case = [c for c in self.columns if c.lower() == name.lower()]
        close = same_case + [
            c for c in difflib.get_close_matches(name, self.columns, n=3) if c not in same_case
        ]
        if close:
            quoted = [f'"{c}"' for c in close[:3]]
            options = quoted[0]
            if len(quoted) > 1:
                most = ", ".join(quoted[:-1])
                options = Said(f"{most} or {quoted[-1]}", key="expr.or", first=most,
                               last=quoted[-1])  # fmt: skip
            self.fail(Said(f'unknown feature "{name}"; did you mean {options}?',
                           key="expr.unknown_feature_close", name=name, options=options))  # fmt: skip
        known = ", ".join(sorted(self.columns)[:10]) + (", …" if len(self.columns) > 10 else "")
        self.fail(Said(
            f'unknown feature "{name}"; no feature has a similar name (known: {known})',
            key="expr.unknown_feature", name=name, known=known,
        ))  # fmt: skip

    def comparison(self, op: CompareOp, left: Expr, right: Expr) -> ir.Value:
        lv, rv = self.compile(left), self.compile(right)
        lc, rc = _category(lv), _category(rv)
        if op in _ORDER_OPS:
            for side, value in ((left, lv), (right, rv)):
                self.need(side, value, ("number", "date", "timestamp"),
                          _needs(op, "numbers_or_dates"))  # fmt: skip
        if lc != rc:
            one, other = self.describe(left, lv), self.describe(right, rv)
            self.fail(Said(f'"{op}" cannot compare {one} with {other}',
                           key="expr.cannot_compare", op=op, left=one, right=other))  # fmt: skip
        return _COMPARE_FUNCTIONS[op](lv, rv)

    def call(self, func: FunctionName, args: tuple[Expr, ...]) -> ir.Value:
        values = [self.compile(a) for a in args]
        if func in ("is_null", "not_null"):
            return _null_test(values[0], negated=func == "not_null")
        if func == "coalesce":
            categories = {_category(v) for v in values} - {"null"}
            if len(categories) > 1:
                shown = [self.describe(a, v) for a, v in zip(args, values, strict=True)]
                both = functools.reduce(
                    lambda a, b: Said(f"{a} and {b}", key="expr.and", first=a, second=b), shown
                )
                self.fail(Said(f"coalesce() needs values of one kind, got {both}",
                               key="expr.typed_coalesce", got=both))  # fmt: skip
            return ibis.coalesce(*values)
        for arg, value in zip(args, values, strict=True):
            what = Said(f"{func}() needs numbers", key="expr.typed_needs.function", func=func)
            self.need(arg, value, ("number",), what)
        if func == "abs":
            return values[0].abs()
        # LEAST/GREATEST skip nulls on DuckDB, PostgreSQL and Spark alike.
        return ibis.least(*values) if func == "min" else ibis.greatest(*values)


def to_ibis(expr: Expr, table: ibis.Table) -> ir.Value:
    """Compile a rule to an Ibis expression over ``table``'s columns.

    A boolean result has its unknowns turned into false (see the module docstring), so it
    can go straight into ``filter`` or ``ibis.cases``. Unknown features and type mismatches
    raise `ExpressionError`.

    >>> t = ibis.table({"orders_total": "int64"}, name="features")
    >>> to_ibis(parse("orders_total >= 2"), t).type()
    Boolean(nullable=True)
    """
    value = _IbisCompiler(expr, table).compile(expr)
    if value.type().is_boolean():
        value = value.fill_null(False)
    return value


# --- Polars ---------------------------------------------------------------------------------


def _polars(expr: Expr) -> pl.Expr:
    match expr:
        case Number(value=value):
            return pl.lit(value, dtype=pl.Int64 if isinstance(value, int) else pl.Float64)
        case String(value=value):
            return pl.lit(value, dtype=pl.String)
        case Boolean(value=value):
            return pl.lit(value, dtype=pl.Boolean)
        case Null():
            return pl.lit(None)
        case Name(name=name):
            return pl.col(name)
        case Neg(operand=operand):
            return -_polars(operand)
        case Not(operand=operand):
            return ~_polars(operand)
        case Logical(op=op, left=left, right=right):
            lv, rv = _polars(left), _polars(right)
            return (lv & rv) if op == "and" else (lv | rv)
        case Compare(op=op, left=left, right=right):
            result: pl.Expr = _COMPARE_FUNCTIONS[op](_polars(left), _polars(right))
            return result
        case Arithmetic(op=op, left=left, right=right):
            lv, rv = _polars(left), _polars(right)
            if op == "+":
                return lv + rv
            if op == "-":
                return lv - rv
            if op == "*":
                return lv * rv
            # Polars divides a column by a scalar through its reciprocal (1.5 / 5 gives
            # 0.30000000000000004; pola-rs/polars#23741) while SQL divides exactly, so the
            # divisor is made a column by adding zeros. Each operand appears once: repeating
            # one would double the expression at every nested division.
            zeros = pl.int_range(pl.len()).cast(pl.Float64) * 0
            divisor = rv.cast(pl.Float64).replace(0.0, None) + zeros
            return lv.cast(pl.Float64) / divisor
        case Contains(text=text, part=part):
            return _polars(text).str.contains(_polars(part), literal=True)
        case In(operand=operand, values=values, negated=negated):
            # An "or" of equalities: Polars' is_in refuses int/float mixes that SQL IN accepts,
            # and Kleene "or" gives SQL's null for a null operand.
            needle = _polars(operand)
            found = functools.reduce(operator.or_, [needle == _polars(v) for v in values])
            return ~found if negated else found
        case Call(func=func, args=args):
            compiled = [_polars(a) for a in args]
            if func == "is_null":
                return compiled[0].is_null()
            if func == "not_null":
                return compiled[0].is_not_null()
            if func == "coalesce":
                return pl.coalesce(compiled)
            if func == "abs":
                return compiled[0].abs()
            return pl.min_horizontal(compiled) if func == "min" else pl.max_horizontal(compiled)
        case _:
            raise TypeError(f"not an expression node: {expr!r}")


def to_polars(expr: Expr) -> pl.Expr:
    """Compile a rule to a Polars expression with the same semantics as `to_ibis`.

    Polars has no table here, so unknowns become false when the rule is known to be
    boolean from its form; a bare feature name is returned as it is.

    Evaluate it on a ``LazyFrame``: Polars 2.1's eager ``DataFrame.select`` /
    ``with_columns`` mis-size some mixes of scalars and columns (``0 == coalesce(0, n)``
    fails with "Series r, length 1 doesn't match the DataFrame height").

    >>> frame = pl.LazyFrame({"x": [1, None]})
    >>> frame.select(to_polars(parse("x > 0"))).collect()["x"].to_list()
    [True, False]
    """
    result = _polars(expr)
    if _kind(expr) == "boolean":
        result = result.fill_null(False)
    return result


__all__ = ["to_ibis", "to_polars"]
